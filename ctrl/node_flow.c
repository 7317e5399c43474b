/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flows seen from the control thread: listing the workers' flow tables,
 * flushing them, and writing finished flows to the flow log (JSON lines)
 * and the store (node_store.c).
 * Entries are read while their worker may update them; a listing is a
 * snapshot in which one flow's counters can be a packet apart, never a
 * pointer into freed memory (entries are preallocated).
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_jhash.h>

#include "node_priv.h"
#include "pod_table.h"
#include "nodemesh/flow.h"
#include "nodemesh/worker.h"
#include "node.h"

#define FLUSH_WAIT_MS 2000
#define LOAD(x)	      __atomic_load_n(&(x), __ATOMIC_RELAXED)

const struct nm_pod_spec *
nm_node_pod_by_id(const struct nm_node *node, uint32_t id)
{
	if (id == 0 || node->pod_history_id[id % NM_POD_HISTORY] != id)
		return NULL;
	return &node->pod_history[id % NM_POD_HISTORY];
}

const struct nm_pod_spec *
nm_node_end_spec(const struct nm_node *node, uint32_t ip4, uint32_t pod_id, struct nm_pod_spec *buf)
{
	if (pod_id == NM_POD_ID_REMOTE)
		return nm_node_remote_pod_spec(node, ip4, buf);
	return nm_node_pod_by_id(node, pod_id);
}

/* The IPv4 address of an IPv4-mapped flow key address. */
static uint32_t
addr_v4(const uint8_t a[16])
{
	uint32_t ip;

	memcpy(&ip, a + 12, sizeof(ip));
	return ip;
}

void
nm_addr_str(const uint8_t a[16], char *buf, size_t len)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

const char *
nm_proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "other";
	}
}

/*
 * The same 53-bit number for a flow on both sides and in every record and
 * alert about it (JSON readers keep integers below 2^53 exact).
 */
uint64_t
nm_flow_id(const struct nm_flow_key *k, uint32_t init_pod_id)
{
	uint64_t hi = rte_jhash(k, sizeof(*k), init_pod_id);
	uint64_t lo = rte_jhash(k, sizeof(*k), ~init_pod_id);

	return (hi << 32 | lo) & ((1ull << 53) - 1);
}

/* One endpoint: address, port and, when the pod is known, its identity. */
json_t *
nm_endpoint_json(const struct nm_node *node, const uint8_t addr[16], uint16_t port, uint32_t pod_id)
{
	char ip[INET6_ADDRSTRLEN];
	struct nm_pod_spec buf;
	const struct nm_pod_spec *p = nm_node_end_spec(node, addr_v4(addr), pod_id, &buf);

	nm_addr_str(addr, ip, sizeof(ip));
	json_t *o = json_pack("{s:s, s:i}", "ip", ip, "port", port);
	if (p != NULL) {
		json_object_set_new(o, "pod", json_string(p->name));
		json_object_set_new(o, "namespace", json_string(p->ns));
		if (p->sa[0] != '\0')
			json_object_set_new(o, "serviceaccount", json_string(p->sa));
		else
			json_object_set_new(o, "identity", json_string("unknown"));
		json_object_set_new(o, "labels", json_string(p->labels));
		json_object_set_new(o, "image", json_string(p->image));
	}
	return o;
}

static void
set_endpoints(const struct nm_node *node, json_t *o, const struct nm_flow_key *k, bool init_is_lo,
	      uint32_t init_id, uint32_t resp_id)
{
	json_object_set_new(o, "src",
			    nm_endpoint_json(node, init_is_lo ? k->addr_lo : k->addr_hi,
					     init_is_lo ? k->port_lo : k->port_hi, init_id));
	json_object_set_new(o, "dst",
			    nm_endpoint_json(node, init_is_lo ? k->addr_hi : k->addr_lo,
					     init_is_lo ? k->port_hi : k->port_lo, resp_id));
	json_object_set_new(o, "proto", json_string(nm_proto_name(k->proto)));
}

const char *
nm_flow_end_name(uint8_t end)
{
	static const char *const ends[] = {"timeout", "closed", "flush", "shutdown", "pod_gone"};

	if (end == NM_FLOW_END_INTERIM)
		return "interim";
	return end < sizeof(ends) / sizeof(ends[0]) ? ends[end] : "?";
}

static const char *
sig_state_name(uint8_t sig, const struct nm_flow *f)
{
	if (sig == NM_FLOW_SIG_BLOCKED)
		return "blocked";
	if (sig == NM_FLOW_SIG_PASS)
		return "passed";
	if (LOAD(f->insp) != NULL)
		return "stream";
	return LOAD(f->inspect) ? "on" : "off";
}

