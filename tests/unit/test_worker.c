/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the worker pipeline (dataplane/worker.c) on in-memory
 * ports (the harness in unit_pipeline.h): a test feeds frames written byte
 * by byte and reads exactly what the dataplane transmitted.
 *
 * Every case asserts the whole drop vector (the expected reason at its
 * count, every other reason at zero) and which TX rings got what.
 */
#include "nodemesh/flow.h"
#include "nodemesh/pkt.h"
#include "rule.h"

/* Every table the harness publishes carries an allow-all policy. */
#include "unit_pipeline.h"

TestSuite(worker, .init = one_worker_up, .fini = node_down);
TestSuite(handoff, .init = two_workers_up, .fini = node_down);

/* ==== invalid frames ===================================================== */

static const struct {
	const char *what;
	uint8_t bytes[64];
	uint8_t len;
	enum nm_drop_reason reason;
} trunc_cases[] = {
    {"13 bytes: no whole Ethernet header",
     {0x02, 0x0a, 0, 0, 0, 1, 0x02, 0xaa, 0, 0, 0, 1, 0x08},
     13,
     NM_DROP_TRUNC_ETH},
    {"802.1Q tag cut short",
     {0x02, 0x0a, 0, 0, 0, 1, 0x02, 0xaa, 0, 0, 0, 1, 0x81, 0x00, 0x00},
     15,
     NM_DROP_TRUNC_ETH},
    {"ARP of 27 bytes",
     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0xaa, 0,    0,	  0,   1,   0x08, 0x06,
      0,    1,	  0x08, 0,    6,    4,	  0,	1,    0x02, 0xaa, 0,   0,   0,	  1,
      198,  18,	  0,	1,    0,    0,	  0,	0,    0,    0,	  169, 254, 1},
     14 + 27,
     NM_DROP_TRUNC_ARP},
    {"IPv4 header of 19 bytes",
     {0x02, 0x0a, 0, 0, 0, 1,  0x02, 0xaa, 0, 0,   0,  1, 0x08, 0x00, 0x45, 0, 0,
      20,   0,	  1, 0, 0, 64, 17,   0,	   0, 198, 18, 0, 1,	198,  18,   0},
     14 + 19,
     NM_DROP_TRUNC_IP4},
    /* total length 100, 28 bytes present; checksum is not reached */
    {"IPv4 total length past the frame end",
     {0x02, 0x0a, 0,  0, 0, 1,	 0x02, 0xaa, 0, 0,   0,	 1, 0x08, 0x00, 0x45, 0, 0,  100, 0,  1, 0,
      0,    64,	  17, 0, 0, 198, 18,   0,    1, 198, 18, 0, 2,	  0x9c, 0x40, 0, 53, 0,	  80, 0, 0},
     14 + 28,
     NM_DROP_TRUNC_IP4},
    /* total length 24: 4 bytes of UDP header; checksum 0xeeac is right for it */
    {"UDP header of 4 bytes",
     {0x02, 0x0a, 0, 0,	 0,  1,	   0x02, 0xaa, 0,  0, 0, 1,   0x08, 0x00, 0x45, 0,    0,    24, 0,
      1,    0,	  0, 64, 17, 0xee, 0xac, 198,  18, 0, 1, 198, 18,   0,	  2,	0x9c, 0x40, 0,	53},
     14 + 24,
     NM_DROP_TRUNC_L4},
    {"IPv6 header of 39 bytes",
     {0x02, 0x0a, 0, 0, 0, 1, 0x02, 0xaa, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 17, 64},
     14 + 39,
     NM_DROP_TRUNC_IP6},
    {"IPv6 payload length past the frame end",
     {0x02, 0x0a, 0, 0, 0, 1, 0x02, 0xaa, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 100, 17, 64},
     14 + 40,
     NM_DROP_TRUNC_IP6},
};

Test(worker, truncated_frames_dropped_with_their_reason)
{
	for (size_t c = 0; c < RTE_DIM(trunc_cases); c++) {
		reset_counters();
		feed(POD_A, trunc_cases[c].bytes, trunc_cases[c].len);
		assert_drops(0, trunc_cases[c].reason, 1);
		cr_assert_eq(live(POD_A)->c.rx_packets, 1, "%s", trunc_cases[c].what);
		cr_assert_eq(live(POD_A)->c.drops, 1, "%s", trunc_cases[c].what);
		assert_nothing_sent();
	}
}

Test(worker, truncated_udp_frame_has_valid_ip_checksum_in_table)
{
	/* Guards the table above: its "UDP header of 4 bytes" row must fail on L4 only. */
	cr_assert_eq(ones_sum(trunc_cases[5].bytes + ETH_LEN, 20), 0xffff);
}

Test(worker, ipv6_not_forwarded)
{
	uint8_t f[128], *p = put_eth(f, PORT_MAC_A, MAC_A, 0x86dd);

	*p++ = 0x60, *p++ = 0, *p++ = 0, *p++ = 0;
	p = put16(p, 16); /* payload: UDP header + 8 bytes */
	*p++ = 17;
	*p++ = 64;
	memset(p, 0, 32);
	p[0] = 0xfd, p[15] = 1, p[16] = 0xfd, p[31] = 2;
	p += 32;
	p = put16(p, 40000);
	p = put16(p, 53);
	p = put16(p, 16);
	p = put16(p, 0);
	memset(p, 0xab, 8);
	p += 8;

	feed(POD_A, f, (size_t)(p - f));
	assert_drops(0, NM_DROP_IPV6_NOT_FORWARDED, 1);
	cr_assert_eq(live(POD_A)->c.drops, 1);
	assert_nothing_sent();
}

