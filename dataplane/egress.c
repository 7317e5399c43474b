/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress: a burst a pod sent, on the worker that owns the pod, in three
 * phases:
 *
 *   1. screen: per packet, the checks a router makes before anything reads
 *      ports (parse, proxy ARP, IPv6 not forwarded, anti-spoofing,
 *      reassembly, TTL, pod MTU with DF); each failure is one named drop;
 *   2. destinations: the survivors' destination pods from the pod table's
 *      address index, on a miss from the ipcache (a remote pod: its peer);
 *      ICMP host unreachable for neither;
 *   3. forward: one bulk flow lookup on the source side, then per packet
 *      the source side's conntrack and policy (a denied packet never
 *      leaves its worker), TTL - 1, and the way out: through the tunnel
 *      for a remote pod, ingress here for a pod this worker owns, or the
 *      owner's handoff ring.
 */
#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "arp.h"
#include "cksum.h"
#include "fabric.h"
#include "frag.h"
#include "http_authz.h"
#include "icmp.h"
#include "ingress.h"
#include "nodemesh/ipcache.h"
#include "nodemesh/pkt.h"
#include "nodemesh/pod_index.h"
#include "nodemesh/worker.h"
#include "track.h"
#include "tx.h"

/* What survived screening: the packets and their parsed headers. */
struct egress_burst {
	uint16_t n;
	struct rte_mbuf *pkts[NM_BURST];
	struct nm_pkt_meta meta[NM_BURST];
};

/* Survivors whose destination pod exists, with its slot and the source side's flow key. */
struct egress_routed {
	uint16_t n;
	uint16_t which[NM_BURST]; /* index into the egress_burst */
	uint16_t dslot[NM_BURST]; /* NM_SLOT_REMOTE: a remote pod, of peer[] */
	uint16_t peer[NM_BURST];
	struct nm_flow_ref ref[NM_BURST];
};

/*
 * An ARP frame from the pod: the answer to our own request (its MAC was
 * learnt from the frame already), or a request for any address but the
 * pod's own, answered with the gateway's MAC (proxy ARP).
 */
static void
handle_arp(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m,
	   const struct nm_pkt_meta *meta)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (meta->arp_op == RTE_ARP_OP_REPLY) {
		/* Answer to our resolution request; the MAC was learnt from the frame. */
		if (meta->src.v4 != pod->spec.ip) {
			nm_drop(w, pod->live, m, NM_DROP_ARP_UNEXPECTED);
			return;
		}
		rte_pktmbuf_free(m);
		return;
	}
	/* Duplicate-address probes and announcements for the pod's own address. */
	if (meta->dst.v4 == pod->spec.ip) {
		nm_drop(w, pod->live, m, NM_DROP_ARP_OWN_ADDRESS);
		return;
	}
	nm_arp_reply_inplace(m, meta->l2_len, &pod->port_mac);
	w->c.arp_replies++;
	nm_tx_enqueue(w, tbl, slot, m);
}

/* TTL - 1 with the header checksum updated for the TTL/protocol word (RFC 1624). */
static inline void
ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint16_t old = (uint16_t)(ip->time_to_live << 8 | ip->next_proto_id);

	ip->time_to_live--;
	ip->hdr_checksum = nm_cksum_adjust(ip->hdr_checksum, old, (uint16_t)(old - 0x0100));
}

/*
 * A packet from the pod at slot to a remote pod of peer: it must fit the
 * tunnel (DF: ICMP fragmentation needed with the tunnel MTU; otherwise
 * fragments), and a SYN's MSS is clamped so TCP never needs that.
 */
