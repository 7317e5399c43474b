/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The conntrack stage (track.h): every packet that reaches a pod, or
 * leaves one, passes its flow entry on that side here. A changed pod
 * table (generation) makes the entry re-judge itself against the policy
 * before the packet goes on, so revoking access also cuts existing
 * connections. Ending an entry writes its record for the control thread.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mempool.h>
#include <rte_meter.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "nodemesh/ipcache.h"
#include "inspect.h"
#include "events.h"
#include "http_authz.h"
#include "policy_eval.h"
#include "track.h"
#include "tx.h"

/* Is either end of f no longer the pod that was there when f began? */
static inline bool
stale_ends(const struct nm_pod_table *tbl, const struct nm_flow *f)
{
	const struct nm_pod *init = &tbl->pods[f->init_slot];
	const struct nm_pod *resp = &tbl->pods[f->resp_slot];

	return !nm_pod_present(init) || init->id != f->init_pod_id || !nm_pod_present(resp) ||
	       resp->id != f->resp_pod_id;
}

/*
 * The identity of a flow's end at slot, whose address is addr (the flow
 * key's, IPv4-mapped): a local pod's from the table, a remote pod's from
 * the ipcache. False when a remote end is no longer there (withdrawn).
 */
static bool
end_identity(const struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
	     const uint8_t *addr, uint32_t *id)
{
	struct nm_ipcache_entry e;
	uint32_t ip;

	if (slot != NM_SLOT_REMOTE) {
		*id = tbl->pods[slot].identity;
		return true;
	}
	memcpy(&ip, addr + 12, sizeof(ip));
	if (w->dp->ipcache == NULL || nm_ipcache_lookup(w->dp->ipcache, ip, &e) < 0)
		return false;
	*id = e.identity;
	return true;
}

/* Judge the flow of a packet whose rule and verdict are stale or unset, under generation gen. */
static void
judge(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f, uint8_t proto,
      uint64_t gen)
{
	/* Not const: rte_meter's API takes profiles by plain pointer, never writing them. */
	struct nm_policy *pol = tbl->policy;
	bool first = f->policy_gen == 0;
	int idx = NM_POLICY_DEFAULT;
	uint8_t verdict;
	const uint8_t *init_addr = f->init_is_lo ? f->hk.k.addr_lo : f->hk.k.addr_hi;
	const uint8_t *resp_addr = f->init_is_lo ? f->hk.k.addr_hi : f->hk.k.addr_lo;

	f->init_id = f->resp_id = 0; /* the unknown identity (ctrl/idreg.h) */
	if (stale_ends(tbl, f) || !end_identity(w, tbl, f->init_slot, init_addr, &f->init_id) ||
	    !end_identity(w, tbl, f->resp_slot, resp_addr, &f->resp_id)) {
		/* A flow whose sender or receiver is gone: nothing may flow. */
		verdict = NM_VERDICT_DENY;
	} else {
		/* The responder's port: the destination of the initiator's packets. */
		uint16_t dport = f->init_is_lo ? f->hk.k.port_hi : f->hk.k.port_lo;
		idx = nm_policy_eval(pol, f->init_id, f->resp_id, proto, dport);
		verdict = idx == NM_POLICY_DEFAULT ? pol->default_action : pol->rules[idx].action;
		/* Let through at L4, it may still carry requests a rule refuses. */
		f->http_judged = verdict == NM_VERDICT_ALLOW &&
				 nm_policy_http_covers(pol, f->init_id, f->resp_id, proto, dport);
	}

	uint32_t rule_id = idx == NM_POLICY_DEFAULT ? 0 : pol->rules[idx].id;
	if (first || rule_id != f->rule_id) {
		if (idx != NM_POLICY_DEFAULT) {
			struct nm_policy_rule *r = &pol->rules[idx];
			for (int d = 0; d < 2; d++) {
				if (r->has_pps)
					rte_meter_srtcm_config(&f->pps[d], &r->pps);
				if (r->has_bps)
					rte_meter_srtcm_config(&f->bps[d], &r->bps);
			}
			f->rule_slot = r->slot;
			f->inspect = r->inspect;
			w->rule_flows[r->slot]++;
		} else {
			f->inspect = 1;
			w->default_flows++;
		}
	}
	/* Inspection is decided when a flow begins: a stream cannot start mid-flow. */
	if (first)
		f->sig_born = w->sigs != NULL && f->inspect;
	if (!first)
		w->flows.c.reevaluated++;
	f->rule_id = rule_id;
	f->rule_idx = (int16_t)idx;
	f->metered =
	    idx != NM_POLICY_DEFAULT && (pol->rules[idx].has_pps || pol->rules[idx].has_bps);
	f->verdict = verdict;
	f->policy_gen = gen;
}

