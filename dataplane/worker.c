/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker: one per worker lcore, run to completion. Each loop turn:
 *
 *   1. read the current pod table (acquire; see dp.h),
 *   2. for each pod it owns: RX a burst, run egress (parse, proxy ARP,
 *      anti-spoofing, reassembly, TTL, destination lookup in bulk), then
 *      deliver locally or hand the packet to the destination's owner,
 *   3. drain the handoff rings other workers fill for it (ingress),
 *   4. flush buffered TX and handoffs, so that nothing refers to this
 *      table's ports past the end of the turn,
 *   5. report a quiescent state, then back off if the turn found no work.
 *
 * Nothing here allocates from the heap, takes a lock or makes a syscall,
 * except the idle sleep when there is no traffic at all.
 */
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "dp.h"
#include "nodemesh/pkt.h"

#define MAX_FRAGS 64 /* a 65535-byte datagram split for the smallest pod MTU (576) */

static inline void
drop(struct nm_worker *w, struct nm_pod_live *from, struct rte_mbuf *m, enum nm_drop_reason why)
{
	w->c.drops[why]++;
	if (from != NULL)
		from->c.drops++;
	rte_pktmbuf_free(m);
}

static void
tx_flush_slot(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot)
{
	struct nm_txbuf *b = &w->txbuf[slot];
	const struct nm_pod *pod = &tbl->pods[slot];
	uint64_t bytes = 0;
	uint16_t sent;

	if (b->n == 0)
		return;
	for (uint16_t i = 0; i < b->n; i++)
		bytes += b->pkts[i]->pkt_len;
	sent = rte_eth_tx_burst(pod->port_id, 0, b->pkts, b->n);
	for (uint16_t i = sent; i < b->n; i++) {
		bytes -= b->pkts[i]->pkt_len;
		drop(w, NULL, b->pkts[i], NM_DROP_TX_FULL);
	}
	pod->live->c.tx_packets += sent;
	pod->live->c.tx_bytes += bytes;
	w->c.tx_packets += sent;
	w->c.tx_bytes += bytes;
	b->n = 0;
}

/* Queue m for the port of slot, which this worker owns. */
static inline void
tx_enqueue(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m)
{
	struct nm_txbuf *b = &w->txbuf[slot];

	if (b->n == 0 && !b->dirty)
		w->dirty[w->n_dirty++] = slot;
	b->dirty = true;
	b->pkts[b->n++] = m;
	if (unlikely(b->n == NM_BURST))
		tx_flush_slot(w, tbl, slot);
}

static void
handoff_flush(struct nm_worker *w, unsigned int d)
{
	uint16_t n = w->n_handoff[d];
	unsigned int done;

	if (n == 0)
		return;
	done = rte_ring_sp_enqueue_burst(w->out[d], (void **)w->handoff[d], n, NULL);
	for (unsigned int i = done; i < n; i++)
		drop(w, NULL, w->handoff[d][i], NM_DROP_RING_FULL);
	w->c.handoff_out += done;
	w->n_handoff[d] = 0;
}

void
nm_worker_flush(struct nm_worker *w, const struct nm_pod_table *tbl)
{
	if (w->idx == NM_FABRIC_WORKER && w->node->has_fabric)
		nm_fabric_flush(w, rte_rdtsc());
	for (unsigned int d = 0; d < w->node->n_workers; d++)
		handoff_flush(w, d);
	for (uint16_t i = 0; i < w->n_dirty; i++) {
		uint16_t slot = w->dirty[i];

		tx_flush_slot(w, tbl, slot);
		w->txbuf[slot].dirty = false;
	}
	w->n_dirty = 0;
}

/* Token bucket for ICMP errors (RFC 1812 §4.3.2.8: a router must limit them). */
bool
nm_worker_icmp_allowed(struct nm_worker *w, uint64_t now)
{
	double rate = NM_ICMP_ERRORS_PER_SEC;

	w->icmp_tokens += (double)(now - w->icmp_last_tsc) * rate / (double)w->node->tsc_hz;
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

/* Answer the pod at slot with an ICMP error about m. m stays the caller's. */
static void
icmp_reply(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
	   const struct rte_mbuf *m, uint16_t l2_len, uint8_t type, uint8_t code, uint16_t mtu,
	   uint64_t now)
{
	if (!nm_icmp_error_allowed(m, l2_len) || !nm_worker_icmp_allowed(w, now))
		return;
	struct rte_mbuf *e =
	    nm_icmp_error(w->node->pool, m, l2_len, type, code, mtu, &tbl->pods[slot].port_mac);
	if (unlikely(e == NULL)) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		return;
	}
	w->c.icmp_sent++;
	tx_enqueue(w, tbl, slot, e);
}

/* Is either end of f no longer the pod that was there when f began? */
static inline bool
stale_ends(const struct nm_pod_table *tbl, const struct nm_flow *f)
{
	const struct nm_pod *init = &tbl->pods[f->init_slot];
	const struct nm_pod *resp = &tbl->pods[f->resp_slot];

	return !nm_pod_present(init) || init->id != f->init_pod_id || !nm_pod_present(resp) ||
	       resp->id != f->resp_pod_id;
}

