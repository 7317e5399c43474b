/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suricata's HTTP buffers of one message head, built when the parser
 * completes it and scanned at once (sig_scan.c, one block database per
 * buffer). What each holds, as Suricata 7 fills it:
 *
 *   http.method      the method token
 *   http.uri         the target normalized (http_uri.c)
 *   http.uri.raw     the target as sent
 *   http.host        the Host header's value lowercased, its :port removed
 *   http.header      every header but Cookie (Set-Cookie in a response) as
 *                    "Name: value\r\n", value trimmed, in the order sent,
 *                    no empty line at the end
 *   http.user_agent  the User-Agent header's value
 *   http.cookie      the Cookie (response: Set-Cookie) header's value
 *   http.stat_code   a response's three status digits
 *   http.header_names  "\r\n", each header's name and "\r\n", then "\r\n"
 *   http.request_line, http.response_line  the start line without its CRLF
 *   http.protocol    its "HTTP/1.x"; http.stat_msg  a response's reason
 *   http.content_type, http.content_len (both directions), http.referer,
 *   http.accept, http.accept_enc, http.accept_lang (requests),
 *   http.location, http.server (responses)  that header's value
 *   http.start       the start line, CRLF, every header (Cookie too) as
 *                    "Name: value\r\n", and CRLF after the last header
 *                    (none when there are no headers)
 *
 * Where it knowingly differs: libhtp joins a repeated header's values with
 * ", " in one entry; here http.header lists each as sent and the single
 * value buffers take the first. http.host comes from the Host header even
 * when an absolute-form target names another host (libhtp prefers the
 * target's). Nothing is allocated: the buffers are built in the caller's
 * space.
 */
#include <string.h>

#include "http.h"
#include "inspect_http.h"

static bool
name_is(const struct nm_http_head *h, struct nm_http_span s, const char *lower)
{
	size_t n = strlen(lower);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = h->buf[s.off + i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (uint8_t)lower[i])
			return false;
	}
	return true;
}

/* The Host value lowercased, without ":port" (an IPv6 literal keeps its brackets). */
static uint32_t
host_of(const struct nm_http_head *h, struct nm_http_span v, uint8_t *out)
{
	const uint8_t *s = h->buf + v.off;
	uint32_t n = v.len, i = n;

	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i > 0 && s[i - 1] == ':' && (s[0] != '[' || (i >= 2 && s[i - 2] == ']')))
		n = i - 1;
	for (i = 0; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (uint8_t)(s[i] + 'a' - 'A') : s[i];
	return n;
}

static void
set(struct nm_sig_http_bufs *out, unsigned int b, const uint8_t *data, uint32_t len)
{
	out->data[b] = data;
	out->len[b] = len;
}

/* The start line's length without its line end. */
static uint32_t
start_line_len(const struct nm_http_head *h)
{
	uint32_t n = h->headers_off - 1; /* the LF */

	if (n > 0 && h->buf[n - 1] == '\r')
		n--;
	return n;
}

