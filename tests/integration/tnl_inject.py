#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Inject tunnel datagrams made from captured ones (the last FRAMES frames
of PCAP, default 1: outer Ethernet / IPv4 / UDP / tunnel header and TLS
record, wire format in include/nodemesh/tunnel-t.h) as whole frames on
IFACE, COUNT of each:

  replay   the frame as captured
  flip     one ciphertext bit flipped (a different bit in each copy), and
           the sequence number moved SEQ_AHEAD + i past the captured one,
           so that the replay check, which comes before the tag, passes
  epoch    the epoch field set to captured epoch + EPOCH_DELTA (mod 2^16)
  stranger the outer IPv4 source set to SRC (a fabric address that is no
           peer); the IPv4 header checksum recomputed
  port     the UDP destination port set to PORT (not the tunnel's)

With --sport-first P, copy j of frame i has the outer UDP source port
P + i * COUNT + j instead of the captured one (each copy its own flow, so
that the receiving kernel's fanout spreads the copies over a node's
fabric queues; the outer UDP checksum is 0, nothing else changes).

Prints one line: what was sent, with the captured epochs and sequences.
Frames are bytes, edited in place: scapy only reads the capture (raw) and
sends, so none of its dissectors (it takes UDP 4790 for VXLAN-GPE)
rewrites them.
"""
import argparse
import socket
import struct

from scapy.all import Raw, conf, sendp
from scapy.utils import RawPcapReader

ap = argparse.ArgumentParser()
ap.add_argument("--pcap", required=True)
ap.add_argument("--iface", default="fab0")
ap.add_argument("--mode", required=True, choices=["replay", "flip", "epoch", "stranger", "port"])
ap.add_argument("--count", type=int, default=5)
ap.add_argument("--frames", type=int, default=1)
ap.add_argument("--sport-first", type=int)
ap.add_argument("--inter", type=float, default=0.01, help="seconds between two frames")
ap.add_argument("--seq-ahead", type=int, default=1000000)
ap.add_argument("--epoch-delta", type=int, default=1000)
ap.add_argument("--src", default="198.19.0.99")
ap.add_argument("--port", type=int, default=4791)
a = ap.parse_args()

conf.verb = 0
# Raw frames: dissecting them (UDP 4790 as VXLAN-GPE, ciphertext as
# whatever it looks like) only logs errors.
reader = RawPcapReader(a.pcap)
packets = list(reader)[-a.frames :]
reader.close()
if len(packets) < a.frames:
    raise SystemExit("%s holds %d frames, not %d" % (a.pcap, len(packets), a.frames))
for data, meta in packets:
    if len(data) < meta.wirelen:
        raise SystemExit("%s: a frame cut to %d of its %d bytes (snap length)" % (a.pcap, len(data), meta.wirelen))
captured = [bytes(data) for data, _ in packets]
ETH = 14


def dissect(frame):
    """Offsets of a tunnel datagram: (IPv4 header length, UDP, tunnel header)."""
    if frame[12:14] != b"\x08\x00":
        raise SystemExit("a frame of %s is not IPv4" % a.pcap)
    ihl = (frame[ETH] & 0x0F) * 4
    rec = ETH + ihl + 8  # tunnel header: version, reserved, epoch, sequence
    if frame[ETH + 9] != 17 or len(frame) < rec + 17 + 17:
        raise SystemExit("a frame of %s is no tunnel datagram" % a.pcap)
    return ihl, ETH + ihl, rec


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def variant(frame, i):
    """Copy i of frame, as a.mode says."""
    ihl, udp, rec = dissect(frame)
    epoch = struct.unpack_from("!H", frame, rec + 2)[0]
    seq = struct.unpack_from("!Q", frame, rec + 4)[0]
    body = rec + 17  # first ciphertext byte
    tag = len(frame) - 16  # first tag byte
    f = bytearray(frame)
    if a.mode == "flip":
        struct.pack_into("!Q", f, rec + 4, seq + a.seq_ahead + i)
        f[body + i % (tag - body)] ^= 1 << (i % 8)
    elif a.mode == "epoch":
        struct.pack_into("!H", f, rec + 2, (epoch + a.epoch_delta) % 65536)
    elif a.mode == "stranger":
        f[ETH + 12 : ETH + 16] = socket.inet_aton(a.src)
        f[ETH + 10 : ETH + 12] = b"\0\0"
        struct.pack_into("!H", f, ETH + 10, ip_checksum(bytes(f[ETH : ETH + ihl])))
    elif a.mode == "port":
        struct.pack_into("!H", f, udp + 2, a.port)
    return f, "%d/%d" % (epoch, seq)


frames, seen, sports = [], [], []
for n, frame in enumerate(captured):
    for i in range(a.count):
        f, es = variant(frame, i)
        if a.sport_first is not None:
            sports.append(a.sport_first + n * a.count + i)
            struct.pack_into("!H", f, dissect(frame)[1], sports[-1])
        frames.append(Raw(bytes(f)))
    seen.append(es)
sendp(frames, iface=a.iface, inter=a.inter)
print(
    "sent %d %s frames from %d datagram(s) of epoch/sequence %s%s"
    % (
        len(frames),
        a.mode,
        len(captured),
        " ".join(seen if len(seen) <= 8 else seen[:2] + ["..."] + seen[-2:]),
        ", outer source ports %d-%d" % (sports[0], sports[-1]) if sports else "",
    )
)
