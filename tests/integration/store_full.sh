#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The forensic store on a full filesystem (issue 13, item 4): the store
# lives on a 4 MiB tmpfs mounted for the test (logs.max_bytes = 0, so
# retention does not make room), mostly taken by a filler file. UDP
# connection churn (one flow per source port, 1 s timeout) fills it:
# forwarding goes on, records are counted as lost (lost_disk_full), each
# failure episode is logged once (at the edge of full a small batch may
# still fit and end one), no loop turn blocks. Once the
# filler is removed the next batches are written, the recovery is logged,
# and the day's hash chain still verifies: a lost batch gave its sequence
# numbers back.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_UDP_TIMEOUT=1 NM_ICMP_TIMEOUT=1

nm_tmp_init
mnt=$NM_TMP/storefs
mkdir -p "$mnt"
mount -t tmpfs -o size=4m nmstorefs "$mnt"
# The daemon holds the store open: stop it before unmounting, then clean up.
store_full_cleanup() {
	local rc=$?
	set +e
	nm_stop_daemon
	umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	nm_cleanup
	exit "$rc"
}
trap store_full_cleanup EXIT
export NM_STORE_DIR=$mnt/store NM_STORE_MAX_BYTES=0

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
P1=${NM_POD_NS[1]}
IP2=${NM_POD_IP[2]}

store() {
	nm_ctl --json stats | nm_json "j['logs']['store']"
}
# churn COUNT: COUNT UDP flows pod-1 -> pod-2:9999, one datagram each.
churn() { nm_udp_churn "$P1" "$IP2" "$1"; }
# wait_store EXPR: wait up to 20 s until EXPR (python, j = stats.logs.store) holds.
wait_store() { nm_wait_log store "$1" 100; }

# 1. Fill the filesystem: a filler leaves the store about 256 KiB.
churn 20
wait_store "j['flows_written'] >= 20"
avail=$(df --output=avail -B1 "$mnt" | tail -1)
head -c $((avail - 256 * 1024)) /dev/zero >"$mnt/filler"
nm_ok "tmpfs of 4 MiB: store $(du -sb "$NM_STORE_DIR" | cut -f1) bytes, filler $(stat -c %s "$mnt/filler") bytes"
for ((round = 0; round < 10; round++)); do
	churn 500
	[[ $(store | nm_json "j['lost_disk_full'] > 0 and j['failing']") == True ]] && break
done
wait_store "j['lost_disk_full'] > 0 and j['failing']"
sleep 2
s=$(store)
nm_ok "filesystem full: $(nm_json "{k: j[k] for k in ('flows_written', 'lost', 'lost_disk_full', 'failing', 'error', 'batch_ms_max')}" <<<"$s")"
nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 failed while the store was full"
nm_ok "forwarding continues while records are lost"
# Once per episode: at the edge of full a small batch can still fit, which
# ends an episode (logged) and the next failure starts another.
n=$(grep -c "store: .*failed: .*records are counted as lost until a batch is written" "$NM_DAEMON_LOG" || true)
r=$(grep -c "store: writing .* again; [0-9]* record(s) lost meanwhile" "$NM_DAEMON_LOG" || true)
((n >= 1 && n == r + 1)) ||
	nm_fail "$n failure lines for $r recoveries (want one per episode): $(grep store: "$NM_DAEMON_LOG")"
nm_ok "logged once per episode ($n): $(grep -m1 "records are counted as lost" "$NM_DAEMON_LOG")"
busy=$(nm_ctl --json stats | nm_json "j['control_loop']['max_busy_ms']")
nm_ok "longest control loop turn so far: $busy ms"

# 2. Space returns: new records are written, the recovery is logged.
written=$(nm_json "j['flows_written']" <<<"$s")
rm -f "$mnt/filler"
churn 50
wait_store "j['flows_written'] > $written and not j['failing']"
nm_ok "space back: $(store | nm_json "{k: j[k] for k in ('flows_written', 'lost', 'lost_disk_full', 'failing')}")"
grep -q "store: writing .* again; [0-9]* record(s) lost meanwhile" "$NM_DAEMON_LOG" ||
	nm_fail "no recovery line in the daemon's log"
nm_ok "$(grep -m1 "store: writing" "$NM_DAEMON_LOG")"

# 3. The chain holds across the lost batches.
out=$(nm_ctl flows verify) || nm_fail "flows verify after the full disk: $out"
nm_ok "flows verify: $out"
echo "store_full: PASS"
