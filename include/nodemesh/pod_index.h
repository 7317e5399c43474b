/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pod table's address index (types in nodemesh/pod_table-t.h), shared
 * by the control thread, which fills it when it builds a table
 * (ctrl/pod_table.c), and the workers, which look a burst's destinations
 * up in it (dataplane/egress.c, fabric.c). A plain open-addressed array in
 * the table itself: an rte_hash bulk lookup cost about 150 instructions a
 * key here, this costs a hash and one or two compares.
 *
 * The hash is CRC32-C (one instruction with SSE4.2, rte_hash_crc's
 * software table elsewhere), not jhash: the keys are the addresses the
 * control plane gave its pods, never chosen by traffic, so a hash an
 * attacker cannot steer buys nothing here; the flow table, whose keys
 * traffic chooses, keeps its seeded jhash (nodemesh/flow.h).
 */
#ifndef NM_POD_INDEX_H
#define NM_POD_INDEX_H

#include <stdint.h>

#include <rte_hash_crc.h>

#include "nodemesh/pod_table-t.h"

/* Hash of a pod's IPv4 address (network order) with the table's per-run seed. */
static inline uint32_t
nm_pod_ip_hash(uint32_t ip, uint32_t seed)
{
	return rte_hash_crc_4byte(ip, seed);
}

/* The slot of the pod at ip (local or remote), or -1. */
static inline int
nm_pod_index_lookup(const struct nm_pod_table *t, uint32_t ip)
{
	uint32_t i = nm_pod_ip_hash(ip, t->ip_hash_seed);

	/* At most half full: a probe always reaches an empty entry. */
	for (;; i++) {
		const struct nm_pod_index_entry *e = &t->by_ip[i & (NM_POD_INDEX_SIZE - 1)];

		if (e->used == 0)
			return -1;
		if (e->ip == ip)
			return e->slot;
	}
}

/* Index the pod at slot by ip; a second pod at the same address replaces the first. */
static inline void
nm_pod_index_add(struct nm_pod_table *t, uint32_t ip, uint16_t slot)
{
	uint32_t i = nm_pod_ip_hash(ip, t->ip_hash_seed);

	for (;; i++) {
		struct nm_pod_index_entry *e = &t->by_ip[i & (NM_POD_INDEX_SIZE - 1)];

		if (e->used == 0 || e->ip == ip) {
			e->ip = ip;
			e->slot = slot;
			e->used = 1;
			return;
		}
	}
}

#endif
