#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count UDP datagrams on a port: prints one line "SOURCE PAYLOAD" per
datagram. Creates READY_FILE once bound. Stops after IDLE seconds without a
datagram (once at least one arrived) or after TOTAL seconds, whichever first,
so it always ends by itself."""
import argparse
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("--bind", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ready-file", required=True)
ap.add_argument("--idle", type=float, default=2.0)
ap.add_argument("--total", type=float, default=15.0)
a = ap.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a.bind, a.port))
open(a.ready_file, "w").close()
start = time.monotonic()
last = None
while True:
    now = time.monotonic()
    left = a.total - (now - start)
    if last is not None:
        left = min(left, a.idle - (now - last))
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data, (src, _) = s.recvfrom(2048)
    except socket.timeout:
        break
    last = time.monotonic()
    print(src, data.decode("ascii", "replace"), flush=True)
