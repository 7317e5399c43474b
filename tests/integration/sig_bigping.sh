#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Large reassembled datagrams pass inspection. Two af_xdp pods (where
# nodemesh reassembles fragments itself, into mbuf chains) with a rule set
# that has ICMP and UDP rules loaded: `ping -s 1900`, `-s 2100` and
# `-s 4000` get their replies, every one scanned (sig stats bytes grow),
# nothing dropped as signature_scan_error or signature_scan_buffer. Then a
# 4000-byte ping whose payload repeats "EVIL" is dropped by an ICMP drop
# rule (signature_drop grows): the chain was scanned, not waved through.
# Skipped (77) where the af_xdp PMD cannot attach to a veth.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do
	mapfile -t args < <(nm_pod_args "$i")
	if ! out=$(nm_ctl pod add "${args[@]}" driver=af_xdp 2>&1); then
		if ((i == 1)); then
			echo "SKIP: af_xdp pods not available here: $out" >&2
			exit 77
		fi
		nm_fail "pod add pod-$i driver=af_xdp refused: $out"
	fi
done
nm_tmp_init
P1=${NM_POD_NS[1]} IP2=${NM_POD_IP[2]}
cat >"$NM_TMP/rules" <<EOF
drop icmp any any -> any any (msg:"evil ping"; content:"EVILEVIL"; sid:1000101;)
alert udp any any -> any 9999 (msg:"udp marker"; content:"NEVERSENT"; sid:1000102;)
EOF
out=$(nm_ctl sig load file="$NM_TMP/rules" 2>&1) || nm_fail "sig load: $out"
nm_ping_ok "$P1" "$IP2" || nm_fail "small ping pod-1 -> pod-2 got no reply"

sig_bytes() { nm_ctl --json sig stats | nm_json "j['signatures']['bytes_scanned']"; }
errors() { echo $(($(nm_drop signature_scan_error) + $(nm_drop signature_scan_buffer))); }

for size in 1900 2100 4000; do
	b0=$(sig_bytes)
	got=$(ip netns exec "$P1" ping -n -c 3 -W 2 -i 0.3 -s "$size" "$IP2" 2>&1 |
		grep -c "bytes from $IP2" || true)
	b1=$(sig_bytes)
	((got == 3)) || nm_fail "ping -s $size: $got of 3 replies (drops: $(nm_ctl --json stats |
		nm_json "{k: v for k, v in j['drops'].items() if v}"))"
	# 3 requests and 3 replies, each at least size bytes of ICMP payload.
	((b1 - b0 >= 6 * size)) || nm_fail "ping -s $size: only $((b1 - b0)) bytes scanned"
	nm_ok "ping -s $size: 3 of 3 replies, $((b1 - b0)) bytes scanned"
done
(($(errors) == 0)) || nm_fail "scan errors: $(errors)"

d0=$(nm_drop signature_drop)
got=$(ip netns exec "$P1" ping -n -c 2 -W 1 -i 0.3 -s 4000 -p 4556494c "$IP2" 2>&1 |
	grep -c "bytes from $IP2" || true)
d1=$(nm_drop signature_drop)
((got == 0)) || nm_fail "ping -s 4000 with EVIL in every byte answered ($got)"
((d1 > d0)) || nm_fail "ping -s 4000 with EVIL: signature_drop did not grow"
nm_ok "ping -s 4000 carrying EVILEVIL: no reply, signature_drop +$((d1 - d0))"
echo "sig_bigping: PASS"
