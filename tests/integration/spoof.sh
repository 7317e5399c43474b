#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Anti-spoofing: pod-1 sends 20 UDP datagrams with a forged source
# (198.18.0.77) and 20 with its own to pod-2. A listener in pod-2 must get
# all true ones and none of the forged ones, and drops.spoofed_source must
# grow by at least 20.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
here=$(cd "$(dirname "$0")" && pwd)
port=5555
forged=198.18.0.77

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init

# A ping resolves the gateway in pod-1's neighbour table; scapy then sends
# Ethernet frames to that MAC (no scapy ARP or routing guesswork).
nm_ping_ok "${NM_POD_NS[1]}" "${NM_POD_IP[2]}" || nm_fail "ping pod-1 -> pod-2 got no reply"
gw_mac=$(nm_in "${NM_POD_NS[1]}" ip neigh show 169.254.1.1 dev eth0 | awk '/lladdr/ {print $3}')
[[ $gw_mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || nm_fail "no gateway MAC in pod-1 after ping: '$gw_mac'"

before=$(nm_drop spoofed_source)
ready=$NM_TMP/listen.ready
nm_bg "${NM_POD_NS[2]}" "$NM_TMP/listen.out" "$NM_PY" "$here/udp_listen.py" \
	--bind 0.0.0.0 --port "$port" --ready-file "$ready" --idle 2 --total 20
listener=$NM_LAST_BG
nm_wait_file "$ready" || nm_fail "UDP listener in pod-2 did not start"

# Forged first, so a late forged packet cannot hide behind the idle timeout.
nm_in "${NM_POD_NS[1]}" "$NM_PY" "$here/udp_send.py" --gw-mac "$gw_mac" \
	--src "$forged" --dst "${NM_POD_IP[2]}" --port "$port" --count 20 --tag spoofed ||
	nm_fail "scapy send (forged) failed"
nm_in "${NM_POD_NS[1]}" "$NM_PY" "$here/udp_send.py" --gw-mac "$gw_mac" \
	--src "${NM_POD_IP[1]}" --dst "${NM_POD_IP[2]}" --port "$port" --count 20 --tag true ||
	nm_fail "scapy send (true) failed"
wait "$listener" || nm_fail "UDP listener failed: $(cat "$NM_TMP/listen.out")"

true_n=$(grep -c " true-" "$NM_TMP/listen.out" || true)
spoof_n=$(grep -c " spoofed-" "$NM_TMP/listen.out" || true)
from_forged=$(grep -c "^$forged " "$NM_TMP/listen.out" || true)
after=$(nm_drop spoofed_source)
echo "pod-2 received: $true_n true, $spoof_n forged; drops.spoofed_source $before -> $after"
((spoof_n == 0 && from_forged == 0)) || nm_fail "$spoof_n forged datagrams reached pod-2"
((true_n == 20)) || nm_fail "only $true_n of 20 true datagrams reached pod-2"
((after - before >= 20)) || nm_fail "drops.spoofed_source grew by $((after - before)), expected >= 20"
nm_ok "forged source dropped and counted, true source delivered"
echo "spoof: PASS"
