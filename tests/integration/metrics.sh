#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prometheus: `nodemeshctl metrics` passes `promtool check metrics`; a real
# Prometheus server (Debian's, its own config and data directory, on
# loopback in the node's namespace) scrapes metrics.listen and its query
# API returns the value `stats` shows; per-pod counters (labelled with pod,
# namespace and identity) move with pings; silent connections hold at most
# their slots, never the control thread, and are cut off at the deadline.
# IPv6 stays on.
set -euo pipefail
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
command -v prometheus >/dev/null || nm_fail "no prometheus (scripts/setup installs it)"

port=$((20000 + $$ % 20000))
export NM_METRICS_LISTEN=127.0.0.1:$port
nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
nm_tmp_init
P1=${NM_POD_NS[1]} IP2=${NM_POD_IP[2]}
N=$NM_NODE_NS

# metric NAME LABEL_MATCH: the value of the first sample of NAME whose
# labels contain LABEL_MATCH, from nodemeshctl metrics.
metric() {
	local text
	text=$(nm_ctl metrics) # whole, so awk's early exit cannot SIGPIPE the client
	awk -v n="$1" -v m="$2" '$1 ~ "^"n"[{ ]" && index($1, m) { print $2; exit }' <<<"$text"
}

# 1. promtool accepts the exposition.
nm_ctl metrics >"$NM_TMP/metrics.txt"
out=$(promtool check metrics <"$NM_TMP/metrics.txt" 2>&1) || nm_fail "promtool check metrics: $out"
families=$(grep -c '^# TYPE ' "$NM_TMP/metrics.txt")
nm_ok "promtool check metrics: clean ($families families, $(wc -l <"$NM_TMP/metrics.txt") lines)"

# 2. Per-pod counters move with pings, labelled by identity.
sel='pod="pod-1",namespace="test",identity="test/sa-1"'
before=$(metric nodemesh_pod_rx_packets_total "$sel")
[[ -n $before ]] || nm_fail "no nodemesh_pod_rx_packets_total{$sel}"
ip netns exec "$P1" ping -n -c 5 -i 0.2 -W 1 "$IP2" >/dev/null || nm_fail "ping pod-1 -> pod-2"
after=$(metric nodemesh_pod_rx_packets_total "$sel")
((after >= before + 5)) || nm_fail "pod-1's rx counter moved $before -> $after for 5 pings"
nm_ok "nodemesh_pod_rx_packets_total{$sel} $before -> $after with 5 pings"

# 3. /metrics over HTTP, and a real Prometheus scraping it.
body=$(ip netns exec "$N" curl -sS --max-time 5 "http://$NM_METRICS_LISTEN/metrics") ||
	nm_fail "GET /metrics failed"
