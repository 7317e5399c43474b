/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking at scale: new-flow setup rate, forwarding with a
 * million live connections, and memory per flow entry.
 *
 * Same harness as bench_pipeline: a node from nm_node_create (workers NOT
 * launched; one worker, so both entries of a local flow - one per end pod -
 * are in workers[0]->flows), two pods on net_null ports, default deny plus
 * one allow rule, bursts of 32 64-byte IPv4/UDP frames from pod A to pod B
 * through nm_worker_rx_pod + nm_worker_flush on the main lcore, rte_rdtsc.
 * Each burst is refilled (mbuf alloc, frame copy, UDP ports written); the
 * refill is timed apart and excluded. Pod IPs are fixed (anti-spoofing);
 * a connection is its (source port, destination port) pair.
 *
 *   warm   4096 connections, each sent repeatedly: the table holds only
 *          them (the foundation's forwarding figure), next to a bare
 *          MAC-swap + tx_burst loop over the same bursts.
 *   setup  N further connections, every packet the first of a new one
 *          (2 entries created per packet): cycles per new connection;
 *          baseline: the same N packets sent again (flows established,
 *          same order, same table).
 *   cold   packets over all N + 4096 live connections in random order
 *          (table cache-cold), vs the 4096 hot ones again in the full table.
 *   memory rte_malloc heap bytes of a flow table of the same capacity
 *          (nm_flow_table_init on a scratch table) / capacity; process RSS
 *          (/proc/self/statm) growth while the table filled / entries.
 *
 * Usage: bench_flows [-n CONNECTIONS] [-P MILLION_PACKETS] [-p FILE_PREFIX]
 *   -n new connections in `setup` (default 1000000; flow_capacity is set
 *      to 2 * (n + 4096) entries), -P packets per steady loop (default 4).
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

#include "bench_common.h"
#include "node_priv.h"
#include "pod_table.h"
#include "nodemesh/worker.h"
#include "config.h"
#include "node.h"

#define N_HOT	   4096	 /* connections 0..N_HOT-1 */
#define SPORT_SPAN 64512 /* source ports 1024..65535 */

static uint8_t tmpl[BENCH_FRAME_LEN];

/* Which connection each packet of a burst belongs to. */
enum order { SEQ, HOT, RANDOM };

struct feed {
	enum order order;
	uint64_t next;	/* SEQ: next connection; HOT: index in 0..N_HOT-1 */
	uint64_t first; /* SEQ: first connection */
	uint64_t span;	/* RANDOM: connections 0..span-1 */
	uint64_t rng;
};

static inline uint64_t
next_conn(struct feed *f)
{
	unsigned __int128 scaled;
	uint64_t c;

	switch (f->order) {
	case SEQ:
		return f->next++;
	case HOT:
		c = f->next;
		f->next = (f->next + 1) & (N_HOT - 1);
		return c;
	default:
		/* xorshift64*, then a multiply-shift into 0..span-1 */
		f->rng ^= f->rng >> 12;
		f->rng ^= f->rng << 25;
		f->rng ^= f->rng >> 27;
		scaled = (unsigned __int128)(f->rng * 2685821657736338717ull) * f->span;
		return (uint64_t)(scaled >> 64);
	}
}

static inline void
refill(struct rte_mempool *mp, struct rte_mbuf **pkts, struct feed *f)
{
	if (rte_pktmbuf_alloc_bulk(mp, pkts, NM_BURST) != 0) {
		fprintf(stderr, "bench_flows: mbuf pool empty\n");
		exit(1);
	}
	for (unsigned int i = 0; i < NM_BURST; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(d + BENCH_UDP_OFF);
		uint64_t c = next_conn(f);

		rte_memcpy(d, tmpl, BENCH_FRAME_LEN);
		udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + c % SPORT_SPAN));
		udp->dst_port = rte_cpu_to_be_16((uint16_t)(1 + c / SPORT_SPAN));
		m->data_len = BENCH_FRAME_LEN;
		m->pkt_len = BENCH_FRAME_LEN;
	}
}

static void
run_pipeline(struct nm_node *node, struct rte_mempool *mp, uint64_t bursts, struct feed *f,
	     struct bench_timing *t)
{
	struct nm_worker *w = node->dp.workers[0];
	const struct nm_pod_table *tbl = node->dp.pods;
	struct rte_mbuf *pkts[NM_BURST];

	for (uint64_t b = 0; b < bursts; b++) {
		uint64_t t0 = rte_rdtsc();
		refill(mp, pkts, f);
		uint64_t t1 = rte_rdtsc();
		nm_worker_rx_pod(w, tbl, 0, pkts, NM_BURST);
		nm_worker_flush(w, tbl);
		uint64_t t2 = rte_rdtsc();
		bench_account(t, t0, t1, t2);
	}
}

