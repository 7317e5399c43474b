/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authorization by HTTP method, path, host and header (README "Policy,
 * connection tracking and rate limits" states the rules for operators).
 *
 * A connection that a rule with an HTTP clause covers gets a request
 * parser at the responder's side when its SYN arrives there. The client's
 * bytes are taken strictly in order:
 *
 *   - a segment at the next byte is parsed; each request head it completes
 *     is judged by nm_policy_request_eval (policy_eval.h);
 *   - a segment after a gap is dropped (the client retransmits in order);
 *   - old bytes are forwarded only when the server acknowledged them or
 *     they repeat a remembered segment exactly (sequence number, length,
 *     CRC32C), so a retransmission cannot carry another request than the
 *     one judged; a segment mixing old and new bytes is dropped.
 *
 * A refused request never reaches the server whole: the segment that
 * completes its head is dropped, cut before the request when it also
 * carries earlier allowed requests (the server answers those). The client
 * then gets "HTTP/1.1 403" naming the rule, with FIN, at the sequence
 * number it expects from the server, and the server a RST at the byte it
 * expects next. The 403 must follow the server's answers to earlier
 * requests, so it goes out only once the client has acknowledged all the
 * server sent; until then the refusal waits (NM_AUTHZ_PENDING) and the
 * client's next packet (its ACK of the answer, or a retransmission) sends it.
 *
 * Bytes that are not HTTP/1.x, request smuggling shapes, and bytes after
 * an Upgrade or CONNECT request the server did not accept reset the
 * connection both ways: fail closed. After a 101 (or a 2xx to CONNECT) the
 * connection is a tunnel and its bytes pass unjudged.
 */
#include <stdio.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "http.h"
#include "http_authz.h"
#include "pieces.h"
#include "policy_eval.h"
#include "reject.h"

int
nm_authz_pool_init(struct nm_worker *w, int socket)
{
	w->authz_pool = rte_zmalloc_socket("nm_authz", NM_AUTHZ_FLOWS * sizeof(*w->authz_pool),
					   RTE_CACHE_LINE_SIZE, socket);
	w->authz_free =
	    rte_malloc_socket("nm_authz_free", NM_AUTHZ_FLOWS * sizeof(uint32_t), 0, socket);
	if (w->authz_pool == NULL || w->authz_free == NULL) {
		nm_authz_pool_fini(w);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < NM_AUTHZ_FLOWS; i++)
		w->authz_free[i] = NM_AUTHZ_FLOWS - 1 - i;
	w->n_authz_free = NM_AUTHZ_FLOWS;
	return 0;
}

void
nm_authz_pool_fini(struct nm_worker *w)
{
	rte_free(w->authz_pool);
	w->authz_pool = NULL;
	rte_free(w->authz_free);
	w->authz_free = NULL;
	w->n_authz_free = 0;
}

void
nm_authz_release(struct nm_worker *w, struct nm_flow *f)
{
	if (f->authz == NULL)
		return;
	w->authz_free[w->n_authz_free++] = (uint32_t)(f->authz - w->authz_pool);
	f->authz = NULL;
}

/* A parser for the client stream that starts after isn. */
static void
authz_start(struct nm_authz *a, uint32_t isn)
{
	struct nm_http_limits lim = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};

	memset(a, 0, offsetof(struct nm_authz, head));
	nm_http_parser_init(&a->parser, NM_HTTP_REQUEST, &lim, a->head, sizeof(a->head));
	nm_http_parser_init(&a->resp, NM_HTTP_RESPONSE, &lim, a->resp_head, sizeof(a->resp_head));
	a->isn = isn;
	a->next = isn + 1;
	a->client_end = isn + 1;
	a->refuse_idx = NM_POLICY_DEFAULT;
}

static bool
authz_open(struct nm_worker *w, struct nm_flow *f, uint32_t isn)
{
	if (w->n_authz_free == 0)
		return false;
	f->authz = &w->authz_pool[w->authz_free[--w->n_authz_free]];
	authz_start(f->authz, isn);
	w->authz.opened++;
	return true;
}

/* What one feed judges with, and the first refusal it met. */
struct judge_ctx {
	struct nm_worker *w;
	const struct nm_policy *pol;
	const struct nm_flow *f;
	struct nm_authz *a;
	uint32_t src_id, dst_id; /* the flow's identities, initiator and responder */
	uint16_t dport;
	bool refused;
};

