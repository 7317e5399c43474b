/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the Hyperscan signature databases (ctrl/sigdb.c): rules
 * are built by hand (no parser), compiled, and scanned over hand-built
 * payloads; each test checks the exact set of rules hit. Refusals first,
 * then block matching (content, nocase, hex bytes, pcre flags, several
 * contents, negation, offset/depth edges, which database holds which
 * protocol), then streams (signatures split at every cut point, one byte a
 * segment, multi-pattern rules reported in the segment that completes
 * them, negation reported at close).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sigdb.h"
#include "sig_scan.h"

#define MAX_RULES 8
#define MAX_HITS  64

static struct nm_sig_rule rules[MAX_RULES]; /* ~1.5 KiB each: not on the stack */
static unsigned int n_rules;
static struct nm_sigdb *db;
static hs_scratch_t *scratch;
static char err[1024];

static unsigned int hits[MAX_HITS];
static unsigned int n_hits;

static void
setup(void)
{
	memset(rules, 0, sizeof(rules));
	n_rules = 0;
	db = NULL;
	scratch = NULL;
	err[0] = '\0';
	n_hits = 0;
}

static void
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

TestSuite(sigdb, .init = setup, .fini = teardown);

static struct nm_sig_rule *
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

static struct nm_sig_pattern *
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

static struct nm_sig_pattern *
content_add(struct nm_sig_rule *r, const char *text)
{
	return pattern_add(r, NM_SIG_CONTENT, text, strlen(text));
}

/* flags: any of "ismx" */
static struct nm_sig_pattern *
pcre_add(struct nm_sig_rule *r, const char *body, const char *flags)
{
	struct nm_sig_pattern *p = pattern_add(r, NM_SIG_PCRE, body, strlen(body));

	p->nocase = strchr(flags, 'i') != NULL;
	p->dotall = strchr(flags, 's') != NULL;
	p->multiline = strchr(flags, 'm') != NULL;
	p->extended = strchr(flags, 'x') != NULL;
	return p;
}

static void
compile_ok(void)
{
	db = nm_sigdb_compile(rules, n_rules, err, sizeof(err));
	cr_assert_not_null(db, "compile failed: %s", err);
	cr_assert_eq(nm_sigdb_scratch_alloc(db, &scratch), 0);
}

static int
on_hit(void *ctx, unsigned int rule)
{
	(void)ctx;
	cr_assert_lt(rule, db->n_rules);
	cr_assert_lt(n_hits, MAX_HITS);
	hits[n_hits++] = rule;
	return 0;
}

/* Block-scan len bytes; returns a bitmask of rule indexes hit, each at most once. */
static unsigned int
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

static unsigned int
block_str(const char *s)
{
	return block(s, strlen(s));
}

static unsigned int
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
static unsigned int
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

/* ---- refusals ---- */

static void
expect_refused(const char *what, int want_errno)
{
	db = nm_sigdb_compile(rules, n_rules, err, sizeof(err));
	cr_assert_null(db, "%s: compiled", what);
	cr_assert_eq(errno, want_errno, "%s: errno %d", what, errno);
}

Test(sigdb, refuses_invalid_regex_naming_sid_and_line)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 1), "fine");
	pcre_add(rule_add(NM_SIG_PROTO_UDP, 4242), "(", "");

	expect_refused("(", EINVAL);
	cr_assert_not_null(strstr(err, "sid 4242"), "%s", err);
	cr_assert_not_null(strstr(err, "line 5242"), "%s", err);
	cr_assert_not_null(strstr(err, "parenthesis"), "Hyperscan's reason missing: %s", err);
}

Test(sigdb, refuses_bad_sub_expression_of_combination_naming_its_rule)
{
	struct nm_sig_rule *r;

	content_add(rule_add(NM_SIG_PROTO_IP, 1), "ok");
	r = rule_add(NM_SIG_PROTO_IP, 77);
	content_add(r, "abc");
	pcre_add(r, "x[", "i");
	content_add(rule_add(NM_SIG_PROTO_IP, 3), "also ok");

	expect_refused("x[", EINVAL);
	cr_assert_not_null(strstr(err, "sid 77 "), "%s", err);
}

/* What Hyperscan cannot express, each refused with the rule's sid. */
Test(sigdb, refuses_pcre_hyperscan_cannot_honour)
{
	static const char *const bodies[] = {
	    "(",       /* syntax */
	    "a*",      /* matches the empty buffer */
	    "(a)\\1",  /* back-reference */
	    "(?<=a)b", /* look-behind */
	    "a(?=b)",  /* look-ahead */
	    "a++",     /* possessive */
	    "(?>ab)",  /* atomic group */
	};

	for (unsigned int i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		setup();
		pcre_add(rule_add(NM_SIG_PROTO_TCP, 900 + i), bodies[i], "");
		expect_refused(bodies[i], EINVAL);
		cr_assert_not_null(strstr(err, "sid "), "%s: %s", bodies[i], err);
		teardown();
	}
}

