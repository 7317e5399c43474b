/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compiled policy: the rule list resolved against the security identities
 * of the current pods (ctrl/idreg.h). For each identity, the rules whose
 * from-selector names it and those whose to-selector names it, as two
 * ascending lists of rule indices; rules whose selector is '*' are kept
 * once, apart. A verdict intersects the source identity's from-list (with
 * the '*' ones) with the destination identity's to-list (with the '*'
 * ones) and takes the first rule there whose protocol and port match: the
 * cost is the rules that name the two identities, not all rules, and the
 * memory is rules x identities they name, not rules x pods. No strings on
 * workers. Compiled by the control thread whenever rules or pods change,
 * and published inside the pod table (its generation is the table's).
 *
 * Order: deny beats allow. The first matching deny rule (in list order)
 * denies; otherwise the first matching allow rule (in list order) allows,
 * and its rate applies; otherwise the default action (deny unless
 * configured otherwise) decides. nm_policy_compile() sorts deny rules
 * first, so evaluation is a plain first-match walk.
 *
 * A rule with an HTTP clause points into the policy's http[] array. At
 * connection setup a deny with a clause is skipped and an allow with one
 * counts as matching; each request on the connection is then judged by
 * the same walk with the clauses tested (dataplane/policy_eval.h).
 */
#ifndef NM_POLICY_TABLE_T_H
#define NM_POLICY_TABLE_T_H

#include <stdint.h>

#include <rte_meter.h>

#include "nodemesh/policy-t.h"

struct nm_policy_rule {
	uint32_t id;
	uint16_t slot;	/* counter slot */
	uint8_t action; /* enum nm_verdict */
	uint8_t proto;	/* 0: any */
	uint8_t inspect;
	uint8_t n_ports;
	uint8_t has_pps;
	uint8_t has_bps;
	int16_t http; /* index into nm_policy.http[], or -1: no HTTP clause */
	struct nm_port_range ports[NM_RULE_MAX_PORTS];
	struct rte_meter_srtcm_profile pps; /* "bytes" are packets: one token per packet */
	struct rte_meter_srtcm_profile bps; /* bytes per second */
};

/* Rule indices (into nm_policy.rules, ascending) for one side of every identity. */
struct nm_policy_side {
	const uint32_t *any; /* rules whose selector on this side is '*' */
	uint32_t n_any;
	const uint32_t *off; /* [n_ids + 1]: identity i's rules are idx[off[i] .. off[i + 1]) */
	const uint32_t *idx;
};

struct nm_policy {
	uint8_t default_action; /* enum nm_verdict */
	uint32_t n_rules;
	uint32_t n_ids; /* identities below this have lists; any other matches only '*' */
	uint32_t
	    n_live_ids; /* identities of the pods it was compiled against (for `policy list`) */
	uint64_t compile_us; /* how long compiling took (for `policy list`) */
	struct nm_policy_side from;
	struct nm_policy_side to;
	uint32_t n_http;	       /* rules with an HTTP clause */
	struct nm_rule_http *http;     /* n_http clauses, in the same allocation after rules[] */
	struct nm_policy_rule rules[]; /* then the clauses, then the sides' arrays */
};

#define NM_POLICY_DEFAULT (-1) /* nm_policy_eval: no rule matched */

#endif
