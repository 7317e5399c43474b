#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Inject tunnel datagrams made from a captured one (the last frame of
PCAP: outer Ethernet / IPv4 / UDP / tunnel header and TLS record, wire
format in include/nodemesh/tunnel-t.h) as whole frames on IFACE:

  replay   the frame as captured, COUNT times
  flip     one ciphertext bit flipped (a different bit in each copy), and
           the sequence number moved SEQ_AHEAD + i past the captured one,
           so that the replay check, which comes before the tag, passes
  epoch    the epoch field set to captured epoch + EPOCH_DELTA (mod 2^16)
  stranger the outer IPv4 source set to SRC (a fabric address that is no
           peer); the IPv4 header checksum recomputed
  port     the UDP destination port set to PORT (not the tunnel's)

Prints one line: what was sent, with the captured epoch and sequence.
Frames are bytes, edited in place: scapy only reads the capture and sends,
so none of its dissectors (it takes UDP 4790 for VXLAN-GPE) rewrites them.
"""
import argparse
import socket
import struct

from scapy.all import Raw, conf, rdpcap, sendp

ap = argparse.ArgumentParser()
ap.add_argument("--pcap", required=True)
ap.add_argument("--iface", default="fab0")
ap.add_argument("--mode", required=True, choices=["replay", "flip", "epoch", "stranger", "port"])
ap.add_argument("--count", type=int, default=5)
ap.add_argument("--seq-ahead", type=int, default=1000000)
ap.add_argument("--epoch-delta", type=int, default=1000)
ap.add_argument("--src", default="198.19.0.99")
ap.add_argument("--port", type=int, default=4791)
a = ap.parse_args()

conf.verb = 0
frame = bytes(rdpcap(a.pcap)[-1])
ETH = 14
if frame[12:14] != b"\x08\x00":
    raise SystemExit("last frame of %s is not IPv4" % a.pcap)
ihl = (frame[ETH] & 0x0F) * 4
udp = ETH + ihl
rec = udp + 8  # tunnel header: version, reserved, epoch, sequence
if frame[ETH + 9] != 17 or len(frame) < rec + 17 + 17:
    raise SystemExit("last frame of %s is no tunnel datagram" % a.pcap)
epoch = struct.unpack_from("!H", frame, rec + 2)[0]
seq = struct.unpack_from("!Q", frame, rec + 4)[0]
body = rec + 17  # first ciphertext byte
tag = len(frame) - 16  # first tag byte


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


frames = []
for i in range(a.count):
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
    frames.append(Raw(bytes(f)))
sendp(frames, iface=a.iface, inter=0.01)
print("sent %d %s frames from a datagram of epoch %d, sequence %d" % (a.count, a.mode, epoch, seq))
