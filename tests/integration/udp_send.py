#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send COUNT UDP datagrams from a chosen (possibly forged) source address
with scapy, as whole Ethernet frames to the gateway MAC on IFACE. Payload
"TAG-N" lets the receiver tell forged from true packets apart."""
import argparse

from scapy.all import IP, UDP, Ether, Raw, conf, get_if_hwaddr, sendp

ap = argparse.ArgumentParser()
ap.add_argument("--iface", default="eth0")
ap.add_argument("--gw-mac", required=True)
ap.add_argument("--src", required=True)
ap.add_argument("--dst", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--count", type=int, default=20)
ap.add_argument("--tag", required=True)
a = ap.parse_args()

conf.verb = 0
mac = get_if_hwaddr(a.iface)
frames = [
    Ether(src=mac, dst=a.gw_mac)
    / IP(src=a.src, dst=a.dst, ttl=64)
    / UDP(sport=40000 + i, dport=a.port)
    / Raw(("%s-%d" % (a.tag, i)).encode())
    for i in range(a.count)
]
# inter: a short gap so a burst never overruns a queue: a lost true packet
# must mean a dataplane fault, not an overflow.
sendp(frames, iface=a.iface, inter=0.01)
print("sent %d %s frames %s -> %s:%d" % (a.count, a.tag, a.src, a.dst, a.port))