/* "Name: value\r\n" at out; returns its length. */
static uint32_t
header_line(const struct nm_http_head *h, struct nm_http_span name, struct nm_http_span value,
	    uint8_t *out)
{
	uint32_t n = 0;

	memcpy(out, h->buf + name.off, name.len);
	n += name.len;
	out[n++] = ':';
	out[n++] = ' ';
	memcpy(out + n, h->buf + value.off, value.len);
	n += value.len;
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

/*
 * http.start as Suricata 7's detect-http-start.c builds it from libhtp's
 * line and header table: the line, CRLF, each header line, and CRLF only
 * after a last header.
 */
static void
start_buffer(const struct nm_http_head *h, uint8_t *start, struct nm_sig_http_bufs *out)
{
	uint32_t n = start_line_len(h), pos = h->headers_off;
	struct nm_http_span name, value;
	bool any = false;

	memcpy(start, h->buf, n);
	start[n++] = '\r';
	start[n++] = '\n';
	while (nm_http_head_next(h, &pos, &name, &value) == 1) {
		n += header_line(h, name, value, start + n);
		any = true;
	}
	if (any) {
		start[n++] = '\r';
		start[n++] = '\n';
	}
	set(out, NM_SIG_BUF_HTTP_START, start, n);
}

/* The start line's buffers: the line itself, its protocol, a response's reason. */
static void
start_line_buffers(const struct nm_http_head *h, struct nm_sig_http_bufs *out)
{
	uint32_t n = start_line_len(h);
	bool request = h->method.len > 0;

	set(out, request ? NM_SIG_BUF_HTTP_REQUEST_LINE : NM_SIG_BUF_HTTP_RESPONSE_LINE, h->buf, n);
	/* The parser checked the shapes: "METHOD SP target SP HTTP/1.x", "HTTP/1.x SP NNN ...". */
	if (request) {
		set(out, NM_SIG_BUF_HTTP_PROTOCOL, h->buf + n - 8, 8);
		return;
	}
	set(out, NM_SIG_BUF_HTTP_PROTOCOL, h->buf, 8);
	if (n > 13)
		set(out, NM_SIG_BUF_HTTP_STAT_MSG, h->buf + 13, n - 13);
}

/* Headers whose value is a buffer of its own, by direction (first occurrence). */
static const struct {
	const char *name; /* lower case */
	unsigned int buffer;
	uint8_t dirs; /* bit 0: requests, bit 1: responses */
} value_buffers[] = {
    {"content-type", NM_SIG_BUF_HTTP_CONTENT_TYPE, 3},
    {"content-length", NM_SIG_BUF_HTTP_CONTENT_LEN, 3},
    {"referer", NM_SIG_BUF_HTTP_REFERER, 1},
    {"accept", NM_SIG_BUF_HTTP_ACCEPT, 1},
    {"accept-encoding", NM_SIG_BUF_HTTP_ACCEPT_ENC, 1},
    {"accept-language", NM_SIG_BUF_HTTP_ACCEPT_LANG, 1},
    {"location", NM_SIG_BUF_HTTP_LOCATION, 2},
    {"server", NM_SIG_BUF_HTTP_SERVER, 2},
};

/* http.header_names into names, and the single-header buffers. */
static void
header_buffers(const struct nm_http_head *h, uint8_t *names, struct nm_sig_http_bufs *out)
{
	uint8_t dir = h->method.len > 0 ? 1 : 2;
	struct nm_http_span name, value;
	uint32_t pos = h->headers_off, n = 0;

	names[n++] = '\r';
	names[n++] = '\n';
	while (nm_http_head_next(h, &pos, &name, &value) == 1) {
		memcpy(names + n, h->buf + name.off, name.len);
		n += name.len;
		names[n++] = '\r';
		names[n++] = '\n';
		for (size_t k = 0; k < sizeof(value_buffers) / sizeof(value_buffers[0]); k++)
			if ((value_buffers[k].dirs & dir) &&
			    out->len[value_buffers[k].buffer] == 0 &&
			    name_is(h, name, value_buffers[k].name))
				set(out, value_buffers[k].buffer, h->buf + value.off, value.len);
	}
	names[n++] = '\r';
	names[n++] = '\n';
	set(out, NM_SIG_BUF_HTTP_HEADER_NAMES, names, n);
}

void
nm_inspect_http_buffers(const struct nm_http_head *h, uint8_t *space, struct nm_sig_http_bufs *out)
{
	uint8_t *uri = space, *host = space + NM_INSPECT_HTTP_HEAD_MAX;
	uint8_t *hdr = host + NM_INSPECT_HTTP_HEAD_MAX;
	bool request = h->method.len > 0, have_host = false, have_ua = false, have_cookie = false;
	const char *cookie = request ? "cookie" : "set-cookie";
	struct nm_http_span name, value;
	uint32_t pos = h->headers_off, n_hdr = 0;

	memset(out, 0, sizeof(*out));
	if (request) {
		set(out, NM_SIG_BUF_HTTP_METHOD, h->buf + h->method.off, h->method.len);
		set(out, NM_SIG_BUF_HTTP_URI_RAW, h->buf + h->target.off, h->target.len);
		set(out, NM_SIG_BUF_HTTP_URI, uri,
		    nm_http_uri_normalize(h->buf + h->target.off, h->target.len, uri));
	} else {
		/* "HTTP/1.x NNN": the parser checked the digits. */
		set(out, NM_SIG_BUF_HTTP_STAT_CODE, h->buf + 9, 3);
	}

	while (nm_http_head_next(h, &pos, &name, &value) == 1) {
		if (name_is(h, name, cookie)) {
			if (!have_cookie)
				set(out, NM_SIG_BUF_HTTP_COOKIE, h->buf + value.off, value.len);
			have_cookie = true;
			continue;
		}
		if (request && !have_host && name_is(h, name, "host")) {
			set(out, NM_SIG_BUF_HTTP_HOST, host, host_of(h, value, host));
			have_host = true;
		}
		if (request && !have_ua && name_is(h, name, "user-agent")) {
			set(out, NM_SIG_BUF_HTTP_USER_AGENT, h->buf + value.off, value.len);
			have_ua = true;
		}
		n_hdr += header_line(h, name, value, hdr + n_hdr);
	}
	set(out, NM_SIG_BUF_HTTP_HEADER, hdr, n_hdr);
	start_line_buffers(h, out);
	header_buffers(h, space + NM_INSPECT_HTTP_NAMES_OFF, out);
	start_buffer(h, space + NM_INSPECT_HTTP_START_OFF, out);
}

/* Whether the set has rules on this direction's body (ctrl/sigdb.c's late databases). */
static bool
wants_body(const struct nm_inspect_http *ih)
{
	unsigned int b = ih->parser->dir == NM_HTTP_REQUEST ? NM_SIG_BUF_HTTP_REQUEST_BODY
							    : NM_SIG_BUF_HTTP_RESPONSE_BODY;

	return ih->db->http_late[b] != NULL;
}

/*
 * A response's Content-Encoding. Requests are inspected as sent: libhtp
 * decodes only responses by Suricata's defaults.
 */
static enum nm_http_coding
coding_of(const struct nm_http_head *h)
{
	struct nm_http_span name, value;
	uint32_t pos = h->headers_off;

	if (h->method.len > 0)
		return NM_HTTP_CODING_NONE;
	while (nm_http_head_next(h, &pos, &name, &value) == 1)
		if (name_is(h, name, "content-encoding"))
			return nm_http_coding_of(h->buf + value.off, value.len);
	return NM_HTTP_CODING_NONE;
}

/* Copy at most cap bytes of a span into out; the flag marks a cut. */
static uint16_t
copy_cut(const struct nm_http_head *h, struct nm_http_span v, char *out, uint32_t cap, uint8_t flag,
	 uint8_t *truncated)
{
	uint32_t n = v.len;

	if (n > cap) {
		n = cap;
		*truncated |= flag;
	}
	memcpy(out, h->buf + v.off, n);
	return (uint16_t)n;
}

void
nm_http_fields_fill(const struct nm_http_head *h, struct nm_http_fields *out)
{
	struct nm_http_span name, value;
	uint32_t pos = h->headers_off;
	bool have_host = false, have_ua = false;
	uint8_t ignored = 0;

	out->truncated = 0;
	out->method_len = out->host_len = out->uri_len = out->ua_len = 0;
	out->status = h->method.len > 0 ? 0 : h->status;
	if (h->method.len == 0)
		return;
	/* The parser bounds a method at NM_HTTP_METHOD_MAX: it always fits. */
	out->method_len =
	    (uint8_t)copy_cut(h, h->method, out->method, NM_HTTP_LOG_METHOD_LEN, 0, &ignored);
	out->uri_len = copy_cut(h, h->target, out->uri, NM_HTTP_LOG_URI_LEN, NM_HTTP_TRUNC_URI,
				&out->truncated);
	while ((!have_host || !have_ua) && nm_http_head_next(h, &pos, &name, &value) == 1) {
		if (!have_host && name_is(h, name, "host")) {
			out->host_len = copy_cut(h, value, out->host, NM_HTTP_LOG_HOST_LEN,
						 NM_HTTP_TRUNC_HOST, &out->truncated);
			have_host = true;
		} else if (!have_ua && name_is(h, name, "user-agent")) {
			out->ua_len = copy_cut(h, value, out->ua, NM_HTTP_LOG_UA_LEN,
					       NM_HTTP_TRUNC_UA, &out->truncated);
			have_ua = true;
		}
	}
}

static void
on_head(void *arg, const struct nm_http_head *h)
{
	struct nm_inspect_http *ih = arg;
	uint8_t space[NM_INSPECT_HTTP_SPACE];
	struct nm_sig_http_bufs bufs;

	if (ih->rc != 0)
		return;
	nm_inspect_http_buffers(h, space, &bufs);
	ih->heads++;
	ih->rc = nm_sigdb_scan_http(ih->db, ih->scratch, &bufs, ih->fn, ih->ctx);
	if (ih->log != NULL)
		ih->log->head(ih->log->ctx, h);
	if (wants_body(ih)) {
		/* The head stays in the parser's buffer until the message ends. */
		ih->parser->m.kept_head = *h;
		ih->parser->m.body_coding = (uint8_t)coding_of(h);
	}
}

/*
 * Body bytes (chunked framing removed) are kept after the head in the
 * head buffer, as many as the stream's chunk has room for.
 */
static void
on_body(void *arg, const uint8_t *data, uint32_t len)
{
	struct nm_inspect_http *ih = arg;
	struct nm_http_parser *p = ih->parser;
	uint32_t used, room;

	if (ih->log != NULL)
		ih->log->body(ih->log->ctx, len);
	if (p->m.kept_head.len == 0)
		return; /* no rule looks at this direction's bodies */
	p->m.body_seen += len;
	used = p->m.kept_head.len + p->m.body_kept;
	room = p->buf_size > used ? p->buf_size - used : 0;
	if (len > room)
		len = room;
	memcpy(p->head + used, data, len);
	p->m.body_kept += len;
}

/* The body as the rules see it: decoded when its Content-Encoding says so. */
static void
body_buffer(struct nm_inspect_http *ih, struct nm_sig_http_bufs *bufs, unsigned int b)
{
	struct nm_http_parser *p = ih->parser;
	const uint8_t *body = p->head + p->m.kept_head.len;
	enum nm_http_coding coding = (enum nm_http_coding)p->m.body_coding;
	const uint8_t *out;
	uint32_t out_len;

	bufs->data[b] = body;
	bufs->len[b] = p->m.body_kept;
	if (coding == NM_HTTP_CODING_NONE || ih->inflater == NULL)
		return;
	switch (nm_http_inflate(ih->inflater, coding, body, p->m.body_kept, &out, &out_len)) {
	case NM_HTTP_INFLATE_CUT:
		ih->inflate_cut++;
		break;
	case NM_HTTP_INFLATE_ERROR:
		ih->inflate_errors++;
		break;
	default:
		break;
	}
	bufs->data[b] = out;
	bufs->len[b] = out_len;
}

/*
 * A message ended: the rules with a body buffer are scanned once, over
 * the head's buffers built again and the body kept. A message without a
 * body is not scanned: those rules need a body to match, as in Suricata,
 * which does not inspect an absent buffer.
 */
static void
on_end(void *arg)
{
	struct nm_inspect_http *ih = arg;
	struct nm_http_parser *p = ih->parser;
	uint8_t space[NM_INSPECT_HTTP_SPACE];
	struct nm_sig_http_bufs bufs;
	unsigned int b = p->dir == NM_HTTP_REQUEST ? NM_SIG_BUF_HTTP_REQUEST_BODY
						   : NM_SIG_BUF_HTTP_RESPONSE_BODY;

	if (ih->log != NULL)
		ih->log->end(ih->log->ctx);
	if (ih->rc != 0 || p->m.kept_head.len == 0 || p->m.body_kept == 0)
		return;
	nm_inspect_http_buffers(&p->m.kept_head, space, &bufs);
	body_buffer(ih, &bufs, b);
	ih->bodies++;
	if (p->m.body_seen > p->m.body_kept)
		ih->bodies_cut++;
	ih->rc = nm_sigdb_scan_http_late(ih->db, ih->scratch, &bufs, ih->fn, ih->ctx);
}

enum nm_http_verdict
nm_inspect_http_feed(struct nm_http_parser *p, const uint8_t *data, uint32_t len,
		     struct nm_inspect_http *ih)
{
	static const struct nm_http_cb cb = {on_head, on_body, on_end};

	ih->parser = p;
	return nm_http_parse(p, data, len, &cb, ih);
}

void
nm_inspect_http_finish(struct nm_http_parser *p, struct nm_inspect_http *ih)
{
	/* Only a body that lasts until the connection closes is still open here. */
	ih->parser = p;
	if (p->verdict == NM_HTTP_MORE && p->m.kept_head.len > 0)
		on_end(ih);
}
