/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffered output of a worker: per-pod TX buffers (sent as a burst when
 * full, or by the end-of-turn flush) and per-worker handoff buffers toward
 * the other workers' rings. Every stage that emits a packet goes through
 * here; nothing here calls another stage.
 */
#ifndef NM_TX_H
#define NM_TX_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "nodemesh/drop-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker.h"
#include "events.h"

/* Drop m and count why (and against the pod it came from, if any). */
static inline void
nm_drop(struct nm_worker *w, struct nm_pod_live *from, struct rte_mbuf *m, enum nm_drop_reason why)
{
	w->c.drops[why]++;
	if (from != NULL)
		from->c.drops++;
	if (unlikely(nm_observing(w)))
		nm_observe_drop(w, m, why);
	rte_pktmbuf_free(m);
}

/* Send what is buffered for the pod at slot (owned by w); drops what the port refuses. */
void nm_tx_flush_slot(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot);

/* Queue m for the port of slot, which this worker owns. */
static inline void
nm_tx_enqueue(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
	      struct rte_mbuf *m)
{
	struct nm_txbuf *b = &w->txbuf[slot];

	if (b->n == 0 && !b->dirty)
		w->dirty[w->n_dirty++] = slot;
	b->dirty = true;
	b->pkts[b->n++] = m;
	if (unlikely(b->n == NM_BURST))
		nm_tx_flush_slot(w, tbl, slot);
}

/* Move what is buffered for worker d onto its ring; drops what does not fit. */
void nm_handoff_flush(struct nm_worker *w, unsigned int d);

/* Write where m goes into its dynamic field; nothing carried yet. */
static inline struct nm_mbuf_meta *
handoff_mark(struct nm_worker *w, struct rte_mbuf *m, uint32_t pod_id, uint16_t slot,
	     uint16_t src_slot, uint8_t kind)
{
	struct nm_mbuf_meta *hm = nm_mbuf_meta(w->dp, m);

	hm->pod_id = pod_id;
	hm->slot = slot;
	hm->src_slot = src_slot;
	hm->kind = kind;
	hm->has_pkt = 0;
	return hm;
}

/* Buffer m, marked, for worker d: from here the ring may carry it off at any time. */
static inline void
handoff_push(struct nm_worker *w, unsigned int d, struct rte_mbuf *m)
{
	w->handoff[d][w->n_handoff[d]++] = m;
	if (unlikely(w->n_handoff[d] == NM_BURST))
		nm_handoff_flush(w, d);
}

/* Queue m for worker d with where it goes; flushed by the burst or at the end of the turn. */
static inline void
nm_handoff(struct nm_worker *w, unsigned int d, struct rte_mbuf *m, uint32_t pod_id, uint16_t slot,
	   uint16_t src_slot, uint8_t kind)
{
	handoff_mark(w, m, pod_id, slot, src_slot, kind);
	handoff_push(w, d, m);
}

/*
 * Hand m, parsed into meta, to worker d for the local pod at slot
 * (NM_HANDOFF_POD), with the parse in the mbuf's private area when it has
 * room (the node's pool: NM_MBUF_PRIV_SIZE), so that the owner does not
 * parse it again. The TTL is read back: egress decremented it since.
 */
static inline void
nm_handoff_parsed(struct nm_worker *w, unsigned int d, struct rte_mbuf *m, uint32_t pod_id,
		  uint16_t slot, uint16_t src_slot, const struct nm_pkt_meta *meta)
{
	struct nm_mbuf_meta *hm = handoff_mark(w, m, pod_id, slot, src_slot, NM_HANDOFF_POD);

	if (likely(m->priv_size >= sizeof(*meta))) {
		struct nm_pkt_meta *carried = rte_mbuf_to_priv(m);
		const struct rte_ipv4_hdr *ip =
		    rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, meta->l2_len);

		*carried = *meta;
		carried->ttl = ip->time_to_live;
		hm->has_pkt = 1;
	}
	/* Written before the push: the ring's release store publishes it to the owner. */
	handoff_push(w, d, m);
}

/* Send every buffered pod burst and handoff (end of a loop turn). */
void nm_tx_flush(struct nm_worker *w, const struct nm_pod_table *tbl);

#endif
