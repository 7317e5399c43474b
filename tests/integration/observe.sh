#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live observation: `nodemeshctl observe` shows a denied connection as a
# drop with its reason and both ends' identities (who tried, whom), flow
# starts and ends with their verdicts, filtered by pod, identity, type and
# verdict; several observers at once, and one that is stuck (stopped)
# neither slows traffic nor keeps the others from their events. IPv6 on.
set -euo pipefail
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny

nm_pods_setup 3
nm_daemon_start
for i in 1 2 3; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]} P3=${NM_POD_NS[3]}
IP1=${NM_POD_IP[1]} IP2=${NM_POD_IP[2]}
nm_ctl policy add allow from test/sa-1 to test/sa-2 proto icmp >/dev/null
nm_ctl policy add allow from test/sa-1 to test/sa-2 proto tcp port 5201 >/dev/null

# Observers: drops anywhere; flows of pod-1; and one that gets stuck.
nm_bg "$NM_NODE_NS" "$NM_TMP/drops.jsonl" timeout 40 "$NM_CTL_BIN" -s "$NM_SOCK" --json observe type=drop
drops_obs=$NM_LAST_BG
nm_bg "$NM_NODE_NS" "$NM_TMP/flows.jsonl" timeout 40 "$NM_CTL_BIN" -s "$NM_SOCK" --json observe type=flow pod=pod-1
nm_bg "$NM_NODE_NS" "$NM_TMP/stuck.txt" timeout 40 "$NM_CTL_BIN" -s "$NM_SOCK" observe
stuck=$NM_LAST_BG
sleep 1

# 1. A denied ping names who tried and whom.
nm_ping_fails "$P3" "$IP2" || nm_fail "pod-3 -> pod-2 (no rule) was answered"
# wait_line FILE PYTHON_CONDITION: until a JSON line of FILE (as e) matches (10 s).
wait_line() {
	local i
	for ((i = 0; i < 50; i++)); do
		"$NM_PY" - "$1" "$2" <<'PY' && return 0
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if eval(sys.argv[2], {"e": e}):
        sys.exit(0)
sys.exit(1)
PY
		sleep 0.2
	done
	return 1
}
deny="e['type'] == 'drop' and e['reason'] == 'policy_denied' and e['src'].get('pod') == 'pod-3' and e['src'].get('serviceaccount') == 'sa-3' and e['dst'].get('pod') == 'pod-2' and e['dst'].get('serviceaccount') == 'sa-2' and e['proto'] == 'icmp'"
wait_line "$NM_TMP/drops.jsonl" "$deny" ||
	nm_fail "no drop event naming pod-3 (test/sa-3) -> pod-2 (test/sa-2): $(tail -n 3 "$NM_TMP/drops.jsonl")"
nm_ok "observe type=drop: pod-3 (test/sa-3) -> pod-2 (test/sa-2) icmp, policy_denied"

# 2. Flow starts and ends of pod-1, with verdicts; nothing of other pods.
nm_ping_ok "$P1" "$IP2" || nm_fail "pod-1 -> pod-2 (allowed) got no reply"
wait_line "$NM_TMP/flows.jsonl" "e['type'] == 'flow' and e['event'] == 'start' and e['verdict'] == 'allow' and e['src'].get('pod') == 'pod-1' and e['dst'].get('pod') == 'pod-2' and e['rule_id'] == 1" ||
	nm_fail "no flow start pod-1 -> pod-2 allowed by rule 1: $(tail -n 3 "$NM_TMP/flows.jsonl")"
nm_ctl flow flush >/dev/null
wait_line "$NM_TMP/flows.jsonl" "e['type'] == 'flow' and e['event'] == 'end' and e['src'].get('pod') == 'pod-1' and e['packets']['orig'] >= 3" ||
	nm_fail "no flow end of pod-1's ping: $(tail -n 3 "$NM_TMP/flows.jsonl")"
others=$("$NM_PY" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if "pod-1" not in l))' "$NM_TMP/flows.jsonl")
[[ $others == 0 ]] || nm_fail "observe pod=pod-1 showed $others events without pod-1"
nm_ok "observe type=flow pod=pod-1: start (allow, rule 1) and end of pod-1's ping, nothing else"

# 3. A stuck observer (stopped) slows nothing and hides nothing from the others.
kill -STOP "$stuck"
nm_bg "$P2" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -B "$IP2" -p 5201
nm_wait_listen "$P2" tcp 5201 || nm_fail "iperf3 server did not start in pod-2"
ip netns exec "$P1" timeout 20 iperf3 -c "$IP2" -p 5201 -t 3 -J >"$NM_TMP/iperf3.json" ||
	nm_fail "iperf3 pod-1 -> pod-2 failed while an observer was stuck"
gbps=$("$NM_PY" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9, 2))' "$NM_TMP/iperf3.json")
nm_ping_fails "$P3" "$IP1" || nm_fail "pod-3 -> pod-1 (no rule) was answered"
wait_line "$NM_TMP/drops.jsonl" "e['type'] == 'drop' and e['src'].get('pod') == 'pod-3' and e['dst'].get('pod') == 'pod-1'" ||
	nm_fail "the live observer missed a drop while another was stuck"
kill -CONT "$stuck"
lost=$(nm_ctl --json observe since=1 | nm_json "j['worker_events_lost']")
nm_ok "a stuck observer: iperf3 ran at $gbps Gbit/s, the other observer still saw the next denial (worker events lost: $lost)"
kill "$drops_obs" 2>/dev/null || true

# 4. Bad filters are refused, saying which.
out=$(nm_ctl observe type=packets 2>&1) && nm_fail "observe type=packets accepted"
grep -q "'type' packets" <<<"$out" || nm_fail "observe type=packets: '$out'"
nm_ok "observe with a bad filter is refused: $out"
