#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Control socket under a hold (issue 17, item 2): 40 silent connections
# (reopened whenever closed) and 8 that pipeline `stats` and never read
# (reopened whenever dropped) while `nodemeshctl stats` answers within a
# second, 5 of 5 times; the control counters show the evictions and drops.
# Then 32 clients that never read fill every slot: a new nodemeshctl is
# refused with the daemon's reason and exit 1, never exit 2. A silent
# connection is closed after the idle timeout. Afterwards pods still
# forward and the daemon answers.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
here=$(cd "$(dirname "$0")" && pwd)

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init

control() {
	nm_ctl --json stats | nm_json "j['control']"
}
counter() {
	nm_json "j['$1']" <<<"$2"
}
before=$(control)
nm_ok "control counters before: $before"

# hold ARGS...: start ctl_hold.py in the background (pid in hold_pid).
hold() {
	"$NM_PY" "$here/ctl_hold.py" "$NM_SOCK" "$@" >"$NM_TMP/hold.out" 2>&1 &
	hold_pid=$!
	NM_BG_PIDS+=("$hold_pid")
}
unhold() {
	kill -TERM "$hold_pid" 2>/dev/null || true
	wait "$hold_pid" || nm_fail "ctl_hold.py failed: $(cat "$NM_TMP/hold.out")"
	nm_ok "hold ended, reopened: $(cat "$NM_TMP/hold.out")"
}

# 1. 40 silent + 8 non-reading clients; stats within a second, 5 of 5.
hold --silent 40 --unread 8 --seconds 60
sleep 1
for ((i = 1; i <= 5; i++)); do
	t0=$(date +%s%N)
	out=$(nm_ctl -t 5 --json stats 2>&1) || nm_fail "stats $i of 5 under the hold failed: $out"
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms < 1000)) || nm_fail "stats $i of 5 under the hold took $ms ms"
	nm_ok "stats $i of 5 under the hold: $ms ms, connections $(nm_json "j['control']['connections']" <<<"$out")"
	sleep 0.7
done
kill -0 "$hold_pid" 2>/dev/null || nm_fail "ctl_hold.py ended early: $(cat "$NM_TMP/hold.out")"
unhold
during=$(control)
nm_ok "control counters after the hold: $during"
for c in evicted_silent dropped_unread; do
	(($(counter "$c" "$during") > $(counter "$c" "$before"))) || nm_fail "$c did not move: $during"
done
nm_ok "silent connections were evicted and non-readers dropped, and counted"

# 2. Every slot busy with clients that never read: refused with the reason, exit 1.
hold --unread 32 --seconds 60
sleep 0.5
refused=0
for ((i = 0; i < 20 && refused == 0; i++)); do
	rc=0
	out=$(nm_ctl stats 2>&1 >/dev/null) || rc=$?
	case $rc in
	0) ;; # a slot came free between drops
	1)
		grep -q "too many control connections" <<<"$out" ||
			nm_fail "exit 1 without the daemon's refusal: $out"
		refused=1
		;;
	*) nm_fail "nodemeshctl exit $rc while the socket was full (want 1, the refusal): $out" ;;
	esac
	sleep 0.1
done
unhold
((refused)) || nm_fail "no refusal in 20 tries with 32 clients that never read"
nm_ok "socket full: nodemeshctl printed the refusal and exited 1 ($out)"
full=$(control)
(($(counter refused_full "$full") > 0)) || nm_fail "refused_full did not move: $full"

# 3. The idle timeout: one silent connection, closed after about 10 s.
idle0=$(counter closed_idle "$full")
t0=$(date +%s)
"$NM_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(30)
while s.recv(4096):
    pass
' "$NM_SOCK" || nm_fail "idle connection: no close within 30 s"
secs=$(($(date +%s) - t0))
((secs >= 8 && secs <= 15)) || nm_fail "idle connection closed after $secs s (want about 10)"
idle1=$(counter closed_idle "$(control)")
((idle1 > idle0)) || nm_fail "closed_idle did not move ($idle0 -> $idle1)"
nm_ok "a silent connection is closed after $secs s, counted ($idle0 -> $idle1)"

# 4. Normal operation afterwards.
kill -0 "$NM_DAEMON_PID" 2>/dev/null || nm_fail "nodemeshd died"
nm_ctl stats >/dev/null || nm_fail "stats does not answer after the hold"
nm_ping_ok "${NM_POD_NS[1]}" "${NM_POD_IP[2]}" || nm_fail "ping pod-1 -> pod-2 failed after the hold"
nm_ok "pod-1 -> pod-2 forwards, stats answers"
echo "ctl_hold: PASS"
