#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The multi-queue fabric (issue 14 part 1): two nodes with two workers each
# (eal.lcores as `scripts/bench scale` gives them: node a's workers on CPUs
# 1 and 0, node b's on 0 and 1), pods 1 and 2 of each node on different
# workers. Every worker seals what it routes and opens what its fabric
# queue receives (the kernel's PACKET_FANOUT hash over the outer headers,
# whose UDP source port carries 14 bits of the inner flow's hash).
# 1. multi-queue: iperf3 -P 16 a1 -> b1 and b2 -> a2 at once, and pings
#    a2 -> b2 and b1 -> a1: on each node both workers sealed and opened
#    records (stats workers[i].tunnel), the pings got replies, neither
#    node rejected a record; then every pod pair across the nodes answers.
# 2. nonces: captures of both fabric ends during that traffic (each end
#    sees what its node receives) hold no (sender, epoch, sequence) twice,
#    both workers of each node sealed during the capture, and each
#    sender's sequence numbers are dense (one counter per key).
# 3. replay across workers: a -> b datagrams captured on b's fabric (a
#    sample of the end of that traffic, and 4 marker datagrams a1 -> b1
#    sent at a quiet moment) go in again, several copies each with an
#    outer UDP source port of its own, so that b's kernel hands copies to
#    both workers' queues: b refuses every copy as a replay (duplicate or
#    too old), both workers refused some, b opens none, and the listener
#    in b1 got each marker once.
# 4. lossless epochs: UDP probes every 1 ms a1 -> b1 and b2 -> a2 and
#    iperf3 both ways (rate-capped, so that no queue overflows) while
#    each node rekeys 5 times: tx_epoch +5 on each, no probe lost, nothing
#    dropped for want of a key (tunnel_no_key), for a wrong epoch or as a
#    replay.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

NM2_LCORES[a]="0@0,1@1,2@0"
NM2_LCORES[b]="0@1,1@0,2@1"
tn_up 2
PODS=(a1 a2 b1 b2)
for n in a b; do
	w=$(nm2_ctl "$n" --json stats | nm_json "len(j['workers'])")
	((w == 2)) || nm_fail "node $n runs $w workers, expected 2 (eal.lcores ${NM2_LCORES[$n]})"
	owners=$(nm2_ctl "$n" --json pod list | nm_json "[p['worker'] for p in
		sorted(j['pods'], key=lambda p: p['name'])]")
	[[ $owners == "[0, 1]" || $owners == "[1, 0]" ]] ||
		nm_fail "node $n's pods ${n}1 and ${n}2 are not on different workers: owners $owners"
done
nm_ok "2 workers per node, pods 1 and 2 of each node on different workers"

# wtun NODE: "sealed opened" of worker 0, then of worker 1.
wtun() {
	nm2_ctl "$1" --json stats | nm_json "' '.join('%d %d' % (w['tunnel']['sealed'],
		w['tunnel']['opened']) for w in sorted(j['workers'], key=lambda w: w['worker']))"
}

# wdelta BEFORE AFTER: wtun's four counters, after minus before.
wdelta() {
	local -a b a
	read -r -a b <<<"$1"
	read -r -a a <<<"$2"
	echo $((a[0] - b[0])) $((a[1] - b[1])) $((a[2] - b[2])) $((a[3] - b[3]))
}

# iperf_bg NAME SERVER CLIENT PORT ARGS...: a one-test iperf3 server in pod
# SERVER and a client in pod CLIENT in the background (JSON in
# $NM_TMP/NAME.json); the client's pid in IPERF[NAME].
declare -A IPERF
iperf_bg() {
	local name=$1 srv=$2 cli=$3 port=$4
	shift 4
	nm_bg "${NM2_POD_NS[$srv]}" "$NM_TMP/$name-s.log" iperf3 -s -1 -B "${NM2_POD_IP[$srv]}" -p "$port"
	nm_wait_listen "${NM2_POD_NS[$srv]}" tcp "$port" || nm_fail "iperf3 server ($name) did not start in $srv"
	nm_bg "${NM2_POD_NS[$cli]}" "$NM_TMP/$name.json" timeout 40 iperf3 -c "${NM2_POD_IP[$srv]}" \
		-p "$port" -J "$@"
	IPERF[$name]=$NM_LAST_BG
}

