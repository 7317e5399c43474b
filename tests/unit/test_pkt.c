/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the packet parser (dataplane/pkt.c). Frames are built byte
 * by byte here, independently of DPDK's structs, so a wrong offset in the
 * parser cannot be mirrored by a wrong offset in the test. Every frame the
 * parser sees sits in a heap buffer of exactly its length, so a read past
 * the end trips ASan under -Db_sanitize=address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include "nodemesh/pkt.h"

#define ETH_ARP	 0x0806
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100

#define TCP_SYN 0x02
#define TCP_ACK 0x10

#define IP4_DF 0x4000
#define IP4_MF 0x2000

#define FRAME_MAX 2048

static const uint8_t pod_a[4] = {198, 18, 0, 2};
static const uint8_t pod_b[4] = {198, 18, 0, 3};
static const uint8_t v6_a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
static const uint8_t v6_b[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03};

/* ---- frame building ---------------------------------------------------- */

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 Internet checksum over the IPv4 header, written into bytes 10-11. */
static void
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
static uint32_t
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
static uint32_t
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
static uint32_t
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

static uint32_t
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
static uint32_t
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

static uint32_t
put_udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t len)
{
	wr16(p, sport);
	wr16(p + 2, dport);
	wr16(p + 4, len);
	wr16(p + 6, 0);
	return 8;
}

/* ICMP or ICMPv6 header: type, code, checksum, identifier, sequence. */
static uint32_t
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
static uint32_t
put_ext(uint8_t *p, uint8_t next, uint8_t hdr_ext_len)
{
	uint32_t len = 8u * (hdr_ext_len + 1u);

	memset(p, 0, len);
	p[0] = next;
	p[1] = hdr_ext_len;
	return len;
}

/* IPv6 fragment header; offset in 8-byte units. */
static uint32_t
put_frag6(uint8_t *p, uint8_t next, uint16_t offset, int more)
{
	memset(p, 0, 8);
	p[0] = next;
	wr16(p + 2, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	p[4] = 0xde;
	p[7] = 0xad; /* identification */
	return 8;
}

static uint32_t
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
static uint32_t
build_tcp4(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV4);

	off += put_ip4(f + off, 5, IPPROTO_TCP, 20 + 20 + 6, 0);
	off += put_tcp(f + off, 40000, 80, TCP_SYN | TCP_ACK, 5);
	memcpy(f + off, "hello\n", 6);
	return off + 6;
}

static uint32_t
build_udp4(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV4);

	off += put_ip4(f + off, 5, IPPROTO_UDP, 20 + 8 + 4, 0);
	off += put_udp(f + off, 5353, 53, 8 + 4);
	memcpy(f + off, "abcd", 4);
	return off + 4;
}

static uint32_t
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
static int
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

/* ---- invalid input ----------------------------------------------------- */

Test(pkt_invalid, every_truncation_of_tcp_frame_is_dropped)
{
	uint8_t f[FRAME_MAX];
	uint32_t full = build_tcp4(f);
	struct nm_pkt_meta meta;

	cr_assert_eq(parse(f, full, &meta), NM_PKT_IPV4);
	for (uint32_t len = 0; len < full; len++) {
		int rc = parse(f, len, &meta);
		int want = len < 14 ? -NM_DROP_TRUNC_ETH : -NM_DROP_TRUNC_IP4;

		cr_assert_lt(rc, 0, "len %u: rc %d", len, rc);
		cr_assert_eq(rc, want, "len %u: rc %d (%s), want %d", len, rc, nm_drop_name(-rc),
			     want);
	}
}

Test(pkt_invalid, every_truncation_of_other_frames_is_dropped)
{
	static uint32_t (*const builders[])(uint8_t *) = {build_udp4, build_tcp6};
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;

	for (size_t b = 0; b < sizeof(builders) / sizeof(builders[0]); b++) {
		uint32_t full = builders[b](f);

		cr_assert_gt(parse(f, full, &meta), 0, "builder %zu", b);
		for (uint32_t len = 0; len < full; len++)
			cr_assert_lt(parse(f, len, &meta), 0, "builder %zu len %u", b, len);
	}
}

