/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ipcache: what the node knows of the pods its peers announced,
 * address -> (security identity, peer), apart from the pod table, which
 * holds only the node's own pods (Cilium keeps IP -> identity the same
 * way, apart from its local endpoints). Local pods keep their slots; a
 * remote pod has none: where a slot is expected (a flow's ends, a handoff)
 * it is NM_SLOT_REMOTE (nodemesh/pod_table-t.h), and what a worker needs
 * of it, the identity to judge a flow and the peer to route a packet, it
 * looks up here by address.
 *
 * Ownership: an rte_hash with lock-free readers
 * (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF), written only by the control
 * thread (ctrl/ipcache.c), its freed key slots reclaimed after the node's
 * QSBR grace period (rte_hash_rcu_qsbr_add). The hash lives as long as
 * the daemon; entries change in place, one at a time, no copy of the
 * table is ever made.
 */
#ifndef NM_IPCACHE_T_H
#define NM_IPCACHE_T_H

#include <stdint.h>

/* What an ipcache entry holds: 64 bits stored as rte_hash's data pointer. */
struct nm_ipcache_entry {
	uint32_t identity; /* security identity id (ctrl/idreg.h) */
	uint16_t peer;	   /* index of the announcing node in the tunnel state */
	uint16_t session;  /* control thread only: the peer session that last announced it */
};

#define NM_IPCACHE_DEFAULT 131072u  /* tunnel.max_remote_pods */
#define NM_IPCACHE_MIN	   16u	    /* smallest tunnel.max_remote_pods */
#define NM_IPCACHE_MAX	   4194304u /* largest tunnel.max_remote_pods */

#endif
