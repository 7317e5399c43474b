/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame builders for the unit tests, written once: byte readers and
 * writers, the RFC 1071 sum, and Ethernet, IPv4, UDP, TCP and ARP frames
 * laid down byte by byte at their RFC offsets (RFC 791, 768, 793, 826),
 * not through DPDK's structs, so a wrong field in the dataplane cannot be
 * mirrored here. Addresses are host-order uint32_t unless a builder says
 * otherwise. mbuf_of() copies finished bytes into an mbuf.
 *
 * Each put*() writes at p and returns the first byte after what it wrote,
 * so a frame reads as a chain: p = put_eth(f, ...); p = put_ip4(p, ...).
 */
#ifndef NM_TEST_FRAMES_H
#define NM_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

#define ETH_LEN 14

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define IP4_DF		0x4000
#define IP4_MF		0x2000

extern const uint8_t BCAST[6];
extern const uint8_t ZERO_MAC[6];

/* ---- bytes ------------------------------------------------------------- */

/* Big-endian reads. */
uint16_t rd16(const uint8_t *p);
uint32_t rd32(const uint8_t *p);

/* Big-endian writes, and a plain copy of len bytes. */
uint8_t *put16(uint8_t *p, uint16_t v);
uint8_t *put32(uint8_t *p, uint32_t v);
uint8_t *put(uint8_t *p, const void *src, size_t len);

/* RFC 1071 one's-complement sum of len bytes, folded, not inverted. */
uint16_t ones_sum(const uint8_t *p, size_t len);

/* The payload byte at offset i of every patterned payload here. */
uint8_t pattern(size_t i);

/* ---- headers ----------------------------------------------------------- */

uint8_t *put_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type);

/* 20-byte IPv4 header with a correct checksum. */
uint8_t *put_ip4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id,
		 uint16_t frag, uint16_t total);

/*
 * IPv4 header followed by opt_words 32-bit words of options (one NOP, then
 * end-of-list bytes), IHL and checksum covering them.
 */
uint8_t *put_ip4_opts(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
		      uint16_t id, uint16_t frag, uint16_t total, uint8_t opt_words);

/* A TCP header (window 65535), its options and data; checksum field 0. */
struct tcp_spec {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t urp;
	const uint8_t *opts; /* opt_len bytes, a multiple of 4 */
	uint8_t opt_len;
	const void *data;
	size_t len; /* data bytes */
};

uint8_t *put_tcp(uint8_t *tcp, const struct tcp_spec *s);

/* Fill the checksum of the TCP segment at tcp (header + data, len bytes) over the pseudo header. */
void tcp_csum_fill(uint8_t *tcp, uint32_t src, uint32_t dst, size_t len);

/* ---- frames ------------------------------------------------------------ */

struct udp_spec {
	uint32_t src, dst;
	uint8_t ttl;
	uint16_t id;
	uint16_t frag;	/* DF only: UDP frames here are whole datagrams */
	uint16_t data;	/* UDP payload bytes */
	uint16_t sport; /* 0: 40000 */
};

/*
 * Ethernet + IPv4 + UDP to port 53, no UDP checksum; the payload is
 * pattern(i). Returns the length written.
 */
size_t udp_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src,
		 const struct udp_spec *s);

/*
 * An ARP frame: optional 802.1Q tag (vid != 0), then RFC 826 Ethernet/IPv4.
 * spa and tpa are 4 bytes each, in network order as on the wire. Returns
 * the length written.
 */
size_t arp_frame(uint8_t *f, uint16_t vid, const uint8_t *eth_dst, const uint8_t *eth_src,
		 uint16_t op, const uint8_t *sha, const uint8_t *spa, const uint8_t *tha,
		 const uint8_t *tpa);

/* ---- mbufs ------------------------------------------------------------- */

/* One mbuf from pool holding a copy of the len bytes; asserts it fits. */
struct rte_mbuf *mbuf_of(struct rte_mempool *pool, const uint8_t *bytes, size_t len);

#endif
