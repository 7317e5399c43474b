/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-memory pipeline harness (unit_pipeline.h): the node, the pods'
 * net_ring ports, and the calls that drive one worker turn and check what
 * came out. Built once and linked into test_worker, test_inspect and
 * test_fabric.
 */
#include "unit_pipeline.h"

const uint8_t MAC_A[6] = {0x02, 0xaa, 0, 0, 0, 0x01};
const uint8_t MAC_B[6] = {0x02, 0xbb, 0, 0, 0, 0x02};
const uint8_t MAC_C[6] = {0x02, 0xcc, 0, 0, 0, 0x03};
const uint8_t PORT_MAC_A[6] = {0x02, 0x0a, 0, 0, 0, 0x01};
const uint8_t PORT_MAC_B[6] = {0x02, 0x0b, 0, 0, 0, 0x02};
const uint8_t PORT_MAC_C[6] = {0x02, 0x0c, 0, 0, 0, 0x03};

struct nm_node *node;
struct tport ports[N_TEST_PODS];
const uint16_t slot_of[N_TEST_PODS] = {0, 1, 2};

/* ---- frames ------------------------------------------------------------ */

size_t
pod_arp_frame(uint8_t *f, const uint8_t *eth_src, uint16_t op, const uint8_t *sha, uint32_t spa,
	      const uint8_t *tha, uint32_t tpa)
{
	uint8_t spa_bytes[4], tpa_bytes[4];

	put32(spa_bytes, spa);
	put32(tpa_bytes, tpa);
	return arp_frame(f, 0, op == 1 ? BCAST : PORT_MAC_A, eth_src, op, sha, spa_bytes, tha,
			 tpa_bytes);
}

/* ---- node and ports ---------------------------------------------------- */

static void
eal_up(int argc, char **argv)
{
	cr_assert_geq(rte_eal_init(argc, argv), 0, "rte_eal_init failed");
}

struct tport
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
void
table_publish(struct nm_pod_table *t)
{
	cr_assert_eq(nm_pod_table_index(t, node->dp.hash_seed, node->dp.n_workers), 0);
	nm_policy_free(t->policy);
	t->policy = nm_policy_compile(NULL, 0, NM_VERDICT_ALLOW, t, NULL);
	cr_assert_not_null(t->policy);
	nm_pod_table_free(node->dp.pods);
	node->dp.pods = t;
}

/* Publish a copy of the current table with pod i in its slot, owned by worker. */
struct nm_pod_live *
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

struct nm_pod_live *
live(unsigned int i)
{
	return node->dp.pods->pods[slot_of[i]].live;
}

void
learn_mac(unsigned int i, const uint8_t *mac)
{
	memcpy(live(i)->pod_mac.addr_bytes, mac, 6);
	live(i)->mac_known = true;
}

static void
node_up(int argc, char **argv)
{
	struct nm_config cfg;
	char err[256] = "";

	eal_up(argc, argv);
	nm_config_defaults(&cfg);
	cfg.mbufs = 4096;	 /* the defaults' 16384 would take most of the test EAL */
	cfg.store.dir[0] = '\0'; /* no forensic store under /var/lib from a unit test */
	node = nm_node_create(&cfg, err, sizeof(err));
	cr_assert_not_null(node, "nm_node_create: %s", err);
	ports[POD_A] = port_create("net_ring_a");
	ports[POD_B] = port_create("net_ring_b");
	ports[POD_C] = port_create("net_ring_c");
}

void
drain_all(void)
{
	struct rte_mbuf *m[MAX_OUT];
	unsigned int n;

	for (unsigned int i = 0; i < N_TEST_PODS; i++)
		while ((n = rte_ring_dequeue_burst(ports[i].tx, (void **)m, MAX_OUT, NULL)) > 0)
			rte_pktmbuf_free_bulk(m, n);
}

void
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
void
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

void
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

/* Pod i sends these frames; worker w runs one turn over them (RX, pipeline, flush). */
void
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

void
feed(unsigned int i, const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = mbuf_of(node->dp.pool, f, len);

	feed_mbufs(0, i, &m, 1);
}

/* What the dataplane transmitted to pod i since the last call. */
unsigned int
sent_to(unsigned int i, struct rte_mbuf **out)
{
	return rte_ring_dequeue_burst(ports[i].tx, (void **)out, MAX_OUT, NULL);
}

void
assert_nothing_sent(void)
{
	for (unsigned int i = 0; i < N_TEST_PODS; i++)
		cr_assert_eq(rte_ring_count(ports[i].tx), 0, "pod %u's TX ring holds %u frames", i,
			     rte_ring_count(ports[i].tx));
}

/* Exactly `count` drops for `reason` on worker w and none for any other reason. */
void
assert_drops(unsigned int w, enum nm_drop_reason reason, uint64_t count)
{
	const struct nm_worker *wk = node->dp.workers[w];

	for (unsigned int r = 1; r < NM_DROP_MAX; r++) {
		uint64_t want = r == (unsigned int)reason ? count : 0;
		cr_assert_eq(wk->c.drops[r], want, "worker %u drops[%s] = %lu, want %lu", w,
			     nm_drop_name(r), (unsigned long)wk->c.drops[r], (unsigned long)want);
	}
}

void
reset_counters(void)
{
	for (unsigned int w = 0; w < node->dp.n_workers; w++)
		memset(&node->dp.workers[w]->c, 0, sizeof(node->dp.workers[w]->c));
	for (unsigned int i = 0; i < N_TEST_PODS; i++)
		if (live(i) != NULL)
			memset(&live(i)->c, 0, sizeof(live(i)->c));
}

/* An ICMP error to pod A (from the gateway) about the frame `orig`. */
void
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
