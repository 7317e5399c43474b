#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Play systemd's side of sd_notify: bind a Unix datagram socket at PATH
and write one JSON line per datagram received, {"t": CLOCK_MONOTONIC
seconds, "msg": the datagram}. Stops after TOTAL seconds, so it always
ends by itself."""
import argparse
import json
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("--path", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--total", type=float, default=60.0)
a = ap.parse_args()

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(a.path):
    os.unlink(a.path)
s.bind(a.path)
end = time.monotonic() + a.total
with open(a.out, "a", buffering=1) as out:
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        out.write(json.dumps({"t": time.monotonic(), "msg": data.decode(errors="replace")}) + "\n")
