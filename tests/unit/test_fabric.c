/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the fabric worker (dataplane/fabric.c) on the in-memory
 * ports of unit_pipeline.h. The node has a fabric port (a net_ring ethdev
 * too) and one peer, node-b at 198.19.0.2, with keys the test knows: the
 * test plays node b, opening what the node seals and sealing what it
 * feeds to the node's fabric RX. Node b announced one pod, 198.18.2.5.
 */
#include <unistd.h>

#include <rte_tcp.h>

#include "unit_pipeline.h"
#include "peer_msg.h"
#include "unit_tmp.h"
#include "nodemesh/tnl_state.h"

#define FAB_IP	   IP4(198, 19, 0, 1)
#define PEER_IP	   IP4(198, 19, 0, 2)
#define REMOTE_POD IP4(198, 18, 2, 5)
#define UDP_PORT   4790
#define TX_EPOCH   7 /* we seal with this */
#define RX_EPOCH   9 /* the peer seals with this */

static const uint8_t PEER_MAC[6] = {0x02, 0xfb, 0, 0, 0, 2};
static struct tport fab;
static struct nm_worker *w0;

static void
key_params(struct nm_tnl_key_params *kp, uint16_t epoch, uint8_t dir, uint8_t salt)
{
	memset(kp, 0, sizeof(*kp));
	kp->cipher = NM_TNL_AES_128_GCM;
	kp->dir = dir;
	kp->epoch = epoch;
	for (int i = 0; i < 16; i++)
		kp->key[i] = (uint8_t)(salt + i);
	for (int i = 0; i < 12; i++)
		kp->iv[i] = (uint8_t)(salt * 3 + i);
}

static void
fabric_up(void)
{
	struct nm_peer_spec spec = {.name = "node-b", .fabric_ip = 0, .port = 7400};
	struct nm_tnl_key_params kp;
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	char err[256] = "";

	one_worker_up();
	learn_mac(POD_A, MAC_A);
	learn_mac(POD_B, MAC_B);
	fab = port_create("net_ring_f");
	node->dp.has_fabric = true;
	node->dp.fabric_port = fab.id;
	memcpy(node->dp.fabric_mac.addr_bytes, PORT_MAC_C, 6);
	node->cfg.tunnel.fabric_ip = rte_cpu_to_be_32(FAB_IP);
	node->dp.params.fabric_ip = node->cfg.tunnel.fabric_ip;
	node->cfg.tunnel.udp_port = UDP_PORT;
	node->dp.params.udp_port = UDP_PORT;
	node->dp.tnl_mtu = 1500 - NM_TNL_IP_OVERHEAD;
	node->default_allow = 1; /* tables node_tunnel.c publishes allow all, as the harness's do */
	/* What nm_node_tunnel_init makes for a fabric, small (nm_node_tunnel_fini frees it). */
	cr_assert_eq(nm_ipcache_create(&node->ipc, 64, node->dp.qsbr, 7, err, sizeof(err)), 0, "%s",
		     err);
	node->dp.ipcache = node->ipc.h;
	node->remote_session = calloc(node->dp.tnl->max_peers, sizeof(*node->remote_session));
	node->remote_count = calloc(node->dp.tnl->max_peers, sizeof(*node->remote_count));
	cr_assert_not_null(node->remote_session);
	cr_assert_not_null(node->remote_count);

	spec.fabric_ip = rte_cpu_to_be_32(PEER_IP);
	spec.pod_cidr.net = rte_cpu_to_be_32(IP4(198, 18, 2, 0));
	spec.pod_cidr.prefix_len = 24;
	cr_assert_eq(nm_node_tnl_peer_set(node, 0, &spec, err, sizeof(err)), 0, "%s", err);
	key_params(&kp, TX_EPOCH, NM_TNL_SEAL, 0x10);
	cr_assert_eq(nm_node_tnl_set_tx(node, 0, &kp, err, sizeof(err)), 0, "%s", err);
	key_params(&kp, RX_EPOCH, NM_TNL_OPEN, 0x40);
	cr_assert_eq(nm_node_tnl_set_rx(node, 0, &kp, err, sizeof(err)), 0, "%s", err);
	struct rte_ether_addr pm = {0};
	memcpy(pm.addr_bytes, PEER_MAC, 6);
	nm_peer_mac_set(&node->dp.tnl->peers[0], &pm);

	a.ip = rte_cpu_to_be_32(REMOTE_POD);
	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "sa-r");
	cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%s", err);
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 3, 1)); /* outside node-b's CIDR */
	cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), -EPERM);

	w0 = node->dp.workers[0];
	w0->tnl = node->dp.tnl; /* what the top of a worker turn does */
}

