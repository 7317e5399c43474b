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
 *   FLOWS   a body of takeover_wire.h (version, then length-prefixed
 *           records of big-endian fields), one record per flow: the
 *           fields are listed at flow_put(). A newer writer's trailing
 *           fields are skipped; a record too short or a major version this
 *           nodemeshd does not know refuses the takeover (the old daemon
 *           resumes), as a state version it cannot read does.
 *
 * Meters travel as their token counts and the TSC reading of their last
 * update (one host, one TSC), not as DPDK's struct. Inspection streams
 * follow in STREAMS frames (ctrl/takeover_streams.c); a flow whose stream
 * did not come keeps sig_born, so its next payload follows
 * signatures.midstream, as after a crash restart.
 * The verdict is not carried: the new daemon's first packet of the
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
#include "takeover_records.h"
#include "takeover_wire.h"
#include "nodemesh/flow.h"
#include "nodemesh/policy_table-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

#define FLOWS_PER_FRAME 16384 /* records per FLOWS frame (about 3 MB) */

/* ---- the old daemon ---------------------------------------------------------- */

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

int
nm_takeover_flows_send(struct nm_node *node, int conn, unsigned int *n_flows, size_t *bytes)
{
	struct nm_twire_writer w = {0};
	unsigned int n = 0;
	int rc;

	*n_flows = 0;
	*bytes = 0;
	nm_twire_writer_init(&w);
	rc = send_pod_ids(node, conn);
	for (unsigned int i = 0; i < node->dp.n_workers && rc == 0; i++) {
		const struct nm_flow_table *t = &node->dp.workers[i]->flows;
		for (uint32_t e = 0; e < t->cap && rc == 0; e++) {
			if (!t->e[e].in_use)
				continue;
			nm_takeover_flow_encode(&w, &t->e[e]);
			if (++n == FLOWS_PER_FRAME) {
				rc = nm_takeover_send_body(conn, NM_TAKEOVER_FLOWS, &w, bytes);
				*n_flows += n;
				n = 0;
			}
		}
	}
	if (rc == 0 && n > 0) {
		rc = nm_takeover_send_body(conn, NM_TAKEOVER_FLOWS, &w, bytes);
		*n_flows += n;
	}
	nm_twire_writer_free(&w);
	return rc;
}

/* ---- the new daemon ---------------------------------------------------------- */

struct nm_takeover_flows {
	json_t *pod_ids; /* old id -> "ns/name" */
	unsigned int n, cap;
	struct nm_flow *v; /* as decoded: the old daemon's pod ids */
};

/* Room for one more flow. 0 or -ENOMEM. */
static int
grow(struct nm_takeover_flows *fl)
{
	if (fl->n < fl->cap)
		return 0;
	unsigned int cap = fl->cap ? fl->cap * 2 : 1024;
	void *v = NULL;
	/* struct nm_flow is cache-line aligned: realloc would not keep that. */
	if (posix_memalign(&v, RTE_CACHE_LINE_SIZE, (size_t)cap * sizeof(*fl->v)) != 0)
		return -ENOMEM;
	if (fl->n > 0)
		memcpy(v, fl->v, (size_t)fl->n * sizeof(*fl->v));
	free(fl->v);
	fl->v = v;
	fl->cap = cap;
	return 0;
}

/*
 * Protocol 1 (the release before the versioned bodies): a FLOWS frame was
 * a host-order u32 record size, then records of this layout, memcpy'd
 * (one host: same byte order and, built for the same DPDK, the same
 * struct rte_meter_srtcm). Kept only to take over from that release.
 */
