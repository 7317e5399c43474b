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
# heads scanned. Bodies: an ET-style rule on http.request_body resets a
# POST whose body carries its pattern (not a POST with the pattern only in
# the URI), and one on file.data catches a pattern in a response nginx
# sends gzip-encoded and chunked (the bytes on the wire never hold it).
# An http.start rule catches a request by its line and first header.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1
export NM_SIG_VARS='HOME_NET = "198.18.0.0/15";'

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
alerts=$NM_TMP/alerts.jsonl
access=$NM_TMP/nginx-$P2/access.log
attack='/cgi-bin/.%2e/.%2e/%65tc/p%61sswd'

out=$(nm_ctl --json policy add allow from test/sa-1 to test/sa-2 proto tcp port 80 inspect on) ||
	nm_fail "policy add: $out"
mkdir -p "$NM_TMP/www"
echo "hello from pod-2" >"$NM_TMP/www/index.html"
# A text body of 20 KB that gzips to about 100 bytes, its marker in the middle.
{
	head -c 10000 /dev/zero | tr '\0' 'a'
	echo "gz-secret-marker"
	head -c 10000 /dev/zero | tr '\0' 'b'
} >"$NM_TMP/www/secret.txt"
NM_NGINX_HTTP_EXTRA='gzip on; gzip_types text/plain; gzip_min_length 1;' \
	nm_nginx_start "$P2" "$NM_TMP/www" 80 || nm_fail "nginx did not start in pod-2"

cat >"$NM_TMP/http.rules" <<'EOF'
reject http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"ET-style: /etc/passwd in the normalized URI"; flow:established,to_server; http.method; content:"GET"; http.uri; content:"/etc/passwd"; fast_pattern; classtype:web-application-attack; sid:2100001; rev:1;)
reject http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"ET-style: command in a POST body"; flow:established,to_server; http.method; content:"POST"; http.request_body; content:"cmd=whoami"; fast_pattern; classtype:web-application-attack; sid:2100002; rev:1;)
alert http $HOME_NET $HTTP_PORTS -> $HOME_NET any (msg:"ET-style: marker in a served file"; flow:established,to_client; file.data; content:"gz-secret-marker"; classtype:bad-unknown; sid:2100003; rev:1;)
alert http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"http.start: the request line, then Host"; flow:established,to_server; http.start; content:"GET /start.html HTTP/1.1|0d 0a|Host: "; startswith; classtype:bad-unknown; sid:2100004; rev:1;)
EOF
out=$(nm_ctl --json sig load file="$NM_TMP/http.rules" 2>&1) || nm_fail "sig load: $out"
[[ $(nm_json "j['signatures_loaded']" <<<"$out") == 4 ]] || nm_fail "sig load: $out"
nm_ok "4 http rules loaded"

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

# 4. A POST body carrying the pattern: reset at the body's end, one alert.
#    The same pattern in the URI of a POST with an ordinary body: 405 from nginx.
out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{local_port}' \
	--data 'q=cmd%3Dwhoami' "http://$IP2/index.html?cmd=whoami") || nm_fail "ordinary POST: $out"
read -r code plain_port <<<"$out"
[[ $code == 405 ]] || nm_fail "ordinary POST: HTTP $code, expected nginx's 405"
rc=0
res=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{local_port}' \
	--data 'x=1&cmd=whoami&y=2' "http://$IP2/index.html" 2>"$NM_TMP/curl.err") || rc=$?
read -r code port <<<"$res"
[[ $rc == 56 || $rc == 52 ]] || nm_fail "POST body attack: HTTP $code, curl exit $rc ($(cat "$NM_TMP/curl.err")); expected a reset"
got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r['src_port'] == $port")
nm_json "len(j) == 1 and j[0]['alert']['signature_id'] == 2100002 and j[0]['alert']['action'] == 'blocked'" \
	<<<"$got" | grep -qx True || nm_fail "POST body from port $port: expected one blocked alert of sid 2100002, got $got"
bodies=$(nm_sigstat "j['http']['bodies_scanned']")
((bodies >= 2)) || nm_fail "2 POST bodies, but bodies_scanned is $bodies"
nm_ok "POST with cmd=whoami in its body (curl exit $rc): reset, one blocked alert sid 2100002; in the URI only: 405, no alert"

# 5. A gzip-encoded, chunked response whose decoded body holds the marker.
hdrs=$NM_TMP/gz.headers
out=$(nm_in "$P1" curl -sS --max-time 10 --compressed -D "$hdrs" -o "$NM_TMP/secret.out" \
	-w '%{http_code} %{size_download} %{local_port}' "http://$IP2/secret.txt") ||
	nm_fail "gzip response: $out"
read -r code size port <<<"$out"
[[ $code == 200 ]] || nm_fail "gzip response: HTTP $code"
grep -qi '^Content-Encoding: gzip' "$hdrs" || nm_fail "nginx did not gzip: $(cat "$hdrs")"
cmp -s "$NM_TMP/secret.out" "$NM_TMP/www/secret.txt" || nm_fail "the decoded body differs from the file"
got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r['dest_port'] == $port")
nm_json "len(j) == 1 and j[0]['alert']['signature_id'] == 2100003 and j[0]['src_port'] == 80" \
	<<<"$got" | grep -qx True || nm_fail "gzip response to port $port: expected one alert of sid 2100003, got $got"
nm_ok "gzip, chunked response ($size bytes on the wire for 20 KB): file.data alert sid 2100003"
# Alerts are written in order: the ones after it are in by now.
got=$(nm_jsonl "$alerts" "r['event_type'] == 'alert' and r['src_port'] == $plain_port")
[[ $got == "[]" ]] || nm_fail "the POST with the pattern only in its URI raised an alert: $got"

# 6. http.start: curl's request line, CRLF, then its Host header first.
out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{local_port}' \
	"http://$IP2/start.html") || nm_fail "GET /start.html: $out"
read -r code port <<<"$out"
[[ $code == 404 ]] || nm_fail "GET /start.html: HTTP $code, expected nginx's 404"
got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r['src_port'] == $port")
nm_json "len(j) == 1 and j[0]['alert']['signature_id'] == 2100004 and j[0]['alert']['action'] == 'allowed'" \
	<<<"$got" | grep -qx True || nm_fail "GET /start.html from port $port: expected one alert of sid 2100004, got $got"
nm_ok "http.start: curl's GET /start.html caught by its request line and Host (alert, answered 404)"

out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$IP2/index.html") ||
	nm_fail "ordinary request after the attacks: $out"
[[ $out == 200 ]] || nm_fail "ordinary request after the attacks: HTTP $out"
nm_ok "ordinary request after the attacks: HTTP 200"
echo "http_sig: PASS"
