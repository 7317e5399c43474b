/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Normalised flow key: one key for both directions of a connection. The
 * endpoint that sorts lower (address, then port) is stored first, and
 * nm_flow_key_make() says whether the packet runs from the second to the
 * first (reply direction of the key). IPv4 addresses are stored as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) so that one key type serves both.
 */
#ifndef NM_FLOWKEY_H
#define NM_FLOWKEY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nodemesh/pkt-t.h"

struct nm_flow_key {
	uint8_t addr_lo[16]; /* lower endpoint's address (IPv4-mapped for IPv4) */
	uint8_t addr_hi[16];
	uint16_t port_lo; /* its TCP/UDP port, or ICMP echo identifier; host order */
	uint16_t port_hi;
	uint8_t proto;	/* IPPROTO_* */
	uint8_t pad[3]; /* zero: the key is hashed as bytes */
} __attribute__((packed, aligned(4)));

/* An IPv4 address (network order) as a number that sorts as its bytes do. */
static inline uint32_t
nm_flow_v4_order(uint32_t be)
{
	const uint8_t *b = (const uint8_t *)&be;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void
nm_flow_addr_v4(uint8_t out[16], uint32_t v4)
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, &v4, 4);
}

static inline void
nm_flow_addr(uint8_t out[16], const struct nm_pkt_meta *m, bool dst)
{
	if (m->cls == NM_PKT_IPV4) {
		nm_flow_addr_v4(out, dst ? m->dst.v4 : m->src.v4);
	} else {
		memcpy(out, dst ? m->dst.v6 : m->src.v6, 16);
	}
}

/*
 * Fill key from a parsed IPv4 or IPv6 packet. Returns true when the packet
 * travels from the key's "hi" endpoint to its "lo" one. ICMP echo request
 * and reply share a key: both ports are the echo identifier. Transports
 * without ports (and non-first fragments) get ports 0.
 */
static inline bool
nm_flow_key_make(struct nm_flow_key *key, const struct nm_pkt_meta *m)
{
	uint16_t sport = 0, dport = 0;
	bool reverse;

	if (m->flags & NM_PKT_F_L4) {
		if (m->ip_proto == 1 /* ICMP */ || m->ip_proto == 58 /* ICMPv6 */)
			sport = dport = m->dport; /* echo identifier */
		else {
			sport = m->sport;
			dport = m->dport;
		}
	}
	memset(key, 0, sizeof(*key));
	if (m->cls == NM_PKT_IPV4) {
		/*
		 * The common case without building both mapped addresses first:
		 * their first 12 bytes are equal, so the last 4 decide the order.
		 */
		uint32_t s = nm_flow_v4_order(m->src.v4), d = nm_flow_v4_order(m->dst.v4);

		reverse = s > d || (s == d && sport > dport);
		nm_flow_addr_v4(key->addr_lo, reverse ? m->dst.v4 : m->src.v4);
		nm_flow_addr_v4(key->addr_hi, reverse ? m->src.v4 : m->dst.v4);
	} else {
		uint8_t src[16], dst[16];

		nm_flow_addr(src, m, false);
		nm_flow_addr(dst, m, true);
		int c = memcmp(src, dst, 16);
		reverse = c > 0 || (c == 0 && sport > dport);
		memcpy(key->addr_lo, reverse ? dst : src, 16);
		memcpy(key->addr_hi, reverse ? src : dst, 16);
	}
	key->port_lo = reverse ? dport : sport;
	key->port_hi = reverse ? sport : dport;
	key->proto = m->ip_proto;
	return reverse;
}

#endif
