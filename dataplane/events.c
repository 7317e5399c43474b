/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Observation events (nodemesh/observe-t.h). Called only while someone
 * observes, so the cost (a header parse for a drop, one ring enqueue) is
 * paid only then; a full ring counts the event as lost.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "nodemesh/flow-t.h"
#include "nodemesh/flowkey.h"
#include "nodemesh/observe-t.h"
#include "nodemesh/pkt.h"
#include "events.h"

static void
addresses(struct nm_event *ev, const struct nm_pkt_meta *meta)
{
	ev->is_v4 = meta->cls == NM_PKT_IPV4;
	nm_flow_addr(ev->src, meta, false);
	nm_flow_addr(ev->dst, meta, true);
	ev->proto = meta->ip_proto;
	if (meta->ip_proto == IPPROTO_TCP || meta->ip_proto == IPPROTO_UDP) {
		ev->sport = meta->sport;
		ev->dport = meta->dport;
	}
}

static void
put(struct nm_worker *w, struct nm_event *ev)
{
	if (rte_ring_sp_enqueue_elem(w->events, ev, sizeof(*ev)) != 0)
		w->c.events_lost++;
}

void
nm_observe_drop(struct nm_worker *w, const struct rte_mbuf *m, enum nm_drop_reason why)
{
	struct nm_event ev = {.tsc = rte_rdtsc(), .type = NM_EV_DROP, .reason = (uint8_t)why};
	struct nm_pkt_meta meta;

	int cls = nm_pkt_parse_partial(rte_pktmbuf_mtod(m, const uint8_t *),
				       rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m), &meta);
	if (cls == NM_PKT_IPV4 || cls == NM_PKT_IPV6)
		addresses(&ev, &meta);
	put(w, &ev);
}

void
nm_observe_flow(struct nm_worker *w, const struct nm_pkt_meta *meta, const struct nm_flow *f,
		uint32_t rule_id)
{
	struct nm_event ev = {.tsc = rte_rdtsc(),
			      .type = NM_EV_FLOW_START,
			      .verdict = f->verdict,
			      .rule_id = rule_id};

	addresses(&ev, meta);
	put(w, &ev);
}
