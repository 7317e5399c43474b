# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# What nodemesh's tunnel is measured against, on twonode.sh's topology: the
# same two node namespaces, fabric veth pair and pods, with something other
# than nodemeshd carrying the pods' traffic between the nodes. Source
# scripts/lib/netns.sh, then scripts/lib/twonode.sh, then this file; call
# nm2_setup and nm2_pod first. Only one mode at a time, and no nodemeshd
# while one is up: they all use fab0 and the pods' host veths.
#
#   bl_kernel_up / _down   (a) plain kernel routing, no encryption: the
#                          fabric IPs become kernel addresses on fab0, each
#                          node routes its pods' /32s to their host veths,
#                          answers for the pods' gateway 169.254.1.1 and
#                          routes the peer's pod CIDR via the peer's fabric IP.
#   bl_wg_up / _down       (b) WireGuard between the two nodes over fab0 (on
#                          top of bl_kernel_up, which must be up): the
#                          kernel's where `ip link add type wireguard` works,
#                          else wireguard-go; the peer's pod CIDR is routed
#                          into the tunnel. BL_WG_IMPL says which ran.
#   bl_sidecar_up CLIENT SERVER PORT... / bl_sidecar_down
#                          (c) a sidecar pair per pod pair (on top of
#                          bl_kernel_up): an haproxy in pod CLIENT (say a1)
#                          listens on 127.0.0.1:PORT, plain TCP, and opens
#                          mutual TLS 1.3 to an haproxy in pod SERVER (b1)
#                          on BL_SIDECAR_TLS_BASE + i, which checks the
#                          client's certificate and forwards plain TCP to
#                          127.0.0.1:PORT in SERVER. Certificates: node-a's
#                          and node-b's from twonode.sh's mkcerts run.
#   bl_proc_ticks PID...   utime + stime of the processes, clock ticks
#   bl_stat_ticks          machine-wide /proc/stat ticks: "busy sys_irq"
#                          (busy = all but idle and iowait; sys_irq = system
#                          + irq + softirq)
#
# Process ids of what a mode started are in BL_PIDS (and in NM_BG_PIDS, so
# nm_cleanup stops them whatever happens); logs go to $NM_TMP. bl_cleanup
# is for the EXIT trap. Safe under `set -e`: what may fail on the way down
# (deleting what is already gone) is allowed to.

BL_PIDS=()
BL_WG_IMPL=""
BL_WG_PORT=${BL_WG_PORT:-51820}
BL_SIDECAR_TLS_BASE=${BL_SIDECAR_TLS_BASE:-15000}
# TLS 1.3 suite of the sidecars: nodemesh's default cipher, for a like
# comparison (OpenSSL would otherwise pick TLS_AES_256_GCM_SHA384).
BL_SIDECAR_SUITE=${BL_SIDECAR_SUITE:-TLS_AES_128_GCM_SHA256}

# Pods (keys of NM2_POD_NS, as "a1") that live on NODE.
bl_pods_of() {
	local node=$1 k
	for k in "${!NM2_POD_NS[@]}"; do
		if [[ ${k:0:1} == "$node" ]]; then
			printf '%s\n' "$k"
		fi
	done
}

bl_kernel_up() {
	local n other k
	for n in a b; do
		other=$(nm2_other "$n")
		ip -n "${NM2_NS[$n]}" addr add "${NM2_FABIP[$n]}/24" dev fab0
		ip netns exec "${NM2_NS[$n]}" sysctl -qw net.ipv4.ip_forward=1
		# The pods' gateway is a local address of the node: the kernel
		# answers ARP for it on every host veth (Calico does the same
		# with proxy ARP).
		ip -n "${NM2_NS[$n]}" addr add 169.254.1.1/32 dev lo
		for k in $(bl_pods_of "$n"); do
			ip -n "${NM2_NS[$n]}" route add "${NM2_POD_IP[$k]}/32" dev "${NM2_POD_IF[$k]}"
		done
		ip -n "${NM2_NS[$n]}" route add "${NM2_CIDR[$other]}" via "${NM2_FABIP[$other]}" dev fab0
	done
}

# Undo bl_kernel_up, and forget the neighbours the pods learnt, so that the
# next mode (nodemeshd answers for the gateway itself) starts clean.
bl_kernel_down() {
	local n k ns
	for n in a b; do
		ns=${NM2_NS[$n]}
		ip -n "$ns" route del "${NM2_CIDR[$(nm2_other "$n")]}" 2>/dev/null || true
		for k in $(bl_pods_of "$n"); do
			ip -n "$ns" route del "${NM2_POD_IP[$k]}/32" 2>/dev/null || true
			ip -n "${NM2_POD_NS[$k]}" neigh flush all 2>/dev/null || true
		done
		ip -n "$ns" addr del 169.254.1.1/32 dev lo 2>/dev/null || true
		ip -n "$ns" addr flush dev fab0 2>/dev/null || true
		ip -n "$ns" neigh flush all 2>/dev/null || true
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0 2>/dev/null || true
	done
}

