#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""One TCP connection on which the server speaks first, and only when told:
`server` accepts one connection on BIND:PORT, waits until --go-file
exists, sends "from-server\\n" and reads the client's answer; `client`
connects, waits for that line and answers "from-client\\n". Each writes one
JSON line to --out: what it received (or the error). Both end by themselves
(--timeout seconds at most)."""
import argparse
import json
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["server", "client"])
ap.add_argument("--addr", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--go-file")
ap.add_argument("--ready-file")
ap.add_argument("--timeout", type=float, default=30.0)
a = ap.parse_args()
deadline = time.monotonic() + a.timeout


def line(conn):
    data = b""
    while not data.endswith(b"\n"):
        conn.settimeout(max(deadline - time.monotonic(), 0.01))
        chunk = conn.recv(64)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


result = {}
try:
    if a.mode == "server":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.addr, a.port))
        s.listen(1)
        open(a.ready_file, "w").close()
        s.settimeout(a.timeout)
        conn, _ = s.accept()
        while not os.path.exists(a.go_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        conn.sendall(b"from-server\n")
        result["got"] = line(conn)
    else:
        conn = socket.create_connection((a.addr, a.port), timeout=a.timeout)
        result["got"] = line(conn)
        conn.sendall(b"from-client\n")
        time.sleep(0.5)  # let the answer reach the server before the close
except OSError as e:
    result["error"] = str(e)
with open(a.out, "w") as f:
    json.dump(result, f)
    f.write("\n")
