/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy management on the control thread: the rule list in force, its
 * changes (add, delete, load a file, default action) and its counters.
 * Every change builds the complete new rule list first, compiles it
 * against the current pods into a new table and publishes that; a change
 * that fails at any step leaves the rules in force untouched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_priv.h"
#include "pod_table.h"
#include "policy_compile.h"
#include "nodemesh/worker.h"
#include "node.h"
#include "rule.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static void
rule_counters(const struct nm_node *node, uint16_t slot, struct nm_rule_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		const struct nm_worker *w = node->dp.workers[i];
		c->flows += LOAD(w->rule_flows[slot]);
		c->drops += LOAD(w->rule_drops[slot]);
		c->requests += LOAD(w->rule_requests[slot]);
		c->refused += LOAD(w->rule_refused[slot]);
	}
}

/* Give rules without an id (id 0) an id and a counter slot no kept rule uses. */
static int
number_rules(struct nm_node *node, struct nm_rule *rules, unsigned int n, char *err, size_t errlen)
{
	uint64_t used[NM_MAX_RULES / 64] = {0};
	uint16_t next = 0;

	for (unsigned int i = 0; i < n; i++)
		if (rules[i].id != 0)
			used[rules[i].slot / 64] |= 1ULL << (rules[i].slot % 64);
	for (unsigned int i = 0; i < n; i++) {
		if (rules[i].id != 0)
			continue;
		while (next < NM_MAX_RULES && (used[next / 64] >> (next % 64)) & 1)
			next++;
		if (next == NM_MAX_RULES) {
			snprintf(err, errlen, "more than %d rules", NM_MAX_RULES);
			return -E2BIG;
		}
		used[next / 64] |= 1ULL << (next % 64);
		rules[i].slot = next;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (rules[i].id != 0)
			continue;
		rules[i].id = node->next_rule_id++;
		rule_counters(node, rules[i].slot, &node->rule_base[rules[i].slot]);
	}
	return 0;
}

/* Publish rules[0..n) with the default action; on success they are the node's. */
static int
apply(struct nm_node *node, struct nm_rule *rules, unsigned int n, uint8_t default_allow, char *err,
      size_t errlen)
{
	struct nm_pod_table *next =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	if (next == NULL) {
		snprintf(err, errlen, "out of memory for the pod table");
		return -ENOMEM;
	}
	int rc = nm_policy_attach(next, rules, n, default_allow, &node->idreg, err, errlen);
	if (rc < 0) {
		nm_pod_table_free(next);
		return rc;
	}
	nm_node_publish(node, next);
	if (rules != node->rules)
		memcpy(node->rules, rules, n * sizeof(*rules));
	node->n_rules = n;
	node->default_allow = default_allow;
	return 0;
}