/* Each builder writes a frame that is wrong in one way. */
static uint32_t
bad_short_eth(uint8_t *f)
{
	put_eth(f, ETH_IPV4);
	return 13;
}

static uint32_t
bad_vlan_cut(uint8_t *f)
{
	put_eth_vlan(f, 100, ETH_IPV4);
	return 16;
}

static uint32_t
bad_ethertype(uint8_t *f)
{
	uint32_t off = put_eth(f, 0x88cc); /* LLDP */

	memset(f + off, 0, 46);
	return off + 46;
}

static uint32_t
bad_vlan_inner_ethertype(uint8_t *f)
{
	uint32_t off = put_eth_vlan(f, 100, 0x8847); /* MPLS */

	memset(f + off, 0, 46);
	return off + 46;
}

static uint32_t
bad_arp_short(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_ARP);

	return off + put_arp(f + off, 1) - 1;
}

static uint32_t
bad_arp_hlen(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_ARP);
	uint32_t len = off + put_arp(f + off, 1);

	f[off + 4] = 8;
	return len;
}

static uint32_t
bad_arp_plen(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_ARP);
	uint32_t len = off + put_arp(f + off, 1);

	f[off + 5] = 16;
	return len;
}

static uint32_t
bad_arp_hw(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_ARP);
	uint32_t len = off + put_arp(f + off, 1);

	wr16(f + off, 6); /* IEEE 802 */
	return len;
}

static uint32_t
bad_arp_op(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_ARP);

	return off + put_arp(f + off, 3); /* RARP request */
}

static uint32_t
bad_ip4_short(uint8_t *f)
{
	return build_tcp4(f) - 46 + 19; /* 19 bytes of IPv4 header */
}

static uint32_t
bad_ip4_version(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	f[14] = (uint8_t)(0x60 | (f[14] & 0x0f));
	ip4_csum(f + 14);
	return len;
}

static uint32_t
bad_ip4_ihl(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	f[14] = 0x44;
	return len;
}

static uint32_t
bad_ip4_total_below_ihl(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	wr16(f + 14 + 2, 19);
	ip4_csum(f + 14);
	return len;
}

static uint32_t
bad_ip4_total_past_frame(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	wr16(f + 14 + 2, (uint16_t)(len - 14 + 1));
	ip4_csum(f + 14);
	return len;
}

static uint32_t
bad_ip4_ihl_past_frame(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV4);

	/* IHL 15 (60 bytes) and total 60, but only 40 bytes present. */
	put_ip4(f + off, 15, IPPROTO_TCP, 60, 0);
	return off + 40;
}

static uint32_t
bad_ip4_csum(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	f[14 + 10] ^= 0x01;
	return len;
}

static uint32_t
bad_ip4_csum_ttl_changed(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	f[14 + 8]--; /* a router that forgot to update the checksum */
	return len;
}

static uint32_t
bad_tcp_doff_small(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	f[34 + 12] = 4 << 4;
	return len;
}

static uint32_t
bad_tcp_doff_past_ip(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	f[34 + 12] = 7 << 4; /* 28 bytes, only 26 in the IP payload */
	return len;
}

static uint32_t
bad_tcp_cut_by_ip_len(uint8_t *f)
{
	uint32_t len = build_tcp4(f);

	/* The frame holds the whole header; the IP length says it does not. */
	wr16(f + 14 + 2, 20 + 19);
	ip4_csum(f + 14);
	return len;
}

static uint32_t
bad_udp_len_past_payload(uint8_t *f)
{
	uint32_t len = build_udp4(f);

	wr16(f + 34 + 4, 8 + 5);
	return len;
}

static uint32_t
bad_udp_len_below_header(uint8_t *f)
{
	uint32_t len = build_udp4(f);

	wr16(f + 34 + 4, 7);
	return len;
}

static uint32_t
bad_udp_cut(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV4);

	off += put_ip4(f + off, 5, IPPROTO_UDP, 20 + 7, 0);
	put_udp(f + off, 1, 2, 8);
	return off + 7;
}

