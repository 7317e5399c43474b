/* SPDX-License-Identifier: BSD-3-Clause */
/* Proxy ARP on pod ports and ARP requests to resolve pods and peers (dataplane/arp.c). */
#ifndef NM_ARP_H
#define NM_ARP_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

/* Turn the ARP request in m into our reply, with mac as the answer. */
void nm_arp_reply_inplace(struct rte_mbuf *m, uint16_t l2_len, const struct rte_ether_addr *mac);
/* A broadcast "who has target_ip" from mac (sender IP 0); NULL when the pool is empty. */
struct rte_mbuf *nm_arp_request(struct rte_mempool *pool, const struct rte_ether_addr *mac,
				uint32_t target_ip);

#endif
