#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Peers and certificates at run time, with a1 pinging b1 all along:
#   - tunnel.handshake_s = 10: the dialler starts a new TLS session on its
#     own, and the pings do not notice;
#   - `cert reload` starts new sessions (pings go on), and a reload of a
#     broken certificate file is refused with the reason while the old
#     one stays in use;
#   - `peer del` forgets node b: its pods leave `pod list remote` and a1's
#     pings fail as no_pod; `peer add` with the same values brings the
#     tunnel and the pings back; bad `peer add`s are refused with reasons.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

nm2_setup
nm2_pod a 1
nm2_pod b 1
nm2_start a "handshake_s = 10;"
nm2_start b "handshake_s = 10;"
nm2_pod_add a 1
nm2_pod_add b 1
nm2_wait_up a b 20 || nm_fail "tunnel a -> b not up: $(nm2_ctl a peer list 2>&1)"
nm2_wait_up b a 20 || nm_fail "tunnel b -> a not up: $(nm2_ctl b peer list 2>&1)"
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 got no reply"

ping_log=$NM_TMP/ping.log
tn_ping_start "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" "$ping_log"

# sent_lost: "sent lost" of the background ping so far (from its reply sequence numbers).
sent_lost() {
	"$NM_PY" - "$ping_log" <<'EOF'
import re, sys
seqs = [int(m.group(1)) for m in re.finditer(r"icmp_seq=(\d+) ttl", open(sys.argv[1]).read())]
print(max(seqs), max(seqs) - len(set(seqs))) if seqs else print(0, 0)
EOF
}

# 1. A new TLS session every 10 s, on its own.
s0=$(tn_peer a "t['sessions']")
sleep 13
s1=$(tn_peer a "t['sessions']")
((s1 > s0)) || nm_fail "no new TLS session after 13 s with handshake_s = 10 (sessions $s0 -> $s1)"
read -r sent lost <<<"$(sent_lost)"
((lost <= 1)) || nm_fail "the pings lost $lost of $sent across the new session"
nm2_wait_up a b 10 || nm_fail "tunnel not up after the new session"
nm_ok "handshake_s: sessions $s0 -> $s1 on their own; pings: $lost of $sent lost"

# 2. cert reload: new sessions, nothing lost.
s0=$(tn_peer a "t['sessions']")
nm2_ctl a cert reload >/dev/null || nm_fail "cert reload refused"
for ((i = 0; i < 50; i++)); do
	s1=$(tn_peer a "t['sessions']")
	((s1 > s0)) && break
	sleep 0.2
done
((s1 > s0)) || nm_fail "cert reload started no new session (sessions $s0 -> $s1)"
nm2_wait_up a b 10 || nm_fail "tunnel not up after cert reload"
# A broken certificate file: refused with the reason, the old certificate stays.
cert=$NM2_CERTS/node-a.pem
cp "$cert" "$NM_TMP/node-a.pem.good"
echo "not a certificate" >"$cert"
if out=$(nm2_ctl a cert reload 2>&1); then
	cp "$NM_TMP/node-a.pem.good" "$cert"
	nm_fail "cert reload of a broken certificate was accepted: $out"
fi
cp "$NM_TMP/node-a.pem.good" "$cert"
grep -q "unchanged" <<<"$out" || nm_fail "cert reload refusal does not say the old one stays: $out"
[[ $(tn_peer a "t['state']") == up ]] || nm_fail "tunnel not up after a refused cert reload"
read -r sent lost <<<"$(sent_lost)"
((lost <= 2)) || nm_fail "the pings lost $lost of $sent across cert reload"
nm_ok "cert reload: sessions $s0 -> $s1; broken file refused ($out); pings: $lost of $sent lost"

# 3. peer del, then peer add.
nm2_ctl a peer del name=node-b >/dev/null || nm_fail "peer del refused"
n=$(nm2_ctl a --json pod list remote | nm_json "len(j['remote_pods'])")
((n == 0)) || nm_fail "node b's pods still in a's remote pods after peer del: $n"
np0=$(tn_drop a no_pod)
nm_ping_fails "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "a1 -> b1 answered after peer del"
np1=$(tn_drop a no_pod)
((np1 > np0)) || nm_fail "pings to a forgotten node's pod not counted as no_pod ($np0 -> $np1)"
nm_ok "peer del: node b forgotten, its pod unknown (no_pod $np0 -> $np1)"

args=(name=node-b "address=${NM2_MGMT[b]}:7400" "fabric_ip=${NM2_FABIP[b]}" "pod_cidr=${NM2_CIDR[b]}")
bad() {
	local want=$1 out
	shift
	if out=$(nm2_ctl a peer add "$@" 2>&1); then
		nm_fail "peer add $* accepted"
	fi
	grep -q "$want" <<<"$out" || nm_fail "peer add $*: '$out' does not say '$want'"
}
bad "is this node" name=node-a "address=${NM2_MGMT[b]}:7400" fabric_ip=198.19.0.9 pod_cidr=198.18.9.0/24
bad "collides with this node" name=node-c "address=${NM2_MGMT[b]}:7400" fabric_ip=198.19.0.9 \
	pod_cidr=198.18.1.128/25
bad "is not IPV4:PORT" name=node-c address=nowhere fabric_ip=198.19.0.9 pod_cidr=198.18.9.0/24
bad "missing 'pod_cidr'" name=node-c "address=${NM2_MGMT[b]}:7400" fabric_ip=198.19.0.9
nm2_ctl a peer add "${args[@]}" >/dev/null || nm_fail "peer add ${args[*]} refused"
bad "exists already" "${args[@]}"
nm2_wait_up a b 20 || nm_fail "tunnel a -> b not up after peer add: $(nm2_ctl a peer list 2>&1)"
nm2_wait_up b a 20 || nm_fail "tunnel b -> a not up after peer add: $(nm2_ctl b peer list 2>&1)"
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "a1 -> b1 not answered after peer add"
nm_ok "peer add: tunnel back up, b's pod announced again, pings answered; bad adds refused"
echo "tunnel_peers: PASS"
