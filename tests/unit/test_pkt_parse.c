/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the packet parser, part two of test_pkt: well-formed
 * frames and what the parser reads from them: ARP (requests, replies,
 * padding, VLAN), IPv4 (TCP, UDP, ICMP, options, padding, fragments and
 * their flags) and IPv6 (TCP, extension header chains, fragments, ICMPv6,
 * no next header, the largest payload length).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include "nodemesh/pkt.h"

#include "test_pkt_common.h"

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