Test(sigdb, refuses_depth_shorter_than_content)
{
	struct nm_sig_pattern *p = content_add(rule_add(NM_SIG_PROTO_UDP, 5), "abcd");

	p->depth = 3;
	expect_refused("depth 3", EINVAL);
	cr_assert_not_null(strstr(err, "sid 5 "), "%s", err);
	cr_assert_not_null(strstr(err, "depth"), "%s", err);
}

Test(sigdb, refuses_rule_without_patterns_and_empty_content)
{
	rule_add(NM_SIG_PROTO_UDP, 6);
	expect_refused("no patterns", EINVAL);
	cr_assert_not_null(strstr(err, "sid 6 "), "%s", err);

	setup();
	pattern_add(rule_add(NM_SIG_PROTO_UDP, 7), NM_SIG_CONTENT, "", 0);
	expect_refused("empty content", EINVAL);
	cr_assert_not_null(strstr(err, "sid 7 "), "%s", err);
}

Test(sigdb, refuses_offset_on_pcre)
{
	pcre_add(rule_add(NM_SIG_PROTO_UDP, 8), "abc", "")->offset = 2;
	expect_refused("pcre offset", EINVAL);
	cr_assert_not_null(strstr(err, "sid 8 "), "%s", err);
}

/* ---- empty and one-sided sets ---- */

Test(sigdb, empty_set_yields_null_databases)
{
	uint8_t byte = 'x';

	compile_ok();
	cr_assert_eq(db->n_rules, 0);
	cr_assert_null(db->stream);
	cr_assert_null(db->block);
	cr_assert_eq(db->stream_state_bytes, 0);
	cr_assert_null(scratch, "no database, no scratch");
	cr_assert_eq(nm_sigdb_scan_block(db, scratch, &byte, 1, on_hit, NULL), 0);
	cr_assert_eq(n_hits, 0);
	errno = 0;
	cr_assert_null(nm_sigdb_stream_open(db, NULL));
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(nm_sigdb_stream_scan(db, NULL, scratch, &byte, 1, on_hit, NULL), 0);
	cr_assert_eq(nm_sigdb_stream_close(db, NULL, scratch, on_hit, NULL), 0);
}

Test(sigdb, rules_go_to_the_database_of_their_protocol)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 10), "tcp-only");
	content_add(rule_add(NM_SIG_PROTO_UDP, 11), "udp-only");
	content_add(rule_add(NM_SIG_PROTO_ICMP, 12), "icmp-only");
	content_add(rule_add(NM_SIG_PROTO_IP, 13), "any-ip");
	compile_ok();

	cr_assert_not_null(db->stream);
	cr_assert_not_null(db->block);
	cr_assert_eq(block_str("tcp-only udp-only icmp-only any-ip"), 0xe);
	const char *seg[] = {"tcp-only udp-only icmp-only any-ip"};
	cr_assert_eq(stream_segments(seg, 1, NULL), 0x9);
}

Test(sigdb, tcp_only_set_has_no_block_database)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 20), "abc");
	compile_ok();
	cr_assert_not_null(db->stream);
	cr_assert_null(db->block);
	cr_assert_gt(db->stream_state_bytes, 0);
	cr_assert_not_null(scratch);
	cr_assert_eq(block_str("abc"), 0, "block scan without a block database hits nothing");
}

Test(sigdb, udp_only_set_has_no_stream_database)
{
	content_add(rule_add(NM_SIG_PROTO_UDP, 21), "abc");
	compile_ok();
	cr_assert_null(db->stream);
	cr_assert_not_null(db->block);
	cr_assert_eq(db->stream_state_bytes, 0);
	cr_assert_eq(block_str("abc"), 1);
}

