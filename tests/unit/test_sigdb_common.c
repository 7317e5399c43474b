/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state and helpers the signature databases' tests share (declared in
 * test_sigdb_common.h): the hand-built rules and their patterns, the
 * compiled database and scratch, the rules a scan hit, and block and
 * stream scans returning the set of rules hit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sigdb.h"
#include "sig_scan.h"
#include "test_sigdb_common.h"

struct nm_sig_rule rules[MAX_RULES]; /* ~1.5 KiB each: not on the stack */
unsigned int n_rules;
struct nm_sigdb *db;
hs_scratch_t *scratch;
char err[1024];

unsigned int hits[MAX_HITS];
unsigned int n_hits;

void
setup(void)
{
	memset(rules, 0, sizeof(rules));
	n_rules = 0;
	db = NULL;
	scratch = NULL;
	err[0] = '\0';
	n_hits = 0;
}

void
teardown(void)
{
	for (unsigned int i = 0; i < MAX_RULES; i++)
		for (unsigned int k = 0; k < rules[i].n_patterns; k++) {
			free(rules[i].patterns[k].data);
			rules[i].patterns[k].data = NULL;
		}
	hs_free_scratch(scratch);
	scratch = NULL;
	nm_sigdb_free(db);
	db = NULL;
}

struct nm_sig_rule *
rule_add(uint8_t proto, uint32_t sid)
{
	struct nm_sig_rule *r = &rules[n_rules++];

	cr_assert_leq(n_rules, MAX_RULES);
	r->proto = proto;
	r->sid = sid;
	r->line = 1000 + sid;
	snprintf(r->msg, sizeof(r->msg), "rule %u", sid);
	return r;
}

struct nm_sig_pattern *
pattern_add(struct nm_sig_rule *r, uint8_t kind, const void *bytes, size_t len)
{
	struct nm_sig_pattern *p = &r->patterns[r->n_patterns++];

	p->kind = kind;
	p->offset = -1;
	p->depth = -1;
	p->len = (uint16_t)len;
	p->data = malloc(len + 1);
	cr_assert_not_null(p->data);
	memcpy(p->data, bytes, len);
	p->data[len] = '\0';
	return p;
}

struct nm_sig_pattern *
content_add(struct nm_sig_rule *r, const char *text)
{
	return pattern_add(r, NM_SIG_CONTENT, text, strlen(text));
}

/* flags: any of "ismx" */
struct nm_sig_pattern *
pcre_add(struct nm_sig_rule *r, const char *body, const char *flags)
{
	struct nm_sig_pattern *p = pattern_add(r, NM_SIG_PCRE, body, strlen(body));

	p->nocase = strchr(flags, 'i') != NULL;
	p->dotall = strchr(flags, 's') != NULL;
	p->multiline = strchr(flags, 'm') != NULL;
	p->extended = strchr(flags, 'x') != NULL;
	return p;
}

void
compile_ok(void)
{
	db = nm_sigdb_compile(rules, n_rules, err, sizeof(err));
	cr_assert_not_null(db, "compile failed: %s", err);
	cr_assert_eq(nm_sigdb_scratch_alloc(db, &scratch), 0);
}

int
on_hit(void *ctx, unsigned int rule)
{
	(void)ctx;
	cr_assert_lt(rule, db->n_rules);
	cr_assert_lt(n_hits, MAX_HITS);
	hits[n_hits++] = rule;
	return 0;
}

/* Block-scan len bytes; returns a bitmask of rule indexes hit, each at most once. */
unsigned int
block(const void *data, size_t len)
{
	unsigned int mask = 0;

	n_hits = 0;
	cr_assert_eq(nm_sigdb_scan_block(db, scratch, data, len, on_hit, NULL), 0);
	for (unsigned int i = 0; i < n_hits; i++) {
		cr_assert_eq(mask & (1u << hits[i]), 0, "rule %u reported twice", hits[i]);
		mask |= 1u << hits[i];
	}
	return mask;
}

unsigned int
block_str(const char *s)
{
	return block(s, strlen(s));
}

unsigned int
hit_mask(void)
{
	unsigned int mask = 0;

	for (unsigned int i = 0; i < n_hits; i++) {
		cr_assert_eq(mask & (1u << hits[i]), 0, "rule %u reported twice", hits[i]);
		mask |= 1u << hits[i];
	}
	return mask;
}

/* One stream over the given segments, then close; hits of scan and close together. */
unsigned int
stream_segments(const char *const *segs, unsigned int n, unsigned int *hits_before_close)
{
	struct nm_sigdb_stream *st = nm_sigdb_stream_open(db, NULL);

	cr_assert_not_null(st);
	n_hits = 0;
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)segs[i],
						  strlen(segs[i]), on_hit, NULL),
			     0);
	if (hits_before_close)
		*hits_before_close = n_hits;
	cr_assert_eq(nm_sigdb_stream_close(db, st, scratch, on_hit, NULL), 0);
	return hit_mask();
}

struct nm_sigdb *
text_rules_compile(const char *const *text, unsigned int n, struct nm_sig_rule *out,
		   hs_scratch_t **scratch_out)
{
	char why[512];
	struct nm_sigdb *d;

	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(nm_sig_rule_parse(text[i], &out[i], why, sizeof(why)), 0,
			     "rule %u: %s", i, why);
	d = nm_sigdb_compile(out, n, why, sizeof(why));
	cr_assert_not_null(d, "%s", why);
	*scratch_out = NULL;
	cr_assert_eq(nm_sigdb_scratch_alloc(d, scratch_out), 0);
	return d;
}

void
text_rules_free(struct nm_sigdb *db_in, struct nm_sig_rule *r, unsigned int n,
		hs_scratch_t *scratch_in)
{
	hs_free_scratch(scratch_in);
	nm_sigdb_free(db_in);
	for (unsigned int i = 0; i < n; i++)
		nm_sig_rule_clear(&r[i]);
}

uint32_t
sids_of(const unsigned int *sids)
{
	uint32_t m = 0;

	for (; *sids; sids++)
		m |= 1u << *sids;
	return m;
}
