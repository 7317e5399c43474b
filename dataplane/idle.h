/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's back-off when its loop finds nothing to do (idle.c), and the
 * doorbell a worker rings after handing packets to one that sleeps.
 */
#ifndef NM_IDLE_H
#define NM_IDLE_H

#include <stdint.h>

#include <rte_atomic.h>
#include <rte_branch_prediction.h>

#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

/* The doorbell and the epoll set a worker in wake mode blocks on. 0 or -errno. */
int nm_idle_init(struct nm_worker *w);
void nm_idle_fini(struct nm_worker *w);

/* After a loop turn that found no work, the empty_polls-th in a row. */
void nm_idle_backoff(struct nm_worker *w, const struct nm_pod_table *tbl, uint32_t empty_polls);

/* Wake dst from its wait (an eventfd write); from is the ringing worker, for its counter. */
void nm_idle_ring(struct nm_worker *from, struct nm_worker *dst);

/*
 * After from enqueued packets on dst's handoff ring: ring dst's doorbell
 * if dst said it sleeps. The fence pairs with the one in idle.c's wait:
 * either dst's check of its rings sees our packets, or we see its flag.
 */
static inline void
nm_idle_after_handoff(struct nm_worker *from, struct nm_worker *dst)
{
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (unlikely(__atomic_load_n(&dst->asleep, __ATOMIC_RELAXED) != 0))
		nm_idle_ring(from, dst);
}

#endif