static void
fabric_down(void)
{
	struct rte_mbuf *m[MAX_OUT];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL)) > 0)
		rte_pktmbuf_free_bulk(m, n);
	node->dp.has_fabric = false; /* the test's port is no af_packet port to detach */
	node_down();
}

TestSuite(fabric, .init = fabric_up, .fini = fabric_down);

/* Open a frame the node sealed, as node b would: returns the inner length, -1 if refused. */
static long
peer_open(struct rte_mbuf *m, uint8_t *inner, size_t cap)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip = f + ETH_LEN, *udp = ip + 20;
	uint8_t rec[2048];
	uint32_t len = rd16(udp + 4) - 8;
	struct nm_tnl_key_params kp;
	struct nm_tnl_replay replay;

	cr_assert_arr_eq(f, PEER_MAC, 6, "outer destination is the peer's MAC");
	cr_assert_arr_eq(f + 6, PORT_MAC_C, 6, "outer source is the fabric MAC");
	cr_assert_eq(rd32(ip + 12), FAB_IP);
	cr_assert_eq(rd32(ip + 16), PEER_IP);
	cr_assert_eq(ip[9], 17);
	cr_assert_eq(rd16(ip + 6) & 0x4000, 0x4000, "DF");
	cr_assert_eq(ones_sum(ip, 20), 0xffff);
	cr_assert_eq(rd16(udp + 2), UDP_PORT);
	cr_assert_geq(rd16(udp), 0xc000);
	memcpy(rec, udp + 8, len);
	key_params(&kp, TX_EPOCH, NM_TNL_OPEN, 0x10);
	struct nm_tnl_key *k = nm_tnl_key_create(&kp);
	nm_tnl_replay_init(&replay);
	struct nm_tnl_buf b = {.data = rec, .len = len, .room = len};
	nm_tnl_open_burst(k, &replay, &b, 1);
	nm_tnl_key_free(k);
	if (b.reason != NM_TNL_OK)
		return -1;
	cr_assert_leq(b.len - NM_TNL_HDRS_LEN, cap);
	memcpy(inner, rec + NM_TNL_HDRS_LEN, b.len - NM_TNL_HDRS_LEN);
	return (long)(b.len - NM_TNL_HDRS_LEN);
}

/* A frame from node b carrying inner (an IPv4 packet), sealed at seq. */
static struct rte_mbuf *
peer_frame(const uint8_t *inner, size_t inner_len, uint16_t epoch, uint64_t seq, uint32_t src)
{
	uint8_t f[2048], *p = put_eth(f, PORT_MAC_C, PEER_MAC, 0x0800);
	struct nm_tnl_key_params kp;
	uint32_t rec_len = NM_TNL_HDRS_LEN + (uint32_t)inner_len + NM_TNL_TRAILER_LEN;

	p = put_ip4(p, src, FAB_IP, 17, 64, 0, IP4_DF, (uint16_t)(20 + 8 + rec_len));
	p = put16(p, 0xc123);
	p = put16(p, UDP_PORT);
	p = put16(p, (uint16_t)(8 + rec_len));
	p = put16(p, 0);
	memcpy(p + NM_TNL_HDRS_LEN, inner, inner_len);
	key_params(&kp, epoch, NM_TNL_SEAL, 0x40);
	struct nm_tnl_key *k = nm_tnl_key_create(&kp);
	struct nm_tnl_buf b = {
	    .data = p, .len = NM_TNL_HDRS_LEN + (uint32_t)inner_len, .room = rec_len};
	/* The key numbers records from 0: seal up to seq to reach it. */
	for (uint64_t s = 0; s <= seq; s++) {
		b.len = NM_TNL_HDRS_LEN + (uint32_t)inner_len;
		memcpy(p + NM_TNL_HDRS_LEN, inner, inner_len);
		cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 1);
	}
	nm_tnl_key_free(k);
	return mbuf_of(node->dp.pool, f, (size_t)(p - f) + rec_len);
}

static void
fabric_feed(struct rte_mbuf *m)
{
	nm_worker_rx_fabric(w0, node->dp.pods, &m, 1);
	nm_worker_flush(w0, node->dp.pods);
}

/* An ICMP echo from the remote pod to pod A: 20 + 8 + 4 bytes. */
static size_t
remote_echo(uint8_t *ip, uint32_t src)
{
	uint8_t *p = put_ip4(ip, src, IP_A, 1, 63, 5, 0, 32);
	*p++ = 8, *p++ = 0;
	p = put16(p, 0);
	p = put32(p, 0x12340001);
	p = put32(p, 0xdeadbeef);
	put16(ip + 22, (uint16_t)~ones_sum(ip + 20, 12));
	return (size_t)(p - ip);
}

/* Worker 0's counters for peer slot i (the only worker here). */
static struct nm_peer_live *
peer_live(unsigned int i)
{
	return &node->dp.tnl->peers[i].dyn->w[0];
}

