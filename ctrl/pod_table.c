/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod tables. The control thread never edits a published table: it clones
 * the current one, edits the clone, indexes it (the index by pod address,
 * nodemesh/pod_index.h, seeded at random per run, and the per-worker lists
 * of owned slots) and publishes it (node.c). A table is small (a few hundred KiB)
 * and changes at human speed, so copy-on-write costs nothing that matters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "nodemesh/pod_index.h"
#include "pod_table.h"
#include "policy_compile.h"

struct nm_pod_table *
nm_pod_table_clone(const struct nm_pod_table *old, uint64_t seed, unsigned int n_workers)
{
	struct nm_pod_table *t = rte_zmalloc("nm_pod_table", sizeof(*t), RTE_CACHE_LINE_SIZE);

	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (old != NULL) {
		memcpy(t->pods, old->pods, sizeof(t->pods));
		t->generation = old->generation;
	}
	t->generation++;
	if (nm_pod_table_index(t, seed, n_workers) < 0) {
		rte_free(t);
		return NULL;
	}
	return t;
}

int
nm_pod_table_index(struct nm_pod_table *t, uint64_t seed, unsigned int n_workers)
{
	/* A per-run random seed: addresses an attacker picks cannot aim at one bucket. */
	t->ip_hash_seed = (uint32_t)seed;
	memset(t->by_ip, 0, sizeof(t->by_ip));
	t->n_pods = 0;
	memset(t->n_owned, 0, sizeof(t->n_owned));
	t->pods[NM_SLOT_REMOTE] = (struct nm_pod){.remote = 1, .id = NM_POD_ID_REMOTE};
	snprintf(t->pods[NM_SLOT_REMOTE].spec.name, sizeof(t->pods[NM_SLOT_REMOTE].spec.name),
		 "(remote)");
	for (uint16_t slot = 0; slot < NM_MAX_PODS; slot++) {
		const struct nm_pod *p = &t->pods[slot];

		if (!nm_pod_present(p))
			continue;
		if (p->worker >= n_workers)
			return -EINVAL;
		/* At most NM_MAX_PODS of NM_POD_INDEX_SIZE entries: the index never fills. */
		nm_pod_index_add(t, p->spec.ip, slot);
		t->owned[p->worker][t->n_owned[p->worker]++] = slot;
		t->n_pods++;
	}
	return 0;
}

void
nm_pod_table_free(struct nm_pod_table *t)
{
	if (t == NULL)
		return;
	nm_policy_free(t->policy);
	t->policy = NULL;
	rte_free(t);
}

int
nm_pod_table_find_name(const struct nm_pod_table *t, const char *name)
{
	const char *slash = strchr(name, '/');
	size_t ns_len = slash != NULL ? (size_t)(slash - name) : 0;
	const char *pod = slash != NULL ? slash + 1 : name;
	int found = -1;

	for (int slot = 0; slot < NM_MAX_PODS; slot++) {
		const struct nm_pod_spec *s = &t->pods[slot].spec;
		if (t->pods[slot].live == NULL || strcmp(s->name, pod) != 0)
			continue;
		if (slash != NULL && (strncmp(s->ns, name, ns_len) != 0 || s->ns[ns_len] != '\0'))
			continue;
		if (found >= 0)
			return -2; /* the name alone is not enough */
		found = slot;
	}
	return found;
}

void
nm_pod_name_error(int rc, const char *name, char *err, size_t errlen)
{
	if (rc == -2)
		snprintf(err, errlen,
			 "pods named '%s' are in several namespaces: say NAMESPACE/%s (pod del: "
			 "namespace=)",
			 name, name);
	else
		snprintf(err, errlen, "no pod named '%s'", name);
}
