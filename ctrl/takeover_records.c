/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's records field by field (format: takeover_records.h and
 * takeover_wire.h). Version 1.0 of each record is the order below; a
 * later release appends fields at a record's end, never in its middle,
 * and this reader skips what it does not know.
 *
 * Meters travel as the TSC reading of their last update and their two
 * buckets' tokens (RFC 2697), not as DPDK's struct: one host, one TSC.
 */
#include <errno.h>
#include <string.h>

#include "takeover_records.h"

/* ---- flows ---------------------------------------------------------------- */

void
nm_takeover_key_put(struct nm_twire_writer *w, const struct nm_flow_key *k, uint32_t pod_id)
{
	nm_twire_put_bytes(w, k->addr_lo, sizeof(k->addr_lo));
	nm_twire_put_bytes(w, k->addr_hi, sizeof(k->addr_hi));
	nm_twire_put_u16(w, k->port_lo);
	nm_twire_put_u16(w, k->port_hi);
	nm_twire_put_u8(w, k->proto);
	nm_twire_put_u32(w, pod_id);
}

void
nm_takeover_key_get(struct nm_twire_reader *r, struct nm_flow_key *k, uint32_t *pod_id)
{
	memset(k, 0, sizeof(*k)); /* the pad bytes too: the key is hashed as bytes */
	nm_twire_get_bytes(r, k->addr_lo, sizeof(k->addr_lo));
	nm_twire_get_bytes(r, k->addr_hi, sizeof(k->addr_hi));
	k->port_lo = nm_twire_get_u16(r);
	k->port_hi = nm_twire_get_u16(r);
	k->proto = nm_twire_get_u8(r);
	*pod_id = nm_twire_get_u32(r);
}

static void
meter_put(struct nm_twire_writer *w, const struct rte_meter_srtcm *m)
{
	nm_twire_put_u64(w, m->time); /* TSC cycles */
	nm_twire_put_u64(w, m->tc);   /* committed bucket's tokens */
	nm_twire_put_u64(w, m->te);   /* excess bucket's tokens */
}

static void
meter_get(struct nm_twire_reader *r, struct rte_meter_srtcm *m)
{
	m->time = nm_twire_get_u64(r);
	m->tc = nm_twire_get_u64(r);
	m->te = nm_twire_get_u64(r);
}

void
nm_takeover_flow_encode(struct nm_twire_writer *w, const struct nm_flow *f)
{
	nm_twire_record_begin(w);
	nm_takeover_key_put(w, &f->hk.k, f->hk.pod_id);
	nm_twire_put_u32(w, f->init_pod_id);
	nm_twire_put_u32(w, f->resp_pod_id);
	nm_twire_put_u32(w, f->rule_id);
	nm_twire_put_u64(w, f->first_tsc);
	nm_twire_put_u64(w, f->last_tsc);
	for (int d = 0; d < 2; d++) {
		nm_twire_put_u64(w, f->pkts[d]);
		nm_twire_put_u64(w, f->bytes[d]);
	}
	nm_twire_put_u64(w, f->rate_drops);
	for (int d = 0; d < 2; d++) {
		meter_put(w, &f->pps[d]);
		meter_put(w, &f->bps[d]);
	}
	nm_twire_put_u8(w, f->state);
	nm_twire_put_u8(w, f->init_is_lo);
	nm_twire_put_u8(w, f->local_is_init);
	nm_twire_put_u8(w, f->fin_seen);
	nm_twire_put_u8(w, f->inspect);
	nm_twire_put_u8(w, f->sig);
	nm_twire_put_u8(w, f->sig_born);
	nm_twire_record_end(w);
}

