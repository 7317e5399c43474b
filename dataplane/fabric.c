/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' side of the node-to-node tunnels: sealing packets for
 * remote pods into records, per peer and per burst, and opening the
 * records other nodes send. Every worker runs this code on its own fabric
 * queue (issue 14 part 1): it seals what it routes, with its own context
 * of the peer's key and sequence numbers from the key's one counter, and
 * opens what its queue receives, with its own context and the key's one
 * replay window (both shared safely: nodemesh/tunnel.h); it hands an
 * opened packet to the destination pod's owner as any other packet. The
 * control thread creates and frees the keys (node_tunnel.c).
 *
 * On the fabric a tunnel datagram is outer Ethernet / IPv4 (DF, no
 * options) / UDP (destination tunnel.udp_port, source 49152 + 14 bits of
 * the inner flow's hash, checksum 0) / tunnel header and TLS record
 * (include/nodemesh/tunnel-t.h). Nothing leaves for a peer without keys
 * (fail closed), and nothing from the fabric reaches a pod unless it
 * opened under a peer's key, passed its replay window and carries an
 * inner source that is one of that peer's pods (in the ipcache).
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "fabric.h"
#include "arp.h"
#include "cksum.h"
#include "nodemesh/tnl_state.h"
#include "nodemesh/tunnel.h"
#include "nodemesh/worker.h"
#include "tx.h"
#include "nodemesh/ipcache.h"
#include "nodemesh/pkt.h"
#include "nodemesh/pod_index.h"

#define MAX_GROUPS 4 /* (peer, epoch) groups opened as bursts in one RX burst */
/*
 * Peers whose fabric MAC one flush checks: a keyed peer's MAC is learnt
 * before its first packet needs it, without a flush visiting every one of
 * a thousand slots each turn.
 */
#define ARP_CHECKS_PER_FLUSH 16

/* This worker's counters for peer p. */
static inline struct nm_peer_live *
live_of(const struct nm_worker *w, const struct nm_tnl_peer *p)
{
	return &p->dyn->w[w->idx];
}

/* Ask for a peer's fabric MAC, at most twice a second per worker. */
static void
resolve_peer(struct nm_worker *w, const struct nm_tnl_peer *p, uint64_t now)
{
	const struct nm_dataplane *dp = w->dp;
	struct nm_peer_live *l = live_of(w, p);

	if (now - l->arp_sent_tsc < dp->tsc_hz / 2)
		return;
	l->arp_sent_tsc = now;
	struct rte_mbuf *m = nm_arp_request(dp->pool, &dp->fabric_mac, p->fabric_ip);
	if (m == NULL) {
		w->c.drops[NM_DROP_NO_MBUF]++;
		return;
	}
	struct rte_arp_hdr *arp =
	    rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	arp->arp_data.arp_sip = dp->params.fabric_ip;
	w->c.arp_requests++;
	if (rte_eth_tx_burst(dp->fabric_port, (uint16_t)w->idx, &m, 1) != 1)
		nm_drop(w, NULL, m, NM_DROP_TX_FULL);
}

void
nm_fabric_enqueue(struct nm_worker *w, uint16_t idx, struct rte_mbuf *m, uint16_t flow_hash)
{
	const struct nm_tnl_peer *p = &w->tnl->peers[idx];

	if (unlikely(idx >= w->tnl->max_peers || !p->in_use || p->tx == NULL)) {
		/* max_peers never changes: the check only guards an index from a stale entry. */
		if (idx < w->tnl->max_peers && p->dyn != NULL)
			live_of(w, p)->no_key++;
		nm_drop(w, NULL, m, NM_DROP_TNL_NO_KEY);
		return;
	}
	if (unlikely(!nm_peer_mac_known(p))) {
		live_of(w, p)->unresolved++;
		resolve_peer(w, p, rte_rdtsc());
		nm_drop(w, NULL, m, NM_DROP_TNL_UNRESOLVED);
		return;
	}
	nm_mbuf_meta(w->dp, m)->flow_hash = flow_hash;
	struct nm_fabric_out *out = &w->fabric_out[idx];
	if (out->n == 0)
		w->fabric_pending[w->n_fabric_pending++] = idx;
	out->pkts[out->n++] = m;
	if (unlikely(out->n == NM_BURST))
		nm_fabric_flush(w, false);
}

/* Turn m (Ethernet + inner IPv4) into room for the outer headers and the record around it. */
static int
make_room(struct rte_mbuf *m, struct nm_tnl_buf *b)
{
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) < 0)
		return -1;
	uint32_t inner = m->pkt_len - RTE_ETHER_HDR_LEN;
	rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
	if (rte_pktmbuf_prepend(m, NM_TNL_OUTER_LEN + NM_TNL_HDRS_LEN) == NULL ||
	    rte_pktmbuf_append(m, NM_TNL_TRAILER_LEN) == NULL)
		return -1;
	b->data = rte_pktmbuf_mtod_offset(m, uint8_t *, NM_TNL_OUTER_LEN);
	b->len = NM_TNL_HDRS_LEN + inner;
	b->room = NM_TNL_HDRS_LEN + inner + NM_TNL_TRAILER_LEN;
	return 0;
}

