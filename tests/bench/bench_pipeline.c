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
 * With -s RULES the node loads that signature file first, so every
 * datagram's payload is also scanned (block database) by the pipeline.
 *
 * With -a START_AT the timed loops wait for that wall-clock instant
 * (seconds since the epoch) after set-up, so that copies of this bench, one
 * per core, run their loops together (scripts/bench scale: 1 vs 2 workers);
 * the RESULT line gives the loops' wall-clock span to check the overlap.
 *
 * Usage: bench_pipeline [-n MILLION_PACKETS] [-p FILE_PREFIX] [-s RULES] [-a START_AT]
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
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "bench_common.h"
#include "bench_start.h"
#include "node_priv.h"
#include "pod_table.h"
#include "nodemesh/worker.h"
#include "config.h"
#include "node.h"

#define N_FLOWS 4096

static uint8_t tmpl[N_FLOWS][BENCH_FRAME_LEN];

/* Frame F: UDP source port 1024 + F, destination 5000 + F % 64, IP id F. */
static void
build_templates(const struct rte_ether_addr *gw_mac, uint32_t src_ip, uint32_t dst_ip)
{
	for (unsigned int f = 0; f < N_FLOWS; f++) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(tmpl[f] + BENCH_UDP_OFF);

		bench_frame_build(tmpl[f], gw_mac, src_ip, dst_ip, (uint16_t)f);
		udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + f));
		udp->dst_port = rte_cpu_to_be_16((uint16_t)(5000 + (f % 64)));
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

		rte_memcpy(rte_pktmbuf_mtod(m, void *), tmpl[*flow], BENCH_FRAME_LEN);
		m->data_len = BENCH_FRAME_LEN;
		m->pkt_len = BENCH_FRAME_LEN;
		*flow = (*flow + 1) & (N_FLOWS - 1);
	}
}

static void
run_pipeline(struct nm_node *node, struct rte_mempool *mp, uint64_t bursts, struct bench_timing *t)
{
	struct nm_worker *w = node->dp.workers[0];
	const struct nm_pod_table *tbl = node->dp.pods;
	struct rte_mbuf *pkts[NM_BURST];
	unsigned int flow = 0;

	for (uint64_t b = 0; b < bursts; b++) {
		uint64_t t0 = rte_rdtsc();
		refill(mp, pkts, &flow);
		uint64_t t1 = rte_rdtsc();
		nm_worker_rx_pod(w, tbl, 0, pkts, NM_BURST);
		nm_worker_flush(w, tbl);
		uint64_t t2 = rte_rdtsc();
		bench_account(t, t0, t1, t2);
	}
}

static void
run_macswap(uint16_t port, struct rte_mempool *mp, uint64_t bursts, struct bench_timing *t)
{
	struct rte_mbuf *pkts[NM_BURST];
	unsigned int flow = 0;

	for (uint64_t b = 0; b < bursts; b++) {
		uint64_t t0 = rte_rdtsc();
		refill(mp, pkts, &flow);
		uint64_t t1 = rte_rdtsc();
		bench_macswap_tx(port, pkts);
		uint64_t t2 = rte_rdtsc();
		bench_account(t, t0, t1, t2);
	}
}

