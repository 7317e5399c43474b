#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send COUNT UDP datagrams "TAG-N" (N from --first) to DST:PORT from one
connected socket bound to SPORT, so all of them are one flow, with a short
gap between them. With --wait-error S, then wait up to S seconds for an
ICMP error on the socket (IP_RECVERR) and report its type and code. Prints
one JSON line: sent, and error (null, or {"errno", "origin", "type",
"code", "offender"})."""
import argparse
import json
import select
import socket
import struct
import time

IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
SO_EE_ORIGIN_ICMP = 2

ap = argparse.ArgumentParser()
ap.add_argument("--dst", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--sport", type=int, required=True)
ap.add_argument("--count", type=int, default=1)
ap.add_argument("--first", type=int, default=0)
ap.add_argument("--tag", required=True)
ap.add_argument("--gap", type=float, default=0.01)
ap.add_argument("--wait-error", type=float, default=0.0)
a = ap.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
s.bind(("0.0.0.0", a.sport))
s.connect((a.dst, a.port))
res = {"sport": a.sport, "sent": 0, "send_errors": [], "error": None}
for i in range(a.first, a.first + a.count):
    try:
        s.send(("%s-%d" % (a.tag, i)).encode())
        res["sent"] += 1
    except OSError as e:
        # An ICMP error queued by an earlier datagram fails the next send.
        res["send_errors"].append(e.errno)
    time.sleep(a.gap)

deadline = time.monotonic() + a.wait_error
while res["error"] is None and time.monotonic() < deadline:
    p = select.poll()
    p.register(s, select.POLLERR)
    if not p.poll(max(0, deadline - time.monotonic()) * 1000):
        break
    try:
        _, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE)
    except BlockingIOError:
        continue
    for level, typ, data in anc:
        if level == socket.SOL_IP and typ == IP_RECVERR:
            errno_, origin, etype, ecode = struct.unpack_from("=IBBB", data)
            offender = socket.inet_ntoa(data[16 + 4 : 16 + 8]) if len(data) >= 24 else None
            res["error"] = {
                "errno": errno_,
                "origin": "icmp" if origin == SO_EE_ORIGIN_ICMP else origin,
                "type": etype,
                "code": ecode,
                "offender": offender,
            }
print(json.dumps(res))
