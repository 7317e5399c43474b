/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security identities (idreg.h): an array by id with a chained hash index
 * by (namespace, service account, labels). Interning a table's pods costs a
 * hash lookup each; the sweep at the end of a round walks the ids once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_jhash.h>

#include "idreg.h"

#define MAX_LABEL_ITEMS (NM_LABELS_LEN / 2) /* "a," is the shortest item */

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
nm_labels_normalize(const char *labels, char *out, size_t outlen)
{
	char buf[NM_LABELS_LEN];
	const char *items[MAX_LABEL_ITEMS] = {0};
	unsigned int n = 0;

	snprintf(buf, sizeof(buf), "%s", labels);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save);
	     tok != NULL && n < MAX_LABEL_ITEMS; tok = strtok_r(NULL, ",", &save))
		items[n++] = tok;
	qsort(items, n, sizeof(items[0]), item_cmp);
	size_t len = 0;
	out[0] = '\0';
	for (unsigned int i = 0; i < n; i++) {
		int w = snprintf(out + len, outlen - len, "%s%s", i ? "," : "", items[i]);
		if (w < 0 || (size_t)w >= outlen - len)
			break; /* cannot happen: out is as long as labels, and so is the result */
		len += (size_t)w;
	}
}

static uint32_t
key_hash(const char *ns, const char *sa, const char *labels)
{
	uint32_t h = rte_jhash(ns, (uint32_t)strlen(ns), 0x6e6d6964u);

	h = rte_jhash(sa, (uint32_t)strlen(sa), h);
	return rte_jhash(labels, (uint32_t)strlen(labels), h);
}

static int
grow(struct nm_idreg *r)
{
	uint32_t cap = r->cap ? r->cap * 2 : 256;
	struct nm_idreg_entry *e = realloc(r->e, (size_t)cap * sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	r->e = e;
	uint32_t *free_ids = realloc(r->free_ids, (size_t)cap * sizeof(*free_ids));
	if (free_ids == NULL)
		return -ENOMEM;
	r->free_ids = free_ids;
	uint32_t *bucket = calloc(cap, sizeof(*bucket));
	if (bucket == NULL)
		return -ENOMEM;
	free(r->bucket);
	r->bucket = bucket;
	r->n_buckets = cap;
	r->cap = cap;
	if (r->n == 0) {
		memset(&r->e[0], 0, sizeof(r->e[0])); /* the unknown identity */
		r->n = 1;
	}
	for (uint32_t id = 1; id < r->n; id++) {
		if (r->e[id].round == 0)
			continue;
		uint32_t *b = &r->bucket[r->e[id].hash & (r->n_buckets - 1)];
		r->e[id].next = *b;
		*b = id;
	}
	return 0;
}

void
nm_idreg_begin(struct nm_idreg *r)
{
	r->round++;
	if (r->round == 0)
		r->round = 1; /* 0 marks a free entry */
}

uint32_t
nm_idreg_intern(struct nm_idreg *r, const struct nm_pod_spec *spec)
{
	char labels[NM_LABELS_LEN];

	if (spec->sa[0] == '\0')
		return NM_IDENTITY_NONE;
	nm_labels_normalize(spec->labels, labels, sizeof(labels));
	uint32_t h = key_hash(spec->ns, spec->sa, labels);
	if (r->cap != 0) {
		for (uint32_t id = r->bucket[h & (r->n_buckets - 1)]; id != 0; id = r->e[id].next) {
			struct nm_idreg_entry *x = &r->e[id];
			if (x->hash == h && strcmp(x->ns, spec->ns) == 0 &&
			    strcmp(x->sa, spec->sa) == 0 && strcmp(x->labels, labels) == 0) {
				x->round = r->round;
				return id;
			}
		}
	}
	uint32_t id;
	if (r->n_free > 0) {
		id = r->free_ids[--r->n_free];
	} else {
		if (r->n == NM_IDREG_MAX)
			return NM_IDREG_FULL;
		if (r->n == r->cap && grow(r) < 0)
			return NM_IDREG_FULL;
		id = r->n++;
	}
	struct nm_idreg_entry *x = &r->e[id];
	memcpy(x->ns, spec->ns, sizeof(x->ns));
	memcpy(x->sa, spec->sa, sizeof(x->sa));
	memcpy(x->labels, labels, sizeof(x->labels));
	x->hash = h;
	x->round = r->round;
	x->held = 0;
	uint32_t *b = &r->bucket[h & (r->n_buckets - 1)];
	x->next = *b;
	*b = id;
	return id;
}

/* Take id out of its bucket's chain. */
static void
unlink_id(struct nm_idreg *r, uint32_t id)
{
	uint32_t *link = &r->bucket[r->e[id].hash & (r->n_buckets - 1)];

	while (*link != id)
		link = &r->e[*link].next;
	*link = r->e[id].next;
}

void
nm_idreg_end(struct nm_idreg *r)
{
	r->live = 0;
	for (uint32_t id = 1; id < r->n; id++) {
		struct nm_idreg_entry *x = &r->e[id];
		if (x->round == r->round || (x->round != 0 && x->held > 0)) {
			x->round = r->round;
			r->live++;
			continue;
		}
		if (x->round == 0)
			continue; /* already free */
		unlink_id(r, id);
		x->round = 0;
		r->free_ids[r->n_free++] = id;
	}
}

uint32_t
nm_idreg_hold(struct nm_idreg *r, const struct nm_pod_spec *spec, bool *created)
{
	uint32_t n_before = r->n, free_before = r->n_free;

	/* Before any round: an entry's round 0 would read as free. */
	if (r->round == 0)
		r->round = 1;
	uint32_t id = nm_idreg_intern(r, spec);

	*created = false;
	if (id == NM_IDENTITY_NONE || id == NM_IDREG_FULL)
		return id;
	/* A new id came from the free list or the end of the array. */
	*created = r->n != n_before || r->n_free != free_before;
	if (*created)
		r->live++;
	r->e[id].held++;
	return id;
}

bool
nm_idreg_release(struct nm_idreg *r, uint32_t id)
{
	if (id == NM_IDENTITY_NONE || id >= r->n || r->e[id].held == 0)
		return false;
	return --r->e[id].held == 0;
}

const struct nm_idreg_entry *
nm_idreg_get(const struct nm_idreg *r, uint32_t id)
{
	if (id == NM_IDENTITY_NONE || id >= r->n || r->e[id].round == 0)
		return NULL;
	return &r->e[id];
}

void
nm_idreg_free(struct nm_idreg *r)
{
	free(r->e);
	free(r->bucket);
	free(r->free_ids);
	memset(r, 0, sizeof(*r));
}
