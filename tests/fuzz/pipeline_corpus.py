#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Writes the seed corpus of fuzz_pipeline (tests/fuzz/corpus/pipeline/):
# inputs in that target's format (selector, 16-bit length, bytes; see the
# comment at the top of fuzz_pipeline.c) that walk the paths worth
# mutating from: a TCP handshake with a signature split across segments,
# out-of-order segments, IPv4 fragments in reverse order, UDP datagrams
# that hit a signature or the metered rule, ARP, a packet to the remote
# pod, sealed frames from node-b and a raw fabric frame.
#
#   tests/fuzz/pipeline_corpus.py [DIR]    # default: the corpus directory
import os
import struct
import sys

MAC_A = bytes([0x02, 0xAA, 0, 0, 0, 0x01])
MAC_B = bytes([0x02, 0xBB, 0, 0, 0, 0x02])
PORT_MAC_A = bytes([0x02, 0x0A, 0, 0, 0, 0x01])
PORT_MAC_B = bytes([0x02, 0x0B, 0, 0, 0, 0x02])
FAB_MAC = bytes([0x02, 0x0F, 0, 0, 0, 0x01])
PEER_MAC = bytes([0x02, 0xFB, 0, 0, 0, 0x02])
IP_A = bytes([198, 18, 0, 1])
IP_B = bytes([198, 18, 0, 2])
IP_GW = bytes([169, 254, 1, 1])
REMOTE_POD = bytes([198, 18, 2, 5])
IP4_SPOOF = IP_B  # a local pod's address, sent from node-b: spoofed
FAB_IP = bytes([198, 19, 0, 1])
PEER_IP = bytes([198, 19, 0, 2])

# Selector bits (fuzz_pipeline.c).
SRC_A, SRC_B, SRC_SEALED, SRC_RAW = 0, 1, 2, 3
FIX_CSUM = 0x04
END_TURN = 0x08


def advance(i):
    return (i & 7) << 4


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, ident=1, flags_frag=0x4000, ttl=64, total=None):
    total = 20 + len(payload) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, flags_frag, ttl, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def l4_csum(src, dst, proto, seg):
    return csum(src + dst + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def tcp(src, dst, sport, dport, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    c = l4_csum(src, dst, 6, h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def udp(src, dst, sport, dport, data):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    c = l4_csum(src, dst, 17, h + data) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + data


def eth(dst, src, typ, payload):
    return dst + src + struct.pack("!H", typ) + payload


def from_a(ip_packet):
    return eth(PORT_MAC_A, MAC_A, 0x0800, ip_packet)


def from_b(ip_packet):
    return eth(PORT_MAC_B, MAC_B, 0x0800, ip_packet)


def frame(sel, data):
    return struct.pack("!BH", sel, len(data)) + data


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
C_ISN, S_ISN, CPORT, SPORT = 1000, 5000, 40000, 80


def a_tcp(seq, ack, flags, data=b""):
    return from_a(ip4(IP_A, IP_B, 6, tcp(IP_A, IP_B, CPORT, SPORT, seq, ack, flags, data)))


def b_tcp(seq, ack, flags, data=b""):
    return from_b(ip4(IP_B, IP_A, 6, tcp(IP_B, IP_A, SPORT, CPORT, seq, ack, flags, data)))


def handshake():
    return [
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(C_ISN, 0, SYN)),
        frame(SRC_B | FIX_CSUM | END_TURN, b_tcp(S_ISN, C_ISN + 1, SYN | ACK)),
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(C_ISN + 1, S_ISN + 1, ACK)),
    ]


def tcp_split_signature():
    d1, d2 = b"GET /?q=1 UNION ", b"SELECT secret HTTP/1.0\r\n\r\n"
    c = C_ISN + 1
    return handshake() + [
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(c, S_ISN + 1, ACK | PSH, d1)),
        frame(SRC_B | FIX_CSUM | END_TURN, b_tcp(S_ISN + 1, c + len(d1), ACK)),
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(c + len(d1), S_ISN + 1, ACK | PSH, d2)),
    ]


def tcp_out_of_order_close():
    d1, d2, d3 = b"alpha and ", b"then, at the end, ", b"omega\n"
    c, s = C_ISN + 1, S_ISN + 1
    return handshake() + [
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(c + len(d1) + len(d2), s, ACK | PSH, d3)),
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(c + len(d1), s, ACK | PSH, d2)),
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(c, s, ACK | PSH, d1)),
        frame(SRC_B | FIX_CSUM | END_TURN, b_tcp(s, c + len(d1 + d2 + d3), ACK | PSH, b"TOPSECRET")),
        frame(SRC_A | FIX_CSUM | END_TURN, a_tcp(c + len(d1 + d2 + d3), s + 9, FIN | ACK)),
        frame(SRC_B | FIX_CSUM | END_TURN, b_tcp(s + 9, c + len(d1 + d2 + d3) + 1, FIN | ACK)),
        frame(SRC_A | FIX_CSUM | END_TURN | advance(2), a_tcp(c + len(d1 + d2 + d3) + 1, s + 10, ACK)),
    ]


