/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forensic store on one core: flow records (and one alert per 1000
 * flows) written through the daemon's writer (nm_store_add, one
 * nm_store_commit per batch as per loop turn), then the one-day questions
 * nodemeshctl asks of them (by pod, identity, image, sid; the graph; the
 * chain check), timed. No DPDK, no daemon: the same code the control
 * thread and nodemeshctl run.
 *
 * The rows are shaped like a node's day: 200 pods in 10 namespaces, each
 * pod calling one of 8 others, times spread over one UTC day. With -c the
 * same flow rows are also written as CSV, for the baseline scripts/bench
 * runs (sqlite3 CLI .import into the same schema).
 *
 * Usage: bench_store -d DIR [-n RECORDS] [-b BATCH] [-c CSV]
 * Wall time counts what the machine's load adds; the thread's CPU time is
 * what the control thread itself spends.
 * One machine-readable line:
 *   "RESULT records=... insert_s=... records_per_s=... cpu_us_per_record=...
 *    records_per_cpu_s=... batch_ms_avg=...
 *    batch_ms_max=... bytes=... bytes_per_record=... query_pod_ms=...
 *    query_identity_ms=... query_image_ms=... query_sid_ms=... graph_ms=...
 *    verify_ms=..."
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_query.h"

#define PODS	   200
#define NAMESPACES 10
#define DAY0_NS	   (INT64_C(1796515200) * 1000000000) /* 2026-12-06T00:00:00Z */
#define DAY_NS	   (INT64_C(86400) * 1000000000)

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

struct pod {
	char name[32], ns[16], sa[16], image[48], ip[16], labels[48];
};

static void
pods_make(struct pod *p)
{
	for (int i = 0; i < PODS; i++) {
		snprintf(p[i].name, sizeof(p[i].name), "app%d-7f9c%04d", i % 40, i);
		snprintf(p[i].ns, sizeof(p[i].ns), "team%d", i % NAMESPACES);
		snprintf(p[i].sa, sizeof(p[i].sa), "app%d", i % 40);
		snprintf(p[i].image, sizeof(p[i].image), "registry.local/app%d:1.%d", i % 40,
			 i % 3);
		snprintf(p[i].ip, sizeof(p[i].ip), "198.18.%d.%d", i / 250, i % 250 + 1);
		snprintf(p[i].labels, sizeof(p[i].labels), "app=app%d,tier=t%d", i % 40, i % 3);
	}
}

static void
end_vals(struct nm_store_val *v, const struct pod *p, int port)
{
	v[0] = nm_store_text(p->ip);
	v[1] = nm_store_int(port);
	v[2] = nm_store_text(p->name);
	v[3] = nm_store_text(p->ns);
	v[4] = nm_store_text(p->sa);
	v[5] = nm_store_text(p->image);
}

/* Flow i of n: deterministic, spread over the day. */
static void
flow_vals(struct nm_store_val *v, const struct pod *pods, uint64_t i, uint64_t n, FILE *csv)
{
	const struct pod *a = &pods[i % PODS], *b = &pods[(i % PODS + 1 + i / PODS % 8) % PODS];
	int64_t start = DAY0_NS + (int64_t)((double)i / (double)n * (double)(DAY_NS - 1000000000));
	int64_t end = start + (int64_t)(i % 997) * 1000000;
	int sport = 32768 + (int)(i % 28000);
	bool deny = i % 50 == 0;

	v[NM_SF_seq] = nm_store_int(0);
	v[NM_SF_flow_id] = nm_store_int((int64_t)((i * 0x9e3779b97f4a7c15ull) >> 11));
	v[NM_SF_start_ns] = nm_store_int(start);
	v[NM_SF_end_ns] = nm_store_int(end);
	v[NM_SF_node] = nm_store_text("node-a");
	v[NM_SF_proto] = nm_store_text("tcp");
	end_vals(&v[NM_SF_src_ip], a, sport);
	v[NM_SF_src_labels] = nm_store_text(a->labels);
	end_vals(&v[NM_SF_dst_ip], b, 8080);
	v[NM_SF_dst_labels] = nm_store_text(b->labels);
	v[NM_SF_pkts_orig] = nm_store_int(deny ? 1 : 6 + (int64_t)(i % 7));
	v[NM_SF_pkts_reply] = nm_store_int(deny ? 0 : 5 + (int64_t)(i % 5));
	v[NM_SF_bytes_orig] = nm_store_int(deny ? 60 : 400 + (int64_t)(i % 3000));
	v[NM_SF_bytes_reply] = nm_store_int(deny ? 0 : 900 + (int64_t)(i % 20000));
	v[NM_SF_verdict] = nm_store_text(deny ? "deny" : "allow");
	v[NM_SF_rule_id] = nm_store_int(deny ? 0 : 1 + (int64_t)(i % 12));
	v[NM_SF_rate_drops] = nm_store_int(0);
	v[NM_SF_state] = nm_store_text(deny ? "syn" : "closed");
	v[NM_SF_end_reason] = nm_store_text(deny ? "timeout" : "closed");
	v[NM_SF_signature] = nm_store_text("");
	if (csv == NULL)
		return;
	for (unsigned int c = 1; c < NM_SF_N; c++) {
		if (v[c].is_text) /* quoted: labels hold commas; no value holds a quote */
			fprintf(csv, "%s\"%.*s\"", c > 1 ? "," : "", (int)v[c].len, v[c].s);
		else
			fprintf(csv, "%s%" PRId64, c > 1 ? "," : "", v[c].i);
	}
	fputc('\n', csv);
}

