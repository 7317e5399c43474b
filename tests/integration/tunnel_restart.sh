#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A node that dies and comes back gets its tunnel and traffic back without
# anyone touching the other node. With a1 pinging b1, node b's daemon is
# stopped: a's tunnel to b leaves "up", the pings go unanswered, and what a
# sends meanwhile crosses the fabric sealed or not at all (a keeps the old
# session's keys until a new session replaces them: it may go on sealing
# for a peer that is gone, never sends in the clear). b's daemon is started
# again and its pod added (the pod's veth stayed): within 20 s the tunnel
# is up on both nodes, a's daemon is the same process, b's pod is in a's
# remote pods again, and pings across are answered both ways.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

# a_counters: a's view of b: "state tx_packets no_key record_rejected".
a_counters() {
	printf '%s %s %s %s\n' "$(tn_peer a "t['state']")" "$(tn_peer a "t['tx_packets']")" \
		"$(tn_drop a tunnel_no_key)" "$(tn_drop a tunnel_record_rejected)"
}

tn_up 1
pid_a=${NM2_PID[a]}
sessions0=$(tn_peer a "t['sessions']")
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 got no reply"
ping_log=$NM_TMP/ping.log
tn_ping_start "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" "$ping_log"
pinger=$TN_PING_PID
sleep 1
r0=$(tn_ping_replies "$ping_log")
((r0 > 0)) || nm_fail "no ping reply a1 -> b1 before b was stopped"

# 1. b's daemon gone.
read -r _ tx0 nokey0 rej0 <<<"$(a_counters)"
nm2_stop b
t_stop=$(date +%s.%N)
tn_cap_start "${NM2_NS[b]}" fab0 "$NM_TMP/down-b.pcap"
cap=$TN_CAP_PID
for ((i = 0; i < 50; i++)); do
	state=$(tn_peer a "t['state']")
	[[ $state != up ]] && break
	sleep 0.1
done
[[ $state != up ]] || nm_fail "a's tunnel to b still up 5 s after b's daemon stopped"
r1=$(tn_ping_replies "$ping_log")
sleep 2
r2=$(tn_ping_replies "$ping_log")
tn_cap_stop "$cap"
((r2 == r1)) || nm_fail "ping a1 -> b1 answered while b's daemon was down ($r1 -> $r2)"
read -r state tx1 nokey1 rej1 <<<"$(a_counters)"
err=$(tn_peer a "t['last_error']")
flt="not arp and not (udp dst port 4790) and not $(tn_host_v6)"
c=$(tn_pcap_count "$NM_TMP/down-b.pcap" "$flt")
((c == 0)) || nm_fail "b down: a sent $c frames that are neither ARP, tunnel datagrams nor the hosts' IPv6: \
$(tcpdump -n -r "$NM_TMP/down-b.pcap" "$flt" 2>/dev/null | head -5)"
for m in "${NM2_POD_IP[a1]}" "${NM2_POD_IP[b1]}"; do
	c=$(tn_pcap_count "$NM_TMP/down-b.pcap" "host $m")
	((c == 0)) || nm_fail "b down: pod address $m in the clear on the fabric"
done
sealed=$(tn_pcap_count "$NM_TMP/down-b.pcap" 'udp dst port 4790')
nm_ok "b down: a's tunnel '$state' ($err); pings unanswered; a sealed $((tx1 - tx0)) records, \
$sealed seen on the fabric in 2 s, nothing in the clear; a dropped tunnel_no_key +$((nokey1 - nokey0)), \
tunnel_record_rejected +$((rej1 - rej0))"

# 2. b again, after about 5 s down: a has failed to reconnect a few times and
#    backs off (1, 2, 4, 8 s...), yet must come back within 20 s. Node a
#    is not touched (only read).
sleep 2
nm2_start b
nm2_pod_add b 1
t_start=$(date +%s.%N)
nm2_wait_up a b 20 || nm_fail "a's tunnel to b not back within 20 s of b's restart: $(nm2_ctl a tunnel list)"
nm2_wait_up b a 5 || nm_fail "b's tunnel to a not up: $(nm2_ctl b tunnel list)"
t_up=$(date +%s.%N)
if [[ ${NM2_PID[a]} != "$pid_a" ]] || ! kill -0 "$pid_a" 2>/dev/null; then
	nm_fail "a's daemon is not the same process (pid $pid_a)"
fi
sessions1=$(tn_peer a "t['sessions']")
((sessions1 > sessions0)) || nm_fail "a's sessions to b $sessions0 -> $sessions1: no new session"
took=$("$NM_PY" -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t_start" "$t_up")
down=$("$NM_PY" -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t_stop" "$t_start")
nm_ok "b restarted after ${down} s down: tunnel up on both within ${took} s, a's daemon still pid $pid_a, sessions $sessions0 -> $sessions1"

for ((i = 0; i < 25; i++)); do
	n=$(nm2_ctl a --json pod list remote | nm_json "len([p for p in j['remote_pods'] if p['ip'] == '${NM2_POD_IP[b1]}'])")
	((n == 1)) && break
	sleep 0.2
done
((n == 1)) || nm_fail "b1 not in a's remote pods after b's restart: $(nm2_ctl a pod list remote)"
r3=$(tn_ping_replies "$ping_log")
sleep 2
r4=$(tn_ping_replies "$ping_log")
((r4 - r3 >= 20)) || nm_fail "running ping a1 -> b1 after b's restart: $((r4 - r3)) replies in 2 s"
kill -INT "$pinger"
wait "$pinger" || true
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 after b's restart got no reply"
nm_ping_ok "${NM2_POD_NS[b1]}" "${NM2_POD_IP[a1]}" || nm_fail "ping b1 -> a1 after b's restart got no reply"
rej=$(tn_peer a "{k: v for k, v in t['rejected'].items() if v}")
rejb=$(tn_peer b "{k: v for k, v in t['rejected'].items() if v}")
nm_ok "after b's restart: b1 announced to a again, running ping answered ($((r4 - r3)) replies in 2 s), \
pings both ways; rejected on a $rej, on b $rejb"
echo "tunnel_restart: PASS"
