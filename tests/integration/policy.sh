#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Identity policy with default deny: one-way allow rules by serviceaccount
# (ICMP, TCP on one port) and by label; what they allow gets through with
# its replies, everything else gets nothing. Deny beats allow, deletion
# undoes it, the default action can be switched, a deny added during an
# iperf3 transfer stops it within a second, a rules file with one bad line
# is refused with its line number and changes nothing, a good one takes
# effect, and the counters show it.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
here=$(cd "$(dirname "$0")" && pwd)
export NM_POLICY_DEFAULT=deny

nm_pods_setup 3
nm_daemon_start
for i in 1 2 3; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]} P3=${NM_POD_NS[3]}
IP1=${NM_POD_IP[1]} IP2=${NM_POD_IP[2]} IP3=${NM_POD_IP[3]}

# policy_add RULE...: add a rule, print its id.
policy_add() {
	local out
	out=$(nm_ctl --json policy add "$@") || nm_fail "policy add $* refused: $out"
	nm_json "j['id']" <<<"$out"
}

# probe NS DST PORT: tcp_probe.py's verdict word (ok, timeout, refused, error: ...).
probe() {
	nm_in "$1" timeout 10 "$NM_PY" "$here/tcp_probe.py" --dst "$2" --port "$3" --timeout 2 || true
}

# Echo servers: pod-2 on 5201 (allowed) and 5202 (not), pod-1 on 5201.
nm_bg "$P2" "$NM_TMP/echo2.log" "$NM_PY" "$here/tcp_echo.py" --bind 0.0.0.0 \
	--ports 5201,5202 --ready-file "$NM_TMP/echo2.ready" --total 120
echo2=$NM_LAST_BG
nm_bg "$P1" "$NM_TMP/echo1.log" "$NM_PY" "$here/tcp_echo.py" --bind 0.0.0.0 \
	--ports 5201 --ready-file "$NM_TMP/echo1.ready" --total 120
nm_wait_file "$NM_TMP/echo2.ready" || nm_fail "echo server in pod-2 did not start"
nm_wait_file "$NM_TMP/echo1.ready" || nm_fail "echo server in pod-1 did not start"

# 0. Default deny, no rules: nothing passes.
nm_ping_fails "$P1" "$IP2" || nm_fail "default deny, no rules: ping pod-1 -> pod-2 answered"
[[ $(probe "$P1" "$IP2" 5201) == timeout ]] || nm_fail "default deny, no rules: TCP pod-1 -> pod-2:5201 not timed out"
nm_ok "default deny with no rules: ping and TCP pod-1 -> pod-2 get nothing"

# 1. One-way rules by serviceaccount.
rule_tcp=$(policy_add allow from test/sa-1 to test/sa-2 proto tcp port 5201)
rule_icmp=$(policy_add allow from test/sa-1 to test/sa-2 proto icmp)
nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 (allowed) got no reply"
nm_ok "ping pod-1 -> pod-2 allowed"
nm_ping_fails "$P2" "$IP1" || nm_fail "ping pod-2 -> pod-1 (no rule) was answered"
nm_ok "ping pod-2 -> pod-1 gets nothing"
nm_ping_fails "$P1" "$IP3" || nm_fail "ping pod-1 -> pod-3 (no rule) was answered"
nm_ok "ping pod-1 -> pod-3 gets nothing"
r=$(probe "$P1" "$IP2" 5201)
[[ $r == ok ]] || nm_fail "TCP pod-1 -> pod-2:5201 (allowed): $r"
nm_ok "TCP pod-1 -> pod-2:5201: connected, echo came back (replies pass)"
r=$(probe "$P2" "$IP1" 5201)
[[ $r == timeout ]] || nm_fail "TCP pod-2 -> pod-1:5201 (no rule): '$r', expected timeout"
nm_ok "TCP pod-2 -> pod-1:5201 times out"
r=$(probe "$P1" "$IP2" 5202)
[[ $r == timeout ]] || nm_fail "TCP pod-1 -> pod-2:5202 (port not allowed): '$r', expected timeout"
nm_ok "TCP pod-1 -> pod-2:5202 times out"

