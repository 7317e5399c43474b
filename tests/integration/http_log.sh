#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# EVE http events (issue 15 part 5) from real traffic: curl in pod-1, nginx
# in pod-2, one `alert http` rule so the HTTP parser follows the flows. A
# GET with a user agent, a POST with a body (nginx answers 405) and a GET
# of a percent-encoded admin path (alerted, not blocked: it gets nginx's
# 404) each give one http event in the alert log with the request and its
# response paired: method, hostname, url as curl sent it, user agent,
# status, body lengths, both pods' identities, and the flow_id of the
# connection; the alert carries an http object. `nodemeshctl observe
# type=http` shows the same events live, field for field (the text form
# as "GET /index.html 200"); one filtered to another pod shows none.
# After both pods are deleted, `flows query url=...` still finds the
# transactions in the forensic store, joined to their flow.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1

nm_web_pair <<'EOF'
alert http any any -> any 80 (msg:"admin area asked for"; flow:established,to_server; http.uri; content:"/admin/"; classtype:policy-violation; sid:2200001; rev:1;)
EOF
P1=${NM_POD_NS[1]}
NM_POD_IP_1=${NM_POD_IP[1]}
IP2=${NM_POD_IP[2]}
alerts=$NM_TMP/alerts.jsonl
admin='/%61dmin/panel?x=1'

# Observers of the http events: JSON, text, and one for a pod with no traffic.
nm_bg "$NM_NODE_NS" "$NM_TMP/obs-http.jsonl" timeout 60 "$NM_CTL_BIN" -s "$NM_SOCK" --json observe type=http
nm_bg "$NM_NODE_NS" "$NM_TMP/obs-http.txt" timeout 60 "$NM_CTL_BIN" -s "$NM_SOCK" observe type=http pod=pod-1
nm_bg "$NM_NODE_NS" "$NM_TMP/obs-other.jsonl" timeout 60 "$NM_CTL_BIN" -s "$NM_SOCK" --json observe type=http pod=pod-9
sleep 1

# curl_port ARGS...: one curl from pod-1; prints "CODE LOCAL_PORT".
curl_port() {
	nm_in "$P1" curl -sS --path-as-is --max-time 10 -o /dev/null \
		-w '%{http_code} %{local_port}\n' "$@" 2>"$NM_TMP/curl.err" || true
}
read -r get_code get_port < <(curl_port -A 'nm-test/1.0' "http://$IP2/index.html")
read -r post_code post_port < <(curl_port -A 'nm-post/2' -d 'a=1&b=22' "http://$IP2/index.html")
read -r adm_code adm_port < <(curl_port "http://$IP2$admin")
[[ $get_code == 200 && $post_code == 405 && $adm_code == 404 ]] ||
	nm_fail "curl got $get_code $post_code $adm_code, expected 200 405 404 ($(cat "$NM_TMP/curl.err"))"
nm_ok "GET 200 (port $get_port), POST 405 (port $post_port), admin GET 404 (port $adm_port)"

# event PORT: the http events of curl's connection from PORT.
event() {
	nm_wait_jsonl "$alerts" "r['event_type'] == 'http' and r['src_port'] == $1"
}
ids="e['nodemesh']['src']['pod'] == 'pod-1' and e['nodemesh']['src']['namespace'] == 'test' and e['nodemesh']['src']['serviceaccount'] == 'sa-1' and e['nodemesh']['dest']['pod'] == 'pod-2' and e['nodemesh']['dest']['serviceaccount'] == 'sa-2' and e['dest_ip'] == '$IP2' and e['dest_port'] == 80 and e['proto'] == 'TCP' and e['tx_id'] == 0"
paired="e['nodemesh']['request'] and e['nodemesh']['response'] and e['nodemesh']['request_complete'] and e['nodemesh']['response_complete']"
check() {
	local what=$1 port=$2 expr=$3 got
	got=$(event "$port")
	nm_json "len(j) == 1 and (lambda e, h: $ids and $paired and $expr)(j[0], j[0]['http'])" <<<"$got" |
		grep -qx True || nm_fail "$what: expected one paired http event, got $got"
}
size=$(stat -c %s "$NM_TMP/www/index.html")
check GET "$get_port" "h['http_method'] == 'GET' and h['url'] == '/index.html' and h['hostname'] == '$IP2' and h['http_user_agent'] == 'nm-test/1.0' and h['status'] == 200 and h['length'] == $size and e['nodemesh']['request_body_bytes'] == 0"
check POST "$post_port" "h['http_method'] == 'POST' and h['http_user_agent'] == 'nm-post/2' and h['status'] == 405 and e['nodemesh']['request_body_bytes'] == 8 and h['length'] > 0"
check admin "$adm_port" "h['url'] == '$admin' and h['status'] == 404"
nm_ok "three http events, each request paired with its response: method, host, url as sent, UA, status, lengths, both identities"

# The observers saw the same three events as the log: EVE fields equal,
# src and dst the log's nodemesh endpoints, type http, no verdict.
for ((i = 0; i < 50; i++)); do
	n=$(grep -c '"http"' "$NM_TMP/obs-http.jsonl" || true)
	((n >= 3)) && break
	sleep 0.2
