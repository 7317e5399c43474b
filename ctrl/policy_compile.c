/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy compilation (control thread): selectors to pod-slot bitmaps,
 * HTTP clauses copied to their own array (they are already normalised),
 * rates to rte_meter profiles (RFC 2697 single-rate three-colour meter,
 * used as a plain token bucket: committed rate and burst, no excess
 * bucket, so a packet is either green and passes or red and is dropped).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "policy_compile.h"
#include "nodemesh/pod_table-t.h"
#include "rule.h"
#include "policy_compile.h"

#define BPS_BURST_PACKET_BYTES 1500 /* a burst of N packets is N full-size packets of bytes */
#define DEFAULT_BURST_MS                                                                           \
	100 /* default bucket: 100 ms worth of the rate (divides 1000; divide, never multiply the  \
	       rate: it may be near 2^64) */

static int
meter_profile(struct rte_meter_srtcm_profile *prof, uint64_t per_sec, uint64_t bucket)
{
	struct rte_meter_srtcm_params params = {
	    .cir = per_sec,
	    .cbs = bucket,
	    .ebs = 0,
	};

	return rte_meter_srtcm_profile_config(prof, &params);
}

struct nm_policy *
nm_policy_compile(const struct nm_rule *rules, unsigned int n, uint8_t default_action,
		  const struct nm_pod_table *tbl)
{
	unsigned int n_http = 0;

	for (unsigned int i = 0; i < n; i++)
		n_http += rules[i].has_http;
	/* The clauses follow the rules in one allocation: one pointer is published and freed. */
	size_t rules_size = sizeof(struct nm_policy) + n * sizeof(struct nm_policy_rule);
	struct nm_policy *p = rte_zmalloc(
	    "nm_policy", rules_size + n_http * sizeof(struct nm_rule_http), RTE_CACHE_LINE_SIZE);

	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p->default_action = default_action;
	p->n_rules = n;
	p->http = n_http > 0 ? (struct nm_rule_http *)((uint8_t *)p + rules_size) : NULL;
	/*
	 * Deny beats allow: every deny rule is placed before every allow rule,
	 * each group keeping list order, so "first match" in the compiled list
	 * means "first matching deny, else first matching allow".
	 */
	unsigned int out = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < n; i++) {
			const struct nm_rule *r = &rules[i];
			if ((pass == 0) != (r->action == NM_VERDICT_DENY))
				continue;
			struct nm_policy_rule *c = &p->rules[out++];

			c->id = r->id;
			c->slot = r->slot;
			c->action = r->action;
			c->proto = r->proto;
			c->inspect = r->inspect;
			c->n_ports = r->n_ports;
			memcpy(c->ports, r->ports, sizeof(c->ports));
			c->http = -1;
			if (r->has_http) {
				c->http = (int16_t)p->n_http;
				p->http[p->n_http++] = r->http;
			}
			for (uint16_t slot = 0; tbl != NULL && slot < NM_MAX_PODS; slot++) {
				const struct nm_pod *pod = &tbl->pods[slot];
				if (!nm_pod_present(pod))
					continue;
				if (nm_selector_match(&r->from, &pod->spec))
					c->from[slot >> 6] |= 1ULL << (slot & 63);
				if (nm_selector_match(&r->to, &pod->spec))
					c->to[slot >> 6] |= 1ULL << (slot & 63);
			}
			if (r->rate_pps != 0) {
				uint64_t burst =
				    r->burst ? r->burst
					     : RTE_MAX(r->rate_pps / (1000 / DEFAULT_BURST_MS),
						       UINT64_C(1));
				if (meter_profile(&c->pps, r->rate_pps, burst) < 0)
					goto einval;
				c->has_pps = 1;
			}
			if (r->rate_bps != 0) {
				uint64_t bytes_per_sec = RTE_MAX(r->rate_bps / 8, UINT64_C(1));
				uint64_t burst =
				    r->burst ? r->burst * BPS_BURST_PACKET_BYTES
					     : RTE_MAX(bytes_per_sec / (1000 / DEFAULT_BURST_MS),
						       (uint64_t)BPS_BURST_PACKET_BYTES);
				if (meter_profile(&c->bps, bytes_per_sec, burst) < 0)
					goto einval;
				c->has_bps = 1;
			}
		}
	}
	return p;
einval:
	rte_free(p);
	errno = EINVAL;
	return NULL;
}

void
nm_policy_free(struct nm_policy *p)
{
	rte_free(p);
}

int
nm_policy_attach(struct nm_pod_table *tbl, const struct nm_rule *rules, unsigned int n,
		 bool default_allow, char *err, size_t errlen)
{
	nm_policy_free(tbl->policy);
	tbl->policy =
	    nm_policy_compile(rules, n, default_allow ? NM_VERDICT_ALLOW : NM_VERDICT_DENY, tbl);
	if (tbl->policy == NULL) {
		int rc = -errno;
		snprintf(err, errlen, "compiling the policy failed: %s", strerror(errno));
		return rc;
	}
	return 0;
}
