/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suricata's HTTP buffers in rules: the sticky buffer keywords
 * (http.uri; content:"x") and the legacy content modifiers (content:"x";
 * http_uri), and the checks an http rule needs as a whole. What the
 * buffers hold is built on the workers (dataplane/inspect_http.c); a rule
 * nodemesh cannot give Suricata's meaning is refused here with the reason.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "sigrule_priv.h"

static const struct {
	const char *sticky;
	const char *legacy;
} buffers[NM_SIG_BUF_MAX] = {
#define NM_SIG_BUFFER_NAMES(sym, s, l) [NM_SIG_BUF_##sym] = {s, l},
    NM_SIG_BUFFERS(NM_SIG_BUFFER_NAMES)
#undef NM_SIG_BUFFER_NAMES
};

/* Keywords of HTTP buffers nodemesh does not build yet: refused by name, not as unknown. */
static const char *const not_yet[] = {
    "http.header.raw", "http_raw_header", "http.host.raw",
    "http_raw_host",   "http.connection", "http.cookie.raw",
};

/* Buffers only a request has. */
static bool
request_only(uint8_t b)
{
	return b == NM_SIG_BUF_HTTP_METHOD || b == NM_SIG_BUF_HTTP_URI ||
	       b == NM_SIG_BUF_HTTP_URI_RAW || b == NM_SIG_BUF_HTTP_HOST ||
	       b == NM_SIG_BUF_HTTP_USER_AGENT || b == NM_SIG_BUF_HTTP_REQUEST_BODY ||
	       b == NM_SIG_BUF_HTTP_REQUEST_LINE || b == NM_SIG_BUF_HTTP_REFERER ||
	       b == NM_SIG_BUF_HTTP_ACCEPT || b == NM_SIG_BUF_HTTP_ACCEPT_ENC ||
	       b == NM_SIG_BUF_HTTP_ACCEPT_LANG;
}

/* Buffers only a response has. */
static bool
response_only(uint8_t b)
{
	return b == NM_SIG_BUF_HTTP_STAT_CODE || b == NM_SIG_BUF_HTTP_RESPONSE_BODY ||
	       b == NM_SIG_BUF_HTTP_RESPONSE_LINE || b == NM_SIG_BUF_HTTP_STAT_MSG ||
	       b == NM_SIG_BUF_HTTP_LOCATION || b == NM_SIG_BUF_HTTP_SERVER;
}

static const char *
buffer_name(uint8_t b)
{
	return b < NM_SIG_BUF_MAX && buffers[b].sticky ? buffers[b].sticky : "the payload";
}

static int
legacy_modifier(struct nm_sig_rule *rule, uint8_t b, struct sig_ctx *c)
{
	struct nm_sig_pattern *pat;

	if (rule->n_patterns == 0 || rule->patterns[rule->n_patterns - 1].kind != NM_SIG_CONTENT)
		return sig_fail(c, "%s: no content before it to modify", buffers[b].legacy);
	pat = &rule->patterns[rule->n_patterns - 1];
	if (pat->buffer != NM_SIG_BUF_STREAM)
		return sig_fail(c, "%s: the content before it is already in %s", buffers[b].legacy,
				buffer_name(pat->buffer));
	pat->buffer = b;
	return 1;
}

int
sig_opt_buffer(struct nm_sig_rule *rule, const struct sig_option *o, struct sig_ctx *c)
{
	for (unsigned int b = NM_SIG_BUF_STREAM + 1; b < NM_SIG_BUF_MAX; b++) {
		bool sticky = sig_key_is(o, buffers[b].sticky);

		if (!sticky && (buffers[b].legacy == NULL || !sig_key_is(o, buffers[b].legacy)))
			continue;
		if (o->val != NULL)
			return sig_fail(c, "%s: takes no value",
					sticky ? buffers[b].sticky : buffers[b].legacy);
		if (!sticky)
			return legacy_modifier(rule, (uint8_t)b, c);
		c->buffer = (uint8_t)b;
		return 1;
	}
	/*
	 * file.data (file_data, the older name) on HTTP is the response body
	 * as Suricata 6 reads it: the files of a response. Suricata 7 also
	 * counts uploads of a request, which nodemesh does not cut out of
	 * multipart bodies: sig_http_done refuses file.data with to_server.
	 */
	if (sig_key_is(o, "file.data") || sig_key_is(o, "file_data")) {
		if (o->val != NULL)
			return sig_fail(c, "file.data: takes no value");
		c->buffer = NM_SIG_BUF_HTTP_RESPONSE_BODY;
		c->file_data = true;
		return 1;
	}
	/* http_start is Suricata's other name of the sticky buffer, not a content modifier. */
	if (sig_key_is(o, "http_start")) {
		if (o->val != NULL)
			return sig_fail(c, "http_start: takes no value");
		c->buffer = NM_SIG_BUF_HTTP_START;
		return 1;
	}
	/* Suricata's way back to the packet's payload after a sticky buffer. */
	if (sig_key_is(o, "pkt_data")) {
		if (o->val != NULL)
			return sig_fail(c, "pkt_data: takes no value");
		c->buffer = NM_SIG_BUF_STREAM;
		return 1;
	}
	for (size_t i = 0; i < sizeof(not_yet) / sizeof(not_yet[0]); i++)
		if (sig_key_is(o, not_yet[i]))
			return sig_fail(c, "%s: nodemesh does not build this HTTP buffer yet",
					not_yet[i]);
	return 0;
}

