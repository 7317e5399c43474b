/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packets nodemesh sends in place of an end of a connection: the TCP RST
 * of a `reject` signature, and the HTTP 403 a policy rule answers a
 * refused request with. The Ethernet addresses are left zero; the worker
 * that delivers the packet writes the pod's and the gateway's.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "reject.h"

/* Addresses in network order, ports and numbers in host order. */
struct rte_mbuf *
nm_tcp_reset(struct rte_mempool *pool, uint32_t saddr, uint32_t daddr, uint16_t sport,
	     uint16_t dport, uint32_t seq, uint32_t ack)
{
	return nm_tcp_segment(pool, saddr, daddr, sport, dport, seq, ack,
			      RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
}

struct rte_mbuf *
nm_tcp_segment(struct rte_mempool *pool, uint32_t saddr, uint32_t daddr, uint16_t sport,
	       uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const void *payload,
	       uint16_t plen)
{
	uint16_t hdrs =
	    sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr);
	uint16_t len = hdrs + plen;
	struct rte_mbuf *m;

	if (plen > RTE_MBUF_DEFAULT_DATAROOM - hdrs)
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, 0, len);

	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(struct rte_tcp_hdr) + plen);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = saddr;
	ip->dst_addr = daddr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);
	tcp->src_port = rte_cpu_to_be_16(sport);
	tcp->dst_port = rte_cpu_to_be_16(dport);
	tcp->sent_seq = rte_cpu_to_be_32(seq);
	tcp->recv_ack = rte_cpu_to_be_32(ack);
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = flags;
	if (plen > 0) {
		tcp->rx_win = rte_cpu_to_be_16(65535);
		memcpy(tcp + 1, payload, plen);
	}
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	return m;
}
