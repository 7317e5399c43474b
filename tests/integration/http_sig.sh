#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# http rules on real HTTP traffic: curl in pod-1, nginx in pod-2, one allow
# rule with inspection on. An ET-style `reject http` rule on http.uri
# catches a traversal whose letters curl sends percent-encoded (the raw
# bytes never hold "/etc/passwd"; Suricata's normalized http.uri does):
# the request is reset, logged once with its sid, and never reaches nginx.
# Ordinary requests (kept-alive, pipelined) get 200 and raise nothing; a
# request with both Content-Length and Transfer-Encoding is refused by the
# HTTP parser and reset (drop reason http_refused); sig stats counts the
# heads scanned.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1
export NM_SIG_VARS='HOME_NET = "198.18.0.0/15";'

nm_web_pair <<'EOF'
reject http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"ET-style: /etc/passwd in the normalized URI"; flow:established,to_server; http.method; content:"GET"; http.uri; content:"/etc/passwd"; fast_pattern; classtype:web-application-attack; sid:2100001; rev:1;)
EOF
out=$NM_SIG_LOADED
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
alerts=$NM_TMP/alerts.jsonl
access=$NM_TMP/nginx-$P2/access.log
attack='/cgi-bin/.%2e/.%2e/%65tc/p%61sswd'
[[ $(nm_json "j['signatures_loaded']" <<<"$out") == 1 ]] || nm_fail "sig load: $out"
nm_ok "1 http rule loaded"

# 1. Ordinary requests: two kept-alive on one connection, then pipelined.
out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -o /dev/null -w '%{http_code} ' \
	"http://$IP2/index.html" "http://$IP2/index.html?q=1") || nm_fail "kept-alive requests: $out"
[[ $out == "200 200 " ]] || nm_fail "kept-alive requests got: $out"
pipelined=$(nm_in "$P1" "$NM_PY" - "$IP2" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
req = b"GET /index.html HTTP/1.1\r\nHost: pod-2\r\n\r\n"
s.sendall(req + req + req[:-2] + b"Connection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.count(b"HTTP/1.1 200 OK"))
EOF
) || nm_fail "pipelined requests failed: $pipelined"
[[ $pipelined == 3 ]] || nm_fail "3 pipelined requests: $pipelined answers"
heads=$(nm_sigstat "j['http']['heads_scanned']")
((heads >= 5)) || nm_fail "5 requests, but heads_scanned is $heads"
n=$(nm_jsonl "$alerts" "r['event_type'] == 'alert'" | nm_json "len(j)")
((n == 0)) || nm_fail "ordinary requests raised alerts: $(cat "$alerts")"
nm_ok "2 kept-alive and 3 pipelined ordinary requests: HTTP 200, $heads heads scanned, no alert"

# 2. The percent-encoded traversal: reset, one alert, not at nginx.
rc=0
res=$(nm_in "$P1" curl -sS --path-as-is --max-time 10 -o /dev/null -w '%{http_code} %{local_port}' \
	"http://$IP2$attack" 2>"$NM_TMP/curl.err") || rc=$?
read -r code port <<<"$res"
[[ $rc == 56 || $rc == 52 ]] || nm_fail "attack: HTTP $code, curl exit $rc ($(cat "$NM_TMP/curl.err")); expected a reset"
got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r['src_port'] == $port")
nm_json "len(j) == 1 and j[0]['alert']['signature_id'] == 2100001 and j[0]['alert']['action'] == 'blocked' and j[0]['dest_port'] == 80" \
	<<<"$got" | grep -qx True || nm_fail "attack from port $port: expected one blocked alert of sid 2100001, got $got"
sleep 0.2
if grep -q 'sswd' "$access"; then
	nm_fail "the attack reached nginx: $(grep sswd "$access")"
fi
nm_ok "GET $attack (curl exit $rc): reset, one blocked alert sid 2100001, nginx never saw it"

# 3. Request smuggling shape: refused by the parser, reset, counted.
r0=$(nm_sigstat "j['drops']['http_refused']")
smuggle=$(nm_in "$P1" "$NM_PY" - "$IP2" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(b"POST /index.html HTTP/1.1\r\nHost: pod-2\r\nContent-Length: 5\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
try:
    data = s.recv(65536)
    print("answered" if data else "closed")
except ConnectionResetError:
    print("reset")
EOF
) || nm_fail "smuggling client failed: $smuggle"
[[ $smuggle == reset ]] || nm_fail "CL+TE request: client saw '$smuggle', expected a reset"
r1=$(nm_sigstat "j['drops']['http_refused']")
refused=$(nm_sigstat "j['http']['refused']")
((r1 == r0 + 1 && refused == 1)) || nm_fail "CL+TE request: http_refused drops $r0 -> $r1, http.refused $refused"
nm_ok "Content-Length with Transfer-Encoding: reset, drop http_refused +1"

out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$IP2/index.html") ||
	nm_fail "ordinary request after the attacks: $out"
[[ $out == 200 ]] || nm_fail "ordinary request after the attacks: HTTP $out"
nm_ok "ordinary request after the attacks: HTTP 200"
echo "http_sig: PASS"