static void
on_request(void *arg, const struct nm_http_head *h)
{
	struct judge_ctx *jc = arg;
	struct nm_worker *w = jc->w;

	if (jc->refused)
		return; /* the connection ends at the first refusal */

	int idx = nm_policy_head_eval(jc->pol, jc->src_id, jc->dst_id, jc->dport, h);
	uint8_t verdict =
	    idx == NM_POLICY_DEFAULT ? jc->pol->default_action : jc->pol->rules[idx].action;
	w->authz.requests++;
	if (idx == NM_POLICY_DEFAULT)
		w->default_requests++;
	else
		w->rule_requests[jc->pol->rules[idx].slot]++;
	if (verdict == NM_VERDICT_ALLOW) {
		/* Its answer comes before any 403 (a HEAD's has no body: tell the counter). */
		nm_http_response_expect(&jc->a->resp, h);
		jc->a->awaiting++;
		return;
	}

	w->authz.refused++;
	jc->refused = true;
	/* Now: the parser goes on through the segment and would move msg_start on. */
	jc->a->refuse_seq = jc->a->isn + 1 + (uint32_t)jc->a->parser.msg_start;
	jc->a->refuse_idx = (int16_t)idx;
	if (idx == NM_POLICY_DEFAULT) {
		w->default_refused++;
		jc->a->refuse_rule_id = 0;
	} else {
		jc->a->refuse_slot = jc->pol->rules[idx].slot;
		jc->a->refuse_rule_id = jc->pol->rules[idx].id;
		w->rule_refused[jc->a->refuse_slot]++;
	}
}

/* File a packet this stage made for the caller to send (inspect.h's contract). */
static void
made_add(struct nm_made *made, struct rte_mbuf *m, uint16_t slot, uint16_t src_slot, bool track)
{
	if (m == NULL || made->n == NM_MADE_MAX) {
		rte_pktmbuf_free(m);
		return;
	}
	made->pkt[made->n].m = m;
	made->pkt[made->n].slot = slot;
	made->pkt[made->n].src_slot = src_slot;
	made->pkt[made->n].track = track;
	made->n++;
}

/*
 * Has the server answered every request forwarded, and the client
 * acknowledged everything the server sent? Then a 403 at ack is the next
 * thing the client reads, after the answers it asked for first.
 */
static bool
server_quiet(const struct nm_authz *a, const struct nm_pkt_meta *meta)
{
	return (a->resp_lost || a->answered >= a->awaiting) && a->server_known &&
	       (meta->tcp_flags & RTE_TCP_ACK_FLAG) &&
	       (int32_t)(meta->tcp_ack - a->server_nxt) >= 0;
}

/* The server gets a RST at the next byte it expects from the client. */
static void
reset_server(struct nm_worker *w, const struct nm_authz *a, const struct nm_pkt_meta *meta,
	     uint16_t slot, struct nm_made *made)
{
	struct rte_mbuf *r = nm_tcp_reset(w->dp->pool, meta->src.v4, meta->dst.v4, meta->sport,
					  meta->dport, a->next, a->server_nxt);
	if (r != NULL)
		w->authz.resets_sent++;
	made_add(made, r, slot, slot, false);
}

/*
 * The refused request's answer: a 403 naming the rule, with FIN, to the
 * client through its own side's conntrack (as if the server sent it), and
 * a RST to the server.
 */
static void
forbid(struct nm_worker *w, struct nm_flow *f, struct nm_authz *a, const struct nm_pkt_meta *meta,
       uint16_t src_slot, uint16_t slot, struct nm_made *made)
{
	char body[96], msg[256];
	int blen =
	    a->refuse_rule_id != 0
		? snprintf(body, sizeof(body), "nodemesh: request refused by policy rule %u\n",
			   a->refuse_rule_id)
		: snprintf(body, sizeof(body),
			   "nodemesh: request refused by the default policy action\n");
	int mlen =
	    snprintf(msg, sizeof(msg),
		     "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
		     "Content-Length: %d\r\nConnection: close\r\nX-Nodemesh-Rule: %u\r\n\r\n%s",
		     blen, a->refuse_rule_id, body);
	struct rte_mbuf *r = nm_tcp_segment(w->dp->pool, meta->dst.v4, meta->src.v4, meta->dport,
					    meta->sport, a->server_nxt, a->client_end,
					    RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG,
					    msg, (uint16_t)mlen);

	if (r != NULL)
		w->authz.forbidden_sent++;
	made_add(made, r, src_slot, slot, true);
	reset_server(w, a, meta, slot, made);
	a->phase = NM_AUTHZ_CLOSED;
	f->state = NM_FLOW_TCP_CLOSED; /* nothing more will pass: the entry ends soon */
}