# iperf_end NAME: wait for the client (in this shell: a $(...) subshell
# cannot wait for this shell's children); the Mbit/s received in MBIT[NAME].
declare -A MBIT
iperf_end() {
	wait "${IPERF[$1]}" || {
		tail -c 600 "$NM_TMP/$1.json" >&2
		nm_fail "iperf3 $1 failed"
	}
	MBIT[$1]=$(nm_json "round(j['end']['sum_received']['bits_per_second'] / 1e6, 1)" <"$NM_TMP/$1.json")
}

# drops_of NODE: NODE's non-zero drop counters and its pods' ring drops
# (frames a pod sent that its host end's RX ring had no room for).
drops_of() {
	nm2_ctl "$1" --json stats | nm_json "dict({k: v for k, v in j['drops'].items() if v},
		**{p['pod'] + ' ring': p['rx_ring_drops'] for p in j['ports'] if p.get('rx_ring_drops')})"
}

# 1. Traffic both ways from pods on both workers of each node: 16 streams
#    each way give 32 inner flows in each direction (data and ACKs), each
#    with an outer source port of its own but for a 14-bit collision; all
#    of one direction hashed to one queue of two is a 2^-31 chance.
declare -A W0 W1 C0 C1
for n in a b; do W0[$n]=$(wtun "$n"); done
iperf_bg ab b1 a1 5201 -P 16 -t 7
iperf_bg ba a2 b2 5202 -P 16 -t 7
tn_ping_start "${NM2_POD_NS[a2]}" "${NM2_POD_IP[b2]}" "$NM_TMP/ping-a2b2.log"
ping_ab=$TN_PING_PID
tn_ping_start "${NM2_POD_NS[b1]}" "${NM2_POD_IP[a1]}" "$NM_TMP/ping-b1a1.log"
ping_ba=$TN_PING_PID
sleep 1

# 2 (capture): both fabric ends, headers only (the tunnel header ends at
#    byte 54), a 32 MiB kernel buffer so that tcpdump keeps up. Captures
#    here use --immediate-mode: else libpcap hands over a ring block when
#    it is full or 1 s old, and tcpdump stopped before then writes none of
#    the block's packets.
CAP=(-s 96 -B 32768 --immediate-mode)
tn_cap_start "${NM2_NS[b]}" fab0 "$NM_TMP/fab-b.pcap" "${CAP[@]}" udp dst port 4790
cap_b=$TN_CAP_PID
tn_cap_start "${NM2_NS[a]}" fab0 "$NM_TMP/fab-a.pcap" "${CAP[@]}" udp dst port 4790
cap_a=$TN_CAP_PID
for n in a b; do C0[$n]=$(wtun "$n"); done
sleep 2
for n in a b; do C1[$n]=$(wtun "$n"); done
tn_cap_stop "$cap_a"
tn_cap_stop "$cap_b"

# 3 (capture): whole a -> b datagrams from here to the end of the traffic,
#    one in 8 (the sequence number's low 3 bits 0: UDP payload byte 11),
#    to be replayed in 3: the last of them are still inside b's window, and
#    both of b's workers were opening records when they came.
tn_cap_start "${NM2_NS[b]}" fab0 "$NM_TMP/tail.pcap" -B 32768 --immediate-mode \
	"udp dst port 4790 and src host ${NM2_FABIP[a]} and udp[19] & 7 == 0"
cap_tail=$TN_CAP_PID

iperf_end ab
iperf_end ba
tn_cap_stop "$cap_tail"
# Pings every 50 ms under the traffic: some replies each way. The iperf3
# senders fill their host ends' RX rings (pod ring drops, counted), and a
# reply from the same pod waits in or misses that ring: how many pings
# were answered is printed, with the drops.
loss=""
for p in "$ping_ab a2 b2" "$ping_ba b1 a1"; do
	read -r pid s d <<<"$p"
	kill -INT "$pid"
	wait "$pid" || true
	sum=$(grep "packets transmitted" "$NM_TMP/ping-$s$d.log") ||
		nm_fail "no summary of the ping $s -> $d: $(tail -3 "$NM_TMP/ping-$s$d.log")"
	read -r sent _ _ recvd _ <<<"$sum"
	((recvd > 0)) || nm_fail "ping $s -> $d under iperf3: $sum; drops a $(drops_of a), b $(drops_of b)"
	loss+=" $s -> $d $recvd of $sent answered,"
done
# Then every ordered pod pair across the nodes.
for s in "${PODS[@]}"; do
	for d in "${PODS[@]}"; do
		[[ ${s:0:1} != "${d:0:1}" ]] || continue
		nm_ping_ok "${NM2_POD_NS[$s]}" "${NM2_POD_IP[$d]}" ||
			nm_fail "ping $s -> $d (${NM2_POD_IP[$d]}) got no reply; drops a $(drops_of a), b $(drops_of b)"
	done
