/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.x on one direction of an in-order TCP stream (RFC 9112).
 *
 * Bytes arrive in segments split anywhere, so the parser walks them one
 * at a time through a small state machine and keeps a message's head (start
 * line and header lines) in a buffer the caller lends; once a line ends it
 * is judged as a whole from that buffer. Bodies are not copied: their bytes
 * go to the body callback as the segments hold them, chunked framing
 * removed. Pipelined and kept-alive messages follow one another.
 *
 * What is refused, not guessed (RFC 9112 §6.3 and §11.2: an intermediary
 * that frames a message differently from the server is how requests are
 * smuggled past it): Content-Length with Transfer-Encoding, Content-Length
 * twice or as a list, a Transfer-Encoding other than one "chunked" (or in
 * HTTP/1.0), obs-fold, a CR not followed by LF, a chunk size that is not
 * 1 to 15 hex digits directly followed by an extension or the line end,
 * chunk data not followed by its CRLF, whitespace before a header's colon,
 * and control bytes in the head. A lone LF ends a line (RFC 9112 §2.2
 * allows it, as nginx and libhtp do).
 *
 * After CONNECT, an Upgrade request or a 101 answer the direction is a
 * tunnel: the rest is another protocol.
 *
 * Whether a direction is HTTP is decided by its first line: a valid
 * request line (a response: "HTTP/1.x NNN"). A first line that fails is
 * not HTTP, unless it starts with one of RFC 9110's methods and a space
 * (a response: "HTTP/"): then the stream is HTTP gone wrong and refused.
 */
#include <stdbool.h>
#include <string.h>

#include "http.h"

enum state {
	S_START,      /* before a message's start line: empty lines tolerated */
	S_LINE,	      /* in the start line */
	S_HEADER,     /* in the header lines */
	S_BODY_LEN,   /* in a Content-Length body */
	S_CHUNK_SIZE, /* in a chunk-size line */
	S_CHUNK_DATA, /* in a chunk's data */
	S_CHUNK_END,  /* after a chunk's data: its CRLF */
	S_TRAILER,    /* in the trailer lines after the last chunk */
	S_BODY_CLOSE, /* a response body delimited by the connection's close */
	S_DONE,	      /* a verdict other than NM_HTTP_MORE */
};

static const struct {
	const char *name;
	const char *help;
} refusals[NM_HTTP_REFUSAL_MAX] = {[NM_HTTP_REFUSAL_NONE] = {"none", "not refused"},
#define NM_HTTP_REFUSAL_STR(sym, n, h) [NM_HTTP_REFUSAL_##sym] = {n, h},
				   NM_HTTP_REFUSALS(NM_HTTP_REFUSAL_STR)
#undef NM_HTTP_REFUSAL_STR
};

const char *
nm_http_refusal_name(unsigned int refusal)
{
	return refusal < NM_HTTP_REFUSAL_MAX ? refusals[refusal].name : "unknown";
}

const char *
nm_http_refusal_help(unsigned int refusal)
{
	return refusal < NM_HTTP_REFUSAL_MAX ? refusals[refusal].help : "unknown";
}

/* RFC 9110 §5.6.2 tchar. */
static bool
is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field value's byte (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text. */
static bool
is_field_byte(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
span_is(const uint8_t *buf, struct nm_http_span s, const char *lower)
{
	size_t n = strlen(lower);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = buf[s.off + i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (uint8_t)lower[i])
			return false;
	}
	return true;
}

void
nm_http_parser_init(struct nm_http_parser *p, enum nm_http_dir dir,
		    const struct nm_http_limits *limits, uint8_t *head, uint32_t head_size)
{
	memset(p, 0, sizeof(*p));
	p->dir = (uint8_t)dir;
	p->head = head;
	p->head_cap = head_size < limits->head_bytes_max ? head_size : limits->head_bytes_max;
	p->buf_size = head_size;
	p->header_count_max = limits->header_count_max;
	p->state = S_START;
	p->verdict = NM_HTTP_MORE;
}