/* Judge the flow of a packet whose rule and verdict are stale or unset. */
static void
judge(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f, uint8_t proto)
{
	/* Not const: rte_meter's API takes profiles by plain pointer, never writing them. */
	struct nm_policy *pol = tbl->policy;
	bool first = f->policy_gen == 0;
	int idx = NM_POLICY_DEFAULT;
	uint8_t verdict;

	if (stale_ends(tbl, f)) {
		/* A flow whose sender or receiver is gone: nothing may flow. */
		verdict = NM_VERDICT_DENY;
	} else {
		/* The responder's port: the destination of the initiator's packets. */
		uint16_t dport = f->init_is_lo ? f->hk.k.port_hi : f->hk.k.port_lo;
		idx = nm_policy_eval(pol, f->init_slot, f->resp_slot, proto, dport);
		verdict = idx == NM_POLICY_DEFAULT ? pol->default_action : pol->rules[idx].action;
	}

	uint32_t rule_id = idx == NM_POLICY_DEFAULT ? 0 : pol->rules[idx].id;
	if (first || rule_id != f->rule_id) {
		if (idx != NM_POLICY_DEFAULT) {
			struct nm_policy_rule *r = &pol->rules[idx];
			for (int d = 0; d < 2; d++) {
				if (r->has_pps)
					rte_meter_srtcm_config(&f->pps[d], &r->pps);
				if (r->has_bps)
					rte_meter_srtcm_config(&f->bps[d], &r->bps);
			}
			f->rule_slot = r->slot;
			f->inspect = r->inspect;
			w->rule_flows[r->slot]++;
		} else {
			f->inspect = 1;
			w->default_flows++;
		}
	}
	/* Inspection is decided when a flow begins: a stream cannot start mid-flow. */
	if (first)
		f->sig_born = w->sigs != NULL && f->inspect;
	if (!first)
		w->flows.c.reevaluated++;
	f->rule_id = rule_id;
	f->rule_idx = (int16_t)idx;
	f->verdict = verdict;
	f->policy_gen = tbl->generation;
}

static void flow_end(struct nm_worker *w, struct nm_flow *f, uint8_t end);

static inline void
count_rule_drop(struct nm_worker *w, const struct nm_flow *f)
{
	if (f->rule_idx == NM_POLICY_DEFAULT)
		w->default_drops++;
	else
		w->rule_drops[f->rule_slot]++;
}

/*
 * Track the packet in the flow table of the pod at side_slot (the source
 * pod at egress, the destination pod at ingress) and judge it. f is what a
 * bulk lookup found for ref (or NULL). Rates are
 * metered at ingress only, per direction, so a packet is metered once.
 * Returns NM_DROP_NONE or why the packet must be dropped.
 */
/* A packet's flow key on one side, prepared for a bulk lookup. */
struct flow_ref {
	struct nm_flow_hkey hk;
	bool from_hi; /* the packet runs from the key's hi endpoint to its lo one */
};

static inline void
flow_ref_make(struct flow_ref *r, const struct nm_pod_table *tbl, uint16_t side_slot,
	      const struct nm_pkt_meta *meta)
{
	r->from_hi = nm_flow_key_make(&r->hk.k, meta);
	r->hk.pod_id = tbl->pods[side_slot].id;
}

/*
 * Look up a burst's keys at once (rte_hash prefetches buckets across the
 * burst). found[i] is the entry or NULL; flow_track_ref revalidates it,
 * since an earlier packet of the same burst may have ended or created it.
 */
static inline void
flow_lookup_bulk(struct nm_worker *w, const struct flow_ref *refs, uint16_t n,
		 struct nm_flow **found)
{
	const void *keys[NM_BURST];
	int32_t pos[NM_BURST];

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++)
		keys[i] = &refs[i].hk;
	rte_hash_lookup_bulk(w->flows.h, keys, n, pos);
	for (uint16_t i = 0; i < n; i++)
		found[i] = pos[i] >= 0 ? &w->flows.e[pos[i]] : NULL;
}

