/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the signature rule parser, part three of test_sigrule: the
 * rules-file loader (nm_sig_file_parse): a missing file, each bad file's
 * "FILE:LINE: sid N: reason", comments, blank and continuation lines, CRLF,
 * duplicate sids, and thousands of rules growing the array and the sid set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sig.h"
#include "unit_tmp.h"
#include "test_sigrule_common.h"

static struct nm_sig_rule *rules;

static int
parse_file(const char *text, char *path)
{
	nm_test_write_tmp(path, text);
	memset(err, 0, sizeof(err));
	rules = (struct nm_sig_rule *)&err; /* must be reset either way */
	int rc = nm_sig_file_parse(path, NULL, &rules, err, sizeof(err));
	unlink(path);
	return rc;
}

#define R(sid, extra) ANY_ANY "(content:\"x\"; " extra "sid:" #sid ";)"

Test(sigrule_file, missing_file)
{
	memset(err, 0, sizeof(err));
	cr_assert_eq(nm_sig_file_parse("/nonexistent/x.rules", NULL, &rules, err, sizeof(err)),
		     -ENOENT);
	cr_assert_null(rules);
	cr_assert_str_eq(err, "/nonexistent/x.rules: cannot open: No such file or directory");
}

static const struct {
	const char *what;
	const char *text;
	unsigned int line; /* of the error */
	const char *reason;
} bad_files[] = {
    {"first line", R(1, "bogus; ") "\n" R(2, "") "\n" R(3, "") "\n", 1,
     "sid 1: unsupported keyword 'bogus'"},
    {"middle line after comments and blanks",
     "# header\n\n" R(1, "") "\n   # indented comment\n" R(2, "pcre:\"/a/G\"; ") "\n\n" R(3,
											  "") "\n",
     5,
     "sid 2: pcre flag 'G' is not supported (only i s m x R and the buffer flags U I P "
     "Q H C M S Y V W)"},
    {"last line without newline", R(1, "") "\n" R(2, "") "\n" R(3, "depth:0; "), 3,
     "sid 3: depth 0 is shorter than the content (1 bytes)"},
    {"after continuation lines",
     R(1, "") "\n" ANY_ANY "(content:\"x\"; \\\n  nocase; \\\n"
	      "  sid:2;)\n" R(3, "offset:x; ") "\n",
     5, "sid 3: offset 'x': not a number 0..65535"},
    {"inside a continued rule: its first line",
     "\n" ANY_ANY "(content:\"x\"; \\\n  foo; \\\n"
     "  sid:2;)\n",
     2, "sid 2: unsupported keyword 'foo'"},
    {"sid unknown", R(1, "") "\n" ANY_ANY "(content:\"x\"; bar;)\n", 2,
     "unsupported keyword 'bar'"},
    {"duplicate sid", "# rules\n" R(7, "") "\n" R(8, "") "\n\n" R(7, "nocase; ") "\n", 5,
     "sid 7: duplicate sid, first on line 2"},
    {"duplicate sid after a continuation",
     R(1, "") "\n" ANY_ANY "\\\n(content:\"y\"; \\\nsid:9;)\n" R(9, "") "\n", 5,
     "sid 9: duplicate sid, first on line 2"},
    {"CRLF line endings", R(1, "") "\r\n" R(2, "") "\r\n" R(2, "") "\r\n", 3,
     "sid 2: duplicate sid, first on line 2"},
};

Test(sigrule_file, each_bad_file_names_file_line_sid_and_reason)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		char path[] = "/tmp/nm-test-sigrule-XXXXXX";
		char want[1100];
		int rc = parse_file(bad_files[i].text, path);

		snprintf(want, sizeof(want), "%s:%u: %s", path, bad_files[i].line,
			 bad_files[i].reason);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bad_files[i].what, rc);
		cr_expect_null(rules, "%s: rules not NULL", bad_files[i].what);
		cr_expect_str_eq(err, want, "%s", bad_files[i].what);
	}
}

