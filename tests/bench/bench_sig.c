/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature scanning throughput of one worker: nodemesh's Hyperscan
 * wrapper (compiled by ctrl/sigdb.c, scanned by dataplane/sig_scan.c) against raw Hyperscan on the
 * same patterns and the same payloads, in the same process and run.
 *
 * Rule sets: N generated rules (-n, default 100, 1000 and 10000), each
 *   alert tcp any any -> any any (msg:"gen I"; content:"LIT"; sid:I;)
 * with LIT a distinct pseudo-random literal of 8-16 printable bytes (fixed
 * seed; the first N of one sequence, so each set contains the smaller
 * ones), plus the same rules written as `alert udp` for the block
 * database; and optionally a rules file (-f, e.g. the CRS set converted by
 * scripts/crs2nodemesh), each of whose rules is benchmarked as a TCP rule
 * (stream) and as a UDP rule (block), whatever its protocol. All of them
 * go through the real parser (nm_sig_rule_parse / nm_sig_file_parse) and
 * nm_sigdb_compile.
 *
 * Baseline ("raw"): hs_compile_multi of the rules' patterns written here,
 * one expression per pattern with id = rule index and HS_FLAG_SINGLEMATCH
 * (content as \xHH, pcre as its body with its flags), in HS_MODE_VECTORED and
 * HS_MODE_STREAM. That is the same database nodemesh builds for rules of a
 * single non-negated pattern without offset/depth (all generated and CRS
 * rules), and the program checks that the databases are byte for byte
 * the same; other rules are counted and said to make the baseline inexact.
 *
 * Payloads: N_PAYLOADS payloads of each size (-s, default 64, 512 and
 * 1400 bytes) cut from HTTP-like request text (fixed seed), holding no
 * planted literal; and a copy where 1 payload in P (-p, default 100)
 * carries one literal of the set (a rules file without plain contents
 * gets one of a few attack strings instead) at a random position.
 *
 * Modes, single core: block, nm_sigdb_scan_block vs hs_scan_vector (one piece) over the
 * payloads in turn; stream, N_STREAMS streams open (opened and closed
 * outside the timing) fed round-robin, payload after payload, with
 * nm_sigdb_stream_scan vs hs_scan_stream. N_PAYLOADS is prime, so stream
 * s gets payloads s, s + N_STREAMS, ... and meets every payload before
 * one repeats. Each figure is the median of -r slices of -t seconds,
 * nodemesh and raw alternating slice by slice (which goes first alternates
 * too), each side carrying on over its payloads and streams where its
 * previous slice stopped. A slice's figure is its median batch of BATCH
 * packets (CLOCK_MONOTONIC around each), so that the time the process was
 * preempted does not count; the ratio is the median of the ratios of the
 * slice pairs, which met nearly the same interference. Before
 * that, each side scans every payload once (fresh streams), which warms
 * the caches and gives the "hits" column: the matches each side reported,
 * which must agree. Both sides count matches in their callback and share
 * one scratch.
 *
 * Usage: bench_sig [-n N,N,...] [-f RULES [-l LABEL]] [-s BYTES,...]
 *                  [-t SECONDS] [-r REPETITIONS] [-p P]
 * Prints a table; then one machine-readable "RESULT key=value ..." line
 * per row. This file holds the timed loops, the table and main;
 * bench_sig_rules.c the payloads and the rule sets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>

#include "sig.h"
#include "sigdb.h"
#include "sig_scan.h"
#include "bench_sig.h"

#define BATCH	 64 /* packets between two clock reads */
#define MAX_LIST 8  /* items of -n and -s */
#define MAX_REPS 64

enum mode { BLOCK, STREAM };

/* What one side walks over: the payloads in turn and, in stream mode, its streams. */
struct run {
	const struct ruleset *rs;
	const uint8_t *data; /* N_PAYLOADS payloads of size bytes */
	size_t size;
	unsigned int next_payload;
	unsigned int next_stream;
	uint64_t hits;
	uint64_t errors;
	struct nm_sigdb_stream *nm_st[N_STREAMS];
	hs_stream_t *raw_st[N_STREAMS];
};