/*
 * The outer headers sit 59 bytes before the inner IPv4 header (an odd
 * offset): they are built in an aligned buffer and copied in as bytes.
 */
struct outer_hdrs {
	struct rte_ether_hdr eth;
	struct rte_ipv4_hdr ip;
	struct rte_udp_hdr udp;
} __rte_packed __rte_aligned(2);

static void
write_outer(const struct nm_dataplane *dp, const struct nm_tnl_peer *p, struct rte_mbuf *m,
	    uint32_t rec_len)
{
	struct outer_hdrs h;
	uint16_t udp_len = (uint16_t)(sizeof(h.udp) + rec_len);

	nm_peer_mac_get(p, &h.eth.dst_addr);
	rte_ether_addr_copy(&dp->fabric_mac, &h.eth.src_addr);
	h.eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	h.ip.version_ihl = RTE_IPV4_VHL_DEF;
	h.ip.type_of_service = 0;
	h.ip.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(h.ip) + udp_len));
	h.ip.packet_id = 0;
	h.ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	h.ip.time_to_live = 64;
	h.ip.next_proto_id = IPPROTO_UDP;
	h.ip.src_addr = dp->params.fabric_ip;
	h.ip.dst_addr = p->fabric_ip;
	h.ip.hdr_checksum = 0;
	h.ip.hdr_checksum = rte_ipv4_cksum(&h.ip);
	/* Spread flows over the fabric's queues and ECMP paths, as VXLAN does. */
	h.udp.src_port =
	    rte_cpu_to_be_16((uint16_t)(0xc000 | (nm_mbuf_meta(dp, m)->flow_hash & 0x3fff)));
	h.udp.dst_port = rte_cpu_to_be_16(dp->params.udp_port);
	h.udp.dgram_len = rte_cpu_to_be_16(udp_len);
	h.udp.dgram_cksum = 0; /* the record's tag protects the payload (RFC 768 allows 0) */
	memcpy(rte_pktmbuf_mtod(m, void *), &h, sizeof(h));
}

/*
 * Records the n sealed packets of one group would take if the inner IPv4
 * packets, each carrying its own total length, were laid end to end in
 * records of at most tnl_mtu bytes, in order (what several inner packets
 * per record would save; issue 14 part 3). Only counted.
 */
static uint32_t
packable_records(const struct nm_tnl_buf *bufs, uint16_t n, uint32_t tnl_mtu)
{
	uint32_t records = 0, used = tnl_mtu;

	for (uint16_t i = 0; i < n; i++) {
		uint32_t inner = bufs[i].len - NM_TNL_HDRS_LEN;

		if (used + inner > tnl_mtu) {
			records++;
			used = 0;
		}
		used += inner;
	}
	return records;
}

static void
flush_peer(struct nm_worker *w, unsigned int idx)
{
	struct nm_fabric_out *out = &w->fabric_out[idx];
	const struct nm_tnl_peer *p = &w->tnl->peers[idx];
	struct nm_tnl_buf bufs[NM_BURST];
	struct rte_mbuf *ok[NM_BURST];
	uint16_t n = 0, sent;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < out->n; i++) {
		if (unlikely(make_room(out->pkts[i], &bufs[n]) < 0)) {
			nm_drop(w, NULL, out->pkts[i], NM_DROP_NO_MBUF);
			continue;
		}
		ok[n++] = out->pkts[i];
	}
	out->n = 0;
	if (n == 0)
		return;
	/* A peer whose keys were withdrawn since the packets were queued. */
	if (unlikely(!p->in_use || p->tx == NULL)) {
		for (uint16_t i = 0; i < n; i++)
			nm_drop(w, NULL, ok[i], NM_DROP_TNL_NO_KEY);
		return;
	}
	nm_tnl_seal_burst(nm_tnl_keyset_ctx(p->tx, w->idx), bufs, n);
	uint16_t k = 0;
	for (uint16_t i = 0; i < n; i++) {
		if (unlikely(bufs[i].reason != NM_TNL_OK)) {
			nm_drop(w, NULL, ok[i], NM_DROP_TNL_SEAL_FAILED);
			continue;
		}
		write_outer(w->dp, p, ok[i], bufs[i].len);
		bytes += ok[i]->pkt_len;
		bufs[k] = bufs[i];
		ok[k++] = ok[i];
	}
	struct nm_peer_live *l = live_of(w, p);
	l->tx_bursts++;
	l->tx_packable += packable_records(bufs, k, w->dp->tnl_mtu);
	sent = rte_eth_tx_burst(w->dp->fabric_port, (uint16_t)w->idx, ok, k);
	for (uint16_t i = sent; i < k; i++) {
		bytes -= ok[i]->pkt_len;
		nm_drop(w, NULL, ok[i], NM_DROP_TX_FULL);
	}
	l->tx_packets += sent;
	l->tx_bytes += bytes;
	w->c.tnl_sealed += sent;
	w->c.tx_packets += sent;
	w->c.tx_bytes += bytes;
}

