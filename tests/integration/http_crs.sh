#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The OWASP CRS conversion on HTTP buffers (scripts/crs2nodemesh --mode
# http) against ordinary and attack requests: curl in pod-1, nginx in
# pod-2, one allow rule with inspection on, alert-only rules. A handful of
# CRS rules (NM_CRS_IDS, default: LFI 930100/930110, XSS 941110/941160,
# SQLi 942160/942190, PHP 933160, Shellshock 932170) keeps the compile
# short; NM_CRS_IDS=all converts every rule, NM_CRS_PARANOIA=N (1-4, default
# 4) only those up to that paranoia level.
#   - ordinary requests (a browser-like GET with query and cookie, an API
#     GET, a POST form) raise no alert from the subset;
#   - each attack, sent the way a client sends it (percent-encoded in the
#     query, or in a header), raises an alert of the CRS rule meant for it
#     (sid 9000000 + id, or +10000000 per further buffer of that rule), and
#     nginx still answers (alert, not drop).
# With NM_CRS_IDS=all it prints the alerts per ordinary request instead of
# failing on them (the false-positive figure README quotes).
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
[[ -d /usr/share/modsecurity-crs/rules ]] || {
	echo "http_crs: SKIP: modsecurity-crs is not installed (scripts/setup installs it)"
	exit 77
}
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1
IDS=${NM_CRS_IDS:-930100,930110,941110,941160,942160,942190,933160,932170}

nm_tmp_init
conv=$NM_TMP/crs.rules
idargs=(--paranoia "${NM_CRS_PARANOIA:-4}")
[[ $IDS == all ]] || idargs+=(--ids "$IDS")
"$NM_PY" "$NM_SRC/scripts/crs2nodemesh" --sigcheck "$NM_BUILD/ctrl/nm-sigcheck" -o "$conv" \
	"${idargs[@]}" >"$NM_TMP/crs2nodemesh.log" 2>&1 ||
	nm_fail "crs2nodemesh failed: $(tail -20 "$NM_TMP/crs2nodemesh.log")"
compiled=$NM_TMP/crs.compiled.rules
n=$(grep -c '^alert http' "$compiled" || true)
[[ $IDS != all ]] || grep -E "converted:|written \(one|^compiled:|refused by" "$NM_TMP/crs2nodemesh.log"
((n > 0)) || nm_fail "no converted rule compiled: $(tail -20 "$NM_TMP/crs2nodemesh.log")"

nm_pods_setup 2
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]}
IP2=${NM_POD_IP[2]}
alerts=$NM_TMP/alerts.jsonl
out=$(nm_ctl --json policy add allow from test/sa-1 to test/sa-2 proto tcp port 80 inspect on) ||
	nm_fail "policy add: $out"
mkdir -p "$NM_TMP/www"
echo "hello from pod-2" >"$NM_TMP/www/index.html"
nm_nginx_start "$P2" "$NM_TMP/www" 80 || nm_fail "nginx did not start in pod-2"
out=$(nm_ctl --json sig load file="$compiled" 2>&1) || nm_fail "sig load: $out"
[[ $(nm_json "j['signatures_loaded']" <<<"$out") == "$n" ]] || nm_fail "sig load of $n rules: $out"
nm_ok "$n nodemesh rules from CRS ids ${IDS} loaded"

# Send one request from pod-1 with curl; echo its local port.
request() {
	nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{local_port}' "$@"
}

# The CRS ids of the alerts on local port $1 (sid 9000000 + id, plus
# 10000000 per further buffer), sorted, each followed by a space
# (waits up to 1 s for a first one, then 0.3 s for the rest).
sids_of() {
	nm_wait_jsonl "$alerts" "r['event_type'] == 'alert' and r.get('src_port') == $1" 10 >/dev/null
	sleep 0.3
	nm_jsonl "$alerts" "r['event_type'] == 'alert' and r.get('src_port') == $1" |
		nm_json "''.join(f'{s} ' for s in sorted({a['alert']['signature_id'] % 10000000 - 9000000 for a in j}))"
}

UA='Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'
# 1. Ordinary requests.
fp=0
for req in "/index.html?page=2&sort=newest&q=red+shoes|session=3f9a1c; theme=dark" \
	"/api/v1/items/4711?fields=name,price|" "/index.html?next=%2Fshop%2Fcart&lang=en-US|"; do
	path=${req%%|*} cookie=${req#*|}
	args=(-A "$UA" -H 'Accept: text/html,application/xhtml+xml' -H 'Accept-Language: en-US,en;q=0.5')
	[[ -z $cookie ]] || args+=(-b "$cookie")
	port=$(request "${args[@]}" "http://$IP2$path") || nm_fail "ordinary GET $path failed"
	got=$(sids_of "$port")
	if [[ -n $got ]]; then
		fp=$((fp + $(wc -w <<<"$got")))
		[[ $IDS == all ]] || nm_fail "ordinary GET $path raised alerts: $got"
	fi
	echo "ordinary GET $path: alerts [${got}]"
done
port=$(request -A "$UA" --data 'name=Ann+Lee&email=ann%40example.org&qty=2' "http://$IP2/index.html") || true
got=$(sids_of "$port")
fp=$((fp + $(wc -w <<<"$got")))
[[ -z $got || $IDS == all ]] || nm_fail "ordinary POST form raised alerts: $got"
echo "ordinary POST form: alerts [${got}]"
nm_ok "4 ordinary requests: $fp alerts"

# 2. Attacks: the CRS rule meant for each must be among the alerts.
attack() { # name, the sid that must fire, curl arguments...
	local name=$1 want=$2
	shift 2
	local port got
	port=$(request "$@") || true
	got=$(sids_of "$port")
	[[ " $got" == *" $want "* ]] || nm_fail "$name: expected CRS rule $want among the alerts, got [${got}]"
	nm_ok "$name: CRS $want (alerts from CRS [${got}])"
}
if [[ $IDS == all || ,$IDS, == *,930110,* ]]; then
	attack "LFI in the query, percent-encoded" 930110 "http://$IP2/index.html?file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd"
fi
if [[ $IDS == all || ,$IDS, == *,941110,* ]]; then
	attack "XSS script tag in the query, percent-encoded" 941110 "http://$IP2/index.html?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
fi
if [[ $IDS == all || ,$IDS, == *,932170,* ]]; then
	attack "Shellshock in a header" 932170 -H 'X-Probe: () { :; }; /bin/cat /etc/passwd' "http://$IP2/index.html"
fi
if [[ $IDS == all || ,$IDS, == *,942190,* ]]; then
	attack "SQL injection in the query" 942190 "http://$IP2/index.html?id=1%27%20union%20select%20password%20from%20users--"
fi
out=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$IP2/index.html") ||
	nm_fail "ordinary request after the attacks: $out"
[[ $out == 200 ]] || nm_fail "ordinary request after the attacks: HTTP $out (alert rules must not block)"
echo "http_crs: PASS"