done
sums=""
for n in a b; do
	W1[$n]=$(wtun "$n")
	read -r s0 o0 s1 o1 <<<"$(wdelta "${W0[$n]}" "${W1[$n]}")"
	((s0 > 0 && o0 > 0 && s1 > 0 && o1 > 0)) ||
		nm_fail "node $n: records sealed/opened by worker 0: $s0/$o0, by worker 1: $s1/$o1;" \
			"every worker must seal what it routes and open what its fabric queue gets"
	sums+=" $n: worker 0 sealed $s0 opened $o0, worker 1 sealed $s1 opened $o1;"
	rej=$(tn_peer "$n" "t['rejected_total']")
	((rej == 0)) || nm_fail "node $n rejected $rej records under two-worker traffic:" \
		"$(tn_peer "$n" "{k: v for k, v in t['rejected'].items() if v}")"
done
nm_ok "multi-queue: iperf3 -P 16 a1 -> b1 ${MBIT[ab]} Mbit/s, b2 -> a2 ${MBIT[ba]} Mbit/s;${sums%;}"
nm_ok "multi-queue: pings under iperf3:${loss%,}; then all 8 ordered pod pairs across the nodes answered;" \
	"rejected_total 0 on both nodes; drops a $(drops_of a), b $(drops_of b)"

# 2 (check): per sender, no sequence twice under an epoch, dense sequences,
#    and both of its workers sealed meanwhile.
seqs=$("$NM_PY" "$TN_HERE/tnl_seqs.py" "$NM_TMP/fab-a.pcap" "$NM_TMP/fab-b.pcap") ||
	nm_fail "tnl_seqs.py on the fabric captures failed"
for n in a b; do
	read -r s0 _ s1 _ <<<"$(wdelta "${C0[$n]}" "${C1[$n]}")"
	((s0 > 0 && s1 > 0)) || nm_fail "node $n's workers sealed $s0 and $s1 records during the capture"
	read -r count missing dups groups <<<"$(nm_json "(lambda g: ' '.join(str(v) for v in
		(sum(x['count'] for x in g), sum(x['missing'] for x in g), sum(x['n_dups'] for x in g),
		len(g))))([v for k, v in j['groups'].items() if k.startswith('${NM2_FABIP[$n]}/')])" <<<"$seqs")"
	caplog=$(grep -h "dropped by kernel" "$NM_TMP"/fab-*.pcap.log | tr '\n' ' ')
	((dups == 0)) || nm_fail "node $n's records: $dups (epoch, sequence) pairs seen more than once" \
		"(a nonce used twice): $(nm_json "{k: v['dups'] for k, v in j['groups'].items()}" <<<"$seqs")"
	((count > 0)) || nm_fail "no record of node $n's in the captures: $seqs"
	# Gaps: records that took a number but were not sent (tx_full), or
	# that tcpdump did not keep; both rare at this rate.
	((missing * 50 <= count)) || nm_fail "node $n's sequences not dense: $count records, $missing" \
		"numbers missing between the lowest and highest: $seqs; tcpdump: $caplog;" \
		"tx_full drops on $n: $(tn_drop "$n" tx_full)"
	((count * 10 >= (s0 + s1) * 9)) || nm_fail "node $n's workers sealed $((s0 + s1)) records" \
		"during the capture, which holds only $count of them: $seqs; tcpdump: $caplog"
	nm_ok "nonces of node $n: $count records captured (under $groups epoch(s)), none twice, $missing" \
		"numbers missing in the span; its workers sealed $s0 and $s1 meanwhile"
done

# 3. Replays across workers. The records: the last 256 of the sample of
#    the two-worker traffic above (sequences 8 apart: about 2050 of the
#    window's 4032 behind b's window top, duplicates unless the window lost
#    their bits while both workers updated it), and 4 marker datagrams
#    a1 -> b1 sent now (600 bytes of UDP payload: tunnel datagrams of 14 + 20 + 8 + 17 +
#    628 + 1 + 16 = 704 bytes, which the quiet link has no other of).
mark=$(openssl rand -hex 8)
nm_bg "${NM2_POD_NS[b1]}" "$NM_TMP/udp.out" "$NM_PY" "$TN_HERE/udp_listen.py" \
	--bind 0.0.0.0 --port 5555 --ready-file "$NM_TMP/udp.ready" --idle 30 --total 40
