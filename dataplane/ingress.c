/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingress (ingress.h): the receiving side of every packet for a pod this
 * worker owns. A burst gets one bulk flow lookup; then each packet passes
 * the destination side's conntrack (judged by policy, metered by its
 * rule's rate) and, unless its rule turned it off, signature inspection;
 * what survives gets the pod's and the gateway's MACs and is queued for
 * the pod's port (in fragments again if reassembly made it larger than
 * the pod MTU). Packets a reject made are sent from here too.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "fabric.h"
#include "frag.h"
#include "http_authz.h"
#include "ingress.h"
#include "inspect.h"
#include "nodemesh/ipcache.h"
#include "nodemesh/pkt.h"
#include "track.h"
#include "tx.h"

/*
 * Split m for the pod MTU and queue the fragments; the DF case was
 * answered with "fragmentation needed" at egress.
 */
static void
tx_fragments(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m,
	     uint16_t l2_len)
{
	struct rte_mbuf *frags[NM_FRAG_MAX];
	unsigned int n = nm_frag_split(w, m, l2_len, w->dp->params.pod_mtu, frags);

	for (unsigned int i = 0; i < n; i++)
		nm_tx_enqueue(w, tbl, slot, frags[i]);
}

/* Ingress after the flow allowed it: rewrite MACs, fragment if needed, queue. */
static void
deliver_one(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m,
	    const struct nm_pkt_meta *meta)
{
	struct nm_pod_live *dst = tbl->pods[slot].live;

	if (unlikely(!dst->mac_known)) {
		nm_drop(w, NULL, m, NM_DROP_NO_MAC);
		return;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&dst->pod_mac, &eth->dst_addr);
	rte_ether_addr_copy(&tbl->pods[slot].port_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	/* A reassembled datagram larger than the pod MTU leaves as fragments again. */
	if (unlikely(meta->ip_len > w->dp->params.pod_mtu)) {
		tx_fragments(w, tbl, slot, m, meta->l2_len);
		return;
	}
	/*
	 * Reassembled packets are chains; not every PMD transmits chains
	 * (af_xdp does not), and each fits one mbuf here.
	 */
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) < 0) {
		nm_drop(w, NULL, m, NM_DROP_NO_MBUF);
		return;
	}
	nm_tx_enqueue(w, tbl, slot, m);
}

/* Signature matching for a packet policy allowed, unless its rule turned inspection off. */
static inline enum nm_drop_reason
inspect(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f, unsigned int dir,
	struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot,
	uint64_t now, struct nm_made *made)
{
	if (unlikely(!f->inspect)) {
		/* Turned off for good: a stream cannot resume after unscanned bytes. */
		nm_inspect_release(w, f, true);
		f->sig = NM_FLOW_SIG_PASS;
		return NM_DROP_NONE;
	}
	return nm_inspect(w, tbl, f, dir, m, meta, src_slot, slot, now, made);
}

/*
 * HTTP policy for a client packet into the responder pod of a flow whose
 * requests are judged. *cut is meta, with the IP length the packet has
 * after it (smaller when it was cut before a refused request).
 */
static enum nm_drop_reason
authz(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f, struct rte_mbuf *m,
      const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot, struct nm_pkt_meta *cut,
      struct nm_made *made)
{
	uint32_t ip_len;

	*cut = *meta;
	if (meta->ip_proto != IPPROTO_TCP)
		return NM_DROP_NONE;
	enum nm_drop_reason why =
	    nm_authz_request(w, tbl, f, m, meta, src_slot, slot, &ip_len, made);
	cut->ip_len = ip_len;
	return why;
}

/*
 * Deliver a packet nodemesh made (a reset, an ICMP error) to the pod at
 * slot, on whichever worker owns it or through the tunnel. With track it
 * passes the receiving side's conntrack as if the pod at src_slot had
 * sent it (a reset then closes that side's flow), never policy again.
 */
