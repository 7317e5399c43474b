/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Content modifiers end to end: rule text through the parser
 * (ctrl/sigmod.c), expressions (ctrl/sigexpr.c) and the databases, then
 * payloads that must match and payloads that must not, by Suricata's
 * meaning of distance, within, startswith, endswith, isdataat, dsize and
 * offset/depth at the head of a relative chain. Relative matches are also
 * split across TCP segments.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sigdb.h"

#include "test_sigdb_common.h"

TestSuite(sigmod, .init = setup, .fini = teardown);

#define UDP "alert udp any any -> any any "
#define TCP "alert tcp any any -> any any "

static void
rule_text(const char *text)
{
	struct nm_sig_rule *r = &rules[n_rules];

	cr_assert_lt(n_rules, MAX_RULES);
	cr_assert_eq(nm_sig_rule_parse(text, r, err, sizeof(err)), 0, "%s: %s", text, err);
	r->line = 2000 + n_rules;
	n_rules++;
}

/* One payload per row: does the rule (index 0) match it? */
struct row {
	const char *payload;
	bool match;
};

static void
expect_block(const char *rule, const struct row *rows, size_t n)
{
	setup();
	rule_text(rule);
	compile_ok();
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(block_str(rows[i].payload), rows[i].match ? 0x1u : 0u,
			     "%s\non \"%s\": expected %s", rule, rows[i].payload,
			     rows[i].match ? "a match" : "no match");
	teardown();
}

#define EXPECT_BLOCK(rule, ...)                                                                    \
	do {                                                                                       \
		static const struct row rows_[] = {__VA_ARGS__};                                   \
		expect_block(rule, rows_, sizeof(rows_) / sizeof(rows_[0]));                       \
	} while (0)

Test(sigmod, distance_and_within_bound_the_gap)
{
	/* PASS starts 2..6 bytes after USER ends: within 8 counts from distance 2. */
	EXPECT_BLOCK(UDP "(content:\"USER\"; content:\"PASS\"; distance:2; within:8; sid:1;)",
		     {"USER  PASS", true}, {"USER      PASS", true}, {"USER       PASS", false},
		     {"USER PASS", false}, {"USERPASS", false}, {"PASS  USER", false},
		     /* every USER is tried, as Suricata backtracks */
		     {"USER x USER x USER  PASS", true});
}

Test(sigmod, distance_alone_and_within_alone)
{
	EXPECT_BLOCK(UDP "(content:\"a\"; content:\"b\"; distance:3; sid:1;)", {"a123b", true},
		     {"a12b", false}, {"a1234567890b", true}, {"ba", false});
	/* within alone: evil ends at most 10 bytes after GET ends */
	EXPECT_BLOCK(UDP "(content:\"GET\"; content:\"evil\"; within:10; sid:1;)",
		     {"GET /evil", true}, {"GETevil", true}, {"GET /aaaaevil", true},
		     {"GET /aaaaaevil", false}, {"evilGET", false});
	/* distance:0 is "after", overlap not allowed */
	EXPECT_BLOCK(UDP "(content:\"abc\"; content:\"cd\"; distance:0; sid:1;)", {"abccd", true},
		     {"abcd", false});
}

Test(sigmod, three_contents_chain_with_nocase_per_content)
{
	/* |3a 3b| is ":;", ending at most 4 bytes after DEF: a gap of 0..2 */
	EXPECT_BLOCK(UDP "(content:\"abc\"; nocase; content:\"DEF\"; distance:0; "
			 "content:\"|3a 3b|\"; within:4; sid:1;)",
		     {"xaBcDEF--:;", true}, {"ABCDEF:;", true}, {"ABCdef:;", false},
		     {"ABCDEF---:;", false}, {":;ABCDEF", false});
}

Test(sigmod, offset_and_depth_at_the_head_of_a_chain)
{
	EXPECT_BLOCK(UDP "(content:\"MZ\"; depth:2; content:\"PE\"; distance:0; sid:1;)",
		     {"MZ..PE", true}, {"xMZPE", false}, {"PEMZ", false});
	EXPECT_BLOCK(UDP "(content:\"ab\"; offset:2; depth:3; content:\"z\"; within:1; sid:1;)",
		     {"xxabz", true}, {"xxxabz", true}, {"xxxxabz", false}, {"xabz", false});
}

