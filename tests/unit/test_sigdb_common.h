/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parts of the signature databases' tests share (test_sigdb.c,
 * test_sigdb_stream.c; test_sigdb_common.c defines them): the rules a test
 * builds by hand, the database and scratch compiled from them, the rules
 * hit, and the suite's set-up and tear-down; rule and pattern builders,
 * compiling, and scanning a block or one stream of segments.
 */
#ifndef NM_TEST_SIGDB_COMMON_H
#define NM_TEST_SIGDB_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "sigdb.h"

#define MAX_RULES 8
#define MAX_HITS  64

extern struct nm_sig_rule rules[MAX_RULES]; /* ~1.5 KiB each: not on the stack */
extern unsigned int n_rules;
extern struct nm_sigdb *db;
extern hs_scratch_t *scratch;
extern char err[1024];

extern unsigned int hits[MAX_HITS];
extern unsigned int n_hits;

/* The sigdb suite's .init and .fini: no rules, no database; everything freed. */
void setup(void);
void teardown(void);
struct nm_sig_rule *rule_add(uint8_t proto, uint32_t sid);
struct nm_sig_pattern *pattern_add(struct nm_sig_rule *r, uint8_t kind, const void *bytes,
				   size_t len);
struct nm_sig_pattern *content_add(struct nm_sig_rule *r, const char *text);
/* flags: any of "ismx" */
struct nm_sig_pattern *pcre_add(struct nm_sig_rule *r, const char *body, const char *flags);
void compile_ok(void);
int on_hit(void *ctx, unsigned int rule);
/* Block-scan len bytes; returns a bitmask of rule indexes hit, each at most once. */
unsigned int block(const void *data, size_t len);
unsigned int block_str(const char *s);
unsigned int hit_mask(void);
/* One stream over the given segments, then close; hits of scan and close together. */
unsigned int stream_segments(const char *const *segs, unsigned int n,
			     unsigned int *hits_before_close);

/*
 * Rules from Suricata text (test_sigdb_http.c, test_sigdb_body.c): the n
 * texts parsed into out, compiled, with a scratch for the database;
 * text_rules_free undoes it.
 */
struct nm_sigdb *text_rules_compile(const char *const *text, unsigned int n,
				    struct nm_sig_rule *out, hs_scratch_t **scratch_out);
/* A bitmask of sids (each below 32), as the http tests collect them. */
#define SIDS(...) sids_of((const unsigned int[]){__VA_ARGS__, 0})
uint32_t sids_of(const unsigned int *sids);

void text_rules_free(struct nm_sigdb *db_in, struct nm_sig_rule *r, unsigned int n,
		     hs_scratch_t *scratch_in);

#endif
