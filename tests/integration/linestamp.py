#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run a command and print each line of its output prefixed with the wall
clock time (seconds since the epoch, microseconds) at which it was read.
SIGTERM stops the command too."""
import signal
import subprocess
import sys
import time

p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
signal.signal(signal.SIGTERM, lambda *_: p.terminate())
for line in p.stdout:
    sys.stdout.write("%.6f %s" % (time.time(), line.decode(errors="replace")))
    sys.stdout.flush()
sys.exit(p.wait())
