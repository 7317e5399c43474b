/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature matching on the workers (IDS/IPS).
 *
 * A packet is inspected at ingress, on the worker that owns the receiving
 * pod, after policy allowed it. Each flow entry scans the bytes arriving
 * into its pod: at the responder's side the initiator's bytes (to_server),
 * at the initiator's side the responder's (to_client). TCP payload goes
 * through one Hyperscan stream per entry, strictly in sequence order; UDP
 * and ICMP payloads, and the first packet of any other protocol, are
 * scanned as blocks.
 *
 * The TCP stream policy (README "Signatures" documents it for operators):
 *
 *   - a segment starting at the next byte to scan is scanned and forwarded;
 *   - a segment starting after it (out of order) is dropped: the sender
 *     retransmits in order, so no byte reaches the pod unscanned;
 *   - a segment starting before it (retransmission or overlap) is forwarded
 *     only if the receiving pod has acknowledged all of its bytes (its
 *     stack discards them), or if it repeats exactly, by sequence number,
 *     length and CRC32C, one of the last NM_INSP_SEGS segments scanned;
 *     otherwise it is dropped and counted (different data, or a shape we
 *     cannot check). A segment that also carries new bytes after fully
 *     acknowledged old ones has its new bytes scanned. Insertion tricks
 *     that make the pod drop a scanned segment (bad checksum, out of its
 *     window, low TTL past us) therefore end in the second copy being
 *     dropped, not in unscanned bytes reaching the pod;
 *   - payload on a SYN or before the responder answered is dropped; so is
 *     a RST carrying payload;
 *   - URG is cleared (flag and pointer, checksum fixed) so the pod reads
 *     the urgent byte inline, as it was scanned;
 *   - payload of a flow whose handshake this entry did not see is dropped
 *     (tcp_midstream), unless the flow began before any rule set was
 *     loaded (then it is not inspected at all, and counted), or
 *     signatures.midstream is "pickup" (then a stream opens at that
 *     segment and inspection goes on from there, counted).
 *
 * Low TTL is handled by the foundation (a packet that could not reach the
 * pod is never forwarded), IP fragments are reassembled before this.
 *
 * A reassembled datagram is an mbuf chain and is scanned as it lies, never
 * linearised: a block scan takes the payload's pieces in one vectored
 * Hyperscan call (a pattern across segments matches), a stream scan feeds
 * them to the flow's stream in order. A payload that is not in the chain
 * as the headers say (or lies in more than NM_PIECES_MAX segments) is
 * dropped as signature_scan_buffer; signature_scan_error stays for
 * Hyperscan's own errors.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "inspect.h"
#include "pieces.h"
#include "nodemesh/sig_match.h"
#include "icmp.h"
#include "http.h"
#include "inspect_http.h"
#include "reject.h"
#include "sig_scan.h"
#include "sig_thresh.h"
#include "nodemesh/sig_set-t.h"
#include "nodemesh/worker.h"

#define MAX_HITS 16 /* rule hits recorded for one packet; more are counted, not logged */

/* Stronger first: Suricata's default action order (pass, drop, reject, alert). */
static const uint8_t action_rank[] = {
    [NM_SIG_ALERT] = 1,
    [NM_SIG_REJECT] = 2,
    [NM_SIG_DROP] = 3,
    [NM_SIG_PASS] = 4,
};

/* What one scan needs to judge a rule's header, and what it found. */
struct hit_ctx {
	const struct nm_sigdb *db;
	uint64_t *hits_row;
	struct nm_worker *scanner; /* whose threshold table, clock and counters */
	uint32_t src, dst;	   /* host order */
	uint16_t sport, dport;
	uint8_t proto;
	bool ports; /* TCP or UDP: rules' ports apply */
	bool to_server;
	bool established;
	bool http_refused; /* the HTTP parser refused this request stream */
	uint8_t best;	   /* strongest action among hits + 1; 0: none */
	uint16_t n;
	uint32_t rule[MAX_HITS];
	/* Transaction logging of a TCP stream's HTTP messages (NULL f: none). */
	struct nm_worker *w;
	struct nm_flow *f;
	bool peer_local; /* the sender is a pod of this node: its entry parses the other way */
	bool has_http;	 /* a head completed in this scan: its fields, for the alerts */
	struct nm_http_fields http;
};

static bool
endpoints_match(const struct nm_sigdb_rule *r, const struct hit_ctx *h, bool swap)
{
	uint32_t s = swap ? h->dst : h->src, d = swap ? h->src : h->dst;
	uint16_t sp = swap ? h->dport : h->sport, dp = swap ? h->sport : h->dport;

	if (!nm_sig_addrs_match(&r->src, s) || !nm_sig_addrs_match(&r->dst, d))
		return false;
	return !h->ports ||
	       (nm_sig_ports_match(&r->sport, sp) && nm_sig_ports_match(&r->dport, dp));
}

