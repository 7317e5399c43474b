#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The run-time state survives a crash: pods, identities, rules (with their
# ids) and the default action, and the signature file given over the socket
# are written to state.file; after kill -9 during an iperf3 transfer and a
# restart with the same command line they are all back, the pods talk again
# within a second of the daemon answering, and the uninspected iperf3
# connection survives. A truncated, a corrupt and a foreign-version state
# file are each refused with a log line that says why, kept aside as
# PATH.refused, and the node starts from its config alone. IPv6 stays on.
set -euo pipefail
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny

nm_pods_setup 3
nm_tmp_init
export NM_STATE_FILE=$NM_TMP/state
state=$NM_STATE_FILE
nm_daemon_start
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]} IP3=${NM_POD_IP[3]}

# 1. Run-time state: pods 1 and 2 with identities, pod 3 by container id and
#    its identity apart, rules with a gap in their ids, a signature file.
for i in 1 2; do nm_pod_add "$i"; done
nm_ctl pod add name=pod-3 namespace=test "ip=$IP3" "iface=${NM_POD_IF[3]}" container=c3 >/dev/null
nm_ctl identity set namespace=test name=pod-3 serviceaccount=sa-3 labels=app=t3 >/dev/null
gone=$(nm_ctl --json policy add allow from test/sa-3 to test/sa-1 proto icmp | nm_json "j['id']")
nm_ctl policy add allow from test/sa-1 to test/sa-2 proto icmp >/dev/null
nm_ctl policy add allow from test/sa-1 to test/sa-2 proto tcp port 5201 inspect off >/dev/null
nm_ctl policy del "id=$gone" >/dev/null
printf 'alert tcp any any -> any 80 (msg:"state test"; content:"nodemesh-state-test"; sid:4200001; rev:1;)\n' >"$NM_TMP/sig.rules"
nm_ctl sig load "file=$NM_TMP/sig.rules" >/dev/null
sleep 0.3
[[ -s $state ]] || nm_fail "no state file at $state after the changes"
saves=$(nm_ctl --json stats | nm_json "j['state']['saves']")
((saves > 0)) || nm_fail "stats state.saves is $saves"
before=$(nm_state_snapshot)
nm_ok "run-time state written ($(stat -c %s "$state") bytes, $saves writes): $(head -c 30 "$state")..."

# 2. kill -9 during an uninspected iperf3 transfer, then the same command line again.
nm_bg "$P2" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -B "$IP2" -p 5201
nm_wait_listen "$P2" tcp 5201 || nm_fail "iperf3 server did not start in pod-2"
nm_bg "$P1" "$NM_TMP/iperf3.json" timeout 40 iperf3 -c "$IP2" -p 5201 -t 10 -i 1 -J
client=$NM_LAST_BG
sleep 3
cp "$NM_DAEMON_LOG" "$NM_TMP/first.log"
kill -KILL "$NM_DAEMON_PID"
wait "$NM_DAEMON_PID" 2>/dev/null || true
NM_DAEMON_PID=""
t0=$(date +%s.%N)
nm_daemon_start
t_ready=$(date +%s.%N)
talk=""
for ((i = 0; i < 50; i++)); do
	if ip netns exec "$P1" ping -n -c 1 -W 0.2 "$IP2" >/dev/null 2>&1; then
		talk=$(date +%s.%N)
		break
	fi
done
[[ -n $talk ]] || nm_fail "pods do not talk after the restart: $(tail -n 5 "$NM_DAEMON_LOG")"
after_ready=$(nm_json "round($talk - $t_ready, 2)" <<<"{}")
after_exec=$(nm_json "round($talk - $t0, 2)" <<<"{}")
nm_json "$after_ready <= 1.0" <<<"{}" | grep -q True ||
	nm_fail "pods talked again only $after_ready s after the daemon answered (want <= 1 s)"
grep -q "state: restored from $state: 3 pods, 3 identities, 2 rules, 0 peers, signatures $NM_TMP/sig.rules (0 not restored)" "$NM_DAEMON_LOG" ||
	nm_fail "no restore line in the log: $(grep state: "$NM_DAEMON_LOG")"
for ((i = 0; i < 50; i++)); do
	[[ $(nm_ctl --json sig list | nm_json "j['loading'] is None") == True ]] && break
	sleep 0.1
done
now=$(nm_state_snapshot)
[[ $now == "$before" ]] || nm_fail "state after restart differs:
before: $before
after:  $now"
nm_ok "kill -9 and restart: pods, identities, rules (ids kept), default and signature file back; pods talk $after_ready s after the daemon answered ($after_exec s after exec)"

rc=0
wait "$client" || rc=$?
((rc == 0)) || nm_fail "iperf3 did not survive the crash (exit $rc): $(tail -c 600 "$NM_TMP/iperf3.json")"
last=$("$NM_PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(int(j["intervals"][-1]["sum"]["bytes"]))' "$NM_TMP/iperf3.json")
((last > 0)) || nm_fail "iperf3 moved nothing in its last second after the restart"
nm_ok "the uninspected iperf3 connection survived the crash (last second: $last bytes)"

# 3. Damaged state files: refused, said, kept aside; the node runs on its config.
good=$NM_TMP/state.good
cp "$state" "$good"
# restart_with NAME: stop the daemon, put the damaged file in place, start again.
restart_with() {
	nm_stop_daemon || true
	rm -f "$state.refused"
	cp "$NM_TMP/damaged" "$state"
	nm_daemon_start
}
check_refused() {
	local what=$1 why=$2 n
	grep -q "state: $state refused: .*$why" "$NM_DAEMON_LOG" ||
		nm_fail "$what state file: no refusal saying '$why': $(grep state: "$NM_DAEMON_LOG")"
	[[ -f $state.refused ]] || nm_fail "$what state file was not kept as $state.refused"
	n=$(nm_ctl --json pod list | nm_json "len(j['pods'])")
	[[ $n == 0 ]] || nm_fail "$what state file: $n pods restored from it"
	nm_ok "$what state file refused ($why), kept aside, node up on its config"
}
head -c $(($(stat -c %s "$good") - 7)) "$good" >"$NM_TMP/damaged"
restart_with
check_refused truncated "truncated"
"$NM_PY" - "$good" "$NM_TMP/damaged" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2 + 40] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
restart_with
check_refused corrupt "checksum mismatch"
sed '1s/^nodemesh-state 1 /nodemesh-state 9 /' "$good" >"$NM_TMP/damaged"
restart_with
check_refused foreign-version "version 9, this nodemeshd reads version 1"
