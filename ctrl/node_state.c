/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's run-time state on disk (format and codec: ctrl/state.c).
 * Commands that change the state mark it (nm_node_state_changed); the
 * event loop writes it once per turn that had changes, so a burst of pod
 * adds costs one write. At start, nm_node_state_restore puts a saved state
 * back: identities first (so pods attach with theirs), then rules, pods,
 * peers and the signature file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "node_priv.h"
#include "nodemesh/sig_set-t.h"
#include "node.h"
#include "peers.h"
#include "loop_wait.h"
#include "state.h"

#define RETRY_NS 1000000000ull /* a failed write is tried again after this */

/* What the node holds now, as a state; the arrays point into the node. */
static int
collect(const struct nm_node *node, struct nm_state *st)
{
	const struct nm_pod_table *t = node->dp.pods;

	memset(st, 0, sizeof(*st));
	st->pods = calloc(NM_MAX_PODS, sizeof(*st->pods));
	if (st->pods == NULL)
		return -ENOMEM;
	for (int slot = 0; slot < NM_MAX_PODS; slot++) {
		if (t->pods[slot].live == NULL)
			continue;
		/* Identities are saved on their own: the pod as it was attached. */
		st->pods[st->n_pods] = t->pods[slot].spec;
		nm_identity_apply(NULL, &st->pods[st->n_pods]);
		st->n_pods++;
	}
	st->n_identities = node->identities.n;
	st->identities = node->identities.v;
	st->n_rules = node->n_rules;
	st->rules = node->rules;
	st->next_rule_id = node->next_rule_id;
	st->default_allow = node->default_allow;
	st->peers = calloc(NM_PEERS_MAX, sizeof(*st->peers));
	if (st->peers == NULL) {
		free(st->pods);
		st->pods = NULL;
		return -ENOMEM;
	}
	st->n_peers = nm_peers_specs(node->peers, st->peers, NM_PEERS_MAX);
	if (node->dp.sigs != NULL)
		snprintf(st->sig_file, sizeof(st->sig_file), "%s", node->dp.sigs->file);
	return 0;
}

char *
nm_node_state_encode(const struct nm_node *node, size_t *len)
{
	struct nm_state st;
	char *buf = NULL;

	*len = 0;
	if (collect(node, &st) < 0)
		return NULL;
	json_t *body = nm_state_body(&st, node->cfg.node_name);
	if (body != NULL)
		buf = nm_state_encode(body, len);
	json_decref(body);
	free(st.pods); /* the other arrays but peers are the node's */
	free(st.peers);
	return buf;
}

static int
save(struct nm_node *node, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = nm_node_state_encode(node, &len);
	int rc;

	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = nm_state_write(node->state.path, buf, len, err, errlen);
	node->state.bytes = len;
	free(buf);
	return rc;
}

void
nm_node_state_changed(struct nm_node *node)
{
	node->state.dirty = true;
}

void
nm_node_state_flush(struct nm_node *node)
{
	char err[256];
	uint64_t t0 = nm_mono_ns();

	if (!node->state.dirty || node->state.path[0] == '\0' || t0 < node->state.retry_ns)
		return;
	int rc = save(node, err, sizeof(err));
	uint64_t us = (nm_mono_ns() - t0) / 1000;
	node->state.last_us = us;
	if (us > node->state.max_us)
		node->state.max_us = us;
	if (rc < 0) {
		/* Said once per failure streak; tried again each second. */
		if (node->state.failing == 0)
			RTE_LOG(ERR, USER1, "state: %s (run-time changes are not saved)\n", err);
		node->state.failing++;
		node->state.failures++;
		snprintf(node->state.last_error, sizeof(node->state.last_error), "%s", err);
		node->state.retry_ns = t0 + RETRY_NS;
		return;
	}
	if (node->state.failing)
		RTE_LOG(INFO, USER1, "state: saved again to %s\n", node->state.path);
	node->state.failing = 0;
	node->state.dirty = false;
	node->state.saves++;
}