static inline void
count_rule_drop(struct nm_worker *w, const struct nm_flow *f)
{
	if (f->rule_idx == NM_POLICY_DEFAULT)
		w->default_drops++;
	else
		w->rule_drops[f->rule_slot]++;
}

enum nm_drop_reason
nm_track_slow(struct nm_worker *w, const struct nm_pod_table *tbl, struct nm_flow *f,
	      const struct nm_flow_ref *ref, uint16_t side_slot, uint16_t src_slot,
	      uint16_t dst_slot, const struct nm_pkt_meta *meta, uint64_t now, bool ingress,
	      struct nm_flow **out, unsigned int *out_dir)
{
	bool from_hi = ref->from_hi;
	bool fresh = false;
	uint64_t gen = nm_track_gen(w, tbl);

	if (f == NULL || unlikely(!f->in_use || !nm_flow_hkey_eq(&f->hk, &ref->hk)))
		f = nm_flow_lookup_with_hash(&w->flows, &ref->hk, ref->hash);
	if (unlikely(f == NULL)) {
		fresh = true;
		/* New here, or never seen (mid-stream after a restart): judged as new. */
		f = nm_flow_create_with_hash(&w->flows, &ref->hk, ref->hash, now);
		if (f == NULL)
			return NM_DROP_FLOW_TABLE_FULL;
		f->init_is_lo = !from_hi;
		f->init_slot = src_slot;
		f->resp_slot = dst_slot;
		f->init_pod_id = tbl->pods[src_slot].id;
		f->resp_pod_id = tbl->pods[dst_slot].id;
		f->local_is_init = side_slot == src_slot;
		f->state = nm_flow_initial_state(meta->ip_proto, meta->tcp_flags);
	}
	if (unlikely(f->policy_gen != gen) && !fresh && stale_ends(tbl, f)) {
		/*
		 * An end of this flow was deleted and maybe re-created at the same
		 * address: the old flow is over, this packet starts a new one. (A
		 * fresh entry with a stale end, such as a handed-off packet whose
		 * sender was deleted in flight, is judged: judge() denies it.)
		 */
		nm_track_end(w, f, NM_FLOW_END_POD_GONE);
		return nm_track(w, tbl, NULL, ref, side_slot, src_slot, dst_slot, meta, now,
				ingress, out, out_dir);
	}
	unsigned int dir = from_hi == (bool)f->init_is_lo ? NM_DIR_REPLY : NM_DIR_ORIG;

	if (unlikely(f->policy_gen != gen)) {
		judge(w, tbl, f, meta->ip_proto, gen);
		/* Said once per flow: where it begins (the initiator's side, or ours if remote). */
		if (fresh && unlikely(nm_observing(w)) &&
		    (f->local_is_init || tbl->pods[src_slot].remote))
			nm_observe_flow(w, meta, f, f->rule_id);
	}
	f->last_tsc = now;
	f->pkts[dir]++;
	f->bytes[dir] += meta->ip_len;
	if (meta->ip_proto == IPPROTO_TCP && (meta->flags & NM_PKT_F_L4))
		nm_flow_tcp_update(f, dir, meta->tcp_flags);

	if (unlikely(f->verdict != NM_VERDICT_ALLOW)) {
		count_rule_drop(w, f);
		return NM_DROP_POLICY_DENIED;
	}
	if (unlikely(f->sig == NM_FLOW_SIG_BLOCKED))
		return NM_DROP_SIG_DROP;
	/* This side's pod acknowledging the bytes its stream scanned. */
	if (!ingress && f->insp != NULL && (meta->tcp_flags & RTE_TCP_ACK_FLAG))
		nm_inspect_acked(f, meta->tcp_ack);

