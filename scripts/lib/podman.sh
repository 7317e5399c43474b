# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Containers started by podman for the integration tests: podman with its own
# storage, run dir, temp dir and CNI config dir under the run's temp dir (it
# never touches the machine's containers or networks), runc and the CNI
# backend, run in the node namespace beside nodemeshd so that the host ends of
# the pods' veths land where the daemon attaches them, as on a node whose
# runtime calls a CNI plugin. Source scripts/lib/netns.sh first, then:
#
#   nm_trap; nm_node_create nmnode; nm_daemon_start
#   nm_podman_init "$NM_BUILD/ctrl/cni"    # dirs, containers.conf, cleanup hook
#   nm_podman_image                         # busybox image, no registry
#   nm_podman_network NAME <<<"$conflist"   # a CNI conflist named NAME
#   nm_podman_run a NAME sleep 600          # container a, id in NM_PODMAN_CID
#   nm_podman exec a ping -c 1 198.18.10.3
#
# Why each setting (found on Debian 12, podman 4.3.1, runc 1.1.5):
# - podman runs under `nsenter --net`, not `ip netns exec`: ip netns exec also
#   gives the command its own mount namespace with a fresh /sys that has no
#   /sys/fs/cgroup (runc then fails: "no cgroup mount found in mountinfo"),
#   and podman keeps each container's network namespace as a bind mount under
#   /run/netns that the next podman command (rm) must see. Only the network
#   namespace has to be the node's, so only that one is entered.
# - runc: crun refuses this kernel's hybrid cgroup layout; cgroupfs: there is
#   no systemd to ask.
# - vfs storage: no overlay mounts that a killed run could leave behind; the
#   image is 2 MB, so copying it per container costs nothing.
# - default_ulimits: podman's own defaults exceed what the sandbox allows.
# - events to a file in the temp dir: no journald here.
# - `podman import` runs with an empty /var/lib of its own (a private mount
#   namespace): containers/image keeps a blob-info cache for root in
#   /var/lib/containers/cache whatever --root says, and podman 4.3 has no
#   option to move it.
# What podman still writes outside the temp dir: the CNI library's result
# cache, /var/lib/cni/results/NETWORK-CONTAINERID-IFNAME (fixed path in
# podman 4.3), which CNI DEL removes; the cleanup removes what a failed run
# left under this run's network names, and the directories if empty.

NM_PODMAN_DIR=""        # everything podman writes, under NM_TMP
NM_PODMAN_ARGS=()       # podman's global options for this run
NM_PODMAN_IMAGE=""      # the image nm_podman_image imported
NM_PODMAN_NETWORKS=()   # network names (CNI conflists) written by this run
NM_PODMAN_SANDBOXES=()  # containers' network namespaces, for the cleanup
NM_PODMAN_CID=""        # full id of the container nm_podman_run started last

# nm_podman_init [PLUGIN_DIR...]: podman's directories and containers.conf
# under the run's temp dir; the plugin dirs are searched before Debian's
# /usr/lib/cni (which has host-local, tuning, bridge...). Registers the
# cleanup. Call it in the test's shell, after nm_node_create.
nm_podman_init() {
	local d dirs=""
	command -v podman >/dev/null || nm_fail "podman is not installed (scripts/setup installs it)"
	command -v runc >/dev/null || nm_fail "runc is not installed (scripts/setup installs it)"
	[[ -n $NM_NODE_NS ]] || nm_fail "nm_podman_init: no node namespace (nm_node_create first)"
	nm_tmp_init
	NM_PODMAN_DIR=$NM_TMP/podman
	mkdir -p "$NM_PODMAN_DIR"/{root,runroot,tmp,net,ipam,varlib}
	for d in "$@" /usr/lib/cni; do
		dirs+="${dirs:+, }\"$d\""
	done
	cat >"$NM_PODMAN_DIR/containers.conf" <<EOF
# written by scripts/lib/podman.sh for run $NM_SFX
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
# 0: no pids cgroup limit, which podman would only warn it cannot set here.
pids_limit = 0
[network]
network_backend = "cni"
network_config_dir = "$NM_PODMAN_DIR/net"
cni_plugin_dirs = [$dirs]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$NM_PODMAN_DIR/events.log"
EOF
	export CONTAINERS_CONF=$NM_PODMAN_DIR/containers.conf
	NM_PODMAN_ARGS=(--root "$NM_PODMAN_DIR/root" --runroot "$NM_PODMAN_DIR/runroot"
		--tmpdir "$NM_PODMAN_DIR/tmp" --storage-driver vfs --runtime runc
		--network-backend cni --cni-config-dir "$NM_PODMAN_DIR/net")
	NM_CLEANUP_HOOKS+=(nm_podman_cleanup)
}

