#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Signatures on UDP: a `drop` rule on the payload "EVIL" to port 9999.
# pod-1 sends 20 clean datagrams on one flow (one source port), and between
# them 20 marked ones, each from its own source port: exactly the 20 clean
# ones reach the listener in pod-2, none of the marked, signature_drop grows
# by 20 and the log has 20 alerts. drop blocks the rest of a flow: on a
# fresh flow, clean passes, then marked is dropped, then clean on the same
# source port is dropped too, while the first clean flow still works. A
# `reject` variant answers the sender with ICMP destination unreachable,
# code 13 (communication administratively prohibited).
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
here=$(cd "$(dirname "$0")" && pwd)
port=9999

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
alerts=$NM_TMP/alerts.jsonl

cat >"$NM_TMP/drop.rules" <<EOF
drop udp any any -> any $port (msg:"UDP evil payload"; content:"EVIL"; classtype:misc-attack; sid:1000002; rev:1;)
EOF
cat >"$NM_TMP/reject.rules" <<EOF
reject udp any any -> any $port (msg:"UDP evil payload, rejected"; content:"EVIL"; classtype:misc-attack; sid:1000003; rev:1;)
EOF
out=$(nm_ctl sig load file="$NM_TMP/drop.rules" 2>&1) || nm_fail "sig load: $out"

# send SPORT TAG COUNT [FIRST] [WAIT_ERROR]: udp_flow.py's JSON result.
send() {
	nm_in "$P1" "$NM_PY" "$here/udp_flow.py" --dst "$IP2" --port "$port" --sport "$1" \
		--tag "$2" --count "$3" --first "${4:-0}" --wait-error "${5:-0}" ||
		nm_fail "udp_flow.py --sport $1 --tag $2 failed"
}

# listen SECONDS: (re)start the listener in pod-2, output in $NM_TMP/listen.out. It
# stops after SECONDS, or 10 s without a datagram (the senders start one python
# each, which can take seconds on a loaded 2-core machine).
listen() {
	rm -f "$NM_TMP/listen.ready"
	nm_bg "$P2" "$NM_TMP/listen.out" "$NM_PY" "$here/udp_listen.py" --bind 0.0.0.0 \
		--port "$port" --ready-file "$NM_TMP/listen.ready" --idle 10 --total "$1"
	listener=$NM_LAST_BG
	nm_wait_file "$NM_TMP/listen.ready" || nm_fail "UDP listener in pod-2 did not start"
}

# received REGEX: how many datagrams the listener printed matching REGEX.
received() {
	grep -cE " $1\$" "$NM_TMP/listen.out" || true
}

sigdrops() { nm_drop signature_drop; }

# 1. 20 clean on one flow, 20 marked on 20 flows, interleaved.
listen 30
d0=$(sigdrops)
send 41000 clean 10 0 >/dev/null
for ((i = 0; i < 20; i++)); do
	send $((41100 + i)) EVIL 1 "$i" >/dev/null
done
send 41000 clean 10 10 >/dev/null
wait "$listener" || nm_fail "UDP listener failed: $(cat "$NM_TMP/listen.out")"
d1=$(sigdrops)
clean=$(received 'clean-[0-9]+')
evil=$(received 'EVIL-[0-9]+')
echo "pod-2 received $clean clean, $evil marked; signature_drop $d0 -> $d1"
((evil == 0)) || nm_fail "$evil marked datagrams reached pod-2: $(grep EVIL "$NM_TMP/listen.out")"
((clean == 20)) || nm_fail "$clean of 20 clean datagrams reached pod-2"
for ((i = 0; i < 20; i++)); do
	grep -qx "${NM_POD_IP[1]} clean-$i" "$NM_TMP/listen.out" || nm_fail "clean-$i missing at pod-2"
