/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE `http` events from the workers' transaction records
 * (nodemesh/http_log-t.h). A request is parsed where it arrives, at the
 * server's side of the flow, and its response at the client's side, maybe
 * on another worker: when both pods are on this node the two halves meet
 * here, paired by flow and transaction number, and make one event. A half
 * whose other half is parsed on another node (peer_parsed clear) is
 * written alone at once; one whose other half does not come within
 * NM_HTTP_PAIR_WAIT_S seconds (a response that is not HTTP, a slow
 * answer), or that finds the waiting table full, is written alone too,
 * with what it has. Each event goes to the alert log as one JSON line, as
 * Suricata's eve.json has it, to the forensic store, and to observers
 * (`nodemeshctl observe type=http`) while someone observes.
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "node_priv.h"
#include "node.h"
#include "nodemesh/http-t.h"
#include "nodemesh/http_log-t.h"
#include "nodemesh/worker.h"

/*
 * A field as a JSON string. The bytes came off the wire: when they are not
 * UTF-8, each byte at or above 0x80 is written as the text \xNN, so the
 * event is still valid JSON and the bytes still readable.
 */
static json_t *
bytes_json(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char buf[4 * NM_HTTP_LOG_URI_LEN + 1];
	size_t n = 0;

	if (j != NULL || len > NM_HTTP_LOG_URI_LEN)
		return j != NULL ? j : json_string("");
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c < 0x80)
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);
	}
	return json_stringn(buf, n);
}

/* Suricata's hostname: the Host value lowercased, without its :port (then http_port). */
static void
host_json(json_t *o, const struct nm_http_fields *f)
{
	char host[NM_HTTP_LOG_HOST_LEN];
	size_t n = f->host_len, i = n;

	while (i > 0 && f->host[i - 1] >= '0' && f->host[i - 1] <= '9')
		i--;
	if (i > 0 && i < n && f->host[i - 1] == ':' &&
	    (f->host[0] != '[' || (i >= 2 && f->host[i - 2] == ']'))) {
		int port = 0;
		for (size_t k = i; k < n && port <= 65535; k++)
			port = port * 10 + (f->host[k] - '0');
		if (port <= 65535)
			json_object_set_new(o, "http_port", json_integer(port));
		n = i - 1;
	}
	for (i = 0; i < n; i++)
		host[i] = (char)((f->host[i] >= 'A' && f->host[i] <= 'Z') ? f->host[i] + 'a' - 'A'
									  : f->host[i]);
	json_object_set_new(o, "hostname", bytes_json(host, n));
}

/* The request's fields into an EVE http object (alert.http or the http event's). */
static void
request_json(json_t *o, const struct nm_http_fields *f)
{
	if (f->host_len > 0)
		host_json(o, f);
	if (f->method_len > 0) {
		json_object_set_new(o, "url", bytes_json(f->uri, f->uri_len));
		json_object_set_new(o, "http_method", bytes_json(f->method, f->method_len));
	}
	if (f->ua_len > 0)
		json_object_set_new(o, "http_user_agent", bytes_json(f->ua, f->ua_len));
}

/* Which fields were cut: ["hostname", "url", "http_user_agent"], or NULL. */
static json_t *
truncated_json(uint8_t truncated)
{
	json_t *list;

	if (truncated == 0)
		return NULL;
	list = json_array();
	if (truncated & NM_HTTP_TRUNC_HOST)
		json_array_append_new(list, json_string("hostname"));
	if (truncated & NM_HTTP_TRUNC_URI)
		json_array_append_new(list, json_string("url"));
	if (truncated & NM_HTTP_TRUNC_UA)
		json_array_append_new(list, json_string("http_user_agent"));
	return list;
}

json_t *
nm_http_alert_json(const struct nm_http_fields *f)
{
	json_t *o = json_object();
	json_t *cut = truncated_json(f->truncated);

	request_json(o, f);
	if (f->status != 0)
		json_object_set_new(o, "status", json_integer(f->status));
	if (cut != NULL)
		json_object_set_new(o, "truncated", cut);
	return o;
}

