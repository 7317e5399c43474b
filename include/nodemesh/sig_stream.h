/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What one pooled TCP inspection stream of a database takes: the contract
 * between the control thread, which refuses a rule set whose streams would
 * not fit signatures.stream_state_max, and the workers' stream pools
 * (dataplane/sig_scan.c), whose chunks are that size.
 */
#ifndef NM_SIG_STREAM_H
#define NM_SIG_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/sigdb-t.h"

#define NM_SIGDB_STREAM_ALIGN 64 /* Hyperscan state in a chunk starts on a cache line */
/*
 * With http rules, a chunk ends with the HTTP parser's head buffer: what
 * is left of the chunk after the handle, the parser and Hyperscan's state,
 * at least this much (signatures.stream_state_max sets the rest).
 */
#define NM_SIGDB_HTTP_HEAD_MIN 2048

static inline size_t
stream_align(size_t n)
{
	return (n + NM_SIGDB_STREAM_ALIGN - 1) & ~(size_t)(NM_SIGDB_STREAM_ALIGN - 1);
}

/* Bytes of a stream's handle, bitmaps and HTTP parser, rounded up to NM_SIGDB_STREAM_ALIGN. */
static inline size_t
nm_sigdb_stream_head_bytes(const struct nm_sigdb *db)
{
	size_t seen =
	    sizeof(struct nm_sigdb_stream) + (size_t)db->n_stream_multi * sizeof(uint16_t);

	return stream_align(seen) +
	       (db->has_http ? stream_align(sizeof(struct nm_http_parser)) : 0);
}

/*
 * Bytes one pooled stream of db needs at least: head, Hyperscan's state,
 * the smallest HTTP head buffer (0: no stream DB and no http rule).
 */
static inline size_t
nm_sigdb_stream_chunk_bytes(const struct nm_sigdb *db)
{
	size_t hs = db->stream ? db->stream_state_bytes - db->stream_seen_bytes : 0;

	if (db->stream == NULL && !db->has_http)
		return 0;
	return nm_sigdb_stream_head_bytes(db) + stream_align(hs) +
	       (db->has_http ? NM_SIGDB_HTTP_HEAD_MIN : 0);
}

#endif
