#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Inspection streams through a takeover (ctrl/takeover_streams.c). Pod-1
# talks to an echo server in pod-2 over two inspected TCP connections
# while `nodemeshd --takeover` replaces the daemon:
#   - one sends a message every 10 ms and reads its echo: no reset, and no
#     stall over 200 ms measured by the client (a connection whose stream
#     was lost would have its next payload dropped as tcp_midstream);
#   - one sends the first half of a pattern before the takeover and the
#     second half after it: the drop rule matches only on both halves in
#     one stream, so it is caught only if the stream came over whole (the
#     new daemon logs the alert, the second half never reaches the server);
#   - (first takeover) one sends an HTTP request head cut in the middle of
#     its URI: an http.uri drop rule sees the URI only when the head is
#     complete, so it is caught only if the HTTP parser came over with the
#     head it had read.
# Then the negative: the rules file changes under the running daemon and a
# second takeover compiles the new one: the streams were made with another
# database, so they are not expanded but counted and left midstream
# (signatures.midstream = drop: their next payload is dropped as
# tcp_midstream), and the new daemon runs on and forwards new connections.
# Last, a rules file loaded at run time (`sig load`: only the state names
# it, the config another): the new daemon waits for its compile before
# it restores the streams (however long is left of it: often nothing, the
# pods' attach takes longer), which then find their database.
set -euo pipefail
export NM_IPV6=1
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/../../scripts/lib/netns.sh"
# shellcheck source=scripts/lib/takeover.sh
. "$(dirname "$0")/../../scripts/lib/takeover.sh"
nm_require_root
nm_trap
export NM_POLICY_DEFAULT=deny

nm_pods_setup 2
nm_tmp_init
rules=$NM_TMP/sig.rules
printf '%s\n' \
	'drop tcp any any -> any 7001 (msg:"split across a takeover"; content:"nodemesh-split-attack-pattern"; sid:4200101; rev:1;)' \
	'alert tcp any any -> any any (msg:"never sent"; content:"nodemesh-never-sent"; sid:4200102; rev:1;)' \
	'drop http any any -> any 7002 (msg:"uri split across a takeover"; flow:established,to_server; http.uri; content:"/split-attack"; sid:4200104; rev:1;)' >"$rules"
# In the config: compiled before the new daemon asks, so not in the gap.
export NM_SIG_FILE=$rules NM_STATE_FILE=$NM_TMP/state
nm_daemon_start
for i in 1 2; do nm_pod_add "$i"; done
P1=${NM_POD_NS[1]} P2=${NM_POD_NS[2]} IP2=${NM_POD_IP[2]}
nm_ctl policy add allow from test/sa-1 to test/sa-2 proto tcp port 7000-7002 >/dev/null
nm_ctl policy add allow from test/sa-1 to test/sa-2 proto icmp >/dev/null
alerts=$NM_TMP/alerts.jsonl
here=$NM_SRC/tests/integration

nm_bg "$P2" "$NM_TMP/echo.log" "$NM_PY" "$here/tcp_echo.py" --bind "$IP2" --ports 7000,7001,7002 \
	--ready-file "$NM_TMP/echo-ready" --total 120
nm_wait_file "$NM_TMP/echo-ready" || nm_fail "the echo server did not start"

# connections N: the two connections of round N, started; they wait in
# their middle until the takeover is done (split) or run 4 s (echo).
connections() {
	rm -f "$NM_TMP/split$1-ready" "$NM_TMP/split$1-go"
	nm_bg "$P1" "$NM_TMP/split$1.log" "$NM_PY" "$here/tcp_stall.py" split --addr "$IP2" \
		--port 7001 --out "$NM_TMP/split$1.json" --first "head nodemesh-split-" \
		--second "attack-pattern tail" --ready-file "$NM_TMP/split$1-ready" \
		--go-file "$NM_TMP/split$1-go"
	split_pid=$NM_LAST_BG
	nm_wait_file "$NM_TMP/split$1-ready" || nm_fail "round $1: the split client's first half got no echo"
	if (($1 == 1)); then
		nm_bg "$P1" "$NM_TMP/http1.log" "$NM_PY" "$here/tcp_stall.py" split --addr "$IP2" \
			--port 7002 --out "$NM_TMP/http1.json" --first "GET /split-" \
			--second $'attack HTTP/1.1\r\nHost: pod-2\r\n\r\n' \
			--ready-file "$NM_TMP/http1-ready" --go-file "$NM_TMP/split1-go"
		http_pid=$NM_LAST_BG
		nm_wait_file "$NM_TMP/http1-ready" || nm_fail "the HTTP client's first half got no echo"
	fi
	nm_bg "$P1" "$NM_TMP/echo$1.log" "$NM_PY" "$here/tcp_stall.py" echo --addr "$IP2" \
		--port 7000 --out "$NM_TMP/echo$1.json" --duration 4 --interval 0.01
	echo_pid=$NM_LAST_BG
	sleep 1
	streams=$(nm_sigstat "j['streams_open']")
	((streams >= 4)) || nm_fail "round $1: $streams inspection streams open, expected 4 (2 connections, 2 sides)"
}

