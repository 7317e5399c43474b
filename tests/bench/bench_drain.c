/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's cost of writing flow records (issue 16: no event-
 * loop turn over 50 ms while records drain at 100 k a second, nothing
 * lost). A node from nm_node_create (workers not launched) with two pods
 * and its flow log in a temp file; worker 0's record ring is filled with
 * R records of a flow between the pods, then nm_node_drain_records()
 * empties it, timed with rte_rdtsc. Baseline: write(2) of the same
 * number of lines of the same length (what the log costs without building
 * the records' JSON).
 *
 * Usage: bench_drain [-r RECORDS_PER_TURN] [-t TURNS] [-p FILE_PREFIX]
 *   -r records per drain (default 1000: 100 k/s at a 10 ms turn), at most
 *      the ring's NM_REC_RING_SIZE; -t drains timed (default 200).
 * The last line is machine-readable: "RESULT key=value ...".
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "bench_common.h"
#include "node.h"

static void
fill(struct nm_node *node, const struct bench_pods *bp, unsigned int n, uint64_t now)
{
	struct nm_flow_record *rec;
	struct nm_worker *w = node->dp.workers[0];

	for (unsigned int i = 0; i < n; i++) {
		if (rte_mempool_get(node->dp.rec_pool, (void **)&rec) != 0)
			break;
		memset(rec, 0, sizeof(*rec));
		rec->key.addr_lo[10] = rec->key.addr_lo[11] = 0xff;
		memcpy(&rec->key.addr_lo[12], &bp->ip_a, 4);
		rec->key.addr_hi[10] = rec->key.addr_hi[11] = 0xff;
		memcpy(&rec->key.addr_hi[12], &bp->ip_b, 4);
		rec->key.port_lo = (uint16_t)(10000 + i);
		rec->key.port_hi = 80;
		rec->key.proto = IPPROTO_TCP;
		rec->init_pod_id = node->dp.pods->pods[0].id;
		rec->resp_pod_id = node->dp.pods->pods[1].id;
		rec->first_tsc = now - rte_get_tsc_hz() / 10;
		rec->last_tsc = now;
		rec->pkts[0] = 6;
		rec->pkts[1] = 4;
		rec->bytes[0] = 476;
		rec->bytes[1] = 1342;
		rec->init_is_lo = 1;
		rec->verdict = NM_VERDICT_ALLOW;
		rec->state = NM_FLOW_TCP_CLOSED;
		if (rte_ring_sp_enqueue(w->rec_ring, rec) != 0) {
			rte_mempool_put(node->dp.rec_pool, rec);
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	char prefix[64] = "", log[] = "/tmp/nm-bench-drain-XXXXXX";
	unsigned int per_turn = 1000, turns = 200;
	int c;

	while ((c = getopt(argc, argv, "r:t:p:h")) != -1) {
		switch (c) {
		case 'r':
			per_turn = (unsigned int)atoi(optarg);
			break;
		case 't':
			turns = (unsigned int)atoi(optarg);
			break;
		case 'p':
			snprintf(prefix, sizeof(prefix), "%s", optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-r RECORDS_PER_TURN] [-t TURNS] [-p PREFIX]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (per_turn == 0 || per_turn > NM_REC_RING_SIZE - 1 || turns == 0) {
		fprintf(stderr, "bench_drain: -r must be 1 to %d, -t positive\n",
			NM_REC_RING_SIZE - 1);
		return 2;
	}
	if (prefix[0] == '\0')
		snprintf(prefix, sizeof(prefix), "nmdrain%d", (int)getpid());
	char mem[] = "1024";
	if (bench_eal_init("bench_drain", argv[0], mem, prefix) != 0)
		return 1;
	int fd = mkstemp(log);
	if (fd < 0)
		return 1;
	close(fd);

	struct nm_config cfg;
	char err[256];
	nm_config_defaults(&cfg);
	snprintf(cfg.flow_log, sizeof(cfg.flow_log), "%s", log);
	cfg.alert_log[0] = '\0';
	struct nm_node *node = nm_node_create(&cfg, err, sizeof(err));
	struct bench_pods bp;
	if (node == NULL || bench_pods_setup(node, "bench_drain", &bp) != 0) {
		fprintf(stderr, "bench_drain: %s\n", node == NULL ? err : "pods");
		return 1;
	}

	/* Warm up, then the timed drains. */
	uint64_t work = 0, worst = 0, written0 = node->records_written;
	for (unsigned int t = 0; t < turns + 10; t++) {
		fill(node, &bp, per_turn, rte_rdtsc());
		uint64_t t0 = rte_rdtsc();
		nm_node_drain_records(node);
		uint64_t dt = rte_rdtsc() - t0;
		if (t >= 10) {
			work += dt;
			worst = RTE_MAX(worst, dt);
		}
	}
	uint64_t written = node->records_written - written0;
	off_t bytes = lseek(open(log, O_RDONLY), 0, SEEK_END);
	double line = written ? (double)bytes / (double)written : 0;

	/* Baseline: the same lines, preformatted, with one write(2) each. */
	char buf[1024];
	memset(buf, 'x', sizeof(buf));
	buf[(size_t)line - 1] = '\n';
	fd = open(log, O_WRONLY | O_APPEND);
	uint64_t base = 0;
	for (unsigned int t = 0; t < turns; t++) {
		uint64_t t0 = rte_rdtsc();
		for (unsigned int i = 0; i < per_turn; i++)
			if (write(fd, buf, (size_t)line) < 0)
				return 1;
		base += rte_rdtsc() - t0;
	}
	close(fd);
	unlink(log);

	double hz = (double)rte_get_tsc_hz();
	double us_rec = (double)work / hz * 1e6 / ((double)turns * per_turn);
	double base_us = (double)base / hz * 1e6 / ((double)turns * per_turn);
	double turn_ms = (double)work / hz * 1e3 / turns;
	printf("bench_drain: %u records per drain, %u drains, %" PRIu64 " written, %.0f B/line\n",
	       per_turn, turns, written, line);
	printf("  nm_node_drain_records: %.2f us/record, %.2f ms per drain (worst %.2f ms)\n",
	       us_rec, turn_ms, (double)worst / hz * 1e3);
	printf("  baseline write(2) of the same lines: %.2f us/record\n", base_us);
	printf("  at 100 k records/s one control thread spends %.0f %% of a core on them\n",
	       us_rec * 1e5 / 1e4);
	printf("RESULT drain_us_per_record=%.3f write_us_per_record=%.3f ratio=%.2f "
	       "drain_ms_per_turn=%.3f worst_ms=%.3f records_per_turn=%u written=%" PRIu64 "\n",
	       us_rec, base_us, base_us > 0 ? us_rec / base_us : 0, turn_ms,
	       (double)worst / hz * 1e3, per_turn, written);
	return written == (uint64_t)(turns + 10) * per_turn ? 0 : 1; /* warm-up drains included */
}
