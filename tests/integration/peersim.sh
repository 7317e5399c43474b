#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# nm-peersim (tests/sim) plays 15 nodes against one real nodemeshd over the
# real protocol: each with its own certificate and control address, mutual
# TLS 1.3, hello, 10 pods announced each (identity sim/sim-NNN), key offers
# both ways. Then, with policy default deny and one rule allowing
# sim/sim-001 to reach the local pod test/sa-1 on UDP:
#   - sealed records from pod 1 of sim-001 reach the local pod (its
#     listener counts them), those of sim-002 do not (policy_denied grows
#     by as many);
#   - sim-015 withdraws its 10 pods (the daemon holds 140) and announces
#     them again (150);
#   - sim-015's session restarts: a new session and a new epoch, its pods
#     but one re-announced without a refusal, then pods_synced: the daemon
#     removes the one not announced again (a full resync);
#   - a 16th peer is accepted (the cap, NM_MAX_PEERS) and a 17th refused
#     with "16 peers already"; when it dials anyway the listener closes the
#     connection (refused.not_peer_address).
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
PEERS=15
PODS=10
COUNT=20

ps_setup $((PEERS + 2))
nm_ctl policy add allow from sim/sim-001 to test/sa-1 proto udp port 9999 >/dev/null

# A listener in pod 1 counts what arrives on UDP 9999.
ready=$NM_TMP/listen.ready
nm_bg "${NM_POD_NS[1]}" "$NM_TMP/listen.log" "$NM_PY" "$NM_SRC/tests/integration/udp_listen.py" \
	--bind "${NM_POD_IP[1]}" --port 9999 --ready-file "$ready" --idle 30 --total 50
for ((i = 0; i < 50; i++)); do [[ -e $ready ]] && break; sleep 0.1; done
[[ -e $ready ]] || nm_fail "UDP listener in pod 1 did not start"

denied0=$(nm_drop policy_denied)
out=$NM_TMP/sim.out
ps_sim -n "$PEERS" -p "$PODS" --rate 50 --timeout 20 \
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
((n == PEERS + 1)) || nm_fail "tunnel list counts $n sessions of the simulated peers, expected $((PEERS + 1)) (one each, and sim-015's restart)"
nm_ok "$PEERS simulated peers up (TLS 1.3, keys both ways), $((PEERS * PODS)) remote pods applied in $(field announce_ms) ms"

# 2. Policy by identity across the tunnel.
sleep 1
got=$(grep -c '^198\.18\.16\.1 ' "$NM_TMP/listen.log" || true)
((got == COUNT)) || nm_fail "pod 1 got $got of $COUNT datagrams from sim/sim-001 (allowed): $(nm_ctl tunnel list | head -20)"
bad=$(grep -c '^198\.18\.17\.1 ' "$NM_TMP/listen.log" || true)
((bad == 0)) || nm_fail "pod 1 got $bad datagrams from sim/sim-002, which no rule allows"
denied=$(($(nm_drop policy_denied) - denied0))
((denied >= COUNT)) || nm_fail "policy_denied grew by $denied, expected at least $COUNT (sim-002's records)"
rx=$(nm_ctl --json tunnel list | nm_json "[t['rx_packets'] for t in j['tunnels'] if t['name'] == 'sim-002'][0]")
((rx == COUNT)) || nm_fail "the daemon opened $rx of sim-002's $COUNT records, expected all (denied by policy, not by the tunnel)"
nm_ok "sealed records: sim/sim-001 -> test/sa-1 allowed ($got of $COUNT), sim/sim-002 opened ($rx) and denied (policy_denied +$denied)"

# 3. Withdraw and re-announce; session restart.
[[ $(field withdraw_left) == 0 && $(field reannounced) == "$PODS" ]] ||
	nm_fail "withdraw: left $(field withdraw_left), re-announced $(field reannounced) of $PODS"
nm_ok "sim-015 withdrew its $PODS pods in $(field withdraw_ms) ms and announced them again in $(field reannounce_ms) ms"
[[ $(field restart_sessions) -ge 1 ]] || nm_fail "restart: no new session on the daemon"
refused=$(nm_ctl --json tunnel list | nm_json "[t['announcements_refused'] for t in j['tunnels'] if t['name'] == 'sim-015'][0]")
((refused == 0)) || nm_fail "restart: the daemon refused $refused of sim-015's re-announcements"
[[ $(field stale_after_resync) == 0 ]] || nm_fail "restart: $(field stale_after_resync) pods of sim-015's old session kept after its pods_synced"
removed=$(nm_ctl --json tunnel list | nm_json "[t['resync_removed'] for t in j['tunnels'] if t['name'] == 'sim-015'][0]")
((removed == 1)) || nm_fail "restart: the daemon's resync removed $removed pods, expected the 1 not announced again"
nm_ok "sim-015's session restarted: new session and epoch in $(field restart_ms) ms, $(field restart_held) pods held, the one not announced again removed by the resync"

# 4. The cap: a 16th peer is taken, a 17th refused by name.
ps_sim -n $((PEERS + 2)) -p 1 --timeout 10 >"$out" 2>&1 || true
grep -q "^register: sim-001 refused: peer add: peer 'sim-001' exists already" "$out" ||
	nm_fail "re-registering sim-001 was not refused as existing: $(cat "$out")"
grep -q "^register: sim-017 refused: peer add: 16 peers already" "$out" ||
	nm_fail "the 17th peer was not refused with '16 peers already': $(cat "$out")"
n=$(nm_ctl --json tunnel list | nm_json "len(j['tunnels'])")
((n == 16)) || nm_fail "tunnel list holds $n peers, expected the cap of 16"
nm_ok "the 16th peer added, the 17th refused: $(grep '^register: sim-017' "$out")"

# 5. The 17th node dialling anyway: the listener takes calls only from the
# addresses of configured peers, and counts the refusal.
refused0=$(nm_ctl --json peer list | nm_json "j['listener']['refused']['not_peer_address']")
ps_sim -n $((PEERS + 2)) -p 1 --no-register --timeout 10 >"$out" 2>&1 || true
grep -q "^  sim-017 failed: " "$out" || nm_fail "the unconfigured sim-017 was not turned away: $(cat "$out")"
grep -q "^handshakes: 16 of 17 up" "$out" || nm_fail "the 16 configured peers did not all come up beside it: $(cat "$out")"
refused=$(($(nm_ctl --json peer list | nm_json "j['listener']['refused']['not_peer_address']") - refused0))
((refused >= 1)) || nm_fail "listener refused.not_peer_address grew by $refused, expected at least 1"
nm_ok "the 17th node dialling unconfigured: $(grep '^  sim-017 failed' "$out" | sed 's/^ *//'); not_peer_address +$refused"
echo "peersim: PASS"