# nm_podman ARGS...: podman with this run's storage, in the node namespace.
# A podman command here takes well under a second; one that hangs (a
# plugin waiting on a daemon that does not answer) is ended after 60 s
# with status 124, rather than holding the test until meson's timeout.
nm_podman() {
	timeout 60 nsenter --net="/run/netns/$NM_NODE_NS" podman "${NM_PODMAN_ARGS[@]}" "$@"
}

# nm_podman_image: import a busybox image (Debian's busybox-static: one
# static binary, applets as symlinks) from a tar of a root filesystem; sets
# NM_PODMAN_IMAGE.
nm_podman_image() {
	local rootfs=$NM_PODMAN_DIR/rootfs a out
	local applets=(sh ip ping wget httpd nc sleep timeout cat mkdir echo)
	# busybox-static's, not busybox's: the image holds no libc to link with.
	dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null | grep -qx installed ||
		nm_fail "busybox-static is not installed (scripts/setup installs it)"
	mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
	cp /bin/busybox "$rootfs/bin/busybox"
	for a in "${applets[@]}"; do
		ln -s busybox "$rootfs/bin/$a"
	done
	tar -C "$rootfs" -cf "$NM_PODMAN_DIR/rootfs.tar" .
	NM_PODMAN_IMAGE=localhost/nodemesh-busybox:$NM_SFX
	# Its own empty /var/lib: see the blob-info cache at the top.
	# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
	if ! out=$(unshare --mount sh -c 'mount --bind "$1" /var/lib && shift && exec "$@"' sh \
		"$NM_PODMAN_DIR/varlib" podman "${NM_PODMAN_ARGS[@]}" import \
		"$NM_PODMAN_DIR/rootfs.tar" "$NM_PODMAN_IMAGE" 2>&1); then
		nm_fail "podman import $NM_PODMAN_DIR/rootfs.tar failed: $out"
	fi
}

# nm_podman_network NAME: write the conflist on stdin as network NAME (its
# "name" must be NAME: podman looks networks up by it).
nm_podman_network() {
	local name=$1
	cat >"$NM_PODMAN_DIR/net/$name.conflist"
	NM_PODMAN_NETWORKS+=("$name")
}

# nm_podman_run NAME NETWORK CMD...: start container NAME detached on
# NETWORK running CMD; its full id in NM_PODMAN_CID. Fails the test with
# podman's message if it does not start.
nm_podman_run() {
	local name=$1 net=$2 out
	shift 2
	if ! out=$(nm_podman run -d --name "$name" --network "$net" "$NM_PODMAN_IMAGE" "$@" 2>&1); then
		nm_fail "podman run $name on network $net failed: $out"
	fi
	# shellcheck disable=SC2034 # for the caller
	NM_PODMAN_CID=$(nm_podman inspect -f '{{.Id}}' "$name") ||
		nm_fail "podman inspect $name failed after it started"
	NM_PODMAN_SANDBOXES+=("$(nm_podman inspect -f '{{.NetworkSettings.SandboxKey}}' "$name")")
}

# nm_podman_ip NAME NETWORK: the IPv4 address podman recorded for NAME on
# NETWORK (from the CNI result).
nm_podman_ip() {
	nm_podman inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

# nm_podman_cleanup: remove this run's containers (CNI DEL runs, so the
# daemon must still be up), then whatever a failure left: the containers'
# processes and network namespaces, mounts under the podman dir, CNI result
# cache entries of this run's networks. nm_cleanup calls it (hook).
nm_podman_cleanup() {
	local sb p net m
	[[ -n $NM_PODMAN_DIR && -d $NM_PODMAN_DIR ]] || return 0
	if [[ -n $NM_NODE_NS && -e /run/netns/$NM_NODE_NS ]]; then
		nm_podman rm -a -f -t 0 >/dev/null 2>&1 ||
			nm_log "podman rm -a -f failed; removing what is left by hand"
	fi
	for sb in "${NM_PODMAN_SANDBOXES[@]}"; do
		[[ -n $sb && -e $sb ]] || continue
		for p in $(ip netns pids "$(basename "$sb")" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		umount "$sb" 2>/dev/null
		rm -f "$sb"
	done
	NM_PODMAN_SANDBOXES=()
	# Deepest first, so that a mount inside another comes off before it.
	findmnt -rn -o TARGET | grep -F "$NM_PODMAN_DIR/" | sort -r | while read -r m; do
		umount -l "$m"
	done
	for net in "${NM_PODMAN_NETWORKS[@]}"; do
		rm -f /var/lib/cni/results/"$net"-*
	done
	# The library made these directories; left empty, they go too.
	rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
	rm -rf "$NM_PODMAN_DIR"
	NM_PODMAN_DIR=""
}
