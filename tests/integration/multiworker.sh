#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two workers: the ping matrix of forward.sh with the pods spread over two
# worker lcores, so pod pairs on different workers go through the handoff
# rings. The machine has two CPUs, so lcores 1 and 2 share CPU 1
# (eal.lcores is passed to EAL --lcores, which maps lcore@cpu).
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

nm_pods_setup 4
nm_daemon_start "0@0,1@1,2@1"
for i in 1 2 3 4; do nm_pod_add "$i"; done

stats=$(nm_ctl --json stats)
n_workers=$(nm_json "len(j['workers'])" <<<"$stats")
((n_workers == 2)) || nm_fail "stats shows $n_workers workers, expected 2"
owners=$(nm_ctl --json pod list | nm_json "sorted(set(p['worker'] for p in j['pods']))")
[[ $owners == "[0, 1]" || $owners == "[1, 2]" ]] || nm_fail "pods not spread over both workers: owners $owners"
nm_ok "2 workers, pods owned by workers $owners"

for s in 1 2 3 4; do
	for d in 1 2 3 4; do
		((s != d)) || continue
		nm_ping_ok "${NM_POD_NS[s]}" "${NM_POD_IP[d]}" ||
			nm_fail "ping pod-$s -> pod-$d (${NM_POD_IP[d]}) got no reply"
		nm_ok "ping pod-$s -> pod-$d"
	done
done

# Both workers moved packets, and none was lost on a full handoff ring.
stats=$(nm_ctl --json stats)
busy=$(nm_json "sum(1 for w in j['workers'] if w['rx_packets'] > 0)" <<<"$stats")
((busy == 2)) || nm_fail "only $busy of 2 workers received packets: $(nm_json "j['workers']" <<<"$stats")"
ring=$(nm_json "j['drops']['handoff_ring_full']" <<<"$stats")
((ring == 0)) || nm_fail "drops.handoff_ring_full = $ring"
nm_ok "both workers received packets, no handoff ring drops"
echo "multiworker: PASS"
