/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scanning with a compiled signature database (nodemesh/sigdb-t.h) on the
 * workers: blocks for datagrams, streams for TCP flow directions. The
 * control thread compiles the database (ctrl/sigdb.c); nothing here
 * compiles or allocates scratch.
 */
#ifndef NM_SIG_SCAN_H
#define NM_SIG_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/sig_stream.h"
#include "nodemesh/sigdb-t.h"

/* Scan one block (UDP/ICMP payload). Returns 0 or -EIO. */
int nm_sigdb_scan_block(const struct nm_sigdb *db, hs_scratch_t *scratch, const uint8_t *data,
			size_t len, nm_sigdb_hit_fn fn, void *ctx);
/*
 * Scan one block that lies in n pieces (data[i], len[i] bytes each; the
 * segments of an mbuf chain) as if they were contiguous: a pattern split
 * across pieces matches. Returns 0 or -EIO.
 */
int nm_sigdb_scan_vector(const struct nm_sigdb *db, hs_scratch_t *scratch,
			 const uint8_t *const *data, const unsigned int *len, unsigned int n,
			 nm_sigdb_hit_fn fn, void *ctx);

/* The buffers of one HTTP message head, by enum nm_sig_buffer; an absent one has len 0. */
struct nm_sig_http_bufs {
	const uint8_t *data[NM_SIG_BUF_MAX];
	uint32_t len[NM_SIG_BUF_MAX];
};

/*
 * Scan one HTTP message's buffers, each with its buffer's database (http
 * rules). A rule whose expressions lie in several buffers is reported
 * when all of them matched in this message. Returns 0 or -EIO.
 */
int nm_sigdb_scan_http(const struct nm_sigdb *db, hs_scratch_t *scratch,
		       const struct nm_sig_http_bufs *bufs, nm_sigdb_hit_fn fn, void *ctx);

/*
 * The same for the rules with a body buffer, once per message when it
 * ends: bufs holds the head's buffers again and the body.
 */
int nm_sigdb_scan_http_late(const struct nm_sigdb *db, hs_scratch_t *scratch,
			    const struct nm_sig_http_bufs *bufs, nm_sigdb_hit_fn fn, void *ctx);

/* A worker's stream memory: n chunks of chunk bytes (nm_sigdb_stream_chunk_bytes() or more). */
struct nm_sig_stream_pool {
	uint8_t *mem; /* n * chunk bytes, reserved with mmap */
	size_t bytes; /* n * chunk */
	size_t chunk; /* bytes per stream */
	uint32_t n;   /* streams */
	uint32_t n_free;
	uint32_t *free; /* indices of the free chunks, a stack */
};

/*
 * A pool of n streams of chunk bytes each (a multiple of 64), on the
 * control thread before the worker starts. NULL with errno on failure.
 */
struct nm_sig_stream_pool *nm_sig_stream_pool_create(uint32_t n, size_t chunk);
/* Every stream taken from it must be closed first. NULL is fine. */
void nm_sig_stream_pool_free(struct nm_sig_stream_pool *pool);

/*
 * Streams: one per TCP flow direction, from pool (a worker: no
 * allocation; NULL when the pool is empty or its chunks are too small for
 * db, errno ENOMEM) or, with pool NULL, from the heap (tools and tests).
 * NULL with errno ENOENT when there is no stream database. A rule is
 * reported at most once per stream.
 */
struct nm_sigdb_stream *nm_sigdb_stream_open(const struct nm_sigdb *db,
					     struct nm_sig_stream_pool *pool);
int nm_sigdb_stream_scan(const struct nm_sigdb *db, struct nm_sigdb_stream *st,
			 hs_scratch_t *scratch, const uint8_t *data, size_t len, nm_sigdb_hit_fn fn,
			 void *ctx);
/*
 * Close st and return its memory (reporting end-of-stream matches such as combinations
 * with negation). fn may be NULL to drop the stream without reports.
 */
int nm_sigdb_stream_close(const struct nm_sigdb *db, struct nm_sigdb_stream *st,
			  hs_scratch_t *scratch, nm_sigdb_hit_fn fn, void *ctx);

/*
 * A takeover's stream state: st's Hyperscan state compressed into buf
 * (cap bytes; *used its size). 0, -ENOSPC (*used: the size it needs) or
 * -EIO. A stream without Hyperscan state (only http rules) gives 0 bytes.
 */
int nm_sigdb_stream_compress(const struct nm_sigdb_stream *st, void *buf, size_t cap, size_t *used);
/*
 * A stream of db from pool (as nm_sigdb_stream_open) whose Hyperscan state
 * is the len bytes nm_sigdb_stream_compress gave for a stream of a
 * database of the same stream_digest. NULL with errno: ENOMEM (pool),
 * EINVAL (Hyperscan refused the bytes, or bytes without a stream
 * database). Its bitmaps and HTTP parser are fresh: the caller sets them.
 */
struct nm_sigdb_stream *nm_sigdb_stream_expand(const struct nm_sigdb *db,
					       struct nm_sig_stream_pool *pool, const void *bytes,
					       size_t len);

#endif
