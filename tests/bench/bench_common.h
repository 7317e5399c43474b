/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Harness shared by bench_pipeline and bench_flows: EAL start-up with the
 * built-in arguments (--no-huge, own --file-prefix, two net_null ports),
 * the packet pool, the two pods A and B put into the node's pod table by
 * hand on those ports (default deny plus one allow rule), the 64-byte
 * IPv4/UDP template frame from pod A to pod B, the MAC-swap baseline, and
 * the per-burst timing (refill and work cycles, median and mean per packet).
 * Error messages are printed with the program name given.
 */
#ifndef NM_BENCH_COMMON_H
#define NM_BENCH_COMMON_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "node_priv.h"
#include "pod_table.h"
#include "nodemesh/flow.h"
#include "nodemesh/worker.h"
#include "policy_compile.h"

#define BENCH_FRAME_LEN	    64
#define BENCH_WARMUP_BURSTS 20000
/* Offset of the UDP header in the frame (no IP options). */
#define BENCH_UDP_OFF (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr))

/* Cycles of the timed bursts: refill (excluded) and work, apart. */
struct bench_timing {
	uint64_t refill;
	uint64_t work;
	uint64_t pkts;
	uint32_t *per_burst; /* work cycles of each timed burst (NULL: not kept) */
	uint64_t n_bursts;
};

/* One burst of NM_BURST packets: refill t0..t1, work t1..t2. */
static inline void
bench_account(struct bench_timing *t, uint64_t t0, uint64_t t1, uint64_t t2)
{
	t->refill += t1 - t0;
	t->work += t2 - t1;
	if (t->per_burst != NULL)
		t->per_burst[t->n_bursts] = (uint32_t)RTE_MIN(t2 - t1, (uint64_t)UINT32_MAX);
	t->n_bursts++;
	t->pkts += NM_BURST;
}

/*
 * Median burst, per packet: robust against the process being preempted
 * in the middle of a burst on a busy machine (the mean is not). Sorts
 * per_burst; 0 without bursts.
 */
double bench_median_per_pkt(struct bench_timing *t);

/* Mean work cycles per packet; 0 without packets. */
double bench_mean_per_pkt(const struct bench_timing *t);

/* The baseline's work on a burst: swap the MACs, send on PORT queue 0, free the rest. */
static inline void
bench_macswap_tx(uint16_t port, struct rte_mbuf **pkts)
{
	for (unsigned int i = 0; i < NM_BURST; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
		struct rte_ether_addr tmp = eth->dst_addr;

		eth->dst_addr = eth->src_addr;
		eth->src_addr = tmp;
	}
	uint16_t sent = rte_eth_tx_burst(port, 0, pkts, NM_BURST);
	if (sent < NM_BURST)
		rte_pktmbuf_free_bulk(&pkts[sent], NM_BURST - sent);
}

/*
 * rte_eal_init with the built-in arguments: lcores 0@0,1@0, --no-huge,
 * -m MEM (MiB), --no-pci, --file-prefix PREFIX, net_null0 and net_null1.
 * (--in-memory is refused together with --no-huge by DPDK 22.11.)
 */
int bench_eal_init(const char *prog, char *argv0, char *mem, char *prefix);

/* The benchmark's packet pool ("bench_pkts", 8192 mbufs). */
struct rte_mempool *bench_pool_create(const char *prog);

/* Pods A (slot 0) and B (slot 1) of the node's table. */
struct bench_pods {
	uint16_t port_a, port_b; /* net_null0, net_null1 */
	uint32_t ip_a, ip_b;	 /* 198.18.0.1, 198.18.0.2, network order */
};

/*
 * Start net_null0 and net_null1 on the node's pool and put pods A and B,
 * both owned by worker 0 and with their MACs known, into the node's table
 * with default deny and one rule allowing UDP between pods of namespace
 * "bench". No worker may be running. 0, or -1 with a message.
 */
int bench_pods_setup(struct nm_node *node, const char *prog, struct bench_pods *bp);

/*
 * A BENCH_FRAME_LEN IPv4/UDP frame from pod A (source MAC) to GW_MAC:
 * TTL 64, IP checksum valid, UDP ports and checksum 0.
 */
void bench_frame_build(uint8_t *b, const struct rte_ether_addr *gw_mac, uint32_t src_ip,
		       uint32_t dst_ip, uint16_t packet_id);

/* Packets the worker dropped, for any reason. */
uint64_t bench_dropped(const struct nm_worker *w);

#endif /* NM_BENCH_COMMON_H */
