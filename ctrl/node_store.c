/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow records and alerts into the forensic store: the rows the control
 * thread builds from what the workers pass through their rings, with the
 * identities of both ends from the pod history (so they survive the
 * pods), encoded into the turn's batch and handed to the store's writer
 * thread at the end of the turn (store_queue.h).
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_cycles.h>

#include "node_priv.h"
#include "jobs.h"
#include "nodemesh/flow.h"
#include "nodemesh/worker.h"
#include "node.h"
#include "store_queue.h"

static const char *const rule_actions[] = {"alert", "drop", "reject", "pass"};

int64_t
nm_node_wall_ns(const struct nm_node *node, uint64_t tsc)
{
	return (int64_t)node->wall_ns0 +
	       (int64_t)((double)(int64_t)(tsc - node->tsc0) * 1e9 / (double)node->dp.tsc_hz);
}

/*
 * An endpoint's six columns at v (ip, port, pod, namespace, service account,
 * image) and its labels at *labels; *buf holds a remote pod's spec.
 */
static void
endpoint(const struct nm_node *node, struct nm_store_val *v, const char *ip, uint16_t port,
	 uint32_t pod_id, struct nm_store_val *labels, struct nm_pod_spec *buf)
{
	uint32_t ip4 = 0;

	inet_pton(AF_INET, ip, &ip4); /* an IPv6 flow has no remote pod: ip4 stays 0 */
	const struct nm_pod_spec *p = nm_node_end_spec(node, ip4, pod_id, buf);
	v[0] = nm_store_text(ip);
	v[1] = nm_store_int(port);
	v[2] = nm_store_text(p ? p->name : NULL);
	v[3] = nm_store_text(p ? p->ns : NULL);
	v[4] = nm_store_text(p ? p->sa : NULL);
	v[5] = nm_store_text(p && p->image[0] ? p->image : NULL);
	if (labels != NULL)
		*labels = nm_store_text(p ? p->labels : NULL);
}

void
nm_node_store_flow(struct nm_node *node, const struct nm_flow_record *r)
{
	const struct nm_flow_key *k = &r->key;
	struct nm_store_val v[NM_SF_N];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	if (!nm_store_queue_is_open(&node->store))
		return;
	nm_addr_str(r->init_is_lo ? k->addr_lo : k->addr_hi, src, sizeof(src));
	nm_addr_str(r->init_is_lo ? k->addr_hi : k->addr_lo, dst, sizeof(dst));
	v[NM_SF_seq] = nm_store_int(0); /* the writer numbers the rows */
	v[NM_SF_flow_id] = nm_store_int((int64_t)nm_flow_id(k, r->init_pod_id));
	v[NM_SF_start_ns] = nm_store_int(nm_node_wall_ns(node, r->first_tsc));
	v[NM_SF_end_ns] = nm_store_int(nm_node_wall_ns(node, r->last_tsc));
	v[NM_SF_node] = nm_store_text(node->cfg.node_name);
	v[NM_SF_proto] = nm_store_text(nm_proto_name(k->proto));
	/* The store copies text values when the row is queued (nm_store_queue_add). */
	struct nm_pod_spec src_buf, dst_buf;
	endpoint(node, &v[NM_SF_src_ip], src, r->init_is_lo ? k->port_lo : k->port_hi,
		 r->init_pod_id, &v[NM_SF_src_labels], &src_buf);
	endpoint(node, &v[NM_SF_dst_ip], dst, r->init_is_lo ? k->port_hi : k->port_lo,
		 r->resp_pod_id, &v[NM_SF_dst_labels], &dst_buf);
	v[NM_SF_pkts_orig] = nm_store_int((int64_t)r->pkts[0]);
	v[NM_SF_pkts_reply] = nm_store_int((int64_t)r->pkts[1]);
	v[NM_SF_bytes_orig] = nm_store_int((int64_t)r->bytes[0]);
	v[NM_SF_bytes_reply] = nm_store_int((int64_t)r->bytes[1]);
	v[NM_SF_verdict] = nm_store_text(r->verdict == NM_VERDICT_ALLOW ? "allow" : "deny");
	v[NM_SF_rule_id] = nm_store_int(r->rule_id);
	v[NM_SF_rate_drops] = nm_store_int((int64_t)r->rate_drops);
	v[NM_SF_state] = nm_store_text(nm_flow_state_name(r->state));
	v[NM_SF_end_reason] = nm_store_text(nm_flow_end_name(r->end));
	v[NM_SF_signature] = nm_store_text(r->sig == NM_FLOW_SIG_PASS	   ? "passed"
					   : r->sig == NM_FLOW_SIG_BLOCKED ? "blocked"
									   : "");
	/* A failure is counted in the store's stats (lost) and logged once per episode. */
	nm_store_queue_add(&node->store, &nm_store_flows, v, (int64_t)nm_wall_ns());
}