static double
tsc_seconds(const struct nm_node *node, uint64_t tsc)
{
	return (double)tsc / (double)node->dp.tsc_hz;
}

json_t *
nm_node_flows_json(struct nm_node *node, const char *pod, const struct nm_flow_key *match,
		   unsigned int limit, char *err, size_t errlen)
{
	uint32_t pod_id = 0;
	uint64_t now = rte_rdtsc();
	json_t *list = json_array();

	if (pod != NULL) {
		int slot = nm_pod_table_find_name(node->dp.pods, pod);
		if (slot < 0) {
			nm_pod_name_error(slot, pod, err, errlen);
			json_decref(list);
			return NULL;
		}
		pod_id = node->dp.pods->pods[slot].id;
	}
	for (unsigned int wi = 0; wi < node->dp.n_workers; wi++) {
		const struct nm_flow_table *t = &node->dp.workers[wi]->flows;

		for (uint32_t i = 0; i < t->cap && json_array_size(list) < limit; i++) {
			const struct nm_flow *f = &t->e[i];

			if (!LOAD(f->in_use) || (pod_id != 0 && f->hk.pod_id != pod_id))
				continue;
			if (match != NULL && memcmp(&f->hk.k, match, sizeof(*match)) != 0)
				continue;
			const struct nm_pod_spec *side = nm_node_pod_by_id(node, f->hk.pod_id);
			json_t *o = json_pack(
			    "{s:i, s:s, s:s, s:s, s:f, s:f, s:{s:I, s:I}, s:{s:I, s:I}, s:s, s:I, "
			    "s:I}",
			    "worker", wi, "side", side ? side->name : "?", "side_role",
			    f->local_is_init ? "initiator" : "responder", "state",
			    nm_flow_state_name(LOAD(f->state)), "age_s",
			    tsc_seconds(node, now - LOAD(f->first_tsc)), "idle_s",
			    tsc_seconds(node, now - LOAD(f->last_tsc)), "packets", "orig",
			    (json_int_t)LOAD(f->pkts[0]), "reply", (json_int_t)LOAD(f->pkts[1]),
			    "bytes", "orig", (json_int_t)LOAD(f->bytes[0]), "reply",
			    (json_int_t)LOAD(f->bytes[1]), "verdict",
			    LOAD(f->verdict) == NM_VERDICT_ALLOW ? "allow" : "deny", "rule_id",
			    (json_int_t)LOAD(f->rule_id), "rate_drops",
			    (json_int_t)LOAD(f->rate_drops));
			set_endpoints(node, o, &f->hk.k, f->init_is_lo, f->init_pod_id,
				      f->resp_pod_id);
			json_object_set_new(
			    o, "flow_id",
			    json_integer((json_int_t)nm_flow_id(&f->hk.k, f->init_pod_id)));
			json_object_set_new(o, "inspection",
					    json_string(sig_state_name(LOAD(f->sig), f)));
			json_array_append_new(list, o);
		}
	}
	return list;
}

static int flush(struct nm_node *node, const char *pod, uint8_t end, char *err, size_t errlen);

int
nm_node_flow_flush(struct nm_node *node, const char *pod, char *err, size_t errlen)
{
	return flush(node, pod, NM_FLOW_END_FLUSH, err, errlen);
}

int
nm_node_flow_shutdown(struct nm_node *node)
{
	char err[128];

	return flush(node, NULL, NM_FLOW_END_SHUTDOWN, err, sizeof(err));
}

static int
flush(struct nm_node *node, const char *pod, uint8_t end, char *err, size_t errlen)
{
	uint32_t pod_id = 0;

	if (pod != NULL) {
		int slot = nm_pod_table_find_name(node->dp.pods, pod);
		if (slot < 0) {
			nm_pod_name_error(slot, pod, err, errlen);
			return -ENOENT;
		}
		pod_id = node->dp.pods->pods[slot].id;
	}
	__atomic_store_n(&node->dp.flush_pod_id, pod_id, __ATOMIC_RELAXED);
	__atomic_store_n(&node->dp.flush_end, end, __ATOMIC_RELAXED);
	/* Release: workers that see the new sequence also see flush_pod_id. */
	uint64_t seq = __atomic_add_fetch(&node->dp.flush_seq, 1, __ATOMIC_RELEASE);
	nm_node_wake_workers(node);

	for (int waited = 0; waited < FLUSH_WAIT_MS; waited++) {
		unsigned int done = 0;
		for (unsigned int i = 0; i < node->dp.n_workers; i++)
			done += __atomic_load_n(&node->dp.workers[i]->flush_done,
						__ATOMIC_ACQUIRE) == seq;
		if (done == node->dp.n_workers) {
			nm_node_drain_records(node);
			return 0;
		}
		nm_node_drain_records(node); /* a big flush can fill the record rings */
		usleep(1000);
	}
	snprintf(err, errlen, "workers did not finish the flush within %d ms", FLUSH_WAIT_MS);
	return -ETIMEDOUT;
}

