/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus metrics from the stats documents. Every family gets its HELP
 * and TYPE line once, then its samples; label values are escaped as the
 * exposition format says (backslash, double quote, newline). Counters end
 * in _total; sizes are bytes, times seconds (the format's base units).
 *
 * Labels: worker, pod with namespace and identity ("ns/sa", or "unknown"),
 * reason (drops), rule_id (policy; "default" for the default action), sid
 * (signatures), log, peer, and for the histograms le.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define PFX "nodemesh_"

/* A metric read from one member of a JSON object. */
struct field {
	const char *key;  /* member of the object ("a.b": member b of member a) */
	const char *name; /* metric name without the prefix */
	const char *type; /* counter | gauge */
	const char *help;
	double scale; /* value multiplier, 0 = 1 (e.g. 1e-6 for microseconds) */
};

static const json_t *
member(const json_t *o, const char *key)
{
	const char *dot = strchr(key, '.');

	if (dot == NULL)
		return json_object_get(o, key);
	char head[64];
	snprintf(head, sizeof(head), "%.*s", (int)(dot - key), key);
	return member(json_object_get(o, head), dot + 1);
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " PFX "%s %s\n# TYPE " PFX "%s %s\n", name, help, name, type);
}

/* v printed as the format wants it: an integer when it is one. */
static void
value(FILE *f, const json_t *v, double scale)
{
	if (json_is_integer(v) && scale == 0)
		fprintf(f, "%lld\n", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		fprintf(f, "%d\n", json_is_true(v));
	else
		fprintf(f, "%.9g\n", json_number_value(v) * (scale != 0 ? scale : 1));
}

/* One label value, escaped. */
static void
label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* name{labels} value; labels is "" or already formatted 'k="v",...'. */
static void
sample(FILE *f, const char *name, const char *labels, const json_t *v, double scale)
{
	if (!json_is_number(v) && !json_is_boolean(v))
		return;
	fprintf(f, PFX "%s%s%s%s ", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "");
	value(f, v, scale);
}

/* The node-wide scalars. */
static const struct field node_fields[] = {
    {"rx_packets", "rx_packets_total", "counter", "Packets received from pods and the fabric.", 0},
    {"tx_packets", "tx_packets_total", "counter", "Packets sent to pods and the fabric.", 0},
    {"dropped", "dropped_packets_total", "counter", "Packets dropped, all reasons.", 0},
    {"pod_count", "pods", "gauge", "Pods of this node in the pod table.", 0},
    {"ipcache.remote_pods", "remote_pods", "gauge",
     "Pods peers announced, in the ipcache (at most tunnel.max_remote_pods).", 0},
    {"ipcache.max_remote_pods", "remote_pods_max", "gauge",
     "Remote pods the ipcache takes (tunnel.max_remote_pods; 0: no fabric).", 0},
    {"ipcache.refused", "remote_pods_refused_total", "counter",
     "Announcements refused because the ipcache was full.", 0},
    {"ipcache.bytes", "ipcache_bytes", "gauge",
     "Memory the ipcache took at start, sized for tunnel.max_remote_pods.", 0},
    {"pod_table_generation", "pod_table_generation", "gauge",
     "Publications of the pod table and policy.", 0},
    {"flows.active", "flows_active", "gauge", "Flows tracked now, all workers.", 0},
    {"flows.capacity", "flows_capacity", "gauge", "Flows the workers can track.", 0},
    {"flows.refused", "flows_refused_total", "counter",
     "New flows refused because a flow table was full.", 0},
    {"flows.records_written", "flow_records_written_total", "counter",
     "Flow records written to the flow log.", 0},
    {"signatures.packets_scanned", "signature_packets_scanned_total", "counter",
     "Packets scanned by the signature engine.", 0},
    {"signatures.bytes_scanned", "signature_bytes_scanned_total", "counter",
     "Payload bytes scanned by the signature engine.", 0},
    {"signatures.scan_time_us", "signature_scan_seconds_total", "counter",
     "Time spent scanning, all workers.", 1e-6},
    {"signatures.streams_open", "signature_streams_open", "gauge", "Open TCP inspection streams.",
     0},
    {"signatures.streams_opened", "signature_streams_opened_total", "counter",
     "TCP inspection streams opened.", 0},
    {"signatures.stream_memory_bytes", "signature_stream_memory_bytes", "gauge",
     "Memory of the open inspection streams.", 0},
    {"signatures.hits", "signature_hits_total", "counter", "Signature matches, all sids.", 0},
    {"signatures.alerts_written", "alerts_written_total", "counter",
     "Alerts written to the alert log.", 0},
    {"signatures.alerts_lost", "alerts_lost_total", "counter",
     "Alerts lost (ring full or log failing).", 0},
    {"signatures.flows_blocked", "signature_flows_blocked_total", "counter",
     "Flows blocked by a drop or reject signature.", 0},
    {"signatures.threshold.matches_held", "signature_threshold_held_total", "counter",
     "Matches a threshold or detection_filter kept from acting and alerting.", 0},
    {"signatures.threshold.table_full", "signature_threshold_table_full_total", "counter",
     "Thresholded matches not counted: the worker's table had no room (not acted on).", 0},
    {"signatures.resets_sent", "signature_resets_sent_total", "counter",
     "TCP resets sent for reject signatures.", 0},
    {"signatures.generation", "signature_set_generation", "gauge",
     "Signature sets loaded since start.", 0},
    {"control_loop.max_turn_ms", "control_loop_max_turn_seconds", "gauge",
     "Longest time between two turns of the control thread's event loop.", 1e-3},
    {"control_loop.max_busy_ms", "control_loop_max_busy_seconds", "gauge",
     "Longest busy time (not waiting in poll) of one event-loop turn.", 1e-3},
    {"state.saves", "state_saves_total", "counter", "Writes of the run-time state file.", 0},
    {"peers.configured", "peers", "gauge", "Peers configured (at most tunnel.max_peers).", 0},
    {"peers.up", "peers_up", "gauge", "Peers up with keys both ways.", 0},
    {"peers.handshakes.started", "peer_handshakes_started_total", "counter",
     "TLS handshakes with peers started, dialled or accepted.", 0},
    {"peers.handshakes.deferred", "peer_handshakes_deferred_total", "counter",
     "Handshakes that waited for the handshake budget (tunnel.handshake_rate).", 0},
    {"state.failures", "state_save_failures_total", "counter",
     "Failed writes of the run-time state file.", 0},
};

static void
node_scalars(FILE *f, const json_t *stats)
{
	for (size_t i = 0; i < sizeof(node_fields) / sizeof(node_fields[0]); i++) {
		const struct field *m = &node_fields[i];
		const json_t *v = member(stats, m->key);
		if (v == NULL)
			continue;
		family(f, m->name, m->type, m->help);
		sample(f, m->name, "", v, m->scale);
	}
}

/* name{label="key"} for each member of obj (drops by reason, hits by sid). */
static void
by_key(FILE *f, const json_t *obj, const char *name, const char *label, const char *help)
{
	const char *key;
	json_t *v;
	char labels[256];

	if (!json_is_object(obj))
		return;
	family(f, name, "counter", help);
	json_object_foreach((json_t *)obj, key, v)
	{
		snprintf(labels, sizeof(labels), "%s=\"%s\"", label, key);
		sample(f, name, labels, v, 0);
	}
}

/*
 * For each field, one family over the objects of arr, labelled by
 * label_fn(object): per worker, per pod, per peer.
 */
static void
per_object(FILE *f, const json_t *arr, const struct field *fields, size_t n,
	   void (*label_fn)(FILE *, const json_t *))
{
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		family(f, fields[i].name, fields[i].type, fields[i].help);
		for (size_t k = 0; k < json_array_size(arr); k++) {
			const json_t *o = json_array_get(arr, k);
			const json_t *v = member(o, fields[i].key);
			if (!json_is_number(v) && !json_is_boolean(v))
				continue;
			fprintf(f, PFX "%s{", fields[i].name);
			label_fn(f, o);
			fputs("} ", f);
			value(f, v, fields[i].scale);
		}
	}
}

static void
worker_labels(FILE *f, const json_t *w)
{
	fprintf(f, "worker=\"%lld\"", (long long)json_integer_value(json_object_get(w, "worker")));
}

static const struct field worker_fields[] = {
    {"rx_packets", "worker_rx_packets_total", "counter", "Packets a worker received.", 0},
    {"rx_bytes", "worker_rx_bytes_total", "counter", "Bytes a worker received.", 0},
    {"tx_packets", "worker_tx_packets_total", "counter", "Packets a worker sent.", 0},
    {"tx_bytes", "worker_tx_bytes_total", "counter", "Bytes a worker sent.", 0},
    {"handoff_out", "worker_handoff_out_total", "counter",
     "Packets handed to another worker (the destination pod's owner).", 0},
    {"handoff_in", "worker_handoff_in_total", "counter", "Packets taken from other workers.", 0},
    {"idle_sleeps", "worker_idle_sleeps_total", "counter",
     "Idle sleeps of a worker's loop (dataplane.idle.mode sleep).", 0},
    {"idle.waits", "worker_idle_waits_total", "counter",
     "Idle waits of a worker's loop for traffic (dataplane.idle.mode wake).", 0},
    {"idle.wakeups", "worker_idle_wakeups_total", "counter",
     "Idle waits ended by traffic or a doorbell before their time limit.", 0},
    {"idle.doorbells", "worker_idle_doorbells_total", "counter",
     "Doorbells a worker rang to wake a waiting worker it handed packets to.", 0},
    {"tunnel.sealed", "worker_tunnel_sealed_total", "counter",
     "Tunnel records a worker sealed and sent (every worker seals what it routes).", 0},
    {"tunnel.opened", "worker_tunnel_opened_total", "counter",
     "Tunnel records a worker's fabric queue received and opened.", 0},
    {"flows.active", "worker_flows_active", "gauge", "Flows a worker tracks now.", 0},
    {"flows.created", "worker_flows_created_total", "counter", "Flows a worker began.", 0},
    {"flows.expired", "worker_flows_expired_total", "counter", "Flows ended by timeout.", 0},
    {"flows.closed", "worker_flows_closed_total", "counter", "Flows ended by FIN or RST.", 0},
    {"flows.records_lost", "worker_flow_records_lost_total", "counter",
     "Flow records lost because the ring to the control thread was full.", 0},
    {"flows.reevaluated", "worker_flows_reevaluated_total", "counter",
     "Flows judged again after a policy or pod change.", 0},
};

static void
pod_labels(FILE *f, const json_t *p)
{
	const char *sa = json_string_value(json_object_get(p, "serviceaccount"));
	const char *ns = json_string_value(json_object_get(p, "namespace"));

	fputs("pod=\"", f);
	label_value(f, json_string_value(json_object_get(p, "name")));
	fputs("\",namespace=\"", f);
	label_value(f, ns != NULL ? ns : "");
	fputs("\",identity=\"", f);
	if (sa != NULL) {
		label_value(f, ns != NULL ? ns : "");
		fputc('/', f);
		label_value(f, sa);
	} else {
		fputs("unknown", f);
	}
	fprintf(f, "\",worker=\"%lld\"",
		(long long)json_integer_value(json_object_get(p, "worker")));
}

static const struct field pod_fields[] = {
    {"rx_packets", "pod_rx_packets_total", "counter", "Packets received from the pod.", 0},
    {"rx_bytes", "pod_rx_bytes_total", "counter", "Bytes received from the pod.", 0},
    {"tx_packets", "pod_tx_packets_total", "counter", "Packets sent to the pod.", 0},
    {"tx_bytes", "pod_tx_bytes_total", "counter", "Bytes sent to the pod.", 0},
    {"drops", "pod_drops_total", "counter", "Packets from the pod dropped on the way out.", 0},
};

static void
port_labels(FILE *f, const json_t *p)
{
	fputs("pod=\"", f);
	label_value(f, json_string_value(json_object_get(p, "pod")));
	fputs("\",iface=\"", f);
	label_value(f, json_string_value(json_object_get(p, "iface")));
	fputc('"', f);
}

/* The kernel's side of a pod's port: what never reached nodemesh. */
static const struct field port_fields[] = {
    {"rx_ring_drops", "port_rx_ring_drops_total", "counter",
     "Frames the kernel dropped for want of a free slot in the pod's RX ring.", 0},
    {"rx_missed", "port_rx_missed_total", "counter",
     "Frames an ethdev pod port could not take (DPDK imissed).", 0},
};

static void
peer_labels(FILE *f, const json_t *p)
{
	fputs("peer=\"", f);
	label_value(f, json_string_value(json_object_get(p, "name")));
	fputc('"', f);
}

static const struct field peer_fields[] = {
    {"tx_packets", "peer_tx_packets_total", "counter", "Records sealed toward the peer.", 0},
    {"tx_bytes", "peer_tx_bytes_total", "counter", "Bytes sealed toward the peer.", 0},
    {"tx_bursts", "peer_tx_bursts_total", "counter",
     "Per-peer groups of packets the fabric sealed in one flush.", 0},
    {"tx_packable", "peer_tx_packable_records_total", "counter",
     "Records those groups would need with several inner packets per record.", 0},
    {"rx_packets", "peer_rx_packets_total", "counter", "Records opened from the peer.", 0},
    {"rx_bytes", "peer_rx_bytes_total", "counter", "Bytes opened from the peer.", 0},
    {"rejected_total", "peer_records_rejected_total", "counter",
     "Records from the peer rejected (authentication, replay, epoch, ...).", 0},
    {"sessions", "peer_sessions_total", "counter", "Authenticated sessions with the peer.", 0},
    {"failures", "peer_failures_total", "counter", "Failed connections or handshakes.", 0},
    {"rekeys", "peer_rekeys_total", "counter", "Sending keys rotated toward the peer.", 0},
};

/* The per-peer "up" gauge: 1 while the tunnel carries traffic. */
static void
peers_up(FILE *f, const json_t *tunnels)
{
	if (!json_is_array(tunnels) || json_array_size(tunnels) == 0)
		return;
	family(f, "peer_up", "gauge", "1 while the tunnel to the peer is up.");
	for (size_t k = 0; k < json_array_size(tunnels); k++) {
		const json_t *p = json_array_get(tunnels, k);
		const char *state = json_string_value(json_object_get(p, "state"));
		fputs(PFX "peer_up{", f);
		peer_labels(f, p);
		fprintf(f, "} %d\n", state != NULL && strcmp(state, "up") == 0);
	}
}

static void
rules(FILE *f, const json_t *policy)
{
	const json_t *list = json_object_get(policy, "rules");
	static const char *const what[][3] = {
	    {"rule_flows_total", "flows", "Flows judged by the rule (default: no rule matched)."},
	    {"rule_drops_total", "drops",
	     "Packets dropped by the rule (deny, rate, or a request it refused)."},
	    {"rule_http_requests_total", "requests", "HTTP requests judged by the rule."},
	    {"rule_http_refused_total", "refused",
	     "HTTP requests the rule refused (answered 403, server reset)."},
	};

	if (!json_is_object(policy))
		return;
	for (size_t w = 0; w < sizeof(what) / sizeof(what[0]); w++) {
		family(f, what[w][0], "counter", what[w][2]);
		char key[32];
		snprintf(key, sizeof(key), "default_%s", what[w][1]);
		sample(f, what[w][0], "rule_id=\"default\"", json_object_get(policy, key), 0);
		for (size_t i = 0; i < json_array_size(list); i++) {
			const json_t *r = json_array_get(list, i);
			char labels[48];
			snprintf(labels, sizeof(labels), "rule_id=\"%lld\"",
				 (long long)json_integer_value(json_object_get(r, "id")));
			sample(f, what[w][0], labels, json_object_get(r, what[w][1]), 0);
		}
	}
}

static void
logs(FILE *f, const json_t *l)
{
	static const char *const names[] = {"flows", "alerts"};
	static const struct field fields[] = {
	    {"written", "log_records_written_total", "counter", "Lines written to a log.", 0},
	    {"lost", "log_records_lost_total", "counter", "Lines a log could not take.", 0},
	    {"failing", "log_failing", "gauge", "1 while writes to a log fail.", 0},
	};

	if (!json_is_object(l))
		return;
	for (size_t i = 0; i < 3; i++) {
		family(f, fields[i].name, fields[i].type, fields[i].help);
		for (size_t k = 0; k < 2; k++) {
			char labels[32];
			snprintf(labels, sizeof(labels), "log=\"%s\"", names[k]);
			sample(f, fields[i].name, labels,
			       json_object_get(json_object_get(l, names[k]), fields[i].key), 0);
		}
	}
}

/*
 * The loop's power-of-two millisecond histogram as a Prometheus histogram
 * in seconds: buckets are cumulative, le the upper bound.
 */
static void
loop_histogram(FILE *f, const json_t *loop, const char *hist_key, const char *sum_key,
	       const char *name, const char *help)
{
	const json_t *h = json_object_get(loop, hist_key);
	const char *key;
	json_t *v;
	long long cum = 0;

	if (!json_is_object(h))
		return;
	family(f, name, "histogram", help);
	json_object_foreach((json_t *)h, key, v)
	{
		cum += (long long)json_integer_value(v);
		if (key[0] == '<')
			fprintf(f, PFX "%s_bucket{le=\"%g\"} %lld\n", name, atof(key + 1) / 1e3,
				cum);
	}
	fprintf(f, PFX "%s_bucket{le=\"+Inf\"} %lld\n", name, cum);
	fprintf(f, PFX "%s_sum %.9g\n", name,
		json_number_value(json_object_get(loop, sum_key)) / 1e3);
	fprintf(f, PFX "%s_count %lld\n", name, cum);
}

char *
nm_metrics_render(const json_t *stats, const json_t *tunnels, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	if (f == NULL)
		return NULL;
	node_scalars(f, stats);
	by_key(f, json_object_get(stats, "drops"), "drops_total", "reason",
	       "Packets dropped, by reason (README: drop reasons).");
	per_object(f, json_object_get(stats, "workers"), worker_fields,
		   sizeof(worker_fields) / sizeof(worker_fields[0]), worker_labels);
	per_object(f, json_object_get(stats, "pods"), pod_fields,
		   sizeof(pod_fields) / sizeof(pod_fields[0]), pod_labels);
	per_object(f, json_object_get(stats, "ports"), port_fields,
		   sizeof(port_fields) / sizeof(port_fields[0]), port_labels);
	rules(f, json_object_get(stats, "policy"));
	by_key(f, member(stats, "signatures.hits_by_sid"), "signature_sid_hits_total", "sid",
	       "Matches of one signature (sid) in the set in force.");
	logs(f, json_object_get(stats, "logs"));
	const json_t *loop = json_object_get(stats, "control_loop");
	loop_histogram(f, loop, "turn_ms_histogram", "sum_turn_ms", "control_loop_turn_seconds",
		       "Time between two turns of the control thread's event loop.");
	loop_histogram(f, loop, "busy_ms_histogram", "sum_busy_ms", "control_loop_busy_seconds",
		       "Busy time (not waiting in poll) of one event-loop turn.");
	per_object(f, tunnels, peer_fields, sizeof(peer_fields) / sizeof(peer_fields[0]),
		   peer_labels);
	peers_up(f, tunnels);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*len = n;
	return text;
}
