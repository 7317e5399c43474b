/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ipcache's write side (ipcache.h). One writer, the control thread;
 * readers are the workers, lock-free. An entry is 64 bits stored as the
 * hash's data pointer, so a change of identity or peer is one atomic
 * store by rte_hash_add_key_data (no key slot is freed, nothing to
 * reclaim); a removed key's slot returns to the free list only after the
 * workers passed a quiescent state (rte_hash_rcu_qsbr_add, defer-queue
 * mode: the control thread never waits for the workers here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "ipcache.h"
#include "nodemesh/ipcache.h"

/* DPDK heap in use on this socket, to measure what the hash took. */
static size_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) < 0)
		return 0;
	return st.heap_allocsz_bytes;
}

#define NM_IPCACHE_IMAGE_BUCKETS 4096 /* a power of two */

/* One interned image reference, shared by the remote pods that run it. */
struct nm_ipcache_image {
	struct nm_ipcache_image *next; /* in its bucket */
	uint32_t refs;
	uint32_t hash;
	char s[]; /* NUL-terminated */
};

static uint32_t
image_hash(const char *s, size_t len)
{
	return rte_jhash(s, (uint32_t)len, 0);
}

/* A reference to image s (not ""), interned; NULL when out of memory. */
static struct nm_ipcache_image *
image_get(struct nm_ipcache *ic, const char *s)
{
	size_t len = strlen(s);
	uint32_t h = image_hash(s, len);
	struct nm_ipcache_image **b = &ic->image_bucket[h & (NM_IPCACHE_IMAGE_BUCKETS - 1)];

	for (struct nm_ipcache_image *i = *b; i != NULL; i = i->next) {
		if (i->hash == h && strcmp(i->s, s) == 0) {
			i->refs++;
			return i;
		}
	}
	struct nm_ipcache_image *i = malloc(sizeof(*i) + len + 1);
	if (i == NULL)
		return NULL;
	i->refs = 1;
	i->hash = h;
	memcpy(i->s, s, len + 1);
	i->next = *b;
	*b = i;
	ic->image_bytes += sizeof(*i) + len + 1;
	return i;
}

/* Let one reference to i go (NULL: none); the last frees it. */
static void
image_put(struct nm_ipcache *ic, struct nm_ipcache_image *i)
{
	if (i == NULL || --i->refs > 0)
		return;
	struct nm_ipcache_image **p = &ic->image_bucket[i->hash & (NM_IPCACHE_IMAGE_BUCKETS - 1)];
	while (*p != i)
		p = &(*p)->next;
	*p = i->next;
	ic->image_bytes -= sizeof(*i) + strlen(i->s) + 1;
	free(i);
}

