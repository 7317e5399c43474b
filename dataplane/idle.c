/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a worker does when its loop turns find nothing, by
 * dataplane.idle.mode (README "Configuration", "Performance" for the
 * figures):
 *
 *   poll   rte_pause() between polls after pause_after empty turns: the
 *          lowest latency, a core always at 100 %.
 *   sleep  after sleep_after empty turns, sleep sleep_us between polls
 *          (nanosleep, plus the thread's timer slack, 50 us by default).
 *          A packet that arrives meanwhile waits for the sleep to end:
 *          that wait is the tail latency of this mode.
 *   wake   after sleep_after empty turns, block in epoll_pwait2() on what
 *          can bring work, and poll again as soon as it does:
 *            - the af_packet pods' sockets, through the pod poller's epoll
 *              set (nested; a packet socket with an RX ring is readable
 *              while a frame waits in the ring),
 *            - the doorbell, an eventfd: a worker that hands packets to
 *              this one writes it when this one says it sleeps (below),
 *              and the control thread writes it after stop, a reload, a
 *              flow flush request or a new pod table.
 *            - the fabric port's doorbell (struct nm_fabric_bell): DPDK
 *              22.11's net_af_packet implements no Rx interrupts, so a
 *              second packet socket on the fabric interface takes a byte
 *              of each frame into a small ring. Before a wait the worker
 *              gives every slot back and polls once more (one more empty
 *              turn): a frame that came before the re-arm is found by that
 *              poll, any later one makes the socket readable. Each
 *              worker has its own (it polls its own fabric queue): every
 *              idle worker wakes for any fabric frame, since the bell
 *              cannot tell which queue the kernel's fanout chose.
 *          Other ethdevs have no fd here: net_af_xdp implements no Rx
 *          interrupts in 22.11 either, and memif's are not enabled by
 *          nodemesh. A worker that owns such a pod (or a fabric port
 *          without its doorbell) blocks at most sleep_us, so the port is
 *          polled as often as in sleep mode; any other worker blocks at
 *          most wait_max_us, so that flow expiry, reassembly timeouts and
 *          the heartbeat the watchdog reads still move while nothing
 *          arrives; for its first linger_us of idleness, at most sleep_us
 *          (lingering(), below).
 *
 * The worker is RCU-offline while it sleeps or blocks, so a table swap
 * does not wait for it.
 *
 * No lost wake-up (the store-buffering pattern, two sequentially
 * consistent fences): the sleeper stores asleep = 1, fences, then checks
 * its handoff rings; a producer enqueues (the ring's release store of its
 * tail), fences, then loads asleep. Of two SC fences one comes first in
 * their total order; if the sleeper's came first, the producer's load
 * after its fence reads 1 and it rings; if the producer's came first, the
 * sleeper's ring check after its fence sees the packets and it does not
 * block. A doorbell rung while the worker is in fact awake stays in the
 * eventfd and costs one early return from the next wait.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <linux/if_packet.h>

#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "idle.h"
#include "nodemesh/tnl_state-t.h"
#include "nodemesh/worker.h"

/* epoll data in the idle set: the pods' set 0, the fabric's NM_FABRIC_BELL_EPOLL_TAG. */
#define DOORBELL_TAG UINT64_MAX

int
nm_idle_init(struct nm_worker *w)
{
	struct epoll_event pods = {.events = EPOLLIN, .data.u64 = 0};
	struct epoll_event bell = {.events = EPOLLIN, .data.u64 = DOORBELL_TAG};
	int rc;

	w->doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->doorbell < 0)
		return -errno;
	w->idle_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->idle_epfd < 0) {
		rc = -errno;
		goto fail_epfd;
	}
	if (epoll_ctl(w->idle_epfd, EPOLL_CTL_ADD, w->poll.epfd, &pods) < 0 ||
	    epoll_ctl(w->idle_epfd, EPOLL_CTL_ADD, w->doorbell, &bell) < 0) {
		rc = -errno;
		goto fail_ctl;
	}
	return 0;

fail_ctl:
	close(w->idle_epfd);
	w->idle_epfd = -1;
fail_epfd:
	close(w->doorbell);
	w->doorbell = -1;
	return rc;
}

void
nm_idle_fini(struct nm_worker *w)
{
	if (w->idle_epfd >= 0)
		close(w->idle_epfd);
	w->idle_epfd = -1;
	if (w->doorbell >= 0)
		close(w->doorbell);
	w->doorbell = -1;
}

void
nm_idle_ring(struct nm_worker *from, struct nm_worker *dst)
{
	uint64_t one = 1;

	/* Only EAGAIN can fail it (the counter at its maximum): dst is woken anyway. */
	if (write(dst->doorbell, &one, sizeof(one)) == sizeof(one) && from != NULL)
		from->c.doorbells++;
}

void
nm_worker_wake(struct nm_worker *w)
{
	nm_idle_ring(NULL, w);
}

/* The old back-off: a fixed sleep, packets or not. */
static void
sleep_fixed(struct nm_worker *w, uint32_t sleep_us)
{
	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
	rte_delay_us_sleep(sleep_us);
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
	w->c.idle_sleeps++;
}

/* Something this worker polls that cannot wake it: an ethdev pod, a fabric port without doorbell.
 */