int
main(int argc, char **argv)
{
	char prefix[64] = "";
	const char *sigs = NULL;
	double mpkts = 4.0, start_at = 0;
	int c;

	while ((c = getopt(argc, argv, "n:p:s:a:h")) != -1) {
		switch (c) {
		case 'n':
			mpkts = atof(optarg);
			break;
		case 'p':
			snprintf(prefix, sizeof(prefix), "%s", optarg);
			break;
		case 's':
			sigs = optarg;
			break;
		case 'a':
			if (bench_start_parse("bench_pipeline", optarg, &start_at) != 0)
				return 2;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-n MILLION_PACKETS] [-p FILE_PREFIX] [-s RULES] "
				"[-a START_AT]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (mpkts <= 0 || mpkts > 1000) {
		fprintf(stderr, "bench_pipeline: -n must be in (0, 1000]\n");
		return 2;
	}
	if (prefix[0] == '\0')
		snprintf(prefix, sizeof(prefix), "nmbench%d", (int)getpid());
	char mem[] = "512";
	if (bench_eal_init("bench_pipeline", argv[0], mem, prefix) != 0)
		return 1;

	struct nm_config cfg;
	char err[256];
	nm_config_defaults(&cfg);
	cfg.store.dir[0] = '\0'; /* the pipeline alone: no forensic store */
	struct nm_node *node = nm_node_create(&cfg, err, sizeof(err));
	if (node == NULL) {
		fprintf(stderr, "bench_pipeline: nm_node_create: %s\n", err);
		return 1;
	}

	char serr[1024];
	int n_sigs = sigs != NULL ? nm_node_sig_load(node, sigs, serr, sizeof(serr)) : 0;
	if (n_sigs < 0) {
		fprintf(stderr, "bench_pipeline: %s\n", serr);
		return 1;
	}
	node->dp.workers[0]->sigs = node->dp.sigs; /* what the top of a worker turn does */

	struct bench_pods bp;
	if (bench_pods_setup(node, "bench_pipeline", &bp) != 0)
		return 1;
	build_templates(&node->dp.pods->pods[0].port_mac, bp.ip_a, bp.ip_b);

	struct rte_mempool *mp = bench_pool_create("bench_pipeline");
	if (mp == NULL)
		return 1;

	uint64_t bursts = (uint64_t)(mpkts * 1e6 / NM_BURST) & ~(uint64_t)1;
	struct bench_timing warm = {0}, nm = {0}, base = {0};

	nm.per_burst = calloc(bursts, sizeof(uint32_t));
	base.per_burst = calloc(bursts, sizeof(uint32_t));
	if (bursts == 0 || nm.per_burst == NULL || base.per_burst == NULL) {
		fprintf(stderr, "bench_pipeline: out of memory\n");
		free(nm.per_burst);
		free(base.per_burst);
		return 1;
	}
	struct nm_worker *w = node->dp.workers[0];

	/* Warm caches and pools, then alternate halves so drift hits both alike. */
	run_pipeline(node, mp, BENCH_WARMUP_BURSTS, &warm);
	run_macswap(bp.port_b, mp, BENCH_WARMUP_BURSTS, &warm);
	if (bench_start_wait("bench_pipeline", start_at) != 0) {
		free(nm.per_burst);
		free(base.per_burst);
		return 1;
	}
	double wall_start = bench_wall_now();
	uint64_t tx0 = w->c.tx_packets;
	for (int half = 0; half < 2; half++) {
		run_pipeline(node, mp, bursts / 2, &nm);
		run_macswap(bp.port_b, mp, bursts / 2, &base);
	}
	double wall_end = bench_wall_now();
	uint64_t forwarded = w->c.tx_packets - tx0;
	uint64_t dropped = bench_dropped(w);

	double hz = (double)rte_get_tsc_hz();
	double nm_mean = bench_mean_per_pkt(&nm);
	double base_mean = bench_mean_per_pkt(&base);
	double nm_cpp = bench_median_per_pkt(&nm);
	double base_cpp = bench_median_per_pkt(&base);
	double refill_cpp = (double)(nm.refill + base.refill) / (double)(nm.pkts + base.pkts);

	printf(
	    "bench_pipeline: %" PRIu64 " packets per loop, 64 B IPv4/UDP, %d flows, bursts of %d, "
	    "TSC %.0f MHz, %d signatures%s%s\n",
	    nm.pkts, N_FLOWS, NM_BURST, hz / 1e6, n_sigs, sigs ? " from " : "", sigs ? sigs : "");
	printf("  cycles/pkt, median burst (mean over all bursts in brackets):\n");
	printf("  nodemesh pipeline (rx_pod+flush): %7.1f (%.1f) cycles/pkt  %6.2f Mpps\n", nm_cpp,
	       nm_mean, hz / nm_cpp / 1e6);
	printf("  baseline mac-swap + tx_burst:     %7.1f (%.1f) cycles/pkt  %6.2f Mpps\n",
	       base_cpp, base_mean, hz / base_cpp / 1e6);
	printf("  ratio nodemesh/baseline:          %7.2f\n", nm_cpp / base_cpp);
	printf("  refill (alloc + 64 B copy), excluded from both: %.1f cycles/pkt\n", refill_cpp);
	printf("  pipeline forwarded %" PRIu64 " of %" PRIu64 ", dropped %" PRIu64 "\n", forwarded,
	       nm.pkts, dropped);
	printf("RESULT nm_cycles_per_pkt=%.1f base_cycles_per_pkt=%.1f ratio=%.2f "
	       "nm_mean_cycles_per_pkt=%.1f base_mean_cycles_per_pkt=%.1f "
	       "refill_cycles_per_pkt=%.1f forwarded=%" PRIu64 " sent=%" PRIu64 " tsc_hz=%.0f "
	       "wall_start=%.3f wall_end=%.3f\n",
	       nm_cpp, base_cpp, nm_cpp / base_cpp, nm_mean, base_mean, refill_cpp, forwarded,
	       nm.pkts, hz, wall_start, wall_end);

	int rc = forwarded == nm.pkts ? 0 : 1;
	nm_node_destroy(node);
	rte_mempool_free(mp);
	free(nm.per_burst);
	free(base.per_burst);
	rte_eal_cleanup();
	return rc;
}