json_t *
nm_http_event_json(const struct nm_node *node, const struct nm_http_record *req,
		   const struct nm_http_record *resp)
{
	const struct nm_http_record *r = req != NULL ? req : resp;
	uint8_t c16[16] = {[10] = 0xff, [11] = 0xff}, s16[16] = {[10] = 0xff, [11] = 0xff};
	char ts[40], client[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
	json_t *http, *nm, *cut;

	if (r == NULL)
		return NULL;
	http = json_object();
	nm_iso_time(node, r->tsc, ts, sizeof(ts));
	inet_ntop(AF_INET, &r->client_ip, client, sizeof(client));
	inet_ntop(AF_INET, &r->server_ip, server, sizeof(server));
	memcpy(c16 + 12, &r->client_ip, 4);
	memcpy(s16 + 12, &r->server_ip, 4);
	if (req != NULL)
		request_json(http, &req->f);
	if (resp != NULL) {
		json_object_set_new(http, "status", json_integer(resp->f.status));
		json_object_set_new(http, "length", json_integer((json_int_t)resp->body_bytes));
	}
	nm = json_pack("{s:s, s:b, s:b, s:o, s:o}", "node", node->cfg.node_name, "request",
		       req != NULL, "response", resp != NULL, "src",
		       nm_endpoint_json(node, c16, r->client_port, r->client_pod_id), "dest",
		       nm_endpoint_json(node, s16, r->server_port, r->server_pod_id));
	if (req != NULL) {
		json_object_set_new(nm, "request_body_bytes",
				    json_integer((json_int_t)req->body_bytes));
		json_object_set_new(nm, "request_complete", json_boolean(req->complete));
		if ((cut = truncated_json(req->f.truncated)) != NULL)
			json_object_set_new(nm, "truncated", cut);
	}
	if (resp != NULL) {
		json_object_set_new(nm, "response_body_bytes",
				    json_integer((json_int_t)resp->body_bytes));
		json_object_set_new(nm, "response_complete", json_boolean(resp->complete));
	}
	return json_pack("{s:s, s:I, s:s, s:s, s:i, s:s, s:i, s:s, s:I, s:o, s:o}", "timestamp", ts,
			 "flow_id", (json_int_t)nm_flow_id(&r->key, r->init_pod_id), "event_type",
			 "http", "src_ip", client, "src_port", r->client_port, "dest_ip", server,
			 "dest_port", r->server_port, "proto", "TCP", "tx_id", (json_int_t)r->tx,
			 "http", http, "nodemesh", nm);
}

/* One event of req and resp (either NULL) to the log and the store; the records go back. */
static void
emit(struct nm_node *node, struct nm_http_record *req, struct nm_http_record *resp)
{
	if (req != NULL && resp != NULL)
		node->http.paired++;
	else
		node->http.unpaired++;
	/* The event is built only when something takes it: the log, or an observer. */
	bool logging = nm_jsonlog_is_open(&node->alert_log);
	if (logging || nm_node_observing(node)) {
		json_t *o = nm_http_event_json(node, req, resp);
		/* Whole or not at all; a failure is counted (alert_log.lost). */
		if (logging && o != NULL && nm_jsonlog_write(&node->alert_log, o) == 0)
			node->http.written++;
		nm_node_observe_http(node, o);
		json_decref(o);
	}
	nm_node_store_http(node, req, resp);
	if (req != NULL)
		rte_mempool_put(node->dp.http_pool, req);
	if (resp != NULL)
		rte_mempool_put(node->dp.http_pool, resp);
}

static void
emit_one(struct nm_node *node, struct nm_http_record *r)
{
	if (r->dir == NM_HTTP_REQUEST)
		emit(node, r, NULL);
	else
		emit(node, NULL, r);
}

static void
wait_remove(struct nm_node *node, unsigned int i)
{
	unsigned int rest = node->http.n - i - 1;

	memmove(&node->http.wait[i], &node->http.wait[i + 1],
		rest * sizeof(struct nm_http_record *));
	memmove(&node->http.since[i], &node->http.since[i + 1], rest * sizeof(node->http.since[0]));
	node->http.n--;
}

/* The waiting half of r's transaction, or -1. */
static int
partner_of(const struct nm_node *node, const struct nm_http_record *r)
{
	for (unsigned int i = 0; i < node->http.n; i++) {
		const struct nm_http_record *o = node->http.wait[i];
		if (o->tx == r->tx && o->dir != r->dir && o->init_pod_id == r->init_pod_id &&
		    memcmp(&o->key, &r->key, sizeof(o->key)) == 0)
			return (int)i;
	}
	return -1;
}

static void
take(struct nm_node *node, struct nm_http_record *r, uint64_t now)
{
	if (!r->peer_parsed) {
		emit_one(node, r);
		return;
	}
	int i = partner_of(node, r);
	if (i >= 0) {
		struct nm_http_record *o = node->http.wait[i];
		wait_remove(node, (unsigned int)i);
		if (r->dir == NM_HTTP_REQUEST)
			emit(node, r, o);
		else
			emit(node, o, r);
		return;
	}
	if (node->http.n == NM_HTTP_PAIR_MAX) {
		emit_one(node, node->http.wait[0]);
		wait_remove(node, 0);
	}
	node->http.wait[node->http.n] = r;
	node->http.since[node->http.n++] = now;
}

void
nm_node_drain_http(struct nm_node *node, bool all)
{
	struct nm_http_record *recs[64];
	uint64_t now = rte_rdtsc();
	uint64_t wait = NM_HTTP_PAIR_WAIT_S * node->dp.tsc_hz;

	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		unsigned int n;
		while ((n = rte_ring_sc_dequeue_burst(node->dp.workers[i]->http_ring, (void **)recs,
						      RTE_DIM(recs), NULL)) > 0)
			for (unsigned int k = 0; k < n; k++)
				take(node, recs[k], now);
	}
	/* Oldest first: the first still young ends the walk. */
	while (node->http.n > 0 && (all || now - node->http.since[0] >= wait)) {
		emit_one(node, node->http.wait[0]);
		wait_remove(node, 0);
	}
}
