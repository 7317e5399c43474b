#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Pod removal and re-adding at run time: after `pod del` of pod-3 nothing
# reaches it while pod-1 <-> pod-2 keeps working; after adding it again with
# the same arguments it is reachable again.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

nm_pods_setup 3
nm_daemon_start
for i in 1 2 3; do nm_pod_add "$i"; done

nm_ping_ok "${NM_POD_NS[1]}" "${NM_POD_IP[3]}" || nm_fail "ping pod-1 -> pod-3 before del got no reply"
nm_ok "pod-3 reachable before del"

out=$(nm_ctl pod del name=pod-3 2>&1) || nm_fail "pod del pod-3 refused: $out"
names=$(nm_ctl --json pod list | nm_json "sorted(p['name'] for p in j['pods'])")
[[ $names == '["pod-1", "pod-2"]' ]] || nm_fail "pod list after del: $names"
nm_ok "pod del pod-3; pod list $names"

nm_ping_fails "${NM_POD_NS[1]}" "${NM_POD_IP[3]}" || nm_fail "pod-3 still answers after pod del (from pod-1)"
nm_ping_fails "${NM_POD_NS[3]}" "${NM_POD_IP[1]}" || nm_fail "deleted pod-3 still reaches pod-1"
nm_ok "pod-3 unreachable both ways after del"
nm_ping_ok "${NM_POD_NS[1]}" "${NM_POD_IP[2]}" || nm_fail "ping pod-1 -> pod-2 failed after deleting pod-3"
nm_ping_ok "${NM_POD_NS[2]}" "${NM_POD_IP[1]}" || nm_fail "ping pod-2 -> pod-1 failed after deleting pod-3"
nm_ok "pod-1 <-> pod-2 unaffected"

nm_pod_add 3
nm_ping_ok "${NM_POD_NS[1]}" "${NM_POD_IP[3]}" || nm_fail "ping pod-1 -> pod-3 after re-add got no reply"
nm_ping_ok "${NM_POD_NS[3]}" "${NM_POD_IP[2]}" || nm_fail "ping pod-3 -> pod-2 after re-add got no reply"
nm_ok "pod-3 reachable again after re-add"
echo "poddel: PASS"
