#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The sequence numbers of the tunnel datagrams in pcap captures (classic
pcap of Ethernet frames, as tcpdump -w writes them; a snap length of 66
bytes or more), grouped by sender (outer IPv4 source) and epoch. Prints
one JSON object:

  {"groups": {"SENDER/EPOCH": {"count": records, "min": lowest sequence,
              "max": highest, "missing": numbers in [min, max] not seen,
              "dups": [[sequence, times seen], ...] (at most 10),
              "n_dups": sequences seen more than once}, ...},
   "datagrams": tunnel datagrams read, "short": frames cut before the
   tunnel header, "not_v1": datagrams whose version byte is not 1}

A key is one sender's epoch, and the nonce is the key's IV with the
sequence number (RFC 8446 5.3): the same (sender, epoch, sequence) twice
is a nonce used twice, whichever worker sealed them. Each capture must
see each datagram once (a capture on the receiving node's fabric link:
a node's DPDK port sends around its own kernel, so it sees no datagram
the node sends). The tunnel header (include/nodemesh/tunnel-t.h): UDP
payload byte 0 version 1, byte 1 reserved, bytes 2-3 epoch and 4-11
sequence, big-endian."""
import argparse
import json
import socket
import struct

ap = argparse.ArgumentParser()
ap.add_argument("pcaps", nargs="+")
ap.add_argument("--port", type=int, default=4790, help="tunnel.udp_port")
a = ap.parse_args()

ETH = 14


def frames(path):
    """The captured bytes of each frame of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit("%s: not a classic pcap file (magic %s)" % (path, magic.hex()))
    linktype = struct.unpack_from(end + "I", data, 20)[0]
    if linktype != 1:
        raise SystemExit("%s: link type %d, not Ethernet" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(end + "I", data, off + 8)[0]
        yield data[off + 16 : off + 16 + incl]
        off += 16 + incl


seqs = {}  # (sender, epoch) -> {sequence: times seen}
stats = {"datagrams": 0, "short": 0, "not_v1": 0}
for path in a.pcaps:
    for fr in frames(path):
        if len(fr) < ETH + 20 or fr[12:14] != b"\x08\x00" or fr[ETH + 9] != 17:
            continue
        ihl = (fr[ETH] & 0x0F) * 4
        udp = ETH + ihl
        if len(fr) < udp + 4 or struct.unpack_from("!H", fr, udp + 2)[0] != a.port:
            continue
        stats["datagrams"] += 1
        hdr = udp + 8
        if len(fr) < hdr + 12:
            stats["short"] += 1
            continue
        if fr[hdr] != 1:
            stats["not_v1"] += 1
            continue
        sender = socket.inet_ntoa(fr[ETH + 12 : ETH + 16])
        epoch, seq = struct.unpack_from("!HQ", fr, hdr + 2)
        g = seqs.setdefault((sender, epoch), {})
        g[seq] = g.get(seq, 0) + 1

groups = {}
for (sender, epoch), g in sorted(seqs.items()):
    dups = sorted([s, n] for s, n in g.items() if n > 1)
    lo, hi = min(g), max(g)
    groups["%s/%d" % (sender, epoch)] = {
        "count": sum(g.values()),
        "min": lo,
        "max": hi,
        "missing": hi - lo + 1 - len(g),
        "dups": dups[:10],
        "n_dups": len(dups),
    }
print(json.dumps(dict(stats, groups=groups), sort_keys=True))