static uint32_t
bad_icmp_cut(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV4);

	off += put_ip4(f + off, 5, IPPROTO_ICMP, 20 + 4, 0);
	put_icmp(f + off, 8, 0, 1, 1);
	return off + 4;
}

static uint32_t
bad_ip6_short(uint8_t *f)
{
	return build_tcp6(f) - 20 - 1; /* 39 bytes of IPv6 header */
}

static uint32_t
bad_ip6_version(uint8_t *f)
{
	uint32_t len = build_tcp6(f);

	f[14] = 0x40;
	return len;
}

static uint32_t
bad_ip6_payload_past_frame(uint8_t *f)
{
	uint32_t len = build_tcp6(f);

	wr16(f + 14 + 4, 21);
	return len;
}

/* Nine extension headers: one more than the parser walks. */
static uint32_t
bad_ip6_chain_too_long(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV6);
	uint32_t ip = off;

	off += put_ip6(f + off, IPPROTO_HOPOPTS, 0);
	for (int i = 0; i < 9; i++)
		off += put_ext(f + off, i < 8 ? IPPROTO_DSTOPTS : IPPROTO_UDP, 0);
	off += put_udp(f + off, 1, 2, 8);
	wr16(f + ip + 4, (uint16_t)(off - ip - 40));
	return off;
}

static uint32_t
bad_ip6_ext_past_payload(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV6);

	off += put_ip6(f + off, IPPROTO_HOPOPTS, 16);
	off += put_ext(f + off, IPPROTO_UDP, 2); /* claims 24 bytes */
	memset(f + off, 0, 8);
	return off + 8;
}

static uint32_t
bad_ip6_ext_cut(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV6);

	off += put_ip6(f + off, IPPROTO_ROUTING, 4);
	put_ext(f + off, IPPROTO_UDP, 0);
	return off + 4;
}

static uint32_t
bad_ip6_l4_cut(uint8_t *f)
{
	uint32_t off = put_eth(f, ETH_IPV6);

	off += put_ip6(f + off, IPPROTO_TCP, 19);
	put_tcp(f + off, 1, 2, TCP_SYN, 5);
	return off + 19;
}

static const struct {
	const char *what;
	uint32_t (*build)(uint8_t *f);
	enum nm_drop_reason want;
} bad_frames[] = {
    {"frame shorter than Ethernet", bad_short_eth, NM_DROP_TRUNC_ETH},
    {"VLAN tag cut", bad_vlan_cut, NM_DROP_TRUNC_ETH},
    {"unknown ethertype", bad_ethertype, NM_DROP_ETHERTYPE},
    {"unknown ethertype inside VLAN", bad_vlan_inner_ethertype, NM_DROP_ETHERTYPE},
    {"ARP 27 bytes", bad_arp_short, NM_DROP_TRUNC_ARP},
    {"ARP hlen 8", bad_arp_hlen, NM_DROP_BAD_ARP},
    {"ARP plen 16", bad_arp_plen, NM_DROP_BAD_ARP},
    {"ARP hardware type 6", bad_arp_hw, NM_DROP_BAD_ARP},
    {"ARP opcode 3", bad_arp_op, NM_DROP_BAD_ARP},
    {"IPv4 header 19 bytes", bad_ip4_short, NM_DROP_TRUNC_IP4},
    {"IPv4 version 6", bad_ip4_version, NM_DROP_BAD_IP4_HDR},
    {"IPv4 IHL 4", bad_ip4_ihl, NM_DROP_BAD_IP4_HDR},
    {"IPv4 total length < IHL", bad_ip4_total_below_ihl, NM_DROP_BAD_IP4_HDR},
    {"IPv4 total length > frame", bad_ip4_total_past_frame, NM_DROP_TRUNC_IP4},
    {"IPv4 IHL past frame", bad_ip4_ihl_past_frame, NM_DROP_TRUNC_IP4},
    {"IPv4 checksum flipped", bad_ip4_csum, NM_DROP_BAD_IP4_CSUM},
    {"IPv4 TTL changed, checksum not", bad_ip4_csum_ttl_changed, NM_DROP_BAD_IP4_CSUM},
    {"TCP data offset 4", bad_tcp_doff_small, NM_DROP_BAD_L4_HDR},
    {"TCP data offset past IP payload", bad_tcp_doff_past_ip, NM_DROP_TRUNC_L4},
    {"TCP header cut by IP length", bad_tcp_cut_by_ip_len, NM_DROP_TRUNC_L4},
    {"UDP length > IP payload", bad_udp_len_past_payload, NM_DROP_BAD_L4_HDR},
    {"UDP length < 8", bad_udp_len_below_header, NM_DROP_BAD_L4_HDR},
    {"UDP header 7 bytes", bad_udp_cut, NM_DROP_TRUNC_L4},
    {"ICMP header 4 bytes", bad_icmp_cut, NM_DROP_TRUNC_L4},
    {"IPv6 header 39 bytes", bad_ip6_short, NM_DROP_TRUNC_IP6},
    {"IPv6 version 4", bad_ip6_version, NM_DROP_BAD_IP6_HDR},
    {"IPv6 payload length past frame", bad_ip6_payload_past_frame, NM_DROP_TRUNC_IP6},
    {"IPv6 nine extension headers", bad_ip6_chain_too_long, NM_DROP_BAD_IP6_HDR},
    {"IPv6 extension header past payload", bad_ip6_ext_past_payload, NM_DROP_BAD_IP6_HDR},
    {"IPv6 extension header cut", bad_ip6_ext_cut, NM_DROP_BAD_IP6_HDR},
    {"IPv6 TCP header cut by payload length", bad_ip6_l4_cut, NM_DROP_TRUNC_L4},
};

