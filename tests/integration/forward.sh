#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Pod-to-pod forwarding through one nodemeshd: ping between every ordered
# pair of three pods, iperf3 TCP, HTTP (nginx -> curl, exact content), ICMP
# to an address that is no pod (no reply, drops.no_pod counted), per-pod
# counters, and a clean SIGTERM shutdown that removes the socket.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

nm_pods_setup 3
nm_daemon_start
for i in 1 2 3; do nm_pod_add "$i"; done

# 1. ping matrix: every ordered pair.
for s in 1 2 3; do
	for d in 1 2 3; do
		((s != d)) || continue
		nm_ping_ok "${NM_POD_NS[s]}" "${NM_POD_IP[d]}" ||
			nm_fail "ping pod-$s -> pod-$d (${NM_POD_IP[d]}) got no reply"
		nm_ok "ping pod-$s -> pod-$d"
	done
done

# 2. iperf3 TCP pod-1 -> pod-2 for 5 s. One-shot server (-1) so it exits
#    after the test; the client is bounded by -t and by timeout.
nm_tmp_init
nm_bg "${NM_POD_NS[2]}" "$NM_TMP/iperf3-server.log" iperf3 -s -1 -B "${NM_POD_IP[2]}" -p 5201
nm_wait_listen "${NM_POD_NS[2]}" tcp 5201 || nm_fail "iperf3 server did not start"
if ! nm_in "${NM_POD_NS[1]}" timeout 40 iperf3 -c "${NM_POD_IP[2]}" -p 5201 -t 5 -J \
	>"$NM_TMP/iperf3.json" 2>&1; then
	cat "$NM_TMP/iperf3.json" >&2
	nm_fail "iperf3 pod-1 -> pod-2 failed"
fi
bps=$(nm_json "j['end']['sum_received']['bits_per_second']" <"$NM_TMP/iperf3.json")
"$NM_PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$bps" ||
	nm_fail "iperf3 received 0 bits/s"
nm_ok "iperf3 pod-1 -> pod-2: $("$NM_PY" -c 'import sys; print("%.1f Mbit/s" % (float(sys.argv[1]) / 1e6))' "$bps")"

# 3. HTTP: nginx in pod-3, curl from pod-1 must get the exact file content.
mkdir -p "$NM_TMP/www"
expected="nodemesh forward test $NM_SFX $RANDOM$RANDOM"
printf '%s\n' "$expected" >"$NM_TMP/www/hello.txt"
nm_nginx_start "${NM_POD_NS[3]}" "$NM_TMP/www" 80 || nm_fail "nginx did not start in pod-3"
got=$(nm_in "${NM_POD_NS[1]}" curl -sS --max-time 10 "http://${NM_POD_IP[3]}/hello.txt") ||
	nm_fail "curl pod-1 -> nginx in pod-3 failed"
[[ $got == "$expected" ]] || nm_fail "curl got '$got', expected '$expected'"
nm_ok "curl pod-1 -> nginx in pod-3: exact content"

# 4. No pod at 198.18.0.99: no echo reply but an ICMP unreachable from the
#    gateway, and the drop is counted as no_pod.
before=$(nm_drop no_pod)
out=$(nm_in "${NM_POD_NS[1]}" ping -n -c 2 -W 1 -i 0.2 198.18.0.99 2>&1) &&
	nm_fail "ping to 198.18.0.99 (no pod) succeeded: $out"
grep -q "bytes from 198.18.0.99" <<<"$out" && nm_fail "ping to 198.18.0.99 (no pod) was answered: $out"
grep -q "From 169.254.1.1 .*Unreachable" <<<"$out" ||
	nm_fail "no ICMP unreachable from 169.254.1.1 for 198.18.0.99: $out"
after=$(nm_drop no_pod)
((after > before)) || nm_fail "drops.no_pod did not increase ($before -> $after)"
nm_ok "ping to no-pod address: ICMP unreachable, no reply, drops.no_pod $before -> $after"

# 5. Every pod saw traffic both ways.
nm_ctl pod list
pods=$(nm_ctl --json pod list)
for i in 1 2 3; do
	counts=$(nm_json "[(p['rx_packets'], p['tx_packets']) for p in j['pods'] if p['name'] == 'pod-$i']" <<<"$pods")
	"$NM_PY" -c 'import json, sys; c = json.loads(sys.argv[1]); sys.exit(0 if len(c) == 1 and c[0][0] > 0 and c[0][1] > 0 else 1)' "$counts" ||
		nm_fail "pod-$i counters not both > 0: $counts"
done
nm_ok "rx/tx counters > 0 for every pod"

# 6. SIGTERM stops the daemon cleanly and removes its socket.
sock=$NM_SOCK
nm_stop_daemon || nm_fail "nodemeshd exited with status $? on SIGTERM"
[[ ! -e $sock ]] || nm_fail "socket $sock left behind after SIGTERM"
nm_ok "clean shutdown on SIGTERM, socket removed"
echo "forward: PASS"