struct flow_wire_v1 {
	struct nm_flow_key k;
	uint32_t pod_id;
	uint32_t init_pod_id;
	uint32_t resp_pod_id;
	uint32_t rule_id;
	uint64_t first_tsc;
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

static void
from_v1(const struct flow_wire_v1 *r, struct nm_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->hk.k = r->k;
	f->hk.pod_id = r->pod_id;
	f->init_pod_id = r->init_pod_id;
	f->resp_pod_id = r->resp_pod_id;
	f->rule_id = r->rule_id;
	f->first_tsc = r->first_tsc;
	f->last_tsc = r->last_tsc;
	memcpy(f->pkts, r->pkts, sizeof(f->pkts));
	memcpy(f->bytes, r->bytes, sizeof(f->bytes));
	f->rate_drops = r->rate_drops;
	memcpy(f->pps, r->pps, sizeof(f->pps));
	memcpy(f->bps, r->bps, sizeof(f->bps));
	f->state = r->state;
	f->init_is_lo = r->init_is_lo;
	f->local_is_init = r->local_is_init;
	f->fin_seen = r->fin_seen;
	f->inspect = r->inspect;
	f->sig = r->sig;
	f->sig_born = r->sig_born;
}

static int
add_v1(struct nm_takeover_flows *fl, const char *payload, uint32_t len, char *err, size_t errlen)
{
	uint32_t size = 0;

	if (len >= sizeof(size))
		memcpy(&size, payload, sizeof(size));
	if (size != sizeof(struct flow_wire_v1) || (len - sizeof(size)) % size != 0) {
		snprintf(err, errlen,
			 "FLOWS frame (protocol 1) of %u bytes: records of %u bytes, this "
			 "nodemeshd reads %zu",
			 len, size, sizeof(struct flow_wire_v1));
		return -EPROTO;
	}
	for (uint32_t off = sizeof(size); off < len; off += size) {
		struct flow_wire_v1 r;
		if (grow(fl) < 0) {
			snprintf(err, errlen, "out of memory for the flows handed over");
			return -ENOMEM;
		}
		memcpy(&r, payload + off, sizeof(r));
		from_v1(&r, &fl->v[fl->n++]);
	}
	return 0;
}

int
nm_takeover_flows_add(struct nm_takeover_flows **flows, uint8_t version, uint8_t type,
		      const char *payload, uint32_t len, char *err, size_t errlen)
{
	struct nm_takeover_flows *fl = *flows;
	struct nm_twire_reader body, rec;
	uint16_t minor;
	int rc;

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
	if (version == 1)
		return add_v1(fl, payload, len, err, errlen);
	if (nm_twire_reader_init(&body, payload, len, &minor, err, errlen) < 0)
		return -EPROTO;
	while ((rc = nm_twire_next_record(&body, &rec, err, errlen)) > 0) {
		if (grow(fl) < 0)
			goto nomem;
		if (nm_takeover_flow_decode(&rec, &fl->v[fl->n]) < 0) {
			snprintf(err, errlen,
				 "FLOWS frame: a flow record of %zu bytes, shorter than this "
				 "nodemeshd reads (version %d.%d)",
				 rec.len, NM_TWIRE_MAJOR, NM_TWIRE_MINOR);
			return -EPROTO;
		}
		fl->n++;
	}
	return rc;
nomem:
	snprintf(err, errlen, "out of memory for the flows handed over");
	return -ENOMEM;
}

int
nm_takeover_flows_pod_slot(const struct nm_node *node, const struct nm_takeover_flows *flows,
			   uint32_t old_id)
{
	const json_t *pod_ids = flows != NULL ? flows->pod_ids : NULL;
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
restore_one(struct nm_node *node, const struct nm_takeover_flows *fl, const struct nm_flow *r)
{
	const struct nm_pod_table *t = node->dp.pods;
	int side = nm_takeover_flows_pod_slot(node, fl, r->hk.pod_id);
	/* A remote end has no slot of its own, here as in the old daemon. */
	int init = r->init_pod_id == NM_POD_ID_REMOTE
		       ? NM_SLOT_REMOTE
		       : nm_takeover_flows_pod_slot(node, fl, r->init_pod_id);
	int resp = r->resp_pod_id == NM_POD_ID_REMOTE
		       ? NM_SLOT_REMOTE
		       : nm_takeover_flows_pod_slot(node, fl, r->resp_pod_id);

	if (side < 0 || init < 0 || resp < 0)
		return -ENOENT;
	struct nm_flow_hkey hk = {.k = r->hk.k, .pod_id = t->pods[side].id};
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
		if (restore_one(node, flows, &flows->v[i]) == 0)
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
