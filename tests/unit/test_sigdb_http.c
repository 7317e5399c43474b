/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http rules end to end without a dataplane: rules parsed from Suricata
 * text, compiled (ctrl/sigdb.c), and real requests and responses fed to
 * the HTTP parser in segments, each head's buffers built and scanned
 * (dataplane/inspect_http.c, sig_scan.c). Every rule is checked where it
 * must match and where it must not.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "inspect_http.h"
#include "sigdb.h"
#include "test_sigdb_common.h"

static const char *const http_rules[] = {
    "alert http any any -> any any (flow:to_server; http.uri; content:\"/etc/passwd\"; sid:1;)",
    "alert http any any -> any any (http.method; content:\"POST\"; http.uri; "
    "content:\"/login\"; startswith; sid:2;)",
    "alert http any any -> any any (http.header; content:\"X-Evil|3a| 1|0d 0a|\"; sid:3;)",
    "alert http any any -> any any (http.host; content:\"example.com\"; endswith; sid:4;)",
    "alert http any any -> any any (http.cookie; content:\"session=admin\"; sid:5;)",
    "alert http any any -> any any (http.user_agent; content:\"sqlmap\"; nocase; sid:6;)",
    "alert http any any -> any any (http.uri.raw; content:\"%2e%2e\"; sid:7;)",
    "alert http any any -> any any (flow:to_client; http.stat_code; content:\"500\"; sid:8;)",
    "alert http any any -> any any (http.header; content:\"Cookie\"; sid:9;)",
    "alert http any any -> any any (content:\"/a\"; http_uri; content:\"/b\"; http_uri; "
    "distance:0; within:2; sid:10;)",
    "alert http any any -> any any (http.uri; content:\"/x\"; content:!\"debug\"; sid:11;)",
    "alert http any any -> any any (http.method; content:\"PUT\"; http.uri; content:\"/neg\"; "
    "content:!\"zz\"; sid:12;)",
    /* Identical expressions (POST, /signup) shared with sid 2 and between 13 and 14. */
    "alert http any any -> any any (http.method; content:\"POST\"; http.uri; "
    "content:\"/signup\"; sid:13;)",
    "alert http any any -> any any (http.method; content:\"POST\"; http.uri; "
    "content:\"/signup\"; sid:14;)",
    /* http.start: the line, CRLF, every header rebuilt (Cookie too), CRLF after the last. */
    "alert http any any -> any any (http.start; content:\"GET /s HTTP/1.1|0d 0a|Host: a|0d 0a|"
    "Cookie: c=1|0d 0a 0d 0a|\"; startswith; endswith; sid:15;)",
    "alert http any any -> any any (flow:to_client; http.start; "
    "content:\"HTTP/1.1 204 No Content|0d 0a|\"; startswith; endswith; sid:16;)",
    "alert http any any -> any any (http_start; content:\"|0d 0a|X-A: 1|0d 0a|\"; sid:17;)",
};
#define N_RULES (sizeof(http_rules) / sizeof(http_rules[0]))

static struct nm_sig_rule trules[N_RULES];
static struct nm_sigdb *tdb;
static hs_scratch_t *tscratch;
static uint32_t seen_sids; /* bit sid */

static void
suite_setup(void)
{
	tdb = text_rules_compile(http_rules, N_RULES, trules, &tscratch);
	cr_assert(tdb->has_http);
	cr_assert_null(tdb->stream, "only http rules: no stream database");
}

static void
suite_teardown(void)
{
	text_rules_free(tdb, trules, N_RULES, tscratch);
	tdb = NULL;
	tscratch = NULL;
}

static int
sid_hit(void *ctx, unsigned int rule)
{
	(void)ctx;
	seen_sids |= 1u << tdb->rules[rule].sid;
	return 0;
}