/* Not HTTP, a smuggling shape, or bytes past a tunnel: reset both ends. */
static enum nm_drop_reason
reset_both(struct nm_worker *w, struct nm_flow *f, struct nm_authz *a,
	   const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot, struct nm_made *made,
	   enum nm_drop_reason why)
{
	struct rte_mbuf *r = nm_tcp_reset(w->dp->pool, meta->dst.v4, meta->src.v4, meta->dport,
					  meta->sport, meta->tcp_ack, a->client_end);
	if (r != NULL)
		w->authz.resets_sent++;
	made_add(made, r, src_slot, slot, true);
	reset_server(w, a, meta, slot, made);
	a->phase = NM_AUTHZ_CLOSED;
	f->state = NM_FLOW_TCP_CLOSED;
	if (f->rule_idx == NM_POLICY_DEFAULT)
		w->default_drops++;
	else
		w->rule_drops[f->rule_slot]++;
	return why;
}

/* Cut the segment to its first keep payload bytes (a single-buffer packet). */
static int
cut_payload(struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint32_t keep, uint32_t *ip_len)
{
	uint32_t plen = meta->ip_len - meta->l3_len - meta->l4_len;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, meta->l2_len);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)((uint8_t *)ip + meta->l3_len);

	if (m->nb_segs != 1 || meta->l2_len + meta->ip_len > m->data_len)
		return -1;
	*ip_len = meta->ip_len - (plen - keep);
	m->data_len = (uint16_t)(meta->l2_len + *ip_len);
	m->pkt_len = m->data_len;
	ip->total_length = rte_cpu_to_be_16((uint16_t)*ip_len);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = 0;
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	return 0;
}

/*
 * A request in this segment was refused. The part before it (earlier
 * requests, allowed) goes on, cut off; the refused request's bytes
 * never do. The 403 goes out now if the server has nothing in flight.
 */
static enum nm_drop_reason
refuse(struct nm_worker *w, struct nm_flow *f, struct nm_authz *a, struct rte_mbuf *m,
       const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot, uint32_t *ip_len,
       struct nm_made *made)
{
	uint32_t start = a->refuse_seq;
	int32_t keep = (int32_t)(start - meta->tcp_seq);

	a->phase = NM_AUTHZ_PENDING;
	if (a->refuse_idx == NM_POLICY_DEFAULT)
		w->default_drops++;
	else
		w->rule_drops[a->refuse_slot]++;
	if (keep > 0 && cut_payload(m, meta, (uint32_t)keep, ip_len) == 0) {
		a->next = start;
		w->authz.trimmed++;
		w->authz.delayed++; /* the server answers the part before it first */
		return NM_DROP_NONE;
	}
	if (server_quiet(a, meta))
		forbid(w, f, a, meta, src_slot, slot, made);
	else
		w->authz.delayed++;
	return NM_DROP_HTTP_POLICY_REFUSED;
}

/* Old bytes again: forwarded only if the server has them or they repeat a segment exactly. */
static enum nm_drop_reason
retransmit(struct nm_worker *w, struct nm_authz *a, const struct nm_pieces *pc, uint32_t seq,
	   uint32_t plen)
{
	uint32_t end = seq + plen;

	if ((int32_t)(end - a->next) > 0)
		return NM_DROP_HTTP_POLICY_UNORDERED; /* old and new bytes: resent from the ack */
	if ((a->acked_known && (int32_t)(end - a->acked) <= 0) ||
	    nm_seg_check(a->seg, NM_AUTHZ_SEGS, seq, (uint16_t)plen, nm_pieces_crc(pc)) > 0) {
		w->authz.retransmits++;
		return NM_DROP_NONE;
	}
	return NM_DROP_HTTP_POLICY_UNORDERED;
}

/* Parse the in-order segment and act on what the parser and the policy said. */
static enum nm_drop_reason
judge_segment(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
	      struct nm_authz *a, struct rte_mbuf *m, const struct nm_pkt_meta *meta,
	      const struct nm_pieces *pc, uint16_t src_slot, uint16_t slot, uint32_t *ip_len,
	      struct nm_made *made)
{
	static const struct nm_http_cb cb = {on_request, NULL, NULL};
	uint32_t plen = meta->ip_len - meta->l3_len - meta->l4_len;
	struct judge_ctx jc = {.w = w,
			       .pol = tbl->policy,
			       .f = f,
			       .a = a,
			       .src_id = f->init_id,
			       .dst_id = f->resp_id,
			       .dport = meta->dport};
	enum nm_http_verdict v = (enum nm_http_verdict)a->parser.verdict;
	uint32_t crc = nm_pieces_crc(pc);

