/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the HTTP/1.x parser (dataplane/http.c): a stream
 * direction is attacker bytes. The first input byte picks the direction
 * and a split point; the rest is parsed once whole and once in two
 * segments, and both runs must give the same verdict, refusal and events
 * (the parser's promise that segment boundaries never matter). Every
 * span a head reports must lie inside its buffer, and a request's
 * normalized URI (http_uri.c) within its target's length.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "http.h"

#define CHECK(cond) NM_FUZZ_CHECK("fuzz_http", cond)

/* A digest of the events, independent of how body bytes were split. */
struct trace {
	uint64_t hash;
	uint64_t body_bytes;
	uint32_t heads, ends;
};

static void
mix(struct trace *t, const uint8_t *data, size_t n)
{
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ data[i]) * 0x100000001b3ULL; /* FNV-1a */
}

static void
span_inside(const struct nm_http_head *h, struct nm_http_span s)
{
	CHECK(s.off <= h->len && s.len <= h->len - s.off);
}

static void
on_head(void *ctx, const struct nm_http_head *h)
{
	struct trace *t = ctx;
	struct nm_http_span name, value;
	uint32_t pos = h->headers_off;
	uint16_t n = 0;

	static uint8_t uri[1024 + 1];

	span_inside(h, h->method);
	span_inside(h, h->target);
	/* http.uri is never longer than its target, and writes nothing past it. */
	uri[h->target.len] = 0xa5;
	CHECK(nm_http_uri_normalize(h->buf + h->target.off, h->target.len, uri) <= h->target.len);
	CHECK(uri[h->target.len] == 0xa5);
	CHECK(h->headers_off <= h->len);
	while (nm_http_head_next(h, &pos, &name, &value) == 1) {
		span_inside(h, name);
		span_inside(h, value);
		CHECK(name.len > 0);
		n++;
	}
	CHECK(n == h->n_headers);
	CHECK(!(h->chunked && h->has_length));
	mix(t, (const uint8_t *)"H", 1);
	mix(t, h->buf, h->len);
	t->heads++;
}

static void
on_body(void *ctx, const uint8_t *data, uint32_t len)
{
	struct trace *t = ctx;

	CHECK(len > 0);
	mix(t, data, len);
	t->body_bytes += len;
}

static void
on_end(void *ctx)
{
	struct trace *t = ctx;

	mix(t, (const uint8_t *)"E", 1);
	t->ends++;
}

static const struct nm_http_cb cb = {on_head, on_body, on_end};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t head_a[1024], head_b[1024];
	const struct nm_http_limits limits = {512, 16};
	struct nm_http_parser a, b;
	struct trace ta = {0}, tb = {0};
	enum nm_http_dir dir;
	enum nm_http_verdict va, vb;
	size_t cut;

	if (size < 1)
		return 0;
	dir = (data[0] & 1) ? NM_HTTP_RESPONSE : NM_HTTP_REQUEST;
	data++;
	size--;
	cut = size == 0 ? 0 : (size_t)(data[-1] >> 1) % (size + 1);

	nm_http_parser_init(&a, dir, &limits, head_a, sizeof(head_a));
	va = nm_http_parse(&a, data, size, &cb, &ta);

	nm_http_parser_init(&b, dir, &limits, head_b, sizeof(head_b));
	vb = nm_http_parse(&b, data, cut, &cb, &tb);
	if (vb == NM_HTTP_MORE)
		vb = nm_http_parse(&b, data + cut, size - cut, &cb, &tb);

	CHECK(va == vb);
	CHECK(a.refusal == b.refusal);
	CHECK((va == NM_HTTP_REFUSED) == (a.refusal != NM_HTTP_REFUSAL_NONE));
	CHECK(ta.hash == tb.hash && ta.heads == tb.heads && ta.ends == tb.ends);
	CHECK(ta.body_bytes == tb.body_bytes && ta.body_bytes <= size);
	CHECK(a.messages == ta.ends);
	CHECK(a.m.head_len <= 512);
	return 0;
}
