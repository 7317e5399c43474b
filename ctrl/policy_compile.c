/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy compilation (control thread): selectors to per-identity lists of
 * rules (nodemesh/policy_table-t.h), HTTP clauses copied to their own
 * array (they are already normalised), rates to rte_meter profiles (RFC 2697
 * single-rate three-colour meter, used as a plain token bucket: committed
 * rate and burst, no excess bucket, so a packet is either green and passes
 * or red and is dropped).
 *
 * A selector is resolved through indexes of the live identities, not by
 * testing every identity: namespace/service-account and namespace-wide selectors by a binary search
 * in the identities sorted by namespace and service account, labels by the identities that carry
 * the selector's first label. So compiling costs about (rules + identities) x log(identities) plus
 * the matches, and a label that few identities carry costs little whatever the cluster size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "idreg.h"
#include "nodemesh/pod_table-t.h"
#include "policy_compile.h"
#include "rule.h"

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

/* One compiled rule from r: everything but the selectors. */
static int
compile_rule(struct nm_policy_rule *c, const struct nm_rule *r)
{
	c->id = r->id;
	c->slot = r->slot;
	c->action = r->action;
	c->proto = r->proto;
	c->inspect = r->inspect;
	c->n_ports = r->n_ports;
	memcpy(c->ports, r->ports, sizeof(c->ports));
	if (r->rate_pps != 0) {
		uint64_t burst =
		    r->burst ? r->burst
			     : RTE_MAX(r->rate_pps / (1000 / DEFAULT_BURST_MS), UINT64_C(1));
		if (meter_profile(&c->pps, r->rate_pps, burst) < 0)
			return -EINVAL;
		c->has_pps = 1;
	}
	if (r->rate_bps != 0) {
		uint64_t bytes_per_sec = RTE_MAX(r->rate_bps / 8, UINT64_C(1));
		uint64_t burst = r->burst ? r->burst * BPS_BURST_PACKET_BYTES
					  : RTE_MAX(bytes_per_sec / (1000 / DEFAULT_BURST_MS),
						    (uint64_t)BPS_BURST_PACKET_BYTES);
		if (meter_profile(&c->bps, bytes_per_sec, burst) < 0)
			return -EINVAL;
		c->has_bps = 1;
	}
	return 0;
}

/* ---- indexes of the live identities --------------------------------------- */

struct label_ref {
	const char *item; /* "k=v" inside an entry's normalised labels, not terminated */
	uint32_t len;
	uint32_t id;
};

struct id_index {
	const struct nm_idreg *reg;
	uint32_t *by_nssa; /* live ids sorted by namespace, then service account */
	uint32_t n_ids;
	struct label_ref *by_label; /* one per label of each live id, sorted by item */
	uint32_t n_labels;
};

static const struct nm_idreg *sort_reg; /* qsort has no context argument */

static int
nssa_cmp(const void *a, const void *b)
{
	const struct nm_idreg_entry *x = &sort_reg->e[*(const uint32_t *)a];
	const struct nm_idreg_entry *y = &sort_reg->e[*(const uint32_t *)b];
	int c = strcmp(x->ns, y->ns);

	return c != 0 ? c : strcmp(x->sa, y->sa);
}

