/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A request against a policy rule's HTTP clause (nodemesh/policy-t.h).
 * Each item given must match; what is compared:
 *
 *   method  the request's method token, case-sensitive (RFC 9110 §9.1),
 *           one of the listed;
 *   path    the request-target's path normalized as for http.uri
 *           (http_uri.c: percent-decoded, '\' to '/', runs of '/' and dot
 *           segments removed), the query cut off, case-sensitive; exact,
 *           or a prefix when the rule's path ended in '*';
 *   host    the Host header lowercased, without ":port"; a request with
 *           no Host header matches no host item;
 *   header  some header of that name (any case) whose value, optional
 *           whitespace trimmed, equals the item's exactly.
 *
 * No allocation, no DPDK: the worker calls it per request.
 */
#include <string.h>
#include <netinet/in.h>

#include "http.h"
#include "policy_eval.h"

static bool
method_match(const struct nm_rule_http *c, const struct nm_policy_request *rq)
{
	if (c->n_methods == 0)
		return true;
	for (uint8_t i = 0; i < c->n_methods; i++)
		if (strlen(c->methods[i]) == rq->method_len &&
		    memcmp(c->methods[i], rq->method, rq->method_len) == 0)
			return true;
	return false;
}

static bool
path_match(const struct nm_rule_http *c, const struct nm_policy_request *rq)
{
	size_t n = strlen(c->path);

	if (n == 0)
		return true;
	if (c->path_prefix)
		return rq->path_len >= n && memcmp(c->path, rq->path, n) == 0;
	return rq->path_len == n && memcmp(c->path, rq->path, n) == 0;
}

static bool
name_is(const uint8_t *s, uint32_t len, const char *lower)
{
	if (strlen(lower) != len)
		return false;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (ch != (uint8_t)lower[i])
			return false;
	}
	return true;
}

static bool
header_present(const struct nm_policy_request *rq, const char *name, const char *value)
{
	const struct nm_http_head *h = rq->head;
	size_t vlen = strlen(value);
	struct nm_http_span n, v;
	uint32_t pos = h->headers_off;

	while (nm_http_head_next(h, &pos, &n, &v) == 1)
		if (name_is(h->buf + n.off, n.len, name) && v.len == vlen &&
		    memcmp(h->buf + v.off, value, vlen) == 0)
			return true;
	return false;
}

/* The path of a normalized target: up to its '?' (http_uri.c keeps the query after one). */
static uint32_t
path_len(const uint8_t *uri, uint32_t len)
{
	const uint8_t *q = memchr(uri, '?', len);
	const uint8_t *hash = memchr(uri, '#', len);

	if (q != NULL && (hash == NULL || q < hash))
		return (uint32_t)(q - uri);
	return hash != NULL ? (uint32_t)(hash - uri) : len;
}

/*
 * The Host value lowercased without ":port" into out (NM_HTTP_RULE_HOST_LEN
 * bytes; a longer one is cut, its length kept, so it matches no rule's);
 * NULL when absent.
 */
static const uint8_t *
host_of(const struct nm_http_head *h, uint8_t *out, uint32_t *len)
{
	struct nm_http_span name, v;
	uint32_t pos = h->headers_off;

	while (nm_http_head_next(h, &pos, &name, &v) == 1) {
		const uint8_t *n = h->buf + name.off;
		if (name.len != 4 || (n[0] | 0x20) != 'h' || (n[1] | 0x20) != 'o' ||
		    (n[2] | 0x20) != 's' || (n[3] | 0x20) != 't')
			continue;
		const uint8_t *s = h->buf + v.off;
		uint32_t end = v.len, i = v.len;
		while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
			i--;
		if (i > 0 && s[i - 1] == ':' && s[0] != '[')
			end = i - 1;
		for (i = 0; i < end && i < NM_HTTP_RULE_HOST_LEN; i++)
			out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (uint8_t)(s[i] + 'a' - 'A') : s[i];
		*len = end;
		return out;
	}
	return NULL;
}

void
nm_policy_request_of(const struct nm_http_head *h, uint8_t *uri, uint8_t *host,
		     struct nm_policy_request *rq)
{
	rq->head = h;
	rq->method = h->buf + h->method.off;
	rq->method_len = h->method.len;
	uint32_t uri_len = nm_http_uri_normalize(h->buf + h->target.off, h->target.len, uri);
	rq->path = uri;
	rq->path_len = path_len(uri, uri_len);
	rq->host = host_of(h, host, &rq->host_len);
}

bool
nm_policy_http_match(const struct nm_rule_http *c, const struct nm_policy_request *rq)
{
	if (!method_match(c, rq) || !path_match(c, rq))
		return false;
	if (c->host[0] != '\0' && (rq->host == NULL || strlen(c->host) != rq->host_len ||
				   memcmp(c->host, rq->host, rq->host_len) != 0))
		return false;
	for (uint8_t i = 0; i < c->n_headers; i++)
		if (!header_present(rq, c->headers[i].name, c->headers[i].value))
			return false;
	return true;
}

int
nm_policy_head_eval(const struct nm_policy *p, uint32_t src_id, uint32_t dst_id, uint16_t dport,
		    const struct nm_http_head *h)
{
	uint8_t uri[NM_HTTP_HEAD_BYTES_DEFAULT], host[NM_HTTP_RULE_HOST_LEN];
	struct nm_policy_request rq;

	/* A head is at most NM_HTTP_HEAD_BYTES_DEFAULT: the parser's bound on workers. */
	nm_policy_request_of(h, uri, host, &rq);
	return nm_policy_request_eval(p, src_id, dst_id, IPPROTO_TCP, dport, &rq);
}