# 1. The streams come over: nothing stalls, the split pattern is caught.
connections 1
nm_takeover 1
touch "$NM_TMP/split1-go"
wait "$echo_pid" || nm_fail "the echo client failed: $(cat "$NM_TMP/echo1.log")"
wait "$split_pid" || nm_fail "the split client failed: $(cat "$NM_TMP/split1.log")"
wait "$http_pid" || nm_fail "the HTTP client failed: $(cat "$NM_TMP/http1.log")"
echo1=$(cat "$NM_TMP/echo1.json")
split1=$(cat "$NM_TMP/split1.json")
echo "echo: $echo1"
echo "split: $split1"
grep -o 'takeover: [0-9]* of [0-9]* inspection streams restored.*' "$NM_DAEMON_LOG" || true
nm_json "not j['reset'] and j['error'] is None and j['echoed'] == j['sent'] and j['sent'] > 100" <<<"$echo1" | grep -qx True ||
	nm_fail "the inspected echo connection did not go through the takeover whole: $echo1"
nm_json "j['max_gap_ms'] < 200" <<<"$echo1" | grep -qx True ||
	nm_fail "the inspected echo connection stalled over 200 ms: $echo1"
nm_ok "an inspected TCP connection through the takeover: $(nm_json "j['sent']" <<<"$echo1") echoes, no reset, longest gap $(nm_json "round(j['max_gap_ms'], 1)" <<<"$echo1") ms"
nm_json "j['first_echoed'] and not j['second_echoed']" <<<"$split1" | grep -qx True ||
	nm_fail "the second half of the split pattern reached the server: $split1"
got=$(nm_wait_jsonl "$alerts" "r['alert']['signature_id'] == 4200101")
nm_json "len(j) == 1 and j[0]['alert']['action'] == 'blocked'" <<<"$got" | grep -qx True ||
	nm_fail "no blocked alert for the pattern split across the takeover: $got"
restored=$(nm_sigstat "j['takeover']['streams_restored']")
((restored >= 4)) || nm_fail "the new daemon restored $restored streams: $(nm_sigstat "j['takeover']")"
nm_ok "a pattern split across the takeover is caught by the new daemon (sid 4200101, blocked, one alert); $restored streams restored"
http1=$(cat "$NM_TMP/http1.json")
echo "http: $http1"
nm_json "j['first_echoed'] and not j['second_echoed']" <<<"$http1" | grep -qx True ||
	nm_fail "the rest of the HTTP head with the split URI reached the server: $http1"
got=$(nm_wait_jsonl "$alerts" "r['alert']['signature_id'] == 4200104")
nm_json "len(j) == 1 and j[0]['alert']['action'] == 'blocked'" <<<"$got" | grep -qx True ||
	nm_fail "no blocked alert for the HTTP URI split across the takeover: $got"
nm_ok "an HTTP request head cut in its URI across the takeover: the parser came over with the head, the http.uri rule blocks it (sid 4200104)"
midstream=$(nm_drop tcp_midstream)
((midstream == 0)) || nm_fail "$midstream payloads dropped as tcp_midstream after a takeover with streams"

