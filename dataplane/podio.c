/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pod's PF_PACKET rings, worker side (podio.h). The protocol is the
 * kernel's (Documentation/networking/packet_mmap.rst):
 *
 *   RX (TPACKET_V2): the ring is rx_frames slots. The kernel writes a
 *   packet into the next slot and hands it over by setting TP_STATUS_USER
 *   in its tp_status; the worker copies it and gives the slot back with
 *   TP_STATUS_KERNEL. Slots are filled in ring order, so the worker only
 *   ever looks at one: rx_next.
 *
 *   RX (TPACKET_V3): the ring is rx_blocks blocks. The kernel fills the
 *   current block with packets and hands it over by setting TP_STATUS_USER
 *   in its block_status when the block is full, or when the ring's retire
 *   timer (every rx_block_ms, traffic or not) finds it holding packets.
 *   Blocks are handed over in ring order, so the worker only ever looks at
 *   one: rx_block. It walks the block's num_pkts packets by tp_next_offset,
 *   possibly over several bursts, and gives the block back with
 *   TP_STATUS_KERNEL.
 *
 *   TX (frame based, with the socket's version's header): slot status
 *   TP_STATUS_AVAILABLE means free. The worker writes the frame, sets
 *   TP_STATUS_SEND_REQUEST, and after the burst one sendto(MSG_DONTWAIT)
 *   makes the kernel send every requested slot and mark it available
 *   again.
 *
 * Frames are copied, as DPDK's net_af_packet does: ring memory is not
 * mbuf memory, and a copy of a frame is cheap next to the rest of the
 * pipeline.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "nodemesh/drop-t.h"
#include "podio.h"

struct rte_mbuf *
nm_podio_frame_to_mbuf(const uint8_t *data, uint32_t len, struct rte_mempool *mp)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(mp);
	struct rte_mbuf *last = head;

	if (head == NULL)
		return NULL;
	/* A frame larger than one mbuf's room (pod_mtu above ~2000) is chained. */
	for (;;) {
		uint32_t chunk = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(last));

		memcpy(rte_pktmbuf_mtod(last, uint8_t *), data, chunk);
		last->data_len = (uint16_t)chunk;
		head->pkt_len += chunk;
		data += chunk;
		len -= chunk;
		if (len == 0)
			return head;

		struct rte_mbuf *seg = rte_pktmbuf_alloc(mp);
		if (seg == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		last->next = seg;
		head->nb_segs++;
		last = seg;
	}
}

void
nm_podio_mbuf_to_frame(const struct rte_mbuf *m, uint8_t *dst)
{
	for (; m != NULL; m = m->next) {
		memcpy(dst, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
		dst += m->data_len;
	}
}

/* Give the block back to the kernel and move to the next one. */
static void
rx_block_done(struct nm_podio *io)
{
	struct tpacket_block_desc *bd = nm_podio_rx_block(io, io->rx_block);

	/* Release: our reads of the block complete before the kernel may refill it. */
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	io->rx_block = io->rx_block + 1 == io->rx_blocks ? 0 : io->rx_block + 1;
	io->rx_left = 0;
}

/* Open rx_block if the kernel handed it over. False: nothing to read. */
static bool
rx_block_open(struct nm_podio *io)
{
	struct tpacket_block_desc *bd = nm_podio_rx_block(io, io->rx_block);

	for (;;) {
		/* Acquire pairs with the kernel's store of the status after the packets. */
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			return false;
		if (likely(bd->hdr.bh1.num_pkts > 0))
			break;
		/* Never seen in practice (the kernel retires only blocks with packets),
		 * but an empty block must not stall the ring. */
		rx_block_done(io);
		bd = nm_podio_rx_block(io, io->rx_block);
	}
	io->rx_left = bd->hdr.bh1.num_pkts;
	io->rx_pkt = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
	return true;
}

/*
 * One packet (data at frame, of snaplen bytes captured out of len, with
 * the kernel's tp_status) as an mbuf; NULL if dropped (and counted). The
 * V2 and V3 headers carry the same fields at different places.
 */
static struct rte_mbuf *
rx_one(const uint8_t *frame, uint32_t snaplen, uint32_t len, uint32_t status,
       struct rte_mempool *mp, uint64_t *drops)
{
	struct rte_mbuf *m;

	if (unlikely(snaplen < len)) {
		drops[NM_DROP_POD_RX_TRUNCATED]++;
		return NULL;
	}
	/* The kernel took the 802.1Q tag off into tp_vlan_tci: still a tagged frame. */
	if (unlikely(status & TP_STATUS_VLAN_VALID)) {
		drops[NM_DROP_VLAN_ON_POD]++;
		return NULL;
	}
	m = nm_podio_frame_to_mbuf(frame, snaplen, mp);
	if (unlikely(m == NULL))
		drops[NM_DROP_POD_RX_NO_MBUF]++;
	return m;
}

static uint16_t
rx_v3(struct nm_podio *io, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n,
      uint64_t *drops)
{
	uint16_t got = 0;

	while (got < n) {
		if (io->rx_left == 0 && !rx_block_open(io))
			break;

		const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)io->rx_pkt;
		struct rte_mbuf *m = rx_one((const uint8_t *)h + h->tp_mac, h->tp_snaplen,
					    h->tp_len, h->tp_status, mp, drops);

		if (m != NULL)
			pkts[got++] = m;
		if (--io->rx_left == 0)
			rx_block_done(io);
		else
			io->rx_pkt += h->tp_next_offset;
	}
	return got;
}

