#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nodemesh-cni driven as a container runtime drives it: the plugin binary
# run inside the node namespace (where nodemeshd and the host ends live)
# with the CNI_* variables and the first plugin of conf/cni/10-nodemesh.conflist
# on stdin (host-local keeps its leases under this run's temp dir). Two pod
# namespaces, one in kubelet's CNI_ARGS form and one in podman's; IPv6 on
# everywhere, as on a real node. Checks: ADD results, ping and HTTP between
# the pods through nodemeshd (its counters move), the result as the
# prevResult of the next plugin (tuning), CHECK, a repeated and a retried
# ADD, an ADD refused after IPAM undone, DEL (pod, veth and lease gone)
# twice, VERSION, the spec's error objects, and ADD / CHECK / DEL with
# nodemeshd stopped.
set -euo pipefail
NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

PLUGIN=$NM_BUILD/ctrl/cni/nodemesh-cni
[[ -x $PLUGIN ]] || nm_fail "no $PLUGIN (build first)"
[[ -x /usr/lib/cni/host-local ]] || nm_fail "no /usr/lib/cni/host-local (containernetworking-plugins)"

nm_node_create nmcni
# A state file, as a real node keeps one: pods outlive a daemon restart.
nm_tmp_init
export NM_STATE_FILE=$NM_TMP/state
nm_daemon_start
NODE=$NM_NODE_NS
IPAM_DIR=$NM_TMP/ipam

# The shipped list's first plugin with this run's socket and lease dir, its
# cniVersion and name put in by the runtime (SPEC.md: the list's override).
"$NM_PY" - "$NM_SRC/conf/cni/10-nodemesh.conflist" "$NM_SOCK" "$IPAM_DIR" \
	>"$NM_TMP/net.json" <<'PY'
import json, sys
lst = json.load(open(sys.argv[1]))
p = lst["plugins"][0]
p.update(cniVersion=lst["cniVersion"], name=lst["name"], socket=sys.argv[2])
p["ipam"]["dataDir"] = sys.argv[3]
json.dump(p, sys.stdout)
PY
CONF=$NM_TMP/net.json

# cni COMMAND ID POD_NS ARGS [CONF]: run the plugin (CNI_PLUGIN, default
# nodemesh-cni) as a runtime does; stdout is its answer.
cni() {
	ip netns exec "$NODE" env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
		CNI_NETNS="/var/run/netns/$3" CNI_IFNAME=eth0 CNI_ARGS="$4" \
		CNI_PATH="/usr/lib/cni" "${CNI_PLUGIN:-$PLUGIN}" <"${5:-$CONF}"
}

# with_prev FILE: the network config with FILE as its prevResult.
with_prev() {
	"$NM_PY" -c 'import json, sys
c = json.load(open(sys.argv[1])); c["prevResult"] = json.load(open(sys.argv[2]))
json.dump(c, sys.stdout)' "$CONF" "$1"
}

declare -A ID NS ARGS IP HOSTIF
ID[a]=$(printf 'a-%s' "$NM_SFX" | sha256sum | cut -c1-64)
ID[b]=$(printf 'b-%s' "$NM_SFX" | sha256sum | cut -c1-64)
ARGS[a]="IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cni-a;K8S_POD_INFRA_CONTAINER_ID=${ID[a]};K8S_POD_UID=0f1e2d3c"
ARGS[b]="IgnoreUnknown=1;K8S_POD_NAME=cni-b"
ID[c]=$(printf 'c-%s' "$NM_SFX" | sha256sum | cut -c1-64)
ID[d]=$(printf 'd-%s' "$NM_SFX" | sha256sum | cut -c1-64)
ARGS[c]="IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cni-c"
ARGS[d]="IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cni-a"
for p in a b c d; do
	NS[$p]="nmcnipod$NM_SFX$p"
	nm_ns_add "${NS[$p]}"
done

