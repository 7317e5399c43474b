#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Identities from a trusted source, not from the pod: pods attached the way
# the CNI plugin attaches them (no service account, a container id) are
# unknown and isolated by default deny; `identity set` (before or after the
# attachment) gives them their identity and live policy follows; `identity
# del` makes a pod unknown again, and a pod of unknown identity matches only
# '*' and is written as "identity": "unknown" in flow records. A retried
# attachment of the same container is answered as done, and a detach by
# container id may be repeated. IPv6 stays on, as on a real node.
set -euo pipefail
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1

nm_pods_setup 3
nm_daemon_start
nm_tmp_init
P1=${NM_POD_NS[1]}
IP2=${NM_POD_IP[2]} IP3=${NM_POD_IP[3]}
log=$NM_TMP/flows.jsonl

# attach I: pod I as a runtime attaches it: name, namespace, address,
# interface and container id, no identity.
attach() {
	nm_ctl --json pod add "name=pod-$1" namespace=test "ip=${NM_POD_IP[$1]}" \
		"iface=${NM_POD_IF[$1]}" "container=cid$1$NM_SFX"
}

# pod_field NAME EXPR: a python expression on the pod's `pod list` entry p.
pod_field() {
	nm_ctl --json pod list | nm_json "[$2 for p in j['pods'] if p['name'] == '$1'][0]"
}

# 1. Pod 3's identity arrives before the pod, pods 1 and 2 attach unknown.
out=$(nm_ctl --json identity set namespace=test name=pod-3 serviceaccount=sa-3 labels=app=t3) ||
	nm_fail "identity set before the pod refused: $out"
for i in 1 2 3; do out=$(attach "$i") || nm_fail "pod add pod-$i refused: $out"; done
[[ $(pod_field pod-1 "p['identity_known']") == False ]] || nm_fail "pod-1 attached without identity is not unknown"
[[ $(pod_field pod-1 "p['serviceaccount']") == None ]] || nm_fail "pod-1 has a service account it was never given"
[[ $(pod_field pod-3 "p['serviceaccount'] + ' ' + p['labels']") == "sa-3 app=t3" ]] ||
	nm_fail "pod-3 did not take the identity set before it was attached"
[[ $(pod_field pod-1 "p['container']") == "cid1$NM_SFX" ]] || nm_fail "pod list does not show pod-1's container id"
nm_ok "attached without identity: unknown (fail closed); an identity set before the pod applies at attach"

nm_ctl policy add allow from test/sa-1 to test/sa-2 proto icmp >/dev/null
nm_ctl policy add allow from '*' to test/sa-3 proto icmp >/dev/null
nm_ping_fails "$P1" "$IP2" || nm_fail "unknown pod-1 reached pod-2 (rule names test/sa-1 -> test/sa-2)"
nm_ping_ok "$P1" "$IP3" || nm_fail "unknown pod-1 could not reach pod-3 through the '*' rule"
nm_ok "unknown pods match no selector but '*': pod-1 -> pod-2 denied, pod-1 -> pod-3 ('*') allowed"

# 2. Identities set after the attachment: the rule applies at once.
nm_ctl identity set namespace=test name=pod-1 serviceaccount=sa-1 >/dev/null
nm_ctl identity set namespace=test name=pod-2 serviceaccount=sa-2 image=example/pod:2 >/dev/null
nm_ping_ok "$P1" "$IP2" || nm_fail "pod-1 -> pod-2 denied after both identities were set"
n=$(nm_ctl --json identity list | nm_json "sum(1 for i in j['identities'] if i['namespace'] == 'test' and i['attached'])")
[[ $n == 3 ]] || nm_fail "identity list shows $n attached identities, want 3"
nm_ok "identity set after the attachment: pod-1 -> pod-2 allowed; identity list shows 3"

