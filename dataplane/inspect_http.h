/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP inspection of a TCP stream direction on the workers: in-order bytes
 * go to the stream's HTTP parser (dataplane/http.c), and each message
 * head's Suricata buffers are built and scanned with the http rules.
 */
#ifndef NM_INSPECT_HTTP_H
#define NM_INSPECT_HTTP_H

#include <stdint.h>

#include "http_body.h"
#include "nodemesh/http-t.h"
#include "nodemesh/http_log-t.h"
#include "sig_scan.h"

/*
 * Who logs the transactions (inspect.c): told of each head after its
 * scan, of each body piece's length, and of each message's end. NULL: no
 * logging.
 */
struct nm_inspect_http_log {
	void (*head)(void *ctx, const struct nm_http_head *h);
	void (*body)(void *ctx, uint32_t len);
	void (*end)(void *ctx);
	void *ctx;
};

/* What one feed scans with, and what it found. */
struct nm_inspect_http {
	const struct nm_sigdb *db;
	hs_scratch_t *scratch;
	nm_sigdb_hit_fn fn;
	void *ctx;
	const struct nm_inspect_http_log *log;
	/* Decodes gzip/deflate response bodies; NULL: they are scanned as sent. */
	struct nm_http_inflater *inflater;
	struct nm_http_parser *parser; /* the one being fed (nm_inspect_http_feed sets it) */
	uint32_t heads;		       /* message heads scanned */
	uint32_t bodies;	       /* message bodies scanned with the rules of a body buffer */
	uint32_t bodies_cut;	 /* bodies longer than the room to keep them: the rest unseen */
	uint32_t inflate_cut;	 /* bodies that inflated past the decoded bound */
	uint32_t inflate_errors; /* bodies that are not the gzip/deflate they claim */
	int rc;			 /* 0, or the first scan's -EIO */
};

/* Bytes of the buffer space one head's buffers are built in (on the stack). */
#define NM_INSPECT_HTTP_HEAD_MAX NM_HTTP_HEAD_BYTES_DEFAULT

/*
 * Build the Suricata buffers of head h (a request's or a response's) in
 * space (NM_INSPECT_HTTP_SPACE bytes: the normalized URI, the host, the
 * header lines, the header names and http.start; h->len is at most
 * NM_INSPECT_HTTP_HEAD_MAX). A rebuilt header line ("Name: value\r\n")
 * is at most 2 bytes longer than as sent ("Name:value\n"), hence the
 * 2 bytes per header line on top of a head's length.
 */
#define NM_INSPECT_HTTP_NAMES_OFF (3 * NM_INSPECT_HTTP_HEAD_MAX + 2 * NM_HTTP_HEADER_COUNT_DEFAULT)
#define NM_INSPECT_HTTP_START_OFF (NM_INSPECT_HTTP_NAMES_OFF + NM_INSPECT_HTTP_HEAD_MAX + 4)
#define NM_INSPECT_HTTP_SPACE                                                                      \
	(NM_INSPECT_HTTP_START_OFF + NM_INSPECT_HTTP_HEAD_MAX + 2 * NM_HTTP_HEADER_COUNT_DEFAULT + \
	 4)
void nm_inspect_http_buffers(const struct nm_http_head *h, uint8_t *space,
			     struct nm_sig_http_bufs *out);

/*
 * The fields an EVE http event logs from head h: method, target as sent,
 * Host and User-Agent (the first of each) of a request, status of a
 * response. A value longer than its field is cut and marked in
 * out->truncated.
 */
void nm_http_fields_fill(const struct nm_http_head *h, struct nm_http_fields *out);

/* Feed len in-order bytes of the direction; returns the parser's verdict. */
enum nm_http_verdict nm_inspect_http_feed(struct nm_http_parser *p, const uint8_t *data,
					  uint32_t len, struct nm_inspect_http *ih);

/*
 * The direction ended (its flow closes): a body framed by the end of the
 * connection is scanned now with the rules of a body buffer.
 */
void nm_inspect_http_finish(struct nm_http_parser *p, struct nm_inspect_http *ih);

#endif