Test(sigdb, copies_rule_metadata_and_times_compile)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_TCP, 31337);

	r->rev = 4;
	r->action = NM_SIG_DROP;
	r->flow = NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_ESTABLISHED;
	r->dport.n = 1;
	r->dport.items[0].lo = r->dport.items[0].hi = 80;
	strcpy(r->classtype, "trojan-activity");
	content_add(r, "x");
	compile_ok();

	cr_assert_eq(db->n_rules, 1);
	cr_assert_eq(db->rules[0].sid, 31337);
	cr_assert_eq(db->rules[0].rev, 4);
	cr_assert_eq(db->rules[0].action, NM_SIG_DROP);
	cr_assert_eq(db->rules[0].proto, NM_SIG_PROTO_TCP);
	cr_assert_eq(db->rules[0].flow, NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_ESTABLISHED);
	cr_assert_eq(db->rules[0].dport.items[0].lo, 80);
	cr_assert_str_eq(db->rules[0].msg, "rule 31337");
	cr_assert_str_eq(db->rules[0].classtype, "trojan-activity");
	cr_assert_geq(db->compile_ms, 0.0);
}

/* ---- block matching ---- */

Test(sigdb, single_content_hits_once)
{
	content_add(rule_add(NM_SIG_PROTO_UDP, 1), "abc");
	content_add(rule_add(NM_SIG_PROTO_UDP, 2), "zzz");
	compile_ok();

	cr_assert_eq(block_str("xxabcxx"), 0x1);
	cr_assert_eq(block_str("abcabcabc"), 0x1); /* block() fails on a second report */
	cr_assert_eq(n_hits, 1);
	cr_assert_eq(block_str("abx ab c ABC"), 0);
	cr_assert_eq(block_str("zzzabc"), 0x3);
	cr_assert_eq(block("", 0), 0);
}

Test(sigdb, nocase_content)
{
	content_add(rule_add(NM_SIG_PROTO_UDP, 1), "AbC")->nocase = true;
	content_add(rule_add(NM_SIG_PROTO_UDP, 2), "AbC");
	compile_ok();

	cr_assert_eq(block_str("xaBcx"), 0x1);
	cr_assert_eq(block_str("ABC"), 0x1);
	cr_assert_eq(block_str("AbC"), 0x3);
	cr_assert_eq(block_str("AbD"), 0);
}

Test(sigdb, hex_bytes_and_metacharacters_are_literal)
{
	static const uint8_t bin[] = {0x00, 0xff, '.', '*', '(', '\\', 0x80, 0x00};
	static const uint8_t nul_a[] = {0x00, 'A'};

	pattern_add(rule_add(NM_SIG_PROTO_UDP, 1), NM_SIG_CONTENT, bin, sizeof(bin));
	pattern_add(rule_add(NM_SIG_PROTO_UDP, 2), NM_SIG_CONTENT, nul_a, sizeof(nul_a))->nocase =
	    true;
	compile_ok();

	uint8_t buf[32] = {0x01, 0x02};
	memcpy(buf + 2, bin, sizeof(bin));
	cr_assert_eq(block(buf, 2 + sizeof(bin)), 0x1);

	/* '.' and '*' must not act as a wildcard and a repeat */
	buf[2 + 2] = 'x';
	cr_assert_eq(block(buf, 2 + sizeof(bin)), 0);
	memcpy(buf + 2, bin, sizeof(bin));
	buf[2 + 3] = '*';
	buf[2 + 1] = 0xfe; /* 0xff is one exact byte */
	cr_assert_eq(block(buf, 2 + sizeof(bin)), 0);

	static const uint8_t nul_lower[] = {'x', 0x00, 'a', 'y'};
	static const uint8_t one_lower[] = {'x', 0x01, 'a', 'y'};
	cr_assert_eq(block(nul_lower, sizeof(nul_lower)), 0x2);
	cr_assert_eq(block(one_lower, sizeof(one_lower)), 0);
}

struct pcre_case {
	const char *body;
	const char *flags;
	const char *data;
	bool hit;
};

Test(sigdb, pcre_flags)
{
	static const struct pcre_case cases[] = {
	    {"ABC", "", "xabcx", false},
	    {"ABC", "i", "xabcx", true},
	    {"a.b", "", "a\nb", false},
	    {"a.b", "s", "a\nb", true},
	    {"a.b", "", "a-b", true},
	    {"^foo", "", "x\nfoo", false},
	    {"^foo", "m", "x\nfoo", true},
	    {"bar$", "", "bar\nx", false},
	    {"bar$", "m", "bar\nx", true},
	    {"a b", "", "a b", true},
	    {"a b", "x", "a b", false},
	    {"a b", "x", "ab", true},
	    {"a b # comment \\d\n c", "x", "abc", true},
	    {"a[ ]b", "x", "a b", true}, /* whitespace in a class stays, as in PCRE */
	    {"a\\ b", "x", "a b", true},
	    {"A.B", "is", "a\nb", true},
	    {"^A . B$", "imsx", "q\na\nb\nz", true},
	    {"^A . B$", "isx", "q\na\nb\nz", false},
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcre_case *c = &cases[i];

		setup();
		pcre_add(rule_add(NM_SIG_PROTO_UDP, 1), c->body, c->flags);
		compile_ok();
		cr_assert_eq(block_str(c->data), c->hit ? 1u : 0u, "/%s/%s on \"%s\"", c->body,
			     c->flags, c->data);
		teardown();
	}
}

