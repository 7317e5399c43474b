/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's flow tables (ctrl/takeover.c holds the conversation). With
 * the workers stopped, the old daemon sends every tracked flow of every
 * worker: its key, state, direction, counters, timestamps, rule id and
 * meters, so that the new daemon goes on judging each connection as it
 * began (initiator and responder kept) instead of taking its next packet
 * for a new flow (README "Restarts"). The new daemon puts each flow into
 * the table of the worker that owns its pod there, before its workers
 * start.
 *
 * Two frame types:
 *   PODIDS  JSON object: old pod id (decimal string) -> "namespace/name";
 *           pod ids are per run, names are what both daemons share.
 *   FLOWS   u32 record size, then records of struct flow_wire (native
 *           byte order: both daemons run on one host). A record size this
 *           nodemeshd does not know refuses the takeover (the old daemon
 *           resumes), as a state version it cannot read does.
 *
 * Not carried: inspection streams (Hyperscan state, reassembly position,
 * held segments). A flow that was inspected keeps sig_born, so its next
 * payload follows signatures.midstream, as after a crash restart.
 * The verdict is not carried either: the new daemon's first packet of the
 * flow judges it again with the same rules and the same initiator (the
 * meters keep their tokens when the rule is the same).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_log.h>

#include "node_priv.h"
#include "pod_table.h"
#include "takeover.h"
#include "takeover_msg.h"
#include "nodemesh/flow.h"
#include "nodemesh/policy_table-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

#define FLOWS_PER_FRAME 16384

/* One flow on the wire. Fixed-width fields; pod ids are the old daemon's. */
struct flow_wire {
	struct nm_flow_key k;
	uint32_t pod_id; /* the pod on this entry's side */
	uint32_t init_pod_id;
	uint32_t resp_pod_id;
	uint32_t rule_id;
	uint64_t first_tsc; /* one host, one TSC */
	uint64_t last_tsc;
	uint64_t pkts[2];
	uint64_t bytes[2];
	uint64_t rate_drops;
	struct rte_meter_srtcm pps[2];
	struct rte_meter_srtcm bps[2];
	uint8_t state;
	uint8_t init_is_lo;
	uint8_t local_is_init;
	uint8_t fin_seen;
	uint8_t inspect;
	uint8_t sig;
	uint8_t sig_born;
	uint8_t pad;
};

/* ---- the old daemon ---------------------------------------------------------- */

static void
to_wire(const struct nm_flow *f, struct flow_wire *r)
{
	memset(r, 0, sizeof(*r));
	r->k = f->hk.k;
	r->pod_id = f->hk.pod_id;
	r->init_pod_id = f->init_pod_id;
	r->resp_pod_id = f->resp_pod_id;
	r->rule_id = f->rule_id;
	r->first_tsc = f->first_tsc;
	r->last_tsc = f->last_tsc;
	memcpy(r->pkts, f->pkts, sizeof(r->pkts));
	memcpy(r->bytes, f->bytes, sizeof(r->bytes));
	r->rate_drops = f->rate_drops;
	memcpy(r->pps, f->pps, sizeof(r->pps));
	memcpy(r->bps, f->bps, sizeof(r->bps));
	r->state = f->state;
	r->init_is_lo = f->init_is_lo;
	r->local_is_init = f->local_is_init;
	r->fin_seen = f->fin_seen;
	r->inspect = f->inspect;
	r->sig = f->sig;
	r->sig_born = f->sig_born;
}

static int
send_pod_ids(const struct nm_node *node, int conn)
{
	const struct nm_pod_table *t = node->dp.pods;
	json_t *o = json_object();
	char id[16], name[2 * NM_NAME_LEN + 2];
	int rc;

	for (int slot = 0; slot < NM_MAX_PODS; slot++) {
		const struct nm_pod *p = &t->pods[slot];
		if (p->live == NULL)
			continue;
		snprintf(id, sizeof(id), "%u", p->id);
		snprintf(name, sizeof(name), "%s/%s", p->spec.ns, p->spec.name);
		json_object_set_new(o, id, json_string(name));
	}
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return -ENOMEM;
	rc = nm_takeover_send(conn, NM_TAKEOVER_PODIDS, text, (uint32_t)strlen(text), NULL, 0);
	free(text);
	return rc;
}

/* buf: u32 record size, then n records. */
static int
flush_frame(int conn, uint8_t *buf, unsigned int n)
{
	uint32_t size = sizeof(struct flow_wire);

	memcpy(buf, &size, sizeof(size));
	return nm_takeover_send(conn, NM_TAKEOVER_FLOWS, buf,
				(uint32_t)(sizeof(size) + n * sizeof(struct flow_wire)), NULL, 0);
}

int
nm_takeover_flows_send(struct nm_node *node, int conn, unsigned int *n_flows)
{
	uint8_t *buf = malloc(sizeof(uint32_t) + FLOWS_PER_FRAME * sizeof(struct flow_wire));
	struct flow_wire *recs;
	unsigned int n = 0;
	int rc;

	*n_flows = 0;
	if (buf == NULL)
		return -ENOMEM;
	recs = (struct flow_wire *)(buf + sizeof(uint32_t));
	rc = send_pod_ids(node, conn);
	for (unsigned int w = 0; w < node->dp.n_workers && rc == 0; w++) {
		const struct nm_flow_table *t = &node->dp.workers[w]->flows;
		for (uint32_t i = 0; i < t->cap && rc == 0; i++) {
			if (!t->e[i].in_use)
				continue;
			to_wire(&t->e[i], &recs[n++]);
			if (n == FLOWS_PER_FRAME) {
				rc = flush_frame(conn, buf, n);
				*n_flows += n;
				n = 0;
			}
		}
	}
	if (rc == 0 && n > 0) {
		rc = flush_frame(conn, buf, n);
		*n_flows += n;
	}
	free(buf);
	return rc;
}