/* One side of the comparison. */
struct engine {
	void (*scan[2])(struct run *r, unsigned int n); /* n packets; by enum mode */
	void (*open)(struct run *r);			/* exits on failure */
	void (*close)(struct run *r);
};

struct options {
	unsigned int counts[MAX_LIST], n_counts;
	size_t sizes[MAX_LIST];
	unsigned int n_sizes;
	const char *file;
	const char *label;
	double secs;
	unsigned int reps;
	unsigned int plant_every;
};

/* Durations of the batches of one timed slice, ns. */
struct batches {
	double *ns;
	size_t n, cap;
};

/* One table row: [0] nodemesh, [1] raw. */
struct row {
	double gbps[2], ns_pkt[2]; /* medians of the slices */
	double ratio;		   /* median of nodemesh/raw Gbit/s over slice pairs */
	uint64_t hits[2];	   /* in one pass over the payloads (fresh streams) */
	uint64_t errors;
};

/* ------------------------------------------------------------ the loops */

static int
nm_hit(void *ctx, unsigned int rule)
{
	(void)rule;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int
raw_hit(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(uint64_t *)ctx)++;
	return 0;
}

static inline const uint8_t *
next_payload(struct run *r)
{
	const uint8_t *p = r->data + (size_t)r->next_payload * r->size;

	if (++r->next_payload == N_PAYLOADS)
		r->next_payload = 0;
	return p;
}

static inline unsigned int
next_stream(struct run *r)
{
	unsigned int s = r->next_stream;

	r->next_stream = (s + 1) & (N_STREAMS - 1);
	return s;
}

static void
nm_block(struct run *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		r->errors += nm_sigdb_scan_block(r->rs->nm_block, r->rs->scratch, next_payload(r),
						 r->size, nm_hit, &r->hits) != 0;
}

static void
raw_block(struct run *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const char *data = (const char *)next_payload(r);
		unsigned int len = (unsigned int)r->size;
		r->errors += hs_scan_vector(r->rs->raw_block, &data, &len, 1, 0, r->rs->scratch,
					    raw_hit, &r->hits) != HS_SUCCESS;
	}
}

static void
nm_stream(struct run *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int s = next_stream(r);

		r->errors += nm_sigdb_stream_scan(r->rs->nm_stream, r->nm_st[s], r->rs->scratch,
						  next_payload(r), r->size, nm_hit, &r->hits) != 0;
	}
}

static void
raw_stream(struct run *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int s = next_stream(r);

		r->errors += hs_scan_stream(r->raw_st[s], (const char *)next_payload(r),
					    (unsigned int)r->size, 0, r->rs->scratch, raw_hit,
					    &r->hits) != HS_SUCCESS;
	}
}

static void
nm_open(struct run *r)
{
	for (unsigned int s = 0; s < N_STREAMS; s++) {
		r->nm_st[s] = nm_sigdb_stream_open(r->rs->nm_stream, NULL);
		if (r->nm_st[s] == NULL) {
			fprintf(stderr, "bench_sig: nm_sigdb_stream_open failed: %s\n",
				strerror(errno));
			exit(1);
		}
	}
}

/* Closing reports nothing: literal rules report during the scans. */
static void
nm_close(struct run *r)
{
	for (unsigned int s = 0; s < N_STREAMS; s++) {
		nm_sigdb_stream_close(r->rs->nm_stream, r->nm_st[s], NULL, NULL, NULL);
		r->nm_st[s] = NULL;
	}
}

static void
raw_open(struct run *r)
{
	for (unsigned int s = 0; s < N_STREAMS; s++) {
		if (hs_open_stream(r->rs->raw_stream, 0, &r->raw_st[s]) != HS_SUCCESS) {
			fprintf(stderr, "bench_sig: hs_open_stream failed\n");
			exit(1);
		}
	}
}

static void
raw_close(struct run *r)
{
	for (unsigned int s = 0; s < N_STREAMS; s++) {
		hs_close_stream(r->raw_st[s], NULL, NULL, NULL);
		r->raw_st[s] = NULL;
	}
}

