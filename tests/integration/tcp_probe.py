#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Connect to DST:PORT within TIMEOUT seconds, send a token and read it
back (so both directions of the connection carry data), then close.
Prints one word: "ok", "timeout" (no answer at all: SYN or data dropped),
"refused" (RST) or "error: ...". Exit status 0 only for "ok"."""
import argparse
import os
import socket
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--dst", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--timeout", type=float, default=2.0)
a = ap.parse_args()

token = b"nodemesh-probe-" + os.urandom(8).hex().encode() + b"\n"
try:
    with socket.create_connection((a.dst, a.port), timeout=a.timeout) as s:
        s.sendall(token)
        got = b""
        while len(got) < len(token):
            chunk = s.recv(len(token) - len(got))
            if not chunk:
                break
            got += chunk
        if got != token:
            print("error: echo mismatch %r" % got)
            sys.exit(2)
except socket.timeout:
    print("timeout")
    sys.exit(1)
except ConnectionRefusedError:
    print("refused")
    sys.exit(1)
except OSError as e:
    print("error: %s" % e)
    sys.exit(2)
print("ok")
