/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of an af_packet pod's ring walking (dataplane/podio.c) without
 * a kernel: RX slots (TPACKET_V2), RX blocks (TPACKET_V3) and TX slots laid
 * out in plain memory as the kernel lays them out (linux/if_packet.h), frames copied to and from
 * mbufs. The kick goes to one end of a socketpair (it only needs a socket that accepts an empty
 * datagram) or to a closed fd (it must fail and count).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <criterion/criterion.h>
#include <rte_mbuf.h>

#include "nodemesh/drop-t.h"
#include "podio.h"
#include "unit_eal.h"

/* Every ring a test makes, freed after it (the suite's .fini). */
static struct nm_podio *made[8];
static unsigned int n_made;

static int peer_fd = -1; /* the other end of tx_ring()'s socketpair */

static struct nm_podio *
new_io(void)
{
	struct nm_podio *io = calloc(1, sizeof(*io));

	cr_assert_not_null(io);
	cr_assert_lt(n_made, 8);
	io->fd = -1;
	made[n_made++] = io;
	return io;
}

static void
free_all(void)
{
	for (unsigned int i = 0; i < n_made; i++) {
		free(made[i]->rx_ring);
		free(made[i]->tx_ring);
		if (made[i]->fd >= 0)
			close(made[i]->fd);
		free(made[i]);
		made[i] = NULL;
	}
	n_made = 0;
	if (peer_fd >= 0)
		close(peer_fd);
	peer_fd = -1;
}

TestSuite(podio, .init = nm_test_eal_up, .fini = free_all);

#define BLOCK 4096
#define SLOT  2048

static struct rte_mempool *
pool(uint16_t data_room)
{
	struct rte_mempool *mp =
	    rte_pktmbuf_pool_create("podio_test", 64, 0, 0, RTE_PKTMBUF_HEADROOM + data_room, 0);

	cr_assert_not_null(mp);
	return mp;
}

/* A ring of n blocks in aligned memory, all owned by the kernel. */
static struct nm_podio *
rx_ring(uint32_t n)
{
	struct nm_podio *io = new_io();

	cr_assert_eq(posix_memalign((void **)&io->rx_ring, BLOCK, (size_t)n * BLOCK), 0);
	memset(io->rx_ring, 0, (size_t)n * BLOCK);
	io->version = TPACKET_V3;
	io->rx_block_size = BLOCK;
	io->rx_blocks = n;
	for (uint32_t b = 0; b < n; b++)
		nm_podio_rx_block(io, b)->hdr.bh1.block_status = TP_STATUS_KERNEL;
	return io;
}

/*
 * Fill block b with frames of the given lengths (byte i of frame k is
 * k + i) and hand it to "user space", as the kernel does when it retires a
 * block. status is OR-ed into each packet's tp_status.
 */
static void
fill_block(struct nm_podio *io, uint32_t b, const uint32_t *lens, uint32_t n, uint32_t status)
{
	struct tpacket_block_desc *bd = nm_podio_rx_block(io, b);
	uint32_t off = TPACKET_ALIGN(sizeof(*bd));

	bd->hdr.bh1.offset_to_first_pkt = off;
	bd->hdr.bh1.num_pkts = n;
	for (uint32_t k = 0; k < n; k++) {
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)((uint8_t *)bd + off);
		uint32_t mac = TPACKET_ALIGN(sizeof(*h)) + 2; /* as the kernel pads to align IP */

		cr_assert_leq(off + mac + lens[k], BLOCK, "test frames overflow the block");
		h->tp_mac = (uint16_t)mac;
		h->tp_len = lens[k];
		h->tp_snaplen = lens[k];
		h->tp_status = TP_STATUS_USER | status;
		for (uint32_t i = 0; i < lens[k]; i++)
			((uint8_t *)h)[mac + i] = (uint8_t)(k + i);
		h->tp_next_offset = k + 1 < n ? TPACKET_ALIGN(mac + lens[k]) : 0;
		off += h->tp_next_offset;
	}
	bd->hdr.bh1.block_status = TP_STATUS_USER;
}

static void
check_frame(const struct rte_mbuf *m, uint32_t k, uint32_t len)
{
	uint8_t buf[BLOCK];

	cr_assert_eq(m->pkt_len, len);
	cr_assert_leq(len, sizeof(buf));
	/* rte_pktmbuf_read copies into buf only when the data spans segments. */
	const uint8_t *data = rte_pktmbuf_read(m, 0, len, buf);
	cr_assert_not_null(data);
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(data[i], (uint8_t)(k + i), "frame %u byte %u", k, i);
}

