/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.x parsing of one stream direction (types: nodemesh/http-t.h) and
 * Suricata's normalized request URI. No DPDK, no allocation.
 */
#ifndef NM_HTTP_H
#define NM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/http-t.h"

/* A hex digit's value, or -1. */
static inline int
nm_http_hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Start parsing one direction. head (head_size bytes, lent for the
 * parser's life) holds each message's head while it is read; the head
 * bound is the smaller of head_size and limits->head_bytes_max.
 */
void nm_http_parser_init(struct nm_http_parser *p, enum nm_http_dir dir,
			 const struct nm_http_limits *limits, uint8_t *head, uint32_t head_size);

/*
 * Feed the next len bytes of the direction. Callbacks (any may be NULL)
 * run as heads, body pieces and message ends complete. Returns the
 * verdict so far; once it is not NM_HTTP_MORE it stays, and further bytes
 * are not looked at: the caller scans them as a raw stream (NOT_HTTP,
 * TUNNEL) or resets the flow (REFUSED, p->refusal says why).
 */
enum nm_http_verdict nm_http_parse(struct nm_http_parser *p, const uint8_t *data, size_t len,
				   const struct nm_http_cb *cb, void *ctx);

/*
 * Tell a response parser what the next request on the connection was, in
 * request order: a HEAD's answer has no body, a CONNECT's 2xx answer
 * starts a tunnel (RFC 9112 §6.3). Beyond NM_HTTP_PENDING_MAX unanswered
 * requests the answers are framed by their own headers.
 */
void nm_http_response_expect(struct nm_http_parser *resp, const struct nm_http_head *request);

/* The request direction of a connection whose server answered 101: a tunnel from now on. */
void nm_http_parser_tunnel(struct nm_http_parser *p);

/* "http_bare_cr" for NM_HTTP_REFUSAL_BARE_CR; "none", or "unknown" past the list. */
const char *nm_http_refusal_name(unsigned int refusal);
/* One line on what a refusal means. */
const char *nm_http_refusal_help(unsigned int refusal);

/*
 * Iterate the header lines of a head: *pos starts at h->headers_off.
 * Returns 1 with the name and the value (optional whitespace trimmed)
 * as spans of h->buf, 0 after the last header.
 */
int nm_http_head_next(const struct nm_http_head *h, uint32_t *pos, struct nm_http_span *name,
		      struct nm_http_span *value);

/*
 * Suricata's http.uri for a request-target of len bytes (dataplane/http_uri.c
 * says what that is): written to out, which must hold len bytes (the
 * normalized form is never longer). Returns its length.
 */
uint32_t nm_http_uri_normalize(const uint8_t *target, uint32_t len, uint8_t *out);

#endif