Test(worker, vlan_tagged_frames_dropped)
{
	static const struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};
	uint8_t plain[128], tagged[132];
	size_t len = udp_frame(plain, PORT_MAC_A, MAC_A, &s);

	learn_mac(POD_B, MAC_B);
	/* dst, src, 0x8100, TCI (vid 10), then the untagged frame's type and payload. */
	memcpy(tagged, plain, 12);
	put16(tagged + 12, 0x8100);
	put16(tagged + 14, 10);
	memcpy(tagged + 16, plain + 12, len - 12);
	feed(POD_A, tagged, len + 4);

	uint8_t arp[64];
	size_t alen = pod_arp_frame(arp, MAC_A, 1, MAC_A, IP_A, ZERO_MAC, IP_GW);
	memcpy(tagged, arp, 12);
	put16(tagged + 12, 0x8100);
	put16(tagged + 14, 10);
	memcpy(tagged + 16, arp + 12, alen - 12);
	feed(POD_A, tagged, alen + 4);

	assert_drops(0, NM_DROP_VLAN_ON_POD, 2);
	cr_assert_eq(live(POD_A)->c.drops, 2);
	assert_nothing_sent();
}

Test(worker, spoofed_source_dropped)
{
	static const struct udp_spec s = {IP4(198, 18, 0, 77), IP_B, 64, 1, 0, 32, 0};
	uint8_t f[128];

	learn_mac(POD_B, MAC_B);
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_SPOOFED_SRC, 1);
	cr_assert_eq(live(POD_A)->c.drops, 1);
	cr_assert_eq(live(POD_B)->c.tx_packets, 0);
	assert_nothing_sent();
}

Test(worker, b_pod_claiming_a_address_is_spoofing)
{
	/* The source must be the sending pod's own address, not any pod's. */
	static const struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};
	uint8_t f[128];

	learn_mac(POD_B, MAC_B);
	size_t len = udp_frame(f, PORT_MAC_B, MAC_B, &s);
	struct rte_mbuf *m = mbuf_of(node->dp.pool, f, len);
	feed_mbufs(0, POD_B, &m, 1);
	assert_drops(0, NM_DROP_SPOOFED_SRC, 1);
	cr_assert_eq(live(POD_B)->c.drops, 1);
	assert_nothing_sent();
}

/* ==== ARP ================================================================ */

static const struct {
	const char *what;
	uint32_t target;
} arp_answered[] = {
    {"gateway 169.254.1.1", IP_GW},
    {"another pod (proxy ARP)", IP_B},
    {"an address no pod has", IP_NONE},
};

Test(worker, arp_request_answered_on_requesters_port)
{
	for (size_t c = 0; c < RTE_DIM(arp_answered); c++) {
		struct rte_mbuf *out[MAX_OUT];
		uint8_t req[64], want[64];
		size_t len =
		    pod_arp_frame(req, MAC_A, 1, MAC_A, IP_A, ZERO_MAC, arp_answered[c].target);

		reset_counters();
		feed(POD_A, req, len);

		cr_assert_eq(sent_to(POD_B, out), 0, "%s", arp_answered[c].what);
		cr_assert_eq(sent_to(POD_A, out), 1, "%s: no reply on A's port",
			     arp_answered[c].what);
		/* eth dst = A, eth src = our MAC, op 2, sha = our MAC, spa = asked, tha/tpa = A. */
		uint8_t *p = put_eth(want, MAC_A, PORT_MAC_A, 0x0806);
		p = put16(p, 1);
		p = put16(p, 0x0800);
		*p++ = 6;
		*p++ = 4;
		p = put16(p, 2);
		p = put(p, PORT_MAC_A, 6);
		p = put32(p, arp_answered[c].target);
		p = put(p, MAC_A, 6);
		p = put32(p, IP_A);
		cr_assert_eq((size_t)(p - want), len);
		cr_assert_eq(rte_pktmbuf_pkt_len(out[0]), len);
		cr_assert_arr_eq(rte_pktmbuf_mtod(out[0], const uint8_t *), want, len,
				 "%s: reply bytes differ", arp_answered[c].what);
		rte_pktmbuf_free(out[0]);

		assert_drops(0, NM_DROP_NONE, 0);
		cr_assert_eq(node->dp.workers[0]->c.arp_replies, 1);
		cr_assert_eq(live(POD_A)->c.rx_packets, 1);
		cr_assert_eq(live(POD_A)->c.tx_packets, 1);
		cr_assert_eq(live(POD_A)->c.drops, 0);
	}
}

Test(worker, arp_request_for_own_address_dropped)
{
	/* RFC 5227 probe (sender 0.0.0.0) and announcement (sender = target) alike. */
	static const uint32_t senders[] = {0, IP_A};

	for (size_t c = 0; c < RTE_DIM(senders); c++) {
		uint8_t req[64];

		reset_counters();
		size_t len = pod_arp_frame(req, MAC_A, 1, MAC_A, senders[c], ZERO_MAC, IP_A);
		feed(POD_A, req, len);
		assert_drops(0, NM_DROP_ARP_OWN_ADDRESS, 1);
		cr_assert_eq(live(POD_A)->c.drops, 1);
		cr_assert_eq(node->dp.workers[0]->c.arp_replies, 0);
		assert_nothing_sent();
	}
}

Test(worker, arp_reply_from_pod_learns_mac_silently)
{
	uint8_t f[64];

	size_t len = pod_arp_frame(f, MAC_A, 2, MAC_A, IP_A, PORT_MAC_A, IP_GW);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(live(POD_A)->c.drops, 0);
	cr_assert(live(POD_A)->mac_known);
	cr_assert_arr_eq(live(POD_A)->pod_mac.addr_bytes, MAC_A, 6);
	assert_nothing_sent();
}

Test(worker, arp_reply_for_other_address_dropped)
{
	uint8_t f[64];

	size_t len = pod_arp_frame(f, MAC_A, 2, MAC_A, IP_B, PORT_MAC_A, IP_GW);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_ARP_UNEXPECTED, 1);
	cr_assert_eq(live(POD_A)->c.drops, 1);
	assert_nothing_sent();
}

/* ==== IPv4 forwarding ==================================================== */

/*
 * TTL and identification pairs. With A = 198.18.0.1, B = 198.18.0.2 and 32
 * bytes of UDP data the ids give the header checksums shown, so the RFC 1624
 * update in ttl_decrement() crosses the 0x0000/0xffff edge.
 */
static const struct {
	uint8_t ttl;
	uint16_t id;
	uint16_t csum; /* checksum field of the frame A sends */
} fwd_cases[] = {
    {64, 0x1234, 0x0000 /* not checked */},
    {64, 0xee89, 0x0000},
    {64, 0xef89, 0xfeff},
    {64, 0xef88, 0xff00},
    {64, 0xed8a, 0x00ff},
    {2, 0x2d8a, 0xfeff},
    {255, 0x3089, 0xfeff},
    {255, 0x2f89, 0x0000},
};

