#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dataplane.idle.mode = "wake" (dataplane/idle.c): an idle worker blocks
# until traffic or a doorbell wakes it. Two workers, a pod on each, so a
# ping crosses the handoff rings both ways and the doorbell that wakes the
# destination's owner is exercised:
#   1. idle, both workers wait (idle.waits moves, nothing is lost);
#   2. reload with wait_max_us = 100000 (a worker now blocks up to 100 ms
#      with no traffic): applied while both workers are blocked;
#   3. pings pod-1 -> pod-2 spaced 0.2 s apart (every worker blocked when
#      each arrives) are all answered; pod-1's owner rang doorbells for the
#      requests, every worker's waits ended by wake-ups, nothing dropped on
#      a handoff ring;
#   4. a flow flush (the workers serve it in their loop) is served;
#   5. reload to mode = "poll": the waits stop; back to "wake": they resume
#      (the live setting works, shown by the counters);
#   6. SIGTERM stops the daemon cleanly from blocked workers.
# No timing is asserted: a lost wake-up would still be answered at the
# 100 ms limit, which is why the counters are checked.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

export NM_IDLE_MODE=wake
nm_pods_setup 2
nm_daemon_start "0@0,1@1,2@1"
nm_pod_add 1
nm_pod_add 2
conf=$NM_TMP/nodemesh.conf

owners=$(nm_ctl --json pod list | nm_json "sorted(p['worker'] for p in j['pods'])")
[[ $owners == "[0, 1]" ]] || nm_fail "the two pods are not on two workers: owners $owners"
nm_ok "pod-1 and pod-2 on different workers ($owners)"

# idle FIELD: the per-worker idle counters as a list.
idle() { nm_ctl --json stats | nm_json "[w['idle']['$1'] for w in j['workers']]"; }
# moved BEFORE AFTER: every worker's counter grew.
moved() { "$NM_PY" -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); sys.exit(0 if all(y > x for x, y in zip(a, b)) else 1)' "$1" "$2"; }

# 1. Idle: both workers wait.
w0=$(idle waits)
sleep 1
w1=$(idle waits)
moved "$w0" "$w1" || nm_fail "idle.waits did not move on every worker: $w0 -> $w1"
nm_ok "idle workers wait for work: idle.waits $w0 -> $w1"

# 2. A live change while both block.
sed -i 's/sleep_us = 50;/sleep_us = 50; wait_max_us = 100000;/' "$conf"
out=$(nm_ctl config reload 2>&1) || nm_fail "reload with wait_max_us = 100000 refused: $out"
grep -q "dataplane.idle.wait_max_us" <<<"$out" || nm_fail "the reload does not report wait_max_us: $out"
nm_ok "reload applied to blocked workers: $out"
w0=$(idle waits)
sleep 1
w1=$(idle waits)
moved "$w0" "$w1" || nm_fail "after the reload idle.waits did not move on every worker: $w0 -> $w1"
nm_ok "workers still turn with a 100 ms limit: idle.waits $w0 -> $w1"

# 3. Pings across the handoff rings, each finding both workers blocked.
b0=$(idle doorbells) u0=$(idle wakeups)
nm_in "${NM_POD_NS[1]}" ping -n -c 10 -i 0.2 -W 2 "${NM_POD_IP[2]}" >"$NM_TMP/ping.log" 2>&1 ||
	nm_fail "pings pod-1 -> pod-2 through sleeping workers were not all answered: $(tail -n 3 "$NM_TMP/ping.log")"
b1=$(idle doorbells) u1=$(idle wakeups)
nm_ok "10 pings through two waiting workers answered ($(tail -n 1 "$NM_TMP/ping.log"))"
moved "$u0" "$u1" || nm_fail "idle.wakeups did not move on every worker: $u0 -> $u1"
# Each request is handed from pod-1's owner to pod-2's, blocked since the last
# ping: pod-1's owner rings. (A reply usually finds pod-1's owner still
# polling after the request, so the other direction rings only sometimes.)
o1=$(nm_ctl --json pod list | nm_json "[p['worker'] for p in j['pods'] if p['name'] == 'pod-1'][0]")
rang=$("$NM_PY" -c 'import json,sys; print(json.loads(sys.argv[2])[int(sys.argv[3])] - json.loads(sys.argv[1])[int(sys.argv[3])])' "$b0" "$b1" "$o1")
((rang > 0)) || nm_fail "pod-1's owner (worker $o1) rang no doorbell for 10 requests: idle.doorbells $b0 -> $b1"
nm_ok "wake-ups $u0 -> $u1, doorbells rung $b0 -> $b1 (worker $o1, pod-1's owner: $rang)"
ring=$(nm_drop handoff_ring_full)
((ring == 0)) || nm_fail "drops.handoff_ring_full = $ring"

# 4. A request the workers serve in their loop.
out=$(nm_ctl flow flush 2>&1) || nm_fail "flow flush with blocked workers failed: $out"
nm_ok "flow flush served by blocked workers: $out"

# 5. Live mode changes.
sed -i 's/idle: {/idle: { mode = "poll";/; s/mode = "wake"; //' "$conf"
out=$(nm_ctl config reload 2>&1) || nm_fail "reload to mode = poll refused: $out"
grep -q "dataplane.idle.mode" <<<"$out" || nm_fail "the reload does not report dataplane.idle.mode: $out"
sleep 0.5
w0=$(idle waits)
sleep 1
w1=$(idle waits)
[[ $w0 == "$w1" ]] || nm_fail "mode poll: the workers still wait: idle.waits $w0 -> $w1"
nm_ok "mode poll applied: no more waits ($w1)"
sed -i 's/mode = "poll";/mode = "wake";/' "$conf"
out=$(nm_ctl config reload 2>&1) || nm_fail "reload back to mode = wake refused: $out"
sleep 0.5
w2=$(idle waits)
moved "$w1" "$w2" || nm_fail "mode wake again: idle.waits did not move: $w1 -> $w2"
nm_ok "mode wake again: idle.waits $w1 -> $w2"
nm_ping_ok "${NM_POD_NS[2]}" "${NM_POD_IP[1]}" || nm_fail "ping pod-2 -> pod-1 after the mode changes failed"

# 6. Stop from blocked workers.
errs=$(nm_ctl --json stats | nm_json "sum(w['idle']['errors'] for w in j['workers'])")
nm_log "idle wait errors (EINTR): $errs"
rc=0
nm_stop_daemon || rc=$?
((rc == 0)) || nm_fail "nodemeshd did not stop cleanly on SIGTERM with blocked workers (status $rc)"
nm_ok "SIGTERM stopped the daemon with its workers blocked"
echo "idle_wake: PASS"
