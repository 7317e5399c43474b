/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The frame builders the packet parser's tests share (declared in
 * test_pkt_common.h): Ethernet, 802.1Q, IPv4, IPv6 and its extension
 * headers, TCP, UDP, ICMP and ARP written byte by byte, independently of
 * DPDK's structs, and parse() over a heap copy of exactly the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include "nodemesh/pkt.h"
#include "test_pkt_common.h"

const uint8_t pod_a[4] = {198, 18, 0, 2};
const uint8_t pod_b[4] = {198, 18, 0, 3};
const uint8_t v6_a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
const uint8_t v6_b[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03};

/* ---- frame building ---------------------------------------------------- */

void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 Internet checksum over the IPv4 header, written into bytes 10-11. */
void
ip4_csum(uint8_t *ip)
{
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t sum = 0;

	wr16(ip + 10, 0);
	for (uint32_t i = 0; i + 1 < ihl; i += 2)
		sum += rd16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	wr16(ip + 10, (uint16_t)~sum);
}

/* Ethernet header; returns its length. */
uint32_t
put_eth(uint8_t *p, uint16_t type)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x01};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	wr16(p + 12, type);
	return 14;
}

/* Ethernet header with one 802.1Q tag; returns its length. */
uint32_t
put_eth_vlan(uint8_t *p, uint16_t vid, uint16_t type)
{
	put_eth(p, ETH_VLAN);
	wr16(p + 14, vid);
	wr16(p + 16, type);
	return 18;
}

/*
 * IPv4 header of ihl 32-bit words (options NOP-filled), checksum set;
 * returns ihl * 4.
 */
uint32_t
put_ip4(uint8_t *p, unsigned int ihl, uint8_t proto, uint16_t total, uint16_t frag)
{
	memset(p, 0, ihl * 4);
	p[0] = (uint8_t)(0x40 | ihl);
	wr16(p + 2, total);
	wr16(p + 4, 0x1234); /* identification */
	wr16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, pod_a, 4);
	memcpy(p + 16, pod_b, 4);
	for (unsigned int i = 20; i < ihl * 4; i++)
		p[i] = 1; /* NOP */
	ip4_csum(p);
	return ihl * 4;
}

uint32_t
put_ip6(uint8_t *p, uint8_t next, uint16_t payload_len)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	wr16(p + 4, payload_len);
	p[6] = next;
	p[7] = 255;
	memcpy(p + 8, v6_a, 16);
	memcpy(p + 24, v6_b, 16);
	return 40;
}

/* TCP header of doff 32-bit words (options zero); returns doff * 4. */
uint32_t
put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags, unsigned int doff)
{
	memset(p, 0, doff * 4);
	wr16(p, sport);
	wr16(p + 2, dport);
	p[12] = (uint8_t)(doff << 4);
	p[13] = flags;
	wr16(p + 14, 65535);
	return doff * 4;
}

uint32_t
put_udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t len)
{
	wr16(p, sport);
	wr16(p + 2, dport);
	wr16(p + 4, len);
	wr16(p + 6, 0);
	return 8;
}

/* ICMP or ICMPv6 header: type, code, checksum, identifier, sequence. */
uint32_t
put_icmp(uint8_t *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	p[0] = type;
	p[1] = code;
	wr16(p + 2, 0);
	wr16(p + 4, id);
	wr16(p + 6, seq);
	return 8;
}

/* IPv6 extension header of 8 * (hdr_ext_len + 1) bytes, padding zero. */
uint32_t
put_ext(uint8_t *p, uint8_t next, uint8_t hdr_ext_len)
{
	uint32_t len = 8u * (hdr_ext_len + 1u);

	memset(p, 0, len);
	p[0] = next;
	p[1] = hdr_ext_len;
	return len;
}

/* IPv6 fragment header; offset in 8-byte units. */
uint32_t
put_frag6(uint8_t *p, uint8_t next, uint16_t offset, int more)
{
	memset(p, 0, 8);
	p[0] = next;
	wr16(p + 2, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	p[4] = 0xde;
	p[7] = 0xad; /* identification */
	return 8;
}

uint32_t
put_arp(uint8_t *p, uint16_t op)
{
	static const uint8_t sha[6] = {0x02, 0, 0, 0, 0, 0x02};

	wr16(p, 1);	     /* Ethernet */
	wr16(p + 2, 0x0800); /* IPv4 */
	p[4] = 6;
	p[5] = 4;
	wr16(p + 6, op);
	memcpy(p + 8, sha, 6);
	memcpy(p + 14, pod_a, 4);
	memset(p + 18, 0, 6);
	memcpy(p + 24, pod_b, 4);
	return 28;
}

/* Ethernet + IPv4 (20) + TCP (20) + 6 bytes of data: 60 bytes. */
uint32_t
build_tcp4(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV4);

	off += put_ip4(f + off, 5, IPPROTO_TCP, 20 + 20 + 6, 0);
	off += put_tcp(f + off, 40000, 80, TCP_SYN | TCP_ACK, 5);
	memcpy(f + off, "hello\n", 6);
	return off + 6;
}

uint32_t
build_udp4(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV4);

	off += put_ip4(f + off, 5, IPPROTO_UDP, 20 + 8 + 4, 0);
	off += put_udp(f + off, 5353, 53, 8 + 4);
	memcpy(f + off, "abcd", 4);
	return off + 4;
}

uint32_t
build_tcp6(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV6);

	off += put_ip6(f + off, IPPROTO_TCP, 20);
	off += put_tcp(f + off, 443, 50000, TCP_ACK, 5);
	return off;
}

/*
 * Parse a copy of f[0..len) held in a heap buffer of exactly len bytes; on
 * success meta.cls must agree with the return value.
 */
int
parse(const uint8_t *f, uint32_t len, struct nm_pkt_meta *meta)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	cr_assert_not_null(copy);
	memcpy(copy, f, len);
	rc = nm_pkt_parse(copy, len, meta);
	free(copy);
	if (rc > 0)
		cr_assert_eq(meta->cls, rc, "meta.cls %u, returned %d", meta->cls, rc);
	return rc;
}
