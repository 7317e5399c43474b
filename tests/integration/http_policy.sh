#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Authorization by HTTP method and path (README "Policy, connection
# tracking and rate limits"): curl and python clients in pod-1, nginx in
# pod-2, default deny, no signature set loaded (the HTTP parser runs for
# the policy alone). Rule 1 allows GET/HEAD under /api/v1/, rule 2 denies
# /api/v1/secret. Allowed requests get nginx's 200; refused ones (another
# method, another path, the deny) get nodemesh's 403 naming the rule and
# never reach nginx; kept-alive and pipelined connections with an allowed
# then a refused request get 200 then 403; bytes that are not HTTP are
# reset. nginx's access log holds exactly the allowed requests, and the
# per-rule counters and drop reasons match what was sent.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
access=$NM_TMP/nginx-$P2/access.log

out=$(nm_ctl --json policy add allow from test/sa-1 to test/sa-2 proto tcp port 80 \
	http method GET,HEAD path '/api/v1/*') || nm_fail "policy add: $out"
allow_id=$(nm_json "j['id']" <<<"$out")
out=$(nm_ctl --json policy add deny from '*' to test/sa-2 proto tcp port 80 \
	http path /api/v1/secret) || nm_fail "policy add: $out"
deny_id=$(nm_json "j['id']" <<<"$out")
mkdir -p "$NM_TMP/www/api/v1"
echo "items" >"$NM_TMP/www/api/v1/items"
echo "secret" >"$NM_TMP/www/api/v1/secret"
echo "admin" >"$NM_TMP/www/admin"
nm_nginx_start "$P2" "$NM_TMP/www" 80 || nm_fail "nginx did not start in pod-2"

# get URL ARGS...: "CODE BODY" of one curl request (the body's first line).
get() {
	local url=$1
	shift
	nm_in "$P1" curl -sS --max-time 10 "$@" -w ' %{http_code}' "http://$IP2$url" | tr -d '\n'
}

# 1. One request per connection: allowed, another method, another path, the deny.
out=$(get /api/v1/items) || nm_fail "GET /api/v1/items: $out"
[[ $out == "items 200" ]] || nm_fail "GET /api/v1/items got: $out"
out=$(nm_in "$P1" curl -sS --max-time 10 -I -o /dev/null -w '%{http_code}' "http://$IP2/api/v1/items") ||
	nm_fail "HEAD: $out"
[[ $out == 200 ]] || nm_fail "HEAD /api/v1/items got: $out"
nm_ok "GET and HEAD /api/v1/items: HTTP 200 (rule $allow_id)"

out=$(get /api/v1/items -d x=1) || nm_fail "POST: $out"
[[ $out == "nodemesh: request refused by the default policy action 403" ]] ||
	nm_fail "POST /api/v1/items got: $out"
out=$(get /admin) || nm_fail "GET /admin: $out"
[[ $out == "nodemesh: request refused by the default policy action 403" ]] ||
	nm_fail "GET /admin got: $out"
out=$(get /api/v1/secret) || nm_fail "GET /api/v1/secret: $out"
[[ $out == "nodemesh: request refused by policy rule $deny_id 403" ]] ||
	nm_fail "GET /api/v1/secret got: $out"
out=$(get /api/v1/%73ecret) || nm_fail "GET /api/v1/%73ecret: $out"
[[ $out == "nodemesh: request refused by policy rule $deny_id 403" ]] ||
	nm_fail "GET /api/v1/%73ecret (percent-encoded) got: $out"
nm_ok "POST and /admin: 403 by the default; /api/v1/secret (also percent-encoded): 403 naming rule $deny_id"

# 2. Kept alive: an allowed then a refused request on one connection.
out=$(nm_in "$P1" curl -sS --http1.1 --max-time 10 -o /dev/null -o /dev/null \
	-w '%{http_code} %{num_connects} ' "http://$IP2/api/v1/items" "http://$IP2/api/v1/secret") ||
	nm_fail "kept-alive requests: $out"
[[ $out == "200 1 403 0 " ]] || nm_fail "kept-alive allowed then refused got: $out (code, new connections)"
nm_ok "kept-alive GET /api/v1/items then /api/v1/secret on one connection: 200 then 403"

# 3. Pipelined: both requests in one send; the segment is cut before the refused one.
pipelined=$(nm_in "$P1" "$NM_PY" - "$IP2" <<'EOF'
import re, socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"GET /api/v1/items HTTP/1.1\r\nHost: pod-2\r\n\r\n"
          b"GET /admin HTTP/1.1\r\nHost: pod-2\r\n\r\n"
          b"GET /api/v1/items HTTP/1.1\r\nHost: pod-2\r\n\r\n")
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except ConnectionResetError:
    data += b" RESET"
codes = [c.decode() for c in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
print(" ".join(codes), data.count(b"refused by the default policy action"))
EOF
) || nm_fail "pipelined requests failed: $pipelined"
[[ $pipelined == "200 403 1" ]] || nm_fail "pipelined allowed, refused, allowed: got '$pipelined', want '200 403 1'"
nm_ok "pipelined GET /api/v1/items, GET /admin, GET /api/v1/items in one send: 200, 403, closed"

