#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nm-peersim (tests/sim) plays nodes against one real nodemeshd over the
# real protocol: each with its own certificate and control address, mutual
# TLS 1.3, hello, pods announced (identity sim/sim-NNN), key offers both
# ways. The daemon has tunnel.max_peers 200 and a handshake budget of 50 a
# second, burst 10.
#
# 200 peers, 100 pods each (20,000 remote pods in the ipcache; each peer's
# pod CIDR a /25), policy default deny and one rule allowing sim/sim-001 to
# reach the local pod test/sa-1 on UDP:
#   - the daemon applies all 20,000 without a refusal; `stats` counts them
#     in its ipcache, with its bytes per remote pod; `pod list remote`
#     pages them (limit=, peer=, total);
#   - sealed records from pod 1 of sim-001 reach the local pod (its
#     listener counts them), those of sim-002 do not (policy_denied grows
#     by as many);
#   - sim-200 withdraws its 100 pods (the daemon holds 19,900) and
#     announces them again (20,000);
#   - sim-200's session restarts: a new session and a new epoch, its pods
#     but one re-announced without a refusal, then pods_synced: the daemon
#     removes the one not announced again (a full resync);
#   - the policy was compiled once per identity a batch brought, not per
#     pod: the pod table's generation grew by at most a few per peer.
# 200 peers, one pod each, once those are deleted:
#   - the 200th is added, the 201st refused with "200 peers already";
#   - all 200 come up; `tunnel list limit=64` pages through them in name
#     order (after= the answer's next), peer=NAME answers one;
#   - the daemon restarts (its state file brings the 200 peers back), and
#     then reloads its certificate (new sessions with every peer), while
#     the simulated peers dial again: the handshakes the daemon starts,
#     sampled from its `peer list` summary, never exceed the burst plus
#     the rate times the time, some are deferred, and all 200 come back.
# A call from an address of no peer is refused at accept: tunnel_hold.sh.
# IPv6 stays on, as on a real node.
set -euo pipefail
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
# shellcheck source=scripts/lib/peersim.sh
. "$(dirname "$0")/../../scripts/lib/peersim.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny
PEERS=200
PODS=100
COUNT=20
LAST=$(printf 'sim-%03d' "$PEERS")
export PS_POD_PREFIX=25
MANY=200
RATE=50
BURST=10
export PS_TUNNEL_EXTRA="max_peers = $MANY; handshake_rate = $RATE; handshake_burst = $BURST;"
nm_tmp_init
export NM_STATE_FILE=$NM_TMP/state.json

ps_setup $((MANY + 1))
nm_ctl policy add allow from sim/sim-001 to test/sa-1 proto udp port 9999 >/dev/null

# A listener in pod 1 counts what arrives on UDP 9999.
ready=$NM_TMP/listen.ready
nm_bg "${NM_POD_NS[1]}" "$NM_TMP/listen.log" "$NM_PY" "$NM_SRC/tests/integration/udp_listen.py" \
	--bind "${NM_POD_IP[1]}" --port 9999 --ready-file "$ready" --idle 30 --total 50
for ((i = 0; i < 50; i++)); do [[ -e $ready ]] && break; sleep 0.1; done
[[ -e $ready ]] || nm_fail "UDP listener in pod 1 did not start"

denied0=$(nm_drop policy_denied)
gen0=$(nm_ctl --json stats | nm_json "j['pod_table_generation']")
out=$NM_TMP/sim.out
ps_sim -n "$PEERS" -p "$PODS" --rate 50 --timeout 60 \
	--send "${NM_POD_IP[1]}:9999" --send-from 1,2 --send-count "$COUNT" \
	--withdraw --restart --hold 1 >"$out" 2>&1 ||
	nm_fail "nm-peersim failed: $(cat "$out")"
cat "$out"
result=$(grep '^RESULT ' "$out")
field() { ps_field "$result" "$1"; }

