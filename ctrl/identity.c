/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Workload identities: a flat array (what `identity list` walks) with a
 * chained hash index by namespace/name, so a node agent setting the
 * identities of a busy node's pods one by one costs constant time each,
 * not a scan of all of them. Control thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

/* FNV-1a of "ns/name": cap is a power of two, so the low bits pick the bucket. */
static uint32_t
hash(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *p = ns; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

static int32_t *
bucket_of(const struct nm_identities *ids, const char *ns, const char *name)
{
	return &ids->bucket[hash(ns, name) & (ids->cap - 1)];
}

static int
find(const struct nm_identities *ids, const char *ns, const char *name)
{
	if (ids->cap == 0)
		return -1;
	for (int32_t i = *bucket_of(ids, ns, name); i >= 0; i = ids->next[i])
		if (strcmp(ids->v[i].ns, ns) == 0 && strcmp(ids->v[i].name, name) == 0)
			return i;
	return -1;
}

static void
link_entry(struct nm_identities *ids, int32_t i)
{
	int32_t *b = bucket_of(ids, ids->v[i].ns, ids->v[i].name);

	ids->next[i] = *b;
	*b = i;
}

/* Twice the room, every entry linked again. */
static int
grow(struct nm_identities *ids)
{
	unsigned int cap = ids->cap ? ids->cap * 2 : 64;
	struct nm_identity *v = realloc(ids->v, (size_t)cap * sizeof(*v));
	int32_t *next = malloc((size_t)cap * sizeof(*next));
	int32_t *bucket = malloc((size_t)cap * sizeof(*bucket));

	if (v != NULL)
		ids->v = v;
	if (v == NULL || next == NULL || bucket == NULL) {
		free(next);
		free(bucket);
		return -ENOMEM;
	}
	free(ids->next);
	free(ids->bucket);
	ids->next = next;
	ids->bucket = bucket;
	ids->cap = cap;
	memset(bucket, 0xff, (size_t)cap * sizeof(*bucket)); /* -1: empty */
	for (unsigned int i = 0; i < ids->n; i++)
		link_entry(ids, (int32_t)i);
	return 0;
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
	if (ids->n == ids->cap && grow(ids) < 0)
		return -ENOMEM;
	ids->v[ids->n] = *id;
	link_entry(ids, (int32_t)ids->n);
	ids->n++;
	return 0;
}

/* Take entry i out of its bucket's chain. */
static void
unlink_entry(struct nm_identities *ids, int32_t i)
{
	int32_t *p = bucket_of(ids, ids->v[i].ns, ids->v[i].name);

	while (*p != i)
		p = &ids->next[*p];
	*p = ids->next[i];
}

int
nm_identities_del(struct nm_identities *ids, const char *ns, const char *name)
{
	int i = find(ids, ns, name);

	if (i < 0)
		return -ENOENT;
	unlink_entry(ids, i);
	int32_t last = (int32_t)ids->n - 1;
	if (i != last) {
		/* The last entry fills the hole: its chain must point at its new place. */
		unlink_entry(ids, last);
		ids->v[i] = ids->v[last];
		link_entry(ids, i);
	}
	ids->n--;
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
	free(ids->next);
	free(ids->bucket);
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
