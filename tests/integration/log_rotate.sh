#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# logrotate's way, during traffic: pod-1 opens a UDP flow a second from
# each of N source ports to pod-2 (udp timeout 1 s, so flows end and are
# logged all along); halfway the flow log is moved away (mv, as logrotate
# does), a second later nodemeshd gets SIGHUP. Every flow's record must be
# in the rotated file or in the new one, exactly once; none lost
# (records_lost and logs.flows.lost stay 0), and the new file is created.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_UDP_TIMEOUT=1

N=400 # flows, 100 a second
nm_pods_start 2
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]} IP2=${NM_POD_IP[2]}
log=$NM_TMP/flows.jsonl

nm_bg "$P2" "$NM_TMP/listen.out" "$NM_PY" "$(dirname "$0")/udp_listen.py" --bind "$IP2" \
	--port 9999 --ready-file "$NM_TMP/listen.ready" --idle 5 --total 60
nm_wait_file "$NM_TMP/listen.ready" || nm_fail "udp_listen.py did not start in pod-2"

# One datagram from each source port 30000..30000+N-1, 10 ms apart: N flows over N/100 s.
nm_bg "$P1" "$NM_TMP/send.out" "$NM_PY" -c '
import socket, sys, time
dst, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 30000 + i))
    s.sendto(b"rot-%d" % i, (dst, 9999))
    s.close()
    time.sleep(0.01)
print("sent", n)
' "$IP2" "$N"
send_pid=$NM_LAST_BG

sleep 2
mv "$log" "$log.1"
nm_ok "moved the flow log to flows.jsonl.1 ($(grep -c . "$log.1") records so far)"
sleep 1
kill -HUP "$NM_DAEMON_PID"
nm_wait_file "$log" 30 || nm_fail "no new $log within 3 s of SIGHUP"
nm_ok "SIGHUP: the daemon created a new flows.jsonl"
kill -0 "$NM_DAEMON_PID" || nm_fail "nodemeshd died on SIGHUP"
wait "$send_pid" || nm_fail "the sender failed: $(cat "$NM_TMP/send.out")"

# Every flow ended (1 s timeout, swept a few per turn): wait until all are written.
records() {
	"$NM_PY" - "$log.1" "$log" "$N" <<'PY'
import json, sys
n = int(sys.argv[3])
counts, per_file = {}, []
for path in sys.argv[1:3]:
    k = 0
    for line in open(path):
        r = json.loads(line)  # a torn line would fail here
        if r["proto"] == "udp" and r["dst"]["port"] == 9999 and 30000 <= r["src"]["port"] < 30000 + n:
            counts[r["src"]["port"]] = counts.get(r["src"]["port"], 0) + 1
            k += 1
    per_file.append(k)
print(json.dumps({"old": per_file[0], "new": per_file[1], "flows": len(counts),
                  "repeated": sorted(p for p, c in counts.items() if c > 1)}))
PY
}
got=""
for ((i = 0; i < 100; i++)); do
	got=$(records)
	[[ $(nm_json "j['flows']" <<<"$got") == "$N" ]] && break
	sleep 0.2
done
echo "records: $got"
nm_json "j['flows'] == $N and j['repeated'] == []" <<<"$got" | grep -qx True ||
	nm_fail "expected exactly one record for each of $N flows across both files, got $got"
nm_json "j['old'] > 0 and j['new'] > 0" <<<"$got" | grep -qx True ||
	nm_fail "the rotation did not fall during the traffic: $got"
stats=$(nm_ctl --json stats)
lost=$(nm_json "sum(w['flows']['records_lost'] for w in j['workers'])" <<<"$stats")
flog=$(nm_json "j['logs']['flows']" <<<"$stats")
((lost == 0)) || nm_fail "records_lost = $lost"
nm_json "j['lost'] == 0 and j['reopened'] == 1 and j['failing'] == False" <<<"$flog" |
	grep -qx True || nm_fail "logs.flows after the rotation: $flog"
lines=$(($(grep -c . "$log.1") + $(grep -c . "$log")))
written=$(nm_json "j['written']" <<<"$flog")
((lines == written)) || nm_fail "logs.flows.written = $written but the two files hold $lines lines"
nm_ok "all $N flows logged once: $(nm_json "j['old']" <<<"$got") in the rotated file, $(nm_json "j['new']" <<<"$got") in the new one; records_lost 0, logs.flows $flog"
echo "log_rotate: PASS"
