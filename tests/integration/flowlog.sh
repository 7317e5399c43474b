#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Flow log: one HTTP download pod-1 -> nginx in pod-2 (allowed by a rule)
# is tracked at both ends while it runs, and once both FINs have passed and
# the short tcp_closed timeout is over, the flow log holds exactly one
# record of it, with the rule, both pods' identities and the counters. A
# denied attempt (port 8080, no rule) is logged once with verdict deny
# after the tcp_syn timeout.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1 NM_TCP_SYN_TIMEOUT=2

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP1=${NM_POD_IP[1]} IP2=${NM_POD_IP[2]}
log=$NM_TMP/flows.jsonl

out=$(nm_ctl --json policy add allow from test/sa-1 to test/sa-2 proto tcp port 80) ||
	nm_fail "policy add refused: $out"
rule=$(nm_json "j['id']" <<<"$out")

mkdir -p "$NM_TMP/www"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$NM_TMP/www/blob.bin"
nm_nginx_start "$P2" "$NM_TMP/www" 80 || nm_fail "nginx did not start in pod-2"

# records FILTER: the flow log records matching a python condition on r,
# as a JSON list (the log may not exist yet).
records() { nm_jsonl "$log" "$1"; }

# 1. A 2 MiB download at 512 KiB/s: a few seconds during which both ends of the
#    flow are in the flow tables.
nm_bg "$P1" "$NM_TMP/curl.out" curl -sS --max-time 20 --limit-rate 512K -o "$NM_TMP/blob.got" \
	-w '%{local_port} %{http_code}\n' "http://$IP2/blob.bin"
curl_pid=$NM_LAST_BG
sides=""
for ((i = 0; i < 20; i++)); do
	sleep 0.2
	sides=$(nm_ctl --json flow list | nm_json "sorted((f['side'], f['side_role'], f['src']['port']) for f in j['flows'] if f['proto'] == 'tcp' and f['dst']['port'] == 80)")
	[[ $sides == "[]" ]] || break
done
nm_json "len(j) == 2 and j[0][:2] == ['pod-1', 'initiator'] and j[1][:2] == ['pod-2', 'responder'] and j[0][2] == j[1][2]" <<<"$sides" |
	grep -qx True || nm_fail "flow list during the download: expected pod-1 initiator and pod-2 responder entries, got $sides"
nm_ok "during the download both ends are tracked: $sides"
wait "$curl_pid" || nm_fail "curl pod-1 -> pod-2:80 failed: $(cat "$NM_TMP/curl.out")"
read -r sport code <"$NM_TMP/curl.out"
[[ $code == 200 ]] || nm_fail "curl got HTTP $code"
cmp -s "$NM_TMP/www/blob.bin" "$NM_TMP/blob.got" || nm_fail "downloaded file differs"
nm_ok "curl pod-1 ($IP1:$sport) -> pod-2:80: 2 MiB, HTTP 200, exact content"

# 2. The record: written after FIN both ways + tcp_closed (1 s) + a sweep.
match="r['proto'] == 'tcp' and r['src']['ip'] == '$IP1' and r['src']['port'] == $sport and r['dst']['ip'] == '$IP2' and r['dst']['port'] == 80"
recs="[]"
for ((i = 0; i < 100; i++)); do
	recs=$(records "$match")
	[[ $recs == "[]" ]] || break
	sleep 0.1
done
[[ $recs != "[]" ]] || nm_fail "no flow record for $IP1:$sport -> $IP2:80 within 10 s; log: $(cat "$log" 2>/dev/null)"
sleep 2 # a second record (the other end's) would come within the same sweep
recs=$(records "$match")
n=$(nm_json "len(j)" <<<"$recs")
((n == 1)) || nm_fail "$n flow records for $IP1:$sport -> $IP2:80, expected exactly 1: $recs"
rec=$(nm_json "j[0]" <<<"$recs")
echo "record: $rec"
check() {
	local what=$1 expr=$2
	nm_json "$expr" <<<"$rec" | grep -qx True || nm_fail "flow record: $what: $rec"
}
check "type flow" "j['type'] == 'flow' and j['node'] == 'nmtest-$NM_SFX'"
check "verdict allow by rule $rule" "j['verdict'] == 'allow' and j['rule_id'] == $rule"
check "src identity pod-1" "j['src']['pod'] == 'pod-1' and j['src']['namespace'] == 'test' and j['src']['serviceaccount'] == 'sa-1' and j['src']['image'] == 'example/pod:1' and 'app=t1' in j['src']['labels']"
check "dst identity pod-2" "j['dst']['pod'] == 'pod-2' and j['dst']['namespace'] == 'test' and j['dst']['serviceaccount'] == 'sa-2' and j['dst']['image'] == 'example/pod:2' and 'app=t2' in j['dst']['labels']"
check "packets both ways" "j['packets']['orig'] > 0 and j['packets']['reply'] > 0"
check "bytes both ways, reply >= 2 MiB" "j['bytes']['orig'] > 0 and j['bytes']['reply'] >= 2 * 1024 * 1024"
check "end >= start, duration_s = end - start" "j['end'] >= j['start'] and j['duration_s'] > 0 and abs((__import__('datetime').datetime.fromisoformat(j['end'][:-1]) - __import__('datetime').datetime.fromisoformat(j['start'][:-1])).total_seconds() - j['duration_s']) < 0.01"
check "closed by FIN" "j['state'] == 'closed' and j['end_reason'] == 'closed' and j['rate_drops'] == 0"
nm_ok "exactly one record for the download: allow, rule $rule, both identities, counters both ways"

# 3. A denied attempt: port 8080 has no rule. One record, verdict deny,
#    written by the initiator's side after the tcp_syn timeout (2 s).
out=$(nm_in "$P1" curl -sS --connect-timeout 2 -o /dev/null -w '%{local_port}' "http://$IP2:8080/" 2>&1) &&
	nm_fail "curl pod-1 -> pod-2:8080 (no rule) succeeded: $out"
match="r['proto'] == 'tcp' and r['src']['ip'] == '$IP1' and r['dst']['ip'] == '$IP2' and r['dst']['port'] == 8080"
recs="[]"
for ((i = 0; i < 100; i++)); do
	recs=$(records "$match")
	[[ $recs == "[]" ]] || break
	sleep 0.1
done
[[ $recs != "[]" ]] || nm_fail "no flow record for the denied $IP1 -> $IP2:8080 within 10 s; log: $(cat "$log" 2>/dev/null)"
sleep 2
recs=$(records "$match")
nm_json "len(j) == 1 and j[0]['verdict'] == 'deny' and j[0]['rule_id'] == 0 and j[0]['packets']['orig'] > 0 and j[0]['packets']['reply'] == 0 and j[0]['src']['pod'] == 'pod-1' and j[0]['dst']['pod'] == 'pod-2'" <<<"$recs" |
	grep -qx True || nm_fail "denied attempt: expected one deny record with no replies, got $recs"
nm_ok "denied attempt pod-1 -> pod-2:8080: one record, verdict deny, $(nm_json "j[0]['packets']" <<<"$recs") packets"

stats=$(nm_ctl --json stats)
written=$(nm_json "j['flows']['records_written']" <<<"$stats")
lines=$(grep -c . "$log")
((written == lines)) || nm_fail "stats flows.records_written = $written but the log has $lines lines"
nm_ok "stats flows.records_written = $written = lines in the log"
echo "flowlog: PASS"
