/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the packet parser (dataplane/pkt.c), in two files of one
 * executable. Frames are built byte by byte (test_pkt_common.c),
 * independently of DPDK's structs, so a wrong offset in the parser cannot
 * be mirrored by a wrong offset in the test. Every frame the parser sees
 * sits in a heap buffer of exactly its length, so a read past the end
 * trips ASan under -Db_sanitize=address. This file: what the parser
 * refuses (every truncation, each malformed frame and its drop reason),
 * nm_pkt_parse_partial, and the drop reasons' names; test_pkt_parse.c the
 * frames it accepts (ARP, IPv4, IPv6) and what it reads from them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include "nodemesh/pkt.h"

#include "test_pkt_common.h"

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