Test(sigmod, startswith_and_endswith)
{
	EXPECT_BLOCK(UDP "(content:\"SSH-\"; startswith; sid:1;)", {"SSH-2.0", true},
		     {" SSH-2.0", false});
	EXPECT_BLOCK(UDP "(content:\".exe\"; endswith; sid:1;)", {"a.exe", true}, {".exe", true},
		     {"a.exe ", false}, {"a.exe.exe", true});
	EXPECT_BLOCK(UDP "(content:\"GET \"; startswith; content:\".php\"; distance:0; endswith; "
			 "sid:1;)",
		     {"GET /x.php", true}, {"GET /x.php?a", false}, {" GET /x.php", false});
}

Test(sigmod, isdataat_absolute_and_negated)
{
	/* a byte at offset 10: 11 bytes at least */
	EXPECT_BLOCK(UDP "(content:\"A\"; isdataat:10; sid:1;)", {"A1234567890", true},
		     {"A123456789", false});
	/* no byte at offset 5: 5 bytes at most */
	EXPECT_BLOCK(UDP "(content:\"A\"; isdataat:!5; sid:1;)", {"Abcde", true},
		     {"Abcdef", false});
}

Test(sigmod, isdataat_relative_and_negated)
{
	EXPECT_BLOCK(UDP "(content:\"LEN\"; isdataat:4,relative; sid:1;)", {"LEN1234", true},
		     {"LEN123", false}, {"LEN123 LEN1234", true});
	EXPECT_BLOCK(UDP "(content:\"LEN\"; isdataat:!4,relative; sid:1;)", {"LEN123", true},
		     {"LEN1234", false}, {"xxLEN", true});
}

Test(sigmod, dsize_forms)
{
	EXPECT_BLOCK(UDP "(content:\"x\"; dsize:3<>6; sid:1;)", {"x123", true}, {"x1234", true},
		     {"x12", false}, {"x12345", false});
	EXPECT_BLOCK(UDP "(content:\"x\"; dsize:>4; sid:1;)", {"x1234", true}, {"x123", false});
	EXPECT_BLOCK(UDP "(content:\"x\"; dsize:<3; sid:1;)", {"x1", true}, {"x12", false});
	EXPECT_BLOCK(UDP "(content:\"x\"; dsize:2; sid:1;)", {"x1", true}, {"x12", false},
		     {"x", false});
}

Test(sigmod, fast_pattern_changes_no_match)
{
	static const struct row rows[] = {{"USER  PASS", true}, {"USER PASS", false}};

	expect_block(UDP "(content:\"USER\"; fast_pattern; content:\"PASS\"; distance:2; sid:1;)",
		     rows, 2);
	expect_block(UDP "(content:\"USER\"; content:\"PASS\"; fast_pattern:only; distance:2; "
			 "sid:1;)",
		     rows, 2);
	expect_block(UDP "(content:\"USER\"; fast_pattern:1,2; content:\"PASS\"; distance:2; "
			 "sid:1;)",
		     rows, 2);
}

/* The relative chain is one expression: Hyperscan keeps its state across segments. */
Test(sigmod, relative_match_split_across_stream_segments)
{
	rule_text(TCP "(content:\"USER\"; content:\"PASS\"; distance:1; within:10; sid:1;)");
	compile_ok();

	const char *split[] = {"xxUS", "ER a", "PA", "SS"};
	const char *too_close[] = {"USER", "PASS"};
	const char *too_far[] = {"USER", "           ", "PASS"};
	const char *second_try[] = {"USER", "            USER", " PASS"};
	unsigned int before_close = 0;

	cr_expect_eq(stream_segments(split, 4, &before_close), 0x1);
	cr_expect_eq(before_close, 0x1, "reported in the segment that completes it");
	cr_expect_eq(stream_segments(too_close, 2, NULL), 0);
	cr_expect_eq(stream_segments(too_far, 3, NULL), 0);
	cr_expect_eq(stream_segments(second_try, 3, NULL), 0x1);
}

