/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the takeover's binary bodies (ctrl/takeover_wire.c)
 * and the records in them (ctrl/takeover_records.c): the input is a FLOWS
 * or STREAMS frame's payload as the other daemon might send it. The body
 * is refused or read record by record; each record is decoded as a flow
 * and as a stream. What decodes must encode back: a flow record's known
 * fields byte for byte (its trailing bytes being a newer writer's), a
 * stream's to a record that decodes to the same values. Nothing may read
 * past the input (ASan), and a refusal says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "takeover_records.h"
#include "takeover_wire.h"

#define CHECK(cond) NM_FUZZ_CHECK("fuzz_takeover_wire", cond)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
flow_again(const struct nm_twire_reader *rec)
{
	struct nm_twire_reader r = *rec;
	struct nm_twire_writer w = {0};
	struct nm_flow f;

	if (nm_takeover_flow_decode(&r, &f) < 0)
		return;
	nm_twire_writer_init(&w);
	nm_takeover_flow_encode(&w, &f);
	CHECK(!w.err);
	size_t known = w.len - NM_TWIRE_HDR_LEN - NM_TWIRE_REC_HDR;
	CHECK(known == r.off); /* what the decoder took is what the encoder writes */
	CHECK(memcmp(w.buf + NM_TWIRE_HDR_LEN + NM_TWIRE_REC_HDR, rec->p, known) == 0);
	nm_twire_writer_free(&w);
}

static void
stream_again(const struct nm_twire_reader *rec)
{
	struct nm_twire_reader r = *rec, body, again;
	struct nm_twire_writer w = {0};
	struct nm_takeover_stream s, t;
	uint16_t seen[64];
	uint16_t minor;
	char err[128];

	if (nm_takeover_stream_decode(&r, &s) < 0)
		return;
	CHECK(s.n_held <= NM_INSP_HOLD && s.seg_pos < NM_INSP_SEGS);
	CHECK(!s.has_http || s.http.m.line_off <= s.http.m.head_len);
	if (s.n_seen > 64)
		return; /* the bitmaps' round trip is checked on the small ones */
	for (size_t i = 0; i < s.n_seen; i++)
		seen[i] = (uint16_t)(s.seen_be[2 * i] << 8 | s.seen_be[2 * i + 1]);
	s.seen = seen;
	nm_twire_writer_init(&w);
	nm_takeover_stream_encode(&w, &s);
	CHECK(!w.err);
	CHECK(nm_twire_reader_init(&body, w.buf, w.len, &minor, err, sizeof(err)) == 0);
	CHECK(nm_twire_next_record(&body, &again, err, sizeof(err)) == 1);
	CHECK(nm_takeover_stream_decode(&again, &t) == 0);
	CHECK(memcmp(&t.k, &s.k, sizeof(s.k)) == 0 && t.pod_id == s.pod_id);
	CHECK(memcmp(t.digest, s.digest, sizeof(s.digest)) == 0);
	CHECK(t.next == s.next && t.acked == s.acked && t.n_seen == s.n_seen);
	CHECK(t.hs_len == s.hs_len && memcmp(t.hs, s.hs, s.hs_len) == 0);
	CHECK(t.n_held == s.n_held);
	for (uint8_t i = 0; i < s.n_held; i++)
		CHECK(t.held[i].len == s.held[i].len &&
		      memcmp(t.held[i].data, s.held[i].data, s.held[i].len) == 0);
	nm_twire_writer_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_twire_reader body, rec;
	char err[256] = "";
	uint16_t minor;
	int rc;

	/* A copy of exactly size bytes: ASan sees any read past the input. */
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (nm_twire_reader_init(&body, copy, size, &minor, err, sizeof(err)) < 0) {
		CHECK(err[0] != '\0');
		free(copy);
		return 0;
	}
	while ((rc = nm_twire_next_record(&body, &rec, err, sizeof(err))) > 0) {
		CHECK(rec.p >= copy && rec.p + rec.len <= copy + size);
		flow_again(&rec);
		stream_again(&rec);
	}
	CHECK(rc == 0 || err[0] != '\0');
	free(copy);
	return 0;
}