Test(worker, udp_forwarded_to_b_with_ttl_decremented)
{
	learn_mac(POD_B, MAC_B);
	for (size_t c = 0; c < RTE_DIM(fwd_cases); c++) {
		struct udp_spec s = {IP_A, IP_B, fwd_cases[c].ttl, fwd_cases[c].id, 0, 32, 0};
		struct rte_mbuf *out[MAX_OUT];
		uint8_t f[128];
		size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);

		if (c > 0)
			cr_assert_eq(rd16(f + ETH_LEN + 10), fwd_cases[c].csum, "row %zu: 0x%04x",
				     c, rd16(f + ETH_LEN + 10));
		reset_counters();
		feed(POD_A, f, len);

		assert_drops(0, NM_DROP_NONE, 0);
		cr_assert_eq(sent_to(POD_A, out), 0);
		cr_assert_eq(sent_to(POD_B, out), 1, "row %zu: not forwarded to B", c);
		const uint8_t *g = rte_pktmbuf_mtod(out[0], const uint8_t *);
		const uint8_t *ip = g + ETH_LEN;
		cr_assert_eq(out[0]->nb_segs, 1);
		cr_assert_eq(rte_pktmbuf_pkt_len(out[0]), len);
		cr_assert_arr_eq(g, MAC_B, 6, "eth dst is not B's learnt MAC");
		cr_assert_arr_eq(g + 6, PORT_MAC_B, 6, "eth src is not B's port MAC");
		cr_assert_eq(rd16(g + 12), 0x0800);
		cr_assert_eq(ip[8], fwd_cases[c].ttl - 1, "row %zu: TTL %u", c, ip[8]);
		cr_assert_eq(ones_sum(ip, 20), 0xffff, "row %zu: header checksum 0x%04x wrong", c,
			     rd16(ip + 10));
		/* Everything but TTL and checksum is as A sent it, header and payload. */
		cr_assert_arr_eq(ip, f + ETH_LEN, 8);
		cr_assert_eq(ip[9], 17);
		cr_assert_arr_eq(ip + 12, f + ETH_LEN + 12, len - ETH_LEN - 12);
		rte_pktmbuf_free(out[0]);

		cr_assert_eq(live(POD_A)->c.rx_packets, 1);
		cr_assert_eq(live(POD_A)->c.rx_bytes, len);
		cr_assert_eq(live(POD_B)->c.tx_packets, 1);
		cr_assert_eq(live(POD_B)->c.tx_bytes, len);
		cr_assert_eq(node->dp.workers[0]->c.tx_packets, 1);
		cr_assert_eq(node->dp.workers[0]->c.handoff_out, 0);
	}
}

/* The in-use entry of w's table on the side of the pod in slot, of which there must be one. */
static struct nm_flow *
only_entry_of(const struct nm_worker *w, uint16_t slot)
{
	struct nm_flow *found = NULL;
	uint32_t id = node->dp.pods->pods[slot].id;

	for (uint32_t i = 0; i < w->flows.cap; i++) {
		if (!w->flows.e[i].in_use || w->flows.e[i].hk.pod_id != id)
			continue;
		cr_assert_null(found, "two entries on the side of slot %u", slot);
		found = &w->flows.e[i];
	}
	cr_assert_not_null(found, "no entry on the side of slot %u", slot);
	return found;
}

/*
 * A local connection's source entry links its destination entry, which
 * ingress then takes without a lookup; a wrong link (an entry ended and
 * reused since) costs only the lookup: the packet reaches the right
 * entry and the link is mended.
 */
Test(worker, source_entry_links_the_destination_entry_and_a_wrong_link_is_mended)
{
	struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};
	struct rte_mbuf *out[MAX_OUT];
	struct nm_worker *w = node->dp.workers[0];
	uint8_t f[128];
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);

	learn_mac(POD_B, MAC_B);
	feed(POD_A, f, len);
	cr_assert_eq(sent_to(POD_B, out), 1);
	rte_pktmbuf_free(out[0]);
	struct nm_flow *fa = only_entry_of(w, slot_of[POD_A]);
	struct nm_flow *fb = only_entry_of(w, slot_of[POD_B]);
	cr_assert_eq(nm_flow_linked(&w->flows, fa), fb, "A's entry links B's");
	cr_assert_eq(fb->pkts[NM_DIR_ORIG], 1);

	nm_flow_link(&w->flows, fa, fa); /* in use, another key: as a reused position looks */
	feed(POD_A, f, len);
	cr_assert_eq(sent_to(POD_B, out), 1);
	rte_pktmbuf_free(out[0]);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(fb->pkts[NM_DIR_ORIG], 2, "counted on B's entry, not on the linked one");
	cr_assert_eq(fa->pkts[NM_DIR_ORIG], 2);
	cr_assert_eq(nm_flow_linked(&w->flows, fa), fb, "the link mended");
	cr_assert_eq(w->flows.n, 2, "no third entry");
}

Test(worker, b_mac_learnt_from_bs_own_frame)
{
	struct rte_mbuf *out[MAX_OUT];
	static const struct udp_spec s = {IP_A, IP_B, 64, 7, 0, 32, 0};
	uint8_t f[128];

	cr_assert_not(live(POD_B)->mac_known);
	/* B asks for its gateway: answered, and B's MAC is learnt from the frame. */
	struct rte_mbuf *m =
	    mbuf_of(node->dp.pool, f, pod_arp_frame(f, MAC_B, 1, MAC_B, IP_B, ZERO_MAC, IP_GW));
	feed_mbufs(0, POD_B, &m, 1);
	cr_assert_eq(sent_to(POD_B, out), 1);
	rte_pktmbuf_free(out[0]);
	cr_assert(live(POD_B)->mac_known);

	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(sent_to(POD_B, out), 1);
	cr_assert_arr_eq(rte_pktmbuf_mtod(out[0], const uint8_t *), MAC_B, 6);
	rte_pktmbuf_free(out[0]);
}

