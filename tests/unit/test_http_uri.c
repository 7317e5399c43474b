/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suricata's http.uri normalization (dataplane/http_uri.c) on real request
 * targets: the path traversal shapes attacks send, percent and %u escapes,
 * separators, UTF-8, and the query and fragment left unnormalized.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

struct uri_case {
	const char *target;
	size_t target_len; /* 0: strlen */
	const char *normalized;
	size_t normalized_len; /* 0: strlen */
};

static void
check(const struct uri_case *c, size_t i)
{
	static uint8_t out[512];
	size_t in_len = c->target_len ? c->target_len : strlen(c->target);
	size_t want_len = c->normalized_len ? c->normalized_len : strlen(c->normalized);
	uint32_t n;

	memset(out, 0xee, sizeof(out));
	n = nm_http_uri_normalize((const uint8_t *)c->target, (uint32_t)in_len, out);
	cr_expect_leq(n, in_len, "case %zu: longer than its target", i);
	cr_expect(n == want_len && memcmp(out, c->normalized, want_len) == 0,
		  "case %zu: %s gave \"%.*s\", expected \"%s\"", i, c->target, (int)n,
		  (const char *)out, c->normalized);
	cr_expect_eq(out[in_len], 0xee, "case %zu: wrote past its target's length", i);
}

static void
check_all(const struct uri_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check(&cases[i], i);
}

/* Invalid and odd inputs first. */
Test(http_uri, malformed_escapes_and_edges)
{
	static const struct uri_case cases[] = {
	    {"", 0, "", 0},
	    {"*", 0, "*", 0},
	    {"/%zz%4", 0, "/%zz%4", 0}, /* not escapes: kept */
	    {"/a%", 0, "/a%", 0},
	    {"/%u12", 0, "/%u12", 0},	  /* too short for %uHHHH */
	    {"/%u12zz", 0, "/%u12zz", 0}, /* not hex */
	    {"/a%00b", 0, "/a\0b", 4},	  /* an encoded NUL is a byte like others */
	    {"?x", 0, "?x", 0},
	    {"/p?", 0, "/p?", 0},
	    {"/p#", 0, "/p#", 0},
	};

	check_all(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(http_uri, traversal_shapes_from_attacks)
{
	static const struct uri_case cases[] = {
	    /* CVE-2021-41773 (Apache 2.4.49) as curl sends it. */
	    {"/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd", 0, "/etc/passwd", 0},
	    {"/a/%2e%2e/etc/passwd", 0, "/etc/passwd", 0},
	    {"/a/%2E%2E/%2e%2E/b", 0, "/b", 0},
	    {"/a/./b/../c", 0, "/a/c", 0},
	    {"/..", 0, "/", 0},
	    {"/a/..", 0, "/", 0},
	    {"/a/.", 0, "/a/", 0},
	    {"/a/b/../../../../c", 0, "/c", 0},
	    {"../a", 0, "a", 0},
	    {"./a", 0, "a", 0},
	    {"/a/..%2fb", 0, "/b", 0}, /* an encoded separator is a separator */
	    {"/a\\..\\b", 0, "/b", 0}, /* backslash is a separator */
	    {"/a%5c..%5cwin.ini", 0, "/win.ini", 0},
	    {"//a///b//", 0, "/a/b/", 0}, /* runs of '/' compressed */
	    {"/a/.//../b", 0, "/b", 0},
	    {"/scripts/..%c0%af../winnt", 0, "/scripts/..\xc0\xaf../winnt",
	     0}, /* overlong: not UTF-8 */
	};

	check_all(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(http_uri, u_escapes_and_utf8)
{
	static const struct uri_case cases[] = {
	    {"/%u002e%u002e/x", 0, "/x", 0}, /* U+00HH is that byte */
	    {"/%U0041", 0, "/A", 0},
	    {"/%uff0e%uff0e/x", 0, "/x", 0}, /* fullwidth '.' */
	    {"/%uFF0Fetc", 0, "/etc", 0},    /* fullwidth '/', then compressed */
	    {"/%u2215x", 0, "/?x", 0},	     /* outside the mapped forms */
	    {"/caf%c3%a9", 0, "/caf?", 0},   /* decoded, then UTF-8 */
	    {"/caf\xc3\xa9", 0, "/caf?", 0},
	    {"/\xef\xbc\x8e\xef\xbc\x8e/x", 0, "/x", 0}, /* UTF-8 fullwidth dots */
	    {"/\xff\xfe", 0, "/\xff\xfe", 0},		 /* not UTF-8: kept */
	    {"/\xe2\x82", 0, "/\xe2\x82", 0},		 /* truncated: kept */
	    {"/\xed\xa0\x80", 0, "/\xed\xa0\x80", 0},	 /* a surrogate: kept */
	};

	check_all(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(http_uri, query_and_fragment_are_decoded_not_normalized)
{
	static const struct uri_case cases[] = {
	    {"/p?q=%27%20OR%201=1--+x&y=%zz", 0, "/p?q=' OR 1=1--+x&y=%zz", 0},
	    {"/p?a=/../b//c\\d", 0, "/p?a=/../b//c\\d", 0},
	    {"/p?x=%u0041", 0, "/p?x=%u0041", 0}, /* no %u in the query */
	    {"/p?x=%41#frag%41", 0, "/p?x=A#frag%41", 0},
	    {"/a/../p#x/../y", 0, "/p#x/../y", 0},
	    {"/Admin/%41?Q=%62", 0, "/Admin/A?Q=b", 0}, /* case kept */
	};

	check_all(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(http_uri, absolute_form_gives_its_path)
{
	static const struct uri_case cases[] = {
	    {"http://example.com/a/../b?x=%41", 0, "/b?x=A", 0},
	    {"HTTP://example.com:8080//c", 0, "/c", 0},
	    {"http://example.com", 0, "", 0},
	    {"http://example.com?q", 0, "?q", 0},
	    {"h2c+x://h/p", 0, "/p", 0},
	    {"a:b/c", 0, "a:b/c", 0}, /* no "//": not absolute-form, all path */
	};

	check_all(cases, sizeof(cases) / sizeof(cases[0]));
}
