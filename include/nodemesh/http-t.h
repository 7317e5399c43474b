/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.x on one direction of an in-order TCP stream (RFC 9112): the
 * parser's per-flow state, its bounds and its verdicts. The parser
 * (dataplane/http.c) takes bytes in segments split anywhere, keeps only
 * this state and a head buffer the caller lends it (a part of the flow's
 * pooled stream chunk on a worker), and allocates nothing.
 *
 * Request smuggling shapes are refused, never guessed at (RFC 9112 §6.3,
 * §11.2): the reasons below name each one.
 */
#ifndef NM_HTTP_T_H
#define NM_HTTP_T_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Why a parser refused its stream. Declared once: the enum and the names
 * (nm_http_refusal_name()) come from this list.
 */
#define NM_HTTP_REFUSALS(_)                                                                        \
	_(HEAD_TOO_LONG, "http_head_too_long",                                                     \
	  "request/status line and headers exceed the head byte bound")                            \
	_(TOO_MANY_HEADERS, "http_too_many_headers", "more header lines than the count bound")     \
	_(BAD_START_LINE, "http_bad_start_line",                                                   \
	  "a request or status line that is not HTTP/1.x after an HTTP message")                   \
	_(BAD_HEADER, "http_bad_header",                                                           \
	  "a header line without a token name and colon, or with a control byte")                  \
	_(OBS_FOLD, "http_obs_fold", "a header continued on the next line (obs-fold)")             \
	_(BARE_CR, "http_bare_cr", "a CR not followed by LF")                                      \
	_(CL_AND_TE, "http_cl_and_te", "Content-Length and Transfer-Encoding in one message")      \
	_(DUP_CL, "http_dup_content_length", "Content-Length given twice or as a list")            \
	_(BAD_CL, "http_bad_content_length", "Content-Length that is not 1 to 18 digits")          \
	_(BAD_TE, "http_bad_transfer_encoding",                                                    \
	  "Transfer-Encoding other than one \"chunked\", repeated, or in HTTP/1.0")                \
	_(BAD_CHUNK_SIZE, "http_bad_chunk_size",                                                   \
	  "a chunk size that is not 1 to 15 hex digits, or bytes after it that are not an "        \
	  "extension")                                                                             \
	_(BAD_CHUNK_END, "http_bad_chunk_end", "chunk data not followed by CRLF")

enum nm_http_refusal {
	NM_HTTP_REFUSAL_NONE = 0,
#define NM_HTTP_REFUSAL_ENUM(sym, name, help) NM_HTTP_REFUSAL_##sym,
	NM_HTTP_REFUSALS(NM_HTTP_REFUSAL_ENUM)
#undef NM_HTTP_REFUSAL_ENUM
	    NM_HTTP_REFUSAL_MAX
};

/* What a stream direction is, as far as the parser has seen. */
enum nm_http_verdict {
	NM_HTTP_MORE = 0, /* HTTP so far (or not yet known): feed more bytes */
	NM_HTTP_NOT_HTTP, /* the first message's start is not HTTP/1.x: a raw stream */
	NM_HTTP_TUNNEL,	  /* HTTP until an Upgrade/CONNECT; the rest is a raw stream */
	NM_HTTP_REFUSED,  /* a smuggling shape or a bound: the flow must be reset */
};

enum nm_http_dir {
	NM_HTTP_REQUEST = 0,  /* client to server */
	NM_HTTP_RESPONSE = 1, /* server to client */
};

/* Bounds of one direction (what the operator may set). */
struct nm_http_limits {
	uint32_t head_bytes_max;   /* start line + header lines + their CRLFs, bytes */
	uint16_t header_count_max; /* header lines in one head (trailers too) */
};

#define NM_HTTP_HEAD_BYTES_DEFAULT   8192 /* nginx's large_client_header_buffers line */
#define NM_HTTP_HEADER_COUNT_DEFAULT 100  /* libhtp and Go's net/http sit near this */
#define NM_HTTP_METHOD_MAX	     32	  /* bytes of a method token */
#define NM_HTTP_EMPTY_LINES_MAX	     2	  /* CRLFs tolerated before a start line (RFC 9112 §2.2) */
#define NM_HTTP_CHUNK_LINE_MAX	     1024 /* bytes of a chunk-size line, extensions included */
#define NM_HTTP_PENDING_MAX	     64	  /* requests awaiting a response that one bit tracks */