static void
send_made(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, uint16_t src_slot,
	  struct rte_mbuf *m, bool track)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (slot == NM_SLOT_REMOTE) {
		/* Sealed like any packet for that node; its conntrack sees it there. */
		const struct rte_ipv4_hdr *ip =
		    rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		struct nm_ipcache_entry e;
		if (w->dp->ipcache == NULL ||
		    nm_ipcache_lookup(w->dp->ipcache, ip->dst_addr, &e) < 0) {
			nm_drop(w, NULL, m, NM_DROP_POD_GONE); /* withdrawn since */
			return;
		}
		nm_fabric_enqueue(w, e.peer, m, 0);
		return;
	}
	if (pod->worker != w->idx) {
		nm_handoff(w, pod->worker, m, pod->id, slot, src_slot,
			   track ? NM_HANDOFF_POD : NM_HANDOFF_RAW);
		return;
	}
	struct nm_pkt_meta meta;
	if (nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len,
				 &meta) != NM_PKT_IPV4) {
		nm_drop(w, NULL, m, NM_DROP_BAD_IP4_HDR);
		return;
	}
	if (track) {
		struct nm_flow_ref ref;
		struct nm_flow *f;
		unsigned int dir;
		nm_flow_ref_make(&ref, w, tbl, slot, &meta);
		enum nm_drop_reason why = nm_track(w, tbl, NULL, &ref, slot, src_slot, slot, &meta,
						   nm_worker_now(w), true, &f, &dir);
		if (why != NM_DROP_NONE) {
			nm_drop(w, NULL, m, why);
			return;
		}
	}
	deliver_one(w, tbl, slot, m, &meta);
}

/* Ingress for a burst: one bulk flow lookup, then judge, meter and deliver each. */
/*
 * Each packet's entry on the destination's side: through the source
 * entry's link when w tracked both ends before (nm_track checks the key,
 * and a stale link only costs the lookup it saved), the rest in one bulk
 * lookup. A local connection's packet then costs one hash lookup, not two.
 */
static void
link_or_lookup(struct nm_worker *w, const struct nm_ingress_burst *in, struct nm_flow **found)
{
	struct nm_flow_ref refs[NM_BURST];
	struct nm_flow *got[NM_BURST];
	uint16_t miss[NM_BURST], n = 0;

	for (uint16_t i = 0; i < in->n; i++) {
		const struct nm_flow *sf = in->src_flow[i];
		struct nm_flow *linked = sf != NULL ? nm_flow_linked(&w->flows, sf) : NULL;

		if (linked != NULL)
			found[i] = linked;
		else
			miss[n++] = i;
	}
	if (n == 0)
		return;
	if (n == in->n) { /* none linked (handoff, fabric): the refs as they are */
		nm_track_lookup_bulk(w, in->ref, n, found);
		return;
	}
	for (uint16_t k = 0; k < n; k++)
		refs[k] = in->ref[miss[k]];
	nm_track_lookup_bulk(w, refs, n, got);
	for (uint16_t k = 0; k < n; k++)
		found[miss[k]] = got[k];
}

