#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The forensic store (issue 13, items 4-6): an intrusion alert answered
# after the pods are gone. pod-1 makes ordinary requests to nginx in pod-2
# and one SQL injection, reset by a signature. Both pods are deleted; then
# `nodemeshctl flows query` finds the attack's connection by pod, by
# identity and by image, with the alert joined to it by flow_id, and by
# sid; a denied connection by verdict; `flows graph` draws test/sa-1 ->
# test/sa-2 with the alert (rendered by graphviz when installed). After
# the daemon stopped, the store still answers (--store). `flows verify`
# passes; once one row is edited with the sqlite3 CLI it names that row.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1 NM_TCP_SYN_TIMEOUT=2
command -v sqlite3 >/dev/null || nm_fail "sqlite3 CLI missing (scripts/setup installs it)"

nm_pods_setup 3
nm_daemon_start
for i in 1 2 3; do nm_pod_add "$i"; done
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]} P3=${NM_POD_NS[3]}
IP2=${NM_POD_IP[2]}
store=$NM_TMP/store
attack='/?id=1%20UNION%20SELECT%20pw'

# query ARGS...: `flows query` as JSON (the daemon tells where the store is).
query() {
	local out
	out=$(nm_ctl --json flows query "$@") || nm_fail "flows query $* failed: $out"
	printf '%s\n' "$out"
}
# expect WHAT EXPR ARGS...: EXPR (python, j = the answer) holds for `flows query ARGS`.
expect() {
	local what=$1 expr=$2 out
	shift 2
	out=$(query "$@")
	nm_json "$expr" <<<"$out" | grep -qx True || nm_fail "$what: flows query $*: $out"
}
# wait_store EXPR: wait up to 15 s until EXPR holds for stats' logs.store (j).
wait_store() {
	local i s
	for ((i = 0; i < 75; i++)); do
		s=$(nm_ctl --json stats | nm_json "j['logs']['store']")
		[[ $(nm_json "$1" <<<"$s") == True ]] && return 0
		sleep 0.2
	done
	nm_fail "store never reached '$1': $s"
}
# curl_get PATH: one request pod-1 -> nginx; prints "CODE LOCAL_PORT".
curl_get() {
	nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{local_port}\n' \
		"http://$IP2$1" 2>"$NM_TMP/curl.err" || true
}

out=$(nm_ctl --json policy add allow from test/sa-1 to test/sa-2 proto tcp port 80 inspect on) ||
	nm_fail "policy add: $out"
mkdir -p "$NM_TMP/www"
echo "hello" >"$NM_TMP/www/index.html"
nm_nginx_start "$P2" "$NM_TMP/www" 80 || nm_fail "nginx did not start in pod-2"
cat >"$NM_TMP/sql.rules" <<'EOF'
reject tcp any any -> any 80 (msg:"SQL injection: UNION SELECT"; flow:to_server,established; content:"union"; nocase; content:"select"; nocase; pcre:"/union(\s|%20|\+)+select/i"; classtype:web-application-attack; sid:1000001; rev:2;)
EOF
out=$(nm_ctl --json sig load file="$NM_TMP/sql.rules" 2>&1) || nm_fail "sig load: $out"

# 1. Traffic: two ordinary requests, the attack, and a connection policy denies.
for i in 1 2; do
	read -r code _ < <(curl_get /index.html)
	[[ $code == 200 ]] || nm_fail "ordinary request: HTTP $code ($(cat "$NM_TMP/curl.err"))"
done
read -r code aport < <(curl_get "$attack")
[[ $code == 000 ]] || nm_fail "the attack got HTTP $code, expected a reset"
nm_in "$P3" curl -sS --max-time 1 -o /dev/null "http://$IP2/" 2>/dev/null &&
	nm_fail "pod-3 -> pod-2:80 was answered; policy should deny it"
nm_ok "2 ordinary requests, the attack from port $aport reset, pod-3 -> pod-2 denied"

# 2. Records reach the store; then the pods go.
wait_store "j['alerts_written'] >= 1 and j['flows_written'] >= 3"
out=$(nm_ctl flow flush 2>&1) || nm_fail "flow flush: $out"
wait_store "j['flows_written'] >= 4"
for i in 1 2 3; do
	out=$(nm_ctl pod del name=pod-$i 2>&1) || nm_fail "pod del pod-$i: $out"
done
[[ $(nm_ctl --json pod list | nm_json "len(j['pods'])") == 0 ]] || nm_fail "pods left after pod del"
s=$(nm_ctl --json stats | nm_json "j['logs']['store']")
nm_ok "pods deleted; store: $(nm_json "(j['flows_written'], j['alerts_written'], j['lost'], j['batch_ms_max'])" <<<"$s") (flows, alerts, lost, batch_ms_max)"

