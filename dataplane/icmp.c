/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP errors a router sends (RFC 792, RFC 1812 §4.3.2): destination
 * unreachable, fragmentation needed (RFC 1191 next-hop MTU) and time
 * exceeded. Sent from the gateway address back to the pod that sent the
 * offending packet, quoting its IP header and first 8 payload bytes,
 * within a per-worker budget.
 */
#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "icmp.h"
#include "nodemesh/dataplane-t.h"
#include "tx.h"

#define ICMP_QUOTE_PAYLOAD 8 /* bytes of the offending datagram past its header, RFC 792 */

bool
nm_icmp_error_allowed(const struct rte_mbuf *orig, uint16_t l2_len)
{
	const struct rte_ipv4_hdr *ip =
	    rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, l2_len);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);
	uint16_t ihl = rte_ipv4_hdr_len(ip);

	/* RFC 1812 §4.3.2.7: never about broadcast, multicast or unspecified addresses, */
	if (dst == UINT32_MAX || (dst >> 28) == 0xe || src == 0 || (src >> 28) == 0xe)
		return false;
	/* nor about a fragment other than the first, */
	if ((rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0)
		return false;
	/* nor about an ICMP error (only queries such as echo may be answered). */
	if (ip->next_proto_id == IPPROTO_ICMP) {
		if ((uint32_t)l2_len + ihl + 1 > rte_pktmbuf_data_len(orig))
			return false;
		uint8_t type = *rte_pktmbuf_mtod_offset(orig, const uint8_t *, l2_len + ihl);
		if (type != RTE_IP_ICMP_ECHO_REQUEST && type != RTE_IP_ICMP_ECHO_REPLY &&
		    type != 13 && type != 14) /* timestamp, timestamp reply */
			return false;
	}
	return true;
}

struct rte_mbuf *
nm_icmp_error(struct rte_mempool *pool, const struct rte_mbuf *orig, uint16_t l2_len, uint8_t type,
	      uint8_t code, uint16_t mtu, const struct rte_ether_addr *gw_mac)
{
	const struct rte_ether_hdr *oeth = rte_pktmbuf_mtod(orig, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *oip =
	    rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, l2_len);
	uint16_t ihl = rte_ipv4_hdr_len(oip);
	uint16_t quote = (uint16_t)RTE_MIN((uint32_t)ihl + ICMP_QUOTE_PAYLOAD,
					   (uint32_t)rte_be_to_cpu_16(oip->total_length));

	/* The parser validated the header; the quote must still lie in segment one. */
	if ((uint32_t)l2_len + quote > rte_pktmbuf_data_len(orig))
		quote = (uint16_t)(rte_pktmbuf_data_len(orig) - l2_len);

	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	uint16_t len = (uint16_t)(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
				  sizeof(struct rte_icmp_hdr) + quote);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}

	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	rte_ether_addr_copy(&oeth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(gw_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(NM_GATEWAY_IP);
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_cksum = 0;
	/* Unused for most errors; the next-hop MTU for "fragmentation needed" (RFC 1191). */
	icmp->icmp_ident = 0;
	icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);
	memcpy(icmp + 1, oip, quote);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, sizeof(*icmp) + quote);
	return m;
}

bool
nm_icmp_budget_take(struct nm_worker *w, uint64_t now)
{
	double rate = NM_ICMP_ERRORS_PER_SEC;

	w->icmp_tokens += (double)(now - w->icmp_last_tsc) * rate / (double)w->dp->tsc_hz;
	w->icmp_last_tsc = now;
	if (w->icmp_tokens > rate / 10) /* burst: a tenth of a second's worth */
		w->icmp_tokens = rate / 10;
	if (w->icmp_tokens < 1.0) {
		w->c.icmp_suppressed++;
		return false;
	}
	w->icmp_tokens -= 1.0;
	return true;
}

void
nm_icmp_reply(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
	      const struct rte_mbuf *m, uint16_t l2_len, uint8_t type, uint8_t code, uint16_t mtu,
	      uint64_t now)
{
	if (!nm_icmp_error_allowed(m, l2_len) || !nm_icmp_budget_take(w, now))
		return;
	struct rte_mbuf *e =
	    nm_icmp_error(w->dp->pool, m, l2_len, type, code, mtu, &tbl->pods[slot].port_mac);
	if (unlikely(e == NULL)) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		return;
	}
	w->c.icmp_sent++;
	nm_tx_enqueue(w, tbl, slot, e);
}