void
nm_node_store_alert(struct nm_node *node, const struct nm_alert_record *a)
{
	struct nm_store_val v[NM_SA_N];
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

	if (!nm_store_queue_is_open(&node->store))
		return;
	inet_ntop(AF_INET, &a->src_ip, src, sizeof(src));
	inet_ntop(AF_INET, &a->dst_ip, dst, sizeof(dst));
	v[NM_SA_seq] = nm_store_int(0);
	v[NM_SA_flow_id] = nm_store_int((int64_t)nm_flow_id(&a->key, a->init_pod_id));
	v[NM_SA_ts_ns] = nm_store_int(nm_node_wall_ns(node, a->tsc));
	v[NM_SA_node] = nm_store_text(node->cfg.node_name);
	v[NM_SA_proto] = nm_store_text(nm_proto_name(a->proto));
	struct nm_pod_spec src_buf, dst_buf;
	endpoint(node, &v[NM_SA_src_ip], src, a->sport, a->src_pod_id, NULL, &src_buf);
	endpoint(node, &v[NM_SA_dst_ip], dst, a->dport, a->dst_pod_id, NULL, &dst_buf);
	v[NM_SA_sid] = nm_store_int(a->sid);
	v[NM_SA_rev] = nm_store_int(a->rev);
	v[NM_SA_msg] = nm_store_text(a->msg);
	v[NM_SA_category] = nm_store_text(a->classtype);
	v[NM_SA_severity] = nm_store_int(a->priority ? a->priority : 3);
	v[NM_SA_action] = nm_store_text(a->blocked ? "blocked" : "allowed");
	v[NM_SA_rule_action] = nm_store_text(a->action < 4 ? rule_actions[a->action] : "?");
	v[NM_SA_direction] = nm_store_text(a->to_server ? "to_server" : "to_client");
	nm_store_queue_add(&node->store, &nm_store_alerts, v, (int64_t)nm_wall_ns());
}

void
nm_node_store_http(struct nm_node *node, const struct nm_http_record *req,
		   const struct nm_http_record *resp)
{
	const struct nm_http_record *r = req != NULL ? req : resp;
	const struct nm_http_fields *f = req != NULL ? &req->f : NULL;
	struct nm_store_val v[NM_SH_N];
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], cut[64];

	if (r == NULL || !nm_store_queue_is_open(&node->store))
		return;
	inet_ntop(AF_INET, &r->client_ip, src, sizeof(src));
	inet_ntop(AF_INET, &r->server_ip, dst, sizeof(dst));
	snprintf(cut, sizeof(cut), "%s%s%s",
		 f && (f->truncated & NM_HTTP_TRUNC_HOST) ? "hostname " : "",
		 f && (f->truncated & NM_HTTP_TRUNC_URI) ? "url " : "",
		 f && (f->truncated & NM_HTTP_TRUNC_UA) ? "http_user_agent " : "");
	if (cut[0] != '\0')
		cut[strlen(cut) - 1] = '\0';
	v[NM_SH_seq] = nm_store_int(0);
	v[NM_SH_flow_id] = nm_store_int((int64_t)nm_flow_id(&r->key, r->init_pod_id));
	v[NM_SH_ts_ns] = nm_store_int(nm_node_wall_ns(node, r->tsc));
	v[NM_SH_node] = nm_store_text(node->cfg.node_name);
	v[NM_SH_tx_id] = nm_store_int(r->tx);
	struct nm_pod_spec src_buf, dst_buf;
	endpoint(node, &v[NM_SH_src_ip], src, r->client_port, r->client_pod_id, NULL, &src_buf);
	endpoint(node, &v[NM_SH_dst_ip], dst, r->server_port, r->server_pod_id, NULL, &dst_buf);
	/* Not NUL-terminated, and maybe not UTF-8: stored as the bytes sent. */
	v[NM_SH_method] = (struct nm_store_val){true, 0, f ? f->method : "", f ? f->method_len : 0};
	v[NM_SH_hostname] = (struct nm_store_val){true, 0, f ? f->host : "", f ? f->host_len : 0};
	v[NM_SH_url] = (struct nm_store_val){true, 0, f ? f->uri : "", f ? f->uri_len : 0};
	v[NM_SH_user_agent] = (struct nm_store_val){true, 0, f ? f->ua : "", f ? f->ua_len : 0};
	v[NM_SH_status] = nm_store_int(resp != NULL ? resp->f.status : 0);
	v[NM_SH_request_body_bytes] = nm_store_int(req != NULL ? (int64_t)req->body_bytes : -1);
	v[NM_SH_response_body_bytes] = nm_store_int(resp != NULL ? (int64_t)resp->body_bytes : -1);
	v[NM_SH_seen] = nm_store_text(req && resp ? "request+response"
				      : req	  ? "request"
						  : "response");
	v[NM_SH_truncated] = nm_store_text(cut);
	nm_store_queue_add(&node->store, &nm_store_http, v, (int64_t)nm_wall_ns());
}