static void
refuse(struct nm_http_parser *p, enum nm_http_refusal why)
{
	p->verdict = NM_HTTP_REFUSED;
	p->refusal = (uint8_t)why;
	p->state = S_DONE;
}

static void
not_http(struct nm_http_parser *p)
{
	p->verdict = NM_HTTP_NOT_HTTP;
	p->state = S_DONE;
}

static void
tunnel(struct nm_http_parser *p)
{
	p->verdict = NM_HTTP_TUNNEL;
	p->state = S_DONE;
}

void
nm_http_parser_tunnel(struct nm_http_parser *p)
{
	if (p->verdict == NM_HTTP_MORE)
		tunnel(p);
}

/* RFC 9110 §9: a stream whose first line starts with one of these is HTTP. */
static bool
starts_like_http(const struct nm_http_parser *p)
{
	static const char *const methods[] = {"GET ",	  "HEAD ",    "POST ",	"PUT ",	 "DELETE ",
					      "CONNECT ", "OPTIONS ", "TRACE ", "PATCH "};
	const char *const *m;
	size_t n;

	if (p->dir == NM_HTTP_RESPONSE)
		return p->m.head_len >= 5 && memcmp(p->head, "HTTP/", 5) == 0;
	for (m = methods; m < methods + sizeof(methods) / sizeof(methods[0]); m++) {
		n = strlen(*m);
		if (p->m.head_len >= n && memcmp(p->head, *m, n) == 0)
			return true;
	}
	return false;
}

/* The start line failed: not HTTP if this is the direction's first, refused otherwise. */
static void
bad_start(struct nm_http_parser *p, enum nm_http_refusal why)
{
	if (p->messages == 0 && !starts_like_http(p))
		not_http(p);
	else
		refuse(p, why);
}

/* Bytes of the line that starts at p->m.line_off, its CRLF or LF left out. */
static uint32_t
line_len(const struct nm_http_parser *p)
{
	uint32_t end = p->m.head_len - 1; /* the LF */

	if (end > p->m.line_off && p->head[end - 1] == '\r')
		end--;
	return end - p->m.line_off;
}

/* "HTTP/1.<digit>" at s: the minor version, or -1. */
static int
version_at(const uint8_t *s, uint32_t n)
{
	if (n != 8 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]))
		return -1;
	return s[7] - '0';
}

/* method SP request-target SP HTTP-version (RFC 9112 §3). */
static bool
parse_request_line(const uint8_t *s, uint32_t n, uint32_t base, struct nm_http_head *h)
{
	uint32_t i = 0, t;
	int minor;

	while (i < n && is_tchar(s[i]))
		i++;
	if (i == 0 || i > NM_HTTP_METHOD_MAX || i == n || s[i] != ' ')
		return false;
	h->method = (struct nm_http_span){base, i};

	t = ++i;
	while (i < n && s[i] > 0x20 && s[i] != 0x7f)
		i++;
	if (i == t || i == n || s[i] != ' ')
		return false;
	h->target = (struct nm_http_span){base + t, i - t};

	minor = version_at(s + i + 1, n - i - 1);
	if (minor < 0)
		return false;
	h->version_minor = (uint8_t)minor;
	return true;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] (RFC 9112 §4; the SP is often left out). */
static bool
parse_status_line(struct nm_http_parser *p, const uint8_t *s, uint32_t n)
{
	int minor = n >= 8 ? version_at(s, 8) : -1;

	if (minor < 0 || n < 12 || s[8] != ' ' || !is_digit(s[9]) || !is_digit(s[10]) ||
	    !is_digit(s[11]) || s[9] == '0')
		return false;
	if (n > 12 && s[12] != ' ')
		return false;
	for (uint32_t i = 13; i < n; i++)
		if (!is_field_byte(s[i]))
			return false;
	p->m.version_minor = (uint8_t)minor;
	p->m.status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	return true;
}

/*
 * Split a header line (n bytes at p->m.line_off) into name and trimmed
 * value. false: no token name directly followed by ':', or a control
 * byte in the value.
 */