static bool
header_match(const struct nm_sigdb_rule *r, const struct hit_ctx *h)
{
	static const uint8_t protos[] = {[NM_SIG_PROTO_TCP] = IPPROTO_TCP,
					 [NM_SIG_PROTO_UDP] = IPPROTO_UDP,
					 [NM_SIG_PROTO_ICMP] = IPPROTO_ICMP,
					 [NM_SIG_PROTO_HTTP] = IPPROTO_TCP};

	if (r->proto != NM_SIG_PROTO_IP && protos[r->proto] != h->proto)
		return false;
	if ((r->flow & NM_SIG_FLOW_TO_SERVER) && !h->to_server)
		return false;
	if ((r->flow & NM_SIG_FLOW_TO_CLIENT) && h->to_server)
		return false;
	if ((r->flow & NM_SIG_FLOW_ESTABLISHED) && !h->established)
		return false;
	return endpoints_match(r, h, false) || (r->bidirectional && endpoints_match(r, h, true));
}

/*
 * A thresholded rule's match counted on this worker (dataplane/sig_thresh.c
 * says what each verdict means). The clock is read only for such rules.
 */
static enum nm_sig_thresh_verdict
thresh_judge(struct hit_ctx *h, const struct nm_sigdb_rule *r)
{
	struct nm_worker *w = h->scanner;
	enum nm_sig_thresh_verdict v = nm_sig_thresh_check(w->thresh, &r->thresh, r->sid, r->rev,
							   h->src, h->dst, nm_worker_now(w));

	if (v == NM_SIG_THRESH_HOLD)
		w->sc.thresh_held++;
	else if (v == NM_SIG_THRESH_SILENT)
		w->sc.thresh_silenced++;
	else if (v == NM_SIG_THRESH_FULL)
		w->sc.thresh_full++;
	return v;
}

static int
on_hit(void *arg, unsigned int rule)
{
	struct hit_ctx *h = arg;
	const struct nm_sigdb_rule *r = &h->db->rules[rule];
	enum nm_sig_thresh_verdict v = NM_SIG_THRESH_ALERT;

	if (!header_match(r, h))
		return 0;
	h->hits_row[rule]++;
	if (unlikely(r->thresh.type != NM_SIG_THRESH_NONE))
		v = thresh_judge(h, r);
	if (v == NM_SIG_THRESH_HOLD || v == NM_SIG_THRESH_FULL)
		return 0;
	/* A silent match acts (its action below) but logs nothing: not recorded. */
	if (v == NM_SIG_THRESH_ALERT && h->n < MAX_HITS)
		h->rule[h->n++] = rule;
	if (action_rank[r->action] > h->best)
		h->best = action_rank[r->action];
	return 0;
}

/* The per-scan part of a hit context: nothing matched, no flow or worker yet. */
static void
hit_ctx_clear(struct hit_ctx *h)
{
	h->best = 0;
	h->n = 0;
	h->http_refused = false;
	h->w = NULL;
	h->f = NULL;
	h->peer_local = false;
	h->has_http = false;
}

static void
hit_ctx_init(struct hit_ctx *h, struct nm_worker *w, const struct nm_sig_set *set,
	     const struct nm_flow *f, unsigned int dir, const struct nm_pkt_meta *meta)
{
	h->db = set->db;
	h->hits_row = set->hits + (size_t)w->idx * set->db->n_rules;
	h->scanner = w;
	h->src = rte_be_to_cpu_32(meta->src.v4);
	h->dst = rte_be_to_cpu_32(meta->dst.v4);
	h->proto = meta->ip_proto;
	h->ports = meta->ip_proto == IPPROTO_TCP || meta->ip_proto == IPPROTO_UDP;
	h->sport = h->ports ? meta->sport : 0;
	h->dport = h->ports ? meta->dport : 0;
	h->to_server = dir == NM_DIR_ORIG;
	/*
	 * TCP: the handshake completed. A flow that closed since (a RST or FIN,
	 * valid or not: conntrack does not check their sequence numbers) stays
	 * established for the rules, so a forged RST cannot switch them off.
	 * Payload before the handshake never gets here (it is dropped).
	 */
	if (meta->ip_proto == IPPROTO_TCP)
		h->established = f->state != NM_FLOW_TCP_SYN;
	else
		h->established = f->pkts[NM_DIR_ORIG] > 0 && f->pkts[NM_DIR_REPLY] > 0;
	hit_ctx_clear(h);
}

/*
 * The HTTP fields an alert carries: those of the last head this scan
 * completed, else those of the message this side is in (a body).
 */
static void
alert_http(struct nm_alert_record *a, const struct nm_flow *f, const struct hit_ctx *h)
{
	a->has_http = 1;
	if (h->has_http)
		memcpy(&a->http, &h->http, sizeof(a->http));
	else if (f->insp != NULL && f->insp->http_rec != NULL)
		memcpy(&a->http, &f->insp->http_rec->f, sizeof(a->http));
	else
		a->has_http = 0;
}