nm_wait_file "$NM_TMP/udp.ready" || nm_fail "UDP listener in b1 did not start"
tn_cap_start "${NM2_NS[b]}" fab0 "$NM_TMP/marks.pcap" --immediate-mode \
	"udp dst port 4790 and src host ${NM2_FABIP[a]} and len == 704"
cap=$TN_CAP_PID
nm_in "${NM2_POD_NS[a1]}" "$NM_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(4):
    s.sendto(("mark-%s-%d " % (sys.argv[2], i)).encode().ljust(600, b"."), (sys.argv[1], 5555))
    time.sleep(0.05)
' "${NM2_POD_IP[b1]}" "$mark" || nm_fail "UDP send a1 -> b1 failed"
for ((i = 0; i < 50; i++)); do
	(($(grep -c "mark-$mark-" "$NM_TMP/udp.out" || true) >= 4)) && break
	sleep 0.1
done
sleep 0.3
tn_cap_stop "$cap"
got=$(grep -c "mark-$mark-" "$NM_TMP/udp.out" || true)
((got == 4)) || nm_fail "b1 received $got of the 4 marker datagrams: $(cat "$NM_TMP/udp.out")"
n=$(tn_pcap_count "$NM_TMP/marks.pcap" "")
((n == 4)) || nm_fail "captured $n marker datagrams a -> b on b's fabric, expected 4:" \
	"$(tcpdump -n -r "$NM_TMP/marks.pcap" 2>/dev/null | head -8)"
n=$(tn_pcap_count "$NM_TMP/tail.pcap" "")
((n >= 256)) || nm_fail "captured $n datagrams a -> b at the end of the traffic, expected 256 or more"

# replays NODE: "duplicate+too_old rejected_total opened record_rejected(worker 0) (worker 1)".
replays() {
	local t s
	t=$(nm2_ctl "$1" --json tunnel list)
	s=$(nm2_ctl "$1" --json stats)
	"$NM_PY" -c '
import json, sys
t = [p for p in json.loads(sys.argv[1])["tunnels"] if p["name"] == sys.argv[3]][0]
w = sorted(json.loads(sys.argv[2])["workers"], key=lambda w: w["worker"])
r = t["rejected"]
print(r["tnl_replay_duplicate"] + r["tnl_replay_too_old"], t["rejected_total"],
      sum(x["tunnel"]["opened"] for x in w), *(x["drops"]["tunnel_record_rejected"] for x in w))
' "$t" "$s" "node-$(nm2_other "$1")"
}
read -r rep0 tot0 op0 w00 w10 <<<"$(replays b)"
# 6 copies of each marker and one of each traffic record, each copy with
# an outer source port of its own: 280 flows, all on one of b's two queues
# is a 2^-279 chance.
injected=$((4 * 6 + 256))
out=""
for inj in "marks 4 6 50000" "tail 256 1 51000"; do
	read -r f frames copies port <<<"$inj"
	out+=$(nm_in "${NM2_NS[a]}" "$NM_PY" "$TN_HERE/tnl_inject.py" --pcap "$NM_TMP/$f.pcap" \
		--iface fab0 --mode replay --frames "$frames" --count "$copies" --sport-first "$port" \
		--inter 0.002 2>&1) ||
		nm_fail "tnl_inject.py --mode replay of $f.pcap: $out"
	out+="; "
done
out=${out%; }
for ((i = 0; i < 20; i++)); do
	read -r rep1 tot1 op1 w01 w11 <<<"$(replays b)"
	((tot1 - tot0 >= injected)) && break
	sleep 0.1
done
sleep 0.3
read -r rep1 tot1 op1 w01 w11 <<<"$(replays b)"
((rep1 - rep0 == injected && tot1 - tot0 == injected && op1 == op0)) ||
	nm_fail "replays: b refused $((rep1 - rep0)) of $injected copies as replays and $((tot1 - tot0)) in all," \
		"and opened $((op1 - op0)) records ($out): $(tn_peer b "{k: v for k, v in t['rejected'].items() if v}")"
((w01 > w00 && w11 > w10)) || nm_fail "replays: b's workers refused $((w01 - w00)) and $((w11 - w10))" \
	"copies: the $injected outer source ports did not spread over both fabric queues ($out)"
got=$(grep -c "mark-$mark-" "$NM_TMP/udp.out" || true)
uniq=$(grep -o "mark-$mark-[0-9]" "$NM_TMP/udp.out" | sort -u | wc -l)
((got == 4 && uniq == 4)) ||
	nm_fail "replays: b1's listener got $got marker datagrams ($uniq different), expected the 4 originals once"
