#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# sig load compiles off the control thread's event loop. One node, two
# pods; pod-1 opens a short TCP connection to pod-2 every 100 ms while a
# rule set that takes seconds to compile is loaded. Throughout the compile
# `nodemeshctl version` (probed every 200 ms) answers within 0.5 s, a
# second `sig load` is refused naming the load in progress, and `sig list`
# shows the compile. Afterwards the new set is in force (generation 1),
# every connection made meanwhile has its flow record (records_lost 0),
# and `stats` control_loop shows no turn busy (its length less its poll
# waits) for 50 ms or more (NM_SIG_ASYNC_BUSY_MS) during the load. Last,
# SIGTERM during a second compile: nodemeshd exits 0.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
here=$(cd "$(dirname "$0")" && pwd)
export NM_TCP_CLOSED_TIMEOUT=1

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
PORT=7100
log=$NM_TMP/flows.jsonl

# A set that takes seconds to compile (slow_rules.py).
# gen_rules FILE N: N distinct pcre rules.
gen_rules() {
	"$NM_PY" "$(dirname "${BASH_SOURCE[0]}")/slow_rules.py" "$1" "$2"
}
N_RULES=${NM_SIG_ASYNC_RULES:-1500}
gen_rules "$NM_TMP/slow.rules" "$N_RULES"
# For the shutdown: a compile of about a second (3-4 s under ASan), as
# shutdown waits it out and nm_stop_daemon allows 10 s.
gen_rules "$NM_TMP/mid.rules" 400
printf 'alert tcp any any -> any any (msg:"small"; content:"small"; sid:1;)\n' >"$NM_TMP/small.rules"

nm_bg "$P2" "$NM_TMP/echo.log" "$NM_PY" "$here/tcp_echo.py" --bind 0.0.0.0 \
	--ports "$PORT" --ready-file "$NM_TMP/echo.ready" --total 120
nm_wait_file "$NM_TMP/echo.ready" || nm_fail "echo server in pod-2 did not start"

# Short connections from pod-1 every 100 ms until the stop file appears;
# prints the source port of every connection that echoed.
cat >"$NM_TMP/churn.py" <<'EOF'
import os, socket, sys, time
dst, port, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while not os.path.exists(stop):
    try:
        with socket.create_connection((dst, port), timeout=2) as s:
            s.sendall(b"churn\n")
            if s.recv(16) == b"churn\n":
                print(s.getsockname()[1], flush=True)
    except OSError as e:
        print("error", e, file=sys.stderr, flush=True)
    time.sleep(0.1)
EOF

ms_now() { echo $(($(date +%s%N) / 1000000)); }

nm_bg "$P1" "$NM_TMP/churn.out" "$NM_PY" "$NM_TMP/churn.py" "$IP2" "$PORT" "$NM_TMP/churn.stop"
sleep 0.5

# 1. The load: nodemeshctl answers once the compile is over (it polls).
loop0=$(nm_ctl --json stats | nm_json "j['control_loop']")
t0=$(ms_now)
"$NM_CTL_BIN" -s "$NM_SOCK" --json sig load file="$NM_TMP/slow.rules" >"$NM_TMP/load.out" 2>&1 &
load_pid=$!
seen_loading=0 refused=0 probes=0 worst=0 slow_probes=""
while kill -0 "$load_pid" 2>/dev/null; do
	t=$(ms_now)
	nm_ctl version >/dev/null || nm_fail "version did not answer during the compile"
	dt=$(($(ms_now) - t))
	probes=$((probes + 1))
	((dt <= worst)) || worst=$dt
	((dt < 500)) || slow_probes+=" ${dt}ms@+$((t - t0))ms"
	if ((seen_loading == 0)); then
		list=$(nm_ctl --json sig list)
		if [[ $(nm_json "j['loading'] is not None and j['loading']['file'] == '$NM_TMP/slow.rules' and 'since' in j['loading']" <<<"$list") == True ]]; then
			seen_loading=1
			# 2. A second load while the first compiles: refused, naming the first.
			if out=$(nm_ctl sig load file="$NM_TMP/small.rules" 2>&1); then
				nm_fail "a second sig load during the compile was accepted: $out"
			fi
			[[ $out == *"still compiling"* && $out == *"$NM_TMP/slow.rules"* ]] ||
				nm_fail "the refused second load does not name the load in progress: $out"
			refused=1
			nm_ok "second sig load during the compile refused: $out"
		fi
	fi
	sleep 0.2
done
wait "$load_pid" || nm_fail "sig load failed: $(cat "$NM_TMP/load.out")"
took=$(($(ms_now) - t0))
touch "$NM_TMP/churn.stop"
out=$(cat "$NM_TMP/load.out")
[[ $(nm_json "j['ok'] and j['signatures_loaded']" <<<"$out") == "$N_RULES" ]] ||
	nm_fail "sig load: $out, expected $N_RULES rules"
((seen_loading == 1 && refused == 1)) || nm_fail "sig list never showed the compile in progress"
nm_ok "sig load of $N_RULES rules: ${took} ms, nodemeshctl printed $out"
[[ -z $slow_probes ]] || nm_fail "version answered in 0.5 s or more during the compile:$slow_probes"
((probes >= 5)) || nm_fail "only $probes version probes during the compile: the set compiled too fast to test"
nm_ok "$probes version probes during the compile, slowest ${worst} ms"

