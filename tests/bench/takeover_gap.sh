#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The forwarding gap of a takeover beside that of a crash restart, for
# scripts/bench takeover: two pods, UDP probes every 1 ms from pod-1 to
# pod-2 for 3 s; 1 s in, either `nodemeshd --takeover` (ROUNDS times) or
# kill -9 and the same command line again with the state file (ROUNDS
# times). With FLOWS, that many UDP flows from pod-1 to pod-2 are made
# live before each round. With CONNS, a small signature set is loaded and
# that many inspected TCP connections from pod-1 to an echo server in
# pod-2 stay open through every round (each has sent 200 bytes and had
# them back: two streams per connection, one on each pod's side), and the
# rounds are takeovers only (a restart loses the streams by design).
# Prints one line per round:
#   round takeover|restart N sent=S lost=L dups=D gap_ms=G [flows=F asked_ms=A
#         sent_flows=SF flow_bytes=FB streams=ST stream_bytes=SB]
# (takeover: F flows restored, A ms from asking to forwarding; the old
# daemon sent SF flow records in FB bytes and ST streams in SB bytes).
# IPv6 on, as on a real node. Usage: takeover_gap.sh [ROUNDS [FLOWS [CONNS]]]
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
conns=${3:-0}
# Room for every flow on both sides (one entry per side) and the probes.
export NM_FLOW_CAPACITY=$((flows * 2 + 65536))

nm_pods_setup 2
nm_tmp_init
export NM_STATE_FILE=$NM_TMP/state
if ((conns > 0)); then
	printf '%s\n' \
		'alert tcp any any -> any any (msg:"bench one"; content:"nodemesh-bench-one"; sid:4300001;)' \
		'alert tcp any any -> any any (msg:"bench two"; pcre:"/bench-[0-9]{4}-two/"; sid:4300002;)' \
		'drop tcp any any -> any any (msg:"bench three"; content:"bench"; content:"three"; distance:10; sid:4300003;)' \
		>"$NM_TMP/bench.rules"
	export NM_SIG_FILE=$NM_TMP/bench.rules
fi
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

# inspected_conns N: N TCP connections pod-1 -> pod-2:7000 (an echo server),
# each having sent 200 bytes and read them back, held open for 600 s.
inspected_conns() {
	((${1} > 0)) || return 0
	nm_bg "$NM_PROBE_TO" "$NM_TMP/echo.log" "$NM_PY" "$NM_SRC/tests/integration/tcp_echo.py" \
		--bind "$NM_PROBE_ADDR" --ports 7000 --ready-file "$NM_TMP/echo-ready" --total 600
	nm_wait_file "$NM_TMP/echo-ready" || nm_fail "the echo server did not start"
	nm_bg "$NM_PROBE_FROM" "$NM_TMP/conns.log" "$NM_PY" -c '
import socket, sys, time
n, dst = int(sys.argv[1]), sys.argv[2]
conns = []
for i in range(n):
    s = socket.create_connection((dst, 7000), timeout=5)
    msg = (b"bench-%04d-" % i) * 20
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += s.recv(len(msg) - len(got))
    conns.append(s)
open(sys.argv[3], "w").close()
time.sleep(600)
' "$1" "$NM_PROBE_ADDR" "$NM_TMP/conns-ready"
	nm_wait_file "$NM_TMP/conns-ready" || nm_fail "the inspected connections did not open"
}

# round KIND N: probes through one takeover or one restart.
round() {
	local extra="" old_log=$NM_DAEMON_LOG
	live_flows "$flows"
	nm_probes_start 3
	sleep 1
	if [[ $1 == takeover ]]; then
		nm_takeover "$2"
		extra=" flows=$(sed -n 's/.*takeover: \([0-9]*\) flows restored.*/\1/p' "$NM_DAEMON_LOG")"
		extra+=" asked_ms=$(sed -n 's/.*forwarding \([0-9.]*\) ms after asking.*/\1/p' "$NM_DAEMON_LOG")"
		# The old daemon's word for what it sent (its last takeover line).
		extra+=$(sed -n 's/.*takeover: sent [0-9]* pods. rings, \([0-9]*\) flows (\([0-9]*\) bytes), \([0-9]*\) inspection streams (\([0-9]*\) bytes).*/ sent_flows=\1 flow_bytes=\2 streams=\3 stream_bytes=\4/p' \
			"$old_log" | tail -n 1)
	else
		restart
	fi
	nm_probes_result
	echo "round $1 $2 sent=$NM_PROBE_SENT lost=$NM_PROBE_LOST dups=$NM_PROBE_DUPS gap_ms=$NM_PROBE_GAP_MS$extra"
}

inspected_conns "$conns"
for ((r = 1; r <= rounds; r++)); do
	round takeover "$r"
	# A restart loses the streams (by design): with CONNS only takeovers.
	((conns > 0)) || round restart "$r"
done
