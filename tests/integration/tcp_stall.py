#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""TCP client against an echo server (tcp_echo.py), two modes.

echo: send a 64-byte message every INTERVAL seconds for DURATION seconds
and read each one's echo; report the longest time between two echoes
arriving, the longest round trip, and whether the connection was reset.

split: send FIRST, read its echo, create READY_FILE, wait for GO_FILE,
then send SECOND and wait up to WAIT seconds for its echo; report whether
each came back and whether the connection was reset (a pattern split
across the two must be caught by the inspection in between).

Prints one JSON object to OUT. Exit status 0 when it ran to the end."""
import argparse
import json
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["echo", "split"])
ap.add_argument("--addr", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--duration", type=float, default=4.0)
ap.add_argument("--interval", type=float, default=0.01)
ap.add_argument("--first", default="")
ap.add_argument("--second", default="")
ap.add_argument("--ready-file")
ap.add_argument("--go-file")
ap.add_argument("--wait", type=float, default=3.0)
a = ap.parse_args()


def read_exactly(s, n, deadline):
    got = b""
    while len(got) < n:
        s.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = s.recv(n - len(got))
        if not chunk:
            raise ConnectionResetError("closed by the peer")
        got += chunk
    return got


def echo(s):
    res = {"sent": 0, "echoed": 0, "max_gap_ms": 0.0, "max_rtt_ms": 0.0, "reset": False,
           "error": None}
    end = time.monotonic() + a.duration
    last = time.monotonic()
    i = 0
    try:
        while time.monotonic() < end:
            msg = ("%063d\n" % i).encode()
            t0 = time.monotonic()
            s.sendall(msg)
            res["sent"] += 1
            if read_exactly(s, len(msg), t0 + 5.0) != msg:
                res["error"] = "echo %d differs" % i
                break
            now = time.monotonic()
            res["echoed"] += 1
            res["max_rtt_ms"] = max(res["max_rtt_ms"], (now - t0) * 1e3)
            res["max_gap_ms"] = max(res["max_gap_ms"], (now - last) * 1e3)
            last = now
            i += 1
            time.sleep(max(a.interval - (time.monotonic() - t0), 0))
    except OSError as e:
        failed(res, e)
    return res


def failed(res, e):
    """A reset (or the peer's close) is what the test looks for; any other error is said."""
    res["reset"] = isinstance(e, ConnectionResetError)
    res["error"] = str(e)


def split(s):
    res = {"first_echoed": False, "second_echoed": False, "reset": False, "error": None}
    try:
        s.sendall(a.first.encode())
        res["first_echoed"] = read_exactly(s, len(a.first), time.monotonic() + 5) == a.first.encode()
        open(a.ready_file, "w").close()
        while not os.path.exists(a.go_file):
            time.sleep(0.01)
        s.sendall(a.second.encode())
        res["second_echoed"] = read_exactly(s, len(a.second), time.monotonic() + a.wait) == a.second.encode()
    except OSError as e:
        failed(res, e)
    return res


s = socket.create_connection((a.addr, a.port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
res = echo(s) if a.mode == "echo" else split(s)
with open(a.out, "w") as f:
    json.dump(res, f)