static void
to_fabric(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, uint16_t peer,
	  struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint64_t now)
{
	uint32_t mtu = w->dp->tnl_mtu;
	uint16_t hash =
	    (uint16_t)(rte_be_to_cpu_32(meta->src.v4 ^ meta->dst.v4) ^ meta->sport ^ meta->dport);

	if (meta->ip_proto == IPPROTO_TCP && (meta->tcp_flags & RTE_TCP_SYN_FLAG))
		nm_tcp_mss_clamp(m, meta, (uint16_t)(mtu - 40));
	if (likely(meta->ip_len <= mtu)) {
		nm_fabric_enqueue(w, peer, m, hash);
		return;
	}
	if (meta->flags & NM_PKT_F_DF) {
		nm_icmp_reply(w, tbl, slot, m, meta->l2_len, NM_ICMP_DEST_UNREACH,
			      NM_ICMP_FRAG_NEEDED, (uint16_t)mtu, now);
		nm_drop(w, tbl->pods[slot].live, m, NM_DROP_FRAG_NEEDED);
		return;
	}
	struct rte_mbuf *frags[NM_FRAG_MAX];
	unsigned int nf = nm_frag_split(w, m, meta->l2_len, mtu, frags);
	for (unsigned int i = 0; i < nf; i++)
		nm_fabric_enqueue(w, peer, frags[i], hash);
}

/*
 * Phase 1. Counts the burst, learns the pod's MAC, answers ARP, and keeps
 * in *out the IPv4 packets that may be routed (whole: fragments are
 * reassembled here or held).
 */
static void
screen(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf **pkts,
       uint16_t n, uint64_t now, struct egress_burst *out)
{
	const struct nm_pod *src = &tbl->pods[slot];
	struct nm_pod_live *live = src->live;
	int i;

	out->n = 0;
	for (i = 0; i < 3 && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + 3 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 3], void *));
		/*
		 * af_packet and af_xdp also see what the host kernel itself sends
		 * out of the port's end of the veth (with IPv6 on: router
		 * solicitations, MLD, DAD), from that end's MAC, which is the
		 * port's. Not the pod's: neither counted as its traffic nor
		 * learnt as its MAC.
		 */
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (unlikely(m->data_len >= sizeof(*eth) &&
			     rte_is_same_ether_addr(&eth->src_addr, &src->port_mac))) {
			nm_drop(w, NULL, m, NM_DROP_HOST_FRAME);
			continue;
		}
		live->c.rx_packets++;
		live->c.rx_bytes += m->pkt_len;
		w->c.rx_packets++;
		w->c.rx_bytes += m->pkt_len;

		/* Parsed in place: a survivor's headers are kept where they were written. */
		struct nm_pkt_meta *meta = &out->meta[out->n];
		int cls = nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
					       m->pkt_len, meta);
		if (unlikely(cls < 0)) {
			nm_drop(w, live, m, (enum nm_drop_reason) - cls);
			continue;
		}
		if (unlikely(meta->l2_len != sizeof(struct rte_ether_hdr))) {
			nm_drop(w, live, m, NM_DROP_VLAN_ON_POD);
			continue;
		}

		/* The link is point-to-point: whatever else sends on it is the pod. */
		if (unlikely(!live->mac_known ||
			     !rte_is_same_ether_addr(&live->pod_mac, &eth->src_addr)) &&
		    !src->spec.has_mac && rte_is_unicast_ether_addr(&eth->src_addr)) {
			rte_ether_addr_copy(&eth->src_addr, &live->pod_mac);
			live->mac_known = true;
		}

		if (unlikely(cls == NM_PKT_ARP)) {
			handle_arp(w, tbl, slot, m, meta);
			continue;
		}
		if (unlikely(cls == NM_PKT_IPV6)) {
			nm_drop(w, live, m, NM_DROP_IPV6_NOT_FORWARDED);
			continue;
		}
		if (unlikely(meta->src.v4 != src->spec.ip)) {
			nm_drop(w, live, m, NM_DROP_SPOOFED_SRC);
			continue;
		}
		if (unlikely(meta->flags & NM_PKT_F_FRAG)) {
			m = nm_frag_reassemble(w, m, meta, live, now);
			if (m == NULL)
				continue;
		}
		if (unlikely(meta->dst.v4 == rte_cpu_to_be_32(NM_GATEWAY_IP))) {
			nm_drop(w, live, m, NM_DROP_TO_GATEWAY);
			continue;
		}
		if (unlikely(meta->ttl <= 1)) {
			nm_icmp_reply(w, tbl, slot, m, meta->l2_len, NM_ICMP_TIME_EXCEEDED, 0, 0,
				      now);
			nm_drop(w, live, m, NM_DROP_TTL_EXCEEDED);
			continue;
		}
		if (unlikely(meta->ip_len > w->dp->params.pod_mtu) && (meta->flags & NM_PKT_F_DF)) {
			nm_icmp_reply(w, tbl, slot, m, meta->l2_len, NM_ICMP_DEST_UNREACH,
				      NM_ICMP_FRAG_NEEDED, (uint16_t)w->dp->params.pod_mtu, now);
			nm_drop(w, live, m, NM_DROP_FRAG_NEEDED);
			continue;
		}
		out->pkts[out->n] = m;
		out->n++;
	}
}

