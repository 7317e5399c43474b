# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Shared helpers for the integration tests and the demo: a "node" network
# namespace running nodemeshd, "pod" namespaces wired to it with veth pairs
# (Calico model: pod has a /32 and `default via 169.254.1.1 onlink`, the host
# end of the veth has no address and lives in the node namespace).
#
# Every name carries a per-run suffix (NM_SFX, default $$) so parallel or
# leftover runs never collide, and everything created is recorded so that
# nm_cleanup can remove it, pass or fail. Source this file, then:
#
#   trap nm_cleanup EXIT
#   nm_node_create node
#   nm_pod_create "$NM_NODE_NS" "nmpa$NM_SFX" "nmp${NM_SFX}a" 198.18.0.1
#   nm_daemon_start
#   nm_ctl pod add name=a ...
#
# Only addresses from 198.18.0.0/15 are used, and only inside namespaces
# this file created.

NM_SRC=${NM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NM_BUILD=${NM_BUILD:-$NM_SRC/build}
NM_SFX=${NM_SFX:-$$}
# The binaries, where meson puts them. Named, not searched for: a search
# done before scripts/setup built them (or one that finds a stale binary
# from an older layout of the build dir) would pick the wrong file.
NM_DAEMON=${NM_DAEMON:-$NM_BUILD/ctrl/nodemeshd}
NM_CTL_BIN=${NM_CTL_BIN:-$NM_BUILD/ctrl/nodemeshctl}
# Debian's python3 has scapy; a python3 earlier on PATH (pyenv) may not.
NM_PY=${NM_PY:-/usr/bin/python3}

NM_TMP=""           # per-run temp dir: config, socket, logs, server files
NM_SOCK=""          # control socket of the daemon started by nm_daemon_start
NM_NODE_NS=""       # last node namespace created
NM_DAEMON_PID=""    # nodemeshd pid (ip netns exec execs it, so it is the daemon)
NM_DAEMON_LOG=""
NM_FILE_PREFIX="nm$NM_SFX"
NM_NAMESPACES=()    # every namespace we created, pods first then nodes
NM_BG_PIDS=()       # background helpers we started (servers, listeners)
NM_CLEANUP_HOOKS=() # functions nm_cleanup calls first, while the daemon still runs
NM_CLEANED=0

nm_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Print the reason and exit non-zero; the EXIT trap cleans up.
nm_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	if [[ -n $NM_DAEMON_LOG && -s $NM_DAEMON_LOG ]]; then
		echo "--- last lines of nodemeshd log ($NM_DAEMON_LOG) ---" >&2
		tail -n 30 "$NM_DAEMON_LOG" >&2 || true
	fi
	exit 1
}

nm_ok() { printf 'ok: %s\n' "$*"; }

# Integration tests need root for namespaces; meson treats 77 as "skipped".
nm_require_root() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "SKIP: needs root (network namespaces)" >&2
		exit 77
	fi
}

# Create the per-run temp dir once (in this shell: never call it inside
# $(...), or the name is lost to cleanup).
nm_tmp_init() {
	if [[ -z $NM_TMP ]]; then
		NM_TMP=$(mktemp -d "/tmp/nodemesh.$NM_SFX.XXXXXX")
	fi
}

# Run a command inside a namespace.
nm_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# Start a command in the background inside a namespace and remember its pid
# so that nm_cleanup stops it. Output goes to the given log file.
# Usage: nm_bg NS LOGFILE CMD...   (pid in NM_LAST_BG)
nm_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	NM_LAST_BG=$!
	NM_BG_PIDS+=("$NM_LAST_BG")
}

# IPv6 in the test namespaces: on by default, as on a real node, where the
# host kernel sends router solicitations, MLD and DAD out of every pod's
# host end and on the fabric link; NM_IPV6=0 switches it off everywhere (a
# node without IPv6: tests/integration/meson.build runs some tests so too).
NM_IPV6=${NM_IPV6:-1}

