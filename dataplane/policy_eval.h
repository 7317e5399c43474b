/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy evaluation on the workers (nodemesh/policy_table-t.h): the rules
 * that can match a source and a destination identity are the intersection
 * of two ascending lists (the source's from-rules merged with the '*'
 * ones, the destination's to-rules merged with the '*' ones); the first of
 * them whose protocol and port match decides. Runs once per new flow and
 * once per flow after a publication, never per packet. The control thread
 * compiles the rules (ctrl/policy_compile.c). *
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

#define NM_RULES_END UINT32_MAX

/* One side's candidate rules for one identity, in ascending order: two sorted lists merged. */
struct nm_rule_stream {
	const uint32_t *a, *a_end; /* the identity's own rules */
	const uint32_t *b, *b_end; /* the side's '*' rules */
};

static inline void
nm_rule_stream_init(struct nm_rule_stream *s, const struct nm_policy_side *side, uint32_t n_ids,
		    uint32_t identity)
{
	s->a = s->a_end = side->idx;
	if (identity < n_ids) {
		s->a = side->idx + side->off[identity];
		s->a_end = side->idx + side->off[identity + 1];
	}
	s->b = side->any;
	s->b_end = side->any + side->n_any;
}

/* The smallest rule index not yet passed, or NM_RULES_END. */
static inline uint32_t
nm_rule_stream_peek(const struct nm_rule_stream *s)
{
	uint32_t a = s->a < s->a_end ? *s->a : NM_RULES_END;
	uint32_t b = s->b < s->b_end ? *s->b : NM_RULES_END;

	return a < b ? a : b;
}

/* Pass every rule index below v. */
static inline void
nm_rule_stream_skip(struct nm_rule_stream *s, uint32_t v)
{
	while (s->a < s->a_end && *s->a < v)
		s->a++;
	while (s->b < s->b_end && *s->b < v)
		s->b++;
}

static inline bool
nm_policy_rule_l4(const struct nm_policy_rule *r, uint8_t proto, uint16_t dport)
{
	if (r->proto != 0 && r->proto != proto)
		return false;
	if (r->n_ports == 0)
		return true;
	bool hit = false;
	for (uint8_t k = 0; k < r->n_ports; k++)
		hit |= dport >= r->ports[k].lo && dport <= r->ports[k].hi;
	return hit;
}

/*
 * The candidate rules of a source and a destination identity, ascending:
 * those both sides' lists (with their '*' rules) hold. nm_policy_walk_next
 * gives the next, or NM_RULES_END.
 */
struct nm_policy_walk {
	struct nm_rule_stream from;
	struct nm_rule_stream to;
};

static inline void
nm_policy_walk_init(struct nm_policy_walk *wk, const struct nm_policy *p, uint32_t src_id,
		    uint32_t dst_id)
{
	nm_rule_stream_init(&wk->from, &p->from, p->n_ids, src_id);
	nm_rule_stream_init(&wk->to, &p->to, p->n_ids, dst_id);
}

static inline uint32_t
nm_policy_walk_next(struct nm_policy_walk *wk)
{
	uint32_t x = nm_rule_stream_peek(&wk->from), y = nm_rule_stream_peek(&wk->to);

	while (x != NM_RULES_END && y != NM_RULES_END && x != y) {
		if (x < y) {
			nm_rule_stream_skip(&wk->from, y);
			x = nm_rule_stream_peek(&wk->from);
		} else {
			nm_rule_stream_skip(&wk->to, x);
			y = nm_rule_stream_peek(&wk->to);
		}
	}
	if (x == NM_RULES_END || y == NM_RULES_END)
		return NM_RULES_END;
	nm_rule_stream_skip(&wk->from, x + 1);
	nm_rule_stream_skip(&wk->to, x + 1);
	return x;
}

/* Index of the first rule matching a new connection, or NM_POLICY_DEFAULT. */
static inline int
nm_policy_eval(const struct nm_policy *p, uint32_t src_id, uint32_t dst_id, uint8_t proto,
	       uint16_t dport)
{
	struct nm_policy_walk wk;

	nm_policy_walk_init(&wk, p, src_id, dst_id);
	for (uint32_t i = nm_policy_walk_next(&wk); i != NM_RULES_END;
	     i = nm_policy_walk_next(&wk)) {
		const struct nm_policy_rule *r = &p->rules[i];
		/* A deny with an HTTP clause refuses requests, not connections. */
		if (r->http >= 0 && r->action == NM_VERDICT_DENY)
			continue;
		if (nm_policy_rule_l4(r, proto, dport))
			return (int)i;
	}
	return NM_POLICY_DEFAULT;
}

/* Does any rule with an HTTP clause match the connection: must its requests be judged? */
static inline bool
nm_policy_http_covers(const struct nm_policy *p, uint32_t src_id, uint32_t dst_id, uint8_t proto,
		      uint16_t dport)
{
	struct nm_policy_walk wk;

	if (p->n_http == 0)
		return false;
	nm_policy_walk_init(&wk, p, src_id, dst_id);
	for (uint32_t i = nm_policy_walk_next(&wk); i != NM_RULES_END; i = nm_policy_walk_next(&wk))
		if (p->rules[i].http >= 0 && nm_policy_rule_l4(&p->rules[i], proto, dport))
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
 * identity src_id to dst_id, or NM_POLICY_DEFAULT: rules without a clause
 * match on their L4 part alone, rules with one also on the request.
 */
static inline int
nm_policy_request_eval(const struct nm_policy *p, uint32_t src_id, uint32_t dst_id, uint8_t proto,
		       uint16_t dport, const struct nm_policy_request *rq)
{
	struct nm_policy_walk wk;

	nm_policy_walk_init(&wk, p, src_id, dst_id);
	for (uint32_t i = nm_policy_walk_next(&wk); i != NM_RULES_END;
	     i = nm_policy_walk_next(&wk)) {
		const struct nm_policy_rule *r = &p->rules[i];
		if (!nm_policy_rule_l4(r, proto, dport))
			continue;
		if (r->http >= 0 && !nm_policy_http_match(&p->http[r->http], rq))
			continue;
		return (int)i;
	}
	return NM_POLICY_DEFAULT;
}

/*
 * nm_policy_request_eval for the TCP request head h (at most
 * NM_HTTP_HEAD_BYTES_DEFAULT bytes), its view built on the stack.
 */
int nm_policy_head_eval(const struct nm_policy *p, uint32_t src_id, uint32_t dst_id, uint16_t dport,
			const struct nm_http_head *h);

#endif
