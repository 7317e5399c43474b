/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature rule sets seen from the control thread: load (parse, compile,
 * scratch, publish), list, statistics, the alert log, and freeing sets
 * that no stream holds any more. See struct nm_sig_set in nodemesh/sig_set-t.h for the
 * life cycle.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include "node_priv.h"
#include "jobs.h"
#include "sigdb.h"
#include "nodemesh/sig_stream.h"
#include "nodemesh/worker.h"
#include "node.h"
#include "sig.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static const char *const action_names[] = {"alert", "drop", "reject", "pass"};
static const char *const proto_names[] = {"ip", "tcp", "udp", "icmp", "http"};

void
nm_sig_set_free(struct nm_sig_set *set, unsigned int n_workers)
{
	if (set == NULL)
		return;
	for (unsigned int i = 0; i < n_workers; i++)
		hs_free_scratch(set->scratch[i]);
	nm_sigdb_free(set->db);
	free(set->hits);
	free(set);
}

/* Hits of rule i of set over every worker's row. */
static uint64_t
rule_hits(const struct nm_node *node, const struct nm_sig_set *set, unsigned int i)
{
	uint64_t sum = 0;

	for (unsigned int w = 0; w < node->dp.n_workers; w++)
		sum += LOAD(set->hits[(size_t)w * set->db->n_rules + i]);
	return sum;
}

static uint64_t
set_hits(const struct nm_sig_set *set, unsigned int n_workers)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < (size_t)n_workers * set->db->n_rules; i++)
		sum += LOAD(set->hits[i]);
	return sum;
}

/* Free replaced sets that no stream holds any more. */
void
nm_node_sig_gc(struct nm_node *node)
{
	struct nm_sig_set **pp = &node->sigs_retired;

	while (*pp != NULL) {
		struct nm_sig_set *set = *pp;
		/* Acquire pairs with the workers' release when they drop a stream. */
		if (__atomic_load_n(&set->refs, __ATOMIC_ACQUIRE) != 0) {
			pp = &set->next;
			continue;
		}
		*pp = set->next;
		node->sig_hits_retired += set_hits(set, node->dp.n_workers);
		nm_sig_set_free(set, node->dp.n_workers);
	}
}

/*
 * One signature load: what the compile step reads (a copy, so it may run on
 * the job thread without touching the node) and what it produces.
 */
struct nm_sig_load {
	/* In, written by the control thread before the compile starts. */
	char *file; /* as given (malloc'd); the set keeps its first NM_SIG_FILE_LEN - 1 bytes */
	size_t stream_state_max; /* signatures.stream_state_max */
	bool http_all;		 /* signatures.http_events "all": parse HTTP without http rules */
	struct nm_sig_vars vars; /* signatures.vars: what $NAME in a rule stands for */
	uint64_t id;		 /* load number, for sig list and nodemeshctl */
	uint64_t started_ns;	 /* CLOCK_REALTIME */
	/* Out, written by the compile step. */
	struct nm_sigdb *db;
	int n; /* rules compiled, or -errno with err */
	char err[1024];
};

/*
 * Parse, compile and check the stream size: everything long about a load,
 * and nothing the workers can see. job is NULL when run inline.
 */
