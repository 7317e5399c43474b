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

static inline void
nm_flow_addr(uint8_t out[16], const struct nm_pkt_meta *m, bool dst)
{
	if (m->cls == NM_PKT_IPV4) {
		memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, dst ? &m->dst.v4 : &m->src.v4, 4);
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
	uint8_t src[16], dst[16];
	uint16_t sport = 0, dport = 0;

	nm_flow_addr(src, m, false);
	nm_flow_addr(dst, m, true);
	if (m->flags & NM_PKT_F_L4) {
		if (m->ip_proto == 1 /* ICMP */ || m->ip_proto == 58 /* ICMPv6 */)
			sport = dport = m->dport; /* echo identifier */
		else {
			sport = m->sport;
			dport = m->dport;
		}
	}
	int c = memcmp(src, dst, 16);
	bool reverse = c > 0 || (c == 0 && sport > dport);

	memset(key, 0, sizeof(*key));
	memcpy(key->addr_lo, reverse ? dst : src, 16);
	memcpy(key->addr_hi, reverse ? src : dst, 16);
	key->port_lo = reverse ? dport : sport;
	key->port_hi = reverse ? sport : dport;
	key->proto = m->ip_proto;
	return reverse;
}

#endif
