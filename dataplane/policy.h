/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compiled policy: the rule list resolved against the current pods. Each
 * selector becomes a bitmap of pod slots, so a verdict is a walk over the
 * rules testing two bits, a protocol and a port; no strings on workers.
 * Compiled by the control thread whenever rules or pods change, and
 * published inside the pod table (its generation is the table's).
 *
 * Order: deny beats allow. The first matching deny rule (in list order)
 * denies; otherwise the first matching allow rule (in list order) allows,
 * and its rate applies; otherwise the default action (deny unless
 * configured otherwise) decides. nm_policy_compile() sorts deny rules
 * first, so evaluation is a plain first-match walk.
 */
#ifndef NM_DP_POLICY_H
#define NM_DP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_meter.h>

#include "nodemesh/policy-t.h"

struct nm_pod_table;

struct nm_policy_rule {
	uint64_t from[NM_POD_WORDS]; /* pod slots the from-selector matches */
	uint64_t to[NM_POD_WORDS];
	uint32_t id;
	uint16_t slot;	/* counter slot */
	uint8_t action; /* enum nm_verdict */
	uint8_t proto;	/* 0: any */
	uint8_t inspect;
	uint8_t n_ports;
	uint8_t has_pps;
	uint8_t has_bps;
	struct nm_port_range ports[NM_RULE_MAX_PORTS];
	struct rte_meter_srtcm_profile pps; /* "bytes" are packets: one token per packet */
	struct rte_meter_srtcm_profile bps; /* bytes per second */
};

struct nm_policy {
	uint8_t default_action; /* enum nm_verdict */
	uint32_t n_rules;
	struct nm_policy_rule rules[];
};

#define NM_POLICY_DEFAULT (-1) /* nm_policy_eval: no rule matched */

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

/*
 * Compile rules[0..n) against the pods of tbl. Returns NULL with errno set
 * (a rate the meter library refuses: EINVAL).
 */
struct nm_policy *nm_policy_compile(const struct nm_rule *rules, unsigned int n,
				    uint8_t default_action, const struct nm_pod_table *tbl);
void nm_policy_free(struct nm_policy *p);

/*
 * Compile rules against tbl's pods (whose index is final) and make the
 * result tbl's policy, replacing any it had. 0, or -errno with err set.
 */
int nm_policy_attach(struct nm_pod_table *tbl, const struct nm_rule *rules, unsigned int n,
		     bool default_allow, char *err, size_t errlen);

#endif
