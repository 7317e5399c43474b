#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Containers started by podman (runc, CNI backend), attached by nodemesh-cni
# and policed by nodemeshd, as on a node: podman and nodemeshd share the
# node namespace, so the plugin's host ends land where the daemon attaches
# them; IPv6 is on everywhere. Checks, in order:
#  1. containers get addresses from host-local (own range and data dir) and
#     `pod list` shows them with their container ids;
#  2. with identities set and default allow, ping and HTTP (busybox httpd)
#     pass between containers, and the pods' counters move;
#  3. default deny plus one allow rule a -> b: a reaches b, c (an identity
#     no rule names) does not, d (no identity at all) reaches no one;
#  4. `podman rm -f b` detaches the pod, deletes its host end and frees its
#     address;
#  5. a chain nodemesh-cni -> tuning: the container is attached, reachable,
#     and has the tuning plugin's MTU and sysctl;
# and removing every container leaves no pod and no address behind.
set -euo pipefail
# IPv6 stays on in every namespace (scripts/lib/netns.sh), as on a node.
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
# shellcheck source=scripts/lib/podman.sh
. "$(dirname "$0")/../../scripts/lib/podman.sh"
nm_require_root
nm_trap

CNI_DIR=$NM_BUILD/ctrl/cni
[[ -x $CNI_DIR/nodemesh-cni ]] || nm_fail "no plugin $CNI_DIR/nodemesh-cni (ninja -C $NM_BUILD)"

nm_node_create nmnode
nm_daemon_start # default allow until step 3
nm_podman_init "$CNI_DIR"
nm_podman_image

NET=nm-$NM_SFX        # nodemesh-cni alone
NET_TUNED=nmt-$NM_SFX # nodemesh-cni, then tuning
IPAM=$NM_PODMAN_DIR/ipam
TUNED_MTU=1400
nm_podman_network "$NET" <<EOF
{ "cniVersion": "1.0.0", "name": "$NET", "plugins": [
  { "type": "nodemesh-cni", "socket": "$NM_SOCK",
    "ipam": { "type": "host-local", "dataDir": "$IPAM",
              "ranges": [[{ "subnet": "198.18.10.0/24" }]] } } ] }
EOF
nm_podman_network "$NET_TUNED" <<EOF
{ "cniVersion": "1.0.0", "name": "$NET_TUNED", "plugins": [
  { "type": "nodemesh-cni", "socket": "$NM_SOCK",
    "ipam": { "type": "host-local", "dataDir": "$IPAM",
              "ranges": [[{ "subnet": "198.18.11.0/24" }]] } },
  { "type": "tuning", "mtu": $TUNED_MTU,
    "sysctl": { "net.ipv4.conf.eth0.log_martians": "1" } } ] }
EOF

declare -A CID IP # container name -> full id, address

# start NAME NETWORK: a container serving "served by NAME" over HTTP on
# 8080 (busybox httpd in the foreground is its main process).
start() {
	local name=$1 net=$2 i
	nm_podman_run "$name" "$net" sh -c \
		"mkdir -p /www && echo 'served by $name $NM_SFX' >/www/index.html && exec httpd -f -p 8080 -h /www"
	CID[$name]=$NM_PODMAN_CID
	IP[$name]=$(nm_podman_ip "$name" "$net")
	for ((i = 0; i < 50; i++)); do
		nm_podman exec "$name" timeout 1 wget -qO- http://127.0.0.1:8080/ >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	nm_fail "httpd in container $name not serving on 8080 after 5 s"
}

# pod NAME: the `pod list` entry of pod NAME as JSON ({} if none).
pod() {
	nm_ctl --json pod list | nm_json "([p for p in j['pods'] if p['name'] == '$1'] + [{}])[0]"
}

# pod_field NAME FIELD: one field of pod NAME's entry.
pod_field() {
	pod "$1" | nm_json "j.get('$2')"
}

# identity NAME: give pod NAME (namespace default) the serviceaccount sa-NAME.
identity() {
	local out
	out=$(nm_ctl identity set namespace=default name="$1" serviceaccount="sa-$1" \
		labels="app=$1" image="$NM_PODMAN_IMAGE" 2>&1) ||
		nm_fail "identity set for pod $1 refused: $out"
}

# ping_ok FROM TO: a warm-up ping, then 3 of which one must be answered.
ping_ok() {
	local out
	nm_podman exec "$1" timeout 3 ping -c 1 -W 1 "${IP[$2]}" >/dev/null 2>&1 || true
	out=$(nm_podman exec "$1" timeout 5 ping -c 3 -W 1 "${IP[$2]}" 2>&1) &&
		grep -q "bytes from ${IP[$2]}" <<<"$out" && return 0
	printf '%s\n' "$out" >&2
	return 1
}