static enum nm_drop_reason
flow_track_ref(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
	       const struct flow_ref *ref, uint16_t side_slot, uint16_t src_slot, uint16_t dst_slot,
	       const struct nm_pkt_meta *meta, uint64_t now, bool ingress, struct nm_flow **out,
	       unsigned int *out_dir)
{
	bool from_hi = ref->from_hi;
	bool fresh = false;

	if (f == NULL || unlikely(!f->in_use || memcmp(&f->hk, &ref->hk, sizeof(f->hk)) != 0))
		f = nm_flow_lookup(&w->flows, &ref->hk);
	if (unlikely(f == NULL)) {
		fresh = true;
		/* New here, or never seen (mid-stream after a restart): judged as new. */
		f = nm_flow_create(&w->flows, &ref->hk, now);
		if (f == NULL)
			return NM_DROP_FLOW_TABLE_FULL;
		f->init_is_lo = !from_hi;
		f->init_slot = src_slot;
		f->resp_slot = dst_slot;
		f->init_pod_id = tbl->pods[src_slot].id;
		f->resp_pod_id = tbl->pods[dst_slot].id;
		f->local_is_init = side_slot == src_slot;
		f->state = nm_flow_initial_state(meta->ip_proto, meta->tcp_flags);
	}
	if (unlikely(f->policy_gen != tbl->generation) && !fresh && stale_ends(tbl, f)) {
		/*
		 * An end of this flow was deleted and maybe re-created at the same
		 * address: the old flow is over, this packet starts a new one. (A
		 * fresh entry with a stale end, such as a handed-off packet whose
		 * sender was deleted in flight, is judged: judge() denies it.)
		 */
		flow_end(w, f, NM_FLOW_END_POD_GONE);
		return flow_track_ref(w, tbl, NULL, ref, side_slot, src_slot, dst_slot, meta, now,
				      ingress, out, out_dir);
	}
	unsigned int dir = from_hi == (bool)f->init_is_lo ? NM_DIR_REPLY : NM_DIR_ORIG;

	if (unlikely(f->policy_gen != tbl->generation))
		judge(w, tbl, f, meta->ip_proto);
	f->last_tsc = now;
	f->pkts[dir]++;
	f->bytes[dir] += meta->ip_len;
	if (meta->ip_proto == IPPROTO_TCP && (meta->flags & NM_PKT_F_L4))
		nm_flow_tcp_update(f, dir, meta->tcp_flags);

	if (unlikely(f->verdict != NM_VERDICT_ALLOW)) {
		count_rule_drop(w, f);
		return NM_DROP_POLICY_DENIED;
	}
	if (unlikely(f->sig == NM_FLOW_SIG_BLOCKED))
		return NM_DROP_SIG_DROP;
	/* This side's pod acknowledging the bytes its stream scanned. */
	if (!ingress && f->insp != NULL && (meta->tcp_flags & RTE_TCP_ACK_FLAG))
		nm_inspect_acked(f, meta->tcp_ack);
	*out = f;
	*out_dir = dir;
	if (ingress && f->rule_idx != NM_POLICY_DEFAULT) {
		struct nm_policy_rule *r = &tbl->policy->rules[f->rule_idx];
		if ((r->has_pps && rte_meter_srtcm_color_blind_check(&f->pps[dir], &r->pps, now,
								     1) != RTE_COLOR_GREEN) ||
		    (r->has_bps &&
		     rte_meter_srtcm_color_blind_check(&f->bps[dir], &r->bps, now, meta->ip_len) !=
			 RTE_COLOR_GREEN)) {
			f->rate_drops++;
			count_rule_drop(w, f);
			return NM_DROP_RATE_LIMITED;
		}
	}
	return NM_DROP_NONE;
}

static void tx_fragments(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
			 struct rte_mbuf *m, uint16_t l2_len);

/* Ingress after the flow allowed it: rewrite MACs, fragment if needed, queue. */
static void
deliver_one(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m,
	    const struct nm_pkt_meta *meta)
{
	struct nm_pod_live *dst = tbl->pods[slot].live;

	if (unlikely(!dst->mac_known)) {
		drop(w, NULL, m, NM_DROP_NO_MAC);
		return;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&dst->pod_mac, &eth->dst_addr);
	rte_ether_addr_copy(&tbl->pods[slot].port_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	/* A reassembled datagram larger than the pod MTU leaves as fragments again. */
	if (unlikely(meta->ip_len > w->node->cfg.pod_mtu)) {
		tx_fragments(w, tbl, slot, m, meta->l2_len);
		return;
	}
	/*
	 * Reassembled packets are chains; not every PMD transmits chains
	 * (af_xdp does not), and each fits one mbuf here.
	 */
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) < 0) {
		drop(w, NULL, m, NM_DROP_NO_MBUF);
		return;
	}
	tx_enqueue(w, tbl, slot, m);
}

/* Signature matching for a packet policy allowed, unless its rule turned inspection off. */
static inline enum nm_drop_reason
inspect(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f, unsigned int dir,
	struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot,
	uint64_t now)
{
	if (unlikely(!f->inspect)) {
		/* Turned off for good: a stream cannot resume after unscanned bytes. */
		nm_inspect_release(w, f, true);
		f->sig = NM_FLOW_SIG_PASS;
		return NM_DROP_NONE;
	}
	return nm_inspect(w, tbl, f, dir, m, meta, src_slot, slot, now);
}

/* Packets for pods this worker owns, with what ingress needs to know of each. */
struct ingress_burst {
	uint16_t n;
	struct rte_mbuf *pkts[NM_BURST];
	const struct nm_pkt_meta *meta[NM_BURST];
	struct flow_ref ref[NM_BURST]; /* the flow key; deliver_bulk sets its pod */
	uint16_t slot[NM_BURST];       /* destination pod */
	uint16_t src_slot[NM_BURST];   /* the pod that sent it */
};

/* Ingress for a burst: one bulk flow lookup, then judge, meter and deliver each. */
static void
deliver_bulk(struct nm_worker *w, const struct nm_pod_table *tbl, struct ingress_burst *in,
	     uint64_t now)
{
	struct nm_flow *found[NM_BURST];

	/* Same 5-tuple as at egress; this side's entry belongs to the destination pod. */
	for (uint16_t i = 0; i < in->n; i++)
		in->ref[i].hk.pod_id = tbl->pods[in->slot[i]].id;
	flow_lookup_bulk(w, in->ref, in->n, found);
	for (uint16_t i = 0; i < in->n; i++) {
		struct nm_flow *f;
		unsigned int dir;
		enum nm_drop_reason why =
		    flow_track_ref(w, tbl, found[i], &in->ref[i], in->slot[i], in->src_slot[i],
				   in->slot[i], in->meta[i], now, true, &f, &dir);
		if (why == NM_DROP_NONE && w->sigs != NULL && f->sig == NM_FLOW_SIG_INSPECT)
			why = inspect(w, tbl, f, dir, in->pkts[i], in->meta[i], in->src_slot[i],
				      in->slot[i], now);
		if (unlikely(why != NM_DROP_NONE)) {
			drop(w, NULL, in->pkts[i], why);
			continue;
		}
		deliver_one(w, tbl, in->slot[i], in->pkts[i], in->meta[i]);
	}
	in->n = 0;
}

