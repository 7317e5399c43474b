/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nm-replay: a capture through the node's own worker code, offline, as
 * `suricata -r` does. Every IPv4 address in the capture becomes a pod of
 * an in-memory node (one worker, driven on the main thread), and each
 * packet is handed to the pipeline as its source pod sending it: parse,
 * policy, flow table, TCP stream policy, HTTP parsing, Hyperscan scan, on
 * the way into the destination pod, both directions taken from the
 * capture. What the node would deliver goes to a sink and is freed. The
 * capture's timestamps are the pipeline's clock (nm_worker_now), so flows
 * expire on capture time; flows still open at the end are flushed. Output:
 * EVE JSON lines on stdout (alerts, http events, flow records); a summary
 * on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "config.h"
#include "node.h"
#include "node_priv.h"
#include "nodemesh/flow.h"
#include "nodemesh/worker.h"
#include "pcap_read.h"
#include "pod_table.h"
#include "sig.h"

#define SINK_RING   1024
#define DRAIN_EVERY 32		  /* packets between drains of the record rings (1024 and more) */
#define SWEEP_NS    1000000000ull /* capture time between full expiry sweeps */
#define FLOWS	    65536	  /* tracked flows (conntrack.capacity) */

struct opts {
	const char *rules;
	const char *policy;
	const char *vars;
	const char *capture;
	bool deny;
};

/* What the replay counted besides the node's own counters. */
struct tally {
	uint64_t records;    /* pcap records */
	uint64_t replayed;   /* IPv4 packets handed to the pipeline */
	uint64_t not_ipv4;   /* frames without IPv4 (ARP, IPv6, ...) */
	uint64_t cut;	     /* IPv4 packets the capture holds only part of (snaplen) */
	uint64_t too_big;    /* larger than one mbuf: a capture with offloads on */
	uint64_t no_mbuf;    /* the packet pool was empty */
	uint64_t flows_eve;  /* flow records written */
	uint64_t flows_lost; /* flow records the ring had no room for */
};

static void
usage(FILE *f)
{
	fprintf(f, "Usage: nm-replay --rules FILE [--policy FILE] [--default allow|deny]\n"
		   "                 [--vars FILE] -r CAPTURE.pcap\n"
		   "Runs a capture through nodemesh's worker code (parse, policy, flow table,\n"
		   "TCP stream policy, HTTP, signature scan) and writes EVE JSON lines to\n"
		   "standard output: alerts, http events and flow records (flows still open\n"
		   "at the end are flushed). A summary goes to standard error.\n"
		   "  --rules FILE    signature rules (the subset nodemeshd loads)\n"
		   "  --policy FILE   policy rules as `policy load` takes them; every address\n"
		   "                  of the capture is a pod of namespace \"capture\" with no\n"
		   "                  identity, so only '*' selectors match\n"
		   "  --default ACT   what no policy rule matches: allow (the default) or deny\n"
		   "  --vars FILE     rule variables (NAME = \"value\"; at the top level or in\n"
		   "                  signatures.vars) over Suricata's defaults\n"
		   "  -r FILE         a classic pcap capture (Ethernet, raw IP or Linux cooked)\n"
		   "  -h, --help      this text\n"
		   "Exit status: 0 replayed, 1 a bad capture or rule file, 2 usage.\n");
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
	    {"rules", required_argument, NULL, 'R'}, {"policy", required_argument, NULL, 'P'},
	    {"vars", required_argument, NULL, 'V'},  {"default", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "r:h", longs, NULL)) != -1) {
		switch (c) {
		case 'R':
			o->rules = optarg;
			break;
		case 'P':
			o->policy = optarg;
			break;
		case 'V':
			o->vars = optarg;
			break;
		case 'D':
			if (strcmp(optarg, "allow") != 0 && strcmp(optarg, "deny") != 0) {
				fprintf(stderr, "nm-replay: --default %s: say allow or deny\n",
					optarg);
				return -1;
			}
			o->deny = optarg[0] == 'd';
			break;
		case 'r':
			o->capture = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || o->rules == NULL || o->capture == NULL) {
		fprintf(stderr, "nm-replay: %s\n",
			optind != argc ? "unexpected arguments" : "--rules and -r are required");
		return -1;
	}
	return 0;
}

