/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP/1.x parser of one stream direction (dataplane/http.c): every
 * refusal, every bound, chunked framing, responses' framing, and a
 * pipelined pair of requests fed at every split point.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

#define LOG_MAX 4096

/* What the callbacks saw, as text: "[GET /a]body<end>" per message. */
struct seen {
	char log[LOG_MAX];
	size_t len;
	uint16_t status;
	uint16_t n_headers;
};

static void
put(struct seen *s, const void *data, size_t n)
{
	cr_assert_lt(s->len + n, LOG_MAX, "event log overflow");
	memcpy(s->log + s->len, data, n);
	s->len += n;
	s->log[s->len] = '\0';
}

static void
on_head(void *ctx, const struct nm_http_head *h)
{
	struct seen *s = ctx;
	char line[512];
	int n;

	if (h->method.len > 0)
		n = snprintf(line, sizeof(line), "[%.*s %.*s]", (int)h->method.len,
			     (const char *)h->buf + h->method.off, (int)h->target.len,
			     (const char *)h->buf + h->target.off);
	else
		n = snprintf(line, sizeof(line), "[%u]", h->status);
	put(s, line, (size_t)n);
	s->status = h->status;
	s->n_headers = h->n_headers;
}

static void
on_body(void *ctx, const uint8_t *data, uint32_t len)
{
	put(ctx, data, len);
}

static void
on_end(void *ctx)
{
	put(ctx, "<end>", 5);
}

static const struct nm_http_cb cb = {on_head, on_body, on_end};
static const struct nm_http_limits limits = {NM_HTTP_HEAD_BYTES_DEFAULT,
					     NM_HTTP_HEADER_COUNT_DEFAULT};

struct run {
	struct nm_http_parser p;
	uint8_t head[NM_HTTP_HEAD_BYTES_DEFAULT];
	struct seen seen;
};

static enum nm_http_verdict
run_with(struct run *r, enum nm_http_dir dir, const struct nm_http_limits *lim, const char *in)
{
	memset(&r->seen, 0, sizeof(r->seen));
	nm_http_parser_init(&r->p, dir, lim, r->head, sizeof(r->head));
	return nm_http_parse(&r->p, (const uint8_t *)in, strlen(in), &cb, &r->seen);
}

static enum nm_http_verdict
run_req(struct run *r, const char *in)
{
	return run_with(r, NM_HTTP_REQUEST, &limits, in);
}

/* in parses as HTTP requests, giving the events log and that many messages. */
static void
assert_requests(struct run *r, const char *in, const char *log, uint64_t messages)
{
	cr_assert_eq(run_req(r, in), NM_HTTP_MORE, "verdict for %s", in);
	cr_assert_str_eq(r->seen.log, log);
	cr_assert_eq(r->p.messages, messages);
}

/* Invalid inputs first: each smuggling shape and its named refusal. */
struct refusal_case {
	const char *in;
	enum nm_http_refusal why;
};

static const struct refusal_case refusals[] = {
    {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
     NM_HTTP_REFUSAL_CL_AND_TE},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
     NM_HTTP_REFUSAL_CL_AND_TE},
    {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", NM_HTTP_REFUSAL_DUP_CL},
    {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", NM_HTTP_REFUSAL_DUP_CL},
    {"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", NM_HTTP_REFUSAL_DUP_CL},
    {"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", NM_HTTP_REFUSAL_BAD_CL},
    {"POST / HTTP/1.1\r\nContent-Length: 3 4\r\n\r\n", NM_HTTP_REFUSAL_BAD_CL},
    {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", NM_HTTP_REFUSAL_BAD_CL},
    {"POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n", NM_HTTP_REFUSAL_BAD_CL},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", NM_HTTP_REFUSAL_BAD_TE},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     NM_HTTP_REFUSAL_BAD_TE},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", NM_HTTP_REFUSAL_BAD_TE},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", NM_HTTP_REFUSAL_BAD_TE},
    {"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", NM_HTTP_REFUSAL_OBS_FOLD},
    {"GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", NM_HTTP_REFUSAL_OBS_FOLD},
    {"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", NM_HTTP_REFUSAL_BARE_CR},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", NM_HTTP_REFUSAL_BARE_CR},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", NM_HTTP_REFUSAL_BAD_HEADER},
    {"GET / HTTP/1.1\r\nHost\r\n\r\n", NM_HTTP_REFUSAL_BAD_HEADER},
    {"GET / HTTP/1.1\r\n: a\r\n\r\n", NM_HTTP_REFUSAL_BAD_HEADER},
    {"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", NM_HTTP_REFUSAL_BAD_HEADER},
    {"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", NM_HTTP_REFUSAL_BAD_HEADER},
    /* A first line starting with a method is HTTP gone wrong, not another protocol. */
    {"GET /a b HTTP/1.1\r\n\r\n", NM_HTTP_REFUSAL_BAD_START_LINE},
    {"GET / HTTP/2.0\r\n\r\n", NM_HTTP_REFUSAL_BAD_START_LINE},
    {"GET  / HTTP/1.1\r\n\r\n", NM_HTTP_REFUSAL_BAD_START_LINE},
    {"GET / HTTP/1.1\rX\n\r\n", NM_HTTP_REFUSAL_BARE_CR},
    {"GET /\x01 HTTP/1.1\r\n\r\n", NM_HTTP_REFUSAL_BAD_START_LINE},
    /* After one good message, any bad start line is refused. */
    {"GET / HTTP/1.1\r\n\r\nFOO\r\n", NM_HTTP_REFUSAL_BAD_START_LINE},
    {"GET / HTTP/1.1\r\n\r\n\r\n\r\n\r\n", NM_HTTP_REFUSAL_BAD_START_LINE},
};

