#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The forwarding gap of a takeover beside that of a crash restart, for
# scripts/bench takeover: two pods, UDP probes every 1 ms from pod-1 to
# pod-2 for 3 s; 1 s in, either `nodemeshd --takeover` (ROUNDS times) or
# kill -9 and the same command line again with the state file (ROUNDS
# times). With FLOWS, that many UDP flows from pod-1 to pod-2 are made
# live before each round. Prints one line per round:
#   round takeover|restart N sent=S lost=L dups=D gap_ms=G [flows=F asked_ms=A]
# (takeover: F flows restored, A ms from asking to forwarding).
# IPv6 on, as on a real node. Usage: takeover_gap.sh [ROUNDS [FLOWS]]
set -euo pipefail
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
# shellcheck source=scripts/lib/takeover.sh
. "$(dirname "$0")/../../scripts/lib/takeover.sh"
nm_require_root
nm_trap
rounds=${1:-3}
flows=${2:-0}
# Room for every flow on both sides (one entry per side) and the probes.
export NM_FLOW_CAPACITY=$((flows * 2 + 65536))

nm_pods_setup 2
nm_tmp_init
export NM_STATE_FILE=$NM_TMP/state
nm_daemon_start
nm_pod_add 1
nm_pod_add 2
export NM_PROBE_FROM=${NM_POD_NS[1]} NM_PROBE_TO=${NM_POD_NS[2]} NM_PROBE_ADDR=${NM_POD_IP[2]}
nm_ping_ok "$NM_PROBE_FROM" "$NM_PROBE_ADDR"
sleep 0.5 # the state file written (once per loop turn with changes)

# restart: what a crash costs, state file and all.
restart() {
	kill -KILL "$NM_DAEMON_PID"
	wait "$NM_DAEMON_PID" 2>/dev/null || true
	NM_DAEMON_PID=""
	nm_daemon_start
}

# live_flows N: N UDP flows pod-1 -> pod-2 (2 source ports x N/2
# destination ports from 10000 up), one datagram each, in bursts of 32.
live_flows() {
	((${1} > 0)) || return 0
	nm_in "$NM_PROBE_FROM" "$NM_PY" -c '
import socket, sys, time
n, dst = int(sys.argv[1]), sys.argv[2]
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
for i in range(n):
    socks[i % 2].sendto(b"f", (dst, 10000 + (i // 2) % 50000))
    if i % 32 == 31:
        time.sleep(0.001)  # bursts of 32: the pod ring must not overflow
' "$1" "$NM_PROBE_ADDR"
}

# round KIND N: probes through one takeover or one restart.
round() {
	local extra=""
	live_flows "$flows"
	nm_probes_start 3
	sleep 1
	if [[ $1 == takeover ]]; then
		nm_takeover "$2"
		extra=" flows=$(sed -n 's/.*takeover: \([0-9]*\) flows restored.*/\1/p' "$NM_DAEMON_LOG")"
		extra+=" asked_ms=$(sed -n 's/.*forwarding \([0-9.]*\) ms after asking.*/\1/p' "$NM_DAEMON_LOG")"
	else
		restart
	fi
	nm_probes_result
	echo "round $1 $2 sent=$NM_PROBE_SENT lost=$NM_PROBE_LOST dups=$NM_PROBE_DUPS gap_ms=$NM_PROBE_GAP_MS$extra"
}

for ((r = 1; r <= rounds; r++)); do
	round takeover "$r"
	round restart "$r"
done
