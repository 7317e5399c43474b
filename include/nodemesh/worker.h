/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers as the control thread sees them: create one per worker
 * lcore, run nm_worker_main() on it, stop it through nm_dataplane.stop and
 * free it after. The pipeline entry points are what the loop calls each
 * turn; tests and the in-memory benchmark drive them directly.
 */
#ifndef NM_WORKER_H
#define NM_WORKER_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "nodemesh/dataplane-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

/*
 * Worker idx on lcore: its reassembly and flow tables, record and alert
 * rings and inspection pool, sized from dp->params. NULL on failure. The
 * handoff rings (in/out) are the caller's to create and free.
 */
struct nm_worker *nm_worker_create(struct nm_dataplane *dp, unsigned int idx, unsigned int lcore);
/* After the worker stopped: closes open streams, frees what create allocated. NULL is fine. */
void nm_worker_free(struct nm_worker *w);
/* The loop (lcore function); returns when dp->stop is set. */
int nm_worker_main(void *arg);
/*
 * Wake w if it blocks in idle wait mode (dataplane/idle.c), so that it
 * sees at once what the control thread just stored: stop, new params, a
 * flush request, a new table. Harmless when it does not block.
 */
void nm_worker_wake(struct nm_worker *w);

/* A burst from the pod at slot, which w owns: egress, then delivery or handoff. */
void nm_worker_rx_pod(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		      struct rte_mbuf **pkts, uint16_t n);
/* A burst from w's handoff rings: ingress for w's pods, or sealing for the fabric. */
void nm_worker_rx_handoff(struct nm_worker *w, const struct nm_pod_table *tbl,
			  struct rte_mbuf **pkts, uint16_t n);
/* A burst from the fabric port (fabric worker): opened, then ingress for the inner packets. */
void nm_worker_rx_fabric(struct nm_worker *w, const struct nm_pod_table *tbl,
			 struct rte_mbuf **pkts, uint16_t n);
/* Send everything buffered: pod TX, handoffs, records sealed for peers. */
void nm_worker_flush(struct nm_worker *w, const struct nm_pod_table *tbl);
/* One turn's expiry, flush requests and reassembly timeouts at time now (TSC). */
void nm_worker_housekeeping(struct nm_worker *w, uint64_t now);

/* The pipeline's clock: the TSC, or the capture's time under nm-replay. */
static inline uint64_t
nm_worker_now(const struct nm_worker *w)
{
	return likely(w->replay_tsc == 0) ? rte_rdtsc() : w->replay_tsc;
}

static inline struct nm_mbuf_meta *
nm_mbuf_meta(const struct nm_dataplane *dp, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, dp->meta_off, struct nm_mbuf_meta *);
}

#endif