# 1. Sessions and announcements, as the daemon reports them.
[[ $(field daemon_up) == "$PEERS" ]] || nm_fail "daemon has $(field daemon_up) of $PEERS simulated peers up"
[[ $(field pods_applied) == $((PEERS * PODS)) ]] || nm_fail "daemon applied $(field pods_applied) of $((PEERS * PODS)) pods"
[[ $(field announcements_refused) == 0 ]] || nm_fail "daemon refused $(field announcements_refused) announcements"
n=$(nm_ctl --json tunnel list | nm_json "sum(t['sessions'] for t in j['tunnels'] if t['name'].startswith('sim-'))")
((n == PEERS + 1)) || nm_fail "tunnel list counts $n sessions of the simulated peers, expected $((PEERS + 1)) (one each, and $LAST's restart)"
nm_ok "$PEERS simulated peers up (TLS 1.3, keys both ways), $((PEERS * PODS)) remote pods applied in $(field announce_ms) ms ($(field pods_per_s) pods/s)"

# 1b. The ipcache holds them (less the one $LAST's restart did not announce
# again, section 3); pod list remote pages them.
held=$((PEERS * PODS - 1))
ipc=$(nm_ctl --json stats | nm_json "j['ipcache']")
got=$(nm_json "[j['remote_pods'], j['refused'], j['max_remote_pods']]" <<<"$ipc")
[[ $got == "[$held, 0, 131072]" ]] || nm_fail "stats ipcache: $ipc"
page=$(nm_ctl --json pod list remote)
got=$(nm_json "[len(j['remote_pods']), j['total']]" <<<"$page")
[[ $got == "[1000, $held]" ]] || nm_fail "pod list remote: [shown, total] $got, expected the default 1000 of $held"
page=$(nm_ctl --json pod list remote peer=sim-001 limit=5000)
got=$(nm_json "[len(j['remote_pods']), j['total'], sorted(set(p['serviceaccount'] for p in j['remote_pods']))]" <<<"$page")
[[ $got == "[$PODS, $PODS, [\"sim-001\"]]" ]] || nm_fail "pod list remote peer=sim-001: $got"
m=$(nm_ctl metrics | awk '$1 == "nodemesh_remote_pods" {print $2}')
((m == held)) || nm_fail "metrics: nodemesh_remote_pods '$m', expected $held"
gen=$(($(nm_ctl --json stats | nm_json "j['pod_table_generation']") - gen0))
# One compilation per new identity's batch (200) and the restart's; a
# table copy per pod would be 20,000.
((gen <= 2 * PEERS + 10)) || nm_fail "the pod table was published $gen times for $((PEERS * PODS)) remote pods of $PEERS identities"
nm_ok "ipcache: $held remote pods, $(nm_json "j['bytes_per_remote_pod']" <<<"$ipc") bytes per slot of $(nm_json "j['max_remote_pods']" <<<"$ipc"); pod list remote pages (1000 of $held, peer=); $gen publications"

# 2. Policy by identity across the tunnel.
sleep 1
got=$(grep -cF "$(ps_pod_ip 1 1) " "$NM_TMP/listen.log" || true)
((got == COUNT)) || nm_fail "pod 1 got $got of $COUNT datagrams from sim/sim-001 (allowed): $(nm_ctl tunnel list | head -20)"
bad=$(grep -cF "$(ps_pod_ip 2 1) " "$NM_TMP/listen.log" || true)
((bad == 0)) || nm_fail "pod 1 got $bad datagrams from sim/sim-002, which no rule allows"
denied=$(($(nm_drop policy_denied) - denied0))
((denied >= COUNT)) || nm_fail "policy_denied grew by $denied, expected at least $COUNT (sim-002's records)"
rx=$(nm_ctl --json tunnel list | nm_json "[t['rx_packets'] for t in j['tunnels'] if t['name'] == 'sim-002'][0]")
((rx == COUNT)) || nm_fail "the daemon opened $rx of sim-002's $COUNT records, expected all (denied by policy, not by the tunnel)"
nm_ok "sealed records: sim/sim-001 -> test/sa-1 allowed ($got of $COUNT), sim/sim-002 opened ($rx) and denied (policy_denied +$denied)"

# 3. Withdraw and re-announce; session restart.
[[ $(field withdraw_left) == 0 && $(field reannounced) == "$PODS" ]] ||
	nm_fail "withdraw: left $(field withdraw_left), re-announced $(field reannounced) of $PODS"
