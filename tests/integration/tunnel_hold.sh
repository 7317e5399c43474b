#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Idle connections against a tunnel listener do not keep the tunnel down.
# Node b listens (node-a sorts first and dials). From a's management
# namespace, two holders keep 20 idle TCP connections each open against
# b's listener, reopening each one whenever it is closed and never sending
# a byte: one from 198.19.1.9, an address of no peer (refused at accept),
# one from 198.19.1.1, node a's own address (the hard case: its real dial
# must get through them). Then `cert reload` on a, later on b: each time
# the tunnel is up again on both nodes within a few seconds, stays up past
# the old keys' grace period (tunnel.grace_s = 3 here) and pods talk both
# ways; b's listener counted its refusals by reason.
set -euo pipefail
# shellcheck source=tests/integration/tunnel_common.sh
. "$(dirname "$0")/tunnel_common.sh"
tn_init

GRACE_S=3
UP_WITHIN_S=6

# listener NODE EXPR: EXPR on l = NODE's `peer list` listener object.
listener() { nm2_ctl "$1" --json peer list | nm_json "(lambda l: $2)(j['listener'])"; }

# since T0: seconds from T0 (date +%s.%N) to now.
since() { "$NM_PY" -c 'import sys, time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$1"; }

# reload_and_check NODE: cert reload on NODE; both ends up with a new session
# within UP_WITHIN_S; still up and pings both ways after the grace period.
reload_and_check() {
	local node=$1 sa0 sb0 sa1 sb1 t0 i took
	sa0=$(tn_peer a "t['sessions']")
	sb0=$(tn_peer b "t['sessions']")
	t0=$(date +%s.%N)
	nm2_ctl "$node" cert reload >/dev/null || nm_fail "cert reload on $node refused"
	for ((i = 0; i < UP_WITHIN_S * 10; i++)); do
		sa1=$(tn_peer a "t['sessions']")
		sb1=$(tn_peer b "t['sessions']")
		if ((sa1 > sa0 && sb1 > sb0)) && [[ $(tn_peer a "t['state']") == up &&
			$(tn_peer b "t['state']") == up ]]; then
			break
		fi
		sleep 0.1
	done
	took=$(since "$t0")
	((sa1 > sa0 && sb1 > sb0)) || nm_fail "cert reload on $node: no new session within \
${UP_WITHIN_S} s under the hold (sessions a $sa0 -> $sa1, b $sb0 -> $sb1): \
a: $(nm2_ctl a tunnel list) b: $(nm2_ctl b peer list)"
	nm2_wait_up a b 2 || nm_fail "cert reload on $node: a's tunnel not up: $(nm2_ctl a tunnel list)"
	nm2_wait_up b a 2 || nm_fail "cert reload on $node: b's tunnel not up: $(nm2_ctl b tunnel list)"
	nm_ok "cert reload on $node under the hold: new session on both within ${took} s"
	sleep $((GRACE_S + 1)) # the old keys are gone now: only the new session carries traffic
	[[ $(tn_peer a "t['state']") == up && $(tn_peer b "t['state']") == up ]] ||
		nm_fail "cert reload on $node: tunnel not up after the grace period: \
$(nm2_ctl a tunnel list) $(nm2_ctl b tunnel list)"
	nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 after cert reload on $node"
	nm_ping_ok "${NM2_POD_NS[b1]}" "${NM2_POD_IP[a1]}" || nm_fail "ping b1 -> a1 after cert reload on $node"
	nm_ok "cert reload on $node: still up ${GRACE_S} s past the grace period, pings both ways"
}

nm2_setup
nm2_pod a 1
nm2_pod b 1
nm2_start a "grace_s = $GRACE_S;"
nm2_start b "grace_s = $GRACE_S;"
nm2_pod_add a 1
nm2_pod_add b 1
nm2_wait_up a b 20 || nm_fail "tunnel a -> b not up: $(nm2_ctl a tunnel list 2>&1)"
nm2_wait_up b a 20 || nm_fail "tunnel b -> a not up: $(nm2_ctl b tunnel list 2>&1)"
nm_ping_ok "${NM2_POD_NS[a1]}" "${NM2_POD_IP[b1]}" || nm_fail "ping a1 -> b1 got no reply"

# A second address in a's namespace that belongs to no peer; b routes it back.
ip -n "${NM2_NS[a]}" addr add 198.19.1.9/32 dev mgmt
ip -n "${NM2_NS[b]}" route add 198.19.1.9/32 dev mgmt
read -r ref0 <<<"$(listener b "l['refused_total']")"

HOLD=$NM_TMP/hold
for src in 198.19.1.9 "${NM2_MGMT[a]}"; do
	nm_bg "${NM2_NS[a]}" "$HOLD-$src.log" "$NM_PY" "$NM_SRC/tests/integration/tcp_hold.py" \
		--src "$src" --host "${NM2_MGMT[b]}" --port 7400 -n 20 --count-file "$HOLD-$src.count" \
		--total 120
done
sleep 3 # the holders' connections are open (or waiting in b's kernel)
for src in 198.19.1.9 "${NM2_MGMT[a]}"; do
	[[ -s $HOLD-$src.count ]] || nm_fail "holder from $src is not running: $(cat "$HOLD-$src.log")"
done
established=$(ip netns exec "${NM2_NS[a]}" ss -Htn state established "dst ${NM2_MGMT[b]}:7400" | wc -l)
nm_ok "holding idle connections to b's listener: $established established from a's namespace \
(20 from 198.19.1.9, no peer's address; 20 from ${NM2_MGMT[a]}, a's own)"

reload_and_check a
reload_and_check b

for src in 198.19.1.9 "${NM2_MGMT[a]}"; do
	opened=$(cat "$HOLD-$src.count")
	((opened > 20)) || nm_fail "holder from $src opened $opened connections: none was closed"
	nm_ok "holder from $src opened $opened connections (20 held, each reopened when closed)"
done
refused=$(listener b "l['refused']")
not_peer=$(listener b "l['refused']['not_peer_address']")
idle=$(listener b "l['refused']['first_bytes_timeout'] + l['refused']['replaced_by_newer']")
((not_peer > 0)) || nm_fail "b's listener counted no not_peer_address refusal: $refused"
((idle > 0)) || nm_fail "b's listener counted no idle connection closed: $refused"
nm_ok "b's listener refusals (before the hold: $ref0 in all): $refused"
nm2_ctl b peer list
echo "tunnel_hold: PASS"
