/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod I/O without a DPDK ethdev: one PF_PACKET socket per pod, bound to the
 * host end of the pod's veth, with an RX ring and a TX ring mapped into
 * the daemon. The RX ring is frame-based (TPACKET_V2, the default: one
 * status word per frame) or block-based (TPACKET_V3: one status word per
 * block of packets, handed over when full or after rx_block_ms); the TX
 * ring is frame-based with the socket's version's header. The control
 * thread opens it at `pod add` (ctrl/podio_setup.c) and closes it after an
 * RCU grace period at `pod del`; in between only the pod's owner worker
 * touches it (dataplane/podio.c): it reads frames out of the RX slots or
 * blocks the kernel handed over and writes frames into free TX slots, then
 * kicks the kernel with one sendto() per burst.
 *
 * Why not net_af_packet: every ethdev takes one of RTE_MAX_ETHPORTS (32 in
 * Debian's DPDK), and a node runs more pods than that. The rings are the
 * same kernel interface the PMD uses, so nothing is lost but the ethdev.
 */
#ifndef NM_PODIO_T_H
#define NM_PODIO_T_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "nodemesh/pod-t.h" /* struct nm_podio_params */

/*
 * One pod's rings. The rx_* cursor and tx_next are the owner worker's;
 * the geometry and the mapping are set by the control thread before the
 * pod is published and never change.
 */
struct nm_podio {
	uint32_t version; /* the kernel's TPACKET_V2 or TPACKET_V3 (enum tpacket_versions) */

	uint8_t *rx_ring; /* RX: V2 slots or V3 blocks, the kernel fills them in order */

	/* RX, V3: rx_blocks blocks of rx_block_size. */
	uint32_t rx_block_size;
	uint32_t rx_blocks;
	uint32_t rx_block; /* block the worker reads next (or is reading) */
	uint32_t rx_left;  /* packets left in that block; 0: not opened yet */
	uint8_t *rx_pkt;   /* next packet in it (struct tpacket3_hdr) */

	/* RX, V2: rx_frames slots of rx_frame_size. */
	uint32_t rx_frame_size;
	uint32_t rx_frames;
	uint32_t rx_next; /* slot the worker reads next */

	/* TX: tx_frames slots of tx_frame_size, used round robin. */
	uint8_t *tx_ring;
	uint32_t tx_frame_size;
	uint32_t tx_frames;
	uint32_t tx_next; /* next slot to fill */
	uint32_t tx_data; /* offset of the frame data in a slot */

	int fd;
	uint64_t tx_kicks;	 /* sendto() calls: one per burst with something queued */
	uint64_t tx_kick_errors; /* of which failed (and counted as drops) */

	/* Control thread only. */
	void *map;		  /* rx_ring, then tx_ring */
	size_t map_len;		  /* bytes mapped: what the pod costs in ring memory */
	uint64_t kernel_rx;	  /* PACKET_STATISTICS tp_packets, summed (a read resets it) */
	uint64_t kernel_rx_drops; /* tp_drops: frames the kernel found no free RX slot for */
} __rte_cache_aligned;

#endif