static uint64_t
rejected(unsigned int reason)
{
	return peer_live(0)->rejected[reason];
}

Test(fabric, packet_to_a_remote_pod_is_sealed_for_its_node)
{
	static const struct udp_spec s = {IP_A, REMOTE_POD, 64, 1, 0, 100, 0};
	uint8_t f[256], inner[256];
	struct rte_mbuf *m[MAX_OUT];
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);

	feed(POD_A, f, len);
	cr_assert_eq(rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL), 1);
	long n = peer_open(m[0], inner, sizeof(inner));
	cr_assert_eq(n, (long)(len - ETH_LEN), "the inner packet whole");
	cr_assert_eq(inner[8], 63, "TTL decremented once");
	cr_assert_arr_eq(inner + 20, f + ETH_LEN + 20, 108, "UDP header and payload intact");
	rte_pktmbuf_free(m[0]);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(peer_live(0)->tx_packets, 1);
}

/*
 * One burst to one peer: one record per inner packet, and the records the
 * same burst would need packed end to end up to the tunnel MTU (the
 * counters `scripts/bench records` reads).
 */
Test(fabric, a_burst_counts_its_records_and_what_packing_would_need)
{
	static const uint16_t data[] = {1000, 300, 100, 1000}; /* inner 1028, 328, 128, 1028 */
	struct rte_mbuf *in[4], *m[MAX_OUT];
	uint8_t f[1100];

	cr_assert_eq(node->dp.tnl_mtu, 1500 - NM_TNL_IP_OVERHEAD);
	cr_assert(1028 + 328 <= node->dp.tnl_mtu && 1028 + 328 + 128 > node->dp.tnl_mtu);
	for (unsigned int i = 0; i < 4; i++) {
		struct udp_spec s = {IP_A, REMOTE_POD, 64, (uint16_t)(1 + i), 0, data[i], 0};
		size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
		in[i] = mbuf_of(node->dp.pool, f, len);
	}
	feed_mbufs(0, POD_A, in, 4);
	cr_assert_eq(rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL), 4);
	for (unsigned int i = 0; i < 4; i++)
		rte_pktmbuf_free(m[i]);
	const struct nm_peer_live *l = peer_live(0);
	cr_assert_eq(l->tx_packets, 4, "one record per inner packet");
	cr_assert_eq(l->tx_bursts, 1);
	cr_assert_eq(l->tx_packable, 2, "1028 + 328 in one record, 128 + 1028 in the next");
}

Test(fabric, no_keys_means_no_packet_leaves)
{
	static const struct udp_spec s = {IP_A, IP4(198, 18, 4, 1), 64, 1, 0, 100, 0};
	struct nm_peer_spec spec = {.name = "node-c", .port = 7400};
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	char err[256] = "";
	uint8_t f[256];

	/* A second peer whose session never came up: it has no keys. */
	spec.fabric_ip = rte_cpu_to_be_32(IP4(198, 19, 0, 3));
	spec.pod_cidr.net = rte_cpu_to_be_32(IP4(198, 18, 4, 0));
	spec.pod_cidr.prefix_len = 24;
	cr_assert_eq(nm_node_tnl_peer_set(node, 1, &spec, err, sizeof(err)), 0, "%s", err);
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 4, 1));
	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "sa-c");
	cr_assert_eq(nm_node_remote_pod_add(node, 1, &a, err, sizeof(err)), 0, "%s", err);
	w0->tnl = node->dp.tnl;

	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	cr_assert_eq(rte_ring_count(fab.tx), 0, "nothing on the fabric, not even in the clear");
	assert_drops(0, NM_DROP_TNL_NO_KEY, 1);
	cr_assert_eq(peer_live(1)->no_key, 1);
}

