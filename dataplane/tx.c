/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffered output of a worker (tx.h): bursts to pod ports (an ethdev, or
 * an af_packet pod's TX ring, podio.c) and to the other workers' handoff
 * rings. Whatever a port, TX ring or handoff ring refuses is dropped and
 * counted (tx_full, pod_tx_*, ring_full), never retried: the next turn
 * has its own packets.
 */
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "idle.h"
#include "podio.h"
#include "tx.h"

void
nm_tx_flush_slot(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot)
{
	struct nm_txbuf *b = &w->txbuf[slot];
	const struct nm_pod *pod = &tbl->pods[slot];
	uint64_t bytes = 0;
	uint16_t sent;

	if (b->n == 0)
		return;
	if (pod->io != NULL) {
		/* Copied into the rings and freed, whatever happened; drops counted there. */
		sent = nm_podio_tx_burst(pod->io, b->pkts, b->n, w->c.drops, &bytes);
		goto count;
	}
	for (uint16_t i = 0; i < b->n; i++)
		bytes += b->pkts[i]->pkt_len;
	sent = rte_eth_tx_burst(pod->port_id, 0, b->pkts, b->n);
	for (uint16_t i = sent; i < b->n; i++) {
		bytes -= b->pkts[i]->pkt_len;
		nm_drop(w, NULL, b->pkts[i], NM_DROP_TX_FULL);
	}
count:
	pod->live->c.tx_packets += sent;
	pod->live->c.tx_bytes += bytes;
	w->c.tx_packets += sent;
	w->c.tx_bytes += bytes;
	b->n = 0;
}

void
nm_handoff_flush(struct nm_worker *w, unsigned int d)
{
	uint16_t n = w->n_handoff[d];
	unsigned int done;

	if (n == 0)
		return;
	done = rte_ring_sp_enqueue_burst(w->out[d], (void **)w->handoff[d], n, NULL);
	for (unsigned int i = done; i < n; i++)
		nm_drop(w, NULL, w->handoff[d][i], NM_DROP_RING_FULL);
	w->c.handoff_out += done;
	w->n_handoff[d] = 0;
	if (done > 0)
		nm_idle_after_handoff(w, w->dp->workers[d]);
}

void
nm_tx_flush(struct nm_worker *w, const struct nm_pod_table *tbl)
{
	for (unsigned int d = 0; d < w->dp->n_workers; d++)
		nm_handoff_flush(w, d);
	for (uint16_t i = 0; i < w->n_dirty; i++) {
		uint16_t slot = w->dirty[i];

		nm_tx_flush_slot(w, tbl, slot);
		w->txbuf[slot].dirty = false;
	}
	w->n_dirty = 0;
}