static void
alert_vals(struct nm_store_val *v, const struct nm_store_val *flow, uint64_t i)
{
	v[NM_SA_seq] = nm_store_int(0);
	v[NM_SA_flow_id] = flow[NM_SF_flow_id];
	v[NM_SA_ts_ns] = flow[NM_SF_start_ns];
	v[NM_SA_node] = flow[NM_SF_node];
	v[NM_SA_proto] = flow[NM_SF_proto];
	memcpy(&v[NM_SA_src_ip], &flow[NM_SF_src_ip], 6 * sizeof(*v));
	memcpy(&v[NM_SA_dst_ip], &flow[NM_SF_dst_ip], 6 * sizeof(*v));
	v[NM_SA_sid] = nm_store_int(1000000 + (int64_t)(i / 1000 % 10));
	v[NM_SA_rev] = nm_store_int(1);
	v[NM_SA_msg] = nm_store_text("bench: planted pattern");
	v[NM_SA_category] = nm_store_text("misc-activity");
	v[NM_SA_severity] = nm_store_int(2);
	v[NM_SA_action] = nm_store_text("allowed");
	v[NM_SA_rule_action] = nm_store_text("alert");
	v[NM_SA_direction] = nm_store_text("to_server");
}

static uint64_t
dir_bytes(const char *dir)
{
	char path[512];
	uint64_t sum = 0;
	struct stat st;
	static const char *const sfx[] = {"", "-wal", "-shm"};

	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/nodemesh-2026-12-06.db%s", dir, sfx[i]);
		if (stat(path, &st) == 0)
			sum += (uint64_t)st.st_size;
	}
	return sum;
}