# 3. The new set is in force.
list=$(nm_ctl --json sig list)
[[ $(nm_json "[j['generation'], j['file'], len(j['signatures']), j['loading'], j['last_load']['ok']]" <<<"$list") == "[1, \"$NM_TMP/slow.rules\", $N_RULES, null, true]" ]] ||
	nm_fail "sig list after the load: $(nm_json "{k: v for k, v in j.items() if k != 'signatures'}" <<<"$list")"
nm_ok "sig list: generation 1, $N_RULES rules from slow.rules, compile_ms $(nm_json "round(j['compile_ms'])" <<<"$list")"

# 4. Every connection made meanwhile has its record (closed + 1 s + a sweep).
sleep 1
mapfile -t ports < <(grep -E '^[0-9]+$' "$NM_TMP/churn.out")
((${#ports[@]} >= 10)) || nm_fail "only ${#ports[@]} connections echoed: $(cat "$NM_TMP/churn.out")"
missing=""
for ((i = 0; i < 50; i++)); do
	missing=$("$NM_PY" - "$log" "$IP2" "$PORT" "${ports[@]}" <<'EOF'
import json, os, sys
log, ip, port, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), set(map(int, sys.argv[4:]))
have = set()
if os.path.exists(log):
    for line in open(log):
        if line.strip():
            r = json.loads(line)
            if r["proto"] == "tcp" and r["dst"]["ip"] == ip and r["dst"]["port"] == port:
                have.add(r["src"]["port"])
print(" ".join(str(p) for p in sorted(want - have)))
EOF
	)
	[[ -n $missing ]] || break
	sleep 0.2
done
[[ -z $missing ]] || nm_fail "no flow record for connections from source ports $missing"
stats=$(nm_ctl --json stats)
lost=$(nm_json "sum(w['flows']['records_lost'] for w in j['workers'])" <<<"$stats")
[[ $lost == 0 ]] || nm_fail "records_lost $lost"
nm_ok "all ${#ports[@]} connections of the load window have flow records; records_lost 0"

# 5. The loop never waited on the compile: no turn near the compile's
#    length, and no turn busy (its length less its poll waits: the work it
#    did, during which nothing else was served) for BUSY_MS or more. The
#    issue's goal is 50 ms. max_busy_ms counts since start-up (adding the
#    pods can take longer): when it did not grow during the load, the
#    load's longest busy turn is bounded by the highest busy_ms_histogram
#    bucket that grew ("<16": under 16 ms).
BUSY_MS=${NM_SIG_ASYNC_BUSY_MS:-50}
loop=$(nm_json "j['control_loop']" <<<"$stats")
max=$(nm_json "round(j['control_loop']['max_turn_ms'])" <<<"$stats")
((max < 400)) || nm_fail "a control loop turn took $max ms: $loop"
busy=$("$NM_PY" - "$loop0" "$loop" "$BUSY_MS" <<'EOF'
import json, sys
b, a, limit = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
h0, h1 = b["busy_ms_histogram"], a["busy_ms_histogram"]
diff = {k: h1[k] - h0.get(k, 0) for k in h1 if h1[k] != h0.get(k, 0)}
if a["max_busy_ms"] > b["max_busy_ms"]:
    ok, how = a["max_busy_ms"] < limit, "%.1f ms" % a["max_busy_ms"]
else:
    # Bucket "<N" holds [N/2, N) ms; ">=1024" has no upper end.
    top = [k for k in h1 if diff.get(k, 0) > 0][-1]
    bound = float(top[1:]) if top.startswith("<") else float("inf")
    if bound <= b["max_busy_ms"]:
        ok, how = bound <= limit, "under %g ms" % bound
    else:
        ok, how = b["max_busy_ms"] < limit, "at most %.1f ms" % b["max_busy_ms"]
    how += " (max_busy_ms %.1f did not grow; highest bucket %s)" % (b["max_busy_ms"], top)
print("%s %s, busy turns during the load by bucket (ms): %s"
      % ("ok" if ok else "over", how, json.dumps(diff)))
EOF
)
[[ $busy == ok* ]] || nm_fail "longest busy turn during the load ${busy#over } (limit $BUSY_MS ms): $loop"
nm_ok "control_loop during the load: longest busy turn ${busy#ok } (limit $BUSY_MS ms)"
nm_ok "control_loop: longest turn $max ms (poll timeout $(nm_json "j['control_loop']['poll_timeout_ms']" <<<"$stats") ms): $loop"
# 6. Shutdown during a compile: the daemon waits the compile out, frees it
#    and exits 0 (nm_stop_daemon allows 10 s before SIGKILL).
"$NM_CTL_BIN" -s "$NM_SOCK" sig load file="$NM_TMP/mid.rules" >"$NM_TMP/load2.out" 2>&1 &
load_pid=$!
for ((i = 0; i < 50; i++)); do
	[[ $(nm_ctl --json sig stats | nm_json "j['signatures']['loading'] is not None") == True ]] && break
	sleep 0.1
done
((i < 50)) || nm_fail "the second load never showed as compiling"
t=$(ms_now)
rc=0
nm_stop_daemon || rc=$?
((rc == 0)) || nm_fail "nodemeshd stopped during a compile with status $rc"
wait "$load_pid" 2>/dev/null || true
grep -q "stopping (Terminated)" "$NM_DAEMON_LOG" || nm_fail "nodemeshd did not log its stop"
nm_ok "SIGTERM during a compile: nodemeshd exited 0 after $(($(ms_now) - t)) ms"
echo "sig_async: PASS"
