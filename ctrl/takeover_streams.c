/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's inspection streams (ctrl/takeover.c holds the conversation;
 * the worker side is dataplane/insp_handover.c). With the workers stopped,
 * the old daemon sends, for every flow entry with an open stream, what
 * the stream is: Hyperscan's state (hs_compress_stream), the digest of the
 * database it was made with, nodemesh's own position (next byte to scan,
 * the receiving pod's highest acknowledgement), the last segments scanned
 * with their CRC32C (to verify retransmissions), the multi-pattern rules'
 * bitmaps, the HTTP parser with the head it is reading, and the
 * out-of-order segments held until their gap fills (their payload: the
 * pod already has them). The new daemon puts each into the flow entry
 * restored a moment before (ctrl/takeover_flows.c), so inspection goes on
 * at the very byte where it stopped and a pattern split across the
 * takeover is still seen whole.
 *
 * A compressed stream is only valid against the database it was made
 * with (Hyperscan's behaviour is undefined otherwise), so a stream is
 * expanded only when its digest is the one of the set in force here
 * (nm_sigdb.stream_digest: the serialized stream database and what the
 * bitmaps mean). Otherwise, and when the new daemon's stream pool is full
 * or a held segment finds no mbuf, the flow is left without a stream:
 * its next payload is midstream (signatures.midstream), as after a crash
 * restart, and the takeover's log and `sig stats` (takeover) count it.
 *
 * Frame STREAMS: a body of takeover_wire.h, one record per stream, fields
 * in stream_put()'s order (version 1.0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_mbuf.h>

#include "node_priv.h"
#include "takeover.h"
#include "takeover_msg.h"
#include "takeover_records.h"
#include "takeover_wire.h"
#include "nodemesh/flow.h"
#include "nodemesh/insp_handover.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/sig_set-t.h"
#include "nodemesh/worker-t.h"

#define FRAME_BYTES (4u << 20) /* a STREAMS frame is sent once it passes this */

/* ---- the old daemon ---------------------------------------------------------- */

/* Buffers one send reuses: the compressed state and the held segments' payloads. */
struct scratch {
	uint8_t *hs;
	size_t hs_cap;
	uint8_t held[NM_INSP_HOLD][NM_TAKEOVER_HELD_LEN_MAX];
};

/* Hyperscan's state of s, compressed into sc->hs. Its size, or -errno. */
static long
compress(const struct nm_insp *s, struct scratch *sc)
{
	size_t used = 0;
	int rc = nm_insp_handover_compress(s, sc->hs, sc->hs_cap, &used);

	if (rc == -ENOSPC) {
		uint8_t *hs = malloc(used);
		if (hs == NULL)
			return -ENOMEM;
		free(sc->hs);
		sc->hs = hs;
		sc->hs_cap = used;
		rc = nm_insp_handover_compress(s, sc->hs, sc->hs_cap, &used);
	}
	return rc < 0 ? rc : (long)used;
}

/* f's open stream as a record. 0 or -errno. */
static int
stream_put(struct nm_twire_writer *w, const struct nm_flow *f, struct scratch *sc)
{
	const struct nm_insp *s = f->insp;
	const struct nm_sigdb *db = s->set->db;
	struct nm_takeover_stream out;
	long hs_len = compress(s, sc);

	if (hs_len < 0)
		return (int)hs_len;
	memset(&out, 0, sizeof(out));
	out.k = f->hk.k;
	out.pod_id = f->hk.pod_id;
	memcpy(out.digest, db->stream_digest, sizeof(out.digest));
	out.next = s->next;
	out.acked = s->acked;
	out.acked_known = s->acked_known;
	out.seg_pos = s->seg_pos;
	for (int i = 0; i < NM_INSP_SEGS; i++) {
		out.seg[i].seq = s->seg[i].seq;
		out.seg[i].crc = s->seg[i].crc;
		out.seg[i].len = s->seg[i].len;
	}
	out.n_seen = db->n_stream_multi;
	out.seen = s->st->seen;
	out.hs = sc->hs;
	out.hs_len = (uint32_t)hs_len;
	if (s->st->http != NULL) {
		out.has_http = 1;
		out.http = *s->st->http;
		out.head = s->st->http->head;
	}
	out.n_held = s->n_held;
	for (uint8_t i = 0; i < s->n_held; i++) {
		out.held[i].seq = s->held[i].seq;
		out.held[i].len = s->held[i].len;
		out.held[i].data =
		    rte_pktmbuf_read(s->held[i].m, s->held[i].off, s->held[i].len, sc->held[i]);
		if (out.held[i].data == NULL)
			return -EFAULT; /* hold() checked these bytes were in the chain */
	}
	nm_takeover_stream_encode(w, &out);
	return 0;
}

int
nm_takeover_streams_send(struct nm_node *node, int conn, unsigned int *n_streams, size_t *bytes)
{
	struct nm_twire_writer w = {0};
	struct scratch *sc = calloc(1, sizeof(*sc));
	unsigned int n = 0;
	int rc = sc != NULL ? 0 : -ENOMEM;

	*n_streams = 0;
	*bytes = 0;
	nm_twire_writer_init(&w);
	for (unsigned int i = 0; i < node->dp.n_workers && rc == 0; i++) {
		const struct nm_flow_table *t = &node->dp.workers[i]->flows;
		for (uint32_t e = 0; e < t->cap && rc == 0; e++) {
			if (!t->e[e].in_use || t->e[e].insp == NULL)
				continue;
			rc = stream_put(&w, &t->e[e], sc);
			n++;
			if (rc == 0 && w.len >= FRAME_BYTES) {
				rc = nm_takeover_send_body(conn, NM_TAKEOVER_STREAMS, &w, bytes);
				*n_streams += n;
				n = 0;
			}
		}
	}
	/* Always one frame, if empty: the new daemon then knows streams were considered. */
	if (rc == 0) {
		rc = nm_takeover_send_body(conn, NM_TAKEOVER_STREAMS, &w, bytes);
		*n_streams += n;
	}
	nm_twire_writer_free(&w);
	if (sc != NULL)
		free(sc->hs);
	free(sc);
	return rc;
}

/* ---- the new daemon ---------------------------------------------------------- */

struct nm_takeover_streams {
	unsigned int n, cap;
	struct nm_takeover_stream *v;
	unsigned int n_frames;
	char **frames; /* the payloads the records point into */
};

int
nm_takeover_streams_add(struct nm_takeover_streams **streams, char *payload, uint32_t len,
			char *err, size_t errlen)
{
	struct nm_takeover_streams *ss = *streams;
	struct nm_twire_reader body, rec;
	uint16_t minor;
	int rc;

	if (ss == NULL && (ss = *streams = calloc(1, sizeof(*ss))) == NULL) {
		free(payload);
		goto nomem;
	}
	char **frames = realloc(ss->frames, (ss->n_frames + 1) * sizeof(*frames));
	if (frames == NULL) {
		free(payload);
		goto nomem;
	}
	ss->frames = frames;
	ss->frames[ss->n_frames++] = payload; /* ours now, whatever follows */
	if (nm_twire_reader_init(&body, payload, len, &minor, err, errlen) < 0)
		return -EPROTO;
	while ((rc = nm_twire_next_record(&body, &rec, err, errlen)) > 0) {
		if (ss->n == ss->cap) {
			unsigned int cap = ss->cap ? ss->cap * 2 : 64;
			struct nm_takeover_stream *v = realloc(ss->v, (size_t)cap * sizeof(*v));
			if (v == NULL)
				goto nomem;
			ss->v = v;
			ss->cap = cap;
		}
		if (nm_takeover_stream_decode(&rec, &ss->v[ss->n]) < 0) {
			snprintf(err, errlen,
				 "STREAMS frame: a stream record of %zu bytes that does not add up "
				 "(too short for version %d.%d, or a count past its bound)",
				 rec.len, NM_TWIRE_MAJOR, NM_TWIRE_MINOR);
			return -EPROTO;
		}
		ss->n++;
	}
	return rc;
nomem:
	snprintf(err, errlen, "out of memory for the streams handed over");
	return -ENOMEM;
}

/* The parser as it was, with the head read so far, in the new stream's head buffer. */
static void
http_restore(struct nm_http_parser *p, const struct nm_takeover_stream *in,
	     struct nm_takeover_stream_stats *stats)
{
	uint8_t *head = p->head;
	uint32_t head_cap = p->head_cap, buf_size = p->buf_size;

	/*
	 * The parser's own buffer and its sizes stay this daemon's; a body
	 * the old one was keeping for body rules is not handed over (the
	 * message's body rules do not see it; the next message's do).
	 */
	*p = in->http;
	p->head = head;
	p->head_cap = head_cap;
	p->buf_size = buf_size;
	memset(&p->m.kept_head, 0, sizeof(p->m.kept_head));
	p->m.body_seen = 0;
	p->m.body_kept = 0;
	if (in->http.m.head_len <= head_cap) {
		memcpy(head, in->head, in->http.m.head_len);
		return;
	}
	/*
	 * This daemon's chunks leave less room for a head than the old one's
	 * (signatures.stream_state_max): the direction goes on as a raw
	 * stream, its content still scanned, its HTTP buffers no more.
	 */
	memset(&p->m, 0, sizeof(p->m));
	p->verdict = NM_HTTP_NOT_HTTP;
	stats->http_reset++;
}

/* The stream's own state after its Hyperscan state was expanded. 0, or -ENOBUFS. */
static int
fill(struct nm_worker *w, struct nm_insp *s, const struct nm_takeover_stream *in,
     struct nm_takeover_stream_stats *stats)
{
	s->next = in->next;
	s->acked = in->acked;
	s->acked_known = in->acked_known;
	s->seg_pos = in->seg_pos;
	for (int i = 0; i < NM_INSP_SEGS; i++) {
		s->seg[i].seq = in->seg[i].seq;
		s->seg[i].crc = in->seg[i].crc;
		s->seg[i].len = in->seg[i].len;
	}
	for (size_t i = 0; i < in->n_seen; i++)
		s->st->seen[i] = (uint16_t)(in->seen_be[2 * i] << 8 | in->seen_be[2 * i + 1]);
	if (s->st->http != NULL)
		http_restore(s->st->http, in, stats);
	for (uint8_t i = 0; i < in->n_held; i++)
		if (nm_insp_handover_hold(w, s, in->held[i].seq, in->held[i].data,
					  (uint16_t)in->held[i].len) < 0)
			return -ENOBUFS;
	stats->held += in->n_held;
	return 0;
}

/* One stream into its flow entry; the outcome counted in stats. */
static void
restore_one(struct nm_node *node, const struct nm_takeover_flows *flows,
	    const struct nm_takeover_stream *in, struct nm_takeover_stream_stats *stats)
{
	const struct nm_pod_table *t = node->dp.pods;
	struct nm_sig_set *set = node->dp.sigs;
	int slot = nm_takeover_flows_pod_slot(node, flows, in->pod_id);
	struct nm_flow *f = NULL;

	if (slot >= 0) {
		struct nm_flow_hkey hk = {.k = in->k, .pod_id = t->pods[slot].id};
		f = nm_flow_lookup(&node->dp.workers[t->pods[slot].worker]->flows, &hk);
	}
	if (f == NULL || f->insp != NULL) {
		stats->no_flow++;
		return;
	}
	if (set == NULL || memcmp(in->digest, set->db->stream_digest, sizeof(in->digest)) != 0 ||
	    in->n_seen != set->db->n_stream_multi || (in->has_http != 0) != set->db->has_http) {
		stats->db_mismatch++;
		return;
	}
	struct nm_worker *w = node->dp.workers[t->pods[slot].worker];
	struct nm_insp *s = nm_insp_handover_adopt(w, set, f, in->hs, in->hs_len);
	if (s == NULL) {
		if (errno == ENOSPC)
			stats->no_room++;
		else
			stats->refused++;
		return;
	}
	if (fill(w, s, in, stats) < 0) {
		/* Without its held segments the stream could never catch up: midstream. */
		nm_insp_handover_drop(w, f);
		stats->no_room++;
		return;
	}
	stats->restored++;
}

void
nm_takeover_streams_restore(struct nm_node *node, const struct nm_takeover_streams *streams,
			    const struct nm_takeover_flows *flows,
			    struct nm_takeover_stream_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (unsigned int i = 0; streams != NULL && i < streams->n; i++)
		restore_one(node, flows, &streams->v[i], stats);
	stats->received = streams != NULL ? streams->n : 0;
}

unsigned int
nm_takeover_streams_count(const struct nm_takeover_streams *streams)
{
	return streams != NULL ? streams->n : 0;
}

void
nm_takeover_streams_free(struct nm_takeover_streams *streams)
{
	if (streams == NULL)
		return;
	for (unsigned int i = 0; i < streams->n_frames; i++)
		free(streams->frames[i]);
	free(streams->frames);
	free(streams->v);
	free(streams);
}