Test(podio, rx_empty_ring_gives_nothing)
{
	struct nm_podio *io = rx_ring(2);
	struct rte_mbuf *pkts[4];
	uint64_t drops[NM_DROP_MAX] = {0};

	cr_assert_not(nm_podio_rx_ready(io));
	cr_assert_eq(nm_podio_rx_burst(io, pool(2048), pkts, 4, drops), 0);
	cr_assert_eq(io->rx_block, 0);
}

Test(podio, rx_walks_a_block_over_two_bursts_then_gives_it_back)
{
	static const uint32_t lens[] = {60, 1514, 98};
	struct nm_podio *io = rx_ring(2);
	struct rte_mempool *mp = pool(2048);
	struct rte_mbuf *pkts[4];
	uint64_t drops[NM_DROP_MAX] = {0};

	fill_block(io, 0, lens, 3, 0);
	cr_assert(nm_podio_rx_ready(io));

	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts, 2, drops), 2);
	check_frame(pkts[0], 0, 60);
	check_frame(pkts[1], 1, 1514);
	/* Half read: the block is still the worker's, and still ready. */
	cr_assert_eq(nm_podio_rx_block(io, 0)->hdr.bh1.block_status, TP_STATUS_USER);
	cr_assert(nm_podio_rx_ready(io));

	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts + 2, 2, drops), 1);
	check_frame(pkts[2], 2, 98);
	cr_assert_eq(nm_podio_rx_block(io, 0)->hdr.bh1.block_status, TP_STATUS_KERNEL);
	cr_assert_eq(io->rx_block, 1);
	cr_assert_not(nm_podio_rx_ready(io));
	for (unsigned int r = 0; r < NM_DROP_MAX; r++)
		cr_assert_eq(drops[r], 0);
}

Test(podio, rx_crosses_blocks_and_wraps)
{
	static const uint32_t one[] = {64};
	static const uint32_t two[] = {70, 80};
	struct nm_podio *io = rx_ring(2);
	struct rte_mempool *mp = pool(2048);
	struct rte_mbuf *pkts[8];
	uint64_t drops[NM_DROP_MAX] = {0};

	fill_block(io, 0, one, 1, 0);
	fill_block(io, 1, two, 2, 0);
	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts, 8, drops), 3);
	check_frame(pkts[0], 0, 64);
	check_frame(pkts[1], 0, 70);
	check_frame(pkts[2], 1, 80);
	cr_assert_eq(io->rx_block, 0, "the cursor wraps to the first block");

	fill_block(io, 0, one, 1, 0);
	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts, 8, drops), 1);
	check_frame(pkts[0], 0, 64);
}

Test(podio, rx_skips_an_empty_handed_over_block)
{
	static const uint32_t one[] = {64};
	struct nm_podio *io = rx_ring(3);
	struct rte_mbuf *pkts[4];
	uint64_t drops[NM_DROP_MAX] = {0};

	fill_block(io, 0, one, 0, 0);
	fill_block(io, 1, one, 1, 0);
	cr_assert_eq(nm_podio_rx_burst(io, pool(2048), pkts, 4, drops), 1);
	cr_assert_eq(nm_podio_rx_block(io, 0)->hdr.bh1.block_status, TP_STATUS_KERNEL);
	cr_assert_eq(io->rx_block, 2);
}

/* Invalid frames first in the table: each is counted under its reason and skipped. */
Test(podio, rx_counts_truncated_vlan_and_no_mbuf)
{
	static const uint32_t lens[] = {64, 64};
	struct nm_podio *io = rx_ring(4);
	struct rte_mempool *mp = pool(2048);
	struct rte_mbuf *pkts[4];
	uint64_t drops[NM_DROP_MAX] = {0};

	fill_block(io, 0, lens, 2, 0);
	((struct tpacket3_hdr *)(io->rx_ring +
				 nm_podio_rx_block(io, 0)->hdr.bh1.offset_to_first_pkt))
	    ->tp_len = 1514; /* captured 64 of 1514 */
	fill_block(io, 1, lens, 1, TP_STATUS_VLAN_VALID);
	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts, 4, drops), 1);
	check_frame(pkts[0], 1, 64);
	cr_assert_eq(drops[NM_DROP_POD_RX_TRUNCATED], 1);
	cr_assert_eq(drops[NM_DROP_VLAN_ON_POD], 1);
	rte_pktmbuf_free(pkts[0]);

	/* Pool empty: the frame is consumed and counted, the ring moves on. */
	struct rte_mbuf *all[64];
	unsigned int n = 0;
	while (n < 64 && (all[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	fill_block(io, 2, lens, 2, 0);
	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts, 4, drops), 0);
	cr_assert_eq(drops[NM_DROP_POD_RX_NO_MBUF], 2);
	cr_assert_eq(io->rx_block, 3);
}

