/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ipcache's read side (types and ownership in nodemesh/ipcache-t.h):
 * the value packing both sides share, and the lookup workers make, safe
 * against the control thread's concurrent writes (lock-free readers).
 */
#ifndef NM_IPCACHE_H
#define NM_IPCACHE_H

#include <stdint.h>

#include <rte_hash.h>

#include "nodemesh/ipcache-t.h"

/* The entry as rte_hash's data pointer: identity in bits 0-31, peer 32-47, session 48-63. */
static inline void *
nm_ipcache_pack(const struct nm_ipcache_entry *e)
{
	uint64_t v = (uint64_t)e->identity | (uint64_t)e->peer << 32 | (uint64_t)e->session << 48;

	return (void *)(uintptr_t)v;
}

static inline void
nm_ipcache_unpack(const void *data, struct nm_ipcache_entry *e)
{
	uint64_t v = (uint64_t)(uintptr_t)data;

	e->identity = (uint32_t)v;
	e->peer = (uint16_t)(v >> 32);
	e->session = (uint16_t)(v >> 48);
}

/* The remote pod at ip (network order) into *e: 0, or -1 when no peer announced ip. */
static inline int
nm_ipcache_lookup(const struct rte_hash *h, uint32_t ip, struct nm_ipcache_entry *e)
{
	void *data;

	if (rte_hash_lookup_data(h, &ip, &data) < 0)
		return -1;
	nm_ipcache_unpack(data, e);
	return 0;
}

#endif
