/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Feeding the observation buffer (ctrl/observe.h): the workers' events
 * (drops, flow starts) with the identities of both ends added here, and
 * the flow records and alerts the control thread writes anyway. Workers
 * write events only while an observer holds the lease; the control thread
 * switches them on and off once per loop turn.
 */
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "node_priv.h"
#include "nodemesh/drop-t.h"
#include "nodemesh/flow-t.h"
#include "nodemesh/observe-t.h"
#include "nodemesh/pod_index.h"
#include "nodemesh/worker-t.h"
#include "loop_wait.h"
#include "node.h"

static uint64_t
mono_ms(void)
{
	return nm_mono_ns() / 1000000u;
}

/*
 * The endpoint at addr: with its pod's identity when an address of a pod,
 * local (the pod table) or remote (the ipcache, NM_POD_ID_REMOTE).
 */
static json_t *
endpoint(const struct nm_node *node, const uint8_t addr[16], bool is_v4, uint16_t port)
{
	uint32_t id = 0;

	if (is_v4) {
		uint32_t ip;
		memcpy(&ip, addr + 12, sizeof(ip));
		int slot = nm_pod_index_lookup(node->dp.pods, ip);
		if (slot >= 0)
			id = node->dp.pods->pods[slot].id;
		else
			id = NM_POD_ID_REMOTE; /* nm_endpoint_json asks the ipcache: none, no pod */
	}
	return nm_endpoint_json(node, addr, port, id);
}

static json_t *
event_json(const struct nm_node *node, const struct nm_event *e)
{
	char t[40];
	json_t *o;

	nm_iso_time(node, e->tsc, t, sizeof(t));
	if (e->type == NM_EV_DROP)
		o = json_pack("{s:s, s:s, s:s, s:s}", "time", t, "type", "drop", "reason",
			      nm_drop_name(e->reason), "verdict", "deny");
	else
		o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "time", t, "type", "flow", "event",
			      "start", "verdict", e->verdict == NM_VERDICT_ALLOW ? "allow" : "deny",
			      "rule_id", (json_int_t)e->rule_id);
	if (o == NULL)
		return NULL;
	/* A drop of something that was not IP (ARP, a runt) has no endpoints. */
	if (e->proto != 0 || e->type == NM_EV_FLOW_START) {
		json_object_set_new(o, "proto", json_string(nm_proto_name(e->proto)));
		json_object_set_new(o, "src", endpoint(node, e->src, e->is_v4, e->sport));
		json_object_set_new(o, "dst", endpoint(node, e->dst, e->is_v4, e->dport));
	}
	return o;
}

void
nm_node_observe_poll(struct nm_node *node)
{
	struct nm_event ev[64];
	bool wanted = nm_observe_wanted(&node->observe, mono_ms());

	__atomic_store_n(&node->dp.observing, wanted ? 1u : 0u, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		struct rte_ring *r = node->dp.workers[i]->events;
		unsigned int n;
		while ((n = rte_ring_sc_dequeue_burst_elem(r, ev, sizeof(ev[0]), 64, NULL)) > 0) {
			for (unsigned int k = 0; wanted && k < n; k++) {
				json_t *o = event_json(node, &ev[k]);
				if (o != NULL)
					nm_observe_push(&node->observe, o);
				json_decref(o);
			}
		}
	}
}

bool
nm_node_observing(const struct nm_node *node)
{
	return nm_observe_wanted(&node->observe, mono_ms());
}

enum copy_kind {
	COPY_RECORD, /* a flow record: the flow's end */
	COPY_ALERT,
	COPY_HTTP, /* an EVE http event: one transaction */
};

/* A copy of a record, an alert or an http event, shaped as observers read it. */
static void
push_copy(struct nm_node *node, const json_t *src, enum copy_kind kind)
{
	if (src == NULL || !nm_observe_wanted(&node->observe, mono_ms()))
		return;
	json_t *o = json_deep_copy(src);
	if (o == NULL)
		return;
	if (kind == COPY_RECORD) {
		json_object_set_new(o, "event", json_string("end"));
		nm_observe_push(&node->observe, o);
		json_decref(o);
		return;
	}
	/* Alerts and http events keep their endpoints under "nodemesh"; observers read src and dst.
	 */
	const json_t *nm = json_object_get(src, "nodemesh");
	json_object_set(o, "src", json_object_get(nm, "src"));
	json_object_set(o, "dst", json_object_get(nm, "dest"));
	if (kind == COPY_ALERT) {
		const char *action =
		    json_string_value(json_object_get(json_object_get(src, "alert"), "action"));
		json_object_set_new(o, "type", json_string("alert"));
		json_object_set_new(o, "verdict",
				    json_string(action != NULL && strcmp(action, "blocked") == 0
						    ? "deny"
						    : "allow"));
	} else {
		/* No verdict: a transaction is seen, not judged (its alerts are events of their
		 * own). */
		json_object_set_new(o, "type", json_string("http"));
	}
	nm_observe_push(&node->observe, o);
	json_decref(o);
}

void
nm_node_observe_record(struct nm_node *node, const json_t *rec)
{
	push_copy(node, rec, COPY_RECORD);
}

void
nm_node_observe_alert(struct nm_node *node, const json_t *alert)
{
	push_copy(node, alert, COPY_ALERT);
}

void
nm_node_observe_http(struct nm_node *node, const json_t *event)
{
	push_copy(node, event, COPY_HTTP);
}

json_t *
nm_node_observe_query(struct nm_node *node, const struct nm_observe_filter *f, uint64_t since,
		      unsigned int limit)
{
	json_t *r = nm_observe_query(&node->observe, f, since, limit, mono_ms());
	uint64_t lost = 0;

	for (unsigned int i = 0; i < node->dp.n_workers; i++)
		lost += __atomic_load_n(&node->dp.workers[i]->c.events_lost, __ATOMIC_RELAXED);
	json_object_set_new(r, "worker_events_lost", json_integer((json_int_t)lost));
	/* Workers start writing at once, not at the next loop turn. */
	__atomic_store_n(&node->dp.observing, 1u, __ATOMIC_RELAXED);
	return r;
}
