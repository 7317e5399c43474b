/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's records, field by field (ctrl/takeover_records.c): one
 * flow of a FLOWS frame and one inspection stream of a STREAMS frame, in
 * the bodies of takeover_wire.h. Pure: no DPDK call, no node; unit-tested
 * in tests/unit/test_takeover.c and fuzzed by tests/fuzz/fuzz_takeover_wire.c.
 */
#ifndef NM_TAKEOVER_RECORDS_H
#define NM_TAKEOVER_RECORDS_H

#include <stdint.h>

#include "takeover_wire.h"
#include "nodemesh/flow-t.h"
#include "nodemesh/http-t.h"
#include "nodemesh/sigdb-t.h"

/* A flow's key and this side's pod id in a record (the same in FLOWS and STREAMS). */
void nm_takeover_key_put(struct nm_twire_writer *w, const struct nm_flow_key *k, uint32_t pod_id);
void nm_takeover_key_get(struct nm_twire_reader *r, struct nm_flow_key *k, uint32_t *pod_id);

/* One flow as a FLOWS record (version 1.0) at the end of w's body. */
void nm_takeover_flow_encode(struct nm_twire_writer *w, const struct nm_flow *f);
/*
 * One FLOWS record read into f (only the fields a record carries; pod ids
 * are the old daemon's); trailing fields skipped. 0, or -EPROTO (too short).
 */
int nm_takeover_flow_decode(struct nm_twire_reader *r, struct nm_flow *f);

/*
 * One inspection stream as a STREAMS record carries it. Byte strings
 * point into the stream's memory when encoding, into the record when
 * decoded; seen is host order when encoding, seen_be (big-endian pairs)
 * when decoded.
 */
struct nm_takeover_stream {
	struct nm_flow_key k;
	uint32_t pod_id;		     /* the old daemon's id of this side's pod */
	uint8_t digest[NM_SIGDB_DIGEST_LEN]; /* of the database it was made with */
	uint32_t next;			     /* nm_insp's position and verification state */
	uint32_t acked;
	uint8_t acked_known;
	uint8_t seg_pos;
	struct {
		uint32_t seq;
		uint32_t crc;
		uint16_t len;
	} seg[NM_INSP_SEGS];
	uint32_t n_seen; /* multi-pattern rules' bitmaps */
	const uint16_t *seen;
	const uint8_t *seen_be;
	const uint8_t *hs; /* hs_compress_stream's bytes */
	uint32_t hs_len;
	uint8_t has_http;
	struct nm_http_parser http; /* head and head_cap: not carried */
	const uint8_t *head;	    /* http.m.head_len bytes: the head read so far */
	uint8_t n_held;		    /* out-of-order segments held, with their payload */
	struct {
		uint32_t seq;
		uint32_t len;
		const uint8_t *data;
	} held[NM_INSP_HOLD];
};

#define NM_TAKEOVER_SEEN_MAX	 65536	     /* bitmaps a stream record may carry */
#define NM_TAKEOVER_HS_STATE_MAX (16u << 20) /* compressed Hyperscan state, bytes */
#define NM_TAKEOVER_HEAD_MAX	 (1u << 20)  /* HTTP head bytes */
#define NM_TAKEOVER_HELD_LEN_MAX UINT16_MAX  /* one held segment's payload */

/* One STREAMS record (version 1.0) at the end of w's body. */
void nm_takeover_stream_encode(struct nm_twire_writer *w, const struct nm_takeover_stream *s);
/*
 * One STREAMS record read from r (a record of a body); fields past the
 * ones this build knows are skipped. 0, or -EPROTO (too short, a count or
 * length past its bound, a parser offset outside its head).
 */
int nm_takeover_stream_decode(struct nm_twire_reader *r, struct nm_takeover_stream *s);

#endif
