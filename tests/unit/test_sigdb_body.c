/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http rules on message bodies (http.request_body, http.response_body,
 * file.data) end to end: Suricata rule text parsed and compiled, requests
 * and responses fed to the HTTP parser in segments, the body kept after
 * the head and scanned with the head's buffers when the message ends
 * (dataplane/inspect_http.c), gzip and deflate bodies decoded within
 * their bound (dataplane/http_body.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http.h"
#include "http_body.h"
#include "inspect_http.h"
#include "sigdb.h"
#include "test_sigdb_common.h"

static const char *const body_rules[] = {
    "alert http any any -> any any (flow:established,to_server; http.method; content:\"POST\"; "
    "http.request_body; content:\"cmd=whoami\"; sid:1;)",
    "alert http any any -> any any (flow:established,to_client; file.data; "
    "content:\"EVIL-PAYLOAD\"; sid:2;)",
    /* Offsets count from the body's first byte. */
    "alert http any any -> any any (http.request_body; content:\"a=1\"; startswith; sid:3;)",
    "alert http any any -> any any (content:\"</html>\"; http_server_body; endswith; sid:4;)",
    "alert http any any -> any any (http.stat_code; content:\"200\"; file_data; content:\"MZ\"; "
    "depth:2; sid:5;)",
    "alert http any any -> any any (http.uri; content:\"/upload\"; http.request_body; "
    "content:\"x=\"; content:!\"safe\"; sid:6;)",
    /* A head-only rule beside them: still reported at the head, once. */
    "alert http any any -> any any (http.uri; content:\"/upload\"; sid:7;)",
    /* The other buffers of a head, bsize and urilen. */
    "alert http any any -> any any (http.header_names; content:\"|0d 0a|X-Evil|0d 0a|\"; "
    "sid:8;)",
    "alert http any any -> any any (http.request_line; content:\"GET /a HTTP/1.0\"; "
    "bsize:15; sid:9;)",
    "alert http any any -> any any (http.content_type; content:\"application/x-evil\"; "
    "sid:10;)",
    "alert http any any -> any any (http.uri; content:\"/b\"; startswith; urilen:4; sid:11;)",
    "alert http any any -> any any (http.stat_msg; content:\"Weird\"; sid:12;)",
    "alert http any any -> any any (http.protocol; content:\"HTTP/1.0\"; http.method; "
    "content:\"PUT\"; sid:13;)",
    "alert http any any -> any any (http.server; content:\"EvilSrv\"; sid:14;)",
    "alert http any any -> any any (http.referer; content:\"evil.example\"; sid:15;)",
    "alert http any any -> any any (urilen:>20,raw; http.method; content:\"DELETE\"; sid:16;)",
    "alert http any any -> any any (http.response_line; content:\"HTTP/1.1 299 Weird\"; "
    "startswith; endswith; sid:17;)",
    /* Negated contents: a veto decided after the message's last buffer (sigdb.c). */
    "alert http any any -> any any (http.uri; content:\"/veto\"; http.user_agent; "
    "content:!\"curl\"; content:!\"wget\"; sid:18;)",
    "alert http any any -> any any (http.uri; content:\"/veto\"; content:!\"x=1\"; "
    "http.header_names; content:!\"|0d 0a|Referer|0d 0a|\"; sid:19;)",
    /* Relative first in its buffer: from the buffer's start (within 4: the first header). */
    "alert http any any -> any any (http.uri; content:\"/rel\"; http.header; "
    "content:\"X-R|3a|\"; distance:0; within:4; sid:20;)",
    /* Relative to the last content of its own buffer, across another buffer's. */
    "alert http any any -> any any (http.uri; content:\"/rel\"; http.method; "
    "content:\"GET\"; http.uri; content:\"/z\"; distance:0; within:2; sid:21;)",
};
#define N_RULES (sizeof(body_rules) / sizeof(body_rules[0]))

static struct nm_sig_rule trules[N_RULES];
static struct nm_sigdb *tdb;
static hs_scratch_t *tscratch;
static struct nm_http_inflater *inflater;
static uint32_t seen_sids; /* bit sid */
static unsigned int n_sid_hits;

static void
suite_setup(void)
{
	tdb = text_rules_compile(body_rules, N_RULES, trules, &tscratch);
	cr_assert_not_null(tdb->http_late[NM_SIG_BUF_HTTP_REQUEST_BODY]);
	cr_assert_not_null(tdb->http_late[NM_SIG_BUF_HTTP_RESPONSE_BODY]);
	cr_assert_null(tdb->http[NM_SIG_BUF_HTTP_REQUEST_BODY], "body rules are scanned late");
	inflater = nm_http_inflater_create(NM_HTTP_DECODED_DEFAULT);
	cr_assert_not_null(inflater);
}

static void
suite_teardown(void)
{
	nm_http_inflater_free(inflater);
	inflater = NULL;
	text_rules_free(tdb, trules, N_RULES, tscratch);
	tdb = NULL;
	tscratch = NULL;
}

static int
sid_hit(void *ctx, unsigned int rule)
{
	(void)ctx;
	seen_sids |= 1u << tdb->rules[rule].sid;
	n_sid_hits++;
	return 0;
}

/*
 * in (n bytes) fed in segments of seg bytes (0: whole); the stream is
 * finished as a closing flow would. ih (may be NULL) gets the counters.
 */
static uint32_t
feed_seg(enum nm_http_dir dir, const uint8_t *in, size_t n, size_t seg, struct nm_inspect_http *out)
{
	struct nm_sigdb_stream *st = nm_sigdb_stream_open(tdb, NULL);
	struct nm_inspect_http ih = {
	    .db = tdb, .scratch = tscratch, .fn = sid_hit, .inflater = inflater};
	struct nm_http_limits lim = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};
	enum nm_http_verdict v = NM_HTTP_MORE;

	cr_assert_not_null(st);
	cr_assert_not_null(st->http);
	nm_http_parser_init(st->http, dir, &lim, st->http->head, st->http->head_cap);
	seen_sids = 0;
	n_sid_hits = 0;
	for (size_t off = 0; off < n && v == NM_HTTP_MORE; off += seg ? seg : n) {
		size_t k = seg && n - off > seg ? seg : n - off;
		v = nm_inspect_http_feed(st->http, in + off, (uint32_t)k, &ih);
	}
	cr_assert_eq(v, NM_HTTP_MORE, "the parser gave up: %s",
		     nm_http_refusal_name(st->http->refusal));
	nm_inspect_http_finish(st->http, &ih);
	cr_assert_eq(ih.rc, 0);
	nm_sigdb_stream_close(tdb, st, NULL, NULL, NULL);
	if (out != NULL)
		*out = ih;
	return seen_sids;
}