static bool
split_header(const struct nm_http_parser *p, uint32_t n, struct nm_http_span *name,
	     struct nm_http_span *value)
{
	const uint8_t *s = p->head + p->m.line_off;
	uint32_t i = 0, start, end;

	while (i < n && is_tchar(s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ':')
		return false;
	*name = (struct nm_http_span){p->m.line_off, i};

	for (uint32_t k = i + 1; k < n; k++)
		if (!is_field_byte(s[k]))
			return false;
	start = i + 1;
	end = n;
	while (start < end && (s[start] == ' ' || s[start] == '\t'))
		start++;
	while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	*value = (struct nm_http_span){p->m.line_off + start, end - start};
	return true;
}

/* Content-Length: 1*DIGIT, at most 18 of them; a list or a repeat is refused. */
static bool
framing_length(struct nm_http_parser *p, struct nm_http_span v)
{
	uint64_t n = 0;

	if (p->m.has_length) {
		refuse(p, NM_HTTP_REFUSAL_DUP_CL);
		return false;
	}
	for (uint32_t i = 0; i < v.len; i++) {
		if (p->head[v.off + i] == ',') {
			refuse(p, NM_HTTP_REFUSAL_DUP_CL);
			return false;
		}
	}
	if (v.len == 0 || v.len > 18) {
		refuse(p, NM_HTTP_REFUSAL_BAD_CL);
		return false;
	}
	for (uint32_t i = 0; i < v.len; i++) {
		uint8_t c = p->head[v.off + i];
		if (!is_digit(c)) {
			refuse(p, NM_HTTP_REFUSAL_BAD_CL);
			return false;
		}
		n = n * 10 + (uint64_t)(c - '0');
	}
	p->m.has_length = true;
	p->m.content_length = n;
	return true;
}

/* Transfer-Encoding: exactly one "chunked", in HTTP/1.1 (RFC 9112 §6.1). */
static bool
framing_te(struct nm_http_parser *p, struct nm_http_span v)
{
	if (p->m.has_te || p->m.version_minor == 0 || !span_is(p->head, v, "chunked")) {
		refuse(p, NM_HTTP_REFUSAL_BAD_TE);
		return false;
	}
	p->m.has_te = true;
	p->m.chunked = true;
	return true;
}

static bool
header_line(struct nm_http_parser *p, uint32_t n)
{
	struct nm_http_span name, value;
	const uint8_t *s = p->head + p->m.line_off;

	if (s[0] == ' ' || s[0] == '\t') {
		refuse(p, NM_HTTP_REFUSAL_OBS_FOLD);
		return false;
	}
	if (!split_header(p, n, &name, &value)) {
		refuse(p, NM_HTTP_REFUSAL_BAD_HEADER);
		return false;
	}
	if (++p->m.n_headers > p->header_count_max) {
		refuse(p, NM_HTTP_REFUSAL_TOO_MANY_HEADERS);
		return false;
	}
	if (span_is(p->head, name, "content-length"))
		return framing_length(p, value);
	if (span_is(p->head, name, "transfer-encoding"))
		return framing_te(p, value);
	/*
	 * A request asking to switch protocols: its connection may carry
	 * WebSocket frames or HTTP/2 after it, and this side never sees the
	 * server's 101 (the response is parsed at the other flow entry), so
	 * the direction becomes a tunnel after this request instead of
	 * refusing what follows. The price: a client that adds Upgrade has
	 * its later requests on that connection scanned as a raw stream only.
	 */
	if (p->dir == NM_HTTP_REQUEST && span_is(p->head, name, "upgrade"))
		p->upgrade = true;
	return true;
}

static void
message_end(struct nm_http_parser *p, const struct nm_http_cb *cb, void *ctx)
{
	p->messages++;
	if (cb != NULL && cb->end != NULL)
		cb->end(ctx);
	memset(&p->m, 0, sizeof(p->m));
	p->state = S_START;
	if (p->upgrade)
		tunnel(p);
}

/* Pop what the oldest unanswered request asked for (nm_http_response_expect). */
static void
pop_pending(struct nm_http_parser *p, bool *head, bool *connect)
{
	*head = false;
	*connect = false;
	if (p->n_pending == 0)
		return;
	*head = (p->pending & 1) != 0;
	*connect = (p->pending_connect & 1) != 0;
	p->pending >>= 1;
	p->pending_connect >>= 1;
	p->n_pending--;
}

/* How a response's body is framed (RFC 9112 §6.3, rules 1 to 8 in order). */
static void
response_body(struct nm_http_parser *p, const struct nm_http_cb *cb, void *ctx)
{
	bool head, connect;

	if (p->m.status < 200 && p->m.status != 101) {
		/* Interim: the final answer to the same request follows. */
		message_end(p, cb, ctx);
		return;
	}
	pop_pending(p, &head, &connect);
	if (p->m.status == 101 || (connect && p->m.status < 300)) {
		p->upgrade = true;
		message_end(p, cb, ctx);
		return;
	}
	if (head || p->m.status == 204 || p->m.status == 304) {
		message_end(p, cb, ctx);
		return;
	}
	if (p->m.chunked) {
		p->state = S_CHUNK_SIZE;
		return;
	}
	if (p->m.has_length) {
		p->m.body_left = p->m.content_length;
		if (p->m.body_left == 0)
			message_end(p, cb, ctx);
		else
			p->state = S_BODY_LEN;
		return;
	}
	p->state = S_BODY_CLOSE;
}

/* A request's body: chunked, by length, or none (RFC 9112 §6.3 rule 7). */
static void
request_body(struct nm_http_parser *p, const struct nm_http_head *h, const struct nm_http_cb *cb,
	     void *ctx)
{
	if (span_is(p->head, h->method, "connect"))
		p->upgrade = true;
	if (p->m.chunked) {
		p->state = S_CHUNK_SIZE;
		return;
	}
	p->m.body_left = p->m.has_length ? p->m.content_length : 0;
	if (p->m.body_left == 0)
		message_end(p, cb, ctx);
	else
		p->state = S_BODY_LEN;
}

static void
head_end(struct nm_http_parser *p, const struct nm_http_cb *cb, void *ctx)
{
	struct nm_http_head h = {0};
	uint32_t first_len;

	if (p->m.has_te && p->m.has_length) {
		refuse(p, NM_HTTP_REFUSAL_CL_AND_TE);
		return;
	}

	/* The start line was checked when it ended; its spans are found again. */
	first_len = 0;
	while (p->head[first_len] != '\n')
		first_len++;
	h.buf = p->head;
	h.len = p->m.head_len;
	h.headers_off = first_len + 1;
	if (p->head[first_len > 0 ? first_len - 1 : 0] == '\r')
		first_len--;
	if (p->dir == NM_HTTP_REQUEST)
		(void)parse_request_line(p->head, first_len, 0, &h);
	h.status = p->m.status;
	h.version_minor = p->m.version_minor;
	h.n_headers = p->m.n_headers;
	h.chunked = p->m.chunked;
	h.has_length = p->m.has_length;
	h.content_length = p->m.content_length;
	if (cb != NULL && cb->head != NULL)
		cb->head(ctx, &h);

	if (p->dir == NM_HTTP_REQUEST)
		request_body(p, &h, cb, ctx);
	else
		response_body(p, cb, ctx);
}

/* A line of the head ended (its LF is the last byte of p->head). */
static void
head_line_end(struct nm_http_parser *p, const struct nm_http_cb *cb, void *ctx)
{
	uint32_t n = line_len(p);
	struct nm_http_head h;

	if (p->state == S_LINE) {
		bool ok = p->dir == NM_HTTP_REQUEST
			      ? parse_request_line(p->head + p->m.line_off, n, p->m.line_off, &h)
			      : parse_status_line(p, p->head + p->m.line_off, n);
		if (!ok) {
			bad_start(p, NM_HTTP_REFUSAL_BAD_START_LINE);
			return;
		}
		if (p->dir == NM_HTTP_REQUEST)
			p->m.version_minor = h.version_minor;
		p->state = S_HEADER;
	} else if (n == 0) {
		head_end(p, cb, ctx);
		return;
	} else if (!header_line(p, n)) {
		return;
	}
	p->m.line_off = p->m.head_len;
}

/* One byte of the start line or a header line. */
static void
head_byte(struct nm_http_parser *p, uint8_t c, const struct nm_http_cb *cb, void *ctx)
{
	if (p->state == S_START) {
		if (c == '\r' || c == '\n') {
			/* Empty lines between messages: LF ends one, a CR must be followed by LF.
			 */
			if (c == '\r') {
				p->cr = true;
				return;
			}
			if (++p->m.empty_lines > NM_HTTP_EMPTY_LINES_MAX)
				bad_start(p, NM_HTTP_REFUSAL_BAD_START_LINE);
			return;
		}
		p->state = S_LINE;
		p->msg_start = p->pos;
	}

	if (p->m.head_len == p->head_cap) {
		if (p->state == S_LINE)
			bad_start(p, NM_HTTP_REFUSAL_HEAD_TOO_LONG);
		else
			refuse(p, NM_HTTP_REFUSAL_HEAD_TOO_LONG);
		return;
	}
	p->head[p->m.head_len++] = c;

	if (c == '\r') {
		p->cr = true;
		return;
	}
	if (c == '\n') {
		head_line_end(p, cb, ctx);
		return;
	}
	/* The direction's first line is judged early: a binary protocol need not fill the buffer.
	 */
	if (p->state == S_LINE && p->messages == 0 && c != '\t' && (c < 0x20 || c == 0x7f))
		bad_start(p, NM_HTTP_REFUSAL_BAD_START_LINE);
}

/* One byte of a chunk-size line: 1*HEXDIG [ ";" chunk-ext ] CRLF (RFC 9112 §7.1). */
static void
chunk_size_byte(struct nm_http_parser *p, uint8_t c)
{
	int v = nm_http_hex_digit(c);

	if (++p->m.chunk_line > NM_HTTP_CHUNK_LINE_MAX)
		goto bad;
	if (c == '\r') {
		p->cr = true;
		return;
	}
	if (c == '\n') {
		if (!p->m.chunk_digits)
			goto bad;
		p->m.chunk_line = 0;
		p->m.chunk_digits = false;
		p->m.chunk_ext = false;
		p->state = p->m.body_left == 0 ? S_TRAILER : S_CHUNK_DATA;
		return;
	}
	if (p->m.chunk_ext) {
		if (!is_field_byte(c))
			goto bad;
		return;
	}
	if (c == ';' && p->m.chunk_digits) {
		p->m.chunk_ext = true;
		return;
	}
	/* 15 hex digits: a size below 2^60, so the sum below never wraps. */
	if (v < 0 || p->m.chunk_line > 15)
		goto bad;
	p->m.chunk_digits = true;
	p->m.body_left = p->m.body_left * 16 + (uint64_t)v;
	return;
bad:
	refuse(p, NM_HTTP_REFUSAL_BAD_CHUNK_SIZE);
}

/* One byte of a trailer line; an empty line ends the message. */
static void
trailer_byte(struct nm_http_parser *p, uint8_t c, const struct nm_http_cb *cb, void *ctx)
{
	if (++p->m.trailer_bytes > p->head_cap) {
		refuse(p, NM_HTTP_REFUSAL_HEAD_TOO_LONG);
		return;
	}
	if (c == '\r') {
		p->cr = true;
		return;
	}
	if (c == '\n') {
		if (p->m.chunk_line == 0) {
			message_end(p, cb, ctx);
			return;
		}
		p->m.chunk_line = 0;
		if (++p->m.n_headers > p->header_count_max)
			refuse(p, NM_HTTP_REFUSAL_TOO_MANY_HEADERS);
		return;
	}
	if (p->m.chunk_line++ == 0 && (c == ' ' || c == '\t')) {
		refuse(p, NM_HTTP_REFUSAL_OBS_FOLD);
		return;
	}
	if (!is_field_byte(c))
		refuse(p, NM_HTTP_REFUSAL_BAD_HEADER);
}

static void
step(struct nm_http_parser *p, uint8_t c, const struct nm_http_cb *cb, void *ctx)
{
	if (p->cr) {
		/* A CR is a line's end only with its LF; alone it is refused. */
		p->cr = false;
		if (c != '\n') {
			if (p->state == S_CHUNK_END)
				refuse(p, NM_HTTP_REFUSAL_BAD_CHUNK_END);
			else if (p->state == S_LINE)
				bad_start(p, NM_HTTP_REFUSAL_BARE_CR);
			else
				refuse(p, NM_HTTP_REFUSAL_BARE_CR);
			return;
		}
	}

	switch (p->state) {
	case S_START:
	case S_LINE:
	case S_HEADER:
		head_byte(p, c, cb, ctx);
		break;
	case S_CHUNK_SIZE:
		chunk_size_byte(p, c);
		break;
	case S_CHUNK_END:
		if (c == '\r')
			p->cr = true;
		else if (c == '\n')
			p->state = S_CHUNK_SIZE;
		else
			refuse(p, NM_HTTP_REFUSAL_BAD_CHUNK_END);
		break;
	case S_TRAILER:
		trailer_byte(p, c, cb, ctx);
		break;
	default:
		break;
	}
}

/* Body bytes of the current message at data (len of them); returns how many it took. */
static size_t
body_bytes(struct nm_http_parser *p, const uint8_t *data, size_t len, const struct nm_http_cb *cb,
	   void *ctx)
{
	size_t take = len;

	if (p->state != S_BODY_CLOSE && p->m.body_left < take)
		take = (size_t)p->m.body_left;
	if (take > 0 && cb != NULL && cb->body != NULL)
		cb->body(ctx, data, (uint32_t)take);
	if (p->state == S_BODY_CLOSE)
		return take;

	p->m.body_left -= take;
	if (p->m.body_left == 0) {
		if (p->state == S_BODY_LEN)
			message_end(p, cb, ctx);
		else
			p->state = S_CHUNK_END;
	}
	return take;
}

enum nm_http_verdict
nm_http_parse(struct nm_http_parser *p, const uint8_t *data, size_t len,
	      const struct nm_http_cb *cb, void *ctx)
{
	size_t i = 0;

	while (i < len && p->verdict == NM_HTTP_MORE) {
		if (p->state == S_BODY_LEN || p->state == S_CHUNK_DATA ||
		    p->state == S_BODY_CLOSE) {
			size_t left = len - i;
			/* body_bytes passes at most 4 GiB - 1 a call. */
			if (left > UINT32_MAX)
				left = UINT32_MAX;
			size_t took = body_bytes(p, data + i, left, cb, ctx);
			i += took;
			p->pos += took;
			continue;
		}
		step(p, data[i++], cb, ctx);
		p->pos++;
	}
	return (enum nm_http_verdict)p->verdict;
}

void
nm_http_response_expect(struct nm_http_parser *resp, const struct nm_http_head *request)
{
	uint64_t bit;

	if (resp->n_pending >= NM_HTTP_PENDING_MAX)
		return;
	bit = (uint64_t)1 << resp->n_pending;
	if (span_is(request->buf, request->method, "head"))
		resp->pending |= bit;
	if (span_is(request->buf, request->method, "connect"))
		resp->pending_connect |= bit;
	resp->n_pending++;
}

int
nm_http_head_next(const struct nm_http_head *h, uint32_t *pos, struct nm_http_span *name,
		  struct nm_http_span *value)
{
	const uint8_t *s = h->buf;
	uint32_t i = *pos, end, colon;

	end = i;
	while (end < h->len && s[end] != '\n')
		end++;
	if (end >= h->len)
		return 0;
	*pos = end + 1;
	if (end > i && s[end - 1] == '\r')
		end--;
	if (end == i)
		return 0; /* the empty line that ends the head */

	/* The parser checked the line: a token, ':', a value. */
	colon = i;
	while (s[colon] != ':')
		colon++;
	*name = (struct nm_http_span){i, colon - i};
	i = colon + 1;
	while (i < end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	*value = (struct nm_http_span){i, end - i};
	return 1;
}
