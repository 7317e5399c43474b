#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""UDP probes through a disruption (a takeover, a restart): `send` sends a
numbered datagram every INTERVAL seconds for DURATION seconds and writes the
count sent to --out; `recv` counts them until IDLE seconds pass without one
(or TOTAL seconds) and writes one JSON summary to --out: received, unique,
duplicates, longest gap between two datagrams in a row (ms) and the
sequence numbers around it.

With --sent-file (the sender's --out), idle ends the count only once the
sender has written that file: a sender that stalls longer than IDLE (a
loaded machine, a kernel stall) would otherwise end the count early, and
every datagram it sent after would be reported lost as if forwarding had
stopped. The summary says how the count ended ("ended": idle, total) and
whether the sender was done then ("sender_done")."""
import argparse
import json
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["send", "recv"])
ap.add_argument("--addr", required=True, help="send: destination; recv: bind address")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--interval", type=float, default=0.001)
ap.add_argument("--duration", type=float, default=5.0)
ap.add_argument("--ready-file")
ap.add_argument("--idle", type=float, default=2.0)
ap.add_argument("--total", type=float, default=30.0)
ap.add_argument("--sent-file", help="recv: the sender's --out; idle counts only once it exists")
a = ap.parse_args()


def send():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    n = 0
    # Paced against the start, not the last send: a late wake-up sends the
    # datagrams it owes at once instead of stretching the run.
    while True:
        due = start + n * a.interval
        now = time.monotonic()
        if due - start >= a.duration:
            break
        if due > now:
            time.sleep(due - now)
        s.sendto(b"%d" % n, (a.addr, a.port))
        n += 1
    # Written whole, then renamed: a receiver watching for it never reads half.
    with open(a.out + ".tmp", "w") as f:
        f.write("%d\n" % n)
    os.replace(a.out + ".tmp", a.out)


def recv():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.addr, a.port))
    if a.ready_file:
        open(a.ready_file, "w").close()
    start = time.monotonic()
    seen = {}
    last_t = last_seq = None
    gap = (0.0, None, None)
    ended = "total"
    sender_done = a.sent_file is None
    done_t = None  # when the sender's file was first seen
    while True:
        now = time.monotonic()
        left = a.total - (now - start)
        if left <= 0:
            break
        if not sender_done and os.path.exists(a.sent_file):
            sender_done, done_t = True, now
        idle_left = None
        # Idle from the last datagram or the sender's end, whichever is later.
        since = max(t for t in (last_t, done_t) if t is not None) if (last_t or done_t) else None
        if sender_done and since is not None:
            idle_left = a.idle - (now - since)
            if idle_left <= 0:
                ended = "idle"
                break
        # A sender still running is looked for again every 100 ms.
        wait = left if idle_left is None else min(left, idle_left)
        if not sender_done:
            wait = min(wait, 0.1)
        s.settimeout(max(wait, 0.001))
        try:
            data, _ = s.recvfrom(64)
        except socket.timeout:
            continue
        t = time.monotonic()
        seq = int(data)
        seen[seq] = seen.get(seq, 0) + 1
        if last_t is not None and t - last_t > gap[0]:
            gap = (t - last_t, last_seq, seq)
        last_t, last_seq = t, seq
    summary = {
        "received": sum(seen.values()),
        "unique": len(seen),
        "duplicates": sum(c - 1 for c in seen.values()),
        "max_seq": max(seen) if seen else -1,
        "longest_gap_ms": round(gap[0] * 1000, 2),
        "gap_after_seq": gap[1],
        "gap_before_seq": gap[2],
        "ended": ended,
        "sender_done": sender_done,
    }
    with open(a.out, "w") as f:
        json.dump(summary, f)
        f.write("\n")


send() if a.mode == "send" else recv()
