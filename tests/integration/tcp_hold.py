#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hold N idle TCP connections open against HOST:PORT from --src, never
sending a byte, and reopen each one as soon as the other end closes it
(or a connect fails). Every second, and at the end, writes the number of
connections opened so far to --count-file. Stops after TOTAL seconds, so it
always ends by itself."""
import argparse
import errno
import selectors
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("--src", required=True)
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("-n", type=int, default=20)
ap.add_argument("--count-file", required=True)
ap.add_argument("--total", type=float, default=60.0)
a = ap.parse_args()

sel = selectors.DefaultSelector()
opened = 0


def open_one():
    global opened
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((a.src, 0))
    err = s.connect_ex((a.host, a.port))
    if err not in (0, errno.EINPROGRESS):
        s.close()
        return False
    opened += 1
    sel.register(s, selectors.EVENT_READ)
    return True


def write_count():
    with open(a.count_file, "w") as f:
        f.write("%d\n" % opened)


start = time.monotonic()
last_write = 0.0
want = a.n
while time.monotonic() - start < a.total:
    while want > 0 and open_one():
        want -= 1
    for key, _ in sel.select(timeout=0.05 if want else 0.2):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            data = b""
        if data:
            continue  # the server spoke first (it should not): keep holding
        sel.unregister(s)
        s.close()
        want += 1
    now = time.monotonic()
    if now - last_write >= 1.0:
        write_count()
        last_write = now
    if want:
        time.sleep(0.01)  # a refused connect: do not spin
write_count()
