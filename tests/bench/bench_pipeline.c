/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cycles per packet of the worker pipeline on in-memory bursts.
 *
 * A node is created with nm_node_create (workers are NOT launched), two
 * pods are put into its pod table by hand, each on a net_null port (TX
 * just frees), and bursts of 32 prebuilt 64-byte IPv4/UDP frames from pod
 * A to pod B (many flows: UDP ports vary) go through nm_worker_rx_pod +
 * nm_worker_flush on the main lcore, timed with rte_rdtsc.
 *
 * Baseline in the same run: a bare MAC-swap loop over the same bursts with
 * rte_eth_tx_burst to the same net_null port.
 *
 * Both loops refill their burst each turn (allocate 32 mbufs, copy the
 * template frame in): that refill is timed separately and subtracted, so
 * the figures are the forwarding cost only.
 *
 * Usage: bench_pipeline [-n MILLION_PACKETS] [-p FILE_PREFIX]
 * (EAL arguments are built in:
 * --no-huge -m 512 --no-pci, own --file-prefix; --in-memory is refused
 * together with --no-huge by DPDK 22.11)
 * The last line is machine-readable: "RESULT key=value ...".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp.h"
#include "nodemesh/rule.h"
#include "nodemesh/config.h"
#include "nodemesh/node.h"

#define FRAME_LEN 64
#define N_FLOWS 4096
#define WARMUP_BURSTS 20000

static const struct rte_ether_addr pod_a_mac = {{0x02, 0, 0, 0, 0, 0x0a}};
static const struct rte_ether_addr pod_b_mac = {{0x02, 0, 0, 0, 0, 0x0b}};

struct timing {
	uint64_t refill;
	uint64_t work;
	uint64_t pkts;
	uint32_t *per_burst; /* work cycles of each timed burst (NULL: not kept) */
	uint64_t n_bursts;
};

static inline void
account(struct timing *t, uint64_t t0, uint64_t t1, uint64_t t2)
{
	t->refill += t1 - t0;
	t->work += t2 - t1;
	if (t->per_burst != NULL)
		t->per_burst[t->n_bursts] = (uint32_t)RTE_MIN(t2 - t1, (uint64_t)UINT32_MAX);
	t->n_bursts++;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median burst, per packet: robust against the process being preempted
 * in the middle of a burst on a busy machine (the mean is not).
 */
static double
median_per_pkt(struct timing *t)
{
	qsort(t->per_burst, t->n_bursts, sizeof(t->per_burst[0]), cmp_u32);
	return (double)t->per_burst[t->n_bursts / 2] / NM_BURST;
}

static uint8_t tmpl[N_FLOWS][FRAME_LEN];

static void
build_templates(const struct rte_ether_addr *gw_mac, uint32_t src_ip, uint32_t dst_ip)
{
	for (unsigned int f = 0; f < N_FLOWS; f++) {
		uint8_t *b = tmpl[f];
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
		uint16_t ip_len = FRAME_LEN - sizeof(*eth);

		memset(b, 0, FRAME_LEN);
		rte_ether_addr_copy(gw_mac, &eth->dst_addr);
		rte_ether_addr_copy(&pod_a_mac, &eth->src_addr);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(ip_len);
		ip->packet_id = rte_cpu_to_be_16((uint16_t)f);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = src_ip;
		ip->dst_addr = dst_ip;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + f));
		udp->dst_port = rte_cpu_to_be_16((uint16_t)(5000 + (f % 64)));
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
		udp->dgram_cksum = 0;
	}
}

/* Allocate a burst and write the frames (TTL and MACs are rewritten by forwarding). */
static inline void
refill(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned int *flow)
{
	if (rte_pktmbuf_alloc_bulk(mp, pkts, NM_BURST) != 0) {
		fprintf(stderr, "bench_pipeline: mbuf pool empty\n");
		exit(1);
	}
	for (unsigned int i = 0; i < NM_BURST; i++) {
		struct rte_mbuf *m = pkts[i];

		rte_memcpy(rte_pktmbuf_mtod(m, void *), tmpl[*flow], FRAME_LEN);
		m->data_len = FRAME_LEN;
		m->pkt_len = FRAME_LEN;
		*flow = (*flow + 1) & (N_FLOWS - 1);
	}
}

static void
run_pipeline(struct nm_node *node, struct rte_mempool *mp, uint64_t bursts, struct timing *t)
{
	struct nm_worker *w = node->workers[0];
	const struct nm_pod_table *tbl = node->pods;
	struct rte_mbuf *pkts[NM_BURST];
	unsigned int flow = 0;

	for (uint64_t b = 0; b < bursts; b++) {
		uint64_t t0 = rte_rdtsc();
		refill(mp, pkts, &flow);
		uint64_t t1 = rte_rdtsc();
		nm_worker_rx_pod(w, tbl, 0, pkts, NM_BURST);
		nm_worker_flush(w, tbl);
		uint64_t t2 = rte_rdtsc();
		account(t, t0, t1, t2);
	}
	t->pkts += bursts * NM_BURST;
}

