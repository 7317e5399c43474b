#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# sd_notify without systemd: NOTIFY_SOCKET names a datagram socket that
# notify_listen.py reads, WATCHDOG_USEC asks for pings every 0.5 s, and
# the test hook NODEMESH_DEBUG_STALL_WORKER stalls worker 0 for 4 s a few
# seconds after the start. Expected, in order: READY=1 once the daemon
# answers; WATCHDOG=1 every ~0.5 s, none while the worker is stalled,
# again after; RELOADING=1 then READY=1 around a config reload (a good one
# and a refused one); STOPPING=1 on SIGTERM.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

STALL_AFTER_MS=4000 STALL_MS=4000
nm_node_create nmnode
nm_tmp_init
notes=$NM_TMP/notify.jsonl
nm_bg "$NM_NODE_NS" "$NM_TMP/notify.log" "$NM_PY" "$(dirname "$0")/notify_listen.py" \
	--path "$NM_TMP/notify.sock" --out "$notes" --total 90
nm_wait_file "$NM_TMP/notify.sock" || nm_fail "notify_listen.py did not bind $NM_TMP/notify.sock"

export NOTIFY_SOCKET=$NM_TMP/notify.sock WATCHDOG_USEC=1000000
export NODEMESH_DEBUG_STALL_WORKER="0:$STALL_AFTER_MS:$STALL_MS"
nm_daemon_start
unset NOTIFY_SOCKET WATCHDOG_USEC NODEMESH_DEBUG_STALL_WORKER

# notes EXPR: evaluate EXPR over the received messages (list n of {"t", "msg"}).
notes() {
	"$NM_PY" - "$notes" "$1" <<'PY'
import json, sys
n = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = eval(sys.argv[2], {"n": n})
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
PY
}

# 1. READY=1 first, with a status.
first=$(notes "n[0]['msg'] if n else ''")
[[ $first == *READY=1* && $first == *STATUS=forwarding* ]] ||
	nm_fail "first notification is '$first', expected READY=1 with STATUS=forwarding"
nm_ok "first notification: READY=1 (and STATUS=forwarding)"

# 2. The stall: wait until the worker has stalled and recovered, plus a margin.
sleep $(((STALL_AFTER_MS + STALL_MS) / 1000 + 3))
grep -q "worker 0 (lcore 1) made no loop turn" "$NM_DAEMON_LOG" ||
	nm_fail "no log line about the stalled worker"
grep -q "every worker turns again: watchdog pings resume" "$NM_DAEMON_LOG" ||
	nm_fail "no log line about the pings resuming"
pings=$(notes "[x['t'] for x in n if x['msg'] == 'WATCHDOG=1']")
echo "WATCHDOG=1 at (monotonic s): $pings"
gap=$(nm_json "max(b - a for a, b in zip(j, j[1:]))" <<<"$pings")
before=$(nm_json "next((i for i, (a, b) in enumerate(zip(j, j[1:])) if b - a == max(y - x for x, y in zip(j, j[1:]))), -1)" <<<"$pings")
after=$(nm_json "len(j) - 2 - $before" <<<"$pings")
# Stalled for 4 s, checked every 0.5 s: at least 3 s without a ping; usually 0.5 s apart.
nm_json "$gap >= 3.0 and $gap <= 6.0" <<<"null" | grep -qx True ||
	nm_fail "longest gap between pings is $gap s, expected 3 to 6 s (a 4 s stall)"
((before >= 3 && after >= 3)) ||
	nm_fail "pings around the gap: $((before + 1)) before, $after after; expected 3 or more each"
other=$(nm_json "max([b - a for a, b in zip(j, j[1:]) if b - a < $gap] or [0])" <<<"$pings")
nm_json "$other < 1.5" <<<"null" | grep -qx True ||
	nm_fail "outside the stall the pings are up to $other s apart, expected about 0.5 s"
stats=$(nm_ctl --json stats)
nm_json "j['watchdog']['withheld'] >= 5 and j['watchdog']['stalled_workers'] == [] and j['watchdog']['interval_ms'] == 1000" <<<"$stats" |
	grep -qx True || nm_fail "stats watchdog: $(nm_json "j['watchdog']" <<<"$stats")"
nm_ok "watchdog: pings every ~0.5 s (longest other gap ${other} s), none for ${gap} s while worker 0 stalled, $after after; $(nm_json "j['watchdog']" <<<"$stats")"

# 3. Reloads: RELOADING=1 then READY=1, whether applied or refused.
count_before=$(notes "len([x for x in n if x['msg'] != 'WATCHDOG=1'])")
out=$(nm_ctl config reload) || nm_fail "config reload of the unchanged file refused: $out"
sed -i 's/lcores = "0-1"/lcores = "0-2"/' "$NM_TMP/nodemesh.conf"
out=$(nm_ctl config reload 2>&1) && nm_fail "config reload changing eal.lcores was applied: $out"
sleep 0.5
msgs=$(notes "[x['msg'].split(chr(10))[0] for x in n if x['msg'] != 'WATCHDOG=1'][$count_before:]")
nm_json "j == ['RELOADING=1', 'READY=1', 'RELOADING=1', 'READY=1']" <<<"$msgs" | grep -qx True ||
	nm_fail "around two reloads expected RELOADING=1, READY=1 twice, got $msgs"
notes "[x['msg'] for x in n if x['msg'].startswith('RELOADING=1')][0]" | grep -q "MONOTONIC_USEC=" ||
	nm_fail "RELOADING=1 without MONOTONIC_USEC"
nm_ok "config reload (applied, then refused): $msgs"

# 4. STOPPING=1 on SIGTERM.
nm_stop_daemon || nm_fail "nodemeshd did not stop cleanly"
sleep 0.3
last=$(notes "[x['msg'] for x in n if x['msg'] != 'WATCHDOG=1'][-1]")
[[ $last == STOPPING=1 ]] || nm_fail "last notification is '$last', expected STOPPING=1"
nm_ok "SIGTERM: STOPPING=1"
echo "sd_notify: PASS"