	for (unsigned int i = 0; i < pc->n && v == NM_HTTP_MORE && !jc.refused; i++)
		v = nm_http_parse(&a->parser, pc->data[i], pc->len[i], &cb, &jc);
	if (jc.refused)
		return refuse(w, f, a, m, meta, src_slot, slot, ip_len, made);
	switch (v) {
	case NM_HTTP_NOT_HTTP:
		return reset_both(w, f, a, meta, src_slot, slot, made,
				  NM_DROP_HTTP_POLICY_NOT_HTTP);
	case NM_HTTP_REFUSED:
		return reset_both(w, f, a, meta, src_slot, slot, made, NM_DROP_HTTP_REFUSED);
	case NM_HTTP_TUNNEL:
		/* Bytes after the Upgrade/CONNECT request in this segment were not judged. */
		if (a->isn + 1 + (uint32_t)a->parser.pos != meta->tcp_seq + plen)
			return reset_both(w, f, a, meta, src_slot, slot, made,
					  NM_DROP_HTTP_POLICY_NOT_HTTP);
		a->phase = NM_AUTHZ_TUNNEL;
		break;
	default:
		break;
	}
	a->next = meta->tcp_seq + plen;
	nm_seg_remember(a->seg, NM_AUTHZ_SEGS, &a->seg_pos, meta->tcp_seq, (uint16_t)plen, crc);
	return NM_DROP_NONE;
}

/* A client packet in a refused connection: payload dropped; the 403 when the server is quiet. */
static enum nm_drop_reason
refused_packet(struct nm_worker *w, struct nm_flow *f, struct nm_authz *a,
	       const struct nm_pkt_meta *meta, uint32_t plen, uint16_t src_slot, uint16_t slot,
	       struct nm_made *made)
{
	if (a->phase == NM_AUTHZ_PENDING && server_quiet(a, meta)) {
		forbid(w, f, a, meta, src_slot, slot, made);
		return NM_DROP_HTTP_POLICY_REFUSED; /* the server is reset: nothing more for it */
	}
	return plen > 0 ? NM_DROP_HTTP_POLICY_REFUSED : NM_DROP_NONE;
}

/*
 * Client bytes after an allowed Upgrade or CONNECT request. The server's
 * answer decides (the answer counter follows it): a 101, or a 2xx to
 * CONNECT, makes the connection a tunnel whose bytes pass unjudged (the
 * request that opened it was judged); any other answer leaves bytes the
 * request parser has stopped reading, so they reset the connection. Before
 * the answer, they wait: dropped, the client resends them.
 */
static enum nm_drop_reason
tunnel_packet(struct nm_worker *w, struct nm_flow *f, struct nm_authz *a,
	      const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot,
	      struct nm_made *made)
{
	if (a->resp.verdict == NM_HTTP_TUNNEL) {
		w->authz.tunnelled++;
		return NM_DROP_NONE;
	}
	if (!a->resp_lost && a->answered < a->awaiting)
		return NM_DROP_HTTP_POLICY_UNORDERED;
	return reset_both(w, f, a, meta, src_slot, slot, made, NM_DROP_HTTP_POLICY_NOT_HTTP);
}

/* The client side of nm_authz_request, on a flow with a parser. */
static enum nm_drop_reason
client_packet(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
	      struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot,
	      uint32_t *ip_len, struct nm_made *made)
{
	struct nm_authz *a = f->authz;
	uint8_t flags = meta->tcp_flags;
	uint32_t plen = meta->ip_len - meta->l3_len - meta->l4_len;
	uint32_t seq = meta->tcp_seq;

	*ip_len = meta->ip_len;
	if (flags & RTE_TCP_SYN_FLAG) {
		if (plen > 0)
			return NM_DROP_TCP_DATA_BEFORE_HANDSHAKE;
		if (a == NULL)
			return authz_open(w, f, seq) ? NM_DROP_NONE : NM_DROP_HTTP_POLICY_NO_STATE;
		if (seq != a->isn)
			authz_start(a, seq); /* the ports reused for a new connection */
		return NM_DROP_NONE;
	}
	if (unlikely(a == NULL))
		return plen > 0 ? NM_DROP_HTTP_POLICY_NO_STATE : NM_DROP_NONE;
	if ((int32_t)(seq + plen - a->client_end) > 0)
		a->client_end = seq + plen;
	if (a->phase == NM_AUTHZ_PENDING || a->phase == NM_AUTHZ_CLOSED)
		return refused_packet(w, f, a, meta, plen, src_slot, slot, made);
	if (plen == 0 || (flags & RTE_TCP_RST_FLAG))
		return NM_DROP_NONE;
	if (a->phase == NM_AUTHZ_TUNNEL)
		return tunnel_packet(w, f, a, meta, src_slot, slot, made);

	if ((int32_t)(seq - a->next) > 0)
		return NM_DROP_HTTP_POLICY_UNORDERED; /* a gap: the client resends in order */
	struct nm_pieces pc;
	if (unlikely(nm_pieces_of(&pc, m, meta->l2_len + meta->l3_len + meta->l4_len, plen) < 0))
		return NM_DROP_HTTP_POLICY_UNORDERED;
	if ((int32_t)(seq - a->next) < 0)
		return retransmit(w, a, &pc, seq, plen);
	return judge_segment(w, tbl, f, a, m, meta, &pc, src_slot, slot, ip_len, made);
}

