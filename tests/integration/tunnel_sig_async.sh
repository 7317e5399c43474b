#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A rekey requested while a rule set compiles happens on time. Two nodes,
# a ping a1 -> b1 every 50 ms throughout; node a is told to `sig load` a
# set that compiles for seconds (2000 rules made as sig_async.sh makes
# them; more need a larger signatures.stream_state_max). While it compiles: a is told `tunnel rekey peer=node-b` (a's loop offers the key)
# and then b is told `tunnel rekey peer=node-a` (a's loop answers b's
# offer); each time the new epoch must be in force on both nodes (the
# sender's epoch, the receiver's rx_epochs) within REKEY_MS (default
# 1000, NM_TUNNEL_SIG_ASYNC_REKEY_MS), with the compile still running.
# Then `cert reload` on a (also a job) is done within REKEY_MS and a new
# session comes up, the compile still running.
# Afterwards the set is in force on a, no echo reply was lost, and
# neither node rejected a record.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init
REKEY_MS=${NM_TUNNEL_SIG_ASYNC_REKEY_MS:-1000}
N_RULES=${NM_TUNNEL_SIG_ASYNC_RULES:-2000}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

# loading: true while node a compiles a set.
loading() {
	nm2_ctl a --json sig stats | nm_json "j['signatures']['loading'] is not None"
}

# in_force SENDER EPOCH: SENDER seals toward the other node with EPOCH and
# the other node has it among its receive keys.
in_force() {
	local s=$1 e=$2 r
	r=$(nm2_other "$s")
	[[ $(tn_peer "$s" "t['epoch'] == $e and t['tx_epoch'] == $e") == True ]] &&
		[[ $(tn_peer "$r" "$e in t['rx_epochs']") == True ]]
}

# rekey SENDER: `tunnel rekey` on SENDER during the compile; prints the
# old epoch and the milliseconds until the new one was in force on both
# nodes (polled every 20 ms plus two `tunnel list`s, about 50-100 ms: the
# figure is an upper bound). Run it as res=$(rekey X), so that a failure
# ends the test.
rekey() {
	local s=$1 r e0 t lat out
	r=$(nm2_other "$s")
	e0=$(tn_peer "$s" "t['epoch']")
	t=$(ms_now)
	out=$(nm2_ctl "$s" tunnel rekey "peer=node-$r" 2>&1) || nm_fail "tunnel rekey on $s: $out"
	until in_force "$s" $((e0 + 1)); do
		lat=$(($(ms_now) - t))
		((lat < 5000)) || nm_fail "rekey $s -> $r: epoch $((e0 + 1)) not in force after $lat ms: \
$s: $(tn_peer "$s" "(t['epoch'], t['tx_epoch'], t['rx_epochs'], t['state'])"), \
$r: $(tn_peer "$r" "(t['epoch'], t['tx_epoch'], t['rx_epochs'], t['state'])")"
		sleep 0.02
	done
	lat=$(($(ms_now) - t))
	[[ $(loading) == True ]] || nm_fail "rekey $s -> $r took $lat ms but the compile was over by then: \
the set compiled too fast to test (NM_TUNNEL_SIG_ASYNC_RULES=$N_RULES)"
	((lat < REKEY_MS)) || nm_fail "rekey $s -> $r during the compile took $lat ms (limit $REKEY_MS ms)"
	echo "$e0 $lat"
}

tn_up 1
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 got no reply"

# Distinct pcre rules that take seconds to compile (as in sig_async.sh).
"$NM_PY" "$TN_HERE/slow_rules.py" "$NM_TMP/slow.rules" "$N_RULES"

tn_ping_start "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" "$NM_TMP/ping.log"
ping_pid=$TN_PING_PID
sleep 0.5

hist0=$(nm2_ctl a --json stats | nm_json "j['control_loop']['busy_ms_histogram']")
t0=$(ms_now)
"$NM_CTL_BIN" -s "${NM2_SOCK[a]}" --json sig load file="$NM_TMP/slow.rules" >"$NM_TMP/load.out" 2>&1 &
load_pid=$!
for ((i = 0; i < 50; i++)); do
	[[ $(loading) == True ]] && break
	sleep 0.05