Test(pkt_invalid, each_bad_frame_gives_its_drop_reason)
{
	for (size_t i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
		uint8_t f[FRAME_MAX];
		struct nm_pkt_meta meta;
		uint32_t len = bad_frames[i].build(f);
		int rc = parse(f, len, &meta);

		cr_expect_eq(rc, -(int)bad_frames[i].want, "%s: got %d (%s), want %s",
			     bad_frames[i].what, rc,
			     rc < 0 ? nm_drop_name((unsigned int)-rc) : "ok",
			     nm_drop_name(bad_frames[i].want));
	}
}

/* ---- ARP --------------------------------------------------------------- */

Test(pkt_arp, request_gives_addresses_and_opcode)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_ARP);

	len += put_arp(f + len, 1);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_ARP);
	cr_assert_eq(meta.cls, NM_PKT_ARP);
	cr_assert_eq(meta.arp_op, 1);
	cr_assert_eq(memcmp(&meta.src.v4, pod_a, 4), 0);
	cr_assert_eq(memcmp(&meta.dst.v4, pod_b, 4), 0);
	cr_assert_eq(meta.l2_len, 14);
	cr_assert_eq(meta.l3_len, 28);
	cr_assert_eq(meta.flags & NM_PKT_F_L4, 0);
}

Test(pkt_arp, reply_with_ethernet_padding)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_ARP);

	len += put_arp(f + len, 2);
	memset(f + len, 0, 60 - len); /* padded to the Ethernet minimum */
	cr_assert_eq(parse(f, 60, &meta), NM_PKT_ARP);
	cr_assert_eq(meta.arp_op, 2);
	cr_assert_eq(memcmp(&meta.src.v4, pod_a, 4), 0);
	cr_assert_eq(memcmp(&meta.dst.v4, pod_b, 4), 0);
}

Test(pkt_arp, inside_vlan)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth_vlan(f, 7, ETH_ARP);

	len += put_arp(f + len, 1);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_ARP);
	cr_assert_eq(meta.l2_len, 18);
	cr_assert_eq(meta.arp_op, 1);
}

/* ---- IPv4 -------------------------------------------------------------- */

