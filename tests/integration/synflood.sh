#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# SYN flood against a small flow table (256 entries per worker): an iperf3
# TCP transfer pod-1 -> pod-2 is established first; then pod-3 sends 20000
# SYNs from its own address to ever new ports of pod-2 (hping3, bounded by
# count). The flood fills the table, so new flows are refused and counted,
# the table never grows past its capacity, and the established transfer is
# never evicted: every one of its intervals keeps moving data.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_FLOW_CAPACITY=256

command -v hping3 >/dev/null || nm_fail "hping3 not installed (scripts/setup installs it)"
nm_pods_setup 3
nm_daemon_start
for i in 1 2 3; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]} P3=${NM_POD_NS[3]}
IP2=${NM_POD_IP[2]}

out=$(nm_ctl policy add allow from '*' to '*' 2>&1) || nm_fail "policy add allow from * to *: $out"
stats=$(nm_ctl --json stats)
workers=$(nm_json "len(j['workers'])" <<<"$stats")
cap=$(nm_json "j['flows']['capacity']" <<<"$stats")
((cap == 256 * workers)) || nm_fail "stats flows.capacity = $cap, expected 256 x $workers workers"

# 1. The transfer: 12 s, intervals of 0.5 s, the server's view included.
nm_bg "$P2" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -J -i 0.5 -B "$IP2" -p 5201
nm_wait_listen "$P2" tcp 5201 || nm_fail "iperf3 server did not start in pod-2"
nm_bg "$P1" "$NM_TMP/iperf3.json" timeout 40 iperf3 -c "$IP2" -p 5201 -t 12 -i 0.5 -J --get-server-output
client=$NM_LAST_BG
sleep 3

# 2. The flood, from pod-3's own address (spoofed sources would die at
#    anti-spoofing before conntrack): 20000 SYNs at up to 10000/s to ports
#    1000, 1001, ...; source ports change too. Bounded by count and time.
refused0=$(nm_ctl --json stats | nm_json "j['flows']['refused']")
full0=$(nm_drop flow_table_full)
t0=$(date +%s.%N)
nm_in "$P3" timeout 20 hping3 -q -S -p ++1000 -i u100 -c 20000 "$IP2" >"$NM_TMP/hping3.log" 2>&1 || true
t1=$(date +%s.%N)
stats=$(nm_ctl --json stats)
active=$(nm_json "j['flows']['active']" <<<"$stats")
refused=$(nm_json "j['flows']['refused']" <<<"$stats")
full=$(nm_json "j['drops']['flow_table_full']" <<<"$stats")
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$NM_TMP/hping3.log")
msg="hping3 sent ${sent:-?} SYNs in $(nm_json "round($t1 - $t0, 2)" <<<"{}") s; flows.active $active (capacity $cap), flows.refused $refused0 -> $refused, drops.flow_table_full $full0 -> $full"
echo "$msg"
((refused > refused0)) || nm_fail "no flow admission refused during the flood: $msg"
((full > full0)) || nm_fail "drops.flow_table_full did not grow during the flood: $msg"
((active <= cap)) || nm_fail "flows.active above capacity: $msg"
nm_json "all(w['flows']['active'] <= 256 for w in j['workers'])" <<<"$stats" | grep -qx True ||
	nm_fail "a worker's flow table above 256: $(nm_json "[w['flows'] for w in j['workers']]" <<<"$stats")"
nm_ok "SYN flood: $msg"

# 3. The transfer kept running through the flood.
wait "$client" || {
	head -c 3000 "$NM_TMP/iperf3.json" >&2
	nm_fail "iperf3 pod-1 -> pod-2 failed during the flood"
}
res=$("$NM_PY" - "$NM_TMP/iperf3.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
# Full intervals only: the last one may be a few milliseconds long.
recv = [i["sum"]["bytes"] for i in j["server_output_json"]["intervals"] if i["sum"]["seconds"] > 0.4]
sent = [i["sum"]["bytes"] for i in j["intervals"] if i["sum"]["seconds"] > 0.4]
total = j["end"]["sum_received"]["bytes"]
print("received per 0.5 s (MB): %s; total %.1f MB" %
      ([round(b / 1e6, 1) for b in recv], total / 1e6))
# The whole 12 s, every interval with data (~0 would mean the flow was
# dropped or evicted), and a real transfer overall.
ok = len(recv) >= 23 and min(recv) > 100e3 and min(sent) > 100e3 and total > 50e6
sys.exit(0 if ok else 1)
EOF
) || nm_fail "iperf3 transfer stalled during the flood: $res"
nm_ok "iperf3 kept running through the flood: $res"

# The flood's flows are refused, not the transfer's: both of its flows are
# still in the table (or ended normally), and it was never denied.
denied=$(nm_drop policy_denied)
((denied == 0)) || nm_fail "drops.policy_denied = $denied under allow from * to *"
echo "synflood: PASS"