/*
 * Phase 2. The destination addresses in the pod table's index, then in
 * the ipcache (a miss in the first is rare for pod-to-pod traffic on one
 * node, common across nodes); a packet for no pod gets ICMP host
 * unreachable and is dropped.
 */
static void
find_destinations(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		  struct egress_burst *in, uint64_t now, struct egress_routed *out)
{
	struct nm_pod_live *live = tbl->pods[slot].live;

	out->n = 0;
	for (uint16_t i = 0; i < in->n; i++) {
		int dslot = nm_pod_index_lookup(tbl, in->meta[i].dst.v4);
		struct nm_ipcache_entry e = {0};

		if (dslot < 0 && w->dp->ipcache != NULL &&
		    nm_ipcache_lookup(w->dp->ipcache, in->meta[i].dst.v4, &e) == 0)
			dslot = NM_SLOT_REMOTE;
		if (unlikely(dslot < 0)) {
			nm_icmp_reply(w, tbl, slot, in->pkts[i], in->meta[i].l2_len,
				      NM_ICMP_DEST_UNREACH, NM_ICMP_HOST_UNREACH, 0, now);
			nm_drop(w, live, in->pkts[i], NM_DROP_NO_POD);
			continue;
		}
		out->dslot[out->n] = (uint16_t)dslot;
		out->peer[out->n] = e.peer;
		nm_flow_ref_make(&out->ref[out->n], w, tbl, slot, &in->meta[i]);
		out->which[out->n++] = i;
	}
}

/*
 * Phase 3. The source side's conntrack and policy for each packet (one
 * bulk flow lookup), then out through the tunnel, into ingress here, or to
 * the destination's owner.
 */
static void
forward(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct egress_burst *in,
	struct egress_routed *r, uint64_t now)
{
	struct nm_pod_live *live = tbl->pods[slot].live;
	struct nm_flow *flows[NM_BURST];
	struct nm_ingress_burst local;

	nm_track_lookup_bulk(w, r->ref, r->n, flows);
	local.n = 0;
	for (uint16_t k = 0; k < r->n; k++) {
		struct rte_mbuf *m = in->pkts[r->which[k]];
		const struct nm_pkt_meta *pm = &in->meta[r->which[k]];

		/* Source-side enforcement: a denied packet never leaves its worker. */
		struct nm_flow *f;
		unsigned int dir;
		enum nm_drop_reason why = nm_track(w, tbl, flows[k], &r->ref[k], slot, slot,
						   r->dslot[k], pm, now, false, &f, &dir);
		if (unlikely(why != NM_DROP_NONE)) {
			nm_drop(w, live, m, why);
			continue;
		}
		/* A server whose requests are judged: its answers, for the 403's place. */
		if (unlikely(f->authz != NULL))
			nm_authz_response(w, f, m, pm);
		ttl_decrement(rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, pm->l2_len));
		if (r->dslot[k] == NM_SLOT_REMOTE) {
			to_fabric(w, tbl, slot, r->peer[k], m, pm, now);
			continue;
		}
		nm_ingress_route(w, tbl, r->dslot[k], slot, m, pm, &r->ref[k], f, &local);
	}
	nm_ingress_bulk(w, tbl, &local, now);
}

void
nm_worker_rx_pod(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		 struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t now = nm_worker_now(w);
	struct egress_burst screened;
	struct egress_routed routed;

	screen(w, tbl, slot, pkts, n, now, &screened);
	if (screened.n == 0)
		return;
	find_destinations(w, tbl, slot, &screened, now, &routed);
	forward(w, tbl, slot, &screened, &routed, now);
}
