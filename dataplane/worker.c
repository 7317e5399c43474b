/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker: one per worker lcore, run to completion. Each loop turn:
 *
 *   1. read the current pod table, rule set and tunnel state (acquire;
 *      nodemesh/dataplane-t.h),
 *   2. for each pod it owns that has traffic (pod_poll.c): RX a burst
 *      and run egress (egress.c), which delivers locally (ingress.c),
 *      hands packets to the destination's owner, or queues them for the
 *      tunnel (fabric.c),
 *   3. RX a burst from its queue of the fabric port, open it, and run
 *      the inner packets through ingress,
 *   4. drain the handoff rings other workers fill for it (ingress.c),
 *   5. flush sealed records, buffered TX and handoffs (tx.c), so that
 *      nothing refers to this table's ports past the end of the turn,
 *   6. housekeeping: expire a few flows (track.c), serve a flow flush
 *      request, expire incomplete fragments (frag.c),
 *   7. report a quiescent state and a heartbeat (the control thread's
 *      watchdog), then back off if the turn found no work (idle.c).
 *
 * Stages return what they produced (opened packets, packets a reject
 * made) to their caller; none calls back into this loop. Nothing here
 * allocates from the heap or takes a lock. Its syscalls: the idle sleep or
 * wait when there is no traffic at all (idle.c; and the stall test hook),
 * an eventfd write that wakes a sleeping worker it handed packets to, one
 * sendto() per burst that kicks an af_packet pod's TX ring (podio.c), and the epoll_wait() that
 * finds cold pods with traffic (pod_poll.c); none while hot pods keep it busy, but that epoll check
 * every NM_POLL_EPOLL_EVERY turns.
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "arp.h"
#include "fabric.h"
#include "frag.h"
#include "http_authz.h"
#include "http_body.h"
#include "idle.h"
#include "ingress.h"
#include "inspect.h"
#include "nodemesh/flow.h"
#include "nodemesh/observe-t.h"
#include "nodemesh/tnl_state-t.h"
#include "nodemesh/worker.h"
#include "pod_poll.h"
#include "sig_scan.h"
#include "sig_thresh.h"
#include "track.h"
#include "tx.h"

static uint32_t poll_pods(struct nm_worker *w, const struct nm_pod_table *tbl, uint64_t now);
static uint32_t poll_fabric(struct nm_worker *w, const struct nm_pod_table *tbl);
static uint32_t poll_handoffs(struct nm_worker *w, const struct nm_pod_table *tbl);

int
nm_worker_main(void *arg)
{
	struct nm_worker *w = arg;
	struct nm_dataplane *dp = w->dp;
	uint32_t empty_polls = 0;

	rte_rcu_qsbr_thread_register(dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp->qsbr, w->idx);
	w->icmp_last_tsc = rte_rdtsc();

	/* stop is set once by the control thread; a relaxed read sees it within a turn or two. */
	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		/* Acquire pairs with the release in node.c's publish: the table is complete. */
		const struct nm_pod_table *tbl = __atomic_load_n(&dp->pods, __ATOMIC_ACQUIRE);
		/* Same pairing for the rule set (node_sig.c) and the tunnel state (node_tunnel.c).
		 */
		w->sigs = __atomic_load_n(&dp->sigs, __ATOMIC_ACQUIRE);
		w->tnl = __atomic_load_n(&dp->tnl, __ATOMIC_ACQUIRE);
		uint64_t now = rte_rdtsc();
		uint32_t work = 0;

		work += poll_pods(w, tbl, now);
		if (dp->has_fabric)
			work += poll_fabric(w, tbl);
		work += poll_handoffs(w, tbl);
		nm_worker_flush(w, tbl);
		nm_worker_housekeeping(w, now);

		rte_rcu_qsbr_quiescent(dp->qsbr, w->idx);
		/* Only this worker writes it: a plain increment, stored whole for the reader. */
		__atomic_store_n(&w->heartbeat, w->heartbeat + 1, __ATOMIC_RELAXED);

		if (work > 0) {
			empty_polls = 0;
		} else {
			empty_polls++;
			nm_idle_backoff(w, tbl, empty_polls);
		}
	}

	rte_rcu_qsbr_thread_offline(dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->qsbr, w->idx);
	return 0;
}

