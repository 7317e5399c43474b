#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The forwarding gap of a takeover of a node with a tunnel, for scripts/bench
# takeover: two nodes (scripts/lib/twonode.sh, IPv6 on), UDP probes every
# 1 ms across the tunnel for 3 s, node a taken over 1 s in; ROUNDS times
# with the probes from a1 to b1 (node a seals with the handed-over sending
# key), then ROUNDS times from b1 to a1 (node a opens with the handed-over
# receiving key and replay window). Prints one line per round:
#   round tunnel-takeover a->b|b->a N sent=S lost=L dups=D gap_ms=G asked_ms=A rejected_b=R
# (A: ms from asking to forwarding; R: records node b refused during the
# round). Usage: takeover_tunnel_gap.sh [ROUNDS]
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/../integration/tunnel_common.sh"
tn_init
rounds=${1:-3}

tn_up 1

# round DIR N: probes in DIR through one takeover of node a.
round() {
	local dir=$1 n=$2 rej0 rej1
	if [[ $dir == "a->b" ]]; then
		export NM_PROBE_FROM=${NM2_POD_NS[a1]} NM_PROBE_TO=${NM2_POD_NS[b1]} NM_PROBE_ADDR=${NM2_POD_IP[b1]}
	else
		export NM_PROBE_FROM=${NM2_POD_NS[b1]} NM_PROBE_TO=${NM2_POD_NS[a1]} NM_PROBE_ADDR=${NM2_POD_IP[a1]}
	fi
	nm_ping_ok "$NM_PROBE_FROM" "$NM_PROBE_ADDR" || nm_fail "round $n: no ping across before it"
	rej0=$(tn_peer b "t['rejected_total']")
	nm_probes_start 3
	sleep 1
	nm2_takeover a
	nm_probes_result
	rej1=$(tn_peer b "t['rejected_total']")
	echo "round tunnel-takeover $dir $n sent=$NM_PROBE_SENT lost=$NM_PROBE_LOST dups=$NM_PROBE_DUPS" \
		"gap_ms=$NM_PROBE_GAP_MS" \
		"asked_ms=$(sed -n 's/.*forwarding \([0-9.]*\) ms after asking.*/\1/p' "${NM2_LOG[a]}")" \
		"rejected_b=$((rej1 - rej0))"
	# The next round's takeover needs the new session up (its keys rotated).
	nm2_wait_up a b 20 || nm_fail "round $n: tunnel a -> b not up again"
	nm2_wait_up b a 5 || nm_fail "round $n: tunnel b -> a not up again"
}

for dir in "a->b" "b->a"; do
	for ((r = 1; r <= rounds; r++)); do
		round "$dir" "$r"
	done
done