static void
sig_compile(struct nm_job *job, void *arg)
{
	struct nm_sig_load *l = arg;
	struct nm_sig_rule *rules = NULL;
	int n = nm_sig_file_parse(l->file, &l->vars, &rules, l->err, sizeof(l->err));

	if (n < 0) {
		l->n = n;
		return;
	}
	if (job != NULL && nm_job_cancelled(job)) {
		snprintf(l->err, sizeof(l->err), "%s: cancelled at shutdown", l->file);
		l->n = -ECANCELED;
		goto out;
	}
	l->db = nm_sigdb_compile(rules, (unsigned int)n, l->err, sizeof(l->err));
	if (l->db == NULL) {
		l->n = -EINVAL;
		goto out;
	}
	/*
	 * HTTP events for every inspected TCP flow: the streams carry an HTTP
	 * parser even when no rule reads an HTTP buffer (its scans find no
	 * database and cost nothing). Before the size check: the parser's head
	 * buffer is part of the chunk.
	 */
	if (l->http_all)
		l->db->has_http = true;
	/* Workers take each stream from a pool of fixed chunks; this set's must fit one. */
	size_t need = nm_sigdb_stream_chunk_bytes(l->db);
	if (need > l->stream_state_max) {
		snprintf(
		    l->err, sizeof(l->err),
		    "%s: a TCP stream of these rules needs %zu bytes of state, more than "
		    "signatures.stream_state_max (%zu); raise it (a multiple of 64) and restart",
		    l->file, need, l->stream_state_max);
		nm_sigdb_free(l->db);
		l->db = NULL;
		l->n = -EINVAL;
		goto out;
	}
	l->n = n;
out:
	nm_sig_rules_free(rules, (unsigned int)n);
}

/*
 * Control thread: a set around the compiled db (taken over, freed on
 * error) with every worker's scratch grown to serve it and each set
 * streams may still use (the current one and the retired ones).
 */
static struct nm_sig_set *
set_build(struct nm_node *node, struct nm_sigdb *db, unsigned int n, const char *file, char *err,
	  size_t errlen)
{
	struct nm_sig_set *set = calloc(1, sizeof(*set));

	if (set == NULL) {
		nm_sigdb_free(db);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	set->db = db;
	set->hits = calloc((size_t)node->dp.n_workers * (n ? n : 1), sizeof(*set->hits));
	if (set->hits == NULL)
		goto nomem;
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		if (nm_sigdb_scratch_alloc(set->db, &set->scratch[i]) < 0)
			goto nomem;
		if (node->dp.sigs != NULL &&
		    nm_sigdb_scratch_alloc(node->dp.sigs->db, &set->scratch[i]) < 0)
			goto nomem;
		for (struct nm_sig_set *old = node->sigs_retired; old != NULL; old = old->next)
			if (nm_sigdb_scratch_alloc(old->db, &set->scratch[i]) < 0)
				goto nomem;
	}
	snprintf(set->file, sizeof(set->file), "%s", file);
	set->loaded_ns = nm_wall_ns();
	return set;
nomem:
	snprintf(err, errlen, "out of memory for Hyperscan scratch or counters");
	nm_sig_set_free(set, node->dp.n_workers);
	return NULL;
}

/* Control thread: build the set from a finished compile and publish it. n or -EINVAL. */
static int
sig_publish(struct nm_node *node, struct nm_sig_load *l)
{
	struct nm_sig_set *set =
	    set_build(node, l->db, (unsigned int)l->n, l->file, l->err, sizeof(l->err));

	l->db = NULL; /* set_build took it */
	if (set == NULL)
		return -EINVAL;
	set->generation = ++node->sig_generation;

	struct nm_sig_set *old = node->dp.sigs;
	/* Release: the set is complete before a worker's acquire load sees it. */
	__atomic_store_n(&node->dp.sigs, set, __ATOMIC_RELEASE);
	/* After this no worker opens a stream on old or uses its scratch. */
	rte_rcu_qsbr_synchronize(node->dp.qsbr, RTE_QSBR_THRID_INVALID);
	if (old != NULL) {
		old->next = node->sigs_retired;
		node->sigs_retired = old;
	}
	nm_node_sig_gc(node);
	return l->n;
}

static struct nm_sig_load *
load_new(struct nm_node *node, const char *path)
{
	struct nm_sig_load *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->file = strdup(path);
	if (l->file == NULL) {
		free(l);
		return NULL;
	}
	l->stream_state_max = node->dp.params.sig_stream_state_max;
	l->http_all = node->cfg.sig_http_events;
	l->vars = node->cfg.sig_vars;
	l->id = ++node->sig_load_id;
	l->started_ns = nm_wall_ns();
	return l;
}

