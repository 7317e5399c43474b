#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two nodes (scripts/lib/twonode.sh), two pods each, joined by the
# encrypted tunnel: ping between every pair of pods across and within
# nodes; curl to nginx across; iperf3 across with bytes in every 1 s
# interval; markers that the client sends (HTTP request path, UDP payload)
# and the server sends (page body) reach the other side but appear nowhere
# in captures of the fabric, which carry only tunnel datagrams (UDP 4790)
# and ARP; `pod list remote` shows the other node's pods with identity,
# labels and image; policy selectors match remote identities on the
# receiving node (ingress) and on the sending node (egress); the start-up
# log, `version` and `stats` name the same tunnel AEAD engine; an idle
# worker blocked in wake mode is woken by the fabric port's doorbell.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

tn_up 2
PODS=(a1 a2 b1 b2)

# 1. ping matrix: every ordered pair, across nodes and within each node.
for s in "${PODS[@]}"; do
	for d in "${PODS[@]}"; do
		[[ $s != "$d" ]] || continue
		nm_ping_ok "${NM2_POD_NS[$s]}" "${NM2_POD_IP[$d]}" ||
			nm_fail "ping $s -> $d (${NM2_POD_IP[$d]}) got no reply"
	done
done
nm_ok "ping: all 12 ordered pairs of a1 a2 b1 b2 answered"
tx=$(tn_peer a "t['tx_packets']")
rx=$(tn_peer a "t['rx_packets']")
((tx > 0 && rx > 0)) || nm_fail "node a tunnel counters after cross-node pings: tx $tx rx $rx"
nm_ok "node a's tunnel to node-b: tx_packets $tx, rx_packets $rx"

# Idle wake mode (the default): node b's worker, blocked between pings 0.2 s
# apart, is woken by the fabric port's doorbell (dataplane/idle.c).
fw0=$(nm2_ctl b --json stats | nm_json "j['workers'][0]['idle'].get('fabric_wakeups', -1)")
((fw0 >= 0)) || nm_fail "node b's fabric worker has no fabric doorbell (stats idle: no fabric_wakeups)"
nm_in "${NM2_POD_NS[a1]}" ping -n -c 5 -i 0.2 -W 2 "${NM2_POD_IP[b1]}" >/dev/null ||
	nm_fail "5 pings a1 -> b1 0.2 s apart were not all answered"
fw1=$(nm2_ctl b --json stats | nm_json "j['workers'][0]['idle']['fabric_wakeups']")
((fw1 > fw0)) || nm_fail "node b's fabric doorbell woke no idle wait over 5 pings: $fw0 -> $fw1"
nm_ok "fabric doorbell: node b's worker woken by the fabric $fw0 -> $fw1 times over 5 pings"

# The AEAD engine the records went through: one string in the start-up
# log, `version` and `stats` (intel-ipsec-mb when built in, else openssl).
engine=$(nm2_ctl a --json version | nm_json "j['tunnel_engine']")
[[ $engine == intel-ipsec-mb* || $engine == openssl* ]] ||
	nm_fail "version on a: tunnel_engine '$engine', expected intel-ipsec-mb or openssl"
grep -qF "tunnel records sealed and opened by $engine" "${NM2_LOG[a]}" ||
	nm_fail "node a's log does not name the tunnel engine '$engine'"
got=$(nm2_ctl a --json stats | nm_json "j['tunnel_engine']")
[[ $got == "$engine" ]] || nm_fail "stats on a: tunnel_engine '$got', version said '$engine'"
nm_ok "tunnel engine on a: $engine (log, version, stats)"

# 2. pod list remote on a: b's pods with identity, labels and image.
remote=$(nm2_ctl a --json pod list remote)
for n in 1 2; do
	got=$(nm_json "[(p['node'], p['namespace'], p['serviceaccount'], p['labels'], p['image'])
		for p in j['remote_pods'] if p['ip'] == '${NM2_POD_IP[b$n]}']" <<<"$remote")
	want="[[\"node-b\", \"test\", \"sa-b$n\", \"app=b$n\", \"example/b$n:1\"]]"
	[[ $got == "$want" ]] || nm_fail "pod list remote on a, pod b$n: $got, expected $want ($remote)"
done
n=$(nm_json "len(j['remote_pods'])" <<<"$remote")
((n == 2)) || nm_fail "pod list remote on a lists $n pods, expected b's 2: $remote"
n=$(nm_json "j['total']" <<<"$remote")
((n == 2)) || nm_fail "pod list remote on a: total $n, expected 2: $remote"
n=$(nm2_ctl a --json pod list remote limit=1 | nm_json "[len(j['remote_pods']), j['total']]")
[[ $n == "[1, 2]" ]] || nm_fail "pod list remote limit=1 on a: (shown, total) $n, expected [1, 2]"
nm_ok "pod list remote on a: b1 and b2 with node, identity, labels, image; limit=1 pages"