enum nm_drop_reason
nm_authz_request(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
		 struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t src_slot,
		 uint16_t slot, uint32_t *ip_len, struct nm_made *made)
{
	enum nm_drop_reason why = client_packet(w, tbl, f, m, meta, src_slot, slot, ip_len, made);

	/*
	 * Closed (FIN both ways, a RST, or refused): no request can follow, so
	 * the parser goes back to the pool now rather than when the entry
	 * expires; a connection rate above NM_AUTHZ_FLOWS per closed timeout
	 * would otherwise run the pool dry. Payload after this is refused as
	 * http_policy_no_state.
	 */
	if (f->state == NM_FLOW_TCP_CLOSED)
		nm_authz_release(w, f);
	return why;
}

static void
on_answer_end(void *arg)
{
	struct nm_authz *a = arg;

	a->answered++;
}

/*
 * The server's payload, in order, through the response parser. Its own
 * stack sends in order; a gap (a segment dropped on the way out) or an
 * answer the parser cannot frame stops the count, and the 403 then waits
 * only for the client's acknowledgement.
 */
static void
answers_feed(struct nm_authz *a, const struct rte_mbuf *m, const struct nm_pkt_meta *meta,
	     uint32_t plen)
{
	static const struct nm_http_cb cb = {NULL, NULL, on_answer_end};
	uint32_t seq = meta->tcp_seq, skip;
	struct nm_pieces pc;

	if (a->resp_lost || plen == 0 || (int32_t)(seq + plen - a->resp_next) <= 0)
		return; /* nothing new */
	if ((int32_t)(seq - a->resp_next) > 0 || a->resp.verdict != NM_HTTP_MORE) {
		a->resp_lost = 1;
		return;
	}
	skip = a->resp_next - seq;
	if (nm_pieces_of(&pc, m, meta->l2_len + meta->l3_len + meta->l4_len + skip, plen - skip) <
	    0) {
		a->resp_lost = 1;
		return;
	}
	for (unsigned int i = 0; i < pc.n && a->resp.verdict == NM_HTTP_MORE; i++)
		nm_http_parse(&a->resp, pc.data[i], pc.len[i], &cb, a);
	if (a->resp.verdict != NM_HTTP_MORE)
		a->resp_lost = 1;
	a->resp_next = seq + plen;
}

void
nm_authz_response(struct nm_worker *w, struct nm_flow *f, const struct rte_mbuf *m,
		  const struct nm_pkt_meta *meta)
{
	struct nm_authz *a = f->authz;
	uint8_t flags = meta->tcp_flags;
	uint32_t plen = meta->ip_len - meta->l3_len - meta->l4_len;
	uint32_t end =
	    meta->tcp_seq + plen + ((flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) ? 1 : 0);

	if (meta->ip_proto != IPPROTO_TCP)
		return;
	if (flags & RTE_TCP_SYN_FLAG)
		a->resp_next = meta->tcp_seq + 1;
	else
		answers_feed(a, m, meta, plen);
	if (!a->server_known || (int32_t)(end - a->server_nxt) > 0) {
		a->server_nxt = end;
		a->server_known = 1;
	}
	if ((flags & RTE_TCP_ACK_FLAG) &&
	    (!a->acked_known || (int32_t)(meta->tcp_ack - a->acked) > 0)) {
		a->acked = meta->tcp_ack;
		a->acked_known = 1;
	}
	if (f->state == NM_FLOW_TCP_CLOSED)
		nm_authz_release(w, f); /* no request can follow (see nm_authz_request) */
}