/* Ask a pod for its MAC until it answers (or sends anything), twice a second. */
static void
resolve(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, uint64_t now)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (now - pod->live->arp_sent_tsc < w->dp->tsc_hz / 2)
		return;
	pod->live->arp_sent_tsc = now;
	struct rte_mbuf *m = nm_arp_request(w->dp->pool, &pod->port_mac, pod->spec.ip);
	if (m == NULL) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		return;
	}
	w->c.arp_requests++;
	nm_tx_enqueue(w, tbl, slot, m);
}

static void
rx_pod(void *ctx, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf **pkts, uint16_t n)
{
	nm_worker_rx_pod(ctx, tbl, slot, pkts, n);
}

/*
 * Step 2: an RX burst from each pod with traffic (pod_poll.c: hot pods
 * directly, cold ones through epoll), then one owned pod, in turn, is
 * asked for its MAC if it is still unknown. Returns packets received.
 */
static uint32_t
poll_pods(struct nm_worker *w, const struct nm_pod_table *tbl, uint64_t now)
{
	uint16_t n_owned = tbl->n_owned[w->idx];
	uint32_t work = nm_pod_poll(&w->poll, tbl, w->idx, w->dp->pool, w->c.drops, rx_pod, w);

	if (n_owned > 0) {
		uint16_t slot = tbl->owned[w->idx][w->poll.turn % n_owned];

		if (unlikely(!tbl->pods[slot].live->mac_known))
			resolve(w, tbl, slot, now);
	}
	return work;
}

void
nm_worker_rx_fabric(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		    uint16_t n)
{
	struct nm_fabric_opened opened;
	uint64_t now = nm_worker_now(w);

	nm_fabric_rx(w, tbl, pkts, n, &opened);
	nm_ingress_route_bulk(w, tbl, opened.pkts, opened.meta, opened.slot, opened.src_slot,
			      opened.n, now);
}

/* Step 3: one RX burst from this worker's queue of the fabric port. */
static uint32_t
poll_fabric(struct nm_worker *w, const struct nm_pod_table *tbl)
{
	struct rte_mbuf *pkts[NM_BURST];
	uint16_t n = rte_eth_rx_burst(w->dp->fabric_port, (uint16_t)w->idx, pkts, NM_BURST);

	if (n > 0)
		nm_worker_rx_fabric(w, tbl, pkts, n);
	return n;
}

/* Step 4: one burst from each other worker's ring to this one. */
static uint32_t
poll_handoffs(struct nm_worker *w, const struct nm_pod_table *tbl)
{
	struct rte_mbuf *pkts[NM_BURST];
	uint32_t work = 0;

	for (unsigned int s = 0; s < w->dp->n_workers; s++) {
		if (w->in[s] == NULL)
			continue;
		unsigned int n = rte_ring_sc_dequeue_burst(w->in[s], (void **)pkts, NM_BURST, NULL);
		if (n > 0) {
			work += n;
			nm_worker_rx_handoff(w, tbl, pkts, (uint16_t)n);
		}
	}
	return work;
}

/* Step 5: records sealed for peers first, then pod bursts and handoffs. */
void
nm_worker_flush(struct nm_worker *w, const struct nm_pod_table *tbl)
{
	if (w->dp->has_fabric)
		nm_fabric_flush(w, true);
	nm_tx_flush(w, tbl);
}

/*
 * The stuck-worker test hook: sleep while online, so that neither the
 * heartbeat nor the RCU quiescent state moves, as in a worker caught in a
 * loop. Once only.
 */
static void
debug_stall(struct nm_worker *w)
{
	w->debug_stall_at_tsc = 0;
	rte_delay_us_sleep((unsigned int)w->debug_stall_us);
}

