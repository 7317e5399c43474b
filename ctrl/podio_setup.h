/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening and closing a pod's PF_PACKET rings (ctrl/podio_setup.c; types in nodemesh/podio-t.h). */
#ifndef NM_PODIO_SETUP_H
#define NM_PODIO_SETUP_H

#include <stddef.h>

#include <rte_ether.h>

#include "nodemesh/podio-t.h"

/*
 * Check ring geometry as the kernel will (page-multiple blocks, slots a
 * power of two, a frame of pod_mtu fitting a slot). 0, or -EINVAL with err
 * naming the setting.
 */
int nm_podio_params_check(const struct nm_podio_params *p, uint32_t pod_mtu, char *err,
			  size_t errlen);

/*
 * Open the rings on iface (brought up if it is down) and read its MAC.
 * Returns the rings (rte_zmalloc'd), or NULL with err naming the failed call.
 */
struct nm_podio *nm_podio_open(const char *iface, const struct nm_podio_params *p,
			       struct rte_ether_addr *mac, char *err, size_t errlen);

/*
 * A pod's rings as a takeover hands them over (ctrl/takeover_rings.c):
 * the socket travels by SCM_RIGHTS, this says how it is laid out and
 * where the worker's cursors stood when it stopped.
 */
struct nm_podio_handover {
	uint32_t version; /* TPACKET_V2 or TPACKET_V3 (enum tpacket_versions) */
	uint32_t rx_block_size, rx_blocks, rx_frame_size, rx_frames;
	uint32_t tx_frame_size, tx_frames, tx_data;
	uint64_t map_len; /* RX ring then TX ring, as mapped */
	uint32_t rx_next, rx_block, rx_left, tx_next;
	uint64_t rx_pkt_off; /* V3: the next packet in the open block, from the RX ring's start */
};

/* What io's owner leaves behind: its geometry and cursors (workers stopped). */
void nm_podio_handover_get(const struct nm_podio *io, struct nm_podio_handover *h);

/*
 * Map the rings of fd, a socket another daemon opened on iface and laid
 * out as h says, and go on from its cursors; read iface's MAC. Returns the
 * rings (rte_zmalloc'd; fd is theirs), or NULL with err naming the failed
 * call or the cursor out of range (fd is then the caller's to close).
 */
struct nm_podio *nm_podio_adopt(int fd, const char *iface, const struct nm_podio_handover *h,
				struct rte_ether_addr *mac, char *err, size_t errlen);

/*
 * Add the kernel's counters of the socket since the last call (reading
 * PACKET_STATISTICS resets them) to io->kernel_rx and kernel_rx_drops.
 * 0 or -errno.
 */
int nm_podio_kernel_stats(struct nm_podio *io);

/* Unmap and close; only once no worker can still use io (after an RCU grace period). */
void nm_podio_close(struct nm_podio *io);

#endif