void
nm_fabric_flush(struct nm_worker *w, bool turn_end)
{
	const struct nm_tnl_state *tnl = w->tnl;

	/* Each listed slot once: flush_peer empties it, so enqueue lists it again. */
	for (uint32_t k = 0; k < w->n_fabric_pending; k++)
		flush_peer(w, w->fabric_pending[k]);
	w->n_fabric_pending = 0;
	/*
	 * One worker learns MACs ahead of need, at the end of its turn; the
	 * others ask when a packet needs one (and read no clock here).
	 */
	if (!turn_end || w->idx != 0)
		return;
	uint64_t now = rte_rdtsc();
	/*
	 * Learn keyed peers' MACs before their first packet needs them, a few
	 * slots a turn. Until a whole pass finds every keyed peer resolved
	 * (again after each new tunnel state), fabric_resolving keeps the idle
	 * waits short (idle.c), so that the pass does not slow to the pace of
	 * idle turns.
	 */
	if (unlikely(tnl->generation != w->fabric_arp_generation)) {
		w->fabric_arp_generation = tnl->generation;
		w->fabric_resolving = true;
	}
	for (unsigned int k = 0; k < ARP_CHECKS_PER_FLUSH && k < tnl->max_peers; k++) {
		const struct nm_tnl_peer *p = &tnl->peers[w->fabric_arp_cursor];
		w->fabric_arp_cursor =
		    w->fabric_arp_cursor + 1 >= tnl->max_peers ? 0 : w->fabric_arp_cursor + 1;
		if (unlikely(p->in_use && p->tx != NULL && !nm_peer_mac_known(p))) {
			resolve_peer(w, p, now);
			w->fabric_unresolved++;
		}
		if (w->fabric_arp_cursor == 0) {
			w->fabric_resolving = w->fabric_unresolved > 0;
			w->fabric_unresolved = 0;
		}
	}
}

/* Which peer sent a datagram from this fabric address? -1: none. */
static inline int
peer_of(const struct nm_tnl_state *tnl, uint32_t ip)
{
	return nm_tnl_peer_by_ip(tnl, ip);
}

/* ARP on the fabric: answer for our fabric address, learn peers' MACs. */
static void
fabric_arp(struct nm_worker *w, struct rte_mbuf *m, const struct nm_pkt_meta *meta)
{
	const struct nm_dataplane *dp = w->dp;
	const struct rte_arp_hdr *arp =
	    rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, meta->l2_len);

	int idx = peer_of(w->tnl, meta->src.v4);
	if (idx >= 0 && w->tnl->peers[idx].dyn != NULL)
		nm_peer_mac_set(&w->tnl->peers[idx], &arp->arp_data.arp_sha);
	if (meta->arp_op == RTE_ARP_OP_REQUEST && meta->dst.v4 == dp->params.fabric_ip) {
		nm_arp_reply_inplace(m, meta->l2_len, &dp->fabric_mac);
		w->c.arp_replies++;
		if (rte_eth_tx_burst(dp->fabric_port, (uint16_t)w->idx, &m, 1) != 1)
			nm_drop(w, NULL, m, NM_DROP_TX_FULL);
		return;
	}
	rte_pktmbuf_free(m);
}

struct open_group {
	struct nm_tnl_keyset *rx;
	uint16_t peer;
	uint16_t n;
	struct rte_mbuf *pkts[NM_BURST];
	struct nm_tnl_buf bufs[NM_BURST];
};

