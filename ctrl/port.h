/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod ports (ctrl/port.c): attached at `pod add`, detached at `pod del`.
 * af_packet pods get their own rings (nodemesh/podio-t.h), the others and
 * the fabric a DPDK vdev.
 */
#ifndef NM_PORT_H
#define NM_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "nodemesh/pod-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/podio-t.h"

/*
 * Hot-plug a DPDK ethdev for spec with nq RX and TX queues (1 for a pod;
 * one per worker for the fabric, af_packet only: its qpairs, the kernel's
 * PACKET_FANOUT spreading frames by flow hash). 0, or -errno with err.
 */
int nm_port_attach(const struct nm_pod_spec *spec, uint32_t pod_id, uint16_t nq,
		   struct rte_mempool *pool, uint16_t *port_id, struct rte_ether_addr *mac,
		   char *err, size_t errlen);
void nm_port_detach(uint16_t port_id);
/*
 * Attach the I/O of pod (its id set): fills pod->io or pod->port_id, and
 * pod->port_mac. 0, or -errno with err saying what failed.
 */
int nm_port_pod_attach(const struct nm_pod_spec *spec, struct rte_mempool *pool,
		       const struct nm_podio_params *io_params, struct nm_pod *pod, char *err,
		       size_t errlen);
/* Undo nm_port_pod_attach, once no worker can use the pod any more. */
void nm_port_pod_detach(struct nm_pod *pod);
const char *nm_port_driver_name(uint8_t driver);

#endif
