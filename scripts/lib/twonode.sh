# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Two nodes on one machine, for the tunnel tests, the demo and the
# benchmarks: source scripts/lib/netns.sh first, then this file.
#
#   node a (namespace nma$SFX)                 node b (namespace nmb$SFX)
#     nodemeshd, pods 198.18.1.0/24              nodemeshd, pods 198.18.2.0/24
#     fab0 ─────────── fabric veth ──────────── fab0     (DPDK af_packet, no kernel IP)
#     mgmt 198.19.1.1 ─ management veth ─ mgmt 198.19.1.2 (kernel TCP: the TLS control link)
#
# Fabric addresses 198.19.0.1 and .2 exist only in nodemesh's packets.
# Certificates come from scripts/mkcerts (trust domain nodemesh.test).
#
#   nm2_setup                      namespaces, links, certificates
#   nm2_pod NODE N                 pod N on NODE (a|b): namespace, veth
#   nm2_start NODE [EXTRA_CONFIG]  write NODE's config and start its daemon
#   nm2_pod_add NODE N             `pod add` pod N to NODE's daemon
#   nm2_ctl NODE ARGS...           nodemeshctl against NODE's daemon
#   nm2_stop NODE                  stop NODE's daemon (SIGTERM)
#   nm2_wait_up NODE PEER [SECS]   until NODE's tunnel to PEER is up
#
# NM2_CONFIG_EXTRA, if set, is appended to both nodes' configs at the top
# level (after peers), e.g. 'signatures: { file = "/path/rules"; };'.
# NM2_LCORES[NODE] sets NODE's eal.lcores (default "0-1": main lcore on CPU
# 0, worker on CPU 1, for both nodes); "0@1,1@0" puts the worker on CPU 0.
# NM2_WORKERS=2 gives each node two workers instead (nm2_lcores below).
# NM2_AFP_RX_BLOCKS sets dataplane.af_packet.rx_blocks (the pods' RX rings).
# NM2_IDLE_MODE sets dataplane.idle.mode (poll, sleep or wake; unset: the default),
# NM2_IDLE_LINGER_US dataplane.idle.linger_us.
#
# Pod N of node a is 198.18.1.N, of node b 198.18.2.N; namespaces nm2pa$N$SFX.

NM2_TD=nodemesh.test
declare -A NM2_NS NM2_SOCK NM2_PID NM2_LOG NM2_PREFIX NM2_FABIP NM2_MGMT NM2_CIDR NM2_NET
declare -A NM2_POD_NS NM2_POD_IP NM2_LCORES
NM2_NS[a]="nma$NM_SFX"
NM2_NS[b]="nmb$NM_SFX"
NM2_FABIP[a]=198.19.0.1
NM2_FABIP[b]=198.19.0.2
NM2_MGMT[a]=198.19.1.1
NM2_MGMT[b]=198.19.1.2
NM2_CIDR[a]=198.18.1.0/24
NM2_CIDR[b]=198.18.2.0/24
NM2_NET[a]=198.18.1
NM2_NET[b]=198.18.2
NM2_CERTS=""

nm2_other() { [[ $1 == a ]] && echo b || echo a; }

nm2_setup() {
	nm_tmp_init
	nm_ns_add "${NM2_NS[a]}"
	nm_ns_add "${NM2_NS[b]}"
	ip -n "${NM2_NS[a]}" link add fab0 type veth peer name fab0 netns "${NM2_NS[b]}"
	ip -n "${NM2_NS[a]}" link add mgmt type veth peer name mgmt netns "${NM2_NS[b]}"
	local n
	for n in a b; do
		nm_ipv6_off "${NM2_NS[$n]}" fab0
		ip -n "${NM2_NS[$n]}" link set fab0 up
		ip -n "${NM2_NS[$n]}" addr add "${NM2_MGMT[$n]}/30" dev mgmt
		ip -n "${NM2_NS[$n]}" link set mgmt up
	done
	NM2_CERTS=$NM_TMP/certs
	"$NM_SRC/scripts/mkcerts" "$NM2_CERTS" "$NM2_TD" node-a node-b >/dev/null
}