static void
run_macswap(uint16_t port, struct rte_mempool *mp, uint64_t bursts, struct feed *f,
	    struct bench_timing *t)
{
	struct rte_mbuf *pkts[NM_BURST];

	for (uint64_t b = 0; b < bursts; b++) {
		uint64_t t0 = rte_rdtsc();
		refill(mp, pkts, f);
		uint64_t t1 = rte_rdtsc();
		bench_macswap_tx(port, pkts);
		uint64_t t2 = rte_rdtsc();
		bench_account(t, t0, t1, t2);
	}
}

static size_t
heap_bytes(void)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

static uint64_t
rss_bytes(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint32_t *
burst_array(uint64_t n)
{
	uint32_t *a = malloc((n + 1) * sizeof(uint32_t));

	if (a == NULL) {
		fprintf(stderr, "bench_flows: out of memory\n");
		exit(1);
	}
	memset(a, 0, (n + 1) * sizeof(uint32_t)); /* touched now, not in the RSS figures */
	return a;
}

/* Frees what burst_array gave each timing: on every way out of main. */
static void
bursts_free(struct bench_timing *const *timed, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(timed[i]->per_burst);
		timed[i]->per_burst = NULL;
	}
}

int
main(int argc, char **argv)
{
	char prefix[64] = "";
	double mpkts = 4.0;
	long long nconn = 1000000;
	int c;

	while ((c = getopt(argc, argv, "n:P:p:h")) != -1) {
		switch (c) {
		case 'n':
			nconn = atoll(optarg);
			break;
		case 'P':
			mpkts = atof(optarg);
			break;
		case 'p':
			snprintf(prefix, sizeof(prefix), "%s", optarg);
			break;
		default:
			fprintf(
			    stderr,
			    "usage: %s [-n CONNECTIONS] [-P MILLION_PACKETS] [-p FILE_PREFIX]\n",
			    argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	/* flow_capacity is at most 2^24 entries (ctrl/config.c), 2 per connection. */
	if (nconn < NM_BURST || nconn > (1 << 23) - 2 * N_HOT) {
		fprintf(stderr, "bench_flows: -n must be in [%d, %d]\n", NM_BURST,
			(1 << 23) - 2 * N_HOT);
		return 2;
	}
	if (mpkts <= 0 || mpkts > 1000) {
		fprintf(stderr, "bench_flows: -P must be in (0, 1000]\n");
		return 2;
	}
	nconn &= ~(long long)(NM_BURST - 1);
	uint64_t n_conn = (uint64_t)nconn;
	uint32_t cap = (uint32_t)(2 * (n_conn + N_HOT));

	/* Room for the node's table and a scratch one of the same capacity (~350 B/entry). */
	char mem[32];
	snprintf(mem, sizeof(mem), "%" PRIu64,
		 RTE_MAX((uint64_t)3072, 1024 + 2 * (uint64_t)cap * 400 / (1 << 20)));
	if (prefix[0] == '\0')
		snprintf(prefix, sizeof(prefix), "nmflows%d", (int)getpid());
	if (bench_eal_init("bench_flows", argv[0], mem, prefix) != 0)
		return 1;

	struct rte_mempool *mp = bench_pool_create("bench_flows");
	if (mp == NULL)
		return 1;
	uint64_t steady_bursts =
	    RTE_MAX((uint64_t)(mpkts * 1e6 / NM_BURST) & ~(uint64_t)1, (uint64_t)2);
	uint64_t setup_bursts = n_conn / NM_BURST;
	uint64_t max_bursts = RTE_MAX(steady_bursts, setup_bursts);
	struct bench_timing hot = {0}, swap = {0}, setup = {0}, replay = {0}, cold = {0},
			    hot2 = {0};
	struct bench_timing warm = {0};
	struct bench_timing *const timed[] = {&hot, &swap, &setup, &replay, &cold, &hot2};
	for (size_t i = 0; i < RTE_DIM(timed); i++)
		timed[i]->per_burst = burst_array(max_bursts);

	struct nm_config cfg;
	char err[256];
	nm_config_defaults(&cfg);
	cfg.flow_capacity = cap;
	cfg.flow_log[0] = '\0';
	cfg.store.dir[0] = '\0';

	size_t heap0 = heap_bytes();
	uint64_t rss0 = rss_bytes();
	struct nm_node *node = nm_node_create(&cfg, err, sizeof(err));
	if (node == NULL) {
		fprintf(stderr, "bench_flows: nm_node_create: %s\n", err);
		bursts_free(timed, RTE_DIM(timed));
		return 1;
	}
	size_t heap1 = heap_bytes();
	uint64_t rss1 = rss_bytes();

	struct bench_pods bp;
	if (bench_pods_setup(node, "bench_flows", &bp) != 0)
		return 1;
	/* UDP ports are written per packet (refill); they are not in the IP checksum. */
	bench_frame_build(tmpl, &node->dp.pods->pods[0].port_mac, bp.ip_a, bp.ip_b, 0);
	struct nm_worker *w = node->dp.workers[0];
	struct nm_flow_table *ft = &w->flows;
	int rc = 0;

	/* 1. 4096 connections only, vs MAC swap; alternate halves against drift. */
	struct feed fh = {.order = HOT};
	run_pipeline(node, mp, BENCH_WARMUP_BURSTS, &fh, &warm);
	run_macswap(bp.port_b, mp, BENCH_WARMUP_BURSTS, &fh, &warm);
	uint64_t tx0 = w->c.tx_packets, d0 = bench_dropped(w);
	for (int half = 0; half < 2; half++) {
		run_pipeline(node, mp, steady_bursts / 2, &fh, &hot);
		run_macswap(bp.port_b, mp, steady_bursts / 2, &fh, &swap);
	}
	uint64_t hot_fwd = w->c.tx_packets - tx0;
	uint32_t n_hot_entries = ft->n;

	/* 2. setup: N new connections, then the same packets again (established). */
	uint64_t rss2 = rss_bytes();
	uint32_t n_before = ft->n;
	uint64_t created0 = ft->c.created;
	struct feed fs = {.order = SEQ, .first = N_HOT, .next = N_HOT};
	tx0 = w->c.tx_packets;
	uint64_t wall0 = rte_rdtsc();
	run_pipeline(node, mp, setup_bursts, &fs, &setup);
	uint64_t wall_setup = rte_rdtsc() - wall0;
	uint64_t setup_fwd = w->c.tx_packets - tx0;
	uint64_t rss3 = rss_bytes();
	uint32_t n_after = ft->n;
	uint64_t created = ft->c.created - created0;
	uint64_t refused = ft->c.refused;

	fs.next = N_HOT;
	tx0 = w->c.tx_packets;
	run_pipeline(node, mp, setup_bursts, &fs, &replay);
	uint64_t replay_fwd = w->c.tx_packets - tx0;

	/* 3. random over every live connection (cache-cold), vs the hot 4096 again. */
	uint64_t live = N_HOT + n_conn;
	struct feed fr = {.order = RANDOM, .span = live, .rng = 0x9e3779b97f4a7c15ull};
	tx0 = w->c.tx_packets;
	for (int half = 0; half < 2; half++) {
		run_pipeline(node, mp, steady_bursts / 2, &fr, &cold);
		run_pipeline(node, mp, steady_bursts / 2, &fh, &hot2);
	}
	uint64_t cold_fwd = w->c.tx_packets - tx0;
	uint64_t drops_total = bench_dropped(w) - d0;
	uint32_t n_final = ft->n;

	/* 4. heap of a flow table of the same capacity, measured on a scratch one. */
	struct nm_flow_table scratch;
	size_t heap_s0 = heap_bytes();
	if (nm_flow_table_init(&scratch, cap, cfg.flow_timeout_s, node->dp.tsc_hz, 1,
			       (int)rte_socket_id(), 7) < 0) {
		fprintf(stderr, "bench_flows: scratch nm_flow_table_init(%u) failed\n", cap);
		bursts_free(timed, RTE_DIM(timed));
		return 1;
	}
	size_t heap_s1 = heap_bytes();
	nm_flow_table_fini(&scratch);

	double hz = (double)rte_get_tsc_hz();
	double heap_entry = (double)(heap_s1 - heap_s0) / cap;
	double heap_node_entry = (double)(heap1 - heap0) / cap;
	uint64_t entries_added = (uint64_t)n_after - n_before;
	double rss_fill_entry = entries_added ? (double)(rss3 - rss2) / (double)entries_added : 0;
	double rss_all_entry = (double)(rss3 - rss0) / (double)n_after;

	double hot_cpp = bench_median_per_pkt(&hot), swap_cpp = bench_median_per_pkt(&swap);
	double setup_cpp = bench_median_per_pkt(&setup), replay_cpp = bench_median_per_pkt(&replay);
	double cold_cpp = bench_median_per_pkt(&cold), hot2_cpp = bench_median_per_pkt(&hot2);
	double setup_mean = bench_mean_per_pkt(&setup), replay_mean = bench_mean_per_pkt(&replay);
	double cold_mean = bench_mean_per_pkt(&cold), hot_mean = bench_mean_per_pkt(&hot);
	double refill_cpp = (double)(setup.refill + replay.refill + cold.refill + hot.refill) /
			    (double)(setup.pkts + replay.pkts + cold.pkts + hot.pkts);

	printf("bench_flows: 64 B IPv4/UDP pod A -> pod B, one worker, bursts of %d, TSC %.0f MHz,"
	       " flow_capacity %u entries, sizeof(struct nm_flow) %zu\n",
	       NM_BURST, hz / 1e6, cap, sizeof(struct nm_flow));
	printf("  cycles/pkt = median burst / 32 (mean in brackets); refill %.1f cycles/pkt "
	       "excluded\n",
	       refill_cpp);
	printf(" setup: %" PRIu64 " new connections (%" PRIu64 " entries created, %u -> %u in "
	       "table, %" PRIu64 " refused)\n",
	       n_conn, created, n_before, n_after, refused);
	printf("  new connection (1st packet):      %7.1f (%.1f) cycles  %6.3f M conn/s "
	       "(wall incl. refill %.3f M/s)\n",
	       setup_cpp, setup_mean, hz / setup_cpp / 1e6,
	       (double)n_conn / ((double)wall_setup / hz) / 1e6);
	printf("  baseline same pkts, established:  %7.1f (%.1f) cycles/pkt  ratio %.2f\n",
	       replay_cpp, replay_mean, setup_cpp / replay_cpp);
	printf(" forwarding, %" PRIu64 " pkts per loop:\n", hot.pkts);
	printf("  %8" PRIu64 " live conns, random:     %7.1f (%.1f) cycles/pkt  %6.2f Mpps\n", live,
	       cold_cpp, cold_mean, hz / cold_cpp / 1e6);
	printf("  %8d live conns (table holds only them): %7.1f (%.1f) cycles/pkt  %6.2f Mpps\n",
	       N_HOT, hot_cpp, hot_mean, hz / hot_cpp / 1e6);
	printf("  %8d hot conns in the full table:   %7.1f cycles/pkt  %6.2f Mpps\n", N_HOT,
	       hot2_cpp, hz / hot2_cpp / 1e6);
	printf("  baseline mac-swap + tx_burst:     %7.1f cycles/pkt  %6.2f Mpps\n", swap_cpp,
	       hz / swap_cpp / 1e6);
	printf(" memory:\n");
	printf("  heap (nm_flow_table_init, cap %u): %.1f B/entry, %.1f B/connection "
	       "(nm_node_create total: %.1f B/entry)\n",
	       cap, heap_entry, 2 * heap_entry, heap_node_entry);
	printf("  RSS growth while %" PRIu64 " entries were created: %.1f B/entry, %.1f "
	       "B/connection\n",
	       entries_added, rss_fill_entry, 2 * rss_fill_entry);
	printf("  RSS from before nm_node_create to full (%u entries): %.1f B/entry "
	       "(node create alone +%.1f MiB)\n",
	       n_after, rss_all_entry, (double)(rss1 - rss0) / (1 << 20));
	printf("  forwarded: hot %" PRIu64 "/%" PRIu64 ", setup %" PRIu64 "/%" PRIu64
	       ", replay %" PRIu64 "/%" PRIu64 ", cold+hot %" PRIu64 "/%" PRIu64 "; drops %" PRIu64
	       "; entries at end %u\n",
	       hot_fwd, hot.pkts, setup_fwd, setup.pkts, replay_fwd, replay.pkts, cold_fwd,
	       cold.pkts + hot2.pkts, drops_total, n_final);

	if (n_hot_entries != 2 * N_HOT || created != 2 * n_conn || refused != 0 ||
	    n_after != 2 * live || n_final != n_after || drops_total != 0 || hot_fwd != hot.pkts ||
	    setup_fwd != setup.pkts || replay_fwd != replay.pkts ||
	    cold_fwd != cold.pkts + hot2.pkts) {
		fprintf(stderr, "bench_flows: FAILED: flows or packets missing (see above)\n");
		rc = 1;
	}
	printf("RESULT conns=%" PRIu64 " setup_cycles_per_conn=%.1f setup_mean_cycles=%.1f "
	       "setup_mconn_per_s=%.3f established_cycles_per_pkt=%.1f "
	       "cold_cycles_per_pkt=%.1f cold_mpps=%.2f hot_cycles_per_pkt=%.1f hot_mpps=%.2f "
	       "hot_full_cycles_per_pkt=%.1f macswap_cycles_per_pkt=%.1f "
	       "heap_bytes_per_entry=%.1f rss_bytes_per_entry=%.1f entries=%u refused=%" PRIu64
	       " drops=%" PRIu64 " refill_cycles_per_pkt=%.1f tsc_hz=%.0f ok=%d\n",
	       n_conn, setup_cpp, setup_mean, hz / setup_cpp / 1e6, replay_cpp, cold_cpp,
	       hz / cold_cpp / 1e6, hot_cpp, hz / hot_cpp / 1e6, hot2_cpp, swap_cpp, heap_entry,
	       rss_fill_entry, n_after, refused, drops_total, refill_cpp, hz, rc == 0);

	nm_node_destroy(node);
	rte_mempool_free(mp);
	bursts_free(timed, RTE_DIM(timed));
	rte_eal_cleanup();
	return rc;
}
