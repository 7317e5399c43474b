#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Forged and replayed tunnel datagrams are refused and counted while real
# traffic goes on. With a1 pinging b1 every 50 ms, a datagram a -> b is
# captured on b's fab0 and variants of it are injected on a's fab0 (the
# veth delivers them to b), five of each:
#   replay               b's rejected.tnl_replay_duplicate (or too_old) +5
#   one ciphertext bit   b's rejected.tnl_bad_tag +5
#   another epoch        b's rejected.tnl_wrong_epoch +5
#   unknown fabric IP    b's drops.tunnel_unknown_peer +5
#   not the tunnel port  b's drops.fabric_not_tunnel +5
# and nothing else is rejected. The ping gets replies during every step,
# and loses at most 5% overall.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init
COUNT=5

tn_up 1
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 got no reply"
ping_log=$NM_TMP/ping.log
tn_ping_start "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" "$ping_log"
pinger=$TN_PING_PID

# A datagram a -> b as b receives it.
nm_in "${NM2_NS[b]}" timeout 10 tcpdump -n -c 3 -i fab0 -w "$NM_TMP/one.pcap" \
	"udp dst port 4790 and src host ${NM2_FABIP[a]}" 2>"$NM_TMP/one.log" ||
	nm_fail "no tunnel datagram a -> b captured on b's fab0: $(cat "$NM_TMP/one.log")"

# counts: b's rejected counts toward a and its fabric and tunnel drops, as
# one JSON object (reason -> count).
counts() {
	local t s
	t=$(nm2_ctl b --json tunnel list)
	s=$(nm2_ctl b --json stats)
	"$NM_PY" -c '
import json, sys
t = [p for p in json.loads(sys.argv[1])["tunnels"] if p["name"] == "node-a"][0]
d = json.loads(sys.argv[2])["drops"]
c = dict(t["rejected"])
for k in ("tunnel_unknown_peer", "fabric_not_tunnel", "tunnel_record_rejected", "tunnel_inner_spoofed"):
    c[k] = d[k]
print(json.dumps(c))
' "$t" "$s"
}

# grown BEFORE AFTER: the counters that changed, as "name +n ...".
grown() {
	"$NM_PY" -c '
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(" ".join("%s +%d" % (k, a[k] - b[k]) for k in sorted(a) if a[k] != b[k]))
' "$1" "$2"
}

# step MODE EXPECT...: inject COUNT MODE frames; the counters that grow must
# be exactly EXPECT ("name +n" words, sorted), and the ping must get
# replies meanwhile.
step() {
	local mode=$1 expect=$2 before after got r0 r1 out
	before=$(counts)
	r0=$(tn_ping_replies "$ping_log")
	out=$(nm_in "${NM2_NS[a]}" "$NM_PY" "$TN_HERE/tnl_inject.py" --pcap "$NM_TMP/one.pcap" \
		--iface fab0 --mode "$mode" --count "$COUNT" 2>&1) || nm_fail "tnl_inject.py --mode $mode: $out"
	sleep 0.5
	after=$(counts)
	r1=$(tn_ping_replies "$ping_log")
	got=$(grown "$before" "$after")
	[[ $got == "$expect" ]] || nm_fail "$mode: counters grew '$got', expected '$expect' ($out)"
	((r1 > r0)) || nm_fail "$mode: no ping reply during the injection ($r0 -> $r1)"
	nm_ok "$mode: $out; b counted: $got; ping replies $r0 -> $r1"
}

# The replayed datagram was received moments ago: a duplicate inside the
# window (too_old only if the window had moved past it, which at 20 packets
# a second takes minutes).
step replay "tnl_replay_duplicate +$COUNT tunnel_record_rejected +$COUNT"
step flip "tnl_bad_tag +$COUNT tunnel_record_rejected +$COUNT"
step epoch "tnl_wrong_epoch +$COUNT tunnel_record_rejected +$COUNT"
step stranger "tunnel_unknown_peer +$COUNT"
step port "fabric_not_tunnel +$COUNT"

# The forged records with sequence numbers far ahead must not have moved
# b's replay window: the genuine records after them still open.
sleep 1
kill -INT "$pinger"
wait "$pinger" || true
sum=$(grep "packets transmitted" "$ping_log") || nm_fail "no ping summary: $(tail -3 "$ping_log")"
read -r sent _ _ recvd _ <<<"$sum"
((sent >= 40 && recvd * 100 >= sent * 95)) || nm_fail "ping a1 -> b1 during the injections: $sum"
nm_ok "ping a1 -> b1 throughout: $sum"
echo "tunnel_inject: PASS"