static void
load_free(struct nm_sig_load *l)
{
	if (l == NULL)
		return;
	nm_sigdb_free(l->db);
	free(l->file);
	free(l);
}

int
nm_node_sig_load(struct nm_node *node, const char *path, char *err, size_t errlen)
{
	struct nm_sig_load *l = load_new(node, path);
	int rc;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sig_compile(NULL, l);
	rc = l->n < 0 ? l->n : sig_publish(node, l);
	if (rc < 0)
		snprintf(err, errlen, "%s", l->err);
	load_free(l);
	return rc;
}

int
nm_node_sig_load_start(struct nm_node *node, const char *path, uint64_t *id, char *err,
		       size_t errlen)
{
	const struct nm_sig_load *busy = node->sig_loading;

	if (busy != NULL) {
		char since[32];

		nm_wall_iso(busy->started_ns, since, sizeof(since));
		snprintf(err, errlen,
			 "%s refused: load %" PRIu64
			 " of %s is still compiling (since %s, %.1f s); "
			 "one load at a time, see sig list, then load again",
			 path, busy->id, busy->file, since,
			 (double)(nm_wall_ns() - busy->started_ns) / 1e9);
		return -EBUSY;
	}
	struct nm_sig_load *l = load_new(node, path);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = nm_job_start(&node->sig_job, sig_compile, l);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start the compile thread: %s", strerror(-rc));
		load_free(l);
		return rc;
	}
	node->sig_loading = l;
	*id = l->id;
	return 0;
}

/* The outcome of a load, as sig list's "last_load". */
static json_t *
load_json(const struct nm_sig_load *l, int rc, uint64_t generation)
{
	char started[32], finished[32];
	uint64_t now = nm_wall_ns();

	nm_wall_iso(l->started_ns, started, sizeof(started));
	nm_wall_iso(now, finished, sizeof(finished));
	json_t *o = json_pack("{s:I, s:s, s:b, s:s, s:s, s:I}", "id", (json_int_t)l->id, "file",
			      l->file, "ok", rc >= 0, "started", started, "finished", finished,
			      "took_ms", (json_int_t)((now - l->started_ns) / 1000000u));
	if (rc >= 0) {
		json_object_set_new(o, "signatures_loaded", json_integer(rc));
		json_object_set_new(o, "generation", json_integer((json_int_t)generation));
	} else {
		char msg[1200];

		snprintf(msg, sizeof(msg), "sig load: %s; the signatures in force are unchanged",
			 l->err);
		json_object_set_new(o, "error", json_string(msg));
	}
	return o;
}

void
nm_node_jobs_poll(struct nm_node *node)
{
	struct nm_sig_load *l = node->sig_loading;

	if (l == NULL || !nm_job_reap(&node->sig_job))
		return;
	node->sig_loading = NULL;
	int rc = l->n < 0 ? l->n : sig_publish(node, l);
	if (rc < 0)
		fprintf(stderr, "nodemeshd: sig load %" PRIu64 ": %s\n", l->id, l->err);
	else
		nm_node_state_changed(node); /* the set in force has a new file */
	json_decref(node->sig_last_load);
	node->sig_last_load = load_json(l, rc, node->sig_generation);
	load_free(l);
}

void
nm_node_sig_load_wait(struct nm_node *node)
{
	while (node->sig_loading != NULL) {
		nm_node_jobs_poll(node);
		if (node->sig_loading != NULL)
			usleep(1000);
	}
}

bool
nm_node_jobs_busy(const struct nm_node *node)
{
	return nm_job_busy(&node->sig_job);
}

void
nm_node_jobs_cancel(struct nm_node *node)
{
	nm_job_cancel(&node->sig_job);
	load_free(node->sig_loading);
	node->sig_loading = NULL;
	json_decref(node->sig_last_load);
	node->sig_last_load = NULL;
}