/* The same sids whatever the segmentation, down to one byte a segment. */
static uint32_t
feed_all(enum nm_http_dir dir, const char *in)
{
	size_t n = strlen(in);
	uint32_t whole = feed_seg(dir, (const uint8_t *)in, n, 0, NULL);

	for (size_t seg = 1; seg < n; seg += seg < 8 ? 1 : 7)
		cr_assert_eq(feed_seg(dir, (const uint8_t *)in, n, seg, NULL), whole,
			     "segments of %zu differ", seg);
	return whole;
}

/* Text bytes into a binary buffer, without their NUL. */
static void
put_text(uint8_t *at, const char *text)
{
	for (size_t i = 0; text[i] != '\0'; i++)
		at[i] = (uint8_t)text[i];
}

/* A head and body of body_len bytes in one buffer; the caller frees it. */
static uint8_t *
message(const char *head, const uint8_t *body, size_t body_len, size_t *n)
{
	size_t h = strlen(head);
	uint8_t *m = malloc(h + body_len);

	cr_assert_not_null(m);
	put_text(m, head);
	memcpy(m + h, body, body_len);
	*n = h + body_len;
	return m;
}

/* in compressed as gzip (gzip = true) or zlib-wrapped deflate; *n its size. */
static uint8_t *
compress_body(const uint8_t *in, size_t len, bool gzip, size_t *n)
{
	z_stream z = {0};
	size_t cap = len + 1024;
	uint8_t *out = malloc(cap);

	cr_assert_not_null(out);
	cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, gzip ? 16 + 15 : 15, 8, Z_DEFAULT_STRATEGY),
		     Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*n = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