# 3. The attack, asked three ways, comes with its alert.
is_attack="[f for f in j['flows'] if f['src']['port'] == $aport and f['dst']['port'] == 80]"
attack_ok="len($is_attack) == 1 and (lambda f: f['src']['pod'] == 'pod-1' and f['src']['namespace'] == 'test' and f['src']['serviceaccount'] == 'sa-1' and f['src']['image'] == 'example/pod:1' and f['dst']['pod'] == 'pod-2' and f['dst']['image'] == 'example/pod:2' and f['signature'] == 'blocked' and len(f['alerts']) == 1 and f['alerts'][0]['sid'] == 1000001 and f['alerts'][0]['flow_id'] == f['flow_id'] and f['alerts'][0]['action'] == 'blocked')(${is_attack}[0])"
expect "by pod" "$attack_ok" pod=pod-1 since=-1h
expect "by identity" "$attack_ok" identity=test/sa-1
expect "by image" "$attack_ok" image=example/pod:1 until=now
expect "by peer" "$attack_ok" pod=pod-1 peer=pod-2
expect "by sid" "$attack_ok and len(j['flows']) == 1" sid=1000001
out=$(query pod=pod-1)
nm_ok "attack found by pod, identity, image, peer and sid: $(nm_json "${is_attack}[0]['alerts'][0]['msg']" <<<"$out"), flow_id $(nm_json "${is_attack}[0]['flow_id']" <<<"$out")"
expect "ordinary requests" "sum(1 for f in j['flows'] if f['verdict'] == 'allow' and not f['alerts']) == 2" identity=test/sa-1 verdict=allow
expect "the denied connection" "len(j['flows']) >= 1 and all(f['src']['pod'] == 'pod-3' and f['verdict'] == 'deny' for f in j['flows'])" verdict=deny
expect "nothing of another image" "j['flows'] == []" image=example/pod:9
expect "nothing from tomorrow" "j['flows'] == []" since=-1s until=now pod=pod-9
nm_ok "2 ordinary flows of test/sa-1, pod-3's denied flow by verdict; other filters answer nothing"

# Bad filters are refused, naming the word.
for bad in pod=Bad_Name since=yesterday identity=test verdict=maybe limit=0 color=red; do
	if out=$(nm_ctl flows query "$bad" 2>&1); then
		nm_fail "flows query $bad accepted: $out"
	fi
	[[ $out == *"${bad%%=*}"* ]] || nm_fail "flows query $bad: the error does not name it: $out"
done
nm_ok "bad filters refused with their names"

# 4. The graph.
dot=$(nm_ctl flows graph since=-1h) || nm_fail "flows graph: $dot"
grep -q '"test/sa-1" -> "test/sa-2" \[label="3 conn, .*1 alert"' <<<"$dot" ||
	nm_fail "flows graph lacks test/sa-1 -> test/sa-2 with 3 connections and the alert: $dot"
grep -q '"test/sa-3" -> "test/sa-2" \[label="[0-9]* conn, .*denied' <<<"$dot" ||
	nm_fail "flows graph lacks test/sa-3 -> test/sa-2 denied: $dot"
if command -v dot >/dev/null; then
	dot -Tsvg -o "$NM_TMP/graph.svg" <<<"$dot" || nm_fail "graphviz refused the graph: $dot"
	nm_ok "graph rendered by graphviz ($(stat -c %s "$NM_TMP/graph.svg") bytes of SVG)"
fi
nm_ok "flows graph: test/sa-1 -> test/sa-2 (3 connections, 1 alert), test/sa-3 -> test/sa-2 denied"

# 5. The chain holds; the daemon's head is the one verify computes.
out=$(nm_ctl --json flows verify) || nm_fail "flows verify on an untouched store: $out"
head=$(nm_ctl --json stats | nm_json "j['logs']['store']['chain_head']")
nm_json "j['ok'] and len(j['days']) == 1 and j['days'][0]['head'] == '$head'" <<<"$out" |
	grep -qx True || nm_fail "flows verify: $out (daemon's chain head $head)"
nm_ok "flows verify: $(nm_json "j['days'][0]['rows']" <<<"$out") rows, chain head = the daemon's"

# 6. After the daemon is gone, the files still answer, as JSON and readable.
nm_stop_daemon || nm_fail "nodemeshd did not stop cleanly"
out=$("$NM_CTL_BIN" --store "$store" --json flows query identity=test/sa-1 sid=1000001) ||
	nm_fail "flows query with the daemon stopped: $out"
nm_json "$attack_ok" <<<"$out" | grep -qx True || nm_fail "after the daemon stopped: $out"
out=$("$NM_CTL_BIN" --store "$store" flows query identity=test/sa-1 sid=1000001) ||
	nm_fail "flows query (readable): $out"
if ! grep -q ":$aport -> pod-2 (test/sa-2, example/pod:2) .* allow .*" <<<"$out" ||
	! grep -q "alert .* sid 1000001: SQL injection: UNION SELECT (blocked)" <<<"$out"; then
	nm_fail "readable flows query: $out"
fi
printf '%s\n%s\n' "$out" "$dot"
nm_ok "daemon stopped: the store still answers (--store $store)"

# 7. Edit one row the way someone covering tracks would: verify names it.
db=$(ls "$store"/nodemesh-*.db)
seq=$(sqlite3 "$db" "SELECT seq FROM flows WHERE src_port = $aport AND dst_port = 80")
sqlite3 "$db" "UPDATE flows SET src_pod = 'someone-else' WHERE seq = $seq"
if out=$("$NM_CTL_BIN" --store "$store" flows verify); then
	nm_fail "flows verify passed after a row was edited: $out"
fi
grep -q "BROKEN at flows seq $seq: hash does not match" <<<"$out" ||
	nm_fail "flows verify did not name the edited row (flows seq $seq): $out"
nm_ok "edited row found: $out"
# Deleting a row instead is found at the row after it.
first=$(sqlite3 "$db" "SELECT min(seq) FROM flows")
sqlite3 "$db" "UPDATE flows SET src_pod = 'pod-1' WHERE seq = $seq; DELETE FROM flows WHERE seq = $first"
out=$("$NM_CTL_BIN" --store "$store" flows verify) && nm_fail "verify passed with seq $first deleted: $out"
grep -q "seq $first to $first missing: rows removed" <<<"$out" ||
	nm_fail "verify with seq $first deleted: $out"
nm_ok "deleted row found: $out"
echo "store: PASS"
