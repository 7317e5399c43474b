/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingress (dataplane/ingress.c): packets for pods this worker owns, from
 * its own pods' egress, from other workers' handoff rings or opened from
 * the fabric. One bulk flow lookup per burst, then per packet the
 * receiving side's conntrack, policy, meter and signature inspection,
 * and delivery to the pod's port.
 */
#ifndef NM_INGRESS_H
#define NM_INGRESS_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "nodemesh/pkt-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"
#include "track.h"
#include "tx.h"

/* Packets for pods this worker owns, with what ingress needs to know of each. */
struct nm_ingress_burst {
	uint16_t n;
	struct rte_mbuf *pkts[NM_BURST];
	const struct nm_pkt_meta *meta[NM_BURST];
	struct nm_flow_ref ref[NM_BURST];   /* the flow key; nm_ingress_bulk sets its pod */
	uint16_t slot[NM_BURST];	    /* destination pod */
	uint16_t src_slot[NM_BURST];	    /* the pod that sent it */
	struct nm_flow *src_flow[NM_BURST]; /* the source's entry in w's table, or NULL */
};

/*
 * A packet from the pod at src_slot for the local pod at slot: into the
 * burst when w owns that pod, else handed to its owner. src_flow: the
 * source side's entry when w's egress tracked it, else NULL. Inline: it
 * runs once per forwarded packet.
 */
static inline void
nm_ingress_route(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		 uint16_t src_slot, struct rte_mbuf *m, const struct nm_pkt_meta *meta,
		 const struct nm_flow_ref *ref, struct nm_flow *src_flow,
		 struct nm_ingress_burst *local)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (pod->worker == w->idx) {
		local->pkts[local->n] = m;
		local->meta[local->n] = meta;
		local->ref[local->n] = *ref;
		local->slot[local->n] = slot;
		local->src_slot[local->n] = src_slot;
		local->src_flow[local->n] = src_flow;
		local->n++;
		return;
	}
	nm_handoff_parsed(w, pod->worker, m, pod->id, slot, src_slot, meta);
}

/* Ingress for a burst of packets for w's pods; empties the burst. */
void nm_ingress_bulk(struct nm_worker *w, const struct nm_pod_table *tbl,
		     struct nm_ingress_burst *in, uint64_t now);
/*
 * Packets with known destination and source slots (opened from the
 * fabric): routed, and those for w's pods run through ingress.
 */
void nm_ingress_route_bulk(struct nm_worker *w, const struct nm_pod_table *tbl,
			   struct rte_mbuf **pkts, const struct nm_pkt_meta *meta,
			   const uint16_t *slot, const uint16_t *src_slot, uint16_t n,
			   uint64_t now);

#endif
