#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Flow log on a full filesystem (issue 17, item 4): the log lives on a
# 64 KiB tmpfs mounted for the test, mostly taken by a filler file. UDP
# connection churn (one flow per source port, 1 s timeout) fills it:
# forwarding goes on, records are counted as lost, the failure is logged
# once for the episode. Once the filler is removed, new records are
# written, the recovery is logged, and every line of the log is whole JSON.
# Last, SIGHUP: the daemon reopens the logs, keeps running and answers
# (rotation during traffic is tests/integration/log_rotate.sh).
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_UDP_TIMEOUT=1 NM_ICMP_TIMEOUT=1

nm_tmp_init
mnt=$NM_TMP/logfs
mkdir -p "$mnt"
mount -t tmpfs -o size=64k nmlogfs "$mnt"
# The daemon holds the log open: stop it before unmounting, then clean up.
log_full_cleanup() {
	local rc=$?
	set +e
	nm_stop_daemon
	umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	nm_cleanup
	exit "$rc"
}
trap log_full_cleanup EXIT
export NM_FLOW_LOG=$mnt/flows.jsonl

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
P1=${NM_POD_NS[1]}
IP2=${NM_POD_IP[2]}
log=$NM_FLOW_LOG

flowlog() {
	nm_ctl --json stats | nm_json "j['logs']['flows']"
}
# churn COUNT: COUNT UDP flows pod-1 -> pod-2:9999, one datagram each.
churn() { nm_udp_churn "$P1" "$IP2" "$1"; }
# wait_log EXPR: wait up to 15 s until EXPR (python, j = stats.logs.flows) holds.
wait_log() { nm_wait_log flows "$1" 75; }

# 1. Fill the filesystem: a filler leaves the log about 12 KiB.
churn 10
wait_log "j['written'] > 0"
avail=$(df --output=avail -B1 "$mnt" | tail -1)
head -c $((avail - 12 * 1024)) /dev/zero >"$mnt/filler"
nm_ok "tmpfs of 64 KiB, $(stat -c %s "$log") bytes of log, filler $(stat -c %s "$mnt/filler") bytes"
churn 400
wait_log "j['lost'] > 0 and j['failing']"
sleep 2
s=$(flowlog)
nm_ok "filesystem full: $s"
nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 failed while the log was full"
nm_ok "forwarding continues while records are lost"
n=$(grep -c "logs.flows: write(.*records are counted as lost" "$NM_DAEMON_LOG" || true)
((n == 1)) || nm_fail "the failure was logged $n times (want once for the episode)"
nm_ok "logged once: $(grep -m1 "logs.flows: write(" "$NM_DAEMON_LOG")"

# 2. Space returns: new records are written, the recovery is logged.
written=$(nm_json "j['written']" <<<"$s")
rm -f "$mnt/filler"
churn 20
wait_log "j['written'] > $written and not j['failing']"
nm_ok "space back: $(flowlog)"
grep -q "logs.flows: writing .* again; [0-9]* record(s) lost meanwhile" "$NM_DAEMON_LOG" ||
	nm_fail "no recovery line in the daemon's log"
nm_ok "$(grep -m1 "logs.flows: writing" "$NM_DAEMON_LOG")"

# 3. No torn line: every line is whole JSON, and the file ends with a newline.
"$NM_PY" - "$log" <<'PY' || nm_fail "the flow log holds a torn line (above)"
import json, sys
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("log ends without a newline: %r" % data[-80:])
lines = data.split(b"\n")[:-1]
for n, line in enumerate(lines, 1):
    try:
        json.loads(line)
    except ValueError as e:
        sys.exit("line %d: %s: %r" % (n, e, line[:120]))
print("ok: %d lines, every one whole JSON" % len(lines))
PY

# 4. SIGHUP: the logs are reopened (logged), the daemon answers.
kill -HUP "$NM_DAEMON_PID"
sleep 0.5
kill -0 "$NM_DAEMON_PID" 2>/dev/null || nm_fail "nodemeshd died of SIGHUP"
nm_ctl version >/dev/null || nm_fail "nodemeshd does not answer after SIGHUP"
grep -q "SIGHUP: reopened the logs" "$NM_DAEMON_LOG" || nm_fail "SIGHUP not logged"
nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 failed after SIGHUP"
nm_ok "SIGHUP: logs reopened; the daemon answers and forwards"
echo "log_full: PASS"