TestSuite(sigdb_body, .init = suite_setup, .fini = suite_teardown);

/* Invalid and empty inputs first. */
Test(sigdb_body, inflater_refuses_bounds_outside_its_range)
{
	cr_assert_null(nm_http_inflater_create(NM_HTTP_DECODED_MIN - 1));
	cr_assert_null(nm_http_inflater_create(NM_HTTP_DECODED_MAX + 1));
}

Test(sigdb_body, coding_names_only_one_gzip_or_deflate)
{
	static const struct {
		const char *value;
		enum nm_http_coding coding;
	} cases[] = {
	    {"gzip", NM_HTTP_CODING_GZIP},     {"GZip", NM_HTTP_CODING_GZIP},
	    {"x-gzip", NM_HTTP_CODING_GZIP},   {"deflate", NM_HTTP_CODING_DEFLATE},
	    {"br", NM_HTTP_CODING_NONE},       {"gzip, br", NM_HTTP_CODING_NONE},
	    {"identity", NM_HTTP_CODING_NONE}, {"", NM_HTTP_CODING_NONE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(nm_http_coding_of((const uint8_t *)cases[i].value,
					       (uint32_t)strlen(cases[i].value)),
			     cases[i].coding, "%s", cases[i].value);
}

Test(sigdb_body, request_without_a_body_matches_no_body_rule)
{
	/* The body's pattern in the URI and a header: not the body. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "POST /?cmd=whoami HTTP/1.1\r\nHost: a\r\n"
					       "X-A: cmd=whoami\r\nContent-Length: 0\r\n\r\n"),
		     0);
}

Test(sigdb_body, content_length_body_matches_at_every_segmentation)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "POST /run HTTP/1.1\r\nHost: a\r\n"
					       "Content-Length: 16\r\n\r\nx=1&cmd=whoami&z"),
		     SIDS(1));
	/* The same body under GET: the method's part of sid 1 is missing. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /run HTTP/1.1\r\nHost: a\r\n"
					       "Content-Length: 16\r\n\r\nx=1&cmd=whoami&z"),
		     0);
}

Test(sigdb_body, chunked_body_is_matched_without_its_framing)
{
	/* "cmd=who" and "ami" in two chunks, a chunk extension and a trailer. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST,
			      "POST /run HTTP/1.1\r\nHost: a\r\n"
			      "Transfer-Encoding: chunked\r\n\r\n"
			      "7;ext=1\r\ncmd=who\r\n3\r\nami\r\n0\r\nX-T: 1\r\n\r\n"),
		     SIDS(1));
}

Test(sigdb_body, startswith_counts_from_the_body_and_each_message_is_its_own)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "PUT /a HTTP/1.1\r\nContent-Length: 5\r\n\r\na=1&b"),
		     SIDS(3));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "PUT /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nb&a=1"),
		     0);
	/* Pipelined: "cmd=who" ends the first body, "ami" starts the second: no match. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "POST /r HTTP/1.1\r\nContent-Length: 7\r\n\r\n"
					       "cmd=who"
					       "POST /r HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
					       "ami&z"),
		     0);
}

Test(sigdb_body, negated_body_content_and_head_rule_beside_it)
{
	n_sid_hits = 0;
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "POST /upload HTTP/1.1\r\nContent-Length: 4\r\n\r\n"
					       "x=ok"),
		     SIDS(6, 7));
	cr_assert_eq(n_sid_hits, 2,
		     "each rule once: the head rule is not reported again at the end");
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "POST /upload HTTP/1.1\r\nContent-Length: 6\r\n\r\n"
					       "x=safe"),
		     SIDS(7));
}

Test(sigdb_body, response_body_with_its_stat_code_and_endswith)
{
	/* 20 of 23 bytes are the body; the rest is not HTTP (a new message). */
	cr_assert_eq(feed_all(NM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
						"MZ..EVIL-PAYLOAD</ht"),
		     SIDS(2, 5), "no endswith: </html> is not there");
	cr_assert_eq(feed_all(NM_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\n"
						"MZ..EVIL-PAYLOAD</html>"),
		     SIDS(2, 4, 5));
	cr_assert_eq(feed_all(NM_HTTP_RESPONSE,
			      "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n"
			      "MZ"),
		     0);
}

Test(sigdb_body, body_until_close_is_scanned_when_the_stream_ends)
{
	cr_assert_eq(feed_all(NM_HTTP_RESPONSE, "HTTP/1.0 200 OK\r\n\r\nhello EVIL-PAYLOAD"),
		     SIDS(2));
}

Test(sigdb_body, gzip_and_deflate_bodies_are_decoded)
{
	static const char plain[] = "<p>nothing to see</p> EVIL-PAYLOAD <p>the end</p>";
	static const char *const heads[] = {
	    "HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
	    "HTTP/1.1 201 Created\r\nContent-Encoding: deflate\r\nContent-Length: %zu\r\n\r\n",
	};

	for (unsigned int k = 0; k < 2; k++) {
		size_t zn, n;
		char head[160];
		uint8_t *z = compress_body((const uint8_t *)plain, strlen(plain), k == 0, &zn);
		struct nm_inspect_http ih;

		cr_assert_null(memmem(z, zn, "EVIL", 4), "the pattern is not in the sent bytes");
		snprintf(head, sizeof(head), heads[k], zn);
		uint8_t *m = message(head, z, zn, &n);
		for (size_t seg = 0; seg < 40; seg += 3)
			cr_assert_eq(feed_seg(NM_HTTP_RESPONSE, m, n, seg, &ih), SIDS(2),
				     "%s, segments of %zu", k ? "deflate" : "gzip", seg);
		cr_assert_eq(ih.bodies, 1);
		cr_assert_eq(ih.inflate_cut + ih.inflate_errors, 0);
		free(m);
		free(z);
	}
}

Test(sigdb_body, gzip_bomb_is_cut_at_the_decoded_bound_and_counted)
{
	size_t big = 4u << 20, zn, n;
	uint8_t *plain = calloc(1, big);
	struct nm_inspect_http ih;
	char head[160];

	cr_assert_not_null(plain);
	/* 4 MiB inflating from a few KiB: the pattern first, then at the end. */
	put_text(plain + 100, "EVIL-PAYLOAD");
	uint8_t *z = compress_body(plain, big, true, &zn);
	cr_assert_lt(zn, 6000, "fits the kept room (%zu)", zn);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
		 zn);
	uint8_t *m = message(head, z, zn, &n);
	cr_assert_eq(feed_seg(NM_HTTP_RESPONSE, m, n, 1400, &ih), SIDS(2));
	cr_assert_eq(ih.inflate_cut, 1);
	free(m);
	free(z);

	memset(plain + 100, 0, 12);
	put_text(plain + big - 12, "EVIL-PAYLOAD");
	z = compress_body(plain, big, true, &zn);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
		 zn);
	m = message(head, z, zn, &n);
	cr_assert_eq(feed_seg(NM_HTTP_RESPONSE, m, n, 1400, &ih), 0,
		     "past %d decoded bytes is not inspected", NM_HTTP_DECODED_DEFAULT);
	cr_assert_eq(ih.inflate_cut, 1);
	free(m);
	free(z);
	free(plain);
}

