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
	return 0;
}

void
nm_ipcache_destroy(struct nm_ipcache *ic)
{
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
	if (rte_hash_del_key(ic->h, &ip) < 0)
		return -ENOENT;
	ic->n--;
	return 0;
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