/* Hand one alert per recorded hit to the control thread. */
static void
alerts_emit(struct nm_worker *w, const struct nm_flow *f, const struct hit_ctx *h,
	    uint32_t src_pod_id, uint32_t dst_pod_id, bool blocked, uint64_t now)
{
	for (uint16_t i = 0; i < h->n; i++) {
		const struct nm_sigdb_rule *r = &h->db->rules[h->rule[i]];
		struct nm_alert_record *a;

		if (r->action == NM_SIG_PASS)
			continue;
		if (rte_mempool_get(w->dp->alert_pool, (void **)&a) != 0) {
			w->sc.alerts_lost++;
			continue;
		}
		a->key = f->hk.k;
		a->init_pod_id = f->init_pod_id;
		a->src_pod_id = src_pod_id;
		a->dst_pod_id = dst_pod_id;
		a->src_ip = rte_cpu_to_be_32(h->src);
		a->dst_ip = rte_cpu_to_be_32(h->dst);
		a->sport = h->sport;
		a->dport = h->dport;
		a->proto = h->proto;
		a->action = r->action;
		a->blocked = blocked;
		a->to_server = h->to_server;
		a->tsc = now;
		a->sid = r->sid;
		a->rev = r->rev;
		a->priority = r->priority;
		memcpy(a->msg, r->msg, sizeof(a->msg));
		memcpy(a->classtype, r->classtype, sizeof(a->classtype));
		alert_http(a, f, h);
		if (rte_ring_sp_enqueue(w->alert_ring, a) != 0) {
			rte_mempool_put(w->dp->alert_pool, a);
			w->sc.alerts_lost++;
			continue;
		}
		w->sc.alerts++;
	}
}

/* The bytes arriving into this side's pod, as a header context without a packet. */
static void
hit_ctx_from_flow(struct hit_ctx *h, struct nm_worker *w, const struct nm_sig_set *set,
		  const struct nm_flow *f)
{
	const struct nm_flow_key *k = &f->hk.k;
	/* The peer sends what this side receives: the responder if we are the initiator. */
	bool src_is_lo = f->local_is_init ? !f->init_is_lo : f->init_is_lo;
	const uint8_t *src = src_is_lo ? k->addr_lo : k->addr_hi;
	const uint8_t *dst = src_is_lo ? k->addr_hi : k->addr_lo;

	h->db = set->db;
	h->hits_row = set->hits + (size_t)w->idx * set->db->n_rules;
	h->scanner = w;
	h->src =
	    (uint32_t)src[12] << 24 | (uint32_t)src[13] << 16 | (uint32_t)src[14] << 8 | src[15];
	h->dst =
	    (uint32_t)dst[12] << 24 | (uint32_t)dst[13] << 16 | (uint32_t)dst[14] << 8 | dst[15];
	h->sport = src_is_lo ? k->port_lo : k->port_hi;
	h->dport = src_is_lo ? k->port_hi : k->port_lo;
	h->proto = k->proto;
	h->ports = true;
	h->to_server = !f->local_is_init;
	h->established = true;
	hit_ctx_clear(h);
}

/*
 * The stream's transaction record to the control thread: its message
 * ended, or the stream closes with it unfinished. A full ring loses it,
 * counted.
 */
static void
http_rec_send(struct nm_worker *w, struct nm_insp *s)
{
	struct nm_http_record *r = s->http_rec;

	s->http_rec = NULL;
	if (rte_ring_sp_enqueue(w->http_ring, r) != 0) {
		rte_mempool_put(w->dp->http_pool, r);
		w->sc.http_events_lost++;
		return;
	}
	w->sc.http_events++;
}

/* The flow's client (initiator) and server, as the record names them. */
static void
http_rec_ends(struct nm_http_record *r, const struct nm_flow *f)
{
	const struct nm_flow_key *k = &f->hk.k;
	const uint8_t *init = f->init_is_lo ? k->addr_lo : k->addr_hi;
	const uint8_t *resp = f->init_is_lo ? k->addr_hi : k->addr_lo;

	r->key = *k;
	r->init_pod_id = f->init_pod_id;
	r->client_pod_id = f->init_pod_id;
	r->server_pod_id = f->resp_pod_id;
	memcpy(&r->client_ip, init + 12, 4);
	memcpy(&r->server_ip, resp + 12, 4);
	r->client_port = f->init_is_lo ? k->port_lo : k->port_hi;
	r->server_port = f->init_is_lo ? k->port_hi : k->port_lo;
}

/*
 * A head completed on this side's stream: a request (server side) or a
 * response (client side). Interim 1xx answers other than 101 are neither
 * logged nor counted, so that the n-th final response pairs with the n-th
 * request. No record when the pool is empty (counted); the alerts of this
 * scan still get the fields.
 */