# 3. A ping flow lives through the withdrawal: it is judged again and stops.
nm_bg "$P1" "$NM_TMP/ping.out" ping -n -c 40 -i 0.1 -W 1 "$IP2"
ping_pid=$NM_LAST_BG
sleep 1
nm_ctl identity del namespace=test name=pod-1 >/dev/null
sleep 0.5
nm_drop_before=$(nm_ctl --json stats | nm_json "j['drops'].get('policy_denied', 0)")
sleep 1
nm_drop_after=$(nm_ctl --json stats | nm_json "j['drops'].get('policy_denied', 0)")
wait "$ping_pid" || true
((nm_drop_after > nm_drop_before)) ||
	nm_fail "identity del: the live ping flow was not denied (policy_denied $nm_drop_before -> $nm_drop_after)"
[[ $(pod_field pod-1 "p['identity_known']") == False ]] || nm_fail "pod-1 still known after identity del"
nm_ping_fails "$P1" "$IP2" || nm_fail "pod-1 reached pod-2 after its identity was withdrawn"
out=$(nm_ctl --json identity del namespace=test name=pod-1 2>&1) &&
	nm_fail "a second identity del was accepted: $out"
grep -q "no identity for test/pod-1" <<<"$out" || nm_fail "second identity del: '$out'"
nm_ok "identity del re-judges the live flow (policy_denied $nm_drop_before -> $nm_drop_after) and isolates pod-1 again"

# 4. Flow records say the identity is unknown.
nm_ctl flow flush >/dev/null
for ((i = 0; i < 30; i++)); do
	grep -q '"identity":"unknown"' "$log" 2>/dev/null && break
	sleep 0.1
done
grep '"identity":"unknown"' "$log" | grep -q '"pod":"pod-1"' ||
	nm_fail "no flow record shows pod-1 as of unknown identity: $(tail -n 3 "$log")"
nm_ok "flow records of the unknown pod carry \"identity\": \"unknown\""

# 5. Retries and repeats, as a runtime makes them.
out=$(attach 2) || nm_fail "a retried pod add of the same container was refused: $out"
[[ $(nm_json "j['existing']" <<<"$out") == True ]] || nm_fail "retried pod add not answered as existing: $out"
out=$(nm_ctl --json pod add name=pod-9 namespace=test ip=198.18.0.99 iface=nope0 "container=cid2$NM_SFX" 2>&1) &&
	nm_fail "a second pod for an attached container was accepted: $out"
grep -q "is attached already as pod 'pod-2'" <<<"$out" || nm_fail "pod add of an attached container: '$out'"
out=$(nm_ctl --json pod del "container=cid2$NM_SFX") || nm_fail "pod del by container refused: $out"
[[ $(nm_json "j['deleted']" <<<"$out") == 1 ]] || nm_fail "pod del by container: $out"
out=$(nm_ctl --json pod del "container=cid2$NM_SFX") || nm_fail "a repeated pod del by container refused: $out"
[[ $(nm_json "j['deleted']" <<<"$out") == 0 ]] || nm_fail "repeated pod del by container: $out"
nm_ping_ok "$P1" "$IP3" || nm_fail "pod-1 -> pod-3 broken by pod-2's detach"
nm_ok "retried pod add answered as existing, pod del by container repeatable, the others keep talking"

# 6. The same pod name in two namespaces (two StatefulSets' web-0): both attach.
nm_ctl pod add name=pod-3 namespace=other ip=198.18.0.2 "iface=${NM_POD_IF[2]}" >/dev/null ||
	nm_fail "pod-3 of namespace other refused beside pod-3 of namespace test"
out=$(nm_ctl pod del name=pod-3 2>&1) && nm_fail "an ambiguous pod del was accepted: $out"
grep -q "in several namespaces" <<<"$out" || nm_fail "ambiguous pod del: '$out'"
out=$(nm_ctl flow list pod=pod-3 2>&1) && nm_fail "an ambiguous flow list was accepted: $out"
nm_ctl --json flow list pod=test/pod-3 >/dev/null || nm_fail "flow list pod=test/pod-3 refused"
nm_ctl pod del name=pod-3 namespace=other >/dev/null || nm_fail "pod del name=pod-3 namespace=other refused"
[[ $(nm_ctl --json pod list | nm_json "[p['namespace'] for p in j['pods'] if p['name'] == 'pod-3']") == '["test"]' ]] ||
	nm_fail "pod del namespace=other removed the wrong pod-3"
nm_ok "pods are unique by namespace and name: pod-3 in test and other; the bare name is refused as ambiguous"