Test(worker, b_mac_unknown_is_neighbour_unresolved)
{
	static const struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};
	uint8_t f[128];

	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_NO_MAC, 1);
	cr_assert_eq(live(POD_B)->c.tx_packets, 0);
	assert_nothing_sent();
}

Test(worker, no_pod_for_destination_answers_host_unreachable)
{
	static const struct udp_spec s = {IP_A, IP_NONE, 64, 1, 0, 32, 0};
	struct rte_mbuf *out[MAX_OUT];
	uint8_t f[128];

	learn_mac(POD_B, MAC_B);
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_NO_POD, 1);
	cr_assert_eq(sent_to(POD_B, out), 0);
	cr_assert_eq(sent_to(POD_A, out), 1, "no ICMP on A's port");
	assert_icmp_to_a(out[0], 3, 1, 0, f);
	rte_pktmbuf_free(out[0]);
	cr_assert_eq(node->dp.workers[0]->c.icmp_sent, 1);
	cr_assert_eq(live(POD_A)->c.drops, 1);
	cr_assert_eq(live(POD_A)->c.tx_packets, 1);
}

Test(worker, ttl_expiry_answers_time_exceeded)
{
	static const uint8_t ttls[] = {1, 0};

	learn_mac(POD_B, MAC_B);
	for (size_t c = 0; c < RTE_DIM(ttls); c++) {
		struct udp_spec s = {IP_A, IP_B, ttls[c], 1, 0, 32, 0};
		struct rte_mbuf *out[MAX_OUT];
		uint8_t f[128];

		reset_counters();
		size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
		feed(POD_A, f, len);
		assert_drops(0, NM_DROP_TTL_EXCEEDED, 1);
		cr_assert_eq(sent_to(POD_B, out), 0, "TTL %u forwarded", ttls[c]);
		cr_assert_eq(sent_to(POD_A, out), 1, "TTL %u: no ICMP on A's port", ttls[c]);
		assert_icmp_to_a(out[0], 11, 0, 0, f);
		rte_pktmbuf_free(out[0]);
		cr_assert_eq(live(POD_A)->c.drops, 1);
	}
}

Test(worker, ttl_2_is_forwarded_with_ttl_1)
{
	static const struct udp_spec s = {IP_A, IP_B, 2, 1, 0, 32, 0};
	struct rte_mbuf *out[MAX_OUT];
	uint8_t f[128];

	learn_mac(POD_B, MAC_B);
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(sent_to(POD_B, out), 1);
	cr_assert_eq(rte_pktmbuf_mtod(out[0], const uint8_t *)[ETH_LEN + 8], 1);
	rte_pktmbuf_free(out[0]);
}

Test(worker, to_gateway_dropped_without_icmp)
{
	static const struct udp_spec s = {IP_A, IP_GW, 64, 1, 0, 32, 0};
	uint8_t f[128];

	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_TO_GATEWAY, 1);
	cr_assert_eq(live(POD_A)->c.drops, 1);
	cr_assert_eq(node->dp.workers[0]->c.icmp_sent, 0);
	assert_nothing_sent();
}

Test(worker, df_larger_than_pod_mtu_answers_fragmentation_needed)
{
	/* 1600 bytes of IP with DF, pod_mtu 1500: RFC 1191 3/4 carrying 1500. */
	static const struct udp_spec s = {IP_A, IP_B, 64, 1, IP4_DF, 1600 - 28, 0};
	struct rte_mbuf *out[MAX_OUT];
	static uint8_t f[2048];

	learn_mac(POD_B, MAC_B);
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_FRAG_NEEDED, 1);
	cr_assert_eq(sent_to(POD_B, out), 0);
	cr_assert_eq(sent_to(POD_A, out), 1);
	assert_icmp_to_a(out[0], 3, 4, 1500, f);
	rte_pktmbuf_free(out[0]);
}

/* ==== IPv4 fragments ===================================================== */

#define DGRAM_UDP_LEN 3000 /* UDP header + data: the IP payload of the datagram */

/* The IP payload of the datagram A fragments: UDP header, then pattern bytes. */
static void
dgram_payload(uint8_t *d)
{
	put16(d, 40000);
	put16(d + 2, 53);
	put16(d + 4, DGRAM_UDP_LEN);
	put16(d + 6, 0);
	for (size_t i = 8; i < DGRAM_UDP_LEN; i++)
		d[i] = pattern(i);
}

/* A fragment of payload[off..off+len) as pod A sends it. */
static struct rte_mbuf *
fragment(const uint8_t *payload, uint16_t id, uint16_t off, uint16_t len, bool more, uint32_t dst)
{
	static uint8_t f[2048];
	uint8_t *p = put_eth(f, PORT_MAC_A, MAC_A, 0x0800);

	p = put_ip4(p, IP_A, dst, 17, 64, id, (uint16_t)((more ? IP4_MF : 0) | off / 8),
		    (uint16_t)(20 + len));
	if (payload != NULL)
		memcpy(p, payload + off, len);
	else
		memset(p, 0x5a, len);
	return mbuf_of(node->dp.pool, f, ETH_LEN + 20u + len);
}

static const struct {
	const char *what;
	uint8_t order[3];
} frag_orders[] = {
    {"in order", {0, 1, 2}},
    {"reversed", {2, 1, 0}},
    {"middle, last, first", {1, 2, 0}},
};