static bool
polls_ethdev(const struct nm_worker *w, const struct nm_pod_table *tbl)
{
	/*
	 * A fabric queue without a doorbell, or worker 0 while peers' MACs are
	 * being learnt a few slots a turn (fabric.c).
	 */
	if (w->dp->has_fabric && (w->fabric_bell == NULL || w->fabric_resolving))
		return true;
	for (uint16_t i = 0; i < tbl->n_owned[w->idx]; i++)
		if (tbl->pods[tbl->owned[w->idx][i]].io == NULL)
			return true;
	return false;
}

static bool
handoffs_waiting(const struct nm_worker *w)
{
	for (unsigned int s = 0; s < w->dp->n_workers; s++)
		if (w->in[s] != NULL && !rte_ring_empty(w->in[s]))
			return true;
	return false;
}

/* Wake mode: block until a pod or the doorbell has something, or the limit passes. */
static void
wait_for_work(struct nm_worker *w, uint32_t limit_us)
{
	struct timespec limit = {.tv_sec = limit_us / 1000000,
				 .tv_nsec = (long)(limit_us % 1000000) * 1000};
	struct epoll_event ev[3];
	uint64_t rung;
	int n;

	/* Relaxed store, then the SC fence: the protocol at the top of this file. */
	__atomic_store_n(&w->asleep, 1, __ATOMIC_RELAXED);
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (handoffs_waiting(w)) {
		__atomic_store_n(&w->asleep, 0, __ATOMIC_RELAXED);
		return;
	}

	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
	n = epoll_pwait2(w->idle_epfd, ev, RTE_DIM(ev), &limit, NULL);
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
	/* Relaxed: a producer that still sees 1 rings once more, which is harmless. */
	__atomic_store_n(&w->asleep, 0, __ATOMIC_RELAXED);

	w->c.idle_waits++;
	if (unlikely(n < 0)) {
		w->c.idle_errors++;
		return;
	}
	if (n > 0)
		w->c.idle_wakeups++;
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == DOORBELL_TAG)
			(void)read(w->doorbell, &rung, sizeof(rung)); /* reset it; EAGAIN: raced */
		else if (ev[i].data.u64 == NM_FABRIC_BELL_EPOLL_TAG && w->fabric_bell != NULL)
			w->fabric_bell->wakeups++;
	}
}

/*
 * Every doorbell slot back to the kernel, so the socket is readable again
 * only for frames that come after. Release: the kernel reads the status
 * before it writes the slot.
 */
static void
bell_rearm(struct nm_fabric_bell *b)
{
	for (uint32_t i = 0; i < b->frames; i++) {
		struct tpacket2_hdr *h =
		    (struct tpacket2_hdr *)(b->ring + (size_t)i * b->frame_size);

		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_KERNEL)
			__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	}
	b->rearms++;
}

/*
 * Within linger_us of the worker's first wait since its last work: waits
 * as short as sleep_us, though woken the same way. A CPU that halts only
 * briefly wakes faster, on a virtual machine above all (the hypervisor
 * polls a halted vCPU for a while before it deschedules it), so traffic
 * with gaps shorter than linger_us pays less per wake-up; an idle node
 * goes to the long waits after linger_us.
 */
static bool
lingering(struct nm_worker *w, const struct nm_dp_params *prm)
{
	uint32_t linger_us = __atomic_load_n(&prm->idle_linger_us, __ATOMIC_RELAXED);
	uint64_t now;

	if (linger_us == 0)
		return false;
	now = rte_rdtsc();
	if (w->idle_since_tsc == 0)
		w->idle_since_tsc = now;
	return now - w->idle_since_tsc < w->dp->tsc_hz / 1000000 * linger_us;
}

void
nm_idle_backoff(struct nm_worker *w, const struct nm_pod_table *tbl, uint32_t empty_polls)
{
	const struct nm_dp_params *prm = &w->dp->params;
	/* Relaxed: a config reload may store new values; each is used on its own. */
	uint32_t mode = __atomic_load_n(&prm->idle_mode, __ATOMIC_RELAXED);
	uint32_t sleep_after = __atomic_load_n(&prm->idle_sleep_after, __ATOMIC_RELAXED);
	uint32_t pause_after = __atomic_load_n(&prm->idle_pause_after, __ATOMIC_RELAXED);
	uint32_t sleep_us = __atomic_load_n(&prm->idle_sleep_us, __ATOMIC_RELAXED);

	if (mode == NM_IDLE_POLL || sleep_after == 0 || empty_polls < sleep_after) {
		if (empty_polls >= pause_after)
			rte_pause();
		w->idle_since_tsc = 0;
		return;
	}
	if (mode == NM_IDLE_SLEEP) {
		sleep_fixed(w, sleep_us);
		return;
	}
	/* Re-armed on the turn before, or the wait could sleep through a frame (top of file). */
	struct nm_fabric_bell *bell = w->fabric_bell;
	if (bell != NULL && bell->armed_at + 1 != empty_polls) {
		bell_rearm(bell);
		bell->armed_at = empty_polls;
		return;
	}
	if (polls_ethdev(w, tbl) || lingering(w, prm))
		wait_for_work(w, sleep_us);
	else
		wait_for_work(w, __atomic_load_n(&prm->idle_wait_max_us, __ATOMIC_RELAXED));
}