Test(pkt_ipv4, tcp_gives_ports_flags_and_lengths)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = build_tcp4(f);

	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.ip_proto, IPPROTO_TCP);
	cr_assert_eq(meta.sport, 40000);
	cr_assert_eq(meta.dport, 80);
	cr_assert_eq(meta.tcp_flags, TCP_SYN | TCP_ACK);
	cr_assert_eq(meta.l2_len, 14);
	cr_assert_eq(meta.l3_len, 20);
	cr_assert_eq(meta.l4_len, 20);
	cr_assert_eq(meta.ip_len, 46);
	cr_assert_eq(meta.ttl, 64);
	cr_assert_eq(meta.flags, NM_PKT_F_L4);
	cr_assert_eq(memcmp(&meta.src.v4, pod_a, 4), 0);
	cr_assert_eq(memcmp(&meta.dst.v4, pod_b, 4), 0);
}

Test(pkt_ipv4, tcp_options_count_in_l4_len)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	len += put_ip4(f + len, 5, IPPROTO_TCP, 20 + 32, 0);
	len += put_tcp(f + len, 1, 2, TCP_SYN, 8);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.l4_len, 32);
	cr_assert_eq(meta.tcp_flags, TCP_SYN);
}

Test(pkt_ipv4, udp_gives_ports)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = build_udp4(f);

	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.ip_proto, IPPROTO_UDP);
	cr_assert_eq(meta.sport, 5353);
	cr_assert_eq(meta.dport, 53);
	cr_assert_eq(meta.l4_len, 8);
	cr_assert_eq(meta.ip_len, 32);
	cr_assert_eq(meta.flags, NM_PKT_F_L4);
}

Test(pkt_ipv4, udp_inside_vlan)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth_vlan(f, 100, ETH_IPV4);

	len += put_ip4(f + len, 5, IPPROTO_UDP, 20 + 8, 0);
	len += put_udp(f + len, 68, 67, 8);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.l2_len, 18);
	cr_assert_eq(meta.l3_len, 20);
	cr_assert_eq(meta.sport, 68);
	cr_assert_eq(meta.dport, 67);
	cr_assert_eq(memcmp(&meta.src.v4, pod_a, 4), 0);
}

Test(pkt_ipv4, icmp_echo_gives_type_code_and_identifier)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	len += put_ip4(f + len, 5, IPPROTO_ICMP, 20 + 8 + 8, 0);
	len += put_icmp(f + len, 8, 0, 0xbeef, 1);
	memset(f + len, 0xa5, 8);
	len += 8;
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.ip_proto, IPPROTO_ICMP);
	cr_assert_eq(meta.sport, 8 << 8 | 0);
	cr_assert_eq(meta.dport, 0xbeef);
	cr_assert_eq(meta.l4_len, 8);
	cr_assert_eq(meta.flags, NM_PKT_F_L4);
}

Test(pkt_ipv4, icmp_unreachable_gives_type_and_code)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	len += put_ip4(f + len, 5, IPPROTO_ICMP, 20 + 8, 0);
	len += put_icmp(f + len, 3, 4, 0, 1400); /* fragmentation needed, MTU 1400 */
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.sport, 3 << 8 | 4);
}

Test(pkt_ipv4, options_move_l4)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	len += put_ip4(f + len, 6, IPPROTO_TCP, 24 + 20, 0);
	len += put_tcp(f + len, 1234, 5678, TCP_ACK, 5);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.l3_len, 24);
	cr_assert_eq(meta.sport, 1234);
	cr_assert_eq(meta.dport, 5678);
	cr_assert_eq(meta.tcp_flags, TCP_ACK);
}

Test(pkt_ipv4, other_transport_is_carried_without_l4)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	len += put_ip4(f + len, 5, 47 /* GRE */, 20 + 4, 0);
	memset(f + len, 0, 4);
	len += 4;
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.ip_proto, 47);
	cr_assert_eq(meta.flags, 0);
	cr_assert_eq(meta.l4_len, 0);
}