/* Queue m for worker d with where it goes; flushed by the burst or at the end of the turn. */
static inline void
handoff(struct nm_worker *w, unsigned int d, struct rte_mbuf *m, uint32_t pod_id, uint16_t slot,
	uint16_t src_slot, uint8_t kind)
{
	struct nm_mbuf_meta *hm = nm_mbuf_meta(w->node, m);

	hm->pod_id = pod_id;
	hm->slot = slot;
	hm->src_slot = src_slot;
	hm->kind = kind;
	w->handoff[d][w->n_handoff[d]++] = m;
	if (unlikely(w->n_handoff[d] == NM_BURST))
		handoff_flush(w, d);
}

static inline void
route(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, uint16_t src_slot,
      struct rte_mbuf *m, const struct nm_pkt_meta *meta, const struct flow_ref *ref,
      struct ingress_burst *local)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (pod->worker == w->idx) {
		local->pkts[local->n] = m;
		local->meta[local->n] = meta;
		local->ref[local->n] = *ref;
		local->slot[local->n] = slot;
		local->src_slot[local->n] = src_slot;
		local->n++;
		return;
	}
	handoff(w, pod->worker, m, pod->id, slot, src_slot, NM_HANDOFF_POD);
}

void
nm_worker_deliver(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		  const struct nm_pkt_meta *meta, const uint16_t *slot, const uint16_t *src_slot,
		  uint16_t n, uint64_t now)
{
	struct ingress_burst local;

	local.n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct flow_ref ref;
		flow_ref_make(&ref, tbl, slot[i], &meta[i]);
		route(w, tbl, slot[i], src_slot[i], pkts[i], &meta[i], &ref, &local);
	}
	deliver_bulk(w, tbl, &local, now);
}

static void fabric_handoff(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t dslot,
			   struct rte_mbuf *m, uint16_t flow_hash);

void
nm_worker_send_made(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		    uint16_t src_slot, struct rte_mbuf *m, bool track)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (pod->remote) {
		/* Sealed like any packet for that node; its conntrack sees it there. */
		fabric_handoff(w, tbl, slot, m, 0);
		return;
	}
	if (pod->worker != w->idx) {
		handoff(w, pod->worker, m, pod->id, slot, src_slot,
			track ? NM_HANDOFF_POD : NM_HANDOFF_RAW);
		return;
	}
	struct nm_pkt_meta meta;
	if (nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len,
				 &meta) != NM_PKT_IPV4) {
		drop(w, NULL, m, NM_DROP_BAD_IP4_HDR);
		return;
	}
	if (track) {
		struct flow_ref ref;
		struct nm_flow *f;
		unsigned int dir;
		flow_ref_make(&ref, tbl, slot, &meta);
		enum nm_drop_reason why = flow_track_ref(w, tbl, NULL, &ref, slot, src_slot, slot,
							 &meta, rte_rdtsc(), true, &f, &dir);
		if (why != NM_DROP_NONE) {
			drop(w, NULL, m, why);
			return;
		}
	}
	deliver_one(w, tbl, slot, m, &meta);
}

/*
 * Split m (Ethernet + IPv4, RFC 791) into fragments of at most mtu bytes
 * of IP, each whole in one mbuf with m's Ethernet header and a fresh IP
 * checksum. m is consumed. Returns how many are in frags (failures are
 * dropped and counted).
 */
static unsigned int
fragment(struct nm_worker *w, struct rte_mbuf *m, uint16_t l2_len, uint32_t mtu,
	 struct rte_mbuf **frags)
{
	struct rte_ether_hdr eth = *rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	unsigned int k = 0;

	rte_pktmbuf_adj(m, l2_len);
	int n = rte_ipv4_fragment_packet(m, frags, MAX_FRAGS, (uint16_t)mtu, w->node->pool,
					 w->node->indirect);
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
			drop(w, NULL, frags[i], NM_DROP_NO_MBUF);
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
 * Split m for the pod MTU and queue the fragments; the DF case was
 * answered with "fragmentation needed" at egress.
 */
static void
tx_fragments(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m,
	     uint16_t l2_len)
{
	struct rte_mbuf *frags[MAX_FRAGS];
	unsigned int n = fragment(w, m, l2_len, w->node->cfg.pod_mtu, frags);

	for (unsigned int i = 0; i < n; i++)
		tx_enqueue(w, tbl, slot, frags[i]);
}

/*
 * Feed a fragment to this worker's reassembly table. Returns the whole
 * datagram (re-parsed into *meta) or NULL when it is held or was dropped.
 * rte_ip_frag drops bad sets (overlaps, too many fragments, timeouts) onto
 * the death row; its growth is what we count.
 */
static struct rte_mbuf *
reassemble(struct nm_worker *w, struct rte_mbuf *m, struct nm_pkt_meta *meta,
	   struct nm_pod_live *from, uint64_t now)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, meta->l2_len);
	uint32_t off =
	    (uint32_t)(rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) *
	    RTE_IPV4_HDR_OFFSET_UNITS;

	/* A fragment ending past 65535 bytes belongs to no valid datagram. */
	if (unlikely(off + meta->ip_len > UINT16_MAX)) {
		drop(w, from, m, NM_DROP_FRAG_INVALID);
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
		drop(w, from, whole, rc < 0 ? (enum nm_drop_reason) - rc : NM_DROP_FRAG_INVALID);
		return NULL;
	}
	return whole;
}