Test(fabric, the_last_peer_slot_is_sealed_for_and_one_past_it_refused)
{
	static const struct udp_spec s = {IP_A, IP4(198, 18, 5, 1), 64, 1, 0, 100, 0};
	unsigned int last = node->dp.tnl->max_peers - 1;
	struct nm_peer_spec spec = {.name = "node-z", .port = 7400};
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	struct nm_tnl_key_params kp;
	char err[256] = "";
	uint8_t f[256];

	cr_assert_geq(last + 1, NM_PEERS_DEFAULT, "slots for tunnel.max_peers by default");
	spec.fabric_ip = rte_cpu_to_be_32(IP4(198, 19, 0, 9));
	spec.pod_cidr.net = rte_cpu_to_be_32(IP4(198, 18, 5, 0));
	spec.pod_cidr.prefix_len = 24;
	cr_assert_eq(nm_node_tnl_peer_set(node, last + 1, &spec, err, sizeof(err)), -ENOSPC);
	cr_assert_str_eq(err, "peer slot 1024 over tunnel.max_peers 1024");
	cr_assert_eq(nm_node_tnl_peer_set(node, last, &spec, err, sizeof(err)), 0, "%s", err);
	key_params(&kp, TX_EPOCH, NM_TNL_SEAL, 0x20);
	cr_assert_eq(nm_node_tnl_set_tx(node, last, &kp, err, sizeof(err)), 0, "%s", err);
	struct rte_ether_addr pm = {0};
	memcpy(pm.addr_bytes, PEER_MAC, 6);
	nm_peer_mac_set(&node->dp.tnl->peers[last], &pm);
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 5, 1));
	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "sa-z");
	cr_assert_eq(nm_node_remote_pod_add(node, last, &a, err, sizeof(err)), 0, "%s", err);
	w0->tnl = node->dp.tnl;

	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);
	feed(POD_A, f, len);
	cr_assert_eq(rte_ring_count(fab.tx), 1, "sealed for the peer in slot %u", last);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(peer_live(last)->tx_packets, 1);
	cr_assert_eq(nm_tnl_peer_by_ip(node->dp.tnl, spec.fabric_ip), (int)last);
}

Test(fabric, sealed_packet_from_the_peer_reaches_the_pod)
{
	uint8_t inner[64];
	struct rte_mbuf *m[MAX_OUT];
	size_t n = remote_echo(inner, REMOTE_POD);

	fabric_feed(peer_frame(inner, n, RX_EPOCH, 0, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 1);
	const uint8_t *e = rte_pktmbuf_mtod(m[0], const uint8_t *);
	cr_assert_arr_eq(e, MAC_A, 6);
	cr_assert_arr_eq(e + 6, PORT_MAC_A, 6);
	cr_assert_eq(rte_pktmbuf_pkt_len(m[0]), ETH_LEN + n);
	cr_assert_arr_eq(e + ETH_LEN, inner, n);
	rte_pktmbuf_free(m[0]);
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(peer_live(0)->rx_packets, 1);
}

Test(fabric, replayed_flipped_and_wrong_epoch_records_are_refused)
{
	uint8_t inner[64];
	struct rte_mbuf *m[MAX_OUT];
	size_t n = remote_echo(inner, REMOTE_POD);
	struct rte_mbuf *good = peer_frame(inner, n, RX_EPOCH, 3, PEER_IP);
	struct rte_mbuf *copy = rte_pktmbuf_copy(good, node->dp.pool, 0, UINT32_MAX);

	fabric_feed(good);
	cr_assert_eq(sent_to(POD_A, m), 1);
	rte_pktmbuf_free(m[0]);
	fabric_feed(copy); /* the same record again */
	cr_assert_eq(rejected(NM_TNL_E_REPLAY_DUPLICATE), 1);

	struct rte_mbuf *flip = peer_frame(inner, n, RX_EPOCH, 4, PEER_IP);
	rte_pktmbuf_mtod(flip, uint8_t *)[ETH_LEN + 28 + NM_TNL_HDRS_LEN + 3] ^= 0x10;
	fabric_feed(flip);
	cr_assert_eq(rejected(NM_TNL_E_BAD_TAG), 1);

	fabric_feed(peer_frame(inner, n, RX_EPOCH + 1, 5, PEER_IP));
	cr_assert_eq(rejected(NM_TNL_E_WRONG_EPOCH), 1);
	cr_assert_eq(sent_to(POD_A, m), 0);
	assert_drops(0, NM_DROP_TNL_REJECTED, 3);

	/* The window moved on: the next fresh record still passes. */
	fabric_feed(peer_frame(inner, n, RX_EPOCH, 6, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 1);
	rte_pktmbuf_free(m[0]);
}

Test(fabric, inner_source_must_be_a_pod_of_that_peer)
{
	uint8_t inner[64];
	struct rte_mbuf *m[MAX_OUT];

	/* Authentic record, but the inner source is no pod node-b announced. */
	size_t n = remote_echo(inner, IP4(198, 18, 2, 77));
	fabric_feed(peer_frame(inner, n, RX_EPOCH, 0, PEER_IP));
	assert_drops(0, NM_DROP_TNL_INNER_SPOOFED, 1);
	/* Nor a local pod's address. */
	n = remote_echo(inner, IP_B);
	fabric_feed(peer_frame(inner, n, RX_EPOCH, 1, PEER_IP));
	assert_drops(0, NM_DROP_TNL_INNER_SPOOFED, 2);
	cr_assert_eq(sent_to(POD_A, m), 0);
	cr_assert_eq(sent_to(POD_B, m), 0);
}

Test(fabric, datagram_from_an_unknown_address_is_dropped)
{
	uint8_t inner[64];
	size_t n = remote_echo(inner, REMOTE_POD);

	fabric_feed(peer_frame(inner, n, RX_EPOCH, 0, IP4(198, 19, 0, 9)));
	assert_drops(0, NM_DROP_TNL_UNKNOWN_PEER, 1);
}

Test(fabric, too_big_with_df_gets_fragmentation_needed_with_the_tunnel_mtu)
{
	static const struct udp_spec s = {IP_A, REMOTE_POD, 64, 1, IP4_DF, 1450, 0};
	static uint8_t f[1600];
	struct rte_mbuf *m[MAX_OUT];
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);

	feed(POD_A, f, len);
	cr_assert_eq(rte_ring_count(fab.tx), 0);
	cr_assert_eq(sent_to(POD_A, m), 1);
	const uint8_t *icmp = rte_pktmbuf_mtod_offset(m[0], const uint8_t *, ETH_LEN + 20);
	cr_assert_eq(icmp[0], 3);
	cr_assert_eq(icmp[1], 4);
	cr_assert_eq(rd16(icmp + 6), 1500 - 62, "the tunnel MTU");
	rte_pktmbuf_free(m[0]);
	assert_drops(0, NM_DROP_FRAG_NEEDED, 1);
}

Test(fabric, syn_to_a_remote_pod_has_its_mss_clamped)
{
	uint8_t f[128], inner[128];
	struct rte_mbuf *m[MAX_OUT];
	static const uint8_t mss[4] = {2, 4, 1460 >> 8, 1460 & 0xff};
	const struct tcp_spec syn = {.sport = 40000,
				     .dport = 80,
				     .seq = 1000,
				     .flags = RTE_TCP_SYN_FLAG,
				     .opts = mss,
				     .opt_len = 4};
	uint8_t *p = put_eth(f, PORT_MAC_A, MAC_A, 0x0800);
	uint8_t *tcp = put_ip4(p, IP_A, REMOTE_POD, 6, 64, 1, IP4_DF, 20 + 24);

	p = put_tcp(tcp, &syn);
	tcp_csum_fill(tcp, IP_A, REMOTE_POD, 24);
	/* The pseudo header (RFC 793) the clamped segment's checksum must still cover. */
	uint8_t pseudo[12];
	put32(pseudo, IP_A);
	put32(pseudo + 4, REMOTE_POD);
	pseudo[8] = 0, pseudo[9] = 6;
	put16(pseudo + 10, 24);

	feed(POD_A, f, (size_t)(p - f));
	cr_assert_eq(rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL), 1);
	cr_assert_eq(peer_open(m[0], inner, sizeof(inner)), 44);
	rte_pktmbuf_free(m[0]);
	cr_assert_eq(rd16(inner + 20 + 22), 1500 - 62 - 40, "MSS clamped to the tunnel MTU - 40");
	uint32_t sum = (uint32_t)ones_sum(pseudo, 12) + ones_sum(inner + 20, 24);
	sum = (sum & 0xffff) + (sum >> 16);
	cr_assert_eq(sum, 0xffff, "TCP checksum still right");
}