Test(pkt_ipv4, ethernet_padding_past_total_length_is_accepted)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	len += put_ip4(f + len, 5, IPPROTO_UDP, 20 + 8 + 2, 0);
	len += put_udp(f + len, 1000, 2000, 8 + 2);
	memset(f + len, 0xee, 60 - len); /* padding: must not be read as payload */
	cr_assert_eq(parse(f, 60, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.ip_len, 30);
	cr_assert_eq(meta.sport, 1000);
	cr_assert_eq(meta.dport, 2000);
}

Test(pkt_ipv4, df_flag_is_reported_and_l4_parsed)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	len += put_ip4(f + len, 5, IPPROTO_TCP, 40, IP4_DF);
	len += put_tcp(f + len, 1, 2, TCP_SYN, 5);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.flags, NM_PKT_F_DF | NM_PKT_F_L4);
	cr_assert_eq(meta.sport, 1);
}

/* Fragments: flags, and whether the transport header is read. */
static const struct {
	const char *what;
	uint16_t frag; /* IPv4 flags and offset field */
	uint8_t want_flags;
} frag_cases[] = {
    {"not a fragment", 0, NM_PKT_F_L4},
    {"first fragment (MF, offset 0)", IP4_MF, NM_PKT_F_FRAG | NM_PKT_F_FIRST_FRAG},
    {"middle fragment (MF, offset 185)", IP4_MF | 185, NM_PKT_F_FRAG},
    {"last fragment (offset 185)", 185, NM_PKT_F_FRAG},
    {"largest offset", 0x1fff, NM_PKT_F_FRAG},
    {"DF, not a fragment", IP4_DF, NM_PKT_F_DF | NM_PKT_F_L4},
    {"DF and MF", IP4_DF | IP4_MF, NM_PKT_F_DF | NM_PKT_F_FRAG | NM_PKT_F_FIRST_FRAG},
};

Test(pkt_ipv4, fragment_flags_table)
{
	for (size_t i = 0; i < sizeof(frag_cases) / sizeof(frag_cases[0]); i++) {
		uint8_t f[FRAME_MAX];
		struct nm_pkt_meta meta;
		uint32_t len = put_eth(f, ETH_IPV4);

		len += put_ip4(f + len, 5, IPPROTO_UDP, 20 + 8, frag_cases[i].frag);
		len += put_udp(f + len, 7, 9, 8);
		cr_expect_eq(parse(f, len, &meta), NM_PKT_IPV4, "%s", frag_cases[i].what);
		cr_expect_eq(meta.flags, frag_cases[i].want_flags, "%s: flags 0x%x",
			     frag_cases[i].what, meta.flags);
		cr_expect_eq(meta.ip_proto, IPPROTO_UDP, "%s", frag_cases[i].what);
	}
}

Test(pkt_ipv4, non_first_fragment_payload_is_not_read_as_l4)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV4);

	/* 3 bytes of payload: too short for a UDP header, fine for a fragment. */
	len += put_ip4(f + len, 5, IPPROTO_UDP, 20 + 3, 100);
	memset(f + len, 0xff, 3);
	len += 3;
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV4);
	cr_assert_eq(meta.flags, NM_PKT_F_FRAG);
	cr_assert_eq(meta.sport, 0);
}

/* ---- IPv6 -------------------------------------------------------------- */

Test(pkt_ipv6, tcp_gives_addresses_ports_and_lengths)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = build_tcp6(f);

	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.ip_proto, IPPROTO_TCP);
	cr_assert_eq(memcmp(meta.src.v6, v6_a, 16), 0);
	cr_assert_eq(memcmp(meta.dst.v6, v6_b, 16), 0);
	cr_assert_eq(meta.sport, 443);
	cr_assert_eq(meta.dport, 50000);
	cr_assert_eq(meta.tcp_flags, TCP_ACK);
	cr_assert_eq(meta.ttl, 255);
	cr_assert_eq(meta.l2_len, 14);
	cr_assert_eq(meta.l3_len, 40);
	cr_assert_eq(meta.l4_len, 20);
	cr_assert_eq(meta.ip_len, 60);
	cr_assert_eq(meta.flags, NM_PKT_F_L4);
}