# 1. ADD: a result of the spec's shape that names what was made.
for p in a b; do
	cni ADD "${ID[$p]}" "${NS[$p]}" "${ARGS[$p]}" >"$NM_TMP/add-$p.json" ||
		nm_fail "ADD pod $p failed: $(cat "$NM_TMP/add-$p.json")"
	IP[$p]=$(nm_json "j['ips'][0]['address'].split('/')[0]" <"$NM_TMP/add-$p.json")
	HOSTIF[$p]=$(nm_json "j['interfaces'][0]['name']" <"$NM_TMP/add-$p.json")
	nm_json "(j['cniVersion'] == '1.0.0' and j['ips'][0]['address'] == '${IP[$p]}/32'
and j['ips'][0]['gateway'] == '169.254.1.1' and j['ips'][0]['interface'] == 1
and j['interfaces'][1]['name'] == 'eth0'
and j['interfaces'][1]['sandbox'] == '/var/run/netns/${NS[$p]}'
and len(j['interfaces'][0]['mac']) == 17 and len(j['interfaces'][1]['mac']) == 17
and j['routes'] == [{'dst': '0.0.0.0/0', 'gw': '169.254.1.1'}]
and j['ips'][0]['address'].startswith('198.18.'))" <"$NM_TMP/add-$p.json" | grep -qx True ||
		nm_fail "ADD pod $p: unexpected result $(cat "$NM_TMP/add-$p.json")"
	[[ ${HOSTIF[$p]} =~ ^nm[0-9a-f]{11}$ ]] || nm_fail "host end name '${HOSTIF[$p]}'"
	ip -n "$NODE" link show "${HOSTIF[$p]}" | grep -q "state UP" ||
		nm_fail "host end ${HOSTIF[$p]} not up in the node namespace"
	ip -n "${NS[$p]}" -4 addr show dev eth0 | grep -q "inet ${IP[$p]}/32" ||
		nm_fail "pod $p: eth0 has no ${IP[$p]}/32"
	ip -n "${NS[$p]}" route show default | grep -q "via 169.254.1.1 dev eth0 onlink" ||
		nm_fail "pod $p: no default route via 169.254.1.1 onlink"
	ip netns exec "${NS[$p]}" ethtool -k eth0 | grep -q "^tx-checksumming: off" ||
		nm_fail "pod $p: TX checksum offload still on"
	# tx-tcp-segmentation, not the "tcp-segmentation-offload" summary: a
	# newer kernel's tx-tcp-accecn-segmentation keeps the summary on.
	ip netns exec "$NODE" ethtool -k "${HOSTIF[$p]}" | grep -q "^.tx-tcp-segmentation: off" ||
		nm_fail "host end ${HOSTIF[$p]}: TSO still on"
	[[ $(ip netns exec "${NS[$p]}" sysctl -n net.ipv6.conf.eth0.disable_ipv6) == 0 ]] ||
		nm_fail "pod $p: IPv6 was turned off"
	nm_ok "ADD pod $p: ${IP[$p]}/32 on eth0, host end ${HOSTIF[$p]}"
done
[[ ${IP[a]} != "${IP[b]}" ]] || nm_fail "both pods got ${IP[a]}"
pods=$(nm_ctl --json pod list)
nm_json "sorted((p['name'], p['namespace'], p['ip'], p['iface'], p.get('container')) for p in j['pods'])" \
	<<<"$pods" >"$NM_TMP/pods.txt"
want="[[\"cni-a\", \"shop\", \"${IP[a]}\", \"${HOSTIF[a]}\", \"${ID[a]}\"], [\"cni-b\", \"default\", \"${IP[b]}\", \"${HOSTIF[b]}\", \"${ID[b]}\"]]"
[[ $(cat "$NM_TMP/pods.txt") == "$want" ]] ||
	nm_fail "pod list: $(cat "$NM_TMP/pods.txt"), expected $want"