static void
handle_arp(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m,
	   const struct nm_pkt_meta *meta)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (meta->arp_op == RTE_ARP_OP_REPLY) {
		/* Answer to our resolution request; the MAC was learnt from the frame. */
		if (meta->src.v4 != pod->spec.ip) {
			drop(w, pod->live, m, NM_DROP_ARP_UNEXPECTED);
			return;
		}
		rte_pktmbuf_free(m);
		return;
	}
	/* Duplicate-address probes and announcements for the pod's own address. */
	if (meta->dst.v4 == pod->spec.ip) {
		drop(w, pod->live, m, NM_DROP_ARP_OWN_ADDRESS);
		return;
	}
	nm_arp_reply_inplace(m, meta->l2_len, &pod->port_mac);
	w->c.arp_replies++;
	tx_enqueue(w, tbl, slot, m);
}

/* TTL - 1 with the header checksum updated for the TTL/protocol word (RFC 1624). */
static inline void
ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint16_t old = (uint16_t)(ip->time_to_live << 8 | ip->next_proto_id);

	ip->time_to_live--;
	ip->hdr_checksum = nm_cksum_adjust(ip->hdr_checksum, old, (uint16_t)(old - 0x0100));
}

/* Hand a packet for a remote pod to the fabric worker (or seal it here if we are it). */
static void
fabric_handoff(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t dslot,
	       struct rte_mbuf *m, uint16_t flow_hash)
{
	if (w->idx == NM_FABRIC_WORKER) {
		nm_fabric_enqueue(w, tbl, dslot, m, flow_hash);
		return;
	}
	nm_mbuf_meta(w->node, m)->flow_hash = flow_hash;
	handoff(w, NM_FABRIC_WORKER, m, tbl->pods[dslot].id, dslot, dslot, NM_HANDOFF_FABRIC);
}

/*
 * A packet from the pod at slot to the remote pod at dslot: it must fit the
 * tunnel (DF: ICMP fragmentation needed with the tunnel MTU; otherwise
 * fragments), and a SYN's MSS is clamped so TCP never needs that.
 */
static void
to_fabric(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, uint16_t dslot,
	  struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint64_t now)
{
	uint32_t mtu = w->node->tnl_mtu;
	uint16_t hash =
	    (uint16_t)(rte_be_to_cpu_32(meta->src.v4 ^ meta->dst.v4) ^ meta->sport ^ meta->dport);

	if (meta->ip_proto == IPPROTO_TCP && (meta->tcp_flags & RTE_TCP_SYN_FLAG))
		nm_tcp_mss_clamp(m, meta, (uint16_t)(mtu - 40));
	if (likely(meta->ip_len <= mtu)) {
		fabric_handoff(w, tbl, dslot, m, hash);
		return;
	}
	if (meta->flags & NM_PKT_F_DF) {
		icmp_reply(w, tbl, slot, m, meta->l2_len, NM_ICMP_DEST_UNREACH, NM_ICMP_FRAG_NEEDED,
			   (uint16_t)mtu, now);
		drop(w, tbl->pods[slot].live, m, NM_DROP_FRAG_NEEDED);
		return;
	}
	struct rte_mbuf *frags[MAX_FRAGS];
	unsigned int nf = fragment(w, m, meta->l2_len, mtu, frags);
	for (unsigned int i = 0; i < nf; i++)
		fabric_handoff(w, tbl, dslot, frags[i], hash);
}