/* A state that cannot be used is kept for a person to look at, not overwritten. */
static void
refuse(struct nm_node *node, const char *path, const char *why)
{
	char aside[sizeof(node->state.path) + 16];

	snprintf(aside, sizeof(aside), "%s.refused", path);
	RTE_LOG(ERR, USER1,
		"state: %s refused: %s; starting from the config alone (the file is kept as "
		"%s)\n",
		path, why, aside);
	if (rename(path, aside) < 0)
		RTE_LOG(ERR, USER1, "state: moving it aside failed: %s\n", strerror(errno));
	snprintf(node->state.restored, sizeof(node->state.restored), "refused: %s", why);
}

static bool
same_peer(const struct nm_peer_spec *a, const struct nm_peer_spec *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->host, b->host) == 0 &&
	       a->port == b->port && a->fabric_ip == b->fabric_ip &&
	       a->pod_cidr.net == b->pod_cidr.net &&
	       a->pod_cidr.prefix_len == b->pod_cidr.prefix_len;
}

/* Peers: the state's set, whatever the config named. */
static void
restore_peers(struct nm_node *node, const struct nm_state *st)
{
	struct nm_peer_spec *now = calloc(NM_PEERS_MAX, sizeof(*now));
	char err[256];

	if (now == NULL) {
		RTE_LOG(ERR, USER1, "state: peers not restored: out of memory\n");
		return;
	}
	unsigned int n = nm_peers_specs(node->peers, now, NM_PEERS_MAX);

	for (unsigned int i = 0; i < n; i++) {
		bool keep = false;
		for (unsigned int k = 0; k < st->n_peers; k++)
			keep |= same_peer(&now[i], &st->peers[k]);
		if (!keep)
			(void)nm_peers_del(node->peers, now[i].name, err, sizeof(err));
	}
	for (unsigned int k = 0; k < st->n_peers; k++) {
		bool have = false;
		for (unsigned int i = 0; i < n; i++)
			have |= same_peer(&now[i], &st->peers[k]);
		if (!have && nm_peers_add(node->peers, &st->peers[k], err, sizeof(err)) < 0)
			RTE_LOG(ERR, USER1, "state: peer %s not restored: %s\n", st->peers[k].name,
				err);
	}
	free(now);
}

/* Put st in force. A pod whose interface is gone is skipped (and said). */
static unsigned int
apply(struct nm_node *node, const struct nm_state *st)
{
	unsigned int skipped = 0;
	char err[256];

	/* Through the command's path: pods the config attached take theirs too. */
	for (unsigned int i = 0; i < st->n_identities; i++)
		if (nm_node_identity_set(node, &st->identities[i], err, sizeof(err)) < 0) {
			RTE_LOG(ERR, USER1, "state: identity %s/%s not restored: %s\n",
				st->identities[i].ns, st->identities[i].name, err);
			skipped++;
		}
	if (nm_node_policy_restore(node, st->rules, st->n_rules, st->next_rule_id,
				   st->default_allow, err, sizeof(err)) < 0) {
		RTE_LOG(ERR, USER1, "state: rules not restored: %s\n", err);
		skipped++;
	}
	/* Pods from the config that the state does not hold were deleted at run time. */
	for (unsigned int i = 0; i < node->cfg.n_pods; i++) {
		const struct nm_pod_spec *c = &node->cfg.pods[i];
		bool kept = false;
		char full[2 * NM_NAME_LEN];
		for (unsigned int k = 0; k < st->n_pods; k++)
			kept |= strcmp(st->pods[k].name, c->name) == 0 &&
				strcmp(st->pods[k].ns, c->ns) == 0;
		snprintf(full, sizeof(full), "%s/%s", c->ns, c->name);
		if (!kept)
			(void)nm_node_pod_del(node, full, err, sizeof(err));
	}
	for (unsigned int i = 0; i < st->n_pods; i++) {
		int rc = nm_node_pod_add(node, &st->pods[i], err, sizeof(err));
		if (rc < 0 && rc != -EEXIST) {
			RTE_LOG(ERR, USER1, "state: pod %s not restored: %s\n", st->pods[i].name,
				err);
			skipped++;
		}
	}
	restore_peers(node, st);
	const char *now = node->dp.sigs != NULL ? node->dp.sigs->file : "";
	uint64_t id;
	if (st->sig_file[0] != '\0' && strcmp(st->sig_file, now) != 0 &&
	    nm_node_sig_load_start(node, st->sig_file, &id, err, sizeof(err)) < 0) {
		RTE_LOG(ERR, USER1, "state: signature file %s not loaded: %s\n", st->sig_file, err);
		skipped++;
	}
	return skipped;
}

