/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the normalised flow key (include/nodemesh/flowkey.h): both
 * directions of a connection give the same key, different connections do
 * not, and IPv4 and IPv6 keys never collide.
 */
#include <string.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>

#include "nodemesh/flowkey.h"

static struct nm_pkt_meta
v4(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t proto)
{
	struct nm_pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.cls = NM_PKT_IPV4;
	m.ip_proto = proto;
	m.flags = NM_PKT_F_L4;
	m.sport = sport;
	m.dport = dport;
	cr_assert_eq(inet_pton(AF_INET, src, &m.src.v4), 1);
	cr_assert_eq(inet_pton(AF_INET, dst, &m.dst.v4), 1);
	return m;
}

static struct nm_pkt_meta
v6(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t proto)
{
	struct nm_pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.cls = NM_PKT_IPV6;
	m.ip_proto = proto;
	m.flags = NM_PKT_F_L4;
	m.sport = sport;
	m.dport = dport;
	cr_assert_eq(inet_pton(AF_INET6, src, m.src.v6), 1);
	cr_assert_eq(inet_pton(AF_INET6, dst, m.dst.v6), 1);
	return m;
}

Test(flowkey, both_directions_share_a_key)
{
	struct nm_pkt_meta a = v4("198.18.0.2", 40000, "198.18.0.1", 80, 6);
	struct nm_pkt_meta b = v4("198.18.0.1", 80, "198.18.0.2", 40000, 6);
	struct nm_flow_key ka, kb;

	bool ra = nm_flow_key_make(&ka, &a);
	bool rb = nm_flow_key_make(&kb, &b);
	cr_assert_eq(memcmp(&ka, &kb, sizeof(ka)), 0);
	cr_assert_neq(ra, rb, "exactly one direction is the reverse");
	/* 198.18.0.1 sorts first: the packet from .2 runs hi -> lo. */
	cr_assert(ra);
	cr_assert_eq(ka.port_lo, 80);
	cr_assert_eq(ka.port_hi, 40000);
	cr_assert_eq(ka.proto, 6);
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1};
	cr_assert_arr_eq(ka.addr_lo, mapped, 16);
}

Test(flowkey, same_address_orders_by_port)
{
	struct nm_pkt_meta a = v4("198.18.0.1", 5000, "198.18.0.1", 4000, 17);
	struct nm_flow_key k;

	cr_assert(nm_flow_key_make(&k, &a));
	cr_assert_eq(k.port_lo, 4000);
	cr_assert_eq(k.port_hi, 5000);
}

Test(flowkey, different_connections_differ)
{
	static const struct {
		const char *src;
		uint16_t sport;
		const char *dst;
		uint16_t dport;
		uint8_t proto;
	} cases[] = {
	    {"198.18.0.2", 40001, "198.18.0.1", 80, 6},	 /* other source port */
	    {"198.18.0.3", 40000, "198.18.0.1", 80, 6},	 /* other source */
	    {"198.18.0.2", 40000, "198.18.0.1", 81, 6},	 /* other port */
	    {"198.18.0.2", 40000, "198.18.0.1", 80, 17}, /* other protocol */
	};
	struct nm_pkt_meta base = v4("198.18.0.2", 40000, "198.18.0.1", 80, 6);
	struct nm_flow_key kb, k;

	nm_flow_key_make(&kb, &base);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_pkt_meta m =
		    v4(cases[i].src, cases[i].sport, cases[i].dst, cases[i].dport, cases[i].proto);
		nm_flow_key_make(&k, &m);
		cr_assert_neq(memcmp(&k, &kb, sizeof(k)), 0, "case %zu collides", i);
	}
}

Test(flowkey, icmp_echo_request_and_reply_match)
{
	/* parser: sport = type << 8 | code, dport = identifier */
	struct nm_pkt_meta req = v4("198.18.0.1", 8 << 8, "198.18.0.2", 0x1234, 1);
	struct nm_pkt_meta rep = v4("198.18.0.2", 0 << 8, "198.18.0.1", 0x1234, 1);
	struct nm_flow_key a, b;

	nm_flow_key_make(&a, &req);
	nm_flow_key_make(&b, &rep);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert_eq(a.port_lo, 0x1234);
}

Test(flowkey, ipv6_keys_and_no_collision_with_mapped_ipv4)
{
	struct nm_pkt_meta a = v6("2001:db8::2", 1000, "2001:db8::1", 443, 6);
	struct nm_pkt_meta b = v6("2001:db8::1", 443, "2001:db8::2", 1000, 6);
	struct nm_pkt_meta c = v4("198.18.0.1", 443, "198.18.0.2", 1000, 6);
	struct nm_pkt_meta d = v6("::ffff:198.18.0.1", 443, "::ffff:198.18.0.2", 1000, 6);
	struct nm_flow_key ka, kb, kc, kd;

	nm_flow_key_make(&ka, &a);
	nm_flow_key_make(&kb, &b);
	nm_flow_key_make(&kc, &c);
	nm_flow_key_make(&kd, &d);
	cr_assert_eq(memcmp(&ka, &kb, sizeof(ka)), 0);
	cr_assert_neq(memcmp(&ka, &kc, sizeof(ka)), 0);
	/* A literal ::ffff:a.b.c.d IPv6 packet is the same endpoint pair as IPv4; that is
	 * acceptable because a pod port carries one family per address. */
	cr_assert_eq(memcmp(&kc, &kd, sizeof(kc)), 0);
}

Test(flowkey, portless_transport_and_fragments_use_port_zero)
{
	struct nm_pkt_meta m = v4("198.18.0.1", 1, "198.18.0.2", 2, 47 /* GRE */);
	struct nm_flow_key k;

	m.flags = 0; /* no L4 parsed */
	nm_flow_key_make(&k, &m);
	cr_assert_eq(k.port_lo, 0);
	cr_assert_eq(k.port_hi, 0);
	cr_assert_eq(k.proto, 47);
	for (size_t i = 0; i < sizeof(k.pad); i++)
		cr_assert_eq(k.pad[i], 0);
}