#define LOAD(x)	       __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define INTERIM_BUDGET 16384 /* flow entries looked at per loop turn */

/*
 * A live entry's record as the flow stands, if it is the side that writes
 * the flow's record (nm_track_end's rule: the responder's, or the
 * initiator's for a denied flow nothing came back to). Read while its
 * worker may update it, as `flow list` does: counters can be a packet
 * apart, never a pointer into freed memory (entries are preallocated).
 */
static bool
snapshot(const struct nm_flow *f, struct nm_flow_record *r)
{
	bool mine = !f->local_is_init ||
		    (LOAD(f->verdict) != NM_VERDICT_ALLOW && LOAD(f->pkts[NM_DIR_REPLY]) == 0);

	if (!LOAD(f->in_use) || !mine)
		return false;
	r->key = f->hk.k;
	r->init_pod_id = f->init_pod_id;
	r->resp_pod_id = f->resp_pod_id;
	r->first_tsc = LOAD(f->first_tsc);
	r->last_tsc = LOAD(f->last_tsc);
	for (int d = 0; d < 2; d++) {
		r->pkts[d] = LOAD(f->pkts[d]);
		r->bytes[d] = LOAD(f->bytes[d]);
	}
	r->rate_drops = LOAD(f->rate_drops);
	r->rule_id = LOAD(f->rule_id);
	r->init_is_lo = f->init_is_lo;
	r->verdict = LOAD(f->verdict);
	r->state = LOAD(f->state);
	r->end = NM_FLOW_END_INTERIM;
	r->sig = LOAD(f->sig);
	return true;
}

/*
 * logs.flow_interval_s: every interval, one walk over the workers' flow
 * tables, INTERIM_BUDGET entries per loop turn, gives every flow open for
 * at least the interval an interim row (end_reason "interim") with its
 * counters so far, so a connection open for days is in the store while it
 * is open. No help from the workers: the control thread reads the entries
 * as `flow list` does.
 */
void
nm_node_store_interim(struct nm_node *node)
{
	uint64_t interval = (uint64_t)node->cfg.store.flow_interval_s * node->dp.tsc_hz;
	uint64_t now = rte_rdtsc();
	unsigned int budget = INTERIM_BUDGET;

	if (interval == 0 || !nm_store_queue_is_open(&node->store))
		return;
	if (!node->interim.walking) {
		if (now < node->interim.next_pass_tsc)
			return;
		if (node->interim.next_pass_tsc != 0) { /* the first interval has no long flows */
			node->interim.walking = true;
			node->interim.worker = 0;
			node->interim.pos = 0;
		}
		node->interim.next_pass_tsc = now + interval;
	}
	while (node->interim.walking && budget > 0) {
		const struct nm_flow_table *t = &node->dp.workers[node->interim.worker]->flows;
		struct nm_flow_record r;

		for (; node->interim.pos < t->cap && budget > 0; node->interim.pos++, budget--) {
			const struct nm_flow *f = &t->e[node->interim.pos];
			/* first_tsc is another core's TSC: it may read a little ahead of now. */
			if (snapshot(f, &r) && now > r.first_tsc && now - r.first_tsc >= interval) {
				nm_node_store_flow(node, &r);
				node->interim.rows++;
			}
		}
		if (node->interim.pos == t->cap) {
			node->interim.pos = 0;
			if (++node->interim.worker == node->dp.n_workers)
				node->interim.walking = false;
		}
	}
}

void
nm_node_store_commit(struct nm_node *node)
{
	nm_store_queue_commit(&node->store);
}
