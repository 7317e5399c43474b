/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The takeover's binary bodies (FLOWS, STREAMS and TUNNEL frames, README
 * "The takeover's format"): an explicit encoding
 * a newer nodemeshd can read, so that a release that adds a field can
 * still take over from the one before it (the upgrade case).
 *
 *   body    := major (u16) minor (u16) record*
 *   record  := length (u32) field*          length: bytes of the fields
 *   field   := u8 | u16 | u32 | u64 | bytes  big-endian, written one by one
 *
 * A writer appends fields at a record's end and raises the minor version;
 * a reader takes the fields it knows and skips the rest of each record.
 * A record shorter than the fields the reader needs, a length that runs
 * past the body, or a major version this build does not know is refused
 * (the takeover then fails and the old daemon resumes). Byte strings of
 * variable size carry their own u32 length before them.
 *
 * Pure: no DPDK, no node; unit-tested in tests/unit/test_takeover_wire.c,
 * fuzzed by tests/fuzz/fuzz_takeover_wire.c.
 */
#ifndef NM_TAKEOVER_WIRE_H
#define NM_TAKEOVER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NM_TWIRE_MAJOR	 1 /* a reader refuses any other */
#define NM_TWIRE_MINOR	 0 /* fields appended to records; a reader ignores what it does not know */
#define NM_TWIRE_HDR_LEN 4 /* major, minor */
#define NM_TWIRE_REC_HDR 4 /* a record's length */

/* A growing body. err: an allocation failed, everything after it was lost. */
struct nm_twire_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t rec; /* offset of the open record's length; SIZE_MAX: none */
	bool err;
	bool wipe; /* the body holds secrets: wipe what is freed or moved */
};

/* Start a body (its header written). */
void nm_twire_writer_init(struct nm_twire_writer *w);
/* Free the buffer (wiped first if w->wipe). */
void nm_twire_writer_free(struct nm_twire_writer *w);
/* Back to a body with only its header (buffer kept). */
void nm_twire_writer_reset(struct nm_twire_writer *w);

void nm_twire_record_begin(struct nm_twire_writer *w);
void nm_twire_record_end(struct nm_twire_writer *w);

void nm_twire_put_u8(struct nm_twire_writer *w, uint8_t v);
void nm_twire_put_u16(struct nm_twire_writer *w, uint16_t v);
void nm_twire_put_u32(struct nm_twire_writer *w, uint32_t v);
void nm_twire_put_u64(struct nm_twire_writer *w, uint64_t v);
/* n raw bytes (a fixed-size field: both sides know n). */
void nm_twire_put_bytes(struct nm_twire_writer *w, const void *p, size_t n);
/* u32 n, then n bytes. */
void nm_twire_put_blob(struct nm_twire_writer *w, const void *p, uint32_t n);

/*
 * A body or one record being read. short_: a field ran past its end;
 * the getters then return zeros, and nm_twire_reader_ok() says false.
 */
struct nm_twire_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool short_;
};

/*
 * Start reading a body: checks its header. 0 (*minor set), or -EPROTO
 * with err ("takeover body version 2.0, this nodemeshd reads 1.x", "too
 * short").
 */
int nm_twire_reader_init(struct nm_twire_reader *r, const void *body, size_t len, uint16_t *minor,
			 char *err, size_t errlen);

/*
 * The next record of a body in *rec. 1, 0 at the body's end, or -EPROTO
 * with err when its length runs past the body.
 */
int nm_twire_next_record(struct nm_twire_reader *r, struct nm_twire_reader *rec, char *err,
			 size_t errlen);

uint8_t nm_twire_get_u8(struct nm_twire_reader *r);
uint16_t nm_twire_get_u16(struct nm_twire_reader *r);
uint32_t nm_twire_get_u32(struct nm_twire_reader *r);
uint64_t nm_twire_get_u64(struct nm_twire_reader *r);
/* n raw bytes into out (zeros when short). */
void nm_twire_get_bytes(struct nm_twire_reader *r, void *out, size_t n);
/*
 * A u32-prefixed byte string: where it lies in the body (not copied) and
 * its length; NULL when it runs past the record or is longer than max.
 */
const uint8_t *nm_twire_get_blob(struct nm_twire_reader *r, uint32_t max, uint32_t *n);

/* No field ran short. */
static inline bool
nm_twire_reader_ok(const struct nm_twire_reader *r)
{
	return !r->short_;
}

/* Bytes of the record not read (a newer writer's fields). */
static inline size_t
nm_twire_reader_left(const struct nm_twire_reader *r)
{
	return r->len - r->off;
}

#endif