nm_ok "$LAST withdrew its $PODS pods in $(field withdraw_ms) ms and announced them again in $(field reannounce_ms) ms"
[[ $(field restart_sessions) -ge 1 ]] || nm_fail "restart: no new session on the daemon"
refused=$(nm_ctl --json tunnel list | nm_json "[t['announcements_refused'] for t in j['tunnels'] if t['name'] == '$LAST'][0]")
((refused == 0)) || nm_fail "restart: the daemon refused $refused of $LAST's re-announcements"
[[ $(field stale_after_resync) == 0 ]] || nm_fail "restart: $(field stale_after_resync) pods of $LAST's old session kept after its pods_synced"
removed=$(nm_ctl --json tunnel list | nm_json "[t['resync_removed'] for t in j['tunnels'] if t['name'] == '$LAST'][0]")
((removed == 1)) || nm_fail "restart: the daemon's resync removed $removed pods, expected the 1 not announced again"
left=$(nm_ctl --json tunnel list | nm_json "[t['remote_pods'] for t in j['tunnels'] if t['name'] == '$LAST'][0]")
((left == PODS - 1)) || nm_fail "restart: $LAST holds $left pods in the ipcache, expected $((PODS - 1))"
nm_ok "$LAST's session restarted: new session and epoch in $(field restart_ms) ms, $(field restart_held) pods held, the one not announced again removed by the resync"

# They go, with their pods, so that the 200 below fit in tunnel.max_peers.
for ((i = 1; i <= PEERS; i++)); do
	nm_ctl peer del "name=$(printf 'sim-%03d' "$i")" >/dev/null
done
n=$(nm_ctl --json stats | nm_json "j['ipcache']['remote_pods']")
((n == 0)) || nm_fail "peer del of every simulated peer left $n remote pods in the ipcache"

# 4. 200 peers: the cap, their handshakes, tunnel list in pages.
hold=$NM_TMP/hold.out
nm_bg "$PS_NS" "$hold" "$PS_SIM" --certs "$PS_CERTS" --trust-domain "$PS_TD" \
	--daemon "$NM_NODE_NAME" --server 198.19.4.1:7400 --ctl "$NM_SOCK" \
	--mgmt-base 198.19.4.10 --fabric-base 198.19.0.10 --pod-base 198.18.4.0 --pod-prefix 26 \
	-n $((MANY + 1)) -p 1 --timeout 30 --hold 120 --redial
SIM_PID=$NM_LAST_BG
for ((i = 0; i < 300; i++)); do
	grep -q '^announce: ' "$hold" && break
	kill -0 "$SIM_PID" 2>/dev/null || nm_fail "nm-peersim ended: $(cat "$hold")"
	sleep 0.1
done
grep -q "^register: sim-$((MANY + 1)) refused: peer add: $MANY peers already (tunnel.max_peers)" "$hold" ||
	nm_fail "peer $((MANY + 1)) was not refused with '$MANY peers already': $(head -5 "$hold")"
up=$(nm_ctl --json peer list | nm_json "j['summary']['up']")
((up == MANY)) || nm_fail "$up of $MANY peers up: $(grep -E '^(handshakes|register|  )' "$hold")"
nm_ok "$MANY peers up, peer $((MANY + 1)) refused: $(grep '^handshakes: ' "$hold")"

after="" names=() pages=0
while :; do
	page=$(nm_ctl --json tunnel list limit=64 ${after:+"after=$after"})
	mapfile -t got < <(nm_json "'\\n'.join(t['name'] for t in j['tunnels'])" <<<"$page")
	names+=("${got[@]}")
	pages=$((pages + 1))
	after=$(nm_json "j['next'] or ''" <<<"$page")
	[[ -n $after ]] || break
	((pages < 10)) || nm_fail "tunnel list: more than 10 pages of 64"
	[[ $after == "${got[-1]}" ]] || nm_fail "tunnel list: next is $after, the page ended with ${got[-1]}"