Test(sigmod, stream_chain_with_another_pattern_and_isdataat)
{
	rule_text(TCP "(content:\"MAIL\"; content:\"FROM\"; distance:1; within:5; "
		      "content:\"RCPT\"; isdataat:3,relative; sid:1;)");
	compile_ok();

	const char *yes[] = {"MAIL  FR", "OM x RC", "PT abc"};
	const char *no[] = {"MAIL  FR", "OM x RC", "PT a"};
	unsigned int before_close = 0;

	cr_expect_eq(stream_segments(yes, 3, &before_close), 0x1);
	cr_expect_eq(before_close, 0x1);
	cr_expect_eq(stream_segments(no, 3, NULL), 0);
}

Test(sigmod, end_of_data_keywords_refused_on_tcp)
{
	static const char *const texts[] = {
	    TCP "(content:\"a\"; endswith; sid:1;)",
	    TCP "(content:\"a\"; isdataat:!3; sid:1;)",
	    TCP "(content:\"a\"; isdataat:!3,relative; sid:1;)",
	    TCP "(content:\"a\"; dsize:>3; sid:1;)",
	    "alert ip any any -> any any (content:\"a\"; dsize:>3; sid:1;)",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		setup();
		rule_text(texts[i]);
		db = nm_sigdb_compile(rules, n_rules, err, sizeof(err));
		cr_expect_null(db, "%s compiled", texts[i]);
		cr_expect_eq(errno, EINVAL);
		cr_expect_not_null(strstr(err, "need the end of a packet"), "%s: %s", texts[i],
				   err);
		teardown();
	}
}

/* pcre R: the regex is tried from where the previous match ended (Suricata's pcre page). */
Test(sigmod, relative_pcre_starts_after_the_previous_match)
{
	EXPECT_BLOCK(UDP "(content:\"id=\"; pcre:\"/\\d{3}/R\"; sid:1;)", {"id=123", true},
		     {"123 id=", false}, {"id=12", false}, {"id=x 456", true});
	/* A leading ^ anchors it right there. */
	EXPECT_BLOCK(UDP "(content:\"id=\"; pcre:\"/^\\d{3}/R\"; sid:1;)", {"id=123", true},
		     {"id=x 456", false}, {"id=x id=789", true});
	/* Its own flags only: no i on the content, i on the pcre; no s on the pcre. */
	EXPECT_BLOCK(UDP "(content:\"GET\"; pcre:\"/^ \\/ADMIN.x/Ri\"; sid:1;)",
		     {"GET /admin-x", true}, {"get /admin-x", false}, {"GET /admin\nx", false});
	/* A content relative to the pcre's match end. */
	EXPECT_BLOCK(UDP "(content:\"a\"; pcre:\"/b+/R\"; content:\"c\"; within:1; sid:1;)",
		     {"abbbc", true}, {"abbb c", false}, {"cab", false});
	/* A chain that starts with a pcre. */
	EXPECT_BLOCK(UDP "(pcre:\"/x[0-9]/\"; content:\"y\"; distance:1; within:2; sid:1;)",
		     {"x1-y", true}, {"x1--y", true}, {"x1y", false}, {"x1---y", false});
}

Test(sigmod, relative_pcre_refusals)
{
	char why[256];
	struct nm_sig_rule r;

	cr_assert_eq(nm_sig_rule_parse(UDP "(pcre:\"/x/R\"; sid:1;)", &r, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "sid 1: pcre flag R: no content before the one it makes relative");
	cr_assert_eq(
	    nm_sig_rule_parse(UDP "(content:!\"a\"; pcre:\"/x/R\"; sid:1;)", &r, why, sizeof(why)),
	    -EINVAL);
	cr_assert_str_eq(why, "sid 1: pcre flag R: relative to a negated content is not supported");
	setup();
	rule_text(UDP "(content:\"a\"; pcre:\"/(^x|y)/R\"; sid:1;)");
	cr_assert_null(nm_sigdb_compile(rules, n_rules, err, sizeof(err)));
	cr_assert(strstr(err, "pcre R with ^ other than at its start") != NULL, "%s", err);
	teardown();
}

/* Relative first in its buffer: Suricata counts from the buffer's start (offset/depth). */
Test(sigmod, relative_first_counts_from_the_start)
{
	EXPECT_BLOCK(UDP "(content:\"a\"; distance:2; within:3; sid:1;)", {"xxa", true},
		     {"xxxxa", true}, {"a", false}, {"xxxxxa", false});
	EXPECT_BLOCK(UDP "(isdataat:3,relative; content:\"a\"; sid:1;)", {"abcd", true},
		     {"abc", false});
}
