#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# signatures.http_events = "all": EVE http events without an http rule.
# The rule set holds one tcp rule only; curl's GET to nginx still gives an
# http event with the request and its response paired, and no alert. The
# same traffic under the default ("with_rules") gives none: http_log.sh
# covers the events with http rules, this test the setting.
set -euo pipefail
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny NM_TCP_CLOSED_TIMEOUT=1 NM_SIG_HTTP_EVENTS=all

nm_web_pair <<'EOF'
alert tcp any any -> any 80 (msg:"not in this traffic"; flow:to_server; content:"NEVER-SENT-7f3a"; sid:2300001;)
EOF
P1=${NM_POD_NS[1]}
IP2=${NM_POD_IP[2]}
alerts=$NM_TMP/alerts.jsonl

res=$(nm_in "$P1" curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{local_port}' \
	-A 'nm-all/1' "http://$IP2/index.html") || nm_fail "curl: $res"
read -r code port <<<"$res"
[[ $code == 200 ]] || nm_fail "GET /index.html: HTTP $code"
got=$(nm_wait_jsonl "$alerts" "r['event_type'] == 'http' and r['src_port'] == $port")
nm_json "len(j) == 1 and j[0]['http']['url'] == '/index.html' and j[0]['http']['status'] == 200 and j[0]['http']['http_user_agent'] == 'nm-all/1' and j[0]['nodemesh']['request'] and j[0]['nodemesh']['response']" \
	<<<"$got" | grep -qx True || nm_fail "expected one paired http event for port $port: $got"
n=$(nm_jsonl "$alerts" "r['event_type'] == 'alert'" | nm_json "len(j)")
((n == 0)) || nm_fail "$n alerts from ordinary traffic: $(cat "$alerts")"
nm_ok "tcp rules only, http_events all: GET /index.html gave one paired http event, no alert"
echo "http_events_all: PASS"