static void
run_macswap(uint16_t port, struct rte_mempool *mp, uint64_t bursts, struct timing *t)
{
	struct rte_mbuf *pkts[NM_BURST];
	unsigned int flow = 0;

	for (uint64_t b = 0; b < bursts; b++) {
		uint64_t t0 = rte_rdtsc();
		refill(mp, pkts, &flow);
		uint64_t t1 = rte_rdtsc();
		for (unsigned int i = 0; i < NM_BURST; i++) {
			struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
			struct rte_ether_addr tmp = eth->dst_addr;

			eth->dst_addr = eth->src_addr;
			eth->src_addr = tmp;
		}
		uint16_t sent = rte_eth_tx_burst(port, 0, pkts, NM_BURST);
		if (sent < NM_BURST)
			rte_pktmbuf_free_bulk(&pkts[sent], NM_BURST - sent);
		uint64_t t2 = rte_rdtsc();
		account(t, t0, t1, t2);
	}
	t->pkts += bursts * NM_BURST;
}

static int
setup_port(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, NM_PORT_DESC, rte_eth_dev_socket_id(port),
					    NULL, mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, NM_PORT_DESC, rte_eth_dev_socket_id(port),
					    NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	return rc;
}

/* Put pods A (slot 0) and B (slot 1), both owned by worker 0, into the node's table. */
static int
insert_pods(struct nm_node *node, uint16_t port_a, uint16_t port_b, uint32_t ip_a,
	    uint32_t ip_b)
{
	struct nm_pod_table *t = nm_pod_table_clone(node->pods, node->hash_seed, node->n_workers);
	const uint16_t ports[2] = {port_a, port_b};
	const uint32_t ips[2] = {ip_a, ip_b};

	if (t == NULL)
		return -1;
	for (unsigned int s = 0; s < 2; s++) {
		struct nm_pod *p = &t->pods[s];

		memset(p, 0, sizeof(*p));
		snprintf(p->spec.name, sizeof(p->spec.name), "bench-%c", 'a' + s);
		snprintf(p->spec.ns, sizeof(p->spec.ns), "bench");
		snprintf(p->spec.sa, sizeof(p->spec.sa), "bench");
		p->spec.ip = ips[s];
		p->spec.driver = NM_DRV_AF_PACKET;
		p->id = node->next_pod_id++;
		p->port_id = ports[s];
		p->worker = 0;
		if (rte_eth_macaddr_get(ports[s], &p->port_mac) != 0)
			return -1;
		p->live = rte_zmalloc("nm_pod_live", sizeof(*p->live), RTE_CACHE_LINE_SIZE);
		if (p->live == NULL)
			return -1;
	}
	/* Pod B's MAC is known, as if it had sent a frame; so is A's. */
	t->pods[0].live->pod_mac = pod_a_mac;
	t->pods[0].live->mac_known = true;
	t->pods[1].live->pod_mac = pod_b_mac;
	t->pods[1].live->mac_known = true;
	if (nm_pod_table_index(t, node->hash_seed, node->n_workers) < 0)
		return -1;
	/* Default deny and one allow rule, as a production node would run. */
	struct nm_rule rule;
	char err[256];
	if (nm_rule_parse("allow from bench/* to bench/* proto udp", &rule, err, sizeof(err)) < 0)
		return -1;
	rule.id = 1;
	t->policy = nm_policy_compile(&rule, 1, NM_VERDICT_DENY, t);
	if (t->policy == NULL)
		return -1;
	/* No worker runs: swapping the pointer needs no grace period. */
	nm_pod_table_free(node->pods);
	node->pods = t;
	return 0;
}

static double
per_pkt(uint64_t cycles, uint64_t pkts)
{
	return (double)cycles / (double)pkts;
}

