/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-memory pipeline harness shared by test_worker.c and
 * test_inspect.c: pod ports are net_ring ethdevs (rte_eth_from_rings) with
 * an RX ring the test fills and a TX ring the test drains; the node comes
 * from nm_node_create() and its workers are never launched: a test calls
 * nm_worker_rx_pod / nm_worker_rx_handoff / nm_worker_flush itself, which
 * is what one worker loop turn does. Pods are inserted without af_packet
 * by building a pod table the way node.c does (clone, fill a slot, index,
 * swap). Include once per test program.
 */
#ifndef NM_UNIT_PIPELINE_H
#define NM_UNIT_PIPELINE_H

#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "node_priv.h"
#include "pod_table.h"
#include "nodemesh/worker.h"
#include "nodemesh/tunnel.h"
#include "fabric.h"
#include "inspect.h"
#include "policy_compile.h"
#include "config.h"
#include "node.h"

/* Not every test program uses every address and MAC. */
#pragma GCC diagnostic ignored "-Wunused-const-variable"

#define ETH_LEN 14
#define MAX_OUT 64

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define IP_A		IP4(198, 18, 0, 1)
#define IP_B		IP4(198, 18, 0, 2)
#define IP_C		IP4(198, 18, 0, 3)
#define IP_NONE		IP4(198, 18, 0, 99)
#define IP_GW		IP4(169, 254, 1, 1)

#define IP4_DF 0x4000
#define IP4_MF 0x2000

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO_MAC[6] = {0};
/* A pod's own MAC, and the MAC of our end of its link (the gateway it sees). */
static const uint8_t MAC_A[6] = {0x02, 0xaa, 0, 0, 0, 0x01};
static const uint8_t MAC_B[6] = {0x02, 0xbb, 0, 0, 0, 0x02};
static const uint8_t MAC_C[6] = {0x02, 0xcc, 0, 0, 0, 0x03};
static const uint8_t PORT_MAC_A[6] = {0x02, 0x0a, 0, 0, 0, 0x01};
static const uint8_t PORT_MAC_B[6] = {0x02, 0x0b, 0, 0, 0, 0x02};
static const uint8_t PORT_MAC_C[6] = {0x02, 0x0c, 0, 0, 0, 0x03};

/* One in-memory pod port. */
struct tport {
	uint16_t id;
	struct rte_ring *rx; /* the test enqueues what the pod sends */
	struct rte_ring *tx; /* the test dequeues what the dataplane sent to the pod */
};

enum { POD_A, POD_B, POD_C, N_TEST_PODS };

static struct nm_node *node;
static struct tport ports[N_TEST_PODS];
static uint16_t slot_of[N_TEST_PODS] = {0, 1, 2};

/* ---- bytes ------------------------------------------------------------- */

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	return put16(p + 2, (uint16_t)v);
}

static inline uint8_t *
put(uint8_t *p, const void *src, size_t len)
{
	if (len > 0)
		memcpy(p, src, len);
	return p + len;
}

/* RFC 1071 one's-complement sum, folded, not inverted. */
static inline uint16_t
ones_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* ---- frames ------------------------------------------------------------ */

static inline uint8_t *
put_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	p = put(p, dst, 6);
	p = put(p, src, 6);
	return put16(p, type);
}

/* 20-byte IPv4 header with a correct checksum. Addresses in host order. */
static inline uint8_t *
put_ip4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, uint16_t id,
	uint16_t frag, uint16_t total)
{
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, total);
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = ttl;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, (uint16_t)~ones_sum(ip, 20));
	return ip + 20;
}

struct udp_spec {
	uint32_t src, dst;
	uint8_t ttl;
	uint16_t id;
	uint16_t frag;	/* DF only: UDP frames here are whole datagrams */
	uint16_t data;	/* UDP payload bytes */
	uint16_t sport; /* 0: 40000 */
};

/* Pod A (or whoever src_mac is) sends UDP; payload is pattern(i). Returns the length. */
static inline size_t
udp_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src, const struct udp_spec *s)
{
	uint16_t udp_len = (uint16_t)(8 + s->data);
	uint8_t *p = put_eth(f, eth_dst, eth_src, 0x0800);

	p = put_ip4(p, s->src, s->dst, 17, s->ttl, s->id, s->frag, (uint16_t)(20 + udp_len));
	p = put16(p, s->sport != 0 ? s->sport : 40000);
	p = put16(p, 53);
	p = put16(p, udp_len);
	p = put16(p, 0); /* no UDP checksum (RFC 768 allows it over IPv4) */
	for (size_t i = 0; i < s->data; i++)
		*p++ = pattern(i);
	return (size_t)(p - f);
}

static inline size_t
arp_frame(uint8_t *f, const uint8_t *eth_src, uint16_t op, const uint8_t *sha, uint32_t spa,
	  const uint8_t *tha, uint32_t tpa)
{
	uint8_t *p = put_eth(f, op == 1 ? BCAST : PORT_MAC_A, eth_src, 0x0806);

	p = put16(p, 1);
	p = put16(p, 0x0800);
	*p++ = 6;
	*p++ = 4;
	p = put16(p, op);
	p = put(p, sha, 6);
	p = put32(p, spa);
	p = put(p, tha, 6);
	p = put32(p, tpa);
	return (size_t)(p - f);
}

