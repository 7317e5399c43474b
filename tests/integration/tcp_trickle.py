#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send one HTTP GET to DST:PORT one byte per TCP segment (TCP_NODELAY and
a pause between bytes, so the kernel never coalesces them), then read the
answer. Prints one JSON line: the local port, how many request bytes were
written, whether the connection was reset, and the HTTP status line if one
came back. Exit status 0 when it ran to the end (reset or not), 2 when it
could not connect."""
import argparse
import json
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--dst", required=True)
ap.add_argument("--port", type=int, default=80)
ap.add_argument("--path", required=True)
ap.add_argument("--gap", type=float, default=0.005, help="seconds between bytes")
ap.add_argument("--timeout", type=float, default=5.0)
a = ap.parse_args()

req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (a.path, a.dst)).encode()
res = {"request_len": len(req), "sent": 0, "reset": False, "status": None, "error": None}
try:
    s = socket.create_connection((a.dst, a.port), timeout=a.timeout)
except OSError as e:
    print(json.dumps(dict(res, error="connect: %s" % e)))
    sys.exit(2)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
res["local_port"] = s.getsockname()[1]
try:
    for i in range(len(req)):
        s.send(req[i : i + 1])
        res["sent"] += 1
        time.sleep(a.gap)
    answer = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    if answer:
        res["status"] = answer.split(b"\r\n", 1)[0].decode("ascii", "replace")
except (ConnectionResetError, BrokenPipeError) as e:
    res["reset"] = True
    res["error"] = str(e)
except OSError as e:
    res["error"] = str(e)
finally:
    s.close()
print(json.dumps(res))