Test(fabric, too_big_without_df_is_fragmented_then_sealed)
{
	static const struct udp_spec s = {IP_A, REMOTE_POD, 64, 9, 0, 1450, 0};
	static uint8_t f[1600];
	uint8_t inner[1600];
	struct rte_mbuf *m[MAX_OUT];
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &s);

	feed(POD_A, f, len);
	cr_assert_eq(rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL), 2);
	long a = peer_open(m[0], inner, sizeof(inner));
	cr_assert_leq(a, 1500 - 62, "each fragment fits the tunnel MTU");
	cr_assert_eq(rd16(inner + 6) & 0x2000, 0x2000, "first fragment: more fragments");
	cr_assert_eq(ones_sum(inner, 20), 0xffff);
	long b = peer_open(m[1], inner, sizeof(inner));
	cr_assert_eq((a - 20) + (b - 20), 8 + 1450, "together the whole datagram");
	cr_assert_eq(ones_sum(inner, 20), 0xffff);
	rte_pktmbuf_free_bulk(m, 2);
	cr_assert_eq(w0->c.fragmented, 1);
}

static void
load_rules(void)
{
	char path[] = "/tmp/nm-test-fabric-sigs-XXXXXX";
	char err[512] = "";

	nm_test_write_tmp(
	    path, "reject tcp any any -> any 80 (msg:\"sqli\"; flow:to_server,established; "
		  "content:\"UNION SELECT\"; sid:1;)\n"
		  "reject udp any any -> any 54 (msg:\"evil\"; content:\"EVIL\"; sid:2;)\n");
	cr_assert_eq(nm_node_sig_load(node, path, err, sizeof(err)), 2, "%s", err);
	unlink(path);
	w0->sigs = node->dp.sigs;
}