grep -q '^nodemesh_pod_rx_packets_total{pod="pod-1"' <<<"$body" || nm_fail "GET /metrics lacks the pod counters"
code=$(ip netns exec "$N" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$NM_METRICS_LISTEN/nope")
[[ $code == 404 ]] || nm_fail "GET /nope answered $code, want 404"
prom_port=$((port + 1))
mkdir -p "$NM_TMP/prom"
cat >"$NM_TMP/prom/prometheus.yml" <<YML
global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: nodemesh
    static_configs: [ { targets: ["$NM_METRICS_LISTEN"] } ]
YML
nm_bg "$N" "$NM_TMP/prom/prometheus.log" prometheus --config.file="$NM_TMP/prom/prometheus.yml" \
	--storage.tsdb.path="$NM_TMP/prom/data" --web.listen-address="127.0.0.1:$prom_port"
# IPv6 is on: the pods' own router solicitations and MLD reports keep moving
# the counter now and then, so each try compares with stats taken just then.
got="" want=""
for ((i = 0; i < 100; i++)); do
	sleep 0.3
	got=$(ip netns exec "$N" curl -sS --max-time 2 -G "http://127.0.0.1:$prom_port/api/v1/query" \
		--data-urlencode 'query=nodemesh_pod_rx_packets_total{pod="pod-1"}' 2>/dev/null |
		nm_json "j['data']['result'][0]['value'][1] if j.get('data', {}).get('result') else ''" 2>/dev/null || true)
	want=$(nm_ctl --json stats | nm_json "[p['rx_packets'] for p in j['pods'] if p['name'] == 'pod-1'][0]")
	[[ $got == "$want" ]] && break
done
[[ $got == "$want" ]] || nm_fail "Prometheus has nodemesh_pod_rx_packets_total{pod=\"pod-1\"} = '$got', stats says $want: $(tail -n 3 "$NM_TMP/prom/prometheus.log")"
up=$(ip netns exec "$N" curl -sS --max-time 2 -G "http://127.0.0.1:$prom_port/api/v1/query" \
	--data-urlencode 'query=up{job="nodemesh"}' | nm_json "j['data']['result'][0]['value'][1]")
[[ $up == 1 ]] || nm_fail "Prometheus says up{job=nodemesh} = $up"
nm_ok "Prometheus scraped /metrics: its query API returns $got for pod-1's rx_packets, as stats does; up = 1"

# 4. Silent connections: at most the slots, never the control thread; cut at the deadline.
"$NM_PY" - "$N" "$NM_METRICS_LISTEN" "$NM_TMP/silent.done" <<'PY' &
import socket, subprocess, sys, time
ns, addr, done = sys.argv[1:4]
host, port = addr.rsplit(":", 1)
# Hold 10 silent connections from inside the node namespace for 7 s.
code = """
import socket, sys, time
socks = []
for _ in range(10):
    s = socket.create_connection((%r, %d))
    socks.append(s)
time.sleep(7)
""" % (host, int(port))
subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], check=True)
open(done, "w").close()
PY
silent=$!
sleep 1
t0=$(date +%s%N)
nm_ctl version >/dev/null || nm_fail "control socket not answering while scrapers sit silent"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 500)) || nm_fail "version took $ms ms while scrapers sit silent"
wait "$silent" || nm_fail "the silent scrapers could not connect"
st=$(nm_ctl --json stats | nm_json "j['metrics_http']")
nm_json "j['refused_busy'] >= 2 and j['timed_out'] >= 1" <<<"$st" | grep -q True ||
	nm_fail "silent scrapers not bounded and cut off: $st"
body=$(ip netns exec "$N" curl -sS --max-time 5 "http://$NM_METRICS_LISTEN/metrics") ||
	nm_fail "GET /metrics failed after the silent scrapers"
nm_ok "10 silent connections: version answered in $ms ms, $(nm_json "j['refused_busy']" <<<"$st") refused beyond the slots, $(nm_json "j['timed_out']" <<<"$st") cut at the deadline; scraping works after"

# 5. DPDK telemetry: dpdk-telemetry.py reads the node's and the pods' counters
#    (from a snapshot the control thread renews every second).
sleep 1.2
tel=$(printf '/nodemesh/stats\n/nodemesh/pods\n/nodemesh/pod,pod-1\n/nodemesh/worker,0\n' |
	dpdk-telemetry.py -f "$NM_FILE_PREFIX" 2>&1) || nm_fail "dpdk-telemetry.py failed: $tel"
want=$(nm_ctl --json stats | nm_json "[p['rx_packets'] for p in j['pods'] if p['name'] == 'pod-1'][0]")
printf '%s\n' "$tel" >"$NM_TMP/telemetry.out"
"$NM_PY" - "$want" "$NM_TMP/telemetry.out" <<'PY' || nm_fail "dpdk-telemetry.py answers wrong: $tel"
import json, sys
want = int(sys.argv[1])
docs = {}
for line in open(sys.argv[2]):
    line = line.strip()
    if line.startswith("{"):
        docs.update(json.loads(line))
assert docs["/nodemesh/pods"] == ["pod-1", "pod-2"], docs["/nodemesh/pods"]
pod = docs["/nodemesh/pod"]
assert pod["identity"] == "test/sa-1", pod
# The snapshot is at most a second old: IPv6 noise may have moved stats since.
assert 0 < pod["rx_packets"] <= want, (pod["rx_packets"], want)
assert docs["/nodemesh/stats"]["pod_count"] == 2, docs["/nodemesh/stats"]
assert docs["/nodemesh/worker"]["worker"] == 0
PY
nm_ok "dpdk-telemetry.py: /nodemesh/stats, /nodemesh/pods, /nodemesh/pod,pod-1 (rx_packets as stats, at most 1 s old), /nodemesh/worker,0"
