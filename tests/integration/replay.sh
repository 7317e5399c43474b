#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nm-replay (issue 15 part 4) on a capture of real traffic: curl in one
# namespace, python's http.server in another, joined by a veth (no
# nodemeshd), tcpdump on the client's end. curl makes an ordinary request
# and one whose traversal to /etc/passwd it sends percent-encoded. Then
# nm-replay with an ET-style `alert http` rule on http.uri ($HOME_NET and
# $HTTP_PORTS from --vars): the attack gives one alert with an http
# object; the ordinary request gives an http event and no alert; both
# connections give a flow event. The same capture cut short is refused
# with the record it ends in, nothing on stdout, exit status 1.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
nm_tmp_init
REPLAY=$NM_BUILD/ctrl/nm-replay
C=nmrc$NM_SFX S=nmrs$NM_SFX
IPC=198.18.0.1 IPS=198.18.0.2
attack='/cgi-bin/.%2e/.%2e/%65tc/p%61sswd'

# Two namespaces on a veth, offloads off: a capture of 64 KB TSO segments
# is not what crossed a wire (nm-replay(1), LIMITS).
nm_ns_add "$C"
nm_ns_add "$S"
ip link add "vc$NM_SFX" netns "$C" type veth peer name "vs$NM_SFX" netns "$S"
for side in "$C vc$NM_SFX $IPC" "$S vs$NM_SFX $IPS"; do
	read -r ns dev ip <<<"$side"
	ip -n "$ns" link set "$dev" name eth0
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
	nm_in "$ns" ethtool -K eth0 tso off gso off gro off >/dev/null
done
mkdir -p "$NM_TMP/www"
echo "hello from the server" >"$NM_TMP/www/index.html"
nm_bg "$S" "$NM_TMP/http.log" "$NM_PY" -m http.server --bind "$IPS" --directory "$NM_TMP/www" 8080
nm_wait_listen "$S" tcp 8080 || nm_fail "http.server did not start: $(cat "$NM_TMP/http.log")"

cap=$NM_TMP/web.pcap
nm_bg "$C" "$NM_TMP/tcpdump.log" tcpdump -Z root --immediate-mode -i eth0 -U -s 0 -w "$cap" tcp port 8080
dump=$NM_LAST_BG
for ((i = 0; i < 50; i++)); do
	grep -q "listening on" "$NM_TMP/tcpdump.log" && break
	sleep 0.1
done
grep -q "listening on" "$NM_TMP/tcpdump.log" || nm_fail "tcpdump did not start: $(cat "$NM_TMP/tcpdump.log")"

curl_port() {
	nm_in "$C" curl -sS --path-as-is --max-time 10 -o /dev/null -w '%{http_code} %{local_port}\n' \
		"$@" 2>"$NM_TMP/curl.err" || true
}
read -r ok_code ok_port < <(curl_port -A 'nm-replay-test/1' "http://$IPS:8080/index.html")
read -r bad_code bad_port < <(curl_port "http://$IPS:8080$attack")
[[ $ok_code == 200 && $bad_code == 404 ]] ||
	nm_fail "curl got $ok_code and $bad_code, expected 200 and 404 ($(cat "$NM_TMP/curl.err"))"
sleep 0.5
kill -INT "$dump"
wait "$dump" || true
packets=$(tcpdump -r "$cap" 2>/dev/null | wc -l)
((packets >= 16)) || nm_fail "the capture holds $packets packets: $(cat "$NM_TMP/tcpdump.log")"
nm_ok "captured $packets packets: GET /index.html (port $ok_port, 200), GET $attack (port $bad_port, 404)"

cat >"$NM_TMP/et.rules" <<'EOF'
alert http $HOME_NET any -> $HOME_NET $HTTP_PORTS (msg:"ET-style: /etc/passwd in the normalized URI"; flow:established,to_server; http.method; content:"GET"; http.uri; content:"/etc/passwd"; fast_pattern; classtype:web-application-attack; sid:2100001; rev:1;)
EOF
cat >"$NM_TMP/vars.conf" <<'EOF'
HOME_NET = "198.18.0.0/15";
HTTP_PORTS = "8080";
EOF
out=$NM_TMP/eve.jsonl
"$REPLAY" --rules "$NM_TMP/et.rules" --vars "$NM_TMP/vars.conf" -r "$cap" >"$out" 2>"$NM_TMP/replay.err" ||
	nm_fail "nm-replay exited $?: $(cat "$NM_TMP/replay.err")"