Test(sigdb, two_contents_must_both_match)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_UDP, 1);

	content_add(r, "foo");
	content_add(r, "bar");
	compile_ok();

	cr_assert_eq(block_str("foo only"), 0);
	cr_assert_eq(block_str("only bar"), 0);
	cr_assert_eq(block_str("foo and bar"), 0x1);
	cr_assert_eq(n_hits, 1);
	cr_assert_eq(block_str("bar then foo foo bar"), 0x1);
	cr_assert_eq(n_hits, 1);
}

Test(sigdb, content_and_pcre_combine)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_UDP, 1);

	content_add(r, "GET ");
	pcre_add(r, "/admin/\\d+", "i");
	compile_ok();

	cr_assert_eq(block_str("GET /ADMIN/42"), 0x1);
	cr_assert_eq(block_str("GET /admin/x"), 0);
	cr_assert_eq(block_str("PUT /admin/42"), 0);
}

Test(sigdb, negated_content)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_UDP, 1);

	content_add(r, "foo");
	content_add(r, "bar")->negated = true;
	content_add(rule_add(NM_SIG_PROTO_UDP, 2), "bar")->negated = true;
	compile_ok();

	cr_assert_eq(block_str("foo"), 0x3);
	cr_assert_eq(block_str("xx foo xx"), 0x3);
	cr_assert_eq(block_str("foo bar"), 0, "bar after foo must still veto");
	cr_assert_eq(block_str("bar foo"), 0);
	cr_assert_eq(block_str("xfoobar"), 0, "veto ending on the last byte");
	cr_assert_eq(block_str("neither"), 0x2);
	cr_assert_eq(block_str("barely"), 0);
}

Test(sigdb, negated_content_honours_its_window)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_UDP, 1);
	struct nm_sig_pattern *p;

	content_add(r, "foo");
	p = content_add(r, "bar");
	p->negated = true;
	p->depth = 5; /* "bar" must not end past byte 5 */
	compile_ok();

	cr_assert_eq(block_str("xxbar foo"), 0);
	cr_assert_eq(block_str("xxxbar foo"), 0x1);
}

struct window_case {
	int32_t offset, depth;
	unsigned int first, last; /* start positions of "abc" that hit */
};

/* "abc" placed at every start in a 16-byte buffer; hits exactly in [first, last]. */
Test(sigdb, offset_depth_windows_at_the_edges)
{
	static const struct window_case cases[] = {
	    {2, 5, 2, 4},   /* end in [5, 7]: 7 = offset + depth hits, 8 does not */
	    {-1, 4, 0, 1},  /* depth only: end <= 4 */
	    {-1, 3, 0, 0},  /* depth == len: only at the start */
	    {3, -1, 3, 13}, /* offset only */
	    {0, 16, 0, 13}, {13, 3, 13, 13},
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct window_case *c = &cases[i];
		struct nm_sig_pattern *p;

		setup();
		p = content_add(rule_add(NM_SIG_PROTO_UDP, 1), "abc");
		p->offset = c->offset;
		p->depth = c->depth;
		compile_ok();
		for (unsigned int start = 0; start + 3 <= 16; start++) {
			char buf[17];

			memset(buf, '.', 16);
			memcpy(buf + start, "abc", 3);
			buf[16] = '\0';
			cr_assert_eq(block_str(buf),
				     start >= c->first && start <= c->last ? 1u : 0u,
				     "offset %d depth %d start %u", c->offset, c->depth, start);
		}
		teardown();
	}
}

static int
count_and_stop(void *ctx, unsigned int rule)
{
	(void)rule;
	++*(unsigned int *)ctx;
	return 1;
}

Test(sigdb, callback_can_stop_the_scan)
{
	unsigned int calls = 0;

	content_add(rule_add(NM_SIG_PROTO_UDP, 1), "a");
	content_add(rule_add(NM_SIG_PROTO_UDP, 2), "b");
	compile_ok();

	cr_assert_eq(
	    nm_sigdb_scan_block(db, scratch, (const uint8_t *)"ab", 2, count_and_stop, &calls), 0,
	    "a stop asked for by the callback is not an error");
	cr_assert_eq(calls, 1);
}

/* ---- streams ---- */

static const char sig[] = "EVIL-PAYLOAD";