done
same=$("$NM_PY" - "$alerts" "$NM_TMP/obs-http.jsonl" <<'PY'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
log = {e["src_port"]: e for e in log if e["event_type"] == "http"}
seen = 0
for line in open(sys.argv[2]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    e = log.get(o.get("src_port"))
    if o.get("type") != "http" or e is None or "verdict" in o:
        print("unexpected:", line.strip())
        sys.exit(0)
    keys = ("timestamp", "flow_id", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "tx_id", "http", "nodemesh")
    if any(o.get(k) != e[k] for k in keys) or o["src"] != e["nodemesh"]["src"] or o["dst"] != e["nodemesh"]["dest"]:
        print("differs:", line.strip())
        sys.exit(0)
    seen += 1
print(seen)
PY
)
[[ $same == 3 ]] || nm_fail "observe type=http: expected the log's 3 http events, got: $same ($(cat "$NM_TMP/obs-http.jsonl"))"
grep -q "http .*GET /index.html 200 *pod-1 (test/sa-1) $NM_POD_IP_1:$get_port -> pod-2 (test/sa-2) $IP2:80 TCP" "$NM_TMP/obs-http.txt" ||
	nm_fail "observe type=http (text): no 'GET /index.html 200' line: $(cat "$NM_TMP/obs-http.txt")"
grep -q "POST /index.html 405" "$NM_TMP/obs-http.txt" || nm_fail "observe type=http (text): no POST line"
[[ ! -s $NM_TMP/obs-other.jsonl ]] || nm_fail "observe type=http pod=pod-9 showed: $(cat "$NM_TMP/obs-other.jsonl")"
nm_ok "observe type=http: the log's 3 http events, field for field; text 'GET /index.html 200'; pod=pod-9 none"

got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r['src_port'] == $adm_port")
ev=$(event "$adm_port")
fid=$(nm_json "j[0]['flow_id']" <<<"$ev")
nm_json "len(j) == 1 and j[0]['alert']['signature_id'] == 2200001 and j[0]['flow_id'] == $fid and j[0]['http']['url'] == '$admin' and j[0]['http']['hostname'] == '$IP2' and j[0]['http']['http_method'] == 'GET' and j[0]['http']['http_user_agent'].startswith('curl/')" \
	<<<"$got" | grep -qx True || nm_fail "the admin alert: $got"
n=$(nm_jsonl "$alerts" "r['event_type'] == 'alert'" | nm_json "len(j)")
((n == 1)) || nm_fail "$n alerts, expected the admin one only: $(cat "$alerts")"
nm_ok "the alert carries the http object and the http event's flow_id $fid"
nm_log "the admin request's http event: $(grep '"event_type": *"http"' "$alerts" | grep "\"src_port\": *$adm_port" || true)"
nm_log "its alert: $(grep '"event_type": *"alert"' "$alerts")"

st=$(nm_sigstat "j['http']")
nm_json "j['records'] >= 6 and j['records_lost'] == 0 and j['events_paired'] >= 3 and j['waiting_for_pair'] == 0" \
	<<<"$st" | grep -qx True || nm_fail "sig stats http: $st"
nm_ok "sig stats http: $st"

# The store, after the pods are gone.
for ((i = 0; i < 75; i++)); do
	s=$(nm_ctl --json stats | nm_json "j['logs']['store']['http_written']")
	((s >= 3)) && break
	sleep 0.2
done
((s >= 3)) || nm_fail "store: http_written $s after 15 s"
out=$(nm_ctl flow flush 2>&1) || nm_fail "flow flush: $out"
for i in 1 2; do
	out=$(nm_ctl pod del name=pod-$i 2>&1) || nm_fail "pod del pod-$i: $out"
done
sleep 1
out=$(nm_ctl --json flows query url=/%61dmin) || nm_fail "flows query url=: $out"
nm_json "len(j['flows']) == 1 and (lambda f: f['flow_id'] == $fid and f['src']['pod'] == 'pod-1' and len(f['http']) == 1 and f['http'][0]['url'] == '$admin' and f['http'][0]['status'] == 404 and f['http'][0]['seen'] == 'request+response' and f['http'][0]['src']['serviceaccount'] == 'sa-1' and f['http'][0]['dst']['pod'] == 'pod-2' and len(f['alerts']) == 1)(j['flows'][0])" \
	<<<"$out" | grep -qx True || nm_fail "flows query url=/%61dmin after the pods went: $out"
out=$(nm_ctl --json flows query identity=test/sa-1) || nm_fail "flows query: $out"
n=$(nm_json "sum(len(f.get('http', [])) for f in j['flows'])" <<<"$out")
((n == 3)) || nm_fail "flows of test/sa-1 carry $n http rows, expected 3: $out"
out=$(nm_ctl --json flows verify) || nm_fail "flows verify: $out"
nm_ok "pods deleted: flows query url= finds the admin transaction (flow_id $fid), 3 http rows by identity, chain verifies"
echo "http_log: PASS"
