#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nodemesh-cni under a real container runtime: podman (CNI backend, runc)
# run inside the node namespace, so the plugin it calls creates the host
# ends where nodemeshd is, with conf/cni/10-nodemesh.conflist as its
# network (nodemesh-cni with host-local, then tuning). A busybox image made
# here with `podman import` (no registry). Checks: podman's ADD attaches
# the container as pod "web" in namespace default keyed by its container
# id; another container fetches a page from it and pings it through
# nodemeshd (counters move); tuning ran on our result (its sysctl is set
# in the container); `podman rm` (DEL) removes pod, host end and lease.
# IPv6 on everywhere, as on a real node.
set -euo pipefail
NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
for tool in podman runc busybox; do
	command -v "$tool" >/dev/null || nm_fail "no $tool (scripts/setup installs it)"
done

nm_node_create nmcnipm
nm_daemon_start
W=$NM_TMP/podman
mkdir -p "$W/rootfs/bin" "$W/rootfs/www" "$W/cni" "$W/root" "$W/runroot" "$W/ipam"

# podman inside the node namespace: nsenter, not `ip netns exec`, which
# remounts /sys and so hides the cgroup mounts runc needs. vfs storage:
# nothing mounted under the temp dir that cleanup would trip over.
export CONTAINERS_CONF=$W/containers.conf
PODMAN=(nsenter --net="/var/run/netns/$NM_NODE_NS" podman --root "$W/root" --runroot "$W/runroot"
	--storage-driver vfs --runtime runc --network-backend cni --cni-config-dir "$W/cni")
pm() {
	"${PODMAN[@]}" "$@"
}
cleanup() {
	local rc=$?
	pm rm -a -f -t 0 >/dev/null 2>&1 || true
	nm_cleanup
	return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$W/containers.conf" <<EOF2
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$NM_BUILD/ctrl/cni", "/usr/lib/cni"]
EOF2
"$NM_PY" - "$NM_SRC/conf/cni/10-nodemesh.conflist" "$NM_SOCK" "$W/ipam" \
	>"$W/cni/10-nodemesh.conflist" <<'PY'
import json, sys
lst = json.load(open(sys.argv[1]))
lst["plugins"][0]["socket"] = sys.argv[2]
lst["plugins"][0]["ipam"]["dataDir"] = sys.argv[3]
json.dump(lst, sys.stdout, indent=1)
PY
somaxconn=$(nm_json "j['plugins'][1]['sysctl']['net.core.somaxconn']" <"$W/cni/10-nodemesh.conflist")

cp "$(command -v busybox)" "$W/rootfs/bin/busybox"
for c in sh httpd wget ping cat; do ln -s busybox "$W/rootfs/bin/$c"; done
expected="nodemesh podman test $NM_SFX $RANDOM$RANDOM"
printf '%s\n' "$expected" >"$W/rootfs/www/index.html"
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
pm import "$W/rootfs.tar" localhost/nmbox:1 >/dev/null || nm_fail "podman import failed"

# 1. ADD by podman: the container is pod "web" of namespace default.
pm run -d --name web --network nodemesh localhost/nmbox:1 httpd -f -p 80 -h /www >/dev/null ||
	nm_fail "podman run web failed"
id=$(pm inspect web --format '{{.Id}}')
ip=$(pm inspect web --format '{{.NetworkSettings.Networks.nodemesh.IPAddress}}')
[[ $ip == 198.18.6[4-9].* || $ip == 198.18.7[0-9].* ]] || nm_fail "web got address '$ip'"
entry=$(nm_ctl --json pod list | nm_json "[[p['namespace'], p['ip'], p['container'], p['iface']] for p in j['pods'] if p['name'] == 'web']")
hostif=$(nm_json "j[0][3]" <<<"$entry")
[[ $entry == "[[\"default\", \"$ip\", \"$id\", \"$hostif\"]]" && $hostif =~ ^nm[0-9a-f]{11}$ ]] ||
	nm_fail "pod list entry for web: $entry (want default, $ip, $id)"
nm_ok "podman run: web is pod default/web at $ip on $hostif, keyed by its container id"

# 2. The chain's second plugin ran on our result.
got=$(pm exec web cat /proc/sys/net/core/somaxconn) || nm_fail "podman exec web failed"
[[ $got == "$somaxconn" ]] || nm_fail "tuning's net.core.somaxconn is $got in web, want $somaxconn"
nm_ok "tuning (second in the list) set net.core.somaxconn=$got in web"

# 3. Another container reaches it through nodemeshd. (Debian's static
#    busybox wget crashes on -T: the time bound is timeout's.)
got=$(timeout 60 "${PODMAN[@]}" run --rm --name client --network nodemesh localhost/nmbox:1 \
	wget -q -O - "http://$ip/index.html") || nm_fail "wget from a second container failed"
[[ $got == "$expected" ]] || nm_fail "wget got '$got', expected '$expected'"
timeout 60 "${PODMAN[@]}" run --rm --name pinger --network nodemesh localhost/nmbox:1 ping -c 2 -W 2 "$ip" >/dev/null ||
	nm_fail "ping from a third container failed"
counts=$(nm_ctl --json pod list | nm_json "[(p['rx_packets'] > 0 and p['tx_packets'] > 0) for p in j['pods'] if p['name'] == 'web']")
[[ $counts == '[true]' ]] || nm_fail "web's counters did not move: $counts"
nm_ok "HTTP and ping from other containers through nodemeshd"

# 4. DEL by podman: pod, host end and lease gone, also the short-lived ones'.
pm rm -f -t 0 web >/dev/null || nm_fail "podman rm web failed"
[[ $(nm_ctl --json pod list | nm_json "len(j['pods'])") == 0 ]] ||
	nm_fail "pods left after podman rm: $(nm_ctl pod list)"
ip -n "$NM_NODE_NS" link show "$hostif" >/dev/null 2>&1 && nm_fail "$hostif left after podman rm"
leases=("$W"/ipam/nodemesh/198.*)
[[ ! -e ${leases[0]} ]] || nm_fail "leases left after podman rm: ${leases[*]}"
nm_ok "podman rm: pod, host end and lease removed"
nm_stop_daemon || nm_fail "nodemeshd exited with status $? on SIGTERM"
echo "cni_podman: PASS"