int
nm_node_policy_add(struct nm_node *node, const char *text, uint32_t *id, char *err, size_t errlen)
{
	struct nm_rule *rules;
	int rc;

	if (node->n_rules == NM_MAX_RULES) {
		snprintf(err, errlen, "policy holds %d rules already", NM_MAX_RULES);
		return -E2BIG;
	}
	rules = malloc((node->n_rules + 1) * sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	memcpy(rules, node->rules, node->n_rules * sizeof(*rules));
	rc = nm_rule_parse(text, &rules[node->n_rules], err, errlen);
	if (rc == 0)
		rc = number_rules(node, rules, node->n_rules + 1, err, errlen);
	if (rc == 0)
		rc = apply(node, rules, node->n_rules + 1, node->default_allow, err, errlen);
	if (rc == 0)
		*id = node->rules[node->n_rules - 1].id;
	free(rules);
	return rc;
}

int
nm_node_policy_del(struct nm_node *node, uint32_t id, char *err, size_t errlen)
{
	struct nm_rule *rules = malloc(NM_MAX_RULES * sizeof(*rules));
	unsigned int n = 0;
	int rc;

	if (rules == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < node->n_rules; i++)
		if (node->rules[i].id != id)
			rules[n++] = node->rules[i];
	if (n == node->n_rules) {
		snprintf(err, errlen, "no rule with id %u", id);
		free(rules);
		return -ENOENT;
	}
	rc = apply(node, rules, n, node->default_allow, err, errlen);
	free(rules);
	return rc;
}

int
nm_node_policy_load(struct nm_node *node, const char *path, char *err, size_t errlen)
{
	struct nm_rule *rules = malloc(NM_MAX_RULES * sizeof(*rules));
	int n, rc;

	if (rules == NULL)
		return -ENOMEM;
	n = nm_rule_file_parse(path, rules, NM_MAX_RULES, err, errlen);
	if (n < 0) {
		free(rules);
		return n;
	}
	rc = number_rules(node, rules, (unsigned int)n, err, errlen);
	if (rc == 0)
		rc = apply(node, rules, (unsigned int)n, node->default_allow, err, errlen);
	free(rules);
	return rc < 0 ? rc : n;
}

int
nm_node_policy_restore(struct nm_node *node, const struct nm_rule *rules, unsigned int n,
		       uint32_t next_id, bool allow, char *err, size_t errlen)
{
	struct nm_rule *list = malloc((n + 1) * sizeof(*list));
	uint32_t next = next_id;
	int rc;

	if (list == NULL)
		return -ENOMEM;
	/* The ids the rules had; counter slots afresh, from zero. */
	for (unsigned int i = 0; i < n; i++) {
		list[i] = rules[i];
		list[i].slot = (uint16_t)i;
		if (list[i].id >= next)
			next = list[i].id + 1;
		rule_counters(node, list[i].slot, &node->rule_base[i]);
	}
	rc = apply(node, list, n, allow ? 1 : 0, err, errlen);
	if (rc == 0 && next > node->next_rule_id)
		node->next_rule_id = next;
	free(list);
	return rc;
}

int
nm_node_policy_default(struct nm_node *node, bool allow, char *err, size_t errlen)
{
	return apply(node, node->rules, node->n_rules, allow ? 1 : 0, err, errlen);
}

/* HTTP policy counters summed over the workers (nodemesh/authz-t.h). */
static json_t *
authz_json(const struct nm_node *node)
{
	struct nm_authz_counters t = {0};
	uint64_t free_now = 0;

	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		const struct nm_worker *w = node->dp.workers[i];
		t.opened += LOAD(w->authz.opened);
		t.requests += LOAD(w->authz.requests);
		t.refused += LOAD(w->authz.refused);
		t.forbidden_sent += LOAD(w->authz.forbidden_sent);
		t.resets_sent += LOAD(w->authz.resets_sent);
		t.delayed += LOAD(w->authz.delayed);
		t.trimmed += LOAD(w->authz.trimmed);
		t.retransmits += LOAD(w->authz.retransmits);
		t.tunnelled += LOAD(w->authz.tunnelled);
		free_now += LOAD(w->n_authz_free);
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "connections",
			 (json_int_t)t.opened, "requests", (json_int_t)t.requests, "refused",
			 (json_int_t)t.refused, "forbidden_sent", (json_int_t)t.forbidden_sent,
			 "resets_sent", (json_int_t)t.resets_sent, "delayed", (json_int_t)t.delayed,
			 "trimmed", (json_int_t)t.trimmed, "retransmits", (json_int_t)t.retransmits,
			 "tunnelled", (json_int_t)t.tunnelled, "parsers_free",
			 (json_int_t)free_now);
}

json_t *
nm_node_policy_json(struct nm_node *node)
{
	json_t *o = json_object(), *list = json_array();
	uint64_t dflows = 0, ddrops = 0, dreq = 0, dref = 0;

	for (unsigned int i = 0; i < node->n_rules; i++) {
		const struct nm_rule *r = &node->rules[i];
		const struct nm_rule_counts *base = &node->rule_base[r->slot];
		struct nm_rule_counts c;

		rule_counters(node, r->slot, &c);
		json_array_append_new(
		    list, json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "id", (json_int_t)r->id,
				    "rule", r->text, "flows", (json_int_t)(c.flows - base->flows),
				    "drops", (json_int_t)(c.drops - base->drops), "requests",
				    (json_int_t)(c.requests - base->requests), "refused",
				    (json_int_t)(c.refused - base->refused)));
	}
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		dflows += LOAD(node->dp.workers[i]->default_flows);
		ddrops += LOAD(node->dp.workers[i]->default_drops);
		dreq += LOAD(node->dp.workers[i]->default_requests);
		dref += LOAD(node->dp.workers[i]->default_refused);
	}
	json_object_set_new(o, "default", json_string(node->default_allow ? "allow" : "deny"));
	json_object_set_new(o, "default_flows", json_integer((json_int_t)dflows));
	json_object_set_new(o, "default_drops", json_integer((json_int_t)ddrops));
	json_object_set_new(o, "default_requests", json_integer((json_int_t)dreq));
	json_object_set_new(o, "default_refused", json_integer((json_int_t)dref));
	json_object_set_new(o, "generation", json_integer((json_int_t)node->dp.pods->generation));
	json_object_set_new(o, "identities",
			    json_integer((json_int_t)node->dp.pods->policy->n_live_ids));
	json_object_set_new(o, "compile_us",
			    json_integer((json_int_t)node->dp.pods->policy->compile_us));
	json_object_set_new(o, "rules", list);
	json_object_set_new(o, "http", authz_json(node));
	return o;
}
