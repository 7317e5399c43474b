/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The owner worker's side of a pod's PF_PACKET rings (nodemesh/podio-t.h):
 * frames out of RX slots (TPACKET_V2) or blocks (TPACKET_V3) into mbufs,
 * mbufs into TX slots.
 * RX makes no syscall; TX makes one per burst (the kick). Neither
 * allocates anything but mbufs from the pool it is given.
 */
#ifndef NM_PODIO_H
#define NM_PODIO_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/if_packet.h>

#include <rte_mbuf.h>

#include "nodemesh/podio-t.h"

static inline struct tpacket_block_desc *
nm_podio_rx_block(const struct nm_podio *io, uint32_t b)
{
	return (struct tpacket_block_desc *)(io->rx_ring + (size_t)b * io->rx_block_size);
}

/* RX slot i of a TPACKET_V2 ring: slots are contiguous (blocks are a multiple of the slot). */
static inline struct tpacket2_hdr *
nm_podio_rx_frame(const struct nm_podio *io, uint32_t i)
{
	return (struct tpacket2_hdr *)(io->rx_ring + (size_t)i * io->rx_frame_size);
}

/*
 * Is there something to read: the next V2 slot, or the next V3 block,
 * handed over by the kernel (or a V3 block half read)? One load of a
 * status word.
 */
static inline bool
nm_podio_rx_ready(const struct nm_podio *io)
{
	/* Acquire: the kernel's writes to the frame or block precede its status store. */
	if (io->version == TPACKET_V2)
		return __atomic_load_n(&nm_podio_rx_frame(io, io->rx_next)->tp_status,
				       __ATOMIC_ACQUIRE) &
		       TP_STATUS_USER;

	const struct tpacket_block_desc *bd = nm_podio_rx_block(io, io->rx_block);
	return io->rx_left != 0 ||
	       (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER);
}

/*
 * Up to n frames from the RX ring as mbufs from mp. Frames that cannot be
 * delivered are counted in drops[] (indexed by enum nm_drop_reason) and
 * skipped. Returns the mbufs stored in pkts.
 */
uint16_t nm_podio_rx_burst(struct nm_podio *io, struct rte_mempool *mp, struct rte_mbuf **pkts,
			   uint16_t n, uint64_t *drops);

/*
 * Copy n mbufs into TX slots, free them all, and kick the kernel once if
 * anything was queued. What finds no slot, does not fit one or is lost to
 * a failed kick is counted in drops[]. Returns the frames handed to the
 * kernel; *bytes gets their bytes.
 */
uint16_t nm_podio_tx_burst(struct nm_podio *io, struct rte_mbuf **pkts, uint16_t n, uint64_t *drops,
			   uint64_t *bytes);

/* The copies alone (podio.c), for the unit tests: a frame into a chain from mp, and back. */
struct rte_mbuf *nm_podio_frame_to_mbuf(const uint8_t *data, uint32_t len, struct rte_mempool *mp);
void nm_podio_mbuf_to_frame(const struct rte_mbuf *m, uint8_t *dst);

#endif
