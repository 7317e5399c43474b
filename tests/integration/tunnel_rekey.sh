#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Key rotation loses nothing. During an 8 s iperf3 a1 -> b1 (0.5 s
# intervals) each node is told `tunnel rekey` three times: the epoch and
# rekeys of both nodes grow by three, no interval after the first second
# moves 0 bytes (sender or receiver), and neither node rejects a record
# (no bad tag, no wrong epoch, nothing). Then both daemons restart with
# tunnel.rekey_s = 2: during 6 s of ping the epochs advance by themselves
# and no echo reply is lost (but the first).
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

# keys NODE: "epoch rekeys rejected_total bad_tag wrong_epoch" toward the other node.
keys() {
	tn_peer "$1" "' '.join(str(v) for v in (t['epoch'], t['rekeys'], t['rejected_total'],
		t['rejected']['tnl_bad_tag'], t['rejected']['tnl_wrong_epoch']))"
}

# no_rejects TAG: neither node rejected a record so far.
no_rejects() {
	local n tot bad wrong
	for n in a b; do
		read -r _ _ tot bad wrong <<<"$(keys "$n")"
		((bad == 0 && wrong == 0 && tot == 0)) || nm_fail "$1: node $n rejected records: \
bad_tag $bad, wrong_epoch $wrong, total $tot: $(tn_peer "$n" "{k: v for k, v in t['rejected'].items() if v}")"
	done
}

tn_up 1
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 got no reply"

# 1. Forced rotations during iperf3.
read -r ea0 ra0 _ <<<"$(keys a)"
read -r eb0 rb0 _ <<<"$(keys b)"
nm_bg "${NM2_POD_NS[b1]}" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -J -i 0.5 -B "${NM2_POD_IP[b1]}" -p 5201
nm_wait_listen "${NM2_POD_NS[b1]}" tcp 5201 || nm_fail "iperf3 server did not start in b1"
nm_bg "${NM2_POD_NS[a1]}" "$NM_TMP/iperf3.json" timeout 40 iperf3 -c "${NM2_POD_IP[b1]}" -p 5201 \
	-t 8 -i 0.5 -J --get-server-output
client=$NM_LAST_BG
sleep 1.5
for i in 1 2 3; do
	out=$(nm2_ctl a tunnel rekey peer=node-b 2>&1) || nm_fail "rekey $i on a: $out"
	out=$(nm2_ctl b tunnel rekey peer=node-a 2>&1) || nm_fail "rekey $i on b: $out"
	sleep 1.5
done
wait "$client" || {
	cat "$NM_TMP/iperf3.json" >&2
	nm_fail "iperf3 a1 -> b1 failed"
}
read -r ea1 ra1 _ <<<"$(keys a)"
read -r eb1 rb1 _ <<<"$(keys b)"
((ea1 >= ea0 + 3 && ra1 >= ra0 + 3)) || nm_fail "a after 3 rekeys: epoch $ea0 -> $ea1, rekeys $ra0 -> $ra1"
((eb1 >= eb0 + 3 && rb1 >= rb0 + 3)) || nm_fail "b after 3 rekeys: epoch $eb0 -> $eb1, rekeys $rb0 -> $rb1"
nm_ok "3 rekeys each way: a epoch $ea0 -> $ea1 (rekeys $ra1), b epoch $eb0 -> $eb1 (rekeys $rb1)"

# Bytes per 0.5 s interval on the client (sent) and the server (received).
res=$("$NM_PY" - "$NM_TMP/iperf3.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
# (start, bytes) per interval; a last one shorter than 0.25 s (the tail
# the server reports after the client stopped) is no interval.
def series(intervals):
    return [(i["sum"]["start"], i["sum"]["bytes"]) for i in intervals
            if i["sum"]["end"] - i["sum"]["start"] >= 0.25]
sent = series(j["intervals"])
recv = series(j["server_output_json"]["intervals"])
mbit = lambda s: [round(b * 8 / 0.5 / 1e6) for _, b in s]
print("sent Mbit/s %s received Mbit/s %s, TCP retransmits %d"
      % (mbit(sent), mbit(recv), j["end"]["sum_sent"].get("retransmits", -1)))
bad = [(w, t) for w, s in (("sent", sent), ("received", recv)) for t, b in s if t >= 1.0 and b == 0]
sys.exit(1 if bad or len(sent) < 15 or len(recv) < 15 else 0)
EOF
) || {
	# Rejections first: they would say why; else the nodes' drops and the load.
	no_rejects "rekey during iperf3 (and an interval without bytes: $res)"
	nm_fail "iperf3 during rekeys: an interval after the first second without bytes: $res;" \
		"nothing rejected; drops a $(nm2_ctl a --json stats | nm_json "{k: v for k, v in j['drops'].items() if v}")," \
		"b $(nm2_ctl b --json stats | nm_json "{k: v for k, v in j['drops'].items() if v}");" \
		"load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
nm_ok "iperf3 during rekeys, every 0.5 s interval after the first second moved bytes: $res"
no_rejects "rekey during iperf3"
nm_ok "rekey during iperf3: no record rejected on either node"

# 2. Rotation on a timer: both daemons again with rekey_s = 2.
nm2_stop a
nm2_stop b
export NM2_REKEY_S=2
nm2_start a
nm2_start b
nm2_pod_add a 1
nm2_pod_add b 1
nm2_wait_up a b 20 || nm_fail "rekey_s=2: a's tunnel to b not up: $(nm2_ctl a tunnel list)"
nm2_wait_up b a 20 || nm_fail "rekey_s=2: b's tunnel to a not up: $(nm2_ctl b tunnel list)"
read -r ea0 _ <<<"$(keys a)"
read -r eb0 _ <<<"$(keys b)"
nm_in "${NM2_POD_NS[a1]}" ping -n -c 60 -i 0.1 -W 1 "${NM2_POD_IP[b1]}" >"$NM_TMP/ping.log" 2>&1 || true
read -r ea1 ra1 _ <<<"$(keys a)"
read -r eb1 rb1 _ <<<"$(keys b)"
lost=$("$NM_PY" -c '
import re, sys
got = {int(m.group(1)) for m in re.finditer(r"bytes from .* icmp_seq=(\d+)", open(sys.argv[1]).read())}
print(" ".join(str(s) for s in range(1, 61) if s not in got))
' "$NM_TMP/ping.log")
[[ -z $lost || $lost == 1 ]] || nm_fail "rekey_s=2: echo replies lost: icmp_seq $lost ($(tail -2 "$NM_TMP/ping.log" | head -1))"
((ea1 >= ea0 + 2 && eb1 >= eb0 + 2)) ||
	nm_fail "rekey_s=2: epochs after 6 s of ping: a $ea0 -> $ea1, b $eb0 -> $eb1 (expected +2 or more)"
no_rejects "rekey_s=2"
nm_ok "rekey_s=2: epochs a $ea0 -> $ea1, b $eb0 -> $eb1 during 6 s of ping, replies lost: ${lost:-none}, nothing rejected"
echo "tunnel_rekey: PASS"
