#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Long flows in the forensic store (logs.flow_interval_s, issue 13 item 4):
# with an interval of 1 s, a ping of about 5 s from pod-1 to pod-2 is in
# the store while it runs: interim rows (end_reason "interim") with
# growing counters, while `flow list` still shows the flow. After `flow
# flush` its final record comes, with the interim rows' flow_id and at
# least their counts. A short flow gets no interim row.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_FLOW_INTERVAL_S=1

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
P1=${NM_POD_NS[1]}
IP2=${NM_POD_IP[2]}

# icmp ARGS...: `flows query` JSON, the ICMP flows only.
icmp() {
	nm_ctl --json flows query "$@" | nm_json "[f for f in j['flows'] if f['proto'] == 'icmp']"
}

nm_in "$P1" ping -c 50 -i 0.1 -q "$IP2" >/dev/null &
ping_pid=$!
got="[]"
for ((i = 0; i < 40; i++)); do
	sleep 0.25
	got=$(icmp pod=pod-1)
	[[ $(nm_json "len([f for f in j if f['end_reason'] == 'interim']) >= 2" <<<"$got") == True ]] &&
		break
done
live=$(nm_ctl --json flow list pod=pod-1 | nm_json "len([f for f in j['flows'] if f['src']['ip'] == '${NM_POD_IP[1]}'])")
nm_json "len(j) >= 2 and all(f['end_reason'] == 'interim' for f in j) and len(set(f['flow_id'] for f in j)) == 1 and j[-1]['pkts_orig'] > j[0]['pkts_orig'] > 0" \
	<<<"$got" | grep -qx True || nm_fail "no growing interim rows of the ping while it ran: $got"
((live > 0)) || nm_fail "the ping's flow was no longer live when its interim rows were read"
nm_ok "while the ping runs: $(nm_json "len(j)" <<<"$got") interim rows, packets $(nm_json "[f['pkts_orig'] for f in j]" <<<"$got"), flow still listed"
wait "$ping_pid" || nm_fail "ping pod-1 -> pod-2 failed"

out=$(nm_ctl flow flush 2>&1) || nm_fail "flow flush: $out"
fid=$(nm_json "j[0]['flow_id']" <<<"$got")
last=$(nm_json "j[-1]['pkts_orig']" <<<"$got")
for ((i = 0; i < 20; i++)); do
	fin=$(icmp pod=pod-1 | nm_json "[f for f in j if f['end_reason'] == 'flush' and f['flow_id'] == $fid]")
	[[ $fin != "[]" ]] && break
	sleep 0.25
done
nm_json "len(j) == 1 and j[0]['pkts_orig'] >= max(50, $last)" <<<"$fin" | grep -qx True ||
	nm_fail "final record of the ping (flow_id $fid): $fin"
nm_ok "final record: flow_id $fid, $(nm_json "j[0]['pkts_orig']" <<<"$fin") packets, end_reason flush"

# A short flow: one echo, flushed at once, has no interim row.
nm_in "$P1" ping -c 1 -W 2 -p 5a5a "$IP2" >/dev/null || nm_fail "single ping failed"
out=$(nm_ctl flow flush 2>&1) || nm_fail "flow flush: $out"
sleep 0.5
n=$(icmp pod=pod-1 | nm_json "len([f for f in j if f['flow_id'] != $fid and f['end_reason'] == 'interim'])")
((n == 0)) || nm_fail "$n interim rows of a flow shorter than the interval"
s=$(nm_ctl --json stats | nm_json "j['logs']['store']['interim_rows']")
nm_ok "no interim row for a short flow; interim_rows = $s"
echo "store_interim: PASS"
