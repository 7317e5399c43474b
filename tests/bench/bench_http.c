/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of HTTP inspection per request, no DPDK: pipelined requests
 * (a browser-like GET of about 420 bytes, no attack in it) fed in
 * 1400-byte segments (a) through the HTTP parser alone, (b) through the
 * parser with each head's buffers built and scanned with an http rule set,
 * and (c) through a Hyperscan stream with the same bytes and a stream rule
 * set, for scale. Prints ns per request and Gbit/s for each.
 *
 *   bench_http [-t SECONDS] HTTP_RULES [STREAM_RULES]
 *
 * HTTP_RULES: a rules file whose rules compile (nm-sigcheck -o writes one);
 * its http rules are used. STREAM_RULES, optional: its tcp rules for (c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "inspect_http.h"
#include "sig.h"
#include "sigdb.h"

#define SEGMENT 1400
#define N_REQ	512 /* requests in the generated stream */

static const char request[] =
    "GET /shop/items/4711/reviews?page=2&sort=newest HTTP/1.1\r\n"
    "Host: shop.example.org\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://shop.example.org/shop/items/4711\r\n"
    "Cookie: session=3f9a7c1e55d04b8e; cart=2\r\n"
    "Connection: keep-alive\r\n\r\n";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
count_hit(void *ctx, unsigned int rule)
{
	(void)rule;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* Rules of file whose proto is want (NM_SIG_PROTO_*), compiled; NULL on error. */
static struct nm_sigdb *
load(const char *path, uint8_t want, unsigned int *n_out)
{
	struct nm_sig_rule *rules = NULL;
	unsigned int n, k = 0;
	char err[512];
	struct nm_sigdb *db;
	int rc = nm_sig_file_parse(path, NULL, &rules, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "bench_http: %s\n", err);
		return NULL;
	}
	n = (unsigned int)rc;
	for (unsigned int i = 0; i < n; i++) {
		if (rules[i].proto == want)
			rules[k++] = rules[i];
		else
			nm_sig_rule_clear(&rules[i]);
	}
	db = nm_sigdb_compile(rules, k, err, sizeof(err));
	if (db == NULL)
		fprintf(stderr, "bench_http: compile %s: %s\n", path, err);
	nm_sig_rules_free(rules, k);
	*n_out = k;
	return db;
}

enum mode { PARSE, HTTP_SCAN, STREAM_SCAN };

/* Feed the stream in segments until secs pass; returns requests per second. */
static double
run(enum mode mode, const struct nm_sigdb *db, hs_scratch_t *scratch, const uint8_t *stream,
    size_t len, double secs, uint64_t *hits)
{
	static uint8_t head[NM_HTTP_HEAD_BYTES_DEFAULT];
	struct nm_http_limits lim = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};
	struct nm_inspect_http ih = {.db = db, .scratch = scratch, .fn = count_hit, .ctx = hits};
	struct nm_http_parser p;
	uint64_t requests = 0;
	double t0 = now_s(), t;

	do {
		struct nm_sigdb_stream *st =
		    mode == STREAM_SCAN ? nm_sigdb_stream_open(db, NULL) : NULL;

		nm_http_parser_init(&p, NM_HTTP_REQUEST, &lim, head, sizeof(head));
		for (size_t off = 0; off < len; off += SEGMENT) {
			uint32_t n = (uint32_t)(len - off < SEGMENT ? len - off : SEGMENT);
			if (mode == PARSE)
				nm_http_parse(&p, stream + off, n, NULL, NULL);
			else if (mode == HTTP_SCAN)
				nm_inspect_http_feed(&p, stream + off, n, &ih);
			else
				nm_sigdb_stream_scan(db, st, scratch, stream + off, n, count_hit,
						     hits);
		}
		if (st != NULL)
			nm_sigdb_stream_close(db, st, scratch, count_hit, hits);
		if (mode != STREAM_SCAN && (p.verdict != NM_HTTP_MORE || p.messages != N_REQ)) {
			fprintf(stderr, "bench_http: parsed %llu of %d requests (verdict %u)\n",
				(unsigned long long)p.messages, N_REQ, p.verdict);
			exit(1);
		}
		requests += N_REQ;
		t = now_s() - t0;
	} while (t < secs);
	return (double)requests / t;
}

int
main(int argc, char **argv)
{
	size_t one = sizeof(request) - 1, len = one * N_REQ;
	uint8_t *stream = malloc(len);
	double secs = 3;
	hs_scratch_t *scratch = NULL;
	unsigned int n_http = 0, n_stream = 0;
	int opt;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't' || (secs = atof(optarg)) <= 0) {
			fprintf(stderr,
				"usage: bench_http [-t SECONDS] HTTP_RULES [STREAM_RULES]\n");
			return 2;
		}
	}
	if (optind >= argc || stream == NULL) {
		fprintf(stderr, "usage: bench_http [-t SECONDS] HTTP_RULES [STREAM_RULES]\n");
		return 2;
	}
	for (size_t i = 0; i < N_REQ; i++)
		memcpy(stream + i * one, request, one);

	struct nm_sigdb *http = load(argv[optind], NM_SIG_PROTO_HTTP, &n_http);
	struct nm_sigdb *tcp =
	    optind + 1 < argc ? load(argv[optind + 1], NM_SIG_PROTO_TCP, &n_stream) : NULL;
	if (http == NULL || nm_sigdb_scratch_alloc(http, &scratch) < 0 ||
	    (tcp != NULL && nm_sigdb_scratch_alloc(tcp, &scratch) < 0))
		return 1;

	uint64_t hits = 0;
	double parse = run(PARSE, http, scratch, stream, len, secs, &hits);
	double scan = run(HTTP_SCAN, http, scratch, stream, len, secs, &hits);
	printf("request: %zu bytes, %d pipelined, %d-byte segments\n", one, N_REQ, SEGMENT);
	printf("parse only:            %8.0f ns/request  %6.2f Gbit/s\n", 1e9 / parse,
	       parse * (double)one * 8 / 1e9);
	printf("parse + %u http rules: %8.0f ns/request  %6.2f Gbit/s  (hits %llu)\n", n_http,
	       1e9 / scan, scan * (double)one * 8 / 1e9, (unsigned long long)hits);
	if (tcp != NULL && tcp->stream != NULL) {
		hits = 0;
		double raw = run(STREAM_SCAN, tcp, scratch, stream, len, secs, &hits);
		printf("stream, %u tcp rules:  %8.0f ns/request  %6.2f Gbit/s  (hits %llu)\n",
		       n_stream, 1e9 / raw, raw * (double)one * 8 / 1e9, (unsigned long long)hits);
	}
	hs_free_scratch(scratch);
	nm_sigdb_free(http);
	nm_sigdb_free(tcp);
	free(stream);
	return 0;
}