nm_ok "nodemeshd has both pods (kubelet's namespace, podman's default) with their container IDs"

# 2. Traffic between the pods through nodemeshd.
nm_ping_ok "${NS[a]}" "${IP[b]}" || nm_fail "ping pod a -> pod b got no reply"
nm_ping_ok "${NS[b]}" "${IP[a]}" || nm_fail "ping pod b -> pod a got no reply"
nm_ok "ping both ways"
mkdir -p "$NM_TMP/www"
expected="nodemesh cni test $NM_SFX $RANDOM$RANDOM"
printf '%s\n' "$expected" >"$NM_TMP/www/hello.txt"
nm_bg "${NS[b]}" "$NM_TMP/http.log" "$NM_PY" -m http.server --bind "${IP[b]}" \
	--directory "$NM_TMP/www" 8080
nm_wait_listen "${NS[b]}" tcp 8080 || nm_fail "http.server did not start in pod b"
got=$(nm_in "${NS[a]}" curl -sS --max-time 10 "http://${IP[b]}:8080/hello.txt") ||
	nm_fail "curl pod a -> pod b failed"
[[ $got == "$expected" ]] || nm_fail "curl got '$got', expected '$expected'"
nm_ok "HTTP pod a -> pod b: exact content"
counts=$(nm_ctl --json pod list | nm_json "sorted((p['name'], p['rx_packets'] > 0 and p['tx_packets'] > 0) for p in j['pods'])")
[[ $counts == '[["cni-a", true], ["cni-b", true]]' ]] ||
	nm_fail "pod counters did not move: $counts"
nm_ok "nodemeshd counted rx and tx for both pods"

# 3. The result is a prevResult the next plugin of the list takes (tuning).
with_prev "$NM_TMP/add-a.json" | "$NM_PY" -c 'import json, sys
c = json.load(sys.stdin); c.update(type="tuning", sysctl={"net.core.somaxconn": "1234"})
for k in ("socket", "driver", "ipam"): c.pop(k, None)
json.dump(c, sys.stdout)' >"$NM_TMP/tuning.json"
CNI_PLUGIN=/usr/lib/cni/tuning cni ADD "${ID[a]}" "${NS[a]}" "${ARGS[a]}" "$NM_TMP/tuning.json" \
	>"$NM_TMP/tuning-out.json" ||
	nm_fail "tuning ADD with our prevResult failed: $(cat "$NM_TMP/tuning-out.json")"
[[ $(nm_json "j['ips'][0]['address']" <"$NM_TMP/tuning-out.json") == "${IP[a]}/32" ]] ||
	nm_fail "tuning did not pass our result on: $(cat "$NM_TMP/tuning-out.json")"
[[ $(ip netns exec "${NS[a]}" sysctl -n net.core.somaxconn) == 1234 ]] ||
	nm_fail "tuning did not set net.core.somaxconn in pod a"
nm_ok "chained tuning took the result as prevResult"

# 4. CHECK with the ADD's result passes; after the pod's address is gone it fails.
for p in a b; do
	with_prev "$NM_TMP/add-$p.json" >"$NM_TMP/check-$p.json"
	out=$(cni CHECK "${ID[$p]}" "${NS[$p]}" "${ARGS[$p]}" "$NM_TMP/check-$p.json") ||
		nm_fail "CHECK pod $p failed: $out"
done
ip -n "${NS[b]}" addr del "${IP[b]}/32" dev eth0
out=$(cni CHECK "${ID[b]}" "${NS[b]}" "${ARGS[b]}" "$NM_TMP/check-b.json") &&
	nm_fail "CHECK passed with the pod's address gone: $out"
[[ $(nm_json "j['code']" <<<"$out") == 999 ]] || nm_fail "CHECK error: $out"
ip -n "${NS[b]}" addr add "${IP[b]}/32" dev eth0
ip -n "${NS[b]}" route replace default via 169.254.1.1 dev eth0 onlink
nm_ok "CHECK passes on both pods, and fails with an error object when the address is gone"