/* sig list's "loading" (the compile in progress, or null) and "last_load". */
static void
loads_json(const struct nm_node *node, json_t *o)
{
	const struct nm_sig_load *l = node->sig_loading;
	json_t *loading = json_null();

	if (l != NULL) {
		char since[32];

		nm_wall_iso(l->started_ns, since, sizeof(since));
		loading = json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)l->id, "file",
				    l->file, "since", since, "elapsed_ms",
				    (json_int_t)((nm_wall_ns() - l->started_ns) / 1000000u));
	}
	json_object_set_new(o, "loading", loading);
	json_object_set_new(o, "last_load",
			    node->sig_last_load ? json_incref(node->sig_last_load) : json_null());
}

static json_t *
addrs_json(const struct nm_sig_addrs *a)
{
	char buf[NM_SIG_MAX_ADDRS * 20 + 4];
	size_t len = 0;

	if (a->n == 0)
		return json_string("any");
	len +=
	    (size_t)snprintf(buf, sizeof(buf), "%s%s", a->negated ? "!" : "", a->n > 1 ? "[" : "");
	for (unsigned int i = 0; i < a->n; i++) {
		struct in_addr in = {.s_addr = htonl(a->items[i].addr)};
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &in, ip, sizeof(ip));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s/%u", i ? "," : "", ip,
					a->items[i].len);
	}
	if (a->n > 1)
		snprintf(buf + len, sizeof(buf) - len, "]");
	return json_string(buf);
}

json_t *
nm_node_sig_json(struct nm_node *node)
{
	const struct nm_sig_set *set = node->dp.sigs;
	json_t *o = json_object();
	json_t *list = json_array();

	json_object_set_new(o, "loaded", json_boolean(set != NULL));
	loads_json(node, o);
	if (set == NULL) {
		json_object_set_new(o, "signatures", list);
		return o;
	}
	json_object_set_new(o, "file", json_string(set->file));
	json_object_set_new(o, "generation", json_integer((json_int_t)set->generation));
	json_object_set_new(o, "compile_ms", json_real(set->db->compile_ms));
	json_object_set_new(o, "stream_state_bytes",
			    json_integer((json_int_t)set->db->stream_state_bytes));
	for (unsigned int i = 0; i < set->db->n_rules; i++) {
		const struct nm_sigdb_rule *r = &set->db->rules[i];
		uint64_t hits = rule_hits(node, set, i);
		json_array_append_new(
		    list, json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:s, s:s, s:I}", "sid",
				    (json_int_t)r->sid, "rev", (json_int_t)r->rev, "action",
				    action_names[r->action], "proto", proto_names[r->proto], "src",
				    addrs_json(&r->src), "dst", addrs_json(&r->dst), "msg", r->msg,
				    "classtype", r->classtype, "hits", (json_int_t)hits));
	}
	json_object_set_new(o, "signatures", list);
	return o;
}