void
nm_worker_rx_pod(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		 struct rte_mbuf **pkts, uint16_t n)
{
	const struct nm_pod *src = &tbl->pods[slot];
	struct nm_pod_live *live = src->live;
	struct rte_mbuf *fwd[NM_BURST];
	struct nm_pkt_meta fwd_meta[NM_BURST];
	uint32_t dst_ip[NM_BURST];
	const void *keys[NM_BURST];
	void *found[NM_BURST];
	uint64_t hits = 0;
	uint16_t nf = 0;
	uint64_t now = rte_rdtsc();
	struct nm_pkt_meta meta;
	int i;

	for (i = 0; i < 3 && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + 3 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 3], void *));
		live->c.rx_packets++;
		live->c.rx_bytes += m->pkt_len;
		w->c.rx_packets++;
		w->c.rx_bytes += m->pkt_len;

		int cls = nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
					       m->pkt_len, &meta);
		if (unlikely(cls < 0)) {
			drop(w, live, m, (enum nm_drop_reason) - cls);
			continue;
		}
		if (unlikely(meta.l2_len != sizeof(struct rte_ether_hdr))) {
			drop(w, live, m, NM_DROP_VLAN_ON_POD);
			continue;
		}

		/* The link is point-to-point: whatever sends on it is the pod. */
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (unlikely(!live->mac_known ||
			     !rte_is_same_ether_addr(&live->pod_mac, &eth->src_addr)) &&
		    !src->spec.has_mac && rte_is_unicast_ether_addr(&eth->src_addr)) {
			rte_ether_addr_copy(&eth->src_addr, &live->pod_mac);
			live->mac_known = true;
		}

		if (unlikely(cls == NM_PKT_ARP)) {
			handle_arp(w, tbl, slot, m, &meta);
			continue;
		}
		if (unlikely(cls == NM_PKT_IPV6)) {
			drop(w, live, m, NM_DROP_IPV6_NOT_FORWARDED);
			continue;
		}
		if (unlikely(meta.src.v4 != src->spec.ip)) {
			drop(w, live, m, NM_DROP_SPOOFED_SRC);
			continue;
		}
		if (unlikely(meta.flags & NM_PKT_F_FRAG)) {
			m = reassemble(w, m, &meta, live, now);
			if (m == NULL)
				continue;
		}
		if (unlikely(meta.dst.v4 == rte_cpu_to_be_32(NM_GATEWAY_IP))) {
			drop(w, live, m, NM_DROP_TO_GATEWAY);
			continue;
		}
		if (unlikely(meta.ttl <= 1)) {
			icmp_reply(w, tbl, slot, m, meta.l2_len, NM_ICMP_TIME_EXCEEDED, 0, 0, now);
			drop(w, live, m, NM_DROP_TTL_EXCEEDED);
			continue;
		}
		if (unlikely(meta.ip_len > w->node->cfg.pod_mtu) && (meta.flags & NM_PKT_F_DF)) {
			icmp_reply(w, tbl, slot, m, meta.l2_len, NM_ICMP_DEST_UNREACH,
				   NM_ICMP_FRAG_NEEDED, (uint16_t)w->node->cfg.pod_mtu, now);
			drop(w, live, m, NM_DROP_FRAG_NEEDED);
			continue;
		}
		fwd[nf] = m;
		fwd_meta[nf] = meta;
		dst_ip[nf] = meta.dst.v4;
		keys[nf] = &dst_ip[nf];
		nf++;
	}
	if (nf == 0)
		return;

	rte_hash_lookup_bulk_data(tbl->by_ip, keys, nf, &hits, found);

	/* Egress: the source pod's side of each flow, looked up as one burst. */
	struct flow_ref refs[NM_BURST];
	struct nm_flow *flows[NM_BURST];
	uint16_t which[NM_BURST], dslot[NM_BURST], ne = 0;

	for (i = 0; i < nf; i++) {
		if (unlikely(!(hits & (1ULL << i)))) {
			icmp_reply(w, tbl, slot, fwd[i], fwd_meta[i].l2_len, NM_ICMP_DEST_UNREACH,
				   NM_ICMP_HOST_UNREACH, 0, now);
			drop(w, live, fwd[i], NM_DROP_NO_POD);
			continue;
		}
		dslot[ne] = (uint16_t)(uintptr_t)found[i];
		flow_ref_make(&refs[ne], tbl, slot, &fwd_meta[i]);
		which[ne++] = (uint16_t)i;
	}
	flow_lookup_bulk(w, refs, ne, flows);

	struct ingress_burst local;
	local.n = 0;
	for (uint16_t k = 0; k < ne; k++) {
		struct rte_mbuf *m = fwd[which[k]];
		const struct nm_pkt_meta *pm = &fwd_meta[which[k]];

		/* Source-side enforcement: a denied packet never leaves its worker. */
		struct nm_flow *f;
		unsigned int dir;
		enum nm_drop_reason why = flow_track_ref(w, tbl, flows[k], &refs[k], slot, slot,
							 dslot[k], pm, now, false, &f, &dir);
		if (unlikely(why != NM_DROP_NONE)) {
			drop(w, live, m, why);
			continue;
		}
		ttl_decrement(rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, pm->l2_len));
		if (unlikely(tbl->pods[dslot[k]].remote)) {
			to_fabric(w, tbl, slot, dslot[k], m, pm, now);
			continue;
		}
		route(w, tbl, dslot[k], slot, m, pm, &refs[k], &local);
	}
	deliver_bulk(w, tbl, &local, now);
}

void
nm_worker_rx_handoff(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		     uint16_t n)
{
	struct nm_pkt_meta metas[NM_BURST];
	struct ingress_burst in;
	uint64_t now = rte_rdtsc();

	w->c.handoff_in += n;
	in.n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct nm_mbuf_meta *hm = nm_mbuf_meta(w->node, m);
		const struct nm_pod *pod = &tbl->pods[hm->slot];

		if (hm->kind == NM_HANDOFF_FABRIC) {
			if (unlikely(!pod->remote || pod->id != hm->pod_id)) {
				drop(w, NULL, m, NM_DROP_POD_GONE);
				continue;
			}
			nm_fabric_enqueue(w, tbl, hm->slot, m, hm->flow_hash);
			continue;
		}
		/* The pod may have been deleted, or its slot reused, since the handoff. */
		if (unlikely(pod->live == NULL || pod->id != hm->pod_id || pod->worker != w->idx)) {
			drop(w, NULL, m, NM_DROP_POD_GONE);
			continue;
		}
		int cls = nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
					       m->pkt_len, &metas[in.n]);
		if (unlikely(cls != NM_PKT_IPV4)) {
			drop(w, NULL, m, cls < 0 ? (enum nm_drop_reason) - cls : NM_DROP_ETHERTYPE);
			continue;
		}
		if (unlikely(hm->kind == NM_HANDOFF_RAW)) {
			deliver_one(w, tbl, hm->slot, m, &metas[in.n]);
			continue;
		}
		in.pkts[in.n] = m;
		in.meta[in.n] = &metas[in.n];
		flow_ref_make(&in.ref[in.n], tbl, hm->slot, &metas[in.n]);
		in.slot[in.n] = hm->slot;
		in.src_slot[in.n] = hm->src_slot;
		in.n++;
	}
	deliver_bulk(w, tbl, &in, now);
}