static void
log_head(void *ctx, const struct nm_http_head *head)
{
	struct hit_ctx *h = ctx;
	struct nm_worker *w = h->w;
	struct nm_insp *s = h->f->insp;
	uint8_t dir = s->st->http->dir;
	struct nm_http_record *r;

	if (dir == NM_HTTP_RESPONSE && head->status < 200 && head->status != 101) {
		s->http_interim = 1;
		return;
	}
	nm_http_fields_fill(head, &h->http);
	h->has_http = true;
	if (s->http_rec != NULL)
		http_rec_send(w, s); /* cannot happen: a head follows its predecessor's end */
	if (rte_mempool_get(w->dp->http_pool, (void **)&r) != 0) {
		w->sc.http_events_lost++;
		s->http_tx++;
		return;
	}
	http_rec_ends(r, h->f);
	r->tx = s->http_tx++;
	r->dir = dir;
	r->complete = 0;
	r->peer_parsed = h->peer_local;
	r->pad = 0;
	r->tsc = nm_worker_now(w);
	r->body_bytes = 0;
	memcpy(&r->f, &h->http, sizeof(r->f));
	s->http_rec = r;
}

static void
log_body(void *ctx, uint32_t len)
{
	const struct hit_ctx *h = ctx;
	struct nm_insp *s = h->f->insp;

	if (s->http_rec != NULL)
		s->http_rec->body_bytes += len;
}

static void
log_end(void *ctx)
{
	const struct hit_ctx *h = ctx;
	struct nm_insp *s = h->f->insp;

	if (s->http_interim) {
		s->http_interim = 0;
		return;
	}
	if (s->http_rec == NULL)
		return;
	s->http_rec->complete = 1;
	http_rec_send(h->w, s);
}

static void
held_free(struct nm_worker *w, struct nm_insp *s)
{
	for (uint8_t i = 0; i < s->n_held; i++)
		rte_pktmbuf_free(s->held[i].m);
	w->sc.held_now -= s->n_held;
	s->n_held = 0;
}

/* What one HTTP feed did, into the worker's counters. */
static void
http_count(struct nm_worker *w, const struct nm_inspect_http *ih)
{
	w->sc.http_heads += ih->heads;
	w->sc.http_bodies += ih->bodies;
	w->sc.http_bodies_cut += ih->bodies_cut;
	w->sc.http_inflate_cut += ih->inflate_cut;
	w->sc.http_inflate_errors += ih->inflate_errors;
}

/* A body that lasted until the connection closed is scanned when the flow ends. */
static void
http_finish(struct nm_worker *w, const struct nm_sigdb *db, struct nm_sigdb_stream *st,
	    hs_scratch_t *scratch, struct hit_ctx *h)
{
	struct nm_inspect_http ih = {
	    .db = db, .scratch = scratch, .fn = on_hit, .ctx = h, .inflater = w->http_inflater};

	if (st->http == NULL)
		return;
	nm_inspect_http_finish(st->http, &ih);
	http_count(w, &ih);
}

void
nm_inspect_release(struct nm_worker *w, struct nm_flow *f, bool report)
{
	struct nm_insp *s = f->insp;

	if (s == NULL)
		return;
	struct nm_sig_set *set = s->set;
	held_free(w, s);
	/*
	 * End-of-stream matches (a negated content, a pcre anchored at the
	 * end) are decided only now, when the flow is over: they are logged,
	 * nothing is left to block.
	 */
	if (report && w->sigs != NULL) {
		struct hit_ctx h;
		hit_ctx_from_flow(&h, w, set, f);
		http_finish(w, set->db, s->st, w->sigs->scratch[w->idx], &h);
		nm_sigdb_stream_close(set->db, s->st, w->sigs->scratch[w->idx], on_hit, &h);
		if (h.best != 0 && h.best != action_rank[NM_SIG_PASS]) {
			w->sc.hits += h.n;
			bool to_server = h.to_server;
			uint32_t src_id = to_server ? f->init_pod_id : f->resp_pod_id;
			uint32_t dst_id = to_server ? f->resp_pod_id : f->init_pod_id;
			alerts_emit(w, f, &h, src_id, dst_id, false, nm_worker_now(w));
		}
	} else {
		nm_sigdb_stream_close(set->db, s->st, NULL, NULL, NULL);
	}
	/* A message still open when its stream ends: logged as far as it went. */
	if (s->http_rec != NULL)
		http_rec_send(w, s);
	s->st = NULL;
	s->set = NULL;
	f->insp = NULL;
	w->insp_free[w->n_insp_free++] = (uint32_t)(s - w->insp_pool);
	w->sc.streams_open--;
	/* Release: our last use of the set happens-before the control thread frees it. */
	__atomic_sub_fetch(&set->refs, 1, __ATOMIC_RELEASE);
}

static struct rte_mbuf *
icmp_prohibited(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t src_slot,
		const struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint64_t now)
{
	if (!nm_icmp_error_allowed(m, meta->l2_len) || !nm_icmp_budget_take(w, now))
		return NULL;
	/* RFC 1812 5.2.7.1: code 13, communication administratively prohibited. */
	return nm_icmp_error(w->dp->pool, m, meta->l2_len, NM_ICMP_DEST_UNREACH, 13, 0,
			     &tbl->pods[src_slot].port_mac);
}

