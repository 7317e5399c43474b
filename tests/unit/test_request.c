/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the control request tokenizer (ctrl/request.c): what it
 * refuses and the message it gives, the limits at and one past each edge,
 * and the argument lookups the command handlers rely on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "request.h"

static struct nm_req req; /* 14 KiB: not on the stack of every test */
static char err[256];

static int
parse_str(const char *line)
{
	memset(err, 0, sizeof(err));
	return nm_req_parse(line, strlen(line), &req, err, sizeof(err));
}

/* A line of n copies of c. The caller frees it. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- invalid input ----------------------------------------------------- */

static const struct {
	const char *what;
	const char *line;
	size_t len;	  /* 0: strlen(line) */
	const char *want; /* exact error message */
} bad_lines[] = {
    {"empty line", "", 0, "empty request: expected a command, try 'help'"},
    {"blanks only", " \t  ", 0, "empty request: expected a command, try 'help'"},
    {"CR only", "\r", 0, "empty request: expected a command, try 'help'"},
    {"arguments without a command", "name=web", 0, "empty request: expected a command, try 'help'"},
    {"word after arguments", "pod add name=x web", 0, "column 16: word after key=value arguments"},
    {"nine words", "a b c d e f g h i", 0, "more than 8 command words"},
    {"control byte", "pod\x01 list", 0, "column 4: byte 0x01 is not printable ASCII"},
    {"DEL", "stats\x7f", 0, "column 6: byte 0x7f is not printable ASCII"},
    {"high byte in value", "pod add name=w\xc3\xa9", 0,
     "column 15: byte 0xc3 is not printable ASCII"},
    {"NUL inside the line", "pod\0list", 8, "column 4: byte 0x00 is not printable ASCII"},
    {"CR inside the line", "pod\r list", 0, "column 4: byte 0x0d is not printable ASCII"},
    {"newline inside the line", "pod list\nstats", 0, "column 9: byte 0x0a is not printable ASCII"},
    {"empty key", "pod add =web", 0, "column 9: empty key before '='"},
    {"empty key at column 1", "=web", 0, "column 1: empty key before '='"},
    {"empty key, value holds '='", "pod add ==x", 0, "column 9: empty key before '='"},
    {"upper-case key", "pod add Name=x", 0, "column 9: key may hold only a-z, 0-9, '_' and '-'"},
    {"dot in key", "pod add na.me=x", 0, "column 11: key may hold only a-z, 0-9, '_' and '-'"},
    {"slash in key", "pod add a/b=x", 0, "column 10: key may hold only a-z, 0-9, '_' and '-'"},
};

Test(request_invalid, each_bad_line_gives_its_message)
{
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		size_t len = bad_lines[i].len ? bad_lines[i].len : strlen(bad_lines[i].line);
		int rc;

		memset(err, 0, sizeof(err));
		rc = nm_req_parse(bad_lines[i].line, len, &req, err, sizeof(err));
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bad_lines[i].what, rc);
		cr_expect_str_eq(err, bad_lines[i].want, "%s: got \"%s\"", bad_lines[i].what, err);
	}
}

Test(request_invalid, non_printable_error_names_the_column)
{
	cr_assert_eq(parse_str("stats\x1b[0m"), -EINVAL);
	cr_assert_not_null(strstr(err, "column 6"), "%s", err);
}

Test(request_invalid, too_many_arguments)
{
	char line[512] = "set";

	for (int i = 0; i < NM_REQ_MAX_ARGS; i++) {
		char arg[16];

		snprintf(arg, sizeof(arg), " k%d=v", i);
		strcat(line, arg);
	}
	cr_assert_eq(parse_str(line), 0, "%s", err);
	cr_assert_eq(req.nargs, NM_REQ_MAX_ARGS);

	strcat(line, " one=more");
	cr_assert_eq(parse_str(line), -EINVAL);
	cr_assert_str_eq(err, "more than 24 arguments");
}

