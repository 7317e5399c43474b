/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy evaluation on the workers: a first-match walk over the compiled
 * rules (nodemesh/policy_table-t.h), testing two bits, a protocol and a
 * port. The control thread compiles the rules (ctrl/policy_compile.c).
 */
#ifndef NM_POLICY_EVAL_H
#define NM_POLICY_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nodemesh/policy_table-t.h"

static inline bool
nm_pod_bit(const uint64_t *bits, uint16_t slot)
{
	return (bits[slot >> 6] >> (slot & 63)) & 1;
}

/* Index of the first matching rule, or NM_POLICY_DEFAULT. */
static inline int
nm_policy_eval(const struct nm_policy *p, uint16_t src_slot, uint16_t dst_slot, uint8_t proto,
	       uint16_t dport)
{
	for (uint32_t i = 0; i < p->n_rules; i++) {
		const struct nm_policy_rule *r = &p->rules[i];

		if (!nm_pod_bit(r->from, src_slot) || !nm_pod_bit(r->to, dst_slot))
			continue;
		if (r->proto != 0 && r->proto != proto)
			continue;
		if (r->n_ports != 0) {
			bool hit = false;
			for (uint8_t k = 0; k < r->n_ports; k++)
				hit |= dport >= r->ports[k].lo && dport <= r->ports[k].hi;
			if (!hit)
				continue;
		}
		return (int)i;
	}
	return NM_POLICY_DEFAULT;
}

#endif
