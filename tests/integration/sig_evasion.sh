#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stream IDS evasions: sig_evasion.py, in pod-1, crafts TCP connections by
# hand (scapy) to a server in pod-2 that records every byte it receives,
# and tries to get "UNION SELECT" past a reject rule by splitting it (2 and
# 12 segments), reordering, overlapping (bad-checksum decoys, back-to-back
# copies, partial overlaps), data on the SYN or before the SYN-ACK, RSTs
# (with data, out of window) and FIN with data, urgent pointers, a low-TTL
# decoy and IP fragments. Each case: the server never receives the whole
# signature, the bytes that should pass arrive exactly, and the counter of
# the case grows.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
here=$(cd "$(dirname "$0")" && pwd)
port=8080
sid=1000100

command -v tcpdump >/dev/null || nm_fail "tcpdump not installed (scripts/setup installs it)"
"$NM_PY" -c 'import scapy' 2>/dev/null || nm_fail "$NM_PY has no scapy (python3-scapy)"
nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP1=${NM_POD_IP[1]} IP2=${NM_POD_IP[2]}

# The rule as a real rule set would write it: established flows to the server.
cat >"$NM_TMP/evasion.rules" <<EOF
reject tcp any any -> any $port (msg:"evasion test: UNION SELECT"; flow:to_server,established; content:"UNION SELECT"; nocase; classtype:web-application-attack; sid:$sid; rev:1;)
EOF
out=$(nm_ctl sig load file="$NM_TMP/evasion.rules" 2>&1) || nm_fail "sig load: $out"

mkdir -p "$NM_TMP/server"
nm_bg "$P2" "$NM_TMP/server.log" "$NM_PY" "$here/tcp_record.py" --bind 0.0.0.0 --port "$port" \
	--dir "$NM_TMP/server" --ready-file "$NM_TMP/server.ready" --total 120
nm_wait_file "$NM_TMP/server.ready" || nm_fail "recording server did not start in pod-2"

nm_ping_ok "$P1" "$IP2" || nm_fail "ping pod-1 -> pod-2 got no reply"
gw_mac=$(nm_in "$P1" ip neigh show 169.254.1.1 dev eth0 | awk '/lladdr/ {print $3}')
[[ $gw_mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || nm_fail "no gateway MAC in pod-1 after ping: '$gw_mac'"

# pod-1's kernel has no socket for the crafted connections and answers the
# server's SYN-ACKs and ACKs with bare RSTs, which would end them. Drop
# bare RSTs (IPv4 total length 40, RST flag) on pod-1's egress. Neither
# iptables nor nft is installed here, and the kernel has no gact action,
# so: a classic BPF program from tcpdump's compiler, run by cls_bpf in
# direct-action mode, whose "match" return is turned into TC_ACT_SHOT (2).
bytecode=$(tcpdump -ddd -y EN10MB 'ip and tcp[13] & 4 != 0 and ip[2:2] == 40' |
	sed 's/^6 0 0 262144$/6 0 0 2/' | paste -sd,)
[[ $bytecode == *",6 0 0 2,"* ]] || nm_fail "unexpected cBPF from tcpdump: $bytecode"
nm_in "$P1" tc qdisc add dev eth0 clsact
nm_in "$P1" tc filter add dev eth0 egress bpf da bytecode "$bytecode"

rc=0
nm_in "$P1" timeout 90 "$NM_PY" "$here/sig_evasion.py" --gw-mac "$gw_mac" --src "$IP1" --dst "$IP2" \
	--port "$port" --ctl "$NM_CTL_BIN" --sock "$NM_SOCK" --alerts "$NM_TMP/alerts.jsonl" \
	--server-dir "$NM_TMP/server" --sid "$sid" || rc=$?
((rc == 0)) || nm_fail "sig_evasion.py: some evasion cases failed (exit $rc; see the FAIL lines above)"
echo "sig_evasion: PASS"
