/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The takeover's binary bodies (format in takeover_wire.h): length-prefixed
 * records of big-endian fields, written one by one so that no struct's
 * layout, padding or byte order is part of the format.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "takeover_wire.h"

/* ---- writing ------------------------------------------------------------- */

static inline bool
likely_room(const struct nm_twire_writer *w, size_t n)
{
	return !w->err && w->len + n <= w->cap;
}

/* Room for n more bytes; false (and err set) when it cannot be had. */
static bool
grow(struct nm_twire_writer *w, size_t n)
{
	if (w->err)
		return false;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n)
		cap *= 2;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		w->err = true;
		return false;
	}
	/* Not realloc: a body of keys must not be left behind unwiped. */
	if (w->len > 0)
		memcpy(buf, w->buf, w->len);
	if (w->wipe && w->buf != NULL)
		explicit_bzero(w->buf, w->cap);
	free(w->buf);
	w->buf = buf;
	w->cap = cap;
	return true;
}

/* The common case inline: a body of 100 K flows is some 6 M fields, all in the gap. */
static inline bool
reserve(struct nm_twire_writer *w, size_t n)
{
	return likely_room(w, n) || grow(w, n);
}

/* The low n bytes of v, most significant first (n: 1, 2, 4 or 8). */
static inline void
put_be(struct nm_twire_writer *w, uint64_t v, unsigned int n)
{
	uint64_t be = htobe64(v << (8 * (8 - n)));

	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, &be, n);
	w->len += n;
}

void
nm_twire_writer_init(struct nm_twire_writer *w)
{
	bool wipe = w->wipe;

	memset(w, 0, sizeof(*w));
	w->wipe = wipe;
	w->rec = SIZE_MAX;
	put_be(w, NM_TWIRE_MAJOR, 2);
	put_be(w, NM_TWIRE_MINOR, 2);
}

void
nm_twire_writer_reset(struct nm_twire_writer *w)
{
	if (w->wipe && w->buf != NULL)
		explicit_bzero(w->buf + NM_TWIRE_HDR_LEN, w->len - NM_TWIRE_HDR_LEN);
	w->len = w->err ? 0 : NM_TWIRE_HDR_LEN;
	w->rec = SIZE_MAX;
}

void
nm_twire_writer_free(struct nm_twire_writer *w)
{
	if (w->wipe && w->buf != NULL)
		explicit_bzero(w->buf, w->cap);
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void
nm_twire_record_begin(struct nm_twire_writer *w)
{
	w->rec = w->len;
	put_be(w, 0, NM_TWIRE_REC_HDR); /* filled in by nm_twire_record_end */
}

void
nm_twire_record_end(struct nm_twire_writer *w)
{
	if (w->err || w->rec == SIZE_MAX)
		return;
	size_t n = w->len - w->rec - NM_TWIRE_REC_HDR;
	if (n > UINT32_MAX) {
		w->err = true;
		return;
	}
	for (unsigned int i = 0; i < NM_TWIRE_REC_HDR; i++)
		w->buf[w->rec + i] = (uint8_t)(n >> (8 * (NM_TWIRE_REC_HDR - 1 - i)));
	w->rec = SIZE_MAX;
}

void
nm_twire_put_u8(struct nm_twire_writer *w, uint8_t v)
{
	put_be(w, v, 1);
}

void
nm_twire_put_u16(struct nm_twire_writer *w, uint16_t v)
{
	put_be(w, v, 2);
}

void
nm_twire_put_u32(struct nm_twire_writer *w, uint32_t v)
{
	put_be(w, v, 4);
}

void
nm_twire_put_u64(struct nm_twire_writer *w, uint64_t v)
{
	put_be(w, v, 8);
}

void
nm_twire_put_bytes(struct nm_twire_writer *w, const void *p, size_t n)
{
	if (n == 0 || !reserve(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void
nm_twire_put_blob(struct nm_twire_writer *w, const void *p, uint32_t n)
{
	nm_twire_put_u32(w, n);
	nm_twire_put_bytes(w, p, n);
}

/* ---- reading ------------------------------------------------------------- */

/* The next n bytes, or NULL (the reader marked short). */
static inline const uint8_t *
take(struct nm_twire_reader *r, size_t n)
{
	if (r->short_ || r->len - r->off < n) {
		r->short_ = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

/* The next n bytes (1, 2, 4 or 8), most significant first; 0 when short. */
static inline uint64_t
get_be(struct nm_twire_reader *r, unsigned int n)
{
	const uint8_t *p = take(r, n);
	uint64_t be = 0;

	if (p == NULL)
		return 0;
	memcpy(&be, p, n);
	return be64toh(be) >> (8 * (8 - n));
}

int
nm_twire_reader_init(struct nm_twire_reader *r, const void *body, size_t len, uint16_t *minor,
		     char *err, size_t errlen)
{
	*r = (struct nm_twire_reader){.p = body, .len = len};
	uint16_t major = (uint16_t)get_be(r, 2);
	*minor = (uint16_t)get_be(r, 2);

	if (r->short_) {
		snprintf(err, errlen, "takeover body of %zu bytes: too short for its version", len);
		return -EPROTO;
	}
	if (major != NM_TWIRE_MAJOR) {
		snprintf(err, errlen, "takeover body version %u.%u, this nodemeshd reads %d.x",
			 major, *minor, NM_TWIRE_MAJOR);
		return -EPROTO;
	}
	return 0;
}

int
nm_twire_next_record(struct nm_twire_reader *r, struct nm_twire_reader *rec, char *err,
		     size_t errlen)
{
	if (r->off == r->len)
		return 0;
	size_t at = r->off;
	uint32_t n = (uint32_t)get_be(r, NM_TWIRE_REC_HDR);
	const uint8_t *p = r->short_ ? NULL : take(r, n);

	if (p == NULL) {
		snprintf(err, errlen,
			 "takeover record at byte %zu: its length (%u) runs past the body's end "
			 "(%zu bytes)",
			 at, n, r->len);
		return -EPROTO;
	}
	*rec = (struct nm_twire_reader){.p = p, .len = n};
	return 1;
}

uint8_t
nm_twire_get_u8(struct nm_twire_reader *r)
{
	return (uint8_t)get_be(r, 1);
}

uint16_t
nm_twire_get_u16(struct nm_twire_reader *r)
{
	return (uint16_t)get_be(r, 2);
}

uint32_t
nm_twire_get_u32(struct nm_twire_reader *r)
{
	return (uint32_t)get_be(r, 4);
}

uint64_t
nm_twire_get_u64(struct nm_twire_reader *r)
{
	return get_be(r, 8);
}

void
nm_twire_get_bytes(struct nm_twire_reader *r, void *out, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p != NULL)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

const uint8_t *
nm_twire_get_blob(struct nm_twire_reader *r, uint32_t max, uint32_t *n)
{
	*n = nm_twire_get_u32(r);
	if (!r->short_ && *n > max) {
		r->short_ = true;
		return NULL;
	}
	return take(r, *n);
}