Test(worker, fragments_reassembled_and_refragmented_for_b)
{
	static const uint16_t offs[3] = {0, 1480, 2960}, lens[3] = {1480, 1480, 40};
	static uint8_t payload[DGRAM_UDP_LEN], got[DGRAM_UDP_LEN];
	static uint8_t seen[DGRAM_UDP_LEN];

	dgram_payload(payload);
	learn_mac(POD_B, MAC_B);
	for (size_t c = 0; c < RTE_DIM(frag_orders); c++) {
		const char *what = frag_orders[c].what;
		uint16_t id = (uint16_t)(0x4242 + c);
		struct rte_mbuf *in[3], *out[MAX_OUT];

		reset_counters();
		for (int k = 0; k < 3; k++) {
			uint8_t f = frag_orders[c].order[k];
			in[k] = fragment(payload, id, offs[f], lens[f], f != 2, IP_B);
		}
		feed_mbufs(0, POD_A, in, 3);

		assert_drops(0, NM_DROP_NONE, 0);
		cr_assert_eq(node->dp.workers[0]->c.reassembled, 1, "%s", what);
		cr_assert_eq(node->dp.workers[0]->c.fragmented, 1, "%s", what);
		cr_assert_eq(sent_to(POD_A, out), 0, "%s", what);
		unsigned int n = sent_to(POD_B, out);
		cr_assert_eq(n, 3, "%s: %u fragments reached B, want 3", what, n);

		memset(got, 0, sizeof(got));
		memset(seen, 0, sizeof(seen));
		unsigned int last = 0;
		for (unsigned int k = 0; k < n; k++) {
			const uint8_t *g = rte_pktmbuf_mtod(out[k], const uint8_t *);
			const uint8_t *ip = g + ETH_LEN;

			cr_assert_eq(out[k]->nb_segs, 1, "%s", what);
			cr_assert_arr_eq(g, MAC_B, 6, "%s: eth dst", what);
			cr_assert_arr_eq(g + 6, PORT_MAC_B, 6, "%s: eth src", what);
			cr_assert_eq(rd16(g + 12), 0x0800);
			cr_assert_eq(ip[0], 0x45);
			uint16_t total = rd16(ip + 2);
			cr_assert_leq(total, 1500, "%s: fragment of %u bytes > pod MTU", what,
				      total);
			cr_assert_eq(rte_pktmbuf_pkt_len(out[k]), ETH_LEN + total, "%s", what);
			cr_assert_eq(rd16(ip + 4), id, "%s: identification", what);
			cr_assert_eq(ip[8], 63, "%s: TTL", what);
			cr_assert_eq(ip[9], 17);
			cr_assert_eq(rd32(ip + 12), IP_A);
			cr_assert_eq(rd32(ip + 16), IP_B);
			cr_assert_eq(ones_sum(ip, 20), 0xffff, "%s: fragment %u checksum", what, k);
			uint16_t fo = rd16(ip + 6);
			cr_assert_eq(fo & IP4_DF, 0);
			uint32_t off = (uint32_t)(fo & 0x1fff) * 8, len = total - 20u;
			cr_assert_leq(off + len, DGRAM_UDP_LEN, "%s", what);
			for (uint32_t b = 0; b < len; b++) {
				cr_assert_eq(seen[off + b], 0, "%s: byte %u twice", what, off + b);
				seen[off + b] = 1;
				got[off + b] = ip[20 + b];
			}
			if (!(fo & IP4_MF))
				last++;
			else
				cr_assert_eq(len % 8, 0, "%s", what);
		}
		cr_assert_eq(last, 1, "%s: %u fragments without MF", what, last);
		for (uint32_t b = 0; b < DGRAM_UDP_LEN; b++)
			cr_assert_eq(seen[b], 1, "%s: byte %u missing", what, b);
		cr_assert_arr_eq(got, payload, DGRAM_UDP_LEN, "%s: payload differs", what);
		rte_pktmbuf_free_bulk(out, n);

		cr_assert_eq(live(POD_A)->c.rx_packets, 3);
		cr_assert_eq(live(POD_A)->c.drops, 0);
		cr_assert_eq(live(POD_B)->c.tx_packets, 3);
	}
}

Test(worker, small_fragmented_datagram_delivered_whole)
{
	/* Two fragments of a 1000-byte datagram: it fits the pod MTU, so B gets it whole. */
	static uint8_t payload[DGRAM_UDP_LEN];
	struct rte_mbuf *in[2], *out[MAX_OUT];

	dgram_payload(payload);
	put16(payload + 4, 1000); /* UDP length */
	learn_mac(POD_B, MAC_B);
	in[0] = fragment(payload, 9, 504, 496, false, IP_B);
	in[1] = fragment(payload, 9, 0, 504, true, IP_B);
	feed_mbufs(0, POD_A, in, 2);

	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(node->dp.workers[0]->c.reassembled, 1);
	cr_assert_eq(node->dp.workers[0]->c.fragmented, 0);
	cr_assert_eq(sent_to(POD_B, out), 1);
	const uint8_t *ip = rte_pktmbuf_mtod(out[0], const uint8_t *) + ETH_LEN;
	cr_assert_eq(out[0]->nb_segs, 1);
	cr_assert_eq(rd16(ip + 2), 1020);
	cr_assert_eq(rd16(ip + 6), 0, "MF/offset left on the reassembled datagram");
	cr_assert_eq(ip[8], 63);
	cr_assert_eq(ones_sum(ip, 20), 0xffff);
	cr_assert_arr_eq(ip + 20, payload, 1000);
	rte_pktmbuf_free(out[0]);
}

/* Fragment sets rte_ip_frag must refuse; every fragment of the set is dropped. */
static const struct {
	const char *what;
	uint8_t n;
	struct {
		uint16_t off, len;
		bool more;
	} f[3];
} overlap_cases[] = {
    {"second overlaps first, lengths add past the end", 2, {{0, 1480, true}, {1000, 1480, false}}},
    {"middle overlaps first, lengths add up exactly",
     3,
     {{0, 1480, true}, {1000, 1480, true}, {2960, 40, false}}},
    {"first fragment twice", 2, {{0, 1480, true}, {0, 1480, true}}},
};

Test(worker, overlapping_fragments_dropped)
{
	static uint8_t payload[DGRAM_UDP_LEN];

	dgram_payload(payload);
	learn_mac(POD_B, MAC_B);
	for (size_t c = 0; c < RTE_DIM(overlap_cases); c++) {
		struct rte_mbuf *in[3];

		reset_counters();
		for (unsigned int k = 0; k < overlap_cases[c].n; k++)
			in[k] =
			    fragment(payload, (uint16_t)(0x700 + c), overlap_cases[c].f[k].off,
				     overlap_cases[c].f[k].len, overlap_cases[c].f[k].more, IP_B);
		feed_mbufs(0, POD_A, in, overlap_cases[c].n);

		assert_drops(0, NM_DROP_FRAG_INVALID, overlap_cases[c].n);
		cr_assert_eq(live(POD_A)->c.drops, overlap_cases[c].n, "%s", overlap_cases[c].what);
		cr_assert_eq(node->dp.workers[0]->c.reassembled, 0, "%s", overlap_cases[c].what);
		assert_nothing_sent();
	}
}

