/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy evaluation on the workers (nodemesh/policy_table-t.h): the rules
 * that can match a source and a destination identity are the intersection
 * of two ascending lists (the source's from-rules merged with the '*'
 * ones, the destination's to-rules merged with the '*' ones); the first of
 * them whose protocol and port match decides. Runs once per new flow and
 * once per flow after a publication, never per packet. The control thread
 * compiles the rules (ctrl/policy_compile.c).
 */
#ifndef NM_POLICY_EVAL_H
#define NM_POLICY_EVAL_H

#include <stdbool.h>
#include <stdint.h>

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

/* Index of the first rule matching both identities, proto and dport, or NM_POLICY_DEFAULT. */
static inline int
nm_policy_eval(const struct nm_policy *p, uint32_t src_id, uint32_t dst_id, uint8_t proto,
	       uint16_t dport)
{
	struct nm_rule_stream from, to;

	nm_rule_stream_init(&from, &p->from, p->n_ids, src_id);
	nm_rule_stream_init(&to, &p->to, p->n_ids, dst_id);
	uint32_t x = nm_rule_stream_peek(&from), y = nm_rule_stream_peek(&to);
	while (x != NM_RULES_END && y != NM_RULES_END) {
		if (x < y) {
			nm_rule_stream_skip(&from, y);
			x = nm_rule_stream_peek(&from);
			continue;
		}
		if (y < x) {
			nm_rule_stream_skip(&to, x);
			y = nm_rule_stream_peek(&to);
			continue;
		}
		if (nm_policy_rule_l4(&p->rules[x], proto, dport))
			return (int)x;
		nm_rule_stream_skip(&from, x + 1);
		nm_rule_stream_skip(&to, x + 1);
		x = nm_rule_stream_peek(&from);
		y = nm_rule_stream_peek(&to);
	}
	return NM_POLICY_DEFAULT;
}

#endif