/* ---- node and ports ---------------------------------------------------- */

static inline void
eal_up(int argc, char **argv)
{
	cr_assert_geq(rte_eal_init(argc, argv), 0, "rte_eal_init failed");
}

static inline struct tport
port_create(const char *name)
{
	struct rte_eth_conf conf;
	struct tport p;
	char rn[RTE_RING_NAMESIZE];

	snprintf(rn, sizeof(rn), "%s_rx", name);
	p.rx = rte_ring_create(rn, 256, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rn, sizeof(rn), "%s_tx", name);
	p.tx = rte_ring_create(rn, 256, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	cr_assert(p.rx != NULL && p.tx != NULL);
	int id = rte_eth_from_rings(name, &p.rx, 1, &p.tx, 1, rte_socket_id());
	cr_assert_geq(id, 0, "rte_eth_from_rings(%s) failed", name);
	p.id = (uint16_t)id;

	memset(&conf, 0, sizeof(conf));
	cr_assert_eq(rte_eth_dev_configure(p.id, 1, 1, &conf), 0);
	cr_assert_eq(rte_eth_rx_queue_setup(p.id, 0, 256, rte_socket_id(), NULL, node->dp.pool), 0);
	cr_assert_eq(rte_eth_tx_queue_setup(p.id, 0, 256, rte_socket_id(), NULL), 0);
	cr_assert_eq(rte_eth_dev_start(p.id), 0);
	return p;
}

/* Index t and make it the current table, as node.c's publish does. */
static inline void
table_publish(struct nm_pod_table *t)
{
	cr_assert_eq(nm_pod_table_index(t, node->dp.hash_seed, node->dp.n_workers), 0);
	nm_policy_free(t->policy);
	t->policy = nm_policy_compile(NULL, 0, NM_VERDICT_ALLOW, t);
	cr_assert_not_null(t->policy);
	nm_pod_table_free(node->dp.pods);
	node->dp.pods = t;
}

/* Publish a copy of the current table with pod i in its slot, owned by worker. */
static inline struct nm_pod_live *
pod_insert(unsigned int i, const char *name, uint32_t ip, const uint8_t *port_mac, uint16_t worker)
{
	struct nm_pod_table *t =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);

	cr_assert_not_null(t);
	struct nm_pod *p = &t->pods[slot_of[i]];
	memset(p, 0, sizeof(*p));
	snprintf(p->spec.name, sizeof(p->spec.name), "%s", name);
	p->spec.ip = rte_cpu_to_be_32(ip);
	p->port_id = ports[i].id;
	memcpy(p->port_mac.addr_bytes, port_mac, 6);
	p->worker = worker;
	p->id = node->next_pod_id++;
	p->live = rte_zmalloc("test_pod_live", sizeof(*p->live), RTE_CACHE_LINE_SIZE);
	cr_assert_not_null(p->live);
	table_publish(t);
	return p->live;
}

static inline struct nm_pod_live *
live(unsigned int i)
{
	return node->dp.pods->pods[slot_of[i]].live;
}

static inline void
learn_mac(unsigned int i, const uint8_t *mac)
{
	memcpy(live(i)->pod_mac.addr_bytes, mac, 6);
	live(i)->mac_known = true;
}

static inline void
node_up(int argc, char **argv)
{
	struct nm_config cfg;
	char err[256] = "";

	eal_up(argc, argv);
	nm_config_defaults(&cfg);
	cfg.mbufs = 4096; /* the defaults' 16384 would take most of the test EAL */
	node = nm_node_create(&cfg, err, sizeof(err));
	cr_assert_not_null(node, "nm_node_create: %s", err);
	ports[POD_A] = port_create("net_ring_a");
	ports[POD_B] = port_create("net_ring_b");
	ports[POD_C] = port_create("net_ring_c");
}

static inline void
drain_all(void)
{
	struct rte_mbuf *m[MAX_OUT];
	unsigned int n;

	for (unsigned int i = 0; i < N_TEST_PODS; i++)
		while ((n = rte_ring_dequeue_burst(ports[i].tx, (void **)m, MAX_OUT, NULL)) > 0)
			rte_pktmbuf_free_bulk(m, n);
}

static inline void
node_down(void)
{
	if (node == NULL)
		return;
	drain_all();
	/* The test's pods have no af_packet port for nm_node_destroy to detach. */
	for (int slot = 0; slot < NM_MAX_PODS; slot++) {
		rte_free(node->dp.pods->pods[slot].live);
		node->dp.pods->pods[slot].live = NULL;
	}
	nm_node_destroy(node);
	node = NULL;
}

/* One worker: lcore 0 is the control thread, lcore 1 (on the same CPU) the worker. */
static inline void
one_worker_up(void)
{
	char *argv[] = {
	    "test_worker",	   "--no-huge",	       "-m", "256", "--no-pci", "--no-shconf",
	    "--log-level=*:error", "--lcores=0@0,1@0", NULL};

	node_up(8, argv);
	cr_assert_eq(node->dp.n_workers, 1);
	pod_insert(POD_A, "a", IP_A, PORT_MAC_A, 0);
	pod_insert(POD_B, "b", IP_B, PORT_MAC_B, 0);
}

