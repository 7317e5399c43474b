/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the ICMP errors a router sends (dataplane/icmp.c): when
 * RFC 1812 §4.3.2.7 allows one, and the bytes of time exceeded (11/0),
 * host unreachable (3/1) and fragmentation needed (3/4, RFC 1191 next-hop
 * MTU). Offending packets are written byte by byte and every answer is
 * checked at RFC 791/792 offsets with checksums computed here (RFC 1071),
 * not by DPDK. Mbufs come from a pool in an in-memory EAL.
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "icmp.h"
#include "nodemesh/dataplane-t.h"
#include "frames.h"
#include "unit_eal.h"

static const uint8_t POD_MAC[6] = {0x02, 0xaa, 0x00, 0x00, 0x00, 0x01};
static const uint8_t GW_MAC[6] = {0x02, 0x0a, 0x00, 0x00, 0x00, 0x01};
static const uint8_t POD_IP[4] = {198, 18, 0, 1};
static const uint8_t GW_IP[4] = {169, 254, 1, 1};

static struct rte_mempool *pool;

static void
eal_up(void)
{
	nm_test_eal_up();
	pool = rte_pktmbuf_pool_create("icmp_test", 64, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	cr_assert_not_null(pool);
}

TestSuite(icmp, .init = eal_up);

/* An IPv4 frame from the pod: what a router may have to answer. */
struct orig {
	uint8_t dst[4];
	uint8_t src[4];
	uint8_t proto;
	uint16_t frag;	   /* flags and offset field, host order */
	uint8_t opt_words; /* 32-bit option words past the 20-byte header */
	uint8_t l4[16];	   /* first payload bytes (an ICMP type in l4[0]) */
	uint16_t l4_len;   /* payload bytes; the rest of l4[] repeats a pattern */
};

/* Writes the frame; returns its length. */
static size_t
orig_frame(uint8_t *f, const struct orig *o)
{
	size_t ihl = 20 + 4u * o->opt_words;
	uint8_t *p = put_eth(f, GW_MAC, POD_MAC, 0x0800);

	p = put_ip4_opts(p, rd32(o->src), rd32(o->dst), o->proto, 17, 0x1234, o->frag,
			 (uint16_t)(ihl + o->l4_len), o->opt_words);
	for (size_t i = 0; i < o->l4_len; i++)
		p[i] = i < sizeof(o->l4) ? o->l4[i] : (uint8_t)(0xa0 + i);
	return ETH_LEN + ihl + o->l4_len;
}

#define A(a, b, c, d)                                                                              \
	{                                                                                          \
		a, b, c, d                                                                         \
	}
#define UDP_HDR(len)                                                                               \
	{                                                                                          \
		0x30, 0x39, 0x00, 0x35, (uint8_t)((len) >> 8), (uint8_t)(len), 0, 0                \
	}

/* ---- nm_icmp_error_allowed --------------------------------------------- */

static const struct {
	const char *what;
	struct orig o;
	bool allowed;
} allowed_cases[] = {
    /* RFC 1812 §4.3.2.7: never. */
    {"dst limited broadcast",
     {A(255, 255, 255, 255), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(16), 16},
     false},
    {"dst multicast 224.0.0.1",
     {A(224, 0, 0, 1), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(16), 16},
     false},
    {"dst multicast 239.255.255.250",
     {A(239, 255, 255, 250), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(16), 16},
     false},
    {"src 0.0.0.0", {A(198, 18, 0, 9), A(0, 0, 0, 0), 17, 0, 0, UDP_HDR(16), 16}, false},
    {"src multicast 224.0.0.5",
     {A(198, 18, 0, 9), A(224, 0, 0, 5), 17, 0, 0, UDP_HDR(16), 16},
     false},
    {"non-first fragment (offset 1480)",
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0x2000 | 185, 0, {0}, 16},
     false},
    {"last fragment (offset 8, MF clear)",
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 1, 0, {0}, 16},
     false},
    {"ICMP dest unreachable (3)", {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 0, {3, 1}, 16}, false},
    {"ICMP time exceeded (11)", {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 0, {11, 0}, 16}, false},
    {"ICMP redirect (5)", {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 0, {5, 0}, 16}, false},
    {"ICMP parameter problem (12), behind IP options",
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 2, {12, 0}, 16},
     false},
    /* Allowed. */
    {"ICMP echo request (8)", {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 0, {8, 0}, 16}, true},
    {"ICMP echo reply (0)", {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 0, {0, 0}, 16}, true},
    {"ICMP echo request behind IP options",
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 2, {8, 0}, 16},
     true},
    {"UDP", {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(16), 16}, true},
    {"TCP", {A(198, 18, 0, 9), A(198, 18, 0, 1), 6, 0, 0, {0x30, 0x39, 0x00, 0x50}, 20}, true},
    {"UDP with DF", {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0x4000, 0, UDP_HDR(16), 16}, true},
    {"first fragment (MF, offset 0)",
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0x2000, 0, UDP_HDR(1488), 16},
     true},
};

