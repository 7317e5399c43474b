/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What bench_sig.c (the timed loops, the table, main) and bench_sig_rules.c
 * (the payloads and the rule sets) share: the sizes of the run, the rule
 * set compiled by nodemesh and raw, and the functions that make payloads
 * and rule sets. See bench_sig.c for what the benchmark measures.
 */
#ifndef NM_BENCH_SIG_H
#define NM_BENCH_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hs/hs.h>

#include "sig.h"
#include "sigdb.h"

#define N_PAYLOADS 4099 /* prime: coprime with N_STREAMS */
#define N_STREAMS  1024 /* power of two */
#define LIT_MIN	   8
#define LIT_MAX	   16
#define SEED	   0x6e6f64656d657368ull /* "nodemesh" */
#define ERR_LEN	   65536		 /* nm_sigdb_compile quotes whole expressions */

struct literal {
	uint8_t len;
	char s[LIT_MAX + 1];
};

/* A string planted in 1 payload of P. */
struct plant {
	const uint8_t *data;
	size_t len;
};

/* One rule set, compiled by nodemesh and raw, each in stream and block mode. */
struct ruleset {
	char name[32];
	unsigned int n_rules;
	struct nm_sig_rule *owned[2]; /* parsed; freed with nm_sig_rules_free */
	struct nm_sig_rule *tcp;      /* the rules as TCP rules: stream database */
	struct nm_sig_rule *udp;      /* the same as UDP rules: block database */
	bool copies;		      /* tcp/udp are shallow copies of owned[0] */
	unsigned int inexact;	      /* rules the raw baseline does not match alike */
	struct nm_sigdb *nm_stream, *nm_block;
	hs_database_t *raw_stream, *raw_block;
	double raw_stream_ms, raw_block_ms;
	size_t raw_state_bytes;
	hs_scratch_t *scratch; /* big enough for all four */
	struct plant *plants;
	unsigned int n_plants;
};

static inline double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		fprintf(stderr, "bench_sig: out of memory (%zu x %zu bytes)\n", n, size);
		exit(1);
	}
	return p;
}

/* len bytes of back-to-back requests; the last one is cut where len ends. */
uint8_t *http_text(size_t len);
/* A copy of the payloads with one plant in 1 payload of every, at a random place. */
uint8_t *payloads_planted(const uint8_t *base, size_t size, const struct ruleset *rs,
			  unsigned int every);
/* n distinct literals; the sequence does not depend on n. */
struct literal *literals_make(unsigned int n);
int ruleset_generate(struct ruleset *rs, const struct literal *lits, unsigned int n);
/* The rules of path, as TCP rules and as UDP rules (shallow copies). */
int ruleset_load(struct ruleset *rs, const char *path, const char *label);
int ruleset_compile(struct ruleset *rs);
/* What the ratios compare: the same database, or not (the rules make the baseline inexact). */
char *database_note(const struct ruleset *rs);
void ruleset_free(struct ruleset *rs);

#endif