static uint16_t
rx_v2(struct nm_podio *io, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n,
      uint64_t *drops)
{
	uint16_t got = 0;

	while (got < n) {
		struct tpacket2_hdr *h = nm_podio_rx_frame(io, io->rx_next);
		/* Acquire pairs with the kernel's status store after the packet. */
		uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (!(status & TP_STATUS_USER))
			break;

		struct rte_mbuf *m = rx_one((const uint8_t *)h + h->tp_mac, h->tp_snaplen,
					    h->tp_len, status, mp, drops);
		if (m != NULL)
			pkts[got++] = m;
		/* Release: our reads of the slot complete before the kernel may refill it. */
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		io->rx_next = io->rx_next + 1 == io->rx_frames ? 0 : io->rx_next + 1;
	}
	return got;
}

uint16_t
nm_podio_rx_burst(struct nm_podio *io, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n,
		  uint64_t *drops)
{
	return io->version == TPACKET_V2 ? rx_v2(io, mp, pkts, n, drops)
					 : rx_v3(io, mp, pkts, n, drops);
}

/* Slot i of the TX ring: slots are contiguous (the block size is a multiple of the slot). */
static inline uint8_t *
tx_slot(const struct nm_podio *io, uint32_t i)
{
	return io->tx_ring + (size_t)i * io->tx_frame_size;
}

/* Queue m in the next slot. 0, or the drop reason. */
static enum nm_drop_reason
tx_one(struct nm_podio *io, const struct rte_mbuf *m)
{
	uint8_t *slot = tx_slot(io, io->tx_next);
	struct tpacket2_hdr *h2 = (struct tpacket2_hdr *)slot;
	struct tpacket3_hdr *h3 = (struct tpacket3_hdr *)slot;
	uint32_t *status = io->version == TPACKET_V2 ? &h2->tp_status : &h3->tp_status;

	/* Acquire pairs with the kernel marking the slot available after sending it. */
	if (__atomic_load_n(status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
		return NM_DROP_POD_TX_RING_FULL;
	if (unlikely(m->pkt_len > io->tx_frame_size - io->tx_data))
		return NM_DROP_POD_TX_TOO_BIG;

	nm_podio_mbuf_to_frame(m, slot + io->tx_data);
	if (io->version == TPACKET_V2) {
		h2->tp_len = m->pkt_len;
		h2->tp_snaplen = m->pkt_len;
	} else {
		h3->tp_len = m->pkt_len;
		h3->tp_snaplen = m->pkt_len;
		h3->tp_next_offset = 0;
	}
	/* Release: the frame is complete before the kernel may read it. */
	__atomic_store_n(status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	io->tx_next = io->tx_next + 1 == io->tx_frames ? 0 : io->tx_next + 1;
	return NM_DROP_NONE;
}

uint16_t
nm_podio_tx_burst(struct nm_podio *io, struct rte_mbuf **pkts, uint16_t n, uint64_t *drops,
		  uint64_t *bytes)
{
	uint16_t queued = 0;
	uint64_t queued_bytes = 0;

	for (uint16_t i = 0; i < n; i++) {
		enum nm_drop_reason why = tx_one(io, pkts[i]);

		if (likely(why == NM_DROP_NONE)) {
			queued++;
			queued_bytes += pkts[i]->pkt_len;
		} else {
			drops[why]++;
		}
		rte_pktmbuf_free(pkts[i]);
	}
	*bytes = 0;
	if (queued == 0)
		return 0;

	/*
	 * The one syscall of the worker's TX: the kernel sends every requested
	 * slot. EAGAIN and ENOBUFS included, a failure means some of this
	 * burst's frames may not have left: they are counted as dropped.
	 */
	io->tx_kicks++;
	/* No buffer: a TX ring's sendto() only starts the ring (packet_mmap.rst). */
	// cppcheck-suppress nullPointer
	if (unlikely(sendto(io->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0)) {
		io->tx_kick_errors++;
		drops[NM_DROP_POD_TX_KICK] += queued;
		return 0;
	}
	*bytes = queued_bytes;
	return queued;
}