int
nm_ipcache_create(struct nm_ipcache *ic, uint32_t max, struct rte_rcu_qsbr *qsbr, uint32_t seed,
		  char *err, size_t errlen)
{
	/*
	 * Room beyond max: keys removed but not yet reclaimed (a grace period
	 * away) still hold their slots, and a bucketised cuckoo hash may find
	 * no place for a key before every slot is used. max itself is enforced
	 * by the count.
	 */
	uint32_t entries = max + max / 4;
	struct rte_hash_parameters p = {
	    .name = "nm_ipcache",
	    .entries = entries,
	    .key_len = sizeof(uint32_t),
	    .hash_func = rte_jhash,
	    .hash_func_init_val = seed,
	    .socket_id = (int)rte_socket_id(),
	    .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	size_t before = heap_used();

	memset(ic, 0, sizeof(*ic));
	ic->h = rte_hash_create(&p);
	if (ic->h == NULL) {
		snprintf(err, errlen, "rte_hash_create(nm_ipcache, %u entries) failed: %s", entries,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	struct rte_hash_rcu_config rc = {.v = qsbr, .mode = RTE_HASH_QSBR_MODE_DQ};
	if (rte_hash_rcu_qsbr_add(ic->h, &rc) != 0) {
		snprintf(err, errlen, "rte_hash_rcu_qsbr_add(nm_ipcache) failed: %s",
			 rte_strerror(rte_errno));
		rte_hash_free(ic->h);
		ic->h = NULL;
		return -ENOMEM;
	}
	ic->max = max;
	ic->bytes = heap_used() - before;
	ic->image_slots = (uint32_t)rte_hash_max_key_id(ic->h) + 1;
	/* Arrays of pointers (sizeof of a pointer to a struct, as meant). */
	ic->image = calloc(ic->image_slots, sizeof(struct nm_ipcache_image *));
	ic->image_bucket = calloc(NM_IPCACHE_IMAGE_BUCKETS, sizeof(struct nm_ipcache_image *));
	if (ic->image == NULL || ic->image_bucket == NULL) {
		snprintf(err, errlen, "no memory for the ipcache's %u image slots",
			 ic->image_slots);
		nm_ipcache_destroy(ic);
		return -ENOMEM;
	}
	ic->image_bytes = ((size_t)ic->image_slots + NM_IPCACHE_IMAGE_BUCKETS) *
			  sizeof(struct nm_ipcache_image *);
	return 0;
}

void
nm_ipcache_destroy(struct nm_ipcache *ic)
{
	for (uint32_t i = 0; ic->image != NULL && i < ic->image_slots; i++)
		image_put(ic, ic->image[i]);
	free(ic->image);
	free(ic->image_bucket);
	ic->image = NULL;
	ic->image_bucket = NULL;
	rte_hash_free(ic->h); /* NULL is fine */
	ic->h = NULL;
	ic->n = 0;
}

int
nm_ipcache_get(const struct nm_ipcache *ic, uint32_t ip, struct nm_ipcache_entry *e)
{
	return nm_ipcache_lookup(ic->h, ip, e) < 0 ? -ENOENT : 0;
}

int
nm_ipcache_set(struct nm_ipcache *ic, uint32_t ip, const struct nm_ipcache_entry *e,
	       struct nm_ipcache_entry *old, int *had)
{
	*had = nm_ipcache_get(ic, ip, old) == 0;
	if (!*had && ic->n >= ic->max) {
		ic->refused++;
		return -ENOSPC;
	}
	/* In place for a present key: the data word is stored atomically (LF mode). */
	if (rte_hash_add_key_data(ic->h, &ip, nm_ipcache_pack(e)) < 0) {
		ic->refused++;
		return -ENOSPC;
	}
	if (!*had)
		ic->n++;
	return 0;
}

int
nm_ipcache_del(struct nm_ipcache *ic, uint32_t ip, struct nm_ipcache_entry *old)
{
	if (nm_ipcache_get(ic, ip, old) < 0)
		return -ENOENT;
	/* The slot is reclaimed after a grace period (the defer queue), not now. */
	int32_t pos = rte_hash_del_key(ic->h, &ip);
	if (pos < 0)
		return -ENOENT;
	if ((uint32_t)pos < ic->image_slots) {
		image_put(ic, ic->image[pos]);
		ic->image[pos] = NULL;
	}
	ic->n--;
	return 0;
}

/* ip's key position in the image array, or -1. */
static int32_t
image_pos(const struct nm_ipcache *ic, uint32_t ip)
{
	int32_t pos = rte_hash_lookup(ic->h, &ip);

	return pos >= 0 && (uint32_t)pos < ic->image_slots ? pos : -1;
}

int
nm_ipcache_set_image(struct nm_ipcache *ic, uint32_t ip, const char *image)
{
	int32_t pos = image_pos(ic, ip);
	struct nm_ipcache_image *i = NULL;

	if (pos < 0)
		return -ENOENT;
	if (image != NULL && image[0] != '\0') {
		if (ic->image[pos] != NULL && strcmp(ic->image[pos]->s, image) == 0)
			return 0;
		i = image_get(ic, image);
		if (i == NULL)
			return -ENOMEM;
	}
	image_put(ic, ic->image[pos]);
	ic->image[pos] = i;
	return 0;
}

const char *
nm_ipcache_image(const struct nm_ipcache *ic, uint32_t ip)
{
	int32_t pos = image_pos(ic, ip);

	return pos >= 0 && ic->image[pos] != NULL ? ic->image[pos]->s : "";
}

int
nm_ipcache_next(const struct nm_ipcache *ic, uint32_t *iter, uint32_t *ip,
		struct nm_ipcache_entry *e)
{
	const void *key;
	void *data;

	if (rte_hash_iterate(ic->h, &key, &data, iter) < 0)
		return -ENOENT;
	memcpy(ip, key, sizeof(*ip));
	nm_ipcache_unpack(data, e);
	return 0;
}