/* Ask a pod for its MAC until it answers (or sends anything). */
static void
resolve(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, uint64_t now)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (now - pod->live->arp_sent_tsc < w->node->tsc_hz / 2)
		return;
	pod->live->arp_sent_tsc = now;
	struct rte_mbuf *m = nm_arp_request(w->node->pool, &pod->port_mac, pod->spec.ip);
	if (m == NULL) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		return;
	}
	w->c.arp_requests++;
	tx_enqueue(w, tbl, slot, m);
}

/*
 * One side writes the record of a flow: the responder's, which sees every
 * flow that got through; the initiator's only when nothing came back and
 * the flow was denied (the responder never saw it).
 */
static void
flow_end(struct nm_worker *w, struct nm_flow *f, uint8_t end)
{
	bool mine =
	    !f->local_is_init || (f->verdict != NM_VERDICT_ALLOW && f->pkts[NM_DIR_REPLY] == 0);
	struct nm_flow_record *rec;

	nm_inspect_release(w, f, true);
	if (mine && w->rec_ring != NULL) {
		if (rte_mempool_get(w->node->rec_pool, (void **)&rec) == 0) {
			rec->key = f->hk.k;
			rec->init_pod_id = f->init_pod_id;
			rec->resp_pod_id = f->resp_pod_id;
			rec->first_tsc = f->first_tsc;
			rec->last_tsc = f->last_tsc;
			memcpy(rec->pkts, f->pkts, sizeof(rec->pkts));
			memcpy(rec->bytes, f->bytes, sizeof(rec->bytes));
			rec->rate_drops = f->rate_drops;
			rec->rule_id = f->rule_id;
			rec->init_is_lo = f->init_is_lo;
			rec->verdict = f->verdict;
			rec->state = f->state;
			rec->end = end;
			rec->sig = f->sig;
			if (rte_ring_sp_enqueue(w->rec_ring, rec) != 0) {
				rte_mempool_put(w->node->rec_pool, rec);
				w->flows.c.records_lost++;
			}
		} else {
			w->flows.c.records_lost++;
		}
	}
	nm_flow_delete(&w->flows, f);
}

/* Expire a few entries per turn; a full pass over the table takes cap/NM_FLOW_SWEEP turns. */
static void
flow_sweep(struct nm_worker *w, uint64_t now)
{
	struct nm_flow_table *t = &w->flows;

	if (t->n == 0)
		return;
	for (unsigned int k = 0; k < NM_FLOW_SWEEP; k++) {
		struct nm_flow *f = &t->e[t->sweep_pos];

		t->sweep_pos = t->sweep_pos + 1 == t->cap ? 0 : t->sweep_pos + 1;
		if (f->in_use && nm_flow_expired(t, f, now)) {
			bool closed = f->state == NM_FLOW_TCP_CLOSED;
			if (closed)
				t->c.closed++;
			else
				t->c.expired++;
			flow_end(w, f, closed ? NM_FLOW_END_CLOSED : NM_FLOW_END_TIMEOUT);
		}
	}
}

/* Serve a `flow flush` request: end every flow of one pod (or all). */
static void
flow_flush(struct nm_worker *w, uint64_t seq)
{
	uint32_t pod_id = __atomic_load_n(&w->node->flush_pod_id, __ATOMIC_RELAXED);
	struct nm_flow_table *t = &w->flows;

	for (uint32_t i = 0; i < t->cap && t->n > 0; i++) {
		struct nm_flow *f = &t->e[i];
		if (f->in_use && (pod_id == 0 || f->hk.pod_id == pod_id)) {
			t->c.flushed++;
			flow_end(w, f, __atomic_load_n(&w->node->flush_end, __ATOMIC_RELAXED));
		}
	}
	/* Release: the control thread reads our counters after it sees this. */
	__atomic_store_n(&w->flush_done, seq, __ATOMIC_RELEASE);
}

static void
idle(struct nm_worker *w, uint32_t empty_polls)
{
	const struct nm_config *cfg = &w->node->cfg;

	if (cfg->idle_sleep_after != 0 && empty_polls >= cfg->idle_sleep_after) {
		/* Offline while asleep, so a table swap need not wait for us. */
		rte_rcu_qsbr_thread_offline(w->node->qsbr, w->idx);
		rte_delay_us_sleep(cfg->idle_sleep_us);
		rte_rcu_qsbr_thread_online(w->node->qsbr, w->idx);
		w->c.idle_sleeps++;
	} else if (empty_polls >= cfg->idle_pause_after) {
		rte_pause();
	}
}

