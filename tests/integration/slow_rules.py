#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""slow_rules.py FILE N: write N distinct signature rules that take Hyperscan
seconds to compile (each a pcre with a literal prefix: the regexes are what
compilation spends its time on). Seeded, so every run compiles the same set.
Used by sig_async.sh and tunnel_sig_async.sh."""
import random
import sys

random.seed(16)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        w = "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
        f.write('alert tcp any any -> any any (msg:"slow %d"; content:"%s"; '
                'pcre:"/%s[a-z]{2,9}\\d+(q%d|z%d)x/i"; sid:%d;)\n'
                % (i, w, w, i % 97, i % 89, 100000 + i))
