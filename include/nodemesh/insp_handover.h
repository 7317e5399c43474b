/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's inspection streams, the worker side of it
 * (dataplane/insp_handover.c): what the control thread of the old daemon
 * reads out of a worker's open streams, and what the new daemon's control
 * thread puts into its workers' pools, both while no worker runs
 * (ctrl/takeover_streams.c holds the format). Nothing here is called on a
 * worker.
 */
#ifndef NM_INSP_HANDOVER_H
#define NM_INSP_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/flow-t.h"
#include "nodemesh/sig_set-t.h"
#include "nodemesh/worker-t.h"

/*
 * s's Hyperscan state, compressed (hs_compress_stream) into buf of cap
 * bytes; *used its size (0: a set of http rules only). 0, -ENOSPC (*used:
 * what it needs) or -EIO.
 */
int nm_insp_handover_compress(const struct nm_insp *s, void *buf, size_t cap, size_t *used);

/*
 * Open f's stream on w from the len bytes of a compressed Hyperscan state
 * that was made against a database of set's stream_digest: a stream of
 * w's pool, an nm_insp of w's, a reference on set; its position, bitmaps,
 * parser and held segments are the caller's to fill in. Workers stopped.
 * NULL with errno: ENOSPC (signatures.max_streams open, or the pool's
 * chunks too small for set), EINVAL (Hyperscan refused the bytes).
 */
struct nm_insp *nm_insp_handover_adopt(struct nm_worker *w, struct nm_sig_set *set,
				       struct nm_flow *f, const void *hs, size_t len);

/*
 * Hold a copy of an out-of-order segment's len payload bytes (seq is its
 * first) in s, as the old daemon held it: an mbuf chain of w's pool. 0,
 * -ENOSPC (NM_INSP_HOLD held, or the worker's bound of held mbufs) or
 * -ENOBUFS (no mbufs).
 */
int nm_insp_handover_hold(struct nm_worker *w, struct nm_insp *s, uint32_t seq, const uint8_t *data,
			  uint16_t len);

/* Undo an adopt whose filling-in failed: the stream closes without reports. */
void nm_insp_handover_drop(struct nm_worker *w, struct nm_flow *f);

#endif