void
nm_iso_time(const struct nm_node *node, uint64_t tsc, char *buf, size_t len)
{
	uint64_t ns =
	    node->wall_ns0 + (uint64_t)((double)(tsc - node->tsc0) * 1e9 / (double)node->dp.tsc_hz);
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03" PRIu64 "Z", base, (uint64_t)((ns / 1000000u) % 1000));
}

json_t *
nm_flow_record_json(const struct nm_node *node, const struct nm_flow_record *r)
{
	char start[40], end[40];

	nm_iso_time(node, r->first_tsc, start, sizeof(start));
	nm_iso_time(node, r->last_tsc, end, sizeof(end));
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:f, s:{s:I, s:I}, s:{s:I, s:I}, s:s, s:I, "
		      "s:I, s:s, s:s}",
		      "type", "flow", "node", node->cfg.node_name, "start", start, "end", end,
		      "duration_s", (double)(r->last_tsc - r->first_tsc) / (double)node->dp.tsc_hz,
		      "packets", "orig", (json_int_t)r->pkts[0], "reply", (json_int_t)r->pkts[1],
		      "bytes", "orig", (json_int_t)r->bytes[0], "reply", (json_int_t)r->bytes[1],
		      "verdict", r->verdict == NM_VERDICT_ALLOW ? "allow" : "deny", "rule_id",
		      (json_int_t)r->rule_id, "rate_drops", (json_int_t)r->rate_drops, "state",
		      nm_flow_state_name(r->state), "end_reason", nm_flow_end_name(r->end));
	if (o == NULL)
		return NULL;
	set_endpoints(node, o, &r->key, r->init_is_lo, r->init_pod_id, r->resp_pod_id);
	json_object_set_new(o, "flow_id",
			    json_integer((json_int_t)nm_flow_id(&r->key, r->init_pod_id)));
	if (r->sig != NM_FLOW_SIG_INSPECT)
		json_object_set_new(o, "signature",
				    json_string(r->sig == NM_FLOW_SIG_PASS ? "passed" : "blocked"));
	return o;
}

/*
 * The record's line written directly: the same bytes as json_dumps of
 * nm_flow_record_json (JSON_COMPACT; test_flow checks it), without building
 * an object, so a record costs a few hundred nanoseconds of formatting.
 */
struct line {
	char *p, *end;
	bool full;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (l->full || (size_t)(l->end - l->p) < n) {
		l->full = true;
		return;
	}
	memcpy(l->p, s, n);
	l->p += n;
}

static void putf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = l->full ? -1 : vsnprintf(l->p, (size_t)(l->end - l->p), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= l->end - l->p)
		l->full = true;
	else
		l->p += n;
}

/* "key":"value", the value escaped as jansson escapes it. */
static void
put_str(struct line *l, const char *key, const char *v)
{
	putf(l, "\"%s\":\"", key);
	for (const char *s = v; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			putf(l, "\\%c", c);
		else if (c == '\n')
			put(l, "\\n", 2);
		else if (c < 0x20)
			putf(l, "\\u%04x", c);
		else
			put(l, (const char *)&c, 1);
	}
	put(l, "\"", 1);
}

/* A double as jansson prints it: %.17g, with ".0" when it looks like an integer. */
static void
put_real(struct line *l, const char *key, double v)
{
	char num[40];

	snprintf(num, sizeof(num), "%.17g", v);
	if (strpbrk(num, ".eE") == NULL && strlen(num) + 2 < sizeof(num))
		strcat(num, ".0");
	putf(l, "\"%s\":%s", key, num);
}

static void
put_endpoint(struct line *l, const struct nm_node *node, const char *key, const uint8_t addr[16],
	     uint16_t port, uint32_t pod_id)
{
	char ip[INET6_ADDRSTRLEN];
	struct nm_pod_spec buf;
	const struct nm_pod_spec *p = nm_node_end_spec(node, addr_v4(addr), pod_id, &buf);

	nm_addr_str(addr, ip, sizeof(ip));
	putf(l, "\"%s\":{\"ip\":\"%s\",\"port\":%u", key, ip, port);
	if (p != NULL) {
		put(l, ",", 1);
		put_str(l, "pod", p->name);
		put(l, ",", 1);
		put_str(l, "namespace", p->ns);
		put(l, ",", 1);
		if (p->sa[0] != '\0')
			put_str(l, "serviceaccount", p->sa);
		else
			put_str(l, "identity", "unknown");
		put(l, ",", 1);
		put_str(l, "labels", p->labels);
		put(l, ",", 1);
		put_str(l, "image", p->image);
	}
	put(l, "}", 1);
}

