/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Workload identities. A node keeps the identities of its own pods (the
 * agent sets them for the pods scheduled on the node), so a flat array
 * searched linearly is enough: a few hundred entries, changed at the API
 * server's pace, on the control thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

static int
find(const struct nm_identities *ids, const char *ns, const char *name)
{
	for (unsigned int i = 0; i < ids->n; i++)
		if (strcmp(ids->v[i].ns, ns) == 0 && strcmp(ids->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
nm_identities_set(struct nm_identities *ids, const struct nm_identity *id)
{
	int i = find(ids, id->ns, id->name);

	if (i >= 0) {
		ids->v[i] = *id;
		return 0;
	}
	if (ids->n == NM_MAX_IDENTITIES)
		return -ENOSPC;
	if (ids->n == ids->cap) {
		unsigned int cap = ids->cap ? ids->cap * 2 : 64;
		struct nm_identity *v = realloc(ids->v, (size_t)cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = *id;
	return 0;
}

int
nm_identities_del(struct nm_identities *ids, const char *ns, const char *name)
{
	int i = find(ids, ns, name);

	if (i < 0)
		return -ENOENT;
	ids->v[i] = ids->v[--ids->n];
	return 0;
}

const struct nm_identity *
nm_identities_find(const struct nm_identities *ids, const char *ns, const char *name)
{
	int i = find(ids, ns, name);

	return i < 0 ? NULL : &ids->v[i];
}

void
nm_identities_free(struct nm_identities *ids)
{
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

void
nm_identity_apply(const struct nm_identity *id, struct nm_pod_spec *spec)
{
	if (id == NULL) {
		spec->sa[0] = spec->labels[0] = spec->image[0] = '\0';
		return;
	}
	memcpy(spec->sa, id->sa, sizeof(spec->sa));
	memcpy(spec->labels, id->labels, sizeof(spec->labels));
	memcpy(spec->image, id->image, sizeof(spec->image));
}

void
nm_identity_from_spec(struct nm_identity *id, const struct nm_pod_spec *spec)
{
	memcpy(id->ns, spec->ns, sizeof(id->ns));
	memcpy(id->name, spec->name, sizeof(id->name));
	memcpy(id->sa, spec->sa, sizeof(id->sa));
	memcpy(id->labels, spec->labels, sizeof(id->labels));
	memcpy(id->image, spec->image, sizeof(id->image));
}
