#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send COUNT ICMP echo requests to DST at RATE per second, all with one
identifier (one flow), and count the echo replies. Prints
"sent N replies M seconds S" where S is the time from the first request to
the last one. Bounded: stops after COUNT requests, then waits WAIT seconds
for the last replies."""
import argparse
import os
import select
import socket
import struct
import time

ap = argparse.ArgumentParser()
ap.add_argument("--dst", required=True)
ap.add_argument("--rate", type=float, required=True)
ap.add_argument("--count", type=int, required=True)
ap.add_argument("--wait", type=float, default=0.5)
a = ap.parse_args()


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


ident = os.getpid() & 0xFFFF
payload = b"nodemesh-rate-test-" + b"x" * 37
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.setblocking(False)
replies = 0
sent = 0


def drain():
    global replies
    while True:
        try:
            pkt, addr = s.recvfrom(2048)
        except BlockingIOError:
            return
        if addr[0] != a.dst:
            continue
        ihl = (pkt[0] & 0x0F) * 4
        typ, _, _, rid = struct.unpack("!BBHH", pkt[ihl:ihl + 6])
        if typ == 0 and rid == ident:
            replies += 1


start = time.monotonic()
for seq in range(a.count):
    due = start + seq / a.rate
    while True:
        now = time.monotonic()
        if now >= due:
            break
        select.select([s], [], [], due - now)
        drain()
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF)
    pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq & 0xFFFF) + payload
    try:
        s.sendto(pkt, (a.dst, 0))
        sent += 1
    except BlockingIOError:
        pass
    drain()
last = time.monotonic()
end = last + a.wait
while (left := end - time.monotonic()) > 0:
    select.select([s], [], [], left)
    drain()
print("sent %d replies %d seconds %.3f" % (sent, replies, last - start))
