/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's inspection streams on the worker side (the format and the
 * conversation are ctrl/takeover_streams.c's). The control thread calls
 * these with every worker stopped, so a worker's pools and counters are
 * its to touch, as at worker creation.
 *
 * A stream's Hyperscan state travels compressed (hs_compress_stream) and
 * comes back into a chunk of the new worker's stream pool with
 * hs_reset_and_expand_stream: no allocation beside the pools, as for a
 * stream the worker opens itself. Held out-of-order segments come back as
 * copies in mbufs of the new daemon's pool (the pod already has the
 * originals: they were forwarded when they were held).
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "inspect.h"
#include "nodemesh/insp_handover.h"
#include "nodemesh/worker.h"
#include "sig_scan.h"

int
nm_insp_handover_compress(const struct nm_insp *s, void *buf, size_t cap, size_t *used)
{
	return nm_sigdb_stream_compress(s->st, buf, cap, used);
}

struct nm_insp *
nm_insp_handover_adopt(struct nm_worker *w, struct nm_sig_set *set, struct nm_flow *f,
		       const void *hs, size_t len)
{
	if (w->n_insp_free == 0 || w->sc.streams_open >= w->dp->params.sig_max_streams) {
		errno = ENOSPC;
		return NULL;
	}
	struct nm_sigdb_stream *st = nm_sigdb_stream_expand(set->db, w->stream_pool, hs, len);
	if (st == NULL) {
		if (errno == ENOMEM)
			errno = ENOSPC;
		return NULL;
	}
	struct nm_insp *s = &w->insp_pool[w->insp_free[--w->n_insp_free]];
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->set = set;
	/* No worker runs: the launch's barrier publishes this. */
	__atomic_add_fetch(&set->refs, 1, __ATOMIC_RELAXED);
	f->insp = s;
	w->sc.streams_open++;
	return s;
}

int
nm_insp_handover_hold(struct nm_worker *w, struct nm_insp *s, uint32_t seq, const uint8_t *data,
		      uint16_t len)
{
	uint32_t cap = w->dp->params.mbufs / 4 / w->dp->n_workers; /* as inspect.c's hold() */

	if (s->n_held == NM_INSP_HOLD || w->sc.held_now >= cap)
		return -ENOSPC;
	struct rte_mbuf *head = NULL;
	for (uint32_t off = 0; off < len || head == NULL;) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->dp->pool);
		if (m == NULL) {
			rte_pktmbuf_free(head);
			return -ENOBUFS;
		}
		uint16_t take = (uint16_t)RTE_MIN((uint32_t)rte_pktmbuf_tailroom(m), len - off);
		memcpy(rte_pktmbuf_append(m, take), data + off, take);
		off += take;
		if (head == NULL) {
			head = m;
		} else if (rte_pktmbuf_chain(head, m) < 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return -ENOBUFS;
		}
	}
	s->held[s->n_held].m = head;
	s->held[s->n_held].seq = seq;
	s->held[s->n_held].off = 0; /* the payload alone: no headers in the copy */
	s->held[s->n_held].len = len;
	s->n_held++;
	w->sc.held_now++;
	return 0;
}

void
nm_insp_handover_drop(struct nm_worker *w, struct nm_flow *f)
{
	nm_inspect_release(w, f, false);
}