# nm2_pod NODE N [HOSTIF]
nm2_pod() {
	local node=$1 n=$2 hostif=${3:-"nm2$1$2x$NM_SFX"}
	hostif=${hostif:0:15}
	NM2_POD_NS[$node$n]="nm2p$node$n$NM_SFX"
	NM2_POD_IP[$node$n]="${NM2_NET[$node]}.$n"
	NM2_POD_IF[$node$n]=$hostif
	nm_pod_create "${NM2_NS[$node]}" "${NM2_POD_NS[$node$n]}" "$hostif" "${NM2_POD_IP[$node$n]}"
}
declare -A NM2_POD_IF

# A node's eal.lcores unless NM2_LCORES[NODE] says: one worker (main lcore
# on CPU 0, worker on CPU 1), or with NM2_WORKERS=2 two, node a's first
# worker on CPU 1 and node b's on CPU 0, so that each CPU has one of each.
nm2_lcores() {
	if [[ ${NM2_WORKERS:-1} == 2 ]]; then
		[[ $1 == a ]] && echo "0@0,1@1,2@0" || echo "0@1,1@0,2@1"
	else
		echo "0-1"
	fi
}

# nm2_config NODE FILE [EXTRA]: EXTRA is appended inside the tunnel group.
nm2_config() {
	local node=$1 file=$2 extra=${3:-} other
	other=$(nm2_other "$node")
	cat >"$file" <<EOF
node: { name = "node-$node"; };
eal: {
  lcores = "${NM2_LCORES[$node]:-$(nm2_lcores "$node")}";
  file_prefix = "${NM2_PREFIX[$node]}";
  args = ["--no-huge", "-m", "512", "--no-pci", "--log-level=lib.eal:warning"];
};
control: { socket = "${NM2_SOCK[$node]}"; group = "root"; };
dataplane: { idle: { ${NM2_IDLE_MODE:+mode = \"$NM2_IDLE_MODE\"; }${NM2_IDLE_LINGER_US:+linger_us = $NM2_IDLE_LINGER_US; }pause_after = 16; sleep_after = 256; sleep_us = 50; };
             ${NM2_AFP_RX_BLOCKS:+af_packet: { rx_blocks = $NM2_AFP_RX_BLOCKS; \};} };
policy: { default = "${NM_POLICY_DEFAULT:-allow}"; };
conntrack: { timeouts: { tcp_closed = ${NM_TCP_CLOSED_TIMEOUT:-5}; }; };
logs: { flows = "$NM_TMP/flows-$node.jsonl"; alerts = "$NM_TMP/alerts-$node.jsonl";
        store_dir = "$NM_TMP/store-$node"; };
tunnel: {
  fabric_iface = "fab0";
  fabric_ip = "${NM2_FABIP[$node]}";
  fabric_mtu = ${NM2_FABRIC_MTU:-1500};
  pod_cidr = "${NM2_CIDR[$node]}";
  listen = "${NM2_MGMT[$node]}:7400";
  trust_domain = "$NM2_TD";
  cert = "${NM2_CERT[$node]:-$NM2_CERTS/node-$node.pem}";
  key = "${NM2_KEY[$node]:-$NM2_CERTS/node-$node.key}";
  ca = "$NM2_CERTS/ca.pem";
  crl = "$NM2_CERTS/crl.pem";
  cipher = "${NM2_CIPHER:-aes-128-gcm}";
  rekey_s = ${NM2_REKEY_S:-300};
  $extra
};
peers = ( { name = "node-$other"; address = "${NM2_MGMT[$other]}:7400";
            fabric_ip = "${NM2_FABIP[$other]}"; pod_cidr = "${NM2_CIDR[$other]}"; } );
${NM2_CONFIG_EXTRA:-}
EOF
}
declare -A NM2_CERT NM2_KEY

nm2_start() {
	local node=$1 extra=${2:-} conf i
	NM2_SOCK[$node]=$NM_TMP/ctl-$node.sock
	NM2_LOG[$node]=$NM_TMP/nodemeshd-$node.log
	NM2_PREFIX[$node]="nm$node$NM_SFX"
	conf=$NM_TMP/node-$node.conf
	nm2_config "$node" "$conf" "$extra"
	ip netns exec "${NM2_NS[$node]}" "$NM_DAEMON" -c "$conf" \
		>>"${NM2_LOG[$node]}" 2>&1 </dev/null &
	NM2_PID[$node]=$!
	NM_BG_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		nm2_ctl "$node" version >/dev/null 2>&1 && return 0
		kill -0 "${NM2_PID[$node]}" 2>/dev/null || {
			tail -5 "${NM2_LOG[$node]}" >&2
			nm_fail "nodemeshd of node $node exited before it was ready"
		}
		sleep 0.2
	done
	nm_fail "nodemeshd of node $node not ready after 20 s"
}

nm2_ctl() {
	local node=$1
	shift
	"$NM_CTL_BIN" -s "${NM2_SOCK[$node]}" "$@"
}

nm2_pod_add() {
	local node=$1 n=$2
	nm2_ctl "$node" pod add "name=pod-$node$n" namespace=test "serviceaccount=sa-$node$n" \
		"ip=${NM2_POD_IP[$node$n]}" "iface=${NM2_POD_IF[$node$n]}" "labels=app=$node$n" \
		"image=example/$node$n:1" >/dev/null
}

nm2_stop() {
	local node=$1 pid=${NM2_PID[$1]:-} i
	[[ -n $pid ]] || return 0
	# Every step may fail (the daemon gone already, a non-zero exit
	# status): under `set -e` in a caller that must not end the caller,
	# or the EXIT trap would stop before the other daemon and the
	# namespaces are gone.
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "/var/run/dpdk/${NM2_PREFIX[$node]}"
	NM2_PID[$node]=""
}

# nm2_wait_up NODE PEER [SECS]: the tunnel NODE -> PEER has keys both ways
# (state "up" on NODE) within SECS (default 20).
nm2_wait_up() {
	local node=$1 peer=$2 secs=${3:-20} i state
	for ((i = 0; i < secs * 5; i++)); do
		state=$(nm2_ctl "$node" --json tunnel list 2>/dev/null | nm_json \
			"[t['state'] for t in j['tunnels'] if t['name'] == 'node-$peer'][0]" 2>/dev/null)
		[[ $state == up ]] && return 0
		sleep 0.2
	done
	return 1
}

# Stop both daemons before netns.sh's cleanup deletes the namespaces.
nm2_cleanup() {
	nm2_stop a
	nm2_stop b
	for n in a b; do rm -rf "/var/run/dpdk/${NM2_PREFIX[$n]:-none}"; done
}

# nm2_takeover NODE: `nodemeshd --takeover` with NODE's config, in its
# namespace; returns once the new daemon is ready and the old one has
# exited with status 0 (NM2_PID[NODE] is then the new one). Its log goes
# on in NM2_LOG[NODE]; "forwarding N ms after asking" is in it. Needs
# scripts/lib/takeover.sh sourced.
nm2_takeover() {
	local node=$1 old=${NM2_PID[$1]} log
	NM2_TAKEOVERS=$((${NM2_TAKEOVERS:-0} + 1))
	log=$NM_TMP/nodemeshd-$node.to$NM2_TAKEOVERS.log
	ip netns exec "${NM2_NS[$node]}" "$NM_DAEMON" -c "$NM_TMP/node-$node.conf" --takeover \
		>"$log" 2>&1 </dev/null &
	NM2_PID[$node]=$!
	NM_BG_PIDS+=("$!")
	nm_takeover_await "takeover of node $node" "${NM2_PID[$node]}" "$log" "$old" "${NM2_LOG[$node]}"
	# The old daemon's DPDK files; the new one's prefix has -to<pid> appended.
	rm -rf "/var/run/dpdk/${NM2_PREFIX[$node]}"
	NM2_PREFIX[$node]="${NM2_PREFIX[$node]%-to*}-to${NM2_PID[$node]}"
	NM2_LOG[$node]=$log
}