/* The whole file in memory (a capture is read twice). NULL after a message. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (f == NULL) {
		fprintf(stderr, "nm-replay: fopen(%s) failed: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "nm-replay: %s: cannot tell its size: %s\n", path, strerror(errno));
		goto out;
	}
	buf = malloc(size > 0 ? (size_t)size : 1);
	if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "nm-replay: reading %s failed\n", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = (size_t)size;
out:
	fclose(f);
	return buf;
}

/* The IPv4 addresses of a capture, each once, in order of appearance. */
struct hosts {
	unsigned int n;
	uint32_t ip[NM_MAX_PODS]; /* network order */
};

static int
host_slot(const struct hosts *h, uint32_t ip)
{
	for (unsigned int i = 0; i < h->n; i++)
		if (h->ip[i] == ip)
			return (int)i;
	return -1;
}

static int
host_add(struct hosts *h, uint32_t ip, unsigned int max)
{
	if (host_slot(h, ip) >= 0)
		return 0;
	if (h->n == max)
		return -1;
	h->ip[h->n++] = ip;
	return 0;
}

/*
 * The first pass: the whole capture read and checked before anything is
 * replayed, so a bad file gives its error and no output; it also finds
 * the hosts and the first timestamp.
 */
static int
survey(const char *path, const uint8_t *buf, size_t len, struct hosts *h, unsigned int max_hosts,
       uint64_t *t0)
{
	struct nm_pcap p;
	struct nm_pcap_pkt pkt;
	char err[256];
	int rc;

	*t0 = 0;
	if (nm_pcap_open(&p, buf, len, err, sizeof(err)) < 0)
		goto bad;
	while ((rc = nm_pcap_next(&p, &pkt, err, sizeof(err))) == 1) {
		const uint8_t *ip;
		uint32_t iplen, src, dst;

		if (*t0 == 0)
			*t0 = pkt.ts_ns;
		if (nm_pcap_ipv4(p.linktype, pkt.data, pkt.caplen, &ip, &iplen) < 0)
			continue;
		memcpy(&src, ip + 12, 4);
		memcpy(&dst, ip + 16, 4);
		if (host_add(h, src, max_hosts) < 0 || host_add(h, dst, max_hosts) < 0) {
			snprintf(err, sizeof(err), "more than %u IPv4 addresses (one pod each)",
				 max_hosts);
			goto bad;
		}
	}
	if (rc == 0)
		return 0;
bad:
	fprintf(stderr, "nm-replay: %s: %s\n", path, err);
	return -1;
}

/* A ring-backed port every pod transmits to; drained and freed after each packet. */
static int
sink_create(struct rte_mempool *pool, struct rte_ring **tx)
{
	struct rte_ring *rx = rte_ring_create("nm_replay_rx", SINK_RING, (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_eth_conf conf;

	*tx = rte_ring_create("nm_replay_tx", SINK_RING, (int)rte_socket_id(),
			      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (rx == NULL || *tx == NULL)
		return -1;
	int id = rte_eth_from_rings("nm_replay_sink", &rx, 1, tx, 1, rte_socket_id());
	if (id < 0)
		return -1;
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure((uint16_t)id, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)id, 0, SINK_RING, rte_socket_id(), NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)id, 0, SINK_RING, rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)id) != 0)
		return -1;
	return id;
}

static void
sink_drain(struct rte_ring *tx)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(tx, (void **)m, RTE_DIM(m), NULL)) > 0)
		rte_pktmbuf_free_bulk(m, n);
}

/* Pod i's MAC and our end's: locally administered, the host's index in the low bytes. */
static void
host_macs(unsigned int i, struct rte_ether_addr *pod, struct rte_ether_addr *port)
{
	const uint8_t p[6] = {0x02, 0x6e, 0x6d, 0, (uint8_t)(i >> 8), (uint8_t)i};
	const uint8_t g[6] = {0x02, 0x6e, 0x6e, 0, (uint8_t)(i >> 8), (uint8_t)i};

	memcpy(pod->addr_bytes, p, 6);
	memcpy(port->addr_bytes, g, 6);
}