/* File a packet this stage made for the caller to send. */
static inline void
made_add(struct nm_made *made, struct rte_mbuf *m, uint16_t slot, uint16_t src_slot, bool track)
{
	made->pkt[made->n].m = m;
	made->pkt[made->n].slot = slot;
	made->pkt[made->n].src_slot = src_slot;
	made->pkt[made->n].track = track;
	made->n++;
}

/*
 * reject: the receiver gets a RST in place of the segment (its next
 * expected byte is this segment's first), the sender a RST at the byte it
 * expects from the receiver (this segment's acknowledgement number). For
 * anything but TCP the sender gets ICMP "administratively prohibited".
 */
static void
reject(struct nm_worker *w, const struct nm_pod_table *tbl, const struct rte_mbuf *m,
       const struct nm_pkt_meta *meta, uint32_t plen, uint16_t src_slot, uint16_t slot,
       uint64_t now, struct nm_made *made)
{
	struct rte_mbuf *r;

	if (meta->ip_proto != IPPROTO_TCP) {
		r = icmp_prohibited(w, tbl, src_slot, m, meta, now);
		if (r != NULL && tbl->pods[src_slot].remote) {
			/*
			 * A sender on another node accepts tunnel packets only from pods
			 * of this node: the error comes from the pod it wrote to.
			 */
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
			    r, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
			ip->src_addr = meta->dst.v4;
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		if (r != NULL) {
			w->sc.unreach_sent++;
			made_add(made, r, src_slot, src_slot, false);
		}
		return;
	}
	r = nm_tcp_reset(w->dp->pool, meta->src.v4, meta->dst.v4, meta->sport, meta->dport,
			 meta->tcp_seq, meta->tcp_seq + plen);
	if (r != NULL) {
		w->sc.resets_sent++;
		made_add(made, r, slot, slot, false);
	}
	r = nm_tcp_reset(w->dp->pool, meta->dst.v4, meta->src.v4, meta->dport, meta->sport,
			 meta->tcp_ack, meta->tcp_seq + plen);
	if (r != NULL) {
		w->sc.resets_sent++;
		/* Through the sender's conntrack, so its side of the flow closes too. */
		made_add(made, r, src_slot, slot, true);
	}
}

/* Act on a scan's hits. Returns NM_DROP_NONE or NM_DROP_SIG_DROP. */
static enum nm_drop_reason
verdict(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
	const struct hit_ctx *h, const struct rte_mbuf *m, const struct nm_pkt_meta *meta,
	uint32_t plen, uint16_t src_slot, uint16_t slot, uint64_t now, struct nm_made *made)
{
	if (likely(h->best == 0))
		return NM_DROP_NONE;
	w->sc.hits += h->n;
	if (h->best == action_rank[NM_SIG_PASS]) {
		f->sig = NM_FLOW_SIG_PASS;
		w->sc.flows_passed++;
		nm_inspect_release(w, f, false);
		return NM_DROP_NONE;
	}
	bool blocked = h->best >= action_rank[NM_SIG_REJECT];
	alerts_emit(w, f, h, tbl->pods[src_slot].id, tbl->pods[slot].id, blocked, now);
	if (!blocked)
		return NM_DROP_NONE;
	f->sig = NM_FLOW_SIG_BLOCKED;
	w->sc.flows_blocked++;
	/* Nothing will pass any more: this side's entry ends after the closed timeout. */
	if (meta->ip_proto == IPPROTO_TCP)
		f->state = NM_FLOW_TCP_CLOSED;
	if (h->best == action_rank[NM_SIG_REJECT])
		reject(w, tbl, m, meta, plen, src_slot, slot, now, made);
	nm_inspect_release(w, f, false);
	return NM_DROP_SIG_DROP;
}

/*
 * The same in-order bytes through the stream's HTTP parser: each message
 * head's buffers are scanned with the http rules into the same hits. A
 * request stream the parser refuses is reset as a reject rule would; a
 * response stream it cannot follow (it does not see the requests, which
 * arrive at the other side's entry, so a HEAD's answer misframes) stays a
 * raw stream, counted.
 */
static int
http_feed(struct nm_worker *w, const struct nm_sigdb *db, hs_scratch_t *scratch,
	  struct nm_http_parser *p, const struct nm_pieces *pc, struct hit_ctx *h)
{
	const struct nm_inspect_http_log log = {log_head, log_body, log_end, h};
	struct nm_inspect_http ih = {
	    .db = db, .scratch = scratch, .fn = on_hit, .ctx = h, .inflater = w->http_inflater};
	enum nm_http_verdict v = NM_HTTP_MORE;

	if (h->f != NULL)
		ih.log = &log;
	for (unsigned int i = 0; i < pc->n && v == NM_HTTP_MORE && ih.rc == 0; i++)
		v = nm_inspect_http_feed(p, pc->data[i], pc->len[i], &ih);
	http_count(w, &ih);
	switch (v) {
	case NM_HTTP_NOT_HTTP:
		w->sc.http_not_http++;
		break;
	case NM_HTTP_TUNNEL:
		w->sc.http_tunnels++;
		break;
	case NM_HTTP_REFUSED:
		if (p->dir == NM_HTTP_RESPONSE) {
			w->sc.http_resp_lost++;
			break;
		}
		w->sc.http_refused++;
		h->http_refused = true;
		if (h->best < action_rank[NM_SIG_REJECT])
			h->best = action_rank[NM_SIG_REJECT];
		break;
	default:
		break;
	}
	return ih.rc;
}

/* Scan a payload's pieces: one vectored block scan, or each piece into the stream in order. */
static inline int
scan_timed(struct nm_worker *w, const struct nm_sig_set *cur, const struct nm_sigdb *db,
	   struct nm_sigdb_stream *st, const struct nm_pieces *pc, struct hit_ctx *h)
{
	hs_scratch_t *scratch = cur->scratch[w->idx];
	bool timed = (w->sc.packets & (NM_SCAN_TIME_EVERY - 1)) == 0;
	uint64_t t0 = timed ? rte_rdtsc() : 0;
	int rc = 0;

	if (st == NULL)
		rc = nm_sigdb_scan_vector(db, scratch, pc->data, pc->len, pc->n, on_hit, h);
	for (unsigned int i = 0; st != NULL && i < pc->n && rc == 0; i++)
		rc = nm_sigdb_stream_scan(db, st, scratch, pc->data[i], pc->len[i], on_hit, h);
	if (st != NULL && st->http != NULL && st->http->verdict == NM_HTTP_MORE && rc == 0)
		rc = http_feed(w, db, scratch, st->http, pc, h);
	if (timed)
		w->sc.cycles += (rte_rdtsc() - t0) * NM_SCAN_TIME_EVERY;
	w->sc.packets++;
	for (unsigned int i = 0; i < pc->n; i++)
		w->sc.bytes += pc->len[i];
	return rc;
}

/* Clear URG and the urgent pointer so the pod reads every byte inline, as scanned. */
static void
clear_urgent(struct rte_tcp_hdr *tcp)
{
	uint16_t *word = (uint16_t *)&tcp->data_off; /* data offset and flags */
	uint16_t old = rte_be_to_cpu_16(*word);
	uint16_t new = (uint16_t)(old & ~RTE_TCP_URG_FLAG);

	*word = rte_cpu_to_be_16(new);
	tcp->cksum = nm_cksum_adjust(tcp->cksum, old, new);
	tcp->cksum = nm_cksum_adjust(tcp->cksum, rte_be_to_cpu_16(tcp->tcp_urp), 0);
	tcp->tcp_urp = 0;
}

/*
 * A segment after a gap: forward it (the pod queues it, its duplicate ACKs
 * make the sender retransmit the gap at once) and keep a reference, to
 * scan it when the gap fills. The pod cannot hand these bytes to its
 * application before the gap's segment arrives, and that segment passes
 * only if the scan of it and of what is held after it finds nothing.
 * Held segments may not overlap one another; beyond the per-stream and
 * per-worker bounds, or too far ahead, it is dropped as before.
 */
static enum nm_drop_reason
hold(struct nm_worker *w, struct nm_insp *s, struct rte_mbuf *m, const struct nm_pkt_meta *meta,
     uint8_t *l4, uint32_t seq, uint32_t plen, uint32_t ahead)
{
	uint32_t cap = w->dp->params.mbufs / 4 / w->dp->n_workers;

	if (s->n_held == NM_INSP_HOLD || ahead > NM_INSP_HOLD_WINDOW || w->sc.held_now >= cap)
		return NM_DROP_TCP_OUT_OF_ORDER;
	for (uint8_t i = 0; i < s->n_held; i++)
		if ((int32_t)(seq - (s->held[i].seq + s->held[i].len)) < 0 &&
		    (int32_t)(s->held[i].seq - (seq + plen)) < 0)
			return NM_DROP_TCP_OUT_OF_ORDER; /* overlaps one held: which copy would
							    count? */
	if (unlikely(meta->tcp_flags & RTE_TCP_URG_FLAG)) {
		clear_urgent((struct rte_tcp_hdr *)l4);
		w->sc.urgent_cleared++;
	}
	rte_mbuf_refcnt_update(m, 1); /* the port's TX frees one reference, we keep the other */
	s->held[s->n_held].m = m;
	s->held[s->n_held].seq = seq;
	s->held[s->n_held].off = (uint16_t)(meta->l2_len + meta->l3_len + meta->l4_len);
	s->held[s->n_held].len = (uint16_t)plen;
	s->n_held++;
	w->sc.held++;
	w->sc.held_now++;
	return NM_DROP_NONE;
}

/*
 * The gap filled: scan the held segments that now continue the stream, in
 * order. A held segment starting before the next byte is scanned from it
 * (Linux keeps the in-order copy of overlapping bytes and takes the rest
 * from its out-of-order queue); one wholly before it is spent.
 */
static enum nm_drop_reason
held_drain(struct nm_worker *w, struct nm_insp *s, struct hit_ctx *h)
{
	bool progress = true;
	struct nm_pieces pc;

	while (progress && s->n_held > 0) {
		progress = false;
		for (uint8_t i = 0; i < s->n_held; i++) {
			uint32_t seq = s->held[i].seq, len = s->held[i].len;
			if ((int32_t)(seq - s->next) > 0)
				continue;
			struct rte_mbuf *m = s->held[i].m;
			uint32_t end = seq + len;
			if ((int32_t)(end - s->next) > 0) {
				uint32_t skip = s->next - seq;
				if (unlikely(nm_pieces_of(&pc, m, s->held[i].off, len) < 0))
					return NM_DROP_SIG_SCAN_BUFFER;
				uint32_t crc = nm_pieces_crc(&pc);
				if (skip > 0)
					nm_pieces_of(&pc, m, s->held[i].off + skip, len - skip);
				if (scan_timed(w, w->sigs, s->set->db, s->st, &pc, h) < 0)
					return NM_DROP_SIG_SCAN_ERROR;
				nm_seg_remember(s->seg, NM_INSP_SEGS, &s->seg_pos, seq,
						(uint16_t)len, crc);
				s->next = end;
			}
			rte_pktmbuf_free(m);
			s->held[i] = s->held[--s->n_held];
			w->sc.held_now--;
			progress = true;
			break;
		}
	}
	return NM_DROP_NONE;
}

static bool
stream_open(struct nm_worker *w, struct nm_flow *f, uint32_t isn)
{
	struct nm_sig_set *set = w->sigs;

	if (w->n_insp_free == 0 || w->sc.streams_open >= w->dp->params.sig_max_streams)
		return false; /* signatures.max_streams open on this worker */
	struct nm_insp *s = &w->insp_pool[w->insp_free[w->n_insp_free - 1]];
	memset(s, 0, sizeof(*s));
	s->st = nm_sigdb_stream_open(set->db, w->stream_pool);
	if (s->st == NULL)
		return false;
	/* This side receives the initiator's bytes (requests) unless it is the initiator. */
	if (s->st->http != NULL && f->local_is_init) {
		struct nm_http_limits lim = {s->st->http->head_cap, NM_HTTP_HEADER_COUNT_DEFAULT};
		nm_http_parser_init(s->st->http, NM_HTTP_RESPONSE, &lim, s->st->http->head,
				    s->st->http->buf_size);
	}
	w->n_insp_free--;
	__atomic_add_fetch(&set->refs, 1, __ATOMIC_RELAXED);
	s->set = set;
	s->next = isn + 1;
	f->insp = s;
	w->sc.streams_opened++;
	w->sc.streams_open++;
	return true;
}

static enum nm_drop_reason
inspect_tcp(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
	    unsigned int dir, struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t src_slot,
	    uint16_t slot, uint64_t now, struct nm_made *made)
{
	struct nm_insp *s = f->insp;
	uint8_t flags = meta->tcp_flags;
	uint32_t plen = meta->ip_len - meta->l3_len - meta->l4_len;
	uint32_t seq = meta->tcp_seq;

	/*
	 * A SYN with another initial sequence number: the ports were reused
	 * for a new connection. Its bytes get a new stream; bytes of the old
	 * connection then fall outside it and are dropped, so this cannot hide
	 * anything from the scan.
	 */
	if (unlikely(s != NULL && (flags & RTE_TCP_SYN_FLAG) && seq + 1 != s->next)) {
		nm_inspect_release(w, f, true);
		s = NULL;
	}
	if (s == NULL) {
		if (flags & RTE_TCP_SYN_FLAG) {
			if (plen > 0)
				return NM_DROP_TCP_DATA_BEFORE_HANDSHAKE;
			if (w->sigs->db->stream == NULL && !w->sigs->db->has_http) {
				/* No TCP or http rules in this set: this flow is not inspected. */
				f->sig = NM_FLOW_SIG_PASS;
				return NM_DROP_NONE;
			}
			return stream_open(w, f, seq) ? NM_DROP_NONE : NM_DROP_SIG_NO_STREAM;
		}
		if (plen == 0)
			return NM_DROP_NONE;
		if (!f->sig_born) {
			w->sc.uninspected++;
			return NM_DROP_NONE;
		}
		if (w->dp->params.sig_midstream != NM_MIDSTREAM_PICKUP ||
		    (w->sigs->db->stream == NULL && !w->sigs->db->has_http))
			return NM_DROP_TCP_MIDSTREAM;
		/*
		 * Picked up: the stream starts at this segment's first byte. What
		 * came before it is not scanned (a pattern that began earlier is
		 * missed), which is the choice the operator made.
		 */
		if (!stream_open(w, f, seq - 1))
			return NM_DROP_SIG_NO_STREAM;
		w->sc.midstream++;
		s = f->insp;
	}
	if (flags & RTE_TCP_RST_FLAG)
		return plen > 0 ? NM_DROP_TCP_RST_WITH_DATA : NM_DROP_NONE;
	if (plen == 0)
		return NM_DROP_NONE;
	if ((flags & RTE_TCP_SYN_FLAG) || f->state == NM_FLOW_TCP_SYN)
		return NM_DROP_TCP_DATA_BEFORE_HANDSHAKE;

	/* The headers are in the first segment (the parser saw to it); the payload may not be. */
	uint8_t *l4 = rte_pktmbuf_mtod_offset(m, uint8_t *, meta->l2_len + meta->l3_len);
	uint32_t off = meta->l2_len + meta->l3_len + meta->l4_len;
	struct nm_pieces pc;
	if (unlikely(nm_pieces_of(&pc, m, off, plen) < 0))
		return NM_DROP_SIG_SCAN_BUFFER;
	int32_t ahead = (int32_t)(seq - s->next);
	if (ahead > 0)
		return hold(w, s, m, meta, l4, seq, plen, (uint32_t)ahead);

	uint32_t crc = nm_pieces_crc(&pc);
	uint32_t end = seq + plen;
	uint32_t skip = 0;

	if (ahead < 0) {
		/* Some or all of these bytes were scanned already. */
		if (s->acked_known && (int32_t)(end - s->acked) <= 0) {
			w->sc.retransmits++; /* the pod has them all: it discards them */
			return NM_DROP_NONE;
		}
		int same = nm_seg_check(s->seg, NM_INSP_SEGS, seq, (uint16_t)plen, crc);
		if (same > 0) {
			w->sc.retransmits++;
			return NM_DROP_NONE;
		}
		if (same < 0)
			return NM_DROP_TCP_OVERLAP_DIFFERENT;
		/* New bytes after old ones the pod has acknowledged: scan the new part. */
		if ((int32_t)(end - s->next) > 0 && s->acked_known &&
		    (int32_t)(s->next - s->acked) <= 0)
			skip = s->next - seq;
		else
			return NM_DROP_TCP_RETRANS_UNVERIFIED;
	}
	if (unlikely(flags & RTE_TCP_URG_FLAG)) {
		clear_urgent((struct rte_tcp_hdr *)l4);
		w->sc.urgent_cleared++;
	}

	if (skip > 0)
		nm_pieces_of(&pc, m, off + skip, plen - skip); /* within what was found above */

	struct hit_ctx h;
	hit_ctx_init(&h, w, s->set, f, dir, meta);
	h.w = w;
	h.f = f;
	h.peer_local = !tbl->pods[src_slot].remote;
	if (unlikely(scan_timed(w, w->sigs, s->set->db, s->st, &pc, &h) < 0))
		return NM_DROP_SIG_SCAN_ERROR;
	s->next = end;
	nm_seg_remember(s->seg, NM_INSP_SEGS, &s->seg_pos, seq, (uint16_t)plen, crc);
	if (s->n_held > 0) {
		enum nm_drop_reason why = held_drain(w, s, &h);
		if (unlikely(why != NM_DROP_NONE))
			return why;
	}
	enum nm_drop_reason why = verdict(w, tbl, f, &h, m, meta, plen, src_slot, slot, now, made);
	return why == NM_DROP_SIG_DROP && h.http_refused ? NM_DROP_HTTP_REFUSED : why;
}

enum nm_drop_reason
nm_inspect(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f, unsigned int dir,
	   struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot,
	   uint64_t now, struct nm_made *made)
{
	if (meta->ip_proto == IPPROTO_TCP)
		return inspect_tcp(w, tbl, f, dir, m, meta, src_slot, slot, now, made);

	/* UDP, ICMP: every datagram; anything else: the first packet of the flow. */
	if (meta->ip_proto != IPPROTO_UDP && meta->ip_proto != IPPROTO_ICMP &&
	    f->pkts[NM_DIR_ORIG] + f->pkts[NM_DIR_REPLY] > 1)
		return NM_DROP_NONE;
	const struct nm_sig_set *set = w->sigs;
	if (set->db->block == NULL)
		return NM_DROP_NONE;
	uint32_t hdr = meta->l3_len + meta->l4_len;
	uint32_t plen = meta->ip_len > hdr ? meta->ip_len - hdr : 0;
	if (plen == 0)
		return NM_DROP_NONE;
	/* A reassembled datagram is a chain: scanned piece by piece in one vectored scan. */
	struct nm_pieces pc;
	if (unlikely(nm_pieces_of(&pc, m, meta->l2_len + hdr, plen) < 0))
		return NM_DROP_SIG_SCAN_BUFFER;

	struct hit_ctx h;
	hit_ctx_init(&h, w, set, f, dir, meta);
	if (unlikely(scan_timed(w, set, set->db, NULL, &pc, &h) < 0))
		return NM_DROP_SIG_SCAN_ERROR;
	return verdict(w, tbl, f, &h, m, meta, plen, src_slot, slot, now, made);
}