static void
reject(struct nm_worker *w, const struct nm_tnl_peer *p, struct rte_mbuf *m, unsigned int reason)
{
	if (reason < NM_TNL_REASON_MAX) {
		live_of(w, p)->rejected[reason]++;
		w->tnl_rejected[reason]++;
	}
	nm_drop(w, NULL, m, NM_DROP_TNL_REJECTED);
}

/*
 * Check an outer frame and file it under its (peer, epoch) group. Returns
 * 0 when filed; otherwise m was consumed (ARP, or dropped and counted).
 */
static int
classify(struct nm_worker *w, struct rte_mbuf *m, struct open_group *g, unsigned int *ng)
{
	const struct nm_dataplane *dp = w->dp;
	struct nm_pkt_meta meta;
	int cls = nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       m->pkt_len, &meta);

	if (cls == NM_PKT_ARP) {
		fabric_arp(w, m, &meta);
		return -1;
	}
	if (cls == NM_PKT_IPV6 || cls == -NM_DROP_ETHERTYPE) {
		/* The link's own chatter (the host's IPv6 RS, NS, MLD): not an attack. */
		nm_drop(w, NULL, m, NM_DROP_FABRIC_NOT_IPV4);
		return -1;
	}
	if (cls != NM_PKT_IPV4 || meta.ip_proto != IPPROTO_UDP || !(meta.flags & NM_PKT_F_L4) ||
	    (meta.flags & NM_PKT_F_FRAG) || meta.dst.v4 != dp->params.fabric_ip ||
	    meta.dport != dp->params.udp_port) {
		nm_drop(w, NULL, m, NM_DROP_FABRIC_NOT_TUNNEL);
		return -1;
	}
	int idx = peer_of(w->tnl, meta.src.v4);
	if (idx < 0) {
		nm_drop(w, NULL, m, NM_DROP_TNL_UNKNOWN_PEER);
		return -1;
	}
	const struct nm_tnl_peer *p = &w->tnl->peers[idx];
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) < 0) {
		nm_drop(w, NULL, m, NM_DROP_NO_MBUF);
		return -1;
	}
	uint32_t off = meta.l2_len + meta.l3_len + meta.l4_len;
	uint8_t *rec = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	uint32_t len = meta.ip_len - meta.l3_len - meta.l4_len;
	struct nm_tnl_hdr h;
	int rc = nm_tnl_hdr_parse(rec, len, &h);
	if (rc < 0) {
		reject(w, p, m, (unsigned int)-rc);
		return -1;
	}
	struct nm_tnl_keyset *rx = NULL;
	for (int k = 0; k < 2 && rx == NULL; k++)
		if (p->rx[k] != NULL && p->rx[k]->epoch == h.epoch)
			rx = p->rx[k];
	if (rx == NULL) {
		reject(w, p, m, NM_TNL_E_WRONG_EPOCH);
		return -1;
	}
	unsigned int k;
	for (k = 0; k < *ng && g[k].rx != rx; k++)
		;
	if (k == *ng) {
		if (*ng == MAX_GROUPS) {
			/* More groups than we open at once: count it as an epoch we do not serve.
			 */
			reject(w, p, m, NM_TNL_E_WRONG_EPOCH);
			return -1;
		}
		g[k].rx = rx;
		g[k].peer = (uint16_t)idx;
		g[k].n = 0;
		(*ng)++;
	}
	g[k].pkts[g[k].n] = m;
	g[k].bufs[g[k].n].data = rec;
	g[k].bufs[g[k].n].len = len;
	g[k].bufs[g[k].n].room = len;
	g[k].n++;
	return 0;
}

/* An opened record: strip the tunnel, check the inner addresses, file it for ingress. */
static void
deliver_inner(struct nm_worker *w, const struct nm_pod_table *tbl, const struct open_group *g,
	      uint16_t i, struct nm_pkt_meta *meta, uint16_t *slot, uint16_t *src_slot,
	      struct rte_mbuf **out, uint16_t *n_out)
{
	const struct nm_tnl_peer *p = &w->tnl->peers[g->peer];
	struct rte_mbuf *m = g->pkts[i];
	uint32_t inner = g->bufs[i].len - NM_TNL_HDRS_LEN;
	const struct rte_ether_hdr *oeth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	struct nm_peer_live *l = live_of(w, p);

	/* The frame is authentic: its source is the peer's MAC now. */
	nm_peer_mac_set(p, &oeth->src_addr);
	l->rx_packets++;
	l->rx_bytes += m->pkt_len;

