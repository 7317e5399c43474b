/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The unit tests' frame builders (frames.h): test_arp, test_icmp and the
 * pipeline harness (unit_pipeline.c) all write their frames with these.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <rte_mbuf.h>

#include "frames.h"

const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t ZERO_MAC[6] = {0};

/* ---- bytes ------------------------------------------------------------- */

uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

uint8_t *
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	return put16(p + 2, (uint16_t)v);
}

uint8_t *
put(uint8_t *p, const void *src, size_t len)
{
	if (len > 0) /* src may be NULL for no bytes */
		memcpy(p, src, len);
	return p + len;
}

uint16_t
ones_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* ---- headers ----------------------------------------------------------- */

uint8_t *
put_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	p = put(p, dst, 6);
	p = put(p, src, 6);
	return put16(p, type);
}

uint8_t *
put_ip4_opts(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id,
	     uint16_t frag, uint16_t total, uint8_t opt_words)
{
	size_t ihl = 20 + 4u * opt_words;

	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0;
	put16(ip + 2, total);
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = ttl;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put32(ip + 16, dst);
	for (size_t i = 20; i < ihl; i++)
		ip[i] = i == 20 ? 0x01 : 0x00; /* NOP, then end-of-list (RFC 791) */
	put16(ip + 10, (uint16_t)~ones_sum(ip, ihl));
	return ip + ihl;
}

uint8_t *
put_ip4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id,
	uint16_t frag, uint16_t total)
{
	return put_ip4_opts(ip, src, dst, proto, ttl, id, frag, total, 0);
}

uint8_t *
put_tcp(uint8_t *tcp, const struct tcp_spec *s)
{
	uint8_t *p = put16(tcp, s->sport);

	p = put16(p, s->dport);
	p = put32(p, s->seq);
	p = put32(p, s->ack);
	*p++ = (uint8_t)((20 + s->opt_len) / 4 << 4);
	*p++ = s->flags;
	p = put16(p, 65535);
	p = put16(p, 0); /* checksum: tcp_csum_fill() */
	p = put16(p, s->urp);
	p = put(p, s->opts, s->opt_len);
	return put(p, s->data, s->len);
}

void
tcp_csum_fill(uint8_t *tcp, uint32_t src, uint32_t dst, size_t len)
{
	uint8_t pseudo[12];

	put32(pseudo, src);
	put32(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, (uint16_t)len);
	put16(tcp + 16, 0);
	uint32_t sum = (uint32_t)ones_sum(pseudo, 12) + ones_sum(tcp, len);
	sum = (sum & 0xffff) + (sum >> 16);
	put16(tcp + 16, (uint16_t)~sum);
}

/* ---- frames ------------------------------------------------------------ */

size_t
udp_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src, const struct udp_spec *s)
{
	uint16_t udp_len = (uint16_t)(8 + s->data);
	uint8_t *p = put_eth(f, eth_dst, eth_src, 0x0800);

	p = put_ip4(p, s->src, s->dst, 17, s->ttl, s->id, s->frag, (uint16_t)(20 + udp_len));
	p = put16(p, s->sport != 0 ? s->sport : 40000);
	p = put16(p, 53);
	p = put16(p, udp_len);
	p = put16(p, 0); /* no UDP checksum (RFC 768 allows it over IPv4) */
	for (size_t i = 0; i < s->data; i++)
		*p++ = pattern(i);
	return (size_t)(p - f);
}

size_t
arp_frame(uint8_t *f, uint16_t vid, const uint8_t *eth_dst, const uint8_t *eth_src, uint16_t op,
	  const uint8_t *sha, const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
	uint8_t *p = f;

	p = put(p, eth_dst, 6);
	p = put(p, eth_src, 6);
	if (vid != 0) {
		p = put16(p, 0x8100);
		p = put16(p, vid);
	}
	p = put16(p, 0x0806);
	p = put16(p, 1);      /* htype: Ethernet */
	p = put16(p, 0x0800); /* ptype: IPv4 */
	*p++ = 6;	      /* hlen */
	*p++ = 4;	      /* plen */
	p = put16(p, op);
	p = put(p, sha, 6);
	p = put(p, spa, 4);
	p = put(p, tha, 6);
	p = put(p, tpa, 4);
	return (size_t)(p - f);
}

/* ---- mbufs ------------------------------------------------------------- */

struct rte_mbuf *
mbuf_of(struct rte_mempool *pool, const uint8_t *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	cr_assert_not_null(m);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert_not_null(d, "frame of %zu bytes does not fit an mbuf", len);
	memcpy(d, bytes, len);
	return m;
}
