# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers shared by the two-node tunnel tests (tunnel*.sh). Not a test
# itself. Sourcing it sources scripts/lib/netns.sh and scripts/lib/twonode.sh
# too, at the top level (twonode.sh's `declare -A` must not run inside a
# function, where it would declare locals), so a test opens with
#
#   set -euo pipefail
#   . "$(dirname "$0")/tunnel_common.sh"
#   tn_init
#
#   tn_init                       skip unless root (exit 77); on every exit
#                                 keep the logs and clean up both nodes and
#                                 the one-node state; INT/TERM exit 130/143
#   tn_up [PODS]                  nm2_setup, PODS pods (default 1) on each
#                                 node, both daemons, pods added, tunnel up
#                                 both ways (fails the test otherwise)
#   tn_peer NODE EXPR             EXPR (python, on t = NODE's tunnel-list
#                                 entry for the other node), e.g. "t['epoch']"
#   tn_rej NODE REASON            NODE's rejected.REASON toward the other node
#   tn_drop NODE REASON           NODE's stats drops.REASON
#   tn_cap_start NS IFACE FILE [ARGS...]
#                                 tcpdump -w FILE on IFACE in NS (ARGS: more
#                                 options, a filter), ready when it returns
#                                 (pid in TN_CAP_PID); its log in FILE.log
#   tn_cap_stop PID               stop a capture and wait for it
#   tn_pcap_count FILE FILTER     packets in FILE matching a tcpdump filter
#   tn_host_v6                    a tcpdump filter matching the nodes' kernels'
#                                 own IPv6 on the fabric link (RS, NS, MLD from
#                                 fab0's link-local address or from ::)
#   tn_ping_start NS DST FILE     ping -i 0.05 in the background (pid in TN_PING_PID)
#   tn_ping_replies FILE          echo replies in a ping log so far
#
# The DPDK af_packet port of each node sends with qdisc bypass, so a
# capture on a node's fab0 sees what that node receives, not what it
# sends: to see both directions of the fabric, capture on both nodes.

TN_HERE=${TN_HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# shellcheck source=scripts/lib/netns.sh
. "$TN_HERE/../../scripts/lib/netns.sh"
# shellcheck source=scripts/lib/twonode.sh
. "$TN_HERE/../../scripts/lib/twonode.sh"
# shellcheck source=scripts/lib/takeover.sh
. "$TN_HERE/../../scripts/lib/takeover.sh"

tn_init() {
	nm_require_root
	trap 'tn_keep_logs; nm2_cleanup; nm_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

tn_up() {
	local pods=${1:-1} i n
	nm2_setup
	for n in a b; do
		for ((i = 1; i <= pods; i++)); do nm2_pod "$n" "$i"; done
	done
	nm2_start a
	nm2_start b
	for n in a b; do
		for ((i = 1; i <= pods; i++)); do nm2_pod_add "$n" "$i"; done
	done
	nm2_wait_up a b 20 || nm_fail "tunnel a -> b not up after 20 s: $(nm2_ctl a tunnel list 2>&1)"
	nm2_wait_up b a 20 || nm_fail "tunnel b -> a not up after 20 s: $(nm2_ctl b tunnel list 2>&1)"
}

tn_peer() {
	local node=$1 expr=$2 other
	other=$(nm2_other "$node")
	nm2_ctl "$node" --json tunnel list | nm_json \
		"(lambda t: $expr)([t for t in j['tunnels'] if t['name'] == 'node-$other'][0])"
}

tn_rej() { tn_peer "$1" "t['rejected']['$2']"; }

tn_drop() { nm2_ctl "$1" --json stats | nm_json "j['drops']['$2']"; }

# Wait (up to 10 s) for tcpdump to say it is listening, so that nothing
# sent after this returns is missed. -U writes every packet at once.
tn_cap_start() {
	local ns=$1 ifc=$2 file=$3 i
	shift 3
	nm_bg "$ns" "$file.log" tcpdump -U -n -i "$ifc" -w "$file" "$@"
	TN_CAP_PID=$NM_LAST_BG
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on" "$file.log" 2>/dev/null && return 0
		kill -0 "$TN_CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$file.log" >&2
	nm_fail "tcpdump on $ifc in $ns did not start"
}

tn_cap_stop() {
	kill -INT "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

tn_pcap_count() {
	tcpdump -n -r "$1" "$2" 2>/dev/null | wc -l
}

# With IPv6 on (as on a real node) each node's kernel speaks on its fabric
# link: router and neighbour solicitations and MLD reports from fab0's
# link-local address, or from :: during duplicate address detection. They
# are not nodemesh's and carry nothing of a pod's.
tn_host_v6() {
	local n a srcs="src host ::"
	for n in "${!NM2_NS[@]}"; do
		for a in $(ip -n "${NM2_NS[$n]}" -6 addr show dev fab0 scope link 2>/dev/null |
			awk '/inet6/ { sub(/\/.*/, "", $2); print $2 }'); do
			srcs+=" or src host $a"
		done
	done
	echo "(ip6 and ($srcs))"
}

tn_ping_start() {
	local ns=$1 dst=$2 file=$3
	nm_bg "$ns" "$file" ping -n -i 0.05 -W 1 "$dst"
	# shellcheck disable=SC2034 # the caller's: it stops the ping
	TN_PING_PID=$NM_LAST_BG
}

tn_ping_replies() {
	grep -c "bytes from" "$1" || true
}

# tn_keep_logs: first in the EXIT trap, before nm_cleanup deletes NM_TMP.
# On a failure, the last lines of both daemons' logs go to stderr (nm_fail
# shows only the one-node daemon's); when NM_KEEP_LOGS names a directory,
# both logs are copied there, pass or fail.
tn_keep_logs() {
	local rc=$? n
	[[ -n $NM_TMP ]] || return 0
	if ((rc != 0 && rc != 77)); then
		for n in a b; do
			[[ -s $NM_TMP/nodemeshd-$n.log ]] || continue
			echo "--- last lines of node $n's nodemeshd log ---" >&2
			grep -v '^EAL: \|^TELEMETRY: ' "$NM_TMP/nodemeshd-$n.log" | tail -n 15 >&2
		done
	fi
	if [[ -n ${NM_KEEP_LOGS:-} ]]; then
		mkdir -p "$NM_KEEP_LOGS"
		cp "$NM_TMP"/nodemeshd-*.log "$NM_KEEP_LOGS/" 2>/dev/null || true
	fi
	return 0
}