done
((pages == 4 && ${#names[@]} == MANY)) || nm_fail "tunnel list: $pages pages, ${#names[@]} peers"
printf '%s\n' "${names[@]}" | sort -c || nm_fail "tunnel list pages are not in name order"
(($(printf '%s\n' "${names[@]}" | sort -u | wc -l) == MANY)) || nm_fail "tunnel list pages repeat a peer"
[[ ${names[0]} == sim-001 && ${names[-1]} == sim-200 ]] || nm_fail "pages run ${names[0]}..${names[-1]}"
one=$(nm_ctl --json tunnel list peer=sim-137 | nm_json "[t['name'] + ' ' + t['state'] for t in j['tunnels']]")
[[ $one == '["sim-137 up"]' ]] || nm_fail "tunnel list peer=sim-137: $one"
err=$(nm_ctl tunnel list peer=sim-999 2>&1) && nm_fail "tunnel list peer=sim-999 answered: $err"
[[ $err == *"no peer named 'sim-999'"* ]] || nm_fail "tunnel list peer=sim-999: $err"
nm_ok "tunnel list: $MANY peers in $pages pages of 64 in name order; peer=sim-137 alone; an unknown peer named"

# budget_check WHAT: sample `peer list`'s summary until all MANY peers are up
# again, then check that the handshakes started between any two samples
# never exceed the burst plus the rate times the time, and that some were
# deferred. Sets started, deferred (since the first sample), back (s).
budget_check() {
	local what=$1 samples=$NM_TMP/samples.$1 t0 i line up worst rate s0 d0
	: >"$samples"
	t0=$(date +%s.%N)
	for ((i = 0; i < 200; i++)); do
		line=$(nm_ctl --json peer list | nm_json "'%d %d %d' % (j['summary']['handshakes']['started'], j['summary']['handshakes']['deferred'], j['summary']['up'])")
		echo "$(date +%s.%N) $line" >>"$samples"
		[[ ${line##* } == "$MANY" ]] && break
		sleep 0.25
	done
	back=$(awk -v t0="$t0" 'END {printf "%.1f", $1 - t0}' "$samples")
	read -r s0 d0 _ < <(head -1 "$samples" | cut -d' ' -f2-)
	read -r started deferred up < <(tail -1 "$samples" | cut -d' ' -f2-)
	started=$((started - s0 + 1)) deferred=$((deferred - d0))
	((up == MANY)) || nm_fail "$what: $up of $MANY peers came back: $(tail -3 "$samples")"
	((deferred > 0)) || nm_fail "$what: no handshake was deferred ($started started): the budget did nothing"
	# Each sample is read between two timestamps a control round trip apart:
	# allow the tokens of 0.2 s more than the bucket gives.
	read -r worst rate < <("$NM_PY" -c '
import sys
rows = [tuple(float(x) for x in l.split()[:2]) for l in open(sys.argv[1]) if l.strip()]
rate, burst = float(sys.argv[2]), float(sys.argv[3])
worst = max([(b[1] - a[1]) - (burst + rate * (b[0] - a[0] + 0.2))
             for i, a in enumerate(rows) for b in rows[i + 1:]] or [0])
span = max(rows[-1][0] - rows[0][0], 0.001)
print("%.1f %.0f" % (worst, (rows[-1][1] - rows[0][1]) / span))
' "$samples" "$RATE" "$BURST")
	"$NM_PY" -c "import sys; sys.exit(0 if $worst <= 0 else 1)" ||
		nm_fail "$what: the daemon started handshakes faster than $RATE/s with a burst of $BURST (over by $worst): $(cat "$samples")"
	nm_ok "$what with $MANY peers: all back after $back s, about $started handshakes at $rate/s (budget $RATE/s, burst $BURST), $deferred deferred"
}

# 5. The daemon restarts, then reloads its certificate, with 200 peers
# calling back each time: no more handshakes than the budget.
ps_daemon_restart
budget_check restart
m=$(nm_ctl metrics | awk '$1 == "nodemesh_peer_handshakes_deferred_total" {print $2}')
((m >= deferred)) || nm_fail "metrics: nodemesh_peer_handshakes_deferred_total is '$m', peer list said $deferred"
nm_ctl cert reload >/dev/null || nm_fail "cert reload failed"
budget_check "cert reload"
kill -TERM "$SIM_PID" 2>/dev/null || true
wait "$SIM_PID" 2>/dev/null || true
grep '^hold: ' "$hold" || nm_fail "nm-peersim printed no hold line: $(tail -5 "$hold")"
echo "peersim: PASS"
