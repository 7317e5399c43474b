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
static bool
icmp_allowed(struct nm_worker *w, uint64_t now)
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
	if (!nm_icmp_error_allowed(m, l2_len) || !icmp_allowed(w, now))
		return;
	struct rte_mbuf *e = nm_icmp_error(w->node->pool, m, l2_len, type, code, mtu,
					   &tbl->pods[slot].port_mac);
	if (unlikely(e == NULL)) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		return;
	}
	w->c.icmp_sent++;
	tx_enqueue(w, tbl, slot, e);
}

/* Ingress: m is an IPv4 packet for the pod at slot, which this worker owns. */
static inline void
deliver(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m)
{
	struct nm_pod_live *dst = tbl->pods[slot].live;

	if (unlikely(!dst->mac_known)) {
		drop(w, NULL, m, NM_DROP_NO_MAC);
		return;
	}
	/*
	 * Reassembled or re-fragmented packets are chains; not every PMD
	 * transmits chains (af_xdp does not), and each fits one mbuf here.
	 */
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) < 0) {
		drop(w, NULL, m, NM_DROP_NO_MBUF);
		return;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&dst->pod_mac, &eth->dst_addr);
	rte_ether_addr_copy(&tbl->pods[slot].port_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	tx_enqueue(w, tbl, slot, m);
}

static inline void
route(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot, struct rte_mbuf *m)
{
	const struct nm_pod *pod = &tbl->pods[slot];

	if (pod->worker == w->idx) {
		deliver(w, tbl, slot, m);
		return;
	}
	struct nm_mbuf_meta *meta = nm_mbuf_meta(w->node, m);
	meta->pod_id = pod->id;
	meta->slot = slot;
	w->handoff[pod->worker][w->n_handoff[pod->worker]++] = m;
	if (unlikely(w->n_handoff[pod->worker] == NM_BURST))
		handoff_flush(w, pod->worker);
}

/*
 * A reassembled datagram larger than the pod MTU leaves as fragments again
 * (RFC 791); the DF case was answered with "fragmentation needed" earlier.
 */
static void
route_fragmented(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		 struct rte_mbuf *m, uint16_t l2_len, struct nm_pod_live *from)
{
	struct rte_mbuf *frags[MAX_FRAGS];
	int n;

	rte_pktmbuf_adj(m, l2_len);
	n = rte_ipv4_fragment_packet(m, frags, MAX_FRAGS, (uint16_t)w->node->cfg.pod_mtu,
				     w->node->pool, w->node->indirect);
	rte_pktmbuf_free(m);
	if (unlikely(n < 0)) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		from->c.drops++;
		return;
	}
	w->c.fragmented++;
	for (int i = 0; i < n; i++) {
		if (unlikely(rte_pktmbuf_prepend(frags[i], sizeof(struct rte_ether_hdr)) == NULL)) {
			drop(w, from, frags[i], NM_DROP_NO_MBUF);
			continue;
		}
		/* rte_ipv4_fragment_packet leaves the header checksum to the caller. */
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(frags[i], struct rte_ipv4_hdr *,
								  sizeof(struct rte_ether_hdr));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		route(w, tbl, slot, frags[i]);
	}
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
	uint32_t off = (uint32_t)(rte_be_to_cpu_16(ip->fragment_offset) &
				  RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS;

	/* A fragment ending past 65535 bytes belongs to no valid datagram. */
	if (unlikely(off + meta->ip_len > UINT16_MAX)) {
		drop(w, from, m, NM_DROP_FRAG_INVALID);
		return NULL;
	}
	m->l2_len = meta->l2_len;
	m->l3_len = meta->l3_len;
	uint32_t dead = w->death_row.cnt;
	struct rte_mbuf *whole = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->death_row, m,
								 now, ip);
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
		drop(w, from, whole, rc < 0 ? (enum nm_drop_reason)-rc : NM_DROP_FRAG_INVALID);
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

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for the TTL/protocol word. */
static inline void
ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint16_t old = (uint16_t)(ip->time_to_live << 8 | ip->next_proto_id);
	uint16_t new = (uint16_t)(old - 0x0100);
	uint32_t sum = (uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum);

	sum += (uint16_t)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->time_to_live--;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
}

void
nm_worker_rx_pod(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		 struct rte_mbuf **pkts, uint16_t n)
{
	const struct nm_pod *src = &tbl->pods[slot];
	struct nm_pod_live *live = src->live;
	struct rte_mbuf *fwd[NM_BURST];
	uint16_t fwd_l2[NM_BURST];
	uint8_t needs_frag[NM_BURST]; /* reassembled and larger than the pod MTU */
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
			drop(w, live, m, (enum nm_drop_reason)-cls);
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
			icmp_reply(w, tbl, slot, m, meta.l2_len, NM_ICMP_TIME_EXCEEDED, 0, 0,
				   now);
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
		fwd_l2[nf] = meta.l2_len;
		needs_frag[nf] = meta.ip_len > w->node->cfg.pod_mtu;
		dst_ip[nf] = meta.dst.v4;
		keys[nf] = &dst_ip[nf];
		nf++;
	}
	if (nf == 0)
		return;

	rte_hash_lookup_bulk_data(tbl->by_ip, keys, nf, &hits, found);

	for (i = 0; i < nf; i++) {
		struct rte_mbuf *m = fwd[i];

		if (unlikely(!(hits & (1ULL << i)))) {
			icmp_reply(w, tbl, slot, m, fwd_l2[i], NM_ICMP_DEST_UNREACH,
				   NM_ICMP_HOST_UNREACH, 0, now);
			drop(w, live, m, NM_DROP_NO_POD);
			continue;
		}
		uint16_t dslot = (uint16_t)(uintptr_t)found[i];

		ttl_decrement(rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, fwd_l2[i]));
		if (unlikely(needs_frag[i]))
			route_fragmented(w, tbl, dslot, m, fwd_l2[i], live);
		else
			route(w, tbl, dslot, m);
	}
}

void
nm_worker_rx_handoff(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		     uint16_t n)
{
	w->c.handoff_in += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct nm_mbuf_meta *meta = nm_mbuf_meta(w->node, m);
		const struct nm_pod *pod = &tbl->pods[meta->slot];

		/* The pod may have been deleted, or its slot reused, since the handoff. */
		if (unlikely(pod->live == NULL || pod->id != meta->pod_id ||
			     pod->worker != w->idx)) {
			drop(w, NULL, m, NM_DROP_POD_GONE);
			continue;
		}
		deliver(w, tbl, meta->slot, m);
	}
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
		for (unsigned int s = 0; s < node->n_workers; s++) {
			if (w->in[s] == NULL)
				continue;
			unsigned int n = rte_ring_sc_dequeue_burst(w->in[s], (void **)pkts,
								   NM_BURST, NULL);
			if (n > 0) {
				work += n;
				nm_worker_rx_handoff(w, tbl, pkts, (uint16_t)n);
			}
		}
		nm_worker_flush(w, tbl);

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
	struct nm_worker *w = rte_zmalloc_socket("nm_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
						 socket);
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
	return w;
}

void
nm_worker_free(struct nm_worker *w)
{
	if (w == NULL)
		return;
	rte_ip_frag_table_destroy(w->frag_tbl);
	w->frag_tbl = NULL;
	rte_free(w);
}