# 5. A repeated ADD is harmless: answered (ok, or host-local's refusal of a
#    second lease), and pod a stays attached and reachable.
if out=$(cni ADD "${ID[a]}" "${NS[a]}" "${ARGS[a]}"); then
	[[ $(nm_json "j['ips'][0]['address']" <<<"$out") == "${IP[a]}/32" ]] ||
		nm_fail "repeated ADD gave another address: $out"
else
	nm_json "j['code'] > 0 and bool(j['msg'])" <<<"$out" | grep -qx True ||
		nm_fail "repeated ADD failed without an error object: $out"
fi
cni CHECK "${ID[a]}" "${NS[a]}" "${ARGS[a]}" "$NM_TMP/check-a.json" >/dev/null ||
	nm_fail "CHECK pod a fails after a repeated ADD"
nm_ping_ok "${NS[b]}" "${IP[a]}" || nm_fail "pod a unreachable after a repeated ADD"
[[ -e $IPAM_DIR/nodemesh/${IP[a]} ]] || nm_fail "pod a's lease was dropped by the repeated ADD"
nm_ok "repeated ADD: pod a still attached, reachable and leased"

# 5b. A retried ADD that gets the same address again (Debian's "static"
#     IPAM, unlike host-local, answers twice) reuses the veth, and
#     nodemeshd answers it as the pod it already has. This pod also has
#     "mtu" and "driver": "af_xdp".
"$NM_PY" -c 'import json, sys
c = json.load(open(sys.argv[1])); c["ipam"] = {"type": "static", "addresses": [{"address": "198.18.79.200/20"}]}
c.update(mtu=1400, driver="af_xdp")
json.dump(c, sys.stdout)' "$CONF" >"$NM_TMP/static.json"
for try in 1 2; do
	cni ADD "${ID[c]}" "${NS[c]}" "${ARGS[c]}" "$NM_TMP/static.json" >"$NM_TMP/add-c$try.json" ||
		nm_fail "ADD pod c (try $try) failed: $(cat "$NM_TMP/add-c$try.json")"
done
cmp -s "$NM_TMP/add-c1.json" "$NM_TMP/add-c2.json" ||
	nm_fail "retried ADD gave another result: $(cat "$NM_TMP/add-c1.json" "$NM_TMP/add-c2.json")"
[[ $(nm_ctl --json pod list | nm_json "[p['ip'] for p in j['pods'] if p['name'] == 'cni-c']") == '["198.18.79.200"]' ]] ||
	nm_fail "pod c not attached exactly once after a retried ADD"
nm_ping_ok "${NS[c]}" "${IP[b]}" || nm_fail "pod c -> pod b after a retried ADD"
hostif_c=$(nm_json "j['interfaces'][0]['name']" <"$NM_TMP/add-c1.json")
ip -n "${NS[c]}" link show eth0 | grep -q "mtu 1400 " || nm_fail "pod c: eth0 MTU is not 1400"
ip -n "$NODE" link show "$hostif_c" | grep -q "mtu 1400 " || nm_fail "$hostif_c: MTU is not 1400"
[[ $(nm_ctl --json pod list | nm_json "[p.get('driver') for p in j['pods'] if p['name'] == 'cni-c']") == '["af_xdp"]' ]] ||
	nm_fail "pod c is not an af_xdp pod: $(nm_ctl --json pod list)"
nm_ok "retried ADD with the same address: same result, one pod, traffic flows (af_xdp, MTU 1400)"

