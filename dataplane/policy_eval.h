/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy evaluation on the workers: a first-match walk over the compiled
 * rules (nodemesh/policy_table-t.h), testing two bits, a protocol and a
 * port. The control thread compiles the rules (ctrl/policy_compile.c).
 *
 * Rules with an HTTP clause are judged twice. When a connection begins
 * (nm_policy_eval) a deny with a clause is skipped and an allow with one
 * matches, so the connection gets through if some request on it could be
 * allowed. Then every request on it is judged by nm_policy_request_eval:
 * the same walk, deny rules first, with the clauses tested against the
 * request.
 */
#ifndef NM_POLICY_EVAL_H
#define NM_POLICY_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nodemesh/http-t.h"
#include "nodemesh/policy_table-t.h"

static inline bool
nm_pod_bit(const uint64_t *bits, uint16_t slot)
{
	return (bits[slot >> 6] >> (slot & 63)) & 1;
}

/*
 * Does rule i's L4 part (from, to, protocol, responder port) match? The
 * one place selectors are tested: connection setup and every request use it.
 */
static inline bool
nm_policy_rule_l4_match(const struct nm_policy *p, uint32_t i, uint16_t src_slot, uint16_t dst_slot,
			uint8_t proto, uint16_t dport)
{
	const struct nm_policy_rule *r = &p->rules[i];

	if (!nm_pod_bit(r->from, src_slot) || !nm_pod_bit(r->to, dst_slot))
		return false;
	if (r->proto != 0 && r->proto != proto)
		return false;
	if (r->n_ports != 0) {
		bool hit = false;
		for (uint8_t k = 0; k < r->n_ports; k++)
			hit |= dport >= r->ports[k].lo && dport <= r->ports[k].hi;
		if (!hit)
			return false;
	}
	return true;
}

/* Index of the first rule matching a new connection, or NM_POLICY_DEFAULT. */
static inline int
nm_policy_eval(const struct nm_policy *p, uint16_t src_slot, uint16_t dst_slot, uint8_t proto,
	       uint16_t dport)
{
	for (uint32_t i = 0; i < p->n_rules; i++) {
		/* A deny with an HTTP clause refuses requests, not connections. */
		if (p->rules[i].http >= 0 && p->rules[i].action == NM_VERDICT_DENY)
			continue;
		if (nm_policy_rule_l4_match(p, i, src_slot, dst_slot, proto, dport))
			return (int)i;
	}
	return NM_POLICY_DEFAULT;
}

/* Does any rule with an HTTP clause match the connection: must its requests be judged? */
static inline bool
nm_policy_http_covers(const struct nm_policy *p, uint16_t src_slot, uint16_t dst_slot,
		      uint8_t proto, uint16_t dport)
{
	if (p->n_http == 0)
		return false;
	for (uint32_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].http >= 0 &&
		    nm_policy_rule_l4_match(p, i, src_slot, dst_slot, proto, dport))
			return true;
	return false;
}

/*
 * One request as an HTTP clause sees it: the method as sent, the path
 * normalized (http_uri.c) without its query, the Host header lowercased
 * without its port (NULL when absent), and the head for its headers.
 */
struct nm_policy_request {
	const uint8_t *method;
	uint32_t method_len;
	const uint8_t *path;
	uint32_t path_len;
	const uint8_t *host;
	uint32_t host_len;
	const struct nm_http_head *head;
};

/*
 * The request view of head h (a request's): uri holds the normalized
 * target (h->len bytes), host the Host value (NM_HTTP_RULE_HOST_LEN bytes).
 */
void nm_policy_request_of(const struct nm_http_head *h, uint8_t *uri, uint8_t *host,
			  struct nm_policy_request *rq);

/* Does the request satisfy every item of the clause? (dataplane/policy_http.c) */
bool nm_policy_http_match(const struct nm_rule_http *c, const struct nm_policy_request *rq);

/*
 * Index of the first rule matching a request on a connection from
 * src_slot to dst_slot, or NM_POLICY_DEFAULT: rules without a clause
 * match on their L4 part alone, rules with one also on the request.
 */
static inline int
nm_policy_request_eval(const struct nm_policy *p, uint16_t src_slot, uint16_t dst_slot,
		       uint8_t proto, uint16_t dport, const struct nm_policy_request *rq)
{
	for (uint32_t i = 0; i < p->n_rules; i++) {
		if (!nm_policy_rule_l4_match(p, i, src_slot, dst_slot, proto, dport))
			continue;
		if (p->rules[i].http >= 0 && !nm_policy_http_match(&p->http[p->rules[i].http], rq))
			continue;
		return (int)i;
	}
	return NM_POLICY_DEFAULT;
}

/*
 * nm_policy_request_eval for the TCP request head h (at most
 * NM_HTTP_HEAD_BYTES_DEFAULT bytes), its view built on the stack.
 */
int nm_policy_head_eval(const struct nm_policy *p, uint16_t src_slot, uint16_t dst_slot,
			uint16_t dport, const struct nm_http_head *h);

#endif
