/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' side of the tunnels (dataplane/fabric.c): records sealed
 * per peer in bursts, and datagrams from a worker's fabric queue opened
 * into inner packets that the loop hands to ingress.
 */
#ifndef NM_FABRIC_H
#define NM_FABRIC_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "nodemesh/pkt-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

/* Inner packets opened from a fabric burst, each for a local pod from a remote one. */
struct nm_fabric_opened {
	uint16_t n;
	struct rte_mbuf *pkts[NM_BURST];
	struct nm_pkt_meta meta[NM_BURST];
	uint16_t slot[NM_BURST];     /* the local destination pod */
	uint16_t src_slot[NM_BURST]; /* NM_SLOT_REMOTE: a remote pod sent it */
};

/*
 * A burst from the worker's fabric queue: ARP answered, tunnel
 * datagrams opened per (peer, epoch) group, inner packets checked against
 * the sending peer's pods. What may go on to ingress is in *out; the rest
 * was dropped and counted.
 */
void nm_fabric_rx(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		  uint16_t n, struct nm_fabric_opened *out);
/*
 * Queue m, a packet for a remote pod of the node at peer (its index in the
 * tunnel state, from the ipcache), for sealing on this worker.
 */
void nm_fabric_enqueue(struct nm_worker *w, uint16_t peer, struct rte_mbuf *m, uint16_t flow_hash);
/*
 * Seal and send what this worker queued for each peer; at the end of a
 * turn (turn_end) worker 0 also asks for a few keyed peers' unknown MACs.
 */
void nm_fabric_flush(struct nm_worker *w, bool turn_end);
/* Clamp the MSS option of a SYN leaving through the tunnel to mss. */
void nm_tcp_mss_clamp(struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t mss);

#endif
