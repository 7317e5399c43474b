#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Takeover of a node with a tunnel while traffic crosses it: two nodes
# (scripts/lib/twonode.sh, IPv6 on), a1 pings b1 every 10 ms and an iperf3
# upload a2 -> b2 runs, and node a's daemon is replaced by `nodemeshd
# --takeover` with the same config. The new daemon seals and opens with the
# keys, sequence numbers and replay windows the old one handed over, then
# dials b afresh; b's new session replaces the old one and the keys rotate.
# Checked: the TCP connection survives, the pings lost and the longest gap
# are printed (a bound, not zero: b's pods' rings are b's, but frames on
# a's fabric during the gap are read by whichever process owns the port),
# the new daemon knew b's pods from the first packet (no no_pod, no
# inner_spoofed), b rejected no record (no replay, no bad tag, no wrong
# epoch) and was
# never without a key, the tunnel is up again on both nodes with a new
# session and a new epoch on a, pings cross both ways after, and nothing
# that looks like key material is in node a's daemons' logs.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

rejected() { tn_peer "$1" "t['rejected_total']"; }

tn_up 2
old_pid=${NM2_PID[a]}
epoch0=$(tn_peer a "t['epoch']")
sessions_b0=$(tn_peer b "t['sessions']")
nokey_b0=$(tn_peer b "t['dropped_no_key']")
spoofed_a0=$(tn_peer a "t['inner_spoofed']")
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 got no reply"
pods0=$(nm2_ctl a --json pod list | nm_json "sorted(p['name'] for p in j['pods'])")

# 1. Traffic: pings a1 -> b1 every 10 ms for 5 s, iperf3 a2 -> b2 for 6 s.
nm_bg "${NM2_POD_NS[b2]}" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -B "${NM2_POD_IP[b2]}" -p 5201
nm_wait_listen "${NM2_POD_NS[b2]}" tcp 5201 || nm_fail "iperf3 server did not start in b2"
nm_bg "${NM2_POD_NS[a2]}" "$NM_TMP/iperf3.json" timeout 30 iperf3 -c "${NM2_POD_IP[b2]}" \
	-p 5201 -t 6 -i 1 -J
iperf=$NM_LAST_BG
nm_bg "${NM2_POD_NS[a1]}" "$NM_TMP/ping.log" ping -n -i 0.01 -c 500 -W 1 "${NM2_POD_IP[b1]}"
pinger=$NM_LAST_BG
sleep 2

# 2. The takeover of node a.
nm2_takeover a
took=$(grep -o 'forwarding [0-9.]* ms after asking' "${NM2_LOG[a]}")
grep -q "takeover: 1 peers' keys in force (.*), 2 remote pods" "${NM2_LOG[a]}" ||
	nm_fail "the new daemon did not put the peer's keys and pods in force: $(grep takeover: "${NM2_LOG[a]}")"
nm_ok "node a taken over: pid $old_pid -> ${NM2_PID[a]}, $took"

# 3. The traffic through it.
wait "$pinger" || true
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$NM_TMP/ping.log")
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$NM_TMP/ping.log")
[[ -n $sent && -n $got ]] || nm_fail "no ping summary: $(tail -n 3 "$NM_TMP/ping.log")"
gap=$("$NM_PY" - "$NM_TMP/ping.log" <<'EOF'
import re, sys
seqs = sorted(int(m.group(1)) for m in re.finditer(r"icmp_seq=(\d+)", open(sys.argv[1]).read()))
print(max([(b - a - 1) * 10 for a, b in zip(seqs, seqs[1:])] + [0]))
EOF
)
lost=$((sent - got))
# A bound for a loaded 2-core machine beside iperf3 (0 lost here when
# nothing else ran); the lost pings are printed either way.
((lost <= 10)) || nm_fail "$lost of $sent pings a1 -> b1 lost across the takeover (longest run of lost ones: $gap ms)"
nm_ok "pings a1 -> b1 every 10 ms: $sent sent, $lost lost (longest run of lost ones: $gap ms)"
rc=0
wait "$iperf" || rc=$?
((rc == 0)) || nm_fail "iperf3 a2 -> b2 did not survive the takeover (exit $rc): $(tail -c 600 "$NM_TMP/iperf3.json")"
read -r bytes low <<<"$("$NM_PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
iv = [i["sum"]["bytes"] for i in j["intervals"]]
print(j["end"]["sum_received"]["bytes"], min(iv))' "$NM_TMP/iperf3.json")"
((low > 0)) || nm_fail "iperf3 a2 -> b2 had a second with no bytes: $(nm_json "[i['sum']['bytes'] for i in j['intervals']]" <"$NM_TMP/iperf3.json")"
nm_ok "the iperf3 connection a2 -> b2 survived the takeover: $bytes bytes received, every second moved data (least $low)"