/* Step 6: expiry and requests from the control thread, a bounded amount per turn. */
void
nm_worker_housekeeping(struct nm_worker *w, uint64_t now)
{
	nm_track_sweep(w, now);
	/* Acquire pairs with the control thread's release of flush_pod_id and flush_end. */
	uint64_t seq = __atomic_load_n(&w->dp->flush_seq, __ATOMIC_ACQUIRE);
	if (unlikely(seq != w->flush_done))
		nm_track_flush(w, seq);
	nm_frag_expire(w, now);
	if (unlikely(w->debug_stall_at_tsc != 0 && now >= w->debug_stall_at_tsc))
		debug_stall(w);
}

static void
insp_pool_fini(struct nm_worker *w)
{
	nm_sig_stream_pool_free(w->stream_pool);
	w->stream_pool = NULL;
	rte_free(w->insp_pool);
	w->insp_pool = NULL;
	rte_free(w->insp_free);
	w->insp_free = NULL;
	nm_http_inflater_free(w->http_inflater);
	w->http_inflater = NULL;
	nm_sig_thresh_table_free(w->thresh);
	w->thresh = NULL;
}

/*
 * The inspection pools: signatures.max_streams stream states with a stack
 * of the free ones, as many Hyperscan streams, and the table counting
 * threshold and detection_filter matches.
 */