Test(pkt_ipv6, hop_by_hop_and_first_fragment_then_udp)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV6);

	len += put_ip6(f + len, IPPROTO_HOPOPTS, 8 + 8 + 8);
	len += put_ext(f + len, IPPROTO_FRAGMENT, 0);
	len += put_frag6(f + len, IPPROTO_UDP, 0, 1);
	len += put_udp(f + len, 4000, 4001, 8);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.ip_proto, IPPROTO_UDP);
	cr_assert_eq(meta.l3_len, 40 + 8 + 8);
	cr_assert_eq(meta.flags, NM_PKT_F_FRAG | NM_PKT_F_FIRST_FRAG | NM_PKT_F_L4);
	cr_assert_eq(meta.sport, 4000);
	cr_assert_eq(meta.dport, 4001);
}

Test(pkt_ipv6, hop_by_hop_and_later_fragment_stops_at_fragment)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV6);

	len += put_ip6(f + len, IPPROTO_HOPOPTS, 8 + 8 + 3);
	len += put_ext(f + len, IPPROTO_FRAGMENT, 0);
	len += put_frag6(f + len, IPPROTO_TCP, 181, 0);
	memset(f + len, 0, 3);
	len += 3;
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.ip_proto, IPPROTO_TCP);
	cr_assert_eq(meta.l3_len, 40 + 8 + 8);
	cr_assert_eq(meta.flags, NM_PKT_F_FRAG);
}

Test(pkt_ipv6, longer_extension_headers_are_skipped_by_their_length)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV6);

	len += put_ip6(f + len, IPPROTO_ROUTING, 24 + 16 + 8);
	len += put_ext(f + len, IPPROTO_DSTOPTS, 2);
	len += put_ext(f + len, IPPROTO_UDP, 1);
	len += put_udp(f + len, 9, 10, 8);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.l3_len, 40 + 24 + 16);
	cr_assert_eq(meta.sport, 9);
}

Test(pkt_ipv6, eight_extension_headers_are_accepted)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV6);
	uint32_t ip = len;

	len += put_ip6(f + len, IPPROTO_DSTOPTS, 8 * 8 + 8);
	for (int i = 0; i < 8; i++)
		len += put_ext(f + len, i < 7 ? IPPROTO_DSTOPTS : IPPROTO_UDP, 0);
	len += put_udp(f + len, 1, 2, 8);
	cr_assert_eq(len - ip - 40, 8 * 8 + 8);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.l3_len, 40 + 64);
	cr_assert_eq(meta.flags, NM_PKT_F_L4);
}

Test(pkt_ipv6, icmpv6_echo_gives_type_code_and_identifier)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV6);

	len += put_ip6(f + len, IPPROTO_ICMPV6, 8);
	len += put_icmp(f + len, 128, 0, 0x4242, 7);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.ip_proto, IPPROTO_ICMPV6);
	cr_assert_eq(meta.sport, 128 << 8);
	cr_assert_eq(meta.dport, 0x4242);
	cr_assert_eq(meta.l4_len, 8);
}

Test(pkt_ipv6, no_next_header_has_no_l4)
{
	uint8_t f[FRAME_MAX];
	struct nm_pkt_meta meta;
	uint32_t len = put_eth(f, ETH_IPV6);

	len += put_ip6(f + len, IPPROTO_NONE, 0);
	cr_assert_eq(parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.ip_proto, IPPROTO_NONE);
	cr_assert_eq(meta.flags, 0);
	cr_assert_eq(meta.ip_len, 40);
}