/* Bytes a gzip/deflate body inflates to for inspection (signatures.http_body_decoded_max). */
#define NM_HTTP_DECODED_DEFAULT (64 * 1024)
#define NM_HTTP_DECODED_MIN	1024
#define NM_HTTP_DECODED_MAX	(16 * 1024 * 1024)

/* A span of the head buffer. */
struct nm_http_span {
	uint32_t off;
	uint32_t len;
};

/*
 * One complete message head, valid during the head callback only: buf
 * holds the start line and header lines as received (CRLF or LF ended).
 */
struct nm_http_head {
	const uint8_t *buf;
	uint32_t len;		    /* bytes of buf, the empty line included */
	struct nm_http_span method; /* requests */
	struct nm_http_span target; /* requests: the request-target as sent */
	uint16_t status;	    /* responses: 100..999 */
	uint8_t version_minor;	    /* HTTP/1.<minor> */
	uint32_t headers_off;	    /* first header line in buf */
	uint16_t n_headers;
	bool chunked;
	bool has_length;
	uint64_t content_length;
};

struct nm_http_cb {
	/* A head completed: the message's body, if any, follows. */
	void (*head)(void *ctx, const struct nm_http_head *h);
	/* Body bytes (chunked framing removed), in order, in pieces. */
	void (*body)(void *ctx, const uint8_t *data, uint32_t len);
	/* The message ended (its body complete). */
	void (*end)(void *ctx);
};

/* What the parser knows of the message it is in; cleared when one ends. */
struct nm_http_message {
	uint64_t body_left; /* bytes of the Content-Length body or current chunk */
	uint64_t content_length;
	uint32_t head_len;   /* bytes in the head buffer */
	uint32_t line_off;   /* start of the line being read, in the head buffer */
	uint32_t chunk_line; /* bytes of the current chunk-size or trailer line */
	uint32_t trailer_bytes;
	uint16_t n_headers;
	uint16_t status;
	uint8_t empty_lines;
	uint8_t version_minor;
	bool chunked;
	bool has_length;
	bool has_te;
	bool chunk_digits; /* a hex digit seen on the chunk-size line */
	bool chunk_ext;	   /* past the ';' of a chunk extension */
	/*
	 * The caller's (dataplane/inspect_http.c), cleared with the rest when
	 * the message ends: the head as the head callback saw it, and the
	 * body bytes kept after the head in the head buffer, which the
	 * parser leaves alone until the message ends.
	 */
	struct nm_http_head kept_head;
	uint32_t body_kept;  /* bytes of body after the head in the buffer */
	uint64_t body_seen;  /* body bytes of this message, kept or not */
	uint8_t body_coding; /* inspect_http.c's enum of Content-Encoding */
};

/*
 * One direction's parser state: small scalars and a borrowed head
 * buffer. nm_http_parser_init() sets it up.
 */
struct nm_http_parser {
	struct nm_http_message m;
	uint8_t *head;		  /* the caller's buffer: this message's head */
	uint32_t head_cap;	  /* min(its size, limits.head_bytes_max) */
	uint32_t buf_size;	  /* all of the caller's buffer (head, then kept body) */
	uint64_t pending;	  /* responses: bit i set: the i-th awaited answers a HEAD */
	uint64_t pending_connect; /* responses: bit i set: the i-th answers a CONNECT */
	uint64_t messages;	  /* complete messages */
	uint64_t pos;	    /* stream offset of the byte being parsed: bytes taken before it */
	uint64_t msg_start; /* stream offset of this message's start line */
	uint16_t header_count_max;
	uint8_t n_pending; /* responses: requests awaiting an answer, at most 64 */
	uint8_t dir;	   /* enum nm_http_dir */
	uint8_t state;	   /* http.c's enum state */
	uint8_t verdict;   /* enum nm_http_verdict */
	uint8_t refusal;   /* enum nm_http_refusal, when verdict is REFUSED */
	bool cr;	   /* the last byte was a CR: only LF may follow */
	bool upgrade;	   /* 101 or CONNECT: a tunnel after this message */
};

#endif