done
((d1 - d0 == 20)) || nm_fail "signature_drop grew by $((d1 - d0)), expected 20"
n=$("$NM_PY" -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = [e for e in a if e["alert"]["signature_id"] == 1000002 and e["alert"]["action"] == "blocked"
      and e["proto"] == "UDP" and e["dest_port"] == 9999 and 41100 <= e["src_port"] < 41120
      and e["nodemesh"]["src"]["pod"] == "pod-1" and e["nodemesh"]["dest"]["pod"] == "pod-2"]
print(len(ok) if len(ok) == len(a) else "%d of %d" % (len(ok), len(a)))
' "$alerts")
[[ $n == 20 ]] || nm_fail "alert log: $n blocked UDP alerts for sid 1000002, expected 20 and nothing else"
hits=$(nm_ctl --json sig stats | nm_json "j['signatures']['hits_by_sid']")
[[ $hits == '{"1000002": 20}' ]] || nm_fail "hits_by_sid = $hits, expected 20 for 1000002"
nm_ok "20 clean datagrams on one flow delivered, 20 marked ones dropped: signature_drop +20, 20 alerts, hits_by_sid $hits"

# 2. drop blocks the flow: clean, marked, clean again on source port 41200;
#    the first clean flow (41000) keeps working.
listen 20
d0=$(sigdrops)
send 41200 before 1 >/dev/null
send 41200 EVIL 1 100 >/dev/null
send 41200 after 3 >/dev/null
send 41000 still 3 >/dev/null
wait "$listener" || nm_fail "UDP listener failed: $(cat "$NM_TMP/listen.out")"
d1=$(sigdrops)
echo "pod-2 received: $(tr '\n' ' ' <"$NM_TMP/listen.out"); signature_drop $d0 -> $d1"
(($(received 'before-0') == 1)) || nm_fail "the clean datagram before the marked one (port 41200) did not arrive"
(($(received 'EVIL-[0-9]+') == 0)) || nm_fail "the marked datagram on port 41200 arrived"
(($(received 'after-[0-9]+') == 0)) || nm_fail "clean datagrams after the marked one on the same flow (port 41200) arrived: drop did not block the flow"
(($(received 'still-[0-9]+') == 3)) || nm_fail "the other clean flow (port 41000) stopped working"
((d1 - d0 == 4)) || nm_fail "signature_drop grew by $((d1 - d0)), expected 4 (1 marked + 3 after it)"
nm_ok "drop blocks the flow: on port 41200 clean passed, marked and the 3 clean after it dropped (+4); port 41000 still delivered"

# 3. reject: the sender gets ICMP destination unreachable, code 13.
out=$(nm_ctl sig load file="$NM_TMP/reject.rules" 2>&1) || nm_fail "sig load reject.rules: $out"
listen 15
u0=$(nm_ctl --json sig stats | nm_json "j['signatures']['unreachables_sent']")
nm_bg "$P1" "$NM_TMP/tcpdump.out" timeout 8 tcpdump -n -l -i eth0 -c 1 icmp
tcpdump_pid=$NM_LAST_BG
sleep 1 # tcpdump attaching
res=$(send 41300 EVIL 1 0 2)
echo "sender: $res"
nm_json "j['error'] is not None and j['error']['origin'] == 'icmp' and j['error']['type'] == 3 and j['error']['code'] == 13" \
	<<<"$res" | grep -qx True || nm_fail "reject: the sender got no ICMP unreachable code 13: $res"
# On a connected socket Linux turns code 13 into EHOSTUNREACH.
[[ $(nm_json "j['error']['errno']" <<<"$res") == 113 ]] || nm_fail "reject: errno is not EHOSTUNREACH: $res"
wait "$tcpdump_pid" || true
grep -q "unreachable - admin prohibited" "$NM_TMP/tcpdump.out" ||
	nm_fail "tcpdump in pod-1 saw no 'admin prohibited' unreachable: $(cat "$NM_TMP/tcpdump.out")"
u1=$(nm_ctl --json sig stats | nm_json "j['signatures']['unreachables_sent']")
((u1 - u0 == 1)) || nm_fail "unreachables_sent grew by $((u1 - u0)), expected 1"
wait "$listener" || true
(($(received 'EVIL-[0-9]+') == 0)) || nm_fail "the rejected datagram reached pod-2"
n=$("$NM_PY" -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l)["alert"]["signature_id"] == 1000003
          and json.loads(l)["nodemesh"]["rule_action"] == "reject" and json.loads(l)["alert"]["action"] == "blocked"))
' "$alerts")
((n == 1)) || nm_fail "$n reject alerts for sid 1000003, expected 1"
nm_ok "reject: ICMP type 3 code 13 from $(nm_json "j['error']['offender']" <<<"$res") (EHOSTUNREACH on the socket), seen by tcpdump: $(grep -o 'ICMP.*' "$NM_TMP/tcpdump.out"); datagram not delivered, 1 alert"
echo "sig_udp: PASS"
