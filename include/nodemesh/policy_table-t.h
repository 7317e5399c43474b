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
	int16_t http; /* index into nm_policy.http[], or -1: no HTTP clause */
	struct nm_port_range ports[NM_RULE_MAX_PORTS];
	struct rte_meter_srtcm_profile pps; /* "bytes" are packets: one token per packet */
	struct rte_meter_srtcm_profile bps; /* bytes per second */
};

struct nm_policy {
	uint8_t default_action; /* enum nm_verdict */
	uint32_t n_rules;
	uint32_t n_http;	   /* rules with an HTTP clause */
	struct nm_rule_http *http; /* n_http clauses, in the same allocation after rules[] */
	struct nm_policy_rule rules[];
};

#define NM_POLICY_DEFAULT (-1) /* nm_policy_eval: no rule matched */

#endif