Test(http, refuses_smuggling_shapes_by_name)
{
	static struct run r;

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		enum nm_http_verdict v = run_req(&r, refusals[i].in);
		cr_expect_eq(v, NM_HTTP_REFUSED, "case %zu: verdict %d", i, v);
		cr_expect_eq(r.p.refusal, refusals[i].why, "case %zu: refusal %s, expected %s", i,
			     nm_http_refusal_name(r.p.refusal),
			     nm_http_refusal_name(refusals[i].why));
	}
}

Test(http, refused_verdict_stays_and_ignores_later_bytes)
{
	static struct run r;
	const char *more = "GET / HTTP/1.1\r\n\r\n";

	cr_assert_eq(run_req(&r, "GET / HTTP/1.1\r\nA: b\r\n c\r\n"), NM_HTTP_REFUSED);
	cr_assert_eq(nm_http_parse(&r.p, (const uint8_t *)more, strlen(more), &cb, &r.seen),
		     NM_HTTP_REFUSED);
	cr_assert_eq(r.seen.len, 0, "no event after a refusal, saw %s", r.seen.log);
	cr_assert_str_eq(nm_http_refusal_name(r.p.refusal), "http_obs_fold");
	cr_assert_str_eq(nm_http_refusal_name(NM_HTTP_REFUSAL_MAX), "unknown");
	cr_assert_str_eq(nm_http_refusal_name(NM_HTTP_REFUSAL_NONE), "none");
}

/* What is not HTTP says so at its first line and is left to the raw stream. */
Test(http, other_protocols_are_not_http)
{
	static struct run r;
	static const char *const requests[] = {
	    "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	    "EHLO mail.example\r\n",
	    "HELLO\r\n",
	    "PROPFIND\r\n",
	    "\r\n\r\n\r\n",
	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", /* HTTP/2 with prior knowledge (RFC 9113 §3.4) */
	};
	static const char *const responses[] = {
	    "220 mail.example ESMTP\r\n",
	    "SSH-2.0-OpenSSH_9.2p1\r\n",
	    "HTTX/1.1 200 OK\r\n",
	};

	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		cr_expect_eq(run_req(&r, requests[i]), NM_HTTP_NOT_HTTP, "request %zu", i);
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
		cr_expect_eq(run_with(&r, NM_HTTP_RESPONSE, &limits, responses[i]),
			     NM_HTTP_NOT_HTTP, "response %zu", i);
	/* Binary bytes decide at once, before a line ends. */
	cr_expect_eq(run_req(&r, "GE\x01T"), NM_HTTP_NOT_HTTP);
}

Test(http, unknown_method_with_valid_line_is_http)
{
	static struct run r;

	cr_assert_eq(run_req(&r, "PROPFIND /dav HTTP/1.1\r\nDepth: 1\r\n\r\n"), NM_HTTP_MORE);
	cr_assert_str_eq(r.seen.log, "[PROPFIND /dav]<end>");
}