# 5c. ADD that fails after IPAM (nodemeshd refuses: the pod name cni-a is
#     taken by another container) undoes the veth and the lease.
out=$(cni ADD "${ID[d]}" "${NS[d]}" "${ARGS[d]}") && nm_fail "ADD of a second cni-a succeeded: $out"
[[ $(nm_json "j['code']" <<<"$out") == 999 ]] || nm_fail "refused ADD: $out"
hostif_d=$(nm_json "j['details'].split('iface=')[1].split()[0]" <<<"$out")
ip -n "$NODE" link show "$hostif_d" >/dev/null 2>&1 && nm_fail "refused ADD left host end $hostif_d"
ip -n "${NS[d]}" link show eth0 >/dev/null 2>&1 && nm_fail "refused ADD left eth0 in pod d"
leases=("$IPAM_DIR"/nodemesh/198.*)
((${#leases[@]} == 2)) || nm_fail "refused ADD left a lease: ${leases[*]}"
nm_ok "ADD refused by nodemeshd: veth and lease undone"

# 6. DEL: pod, veth and lease gone; a second DEL and a DEL without the
#    netns are no errors.
out=$(cni DEL "${ID[a]}" "${NS[a]}" "${ARGS[a]}") || nm_fail "DEL pod a failed: $out"
[[ -z $out ]] || nm_fail "DEL printed '$out'"
nm_ctl --json pod list | nm_json "[p['name'] for p in j['pods']]" | grep -q cni-a &&
	nm_fail "pod a still in pod list after DEL"
ip -n "$NODE" link show "${HOSTIF[a]}" >/dev/null 2>&1 && nm_fail "host end ${HOSTIF[a]} left after DEL"
ip -n "${NS[a]}" link show eth0 >/dev/null 2>&1 && nm_fail "eth0 left in pod a after DEL"
[[ ! -e $IPAM_DIR/nodemesh/${IP[a]} ]] || nm_fail "lease of ${IP[a]} left after DEL"
[[ -e $IPAM_DIR/nodemesh/${IP[b]} ]] || nm_fail "DEL of pod a dropped pod b's lease"
out=$(cni DEL "${ID[a]}" "${NS[a]}" "${ARGS[a]}") || nm_fail "second DEL pod a failed: $out"
out=$(cni DEL "${ID[a]}" "nmcnigone$NM_SFX" "${ARGS[a]}") || nm_fail "DEL with no netns failed: $out"
nm_ping_ok "${NS[a]}" "${IP[b]}" 2>/dev/null && nm_fail "pod a still reaches pod b after DEL"
out=$(cni CHECK "${ID[a]}" "${NS[a]}" "${ARGS[a]}" "$NM_TMP/check-a.json") &&
	nm_fail "CHECK passed after DEL: $out"
nm_ok "DEL removed pod a, its veth and its lease; DEL again and DEL without netns are ok"

# 7. VERSION, and the spec's error objects for bad input.
out=$(ip netns exec "$NODE" env -i CNI_COMMAND=VERSION "$PLUGIN" </dev/null) || nm_fail "VERSION failed: $out"
[[ $(nm_json "sorted(j['supportedVersions'])" <<<"$out") == '["0.4.0", "1.0.0"]' ]] ||
	nm_fail "VERSION: $out"
# expect_error CODE STDIN [ARGS [POD_NS]]: ADD of a fresh container fails with CODE.
expect_error() {
	local code=$1 input=$2 cni_args=${3:-K8S_POD_NAME=cni-e} ns=${4:-${NS[a]}} out
	printf '%s' "$input" >"$NM_TMP/bad.json"
	if out=$(cni ADD "e$NM_SFX" "$ns" "$cni_args" "$NM_TMP/bad.json"); then
		nm_fail "ADD with bad input succeeded: $input"
	fi
	[[ $(nm_json "[j['code'], j['cniVersion'], bool(j['msg'])]" <<<"$out") == "[$code, \"1.0.0\", true]" ]] ||
		nm_fail "expected error code $code for '$input' ($cni_args), got: $out"
}
expect_error 6 '{"cniVersion": "1.0.0", "name": "nodemesh",'
expect_error 7 '{"cniVersion": "1.0.0", "name": "nodemesh", "type": "nodemesh-cni", "ipam": {"type": "host-local"}}'
expect_error 2 "$(sed 's/"socket"/"sokcet"/' "$CONF")"
expect_error 1 "$(sed 's/"1.0.0"/"9.9.9"/' "$CONF")"
expect_error 4 "$(cat "$CONF")" 'K8S_POD_NAME=cni-e;FOO=bar'
expect_error 4 "$(cat "$CONF")" K8S_POD_NAME=cni-e "nmcnigone$NM_SFX"
expect_error 7 "$(sed 's/"host-local"/"no-such-ipam"/' "$CONF")"
for f in "$IPAM_DIR"/nodemesh/198.*; do
	[[ $f == "$IPAM_DIR/nodemesh/${IP[b]}" ]] || nm_fail "a failed ADD left the lease $f"
done
nm_ok "VERSION answers 0.4.0 and 1.0.0; bad input gets 6, 7, 2, 1, 4 (CNI_ARGS, no netns), 7 (no IPAM plugin)"

# 8. nodemeshd not running: ADD answers 11 (try again later) and undoes
#    veth and lease; CHECK answers 11; DEL still removes veth and lease,
#    and the daemon, restarted from its state file, does not bring back
#    the pods whose interfaces DEL removed.
nm_stop_daemon || nm_fail "nodemeshd exited with status $? on SIGTERM"
out=$(cni ADD "${ID[d]}" "${NS[d]}" "IgnoreUnknown=1;K8S_POD_NAME=cni-d") && nm_fail "ADD without nodemeshd succeeded: $out"
[[ $(nm_json "j['code']" <<<"$out") == 11 ]] || nm_fail "ADD without nodemeshd: $out"
ip -n "$NODE" link show "$hostif_d" >/dev/null 2>&1 && nm_fail "ADD without nodemeshd left $hostif_d"
leases=("$IPAM_DIR"/nodemesh/198.*)
[[ ${leases[*]} == "$IPAM_DIR/nodemesh/${IP[b]}" ]] || nm_fail "ADD without nodemeshd left a lease: ${leases[*]}"
out=$(cni CHECK "${ID[b]}" "${NS[b]}" "${ARGS[b]}" "$NM_TMP/check-b.json") && nm_fail "CHECK without nodemeshd passed"
[[ $(nm_json "j['code']" <<<"$out") == 11 ]] || nm_fail "CHECK without nodemeshd: $out"
out=$(cni DEL "${ID[b]}" "${NS[b]}" "${ARGS[b]}") || nm_fail "DEL pod b without nodemeshd failed: $out"
out=$(cni DEL "${ID[c]}" "${NS[c]}" "${ARGS[c]}" "$NM_TMP/static.json") || nm_fail "DEL pod c failed: $out"
for h in "${HOSTIF[b]}" "$hostif_c"; do
	ip -n "$NODE" link show "$h" >/dev/null 2>&1 && nm_fail "$h left after DEL without nodemeshd"
done
leases=("$IPAM_DIR"/nodemesh/198.*)
[[ ! -e ${leases[0]} ]] || nm_fail "leases left after DEL: ${leases[*]}"
nm_ok "without nodemeshd: ADD and CHECK answer 11 (ADD undone), DEL removes veths and leases"
grep -q '"cni-b"' "$NM_STATE_FILE" || nm_fail "the state file did not hold pod b: the restart proves nothing"
nm_daemon_start
pods=$(nm_ctl --json pod list | nm_json "[p['name'] for p in j['pods']]")
[[ $pods == "[]" ]] || nm_fail "restarted nodemeshd brought back pods DEL removed: $pods"
nm_ok "restarted from its state file, nodemeshd has none of the pods DEL removed"
nm_stop_daemon || nm_fail "nodemeshd exited with status $? on SIGTERM"

echo "cni: PASS"
