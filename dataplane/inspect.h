/* SPDX-License-Identifier: BSD-3-Clause */
/* Signature matching on the workers (dataplane/inspect.c explains the stream policy). */
#ifndef NM_INSPECT_H
#define NM_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "nodemesh/drop-t.h"
#include "nodemesh/flow-t.h"
#include "nodemesh/pkt-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

#define NM_MADE_MAX 2 /* packets one inspection makes: two resets, or one ICMP error */

/*
 * Packets a reject made, for the caller to send: each to the pod at slot;
 * with track it passes the receiving side's conntrack as if the pod at
 * src_slot had sent it (a reset then closes that side's flow).
 */
struct nm_made {
	uint16_t n;
	struct {
		struct rte_mbuf *m;
		uint16_t slot;
		uint16_t src_slot;
		bool track;
	} pkt[NM_MADE_MAX];
};

/*
 * Inspect one packet arriving into the pod at slot (its flow entry f on
 * this side, direction dir). Returns NM_DROP_NONE or why it must be
 * dropped; a reject also adds resets or an ICMP error to *made.
 */
enum nm_drop_reason nm_inspect(struct nm_worker *w, const struct nm_pod_table *tbl,
			       struct nm_flow *f, unsigned int dir, struct rte_mbuf *m,
			       const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot,
			       uint64_t now, struct nm_made *made);
/* The receiving pod acknowledged up to ack (its egress on this side). */
static inline void
nm_inspect_acked(struct nm_flow *f, uint32_t ack)
{
	struct nm_insp *s = f->insp;

	if (!s->acked_known || (int32_t)(ack - s->acked) > 0) {
		s->acked = ack;
		s->acked_known = 1;
	}
}
/* Close f's stream (end-of-stream hits are logged); f is ending. */
void nm_inspect_release(struct nm_worker *w, struct nm_flow *f, bool report);

#endif