static int
insp_pool_init(struct nm_worker *w, int socket)
{
	uint32_t n = w->dp->params.sig_max_streams;

	w->stream_pool = nm_sig_stream_pool_create(n, w->dp->params.sig_stream_state_max);
	if (w->stream_pool == NULL)
		return -1;
	w->http_inflater = nm_http_inflater_create(w->dp->params.sig_http_body_decoded_max);
	if (w->http_inflater == NULL) {
		nm_sig_stream_pool_free(w->stream_pool);
		w->stream_pool = NULL;
		return -1;
	}
	w->thresh = nm_sig_thresh_table_create(NM_SIG_THRESH_SLOTS, w->dp->tsc_hz);
	if (w->thresh == NULL) {
		insp_pool_fini(w);
		return -1;
	}
	w->insp_pool = rte_zmalloc_socket("nm_insp", (size_t)n * sizeof(*w->insp_pool),
					  RTE_CACHE_LINE_SIZE, socket);
	w->insp_free = rte_malloc_socket("nm_insp_free", (size_t)n * sizeof(uint32_t), 0, socket);
	if (w->insp_pool == NULL || w->insp_free == NULL) {
		insp_pool_fini(w);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		w->insp_free[i] = n - 1 - i;
	w->n_insp_free = n;
	return 0;
}

/*
 * The worker's per-peer buffers of packets to seal, one per
 * tunnel.max_peers slot (a few hundred bytes each), and the list of those
 * holding packets.
 */
static int
fabric_bufs_init(struct nm_worker *w, int socket)
{
	uint32_t n = w->dp->params.max_peers;

	if (n == 0)
		return 0;
	w->fabric_out = rte_zmalloc_socket("nm_fabric_out", (size_t)n * sizeof(*w->fabric_out),
					   RTE_CACHE_LINE_SIZE, socket);
	w->fabric_pending =
	    rte_malloc_socket("nm_fabric_pending", (size_t)n * sizeof(uint16_t), 0, socket);
	if (w->fabric_out == NULL || w->fabric_pending == NULL) {
		rte_free(w->fabric_out);
		w->fabric_out = NULL;
		rte_free(w->fabric_pending);
		w->fabric_pending = NULL;
		return -1;
	}
	return 0;
}

struct nm_worker *
nm_worker_create(struct nm_dataplane *dp, unsigned int idx, unsigned int lcore)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	char name[RTE_RING_NAMESIZE];
	struct nm_worker *w =
	    rte_zmalloc_socket("nm_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);

	if (w == NULL)
		return NULL;
	w->idx = idx;
	w->lcore = lcore;
	w->dp = dp;
	w->poll.generation = UINT64_MAX; /* no table seen: the first one resets the hot list */
	w->poll.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->poll.epfd < 0)
		goto fail_epoll;
	if (nm_idle_init(w) < 0)
		goto fail_idle;

	uint64_t max_cycles = dp->tsc_hz * dp->params.frag_timeout_ms / 1000;
	uint32_t entries_per_bucket = 8;
	w->frag_tbl = rte_ip_frag_table_create(dp->params.frag_max_flows / entries_per_bucket,
					       entries_per_bucket, dp->params.frag_max_flows,
					       max_cycles, socket);
	if (w->frag_tbl == NULL)
		goto fail_frag;
	if (nm_flow_table_init(&w->flows, dp->params.flow_capacity, dp->params.flow_timeout_s,
			       dp->tsc_hz, (uint32_t)(dp->hash_seed >> 32) ^ idx, socket, idx) < 0)
		goto fail_flows;
	snprintf(name, sizeof(name), "nm_rec_%u", idx);
	w->rec_ring =
	    rte_ring_create(name, NM_REC_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->rec_ring == NULL)
		goto fail_rec_ring;
	snprintf(name, sizeof(name), "nm_alert_%u", idx);
	w->alert_ring =
	    rte_ring_create(name, NM_ALERT_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->alert_ring == NULL)
		goto fail_alert_ring;
	snprintf(name, sizeof(name), "nm_http_%u", idx);
	w->http_ring =
	    rte_ring_create(name, NM_HTTP_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->http_ring == NULL)
		goto fail_http_ring;
	snprintf(name, sizeof(name), "nm_ev_%u", idx);
	w->events = rte_ring_create_elem(name, sizeof(struct nm_event), NM_EVENT_RING_SIZE, socket,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->events == NULL)
		goto fail_events;
	if (insp_pool_init(w, socket) < 0)
		goto fail_insp;
	if (nm_authz_pool_init(w, socket) < 0)
		goto fail_authz;
	if (fabric_bufs_init(w, socket) < 0)
		goto fail_fabric;
	return w;

fail_fabric:
	nm_authz_pool_fini(w);
fail_authz:
	insp_pool_fini(w);
fail_insp:
	rte_ring_free(w->events);
fail_events:
	rte_ring_free(w->http_ring);
fail_http_ring:
	rte_ring_free(w->alert_ring);
fail_alert_ring:
	rte_ring_free(w->rec_ring);
fail_rec_ring:
	nm_flow_table_fini(&w->flows);
fail_flows:
	rte_ip_frag_table_destroy(w->frag_tbl);
fail_frag:
	nm_idle_fini(w);
fail_idle:
	close(w->poll.epfd);
fail_epoll:
	rte_free(w);
	return NULL;
}

void
nm_worker_free(struct nm_worker *w)
{
	if (w == NULL)
		return;
	rte_ip_frag_table_destroy(w->frag_tbl);
	w->frag_tbl = NULL;
	/* Streams of flows still open when the workers stopped. */
	for (uint32_t i = 0; w->flows.e != NULL && i < w->flows.cap; i++)
		if (w->flows.e[i].in_use)
			nm_inspect_release(w, &w->flows.e[i], false);
	nm_flow_table_fini(&w->flows);
	nm_idle_fini(w);
	close(w->poll.epfd);
	w->poll.epfd = -1;
	rte_ring_free(w->rec_ring);
	w->rec_ring = NULL;
	rte_ring_free(w->alert_ring);
	w->alert_ring = NULL;
	rte_ring_free(w->http_ring);
	w->http_ring = NULL;
	rte_ring_free(w->events);
	w->events = NULL;
	insp_pool_fini(w);
	nm_authz_pool_fini(w);
	rte_free(w->fabric_out);
	w->fabric_out = NULL;
	rte_free(w->fabric_pending);
	w->fabric_pending = NULL;
	rte_free(w);
}
