#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# config reload, all or nothing. The node starts with the default UDP
# timeout (60 s), so a UDP flow stays open and writes no record. Then:
#   1. a file with udp = 1 and one bad value: refused naming file, line and
#      value; nothing changed (the flow stays open, no record);
#   2. a file with udp = 1 and two settings that need a restart: refused
#      naming both; nothing changed;
#   3. a file with udp = 1, a new flow log path and policy.default changed:
#      applied; the idle flow ends within a few seconds and its record
#      lands in the new file (the live change works, shown by behaviour),
#      policy.default is reported as seed-only and traffic is still allowed;
#   4. the config file gone: refused, the daemon runs on.
# Also: the command table nodemeshd --commands prints (what the man page
# test checks) is the one the running daemon's help answers with.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap

nm_pods_start 2
P1=${NM_POD_NS[1]} IP1=${NM_POD_IP[1]} IP2=${NM_POD_IP[2]}
conf=$NM_TMP/nodemesh.conf
newlog=$NM_TMP/flows-after-reload.jsonl

# 0. nodemeshd --commands is the table the daemon serves.
offline=$("$NM_DAEMON" --commands | cut -f1)
online=$(nm_ctl --json help | nm_json "chr(10).join(c['usage'] for c in j['commands'])")
[[ $offline == "$online" ]] || nm_fail "nodemeshd --commands differs from the daemon's help:
$(diff <(echo "$offline") <(echo "$online"))"
grep -qx "config reload" <<<"$offline" || nm_fail "no 'config reload' in the command table"
nm_ok "nodemeshd --commands lists the $(wc -l <<<"$offline") commands the daemon's help lists"

# One UDP flow pod-1:41000 -> pod-2:9999 (pod-2's kernel answers port unreachable).
nm_in "$P1" "$NM_PY" "$(dirname "$0")/udp_flow.py" --dst "$IP2" --port 9999 --sport 41000 \
	--count 3 --tag reload >/dev/null
flow_open() {
	nm_ctl --json flow list | nm_json "any(f['proto'] == 'udp' and f['src']['port'] == 41000 for f in j['flows'])"
}
record_in() { # FILE: the flow's records in it
	[[ -e $1 ]] || {
		echo 0
		return
	}
	"$NM_PY" -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l)["proto"] == "udp"
          and json.loads(l)["src"]["port"] == 41000))' "$1"
}
[[ $(flow_open) == True ]] || nm_fail "the UDP flow is not tracked"

# 1. One bad value next to a good live change.
sed -i -e 's/conntrack: {/conntrack: { timeouts: { udp = 1; };/' \
	-e 's/sleep_us = 50;/sleep_us = 999999;/' "$conf"
out=$(nm_ctl config reload 2>&1) && nm_fail "reload with sleep_us = 999999 was applied: $out"
grep -q "nodemesh.conf:[0-9]*: 'sleep_us' = 999999 is outside 0..100000" <<<"$out" ||
	nm_fail "the refusal does not name file, line and value: $out"
grep -q "nothing changed" <<<"$out" || nm_fail "the refusal does not say nothing changed: $out"
nm_ok "bad value refused: $out"
sleep 3
[[ $(flow_open) == True && $(record_in "$NM_TMP/flows.jsonl") == 0 ]] ||
	nm_fail "after the refused reload the UDP flow ended: the udp = 1 next to the bad value was applied"
nm_ok "3 s later the UDP flow is still open and unlogged: udp = 1 was not applied"

# 2. Settings that need a restart, next to the same good live change.
sed -i -e 's/sleep_us = 999999;/sleep_us = 50;/' -e 's/lcores = "0-1"/lcores = "0-2"/' \
	-e 's/dataplane: {/dataplane: { mbufs = 4096;/' "$conf"
out=$(nm_ctl config reload 2>&1) && nm_fail "reload changing lcores and mbufs was applied: $out"
grep -q "changes eal.lcores, dataplane.mbufs, which need a restart" <<<"$out" ||
	nm_fail "the refusal does not name eal.lcores and dataplane.mbufs: $out"
nm_ok "restart-only settings refused by name: $out"
sleep 2
[[ $(flow_open) == True && $(record_in "$NM_TMP/flows.jsonl") == 0 ]] ||
	nm_fail "after the refused reload the UDP flow ended: udp = 1 was applied"

# 3. Good: udp = 1, a new flow log, and policy.default (seed-only) changed.
sed -i -e 's/lcores = "0-2"/lcores = "0-1"/' -e 's/dataplane: { mbufs = 4096;/dataplane: {/' \
	-e "s|flows = \"[^\"]*\"|flows = \"$newlog\"|" -e 's/default = "allow"/default = "deny"/' "$conf"
out=$(nm_ctl --json config reload) || nm_fail "good reload refused: $out"
nm_json "sorted(j['applied']) == ['conntrack.timeouts.udp', 'logs.flows'] and j['seed_only'] == ['policy.default']" <<<"$out" |
	grep -qx True || nm_fail "reload reply: $out"
nm_ok "reload applied: $out"
for ((i = 0; i < 50; i++)); do
	[[ $(record_in "$newlog") == 1 ]] && break
	sleep 0.1
done
[[ $(record_in "$newlog") == 1 ]] || nm_fail "the idle UDP flow was not logged to $newlog within 5 s of udp = 1"
[[ $(record_in "$NM_TMP/flows.jsonl") == 0 ]] || nm_fail "the record went to the old flow log"
nm_ok "the idle UDP flow ended under udp = 1 and its record is in the new log"
nm_ping_ok "${NM_POD_NS[1]}" "$IP2" || nm_fail "pod-1 -> pod-2 ping fails: policy.default was applied"
policy=$(nm_ctl --json policy list | nm_json "j['default']")
[[ $policy == allow ]] || nm_fail "policy default is $policy after the reload, expected allow"
nm_ok "policy.default = deny in the file is seed-only: the node still allows ($IP1 -> $IP2 ping)"

# 4. The file gone: refused, still running.
mv "$conf" "$conf.away"
out=$(nm_ctl config reload 2>&1) && nm_fail "reload without a config file was applied: $out"
grep -q "cannot read" <<<"$out" || nm_fail "refusal without a file: $out"
mv "$conf.away" "$conf"
stats=$(nm_ctl --json stats)
nm_json "j['config']['reloads'] == 1 and j['config']['refused'] == 3" <<<"$stats" | grep -qx True ||
	nm_fail "stats config: $(nm_json "j['config']" <<<"$stats")"
nm_ok "missing file refused; stats config: $(nm_json "j['config']" <<<"$stats")"
echo "config_reload: PASS"
