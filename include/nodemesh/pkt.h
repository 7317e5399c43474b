/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser: Ethernet (one optional 802.1Q tag), ARP, IPv4, IPv6 (with
 * hop-by-hop, routing, fragment and destination-options headers), TCP, UDP,
 * ICMP and ICMPv6. Every read is bounds-checked against the buffer and
 * against the IP length; nothing past either is ever read.
 */
#ifndef NM_PKT_H
#define NM_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/drop-t.h"
#include "nodemesh/pkt-t.h"

/*
 * Parse the frame in buf[0..len). Returns the class (enum nm_pkt_class, > 0)
 * with *meta filled, or the negated drop reason (-enum nm_drop_reason).
 * IPv4 header checksums are verified. Trailing bytes past the IP total
 * length (Ethernet padding) are allowed.
 */
int nm_pkt_parse(const uint8_t *buf, uint32_t len, struct nm_pkt_meta *meta);

/*
 * As nm_pkt_parse() for a frame of len bytes of which only the first cap
 * are readable here (the first segment of a chained mbuf, such as a
 * reassembled datagram). Lengths are checked against len; headers that do
 * not lie within cap give -NM_DROP_NOT_CONTIGUOUS.
 */
int nm_pkt_parse_partial(const uint8_t *buf, uint32_t cap, uint32_t len, struct nm_pkt_meta *meta);

#endif
