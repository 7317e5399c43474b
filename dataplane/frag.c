/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments (frag.h): reassembly before anything reads ports
 * (rte_ip_frag, bounded by the worker's table), fragmentation for a pod
 * MTU or the tunnel MTU, and expiry of incomplete datagrams.
 */
#include <rte_branch_prediction.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "frag.h"
#include "nodemesh/pkt.h"
#include "tx.h"

/*
 * Split m (Ethernet + IPv4, RFC 791) into fragments of at most mtu bytes
 * of IP, each whole in one mbuf with m's Ethernet header and a fresh IP
 * checksum. m is consumed. Returns how many are in frags (failures are
 * dropped and counted).
 */
unsigned int
nm_frag_split(struct nm_worker *w, struct rte_mbuf *m, uint16_t l2_len, uint32_t mtu,
	      struct rte_mbuf **frags)
{
	struct rte_ether_hdr eth = *rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	unsigned int k = 0;

	rte_pktmbuf_adj(m, l2_len);
	int n = rte_ipv4_fragment_packet(m, frags, NM_FRAG_MAX, (uint16_t)mtu, w->dp->pool,
					 w->dp->indirect);
	rte_pktmbuf_free(m);
	if (unlikely(n < 0)) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		return 0;
	}
	w->c.fragmented++;
	for (int i = 0; i < n; i++) {
		struct rte_ether_hdr *h =
		    (struct rte_ether_hdr *)rte_pktmbuf_prepend(frags[i], sizeof(eth));
		if (unlikely(h == NULL) ||
		    (frags[i]->nb_segs > 1 && rte_pktmbuf_linearize(frags[i]) < 0)) {
			nm_drop(w, NULL, frags[i], NM_DROP_NO_MBUF);
			continue;
		}
		h = rte_pktmbuf_mtod(frags[i], struct rte_ether_hdr *);
		*h = eth;
		/* rte_ipv4_fragment_packet leaves the header checksum to the caller. */
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(h + 1);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		frags[k++] = frags[i];
	}
	return k;
}

/*
 * Feed a fragment to this worker's reassembly table. Returns the whole
 * datagram (re-parsed into *meta) or NULL when it is held or was dropped.
 * rte_ip_frag drops bad sets (overlaps, too many fragments, timeouts) onto
 * the death row; its growth is what we count.
 */
struct rte_mbuf *
nm_frag_reassemble(struct nm_worker *w, struct rte_mbuf *m, struct nm_pkt_meta *meta,
		   struct nm_pod_live *from, uint64_t now)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, meta->l2_len);
	uint32_t off =
	    (uint32_t)(rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) *
	    RTE_IPV4_HDR_OFFSET_UNITS;

	/* A fragment ending past 65535 bytes belongs to no valid datagram. */
	if (unlikely(off + meta->ip_len > UINT16_MAX)) {
		nm_drop(w, from, m, NM_DROP_FRAG_INVALID);
		return NULL;
	}
	m->l2_len = meta->l2_len;
	m->l3_len = meta->l3_len;
	uint32_t dead = w->death_row.cnt;
	struct rte_mbuf *whole =
	    rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->death_row, m, now, ip);
	uint32_t died = w->death_row.cnt - dead;
	w->c.drops[NM_DROP_FRAG_INVALID] += died;
	from->c.drops += died;
	rte_ip_frag_free_death_row(&w->death_row, 0);
	if (whole == NULL)
		return NULL;

	w->c.reassembled++;
	ip = rte_pktmbuf_mtod_offset(whole, struct rte_ipv4_hdr *, meta->l2_len);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	int rc = nm_pkt_parse_partial(rte_pktmbuf_mtod(whole, const uint8_t *), whole->data_len,
				      whole->pkt_len, meta);
	if (unlikely(rc != NM_PKT_IPV4)) {
		nm_drop(w, from, whole, rc < 0 ? (enum nm_drop_reason) - rc : NM_DROP_FRAG_INVALID);
		return NULL;
	}
	return whole;
}

void
nm_frag_expire(struct nm_worker *w, uint64_t now)
{
	uint32_t dead = w->death_row.cnt;

	rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->death_row, now);
	w->c.drops[NM_DROP_FRAG_INVALID] += w->death_row.cnt - dead;
	rte_ip_frag_free_death_row(&w->death_row, 0);
}