int
nm_worker_main(void *arg)
{
	struct nm_worker *w = arg;
	struct nm_node *node = w->node;
	struct rte_mbuf *pkts[NM_BURST];
	uint32_t empty_polls = 0;

	rte_rcu_qsbr_thread_register(node->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(node->qsbr, w->idx);
	w->icmp_last_tsc = rte_rdtsc();

	/* stop is set once by the control thread; a relaxed read sees it within a turn or two. */
	while (!__atomic_load_n(&node->stop, __ATOMIC_RELAXED)) {
		/* Acquire pairs with the release in node.c's publish: the table is complete. */
		const struct nm_pod_table *tbl = __atomic_load_n(&node->pods, __ATOMIC_ACQUIRE);
		/* Same pairing for the rule set (node_sig.c). */
		w->sigs = __atomic_load_n(&node->sigs, __ATOMIC_ACQUIRE);
		w->tnl = __atomic_load_n(&node->tnl, __ATOMIC_ACQUIRE);
		uint64_t now = rte_rdtsc();
		uint32_t work = 0;

		for (uint16_t i = 0; i < tbl->n_owned[w->idx]; i++) {
			uint16_t slot = tbl->owned[w->idx][i];
			const struct nm_pod *pod = &tbl->pods[slot];
			uint16_t n = rte_eth_rx_burst(pod->port_id, 0, pkts, NM_BURST);

			if (n > 0) {
				work += n;
				nm_worker_rx_pod(w, tbl, slot, pkts, n);
			}
			if (unlikely(!pod->live->mac_known))
				resolve(w, tbl, slot, now);
		}
		if (w->idx == NM_FABRIC_WORKER && node->has_fabric) {
			uint16_t n = rte_eth_rx_burst(node->fabric_port, 0, pkts, NM_BURST);
			if (n > 0) {
				work += n;
				nm_fabric_rx(w, tbl, pkts, n, now);
			}
		}
		for (unsigned int s = 0; s < node->n_workers; s++) {
			if (w->in[s] == NULL)
				continue;
			unsigned int n =
			    rte_ring_sc_dequeue_burst(w->in[s], (void **)pkts, NM_BURST, NULL);
			if (n > 0) {
				work += n;
				nm_worker_rx_handoff(w, tbl, pkts, (uint16_t)n);
			}
		}
		nm_worker_flush(w, tbl);

		flow_sweep(w, now);
		uint64_t seq = __atomic_load_n(&node->flush_seq, __ATOMIC_ACQUIRE);
		if (unlikely(seq != w->flush_done))
			flow_flush(w, seq);

		uint32_t dead = w->death_row.cnt;
		rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->death_row, now);
		w->c.drops[NM_DROP_FRAG_INVALID] += w->death_row.cnt - dead;
		rte_ip_frag_free_death_row(&w->death_row, 0);

		rte_rcu_qsbr_quiescent(node->qsbr, w->idx);

		if (work > 0) {
			empty_polls = 0;
		} else {
			empty_polls++;
			idle(w, empty_polls);
		}
	}

	rte_rcu_qsbr_thread_offline(node->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(node->qsbr, w->idx);
	return 0;
}

struct nm_worker *
nm_worker_create(struct nm_node *node, unsigned int idx, unsigned int lcore)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct nm_worker *w =
	    rte_zmalloc_socket("nm_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return NULL;
	w->idx = idx;
	w->lcore = lcore;
	w->node = node;

	uint64_t max_cycles = node->tsc_hz * node->cfg.frag_timeout_ms / 1000;
	uint32_t entries_per_bucket = 8;
	w->frag_tbl = rte_ip_frag_table_create(node->cfg.frag_max_flows / entries_per_bucket,
					       entries_per_bucket, node->cfg.frag_max_flows,
					       max_cycles, socket);
	if (w->frag_tbl == NULL) {
		rte_free(w);
		return NULL;
	}
	if (nm_flow_table_init(&w->flows, node->cfg.flow_capacity, node->cfg.flow_timeout_s,
			       node->tsc_hz, (uint32_t)(node->hash_seed >> 32) ^ idx, socket,
			       idx) < 0) {
		rte_ip_frag_table_destroy(w->frag_tbl);
		rte_free(w);
		return NULL;
	}
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "nm_rec_%u", idx);
	w->rec_ring =
	    rte_ring_create(name, NM_REC_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	uint32_t n = node->cfg.sig_max_streams;
	w->insp_pool = rte_zmalloc_socket("nm_insp", (size_t)n * sizeof(*w->insp_pool),
					  RTE_CACHE_LINE_SIZE, socket);
	w->insp_free = rte_malloc_socket("nm_insp_free", (size_t)n * sizeof(uint32_t), 0, socket);
	if (w->insp_pool == NULL || w->insp_free == NULL) {
		rte_free(w->insp_pool);
		rte_free(w->insp_free);
		rte_ring_free(w->rec_ring);
		nm_flow_table_fini(&w->flows);
		rte_ip_frag_table_destroy(w->frag_tbl);
		rte_free(w);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		w->insp_free[i] = n - 1 - i;
	w->n_insp_free = n;
	snprintf(name, sizeof(name), "nm_alert_%u", idx);
	w->alert_ring =
	    rte_ring_create(name, NM_ALERT_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->rec_ring == NULL || w->alert_ring == NULL) {
		rte_ring_free(w->rec_ring);
		rte_ring_free(w->alert_ring);
		nm_flow_table_fini(&w->flows);
		rte_ip_frag_table_destroy(w->frag_tbl);
		rte_free(w);
		return NULL;
	}
	return w;
}

void
nm_worker_free(struct nm_worker *w)
{
	if (w == NULL)
		return;
	rte_ip_frag_table_destroy(w->frag_tbl);
	w->frag_tbl = NULL;
	/* Streams of flows still open when the workers stopped. */
	for (uint32_t i = 0; w->flows.e != NULL && i < w->flows.cap; i++)
		if (w->flows.e[i].in_use)
			nm_inspect_release(w, &w->flows.e[i], false);
	nm_flow_table_fini(&w->flows);
	rte_ring_free(w->rec_ring);
	w->rec_ring = NULL;
	rte_ring_free(w->alert_ring);
	w->alert_ring = NULL;
	rte_free(w->insp_pool);
	rte_free(w->insp_free);
	rte_free(w);
}