Test(sigdb_body, corrupt_gzip_is_counted_and_what_decoded_is_scanned)
{
	static const char head[] =
	    "HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\n";
	struct nm_inspect_http ih;
	size_t n;
	uint8_t *m = message(head, (const uint8_t *)"not gzip!", 9, &n);

	cr_assert_eq(feed_seg(NM_HTTP_RESPONSE, m, n, 0, &ih), 0);
	cr_assert_eq(ih.inflate_errors, 1);
	free(m);
}

Test(sigdb_body, body_past_the_kept_room_is_cut_and_counted)
{
	size_t body = 20000, n;
	uint8_t *b = malloc(body);
	char head[128];
	struct nm_inspect_http ih;

	cr_assert_not_null(b);
	memset(b, 'y', body);
	put_text(b + 1000, "cmd=whoami");
	snprintf(head, sizeof(head), "POST /r HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body);
	uint8_t *m = message(head, b, body, &n);
	cr_assert_eq(feed_seg(NM_HTTP_REQUEST, m, n, 1400, &ih), SIDS(1));
	cr_assert_eq(ih.bodies_cut, 1);
	free(m);

	/* Past the room (the stream's buffer after the head): not seen, as README says. */
	memset(b + 1000, 'y', 10);
	put_text(b + body - 10, "cmd=whoami");
	m = message(head, b, body, &n);
	cr_assert_eq(feed_seg(NM_HTTP_REQUEST, m, n, 1400, &ih), 0);
	cr_assert_eq(ih.bodies_cut, 1);
	free(m);
	free(b);
}

/* The head buffers beside the bodies, and the size keywords. */
Test(sigdb_body, header_names_hold_names_only)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost: a\r\nX-Evil: 1\r\n\r\n"),
		     SIDS(8));
	cr_assert_eq(
	    feed_all(NM_HTTP_REQUEST, "GET / HTTP/1.1\r\nX-Evil-2: 1\r\nX-A: X-Evil\r\n\r\n"), 0,
	    "a longer name, and the name as a value, are not it");
}

