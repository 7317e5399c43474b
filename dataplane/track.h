/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The conntrack stage (dataplane/track.c): find or create a packet's flow
 * entry on one side (the source pod's at egress, the destination pod's at
 * ingress), judge it by policy when the pod table changed, meter it, and
 * end entries (expiry, flush, a pod gone) with a flow record for the
 * control thread. The table itself is dataplane/flow.c.
 */
#ifndef NM_TRACK_H
#define NM_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_hash.h>

#include "nodemesh/dataplane-t.h"
#include "nodemesh/drop-t.h"
#include "nodemesh/flow.h"
#include "nodemesh/pkt-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/policy-t.h"
#include "nodemesh/worker-t.h"

/* A packet's flow key on one side, prepared for a bulk lookup. */
struct nm_flow_ref {
	struct nm_flow_hkey hk;
	uint32_t tuple_hash; /* nm_flow_key_hash(&hk.k) with this worker's table seed */
	uint32_t hash;	     /* of hk, the whole key: nm_flow_side_hash(tuple_hash, pod) */
	bool from_hi;	     /* the packet runs from the key's hi endpoint to its lo one */
};

/* The key of r on the side of pod_id: a new pod, the same 5-tuple hash. */
static inline void
nm_flow_ref_side(struct nm_flow_ref *r, uint32_t pod_id)
{
	r->hk.pod_id = pod_id;
	r->hash = nm_flow_side_hash(r->tuple_hash, pod_id);
}

/* The key of meta's flow on the side of the pod at side_slot, in w's table. */
static inline void
nm_flow_ref_make(struct nm_flow_ref *r, const struct nm_worker *w, const struct nm_pod_table *tbl,
		 uint16_t side_slot, const struct nm_pkt_meta *meta)
{
	r->from_hi = nm_flow_key_make(&r->hk.k, meta);
	r->hk.pad = 0;
	r->tuple_hash = nm_flow_key_hash(&r->hk.k, w->flows.seed);
	nm_flow_ref_side(r, tbl->pods[side_slot].id);
}

/*
 * Look up a burst's keys at once, with the hashes the refs carry
 * (rte_hash prefetches buckets across the burst). found[i] is the entry or NULL; nm_track
 * revalidates it, since an earlier packet of the same burst may have ended or created it.
 */
static inline void
nm_track_lookup_bulk(struct nm_worker *w, const struct nm_flow_ref *refs, uint16_t n,
		     struct nm_flow **found)
{
	const void *keys[NM_BURST];
	hash_sig_t sigs[NM_BURST];
	int32_t pos[NM_BURST];

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		keys[i] = &refs[i].hk;
		sigs[i] = refs[i].hash;
	}
	rte_hash_lookup_with_hash_bulk(w->flows.h, keys, sigs, n, pos);
	for (uint16_t i = 0; i < n; i++)
		found[i] = pos[i] >= 0 ? &w->flows.e[pos[i]] : NULL;
}

/*
 * Track the packet in the flow table of the pod at side_slot (the source
 * pod at egress, the destination pod at ingress) and judge it. f is what a
 * bulk lookup found for ref (or NULL). Rates are metered at ingress only,
 * per direction, so a packet is metered once. Returns NM_DROP_NONE, with
 * the entry in *out and the packet's direction in *out_dir, or why the
 * packet must be dropped. Every case; nm_track() below takes the common one
 * inline.
 */
enum nm_drop_reason nm_track_slow(struct nm_worker *w, const struct nm_pod_table *tbl,
				  struct nm_flow *f, const struct nm_flow_ref *ref,
				  uint16_t side_slot, uint16_t src_slot, uint16_t dst_slot,
				  const struct nm_pkt_meta *meta, uint64_t now, bool ingress,
				  struct nm_flow **out, unsigned int *out_dir);

/*
 * The generation a cached verdict must carry to stand: the pod table's
 * (its policy, its pods) plus the ipcache's (remote pods' identities). Both
 * only grow, so the sum changes when either does. Acquire: a re-judge
 * after a bump reads the ipcache entries changed before it.
 */
static inline uint64_t
nm_track_gen(const struct nm_worker *w, const struct nm_pod_table *tbl)
{
	return tbl->generation + __atomic_load_n(&w->dp->ipc_gen, __ATOMIC_ACQUIRE);
}

/*
 * Nothing to decide for this packet on f (not NULL): the bulk lookup's entry is still
 * its flow, judged under this generation, allowed, not blocked, with no meter
 * to run at ingress and no scanned stream to acknowledge at egress.
 */
static inline bool
track_is_plain(uint64_t gen, const struct nm_flow *f, const struct nm_flow_ref *ref, bool ingress)
{
	return f->in_use && nm_flow_hkey_eq(&f->hk, &ref->hk) && f->policy_gen == gen &&
	       f->verdict == NM_VERDICT_ALLOW && f->sig != NM_FLOW_SIG_BLOCKED &&
	       (ingress ? !f->metered : f->insp == NULL);
}

/*
 * nm_track_slow's contract. The common case, a packet of a known, allowed
 * flow, is counted here inline (what nm_track_slow does for it, step for
 * step); anything else goes out of line.
 */
static __rte_always_inline enum nm_drop_reason
nm_track(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
	 const struct nm_flow_ref *ref, uint16_t side_slot, uint16_t src_slot, uint16_t dst_slot,
	 const struct nm_pkt_meta *meta, uint64_t now, bool ingress, struct nm_flow **out,
	 unsigned int *out_dir)
{
	if (unlikely(f == NULL || !track_is_plain(nm_track_gen(w, tbl), f, ref, ingress)))
		return nm_track_slow(w, tbl, f, ref, side_slot, src_slot, dst_slot, meta, now,
				     ingress, out, out_dir);

	unsigned int dir = ref->from_hi == (bool)f->init_is_lo ? NM_DIR_REPLY : NM_DIR_ORIG;

	f->last_tsc = now;
	f->pkts[dir]++;
	f->bytes[dir] += meta->ip_len;
	if (meta->ip_proto == IPPROTO_TCP && (meta->flags & NM_PKT_F_L4))
		nm_flow_tcp_update(f, dir, meta->tcp_flags);
	*out = f;
	*out_dir = dir;
	return NM_DROP_NONE;
}

/* End f (enum nm_flow_end): its stream closes, its record goes to the control thread. */
void nm_track_end(struct nm_worker *w, struct nm_flow *f, uint8_t end);
/* Expire a few entries; a full pass over the table takes cap/NM_FLOW_SWEEP turns. */
void nm_track_sweep(struct nm_worker *w, uint64_t now);
/* Serve a `flow flush` request seq: end every flow of one pod (or all). */
void nm_track_flush(struct nm_worker *w, uint64_t seq);

#endif
