#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""TCP echo server on one or more ports: echoes each connection's bytes
back until the peer closes. Creates READY_FILE once every port listens.
Stops by itself after TOTAL seconds."""
import argparse
import selectors
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("--bind", required=True)
ap.add_argument("--ports", required=True, help="comma-separated")
ap.add_argument("--ready-file", required=True)
ap.add_argument("--total", type=float, default=120.0)
a = ap.parse_args()

sel = selectors.DefaultSelector()
for port in a.ports.split(","):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, int(port)))
    s.listen(16)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "listen")
open(a.ready_file, "w").close()

end = time.monotonic() + a.total
while (left := end - time.monotonic()) > 0:
    for key, _ in sel.select(timeout=min(left, 1.0)):
        sock = key.fileobj
        if key.data == "listen":
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                continue
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ, "conn")
            continue
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(sock)
            sock.close()
            continue
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            sock.sendall(data)
        except OSError:
            sel.unregister(sock)
            sock.close()
            continue
        sock.setblocking(False)