# ping_fails FROM TO: 2 pings sent, none answered (the statistics line
# shows ping ran: an exec that failed proves nothing).
ping_fails() {
	local out
	out=$(nm_podman exec "$1" timeout 4 ping -c 2 -W 1 "${IP[$2]}" 2>&1) || true
	if [[ $out == *"bytes from ${IP[$2]}"* || $out != *"2 packets transmitted, 0 packets received"* ]]; then
		printf 'ping %s -> %s: %s\n' "$1" "$2" "$out" >&2
		return 1
	fi
}

# http_ok FROM TO: GET http://TO:8080/ from container FROM returns TO's file.
# (busybox 1.35's wget crashes with -T, so busybox timeout bounds it.)
http_ok() {
	local got want="served by $2 $NM_SFX"
	got=$(nm_podman exec "$1" timeout 5 wget -qO- "http://${IP[$2]}:8080/" 2>&1) || true
	[[ $got == "$want" ]] && return 0
	printf 'GET %s -> %s: got "%s", want "%s"\n' "$1" "$2" "$got" "$want" >&2
	return 1
}

# http_fails FROM TO: the GET gets no answer at all within 2 s: busybox
# timeout ends it (143). A refused connection or a failed exec is not
# that, and fails the check.
http_fails() {
	local got rc=0
	got=$(nm_podman exec "$1" timeout 2 wget -qO- "http://${IP[$2]}:8080/" 2>&1) || rc=$?
	((rc == 143)) && return 0
	printf 'GET %s -> %s: exit %d, "%s" (want no answer: timed out, 143)\n' "$1" "$2" "$rc" "$got" >&2
	return 1
}

# counters NAME: "rx_packets tx_packets" of pod NAME.
counters() {
	pod "$1" | nm_json "'%d %d' % (j['rx_packets'], j['tx_packets'])"
}

# 1. Addresses from host-local, pods attached with their container ids.
t0=$(date +%s%N)
for c in a b c d; do start "$c" "$NET"; done
nm_log "4 containers started and serving in $((($(date +%s%N) - t0) / 1000000)) ms"
for c in a b c d; do
	[[ ${IP[$c]} == 198.18.10.* ]] || nm_fail "container $c: address '${IP[$c]}' not from host-local's 198.18.10.0/24"
	lease=$IPAM/$NET/${IP[$c]}
	[[ -f $lease ]] || nm_fail "container $c: host-local has no lease file $lease"
	# host-local writes "ID\r\nIFNAME".
	holder=$(head -n 1 "$lease" | tr -d '\r')
	[[ $holder == "${CID[$c]}" ]] ||
		nm_fail "container $c: lease $lease holds '$holder', not the container id ${CID[$c]}"
	entry=$(pod "$c")
	[[ $entry != "{}" ]] || nm_fail "container $c: no pod '$c' in pod list: $(nm_ctl --json pod list)"
	got=$(nm_json "'%s %s %s' % (j.get('namespace'), j.get('ip'), j.get('container'))" <<<"$entry")
	[[ $got == "default ${IP[$c]} ${CID[$c]}" ]] ||
		nm_fail "container $c: pod list has '$got', want 'default ${IP[$c]} ${CID[$c]}'"
done
nm_ctl pod list
nm_ok "a b c d: addresses ${IP[a]} ${IP[b]} ${IP[c]} ${IP[d]} from host-local, leased to their container ids, in pod list with those ids"

# 2. Identities for a, b, c (d gets none); default allow: traffic passes.
for c in a b c; do identity "$c"; done
nm_ctl identity list
for c in a b c; do
	sa=$(pod_field "$c" serviceaccount)
	[[ $sa == "sa-$c" ]] || nm_fail "pod $c: serviceaccount '$sa' after identity set, want sa-$c"
done
declare -A BEFORE
for c in a b; do BEFORE[$c]=$(counters "$c"); done
ping_ok a b || nm_fail "default allow: ping a -> b (${IP[b]}) got no reply"
http_ok a b || nm_fail "default allow: HTTP a -> b failed"
nm_ok "default allow: a pings b, GET http://${IP[b]}:8080/ returns b's file"
# Each way at least 4 packets went through: the echo request or reply of
# an answered ping, and of the HTTP exchange SYN, ACK, request, FIN one
# way, SYN-ACK, response, FIN, ACK the other. Counters that moved by less
# (IPv6 router solicitations alone move rx) did not count this traffic.
moved=""
for c in a b; do
	read -r rx0 tx0 <<<"${BEFORE[$c]}"
	read -r rx1 tx1 <<<"$(counters "$c")"
	((rx1 - rx0 >= 4 && tx1 - tx0 >= 4)) ||
		nm_fail "pod $c counters moved by less than 4 packets each way: rx $rx0 -> $rx1, tx $tx0 -> $tx1"
	moved+=" $c rx +$((rx1 - rx0)) tx +$((tx1 - tx0))"
done
nm_ok "pod counters moved:$moved"
# The paths step 3 denies work while nothing denies them.
http_ok c b || nm_fail "default allow: HTTP c -> b failed"
http_ok d b || nm_fail "default allow: HTTP d (no identity) -> b failed"
nm_ok "default allow: c and d (no identity) reach b"

