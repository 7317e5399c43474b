/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Harness shared by bench_pipeline and bench_flows (bench_common.h): EAL
 * start-up, packet pool, the two pods on net_null ports with their allow
 * policy, the template frame, and the timing figures. Linked into each
 * benchmark program; workers are never launched, so the node's pod table
 * is replaced by hand without a grace period.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "bench_common.h"
#include "rule.h"

static const struct rte_ether_addr pod_a_mac = {{0x02, 0, 0, 0, 0, 0x0a}};
static const struct rte_ether_addr pod_b_mac = {{0x02, 0, 0, 0, 0, 0x0b}};

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

double
bench_median_per_pkt(struct bench_timing *t)
{
	if (t->n_bursts == 0)
		return 0;
	qsort(t->per_burst, t->n_bursts, sizeof(t->per_burst[0]), cmp_u32);
	return (double)t->per_burst[t->n_bursts / 2] / NM_BURST;
}

double
bench_mean_per_pkt(const struct bench_timing *t)
{
	return t->pkts ? (double)t->work / (double)t->pkts : 0;
}

/*
 * The first CPU this process may run on. EAL pins its lcores to the CPUs
 * --lcores names, overriding the affinity `taskset -c N` gave the process:
 * a fixed "0@0" put every bench on CPU 0 whatever the script asked, and two
 * copies meant for two cores on the same one.
 */
static int
first_allowed_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return 0;
}

int
bench_eal_init(const char *prog, char *argv0, char *mem, char *prefix)
{
	char lcores[32];
	int cpu = first_allowed_cpu();

	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", cpu, cpu);
	/* One option and its value per line. */
	// clang-format off
	char *eal_argv[] = {
		argv0,
		"--lcores", lcores,
		"--no-huge",
		"-m", mem,
		"--no-pci",
		"--file-prefix", prefix,
		"--vdev", "net_null0",
		"--vdev", "net_null1",
		"--log-level", "lib.eal:warning",
		NULL,
	};
	// clang-format on
	int eal_argc = (int)RTE_DIM(eal_argv) - 1;

	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed: %s\n", prog, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

struct rte_mempool *
bench_pool_create(const char *prog)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(
	    "bench_pkts", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());

	if (mp == NULL)
		fprintf(stderr, "%s: pool: %s\n", prog, rte_strerror(rte_errno));
	return mp;
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
insert_pods(struct nm_node *node, const struct bench_pods *bp)
{
	struct nm_pod_table *t =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	const uint16_t ports[2] = {bp->port_a, bp->port_b};
	const uint32_t ips[2] = {bp->ip_a, bp->ip_b};

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
	if (nm_pod_table_index(t, node->dp.hash_seed, node->dp.n_workers) < 0)
		return -1;
	/* Default deny and one allow rule, as a production node would run. */
	struct nm_rule rule;
	char err[256];
	if (nm_rule_parse("allow from bench/* to bench/* proto udp", &rule, err, sizeof(err)) < 0)
		return -1;
	rule.id = 1;
	t->policy = nm_policy_compile(&rule, 1, NM_VERDICT_DENY, t, NULL);
	if (t->policy == NULL)
		return -1;
	/* No worker runs: swapping the pointer needs no grace period. */
	nm_pod_table_free(node->dp.pods);
	node->dp.pods = t;
	return 0;
}

int
bench_pods_setup(struct nm_node *node, const char *prog, struct bench_pods *bp)
{
	if (rte_eth_dev_get_port_by_name("net_null0", &bp->port_a) != 0 ||
	    rte_eth_dev_get_port_by_name("net_null1", &bp->port_b) != 0 ||
	    setup_port(bp->port_a, node->dp.pool) != 0 ||
	    setup_port(bp->port_b, node->dp.pool) != 0) {
		fprintf(stderr, "%s: net_null ports not available\n", prog);
		return -1;
	}
	bp->ip_a = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 1));
	bp->ip_b = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 2));
	if (insert_pods(node, bp) != 0) {
		fprintf(stderr, "%s: inserting pods failed\n", prog);
		return -1;
	}
	return 0;
}

void
bench_frame_build(uint8_t *b, const struct rte_ether_addr *gw_mac, uint32_t src_ip, uint32_t dst_ip,
		  uint16_t packet_id)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ip_len = BENCH_FRAME_LEN - sizeof(*eth);

	memset(b, 0, BENCH_FRAME_LEN);
	rte_ether_addr_copy(gw_mac, &eth->dst_addr);
	rte_ether_addr_copy(&pod_a_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->packet_id = rte_cpu_to_be_16(packet_id);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src_ip;
	ip->dst_addr = dst_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip); /* ports are not in it */
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
}

uint64_t
bench_dropped(const struct nm_worker *w)
{
	uint64_t d = 0;

	for (unsigned int r = 1; r < NM_DROP_MAX; r++)
		d += w->c.drops[r];
	return d;
}