/* The sids matched over in, fed in two segments cut at cut; *verdict gets the parser's. */
static uint32_t
feed(enum nm_http_dir dir, const char *in, size_t cut, enum nm_http_verdict *verdict)
{
	struct nm_sigdb_stream *st = nm_sigdb_stream_open(tdb, NULL);
	struct nm_inspect_http ih = {.db = tdb, .scratch = tscratch, .fn = sid_hit};
	struct nm_http_limits lim = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};
	size_t n = strlen(in);

	cr_assert_not_null(st);
	cr_assert_not_null(st->http);
	nm_http_parser_init(st->http, dir, &lim, st->http->head, st->http->head_cap);
	seen_sids = 0;
	*verdict = nm_inspect_http_feed(st->http, (const uint8_t *)in, (uint32_t)cut, &ih);
	if (*verdict == NM_HTTP_MORE)
		*verdict = nm_inspect_http_feed(st->http, (const uint8_t *)in + cut,
						(uint32_t)(n - cut), &ih);
	cr_assert_eq(ih.rc, 0);
	nm_sigdb_stream_close(tdb, st, NULL, NULL, NULL);
	return seen_sids;
}

static uint32_t
feed_all_cuts(enum nm_http_dir dir, const char *in)
{
	enum nm_http_verdict v;
	uint32_t first = feed(dir, in, 0, &v);

	for (size_t cut = 1; cut <= strlen(in); cut++)
		cr_assert_eq(feed(dir, in, cut, &v), first, "cut %zu differs", cut);
	return first;
}

TestSuite(sigdb_http, .init = suite_setup, .fini = suite_teardown);

/* An ordinary browser-like request matches nothing. */
Test(sigdb_http, ordinary_request_matches_nothing)
{
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST,
				   "GET /index.html?q=shoes HTTP/1.1\r\nHost: shop.example.org\r\n"
				   "User-Agent: Mozilla/5.0\r\nAccept: */*\r\n"
				   "Cookie: session=user\r\n\r\n"),
		     0);
}

Test(sigdb_http, percent_encoded_traversal_is_caught_on_http_uri)
{
	/* What curl --path-as-is sends for the CVE-2021-41773 shape. */
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST,
				   "GET /cgi-bin/.%2e/.%2e/.%2e/etc/passwd HTTP/1.1\r\n"
				   "Host: a\r\n\r\n"),
		     SIDS(1));
	cr_assert_eq(
	    feed_all_cuts(NM_HTTP_REQUEST, "GET /a/%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n"),
	    SIDS(1, 7));
	/* Percent-encoded letters too: "passwd" is decoded before the match. */
	cr_assert_eq(
	    feed_all_cuts(NM_HTTP_REQUEST, "GET /etc/p%61sswd HTTP/1.1\r\nHost: a\r\n\r\n"),
	    SIDS(1));
}

Test(sigdb_http, buffers_hold_what_suricata_puts_there)
{
	/* Host lowercased, port dropped; the Cookie header only in http.cookie. */
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST,
				   "GET / HTTP/1.1\r\nHost: WWW.Example.COM:8080\r\n"
				   "Cookie: session=admin\r\nX-Evil:1\r\n"
				   "User-Agent: SQLMap/1.7\r\n\r\n"),
		     SIDS(3, 4, 5, 6));
	/* Multi-buffer rule: POST and /login in one request, not one each in two. */
	cr_assert_eq(
	    feed_all_cuts(NM_HTTP_REQUEST, "POST /login HTTP/1.1\r\nContent-Length: 3\r\n\r\nx=1"),
	    SIDS(2));
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST,
				   "POST /home HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
				   "GET /login HTTP/1.1\r\n\r\n"),
		     0);
	/* startswith in http.uri: /login must start it. */
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "POST /y/login HTTP/1.1\r\n\r\n"), 0);
}

Test(sigdb_http, http_start_is_the_line_and_the_headers_rebuilt)
{
	/* A bare LF, no blank after a colon, blanks around a value: rebuilt as Suricata's. */
	cr_assert_eq(
	    feed_all_cuts(NM_HTTP_REQUEST, "GET /s HTTP/1.1\nHost:a\r\nCookie:  c=1 \r\n\r\n"),
	    SIDS(15));
	/* One header more after Cookie: not the whole buffer any more; the legacy name. */
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST,
				   "GET /s HTTP/1.1\r\nHost: a\r\nCookie: c=1\r\nX-A: 1\r\n\r\n"),
		     SIDS(17));
	/* A response without headers: its line and CRLF, no empty line after. */
	cr_assert_eq(feed_all_cuts(NM_HTTP_RESPONSE, "HTTP/1.1 204 No Content\r\n\r\n"), SIDS(16));
	cr_assert_eq(
	    feed_all_cuts(NM_HTTP_RESPONSE, "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"), 0);
}