Test(sigdb, stream_one_byte_segments_match_once)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 1), sig);
	compile_ok();

	struct nm_sigdb_stream *st = nm_sigdb_stream_open(db, NULL);
	const char data[] = "xxEVIL-PAYLOADyyEVIL-PAYLOAD";

	cr_assert_not_null(st);
	for (size_t i = 0; i < strlen(data); i++)
		cr_assert_eq(nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)&data[i], 1,
						  on_hit, NULL),
			     0);
	cr_assert_eq(n_hits, 1);
	cr_assert_eq(nm_sigdb_stream_close(db, st, scratch, on_hit, NULL), 0);
	cr_assert_eq(n_hits, 1);
}

Test(sigdb, stream_split_at_every_cut_point)
{
	char data[64];
	size_t len;

	content_add(rule_add(NM_SIG_PROTO_TCP, 1), sig);
	pcre_add(rule_add(NM_SIG_PROTO_TCP, 2), "EVIL-\\w+", "i");
	compile_ok();
	snprintf(data, sizeof(data), "ab%scd", sig);
	len = strlen(data);

	for (size_t cut = 0; cut <= len; cut++) {
		struct nm_sigdb_stream *st = nm_sigdb_stream_open(db, NULL);

		cr_assert_not_null(st);
		n_hits = 0;
		cr_assert_eq(
		    nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)data, cut, on_hit, NULL),
		    0);
		cr_assert_eq(nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)data + cut,
						  len - cut, on_hit, NULL),
			     0);
		cr_assert_eq(nm_sigdb_stream_close(db, st, scratch, on_hit, NULL), 0);
		cr_assert_eq(hit_mask(), 0x3, "cut at %zu", cut);
		cr_assert_eq(n_hits, 2, "cut at %zu", cut);
	}
}

Test(sigdb, stream_match_spanning_segments_reported_before_close)
{
	unsigned int before;

	content_add(rule_add(NM_SIG_PROTO_TCP, 1), "foobar");
	compile_ok();

	const char *segs[] = {"xxfo", "o yy", " foob", "ar zz"};
	cr_assert_eq(stream_segments(segs, 4, &before), 0x1);
	cr_assert_eq(before, 1, "the hit comes with the segment that completes it");
	cr_assert_eq(n_hits, 1, "close adds nothing");
}

/*
 * One stream over the segments, then close. after[i] = hits after segment
 * i; returns the mask of scan and close hits (each rule at most once).
 */
static unsigned int
stream_each(const char *const *segs, unsigned int n, unsigned int *after)
{
	struct nm_sigdb_stream *st = nm_sigdb_stream_open(db, NULL);

	cr_assert_not_null(st);
	n_hits = 0;
	for (unsigned int i = 0; i < n; i++) {
		cr_assert_eq(nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)segs[i],
						  strlen(segs[i]), on_hit, NULL),
			     0);
		after[i] = n_hits;
	}
	cr_assert_eq(nm_sigdb_stream_close(db, st, scratch, on_hit, NULL), 0);
	return hit_mask();
}

/* Segment index at which the first hit arrived; n when only at close or never. */
static unsigned int
first_hit_segment(const unsigned int *after, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (after[i])
			return i;
	return n;
}

/*
 * Hyperscan 5.4 evaluates a streaming combination only when a later
 * sub-expression match arrives or the stream closes; sigdb therefore
 * decides non-negated multi-pattern stream rules itself (ctrl/sigdb.c).
 * The rule is reported in the segment that completes it, exactly once,
 * whatever the order, overlap or segmentation.
 */
Test(sigdb, stream_combination_reported_in_completing_segment_once)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_TCP, 1);
	unsigned int after[64];

	content_add(r, "foo");
	content_add(r, "bar");
	compile_ok();
	cr_assert_eq(db->n_stream_multi, 1);

	const char *quiet_tail[] = {"xxfo", "o yy b", "ar zz"};
	cr_assert_eq(stream_each(quiet_tail, 3, after), 0x1);
	cr_assert_eq(first_hit_segment(after, 3), 2, "reported with the completing segment");
	cr_assert_eq(n_hits, 1);

	const char *busy_tail[] = {"xxfo", "o yy b", "ar zz", "bar", "foo bar foo"};
	cr_assert_eq(stream_each(busy_tail, 5, after), 0x1);
	cr_assert_eq(first_hit_segment(after, 5), 2);
	cr_assert_eq(n_hits, 1, "never twice in a stream");

	const char *reversed[] = {"GET /bar", " HTTP/1.1", "Host: fo", "o"};
	cr_assert_eq(stream_each(reversed, 4, after), 0x1);
	cr_assert_eq(first_hit_segment(after, 4), 3, "either order");
	cr_assert_eq(n_hits, 1);

	const char *together[] = {"nothing", "barfoo", "x"};
	cr_assert_eq(stream_each(together, 3, after), 0x1);
	cr_assert_eq(first_hit_segment(after, 3), 1, "both in one segment");
	cr_assert_eq(n_hits, 1);

	const char *half[] = {"foo", "foo", "xx"};
	cr_assert_eq(stream_each(half, 3, after), 0, "one pattern twice is not both");

	/* A new stream starts with an empty bitmap. */
	const char *only_bar[] = {"bar"};
	cr_assert_eq(stream_each(only_bar, 1, after), 0);
}

