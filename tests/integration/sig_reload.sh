#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Reloading signatures under traffic: one iperf3 TCP connection pod-1 ->
# pod-2 runs 8 s while `sig load` swaps three times between a file of 100
# generated literal rules and one of 3 rules. The connection survives
# (iperf3 ends without error and still moves bytes after the last load;
# a 0.5 s interval without bytes can happen: a loss before nodemesh costs
# the sender a timeout under the drop-out-of-order stream policy, reloads
# or not, see README "Signatures"), its
# flow keeps being scanned with the set it started with (held as a retired
# set while it lives, freed once the flow is over), and the generation
# counts the loads. A file with an error (bad pcre flag, unknown keyword)
# is refused with FILE:LINE and the sid, and the set in force stays.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_TCP_CLOSED_TIMEOUT=1

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
big=$NM_TMP/literals100.rules
small=$NM_TMP/small.rules

for ((i = 1; i <= 100; i++)); do
	printf 'drop tcp any any -> any any (msg:"reload literal %d"; content:"nm-reload-literal-%03d-qzx"; classtype:misc-activity; sid:%d; rev:1;)\n' \
		"$i" "$i" $((3000000 + i))
done >"$big"
cat >"$small" <<'EOF'
reject tcp any any -> any 80 (msg:"SQL injection: UNION SELECT"; flow:to_server,established; content:"union"; nocase; content:"select"; nocase; pcre:"/union(\s|%20|\+)+select/i"; classtype:web-application-attack; sid:1000001; rev:2;)
drop udp any any -> any 9999 (msg:"UDP evil payload"; content:"EVIL"; sid:1000002; rev:1;)
alert tcp any any -> any any (msg:"reload marker"; content:"nm-reload-marker-qzx"; sid:3000999; rev:1;)
EOF

# load FILE EXPECTED_COUNT: sig load, which must succeed with that many rules.
load() {
	local out
	out=$(nm_ctl --json sig load file="$1" 2>&1) || nm_fail "sig load $1: $out"
	[[ $(nm_json "j['signatures_loaded']" <<<"$out") == "$2" ]] || nm_fail "sig load $1: $out, expected $2 rules"
}
sigstat() {
	nm_ctl --json sig stats | nm_json "(lambda j: $1)(j['signatures'])"
}

load "$big" 100
[[ $(sigstat "j['generation']") == 1 ]] || nm_fail "generation after the first load: $(sigstat "j['generation']")"
b0=$(sigstat "j['bytes_scanned']")
drops0=$(nm_ctl --json stats | nm_json "j['drops']")

# 1. iperf3, one connection, 8 s, 0.5 s intervals, three reloads during it.
nm_bg "$P2" "$NM_TMP/iperf3-s.log" iperf3 -s -1 -B "$IP2" -p 5201
nm_wait_listen "$P2" tcp 5201 || nm_fail "iperf3 server did not start in pod-2"
nm_bg "$P1" "$NM_TMP/iperf3.json" timeout 30 iperf3 -c "$IP2" -p 5201 -t 8 -i 0.5 -P 1 -J
client=$NM_LAST_BG
held=()
t0=$(date +%s.%N)
for f in "$small:3" "$big:100" "$small:3"; do
	sleep 2
	load "${f%:*}" "${f##*:}"
	held+=("$(sigstat "j['retired_sets_held']")")
	nm_log "sig load ${f%:*} at +$(nm_json "round($(date +%s.%N) - $t0, 1)" <<<"{}") s; retired_sets_held ${held[-1]}"