/* Run one nodemeshctl-style question; ms, or -1 on error. */
static double
timed(const char *dir, const char *what, char *const words[], int n)
{
	struct nm_store_query q;
	char err[512];
	double t0 = now_s();
	json_t *r;

	if (nm_store_query_parse(&q, n, words, DAY0_NS + DAY_NS, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_store: %s: %s\n", what, err);
		return -1;
	}
	r = strcmp(what, "graph") == 0 ? nm_store_graph_run(dir, &q, err, sizeof(err))
				       : nm_store_query_run(dir, &q, err, sizeof(err));
	double ms = (now_s() - t0) * 1e3;
	if (r == NULL) {
		fprintf(stderr, "bench_store: %s: %s\n", what, err);
		return -1;
	}
	json_t *list = json_object_get(r, strcmp(what, "graph") == 0 ? "edges" : "flows");
	fprintf(stderr, "bench_store: %-8s %6zu rows in %8.1f ms\n", what, json_array_size(list),
		ms);
	json_decref(r);
	return ms;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *csv_path = NULL;
	uint64_t n = 1000000, batch = 1000;
	int c;

	while ((c = getopt(argc, argv, "d:n:b:c:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			batch = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			csv_path = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: bench_store -d DIR [-n RECORDS] [-b BATCH] [-c CSV]\n");
			return 2;
		}
	}
	if (dir == NULL || n == 0 || batch == 0) {
		fprintf(stderr, "usage: bench_store -d DIR [-n RECORDS] [-b BATCH] [-c CSV]\n");
		return 2;
	}

	struct pod *pods = calloc(PODS, sizeof(*pods));
	struct nm_store_params p = {.max_bytes = 0, .max_days = 3650};
	struct nm_store s;
	struct nm_store_val fv[NM_SF_N], av[NM_SA_N];
	char err[256];
	FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;

	if (pods == NULL || (csv_path != NULL && csv == NULL)) {
		fprintf(stderr, "bench_store: cannot allocate or open %s\n", csv_path);
		return 1;
	}
	pods_make(pods);
	snprintf(p.dir, sizeof(p.dir), "%s", dir);
	if (nm_store_open(&s, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_store: %s\n", err);
		return 1;
	}
	/* The rows are built outside the clock: the control thread builds them anyway for the log.
	 */
	double t_in = 0, cpu_in = 0;
	for (uint64_t i = 0; i < n; i++) {
		flow_vals(fv, pods, i, n, csv);
		double t0 = now_s(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		nm_store_add(&s, &nm_store_flows, fv, DAY0_NS + DAY_NS / 2);
		if (i % 1000 == 999) {
			alert_vals(av, fv, i);
			nm_store_add(&s, &nm_store_alerts, av, DAY0_NS + DAY_NS / 2);
		}
		if (i % batch == batch - 1 || i == n - 1)
			nm_store_commit(&s);
		t_in += now_s() - t0;
		cpu_in += clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	}
	if (csv != NULL)
		fclose(csv);
	uint64_t rows = s.flows_written + s.alerts_written;
	double batch_avg = (double)s.batch_ns_sum / (double)s.batches / 1e6;
	double batch_max = (double)s.batch_ns_max / 1e6;
	if (s.lost != 0) {
		fprintf(stderr, "bench_store: %" PRIu64 " records lost: %s\n", s.lost,
			s.last_error);
		return 1;
	}
	nm_store_close(&s);
	uint64_t bytes = dir_bytes(dir);

	char since[] = "since=2026-12-06", until[] = "until=2026-12-07", pod[64],
	     ident[] = "identity=team3/app13", image[] = "image=registry.local/app7:1.1",
	     sid[] = "sid=1000003", limit[] = "limit=100000";
	snprintf(pod, sizeof(pod), "pod=%s", pods[17].name);
	char *w_pod[] = {since, until, pod, limit};
	char *w_id[] = {since, until, ident, limit};
	char *w_img[] = {since, until, image, limit};
	char *w_sid[] = {since, until, sid, limit};
	char *w_graph[] = {since, until};
	double q_pod = timed(dir, "pod", w_pod, 4);
	double q_id = timed(dir, "identity", w_id, 4);
	double q_img = timed(dir, "image", w_img, 4);
	double q_sid = timed(dir, "sid", w_sid, 4);
	double q_graph = timed(dir, "graph", w_graph, 2);

	double t0 = now_s();
	json_t *v = nm_store_verify(dir, "2026-12-06", err, sizeof(err));
	double verify_ms = (now_s() - t0) * 1e3;
	if (v == NULL || !json_is_true(json_object_get(v, "ok"))) {
		fprintf(stderr, "bench_store: verify failed: %s\n", v ? "broken chain" : err);
		return 1;
	}
	json_decref(v);

	printf("RESULT records=%" PRIu64 " rows=%" PRIu64 " insert_s=%.3f records_per_s=%.0f "
	       "cpu_us_per_record=%.1f records_per_cpu_s=%.0f batch=%" PRIu64
	       " batch_ms_avg=%.3f batch_ms_max=%.3f bytes=%" PRIu64
	       " bytes_per_record=%.1f query_pod_ms=%.1f query_identity_ms=%.1f "
	       "query_image_ms=%.1f query_sid_ms=%.1f graph_ms=%.1f verify_ms=%.1f\n",
	       n, rows, t_in, (double)rows / t_in, cpu_in * 1e6 / (double)rows,
	       (double)rows / cpu_in, batch, batch_avg, batch_max, bytes,
	       (double)bytes / (double)rows, q_pod, q_id, q_img, q_sid, q_graph, verify_ms);
	free(pods);
	return q_pod < 0 || q_id < 0 || q_img < 0 || q_sid < 0 || q_graph < 0;
}