Test(podio, frame_larger_than_an_mbuf_is_chained_and_copied_back)
{
	uint8_t frame[3000], back[3000];
	struct rte_mempool *mp = pool(1024);

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	struct rte_mbuf *m = nm_podio_frame_to_mbuf(frame, sizeof(frame), mp);
	cr_assert_not_null(m);
	cr_assert_eq(m->nb_segs, 3);
	cr_assert_eq(m->pkt_len, sizeof(frame));
	cr_assert_eq(m->data_len, 1024);
	nm_podio_mbuf_to_frame(m, back);
	cr_assert_arr_eq(back, frame, sizeof(frame));
	rte_pktmbuf_free(m);
}

/* A TX ring of n slots in memory, all available; the kick goes to a socketpair. */
static struct nm_podio *
tx_ring(uint32_t n)
{
	struct nm_podio *io = new_io();
	int sv[2];

	cr_assert_eq(posix_memalign((void **)&io->tx_ring, SLOT, (size_t)n * SLOT), 0);
	memset(io->tx_ring, 0, (size_t)n * SLOT); /* TP_STATUS_AVAILABLE is 0 */
	io->version = TPACKET_V3;
	io->tx_frame_size = SLOT;
	io->tx_frames = n;
	io->tx_data = TPACKET_ALIGN(sizeof(struct tpacket3_hdr));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	io->fd = sv[0];
	peer_fd = sv[1];
	return io;
}

static struct rte_mbuf *
mbuf_of(struct rte_mempool *mp, uint32_t k, uint32_t len)
{
	uint8_t frame[BLOCK];

	for (uint32_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(k + i);
	struct rte_mbuf *m = nm_podio_frame_to_mbuf(frame, len, mp);
	cr_assert_not_null(m);
	return m;
}

static struct tpacket3_hdr *
slot(struct nm_podio *io, uint32_t i)
{
	return (struct tpacket3_hdr *)(io->tx_ring + (size_t)i * SLOT);
}

Test(podio, tx_fills_slots_requests_send_and_kicks_once)
{
	struct nm_podio *io = tx_ring(4);
	struct rte_mempool *mp = pool(2048);
	struct rte_mbuf *pkts[3] = {mbuf_of(mp, 0, 60), mbuf_of(mp, 1, 1514), mbuf_of(mp, 2, 42)};
	uint64_t drops[NM_DROP_MAX] = {0}, bytes;

	io->tx_next = 2; /* and wraps */
	cr_assert_eq(nm_podio_tx_burst(io, pkts, 3, drops, &bytes), 3);
	cr_assert_eq(bytes, 60 + 1514 + 42);
	cr_assert_eq(io->tx_kicks, 1);
	cr_assert_eq(io->tx_next, 1);
	static const uint32_t at[] = {2, 3, 0}, len[] = {60, 1514, 42};
	for (unsigned int k = 0; k < 3; k++) {
		struct tpacket3_hdr *h = slot(io, at[k]);
		cr_assert_eq(h->tp_status, TP_STATUS_SEND_REQUEST);
		cr_assert_eq(h->tp_len, len[k]);
		for (uint32_t i = 0; i < len[k]; i++)
			cr_assert_eq(((uint8_t *)h)[io->tx_data + i], (uint8_t)(k + i));
	}
	cr_assert_eq(rte_mempool_in_use_count(mp), 0, "every mbuf freed");
}

Test(podio, tx_counts_ring_full_too_big_and_failed_kick)
{
	struct nm_podio *io = tx_ring(2);
	struct rte_mempool *mp = pool(4096);
	uint64_t drops[NM_DROP_MAX] = {0}, bytes;

	/* A frame longer than a slot's room. */
	struct rte_mbuf *big = mbuf_of(mp, 0, SLOT - io->tx_data + 1);
	cr_assert_eq(nm_podio_tx_burst(io, &big, 1, drops, &bytes), 0);
	cr_assert_eq(drops[NM_DROP_POD_TX_TOO_BIG], 1);
	cr_assert_eq(io->tx_kicks, 0, "nothing queued, no syscall");

	/* The kernel still holds slot 0: ring full. */
	slot(io, 0)->tp_status = TP_STATUS_SENDING;
	struct rte_mbuf *m = mbuf_of(mp, 0, 60);
	cr_assert_eq(nm_podio_tx_burst(io, &m, 1, drops, &bytes), 0);
	cr_assert_eq(drops[NM_DROP_POD_TX_RING_FULL], 1);

	/* The kick fails: the burst counts as dropped. */
	slot(io, 0)->tp_status = TP_STATUS_AVAILABLE;
	close(io->fd);
	io->fd = -1;
	struct rte_mbuf *two[2] = {mbuf_of(mp, 0, 60), mbuf_of(mp, 1, 60)};
	cr_assert_eq(nm_podio_tx_burst(io, two, 2, drops, &bytes), 0);
	cr_assert_eq(bytes, 0);
	cr_assert_eq(drops[NM_DROP_POD_TX_KICK], 2);
	cr_assert_eq(io->tx_kick_errors, 1);
	cr_assert_eq(rte_mempool_in_use_count(mp), 0, "every mbuf freed");
}

/* ---- TPACKET_V2 -------------------------------------------------------- */

/* A V2 RX ring of n slots, all owned by the kernel. */
static struct nm_podio *
rx_ring_v2(uint32_t n)
{
	struct nm_podio *io = new_io();

	cr_assert_eq(posix_memalign((void **)&io->rx_ring, SLOT, (size_t)n * SLOT), 0);
	memset(io->rx_ring, 0, (size_t)n * SLOT); /* TP_STATUS_KERNEL is 0 */
	io->version = TPACKET_V2;
	io->rx_frame_size = SLOT;
	io->rx_frames = n;
	return io;
}

/* Slot i holds frame k of len bytes, handed over; as the kernel places it (tp_mac 66). */
static void
fill_slot(struct nm_podio *io, uint32_t i, uint32_t k, uint32_t len, uint32_t status)
{
	struct tpacket2_hdr *h = nm_podio_rx_frame(io, i);

	h->tp_mac = 66;
	h->tp_len = len;
	h->tp_snaplen = len;
	for (uint32_t b = 0; b < len; b++)
		((uint8_t *)h)[66 + b] = (uint8_t)(k + b);
	h->tp_status = TP_STATUS_USER | status;
}

Test(podio, v2_rx_walks_slots_gives_them_back_and_wraps)
{
	struct nm_podio *io = rx_ring_v2(3);
	struct rte_mempool *mp = pool(2048);
	struct rte_mbuf *pkts[4];
	uint64_t drops[NM_DROP_MAX] = {0};

	cr_assert_not(nm_podio_rx_ready(io));
	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts, 4, drops), 0);

	io->rx_next = 1;
	fill_slot(io, 1, 0, 60, 0);
	fill_slot(io, 2, 1, 1514, 0);
	fill_slot(io, 0, 2, 98, 0);
	cr_assert(nm_podio_rx_ready(io));
	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts, 2, drops), 2, "at most n");
	cr_assert_eq(nm_podio_rx_burst(io, mp, pkts + 2, 2, drops), 1);
	check_frame(pkts[0], 0, 60);
	check_frame(pkts[1], 1, 1514);
	check_frame(pkts[2], 2, 98);
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(nm_podio_rx_frame(io, i)->tp_status, TP_STATUS_KERNEL, "slot %u back",
			     i);
	cr_assert_eq(io->rx_next, 1);
	cr_assert_not(nm_podio_rx_ready(io));
}

