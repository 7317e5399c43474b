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
 * Add the kernel's counters of the socket since the last call (reading
 * PACKET_STATISTICS resets them) to io->kernel_rx and kernel_rx_drops.
 * 0 or -errno.
 */
int nm_podio_kernel_stats(struct nm_podio *io);

/* Unmap and close; only once no worker can still use io (after an RCU grace period). */
void nm_podio_close(struct nm_podio *io);

#endif