def ipv4_fragments_reverse():
    payload = bytes((i * 7) & 0xFF for i in range(2992)) + b"xx EV1234IL xx"
    seg = udp(IP_A, IP_B, 33000, 54, payload)
    pieces, off, size = [], 0, 1480
    while off < len(seg):
        chunk = seg[off : off + size]
        more = 0x2000 if off + size < len(seg) else 0
        pkt = ip4(IP_A, IP_B, 17, chunk, ident=0x4242, flags_frag=more | (off // 8))
        pieces.append(frame(SRC_A | FIX_CSUM, from_a(pkt)))
        off += size
    pieces.reverse()
    pieces[-1] = bytes([pieces[-1][0] | END_TURN]) + pieces[-1][1:]
    return pieces


def udp_rules():
    return [
        frame(SRC_A | FIX_CSUM | END_TURN, from_a(ip4(IP_A, IP_B, 17, udp(IP_A, IP_B, 33001, 53, b"an EVIL query")))),
        frame(SRC_A | FIX_CSUM, from_a(ip4(IP_A, IP_B, 17, udp(IP_A, IP_B, 33002, 5000, b"metered 1")))),
        frame(SRC_A | FIX_CSUM, from_a(ip4(IP_A, IP_B, 17, udp(IP_A, IP_B, 33002, 5000, b"metered 2")))),
        frame(SRC_B | FIX_CSUM | END_TURN, from_b(ip4(IP_B, IP_A, 17, udp(IP_B, IP_A, 5000, 33002, b"reply")))),
        frame(SRC_B | FIX_CSUM | END_TURN | advance(6), from_b(ip4(IP_B, IP_A, 6, tcp(IP_B, IP_A, 41000, 23, 1, 0, SYN)))),
    ]


def arp_request():
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, IP_A, b"\0" * 6, IP_GW)
    arp_b = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, IP_A, b"\0" * 6, IP_B)
    return [
        frame(SRC_A | END_TURN, eth(b"\xff" * 6, MAC_A, 0x0806, arp)),
        frame(SRC_A | END_TURN, eth(b"\xff" * 6, MAC_A, 0x0806, arp_b)),
    ]


def echo(src, dst, data, ident=0x1234):
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + data
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return ip4(src, dst, 1, icmp, flags_frag=0)


def to_remote_pod():
    return [
        frame(SRC_A | FIX_CSUM | END_TURN, from_a(ip4(IP_A, REMOTE_POD, 17, udp(IP_A, REMOTE_POD, 33003, 9000, b"to node-b")))),
        frame(SRC_A | FIX_CSUM | END_TURN, from_a(echo(IP_A, REMOTE_POD, b"ping over the tunnel"))),
    ]


def fabric_sealed():
    return [
        frame(SRC_SEALED | FIX_CSUM | END_TURN, echo(REMOTE_POD, IP_A, b"ping from node-b")),
        frame(SRC_SEALED | FIX_CSUM | END_TURN, ip4(REMOTE_POD, IP_B, 17, udp(REMOTE_POD, IP_B, 9000, 53, b"EVIL from afar"))),
        frame(SRC_SEALED | FIX_CSUM | END_TURN, ip4(IP4_SPOOF, IP_A, 17, udp(IP4_SPOOF, IP_A, 1, 2, b"spoofed"))),
    ]



def fabric_raw():
    # Well-formed records that must not open: an epoch node-b does not use,
    # and its current epoch (9) with a tag that does not verify; then a
    # datagram too short for a record header.
    def record(epoch, seq):
        body = bytes(range(40)) + b"\x17" + b"\0" * 16
        return struct.pack("!BBHQBHH", 1, 0, epoch, seq, 0x17, 0x0303, len(body)) + body

    def outer(rec):
        u = struct.pack("!HHHH", 0xC123, 4790, 8 + len(rec), 0) + rec
        return eth(FAB_MAC, PEER_MAC, 0x0800, ip4(PEER_IP, FAB_IP, 17, u))

    return [
        frame(SRC_RAW | FIX_CSUM | END_TURN, outer(record(3, 0))),
        frame(SRC_RAW | FIX_CSUM | END_TURN, outer(record(9, 1 << 40))),
        frame(SRC_RAW | FIX_CSUM | END_TURN, outer(record(9, 0)[:12])),
    ]


SEEDS = {
    "tcp-split-signature.bin": tcp_split_signature,
    "tcp-out-of-order-close.bin": tcp_out_of_order_close,
    "ipv4-fragments-reverse.bin": ipv4_fragments_reverse,
    "udp-rules.bin": udp_rules,
    "arp-request.bin": arp_request,
    "to-remote-pod.bin": to_remote_pod,
    "fabric-sealed.bin": fabric_sealed,
    "fabric-raw.bin": fabric_raw,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "pipeline")
    os.makedirs(out, exist_ok=True)
    for name, make in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"".join(make()))


if __name__ == "__main__":
    main()