# 3. Plaintext markers and the captures. Both fabric ends are captured
#    (each sees what it receives), and each pod's eth0 as the control that
#    shows the markers were on the wire in the clear where they should be.
mark_req=$(openssl rand -hex 16)
mark_udp=$(openssl rand -hex 16)
mark_page=$(openssl rand -hex 16)
mkdir -p "$NM_TMP/www"
printf 'page %s\n' "$mark_page" >"$NM_TMP/www/index.html"
nm_nginx_start "${NM2_POD_NS[b1]}" "$NM_TMP/www" 80 || nm_fail "nginx did not start in b1"
nm_bg "${NM2_POD_NS[b1]}" "$NM_TMP/udp.out" "$NM_PY" "$TN_HERE/udp_listen.py" \
	--bind 0.0.0.0 --port 5555 --ready-file "$NM_TMP/udp.ready" --idle 2 --total 20
udp_listener=$NM_LAST_BG
nm_wait_file "$NM_TMP/udp.ready" || nm_fail "UDP listener in b1 did not start"

tn_cap_start "${NM2_NS[a]}" fab0 "$NM_TMP/fab-a.pcap"
cap_a=$TN_CAP_PID
tn_cap_start "${NM2_NS[b]}" fab0 "$NM_TMP/fab-b.pcap"
cap_b=$TN_CAP_PID
tn_cap_start "${NM2_POD_NS[a1]}" eth0 "$NM_TMP/pod-a1.pcap"
cap_a1=$TN_CAP_PID
tn_cap_start "${NM2_POD_NS[b1]}" eth0 "$NM_TMP/pod-b1.pcap"
cap_b1=$TN_CAP_PID

page=$(nm_in "${NM2_POD_NS[a1]}" curl -sS --max-time 10 "http://${NM2_POD_IP[b1]}/index.html") ||
	nm_fail "curl a1 -> nginx in b1 failed"
[[ $page == "page $mark_page" ]] || nm_fail "curl a1 -> b1 got '$page', expected 'page $mark_page'"
code=$(nm_in "${NM2_POD_NS[a1]}" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
	"http://${NM2_POD_IP[b1]}/req-$mark_req") || nm_fail "curl a1 -> b1 /req-MARKER failed"
[[ $code == 404 ]] || nm_fail "curl a1 -> b1 /req-MARKER: HTTP $code, expected 404"
nm_in "${NM2_POD_NS[a1]}" "$NM_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(("udp-%s-%d" % (sys.argv[2], i)).encode(), (sys.argv[1], 5555))
    time.sleep(0.05)
' "${NM2_POD_IP[b1]}" "$mark_udp" || nm_fail "UDP send a1 -> b1 failed"
wait "$udp_listener" || nm_fail "UDP listener in b1 failed: $(cat "$NM_TMP/udp.out")"
sleep 0.3
for p in "$cap_a" "$cap_b" "$cap_a1" "$cap_b1"; do tn_cap_stop "$p"; done

grep -q "GET /req-$mark_req " "$NM_TMP/nginx-${NM2_POD_NS[b1]}/access.log" ||
	nm_fail "nginx in b1 did not log GET /req-$mark_req"
udp_n=$(grep -c "^${NM2_POD_IP[a1]} udp-$mark_udp-" "$NM_TMP/udp.out" || true)
((udp_n == 5)) || nm_fail "b1 received $udp_n of 5 UDP datagrams with the marker: $(cat "$NM_TMP/udp.out")"
nm_ok "markers reached the other side: page by curl, request path in nginx's log, 5/5 UDP"

# The control captures hold the markers in the clear...
for m in "$mark_req" "$mark_udp"; do
	c=$(grep -caF "$m" "$NM_TMP/pod-b1.pcap" || true)
	((c > 0)) || nm_fail "control capture on b1's eth0 does not hold marker $m"
