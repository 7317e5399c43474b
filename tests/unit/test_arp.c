/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of proxy ARP (dataplane/arp.c): the in-place reply to a pod's
 * request and the request the gateway sends to learn a pod's MAC. Frames
 * are written and checked byte by byte against RFC 826 offsets, not
 * through DPDK's structs, so a wrong field in arp.c cannot be mirrored
 * here. Mbufs come from a small pool in an in-memory EAL (Criterion forks
 * one process per test).
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "arp.h"
#include "nodemesh/dataplane-t.h"
#include "frames.h"
#include "unit_eal.h"

#define ARP_FRAME_LEN 42 /* 14 Ethernet + 28 ARP (Ethernet/IPv4) */

static const uint8_t POD_MAC[6] = {0x02, 0xaa, 0x00, 0x00, 0x00, 0x01};
static const uint8_t GW_MAC[6] = {0x02, 0x0a, 0x00, 0x00, 0x00, 0x01};
static const uint8_t POD_IP[4] = {198, 18, 0, 1};
static const uint8_t GW_IP[4] = {169, 254, 1, 1};
static const uint8_t OTHER_IP[4] = {198, 18, 0, 2};

static struct rte_mempool *pool;

static void
eal_up(void)
{
	nm_test_eal_up();
	pool = rte_pktmbuf_pool_create("arp_test", 64, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	cr_assert_not_null(pool);
}

TestSuite(arp, .init = eal_up);

static void
assert_bytes(const uint8_t *got, const uint8_t *want, size_t len)
{
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(got[i], want[i], "byte %zu: got 0x%02x, want 0x%02x", i, got[i],
			     want[i]);
}

/* ---- the gateway address ----------------------------------------------- */

/*
 * BUG (nodemesh/dataplane-t.h, NM_GATEWAY_IP): DPDK 22.11's RTE_IPV4(a, b, c, d)
 * shifts ((a) & 0xff) << 24 as an int and casts afterwards, so
 * RTE_IPV4(169, 254, 1, 1) overflows int: undefined (C11 6.5.7p4). Under
 * -Db_sanitize=undefined, arp.c, icmp.c and worker.c abort on it ("left
 * shift of 169 by 24 places cannot be represented in type 'int'"), which
 * fails most of test_arp, test_icmp and test_worker. This test fails under
 * UBSan for that reason alone, and passes once the constant has an unsigned
 * first octet (RTE_IPV4(169u, 254, 1, 1)).
 */
Test(arp, gateway_ip_constant_is_defined_behaviour)
{
	uint32_t gw = rte_cpu_to_be_32(NM_GATEWAY_IP);

	cr_assert_arr_eq(&gw, GW_IP, 4);
}

/* ---- nm_arp_request ---------------------------------------------------- */

Test(arp, request_returns_null_when_pool_is_empty)
{
	struct rte_mempool *tiny = rte_pktmbuf_pool_create(
	    "arp_tiny", 2, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	struct rte_mbuf *held[2];
	struct rte_ether_addr gw;

	cr_assert_not_null(tiny);
	cr_assert_eq(rte_pktmbuf_alloc_bulk(tiny, held, 2), 0);
	memcpy(gw.addr_bytes, GW_MAC, 6);
	cr_assert_null(nm_arp_request(tiny, &gw, 0));
	rte_pktmbuf_free_bulk(held, 2);
	rte_mempool_free(tiny);
}

Test(arp, request_is_broadcast_from_gateway_for_target)
{
	struct rte_ether_addr gw;
	uint32_t target;
	uint8_t want[ARP_FRAME_LEN];
	static const uint8_t zero_mac[6] = {0};

	memcpy(gw.addr_bytes, GW_MAC, 6);
	memcpy(&target, POD_IP, 4); /* network order, as pod specs hold it */
	struct rte_mbuf *m = nm_arp_request(pool, &gw, target);

	cr_assert_not_null(m);
	cr_assert_eq(m->nb_segs, 1);
	cr_assert_eq(rte_pktmbuf_pkt_len(m), ARP_FRAME_LEN);
	cr_assert_eq(rte_pktmbuf_data_len(m), ARP_FRAME_LEN);
	cr_assert_eq(arp_frame(want, 0, BCAST, GW_MAC, 1, GW_MAC, GW_IP, zero_mac, POD_IP),
		     ARP_FRAME_LEN);
	assert_bytes(rte_pktmbuf_mtod(m, const uint8_t *), want, ARP_FRAME_LEN);
	rte_pktmbuf_free(m);
}

/* ---- nm_arp_reply_inplace ---------------------------------------------- */

/*
 * Requests a pod sends and the reply each must become. Padding (frames
 * shorter than 60 bytes are padded on the wire) and an 802.1Q tag must be
 * left as they are.
 */
static const struct {
	const char *what;
	uint16_t vid;
	const uint8_t *target; /* address asked for */
	size_t pad;	       /* zero bytes after the ARP payload */
} reply_cases[] = {
    {"gateway address", 0, GW_IP, 0},
    {"another pod's address (proxy ARP)", 0, OTHER_IP, 0},
    {"padded to 60 bytes", 0, GW_IP, 18},
    {"802.1Q tagged, l2_len 18", 7, GW_IP, 0},
};

Test(arp, reply_inplace_answers_request)
{
	static const uint8_t zero_mac[6] = {0};
	struct rte_ether_addr gw;

	memcpy(gw.addr_bytes, GW_MAC, 6);
	for (size_t i = 0; i < RTE_DIM(reply_cases); i++) {
		uint8_t req[64] = {0}, want[64] = {0};
		size_t len = arp_frame(req, reply_cases[i].vid, BCAST, POD_MAC, 1, POD_MAC, POD_IP,
				       zero_mac, reply_cases[i].target);
		size_t wlen = arp_frame(want, reply_cases[i].vid, POD_MAC, GW_MAC, 2, GW_MAC,
					reply_cases[i].target, POD_MAC, POD_IP);
		uint16_t l2_len = reply_cases[i].vid != 0 ? 18 : 14;

		cr_assert_eq(len, wlen);
		len += reply_cases[i].pad;
		struct rte_mbuf *m = mbuf_of(pool, req, len);

		nm_arp_reply_inplace(m, l2_len, &gw);

		cr_assert_eq(rte_pktmbuf_pkt_len(m), len, "%s: length changed",
			     reply_cases[i].what);
		const uint8_t *got = rte_pktmbuf_mtod(m, const uint8_t *);
		for (size_t b = 0; b < len; b++)
			cr_assert_eq(got[b], want[b], "%s: byte %zu: got 0x%02x, want 0x%02x",
				     reply_cases[i].what, b, got[b], want[b]);
		rte_pktmbuf_free(m);
	}
}

Test(arp, reply_inplace_field_by_field)
{
	/* The same reply as above, spelled out per RFC 826 field for the reader. */
	static const uint8_t zero_mac[6] = {0};
	struct rte_ether_addr gw;
	uint8_t req[ARP_FRAME_LEN];

	memcpy(gw.addr_bytes, GW_MAC, 6);
	arp_frame(req, 0, BCAST, POD_MAC, 1, POD_MAC, POD_IP, zero_mac, GW_IP);
	struct rte_mbuf *m = mbuf_of(pool, req, sizeof(req));
	nm_arp_reply_inplace(m, 14, &gw);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	cr_assert_arr_eq(f + 0, POD_MAC, 6, "eth dst is not the requester");
	cr_assert_arr_eq(f + 6, GW_MAC, 6, "eth src is not our MAC");
	cr_assert_eq(f[12], 0x08);
	cr_assert_eq(f[13], 0x06);
	cr_assert_eq(f[14], 0x00); /* htype 1 */
	cr_assert_eq(f[15], 0x01);
	cr_assert_eq(f[16], 0x08); /* ptype 0x0800 */
	cr_assert_eq(f[17], 0x00);
	cr_assert_eq(f[18], 6);
	cr_assert_eq(f[19], 4);
	cr_assert_eq(f[20], 0x00); /* opcode 2: reply */
	cr_assert_eq(f[21], 0x02);
	cr_assert_arr_eq(f + 22, GW_MAC, 6, "sha is not our MAC");
	cr_assert_arr_eq(f + 28, GW_IP, 4, "spa is not the address asked for");
	cr_assert_arr_eq(f + 32, POD_MAC, 6, "tha is not the requester's MAC");
	cr_assert_arr_eq(f + 38, POD_IP, 4, "tpa is not the requester's address");
	rte_pktmbuf_free(m);
}