Test(sigdb_body, request_line_with_bsize_and_protocol)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /a HTTP/1.0\r\n\r\n"), SIDS(9));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /ab HTTP/1.0\r\n\r\n"), 0, "bsize 15");
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "PUT /a HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
		     SIDS(13));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "PUT /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 0);
}

Test(sigdb_body, urilen_counts_the_normalized_or_the_raw_target)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /b12 HTTP/1.1\r\n\r\n"), SIDS(11));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /b123 HTTP/1.1\r\n\r\n"), 0);
	/* Normalized, "/b%31%32" is "/b12": 4 bytes. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /b%31%32 HTTP/1.1\r\n\r\n"), SIDS(11));
	/* 22 raw bytes, 8 normalized. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "DELETE /%61%62%63%64%65%66%67 HTTP/1.1\r\n\r\n"),
		     SIDS(16));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "DELETE /abcdefg HTTP/1.1\r\n\r\n"), 0);
}

Test(sigdb_body, header_value_buffers_by_direction)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET / HTTP/1.1\r\nReferer: http://evil.example/\r\n"
					       "Content-Type: application/x-evil\r\n\r\n"),
		     SIDS(10, 15));
	cr_assert_eq(feed_all(NM_HTTP_RESPONSE, "HTTP/1.1 299 Weird\r\nServer: EvilSrv\r\n"
						"Referer: evil.example\r\n"
						"Content-Type: application/x-evil\r\n"
						"Content-Length: 0\r\n\r\n"),
		     SIDS(10, 12, 14, 17), "no http.referer in a response");
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET / HTTP/1.1\r\nServer: EvilSrv\r\n\r\n"), 0,
		     "no http.server in a request");
}

Test(sigdb_body, negated_contents_veto_after_every_buffer_is_scanned)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /veto HTTP/1.1\r\nUser-Agent: Mozilla\r\n\r\n"),
		     SIDS(18, 19));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /veto HTTP/1.1\r\nUser-Agent: curl/8\r\n\r\n"),
		     SIDS(19));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /veto HTTP/1.1\r\nUser-Agent: x wget\r\n\r\n"),
		     SIDS(19));
	/* No User-Agent at all: Suricata does not inspect an absent buffer, no match. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /veto HTTP/1.1\r\nHost: a\r\n\r\n"), SIDS(19));
	/* The veto in the first buffer scanned, or in the last. */
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /veto?x=1 HTTP/1.1\r\nUser-Agent: M\r\n\r\n"),
		     SIDS(18));
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /veto HTTP/1.1\r\nUser-Agent: M\r\n"
					       "Referer: http://a/\r\n\r\n"),
		     SIDS(18));
}

Test(sigdb_body, relative_first_in_its_buffer_counts_from_its_start)
{
	cr_assert_eq(feed_all(NM_HTTP_REQUEST, "GET /rel/z HTTP/1.1\r\nX-R: 1\r\nHost: a\r\n\r\n"),
		     SIDS(20, 21));
	cr_assert_eq(
	    feed_all(NM_HTTP_REQUEST, "GET /rel/a/z HTTP/1.1\r\nHost: a\r\nX-R: 1\r\n\r\n"), 0);
}