json_t *
nm_node_sig_stats_json(struct nm_node *node)
{
	static const uint8_t drops[] = {
	    NM_DROP_SIG_DROP,
	    NM_DROP_HTTP_REFUSED,
	    NM_DROP_SIG_NO_STREAM,
	    NM_DROP_SIG_SCAN_ERROR,
	    NM_DROP_TCP_OUT_OF_ORDER,
	    NM_DROP_TCP_OVERLAP_DIFFERENT,
	    NM_DROP_TCP_RETRANS_UNVERIFIED,
	    NM_DROP_TCP_DATA_BEFORE_HANDSHAKE,
	    NM_DROP_TCP_RST_WITH_DATA,
	    NM_DROP_TCP_MIDSTREAM,
	};
	const struct nm_sig_set *set = node->dp.sigs;
	struct nm_sig_counters t = {0};
	uint64_t d[sizeof(drops)] = {0};
	unsigned int retired = 0;

	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		const struct nm_worker *w = node->dp.workers[i];
		const uint64_t *src = (const uint64_t *)&w->sc;
		uint64_t *dst = (uint64_t *)&t;
		for (size_t k = 0; k < sizeof(t) / sizeof(uint64_t); k++)
			dst[k] += LOAD(src[k]);
		for (size_t k = 0; k < sizeof(drops); k++)
			d[k] += LOAD(w->c.drops[drops[k]]);
	}
	for (const struct nm_sig_set *s = node->sigs_retired; s != NULL; s = s->next)
		retired++;

	double us = (double)t.cycles * 1e6 / (double)node->dp.tsc_hz;
	size_t state = set != NULL ? set->db->stream_state_bytes : 0;
	json_t *o = json_pack(
	    "{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I}",
	    "generation", (json_int_t)(set ? set->generation : 0), "packets_scanned",
	    (json_int_t)t.packets, "bytes_scanned", (json_int_t)t.bytes, "scan_time_us", us,
	    "scan_gbps", us > 0 ? (double)t.bytes * 8 / us / 1e3 : 0.0, "streams_open",
	    (json_int_t)t.streams_open, "streams_opened", (json_int_t)t.streams_opened,
	    "stream_state_bytes", (json_int_t)state, "stream_memory_bytes",
	    (json_int_t)t.streams_open * (json_int_t)state, "max_streams_per_worker",
	    (json_int_t)node->cfg.sig_max_streams, "hits", (json_int_t)t.hits, "alerts",
	    (json_int_t)t.alerts, "alerts_lost", (json_int_t)t.alerts_lost, "alerts_written",
	    (json_int_t)node->alerts_written, "flows_passed", (json_int_t)t.flows_passed,
	    "flows_blocked", (json_int_t)t.flows_blocked, "resets_sent", (json_int_t)t.resets_sent,
	    "unreachables_sent", (json_int_t)t.unreach_sent, "retired_sets_held",
	    (json_int_t)retired, "hits_of_freed_sets", (json_int_t)node->sig_hits_retired);
	json_t *tcp = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I}", "retransmits_verified", (json_int_t)t.retransmits,
	    "urgent_cleared", (json_int_t)t.urgent_cleared, "uninspected_payloads",
	    (json_int_t)t.uninspected, "held_out_of_order", (json_int_t)t.held, "held_now",
	    (json_int_t)t.held_now, "midstream_picked_up", (json_int_t)t.midstream);
	json_t *dj = json_object();
	for (size_t k = 0; k < sizeof(drops); k++)
		json_object_set_new(dj, nm_drop_name(drops[k]), json_integer((json_int_t)d[k]));
	json_t *http = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
	    "heads_scanned", (json_int_t)t.http_heads, "not_http", (json_int_t)t.http_not_http,
	    "tunnels", (json_int_t)t.http_tunnels, "refused", (json_int_t)t.http_refused,
	    "responses_lost", (json_int_t)t.http_resp_lost, "bodies_scanned",
	    (json_int_t)t.http_bodies, "bodies_cut", (json_int_t)t.http_bodies_cut, "inflate_cut",
	    (json_int_t)t.http_inflate_cut, "inflate_errors", (json_int_t)t.http_inflate_errors,
	    "records", (json_int_t)t.http_events, "records_lost", (json_int_t)t.http_events_lost,
	    "events_written", (json_int_t)node->http.written, "events_paired",
	    (json_int_t)node->http.paired, "events_unpaired", (json_int_t)node->http.unpaired,
	    "waiting_for_pair", (int)node->http.n);
	json_t *thresh =
	    json_pack("{s:I, s:I, s:I, s:i}", "matches_held", (json_int_t)t.thresh_held,
		      "alerts_suppressed", (json_int_t)t.thresh_silenced, "table_full",
		      (json_int_t)t.thresh_full, "table_slots_per_worker", NM_SIG_THRESH_SLOTS);
	json_object_set_new(o, "stream", tcp);
	json_object_set_new(o, "http", http);
	json_object_set_new(o, "threshold", thresh);
	json_object_set_new(o, "drops", dj);

	json_t *sids = json_object();
	for (unsigned int i = 0; set != NULL && i < set->db->n_rules; i++) {
		uint64_t hits = rule_hits(node, set, i);
		if (hits == 0)
			continue;
		char key[16];
		snprintf(key, sizeof(key), "%" PRIu32, set->db->rules[i].sid);
		json_object_set_new(sids, key, json_integer((json_int_t)hits));
	}
	json_object_set_new(o, "hits_by_sid", sids);
	json_object_set_new(o, "takeover",
			    node->sig_takeover ? json_incref(node->sig_takeover) : json_null());
	loads_json(node, o);
	return o;
}