# 2. Label selectors.
rule_label=$(policy_add allow from app=t1 to app=t3 proto icmp)
nm_ping_ok "$P1" "$IP3" || nm_fail "ping pod-1 -> pod-3 (label rule app=t1 -> app=t3) got no reply"
nm_ping_fails "$P3" "$IP1" || nm_fail "ping pod-3 -> pod-1 (label rule is one-way) was answered"
nm_ping_fails "$P2" "$IP3" || nm_fail "ping pod-2 -> pod-3 (app=t2 not selected) was answered"
nm_ok "label rule: ping pod-1 -> pod-3 works, pod-3 -> pod-1 and pod-2 -> pod-3 get nothing"

# 3. Deny beats allow, whatever the order; deleting the deny restores it.
rule_deny=$(policy_add deny from test/sa-1 to test/sa-2 proto icmp)
nm_ping_fails "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 answered despite deny rule $rule_deny (added after the allow)"
r=$(probe "$P1" "$IP2" 5201)
[[ $r == ok ]] || nm_fail "icmp deny rule also blocked TCP pod-1 -> pod-2:5201: $r"
nm_ok "deny icmp added after allow: ping pod-1 -> pod-2 blocked, TCP 5201 still ok"
d=$(nm_ctl --json policy list | nm_json "[r['drops'] for r in j['rules'] if r['id'] == $rule_deny][0]")
((d > 0)) || nm_fail "deny rule $rule_deny shows $d drops after blocking pings"
out=$(nm_ctl policy del id="$rule_deny" 2>&1) || nm_fail "policy del id=$rule_deny: $out"
nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 still blocked after policy del id=$rule_deny"
nm_ok "policy del id=$rule_deny: ping pod-1 -> pod-2 works again"

# 4. The default action.
out=$(nm_ctl policy default allow 2>&1) || nm_fail "policy default allow: $out"
nm_ping_ok "$P2" "$IP1" || nm_fail "ping pod-2 -> pod-1 blocked under default allow"
r=$(probe "$P2" "$IP1" 5201)
[[ $r == ok ]] || nm_fail "TCP pod-2 -> pod-1:5201 under default allow: $r"
nm_ok "policy default allow: ping and TCP pod-2 -> pod-1 work"
out=$(nm_ctl policy default deny 2>&1) || nm_fail "policy default deny: $out"
nm_ping_fails "$P2" "$IP1" || nm_fail "ping pod-2 -> pod-1 answered after policy default deny"
nm_ok "policy default deny: ping pod-2 -> pod-1 blocked again"

# 5. A deny added during a transfer stops it within a second. The iperf3
#    server in pod-2 reports received bytes every 0.5 s; each line is
#    stamped with the wall clock as it is printed.
kill "$echo2" 2>/dev/null || true
wait "$echo2" 2>/dev/null || true
nm_bg "$P2" "$NM_TMP/iperf3-s.log" "$NM_PY" "$here/linestamp.py" \
	iperf3 -s -1 -B "$IP2" -p 5201 -i 0.5 --forceflush
nm_wait_listen "$P2" tcp 5201 || nm_fail "iperf3 server did not start in pod-2"
nm_bg "$P1" "$NM_TMP/iperf3-c.log" timeout 25 iperf3 -c "$IP2" -p 5201 -t 8 -i 0.5
client=$NM_LAST_BG
sleep 3
t_deny=$(date +%s.%N)
rule_tcpdeny=$(policy_add deny from test/sa-1 to test/sa-2 proto tcp port 5201)
sleep 5
kill "$client" 2>/dev/null || true
wait "$client" 2>/dev/null || true
res=$("$NM_PY" - "$NM_TMP/iperf3-s.log" "$t_deny" <<'EOF'
import re, sys
units = {"Bytes": 1, "KBytes": 1024, "MBytes": 1024**2, "GBytes": 1024**3}
t_deny = float(sys.argv[2])
before, after = [], []
for line in open(sys.argv[1]):
    m = re.match(r"(\d+\.\d+) \[\s*\d+\]\s+(\d+\.\d+)-(\d+\.\d+)\s+sec\s+([\d.]+) (\w*Bytes)", line)
    if not m or line.rstrip().endswith(("sender", "receiver")):
        continue
    stamp, t0, t1 = float(m.group(1)), float(m.group(2)), float(m.group(3))
    nbytes = float(m.group(4)) * units[m.group(5)]
    start = stamp - (t1 - t0)  # wall-clock start of the interval
    if stamp <= t_deny:
        before.append(nbytes)
    elif start >= t_deny + 1.0:
        after.append(nbytes)
print("before=%s after=%s" % ([int(b) for b in before], [int(b) for b in after]))
ok = len(before) >= 2 and min(before) > 1e6 and len(after) >= 2 and max(after) < 65536
sys.exit(0 if ok else 1)
EOF
) || {
	cat "$NM_TMP/iperf3-s.log" >&2
	nm_fail "iperf3 did not stop within 1 s of the deny rule (received bytes per 0.5 s interval: $res)"
}
nm_ok "deny during iperf3: transfer stopped within 1 s ($res)"
d=$(nm_ctl --json policy list | nm_json "[r['drops'] for r in j['rules'] if r['id'] == $rule_tcpdeny][0]")
((d > 0)) || nm_fail "deny rule $rule_tcpdeny shows $d drops after stopping iperf3"
nm_ok "deny rule $rule_tcpdeny counted $d drops"
out=$(nm_ctl policy del id="$rule_tcpdeny" 2>&1) || nm_fail "policy del id=$rule_tcpdeny: $out"

