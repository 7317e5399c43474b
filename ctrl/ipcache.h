/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ipcache's write side (control thread only): create the hash with
 * its RCU reclaim on the node's QSBR variable, set and remove entries,
 * walk them. Types and ownership: nodemesh/ipcache-t.h.
 */
#ifndef NM_CTRL_IPCACHE_H
#define NM_CTRL_IPCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/ipcache-t.h"

struct rte_hash;
struct nm_ipcache_image;
struct rte_rcu_qsbr;

struct nm_ipcache {
	struct rte_hash *h;
	uint32_t max;	  /* entries allowed (tunnel.max_remote_pods) */
	uint32_t n;	  /* entries present */
	size_t bytes;	  /* DPDK heap the hash and its defer queue took at creation */
	uint64_t refused; /* sets refused: the table was full */
	/*
	 * What only the control thread needs of a remote pod: its image (for
	 * records, `pod list remote`), by the hash's key position, NULL when
	 * the peer gave none. Images are interned: the pods of one workload
	 * share one reference-counted copy, found through image_bucket.
	 */
	struct nm_ipcache_image **image;
	uint32_t image_slots;			/* rte_hash_max_key_id + 1 */
	struct nm_ipcache_image **image_bucket; /* NM_IPCACHE_IMAGE_BUCKETS chains */
	size_t image_bytes;			/* heap both take, and the copies */
};

/*
 * Create ic for max entries, readers reporting quiescent states on qsbr,
 * hashed with seed. 0, or -errno with err naming the failed call.
 */
int nm_ipcache_create(struct nm_ipcache *ic, uint32_t max, struct rte_rcu_qsbr *qsbr, uint32_t seed,
		      char *err, size_t errlen);
void nm_ipcache_destroy(struct nm_ipcache *ic);
/*
 * Set ip's entry to *e, in place when ip is there (*old gets what it was,
 * *had says whether it was). 0, or -ENOSPC (full, counted in refused).
 */
int nm_ipcache_set(struct nm_ipcache *ic, uint32_t ip, const struct nm_ipcache_entry *e,
		   struct nm_ipcache_entry *old, int *had);
/* Set ip's image (ip is in ic; "" or NULL: none). 0, or -ENOENT, -ENOMEM. */
int nm_ipcache_set_image(struct nm_ipcache *ic, uint32_t ip, const char *image);
/* ip's image, "" when none or ip is not in ic. Valid until ip's entry changes. */
const char *nm_ipcache_image(const struct nm_ipcache *ic, uint32_t ip);
/* Remove ip's entry, its old value in *old. 0, or -ENOENT. */
int nm_ipcache_del(struct nm_ipcache *ic, uint32_t ip, struct nm_ipcache_entry *old);
/* ip's entry into *e: 0, or -ENOENT. */
int nm_ipcache_get(const struct nm_ipcache *ic, uint32_t ip, struct nm_ipcache_entry *e);
/*
 * The next entry after *iter (start at 0): 0 with *ip and *e, or -ENOENT at
 * the end. Entries set or removed during a walk may be seen or not.
 */
int nm_ipcache_next(const struct nm_ipcache *ic, uint32_t *iter, uint32_t *ip,
		    struct nm_ipcache_entry *e);

#endif