/* ---- the new daemon ---------------------------------------------------------- */

struct nm_takeover_flows {
	json_t *pod_ids; /* old id -> "ns/name" */
	unsigned int n, cap;
	struct flow_wire *v;
};

int
nm_takeover_flows_add(struct nm_takeover_flows **flows, uint8_t type, const char *payload,
		      uint32_t len, char *err, size_t errlen)
{
	struct nm_takeover_flows *fl = *flows;
	uint32_t size;

	if (fl == NULL && (fl = *flows = calloc(1, sizeof(*fl))) == NULL)
		goto nomem;
	if (type == NM_TAKEOVER_PODIDS) {
		json_decref(fl->pod_ids);
		fl->pod_ids = json_loadb(payload, len, 0, NULL);
		if (!json_is_object(fl->pod_ids)) {
			snprintf(err, errlen, "PODIDS frame is not a JSON object");
			return -EPROTO;
		}
		return 0;
	}
	size = 0;
	if (len >= sizeof(size))
		memcpy(&size, payload, sizeof(size));
	if (size != sizeof(struct flow_wire) || (len - sizeof(size)) % size != 0) {
		snprintf(err, errlen,
			 "FLOWS frame of %u bytes: records of %u bytes, this nodemeshd reads %zu",
			 len, size, sizeof(struct flow_wire));
		return -EPROTO;
	}
	unsigned int n = (len - (uint32_t)sizeof(size)) / size;
	if (fl->n + n > fl->cap) {
		unsigned int cap = fl->cap * 2 + n;
		struct flow_wire *v = realloc(fl->v, (size_t)cap * sizeof(*v));
		if (v == NULL)
			goto nomem;
		fl->v = v;
		fl->cap = cap;
	}
	memcpy(&fl->v[fl->n], payload + sizeof(size), (size_t)n * size);
	fl->n += n;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for the flows handed over");
	return -ENOMEM;
}

/* The new slot of the pod the old daemon called old_id, or -1. */
static int
slot_of(const struct nm_node *node, const json_t *pod_ids, uint32_t old_id)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", old_id);
	const char *name = json_string_value(json_object_get(pod_ids, id));
	return name != NULL ? nm_pod_table_find_name(node->dp.pods, name) : -1;
}

/* The counter slot of rule id in the node's rules, or -1 (gone: judged afresh). */
static int
rule_slot(const struct nm_node *node, uint32_t id)
{
	for (unsigned int i = 0; i < node->n_rules; i++)
		if (node->rules[i].id == id)
			return node->rules[i].slot;
	return -1;
}

/* One flow into its owner's table. 0, or -ENOENT (a pod unknown here), -ENOSPC. */
static int
restore_one(struct nm_node *node, const json_t *pod_ids, const struct flow_wire *r)
{
	const struct nm_pod_table *t = node->dp.pods;
	int side = slot_of(node, pod_ids, r->pod_id);
	int init = slot_of(node, pod_ids, r->init_pod_id);
	int resp = slot_of(node, pod_ids, r->resp_pod_id);

	if (side < 0 || init < 0 || resp < 0)
		return -ENOENT;
	struct nm_flow_hkey hk = {.k = r->k, .pod_id = t->pods[side].id};
	struct nm_worker *w = node->dp.workers[t->pods[side].worker];
	struct nm_flow *f = nm_flow_create(&w->flows, &hk, r->first_tsc);
	if (f == NULL)
		return -ENOSPC;
	f->last_tsc = r->last_tsc;
	memcpy(f->pkts, r->pkts, sizeof(f->pkts));
	memcpy(f->bytes, r->bytes, sizeof(f->bytes));
	f->rate_drops = r->rate_drops;
	memcpy(f->pps, r->pps, sizeof(f->pps));
	memcpy(f->bps, r->bps, sizeof(f->bps));
	f->init_slot = (uint16_t)init;
	f->resp_slot = (uint16_t)resp;
	f->init_pod_id = t->pods[init].id;
	f->resp_pod_id = t->pods[resp].id;
	f->state = r->state;
	f->init_is_lo = r->init_is_lo;
	f->local_is_init = r->local_is_init;
	f->fin_seen = r->fin_seen;
	f->inspect = r->inspect;
	f->sig = r->sig;
	f->sig_born = r->sig_born;
	/*
	 * Judged again at its next packet (no table has generation UINT64_MAX),
	 * but not as a first packet: inspection stays as it was decided when
	 * the flow began, and the same rule keeps its meters.
	 */
	int slot = r->rule_id != 0 ? rule_slot(node, r->rule_id) : -1;
	f->rule_id = slot >= 0 ? r->rule_id : 0;
	f->rule_slot = slot >= 0 ? (uint16_t)slot : 0;
	f->rule_idx = NM_POLICY_DEFAULT;
	f->policy_gen = UINT64_MAX;
	return 0;
}

unsigned int
nm_takeover_flows_restore(struct nm_node *node, struct nm_takeover_flows *flows,
			  unsigned int *skipped)
{
	unsigned int restored = 0;

	*skipped = 0;
	if (flows == NULL)
		return 0;
	for (unsigned int i = 0; i < flows->n; i++) {
		if (restore_one(node, flows->pod_ids, &flows->v[i]) == 0)
			restored++;
		else
			(*skipped)++;
	}
	return restored;
}

void
nm_takeover_flows_free(struct nm_takeover_flows *flows)
{
	if (flows == NULL)
		return;
	json_decref(flows->pod_ids);
	free(flows->v);
	free(flows);
}