	/* Keep 14 bytes in front of the inner packet for its Ethernet header. */
	uint32_t lead = (uint32_t)(g->bufs[i].data - rte_pktmbuf_mtod(m, uint8_t *)) +
			NM_TNL_HDRS_LEN - RTE_ETHER_HDR_LEN;
	rte_pktmbuf_adj(m, (uint16_t)lead);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - RTE_ETHER_HDR_LEN - inner));
	/*
	 * The inner packet lies 59 bytes into the datagram, at an odd address;
	 * the rest of the pipeline reads its headers as structs: move it one byte
	 * down (a copy of the packet, the price of this wire format's layout).
	 */
	if ((uintptr_t)rte_pktmbuf_mtod(m, uint8_t *) & 1) {
		memmove(rte_pktmbuf_mtod(m, uint8_t *) - 1, rte_pktmbuf_mtod(m, uint8_t *),
			m->data_len);
		m->data_off--;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	int cls = nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       m->pkt_len, meta);
	if (unlikely(cls != NM_PKT_IPV4)) {
		nm_drop(w, NULL, m, cls < 0 ? (enum nm_drop_reason) - cls : NM_DROP_ETHERTYPE);
		return;
	}
	/* The sender must be a pod this peer announced (the ipcache says whose). */
	struct nm_ipcache_entry e;
	if (w->dp->ipcache == NULL || nm_ipcache_lookup(w->dp->ipcache, meta->src.v4, &e) < 0 ||
	    e.peer != g->peer) {
		l->inner_spoofed++;
		nm_drop(w, NULL, m, NM_DROP_TNL_INNER_SPOOFED);
		return;
	}
	*src_slot = NM_SLOT_REMOTE;
	int found = nm_pod_index_lookup(tbl, meta->dst.v4);
	if (found < 0 || tbl->pods[found].live == NULL) {
		nm_drop(w, NULL, m, NM_DROP_TNL_INNER_NO_POD);
		return;
	}
	*slot = (uint16_t)found;
	out[(*n_out)++] = m;
}

void
nm_fabric_rx(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
	     uint16_t n, struct nm_fabric_opened *out)
{
	struct open_group g[MAX_GROUPS];
	unsigned int ng = 0;

	out->n = 0;
	w->c.rx_packets += n;
	for (uint16_t i = 0; i < n; i++) {
		w->c.rx_bytes += pkts[i]->pkt_len;
		classify(w, pkts[i], g, &ng);
	}
	for (unsigned int k = 0; k < ng; k++) {
		const struct nm_tnl_peer *p = &w->tnl->peers[g[k].peer];

		w->c.tnl_opened += nm_tnl_open_burst(nm_tnl_keyset_ctx(g[k].rx, w->idx),
						     &g[k].rx->replay, g[k].bufs, g[k].n);
		for (uint16_t i = 0; i < g[k].n; i++) {
			if (unlikely(g[k].bufs[i].reason != NM_TNL_OK)) {
				reject(w, p, g[k].pkts[i], g[k].bufs[i].reason);
				continue;
			}
			deliver_inner(w, tbl, &g[k], i, &out->meta[out->n], &out->slot[out->n],
				      &out->src_slot[out->n], out->pkts, &out->n);
		}
	}
}

void
nm_tcp_mss_clamp(struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t mss)
{
	struct rte_tcp_hdr *tcp =
	    rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, meta->l2_len + meta->l3_len);
	uint8_t *opt = (uint8_t *)(tcp + 1);
	uint8_t *end = (uint8_t *)tcp + meta->l4_len;

	while (opt < end) {
		if (opt[0] == 0) /* end of options */
			return;
		if (opt[0] == 1) { /* no-op */
			opt++;
			continue;
		}
		if (opt + 1 >= end || opt[1] < 2 || opt + opt[1] > end)
			return;
		if (opt[0] == 2 && opt[1] == 4) {
			uint16_t old = (uint16_t)(opt[2] << 8 | opt[3]);
			if (old > mss) {
				opt[2] = (uint8_t)(mss >> 8);
				opt[3] = (uint8_t)mss;
				/* At an odd offset the value straddles two checksum words: swapped.
				 */
				bool odd = ((opt + 2 - (uint8_t *)tcp) & 1) != 0;
				tcp->cksum = odd ? nm_cksum_adjust(tcp->cksum, rte_bswap16(old),
								   rte_bswap16(mss))
						 : nm_cksum_adjust(tcp->cksum, old, mss);
			}
			return;
		}
		opt += opt[1];
	}
}
