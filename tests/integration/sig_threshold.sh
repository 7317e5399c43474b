#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# threshold and detection_filter on real HTTP traffic: curl in pod-1,
# nginx in pod-2, one allow rule with inspection on. An `alert http` rule
# with `threshold: type limit, track by_src, count 1, seconds 60` alerts
# once for four matching requests (the other three counted as suppressed
# alerts). A `drop http` rule with `detection_filter: track by_src, count
# 3, seconds 60` lets the first three matching requests through (nginx
# answers them, counted as held matches) and drops the fourth: curl gets
# no answer, one blocked alert is logged, nginx never sees it.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1
export NM_SIG_VARS='HOME_NET = "198.18.0.0/15";'

nm_web_pair <<'EOF'
alert http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"limit: one alert a minute per source"; flow:established,to_server; http.uri; content:"/limited"; threshold: type limit, track by_src, count 1, seconds 60; sid:2100011; rev:1;)
drop http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"detection_filter: more than 3 logins a minute"; flow:established,to_server; http.uri; content:"/login"; detection_filter: track by_src, count 3, seconds 60; sid:2100012; rev:1;)
alert http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"marker"; flow:established,to_server; http.uri; content:"/marker"; sid:2100013; rev:1;)
EOF
[[ $(nm_json "j['signatures_loaded']" <<<"$NM_SIG_LOADED") == 3 ]] || nm_fail "sig load: $NM_SIG_LOADED"
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
alerts=$NM_TMP/alerts.jsonl
access=$NM_TMP/nginx-$P2/access.log
for f in limited login marker; do echo "$f" >"$NM_TMP/www/$f.html"; done
nm_ok "3 rules loaded, two of them thresholded"

# The alert log is written in order: once the marker's alert is in, every
# alert raised before it is too.
marker() {
	local got port
	port=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{local_port}' \
		"http://$IP2/marker.html") || nm_fail "marker request failed"
	got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r['src_port'] == $port")
	[[ $got != "[]" ]] || nm_fail "no alert for the marker request from port $port"
}

# 1. threshold type limit, count 1: four matches, one alert.
for i in 1 2 3 4; do
	out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
		"http://$IP2/limited.html?n=$i") || nm_fail "limited request $i: $out"
	[[ $out == 200 ]] || nm_fail "limited request $i: HTTP $out"
done
marker
n=$(nm_jsonl "$alerts" "r['event_type'] == 'alert' and r['alert']['signature_id'] == 2100011" |
	nm_json "len(j)")
((n == 1)) || nm_fail "threshold limit 1: $n alerts of sid 2100011 for 4 requests, expected 1"
supp=$(nm_sigstat "j['threshold']['alerts_suppressed']")
((supp == 3)) || nm_fail "threshold limit 1: alerts_suppressed $supp, expected 3"
nm_ok "threshold type limit, count 1: 4 requests answered, 1 alert, 3 suppressed"

# 2. detection_filter count 3 on a drop rule: 3 pass, the 4th is dropped.
for i in 1 2 3; do
	out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
		"http://$IP2/login.html?try=$i") || nm_fail "login $i: $out"
	[[ $out == 200 ]] || nm_fail "login $i: HTTP $out, expected 200 (under the count)"
done
held=$(nm_sigstat "j['threshold']['matches_held']")
((held == 3)) || nm_fail "detection_filter count 3: matches_held $held after 3 logins, expected 3"
rc=0
res=$(nm_in "$P1" curl -sS --max-time 3 -o /dev/null -w '%{http_code} %{local_port}' \
	"http://$IP2/login.html?try=4" 2>"$NM_TMP/curl.err") || rc=$?
read -r code port <<<"$res"
[[ $rc == 28 ]] || nm_fail "login 4: HTTP $code, curl exit $rc ($(cat "$NM_TMP/curl.err")); expected no answer (28)"
got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r['src_port'] == $port")
nm_json "len(j) == 1 and j[0]['alert']['signature_id'] == 2100012 and j[0]['alert']['action'] == 'blocked'" \
	<<<"$got" | grep -qx True || nm_fail "login 4 from port $port: expected one blocked alert of sid 2100012, got $got"
marker
n=$(nm_jsonl "$alerts" "r['event_type'] == 'alert' and r['alert']['signature_id'] == 2100012" |
	nm_json "len(j)")
((n == 1)) || nm_fail "detection_filter: $n alerts of sid 2100012, expected 1 (the 4th login)"
sleep 0.2
logins=$(grep -c 'GET /login.html' "$access" || true)
((logins == 3)) || nm_fail "nginx saw $logins logins, expected 3: $(grep login "$access")"
grep -q 'try=4' "$access" && nm_fail "the 4th login reached nginx"
blocked=$(nm_sigstat "j['flows_blocked']")
((blocked == 1)) || nm_fail "flows_blocked $blocked, expected 1"
nm_ok "detection_filter count 3 on a drop rule: logins 1-3 answered (3 held), the 4th dropped with one blocked alert, nginx saw 3"

out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$IP2/limited.html") ||
	nm_fail "request after the drop: $out"
[[ $out == 200 ]] || nm_fail "request after the drop: HTTP $out"
full=$(nm_sigstat "j['threshold']['table_full']")
((full == 0)) || nm_fail "table_full $full with two keys"
nm_ok "a new connection after the drop: HTTP 200; table_full 0"
echo "sig_threshold: PASS"
