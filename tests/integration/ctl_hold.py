#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hold control connections against nodemeshd the way a hostile or broken
local client would, until SECONDS pass or SIGTERM:

  --silent N   N connections that never send a byte; each is reopened as
               soon as the daemon closes it.
  --unread M   M connections that pipeline `stats` requests as fast as the
               socket takes them and never read an answer; each is reopened
               when the daemon drops it.

Prints one JSON line at the end: how many times each kind was reopened.

usage: ctl_hold.py SOCKET [--silent N] [--unread M] [--seconds S]
"""
import argparse
import json
import select
import signal
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("socket")
ap.add_argument("--silent", type=int, default=0)
ap.add_argument("--unread", type=int, default=0)
ap.add_argument("--seconds", type=float, default=60)
args = ap.parse_args()

stop = False


def on_term(_sig, _frm):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    s.setblocking(False)
    return s


silent = [connect() for _ in range(args.silent)]
unread = [connect() for _ in range(args.unread)]
reopened = {"silent": 0, "unread": 0}
request = b"stats\n" * 64
deadline = time.monotonic() + args.seconds

while not stop and time.monotonic() < deadline:
    # A silent connection becomes readable only when the daemon closes it
    # (a goodbye line, then EOF): reopen it.
    readable, _, _ = select.select(silent, [], [], 0.02)
    for s in readable:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            silent[silent.index(s)] = connect()
            s.close()
            reopened["silent"] += 1
    for i, s in enumerate(unread):
        try:
            s.send(request)
        except BlockingIOError:
            pass  # the daemon stopped reading us: it is waiting for us to read
        except OSError:
            unread[i] = connect()
            s.close()
            reopened["unread"] += 1

print(json.dumps(reopened))
sys.stdout.flush()