Test(pkt_ipv6, largest_payload_length_is_not_truncated)
{
	uint32_t len = 14 + 40 + 65535;
	uint8_t *f = calloc(1, len);
	struct nm_pkt_meta meta;

	cr_assert_not_null(f);
	put_eth(f, ETH_IPV6);
	put_ip6(f + 14, IPPROTO_NONE, 65535);
	cr_assert_eq(nm_pkt_parse(f, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.ip_len, 40 + 65535);
	free(f);
}

/* ---- nm_pkt_parse_partial ---------------------------------------------- */

/* Only f[0..cap) is copied: a read past cap trips ASan. */
static int
parse_partial(const uint8_t *f, uint32_t cap, uint32_t len, struct nm_pkt_meta *meta)
{
	uint32_t n = cap < len ? cap : len;
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	cr_assert_not_null(copy);
	memcpy(copy, f, n);
	rc = nm_pkt_parse_partial(copy, cap, len, meta);
	free(copy);
	return rc;
}

Test(pkt_partial, cap_short_of_headers_is_not_contiguous)
{
	uint8_t f[FRAME_MAX];
	uint32_t len = build_tcp4(f);
	uint32_t hdr = 14 + 20 + 20;
	struct nm_pkt_meta full, meta;

	cr_assert_eq(parse(f, len, &full), NM_PKT_IPV4);
	for (uint32_t cap = 0; cap < hdr; cap++)
		cr_assert_eq(parse_partial(f, cap, len, &meta), -NM_DROP_NOT_CONTIGUOUS, "cap %u",
			     cap);
	for (uint32_t cap = hdr; cap <= len; cap++) {
		cr_assert_eq(parse_partial(f, cap, len, &meta), NM_PKT_IPV4, "cap %u", cap);
		cr_assert_eq(memcmp(&meta, &full, sizeof(meta)), 0, "cap %u", cap);
	}
}

Test(pkt_partial, cap_beyond_len_is_clamped)
{
	uint8_t f[FRAME_MAX];
	uint32_t len = build_tcp6(f);
	struct nm_pkt_meta meta;

	cr_assert_eq(parse_partial(f, UINT32_MAX, len, &meta), NM_PKT_IPV6);
	cr_assert_eq(meta.sport, 443);
	cr_assert_eq(parse_partial(f, UINT32_MAX, 13, &meta), -NM_DROP_TRUNC_ETH);
}

Test(pkt_partial, lengths_are_checked_against_len_not_cap)
{
	uint8_t f[FRAME_MAX];
	uint32_t len = build_udp4(f);
	struct nm_pkt_meta meta;

	/* Headers within cap, UDP length past the IP payload: still a bad header. */
	wr16(f + 34 + 4, 8 + 5);
	cr_assert_eq(parse_partial(f, 42, len, &meta), -NM_DROP_BAD_L4_HDR);
	/* IP total length past len: truncated, whatever cap says. */
	build_udp4(f);
	cr_assert_eq(parse_partial(f, 42, len - 1, &meta), -NM_DROP_TRUNC_IP4);
}

/* ---- drop reason names ------------------------------------------------- */

Test(pkt_drop, none_and_out_of_range_are_unknown)
{
	cr_assert_str_eq(nm_drop_name(NM_DROP_NONE), "unknown");
	cr_assert_str_eq(nm_drop_help(NM_DROP_NONE), "unknown");
	cr_assert_str_eq(nm_drop_name(NM_DROP_MAX), "unknown");
	cr_assert_str_eq(nm_drop_help(NM_DROP_MAX), "unknown");
	cr_assert_str_eq(nm_drop_name(~0u), "unknown");
	cr_assert_str_eq(nm_drop_help(~0u), "unknown");
}

Test(pkt_drop, spoofed_source_has_its_name_and_help)
{
	cr_assert_str_eq(nm_drop_name(NM_DROP_SPOOFED_SRC), "spoofed_source");
	cr_assert_str_eq(nm_drop_help(NM_DROP_SPOOFED_SRC), "source address is not the pod's own");
}

Test(pkt_drop, every_reason_has_a_distinct_name_and_help)
{
	for (unsigned int r = 1; r < NM_DROP_MAX; r++) {
		cr_assert_str_neq(nm_drop_name(r), "unknown", "reason %u", r);
		cr_assert_gt(strlen(nm_drop_help(r)), 0, "reason %u", r);
		for (unsigned int q = 1; q < r; q++)
			cr_assert_str_neq(nm_drop_name(r), nm_drop_name(q), "reasons %u, %u", q, r);
	}
}