/* A TCP segment from the remote pod (port 40000) to pod A port 80; TCP checksum 0. */
static size_t
remote_tcp(uint8_t *ip, uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
	size_t n = strlen(data);
	const struct tcp_spec t = {.sport = 40000,
				   .dport = 80,
				   .seq = seq,
				   .ack = ack,
				   .flags = flags,
				   .data = data,
				   .len = n};
	uint8_t *tcp = put_ip4(ip, REMOTE_POD, IP_A, 6, 63, 1, IP4_DF, (uint16_t)(40 + n));

	return (size_t)(put_tcp(tcp, &t) - ip);
}

Test(fabric, reject_of_a_remote_client_resets_it_through_the_tunnel)
{
	uint8_t ip[256], inner[256];
	struct rte_mbuf *m[MAX_OUT];

	load_rules();
	size_t n = remote_tcp(ip, 100, 0, RTE_TCP_SYN_FLAG, "");
	fabric_feed(peer_frame(ip, n, RX_EPOCH, 0, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 1, "the SYN reaches pod A");
	rte_pktmbuf_free(m[0]);
	/* Pod A answers: the SYN-ACK leaves sealed. */
	uint8_t f[128], *p = put_eth(f, PORT_MAC_A, MAC_A, 0x0800);
	const struct tcp_spec syn_ack = {.sport = 80,
					 .dport = 40000,
					 .seq = 500,
					 .ack = 101,
					 .flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG};

	p = put_ip4(p, IP_A, REMOTE_POD, 6, 64, 2, IP4_DF, 40);
	p = put_tcp(p, &syn_ack);
	feed(POD_A, f, (size_t)(p - f));
	cr_assert_eq(rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL), 1);
	rte_pktmbuf_free(m[0]);

	n = remote_tcp(ip, 101, 501, RTE_TCP_ACK_FLAG, "a UNION SELECT");
	fabric_feed(peer_frame(ip, n, RX_EPOCH, 1, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 1, "pod A gets a RST, not the segment");
	cr_assert_eq(rte_pktmbuf_mtod_offset(m[0], uint8_t *, ETH_LEN + 33)[0] & RTE_TCP_RST_FLAG,
		     RTE_TCP_RST_FLAG);
	rte_pktmbuf_free(m[0]);
	cr_assert_eq(rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL), 1,
		     "the remote client's RST leaves sealed");
	cr_assert_eq(peer_open(m[0], inner, sizeof(inner)), 40);
	rte_pktmbuf_free(m[0]);
	cr_assert_eq(rd32(inner + 12), IP_A);
	cr_assert_eq(rd32(inner + 16), REMOTE_POD);
	cr_assert_eq(inner[33] & RTE_TCP_RST_FLAG, RTE_TCP_RST_FLAG);
	cr_assert_eq(rd32(inner + 24), 501, "at the byte the client expects");
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1);
}