nm_log "nm-replay: $(grep '^nm-replay' "$NM_TMP/replay.err" | tr '\n' ' ')"

# events EXPR: the EVE lines r for which EXPR holds.
events() { nm_jsonl "$out" "$1"; }
got=$(events "r['event_type'] == 'alert'")
nm_json "len(j) == 1 and (lambda a: a['alert']['signature_id'] == 2100001 and a['src_port'] == $bad_port and a['dest_port'] == 8080 and a['http']['url'] == '$attack' and a['http']['hostname'] == '$IPS' and a['http']['http_port'] == 8080 and a['http']['http_method'] == 'GET' and a['http']['http_user_agent'].startswith('curl/'))(j[0])" \
	<<<"$got" | grep -qx True || nm_fail "expected one alert of sid 2100001 with an http object, from port $bad_port: $got"
nm_ok "the percent-encoded traversal: one alert, sid 2100001, http.url as sent"

got=$(events "r['event_type'] == 'http'")
nm_json "len(j) == 2 and (lambda e: e[$ok_port]['http']['status'] == 200 and e[$ok_port]['http']['url'] == '/index.html' and e[$ok_port]['http']['http_user_agent'] == 'nm-replay-test/1' and e[$ok_port]['http']['length'] == $(stat -c %s "$NM_TMP/www/index.html") and e[$bad_port]['http']['status'] == 404 and e[$bad_port]['http']['url'] == '$attack' and all(x['nodemesh']['request'] and x['nodemesh']['response'] for x in j))({x['src_port']: x for x in j})" \
	<<<"$got" | grep -qx True || nm_fail "expected two paired http events (200 and 404): $got"
nm_ok "two http events, each request paired with its response; the ordinary one raised no alert"

got=$(events "r['event_type'] == 'flow'")
nm_json "sorted(f['src_port'] for f in j) == sorted([$ok_port, $bad_port]) and all(f['dest_port'] == 8080 and f['proto'] == 'TCP' and f['flow']['pkts_toserver'] >= 4 and f['flow']['pkts_toclient'] >= 3 and f['nodemesh']['verdict'] == 'allow' for f in j)" \
	<<<"$got" | grep -qx True || nm_fail "expected a flow event per connection: $got"
fid=$(events "r['event_type'] == 'alert'" | nm_json "j[0]['flow_id']")
[[ $(events "r['event_type'] == 'flow' and r['flow_id'] == $fid" | nm_json "len(j)") == 1 ]] ||
	nm_fail "the alert's flow_id $fid has no flow event"
first=$(tcpdump -tt -r "$cap" 2>/dev/null | head -n 1 | cut -d' ' -f1)
nm_json "min(r['timestamp'] for r in j)[:19] == __import__('datetime').datetime.fromtimestamp($first, __import__('datetime').timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')" \
	<<<"$(events True)" | grep -qx True || nm_fail "event times are not the capture's (first packet at $first)"
nm_ok "a flow event per connection, the alert's flow_id among them, times from the capture"

# A capture cut short: a clear error naming the record, nothing on stdout, exit 1.
size=$(stat -c %s "$cap")
head -c $((size - 7)) "$cap" >"$NM_TMP/cut.pcap"
rc=0
"$REPLAY" --rules "$NM_TMP/et.rules" --vars "$NM_TMP/vars.conf" -r "$NM_TMP/cut.pcap" \
	>"$NM_TMP/cut.out" 2>"$NM_TMP/cut.err" || rc=$?
((rc == 1)) || nm_fail "a truncated capture: exit $rc, expected 1"
grep -q "cut.pcap: truncated: record $packets at byte" "$NM_TMP/cut.err" ||
	nm_fail "a truncated capture: the error does not name its last record: $(cat "$NM_TMP/cut.err")"
[[ ! -s $NM_TMP/cut.out ]] || nm_fail "a truncated capture wrote events: $(cat "$NM_TMP/cut.out")"
nm_ok "truncated capture: $(cat "$NM_TMP/cut.err")"

"$REPLAY" --help | grep -q -- "--rules FILE" || nm_fail "nm-replay --help does not show --rules"
echo "replay: PASS"