Test(icmp, error_allowed_follows_rfc1812)
{
	for (size_t i = 0; i < RTE_DIM(allowed_cases); i++) {
		uint8_t f[128];
		size_t len = orig_frame(f, &allowed_cases[i].o);
		struct rte_mbuf *m = mbuf_of(pool, f, len);

		cr_expect_eq(nm_icmp_error_allowed(m, ETH_LEN), allowed_cases[i].allowed,
			     "%s: want %s", allowed_cases[i].what,
			     allowed_cases[i].allowed ? "allowed" : "refused");
		rte_pktmbuf_free(m);
	}
}

Test(icmp, error_allowed_refuses_icmp_without_type_byte)
{
	/* An ICMP packet whose first segment ends at the IP header: no type to look at. */
	struct orig o = {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 0, {8, 0}, 0};
	uint8_t f[64];
	size_t len = orig_frame(f, &o);
	struct rte_mbuf *m = mbuf_of(pool, f, len);

	cr_assert_not(nm_icmp_error_allowed(m, ETH_LEN));
	rte_pktmbuf_free(m);
}

/* ---- nm_icmp_error ----------------------------------------------------- */

Test(icmp, error_returns_null_when_pool_is_empty)
{
	struct rte_mempool *tiny = rte_pktmbuf_pool_create(
	    "icmp_tiny", 2, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	struct rte_mbuf *held[2];
	struct rte_ether_addr gw;
	struct orig o = {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(16), 16};
	uint8_t f[128];
	size_t len = orig_frame(f, &o);
	struct rte_mbuf *m = mbuf_of(pool, f, len);

	cr_assert_not_null(tiny);
	cr_assert_eq(rte_pktmbuf_alloc_bulk(tiny, held, 2), 0);
	memcpy(gw.addr_bytes, GW_MAC, 6);
	cr_assert_null(nm_icmp_error(tiny, m, ETH_LEN, 11, 0, 0, &gw));
	rte_pktmbuf_free_bulk(held, 2);
	rte_pktmbuf_free(m);
	rte_mempool_free(tiny);
}

static const struct {
	const char *what;
	uint8_t type, code;
	uint16_t mtu; /* argument, and bytes 6-7 of the ICMP header */
	struct orig o;
	uint16_t quote; /* original bytes quoted: IP header + 8, or all if shorter */
} error_cases[] = {
    {"time exceeded 11/0",
     11,
     0,
     0,
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(40), 40},
     28},
    {"host unreachable 3/1",
     3,
     1,
     0,
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(40), 40},
     28},
    {"fragmentation needed 3/4, MTU 1500",
     3,
     4,
     1500,
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0x4000, 0, UDP_HDR(40), 40},
     28},
    {"fragmentation needed 3/4, MTU 576",
     3,
     4,
     576,
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 6, 0x4000, 0, {0x30, 0x39, 0x00, 0x50}, 40},
     28},
    {"IP options: header of 28 bytes quoted whole",
     11,
     0,
     0,
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0, 2, UDP_HDR(40), 40},
     36},
    {"datagram shorter than header + 8: odd quote of 25",
     3,
     1,
     0,
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 253, 0, 0, {1, 2, 3, 4, 5}, 5},
     25},
    {"echo request",
     11,
     0,
     0,
     {A(198, 18, 0, 9), A(198, 18, 0, 1), 1, 0, 0, {8, 0, 0, 0, 0, 7, 0, 1}, 64},
     28},
};