Test(request_invalid, line_longer_than_limit)
{
	char *line = repeat(' ', NM_REQ_MAX_LINE + 1);

	line[0] = 'x';
	cr_assert_eq(nm_req_parse(line, NM_REQ_MAX_LINE, &req, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(req.words[0], "x");

	/* 4096 bytes and a CR: the CR does not count. */
	line[NM_REQ_MAX_LINE] = '\r';
	cr_assert_eq(nm_req_parse(line, NM_REQ_MAX_LINE + 1, &req, err, sizeof(err)), 0, "%s", err);

	line[NM_REQ_MAX_LINE] = ' ';
	cr_assert_eq(nm_req_parse(line, NM_REQ_MAX_LINE + 1, &req, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "request longer than 4096 bytes");
	free(line);
}

/* Token length limits: one table row per kind, at the limit and one past. */
static const struct {
	const char *what;
	const char *prefix; /* before the long token */
	const char *suffix; /* after it */
	const char *want;   /* error one past the limit */
} token_cases[] = {
    {"word", "", "", "column 1: word longer than 256 bytes"},
    {"second word", "pod ", "", "column 5: word longer than 256 bytes"},
    {"key", "set ", "=v", "column 5: key or value longer than 256 bytes"},
    {"value", "set k=", "", "column 5: key or value longer than 256 bytes"},
};

Test(request_invalid, token_length_limit_table)
{
	for (size_t i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); i++) {
		for (size_t n = NM_REQ_MAX_TOKEN; n <= NM_REQ_MAX_TOKEN + 1; n++) {
			char line[1024];
			char *tok = repeat('a', n);
			int rc;

			snprintf(line, sizeof(line), "%s%s%s", token_cases[i].prefix, tok,
				 token_cases[i].suffix);
			free(tok);
			rc = parse_str(line);
			if (n == NM_REQ_MAX_TOKEN) {
				cr_expect_eq(rc, 0, "%s of %zu: %s", token_cases[i].what, n, err);
			} else {
				cr_expect_eq(rc, -EINVAL, "%s of %zu", token_cases[i].what, n);
				cr_expect_str_eq(err, token_cases[i].want, "%s: %s",
						 token_cases[i].what, err);
			}
		}
	}
}

Test(request_invalid, long_token_is_copied_whole)
{
	char line[600];
	char *tok = repeat('w', NM_REQ_MAX_TOKEN);

	snprintf(line, sizeof(line), "x %s k=%s", tok, tok);
	cr_assert_eq(parse_str(line), 0, "%s", err);
	cr_assert_str_eq(req.words[1], tok);
	cr_assert_str_eq(req.args[0].val, tok);
	free(tok);
}

Test(request_invalid, small_error_buffer_is_truncated_not_overrun)
{
	char small[8];

	memset(small, 'Z', sizeof(small));
	cr_assert_eq(nm_req_parse("", 0, &req, small, 6), -EINVAL);
	cr_assert_str_eq(small, "empty");
	cr_assert_eq(small[6], 'Z');
}

/* ---- valid input ------------------------------------------------------- */

Test(request_parse, words_then_arguments)
{
	cr_assert_eq(parse_str("pod add name=web ip=198.18.0.2"), 0, "%s", err);
	cr_assert_eq(req.nwords, 2);
	cr_assert_str_eq(req.words[0], "pod");
	cr_assert_str_eq(req.words[1], "add");
	cr_assert_eq(req.nargs, 2);
	cr_assert_str_eq(req.args[0].key, "name");
	cr_assert_str_eq(req.args[0].val, "web");
	cr_assert_str_eq(req.args[1].key, "ip");
	cr_assert_str_eq(req.args[1].val, "198.18.0.2");
}

Test(request_parse, single_word)
{
	cr_assert_eq(parse_str("stats"), 0, "%s", err);
	cr_assert_eq(req.nwords, 1);
	cr_assert_eq(req.nargs, 0);
	cr_assert_str_eq(req.words[0], "stats");
}

Test(request_parse, tabs_and_repeated_blanks_separate_tokens)
{
	cr_assert_eq(parse_str("\t pod\t\tlist  \t ns=default\t"), 0, "%s", err);
	cr_assert_eq(req.nwords, 2);
	cr_assert_str_eq(req.words[0], "pod");
	cr_assert_str_eq(req.words[1], "list");
	cr_assert_eq(req.nargs, 1);
	cr_assert_str_eq(req.args[0].key, "ns");
	cr_assert_str_eq(req.args[0].val, "default");
}

Test(request_parse, trailing_cr_is_ignored)
{
	cr_assert_eq(parse_str("pod del name=web\r"), 0, "%s", err);
	cr_assert_str_eq(req.args[0].val, "web");
	cr_assert_eq(parse_str("stats\r"), 0, "%s", err);
	cr_assert_str_eq(req.words[0], "stats");
}

Test(request_parse, eight_words_are_accepted)
{
	cr_assert_eq(parse_str("a b c d e f g h"), 0, "%s", err);
	cr_assert_eq(req.nwords, NM_REQ_MAX_WORDS);
	cr_assert_str_eq(req.words[7], "h");
}

Test(request_parse, key_ends_at_first_equals)
{
	cr_assert_eq(parse_str("pod add labels=app=web,tier=db"), 0, "%s", err);
	cr_assert_str_eq(req.args[0].key, "labels");
	cr_assert_str_eq(req.args[0].val, "app=web,tier=db");
}

Test(request_parse, empty_value_is_allowed)
{
	cr_assert_eq(parse_str("pod add labels="), 0, "%s", err);
	cr_assert_str_eq(req.args[0].key, "labels");
	cr_assert_str_eq(req.args[0].val, "");
}

Test(request_parse, key_characters)
{
	cr_assert_eq(parse_str("set a-b_c9=1"), 0, "%s", err);
	cr_assert_str_eq(req.args[0].key, "a-b_c9");
}

Test(request_parse, words_may_hold_any_printable_ascii)
{
	cr_assert_eq(parse_str("trace 198.18.0.2:80 /x!~"), 0, "%s", err);
	cr_assert_str_eq(req.words[1], "198.18.0.2:80");
	cr_assert_str_eq(req.words[2], "/x!~");
}

Test(request_parse, request_does_not_point_into_the_line)
{
	char line[] = "pod add name=web";

	cr_assert_eq(nm_req_parse(line, strlen(line), &req, err, sizeof(err)), 0, "%s", err);
	memset(line, 'X', strlen(line));
	cr_assert_str_eq(req.words[0], "pod");
	cr_assert_str_eq(req.args[0].val, "web");
}

Test(request_parse, only_len_bytes_are_read)
{
	cr_assert_eq(nm_req_parse("stats garbage", 5, &req, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(req.nwords, 1);
	cr_assert_str_eq(req.words[0], "stats");
}

Test(request_parse, reparse_resets_counts)
{
	cr_assert_eq(parse_str("pod add name=a ip=1.2.3.4"), 0);
	cr_assert_eq(parse_str("stats"), 0);
	cr_assert_eq(req.nwords, 1);
	cr_assert_eq(req.nargs, 0);
	cr_assert_null(nm_req_arg(&req, "name"));
}

/* ---- nm_req_arg -------------------------------------------------------- */

Test(request_arg, lookups)
{
	cr_assert_eq(parse_str("pod add name=web ip=198.18.0.2 name=other"), 0, "%s", err);
	cr_assert_str_eq(nm_req_arg(&req, "name"), "web", "first of a repeated key");
	cr_assert_str_eq(nm_req_arg(&req, "ip"), "198.18.0.2");
	cr_assert_null(nm_req_arg(&req, "iface"));
	cr_assert_null(nm_req_arg(&req, "nam"));
	cr_assert_null(nm_req_arg(&req, "pod"), "words are not arguments");
}

/* ---- nm_req_check_keys ------------------------------------------------- */

static const char *const pod_add_keys[] = {"name", "ip", "iface", NULL};

Test(request_keys, unknown_key_is_named)
{
	cr_assert_eq(parse_str("pod add name=web colour=red"), 0, "%s", err);
	cr_assert_eq(nm_req_check_keys(&req, pod_add_keys, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unknown argument 'colour'");
}

Test(request_keys, duplicate_key_is_named)
{
	cr_assert_eq(parse_str("pod add name=web ip=1.2.3.4 name=web2"), 0, "%s", err);
	cr_assert_eq(nm_req_check_keys(&req, pod_add_keys, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "argument 'name' given twice");
}

Test(request_keys, allowed_keys_pass)
{
	cr_assert_eq(parse_str("pod add iface=nm0 name=web ip=1.2.3.4"), 0, "%s", err);
	cr_assert_eq(nm_req_check_keys(&req, pod_add_keys, err, sizeof(err)), 0, "%s", err);
}

Test(request_keys, no_arguments_and_no_allowed_keys)
{
	static const char *const none[] = {NULL};

	cr_assert_eq(parse_str("stats"), 0, "%s", err);
	cr_assert_eq(nm_req_check_keys(&req, none, err, sizeof(err)), 0);
	cr_assert_eq(parse_str("stats x=1"), 0, "%s", err);
	cr_assert_eq(nm_req_check_keys(&req, none, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unknown argument 'x'");
}
