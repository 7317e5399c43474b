/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A message body's Content-Encoding, decoded for inspection: gzip and
 * deflate with zlib (RFC 9110 §8.4.1), as libhtp decodes a response body
 * for Suricata's http.response_body and file.data. One inflater per
 * worker, made before the worker starts: zlib's state and window come
 * from its arena and the output goes to its bounded buffer, so decoding
 * allocates nothing, and a body that inflates past the bound (a
 * decompression bomb) is cut there and says so.
 */
#ifndef NM_HTTP_BODY_H
#define NM_HTTP_BODY_H

#include <stdint.h>

#include "nodemesh/http-t.h"

/* A body's coding, from its Content-Encoding header. */
enum nm_http_coding {
	NM_HTTP_CODING_NONE = 0, /* identity, absent, or one nodemesh does not decode */
	NM_HTTP_CODING_GZIP,	 /* gzip, x-gzip */
	NM_HTTP_CODING_DEFLATE,	 /* deflate: zlib format, or raw deflate as some servers send */
};

enum nm_http_inflate_result {
	NM_HTTP_INFLATE_OK = 0, /* all the input decoded (the stream may have ended early) */
	NM_HTTP_INFLATE_CUT,	/* the output bound was reached: the rest is not decoded */
	NM_HTTP_INFLATE_ERROR,	/* not valid gzip/deflate: what came before the error is kept */
};

struct nm_http_inflater;

/*
 * An inflater whose output holds at most out_max bytes
 * (NM_HTTP_DECODED_MIN..NM_HTTP_DECODED_MAX). NULL with errno.
 */
struct nm_http_inflater *nm_http_inflater_create(uint32_t out_max);
void nm_http_inflater_free(struct nm_http_inflater *inf);

/*
 * The coding a Content-Encoding value names (len bytes, any case): one
 * gzip, x-gzip or deflate; anything else, a list included, is NONE and
 * the body is inspected as sent.
 */
enum nm_http_coding nm_http_coding_of(const uint8_t *value, uint32_t len);

/*
 * Decode len bytes of a body in coding: *out points into the inflater's
 * buffer (valid until its next use), *out_len bytes.
 */
enum nm_http_inflate_result nm_http_inflate(struct nm_http_inflater *inf,
					    enum nm_http_coding coding, const uint8_t *in,
					    uint32_t len, const uint8_t **out, uint32_t *out_len);

#endif
