#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Node authentication fails closed. Node b first runs with a certificate
# from a CA that a does not trust: a's tunnel to b never comes up, its
# last_error names the CA, pings across fail both ways, a counts the drops
# and the fabric carries nothing but ARP. With b's good certificate the
# tunnel comes up. Then b's certificate is revoked and a restarted with the
# new CRL: no tunnel again, last_error says revoked, a1 -> b1 gets nothing
# onto the fabric, and what b still seals with its old keys is refused by
# a. A new certificate for b (restart b) brings the tunnel back.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

# not_up NODE SECS: NODE's tunnel to the other node stays short of "up"
# for SECS seconds, and at least one handshake failed. Prints last_error.
not_up() {
	local node=$1 secs=$2 i state fails
	for ((i = 0; i < secs * 5; i++)); do
		state=$(tn_peer "$node" "t['state']")
		[[ $state != up ]] || nm_fail "node $node's tunnel came up: $(nm2_ctl "$node" tunnel list)"
		sleep 0.2
	done
	fails=$(tn_peer "$node" "t['failures']")
	((fails > 0)) || nm_fail "node $node's tunnel: no failure counted after $secs s: $(nm2_ctl "$node" tunnel list)"
	tn_peer "$node" "t['last_error']"
}

# fabric_quiet TAG: ping a1 -> b1 and b1 -> a1 under captures of both
# fabric ends; both fail, a counts drops for a1's pings, and no frame but
# ARP crosses the fabric.
fabric_quiet() {
	local tag=$1 before after c
	tn_cap_start "${NM2_NS[a]}" fab0 "$NM_TMP/${tag// /-}-a.pcap"
	local cap_a=$TN_CAP_PID
	tn_cap_start "${NM2_NS[b]}" fab0 "$NM_TMP/${tag// /-}-b.pcap"
	local cap_b=$TN_CAP_PID
	before=$(($(tn_drop a tunnel_no_key) + $(tn_drop a no_pod)))
	nm_ping_fails "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "$tag: ping a1 -> b1 answered"
	nm_ping_fails "${NM2_POD_NS[b1]}" "${NM2_POD_IP[a1]}" || nm_fail "$tag: ping b1 -> a1 answered"
	after=$(($(tn_drop a tunnel_no_key) + $(tn_drop a no_pod)))
	sleep 0.3
	tn_cap_stop "$cap_a"
	tn_cap_stop "$cap_b"
	((after - before >= 2)) || nm_fail "$tag: a's drops tunnel_no_key + no_pod grew by $((after - before)) for 2 pings"
	for n in a b; do
		flt="not arp and not $(tn_host_v6)"
		c=$(tn_pcap_count "$NM_TMP/${tag// /-}-$n.pcap" "$flt")
		((c == 0)) || nm_fail "$tag: capture on $n's fab0 holds $c frames other than ARP and the hosts' IPv6: \
$(tcpdump -n -r "$NM_TMP/${tag// /-}-$n.pcap" "$flt" 2>/dev/null | head -5)"
	done
	nm_ok "$tag: pings fail both ways; a dropped $((after - before)) (tunnel_no_key $(tn_drop a tunnel_no_key), no_pod $(tn_drop a no_pod)); only ARP on the fabric"
}

# 1. b's certificate from another CA.
nm2_setup
"$NM_SRC/scripts/mkcerts" --other-ca node-b "$NM2_CERTS" "$NM2_TD" node-a node-b >/dev/null
nm2_pod a 1
nm2_pod b 1
nm2_start a
NM2_CERT[b]=$NM2_CERTS/other/node-b.pem
NM2_KEY[b]=$NM2_CERTS/other/node-b.key
nm2_start b
nm2_pod_add a 1
nm2_pod_add b 1
err=$(not_up a 4)
[[ $err == *CA* ]] || nm_fail "other CA: a's last_error does not mention the CA: '$err'"
[[ $(tn_peer b "t['state']") != up ]] || nm_fail "other CA: b's tunnel to a is up"
nm_ok "other CA: a's tunnel to b not up, last_error '$err'"
fabric_quiet "other CA"

# 2. b with a certificate of the cluster CA: the tunnel comes up.
nm2_stop b
NM2_CERT[b]=""
NM2_KEY[b]=""
nm2_start b
nm2_pod_add b 1
nm2_wait_up a b 20 || nm_fail "good certificate: a's tunnel to b not up: $(nm2_ctl a tunnel list)"
nm2_wait_up b a 20 || nm_fail "good certificate: b's tunnel to a not up: $(nm2_ctl b tunnel list)"
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "good certificate: ping a1 -> b1 got no reply"
nm_ok "good certificate: tunnel up, ping a1 -> b1 answered"

# 3. b's certificate revoked; a restarted to load the new CRL. b keeps
#    running with the revoked certificate (and with its old keys).
"$NM_SRC/scripts/mkcerts" --revoke node-b "$NM2_CERTS" "$NM2_TD" node-a node-b >/dev/null
nm2_stop a
nm2_start a
nm2_pod_add a 1
err=$(not_up a 4)
[[ $err == *revoked* ]] || nm_fail "revoked: a's last_error does not say revoked: '$err'"
[[ $(tn_peer b "t['state']") != up ]] || nm_fail "revoked: b's tunnel to a is up"
nm_ok "revoked: a's tunnel to b not up, last_error '$err'"

# a knows no key for b: a1's pings never reach the fabric. b still holds
# the keys of the session before a's restart and seals b1's pings with
# them: they may cross the fabric, sealed, and a must refuse them.
tn_cap_start "${NM2_NS[a]}" fab0 "$NM_TMP/rev-a.pcap"
cap_a=$TN_CAP_PID
tn_cap_start "${NM2_NS[b]}" fab0 "$NM_TMP/rev-b.pcap"
cap_b=$TN_CAP_PID
before=$(($(tn_drop a tunnel_no_key) + $(tn_drop a no_pod)))
rej_before=$(tn_drop a tunnel_record_rejected)
nm_ping_fails "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "revoked: ping a1 -> b1 answered"
nm_ping_fails "${NM2_POD_NS[b1]}" "${NM2_POD_IP[a1]}" || nm_fail "revoked: ping b1 -> a1 answered"
after=$(($(tn_drop a tunnel_no_key) + $(tn_drop a no_pod)))
rej_after=$(tn_drop a tunnel_record_rejected)
sleep 0.3
tn_cap_stop "$cap_a"
tn_cap_stop "$cap_b"
((after - before >= 2)) || nm_fail "revoked: a's drops tunnel_no_key + no_pod grew by $((after - before)) for 2 pings"
flt="not arp and not $(tn_host_v6)"
c=$(tn_pcap_count "$NM_TMP/rev-b.pcap" "$flt")
((c == 0)) || nm_fail "revoked: a sent $c frames other than ARP (and the hosts' IPv6) onto the fabric: \
$(tcpdump -n -r "$NM_TMP/rev-b.pcap" "$flt" 2>/dev/null | head -5)"
flt="not arp and not (udp dst port 4790) and not $(tn_host_v6)"
c=$(tn_pcap_count "$NM_TMP/rev-a.pcap" "$flt")
((c == 0)) || nm_fail "revoked: b sent $c frames that are neither ARP, tunnel datagrams nor the hosts' IPv6: \
$(tcpdump -n -r "$NM_TMP/rev-a.pcap" "$flt" 2>/dev/null | head -5)"
sealed=$(tn_pcap_count "$NM_TMP/rev-a.pcap" 'udp dst port 4790')
((rej_after - rej_before >= sealed)) ||
	nm_fail "revoked: b sent $sealed tunnel datagrams, a rejected only $((rej_after - rej_before))"
why=$(tn_peer a "{r: v for r, v in t['rejected'].items() if v}")
nm_ok "revoked: pings fail both ways; a dropped $((after - before)) of a1's, none reached the fabric; b's $sealed sealed datagrams all refused by a ($why)"

# 4. A new certificate for b (a new serial, not in the CRL): up again.
nm2_stop b
rm -f "$NM2_CERTS/node-b.pem" "$NM2_CERTS/node-b.key"
"$NM_SRC/scripts/mkcerts" "$NM2_CERTS" "$NM2_TD" node-a node-b >/dev/null
nm2_start b
nm2_pod_add b 1
nm2_wait_up a b 20 || nm_fail "new certificate: a's tunnel to b not up: $(nm2_ctl a tunnel list)"
nm2_wait_up b a 20 || nm_fail "new certificate: b's tunnel to a not up: $(nm2_ctl b tunnel list)"
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "new certificate: ping a1 -> b1 got no reply"
nm_ping_ok "${NM2_POD_NS[b1]}" "${NM2_POD_IP[a1]}" || nm_fail "new certificate: ping b1 -> a1 got no reply"
nm_ok "new certificate for b: tunnel up, pings answered both ways"
echo "tunnel_auth: PASS"