static int
item_cmp(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int
label_cmp(const void *a, const void *b)
{
	const struct label_ref *x = a, *y = b;

	return item_cmp(x->item, x->len, y->item, y->len);
}

static int
index_build(struct id_index *ix, const struct nm_idreg *reg)
{
	memset(ix, 0, sizeof(*ix));
	ix->reg = reg;
	ix->by_nssa = malloc(((size_t)reg->n + 1) * sizeof(*ix->by_nssa));
	uint32_t cap = 0;
	for (uint32_t id = 1; id < reg->n; id++)
		if (reg->e[id].round == reg->round)
			for (const char *p = reg->e[id].labels; *p; p++)
				cap += *p == ',';
	cap += reg->n + 1; /* one more item than commas per id */
	ix->by_label = malloc((size_t)cap * sizeof(*ix->by_label));
	if (ix->by_nssa == NULL || ix->by_label == NULL)
		return -ENOMEM;
	for (uint32_t id = 1; id < reg->n; id++) {
		const struct nm_idreg_entry *e = &reg->e[id];
		if (e->round != reg->round)
			continue;
		ix->by_nssa[ix->n_ids++] = id;
		for (const char *p = e->labels; *p;) {
			const char *end = strchr(p, ',');
			uint32_t len = end ? (uint32_t)(end - p) : (uint32_t)strlen(p);
			ix->by_label[ix->n_labels++] = (struct label_ref){p, len, id};
			p += len + (end != NULL);
		}
	}
	sort_reg = reg;
	qsort(ix->by_nssa, ix->n_ids, sizeof(*ix->by_nssa), nssa_cmp);
	qsort(ix->by_label, ix->n_labels, sizeof(*ix->by_label), label_cmp);
	return 0;
}

static void
index_free(struct id_index *ix)
{
	free(ix->by_nssa);
	free(ix->by_label);
}

/* First position in by_nssa whose (ns, sa) is not below (ns, sa); sa NULL: ns alone. */
static uint32_t
nssa_lower(const struct id_index *ix, const char *ns, const char *sa)
{
	uint32_t lo = 0, hi = ix->n_ids;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct nm_idreg_entry *e = &ix->reg->e[ix->by_nssa[mid]];
		int c = strcmp(e->ns, ns);
		if (c == 0 && sa != NULL)
			c = strcmp(e->sa, sa);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t
label_lower(const struct id_index *ix, const char *item, uint32_t len)
{
	uint32_t lo = 0, hi = ix->n_labels;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct label_ref *l = &ix->by_label[mid];
		if (item_cmp(l->item, l->len, item, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- (identity, rule) pairs of one side -------------------------------------- */

struct pair {
	uint32_t id;
	uint32_t rule; /* compiled index */
};

struct side_build {
	struct pair *v;
	size_t n, cap;
	uint32_t *any;
	uint32_t n_any;
};

static int
pair_push(struct side_build *s, uint32_t id, uint32_t rule)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct pair *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct pair){id, rule};
	return 0;
}

/* Every live identity sel matches, paired with the compiled rule index ci. */
static int
resolve(struct side_build *s, const struct id_index *ix, const struct nm_selector *sel, uint32_t ci)
{
	const struct nm_idreg_entry *e = ix->reg->e;
	int rc = 0;

	switch (sel->kind) {
	case NM_SEL_ANY:
		s->any[s->n_any++] = ci;
		return 0;
	case NM_SEL_NS:
	case NM_SEL_NS_SA: {
		const char *sa = sel->kind == NM_SEL_NS_SA ? sel->sa : NULL;
		for (uint32_t k = nssa_lower(ix, sel->ns, sa); rc == 0 && k < ix->n_ids; k++) {
			const struct nm_idreg_entry *x = &e[ix->by_nssa[k]];
			if (strcmp(x->ns, sel->ns) != 0 || (sa != NULL && strcmp(x->sa, sa) != 0))
				break;
			rc = pair_push(s, ix->by_nssa[k], ci);
		}
		return rc;
	}
	case NM_SEL_LABELS: {
		if (sel->n_labels == 0) { /* every known identity */
			for (uint32_t k = 0; rc == 0 && k < ix->n_ids; k++)
				rc = pair_push(s, ix->by_nssa[k], ci);
			return rc;
		}
		char item[2 * NM_NAME_LEN + 1];
		int len =
		    snprintf(item, sizeof(item), "%s=%s", sel->labels[0].key, sel->labels[0].val);
		for (uint32_t k = label_lower(ix, item, (uint32_t)len); rc == 0 && k < ix->n_labels;
		     k++) {
			const struct label_ref *l = &ix->by_label[k];
			if (item_cmp(l->item, l->len, item, (uint32_t)len) != 0)
				break;
			const struct nm_idreg_entry *x = &e[l->id];
			if (nm_selector_match_identity(sel, x->ns, x->sa, x->labels))
				rc = pair_push(s, l->id, ci);
		}
		return rc;
	}
	default:
		return 0;
	}
}

/*
 * Lay one side out at *cursor: the '*' rules, then the per-identity lists
 * by counting sort (pairs come in ascending rule order, so each list is
 * ascending too).
 */
static void
side_lay_out(struct nm_policy_side *out, const struct side_build *s, uint32_t n_ids,
	     uint32_t **cursor)
{
	uint32_t *any = *cursor, *off = any + s->n_any, *idx = off + n_ids + 1;

	memcpy(any, s->any, s->n_any * sizeof(*any));
	memset(off, 0, (n_ids + 1) * sizeof(*off));
	for (size_t k = 0; k < s->n; k++)
		off[s->v[k].id + 1]++;
	for (uint32_t i = 0; i < n_ids; i++)
		off[i + 1] += off[i];
	for (size_t k = 0; k < s->n; k++)
		idx[off[s->v[k].id]++] = s->v[k].rule;
	/* Each off[i] now holds where list i ends: shift back to where it starts. */
	memmove(off + 1, off, n_ids * sizeof(*off));
	off[0] = 0;
	out->any = any;
	out->n_any = s->n_any;
	out->off = off;
	out->idx = idx;
	*cursor = idx + s->n;
}

/* Give every pod of tbl its identity id. 0, or -ENOSPC when the registry is full. */
static int
intern_pods(struct nm_idreg *reg, struct nm_pod_table *tbl)
{
	int rc = 0;

	nm_idreg_begin(reg);
	for (uint32_t slot = 0; tbl != NULL && slot < NM_MAX_PODS; slot++) {
		struct nm_pod *pod = &tbl->pods[slot];
		if (!nm_pod_present(pod))
			continue;
		uint32_t id = nm_idreg_intern(reg, &pod->spec);
		if (id == NM_IDREG_FULL) {
			rc = -ENOSPC;
			id = NM_IDENTITY_NONE;
		}
		pod->identity = id;
	}
	nm_idreg_end(reg);
	return rc;
}

struct nm_policy *
nm_policy_build(const struct nm_rule *rules, unsigned int n, uint8_t default_action,
		const struct nm_idreg *reg)
{
	struct side_build from = {0}, to = {0};
	struct id_index ix;
	struct nm_policy *p = NULL;
	uint32_t *order = malloc((n + 1) * sizeof(*order));
	int rc = index_build(&ix, reg);

	from.any = malloc((n + 1) * sizeof(*from.any));
	to.any = malloc((n + 1) * sizeof(*to.any));
	if (rc == 0 && (order == NULL || from.any == NULL || to.any == NULL))
		rc = -ENOMEM;
	/*
	 * Deny beats allow: every deny rule is placed before every allow rule,
	 * each group keeping list order, so "first match" in the compiled list
	 * means "first matching deny, else first matching allow".
	 */
	uint32_t out = 0;
	for (int pass = 0; rc == 0 && pass < 2; pass++)
		for (unsigned int i = 0; i < n; i++)
			if ((pass == 0) == (rules[i].action == NM_VERDICT_DENY))
				order[out++] = i;
	for (uint32_t ci = 0; rc == 0 && ci < n; ci++) {
		rc = resolve(&from, &ix, &rules[order[ci]].from, ci);
		if (rc == 0)
			rc = resolve(&to, &ix, &rules[order[ci]].to, ci);
	}
	uint32_t n_ids = reg->n;
	size_t words = from.n_any + to.n_any + 2 * ((size_t)n_ids + 1) + from.n + to.n;
	unsigned int n_http = 0;
	for (unsigned int i = 0; i < n; i++)
		n_http += rules[i].has_http;
	/* One allocation, one pointer published and freed: rules, clauses, the sides' lists. */
	size_t rules_size = sizeof(*p) + n * sizeof(struct nm_policy_rule);
	size_t http_size = RTE_ALIGN_CEIL(n_http * sizeof(struct nm_rule_http), sizeof(uint64_t));
	if (rc == 0) {
		p = rte_zmalloc("nm_policy", rules_size + http_size + words * 4,
				RTE_CACHE_LINE_SIZE);
		if (p == NULL)
			rc = -ENOMEM;
	}
	if (rc == 0)
		p->http = n_http > 0 ? (struct nm_rule_http *)((uint8_t *)p + rules_size) : NULL;
	for (uint32_t ci = 0; rc == 0 && ci < n; ci++) {
		const struct nm_rule *r = &rules[order[ci]];
		rc = compile_rule(&p->rules[ci], r);
		p->rules[ci].http = -1;
		if (r->has_http) {
			p->rules[ci].http = (int16_t)p->n_http;
			p->http[p->n_http++] = r->http;
		}
	}
	if (rc == 0) {
		uint32_t *cursor = (uint32_t *)((uint8_t *)p + rules_size + http_size);
		p->default_action = default_action;
		p->n_rules = n;
		p->n_ids = n_ids;
		side_lay_out(&p->from, &from, n_ids, &cursor);
		side_lay_out(&p->to, &to, n_ids, &cursor);
	}
	index_free(&ix);
	free(order);
	free(from.v);
	free(from.any);
	free(to.v);
	free(to.any);
	if (rc < 0) {
		rte_free(p);
		errno = -rc;
		return NULL;
	}
	return p;
}

struct nm_policy *
nm_policy_compile(const struct nm_rule *rules, unsigned int n, uint8_t default_action,
		  struct nm_pod_table *tbl, struct nm_idreg *reg)
{
	struct nm_idreg own = {0};
	struct nm_idreg *r = reg != NULL ? reg : &own;
	struct nm_policy *p = NULL;
	uint64_t t0 = rte_get_tsc_cycles();
	int rc = intern_pods(r, tbl);

	if (rc == 0)
		p = nm_policy_build(rules, n, default_action, r);
	else
		errno = -rc;
	if (p != NULL) {
		p->n_live_ids = r->live;
		p->compile_us = (rte_get_tsc_cycles() - t0) * 1000000 / rte_get_tsc_hz();
	}
	nm_idreg_free(&own);
	return p;
}

void
nm_policy_free(struct nm_policy *p)
{
	rte_free(p);
}

int
nm_policy_attach(struct nm_pod_table *tbl, const struct nm_rule *rules, unsigned int n,
		 bool default_allow, struct nm_idreg *reg, char *err, size_t errlen)
{
	nm_policy_free(tbl->policy);
	tbl->policy = nm_policy_compile(
	    rules, n, default_allow ? NM_VERDICT_ALLOW : NM_VERDICT_DENY, tbl, reg);
	if (tbl->policy == NULL) {
		int rc = -errno;
		snprintf(err, errlen, "compiling the policy failed: %s",
			 rc == -ENOSPC ? "more than 1048576 security identities" : strerror(errno));
		return rc;
	}
	return 0;
}