int
main(int argc, char **argv)
{
	char prefix[64] = "";
	double mpkts = 4.0;
	int c;

	while ((c = getopt(argc, argv, "n:p:h")) != -1) {
		switch (c) {
		case 'n':
			mpkts = atof(optarg);
			break;
		case 'p':
			snprintf(prefix, sizeof(prefix), "%s", optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n MILLION_PACKETS] [-p FILE_PREFIX]\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (mpkts <= 0 || mpkts > 1000) {
		fprintf(stderr, "bench_pipeline: -n must be in (0, 1000]\n");
		return 2;
	}
	if (prefix[0] == '\0')
		snprintf(prefix, sizeof(prefix), "nmbench%d", (int)getpid());
	char *eal_argv[] = {
		argv[0], "--lcores", "0@0,1@0", "--no-huge", "-m", "512", "--no-pci",
		"--file-prefix", prefix, "--vdev", "net_null0", "--vdev",
		"net_null1", "--log-level", "lib.eal:warning", NULL,
	};
	int eal_argc = (int)RTE_DIM(eal_argv) - 1;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "bench_pipeline: rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}

	struct nm_config cfg;
	char err[256];
	nm_config_defaults(&cfg);
	struct nm_node *node = nm_node_create(&cfg, err, sizeof(err));
	if (node == NULL) {
		fprintf(stderr, "bench_pipeline: nm_node_create: %s\n", err);
		return 1;
	}

	uint16_t port_a, port_b;
	if (rte_eth_dev_get_port_by_name("net_null0", &port_a) != 0 ||
	    rte_eth_dev_get_port_by_name("net_null1", &port_b) != 0 ||
	    setup_port(port_a, node->pool) != 0 || setup_port(port_b, node->pool) != 0) {
		fprintf(stderr, "bench_pipeline: net_null ports not available\n");
		return 1;
	}
	uint32_t ip_a = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 1));
	uint32_t ip_b = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 2));
	if (insert_pods(node, port_a, port_b, ip_a, ip_b) != 0) {
		fprintf(stderr, "bench_pipeline: inserting pods failed\n");
		return 1;
	}
	build_templates(&node->pods->pods[0].port_mac, ip_a, ip_b);

	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench_pkts", 8192, 256, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "bench_pipeline: pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}

	uint64_t bursts = (uint64_t)(mpkts * 1e6 / NM_BURST) & ~(uint64_t)1;
	struct timing warm = {0}, nm = {0}, base = {0};

	nm.per_burst = calloc(bursts, sizeof(uint32_t));
	base.per_burst = calloc(bursts, sizeof(uint32_t));
	if (bursts == 0 || nm.per_burst == NULL || base.per_burst == NULL) {
		fprintf(stderr, "bench_pipeline: out of memory\n");
		return 1;
	}
	struct nm_worker *w = node->workers[0];

	/* Warm caches and pools, then alternate halves so drift hits both alike. */
	run_pipeline(node, mp, WARMUP_BURSTS, &warm);
	run_macswap(port_b, mp, WARMUP_BURSTS, &warm);
	uint64_t tx0 = w->c.tx_packets;
	for (int half = 0; half < 2; half++) {
		run_pipeline(node, mp, bursts / 2, &nm);
		run_macswap(port_b, mp, bursts / 2, &base);
	}
	uint64_t forwarded = w->c.tx_packets - tx0;
	uint64_t dropped = 0;
	for (unsigned int r = 1; r < NM_DROP_MAX; r++)
		dropped += w->c.drops[r];

	double hz = (double)rte_get_tsc_hz();
	double nm_mean = per_pkt(nm.work, nm.pkts);
	double base_mean = per_pkt(base.work, base.pkts);
	double nm_cpp = median_per_pkt(&nm);
	double base_cpp = median_per_pkt(&base);
	double refill_cpp = per_pkt(nm.refill + base.refill, nm.pkts + base.pkts);

	printf("bench_pipeline: %" PRIu64 " packets per loop, 64 B IPv4/UDP, %d flows, bursts of %d, "
	       "TSC %.0f MHz\n", nm.pkts, N_FLOWS, NM_BURST, hz / 1e6);
	printf("  cycles/pkt, median burst (mean over all bursts in brackets):\n");
	printf("  nodemesh pipeline (rx_pod+flush): %7.1f (%.1f) cycles/pkt  %6.2f Mpps\n",
	       nm_cpp, nm_mean, hz / nm_cpp / 1e6);
	printf("  baseline mac-swap + tx_burst:     %7.1f (%.1f) cycles/pkt  %6.2f Mpps\n",
	       base_cpp, base_mean, hz / base_cpp / 1e6);
	printf("  ratio nodemesh/baseline:          %7.2f\n", nm_cpp / base_cpp);
	printf("  refill (alloc + 64 B copy), excluded from both: %.1f cycles/pkt\n", refill_cpp);
	printf("  pipeline forwarded %" PRIu64 " of %" PRIu64 ", dropped %" PRIu64 "\n", forwarded,
	       nm.pkts, dropped);
	printf("RESULT nm_cycles_per_pkt=%.1f base_cycles_per_pkt=%.1f ratio=%.2f "
	       "nm_mean_cycles_per_pkt=%.1f base_mean_cycles_per_pkt=%.1f "
	       "refill_cycles_per_pkt=%.1f forwarded=%" PRIu64 " sent=%" PRIu64 " tsc_hz=%.0f\n",
	       nm_cpp, base_cpp, nm_cpp / base_cpp, nm_mean, base_mean, refill_cpp, forwarded,
	       nm.pkts, hz);

	int rc = forwarded == nm.pkts ? 0 : 1;
	nm_node_destroy(node);
	rte_mempool_free(mp);
	free(nm.per_burst);
	free(base.per_burst);
	rte_eal_cleanup();
	return rc;
}
