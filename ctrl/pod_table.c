/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod tables. The control thread never edits a published table: it clones
 * the current one, edits the clone, indexes it (a fresh rte_hash by pod
 * address, seeded at random per run, and the per-worker lists of owned
 * slots) and publishes it (node.c). A table is small (a few hundred KiB)
 * and changes at human speed, so copy-on-write costs nothing that matters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

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
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
	    .name = name,
	    .entries = NM_MAX_PODS * 2,
	    .key_len = sizeof(uint32_t),
	    .hash_func = rte_jhash,
	    /* A per-run random seed: addresses an attacker picks cannot aim at one bucket. */
	    .hash_func_init_val = (uint32_t)seed,
	    .socket_id = (int)rte_socket_id(),
	};

	if (t->by_ip != NULL) {
		rte_hash_free(t->by_ip);
		t->by_ip = NULL;
	}
	snprintf(name, sizeof(name), "nm_pods_%" PRIu64, t->generation);
	t->by_ip = rte_hash_create(&hp);
	if (t->by_ip == NULL)
		return -ENOMEM;

	t->n_pods = 0;
	memset(t->n_owned, 0, sizeof(t->n_owned));
	for (uint16_t slot = 0; slot < NM_MAX_PODS; slot++) {
		const struct nm_pod *p = &t->pods[slot];

		if (!nm_pod_present(p))
			continue;
		if (p->worker >= n_workers)
			return -EINVAL;
		int rc = rte_hash_add_key_data(t->by_ip, &p->spec.ip, (void *)(uintptr_t)slot);
		if (rc < 0)
			return rc;
		if (p->remote)
			continue; /* announced by a peer: no port to poll */
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
	rte_hash_free(t->by_ip);
	t->by_ip = NULL;
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
