# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# One real nodemeshd and the peer simulator (tests/sim/nm-peersim) beside
# it, for tests/integration/peersim*.sh and `scripts/bench peers`. Source
# scripts/lib/netns.sh first, then this file.
#
#   node namespace (nmnode$SFX)                simulator namespace (nmsim$SFX)
#     nodemeshd "zz-node", pod 1 198.18.0.1      nm-peersim: sim-001, sim-002, ...
#     fab0 ─────────────── fabric veth ─────────── fab0 (raw frames: sealed records)
#     mgmt 198.19.4.1/22 ─ management veth ─────── mgmt 198.19.4.10, .11, ... (one each)
#
# Peer i (1-based) dials from 198.19.4.(9+i) onwards (a /22: up to 1,007
# peers), has fabric address 198.19.0.(9+i) onwards (only in nodemesh's
# packets) and pod CIDR the i-th /PS_POD_PREFIX from 198.18.4.0 (26 unless
# set: sim-001 198.18.4.0/26, sim-002 198.18.4.64/26, ...: at most 62 pods
# each; 25 gives 126 pods each, 1,000 peers' /25s end at 198.19.248.0). Pod
# addresses exist only inside nodemesh's packets. The daemon's name sorts
# after every sim-NNN, so the peers dial it.
#
#   ps_setup PEERS      namespaces, links, PEERS addresses and certificates,
#                       the daemon (policy default NM_POLICY_DEFAULT) with a
#                       tunnel, pod 1 added. PS_TUNNEL_EXTRA is appended to
#                       the daemon's tunnel group (handshake_rate = 50; ...)
#   ps_sim ARGS...      nm-peersim in the simulator namespace with the
#                       arguments that name this topology, then ARGS
#   ps_field LINE KEY   KEY's value in a "RESULT key=value ..." line
#   ps_pod_ip I J       the address of pod J of peer I
#   ps_daemon_restart   stop the daemon and start it again on the same config
#                       (give NM_STATE_FILE for the peers to come back)

PS_SIM=${PS_SIM:-$NM_BUILD/tests/sim/nm-peersim}
PS_TD=nodemesh.test
PS_NS=""
PS_CERTS=""
PS_FAB_MAC=""
PS_MAX=1007
PS_POD_PREFIX=${PS_POD_PREFIX:-26}

# Address BASE (dotted quad) plus N.
ps_ip_add() {
	local a b c d n
	IFS=. read -r a b c d <<<"$1"
	n=$(((a << 24 | b << 16 | c << 8 | d) + $2))
	printf '%d.%d.%d.%d' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255))
}

ps_pod_ip() { ps_ip_add 198.18.4.0 $((($1 - 1) * (1 << (32 - PS_POD_PREFIX)) + $2)); }

# The simulator's addresses, one batch for ip(8): a thousand calls take seconds.
ps_mgmt_addrs() {
	local peers=$1 i
	for ((i = 1; i <= peers; i++)); do
		printf 'addr add %s/22 dev mgmt\n' "$(ps_ip_add 198.19.4.9 "$i")"
	done
}

ps_setup() {
	local peers=$1 i names=()
	((peers >= 1 && peers <= PS_MAX)) || nm_fail "ps_setup: 1 to $PS_MAX peers, not $peers"
	[[ -x $PS_SIM ]] || nm_fail "no $PS_SIM (build first)"
	export NM_NODE_NAME=zz-node
	nm_pods_setup 1
	PS_NS="nmsim$NM_SFX"
	nm_ns_add "$PS_NS"
	ip -n "$NM_NODE_NS" link add fab0 type veth peer name fab0 netns "$PS_NS"
	ip -n "$NM_NODE_NS" link add mgmt type veth peer name mgmt netns "$PS_NS"
	ip -n "$NM_NODE_NS" addr add 198.19.4.1/22 dev mgmt
	for i in fab0 mgmt; do
		ip -n "$NM_NODE_NS" link set "$i" up
		ip -n "$PS_NS" link set "$i" up
	done
	ps_mgmt_addrs "$peers" | ip -n "$PS_NS" -batch -
	for ((i = 1; i <= peers; i++)); do
		names+=("$(printf 'sim-%03d' "$i")")
	done
	nm_tmp_init
	PS_CERTS=$NM_TMP/certs
	"$NM_SRC/scripts/mkcerts" "$PS_CERTS" "$PS_TD" "$NM_NODE_NAME" "${names[@]}" >/dev/null
	export NM_CONFIG_EXTRA="tunnel: {
  fabric_iface = \"fab0\"; fabric_ip = \"198.19.0.1\"; pod_cidr = \"198.18.0.0/24\";
  listen = \"198.19.4.1:7400\"; trust_domain = \"$PS_TD\";
  cert = \"$PS_CERTS/$NM_NODE_NAME.pem\"; key = \"$PS_CERTS/$NM_NODE_NAME.key\";
  ca = \"$PS_CERTS/ca.pem\"; crl = \"$PS_CERTS/crl.pem\"; cipher = \"aes-128-gcm\";
  ${PS_TUNNEL_EXTRA:-}
};"
	nm_daemon_start
	nm_pod_add 1
	PS_FAB_MAC=$(ip -n "$NM_NODE_NS" -br link show fab0 | awk '{print $3}')
}

ps_daemon_restart() {
	nm_stop_daemon || nm_fail "nodemeshd did not stop cleanly for the restart"
	nm_daemon_start
}

ps_sim() {
	nm_in "$PS_NS" "$PS_SIM" --certs "$PS_CERTS" --trust-domain "$PS_TD" \
		--daemon "$NM_NODE_NAME" --server 198.19.4.1:7400 --ctl "$NM_SOCK" \
		--mgmt-base 198.19.4.10 --fabric-base 198.19.0.10 --pod-base 198.18.4.0 \
		--pod-prefix "$PS_POD_PREFIX" --fabric-iface fab0 --fabric-mac "$PS_FAB_MAC" \
		--fabric-dst 198.19.0.1 "$@"
}

ps_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