	*out = f;
	*out_dir = dir;
	if (ingress && f->rule_idx != NM_POLICY_DEFAULT) {
		struct nm_policy_rule *r = &tbl->policy->rules[f->rule_idx];
		if ((r->has_pps && rte_meter_srtcm_color_blind_check(&f->pps[dir], &r->pps, now,
								     1) != RTE_COLOR_GREEN) ||
		    (r->has_bps &&
		     rte_meter_srtcm_color_blind_check(&f->bps[dir], &r->bps, now, meta->ip_len) !=
			 RTE_COLOR_GREEN)) {
			f->rate_drops++;
			count_rule_drop(w, f);
			return NM_DROP_RATE_LIMITED;
		}
	}
	return NM_DROP_NONE;
}

/*
 * One side writes the record of a flow: the responder's, which sees every
 * flow that got through; the initiator's only when nothing came back and
 * the flow was denied (the responder never saw it).
 */
void
nm_track_end(struct nm_worker *w, struct nm_flow *f, uint8_t end)
{
	bool mine =
	    !f->local_is_init || (f->verdict != NM_VERDICT_ALLOW && f->pkts[NM_DIR_REPLY] == 0);
	struct nm_flow_record *rec;

	nm_inspect_release(w, f, true);
	nm_authz_release(w, f);
	if (mine && w->rec_ring != NULL) {
		if (rte_mempool_get(w->dp->rec_pool, (void **)&rec) == 0) {
			rec->key = f->hk.k;
			rec->init_pod_id = f->init_pod_id;
			rec->resp_pod_id = f->resp_pod_id;
			rec->first_tsc = f->first_tsc;
			rec->last_tsc = f->last_tsc;
			memcpy(rec->pkts, f->pkts, sizeof(rec->pkts));
			memcpy(rec->bytes, f->bytes, sizeof(rec->bytes));
			rec->rate_drops = f->rate_drops;
			rec->rule_id = f->rule_id;
			rec->init_is_lo = f->init_is_lo;
			rec->verdict = f->verdict;
			rec->state = f->state;
			rec->end = end;
			rec->sig = f->sig;
			if (rte_ring_sp_enqueue(w->rec_ring, rec) != 0) {
				rte_mempool_put(w->dp->rec_pool, rec);
				w->flows.c.records_lost++;
			}
		} else {
			w->flows.c.records_lost++;
		}
	}
	nm_flow_delete(&w->flows, f);
}

void
nm_track_sweep(struct nm_worker *w, uint64_t now)
{
	struct nm_flow_table *t = &w->flows;

	if (t->n == 0)
		return;
	for (unsigned int k = 0; k < NM_FLOW_SWEEP; k++) {
		struct nm_flow *f = &t->e[t->sweep_pos];

		t->sweep_pos = t->sweep_pos + 1 == t->cap ? 0 : t->sweep_pos + 1;
		if (f->in_use && nm_flow_expired(t, f, now)) {
			bool closed = f->state == NM_FLOW_TCP_CLOSED;
			if (closed)
				t->c.closed++;
			else
				t->c.expired++;
			nm_track_end(w, f, closed ? NM_FLOW_END_CLOSED : NM_FLOW_END_TIMEOUT);
		}
	}
}

void
nm_track_flush(struct nm_worker *w, uint64_t seq)
{
	uint32_t pod_id = __atomic_load_n(&w->dp->flush_pod_id, __ATOMIC_RELAXED);
	struct nm_flow_table *t = &w->flows;

	for (uint32_t i = 0; i < t->cap && t->n > 0; i++) {
		struct nm_flow *f = &t->e[i];
		if (f->in_use && (pod_id == 0 || f->hk.pod_id == pod_id)) {
			t->c.flushed++;
			nm_track_end(w, f, __atomic_load_n(&w->dp->flush_end, __ATOMIC_RELAXED));
		}
	}
	/* Release: the control thread reads our counters after it sees this. */
	__atomic_store_n(&w->flush_done, seq, __ATOMIC_RELEASE);
}