Test(sigdb, stream_combination_one_byte_segments)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_TCP, 1);
	static const char data[] = "xxbaXbarybfoofoobarfoo";
	const char *segs[sizeof(data) - 1];
	char bytes[sizeof(data) - 1][2];
	unsigned int after[sizeof(data) - 1];
	const unsigned int n = sizeof(data) - 1;

	content_add(r, "foo");
	content_add(r, "bar");
	compile_ok();

	for (unsigned int i = 0; i < n; i++) {
		bytes[i][0] = data[i];
		bytes[i][1] = '\0';
		segs[i] = bytes[i];
	}
	cr_assert_eq(stream_each(segs, n, after), 0x1);
	/* "bar" ends at byte 7, "foo" first ends at byte 12: the rule comes with byte 12 */
	cr_assert_eq(first_hit_segment(after, n), 12);
	cr_assert_eq(n_hits, 1);
}

Test(sigdb, stream_combination_overlapping_patterns)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_TCP, 1);
	unsigned int after[8];

	content_add(r, "foob");
	content_add(r, "obar");
	pcre_add(r, "o+b", "");
	compile_ok();

	const char *one[] = {"xfoobarx"};
	cr_assert_eq(stream_each(one, 1, after), 0x1);
	cr_assert_eq(after[0], 1);

	const char *split[] = {"xfo", "ob", "ar", "foobar"};
	cr_assert_eq(stream_each(split, 4, after), 0x1);
	cr_assert_eq(first_hit_segment(after, 4), 2);
	cr_assert_eq(n_hits, 1);

	const char *not_overlapping[] = {"xfooc", "obax"};
	cr_assert_eq(stream_each(not_overlapping, 2, after), 0);
}

/* Split at every cut point, several multi-pattern rules, a single one beside them. */
Test(sigdb, stream_combinations_split_at_every_cut_point)
{
	struct nm_sig_rule *r;
	const char data[] = "GET /admin/42 HTTP/1.1\r\nHost: evil\r\n";
	const size_t len = strlen(data);
	const size_t ends_host = strstr(data, "evil") - data + 4; /* rule 1 complete */

	r = rule_add(NM_SIG_PROTO_TCP, 1);
	content_add(r, "GET ");
	pcre_add(r, "/admin/\\d+", "i");
	content_add(r, "evil");
	r = rule_add(NM_SIG_PROTO_IP, 2);
	content_add(r, "HTTP/1.");
	content_add(r, "GET");
	content_add(rule_add(NM_SIG_PROTO_TCP, 3), "Host:");
	r = rule_add(NM_SIG_PROTO_TCP, 4);
	content_add(r, "GET");
	content_add(r, "POST");
	compile_ok();
	cr_assert_eq(db->n_stream_multi, 3);

	for (size_t cut = 0; cut <= len; cut++) {
		char a[64], b[64];
		const char *segs[] = {a, b};
		unsigned int after[2], before_mask = 0;

		memcpy(a, data, cut);
		a[cut] = '\0';
		strcpy(b, data + cut);
		cr_assert_eq(stream_each(segs, 2, after), 0x7, "cut at %zu", cut);
		cr_assert_eq(n_hits, 3, "cut at %zu", cut);
		cr_assert_eq(after[1], 3, "all reported before close, cut at %zu", cut);
		for (unsigned int i = 0; i < after[0]; i++)
			before_mask |= 1u << hits[i];
		/* rule 1 is in the first segment's hits exactly when that segment completes it */
		cr_assert_eq((before_mask & 1) != 0, cut >= ends_host, "cut at %zu", cut);
	}
	/* the ip rule keeps its block-mode combination */
	cr_assert_eq(block_str("GET / HTTP/1.0"), 0x2);
	cr_assert_eq(block_str("GET / HTTP/2"), 0);
}