# Start CMD in NS in the background (log in $NM_TMP/LOGNAME); its pid goes
# to BL_PIDS and NM_BG_PIDS, and to BL_LAST.
bl_bg() {
	local ns=$1 logname=$2
	shift 2
	ip netns exec "$ns" "$@" >"$NM_TMP/$logname" 2>&1 </dev/null &
	BL_LAST=$!
	BL_PIDS+=("$BL_LAST")
	NM_BG_PIDS+=("$BL_LAST")
}

# Stop what the current mode started: SIGTERM, then SIGKILL after 5 s.
bl_stop_all() {
	local pid i
	for pid in "${BL_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BL_PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	BL_PIDS=()
}

# WireGuard interface names: the UAPI sockets of wireguard-go live in one
# directory (/var/run/wireguard) for every namespace, so the names differ
# per node and per run.
bl_wg_ifname() { printf 'wg%s%s' "$1" "$NM_SFX" | cut -c1-15; }

bl_wg_up() {
	local n other ifn i
	command -v wg >/dev/null || nm_fail "bl_wg_up: wg missing (apt-get install wireguard-tools)"
	for n in a b; do
		(umask 077 && wg genkey >"$NM_TMP/wg-$n.key")
		wg pubkey <"$NM_TMP/wg-$n.key" >"$NM_TMP/wg-$n.pub"
	done
	BL_WG_IMPL=wireguard-go
	if ip -n "${NM2_NS[a]}" link add "$(bl_wg_ifname a)" type wireguard 2>/dev/null; then
		BL_WG_IMPL=kernel
		ip -n "${NM2_NS[b]}" link add "$(bl_wg_ifname b)" type wireguard ||
			nm_fail "bl_wg_up: kernel wireguard worked in node a, not in node b"
	else
		command -v wireguard-go >/dev/null ||
			nm_fail "bl_wg_up: no kernel WireGuard and no wireguard-go (apt-get install wireguard-go)"
	fi
	for n in a b; do
		other=$(nm2_other "$n")
		ifn=$(bl_wg_ifname "$n")
		if [[ $BL_WG_IMPL == wireguard-go ]]; then
			bl_bg "${NM2_NS[$n]}" "wireguard-go-$n.log" env WG_PROCESS_FOREGROUND=1 \
				LOG_LEVEL=error wireguard-go -f "$ifn"
			for ((i = 0; i < 50; i++)); do
				ip -n "${NM2_NS[$n]}" link show "$ifn" >/dev/null 2>&1 &&
					[[ -S /var/run/wireguard/$ifn.sock ]] && break
				sleep 0.1
			done
			[[ -S /var/run/wireguard/$ifn.sock ]] || {
				cat "$NM_TMP/wireguard-go-$n.log" >&2
				nm_fail "wireguard-go $ifn in ${NM2_NS[$n]} did not come up"
			}
		fi
		ip netns exec "${NM2_NS[$n]}" wg set "$ifn" listen-port "$BL_WG_PORT" \
			private-key "$NM_TMP/wg-$n.key" peer "$(cat "$NM_TMP/wg-$other.pub")" \
			endpoint "${NM2_FABIP[$other]}:$BL_WG_PORT" allowed-ips "${NM2_CIDR[$other]}"
		ip -n "${NM2_NS[$n]}" link set "$ifn" up
		ip -n "${NM2_NS[$n]}" route replace "${NM2_CIDR[$other]}" dev "$ifn"
	done
}

# Back to bl_kernel_up's state (routes via fab0).
bl_wg_down() {
	local n
	for n in a b; do
		ip -n "${NM2_NS[$n]}" link del "$(bl_wg_ifname "$n")" 2>/dev/null || true
	done
	bl_stop_all
	for n in a b; do
		ip -n "${NM2_NS[$n]}" route replace "${NM2_CIDR[$(nm2_other "$n")]}" \
			via "${NM2_FABIP[$(nm2_other "$n")]}" dev fab0 2>/dev/null || true
	done
}

# Certificate and key of NODE in one PEM file, as haproxy's `crt` wants it.
bl_sidecar_pem() {
	local node=$1 f=$NM_TMP/sidecar-$1.pem
	(umask 077 && cat "$NM2_CERTS/node-$node.pem" "$NM2_CERTS/node-$node.key" >"$f")
	printf '%s\n' "$f"
}