/* Bounds: at the bound passes, one past it is the documented verdict. */
Test(http, head_bound_is_inclusive)
{
	static struct run r;
	static char in[256];
	/* "GET / HTTP/1.1\r\n" 16 + "X: " 3 + value + "\r\n" 2 + "\r\n" 2 = 23 + value. */
	struct nm_http_limits small = {100, 10};

	memset(in, 0, sizeof(in));
	memcpy(in, "GET / HTTP/1.1\r\nX: ", 19);
	memset(in + 19, 'v', 77);
	memcpy(in + 19 + 77, "\r\n\r\n", 4);
	cr_assert_eq(strlen(in), 100);
	cr_assert_eq(run_with(&r, NM_HTTP_REQUEST, &small, in), NM_HTTP_MORE);
	cr_assert_eq(r.p.messages, 1);

	memset(in + 19, 'v', 78);
	memcpy(in + 19 + 78, "\r\n\r\n", 4);
	cr_assert_eq(run_with(&r, NM_HTTP_REQUEST, &small, in), NM_HTTP_REFUSED);
	cr_assert_eq(r.p.refusal, NM_HTTP_REFUSAL_HEAD_TOO_LONG);
}

Test(http, head_bound_is_the_smaller_of_buffer_and_limit)
{
	struct nm_http_parser p;
	uint8_t head[20];
	const char *in = "GET /0123456789 HTTP/1.1\r\n\r\n";

	nm_http_parser_init(&p, NM_HTTP_REQUEST, &limits, head, sizeof(head));
	cr_assert_eq(nm_http_parse(&p, (const uint8_t *)in, strlen(in), NULL, NULL),
		     NM_HTTP_REFUSED);
	cr_assert_eq(p.refusal, NM_HTTP_REFUSAL_HEAD_TOO_LONG);
}

