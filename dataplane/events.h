/* SPDX-License-Identifier: BSD-3-Clause */
/* Writing observation events (nodemesh/observe-t.h), on the worker. */
#ifndef NM_EVENTS_H
#define NM_EVENTS_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "nodemesh/drop-t.h"
#include "nodemesh/pkt-t.h"
#include "nodemesh/worker-t.h"

struct nm_flow;

/* Is anyone observing? One relaxed load, for the callers' fast path. */
static inline bool
nm_observing(const struct nm_worker *w)
{
	return __atomic_load_n(&w->dp->observing, __ATOMIC_RELAXED) != 0;
}

/* A drop of m (before it is freed): headers parsed again, only while observed. */
void nm_observe_drop(struct nm_worker *w, const struct rte_mbuf *m, enum nm_drop_reason why);

/* A flow's first verdict; meta is its first packet here (initiator to responder). */
void nm_observe_flow(struct nm_worker *w, const struct nm_pkt_meta *meta, const struct nm_flow *f,
		     uint32_t rule_id);

#endif