done
((i < 50)) || nm_fail "node a never showed the load as compiling: $(cat "$NM_TMP/load.out")"
sleep 0.1

# 1. a offers the new key (a's loop sends it, reads b's ack).
res=$(rekey a)
read -r ea lat_a <<<"$res"
nm_ok "during the compile, rekey a -> b: epoch $ea -> $((ea + 1)) in force on both nodes after $lat_a ms"
# 2. b offers the new key (a's loop installs it and acks).
res=$(rekey b)
read -r eb lat_b <<<"$res"
nm_ok "during the compile, rekey b -> a: epoch $eb -> $((eb + 1)) in force on both nodes after $lat_b ms"

# 3. cert reload on a: its files are read on a job thread too, beside the
#    compile; nodemeshctl waits for the outcome, then both ends start a new
#    session.
sa0=$(tn_peer a "t['sessions']")
t=$(ms_now)
out=$(nm2_ctl a --json cert reload 2>&1) || nm_fail "cert reload on a during the compile: $out"
lat_c=$(($(ms_now) - t))
[[ $(loading) == True ]] || nm_fail "cert reload on a took $lat_c ms but the compile was over by then"
((lat_c < REKEY_MS)) || nm_fail "cert reload on a during the compile took $lat_c ms (limit $REKEY_MS ms): $out"
nm2_wait_up a b 5 || nm_fail "a's tunnel not up after cert reload: $(nm2_ctl a tunnel list)"
sa1=$(tn_peer a "t['sessions']")
((sa1 > sa0)) || nm_fail "cert reload on a started no new session (sessions $sa0 -> $sa1)"
nm_ok "during the compile, cert reload on a: done after $lat_c ms ($out), sessions $sa0 -> $sa1"

wait "$load_pid" || nm_fail "sig load on a failed: $(cat "$NM_TMP/load.out")"
took=$(($(ms_now) - t0))
out=$(cat "$NM_TMP/load.out")
[[ $(nm_json "j['ok'] and j['signatures_loaded']" <<<"$out") == "$N_RULES" ]] ||
	nm_fail "sig load on a: $out, expected $N_RULES rules"
nm_ok "sig load of $N_RULES rules on a: $took ms (compile $(nm_json "j['took_ms']" <<<"$out") ms)"

# 4. The ping went on throughout: no reply lost (the last echo may be in flight).
sleep 0.3
kill -INT "$ping_pid" 2>/dev/null || true
wait "$ping_pid" 2>/dev/null || true
lost=$("$NM_PY" -c '
import re, sys
got = {int(m.group(1)) for m in re.finditer(r"bytes from .* icmp_seq=(\d+)", open(sys.argv[1]).read())}
print(len(got), " ".join(str(s) for s in range(1, max(got, default=0)) if s not in got))
' "$NM_TMP/ping.log")
read -r replies lost <<<"$lost"
((replies >= 40)) || nm_fail "only $replies echo replies a1 -> b1: $(tail -3 "$NM_TMP/ping.log")"
[[ -z $lost ]] || nm_fail "echo replies a1 -> b1 lost during the compile and rekeys: icmp_seq $lost"
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 after the load got no reply"
nm_ok "ping a1 -> b1 every 50 ms throughout: $replies replies, none lost"

# 5. Neither node rejected a record. For the record: how busy a's loop
#    turns were (their length less their poll waits) during the load.
for n in a b; do
	rej=$(tn_peer "$n" "t['rejected_total']")
	((rej == 0)) || nm_fail "node $n rejected $rej records: $(tn_peer "$n" "{k: v for k, v in t['rejected'].items() if v}")"
done
nm_ok "no record rejected on either node"
loop=$(nm2_ctl a --json stats | nm_json "j['control_loop']")
nm_ok "node a, busy turns since the load began by bucket (ms): $(nm_json "
{k: v - h0[k] for h0 in [${hist0}] for k, v in j['busy_ms_histogram'].items() if v != h0[k]}
" <<<"$loop"), max_busy_ms since start-up $(nm_json "j['max_busy_ms']" <<<"$loop")"
echo "tunnel_sig_async: PASS"
