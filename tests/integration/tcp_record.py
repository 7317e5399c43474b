#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A TCP server that records exactly the bytes it receives: for each
connection, DIR/PEERPORT.bin grows with every recv() (flushed at once),
and DIR/PEERPORT.end says how the connection ended ("eof", "reset", ...).
A plain socket: SO_OOBINLINE stays off, so a byte the kernel takes as
urgent data would be missing from the file. Creates READY_FILE once
listening; stops by itself after TOTAL seconds."""
import argparse
import os
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--bind", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--ready-file", required=True)
ap.add_argument("--total", type=float, default=60.0)
a = ap.parse_args()


def serve(conn, peer_port):
    path = os.path.join(a.dir, "%d" % peer_port)
    how = "eof"
    with open(path + ".bin", "wb") as out:
        while True:
            try:
                data = conn.recv(65536)
            except ConnectionResetError:
                how = "reset"
                break
            except OSError as e:
                how = "error: %s" % e
                break
            if not data:
                break
            out.write(data)
            out.flush()
    conn.close()
    with open(path + ".end", "w") as f:
        f.write(how + "\n")


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a.bind, a.port))
s.listen(64)
open(a.ready_file, "w").close()
deadline = time.monotonic() + a.total
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        conn, (_, peer_port) = s.accept()
    except socket.timeout:
        break
    conn.settimeout(None)
    threading.Thread(target=serve, args=(conn, peer_port), daemon=True).start()