/* A fragment's end is offset + IP total length; past 65535 no datagram holds it. */
static const struct {
	const char *what;
	uint16_t off, len;
	bool more;
	uint64_t drops;
} oversize_cases[] = {
    {"last fragment ending at 65535: held", 65496, 19, false, 0},
    {"last fragment ending at 65536", 65496, 20, false, 1},
    {"largest offset, 8 bytes, MF", 65528, 8, true, 1},
};

Test(worker, fragment_past_65535_dropped)
{
	for (size_t c = 0; c < RTE_DIM(oversize_cases); c++) {
		reset_counters();
		struct rte_mbuf *m = fragment(NULL, (uint16_t)(0x800 + c), oversize_cases[c].off,
					      oversize_cases[c].len, oversize_cases[c].more, IP_B);
		feed_mbufs(0, POD_A, &m, 1);
		assert_drops(0, NM_DROP_FRAG_INVALID, oversize_cases[c].drops);
		cr_assert_eq(live(POD_A)->c.drops, oversize_cases[c].drops, "%s",
			     oversize_cases[c].what);
		assert_nothing_sent();
	}
}

/* ==== two workers: handoff =============================================== */

/* A (worker 0) sends to C (worker 1); returns what worker 1 dequeued from its ring. */
static unsigned int
a_to_c_handed_off(struct rte_mbuf **got, uint8_t *f, size_t *len, uint16_t sport)
{
	const struct udp_spec s = {IP_A, IP_C, 64, 3, 0, 32, sport};

	*len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	struct rte_mbuf *m = mbuf_of(node->dp.pool, f, *len);
	feed_mbufs(0, POD_A, &m, 1);

	cr_assert_eq(node->dp.workers[0]->c.handoff_out, 1);
	assert_drops(0, NM_DROP_NONE, 0);
	assert_nothing_sent(); /* worker 0 must not transmit on C's port */
	cr_assert_null(node->dp.workers[1]->in[1]);
	return rte_ring_sc_dequeue_burst(node->dp.workers[1]->in[0], (void **)got, NM_BURST, NULL);
}

Test(handoff, packet_for_other_workers_pod_delivered_by_owner)
{
	struct rte_mbuf *got[NM_BURST], *out[MAX_OUT];
	uint8_t f[128];
	size_t len;
	unsigned int n = a_to_c_handed_off(got, f, &len, 0);

	cr_assert_eq(n, 1, "worker 1's ring from worker 0 holds %u packets", n);
	nm_worker_rx_handoff(node->dp.workers[1], node->dp.pods, got, (uint16_t)n);
	nm_worker_flush(node->dp.workers[1], node->dp.pods);

	assert_drops(1, NM_DROP_NONE, 0);
	cr_assert_eq(node->dp.workers[1]->c.handoff_in, 1);
	cr_assert_eq(sent_to(POD_A, out), 0);
	cr_assert_eq(sent_to(POD_C, out), 1);
	const uint8_t *g = rte_pktmbuf_mtod(out[0], const uint8_t *);
	cr_assert_arr_eq(g, MAC_C, 6);
	cr_assert_arr_eq(g + 6, PORT_MAC_C, 6);
	cr_assert_eq(g[ETH_LEN + 8], 63);
	cr_assert_eq(ones_sum(g + ETH_LEN, 20), 0xffff);
	cr_assert_arr_eq(g + ETH_LEN + 12, f + ETH_LEN + 12, len - ETH_LEN - 12);
	rte_pktmbuf_free(out[0]);
	cr_assert_eq(live(POD_C)->c.tx_packets, 1);
	cr_assert_eq(node->dp.workers[1]->c.tx_packets, 1);
	cr_assert_eq(node->dp.workers[0]->c.tx_packets, 0);
}

/*
 * The sender's parse travels in the mbuf's private area, so the owner
 * does not parse again; it equals a fresh parse of the packet as it sits
 * in the ring (TTL already decremented).
 */
Test(handoff, parse_travels_with_the_packet)
{
	struct rte_mbuf *got[NM_BURST];
	struct nm_pkt_meta fresh;
	uint8_t f[128];
	size_t len;
	unsigned int n = a_to_c_handed_off(got, f, &len, 0);

	cr_assert_eq(n, 1);
	cr_assert_geq(got[0]->priv_size, sizeof(struct nm_pkt_meta));
	cr_assert_eq(nm_mbuf_meta(&node->dp, got[0])->has_pkt, 1);
	cr_assert_eq(nm_pkt_parse_partial(rte_pktmbuf_mtod(got[0], const uint8_t *),
					  got[0]->data_len, got[0]->pkt_len, &fresh),
		     NM_PKT_IPV4);
	cr_assert_eq(fresh.ttl, 63);
	cr_assert_eq(memcmp(rte_mbuf_to_priv(got[0]), &fresh, sizeof(fresh)), 0,
		     "the carried parse differs from a fresh one");
	rte_pktmbuf_free(got[0]);
}

/* A handed-off packet without a carried parse (one nodemesh made) is parsed by the owner. */
Test(handoff, packet_without_carried_parse_is_parsed_by_owner)
{
	struct rte_mbuf *got[NM_BURST], *out[MAX_OUT];
	uint8_t f[128];
	size_t len;
	unsigned int n = a_to_c_handed_off(got, f, &len, 0);

	cr_assert_eq(n, 1);
	nm_mbuf_meta(&node->dp, got[0])->has_pkt = 0;
	memset(rte_mbuf_to_priv(got[0]), 0xa5, sizeof(struct nm_pkt_meta)); /* must go unread */
	nm_worker_rx_handoff(node->dp.workers[1], node->dp.pods, got, (uint16_t)n);
	nm_worker_flush(node->dp.workers[1], node->dp.pods);

	assert_drops(1, NM_DROP_NONE, 0);
	cr_assert_eq(sent_to(POD_C, out), 1);
	rte_pktmbuf_free(out[0]);
}