done
rc=0
wait "$client" || rc=$?
((rc == 0)) || nm_fail "iperf3 client exited $rc: $(tail -c 2000 "$NM_TMP/iperf3.json")"
# What the dataplane dropped during the run, and what iperf3 retransmitted.
drops=$(nm_ctl --json stats | nm_json "{k: v - ${drops0}[k] for k, v in j['drops'].items() if v != ${drops0}[k]}")
retrans=$("$NM_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_sent"].get("retransmits"))' "$NM_TMP/iperf3.json" 2>/dev/null || echo "?")
echo "drops during the run: $drops; iperf3 retransmits: $retrans"
res=$("$NM_PY" - "$NM_TMP/iperf3.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
if "error" in j:
    print("iperf3 error: %s" % j["error"])
    sys.exit(1)
iv = [(i["sum"]["start"], i["sum"]["end"], i["sum"]["bytes"]) for i in j["intervals"]]
late = [b for s, e, b in iv if s >= 1.0]
zero = [(round(s, 1), b) for s, e, b in iv if s >= 1.0 and b == 0]
total = j["end"]["sum_received"]["bytes"]
tail = sum(b for s, e, b in iv if s >= iv[-1][1] - 2.0)
print("%d intervals, after 1 s min %d bytes, empty intervals %s, last 2 s %d bytes, received %d bytes" % (len(iv), min(late), zero, tail, total))
sys.exit(0 if len(iv) >= 15 and tail > 0 and total > 0 else 1)
EOF
) || nm_fail "iperf3 connection did not survive the reloads: $res; drops during the run $drops, iperf3 retransmits $retrans"
echo "iperf3 bytes per 0.5 s interval: $("$NM_PY" -c 'import json,sys; print([i["sum"]["bytes"] for i in json.load(open(sys.argv[1]))["intervals"]])' "$NM_TMP/iperf3.json")"
received=$("$NM_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"])' "$NM_TMP/iperf3.json")
nm_ok "iperf3 through 3 reloads: $res"

# The connection's stream kept its set (generation 1): held while it ran,
# and its bytes were scanned all along.
for h in "${held[@]}"; do
	((h >= 1)) || nm_fail "retired_sets_held after the reloads: ${held[*]}; the running flow's set should be held"
done
b1=$(sigstat "j['bytes_scanned']")
((b1 - b0 >= received)) || nm_fail "bytes_scanned grew by $((b1 - b0)) while iperf3 moved $received bytes: its stream stopped being scanned"
gen=$(sigstat "j['generation']")
((gen == 4)) || nm_fail "generation $gen after 4 loads"
nm_ok "generation $gen; retired_sets_held during the run ${held[*]}; bytes_scanned +$((b1 - b0)) >= $received received"

# 2. Once iperf3's connections are over (FINs + tcp_closed 1 s + a sweep),
#    the retired sets are freed.
h=""
for ((i = 0; i < 100; i++)); do
	h=$(sigstat "[j['retired_sets_held'], j['streams_open']]")
	[[ $h == "[0, 0]" ]] && break
	sleep 0.1
done
[[ $h == "[0, 0]" ]] || nm_fail "10 s after iperf3 ended: (retired_sets_held, streams_open) = $h"
nm_ok "after iperf3: retired sets freed, no stream open"

# 3. Bad files are refused, with file, line and sid; nothing changes.
list0=$(nm_ctl --json sig list | nm_json "[j['generation'], j['file'], len(j['signatures'])]")
cat >"$NM_TMP/badpcre.rules" <<'EOF'
alert tcp any any -> any 80 (msg:"fine"; content:"abc"; sid:4000001; rev:1;)
# a comment, then the bad rule on line 3
alert tcp any any -> any 80 (msg:"bad flag"; pcre:"/abc/Z"; sid:4000002; rev:1;)
EOF
cat >"$NM_TMP/badkw.rules" <<'EOF'
alert tcp any any -> any 80 (msg:"fine"; content:"abc"; sid:4000001; rev:1;)
alert tcp any any -> any 80 (msg:"fine too"; content:"def"; sid:4000003; rev:1;)
alert tcp any any -> any 80 (msg:"unknown keyword"; content:"x"; frobnicate:3; sid:4000004; rev:1;)
EOF
for spec in "badpcre.rules:3:4000002" "badkw.rules:3:4000004"; do
	IFS=: read -r f line sid <<<"$spec"
	if out=$(nm_ctl sig load file="$NM_TMP/$f" 2>&1); then
		nm_fail "sig load of $f was accepted: $out"
	fi
	[[ $out == *"$NM_TMP/$f:$line:"* && $out == *"sid $sid"* ]] ||
		nm_fail "sig load $f: error does not name $f:$line and sid $sid: $out"
	list=$(nm_ctl --json sig list | nm_json "[j['generation'], j['file'], len(j['signatures'])]")
	[[ $list == "$list0" ]] || nm_fail "sig list changed by the refused $f: $list0 -> $list"
	nm_ok "$f refused: $out"
done
nm_ok "sig list unchanged after the refused loads: (generation, file, rules) $list0"
echo "sig_reload: PASS"