Test(fabric, udp_reject_of_a_remote_sender_answers_through_the_tunnel)
{
	uint8_t ip[128], inner[256];
	struct rte_mbuf *m[MAX_OUT];

	load_rules();
	uint8_t *p = put_ip4(ip, REMOTE_POD, IP_A, 17, 63, 3, 0, 20 + 8 + 4);
	p = put16(p, 5000);
	p = put16(p, 54);
	p = put16(p, 12);
	p = put16(p, 0);
	p = put(p, "EVIL", 4);
	fabric_feed(peer_frame(ip, (size_t)(p - ip), RX_EPOCH, 0, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 0);
	cr_assert_eq(rte_ring_dequeue_burst(fab.tx, (void **)m, MAX_OUT, NULL), 1);
	long n = peer_open(m[0], inner, sizeof(inner));
	rte_pktmbuf_free(m[0]);
	cr_assert_gt(n, 28);
	cr_assert_eq(rd32(inner + 12), IP_A, "from the pod it wrote to: its node accepts that");
	cr_assert_eq(ones_sum(inner, 20), 0xffff);
	cr_assert_eq(rd32(inner + 16), REMOTE_POD, "ICMP to the remote sender");
	cr_assert_eq(inner[9], 1);
	cr_assert_eq(inner[20], 3);
	cr_assert_eq(inner[21], 13, "administratively prohibited");
}

/* How many of node-b's (peer 0's) pods the ipcache holds. */
static unsigned int
remote_pods(void)
{
	struct nm_ipcache_entry e;
	uint32_t iter = 0, ip, n = 0;

	while (nm_ipcache_next(&node->ipc, &iter, &ip, &e) == 0)
		n += e.peer == 0;
	return n;
}

static uint64_t
ipc_gen(void)
{
	return __atomic_load_n(&node->dp.ipc_gen, __ATOMIC_RELAXED);
}

Test(fabric, announcements_of_known_identities_publish_nothing_and_a_resync_drops_the_rest)
{
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	char err[256] = "";

	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "sa-r"); /* REMOTE_POD's identity: known */
	cr_assert_eq(remote_pods(), 1, "REMOTE_POD from the fixture");
	uint64_t gen0 = node->dp.pods->generation, ipc0 = ipc_gen();
	nm_node_remote_session_begin(node, 0);
	nm_node_remote_begin(node);
	for (unsigned int k = 10; k < 14; k++) {
		a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, k));
		cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%s", err);
	}
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, 10));
	cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0,
		     "re-announced within the batch: replaced in place");
	cr_expect_eq(remote_pods(), 5, "visible at once: REMOTE_POD and .10-.13");
	cr_assert_eq(nm_node_remote_end(node, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(node->dp.pods->generation, gen0, "no new identity: no table, no compilation");
	cr_expect_eq(ipc_gen(), ipc0, "new addresses: no flow re-judges");

	nm_node_remote_begin(node);
	cr_assert_eq(nm_node_remote_pod_del(node, 0, rte_cpu_to_be_32(IP4(198, 18, 2, 13)), err,
					    sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(nm_node_remote_pod_del(node, 0, rte_cpu_to_be_32(IP4(198, 18, 2, 13)), err,
					    sizeof(err)),
		     -ENOENT, "withdrawn twice");
	cr_expect_eq(ipc_gen(), ipc0, "inside the batch: not yet");
	cr_assert_eq(nm_node_remote_end(node, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(ipc_gen(), ipc0 + 1, "a withdrawal: flows re-judge, once per batch");
	cr_expect_eq(node->dp.pods->generation, gen0, "the identity still has holders");
	cr_expect_eq(remote_pods(), 4);

	/* A new session announced only .10 and REMOTE_POD, then pods_synced. */
	nm_node_remote_session_begin(node, 0);
	nm_node_remote_begin(node);
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, 10));
	cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%s", err);
	a.ip = rte_cpu_to_be_32(REMOTE_POD);
	cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(nm_node_remote_pods_keep(node, 0), 2, ".11 and .12 go");
	cr_assert_eq(nm_node_remote_end(node, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(remote_pods(), 2);
	cr_expect_eq(node->remote_count[0], 2, "tunnel list's count agrees");
	cr_expect_eq(nm_node_remote_pods_keep(node, 0), 0, "nothing left to drop");
}

Test(fabric, a_new_remote_identity_compiles_once_and_its_last_holder_frees_it)
{
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	char err[256] = "";

	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "sa-new");
	uint64_t gen0 = node->dp.pods->generation, ipc0 = ipc_gen();
	uint32_t live0 = node->idreg.live;
	nm_node_remote_begin(node);
	for (unsigned int k = 20; k < 30; k++) {
		a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, k));
		cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(nm_node_remote_end(node, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(node->dp.pods->generation, gen0 + 1, "one compilation for ten pods");
	cr_expect_eq(node->idreg.live, live0 + 1);
	struct nm_ipcache_entry e;
	cr_assert_eq(nm_ipcache_get(&node->ipc, rte_cpu_to_be_32(IP4(198, 18, 2, 20)), &e), 0);
	cr_expect_neq(e.identity, 0);
	cr_expect_lt(e.identity, node->dp.pods->policy->n_ids, "the published policy knows it");

	/* Re-announced with another service account: the entry changes, flows re-judge. */
	snprintf(a.sa, sizeof(a.sa), "sa-r");
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, 20));
	cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(ipc_gen(), ipc0 + 1);
	cr_expect_eq(node->dp.pods->generation, gen0 + 1, "sa-new still has nine holders");

	nm_node_remote_begin(node);
	for (unsigned int k = 21; k < 30; k++)
		cr_assert_eq(nm_node_remote_pod_del(node, 0, rte_cpu_to_be_32(IP4(198, 18, 2, k)),
						    err, sizeof(err)),
			     0, "%s", err);
	cr_assert_eq(nm_node_remote_end(node, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(node->dp.pods->generation, gen0 + 2, "the last holder went: compiled again");
	cr_expect_eq(node->idreg.live, live0, "and its id freed");
}

Test(fabric, a_remote_pod_that_changes_identity_or_goes_is_judged_again)
{
	static const struct udp_spec to_remote = {IP_A, REMOTE_POD, 64, 1, 0, 100, 0};
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	struct rte_mbuf *m[MAX_OUT];
	uint8_t inner[64], f[256];
	char err[256] = "";
	uint32_t id;

	cr_assert_eq(
	    nm_node_policy_add(node, "deny from remote/sa-bad to *", &id, err, sizeof(err)), 0,
	    "%s", err);
	size_t n = remote_echo(inner, REMOTE_POD);
	fabric_feed(peer_frame(inner, n, RX_EPOCH, 0, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 1, "remote/sa-r: allowed by default");
	rte_pktmbuf_free(m[0]);
	uint64_t rejudged = w0->flows.c.reevaluated;

	/* Announced again with the denied identity: the live flow is judged again. */
	a.ip = rte_cpu_to_be_32(REMOTE_POD);
	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "sa-bad");
	cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%s", err);
	fabric_feed(peer_frame(inner, n, RX_EPOCH, 1, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 0, "remote/sa-bad: denied");
	assert_drops(0, NM_DROP_POLICY_DENIED, 1);
	cr_expect_eq(w0->flows.c.reevaluated, rejudged + 1, "the flow, not a new one");

	/* Withdrawn: neither from it nor to it. */
	cr_assert_eq(nm_node_remote_pod_del(node, 0, a.ip, err, sizeof(err)), 0, "%s", err);
	fabric_feed(peer_frame(inner, n, RX_EPOCH, 2, PEER_IP));
	cr_assert_eq(sent_to(POD_A, m), 0);
	cr_assert_eq(w0->c.drops[NM_DROP_TNL_INNER_SPOOFED], 1);
	size_t len = udp_frame(f, PORT_MAC_A, MAC_A, &to_remote);
	feed(POD_A, f, len);
	cr_assert_eq(rte_ring_count(fab.tx), 0, "nothing sealed for a withdrawn pod");
	cr_assert_eq(w0->c.drops[NM_DROP_NO_POD], 1);
	rte_pktmbuf_free_bulk(m, sent_to(POD_A, m)); /* the ICMP host unreachable */
}

Test(fabric, an_announcement_over_the_ipcache_size_is_refused_and_counted)
{
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	char err[256] = "";
	uint32_t room = node->ipc.max - node->ipc.n;

	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "sa-r");
	nm_node_remote_begin(node);
	for (uint32_t k = 0; k < room; k++) {
		a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, 100) + k);
		cr_assert_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0, "%u: %s", k,
			     err);
	}
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, 100) + room);
	cr_expect_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), -ENOSPC);
	cr_expect(strstr(err, "ipcache full") != NULL, "%s", err);
	cr_expect_eq(node->ipc.refused, 1);
	a.ip = rte_cpu_to_be_32(IP4(198, 18, 2, 100));
	cr_expect_eq(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)), 0,
		     "a present address is replaced, full or not");
	cr_assert_eq(nm_node_remote_end(node, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(node->ipc.n, node->ipc.max);
}

/* ---- the fabric-address index of the tunnel state (nodemesh/tnl_state.h) ---- */

static struct nm_tnl_state *
index_state(uint32_t max_peers, uint32_t in_use)
{
	struct nm_tnl_state *st = calloc(1, nm_tnl_state_size(max_peers));

	cr_assert_not_null(st);
	st->max_peers = max_peers;
	for (uint32_t i = 0; i < in_use; i++) {
		st->peers[i].in_use = 1;
		st->peers[i].fabric_ip = rte_cpu_to_be_32(IP4(198, 19, 0, 0) + 10 + i);
	}
	nm_tnl_index_build(st);
	return st;
}

Test(tnl_index, sized_a_power_of_two_at_least_twice_the_slots)
{
	static const uint32_t cases[][2] = {{1, 2},	  {2, 4},	{3, 8},	     {16, 32},
					    {1000, 2048}, {1024, 2048}, {4096, 8192}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(nm_tnl_index_slots(cases[i][0]), cases[i][1], "%u slots", cases[i][0]);
}

Test(tnl_index, finds_each_of_a_thousand_peers_and_no_stranger)
{
	struct nm_tnl_state *st = index_state(1024, 1000);

	for (uint32_t i = 0; i < 1000; i++)
		cr_expect_eq(nm_tnl_peer_by_ip(st, st->peers[i].fabric_ip), (int)i, "peer %u", i);
	cr_expect_eq(nm_tnl_peer_by_ip(st, rte_cpu_to_be_32(IP4(198, 19, 0, 0) + 10 + 1000)), -1);
	cr_expect_eq(nm_tnl_peer_by_ip(st, 0), -1);
	free(st);
}

Test(tnl_index, a_cleared_slot_is_not_found_after_the_rebuild)
{
	struct nm_tnl_state *st = index_state(64, 64);
	uint32_t ip = st->peers[17].fabric_ip;

	memset(&st->peers[17], 0, sizeof(st->peers[17]));
	nm_tnl_index_build(st);
	cr_expect_eq(nm_tnl_peer_by_ip(st, ip), -1);
	for (uint32_t i = 0; i < 64; i++)
		if (i != 17)
			cr_expect_eq(nm_tnl_peer_by_ip(st, st->peers[i].fabric_ip), (int)i);
	free(st);
}