size_t
nm_flow_record_line(const struct nm_node *node, const struct nm_flow_record *r, char *buf,
		    size_t cap)
{
	const struct nm_flow_key *k = &r->key;
	struct line l = {.p = buf, .end = buf + cap};
	char start[40], end[40];
	bool lo = r->init_is_lo;

	nm_iso_time(node, r->first_tsc, start, sizeof(start));
	nm_iso_time(node, r->last_tsc, end, sizeof(end));
	put(&l, "{\"type\":\"flow\",", 15);
	put_str(&l, "node", node->cfg.node_name);
	putf(&l, ",\"start\":\"%s\",\"end\":\"%s\",", start, end);
	put_real(&l, "duration_s", (double)(r->last_tsc - r->first_tsc) / (double)node->dp.tsc_hz);
	putf(&l,
	     ",\"packets\":{\"orig\":%" PRIu64 ",\"reply\":%" PRIu64
	     "},\"bytes\":{\"orig\":%" PRIu64 ",\"reply\":%" PRIu64
	     "},\"verdict\":\"%s\",\"rule_id\":%" PRIu32 ",\"rate_drops\":%" PRIu64
	     ",\"state\":\"%s\",\"end_reason\":\"%s\",",
	     r->pkts[0], r->pkts[1], r->bytes[0], r->bytes[1],
	     r->verdict == NM_VERDICT_ALLOW ? "allow" : "deny", r->rule_id, r->rate_drops,
	     nm_flow_state_name(r->state), nm_flow_end_name(r->end));
	put_endpoint(&l, node, "src", lo ? k->addr_lo : k->addr_hi, lo ? k->port_lo : k->port_hi,
		     r->init_pod_id);
	put(&l, ",", 1);
	put_endpoint(&l, node, "dst", lo ? k->addr_hi : k->addr_lo, lo ? k->port_hi : k->port_lo,
		     r->resp_pod_id);
	putf(&l, ",\"proto\":\"%s\",\"flow_id\":%" PRIu64, nm_proto_name(k->proto),
	     nm_flow_id(k, r->init_pod_id));
	if (r->sig != NM_FLOW_SIG_INSPECT)
		putf(&l, ",\"signature\":\"%s\"",
		     r->sig == NM_FLOW_SIG_PASS ? "passed" : "blocked");
	put(&l, "}", 1);
	return l.full ? 0 : (size_t)(l.p - buf);
}

static void
write_record(struct nm_node *node, const struct nm_flow_record *r)
{
	char line[4096];
	size_t n = nm_flow_record_line(node, r, line, sizeof(line));

	/* Batched, whole lines or none; a failure is counted (flow_log.lost), logged per episode.
	 */
	if (n > 0)
		nm_jsonlog_add_line(&node->flow_log, line, n);
	else
		nm_jsonlog_lost(&node->flow_log, "format", sizeof(line), ENOBUFS);
	/* Observers get the object (built only while someone observes). */
	if (nm_node_observing(node)) {
		json_t *o = nm_flow_record_json(node, r);
		nm_node_observe_record(node, o);
		json_decref(o);
	}
}

unsigned int
nm_node_drain_records(struct nm_node *node)
{
	struct nm_flow_record *recs[64];
	unsigned int total = 0;

	/*
	 * At most NM_DRAIN_MAX a turn (about 30 ms of work), taken from each
	 * worker in turn: the loop stays responsive, and comes round again
	 * at once when this was not all (ctrl/main.c).
	 */
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		struct rte_ring *ring = node->dp.workers[i]->rec_ring;
		unsigned int share = NM_DRAIN_MAX / node->dp.n_workers, n;

		while (share > 0 && (n = rte_ring_sc_dequeue_burst(
					 ring, (void **)recs, RTE_MIN(64u, share), NULL)) > 0) {
			share -= n;
			total += n;
			for (unsigned int k = 0; k < n; k++) {
				if (nm_jsonlog_is_open(&node->flow_log))
					write_record(node, recs[k]);
				nm_node_store_flow(node, recs[k]);
			}
			rte_mempool_put_bulk(node->dp.rec_pool, (void **)recs, n);
		}
	}
	/* One write(2) for what this turn drained (and each 64 KiB of it before). */
	nm_jsonlog_flush(&node->flow_log);
	node->records_written = node->flow_log.written;
	return total;
}