int
nm_takeover_flow_decode(struct nm_twire_reader *r, struct nm_flow *f)
{
	memset(f, 0, sizeof(*f));
	nm_takeover_key_get(r, &f->hk.k, &f->hk.pod_id);
	f->init_pod_id = nm_twire_get_u32(r);
	f->resp_pod_id = nm_twire_get_u32(r);
	f->rule_id = nm_twire_get_u32(r);
	f->first_tsc = nm_twire_get_u64(r);
	f->last_tsc = nm_twire_get_u64(r);
	for (int d = 0; d < 2; d++) {
		f->pkts[d] = nm_twire_get_u64(r);
		f->bytes[d] = nm_twire_get_u64(r);
	}
	f->rate_drops = nm_twire_get_u64(r);
	for (int d = 0; d < 2; d++) {
		meter_get(r, &f->pps[d]);
		meter_get(r, &f->bps[d]);
	}
	f->state = nm_twire_get_u8(r);
	f->init_is_lo = nm_twire_get_u8(r);
	f->local_is_init = nm_twire_get_u8(r);
	f->fin_seen = nm_twire_get_u8(r);
	f->inspect = nm_twire_get_u8(r);
	f->sig = nm_twire_get_u8(r);
	f->sig_born = nm_twire_get_u8(r);
	return nm_twire_reader_ok(r) ? 0 : -EPROTO;
}

/* ---- streams -------------------------------------------------------------- */

static void
http_put(struct nm_twire_writer *w, const struct nm_http_parser *p, const uint8_t *head)
{
	const struct nm_http_message *m = &p->m;

	nm_twire_put_u64(w, m->body_left);
	nm_twire_put_u64(w, m->content_length);
	nm_twire_put_u32(w, m->line_off);
	nm_twire_put_u32(w, m->chunk_line);
	nm_twire_put_u32(w, m->trailer_bytes);
	nm_twire_put_u16(w, m->n_headers);
	nm_twire_put_u16(w, m->status);
	nm_twire_put_u8(w, m->empty_lines);
	nm_twire_put_u8(w, m->version_minor);
	nm_twire_put_u8(w, m->chunked);
	nm_twire_put_u8(w, m->has_length);
	nm_twire_put_u8(w, m->has_te);
	nm_twire_put_u8(w, m->chunk_digits);
	nm_twire_put_u8(w, m->chunk_ext);
	nm_twire_put_u64(w, p->pending);
	nm_twire_put_u64(w, p->pending_connect);
	nm_twire_put_u64(w, p->messages);
	nm_twire_put_u16(w, p->header_count_max);
	nm_twire_put_u8(w, p->n_pending);
	nm_twire_put_u8(w, p->dir);
	nm_twire_put_u8(w, p->state);
	nm_twire_put_u8(w, p->verdict);
	nm_twire_put_u8(w, p->refusal);
	nm_twire_put_u8(w, p->cr);
	nm_twire_put_u8(w, p->upgrade);
	nm_twire_put_blob(w, head, m->head_len); /* the head read so far */
}

static void
http_get(struct nm_twire_reader *r, struct nm_takeover_stream *s)
{
	struct nm_http_parser *p = &s->http;
	struct nm_http_message *m = &p->m;
	uint32_t head_len;

	m->body_left = nm_twire_get_u64(r);
	m->content_length = nm_twire_get_u64(r);
	m->line_off = nm_twire_get_u32(r);
	m->chunk_line = nm_twire_get_u32(r);
	m->trailer_bytes = nm_twire_get_u32(r);
	m->n_headers = nm_twire_get_u16(r);
	m->status = nm_twire_get_u16(r);
	m->empty_lines = nm_twire_get_u8(r);
	m->version_minor = nm_twire_get_u8(r);
	m->chunked = nm_twire_get_u8(r) != 0;
	m->has_length = nm_twire_get_u8(r) != 0;
	m->has_te = nm_twire_get_u8(r) != 0;
	m->chunk_digits = nm_twire_get_u8(r) != 0;
	m->chunk_ext = nm_twire_get_u8(r) != 0;
	p->pending = nm_twire_get_u64(r);
	p->pending_connect = nm_twire_get_u64(r);
	p->messages = nm_twire_get_u64(r);
	p->header_count_max = nm_twire_get_u16(r);
	p->n_pending = nm_twire_get_u8(r);
	p->dir = nm_twire_get_u8(r);
	p->state = nm_twire_get_u8(r);
	p->verdict = nm_twire_get_u8(r);
	p->refusal = nm_twire_get_u8(r);
	p->cr = nm_twire_get_u8(r) != 0;
	p->upgrade = nm_twire_get_u8(r) != 0;
	s->head = nm_twire_get_blob(r, NM_TAKEOVER_HEAD_MAX, &head_len);
	m->head_len = head_len;
	/* The parser's own offsets and counts must hold for the head it comes with. */
	if (m->line_off > head_len || p->dir > NM_HTTP_RESPONSE ||
	    p->n_pending > NM_HTTP_PENDING_MAX || p->verdict > NM_HTTP_REFUSED ||
	    p->refusal >= NM_HTTP_REFUSAL_MAX)
		r->short_ = true;
}

