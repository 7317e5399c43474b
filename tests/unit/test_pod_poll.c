/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the worker's pod polling (dataplane/pod_poll.c): which pods
 * it probes directly, when it lets them go to epoll, and what epoll brings
 * back. The pods' rings are TPACKET_V2 rings in plain memory; their
 * sockets are eventfds, which an epoll set reports readable the same way.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <criterion/criterion.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "nodemesh/drop-t.h"
#include "pod_poll.h"
#include "podio.h"
#include "unit_eal.h"

#define SLOT 2048

struct harness;
static struct harness *made; /* the test's harness, freed after it (the suite's .fini) */
static void teardown(void);

TestSuite(pod_poll, .init = nm_test_eal_up, .fini = teardown);

struct harness {
	struct nm_pod_table *tbl;
	struct nm_pod_poll pp;
	struct rte_mempool *mp;
	uint64_t drops[NM_DROP_MAX];
	uint32_t got[NM_MAX_PODS]; /* packets delivered, by slot */
};

static void
count(void *ctx, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf **pkts, uint16_t n)
{
	struct harness *h = ctx;

	(void)tbl;
	h->got[slot] += n;
	rte_pktmbuf_free_bulk(pkts, n);
}

/* n pods on worker 0, each with a 4-slot V2 RX ring and an eventfd in the epoll set. */
static struct harness *
setup(uint16_t n)
{
	struct harness *h = calloc(1, sizeof(*h));

	cr_assert_not_null(h);
	h->tbl = rte_zmalloc("t", sizeof(*h->tbl), 0);
	h->mp = rte_pktmbuf_pool_create("pp", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	h->pp.epfd = epoll_create1(0);
	h->pp.generation = UINT64_MAX;
	cr_assert(h->tbl != NULL && h->mp != NULL && h->pp.epfd >= 0);
	h->tbl->generation = 1;
	made = h;
	for (uint16_t s = 0; s < n; s++) {
		struct nm_pod *p = &h->tbl->pods[s];
		struct nm_podio *io = calloc(1, sizeof(*io));

		cr_assert_not_null(io);
		cr_assert_eq(posix_memalign((void **)&io->rx_ring, SLOT, 4 * SLOT), 0);
		memset(io->rx_ring, 0, 4 * SLOT);
		io->version = TPACKET_V2;
		io->rx_frame_size = SLOT;
		io->rx_frames = 4;
		io->fd = eventfd(0, EFD_NONBLOCK);
		cr_assert_geq(io->fd, 0);
		p->io = io;
		p->id = 100u + s;
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = s | (uint64_t)p->id << 32};
		cr_assert_eq(epoll_ctl(h->pp.epfd, EPOLL_CTL_ADD, io->fd, &ev), 0);
		h->tbl->owned[0][h->tbl->n_owned[0]++] = s;
	}
	return h;
}

static void
teardown(void)
{
	struct harness *h = made;

	if (h == NULL)
		return;
	for (uint16_t s = 0; s < NM_MAX_PODS; s++) {
		struct nm_podio *io = h->tbl->pods[s].io;

		if (io == NULL)
			continue;
		close(io->fd);
		free(io->rx_ring);
		free(io);
	}
	close(h->pp.epfd);
	rte_free(h->tbl);
	rte_mempool_free(h->mp);
	free(h);
	made = NULL;
}

/* A 60-byte frame into pod s's next RX slot, and its socket readable. */
static void
arrive(struct harness *h, uint16_t s)
{
	struct nm_podio *io = h->tbl->pods[s].io;
	struct tpacket2_hdr *f = nm_podio_rx_frame(io, io->rx_next);

	f->tp_mac = 66;
	f->tp_len = f->tp_snaplen = 60;
	f->tp_status = TP_STATUS_USER;
	cr_assert_eq(eventfd_write(io->fd, 1), 0);
}

static uint32_t
turns(struct harness *h, uint32_t n)
{
	uint32_t work = 0;

	for (uint32_t i = 0; i < n; i++)
		work += nm_pod_poll(&h->pp, h->tbl, 0, h->mp, h->drops, count, h);
	return work;
}

Test(pod_poll, few_pods_stay_hot_and_cost_no_syscall)
{
	struct harness *h = setup(NM_POLL_ALL_HOT);

	cr_assert_eq(turns(h, 3 * NM_POLL_COLD_AFTER), 0);
	cr_assert_eq(h->pp.n_hot, NM_POLL_ALL_HOT);
	cr_assert_eq(h->pp.epoll_calls, 0);
	arrive(h, 5);
	cr_assert_eq(turns(h, 1), 1);
	cr_assert_eq(h->got[5], 1);
}

Test(pod_poll, quiet_pods_go_cold_and_epoll_brings_one_back)
{
	struct harness *h = setup(40);

	cr_assert_eq(turns(h, 1), 0);
	cr_assert_eq(h->pp.n_hot, 40, "a new table makes every pod hot");
	turns(h, NM_POLL_COLD_AFTER);
	cr_assert_eq(h->pp.n_hot, 0);
	cr_assert_eq(h->pp.cooled, 40);

	uint64_t calls = h->pp.epoll_calls;
	arrive(h, 17);
	cr_assert_eq(turns(h, 1), 1, "epoll finds the cold pod in the same turn");
	cr_assert_eq(h->got[17], 1);
	cr_assert_eq(h->pp.epoll_calls, calls + 1);
	cr_assert_eq(h->pp.woken, 1);
	cr_assert_eq(h->pp.n_hot, 1);
	cr_assert_eq(h->pp.hot[0], 17);

	/* Hot now: while it brings packets, only every NM_POLL_EPOLL_EVERY-th turn asks epoll. */
	calls = h->pp.epoll_calls;
	for (uint32_t i = 0; i < NM_POLL_EPOLL_EVERY; i++) {
		arrive(h, 17);
		cr_assert_eq(turns(h, 1), 1);
	}
	cr_assert_eq(h->pp.epoll_calls, calls + 1);
	cr_assert_eq(h->got[17], 1 + NM_POLL_EPOLL_EVERY);
}

Test(pod_poll, a_stale_event_is_ignored)
{
	struct harness *h = setup(40);

	turns(h, NM_POLL_COLD_AFTER + 1);
	cr_assert_eq(h->pp.n_hot, 0);
	/* Slot 9 now holds another pod than the one its socket was registered for. */
	arrive(h, 9);
	h->tbl->pods[9].id = 999;
	cr_assert_eq(turns(h, 1), 0);
	cr_assert_eq(h->pp.n_hot, 0);
	cr_assert_eq(h->pp.woken, 0);
}

Test(pod_poll, a_new_table_generation_makes_every_pod_hot)
{
	struct harness *h = setup(40);

	turns(h, NM_POLL_COLD_AFTER + 1);
	cr_assert_eq(h->pp.n_hot, 0);
	h->tbl->generation++;
	h->tbl->n_owned[0] = 39; /* one pod gone */
	turns(h, 1);
	cr_assert_eq(h->pp.n_hot, 39);
	cr_assert_eq(h->pp.is_hot[39], 0);
}
