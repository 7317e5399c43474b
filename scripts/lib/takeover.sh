#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Takeover helpers for tests and benchmarks, on top of scripts/lib/netns.sh
# (source that first): start `nodemeshd --takeover` against the daemon
# nm_daemon_start started, and UDP probes every millisecond between two
# namespaces to measure what a takeover or a restart costs the traffic
# (tests/integration/udp_probe.py).

# nm_takeover_await WHAT NEW_PID NEW_LOG OLD_PID OLD_LOG: wait until the
# new daemon says it is ready, then until the old one has exited with status
# 0 and its log says it handed over; fails the test (naming WHAT) otherwise.
nm_takeover_await() {
	local what=$1 new=$2 log=$3 old=$4 old_log=$5 i rc=0
	for ((i = 0; i < 200; i++)); do
		grep -q "ready:" "$log" && break
		kill -0 "$new" 2>/dev/null || nm_fail "$what: the new daemon exited: $(tail -n 5 "$log")"
		sleep 0.1
	done
	grep -q "ready:" "$log" || nm_fail "$what: not ready after 20 s: $(tail -n 5 "$log")"
	timeout 10 tail --pid="$old" -f /dev/null ||
		nm_fail "$what: old daemon $old still runs: $(nm_proc_where "$old")"
	wait "$old" || rc=$?
	((rc == 0)) || nm_fail "$what: the old daemon exited with status $rc"
	grep -q "handed over to the new daemon; exiting" "$old_log" ||
		nm_fail "$what: the old daemon's log does not say it handed over"
}

# nm_proc_where PID: each thread's state and kernel wait channel, to tell a
# daemon stuck in its own code from one held in the kernel (a process exit
# waits in synchronize_rcu_expedited when the kernel's RCU stalls; dmesg
# then has "blocked for more than 120 seconds").
nm_proc_where() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s %s; ' "$(cat "$t/comm" 2>/dev/null)" \
			"$(cut -d' ' -f3 "$t/stat" 2>/dev/null)" "$(cat "$t/wchan" 2>/dev/null)"
	done
}

# nm_takeover N: `nodemeshd --takeover` with the running one's command line;
# waits until it forwards and the old daemon has exited with status 0.
nm_takeover() {
	local n=$1 old=$NM_DAEMON_PID log=$NM_TMP/takeover$1.log
	ip netns exec "$NM_NODE_NS" "$NM_DAEMON" -c "$NM_TMP/nodemesh.conf" -s "$NM_SOCK" \
		--file-prefix "$NM_FILE_PREFIX" --takeover >"$log" 2>&1 </dev/null &
	NM_DAEMON_PID=$!
	nm_takeover_await "takeover $n" "$NM_DAEMON_PID" "$log" "$old" "$NM_DAEMON_LOG"
	NM_DAEMON_LOG=$log
	nm_log "takeover $n: pid $NM_DAEMON_PID took over from $old: $(grep -o 'forwarding .* after asking.*' "$log")"
}

# nm_probes_start SECONDS [NAME]: UDP probes every 1 ms from NM_PROBE_FROM
# to NM_PROBE_ADDR:9000 in NM_PROBE_TO (namespaces), for SECONDS. NAME
# (default "probe") names the run's files and pids, so that probes in both
# directions can run at once, each started with its own NM_PROBE_* set.
declare -A NM_PROBE_PIDS
nm_probes_start() {
	local secs=$1 name=${2:-probe}
	local probe=$NM_SRC/tests/integration/udp_probe.py f=$NM_TMP/$name
	rm -f "$f-ready" "$f-r.json" "$f-sent"
	# --sent-file: a sender stalled past --idle (the machine's load, a kernel
	# stall) must not end the count early and pass for a forwarding stop.
	nm_bg "$NM_PROBE_TO" "$f-r.log" "$NM_PY" "$probe" recv --addr "$NM_PROBE_ADDR" \
		--port 9000 --out "$f-r.json" --ready-file "$f-ready" --idle 2 \
		--sent-file "$f-sent"
	NM_PROBE_PIDS[$name-r]=$NM_LAST_BG
	nm_wait_file "$f-ready" || nm_fail "UDP probe receiver ($name) did not start"
	nm_bg "$NM_PROBE_FROM" "$f-s.log" "$NM_PY" "$probe" send --addr "$NM_PROBE_ADDR" \
		--port 9000 --out "$f-sent" --interval 0.001 --duration "$secs"
	NM_PROBE_PIDS[$name-s]=$NM_LAST_BG
}

# nm_probes_result [NAME]: wait for the probes NAME to end; NM_PROBE_SENT,
# NM_PROBE_LOST, NM_PROBE_DUPS, NM_PROBE_GAP_MS (longest gap between two
# probes received, or the probes missing after the last one at 1 ms each
# if that is longer), NM_PROBE_JSON.
nm_probes_result() {
	local name=${1:-probe} f=$NM_TMP/${1:-probe}
	wait "${NM_PROBE_PIDS[$name-s]}" || nm_fail "UDP probe sender ($name) failed: $(cat "$f-s.log")"
	wait "${NM_PROBE_PIDS[$name-r]}" || nm_fail "UDP probe receiver ($name) failed: $(cat "$f-r.log")"
	NM_PROBE_SENT=$(cat "$f-sent")
	NM_PROBE_JSON=$(cat "$f-r.json")
	NM_PROBE_DUPS=$(nm_json "j['duplicates']" <<<"$NM_PROBE_JSON")
	NM_PROBE_LOST=$(nm_json "$NM_PROBE_SENT - j['unique']" <<<"$NM_PROBE_JSON")
	# Probes that never came after the last one received are a gap too (the
	# sender stopped before forwarding resumed): at least 1 ms each.
	NM_PROBE_GAP_MS=$(nm_json "max(j['longest_gap_ms'], $NM_PROBE_SENT - 1 - j['max_seq'])" \
		<<<"$NM_PROBE_JSON")
}

# nm_probes_check WHAT MAX_LOST [NAME]: no probe twice, at most MAX_LOST
# lost, a gap under 2 s.
nm_probes_check() {
	nm_probes_result "${3:-probe}"
	((NM_PROBE_DUPS == 0)) || nm_fail "$1: $NM_PROBE_DUPS UDP probes arrived twice: $NM_PROBE_JSON"
	((NM_PROBE_LOST <= $2)) ||
		nm_fail "$1: $NM_PROBE_LOST of $NM_PROBE_SENT UDP probes lost (at most $2): $NM_PROBE_JSON"
	nm_json "$NM_PROBE_GAP_MS < 2000" <<<"{}" | grep -q True ||
		nm_fail "$1: forwarding gap $NM_PROBE_GAP_MS ms: $NM_PROBE_JSON"
	nm_ok "$1: UDP probes every 1 ms: $NM_PROBE_SENT sent, $NM_PROBE_LOST lost, 0 duplicated, longest gap $NM_PROBE_GAP_MS ms"
}