static const struct engine engines[2] = {
    {{nm_block, nm_stream}, nm_open, nm_close},
    {{raw_block, raw_stream}, raw_open, raw_close},
};

/* Back to the first payload and stream, counters at 0, fresh streams in stream mode. */
static void
run_start(const struct engine *e, enum mode m, struct run *r)
{
	r->next_payload = 0;
	r->next_stream = 0;
	r->hits = 0;
	r->errors = 0;
	if (m == STREAM)
		e->open(r);
}

static void
run_end(const struct engine *e, enum mode m, struct run *r)
{
	if (m == STREAM)
		e->close(r);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	/* n >= 1 (main refuses --reps 0) and the caller wrote v[0..n-1]. */
	// cppcheck-suppress uninitvar
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Scan for secs, carrying on where r stands, timing each batch. Returns
 * ns per packet of the median batch: a batch in which the process was
 * preempted (2 CPUs shared with other work) is an outlier, not a share
 * of an average.
 */
static double
timed(void (*scan)(struct run *r, unsigned int n), struct run *r, double secs, struct batches *b)
{
	double start = now_ns(), t0 = start, t;

	b->n = 0;
	do {
		scan(r, BATCH);
		t = now_ns();
		if (b->n == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 4096;
			b->ns = realloc(b->ns, b->cap * sizeof(*b->ns));
			if (b->ns == NULL) {
				fprintf(stderr, "bench_sig: out of memory\n");
				exit(1);
			}
		}
		b->ns[b->n++] = t - t0;
		t0 = t;
	} while (t - start < secs * 1e9);
	return median(b->ns, (unsigned int)b->n) / BATCH;
}

/* runs[0] for nodemesh, runs[1] for raw, over the same payloads. */
static void
measure(struct run runs[2], enum mode m, const struct options *o, struct row *row)
{
	double gbps[2][MAX_REPS], ns_pkt[2][MAX_REPS], ratio[MAX_REPS];
	struct batches b = {0};

	/*
	 * One pass over every payload first, with fresh streams: the sides
	 * must report the same matches (a stream reports a rule once, so the
	 * timed runs, of different lengths, cannot be compared). It warms the
	 * caches too.
	 */
	memset(row, 0, sizeof(*row));
	for (unsigned int side = 0; side < 2; side++) {
		run_start(&engines[side], m, &runs[side]);
		engines[side].scan[m](&runs[side], N_PAYLOADS);
		row->hits[side] = runs[side].hits;
		row->errors += runs[side].errors;
		run_end(&engines[side], m, &runs[side]);
	}

	/*
	 * Timed slices, the sides alternating (and which goes first), each
	 * carrying on over its own streams from one slice to its next: the
	 * two slices of a pair meet nearly the same interference from the
	 * rest of the machine, so the ratio is taken pair by pair.
	 */
	for (unsigned int side = 0; side < 2; side++)
		run_start(&engines[side], m, &runs[side]);
	for (unsigned int rep = 0; rep < o->reps; rep++) {
		for (unsigned int turn = 0; turn < 2; turn++) {
			unsigned int side = (turn + rep) % 2;

			ns_pkt[side][rep] = timed(engines[side].scan[m], &runs[side], o->secs, &b);
			gbps[side][rep] = (double)runs[side].size * 8 / ns_pkt[side][rep];
		}
		ratio[rep] = gbps[0][rep] / gbps[1][rep];
	}
	for (unsigned int side = 0; side < 2; side++) {
		row->errors += runs[side].errors;
		run_end(&engines[side], m, &runs[side]);
		row->gbps[side] = median(gbps[side], o->reps);
		row->ns_pkt[side] = median(ns_pkt[side], o->reps);
	}
	row->ratio = median(ratio, o->reps);
	free(b.ns);
}

/* ------------------------------------------------------------ output */

#define ROW_FMT "%-9s %6s %5s %-6s %7s %9s %9s %6s %9s %9s %15s %9s %9s %7s %8s\n"

static void
print_header(void)
{
	printf(ROW_FMT, "set", "rules", "bytes", "mode", "planted", "nm Gb/s", "raw Gb/s", "ratio",
	       "nm ns/pkt", "raw ns/pkt", "hits nm/raw", "nm cc ms", "raw cc ms", "nm st B",
	       "raw st B");
}

/* Three significant digits or more: CRS-like sets run below 1 Gbit/s. */
static void
gbps_text(char *buf, size_t len, double gbps)
{
	snprintf(buf, len, gbps >= 10 ? "%.1f" : gbps >= 1 ? "%.2f" : "%.3f", gbps);
}

static void
print_row(const struct ruleset *rs, size_t size, enum mode m, unsigned int planted,
	  const struct row *row)
{
	char c[16][32];

	snprintf(c[0], sizeof(c[0]), "%u", rs->n_rules);
	snprintf(c[1], sizeof(c[1]), "%zu", size);
	snprintf(c[2], sizeof(c[2]), planted ? "1/%u" : "0", planted);
	gbps_text(c[3], sizeof(c[3]), row->gbps[0]);
	gbps_text(c[4], sizeof(c[4]), row->gbps[1]);
	snprintf(c[5], sizeof(c[5]), "%.2f", row->ratio);
	snprintf(c[6], sizeof(c[6]), "%.1f", row->ns_pkt[0]);
	snprintf(c[7], sizeof(c[7]), "%.1f", row->ns_pkt[1]);
	snprintf(c[8], sizeof(c[8]), "%" PRIu64 "/%" PRIu64, row->hits[0], row->hits[1]);
	snprintf(c[9], sizeof(c[9]), "%.1f",
		 m == STREAM ? rs->nm_stream->compile_ms : rs->nm_block->compile_ms);
	snprintf(c[10], sizeof(c[10]), "%.1f", m == STREAM ? rs->raw_stream_ms : rs->raw_block_ms);
	snprintf(c[11], sizeof(c[11]), "%zu", rs->nm_stream->stream_state_bytes);
	snprintf(c[12], sizeof(c[12]), "%zu", rs->raw_state_bytes);
	printf(ROW_FMT, rs->name, c[0], c[1], m == STREAM ? "stream" : "block", c[2], c[3], c[4],
	       c[5], c[6], c[7], c[8], c[9], c[10], m == STREAM ? c[11] : "-",
	       m == STREAM ? c[12] : "-");
	fflush(stdout);
}

/* The same row for scripts/bench, kept until the table is complete. */
static char *
result_line(const struct ruleset *rs, size_t size, enum mode m, unsigned int planted,
	    const struct row *row)
{
	char *line;

	if (asprintf(&line,
		     "RESULT set=%s rules=%u bytes=%zu mode=%s planted_every=%u nm_gbps=%.3f "
		     "raw_gbps=%.3f ratio=%.3f nm_ns_per_pkt=%.1f raw_ns_per_pkt=%.1f "
		     "nm_hits=%" PRIu64 " raw_hits=%" PRIu64 " compile_ms=%.1f raw_compile_ms=%.1f "
		     "state_bytes=%zu raw_state_bytes=%zu errors=%" PRIu64 "\n",
		     rs->name, rs->n_rules, size, m == STREAM ? "stream" : "block", planted,
		     row->gbps[0], row->gbps[1], row->ratio, row->ns_pkt[0], row->ns_pkt[1],
		     row->hits[0], row->hits[1],
		     m == STREAM ? rs->nm_stream->compile_ms : rs->nm_block->compile_ms,
		     m == STREAM ? rs->raw_stream_ms : rs->raw_block_ms,
		     rs->nm_stream->stream_state_bytes, rs->raw_state_bytes, row->errors) < 0) {
		fprintf(stderr, "bench_sig: out of memory\n");
		exit(1);
	}
	return line;
}

/* ------------------------------------------------------------ main */

static int
parse_list(const char *arg, unsigned long max, unsigned long *out, unsigned int *n)
{
	char *end;

	*n = 0;
	while (*arg != '\0') {
		unsigned long v = strtoul(arg, &end, 10);

		if (end == arg || v == 0 || v > max || *n == MAX_LIST ||
		    (*end != ',' && *end != '\0'))
			return -1;
		out[(*n)++] = v;
		arg = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_sig [-n N,N,...] [-f RULES [-l LABEL]] [-s BYTES,...]\n"
		   "                 [-t SECONDS] [-r REPETITIONS] [-p P]\n"
		   "  -n  generated rule counts (default 100,1000,10000; -n none: no generated "
		   "set)\n"
		   "  -f  also benchmark the rules of this file (every rule as TCP and as UDP)\n"
		   "  -l  its name in the table (default: file)\n"
		   "  -s  payload sizes in bytes (default 64,512,1400)\n"
		   "  -t  seconds per measurement (default 1)\n"
		   "  -r  repetitions, median shown (default 3, at most 64)\n"
		   "  -p  also run with 1 payload in P carrying a pattern (default 100; 0: no)\n");
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	unsigned long v[MAX_LIST];
	int c;

	*o = (struct options){.counts = {100, 1000, 10000},
			      .n_counts = 3,
			      .sizes = {64, 512, 1400},
			      .n_sizes = 3,
			      .label = "file",
			      .secs = 1.0,
			      .reps = 3,
			      .plant_every = 100};
	while ((c = getopt(argc, argv, "n:f:l:s:t:r:p:h")) != -1) {
		switch (c) {
		case 'n':
			if (strcmp(optarg, "none") == 0) {
				o->n_counts = 0;
				break;
			}
			if (parse_list(optarg, 1000000, v, &o->n_counts) < 0)
				goto bad;
			for (unsigned int i = 0; i < o->n_counts; i++)
				o->counts[i] = (unsigned int)v[i];
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		case 's':
			if (parse_list(optarg, 65535, v, &o->n_sizes) < 0 || o->n_sizes == 0)
				goto bad;
			for (unsigned int i = 0; i < o->n_sizes; i++)
				o->sizes[i] = v[i];
			break;
		case 't':
			o->secs = atof(optarg);
			if (o->secs <= 0 || o->secs > 60)
				goto bad;
			break;
		case 'r':
			o->reps = (unsigned int)atoi(optarg);
			if (o->reps < 1 || o->reps > MAX_REPS)
				goto bad;
			break;
		case 'p':
			o->plant_every = (unsigned int)atoi(optarg);
			if (atoi(optarg) < 0 || o->plant_every > N_PAYLOADS)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc || (o->n_counts == 0 && o->file == NULL))
		goto bad;
	return 0;

bad:
	usage(stderr);
	return -1;
}

/*
 * Hyperscan's first compile in a process costs several ms more than the
 * next (one-time set-up): pay it here, not in the first set's nodemesh
 * figure, which is compiled first.
 */
static void
warm_compiler(void)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	if (hs_compile("warm", HS_FLAG_SINGLEMATCH, HS_MODE_STREAM, NULL, &db, &cerr) == HS_SUCCESS)
		hs_free_database(db);
	hs_free_compile_error(cerr);
}

/* Every row of one rule set: sizes x (no plant, 1 in P) x (block, stream). */
static int
bench_set(struct ruleset *rs, uint8_t *const *base, const struct options *o, char **results,
	  unsigned int *n_results)
{
	struct run *runs = xcalloc(2, sizeof(*runs));
	int rc = 0;

	for (unsigned int si = 0; si < o->n_sizes && rc == 0; si++) {
		for (unsigned int p = 0; p < 2 && rc == 0; p++) {
			unsigned int planted = p ? o->plant_every : 0;
			uint8_t *copy = NULL;

			if (p && planted == 0)
				continue;
			if (planted)
				copy = payloads_planted(base[si], o->sizes[si], rs, planted);
			for (unsigned int side = 0; side < 2; side++) {
				runs[side].rs = rs;
				runs[side].data = copy ? copy : base[si];
				runs[side].size = o->sizes[si];
			}
			for (enum mode m = BLOCK; m <= STREAM && rc == 0; m++) {
				struct row row;
				size_t size = o->sizes[si];

				measure(runs, m, o, &row);
				if (row.hits[0] != row.hits[1])
					fprintf(stderr,
						"bench_sig: %s %zu B %s: nodemesh reported %" PRIu64
						" matches, raw %" PRIu64 "\n",
						rs->name, size, m == STREAM ? "stream" : "block",
						row.hits[0], row.hits[1]);
				print_row(rs, size, m, planted, &row);
				results[(*n_results)++] = result_line(rs, size, m, planted, &row);
				if (row.errors) {
					fprintf(stderr, "bench_sig: %" PRIu64 " scan errors\n",
						row.errors);
					rc = -1;
				}
			}
			free(copy);
		}
	}
	free(runs);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct literal *lits = NULL;
	uint8_t *text, *base[MAX_LIST];
	unsigned int max_n = 0, n_results = 0, n_notes = 0;
	char **results, *notes[MAX_LIST + 1];
	size_t max_size = 0;
	int rc = 0;

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	if (hs_valid_platform() != HS_SUCCESS) {
		fprintf(stderr, "bench_sig: hs_valid_platform() failed: this CPU lacks SSSE3\n");
		return 1;
	}
	warm_compiler();
	for (unsigned int i = 0; i < o.n_counts; i++)
		max_n = o.counts[i] > max_n ? o.counts[i] : max_n;
	for (unsigned int i = 0; i < o.n_sizes; i++)
		max_size = o.sizes[i] > max_size ? o.sizes[i] : max_size;
	if (max_n)
		lits = literals_make(max_n);

	/* Payloads of each size: consecutive pieces of one request text. */
	text = http_text((size_t)N_PAYLOADS * max_size);
	for (unsigned int i = 0; i < o.n_sizes; i++) {
		base[i] = xcalloc(N_PAYLOADS, o.sizes[i]);
		memcpy(base[i], text, (size_t)N_PAYLOADS * o.sizes[i]);
	}
	free(text);
	results = xcalloc((size_t)(o.n_counts + 1) * o.n_sizes * 4, sizeof(*results));

	printf("bench_sig: Hyperscan %s, one core; %d payloads per size cut from HTTP-like "
	       "requests; %d streams fed round-robin\n",
	       hs_version(), N_PAYLOADS, N_STREAMS);
	printf("  nm = nm_sigdb_scan_block / nm_sigdb_stream_scan; raw = hs_scan_vector / "
	       "hs_scan_stream, "
	       "hs_compile_multi of the same patterns\n");
	printf("  Gb/s, ns/pkt: median of %u slices of %.2f s per side, nm and raw alternating; a "
	       "slice counts its median batch of %d packets\n",
	       o.reps, o.secs, BATCH);
	printf("  ratio: nm/raw Gbit/s, median over the slice pairs; planted 1/P: a pattern of the "
	       "set in 1 payload of P\n");
	printf("  hits: matches reported in one pass over the %d payloads (fresh streams); cc ms: "
	       "compile ms of that mode's database; st B: stream state bytes per flow direction\n",
	       N_PAYLOADS);
	print_header();
	for (unsigned int s = 0; s <= o.n_counts && rc == 0; s++) {
		struct ruleset rs = {0};

		if (s == o.n_counts && o.file == NULL)
			break;
		if (s < o.n_counts)
			rc = ruleset_generate(&rs, lits, o.counts[s]);
		else
			rc = ruleset_load(&rs, o.file, o.label);
		if (rc == 0)
			rc = ruleset_compile(&rs);
		if (rc == 0 && rs.inexact)
			fprintf(stderr,
				"bench_sig: %s: %u rules have several patterns, a negated "
				"content or offset/depth: the raw baseline does not match them "
				"alike\n",
				rs.name, rs.inexact);
		if (rc == 0)
			notes[n_notes++] = database_note(&rs);
		if (rc == 0)
			rc = bench_set(&rs, base, &o, results, &n_results);
		ruleset_free(&rs);
	}
	for (unsigned int i = 0; i < n_notes; i++) {
		fputs(notes[i], stdout);
		free(notes[i]);
	}
	for (unsigned int i = 0; i < n_results; i++) {
		fputs(results[i], stdout);
		free(results[i]);
	}
	free(results);
	for (unsigned int i = 0; i < o.n_sizes; i++)
		free(base[i]);
	free(lits);
	return rc == 0 ? 0 : 1;
}
