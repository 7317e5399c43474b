/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `identity set|del|list`: the node agent's interface. An identity may
 * arrive before its pod is attached (kept until the pod comes) or after
 * (the pod's published spec changes, policy is compiled again and every
 * flow of the pod is judged again at its next packet, as after any policy
 * change). Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node_priv.h"
#include "node.h"
#include "peers.h"
#include "pod_table.h"

/* The attached local pod ns/name, or -1. */
static int
find_local(const struct nm_pod_table *t, const char *ns, const char *name)
{
	for (int slot = 0; slot < NM_MAX_PODS; slot++) {
		const struct nm_pod *p = &t->pods[slot];
		if (p->live != NULL && strcmp(p->spec.ns, ns) == 0 &&
		    strcmp(p->spec.name, name) == 0)
			return slot;
	}
	return -1;
}

/* Give the attached pod ns/name the identity id (NULL: unknown) and publish. */
static int
reidentify(struct nm_node *node, const char *ns, const char *name, const struct nm_identity *id,
	   char *err, size_t errlen)
{
	int slot = find_local(node->dp.pods, ns, name);

	if (slot < 0)
		return 0;
	struct nm_pod_table *next =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	if (next == NULL) {
		snprintf(err, errlen, "out of memory for the pod table");
		return -ENOMEM;
	}
	struct nm_pod *p = &next->pods[slot];
	nm_identity_apply(id, &p->spec);
	int rc = nm_node_publish_rebuilt(node, next, err, errlen);
	if (rc < 0)
		return rc;
	p = &node->dp.pods->pods[slot];
	node->pod_history[p->id % NM_POD_HISTORY] = p->spec;
	nm_peers_pod_changed(node->peers, &p->spec, true); /* a re-announcement replaces */
	return 0;
}

int
nm_node_identity_set(struct nm_node *node, const struct nm_identity *id, char *err, size_t errlen)
{
	const struct nm_identity *old = nm_identities_find(&node->identities, id->ns, id->name);
	struct nm_identity saved;
	bool had = old != NULL;

	if (had)
		saved = *old;
	int rc = nm_identities_set(&node->identities, id);
	if (rc == -ENOSPC) {
		snprintf(err, errlen, "identity table is full: %d identities", NM_MAX_IDENTITIES);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "out of memory for identities");
		return rc;
	}
	rc = reidentify(node, id->ns, id->name, id, err, errlen);
	if (rc < 0) {
		/* Nothing applied: the record goes back to what it was. */
		if (had)
			(void)nm_identities_set(&node->identities, &saved);
		else
			(void)nm_identities_del(&node->identities, id->ns, id->name);
	}
	return rc;
}

int
nm_node_identity_del(struct nm_node *node, const char *ns, const char *name, char *err,
		     size_t errlen)
{
	const struct nm_identity *old = nm_identities_find(&node->identities, ns, name);

	if (old == NULL) {
		snprintf(err, errlen, "no identity for %s/%s", ns, name);
		return -ENOENT;
	}
	struct nm_identity saved = *old;
	int rc = reidentify(node, ns, name, NULL, err, errlen);
	if (rc == 0)
		rc = nm_identities_del(&node->identities, saved.ns, saved.name);
	return rc;
}

json_t *
nm_node_identities_json(const struct nm_node *node)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; i < node->identities.n; i++) {
		const struct nm_identity *id = &node->identities.v[i];
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "namespace", id->ns, "name",
				   id->name, "serviceaccount", id->sa, "labels", id->labels,
				   "image", id->image, "attached",
				   find_local(node->dp.pods, id->ns, id->name) >= 0));
	}
	return arr;
}
