#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Control socket robustness: 50+ malformed requests (unknown commands,
# missing or bad arguments, oversized lines, control bytes, duplicates of
# existing pods...) each get one JSON line with "ok":false and an error;
# afterwards the daemon still answers and its pod table is unchanged.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
here=$(cd "$(dirname "$0")" && pwd)

# Three veths, two pods: pod-3's veth is a real interface that is no pod,
# so requests that use it are wrong only in the one way they mean to be.
nm_pods_setup 3
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done

# The pod table without traffic counters (the kernel may still send a
# stray frame; what matters is which pods exist and how).
pod_table() {
	nm_ctl --json pod list |
		nm_json "sorted([{k: v for k, v in p.items() if k not in ('rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes', 'drops')} for p in j['pods']], key=lambda p: p['name'])"
}
before=$(pod_table)

"$NM_PY" "$here/ctl_errors.py" "$NM_SOCK" "${NM_POD_IF[1]}" "${NM_POD_IF[2]}" \
	"${NM_POD_IF[3]}" "${NM_POD_IP[1]}" || nm_fail "some malformed requests got a wrong answer (above)"

kill -0 "$NM_DAEMON_PID" 2>/dev/null || nm_fail "nodemeshd died during the malformed requests"
nm_ctl --json stats >/dev/null || nm_fail "stats does not answer ok after the malformed requests"
after=$(pod_table)
if [[ $before != "$after" ]]; then
	echo "before: $before" >&2
	echo "after:  $after" >&2
	nm_fail "pod table changed"
fi
nm_ok "daemon alive, stats ok, pod table unchanged"
# The pods still forward: the state behind the table is intact too.
nm_ping_ok "${NM_POD_NS[1]}" "${NM_POD_IP[2]}" || nm_fail "ping pod-1 -> pod-2 failed after the malformed requests"
nm_ok "pod-1 -> pod-2 still forwards"
echo "ctl_errors: PASS"