Test(icmp, error_bytes_match_rfc792)
{
	struct rte_ether_addr gw;

	memcpy(gw.addr_bytes, GW_MAC, 6);
	for (size_t i = 0; i < RTE_DIM(error_cases); i++) {
		const char *what = error_cases[i].what;
		uint8_t f[256];
		size_t flen = orig_frame(f, &error_cases[i].o);
		struct rte_mbuf *o = mbuf_of(pool, f, flen);
		uint16_t quote = error_cases[i].quote;

		struct rte_mbuf *m = nm_icmp_error(pool, o, ETH_LEN, error_cases[i].type,
						   error_cases[i].code, error_cases[i].mtu, &gw);
		cr_assert_not_null(m, "%s", what);
		cr_assert_eq(m->nb_segs, 1, "%s", what);
		cr_assert_eq(rte_pktmbuf_pkt_len(m), ETH_LEN + 20 + 8 + quote, "%s: length %u",
			     what, rte_pktmbuf_pkt_len(m));
		const uint8_t *e = rte_pktmbuf_mtod(m, const uint8_t *);
		const uint8_t *ip = e + ETH_LEN;
		const uint8_t *icmp = ip + 20;

		/* Ethernet: back to the sender, from the gateway. */
		cr_assert_arr_eq(e, POD_MAC, 6, "%s: eth dst is not the original eth src", what);
		cr_assert_arr_eq(e + 6, GW_MAC, 6, "%s: eth src is not the gateway MAC", what);
		cr_assert_eq(rd16(e + 12), 0x0800, "%s", what);

		/* IPv4 (RFC 791). */
		cr_assert_eq(ip[0], 0x45, "%s: version/IHL", what);
		cr_assert_eq(rd16(ip + 2), 20 + 8 + quote, "%s: total length", what);
		cr_assert_eq(rd16(ip + 6) & 0x3fff, 0, "%s: MF/offset set", what);
		cr_assert_eq(ip[8], 64, "%s: TTL", what);
		cr_assert_eq(ip[9], 1, "%s: protocol", what);
		cr_assert_eq(ones_sum(ip, 20), 0xffff, "%s: IPv4 header checksum 0x%04x wrong",
			     what, rd16(ip + 10));
		cr_assert_arr_eq(ip + 12, GW_IP, 4, "%s: src is not 169.254.1.1", what);
		cr_assert_arr_eq(ip + 16, POD_IP, 4, "%s: dst is not the original source", what);

		/* ICMP (RFC 792, RFC 1191 for the MTU). */
		cr_assert_eq(icmp[0], error_cases[i].type, "%s: type", what);
		cr_assert_eq(icmp[1], error_cases[i].code, "%s: code", what);
		cr_assert_eq(rd16(icmp + 4), 0, "%s: unused bytes 4-5", what);
		cr_assert_eq(rd16(icmp + 6), error_cases[i].mtu, "%s: bytes 6-7 = %u", what,
			     rd16(icmp + 6));
		cr_assert_eq(ones_sum(icmp, 8 + quote), 0xffff, "%s: ICMP checksum 0x%04x wrong",
			     what, rd16(icmp + 2));
		const uint8_t *orig_ip = f + ETH_LEN;
		for (uint16_t b = 0; b < quote; b++)
			cr_assert_eq(icmp[8 + b], orig_ip[b],
				     "%s: quoted byte %u: 0x%02x != 0x%02x", what, b, icmp[8 + b],
				     orig_ip[b]);

		rte_pktmbuf_free(m);
		rte_pktmbuf_free(o);
	}
}

Test(icmp, error_leaves_original_untouched)
{
	struct rte_ether_addr gw;
	struct orig o = {A(198, 18, 0, 9), A(198, 18, 0, 1), 17, 0, 0, UDP_HDR(40), 40};
	uint8_t f[128];
	size_t flen = orig_frame(f, &o);
	struct rte_mbuf *om = mbuf_of(pool, f, flen);

	memcpy(gw.addr_bytes, GW_MAC, 6);
	struct rte_mbuf *m = nm_icmp_error(pool, om, ETH_LEN, 3, 1, 0, &gw);
	cr_assert_not_null(m);
	cr_assert_eq(rte_pktmbuf_pkt_len(om), flen);
	cr_assert_arr_eq(rte_pktmbuf_mtod(om, const uint8_t *), f, flen);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(om);
}
