/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the Hyperscan signature databases, part two of test_sigdb:
 * stream mode (a signature split at every cut point or one byte a segment,
 * multi-pattern rules reported once in the segment that completes them or
 * at close, negation at close, offsets counted from the stream's start,
 * stream state size, one scratch for both databases) and the workers'
 * stream pool (dataplane/sig_scan.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sigdb.h"
#include "sig_scan.h"

#include "test_sigdb_common.h"

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

/*
 * The stream digest (what a takeover compares before it expands a stream):
 * one rules file compiled twice gives one digest, another pattern another.
 */
Test(sigdb, stream_digest_is_the_same_for_the_same_rules_only)
{
	content_add(rule_add(NM_SIG_PROTO_TCP, 1), sig);
	compile_ok();
	struct nm_sigdb *again = nm_sigdb_compile(rules, n_rules, err, sizeof(err));
	cr_assert_not_null(again, "%s", err);
	cr_expect_arr_eq(again->stream_digest, db->stream_digest, NM_SIGDB_DIGEST_LEN);
	nm_sigdb_free(again);

	content_add(rule_add(NM_SIG_PROTO_TCP, 2), "OTHER-PATTERN");
	struct nm_sigdb *other = nm_sigdb_compile(rules, n_rules, err, sizeof(err));
	cr_assert_not_null(other, "%s", err);
	cr_expect(memcmp(other->stream_digest, db->stream_digest, NM_SIGDB_DIGEST_LEN) != 0,
		  "a second rule, the same digest");
	nm_sigdb_free(other);
}

/*
 * A takeover's stream: the first half of a pattern scanned, the state
 * compressed, expanded into another stream of the same database, the
 * second half scanned there: the rule matches once, in the new stream.
 */
Test(sigdb, stream_compressed_and_expanded_goes_on_where_it_stopped)
{
	static const char first[] = "xxEVIL-PA", second[] = "YLOADyy";
	uint8_t buf[4096];
	size_t used;

	content_add(rule_add(NM_SIG_PROTO_TCP, 1), sig);
	compile_ok();
	struct nm_sigdb_stream *old = nm_sigdb_stream_open(db, NULL);
	cr_assert_not_null(old);
	cr_assert_eq(nm_sigdb_stream_scan(db, old, scratch, (const uint8_t *)first, strlen(first),
					  on_hit, NULL),
		     0);
	cr_assert_eq(nm_sigdb_stream_compress(old, buf, 1, &used), -ENOSPC);
	cr_assert_gt(used, 1, "-ENOSPC says how much it needs");
	cr_assert_eq(nm_sigdb_stream_compress(old, buf, sizeof(buf), &used), 0);
	cr_assert_eq(nm_sigdb_stream_close(db, old, NULL, NULL, NULL), 0);

	cr_expect_null(nm_sigdb_stream_expand(db, NULL, buf, 0), "no state for a stream database");
	cr_expect_eq(errno, EINVAL);
	struct nm_sigdb_stream *st = nm_sigdb_stream_expand(db, NULL, buf, used);
	cr_assert_not_null(st);
	cr_assert_eq(n_hits, 0);
	cr_assert_eq(nm_sigdb_stream_scan(db, st, scratch, (const uint8_t *)second, strlen(second),
					  on_hit, NULL),
		     0);
	cr_expect_eq(n_hits, 1, "the pattern split across the handover matched");
	cr_assert_eq(nm_sigdb_stream_close(db, st, scratch, on_hit, NULL), 0);
	cr_expect_eq(n_hits, 1);
}