Test(sigrule_file, good_file_counts_rules_and_their_lines)
{
	char path[] = "/tmp/nm-test-sigrule-XXXXXX";
	/* One line of the file per line here, its number in the comment. */
	// clang-format off
	const char *text =
		"# nodemesh test rules\n"                              /* 1 */
		"\n"                                                   /* 2 */
		R(100, "nocase; ") "\n"                                /* 3 */
		"   \t\n"                                              /* 4 */
		"alert tcp any any -> any 80 (msg:\"multi\"; \\\n"     /* 5 */
		"    content:\"GET\"; depth:3; \\\n"                   /* 6 */
		"    sid:200;)\n"                                      /* 7 */
		"#" R(100, "") " \\\n"                                 /* 8: comment */
		"  continued comment line\n"                           /* 9 */
		"  " R(300, "content:\"#not a comment\"; ") "\n"       /* 10 */
		"alert udp any any -> any 53 (content:\"|00|\"; \\\n"  /* 11 */
		"sid:400;) \\";                                        /* 12: at EOF */
	// clang-format on
	int n = parse_file(text, path);

	cr_assert_eq(n, 4, "%s", err);
	cr_assert_not_null(rules);
	cr_expect_eq(rules[0].sid, 100);
	cr_expect_eq(rules[0].line, 3);
	cr_expect(rules[0].patterns[0].nocase);
	cr_expect_eq(rules[1].sid, 200);
	cr_expect_eq(rules[1].line, 5);
	cr_expect_str_eq(rules[1].msg, "multi");
	cr_expect_eq(rules[1].patterns[0].depth, 3);
	cr_expect_eq(rules[1].dport.items[0].lo, 80);
	cr_expect_eq(rules[2].sid, 300);
	cr_expect_eq(rules[2].line, 10);
	cr_expect_eq(rules[2].n_patterns, 2);
	cr_expect_str_eq((char *)rules[2].patterns[1].data, "#not a comment");
	cr_expect_eq(rules[3].sid, 400);
	cr_expect_eq(rules[3].line, 11);
	cr_expect_eq(rules[3].proto, NM_SIG_PROTO_UDP);
	nm_sig_rules_free(rules, (unsigned int)n);
}

Test(sigrule_file, empty_and_comment_only_files_have_no_rules)
{
	char path[] = "/tmp/nm-test-sigrule-XXXXXX";
	char path2[] = "/tmp/nm-test-sigrule-XXXXXX";

	cr_assert_eq(parse_file("", path), 0, "%s", err);
	cr_assert_null(rules);
	cr_assert_eq(parse_file("# only\n\n  # comments\n", path2), 0, "%s", err);
	cr_assert_null(rules);
	nm_sig_rules_free(rules, 0);
}

Test(sigrule_file, many_rules_grow_the_array_and_the_sid_set)
{
	char path[] = "/tmp/nm-test-sigrule-XXXXXX";
	size_t size = 3000 * 80, at = 0;
	char *text = malloc(size);

	cr_assert_not_null(text);
	for (unsigned int sid = 1; sid <= 3000; sid++)
		at += (size_t)snprintf(text + at, size - at, ANY_ANY "(content:\"r%u\"; sid:%u;)\n",
				       sid, sid * 7919u);
	int n = parse_file(text, path);
	cr_assert_eq(n, 3000, "%s", err);
	cr_expect_eq(rules[2999].sid, 3000u * 7919u);
	cr_expect_eq(rules[2999].line, 3000);
	nm_sig_rules_free(rules, (unsigned int)n);

	/* The same with one duplicate at the very end: all or nothing. */
	char path2[] = "/tmp/nm-test-sigrule-XXXXXX";
	snprintf(text + at, size - at, ANY_ANY "(content:\"again\"; sid:%u;)\n", 1500u * 7919u);
	cr_assert_eq(parse_file(text, path2), -EINVAL);
	cr_assert_null(rules);
	char want[200];
	snprintf(want, sizeof(want), "%s:3001: sid %u: duplicate sid, first on line 1500", path2,
		 1500u * 7919u);
	cr_expect_str_eq(err, want);
	free(text);
}