# nm_ipv6_off NS [IF]: IPv6 off in NS (on IF) when NM_IPV6=0.
nm_ipv6_off() {
	local ns=$1 ifname=${2:-}
	[[ $NM_IPV6 == 1 ]] && return 0
	if [[ -n $ifname ]]; then
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifname.disable_ipv6=1"
	else
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	fi
}

# A namespace with loopback up (and IPv6 off when NM_IPV6=0).
nm_ns_add() {
	local ns=$1
	ip netns add "$ns"
	NM_NAMESPACES=("$ns" "${NM_NAMESPACES[@]}")
	nm_ipv6_off "$ns"
	ip -n "$ns" link set lo up
}

# nm_node_create NAME: node namespace "NAME$NM_SFX"; sets NM_NODE_NS.
# (Sets globals: do not call it inside $(...).)
nm_node_create() {
	local ns="${1}${NM_SFX}"
	nm_ns_add "$ns"
	NM_NODE_NS=$ns
}

# nm_pod_create NODE_NS POD_NS HOST_IF IP
# Pod namespace with eth0 (IP/32, default via 169.254.1.1 onlink, checksum
# offload off so TCP survives af_packet), host end HOST_IF up in NODE_NS
# with no address (IPv6 on unless NM_IPV6=0, as on a real node).
nm_pod_create() {
	local node=$1 pod=$2 hostif=$3 ip=$4
	if ((${#hostif} > 15)); then
		nm_fail "interface name '$hostif' longer than 15 characters"
	fi
	nm_ns_add "$pod"
	ip -n "$node" link add "$hostif" type veth peer name eth0 netns "$pod"
	# With NM_IPV6=0 default.disable_ipv6 already covers new links; set it
	# explicitly anyway. Otherwise the host end sends what a real node's does.
	nm_ipv6_off "$node" "$hostif"
	ip -n "$node" link set "$hostif" up
	nm_ipv6_off "$pod" eth0
	ip -n "$pod" addr add "$ip/32" dev eth0
	ip -n "$pod" link set eth0 up
	ip -n "$pod" route add 169.254.1.1 dev eth0 scope link
	ip -n "$pod" route add default via 169.254.1.1 dev eth0 onlink
	# TX checksum offload would leave partial checksums that af_packet
	# delivers as they are; turning it off also turns TSO off.
	ip netns exec "$pod" ethtool -K eth0 tx off >/dev/null
}

# nm_write_config FILE [LCORES]: a config for one test run.
# Conntrack timeouts (seconds) come from the daemon's defaults unless set in
# the environment: NM_TCP_SYN_TIMEOUT, NM_TCP_ESTABLISHED_TIMEOUT,
# NM_TCP_CLOSING_TIMEOUT, NM_TCP_CLOSED_TIMEOUT, NM_UDP_TIMEOUT,
# NM_ICMP_TIMEOUT, NM_OTHER_TIMEOUT. NM_MAX_PODS sets dataplane.max_pods,
# NM_AF_PACKET_VERSION dataplane.af_packet.version (2 or 3), NM_SIG_VARS the
# body of signatures.vars (NAME = "value"; settings), NM_SIG_HTTP_EVENTS
# signatures.http_events (with_rules or all), NM_IDLE_MODE
# dataplane.idle.mode (poll, sleep or wake; unset: the default). NM_CONFIG_EXTRA is
# appended at the top level (a tunnel group, say).
nm_write_config() {
	local file=$1 lcores=${2:-0-1} timeouts="" t var
	for t in tcp_syn tcp_established tcp_closing tcp_closed udp icmp other; do
		var="NM_${t^^}_TIMEOUT"
		if [[ -n ${!var:-} ]]; then
			timeouts+=" $t = ${!var};"
		fi
	done
	[[ -z $timeouts ]] || timeouts=" timeouts: {$timeouts };"
	cat >"$file" <<EOF
# written by scripts/lib/netns.sh for run $NM_SFX
node: { name = "${NM_NODE_NAME:-nmtest-$NM_SFX}"; };
eal: {
  lcores = "$lcores";
  file_prefix = "$NM_FILE_PREFIX";
  args = ["--no-huge", "-m", "512", "--no-pci", "--log-level=lib.eal:warning"];
};
control: { socket = "$NM_SOCK"; group = "root"; };
dataplane: {
  max_pods = ${NM_MAX_PODS:-256};
  af_packet: { version = ${NM_AF_PACKET_VERSION:-2}; };
  # Back off when idle: on two cores the clients need the other core's time.
  idle: { ${NM_IDLE_MODE:+mode = \"$NM_IDLE_MODE\"; }pause_after = 16; sleep_after = 256; sleep_us = 50; };
};
# Forwarding tests run with default allow; policy tests set NM_POLICY_DEFAULT=deny.
policy: { default = "${NM_POLICY_DEFAULT:-allow}"; };
conntrack: { capacity = ${NM_FLOW_CAPACITY:-65536};$timeouts };
logs: {
  flows = "${NM_FLOW_LOG:-$NM_TMP/flows.jsonl}";
  alerts = "${NM_ALERT_LOG:-$NM_TMP/alerts.jsonl}";
  store_dir = "${NM_STORE_DIR-$NM_TMP/store}";
  max_bytes = ${NM_STORE_MAX_BYTES:-0}L;
  flow_interval_s = ${NM_FLOW_INTERVAL_S:-300};
};
signatures: {
  file = "${NM_SIG_FILE:-}";
  max_streams = ${NM_SIG_MAX_STREAMS:-65536};
  http_events = "${NM_SIG_HTTP_EVENTS:-with_rules}";
  vars: { ${NM_SIG_VARS:-} };
};
state: { file = "${NM_STATE_FILE:-}"; };
metrics: { listen = "${NM_METRICS_LISTEN:-}"; };

pods = ( );
${NM_CONFIG_EXTRA:-}
EOF
}

# shellcheck disable=SC2120 # LCORES is optional
# nm_daemon_start [LCORES]: write a config, start nodemeshd inside
# NM_NODE_NS in the background and wait (up to 20 s) until the control
# socket answers `version`.
nm_daemon_start() {
	local lcores=${1:-0-1} tmp conf i rc
	[[ -n $NM_NODE_NS ]] || nm_fail "nm_daemon_start: no node namespace (nm_node_create first)"
	[[ -x $NM_DAEMON ]] || nm_fail "no $NM_DAEMON (build first)"
	[[ -x $NM_CTL_BIN ]] || nm_fail "no $NM_CTL_BIN (build first)"
	nm_tmp_init
	tmp=$NM_TMP
	NM_SOCK=$tmp/ctl.sock
	NM_DAEMON_LOG=$tmp/nodemeshd.log
	conf=$tmp/nodemesh.conf
	nm_write_config "$conf" "$lcores"
	ip netns exec "$NM_NODE_NS" "$NM_DAEMON" -c "$conf" -s "$NM_SOCK" \
		--file-prefix "$NM_FILE_PREFIX" >"$NM_DAEMON_LOG" 2>&1 </dev/null &
	NM_DAEMON_PID=$!
	for ((i = 0; i < 100; i++)); do
		if nm_ctl version >/dev/null 2>&1; then
			nm_log "nodemeshd (pid $NM_DAEMON_PID) ready on $NM_SOCK"
			return 0
		fi
		if ! kill -0 "$NM_DAEMON_PID" 2>/dev/null; then
			wait "$NM_DAEMON_PID" && rc=0 || rc=$?
			NM_DAEMON_PID=""
			nm_fail "nodemeshd exited with status $rc before it was ready"
		fi
		sleep 0.2
	done
	nm_fail "nodemeshd not ready after 20 s"
}

# nm_ctl ARGS...: nodemeshctl against this run's daemon.
nm_ctl() {
	"$NM_CTL_BIN" -s "$NM_SOCK" "$@"
}

# nm_json EXPR: read one JSON document on stdin, print the python expression
# EXPR evaluated with the document bound to j (lists and dicts as JSON).
nm_json() {
	"$NM_PY" -c '
import json, sys
j = json.load(sys.stdin)
v = eval(sys.argv[1], {"j": j})
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1"
}

# nm_sigstat EXPR: EXPR over `sig stats`' signatures object (bound to j).
nm_sigstat() {
	nm_ctl --json sig stats | nm_json "(lambda j: $1)(j['signatures'])"
}

# nm_jsonl FILE FILTER: the lines of a JSON-lines file matching a python
# condition on r, as a JSON list (the file may not exist yet).
nm_jsonl() {
	"$NM_PY" - "$1" "$2" <<'EOF'
import json, os, sys
out = []
if os.path.exists(sys.argv[1]):
    for line in open(sys.argv[1]):
        if line.strip():
            r = json.loads(line)
            if eval(sys.argv[2], {"r": r}):
                out.append(r)
print(json.dumps(out))
EOF
}

# nm_wait_jsonl FILE FILTER [TENTHS]: like nm_jsonl, once a line matches (default 5 s).
nm_wait_jsonl() {
	local i n=${3:-50} got="[]"
	for ((i = 0; i < n; i++)); do
		got=$(nm_jsonl "$1" "$2")
		[[ $got == "[]" ]] || break
		sleep 0.1
	done
	printf '%s\n' "$got"
}

# nm_drop REASON: current value of stats drops.REASON (node total).
nm_drop() {
	nm_ctl --json stats | nm_json "j['drops']['$1']"
}

# nm_stop_daemon: SIGTERM, wait up to 10 s, then SIGKILL. Returns the
# daemon's exit status (non-zero if it had to be killed).
nm_stop_daemon() {
	local pid=$NM_DAEMON_PID i rc=0
	[[ -n $pid ]] || return 0
	NM_DAEMON_PID=""
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			nm_log "nodemeshd (pid $pid) ignored SIGTERM for 10 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			return 137
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# nm_cleanup: stop everything this run started and delete what it created.
# Safe to call twice (and from an EXIT trap after an explicit call). The
# functions in NM_CLEANUP_HOOKS run first, last added first, while the
# daemon and the namespaces are still there (a container runtime's teardown
# talks to the daemon and enters the node namespace).
nm_cleanup() {
	local rc=$? pid ns p i
	if ((NM_CLEANED)); then
		return "$rc"
	fi
	NM_CLEANED=1
	set +e
	for ((i = ${#NM_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
		"${NM_CLEANUP_HOOKS[i]}"
	done
	NM_CLEANUP_HOOKS=()
	nm_stop_daemon
	for pid in "${NM_BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${NM_BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	NM_BG_PIDS=()
	for ns in "${NM_NAMESPACES[@]}"; do
		# Anything still running inside our own namespaces was started by
		# this run (a server's children); stop it so the netns can go.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		# Deleting a pod namespace deletes its eth0 and so the veth pair.
		ip netns del "$ns" 2>/dev/null
	done
	NM_NAMESPACES=()
	# EAL runtime files of our own --file-prefix, if the daemon left any.
	if [[ -n $NM_FILE_PREFIX ]]; then
		rm -rf "/var/run/dpdk/$NM_FILE_PREFIX"
		# and of the daemons that took over from it (--takeover adds -to<pid>)
		rm -rf "/var/run/dpdk/$NM_FILE_PREFIX"-to*
	fi
	if [[ -n $NM_TMP && -d $NM_TMP ]]; then
		rm -rf "$NM_TMP"
	fi
	NM_TMP=""
	return "$rc"
}

# nm_trap: clean up on every exit, and turn INT/TERM into an exit so the
# EXIT trap runs.
nm_trap() {
	trap nm_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# --- traffic helpers ---------------------------------------------------------

# nm_ping_ok FROM_NS DST: warm-up ping (ARP may eat it), then 3 pings of
# which at least one must be answered.
nm_ping_ok() {
	local ns=$1 dst=$2 out
	ip netns exec "$ns" ping -n -c 1 -W 1 "$dst" >/dev/null 2>&1 || true
	if ! out=$(ip netns exec "$ns" ping -n -c 3 -W 1 -i 0.2 "$dst" 2>&1); then
		printf '%s\n' "$out" >&2
		return 1
	fi
	grep -q "bytes from $dst" <<<"$out"
}

# nm_ping_fails FROM_NS DST: 2 pings, none may be answered by DST.
nm_ping_fails() {
	local ns=$1 dst=$2 out
	out=$(ip netns exec "$ns" ping -n -c 2 -W 1 -i 0.2 "$dst" 2>&1) && {
		printf '%s\n' "$out" >&2
		return 1
	}
	if grep -q "bytes from $dst" <<<"$out"; then
		printf '%s\n' "$out" >&2
		return 1
	fi
	return 0
}

# nm_wait_listen NS PROTO PORT: wait up to 10 s for a listening socket.
nm_wait_listen() {
	local ns=$1 proto=$2 port=$3 i flag
	[[ $proto == udp ]] && flag=-uln || flag=-tln
	for ((i = 0; i < 50; i++)); do
		if ip netns exec "$ns" ss -H "$flag" "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# nm_nginx_start NS DOCROOT PORT: nginx serving DOCROOT inside NS, all its
# files (pid, logs, temp dirs) in the run's temp dir. NM_NGINX_HTTP_EXTRA,
# when set, is added to the http block (gzip settings, say).
nm_nginx_start() {
	local ns=$1 root=$2 port=$3 dir
	nm_tmp_init
	dir=$NM_TMP/nginx-$ns
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<EOF
# Runs as root: the temp dir is private (mode 700) to this run.
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
  access_log $dir/access.log;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  types { text/plain txt; text/html html; }
  default_type application/octet-stream;
  ${NM_NGINX_HTTP_EXTRA:-}
  server {
    listen $port;
    root $root;
  }
}
EOF
	nm_bg "$ns" "$dir/stderr.log" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
	if ! nm_wait_listen "$ns" tcp "$port"; then
		cat "$dir/stderr.log" "$dir/error.log" >&2 2>/dev/null
		return 1
	fi
}

# nm_web_pair < RULES: the topology of the HTTP signature tests: pods 1
# and 2 up, pod-1 (test/sa-1) allowed to pod-2 port 80 with inspection,
# nginx in pod-2 serving $NM_TMP/www (an index.html), the signature rules
# read from stdin loaded from $NM_TMP/http.rules; sig load's answer in
# NM_SIG_LOADED. Not in a subshell: it starts the daemon this shell cleans up.
nm_web_pair() {
	local i out
	nm_pods_setup 2
	nm_daemon_start
	for i in 1 2; do nm_pod_add "$i"; done
	nm_tmp_init
	cat >"$NM_TMP/http.rules"
	out=$(nm_ctl --json policy add allow from test/sa-1 to test/sa-2 proto tcp port 80 inspect on) ||
		nm_fail "policy add: $out"
	mkdir -p "$NM_TMP/www"
	echo "hello from pod-2" >"$NM_TMP/www/index.html"
	nm_nginx_start "${NM_POD_NS[2]}" "$NM_TMP/www" 80 || nm_fail "nginx did not start in pod-2"
	NM_SIG_LOADED=$(nm_ctl --json sig load file="$NM_TMP/http.rules" 2>&1) ||
		nm_fail "sig load: $NM_SIG_LOADED"
}

# --- standard test topology --------------------------------------------------

# nm_pods_setup COUNT: one node namespace and COUNT pods; pod i (1-based)
# has namespace NM_POD_NS[i], host interface NM_POD_IF[i] (in the node
# namespace) and address NM_POD_IP[i] = 198.18.0.i.
NM_POD_NS=()
NM_POD_IF=()
NM_POD_IP=()
nm_pods_setup() {
	local n=$1 i letters=abcdefghijklmnopqrstuvwxyz
	nm_node_create nmnode
	for ((i = 1; i <= n; i++)); do
		NM_POD_NS[i]="nmpod${NM_SFX}${letters:i-1:1}"
		NM_POD_IF[i]="nmp${NM_SFX}${letters:i-1:1}"
		NM_POD_IP[i]="198.18.0.$i"
		nm_pod_create "$NM_NODE_NS" "${NM_POD_NS[i]}" "${NM_POD_IF[i]}" "${NM_POD_IP[i]}"
	done
}

# nm_pod_args I: the `pod add` arguments of standard pod I.
nm_pod_args() {
	local i=$1
	printf '%s\n' "name=pod-$i" "namespace=test" "serviceaccount=sa-$i" \
		"ip=${NM_POD_IP[i]}" "iface=${NM_POD_IF[i]}" "labels=app=t$i,run=$NM_SFX" \
		"image=example/pod:$i"
}

# nm_pod_add I: add standard pod I to the daemon; fails the test if refused.
nm_pod_add() {
	local i=$1 args out
	mapfile -t args < <(nm_pod_args "$i")
	if ! out=$(nm_ctl pod add "${args[@]}" 2>&1); then
		nm_fail "pod add pod-$i refused: $out"
	fi
}

# nm_pods_start N: N standard pods, a daemon, every pod added, the temp dir.
nm_pods_start() {
	local n=$1 i
	nm_pods_setup "$n"
	nm_daemon_start
	for ((i = 1; i <= n; i++)); do nm_pod_add "$i"; done
	nm_tmp_init
}

# nm_udp_churn NS DST COUNT: COUNT UDP flows from NS to DST:9999, one
# datagram each from a new socket (a new source port), 2 ms apart.
nm_udp_churn() {
	nm_in "$1" "$NM_PY" -c '
import socket, sys, time
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"churn", (sys.argv[1], 9999))
    s.close()
    time.sleep(0.002)
' "$2" "$3"
}

# nm_state_snapshot: what a restart or takeover must bring back (pods,
# identities, rules with their ids, the default action, the signature
# file), as one comparable JSON line.
nm_state_snapshot() {
	{
		nm_ctl --json pod list
		nm_ctl --json identity list
		nm_ctl --json policy list
		nm_ctl --json sig list
	} | "$NM_PY" -c '
import json, sys
docs = [json.loads(l) for l in sys.stdin if l.strip()]
pods = sorted((p["name"], p["namespace"], p["serviceaccount"], p["ip"], p["iface"], p["labels"], p["container"]) for p in docs[0]["pods"])
ids = sorted((i["namespace"], i["name"], i["serviceaccount"], i["labels"], i["image"]) for i in docs[1]["identities"])
rules = [(r["id"], r["rule"]) for r in docs[2]["rules"]]
print(json.dumps({"pods": pods, "identities": ids, "rules": rules, "default": docs[2]["default"], "sig_file": docs[3].get("file")}, sort_keys=True))
'
}

# nm_wait_log LOG EXPR TENTHS: wait up to TENTHS/10 s until the python
# EXPR holds with j = stats logs.LOG (flows, alerts, store); fail if not.
nm_wait_log() {
	local i s
	for ((i = 0; i < $3; i++)); do
		s=$(nm_ctl --json stats | nm_json "j['logs']['$1']")
		[[ $(nm_json "$2" <<<"$s") == True ]] && return 0
		sleep 0.2
	done
	nm_fail "logs.$1 never reached '$2': $s"
}

# nm_wait_file FILE [TENTHS]: wait until FILE exists (default 10 s).
nm_wait_file() {
	local f=$1 n=${2:-100} i
	for ((i = 0; i < n; i++)); do
		[[ -e $f ]] && return 0
		sleep 0.1
	done
	[[ -e $f ]]
}