# 2. The rules file changes, the new daemon compiles it: another database.
printf '%s\n' 'alert tcp any any -> any any (msg:"another database"; content:"nodemesh-other-db"; sid:4200103; rev:1;)' >>"$rules"
connections 2
nm_takeover 2
touch "$NM_TMP/split2-go"
wait "$echo_pid" || true
wait "$split_pid" || true
other=$(nm_sigstat "j['takeover']['streams_other_database']")
restored=$(nm_sigstat "j['takeover']['streams_restored']")
((other >= 4 && restored == 0)) ||
	nm_fail "streams of another database: $other counted, $restored restored: $(nm_sigstat "j['takeover']")"
grep -q "inspection streams restored ($other made with another signature database" "$NM_DAEMON_LOG" ||
	nm_fail "the new daemon's log does not count the streams of another database"
midstream=$(nm_drop tcp_midstream)
((midstream > 0)) || nm_fail "the streams that fell back were not handled midstream (tcp_midstream $midstream)"
echo2=$(cat "$NM_TMP/echo2.json" 2>/dev/null || echo '{}')
echo "echo after a database change: $echo2"
kill -0 "$NM_DAEMON_PID" || nm_fail "the new daemon died"
nm_ping_ok "$P1" "$IP2"
nm_bg "$P1" "$NM_TMP/echo-new.log" "$NM_PY" "$here/tcp_stall.py" echo --addr "$IP2" --port 7000 \
	--out "$NM_TMP/echo-new.json" --duration 0.5
wait "$NM_LAST_BG" || nm_fail "a new connection after the fallback failed: $(cat "$NM_TMP/echo-new.log")"
nm_json "not j['reset'] and j['echoed'] == j['sent'] > 0" <<<"$(cat "$NM_TMP/echo-new.json")" | grep -qx True ||
	nm_fail "a new inspected connection after the fallback: $(cat "$NM_TMP/echo-new.json")"
nm_ok "rules changed between old and new: $other streams counted as made with another database and left midstream ($midstream payloads dropped as tcp_midstream); the daemon runs on and new connections are inspected"

# 3. A set loaded at run time: the state names it, the config does not.
rules3=$NM_TMP/sig3.rules
sed 's/sid:4200101; rev:1;/sid:4200101; rev:3;/' "$rules" >"$rules3"
nm_ctl sig load "file=$rules3" >/dev/null
for ((i = 0; i < 50; i++)); do
	[[ $(nm_ctl --json sig list | nm_json "j['loading'] is None and j['file'] == '$rules3'") == True ]] && break
	sleep 0.1
done
[[ $(nm_ctl --json sig list | nm_json "j['file']") == "$rules3" ]] || nm_fail "sig load $rules3 did not take"
connections 3
nm_takeover 3
touch "$NM_TMP/split3-go"
wait "$echo_pid" || nm_fail "the echo client failed: $(cat "$NM_TMP/echo3.log")"
wait "$split_pid" || nm_fail "the split client failed: $(cat "$NM_TMP/split3.log")"
echo3=$(cat "$NM_TMP/echo3.json")
restored=$(nm_sigstat "j['takeover']['streams_restored']")
waited=$(sed -n 's/.*(\([0-9.]*\) ms waiting for the signature compile).*/\1/p' "$NM_DAEMON_LOG")
echo "echo with a run-time set: $echo3; waited $waited ms for the compile"
((restored >= 4)) || nm_fail "streams of a run-time set: $restored restored: $(nm_sigstat "j['takeover']")"
nm_json "not j['reset'] and j['error'] is None and j['echoed'] == j['sent'] and j['max_gap_ms'] < 200" <<<"$echo3" | grep -qx True ||
	nm_fail "the inspected connection through a takeover with a run-time set: $echo3; drops: $(nm_ctl --json stats | nm_json "{k: v for k, v in j['drops'].items() if v}"); sig: $(nm_ctl --json sig stats | nm_json "(j['signatures']['stream'], j['signatures']['drops'])")"
nm_json "j['first_echoed'] and not j['second_echoed']" <<<"$(cat "$NM_TMP/split3.json")" | grep -qx True ||
	nm_fail "the split pattern got through with a run-time set: $(cat "$NM_TMP/split3.json")"
nm_ok "a set loaded at run time: in force before the streams went in (waited $waited ms for its compile), $restored streams restored, the echo connection's longest gap $(nm_json "round(j['max_gap_ms'], 1)" <<<"$echo3") ms, the split pattern caught"