# 3b. A refused head in two segments: the first reaches nginx, the second never.
split=$(nm_in "$P1" "$NM_PY" - "$IP2" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(b"GET /admin HTTP/1.1\r\nHo")
time.sleep(0.3)
s.sendall(b"st: pod-2\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n")[0].decode())
EOF
) || nm_fail "split request failed: $split"
[[ $split == "HTTP/1.1 403 Forbidden" ]] || nm_fail "head in two segments: got '$split'"
nm_ok "GET /admin with its head in two segments: 403 (nginx had the first part only)"

# 4. Not HTTP on the port: reset both ways, counted.
nothttp0=$(nm_drop http_policy_not_http)
raw=$(nm_in "$P1" "$NM_PY" - "$IP2" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"\x16\x03\x01\x00\x05hello")
try:
    print("answered" if s.recv(65536) else "closed")
except ConnectionResetError:
    print("reset")
EOF
) || nm_fail "raw client failed: $raw"
[[ $raw == reset ]] || nm_fail "non-HTTP bytes: client saw '$raw', expected a reset"
nothttp1=$(nm_drop http_policy_not_http)
((nothttp1 == nothttp0 + 1)) || nm_fail "http_policy_not_http $nothttp0 -> $nothttp1"
nm_ok "TLS-looking bytes on port 80: reset, http_policy_not_http +1"

# 5. wrk through the rule: every answer is nginx's 200.
wrk_out=$(nm_in "$P1" wrk -t1 -c4 -d2s --timeout 5s "http://$IP2/api/v1/items") || nm_fail "wrk: $wrk_out"
wrk_req=$(awk '/requests in/ {print $1}' <<<"$wrk_out")
! grep -q 'Non-2xx' <<<"$wrk_out" || nm_fail "wrk got non-2xx answers: $wrk_out"
((wrk_req > 0)) || nm_fail "wrk made no requests: $wrk_out"
nm_ok "wrk -c4 2 s through the rule: $wrk_req requests, all 2xx"

# 6. nginx saw exactly the allowed requests; the counters say the same.
sleep 0.5
# GET, HEAD, the kept-alive GET, the first pipelined GET (the third came after the refusal).
allowed=$((4 + wrk_req))
logged=$(grep -c '"\(GET\|HEAD\) /api/v1/items HTTP/1.1" 200' "$access" || true)
# The head split in two: nginx read its first line, then the RST, and logs a 400.
partial=$(grep -c '"GET /admin HTTP/1.1" 400 ' "$access" || true)
((partial == 1)) || nm_fail "the split head: nginx logged $partial incomplete /admin requests, want 1"
# wrk's last requests may be cut by its stop: nginx logs them as 499 or not at all.
other=$(grep -v '"\(GET\|HEAD\) /api/v1/items HTTP/1.1" 200 ' "$access" |
	grep -v '" 499 ' | grep -vc '"GET /admin HTTP/1.1" 400 ' || true)
((other == 0)) || nm_fail "nginx saw refused requests: $(grep -v 'api/v1/items HTTP/1.1" 200' "$access")"
pol=$(nm_ctl --json policy list)
req1=$(nm_json "[r for r in j['rules'] if r['id'] == $allow_id][0]['requests']" <<<"$pol")
ref1=$(nm_json "[r for r in j['rules'] if r['id'] == $allow_id][0]['refused']" <<<"$pol")
ref2=$(nm_json "[r for r in j['rules'] if r['id'] == $deny_id][0]['refused']" <<<"$pol")
dref=$(nm_json "j['default_refused']" <<<"$pol")
forbidden=$(nm_json "j['http']['forbidden_sent']" <<<"$pol")
drops=$(nm_drop http_policy_refused)
resets=$(nm_json "j['http']['resets_sent']" <<<"$pol")
trimmed=$(nm_json "j['http']['trimmed']" <<<"$pol")
((ref1 == 0 && ref2 == 3 && dref == 4)) ||
	nm_fail "refused: rule $allow_id $ref1 (want 0), rule $deny_id $ref2 (want 3), default $dref (want 4)"
((forbidden == 7)) || nm_fail "403s sent: $forbidden, want 7"
# One RST to nginx per refusal, two for the non-HTTP connection.
((resets == 9)) || nm_fail "resets sent: $resets, want 9"
((trimmed == 1)) || nm_fail "segments cut before a refused request: $trimmed, want 1 (the pipelined one)"
((drops >= 7)) || nm_fail "http_policy_refused drops: $drops, want at least 7"
((req1 >= logged && logged >= allowed)) ||
	nm_fail "rule $allow_id judged $req1 requests, nginx logged $logged 200s, clients sent $allowed"
nm_ok "nginx logged $logged allowed requests, no refused one whole (the split head as a 400); rule $allow_id judged $req1, refused 0; rule $deny_id refused $ref2; default refused $dref; 7 403s, $resets RSTs; $drops packets dropped"
echo "http_policy: PASS"