# 4. Both ends of the tunnel after it.
nm2_wait_up a b 20 || nm_fail "a's tunnel to b not up after the takeover: $(nm2_ctl a tunnel list)"
nm2_wait_up b a 5 || nm_fail "b's tunnel to a not up after the takeover: $(nm2_ctl b tunnel list)"
for ((i = 0; i < 50; i++)); do
	epoch1=$(tn_peer a "t['epoch']")
	((epoch1 > epoch0)) && break
	sleep 0.1
done
((epoch1 > epoch0)) || nm_fail "a still seals with epoch $epoch1 (before: $epoch0): the new session offered no key"
sessions_b1=$(tn_peer b "t['sessions']")
((sessions_b1 > sessions_b0)) || nm_fail "b's sessions with a: $sessions_b0 -> $sessions_b1"
rej_b=$(rejected b)
((rej_b == 0)) || nm_fail "b rejected $rej_b records from the new daemon: $(tn_peer b "{k: v for k, v in t['rejected'].items() if v}")"
nokey_b1=$(tn_peer b "t['dropped_no_key']")
((nokey_b1 == nokey_b0)) || nm_fail "b dropped $((nokey_b1 - nokey_b0)) packets for a for want of a key"
# Without b's pods handed over (the ipcache) the new daemon drops packets
# to them as no_pod and from them as inner_spoofed until b announces them.
spoofed_a1=$(tn_peer a "t['inner_spoofed']")
nopod_a=$(tn_drop a no_pod)
((spoofed_a1 == spoofed_a0 && nopod_a == 0)) ||
	nm_fail "the new daemon dropped $nopod_a packets as no_pod and $((spoofed_a1 - spoofed_a0)) as inner_spoofed: b's pods not handed over?"
rej_a=$(tn_peer a "{k: v for k, v in t['rejected'].items() if v}")
nm_ok "after: tunnel up both ways, a seals with epoch $epoch1 (was $epoch0), b's sessions $sessions_b0 -> $sessions_b1, b rejected 0 records and lacked no key; rejected on a (new daemon): $rej_a"
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 after the takeover"
nm_ping_ok "${NM2_POD_NS[b1]}" "${NM2_POD_IP[a1]}" || nm_fail "ping b1 -> a1 after the takeover"
pods1=$(nm2_ctl a --json pod list | nm_json "sorted(p['name'] for p in j['pods'])")
[[ $pods1 == "$pods0" ]] || nm_fail "a's pods before $pods0, after $pods1"
nm_ok "pings both ways after; a's pods the same ($pods1)"

# 5. Keys only over the takeover socket: nothing that looks like key
#    material (32 hex digits or more in a row) in either daemon's log.
for f in "${NM2_LOG[a]}" "$NM_TMP"/nodemeshd-a.log; do
	if grep -Eq '[0-9a-fA-F]{32}' "$f"; then
		nm_fail "a run of 32 hex digits in $f: $(grep -Eo '[0-9a-fA-F]{32,}' "$f" | head -3)"
	fi
done
nm_ok "no key-like hex in either daemon's log of node a"
echo "takeover_tunnel: PASS"