/* A pcre anchored at the end of the data completes its rule at close. */
Test(sigdb, stream_combination_completed_at_close)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_TCP, 1);
	unsigned int after[2];

	content_add(r, "foo");
	pcre_add(r, "bar\\z", "");
	compile_ok();

	const char *segs[] = {"foo", " bar"};
	cr_assert_eq(stream_each(segs, 2, after), 0x1);
	cr_assert_eq(after[1], 0);
	cr_assert_eq(n_hits, 1);
}

Test(sigdb, stream_state_counts_the_bitmaps)
{
	struct nm_sig_rule *r;
	size_t hs_bytes = 0;

	r = rule_add(NM_SIG_PROTO_TCP, 1);
	content_add(r, "a1");
	content_add(r, "a2");
	r = rule_add(NM_SIG_PROTO_IP, 2);
	content_add(r, "b1");
	content_add(r, "b2");
	r = rule_add(NM_SIG_PROTO_TCP, 3); /* negated: a combination, no bitmap */
	content_add(r, "c1");
	content_add(r, "c2")->negated = true;
	content_add(rule_add(NM_SIG_PROTO_TCP, 4), "d1"); /* single: no bitmap */
	r = rule_add(NM_SIG_PROTO_UDP, 5);		  /* block only: no bitmap */
	content_add(r, "e1");
	content_add(r, "e2");
	compile_ok();

	cr_assert_eq(hs_stream_size(db->stream, &hs_bytes), HS_SUCCESS);
	cr_assert_eq(db->n_stream_multi, 2);
	cr_assert_eq(db->stream_seen_bytes, sizeof(struct nm_sigdb_stream) + 2 * sizeof(uint16_t));
	cr_assert_eq(db->stream_state_bytes, hs_bytes + db->stream_seen_bytes);
	cr_log_info("stream state: %zu bytes (hs %zu + handle/bitmaps %zu)", db->stream_state_bytes,
		    hs_bytes, db->stream_seen_bytes);

	const char *segs[] = {"a1 b1 c1 d1 e1 e2", " a2", " b2"};
	unsigned int after[3];
	cr_assert_eq(stream_each(segs, 3, after), 0xf);
	cr_assert_eq(after[0], 1); /* d1 */
	cr_assert_eq(after[1], 2); /* rule 1 */
	cr_assert_eq(after[2], 3); /* rule 2; rule 3 only at close */
}

/* Dropping a stream with fn NULL frees the handle (checked under ASan). */
Test(sigdb, stream_close_without_callback_frees)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_TCP, 1);
	struct nm_sigdb_stream *st;

	content_add(r, "foo");
	content_add(r, "bar");
	compile_ok();
	st = nm_sigdb_stream_open(db, NULL);
	cr_assert_not_null(st);
	cr_assert_eq(nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)"foo", 3, on_hit, NULL),
		     0);
	cr_assert_eq(nm_sigdb_stream_close(db, st, NULL, NULL, NULL), 0);
	cr_assert_eq(n_hits, 0);
}

Test(sigdb, stream_negation_reported_at_close)
{
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_TCP, 1);
	unsigned int before;

	content_add(r, "foo");
	content_add(r, "bar")->negated = true;
	compile_ok();

	const char *clean[] = {"GET foo", " HTTP/1.1"};
	cr_assert_eq(stream_segments(clean, 2, &before), 0x1);
	cr_assert_eq(before, 0, "negation is only decided when the stream ends");

	const char *vetoed[] = {"GET foo", " HTTP/1.1", " ba", "r"};
	cr_assert_eq(stream_segments(vetoed, 4, &before), 0);
}

Test(sigdb, ip_negated_rule_in_both_databases)
{
	content_add(rule_add(NM_SIG_PROTO_IP, 1), "bar")->negated = true;
	compile_ok();

	cr_assert_eq(block_str("foo"), 0x1);
	cr_assert_eq(block_str("foobar"), 0);
	const char *clean[] = {"foo"};
	const char *vetoed[] = {"fooba", "r"};
	cr_assert_eq(stream_segments(clean, 1, NULL), 0x1);
	cr_assert_eq(stream_segments(vetoed, 2, NULL), 0);
}

/* Stream offsets count from the start of the direction's stream, not the segment. */
Test(sigdb, stream_depth_counts_from_stream_start)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 1), "abc")->depth = 5;
	compile_ok();

	const char *early[] = {"x", "abc"};
	const char *late[] = {"xxx", "abc"};
	cr_assert_eq(stream_segments(early, 2, NULL), 0x1);
	cr_assert_eq(stream_segments(late, 2, NULL), 0);
}

