/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the Hyperscan signature databases (ctrl/sigdb.c), in two
 * files of one executable: rules are built by hand (no parser), compiled,
 * and scanned over hand-built payloads; each test checks the exact set of
 * rules hit. This file: refusals first, then which database holds which
 * protocol, then block matching (content, nocase, hex bytes, pcre flags,
 * several contents, negation, offset/depth edges). test_sigdb_stream.c
 * holds streams (signatures split at every cut point, one byte a segment,
 * multi-pattern rules reported in the segment that completes them,
 * negation reported at close) and the workers' stream pool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sigdb.h"
#include "sig_scan.h"

#include "test_sigdb_common.h"

TestSuite(sigdb, .init = setup, .fini = teardown);

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

/* Vector-scan the pieces; a bitmask of rule indexes hit, as block() gives. */
static unsigned int
vector(const char *const *piece, unsigned int n)
{
	const uint8_t *data[8];
	unsigned int len[8], mask = 0;

	cr_assert_leq(n, 8);
	for (unsigned int i = 0; i < n; i++) {
		data[i] = (const uint8_t *)piece[i];
		len[i] = (unsigned int)strlen(piece[i]);
	}
	n_hits = 0;
	cr_assert_eq(nm_sigdb_scan_vector(db, scratch, data, len, n, on_hit, NULL), 0);
	for (unsigned int i = 0; i < n_hits; i++) {
		cr_assert_eq(mask & (1u << hits[i]), 0, "rule %u reported twice", hits[i]);
		mask |= 1u << hits[i];
	}
	return mask;
}

Test(sigdb, vector_scan_of_nothing_reports_nothing)
{
	static const char *const empty[] = {"", ""};

	content_add(rule_add(NM_SIG_PROTO_UDP, 1), "a")->negated = true;
	compile_ok();
	cr_assert_eq(nm_sigdb_scan_vector(db, scratch, NULL, NULL, 0, on_hit, NULL), 0);
	cr_assert_eq(vector(empty, 2), 0, "no bytes: the end-of-data marker never matches");
}

/*
 * The same payload cut into two and three pieces at every point hits
 * exactly what one block scan of it hits: a pattern across the cut,
 * offset and depth counted over the whole, a negated content whose veto
 * lies in another piece, the end-of-data marker on the last piece's last
 * byte.
 */
Test(sigdb, vector_scan_matches_across_pieces_as_one_block)
{
	static const char *const payloads[] = {
	    "xx attack yy", "attack", "..foo....bar", "foo.bar", "foo only",
	    "..abc......",  "abc",    "bar",	      "",
	};
	struct nm_sig_pattern *p;

	content_add(rule_add(NM_SIG_PROTO_UDP, 1), "attack");
	struct nm_sig_rule *r = rule_add(NM_SIG_PROTO_UDP, 2);
	content_add(r, "foo");
	content_add(r, "bar");
	r = rule_add(NM_SIG_PROTO_UDP, 3);
	content_add(r, "foo");
	content_add(r, "bar")->negated = true;
	p = content_add(rule_add(NM_SIG_PROTO_UDP, 4), "abc");
	p->offset = 2;
	p->depth = 3;
	compile_ok();

	for (unsigned int k = 0; k < sizeof(payloads) / sizeof(payloads[0]); k++) {
		const char *s = payloads[k];
		size_t n = strlen(s);
		unsigned int want = block_str(s);
		char a[32], b[32], c[32];

		for (size_t i = 0; i <= n; i++) {
			snprintf(a, sizeof(a), "%.*s", (int)i, s);
			snprintf(b, sizeof(b), "%s", s + i);
			const char *two[] = {a, b};
			cr_assert_eq(vector(two, 2), want, "'%s' cut at %zu", s, i);
			for (size_t j = i; j <= n; j++) {
				snprintf(b, sizeof(b), "%.*s", (int)(j - i), s + i);
				snprintf(c, sizeof(c), "%s", s + j);
				const char *three[] = {a, b, c};
				cr_assert_eq(vector(three, 3), want, "'%s' cut at %zu and %zu", s,
					     i, j);
			}
		}
	}
	cr_assert_eq(block_str("xx attack yy"), 0x1, "the cases above are not all misses");
	cr_assert_eq(block_str("foo.bar"), 0x2);
	cr_assert_eq(block_str("foo only"), 0x4);
	cr_assert_eq(block_str("..abc......"), 0x8);
}