/* Suricata refuses these too: http.host holds the host lowercased. */
static int
host_is_lowercase(const struct nm_sig_rule *rule, struct sig_ctx *c)
{
	for (unsigned int i = 0; i < rule->n_patterns; i++) {
		const struct nm_sig_pattern *p = &rule->patterns[i];

		if (p->buffer != NM_SIG_BUF_HTTP_HOST || p->kind != NM_SIG_CONTENT || p->nocase)
			continue;
		for (unsigned int k = 0; k < p->len; k++)
			if (isupper(p->data[k]))
				return sig_fail(c,
						"http.host content \"%.64s\" has upper case: the "
						"buffer is lowercased, it can never match",
						(const char *)p->data);
	}
	return 0;
}

int
sig_http_done(struct nm_sig_rule *rule, struct sig_ctx *c)
{
	bool any_http = false, any_stream = false, request = false, response = false;
	int rc;

	for (unsigned int i = 0; i < rule->n_patterns; i++) {
		uint8_t b = rule->patterns[i].buffer;

		any_http |= b != NM_SIG_BUF_STREAM;
		any_stream |= b == NM_SIG_BUF_STREAM;
		request |= request_only(b);
		response |= response_only(b);
	}
	/* A bsize (urilen) is a match in its buffer of its own. */
	for (unsigned int b = NM_SIG_BUF_STREAM + 1; b < NM_SIG_BUF_MAX; b++) {
		if (rule->bsize_min[b] == 0)
			continue;
		any_http = true;
		request |= request_only((uint8_t)b);
		response |= response_only((uint8_t)b);
	}
	if (!any_http) {
		if (rule->proto == NM_SIG_PROTO_HTTP)
			return sig_fail(c, "an http rule needs its patterns in HTTP buffers "
					   "(http.uri, ...): nodemesh does not scan the raw stream "
					   "of http rules");
		return 0;
	}
	if (rule->proto != NM_SIG_PROTO_HTTP && rule->proto != NM_SIG_PROTO_TCP)
		return sig_fail(c, "HTTP buffers need protocol http or tcp");
	if (any_stream)
		return sig_fail(c,
				"patterns in the payload and in HTTP buffers in one rule are not "
				"supported");
	if (c->file_data && (rule->flow & NM_SIG_FLOW_TO_SERVER))
		return sig_fail(c, "file.data with flow:to_server (files uploaded in a request) "
				   "is not supported: nodemesh's file.data is the response body");
	if (request && response)
		return sig_fail(c, "request buffers and response buffers (http.stat_code, "
				   "http.response_body, file.data) in one rule are not "
				   "supported (nodemesh matches one message at a time)");
	if ((request && (rule->flow & NM_SIG_FLOW_TO_CLIENT)) ||
	    (response && (rule->flow & NM_SIG_FLOW_TO_SERVER)))
		return sig_fail(c, "%s with flow:%s matches nothing",
				request ? "request buffers" : "response buffers",
				request ? "to_client" : "to_server");
	if (rule->dsize_min >= 0)
		return sig_fail(c, "dsize on an http rule is not supported (it counts a packet's "
				   "payload, not a buffer)");
	/* Relative matches chain within their buffer (sigmod.c's sig_previous_match). */
	rc = host_is_lowercase(rule, c);
	if (rc == 0)
		rule->proto = NM_SIG_PROTO_HTTP;
	return rc;
}
