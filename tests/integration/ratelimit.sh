#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Per-flow rate limits (default deny):
#  - `rate 10mbps` on UDP 5201: iperf3 -u offers 50 Mbit/s for 5 s; the
#    iperf3 server must receive 10 Mbit/s +-10 % and rate_limited grows.
#  - `rate 1000pps` on ICMP: ping as fast as it goes, then a steady 5000/s
#    for 4 s (icmp_flood.py). The requests are metered at ingress into
#    pod-2 (1000/s), the replies in their own direction (never more than
#    the requests), so the replies pod-1 gets must come at 1000/s +-10 %.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny
here=$(cd "$(dirname "$0")" && pwd)

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}

policy_add() {
	local out
	out=$(nm_ctl --json policy add "$@") || nm_fail "policy add $* refused: $out"
	nm_json "j['id']" <<<"$out"
}

# within VALUE TARGET PCT: is VALUE within PCT % of TARGET?
within() {
	"$NM_PY" -c 'import sys; v, t, p = map(float, sys.argv[1:]); sys.exit(0 if abs(v - t) <= t * p / 100 else 1)' "$@"
}

# calc EXPR: a float expression of numbers.
calc() {
	"$NM_PY" -c 'import sys; print(eval(sys.argv[1], {"__builtins__": {}}))' "$1"
}

# 1. UDP at 10 Mbit/s. iperf3's control connection is TCP on the same port
#    (unlimited); the data goes over UDP.
nm_ctl policy add allow from test/sa-1 to test/sa-2 proto tcp port 5201 >/dev/null ||
	nm_fail "policy add (iperf3 control) refused"
rule_udp=$(policy_add allow from test/sa-1 to test/sa-2 proto udp port 5201 rate 10mbps)
rl0=$(nm_drop rate_limited)
nm_bg "$P2" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -B "$IP2" -p 5201
nm_wait_listen "$P2" tcp 5201 || nm_fail "iperf3 server did not start in pod-2"
if ! nm_in "$P1" timeout 30 iperf3 -c "$IP2" -p 5201 -u -b 50M -l 1400 -t 5 -J \
	--get-server-output >"$NM_TMP/iperf3-udp.json" 2>&1; then
	cat "$NM_TMP/iperf3-udp.json" >&2
	nm_fail "iperf3 -u pod-1 -> pod-2 failed"
fi
# end.sum_received is the server's (receiver's) count, sent back to the client.
vals=$(nm_json "'%f %f %d %f %d' % (j['end']['sum_sent']['bits_per_second'], j['end']['sum_received']['bits_per_second'], j['end']['sum_received']['bytes'], j['end']['sum_received']['seconds'], j['end']['sum_received']['lost_packets'])" <"$NM_TMP/iperf3-udp.json") ||
	nm_fail "no sum_sent/sum_received in iperf3's JSON: $(head -c 2000 "$NM_TMP/iperf3-udp.json")"
read -r sent_bps recv_bps recv_bytes recv_s lost <<<"$vals"
rl1=$(nm_drop rate_limited)
msg=$(printf 'offered %.1f Mbit/s, received %.2f Mbit/s (%d bytes in %.2f s, %d datagrams lost), rate_limited %d -> %d' \
	"$(calc "$sent_bps / 1e6")" "$(calc "$recv_bps / 1e6")" "$recv_bytes" "$recv_s" "$lost" "$rl0" "$rl1")
echo "udp rate 10mbps: $msg"
within "$sent_bps" 50000000 20 || nm_fail "iperf3 did not offer ~50 Mbit/s: $msg"
within "$recv_bps" 10000000 10 || nm_fail "received rate not 10 Mbit/s +-10 %: $msg"
((rl1 > rl0)) || nm_fail "drops.rate_limited did not grow: $msg"
d=$(nm_ctl --json policy list | nm_json "[r['drops'] for r in j['rules'] if r['id'] == $rule_udp][0]")
((d > 0)) || nm_fail "rule $rule_udp (rate 10mbps) counts $d drops"
nm_ok "udp rate 10mbps: $msg; rule $rule_udp drops $d"

# 2. ICMP at 1000 packets/s.
#    a) ping as fast as it goes (bounded by count and a 4 s deadline). ping
#       paces itself by the replies, so once the meter drops requests it
#       offers only a little more than 1000/s; the replies must still come
#       at 1000/s +-10 %.
rule_icmp=$(policy_add allow from test/sa-1 to test/sa-2 proto icmp rate 1000pps)
nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 (allowed at 1000pps) got no reply"
rl0=$(nm_drop rate_limited)
out=$(nm_in "$P1" timeout 20 ping -n -q -i 0.0002 -c 20000 -w 4 "$IP2" 2>&1) || true
rl1=$(nm_drop rate_limited)
read -r tx rx ms < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*time \([0-9]*\)ms.*/\1 \2 \3/p' <<<"$out")
[[ -n ${ms:-} && $ms -gt 0 ]] || nm_fail "no ping summary: $out"
pps=$(calc "$rx * 1000 / $ms")
sent_pps=$(calc "$tx * 1000 / $ms")
msg=$(printf 'sent %d (%.0f/s), replies %d in %d ms = %.0f/s, rate_limited %d -> %d' \
	"$tx" "$sent_pps" "$rx" "$ms" "$pps" "$rl0" "$rl1")
echo "icmp rate 1000pps, ping: $msg"
within "$pps" 1000 10 || nm_fail "ping: delivered rate not 1000/s +-10 %: $msg"
((rl1 > rl0)) || nm_fail "ping: drops.rate_limited did not grow: $msg"
nm_ok "icmp rate 1000pps, ping: $msg"

#    b) a steady 5000 requests/s for 4 s (20000, one flow): 1000/s get through.
rl0=$(nm_drop rate_limited)
out=$(nm_in "$P1" timeout 20 "$NM_PY" "$here/icmp_flood.py" --dst "$IP2" --rate 5000 --count 20000) ||
	nm_fail "icmp_flood.py failed: $out"
rl1=$(nm_drop rate_limited)
read -r _ tx _ rx _ secs <<<"$out"
pps=$(calc "$rx / $secs")
sent_pps=$(calc "$tx / $secs")
msg=$(printf 'sent %d in %.2f s (%.0f/s), replies %d = %.0f/s, rate_limited +%d' \
	"$tx" "$secs" "$sent_pps" "$rx" "$pps" "$((rl1 - rl0))")
echo "icmp rate 1000pps, 5000/s flood: $msg"
within "$sent_pps" 5000 10 || nm_fail "icmp_flood.py did not offer 5000/s: $msg"
within "$pps" 1000 10 || nm_fail "5000/s flood: delivered rate not 1000/s +-10 %: $msg"
# Every request the meter refused is counted (a few may be lost elsewhere).
((rl1 - rl0 >= tx - rx - 20)) || nm_fail "rate_limited grew by less than the requests lost: $msg"
d=$(nm_ctl --json policy list | nm_json "[r['drops'] for r in j['rules'] if r['id'] == $rule_icmp][0]")
((d > 0)) || nm_fail "rule $rule_icmp (rate 1000pps) counts $d drops"
nm_ok "icmp rate 1000pps, 5000/s flood: $msg; rule $rule_icmp drops $d"
echo "ratelimit: PASS"