Test(sigdb, scratch_serves_both_databases)
{
	struct nm_sig_rule *r;

	content_add(rule_add(NM_SIG_PROTO_TCP, 1), "t");
	pcre_add(rule_add(NM_SIG_PROTO_UDP, 2), "u{3,40}v", "");
	r = rule_add(NM_SIG_PROTO_IP, 3);
	content_add(r, "i");
	content_add(r, "j")->negated = true;
	compile_ok();

	size_t size = 0;
	cr_assert_not_null(scratch);
	cr_assert_eq(hs_scratch_size(scratch, &size), HS_SUCCESS);
	cr_assert_gt(size, 0);
	cr_assert_gt(db->stream_state_bytes, 0);

	cr_assert_eq(block_str("uuuv i"), 0x6);
	const char *segs[] = {"t i"};
	cr_assert_eq(stream_segments(segs, 1, NULL), 0x5);

	/* growing an existing scratch for a new database keeps it usable */
	cr_assert_eq(nm_sigdb_scratch_alloc(db, &scratch), 0);
	cr_assert_eq(block_str("uuuv"), 0x2);
}

/* ---- the workers' stream pool (dataplane/sig_scan.c) ---- */

Test(sigdb, pooled_stream_matches_like_a_heap_stream)
{
	const char *const segs[] = {"xxEVIL-", "PAY", "LOADyy"};

	content_add(rule_add(NM_SIG_PROTO_TCP, 1), sig);
	compile_ok();
	struct nm_sig_stream_pool *pool = nm_sig_stream_pool_create(4, 4096);
	cr_assert_not_null(pool);
	cr_assert_leq(nm_sigdb_stream_chunk_bytes(db), 4096);

	for (int round = 0; round < 8; round++) { /* chunks are reused after close */
		struct nm_sigdb_stream *st = nm_sigdb_stream_open(db, pool);
		cr_assert_not_null(st, "round %d: %s", round, strerror(errno));
		cr_assert_eq(pool->n_free, 3);
		cr_assert_geq((uint8_t *)st, pool->mem);
		cr_assert_lt((uint8_t *)st, pool->mem + pool->bytes, "not from the pool");
		n_hits = 0;
		for (unsigned int i = 0; i < 3; i++)
			cr_assert_eq(nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)segs[i],
							  strlen(segs[i]), on_hit, NULL),
				     0);
		cr_assert_eq(n_hits, 1, "round %d", round);
		cr_assert_eq(nm_sigdb_stream_close(db, st, scratch, on_hit, NULL), 0);
		cr_assert_eq(pool->n_free, 4);
	}
	nm_sig_stream_pool_free(pool);
}

Test(sigdb, pool_empty_refuses_open_until_a_stream_closes)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 1), sig);
	compile_ok();
	struct nm_sig_stream_pool *pool = nm_sig_stream_pool_create(2, 4096);
	cr_assert_not_null(pool);

	struct nm_sigdb_stream *a = nm_sigdb_stream_open(db, pool);
	struct nm_sigdb_stream *b = nm_sigdb_stream_open(db, pool);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_neq(a, b);
	errno = 0;
	cr_assert_null(nm_sigdb_stream_open(db, pool));
	cr_assert_eq(errno, ENOMEM);
	cr_assert_eq(pool->n_free, 0);

	cr_assert_eq(nm_sigdb_stream_close(db, a, NULL, NULL, NULL), 0);
	struct nm_sigdb_stream *c = nm_sigdb_stream_open(db, pool);
	cr_assert_eq(c, a, "the chunk just freed is the next one taken");
	cr_assert_eq(nm_sigdb_stream_close(db, b, scratch, on_hit, NULL), 0);
	cr_assert_eq(nm_sigdb_stream_close(db, c, scratch, on_hit, NULL), 0);
	cr_assert_eq(pool->n_free, 2);
	nm_sig_stream_pool_free(pool);
}

Test(sigdb, pool_chunk_too_small_for_the_database_refuses_open)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 1), sig);
	compile_ok();
	struct nm_sig_stream_pool *pool = nm_sig_stream_pool_create(2, 64);
	cr_assert_not_null(pool);
	cr_assert_gt(nm_sigdb_stream_chunk_bytes(db), 64);

	errno = 0;
	cr_assert_null(nm_sigdb_stream_open(db, pool));
	cr_assert_eq(errno, ENOMEM);
	cr_assert_eq(pool->n_free, 2, "a refused open takes nothing");
	nm_sig_stream_pool_free(pool);
}

Test(sigdb, pool_refuses_sizes_that_break_alignment)
{
	errno = 0;
	cr_assert_null(nm_sig_stream_pool_create(4, 100));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(nm_sig_stream_pool_create(0, 4096));
	cr_assert_eq(errno, EINVAL);
}