void
nm_takeover_stream_encode(struct nm_twire_writer *w, const struct nm_takeover_stream *s)
{
	nm_twire_record_begin(w);
	nm_takeover_key_put(w, &s->k, s->pod_id);
	nm_twire_put_bytes(w, s->digest, sizeof(s->digest));
	nm_twire_put_u32(w, s->next);
	nm_twire_put_u32(w, s->acked);
	nm_twire_put_u8(w, s->acked_known);
	nm_twire_put_u8(w, s->seg_pos);
	for (int i = 0; i < NM_INSP_SEGS; i++) {
		nm_twire_put_u32(w, s->seg[i].seq);
		nm_twire_put_u32(w, s->seg[i].crc);
		nm_twire_put_u16(w, s->seg[i].len);
	}
	nm_twire_put_u32(w, s->n_seen);
	for (uint32_t i = 0; i < s->n_seen; i++)
		nm_twire_put_u16(w, s->seen[i]);
	nm_twire_put_blob(w, s->hs, s->hs_len);
	nm_twire_put_u8(w, s->has_http);
	if (s->has_http)
		http_put(w, &s->http, s->head);
	nm_twire_put_u8(w, s->n_held);
	for (uint8_t i = 0; i < s->n_held; i++) {
		nm_twire_put_u32(w, s->held[i].seq);
		nm_twire_put_blob(w, s->held[i].data, s->held[i].len);
	}
	nm_twire_record_end(w);
}

int
nm_takeover_stream_decode(struct nm_twire_reader *r, struct nm_takeover_stream *s)
{
	memset(s, 0, sizeof(*s));
	nm_takeover_key_get(r, &s->k, &s->pod_id);
	nm_twire_get_bytes(r, s->digest, sizeof(s->digest));
	s->next = nm_twire_get_u32(r);
	s->acked = nm_twire_get_u32(r);
	s->acked_known = nm_twire_get_u8(r);
	s->seg_pos = nm_twire_get_u8(r);
	for (int i = 0; i < NM_INSP_SEGS; i++) {
		s->seg[i].seq = nm_twire_get_u32(r);
		s->seg[i].crc = nm_twire_get_u32(r);
		s->seg[i].len = nm_twire_get_u16(r);
	}
	s->n_seen = nm_twire_get_u32(r);
	if (s->n_seen > NM_TAKEOVER_SEEN_MAX)
		return -EPROTO;
	s->seen_be = r->p + r->off;
	for (uint32_t i = 0; i < s->n_seen; i++)
		(void)nm_twire_get_u16(r);
	s->hs = nm_twire_get_blob(r, NM_TAKEOVER_HS_STATE_MAX, &s->hs_len);
	s->has_http = nm_twire_get_u8(r);
	if (s->has_http)
		http_get(r, s);
	s->n_held = nm_twire_get_u8(r);
	if (s->n_held > NM_INSP_HOLD || s->seg_pos >= NM_INSP_SEGS)
		return -EPROTO;
	for (uint8_t i = 0; i < s->n_held; i++) {
		s->held[i].seq = nm_twire_get_u32(r);
		s->held[i].data = nm_twire_get_blob(r, NM_TAKEOVER_HELD_LEN_MAX, &s->held[i].len);
	}
	return nm_twire_reader_ok(r) ? 0 : -EPROTO;
}