Test(sigdb_http, relative_and_negated_within_one_buffer)
{
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /a/b HTTP/1.1\r\n\r\n"), SIDS(10));
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /a/zz/b HTTP/1.1\r\n\r\n"), 0);
	/* The pattern in the header (Referer) does not count for http.uri. */
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /a HTTP/1.1\r\nReferer: /b\r\n\r\n"), 0);
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /x HTTP/1.1\r\n\r\n"), SIDS(11));
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /x?debug=1 HTTP/1.1\r\n\r\n"), 0);
}

/* One Hyperscan id for an expression several rules use: each rule completes on its own. */
Test(sigdb_http, shared_expressions_complete_each_rule)
{
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "POST /signup HTTP/1.1\r\n\r\n"), SIDS(13, 14));
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "POST /login HTTP/1.1\r\n\r\n"), SIDS(2));
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /signup HTTP/1.1\r\n\r\n"), 0);
	/* POST is one reporting id with a target in each of sids 2, 13 and 14. */
	unsigned int most = 0;
	for (unsigned int i = 0; i < tdb->n_http_index; i++)
		if (tdb->http_index[i].count > most)
			most = tdb->http_index[i].count;
	cr_assert_eq(most, 3);
}

/* A buffer with a negated content is one combination, joined with the other buffers' bits. */
Test(sigdb_http, negation_in_one_buffer_of_several)
{
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "PUT /neg HTTP/1.1\r\n\r\n"), SIDS(12));
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "PUT /negzz HTTP/1.1\r\n\r\n"), 0);
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /neg HTTP/1.1\r\n\r\n"), 0);
	/* The bitmaps last one message: PUT in one, /neg in the next do not add up. */
	cr_assert_eq(
	    feed_all_cuts(NM_HTTP_REQUEST, "PUT / HTTP/1.1\r\n\r\nGET /neg HTTP/1.1\r\n\r\n"), 0);
}

Test(sigdb_http, each_pipelined_request_is_judged)
{
	cr_assert_eq(feed_all_cuts(NM_HTTP_REQUEST, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n"
						    "GET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n"),
		     SIDS(1));
}

Test(sigdb_http, responses_have_stat_code_and_no_request_buffers)
{
	cr_assert_eq(feed_all_cuts(NM_HTTP_RESPONSE,
				   "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 11\r\n"
				   "\r\n/etc/passwd"),
		     SIDS(8));
	cr_assert_eq(
	    feed_all_cuts(NM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
}

Test(sigdb_http, refused_and_not_http_streams_scan_nothing_after)
{
	enum nm_http_verdict v;

	cr_assert_eq(
	    feed(NM_HTTP_REQUEST,
		 "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "GET /etc/passwd HTTP/1.1\r\n\r\n",
		 0, &v),
	    0);
	cr_assert_eq(v, NM_HTTP_REFUSED);
	cr_assert_eq(feed(NM_HTTP_REQUEST, "SSH-2.0-x\r\nGET /etc/passwd HTTP/1.1\r\n\r\n", 0, &v),
		     0);
	cr_assert_eq(v, NM_HTTP_NOT_HTTP);
}

Test(sigdb_http, pooled_stream_gives_the_parser_the_rest_of_the_chunk)
{
	size_t need = nm_sigdb_stream_chunk_bytes(tdb);
	struct nm_sig_stream_pool *pool = nm_sig_stream_pool_create(2, 8192);
	struct nm_sigdb_stream *st;

	cr_assert_gt(need, NM_SIGDB_HTTP_HEAD_MIN);
	cr_assert_leq(need, 8192);
	cr_assert_not_null(pool);
	st = nm_sigdb_stream_open(tdb, pool);
	cr_assert_not_null(st);
	cr_assert_not_null(st->http);
	cr_assert_null(st->hs);
	cr_assert_geq(st->http->head_cap, NM_SIGDB_HTTP_HEAD_MIN);
	cr_assert_leq((uint8_t *)st->http->head + st->http->head_cap, (uint8_t *)st + 8192);
	nm_sigdb_stream_close(tdb, st, NULL, NULL, NULL);
	nm_sig_stream_pool_free(pool);
}
