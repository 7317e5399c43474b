/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hot pods polled directly, cold ones found through epoll: the reasons are
 * in nodemesh/pod_poll-t.h. With nothing but cold pods the check runs every
 * turn, one epoll_wait() with a zero timeout; the worker's idle back-off
 * (worker.c) then spaces the turns out.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>

#include "nodemesh/drop-t.h"
#include "pod_poll.h"
#include "podio.h"

/* Every owned pod hot: after a table change, so new pods are polled at once. */
static void
reset(struct nm_pod_poll *pp, const struct nm_pod_table *tbl, unsigned int worker)
{
	for (uint16_t i = 0; i < pp->n_hot; i++)
		pp->is_hot[pp->hot[i]] = 0;
	pp->n_hot = tbl->n_owned[worker];
	for (uint16_t i = 0; i < pp->n_hot; i++) {
		uint16_t slot = tbl->owned[worker][i];

		pp->hot[i] = slot;
		pp->is_hot[slot] = 1;
		pp->quiet[slot] = 0;
	}
	pp->generation = tbl->generation;
}

static uint16_t
rx_slot(const struct nm_pod_table *tbl, uint16_t slot, struct rte_mempool *mp, uint64_t *drops,
	nm_pod_rx_fn rx, void *ctx)
{
	const struct nm_pod *pod = &tbl->pods[slot];
	struct rte_mbuf *pkts[NM_BURST];
	uint16_t n = pod->io != NULL ? nm_podio_rx_burst(pod->io, mp, pkts, NM_BURST, drops)
				     : rte_eth_rx_burst(pod->port_id, 0, pkts, NM_BURST);

	if (n > 0)
		rx(ctx, tbl, slot, pkts, n);
	return n;
}

/* The cold pods with a block ready, made hot and polled once now. */
static uint32_t
poll_cold(struct nm_pod_poll *pp, const struct nm_pod_table *tbl, unsigned int worker,
	  struct rte_mempool *mp, uint64_t *drops, nm_pod_rx_fn rx, void *ctx)
{
	struct epoll_event ev[NM_POLL_EVENTS];
	uint32_t work = 0;
	int n;

	pp->epoll_calls++;
	n = epoll_wait(pp->epfd, ev, NM_POLL_EVENTS, 0);
	if (unlikely(n < 0)) {
		pp->epoll_errors++;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)ev[i].data.u64;
		uint32_t id = (uint32_t)(ev[i].data.u64 >> 32);
		const struct nm_pod *pod = &tbl->pods[slot];

		/* Hot pods are polled anyway; a deleted pod's event may still be queued. */
		if (pp->is_hot[slot] || pod->io == NULL || pod->id != id || pod->worker != worker)
			continue;
		pp->hot[pp->n_hot++] = slot;
		pp->is_hot[slot] = 1;
		pp->quiet[slot] = 0;
		pp->woken++;
		work += rx_slot(tbl, slot, mp, drops, rx, ctx);
	}
	return work;
}

uint32_t
nm_pod_poll(struct nm_pod_poll *pp, const struct nm_pod_table *tbl, unsigned int worker,
	    struct rte_mempool *mp, uint64_t *drops, nm_pod_rx_fn rx, void *ctx)
{
	uint32_t work = 0;
	bool few = tbl->n_owned[worker] <= NM_POLL_ALL_HOT;

	if (unlikely(pp->generation != tbl->generation))
		reset(pp, tbl, worker);
	pp->turn++;

	for (uint16_t i = 0; i < pp->n_hot;) {
		uint16_t slot = pp->hot[i];
		uint16_t n = rx_slot(tbl, slot, mp, drops, rx, ctx);

		work += n;
		if (n > 0) {
			pp->quiet[slot] = 0;
		} else if (!few && tbl->pods[slot].io != NULL &&
			   ++pp->quiet[slot] >= NM_POLL_COLD_AFTER) {
			/* Quiet long enough: epoll watches it from now on. */
			pp->is_hot[slot] = 0;
			pp->hot[i] = pp->hot[--pp->n_hot];
			pp->cooled++;
			continue;
		}
		i++;
	}

	/* Nothing cold (few pods, or all busy): no syscall at all. */
	if (pp->n_hot < tbl->n_owned[worker] && (work == 0 || pp->turn % NM_POLL_EPOLL_EVERY == 0))
		work += poll_cold(pp, tbl, worker, mp, drops, rx, ctx);
	return work;
}