# haproxy's global and defaults sections: one thread (a sidecar is given a
# slice of a core, not the node), TLS 1.3 only, no logging.
bl_sidecar_head() {
	cat <<EOF
global
  nbthread 1
  maxconn 4096
  ssl-default-bind-options ssl-min-ver TLSv1.3
  ssl-default-bind-ciphersuites $BL_SIDECAR_SUITE
  ssl-default-server-options ssl-min-ver TLSv1.3
  ssl-default-server-ciphersuites $BL_SIDECAR_SUITE
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
EOF
}

# bl_sidecar_up CLIENT SERVER PORT...: see the top of the file.
bl_sidecar_up() {
	local client=$1 server=$2 i=0 port tls cfg_c=$NM_TMP/sidecar-$1.cfg
	local cfg_s=$NM_TMP/sidecar-$2.cfg cnode=${1:0:1} snode=${2:0:1} pem_c pem_s
	shift 2
	command -v haproxy >/dev/null || nm_fail "bl_sidecar_up: haproxy missing (apt-get install haproxy)"
	pem_c=$(bl_sidecar_pem "$cnode")
	pem_s=$(bl_sidecar_pem "$snode")
	bl_sidecar_head >"$cfg_c"
	bl_sidecar_head >"$cfg_s"
	for port in "$@"; do
		i=$((i + 1))
		tls=$((BL_SIDECAR_TLS_BASE + i))
		cat >>"$cfg_c" <<EOF
listen out_$port
  bind 127.0.0.1:$port
  server $server ${NM2_POD_IP[$server]}:$tls ssl crt $pem_c ca-file $NM2_CERTS/ca.pem verify required verifyhost node-$snode
EOF
		# The server sidecar accepts only the client node's certificate
		# (chain, CRL, and then its name), like nodemesh's peer check.
		cat >>"$cfg_s" <<EOF
listen in_$port
  bind ${NM2_POD_IP[$server]}:$tls ssl crt $pem_s ca-file $NM2_CERTS/ca.pem crl-file $NM2_CERTS/crl.pem verify required
  tcp-request content reject unless { ssl_c_s_dn(CN) -m str node-$cnode }
  server local 127.0.0.1:$port
EOF
	done
	for cfg in "$cfg_c" "$cfg_s"; do
		haproxy -c -q -f "$cfg" >"$cfg.check" 2>&1 || {
			cat "$cfg.check" >&2
			nm_fail "haproxy rejects $cfg"
		}
	done
	bl_bg "${NM2_POD_NS[$server]}" "haproxy-$server.log" haproxy -db -f "$cfg_s"
	bl_bg "${NM2_POD_NS[$client]}" "haproxy-$client.log" haproxy -db -f "$cfg_c"
	nm_wait_listen "${NM2_POD_NS[$server]}" tcp $((BL_SIDECAR_TLS_BASE + 1)) ||
		nm_fail "server sidecar not listening (log $NM_TMP/haproxy-$server.log)"
	nm_wait_listen "${NM2_POD_NS[$client]}" tcp "$1" ||
		nm_fail "client sidecar not listening (log $NM_TMP/haproxy-$client.log)"
}

bl_sidecar_down() { bl_stop_all; }

# Sum of utime + stime (clock ticks) of the PIDs; a field of /proc/PID/stat
# counts from after the ")" that ends the command name, which may hold spaces.
bl_proc_ticks() {
	local pid sum=0 rest
	local -a f
	for pid in "$@"; do
		rest=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		read -r -a f <<<"${rest##*) }"
		sum=$((sum + f[11] + f[12]))
	done
	printf '%s\n' "$sum"
}

# bl_proc_ticks_split PID...: "utime stime" summed over the processes, in
# clock ticks: what the carrying processes spent in their own code and in
# the kernel on their behalf (system calls: for nodemeshd, the sendto()
# kicks that copy af_packet frames out, and the idle waits).
bl_proc_ticks_split() {
	local pid u=0 s=0 rest
	local -a f
	for pid in "$@"; do
		rest=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		read -r -a f <<<"${rest##*) }"
		u=$((u + f[11]))
		s=$((s + f[12]))
	done
	printf '%s %s\n' "$u" "$s"
}

# bl_softirq_ticks: the machine's softirq ticks (/proc/stat), where the
# kernel moves frames between veths and into packet sockets.
bl_softirq_ticks() {
	awk '$1 == "cpu" { print $8; exit }' /proc/stat
}

bl_stat_ticks() {
	# user nice system idle iowait irq softirq steal (guest is inside user)
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $4 + $7 + $8; exit }' /proc/stat
}

# Everything this file started, and the UAPI sockets wireguard-go leaves
# behind when it is killed. For an EXIT trap, before nm2_cleanup/nm_cleanup.
bl_cleanup() {
	local n
	bl_stop_all
	for n in a b; do
		rm -f "/var/run/wireguard/$(bl_wg_ifname "$n").sock"
	done
}