int
nm_node_state_restore(struct nm_node *node, const char *path)
{
	char err[256], *buf = NULL;
	size_t len = 0;
	struct nm_state st;

	snprintf(node->state.path, sizeof(node->state.path), "%s", path);
	if (path[0] == '\0')
		return 0;
	int rc = nm_state_read(path, &buf, &len, err, sizeof(err));
	if (rc == -ENOENT) {
		RTE_LOG(INFO, USER1, "state: no %s: a first start\n", path);
		snprintf(node->state.restored, sizeof(node->state.restored), "first start");
		nm_node_state_changed(node);
		return 0;
	}
	if (rc < 0) {
		refuse(node, path, err);
		nm_node_state_changed(node);
		return rc == -ENOMEM ? rc : 0;
	}
	json_t *body = nm_state_decode(buf, len, err, sizeof(err));
	free(buf);
	if (body == NULL || nm_state_parse(body, &st, err, sizeof(err)) < 0) {
		json_decref(body);
		refuse(node, path, err);
		nm_node_state_changed(node);
		return 0;
	}
	json_decref(body);
	unsigned int skipped = apply(node, &st);
	RTE_LOG(INFO, USER1,
		"state: restored from %s: %u pods, %u identities, %u rules, %u peers%s%s (%u "
		"not restored)\n",
		path, st.n_pods, st.n_identities, st.n_rules, st.n_peers,
		st.sig_file[0] ? ", signatures " : "", st.sig_file, skipped);
	snprintf(node->state.restored, sizeof(node->state.restored),
		 "restored: %u pods, %u identities, %u rules, %u peers, %u not restored", st.n_pods,
		 st.n_identities, st.n_rules, st.n_peers, skipped);
	nm_state_clear(&st);
	nm_node_state_changed(node); /* what could not be restored is no longer state */
	return 0;
}

int
nm_node_state_takeover(struct nm_node *node, const char *path, const char *buf, size_t len,
		       char *err, size_t errlen)
{
	struct nm_state st;
	json_t *body = nm_state_decode(buf, len, err, errlen);

	snprintf(node->state.path, sizeof(node->state.path), "%s", path);
	if (body == NULL || nm_state_parse(body, &st, err, errlen) < 0) {
		json_decref(body);
		return -EINVAL;
	}
	json_decref(body);
	unsigned int skipped = apply(node, &st);
	RTE_LOG(INFO, USER1,
		"state: taken over: %u pods, %u identities, %u rules, %u peers%s%s (%u not "
		"restored)\n",
		st.n_pods, st.n_identities, st.n_rules, st.n_peers,
		st.sig_file[0] ? ", signatures " : "", st.sig_file, skipped);
	snprintf(node->state.restored, sizeof(node->state.restored),
		 "taken over: %u pods, %u identities, %u rules, %u peers, %u not restored",
		 st.n_pods, st.n_identities, st.n_rules, st.n_peers, skipped);
	nm_state_clear(&st);
	/* The old daemon wrote nothing since it stopped; this one saves from now on. */
	nm_node_state_changed(node);
	return (int)skipped;
}

json_t *
nm_node_state_json(const struct nm_node *node)
{
	return json_pack(
	    "{s:s?, s:s, s:b, s:I, s:I, s:s?, s:I, s:I, s:I}", "file",
	    node->state.path[0] ? node->state.path : NULL, "at_start", node->state.restored,
	    "unsaved", node->state.dirty, "saves", (json_int_t)node->state.saves, "failures",
	    (json_int_t)node->state.failures, "last_error",
	    node->state.failing ? node->state.last_error : NULL, "bytes",
	    (json_int_t)node->state.bytes, "last_write_us", (json_int_t)node->state.last_us,
	    "max_write_us", (json_int_t)node->state.max_us);
}
