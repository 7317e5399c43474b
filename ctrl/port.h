/* SPDX-License-Identifier: BSD-3-Clause */
/* Pod ports: DPDK vdevs attached at `pod add`, detached at `pod del` (ctrl/port.c). */
#ifndef NM_PORT_H
#define NM_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "nodemesh/pod-t.h"

int nm_port_attach(const struct nm_pod_spec *spec, uint32_t pod_id, struct rte_mempool *pool,
		   uint16_t *port_id, struct rte_ether_addr *mac, char *err, size_t errlen);
void nm_port_detach(uint16_t port_id);
const char *nm_port_driver_name(uint8_t driver);

#endif