# 3. Default deny and one rule a -> b.
nm_ctl policy default deny >/dev/null || nm_fail "policy default deny refused"
out=$(nm_ctl policy add allow from default/sa-a to default/sa-b 2>&1) ||
	nm_fail "policy add allow from default/sa-a to default/sa-b refused: $out"
denied0=$(nm_drop policy_denied)
ping_ok a b || nm_fail "default deny + allow a -> b: ping a -> b got no reply"
http_ok a b || nm_fail "default deny + allow a -> b: HTTP a -> b failed"
nm_ok "default deny, allow default/sa-a -> default/sa-b: a pings b and gets b's file"
http_fails c b || nm_fail "HTTP c -> b passed, but no rule allows default/sa-c"
ping_fails c b || nm_fail "ping c -> b answered, but no rule allows default/sa-c"
nm_ok "c (default/sa-c, named by no rule) reaches b neither by HTTP nor by ping"
for t in a b c; do
	http_fails d "$t" || nm_fail "HTTP d (no identity) -> $t passed: a pod without identity must match no rule"
done
ping_fails d b || nm_fail "ping d (no identity) -> b answered"
nm_ok "d (no identity) reaches none of a, b, c (fail-closed)"
denied1=$(nm_drop policy_denied)
((denied1 > denied0)) || nm_fail "drops.policy_denied did not move ($denied0 -> $denied1)"
nm_ok "drops.policy_denied $denied0 -> $denied1"

# 4. podman rm -f b: pod detached, host end gone, address freed.
iface_b=$(pod_field b iface)
nm_podman rm -f -t 0 b >/dev/null || nm_fail "podman rm -f b failed"
[[ $(pod b) == "{}" ]] || nm_fail "pod b still in pod list after podman rm -f b: $(pod b)"
nm_ctl --json pod list | grep -q "${CID[b]}" && nm_fail "container id of b still in pod list after podman rm"
[[ ! -e $IPAM/$NET/${IP[b]} ]] || nm_fail "host-local still leases ${IP[b]} after podman rm -f b"
[[ -e $IPAM/$NET/${IP[a]} ]] || nm_fail "host-local lost a's lease ${IP[a]} when b was removed"
if ip -n "$NM_NODE_NS" link show "$iface_b" >/dev/null 2>&1; then
	nm_fail "host end $iface_b of b still in the node namespace after podman rm"
fi
nm_ok "podman rm -f b: pod b gone from pod list, host end $iface_b deleted, ${IP[b]} freed"

# 5. A chain: nodemesh-cni, then tuning (MTU and a sysctl in the container).
start e "$NET_TUNED"
[[ ${IP[e]} == 198.18.11.* ]] || nm_fail "container e: address '${IP[e]}' not from 198.18.11.0/24"
got=$(pod e | nm_json "'%s %s' % (j['ip'], j.get('container')) if j else 'no pod e'")
[[ $got == "${IP[e]} ${CID[e]}" ]] || nm_fail "chained network: pod list has '$got', want '${IP[e]} ${CID[e]}'"
identity e
out=$(nm_ctl policy add allow from default/sa-a to default/sa-e 2>&1) ||
	nm_fail "policy add allow from default/sa-a to default/sa-e refused: $out"
ping_ok a e || nm_fail "chained network: ping a -> e got no reply"
http_ok a e || nm_fail "chained network: HTTP a -> e failed"
# mtu_martians NAME: "MTU LOG_MARTIANS " of eth0 in container NAME.
mtu_martians() {
	local out
	out=$(nm_podman exec "$1" cat /sys/class/net/eth0/mtu /proc/sys/net/ipv4/conf/eth0/log_martians) ||
		nm_fail "reading eth0's mtu and log_martians in container $1 failed: $out"
	tr '\n' ' ' <<<"$out"
}
tuned=$(mtu_martians e)
plain=$(mtu_martians a)
[[ $tuned == "$TUNED_MTU 1 " ]] || nm_fail "tuning's effect missing in e: mtu, log_martians = $tuned, want $TUNED_MTU 1"
[[ $plain != "$tuned" ]] || nm_fail "a (no tuning) has the same mtu, log_martians as e: $plain"
nm_ok "chain nodemesh-cni -> tuning: e attached (${IP[e]}), reachable from a, mtu and log_martians $tuned(a without tuning: $plain)"

# Every container removed: no pod, no lease left.
nm_podman rm -a -f -t 0 >/dev/null || nm_fail "podman rm -a -f failed"
left=$(nm_ctl --json pod list | nm_json "[p['name'] for p in j['pods']]")
[[ $left == "[]" ]] || nm_fail "pods left after removing every container: $left"
leases=$(find "$IPAM" -name '198.18.*' -printf '%f ')
[[ -z $leases ]] || nm_fail "host-local leases left after removing every container: $leases"
nm_ok "every container removed: pod list empty, no lease left"
echo "podman: PASS"
