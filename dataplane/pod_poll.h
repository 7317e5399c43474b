/* SPDX-License-Identifier: BSD-3-Clause */
/* Polling a worker's pods: hot ones directly, cold ones through epoll (nodemesh/pod_poll-t.h). */
#ifndef NM_POD_POLL_H
#define NM_POD_POLL_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "nodemesh/pod_poll-t.h"
#include "nodemesh/pod_table-t.h"

/* What the caller does with a burst from the pod at slot (the worker: egress). */
typedef void (*nm_pod_rx_fn)(void *ctx, const struct nm_pod_table *tbl, uint16_t slot,
			     struct rte_mbuf **pkts, uint16_t n);

/*
 * One turn over the pods worker owns in tbl: a burst from each hot pod,
 * and from the cold ones epoll reports when it is their turn. RX frames of
 * af_packet pods come from mp; their drops go to drops[]. Returns the
 * packets received.
 */
uint32_t nm_pod_poll(struct nm_pod_poll *pp, const struct nm_pod_table *tbl, unsigned int worker,
		     struct rte_mempool *mp, uint64_t *drops, nm_pod_rx_fn rx, void *ctx);

#endif