void
nm_ingress_bulk(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_ingress_burst *in,
		uint64_t now)
{
	struct nm_flow *found[NM_BURST];

	/* Same 5-tuple as at egress; this side's entry belongs to the destination pod. */
	for (uint16_t i = 0; i < in->n; i++)
		nm_flow_ref_side(&in->ref[i], tbl->pods[in->slot[i]].id);
	link_or_lookup(w, in, found);
	for (uint16_t i = 0; i < in->n; i++) {
		struct nm_flow *f;
		unsigned int dir;
		enum nm_drop_reason why =
		    nm_track(w, tbl, found[i], &in->ref[i], in->slot[i], in->src_slot[i],
			     in->slot[i], in->meta[i], now, true, &f, &dir);
		if (why == NM_DROP_NONE && in->src_flow[i] != NULL)
			nm_flow_link(&w->flows, in->src_flow[i], f);
		const struct nm_pkt_meta *meta = in->meta[i];
		struct nm_pkt_meta cut;
		struct nm_made made;

		made.n = 0; /* only n, not every slot, per packet: slots are written before read */
		if (why == NM_DROP_NONE && unlikely(f->http_judged) && dir == NM_DIR_ORIG &&
		    !f->local_is_init) {
			why = authz(w, tbl, f, in->pkts[i], meta, in->src_slot[i], in->slot[i],
				    &cut, &made);
			if (why == NM_DROP_NONE && cut.ip_len != meta->ip_len)
				meta = &cut; /* cut before a refused request */
		}
		if (why == NM_DROP_NONE && w->sigs != NULL && f->sig == NM_FLOW_SIG_INSPECT)
			why = inspect(w, tbl, f, dir, in->pkts[i], meta, in->src_slot[i],
				      in->slot[i], now, &made);
		for (uint16_t k = 0; k < made.n; k++)
			send_made(w, tbl, made.pkt[k].slot, made.pkt[k].src_slot, made.pkt[k].m,
				  made.pkt[k].track);
		if (unlikely(why != NM_DROP_NONE)) {
			nm_drop(w, NULL, in->pkts[i], why);
			continue;
		}
		deliver_one(w, tbl, in->slot[i], in->pkts[i], meta);
	}
	in->n = 0;
}

void
nm_ingress_route_bulk(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		      const struct nm_pkt_meta *meta, const uint16_t *slot,
		      const uint16_t *src_slot, uint16_t n, uint64_t now)
{
	struct nm_ingress_burst local;

	local.n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct nm_flow_ref ref;
		nm_flow_ref_make(&ref, w, tbl, slot[i], &meta[i]);
		nm_ingress_route(w, tbl, slot[i], src_slot[i], pkts[i], &meta[i], &ref, NULL,
				 &local);
	}
	nm_ingress_bulk(w, tbl, &local, now);
}

void
nm_worker_rx_handoff(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		     uint16_t n)
{
	struct nm_pkt_meta metas[NM_BURST];
	struct nm_ingress_burst in;
	uint64_t now = nm_worker_now(w);

	w->c.handoff_in += n;
	in.n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct nm_mbuf_meta *hm = nm_mbuf_meta(w->dp, m);

		const struct nm_pod *pod = &tbl->pods[hm->slot];
		/* The pod may have been deleted, or its slot reused, since the handoff. */
		if (unlikely(pod->live == NULL || pod->id != hm->pod_id || pod->worker != w->idx)) {
			nm_drop(w, NULL, m, NM_DROP_POD_GONE);
			continue;
		}
		const struct nm_pkt_meta *meta;
		if (likely(hm->has_pkt)) {
			/* Parsed by the sender (an IPv4 packet it routed): not again. */
			meta = rte_mbuf_to_priv(m);
		} else {
			int cls = nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *),
						       m->data_len, m->pkt_len, &metas[in.n]);
			if (unlikely(cls != NM_PKT_IPV4)) {
				nm_drop(w, NULL, m,
					cls < 0 ? (enum nm_drop_reason) - cls : NM_DROP_ETHERTYPE);
				continue;
			}
			meta = &metas[in.n];
		}
		if (unlikely(hm->kind == NM_HANDOFF_RAW)) {
			deliver_one(w, tbl, hm->slot, m, meta);
			continue;
		}
		in.pkts[in.n] = m;
		in.meta[in.n] = meta;
		nm_flow_ref_make(&in.ref[in.n], w, tbl, hm->slot, meta);
		in.slot[in.n] = hm->slot;
		in.src_slot[in.n] = hm->src_slot;
		in.src_flow[in.n] = NULL;
		in.n++;
	}
	nm_ingress_bulk(w, tbl, &in, now);
}