nm_ok "replay across workers: $out; b refused all $injected as replays (duplicate $(tn_rej b tnl_replay_duplicate)," \
	"too_old $(tn_rej b tnl_replay_too_old) in all; worker 0 $((w01 - w00)), worker 1 $((w11 - w10)))," \
	"opened none, b1 got each of its 4 markers once"

# 4. Lossless epochs: probes both ways between pods on different workers,
#    iperf3 both ways at a rate the path carries (TCP unbounded would fill
#    a queue and lose probes for reasons that are not the keys'), and 5
#    rekeys on each node a few hundred ms apart.
# keys NODE: "tx_epoch tunnel_no_key wrong_epoch replays" toward the other node.
keys() {
	local nokey
	nokey=$(tn_drop "$1" tunnel_no_key)
	tn_peer "$1" "' '.join(str(v) for v in (t['tx_epoch'], $nokey, t['rejected']['tnl_wrong_epoch'],
		t['rejected']['tnl_replay_duplicate'] + t['rejected']['tnl_replay_too_old']
		+ t['rejected']['tnl_replay_seq_limit']))"
}
declare -A K0 K1
for n in a b; do
	K0[$n]=$(keys "$n")
	W0[$n]=$(wtun "$n")
done
iperf_bg rk-ab b2 a2 5203 -P 4 -b 25M -t 6
iperf_bg rk-ba a1 b1 5204 -P 4 -b 25M -t 6
NM_PROBE_FROM=${NM2_POD_NS[a1]} NM_PROBE_TO=${NM2_POD_NS[b1]} NM_PROBE_ADDR=${NM2_POD_IP[b1]}
nm_probes_start 5 probe-ab
NM_PROBE_FROM=${NM2_POD_NS[b2]} NM_PROBE_TO=${NM2_POD_NS[a2]} NM_PROBE_ADDR=${NM2_POD_IP[a2]}
nm_probes_start 5 probe-ba
sleep 0.7
for i in 1 2 3 4 5; do
	out=$(nm2_ctl a tunnel rekey peer=node-b 2>&1) || nm_fail "rekey $i on a: $out"
	sleep 0.15
	out=$(nm2_ctl b tunnel rekey peer=node-a 2>&1) || nm_fail "rekey $i on b: $out"
	sleep 0.25
done
res=""
for dir in ab ba; do
	nm_probes_result "probe-$dir"
	res+=" ${dir:0:1} -> ${dir:1:1}: $NM_PROBE_SENT sent, $NM_PROBE_LOST lost, $NM_PROBE_DUPS twice;"
	((NM_PROBE_LOST == 0 && NM_PROBE_DUPS == 0)) || nm_fail "probes during rekeys:$res $NM_PROBE_JSON;" \
		"drops a $(drops_of a), b $(drops_of b); load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
iperf_end rk-ab
iperf_end rk-ba
for ((i = 0; i < 30; i++)); do
	for n in a b; do K1[$n]=$(keys "$n"); done
	read -r ea0 _ <<<"${K0[a]}"
	read -r ea1 _ <<<"${K1[a]}"
	read -r eb0 _ <<<"${K0[b]}"
	read -r eb1 _ <<<"${K1[b]}"
	((ea1 - ea0 >= 5 && eb1 - eb0 >= 5)) && break
	sleep 0.1
done
((ea1 - ea0 == 5 && eb1 - eb0 == 5)) ||
	nm_fail "5 rekeys on each node: a's tx_epoch $ea0 -> $ea1, b's $eb0 -> $eb1 (expected +5 each)"
sums=""
for n in a b; do
	read -r _ nk0 we0 rp0 <<<"${K0[$n]}"
	read -r _ nk1 we1 rp1 <<<"${K1[$n]}"
	((nk1 == nk0 && we1 == we0 && rp1 == rp0)) || nm_fail "rekeys on node $n: tunnel_no_key" \
		"+$((nk1 - nk0)), tnl_wrong_epoch +$((we1 - we0)), replays +$((rp1 - rp0))"
	read -r s0 o0 s1 o1 <<<"$(wdelta "${W0[$n]}" "$(wtun "$n")")"
	sums+=" $n $s0/$o0 and $s1/$o1,"
done
nm_ok "lossless epochs: tx_epoch a $ea0 -> $ea1, b $eb0 -> $eb1; probes${res%;}; iperf3 a2 -> b2" \
	"${MBIT[rk-ab]}, b1 -> a1 ${MBIT[rk-ba]} Mbit/s; sealed/opened by workers 0 and 1:${sums%,};" \
	"no tunnel_no_key, wrong epoch or replay on either node"
echo "tunnel_mq: PASS"
