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
		memcpy(hdr + n_hdr, h->buf + name.off, name.len);
		n_hdr += name.len;
		hdr[n_hdr++] = ':';
		hdr[n_hdr++] = ' ';
		memcpy(hdr + n_hdr, h->buf + value.off, value.len);
		n_hdr += value.len;
		hdr[n_hdr++] = '\r';
		hdr[n_hdr++] = '\n';
	}
	set(out, NM_SIG_BUF_HTTP_HEADER, hdr, n_hdr);
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
}

static void
on_body(void *arg, const uint8_t *data, uint32_t len)
{
	struct nm_inspect_http *ih = arg;

	(void)data;
	if (ih->log != NULL)
		ih->log->body(ih->log->ctx, len);
}

static void
on_end(void *arg)
{
	struct nm_inspect_http *ih = arg;

	if (ih->log != NULL)
		ih->log->end(ih->log->ctx);
}

enum nm_http_verdict
nm_inspect_http_feed(struct nm_http_parser *p, const uint8_t *data, uint32_t len,
		     struct nm_inspect_http *ih)
{
	static const struct nm_http_cb cb = {on_head, on_body, on_end};

	return nm_http_parse(p, data, len, &cb, ih);
}