/* Publish a table in which pod C's slot is empty, or reused by a new pod. */
static struct nm_pod_live *
delete_c(bool reuse)
{
	struct nm_pod_live *old = live(POD_C);
	struct nm_pod_table *t =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);

	cr_assert_not_null(t);
	memset(&t->pods[slot_of[POD_C]], 0, sizeof(t->pods[0]));
	table_publish(t);
	if (reuse) {
		pod_insert(POD_C, "c2", IP4(198, 18, 0, 4), PORT_MAC_C, 1);
		learn_mac(POD_C, MAC_C);
	}
	return old;
}

static const struct {
	const char *what;
	bool reuse;
} gone_cases[] = {
    {"slot empty", false},
    {"slot reused by a new pod", true},
};

Test(handoff, packet_for_deleted_pod_is_pod_gone)
{
	for (size_t c = 0; c < RTE_DIM(gone_cases); c++) {
		struct rte_mbuf *got[NM_BURST], *out[MAX_OUT];
		uint8_t f[128];
		size_t len;

		reset_counters();
		/* A new flow per row: this case is about the handoff, not flow state. */
		unsigned int n = a_to_c_handed_off(got, f, &len, (uint16_t)(41000 + c));
		cr_assert_eq(n, 1);
		struct nm_pod_live *old = delete_c(gone_cases[c].reuse);

		nm_worker_rx_handoff(node->dp.workers[1], node->dp.pods, got, (uint16_t)n);
		nm_worker_flush(node->dp.workers[1], node->dp.pods);
		assert_drops(1, NM_DROP_POD_GONE, 1);
		cr_assert_eq(sent_to(POD_C, out), 0, "%s: delivered", gone_cases[c].what);
		assert_nothing_sent();
		cr_assert_eq(old->c.tx_packets, 0);
		rte_free(old);

		/* Put C back for the next row. */
		if (gone_cases[c].reuse)
			rte_free(delete_c(false));
		pod_insert(POD_C, "c", IP_C, PORT_MAC_C, 1);
		learn_mac(POD_C, MAC_C);
	}
}

/*
 * The sender is deleted while its packet sits in the handoff ring: the
 * receiving worker must drop it (a flow with a vanished end is denied),
 * not deliver it and not loop ending and re-creating the flow.
 */
Test(handoff, packet_from_sender_deleted_in_flight_is_denied)
{
	struct rte_mbuf *got[NM_BURST], *out[MAX_OUT];
	uint8_t f[128];
	size_t len;

	reset_counters();
	unsigned int n = a_to_c_handed_off(got, f, &len, 42000);
	cr_assert_eq(n, 1);

	struct nm_pod_live *old = live(POD_A);
	struct nm_pod_table *t =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	cr_assert_not_null(t);
	memset(&t->pods[slot_of[POD_A]], 0, sizeof(t->pods[0]));
	table_publish(t);

	nm_worker_rx_handoff(node->dp.workers[1], node->dp.pods, got, (uint16_t)n);
	nm_worker_flush(node->dp.workers[1], node->dp.pods);
	assert_drops(1, NM_DROP_POLICY_DENIED, 1);
	cr_assert_eq(sent_to(POD_C, out), 0, "a packet of a deleted pod was delivered");
	rte_free(old);
}

/* ==== a pod re-created at the same address ================================ */

/*
 * Pods come and go and a new one often gets a departed pod's address. A
 * sender that kept one 5-tuple across the change must reach the new pod.
 *
 * Regression: the flow A->B made before B was re-created keeps the old B's
 * pod id. An earlier version denied such a flow for as long as A kept it
 * alive, so the new B was unreachable on that 5-tuple for good; now its next
 * packet ends the old flow (pod_gone) and starts a new one.
 */
Test(worker, flow_to_recreated_pod_at_same_address_delivered)
{
	static const struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};
	struct rte_mbuf *out[MAX_OUT];
	uint8_t f[128];

	learn_mac(POD_B, MAC_B);
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	cr_assert_eq(sent_to(POD_B, out), 1);
	rte_pktmbuf_free(out[0]);

	/* pod del b; pod add b (same address, same port, new pod id). */
	struct nm_pod_live *old = live(POD_B);
	struct nm_pod_table *t =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	cr_assert_not_null(t);
	memset(&t->pods[slot_of[POD_B]], 0, sizeof(t->pods[0]));
	table_publish(t);
	rte_free(old);
	pod_insert(POD_B, "b", IP_B, PORT_MAC_B, 0);
	learn_mac(POD_B, MAC_B);

	reset_counters();
	for (int k = 0; k < 3; k++) {
		len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
		feed(POD_A, f, len);
	}
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(sent_to(POD_B, out), 3, "the re-created pod B is unreachable");
	rte_pktmbuf_free_bulk(out, 3);
}

/* ==== policy: cached verdicts and generations ============================ */

/* Publish a copy of the current table whose policy is `rules` and `dflt`. */
static void
policy_publish(const char *const *rules, unsigned int n, uint8_t dflt)
{
	struct nm_rule r[4];
	char err[256];

	cr_assert_leq(n, 4);
	for (unsigned int i = 0; i < n; i++) {
		cr_assert_eq(nm_rule_parse(rules[i], &r[i], err, sizeof(err)), 0, "%s: %s",
			     rules[i], err);
		r[i].id = i + 1;
		r[i].slot = (uint16_t)i;
	}
	struct nm_pod_table *t =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	cr_assert_not_null(t);
	/* Identity test/<pod name> for every pod, for the selectors. */
	for (unsigned int i = 0; i < NM_MAX_PODS; i++) {
		if (t->pods[i].live == NULL)
			continue;
		snprintf(t->pods[i].spec.ns, sizeof(t->pods[i].spec.ns), "test");
		snprintf(t->pods[i].spec.sa, sizeof(t->pods[i].spec.sa), "%s",
			 t->pods[i].spec.name);
	}
	cr_assert_eq(nm_pod_table_index(t, node->dp.hash_seed, node->dp.n_workers), 0);
	t->policy = nm_policy_compile(r, n, dflt, t, NULL);
	cr_assert_not_null(t->policy);
	nm_pod_table_free(node->dp.pods);
	node->dp.pods = t;
}