done
c=$(grep -caF "$mark_page" "$NM_TMP/pod-a1.pcap" || true)
((c > 0)) || nm_fail "control capture on a1's eth0 does not hold the page marker"
# ...the fabric captures do not, and hold tunnel datagrams both ways.
for f in fab-a fab-b; do
	for m in "$mark_req" "$mark_udp" "$mark_page"; do
		c=$(grep -caF "$m" "$NM_TMP/$f.pcap" || true)
		((c == 0)) || nm_fail "marker $m found in the clear in the $f capture"
	done
	flt="not arp and not (udp port 4790) and not $(tn_host_v6)"
	other=$(tn_pcap_count "$NM_TMP/$f.pcap" "$flt")
	((other == 0)) || nm_fail "$f capture holds $other frames that are neither ARP, UDP 4790 nor the hosts' IPv6: \
$(tcpdump -n -r "$NM_TMP/$f.pcap" "$flt" 2>/dev/null | head -5)"
done
ab=$(tn_pcap_count "$NM_TMP/fab-b.pcap" "src host ${NM2_FABIP[a]} and dst host ${NM2_FABIP[b]} and udp dst port 4790")
ba=$(tn_pcap_count "$NM_TMP/fab-a.pcap" "src host ${NM2_FABIP[b]} and dst host ${NM2_FABIP[a]} and udp dst port 4790")
((ab > 0 && ba > 0)) || nm_fail "fabric captures: $ab tunnel datagrams a -> b, $ba b -> a; expected some each way"
nm_ok "fabric captures: no marker in the clear, $ab UDP 4790 datagrams a -> b and $ba b -> a, nothing else but ARP"

# 4. iperf3 a2 -> b2 for 4 s: bytes in every 1 s interval.
nm_bg "${NM2_POD_NS[b2]}" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -B "${NM2_POD_IP[b2]}" -p 5201
nm_wait_listen "${NM2_POD_NS[b2]}" tcp 5201 || nm_fail "iperf3 server did not start in b2"
nm_in "${NM2_POD_NS[a2]}" timeout 30 iperf3 -c "${NM2_POD_IP[b2]}" -p 5201 -t 4 -i 1 -J \
	>"$NM_TMP/iperf3.json" 2>&1 || {
	cat "$NM_TMP/iperf3.json" >&2
	nm_fail "iperf3 a2 -> b2 failed"
}
res=$(nm_json "([round(i['sum']['bits_per_second'] / 1e6, 1) for i in j['intervals']],
	round(j['end']['sum_received']['bits_per_second'] / 1e6, 1))" <"$NM_TMP/iperf3.json")
nm_json "(all(i['sum']['bytes'] > 0 for i in j['intervals']) and len(j['intervals']) >= 4
	and j['end']['sum_received']['bytes'] > 0)" <"$NM_TMP/iperf3.json" | grep -qx True ||
	nm_fail "iperf3 a2 -> b2: an interval without bytes (Mbit/s per interval, received: $res)"
nm_ok "iperf3 a2 -> b2: Mbit/s per 1 s interval and received: $res"

# 5. Policy, ingress: b denies by default and allows only test/sa-a1 ->
#    test/sa-b1 ICMP, a remote source identity. a (default allow) lets
#    both a1 and a2 send, so it is b that must tell them apart.
out=$(nm2_ctl b policy default deny 2>&1) || nm_fail "policy default deny on b: $out"
out=$(nm2_ctl b policy add allow from test/sa-a1 to test/sa-b1 proto icmp 2>&1) ||
	nm_fail "policy add on b: $out"
denied_b=$(tn_drop b policy_denied)
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ingress rule on b: ping a1 -> b1 got no reply"
nm_ping_fails "${NM2_POD_NS[a2]}" "${NM2_POD_IP[b1]}" || nm_fail "ingress rule on b: ping a2 -> b1 answered"
denied_b2=$(tn_drop b policy_denied)
((denied_b2 > denied_b)) || nm_fail "b's drops.policy_denied $denied_b -> $denied_b2 after a2 -> b1 pings"
nm_ok "ingress policy on b: a1 -> b1 allowed, a2 -> b1 denied (b policy_denied $denied_b -> $denied_b2)"

# 6. Policy, egress: a denies by default and allows only test/sa-a1 ->
#    test/sa-b1 ICMP, a remote destination identity; a2's pings to b1 now
#    stop on a.
out=$(nm2_ctl a policy default deny 2>&1) || nm_fail "policy default deny on a: $out"
out=$(nm2_ctl a policy add allow from test/sa-a1 to test/sa-b1 proto icmp 2>&1) ||
	nm_fail "policy add on a: $out"
denied_a=$(tn_drop a policy_denied)
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "egress rule on a: ping a1 -> b1 got no reply"
nm_ping_fails "${NM2_POD_NS[a2]}" "${NM2_POD_IP[b1]}" || nm_fail "egress rule on a: ping a2 -> b1 answered"
nm_ping_fails "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b2]}" || nm_fail "egress rule on a: ping a1 -> b2 answered"
denied_a2=$(tn_drop a policy_denied)
((denied_a2 > denied_a)) || nm_fail "a's drops.policy_denied $denied_a -> $denied_a2 after a2 -> b1 pings"
nm_ok "egress policy on a: a1 -> b1 allowed, a2 -> b1 and a1 -> b2 denied (a policy_denied $denied_a -> $denied_a2)"
echo "tunnel: PASS"