Test(podio, v2_rx_counts_truncated_and_vlan)
{
	struct nm_podio *io = rx_ring_v2(4);
	struct rte_mbuf *pkts[4];
	uint64_t drops[NM_DROP_MAX] = {0};

	fill_slot(io, 0, 0, 64, 0);
	nm_podio_rx_frame(io, 0)->tp_len = 9014;
	fill_slot(io, 1, 1, 64, TP_STATUS_VLAN_VALID);
	fill_slot(io, 2, 2, 64, 0);
	cr_assert_eq(nm_podio_rx_burst(io, pool(2048), pkts, 4, drops), 1);
	check_frame(pkts[0], 2, 64);
	cr_assert_eq(drops[NM_DROP_POD_RX_TRUNCATED], 1);
	cr_assert_eq(drops[NM_DROP_VLAN_ON_POD], 1);
	cr_assert_eq(io->rx_next, 3, "dropped slots are given back too");
}

Test(podio, v2_tx_writes_the_v2_header)
{
	struct nm_podio *io = tx_ring(2);
	struct rte_mempool *mp = pool(2048);
	struct rte_mbuf *m = mbuf_of(mp, 5, 100);
	uint64_t drops[NM_DROP_MAX] = {0}, bytes;

	io->version = TPACKET_V2;
	io->tx_data = TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
	cr_assert_eq(nm_podio_tx_burst(io, &m, 1, drops, &bytes), 1);
	struct tpacket2_hdr *h = (struct tpacket2_hdr *)io->tx_ring;
	cr_assert_eq(h->tp_status, TP_STATUS_SEND_REQUEST);
	cr_assert_eq(h->tp_len, 100);
	for (uint32_t i = 0; i < 100; i++)
		cr_assert_eq(io->tx_ring[io->tx_data + i], (uint8_t)(5 + i));

	/* The slot is the kernel's until it marks it available: ring full. */
	m = mbuf_of(mp, 0, 60);
	io->tx_next = 0;
	cr_assert_eq(nm_podio_tx_burst(io, &m, 1, drops, &bytes), 0);
	cr_assert_eq(drops[NM_DROP_POD_TX_RING_FULL], 1);
}