/* Pod A sends n datagrams of s (learning B's MAC first); returns how many B's port got. */
static unsigned int
a_sends_to_b(const struct udp_spec *s, int n)
{
	struct rte_mbuf *out[MAX_OUT];
	uint8_t f[128];

	learn_mac(POD_B, MAC_B);
	for (int k = 0; k < n; k++) {
		size_t len = udp_frame(f, PORT_MAC_A, MAC_A, s);
		feed(POD_A, f, len);
	}
	unsigned int got = sent_to(POD_B, out);
	rte_pktmbuf_free_bulk(out, got);
	return got;
}

Test(worker, new_deny_cuts_an_established_flow_at_its_next_packet)
{
	static const char *const allow[] = {"allow from * to * proto udp"};
	static const char *const deny[] = {"allow from * to * proto udp",
					   "deny from * to * proto udp port 53"};
	struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};
	struct rte_mbuf *out[MAX_OUT];
	uint8_t f[128];

	policy_publish(allow, 1, NM_VERDICT_DENY);
	cr_assert_eq(a_sends_to_b(&s, 3), 3);
	uint64_t gen = node->dp.pods->generation;

	/* The deny matches the flow's responder port (udp_frame: 40000 -> 53). */
	policy_publish(deny, 2, NM_VERDICT_DENY);
	cr_assert_gt(node->dp.pods->generation, gen);
	reset_counters();
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_POLICY_DENIED, 1);
	cr_assert_eq(sent_to(POD_B, out), 0, "the established flow got through a new deny");
	cr_assert_eq(node->dp.workers[0]->flows.c.reevaluated, 1);

	/* Back to allow: the same flow flows again. */
	policy_publish(allow, 1, NM_VERDICT_DENY);
	reset_counters();
	len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(sent_to(POD_B, out), 1);
	rte_pktmbuf_free(out[0]);
}

/*
 * A known, allowed flow takes nm_track's inline path; one whose rule has a
 * rate must not: every packet of it is metered, the first as the tenth.
 */
Test(worker, rate_rule_meters_every_packet_of_an_established_flow)
{
	static const char *const metered[] = {"allow from * to * proto udp rate 1pps burst 2"};
	const struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};

	policy_publish(metered, 1, NM_VERDICT_DENY);
	unsigned int n = a_sends_to_b(&s, 10);
	cr_assert_eq(n, 2, "a burst of 2 at 1 pps let %u of 10 through", n);
	assert_drops(0, NM_DROP_RATE_LIMITED, 8);
}

Test(worker, reply_of_a_one_way_rule_passes_and_the_reverse_call_does_not)
{
	static const char *const oneway[] = {"allow from test/a to test/b proto udp"};
	struct udp_spec req = {IP_A, IP_B, 64, 1, 0, 32, 0};
	struct rte_mbuf *out[MAX_OUT];
	uint8_t f[128];

	learn_mac(POD_A, MAC_A);
	learn_mac(POD_B, MAC_B);
	policy_publish(oneway, 1, NM_VERDICT_DENY);
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &req);
	feed(POD_A, f, len);
	cr_assert_eq(sent_to(POD_B, out), 1, "A -> B not allowed by its rule");
	rte_pktmbuf_free(out[0]);

	/* B answers 53 -> 40000: the reply direction of A's flow. */
	len = udp_frame(f, PORT_MAC_B, MAC_B, &(struct udp_spec){IP_B, IP_A, 64, 2, 0, 32, 53});
	put16(f + ETH_LEN + 20 + 2, 40000);
	reset_counters();
	feed(POD_B, f, len);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(sent_to(POD_A, out), 1, "B's reply did not reach A");
	rte_pktmbuf_free(out[0]);

	/* B calling A on a new flow is not allowed. */
	put16(f + ETH_LEN + 20, 50000);
	reset_counters();
	feed(POD_B, f, len);
	assert_drops(0, NM_DROP_POLICY_DENIED, 1);
	cr_assert_eq(sent_to(POD_A, out), 0);
}

/*
 * With IPv6 on, the host kernel sends router solicitations, MLD and DAD
 * out of the port's end of the veth, from that end's MAC (the port's);
 * af_packet hands them to nodemesh as if the pod had sent them. They are
 * dropped as the host's, and never taken for the pod's MAC (issue 11).
 */
Test(worker, host_end_frames_are_not_the_pods)
{
	static const uint8_t all_routers[6] = {0x33, 0x33, 0, 0, 0, 2};
	static const struct udp_spec s = {IP_A, IP_B, 64, 1, 0, 32, 0};
	uint8_t rs[128], *p = put_eth(rs, all_routers, PORT_MAC_A, 0x86dd);

	/* An ICMPv6 router solicitation from fe80::1 to ff02::2. */
	*p++ = 0x60, *p++ = 0, *p++ = 0, *p++ = 0;
	p = put16(p, 8);
	*p++ = 58;
	*p++ = 255;
	memset(p, 0, 32);
	p[0] = 0xfe, p[1] = 0x80, p[15] = 1, p[16] = 0xff, p[17] = 0x02, p[31] = 2;
	p += 32;
	*p++ = 133, *p++ = 0, *p++ = 0, *p++ = 0;
	memset(p, 0, 4);
	p += 4;

	cr_assert_not(live(POD_A)->mac_known);
	feed(POD_A, rs, (size_t)(p - rs));
	assert_drops(0, NM_DROP_HOST_FRAME, 1);
	cr_assert_not(live(POD_A)->mac_known, "the host end's MAC was taken for the pod's");
	cr_assert_eq(live(POD_A)->c.rx_packets, 0);
	cr_assert_eq(live(POD_A)->c.drops, 0, "not the pod's drop");

	/* The pod's own frame still teaches its MAC, and a later host frame does not undo it. */
	uint8_t f[128];
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	learn_mac(POD_B, MAC_B);
	feed(POD_A, f, len);
	cr_assert(live(POD_A)->mac_known);
	feed(POD_A, rs, (size_t)(p - rs));
	assert_drops(0, NM_DROP_HOST_FRAME, 2);
	cr_assert_arr_eq(live(POD_A)->pod_mac.addr_bytes, MAC_A, 6);
	cr_assert_eq(live(POD_A)->c.rx_packets, 1);
}
