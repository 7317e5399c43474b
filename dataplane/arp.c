/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Proxy ARP, in Calico's model: the dataplane is every pod's gateway and
 * answers any ARP request on a pod port with its own MAC, except a request
 * for the pod's own address (duplicate-address detection must go
 * unanswered). It also asks the pod for its MAC when it needs it.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "arp.h"
#include "nodemesh/dataplane-t.h"

void
nm_arp_reply_inplace(struct rte_mbuf *m, uint16_t l2_len, const struct rte_ether_addr *mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, l2_len);
	struct rte_arp_ipv4 *d = &arp->arp_data;
	uint32_t asked = d->arp_tip;

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(mac, &eth->src_addr);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&d->arp_sha, &d->arp_tha);
	d->arp_tip = d->arp_sip;
	rte_ether_addr_copy(mac, &d->arp_sha);
	d->arp_sip = asked;
}

struct rte_mbuf *
nm_arp_request(struct rte_mempool *pool, const struct rte_ether_addr *mac, uint32_t target_ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	const uint16_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr);

	if (m == NULL)
		return NULL;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(NM_GATEWAY_IP);
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = target_ip;
	return m;
}