/* One alert as a Suricata EVE "alert" event, plus nodemesh's pod identities. */
static void
write_alert(struct nm_node *node, const struct nm_alert_record *a)
{
	static const char *const protos[] = {
	    [IPPROTO_TCP] = "TCP", [IPPROTO_UDP] = "UDP", [IPPROTO_ICMP] = "ICMP"};
	char ts[40], src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	uint8_t s16[16] = {[10] = 0xff, [11] = 0xff}, d16[16] = {[10] = 0xff, [11] = 0xff};
	const char *proto =
	    a->proto < RTE_DIM(protos) && protos[a->proto] ? protos[a->proto] : "IP";

	nm_iso_time(node, a->tsc, ts, sizeof(ts));
	inet_ntop(AF_INET, &a->src_ip, src, sizeof(src));
	inet_ntop(AF_INET, &a->dst_ip, dst, sizeof(dst));
	memcpy(s16 + 12, &a->src_ip, 4);
	memcpy(d16 + 12, &a->dst_ip, 4);
	json_t *o = json_pack(
	    "{s:s, s:I, s:s, s:s, s:i, s:s, s:i, s:s, s:s, s:{s:s, s:i, s:I, s:I, s:s, s:s, s:i}, "
	    "s:{s:s, s:s, s:o, s:o}}",
	    "timestamp", ts, "flow_id", (json_int_t)nm_flow_id(&a->key, a->init_pod_id),
	    "event_type", "alert", "src_ip", src, "src_port", a->sport, "dest_ip", dst, "dest_port",
	    a->dport, "proto", proto, "direction", a->to_server ? "to_server" : "to_client",
	    "alert", "action", a->blocked ? "blocked" : "allowed", "gid", 1, "signature_id",
	    (json_int_t)a->sid, "rev", (json_int_t)a->rev, "signature", a->msg, "category",
	    a->classtype, "severity", a->priority ? (int)a->priority : 3, "nodemesh", "node",
	    node->cfg.node_name, "rule_action", action_names[a->action], "src",
	    nm_endpoint_json(node, s16, a->sport, a->src_pod_id), "dest",
	    nm_endpoint_json(node, d16, a->dport, a->dst_pod_id));
	if (o == NULL)
		return;
	if (a->has_http)
		json_object_set_new(o, "http", nm_http_alert_json(&a->http));
	/* Whole or not at all; a failure is counted (alert_log.lost) and logged per episode. */
	if (nm_jsonlog_write(&node->alert_log, o) == 0)
		node->alerts_written++;
	nm_node_observe_alert(node, o);
	json_decref(o);
}

void
nm_node_drain_alerts(struct nm_node *node)
{
	struct nm_alert_record *recs[64];

	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		unsigned int n;

		while ((n = rte_ring_sc_dequeue_burst(node->dp.workers[i]->alert_ring,
						      (void **)recs, 64, NULL)) > 0) {
			for (unsigned int k = 0; k < n; k++) {
				if (nm_jsonlog_is_open(&node->alert_log))
					write_alert(node, recs[k]);
				nm_node_store_alert(node, recs[k]);
			}
			rte_mempool_put_bulk(node->dp.alert_pool, (void **)recs, n);
		}
	}
	nm_node_drain_http(node, false);
	nm_node_sig_gc(node);
}
