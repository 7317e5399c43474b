#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# memif and af_xdp pods are DPDK ethdevs, and Debian's DPDK holds 32
# (RTE_MAX_ETHPORTS). Without a fabric port: 32 memif pods attach (a memif
# server needs no client to attach), the 33rd is refused with an error
# that names the limit, and an af_packet pod still attaches and forwards,
# since it takes no ethdev (README "Pod I/O").
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

nm_pods_setup 2
nm_daemon_start
mkdir -p "$NM_TMP/memif"
memif_add() {
	nm_ctl pod add "name=m$1" namespace=lim serviceaccount=lim "ip=198.18.1.$1" driver=memif \
		"socket=$NM_TMP/memif/m$1.sock"
}
for ((i = 1; i <= 32; i++)); do
	out=$(memif_add "$i" 2>&1) || nm_fail "memif pod m$i refused: $out"
done
nm_ok "32 memif pods attached"
if out=$(memif_add 33 2>&1); then
	nm_fail "a 33rd memif pod attached beyond RTE_MAX_ETHPORTS"
fi
[[ $out == *"at most 32 ethdevs (RTE_MAX_ETHPORTS"* ]] ||
	nm_fail "33rd memif pod refused, but the error does not name the limit: $out"
nm_ok "33rd memif pod refused: $out"

nm_pod_add 1
nm_pod_add 2
nm_ping_ok "${NM_POD_NS[1]}" "${NM_POD_IP[2]}" || nm_fail "af_packet pods beside 32 ethdevs: no ping"
nm_ok "af_packet pods attach and forward beside 32 ethdevs"
echo "ethdev_limit: PASS"