/* Every host a pod in slot i (its index), worker 0, all on the sink port. */
static int
pods_add(struct nm_node *node, const struct hosts *h, uint16_t port)
{
	struct nm_pod_table *t = nm_pod_table_clone(NULL, node->dp.hash_seed, node->dp.n_workers);
	char err[256];

	if (t == NULL)
		return -1;
	for (unsigned int i = 0; i < h->n; i++) {
		struct nm_pod *p = &t->pods[i];
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &h->ip[i], ip, sizeof(ip));
		snprintf(p->spec.name, sizeof(p->spec.name), "%s", ip);
		snprintf(p->spec.ns, sizeof(p->spec.ns), "capture");
		p->spec.ip = h->ip[i];
		p->id = node->next_pod_id++;
		p->port_id = port;
		p->worker = 0;
		p->live = rte_zmalloc("nm_replay_live", sizeof(*p->live), RTE_CACHE_LINE_SIZE);
		if (p->live == NULL)
			return -1;
		host_macs(i, &p->live->pod_mac, &p->port_mac);
		p->live->mac_known = true;
		node->pod_history[p->id % NM_POD_HISTORY] = p->spec;
		node->pod_history_id[p->id % NM_POD_HISTORY] = p->id;
	}
	if (nm_node_publish_rebuilt(node, t, err, sizeof(err)) < 0) {
		fprintf(stderr, "nm-replay: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * The pods are ours, not attached ports: their live state goes here, so
 * that nm_node_destroy() detaches nothing; then the sink port closes once.
 */
static void
pods_free(struct nm_node *node, int port)
{
	for (unsigned int s = 0; node->dp.pods != NULL && s < NM_MAX_PODS; s++) {
		rte_free(node->dp.pods->pods[s].live);
		node->dp.pods->pods[s].live = NULL;
	}
	if (port >= 0) {
		rte_eth_dev_stop((uint16_t)port);
		rte_eth_dev_close((uint16_t)port);
	}
}

/* EVE's protocol names: upper case, as the alerts and http events have them. */
static const char *
proto_upper(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_ICMP:
		return "ICMP";
	default:
		return "IP";
	}
}

/* A finished flow as Suricata's EVE "flow" event, plus nodemesh's verdict. */
static void
write_flow(struct nm_node *node, const struct nm_flow_record *r)
{
	const struct nm_flow_key *k = &r->key;
	bool lo = r->init_is_lo;
	char start[40], end[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	nm_iso_time(node, r->first_tsc, start, sizeof(start));
	nm_iso_time(node, r->last_tsc, end, sizeof(end));
	nm_addr_str(lo ? k->addr_lo : k->addr_hi, src, sizeof(src));
	nm_addr_str(lo ? k->addr_hi : k->addr_lo, dst, sizeof(dst));
	json_t *o = json_pack(
	    "{s:s, s:I, s:s, s:s, s:i, s:s, s:i, s:s, s:{s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:s, "
	    "s:s}, s:{s:s, s:I, s:s}}",
	    "timestamp", start, "flow_id", (json_int_t)nm_flow_id(k, r->init_pod_id), "event_type",
	    "flow", "src_ip", src, "src_port", lo ? k->port_lo : k->port_hi, "dest_ip", dst,
	    "dest_port", lo ? k->port_hi : k->port_lo, "proto", proto_upper(k->proto), "flow",
	    "pkts_toserver", (json_int_t)r->pkts[0], "pkts_toclient", (json_int_t)r->pkts[1],
	    "bytes_toserver", (json_int_t)r->bytes[0], "bytes_toclient", (json_int_t)r->bytes[1],
	    "start", start, "end", end, "age",
	    (json_int_t)((r->last_tsc - r->first_tsc) / node->dp.tsc_hz), "state",
	    nm_flow_state_name(r->state), "reason", nm_flow_end_name(r->end), "nodemesh", "verdict",
	    r->verdict == NM_VERDICT_ALLOW ? "allow" : "deny", "rule_id", (json_int_t)r->rule_id,
	    "signature",
	    r->sig == NM_FLOW_SIG_PASS	    ? "passed"
	    : r->sig == NM_FLOW_SIG_BLOCKED ? "blocked"
					    : "inspected");
	if (o != NULL)
		nm_jsonlog_write(&node->alert_log, o);
	json_decref(o);
}

/* Everything the worker handed the control thread so far, to stdout. */
static void
drain(struct nm_node *node, struct tally *t, bool all)
{
	struct nm_flow_record *recs[64];
	struct nm_worker *w = node->dp.workers[0];
	unsigned int n;

	nm_node_drain_alerts(node); /* alerts first: a flow's record comes after them */
	while ((n = rte_ring_sc_dequeue_burst(w->rec_ring, (void **)recs, RTE_DIM(recs), NULL)) >
	       0) {
		for (unsigned int i = 0; i < n; i++)
			write_flow(node, recs[i]);
		t->flows_eve += n;
		rte_mempool_put_bulk(node->dp.rec_pool, (void **)recs, n);
	}
	if (all)
		nm_node_drain_http(node, true);
}

/* The capture's time as the pipeline's TSC (never 0: 0 means the real clock). */
static uint64_t
capture_tsc(const struct nm_node *node, uint64_t ts_ns, uint64_t t0_ns)
{
	uint64_t dt = ts_ns > t0_ns ? ts_ns - t0_ns : 0;

	return node->tsc0 + (uint64_t)((double)dt * (double)node->dp.tsc_hz / 1e9);
}

/* One IPv4 packet from the capture, as its source pod sends it. */
static void
replay_one(struct nm_node *node, const struct hosts *h, const uint8_t *ip, uint32_t caplen,
	   struct tally *t)
{
	struct nm_worker *w = node->dp.workers[0];
	const struct nm_pod_table *tbl = node->dp.pods;
	uint32_t src;
	uint16_t total = (uint16_t)(ip[2] << 8 | ip[3]);

	if (total < 20 || total > caplen) {
		t->cut++; /* the snapshot length cut it: what is missing cannot be scanned */
		return;
	}
	memcpy(&src, ip + 12, 4);
	int slot = host_slot(h, src);
	if (slot < 0) {
		t->not_ipv4++; /* cannot happen: survey() saw every source */
		return;
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(node->dp.pool);
	if (m == NULL) {
		t->no_mbuf++;
		return;
	}
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + total));
	if (f == NULL) {
		rte_pktmbuf_free(m);
		t->too_big++;
		return;
	}
	const struct nm_pod *pod = &tbl->pods[slot];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	eth->dst_addr = pod->port_mac;
	eth->src_addr = pod->live->pod_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memcpy(f + RTE_ETHER_HDR_LEN, ip, total);
	t->replayed++;
	nm_worker_rx_pod(w, tbl, (uint16_t)slot, &m, 1);
	nm_worker_flush(w, tbl);
}

/* Flows still open at the end, as the node's shutdown ends them. */
static void
flush_all(struct nm_node *node, struct tally *t)
{
	struct nm_worker *w = node->dp.workers[0];

	for (unsigned int s = 0; s < NM_MAX_PODS; s++) {
		const struct nm_pod *p = &node->dp.pods->pods[s];
		if (!nm_pod_present(p))
			continue;
		/* One pod at a time, drained after each: the record ring holds 4096. */
		node->dp.flush_pod_id = p->id;
		node->dp.flush_end = NM_FLOW_END_SHUTDOWN;
		node->dp.flush_seq++;
		nm_worker_housekeeping(w, w->replay_tsc);
		drain(node, t, false);
	}
	drain(node, t, true);
}

static int
replay(struct nm_node *node, const struct hosts *h, const uint8_t *buf, size_t len, uint64_t t0,
       struct tally *t, struct rte_ring *sink)
{
	struct nm_worker *w = node->dp.workers[0];
	struct nm_pcap p;
	struct nm_pcap_pkt pkt;
	uint64_t last_sweep = t0, latest = t0;
	char err[256];

	if (nm_pcap_open(&p, buf, len, err, sizeof(err)) < 0)
		return -1;	 /* cannot happen: survey() read it */
	w->sigs = node->dp.sigs; /* what the top of a worker turn does */
	w->tnl = node->dp.tnl;
	while (nm_pcap_next(&p, &pkt, err, sizeof(err)) == 1) {
		const uint8_t *ip;
		uint32_t iplen;

		t->records++;
		/* Time never runs backwards for the flow table, even if the capture's does. */
		if (pkt.ts_ns > latest)
			latest = pkt.ts_ns;
		w->replay_tsc = capture_tsc(node, latest, t0);
		if (nm_pcap_ipv4(p.linktype, pkt.data, pkt.caplen, &ip, &iplen) < 0)
			t->not_ipv4++;
		else
			replay_one(node, h, ip, iplen, t);
		sink_drain(sink);
		nm_worker_housekeeping(w, w->replay_tsc);
		/* A whole sweep per second of capture: expiry keeps to capture time. */
		if (latest - last_sweep >= SWEEP_NS) {
			for (uint32_t k = 0; k < FLOWS / NM_FLOW_SWEEP; k++)
				nm_worker_housekeeping(w, w->replay_tsc);
			last_sweep = latest;
		}
		if (t->records % DRAIN_EVERY == 0)
			drain(node, t, false);
	}
	flush_all(node, t);
	sink_drain(sink);
	return 0;
}

static void
summary(const struct nm_node *node, const struct tally *t)
{
	const struct nm_worker *w = node->dp.workers[0];

	fprintf(stderr,
		"nm-replay: %" PRIu64 " records, %" PRIu64 " IPv4 packets replayed, %" PRIu64
		" not IPv4, %" PRIu64 " cut by the snapshot length, %" PRIu64
		" too big for an mbuf, %" PRIu64 " without an mbuf\n",
		t->records, t->replayed, t->not_ipv4, t->cut, t->too_big, t->no_mbuf);
	fprintf(stderr,
		"nm-replay: %" PRIu64 " alerts (%" PRIu64 " lost), %" PRIu64
		" http events (%" PRIu64 " records lost), %" PRIu64 " flows (%" PRIu64
		" records lost)\n",
		node->alerts_written, w->sc.alerts_lost, node->http.written, w->sc.http_events_lost,
		t->flows_eve, w->flows.c.records_lost);
	for (unsigned int r = 1; r < NM_DROP_MAX; r++)
		if (w->c.drops[r] > 0)
			fprintf(stderr, "nm-replay: dropped %" PRIu64 " as %s\n", w->c.drops[r],
				nm_drop_name(r));
}

/* The node nm-replay drives: one worker, no store, EVE lines to stdout. */
static struct nm_node *
node_make(const struct opts *o)
{
	struct nm_config cfg;
	char err[768];

	nm_config_defaults(&cfg);
	cfg.mbufs = 8192;
	cfg.flow_capacity = FLOWS;
	cfg.store.dir[0] = '\0';
	cfg.flow_log[0] = '\0';
	cfg.default_allow = !o->deny;
	snprintf(cfg.alert_log, sizeof(cfg.alert_log), "/dev/stdout");
	snprintf(cfg.sig_file, sizeof(cfg.sig_file), "%s", o->rules);
	if (o->policy != NULL)
		snprintf(cfg.rules_file, sizeof(cfg.rules_file), "%s", o->policy);
	if (o->vars != NULL && nm_sig_vars_load(o->vars, &cfg.sig_vars, err, sizeof(err)) < 0) {
		fprintf(stderr, "nm-replay: --vars %s\n", err);
		return NULL;
	}
	struct nm_node *node = nm_node_create(&cfg, err, sizeof(err));
	if (node == NULL)
		fprintf(stderr, "nm-replay: %s\n", err);
	return node;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct hosts h = {0};
	struct tally t = {0};
	struct rte_ring *sink = NULL;
	size_t len = 0;
	uint64_t t0;
	int rc = 1, port = -1;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	uint8_t *buf = slurp(o.capture, &len);
	if (buf == NULL || survey(o.capture, buf, len, &h, NM_MAX_PODS, &t0) < 0) {
		free(buf);
		return 1;
	}

	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=nm-replay-%d", (int)getpid());
	char *eal[] = {argv[0],
		       "--no-huge",
		       "-m",
		       "512",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "--log-level=*:error",
		       prefix,
		       "--lcores=0@0,1@0"};
	optind = 1; /* EAL parses its own arguments with getopt too */
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "nm-replay: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		free(buf);
		return 1;
	}
	/* --no-shconf, --no-telemetry: the runtime directory stays empty; removed at the end. */
	char rundir[PATH_MAX];
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	struct nm_node *node = node_make(&o);
	if (node == NULL)
		goto out;
	port = sink_create(node->dp.pool, &sink);
	if (port < 0 || pods_add(node, &h, (uint16_t)port) < 0) {
		fprintf(stderr, "nm-replay: setting up the pods failed\n");
		goto out;
	}
	/* Record times are capture times: the first packet is tsc0. */
	node->tsc0 = rte_rdtsc();
	node->wall_ns0 = t0;
	if (replay(node, &h, buf, len, t0, &t, sink) == 0) {
		summary(node, &t);
		rc = 0;
	}
out:
	if (node != NULL)
		pods_free(node, port);
	nm_node_destroy(node);
	rte_eal_cleanup();
	(void)rmdir(rundir);
	free(buf);
	return rc;
}
