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

/* Bytes of a stream's handle and bitmaps, rounded up to NM_SIGDB_STREAM_ALIGN. */
static inline size_t
nm_sigdb_stream_head_bytes(const struct nm_sigdb *db)
{
	size_t seen =
	    sizeof(struct nm_sigdb_stream) + (size_t)db->n_stream_multi * sizeof(uint16_t);

	return (seen + NM_SIGDB_STREAM_ALIGN - 1) & ~(size_t)(NM_SIGDB_STREAM_ALIGN - 1);
}

/* Bytes one pooled stream of db takes: head, then Hyperscan's state (0: no stream DB). */
static inline size_t
nm_sigdb_stream_chunk_bytes(const struct nm_sigdb *db)
{
	if (db->stream == NULL)
		return 0;
	return nm_sigdb_stream_head_bytes(db) + (db->stream_state_bytes - db->stream_seen_bytes);
}

#endif