# 6. Counters: drops by policy, flows and drops per rule.
stats=$(nm_ctl --json stats)
denied=$(nm_json "j['drops']['policy_denied']" <<<"$stats")
((denied > 0)) || nm_fail "stats drops.policy_denied = $denied"
rules=$(nm_json "{str(r['id']): (r['flows'], r['drops']) for r in j['policy']['rules']}" <<<"$stats")
for id in "$rule_tcp" "$rule_icmp" "$rule_label"; do
	f=$(nm_json "j['$id'][0]" <<<"$rules")
	((f > 0)) || nm_fail "rule $id matched no flows: $rules"
done
nm_ok "stats: policy_denied = $denied, per-rule (flows, drops) $rules"

# 7. A rules file with a bad line (line 4) is refused with its line
#    number; the rules in force stay as they were.
list_before=$(nm_ctl --json policy list | nm_json "[(r['id'], r['rule']) for r in j['rules']]")
cat >"$NM_TMP/bad.rules" <<EOF
# good lines, then one bad one
allow from test/sa-2 to test/sa-1 proto icmp

allow from test/sa-1 to test/sa-2 proto sctp
allow from * to test/sa-3 proto udp
EOF
if out=$(nm_ctl policy load file="$NM_TMP/bad.rules" 2>&1); then
	nm_fail "policy load of a bad file was accepted: $out"
fi
grep -q "bad.rules:4:" <<<"$out" || nm_fail "policy load error does not name line 4: $out"
list_after=$(nm_ctl --json policy list | nm_json "[(r['id'], r['rule']) for r in j['rules']]")
[[ $list_after == "$list_before" ]] || nm_fail "rules changed by a refused load: $list_before -> $list_after"
nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 broken after a refused load"
nm_ping_fails "$P2" "$IP1" || nm_fail "ping pod-2 -> pod-1 answered after a refused load"
nm_ok "bad rules file refused ($out); rules unchanged, still in force"

# 8. A good file replaces the rules: only pod-2 -> pod-1 icmp now.
cat >"$NM_TMP/good.rules" <<EOF
# reverse direction only
allow from test/sa-2 to test/sa-1 proto icmp
EOF
out=$(nm_ctl --json policy load file="$NM_TMP/good.rules" 2>&1) || nm_fail "policy load of a good file refused: $out"
n=$(nm_json "j['rules']" <<<"$out")
((n == 1)) || nm_fail "policy load: $n rules loaded, expected 1: $out"
list=$(nm_ctl --json policy list | nm_json "[r['rule'] for r in j['rules']]")
[[ $list == '["allow from test/sa-2 to test/sa-1 proto icmp"]' ]] || nm_fail "policy list after load: $list"
nm_ping_ok "$P2" "$IP1" || nm_fail "ping pod-2 -> pod-1 blocked after loading a rule that allows it"
nm_ping_fails "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 answered after loading rules without it"
r=$(probe "$P1" "$IP2" 5201)
[[ $r == timeout ]] || nm_fail "TCP pod-1 -> pod-2:5201 after loading rules without it: '$r', expected timeout"
nm_ok "good rules file loaded: pod-2 -> pod-1 ping works, pod-1 -> pod-2 ping and TCP blocked"
echo "policy: PASS"