static inline void
two_workers_up(void)
{
	char *argv[] = {"test_worker",
			"--no-huge",
			"-m",
			"256",
			"--no-pci",
			"--no-shconf",
			"--log-level=*:error",
			"--lcores=0@0,1@0,2@0",
			NULL};

	node_up(8, argv);
	cr_assert_eq(node->dp.n_workers, 2);
	pod_insert(POD_A, "a", IP_A, PORT_MAC_A, 0);
	pod_insert(POD_C, "c", IP_C, PORT_MAC_C, 1);
	learn_mac(POD_C, MAC_C);
}

/* ---- driving the pipeline ---------------------------------------------- */

static inline struct rte_mbuf *
mbuf_of(const uint8_t *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(node->dp.pool);

	cr_assert_not_null(m);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert_not_null(d, "frame of %zu bytes does not fit an mbuf", len);
	memcpy(d, bytes, len);
	return m;
}

/* Pod i sends these frames; worker w runs one turn over them (RX, pipeline, flush). */
static inline void
feed_mbufs(unsigned int w, unsigned int i, struct rte_mbuf **m, unsigned int n)
{
	const struct nm_pod_table *t = node->dp.pods;
	struct rte_mbuf *pkts[NM_BURST];

	cr_assert_eq(rte_ring_enqueue_burst(ports[i].rx, (void **)m, n, NULL), n);
	uint16_t got = rte_eth_rx_burst(ports[i].id, 0, pkts, NM_BURST);
	cr_assert_eq(got, n, "port RX gave %u of %u frames", got, n);
	nm_worker_rx_pod(node->dp.workers[w], t, slot_of[i], pkts, got);
	nm_worker_flush(node->dp.workers[w], t);
}

static inline void
feed(unsigned int i, const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = mbuf_of(f, len);

	feed_mbufs(0, i, &m, 1);
}

/* What the dataplane transmitted to pod i since the last call. */
static inline unsigned int
sent_to(unsigned int i, struct rte_mbuf **out)
{
	return rte_ring_dequeue_burst(ports[i].tx, (void **)out, MAX_OUT, NULL);
}

static inline void
assert_nothing_sent(void)
{
	for (unsigned int i = 0; i < N_TEST_PODS; i++)
		cr_assert_eq(rte_ring_count(ports[i].tx), 0, "pod %u's TX ring holds %u frames", i,
			     rte_ring_count(ports[i].tx));
}

/* Exactly `count` drops for `reason` on worker w and none for any other reason. */
static inline void
assert_drops(unsigned int w, enum nm_drop_reason reason, uint64_t count)
{
	const struct nm_worker *wk = node->dp.workers[w];

	for (unsigned int r = 1; r < NM_DROP_MAX; r++) {
		uint64_t want = r == (unsigned int)reason ? count : 0;
		cr_assert_eq(wk->c.drops[r], want, "worker %u drops[%s] = %lu, want %lu", w,
			     nm_drop_name(r), (unsigned long)wk->c.drops[r], (unsigned long)want);
	}
}

static inline void
reset_counters(void)
{
	for (unsigned int w = 0; w < node->dp.n_workers; w++)
		memset(&node->dp.workers[w]->c, 0, sizeof(node->dp.workers[w]->c));
	for (unsigned int i = 0; i < N_TEST_PODS; i++)
		if (live(i) != NULL)
			memset(&live(i)->c, 0, sizeof(live(i)->c));
}

/* An ICMP error to pod A (from the gateway) about the frame `orig`. */
static inline void
assert_icmp_to_a(struct rte_mbuf *m, uint8_t type, uint8_t code, uint16_t mtu, const uint8_t *orig)
{
	const uint8_t *e = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip = e + ETH_LEN, *icmp = ip + 20;

	cr_assert_eq(m->nb_segs, 1);
	cr_assert_arr_eq(e, MAC_A, 6, "eth dst is not pod A");
	cr_assert_arr_eq(e + 6, PORT_MAC_A, 6, "eth src is not A's gateway MAC");
	cr_assert_eq(rd16(e + 12), 0x0800);
	cr_assert_eq(ip[9], 1);
	cr_assert_eq(ip[8], 64);
	cr_assert_eq(ones_sum(ip, 20), 0xffff, "IPv4 header checksum wrong");
	cr_assert_eq(rd32(ip + 12), IP_GW);
	cr_assert_eq(rd32(ip + 16), IP_A);
	cr_assert_eq(icmp[0], type);
	cr_assert_eq(icmp[1], code);
	cr_assert_eq(rd16(icmp + 6), mtu);
	cr_assert_eq(rte_pktmbuf_pkt_len(m), ETH_LEN + 20 + 8 + 28);
	cr_assert_eq(ones_sum(icmp, 8 + 28), 0xffff, "ICMP checksum wrong");
	cr_assert_arr_eq(icmp + 8, orig + ETH_LEN, 28, "quote is not the original header + 8");
}

#endif