Test(http, first_line_past_bound_is_refused_if_it_starts_as_http)
{
	static struct run r;
	struct nm_http_limits small = {32, 10};

	cr_assert_eq(run_with(&r, NM_HTTP_REQUEST, &small,
			      "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n"),
		     NM_HTTP_REFUSED);
	cr_assert_eq(r.p.refusal, NM_HTTP_REFUSAL_HEAD_TOO_LONG);
	cr_assert_eq(run_with(&r, NM_HTTP_REQUEST, &small,
			      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
		     NM_HTTP_NOT_HTTP);
}

Test(http, header_count_bound_is_inclusive)
{
	static struct run r;
	struct nm_http_limits two = {NM_HTTP_HEAD_BYTES_DEFAULT, 2};

	cr_assert_eq(run_with(&r, NM_HTTP_REQUEST, &two, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n"),
		     NM_HTTP_MORE);
	cr_assert_eq(r.seen.n_headers, 2);
	cr_assert_eq(
	    run_with(&r, NM_HTTP_REQUEST, &two, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
	    NM_HTTP_REFUSED);
	cr_assert_eq(r.p.refusal, NM_HTTP_REFUSAL_TOO_MANY_HEADERS);
}

Test(http, empty_lines_before_a_request_are_bounded)
{
	static struct run r;

	cr_assert_eq(run_req(&r, "\r\n\nGET / HTTP/1.1\r\n\r\n"), NM_HTTP_MORE);
	cr_assert_str_eq(r.seen.log, "[GET /]<end>");
	cr_assert_eq(run_req(&r, "\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), NM_HTTP_NOT_HTTP);
}

/* Every state, in the order a request walks them. */
Test(http, request_with_length_body_and_lf_only_lines)
{
	static struct run r;

	assert_requests(&r,
			"POST /f HTTP/1.1\nHost: a\nContent-Length: 5\n\nhelloGET /g HTTP/1.0\n\n",
			"[POST /f]hello<end>[GET /g]<end>", 2);
}

Test(http, request_waits_in_each_state)
{
	static struct run r;
	static const char *const prefixes[] = {
	    "",								      /* S_START */
	    "PO",							      /* S_LINE */
	    "POST / HTTP/1.1\r\nHo",					      /* S_HEADER */
	    "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab",		      /* S_BODY_LEN */
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1",	      /* S_CHUNK_SIZE */
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\na",    /* S_CHUNK_DATA */
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r",  /* S_CHUNK_END */
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y", /* S_TRAILER */
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		cr_expect_eq(run_req(&r, prefixes[i]), NM_HTTP_MORE, "prefix %zu", i);
		cr_expect_eq(r.p.messages, 0, "prefix %zu", i);
	}
}

Test(http, chunked_body_with_extensions_trailers_and_hex_case)
{
	static struct run r;

	assert_requests(&r,
			"POST /c HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
			"3;name=val\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
			"[POST /c]abc0123456789<end>", 1);
	assert_requests(&r, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n000\r\n\r\n",
			"[POST /c]<end>", 1);
}

Test(http, chunked_edge_cases_refused)
{
	static struct run r;
	static const struct refusal_case chunks[] = {
	    {"\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},		      /* empty size */
	    {"0x5\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},	      /* C prefix */
	    {"-1\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},		      /* sign */
	    {" 5\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},		      /* leading space */
	    {"5 \r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},		      /* trailing space */
	    {"5 ;x\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},	      /* BWS before ';' */
	    {";x\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},		      /* extension, no size */
	    {"g\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},		      /* not hex */
	    {"1000000000000000\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE}, /* 16 digits */
	    {"5;x\x01\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_SIZE},	      /* control in extension */
	    {"5\rX", NM_HTTP_REFUSAL_BARE_CR},
	    {"3\r\nabcX\r\n", NM_HTTP_REFUSAL_BAD_CHUNK_END}, /* data longer than size */
	    {"3\r\nabc\rX", NM_HTTP_REFUSAL_BAD_CHUNK_END},
	    {"0\r\n X: 1\r\n\r\n", NM_HTTP_REFUSAL_OBS_FOLD}, /* trailer fold */
	    {"0\r\nX: \x01\r\n\r\n", NM_HTTP_REFUSAL_BAD_HEADER},
	    {"0\r\nX: 1\rY\r\n", NM_HTTP_REFUSAL_BARE_CR},
	};
	static char in[256];

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		snprintf(in, sizeof(in), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%s",
			 chunks[i].in);
		cr_expect_eq(run_req(&r, in), NM_HTTP_REFUSED, "chunk case %zu", i);
		cr_expect_eq(r.p.refusal, chunks[i].why, "chunk case %zu: %s", i,
			     nm_http_refusal_name(r.p.refusal));
	}
}

Test(http, chunk_size_of_15_digits_is_taken)
{
	static struct run r;

	cr_assert_eq(run_req(&r, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "fffffffffffffff\r\nab"),
		     NM_HTTP_MORE);
	cr_assert_eq(r.p.m.body_left, 0xfffffffffffffffULL - 2);
}

Test(http, chunk_line_bound)
{
	static struct run r;
	static char in[2048];
	int n = snprintf(in, sizeof(in), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;");

	memset(in + n, 'e', NM_HTTP_CHUNK_LINE_MAX);
	in[n + NM_HTTP_CHUNK_LINE_MAX] = '\0';
	cr_assert_eq(run_req(&r, in), NM_HTTP_REFUSED);
	cr_assert_eq(r.p.refusal, NM_HTTP_REFUSAL_BAD_CHUNK_SIZE);
}

Test(http, trailer_count_bound)
{
	static struct run r;
	struct nm_http_limits one = {NM_HTTP_HEAD_BYTES_DEFAULT, 1};

	cr_assert_eq(run_with(&r, NM_HTTP_REQUEST, &one,
			      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\n"),
		     NM_HTTP_REFUSED);
	cr_assert_eq(r.p.refusal, NM_HTTP_REFUSAL_TOO_MANY_HEADERS);
}

/* Responses: framing per RFC 9112 §6.3. */
Test(http, responses_framed_by_status_and_request)
{
	static struct run r;
	struct nm_http_head get = {.buf = (const uint8_t *)"GET", .method = {0, 3}};
	struct nm_http_head head = {.buf = (const uint8_t *)"HEAD", .method = {0, 4}};

	run_with(&r, NM_HTTP_RESPONSE, &limits, "");
	nm_http_response_expect(&r.p, &head);
	nm_http_response_expect(&r.p, &get);
	nm_http_response_expect(&r.p, &get);
	nm_http_response_expect(&r.p, &get);
	const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"	  /* HEAD: no body */
			 "HTTP/1.1 100 Continue\r\n\r\n"		  /* interim */
			 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" /* GET */
			 "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
			 "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
			 "HTTP/1.0 200 OK\r\n\r\nuntil close";
	cr_assert_eq(nm_http_parse(&r.p, (const uint8_t *)in, strlen(in), &cb, &r.seen),
		     NM_HTTP_MORE);
	cr_assert_str_eq(r.seen.log, "[200]<end>[100]<end>[200]ok<end>[304]<end>[200]hi<end>"
				     "[200]until close");
	cr_assert_eq(r.p.n_pending, 0);
}

Test(http, switching_protocols_and_connect_become_tunnels)
{
	static struct run r;
	struct nm_http_head connect = {.buf = (const uint8_t *)"CONNECT", .method = {0, 7}};

	cr_assert_eq(
	    run_with(&r, NM_HTTP_RESPONSE, &limits,
		     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05"),
	    NM_HTTP_TUNNEL);
	cr_assert_str_eq(r.seen.log, "[101]<end>");

	run_with(&r, NM_HTTP_RESPONSE, &limits, "");
	nm_http_response_expect(&r.p, &connect);
	const char *in = "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01";
	cr_assert_eq(nm_http_parse(&r.p, (const uint8_t *)in, strlen(in), &cb, &r.seen),
		     NM_HTTP_TUNNEL);

	cr_assert_eq(run_req(&r, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01"),
		     NM_HTTP_TUNNEL);
	/* The request side never sees the 101: a request asking to upgrade ends HTTP. */
	cr_assert_eq(run_req(&r, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x85"),
		     NM_HTTP_TUNNEL);
	cr_assert_str_eq(r.seen.log, "[GET /ws]<end>");
	cr_assert_eq(run_req(&r, "GET /a HTTP/1.1\r\n\r\n"), NM_HTTP_MORE);
	nm_http_parser_tunnel(&r.p);
	cr_assert_eq(r.p.verdict, NM_HTTP_TUNNEL);
}

Test(http, bad_status_lines)
{
	static struct run r;
	static const char *const lines[] = {
	    "HTTP/1.1 20 OK\r\n\r\n",	"HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n",
	    "HTTP/1.1  200 OK\r\n\r\n", "HTTP/2 200\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cr_expect_eq(run_with(&r, NM_HTTP_RESPONSE, &limits, lines[i]), NM_HTTP_REFUSED,
			     "line %zu", i);
		cr_expect_eq(r.p.refusal, NM_HTTP_REFUSAL_BAD_START_LINE, "line %zu", i);
	}
}

Test(http, header_iteration_trims_whitespace)
{
	static struct run r;
	struct nm_http_span name, value;
	struct nm_http_head h = {0};
	const char *in =
	    "GET / HTTP/1.1\r\nHost:  a.example \r\nX-Empty:\r\nUser-Agent:\tcurl/8\n\r\n";
	uint32_t pos;
	char got[256] = "";

	cr_assert_eq(run_req(&r, in), NM_HTTP_MORE);
	h.buf = r.head;
	h.len = (uint32_t)strlen(in);
	h.headers_off = 16;
	pos = h.headers_off;
	while (nm_http_head_next(&h, &pos, &name, &value) == 1) {
		size_t n = strlen(got);
		snprintf(got + n, sizeof(got) - n, "%.*s=%.*s;", (int)name.len,
			 (const char *)h.buf + name.off, (int)value.len,
			 (const char *)h.buf + value.off);
	}
	cr_assert_str_eq(got, "Host=a.example;X-Empty=;User-Agent=curl/8;");
}

/*
 * A pipelined pair (a chunked POST, then a GET with a Content-Length
 * body), fed in two pieces at every split point and then one byte at a
 * time: the same events each time.
 */
static const char pair[] = "POST /up?a=1 HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n"
			   "\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n"
			   "GET /next HTTP/1.1\r\nHost: svc\r\nContent-Length: 3\r\n\r\nxyz";
static const char pair_events[] = "[POST /up?a=1]wikipedia<end>[GET /next]xyz<end>";

Test(http, pipelined_pair_at_every_split_point)
{
	static struct run r;
	size_t n = strlen(pair);

	for (size_t cut = 0; cut <= n; cut++) {
		memset(&r.seen, 0, sizeof(r.seen));
		nm_http_parser_init(&r.p, NM_HTTP_REQUEST, &limits, r.head, sizeof(r.head));
		cr_assert_eq(nm_http_parse(&r.p, (const uint8_t *)pair, cut, &cb, &r.seen),
			     NM_HTTP_MORE, "cut %zu", cut);
		cr_assert_eq(
		    nm_http_parse(&r.p, (const uint8_t *)pair + cut, n - cut, &cb, &r.seen),
		    NM_HTTP_MORE, "cut %zu", cut);
		cr_assert_str_eq(r.seen.log, pair_events, "cut %zu", cut);
		cr_assert_eq(r.p.messages, 2, "cut %zu", cut);
	}
}

Test(http, pipelined_pair_one_byte_at_a_time)
{
	static struct run r;
	size_t n = strlen(pair);

	nm_http_parser_init(&r.p, NM_HTTP_REQUEST, &limits, r.head, sizeof(r.head));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(nm_http_parse(&r.p, (const uint8_t *)pair + i, 1, &cb, &r.seen),
			     NM_HTTP_MORE, "byte %zu", i);
	cr_assert_str_eq(r.seen.log, pair_events);
}

Test(http, keep_alive_counts_messages_and_resets_framing)
{
	static struct run r;

	/* The second request carries no Content-Length: it must not inherit the first's. */
	assert_requests(&r,
			"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"
			"GET / HTTP/1.1\r\n\r\n"
			"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
			"[POST /]x<end>[GET /]<end>[POST /]<end>", 3);
}
