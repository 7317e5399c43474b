/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemeshctl: send one request to a nodemeshd control socket and print
 * the answer, as tables for a person or as the raw JSON line (--json).
 * Exit status: 0 ok, 1 the daemon refused the request, 2 no answer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_client.h"
#include "ctl_store.h"
#include "request.h"

#define DEFAULT_SOCKET "/run/nodemesh/nodemesh.sock"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: nodemeshctl [-s PATH] [--json] [-t SECONDS] COMMAND [key=value ...]\n"
		"       nodemeshctl [--store DIR] [--json] flows WORD [key=value ...]\n"
		"\n"
		"  -s, --socket PATH   control socket (default %s, or $NODEMESH_SOCKET)\n"
		"  -j, --json          print the daemon's JSON answer as it is\n"
		"  -t, --timeout SEC   give up after SEC seconds without an answer (default 10)\n"
		"      --store DIR     the store's directory for flows query|graph|verify\n"
		"                      (default $NODEMESH_STORE, else the daemon's store_dir)\n"
		"  -h, --help          this text\n"
		"\n"
		"Commands (the daemon's own list: nodemeshctl help):\n"
		"  help | version | stats | metrics (Prometheus text)\n"
		"  observe [pod=P] [namespace=NS] [identity=NS/SA|unknown] "
		"[type=flow|drop|alert|http]\n"
		"          [verdict=allow|deny]   (follows the events until interrupted;\n"
		"          with since=N it answers once: the events after N)\n"
		"  pod add name=N namespace=NS ip=A.B.C.D iface=IF [container=ID]\n"
		"          [serviceaccount=SA [labels=k=v,...] [image=REF]] [mac=MAC]\n"
		"          [driver=af_packet|af_xdp]\n"
		"  pod add ... driver=memif socket=PATH     (a memif pod has no iface)\n"
		"  pod del name=N [namespace=NS] | pod del container=ID\n"
		"  pod list\n"
		"  identity set namespace=NS name=POD serviceaccount=SA [labels=k=v,...]\n"
		"          [image=REF]\n"
		"  identity del namespace=NS name=POD | identity list\n"
		"  policy add allow|deny from SEL to SEL [proto P] [port N] [rate R] [burst N]\n"
		"  policy del id=N | policy list | policy load file=PATH\n"
		"  policy default allow|deny\n"
		"  flow list [pod=NAME] [limit=N] | flow flush [pod=NAME]\n"
		"  flow show src=IP[:PORT] dst=IP[:PORT] [proto=tcp|udp|icmp]\n"
		"  sig load file=PATH | sig list | sig stats\n"
		"  (sig load waits for the background compile and prints its outcome)\n"
		"  peer add name=N address=IP:PORT fabric_ip=IP pod_cidr=A.B.C.D/LEN\n"
		"  peer del name=N | peer list | pod list remote\n"
		"  tunnel list [limit=N] [after=NAME] | tunnel list peer=NAME\n"
		"          (in name order; the answer's next is the after= of the next page)\n"
		"  tunnel rekey peer=N | cert reload | cert status\n"
		"  (cert reload waits for the background load and prints its outcome)\n"
		"  config reload                           (apply the daemon's config file again)\n"
		"\n"
		"The forensic store (nodemeshctl reads its files itself; a time T is\n"
		"ISO 8601, now, or relative: -30s -15m -2h -7d):\n"
		"  flows query [since=T] [until=T] [pod=] [namespace=] [identity=NS/SA]\n"
		"          [image=] [peer=POD|IP] [verdict=allow|deny] [sid=N] [url=TEXT]\n"
		"          [limit=N]\n"
		"  flows graph [the same filters]      (Graphviz DOT; --json for the edges)\n"
		"  flows verify [day=YYYY-MM-DD]       (each day's hash chain)\n",
		DEFAULT_SOCKET);
}

/* One request and its answer line; on failure the reason goes to stderr. */
static char *
transact(const char *path, const char *line, int timeout_s)
{
	char err[512];
	int sys_errno;
	char *answer = nm_ctl_transact(path, line, timeout_s, &sys_errno, err, sizeof(err));

	if (answer == NULL)
		fprintf(stderr, "nodemeshctl: %s\n", err);
	return answer;
}

static json_int_t
geti(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *
gets_(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : "-";
}

static void
print_pods(const json_t *pods)
{
	size_t i;
	json_t *p;

	printf("%-16s %-24s %-15s %-12s %3s %10s %12s %10s %12s %8s\n", "POD", "IDENTITY", "IP",
	       "IFACE", "WRK", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS");
	json_array_foreach(pods, i, p)
	{
		char ident[160];
		snprintf(ident, sizeof(ident), "%s/%s", gets_(p, "namespace"),
			 gets_(p, "serviceaccount"));
		printf("%-16s %-24s %-15s %-12s %3lld %10lld %12lld %10lld %12lld %8lld\n",
		       gets_(p, "name"), ident, gets_(p, "ip"), gets_(p, "iface"),
		       (long long)geti(p, "worker"), (long long)geti(p, "rx_packets"),
		       (long long)geti(p, "rx_bytes"), (long long)geti(p, "tx_packets"),
		       (long long)geti(p, "tx_bytes"), (long long)geti(p, "drops"));
	}
	if (json_array_size(pods) == 0)
		printf("(no pods)\n");
}

static void
print_remote_pods(const json_t *r)
{
	const json_t *pods = json_object_get(r, "remote_pods");
	size_t i;
	json_t *p;

	printf("%-28s %-10s %-15s %-28s %s\n", "POD", "NODE", "IP", "IDENTITY", "LABELS");
	json_array_foreach(pods, i, p)
	{
		char ident[160];
		snprintf(ident, sizeof(ident), "%s/%s (%lld)", gets_(p, "namespace"),
			 gets_(p, "serviceaccount"), (long long)geti(p, "identity"));
		printf("%-28s %-10s %-15s %-28s %s\n", gets_(p, "name"), gets_(p, "node"),
		       gets_(p, "ip"), ident, gets_(p, "labels"));
	}
	if (json_array_size(pods) == 0)
		printf("(no remote pods)\n");
	else if ((long long)json_array_size(pods) < geti(r, "total"))
		printf("(%zu of %lld remote pods: pod list remote limit=N peer=NAME)\n",
		       json_array_size(pods), (long long)geti(r, "total"));
}

/* peer list, and tunnel list (with tunnel = the dataplane's counters). */
static void
print_peers(const json_t *peers, bool tunnel)
{
	size_t i;
	json_t *p;

	if (!tunnel)
		printf("%-12s %-21s %-15s %-18s %-10s %8s %8s  %s\n", "PEER", "ADDRESS",
		       "FABRIC_IP", "POD_CIDR", "STATE", "SESSIONS", "FAILURES", "LAST_ERROR");
	else
		printf("%-12s %-10s %5s %6s %10s %12s %10s %12s %8s %8s\n", "PEER", "STATE",
		       "EPOCH", "REKEYS", "TX_PKTS", "TX_BYTES", "RX_PKTS", "RX_BYTES", "NO_KEY",
		       "REJECTED");
	json_array_foreach(peers, i, p)
	{
		if (!tunnel) {
			char addr[64];
			snprintf(addr, sizeof(addr), "%s:%lld", gets_(p, "address"),
				 (long long)geti(p, "port"));
			printf("%-12s %-21s %-15s %-18s %-10s %8lld %8lld  %s\n", gets_(p, "name"),
			       addr, gets_(p, "fabric_ip"), gets_(p, "pod_cidr"), gets_(p, "state"),
			       (long long)geti(p, "sessions"), (long long)geti(p, "failures"),
			       gets_(p, "last_error"));
			continue;
		}
		printf("%-12s %-10s %5lld %6lld %10lld %12lld %10lld %12lld %8lld %8lld\n",
		       gets_(p, "name"), gets_(p, "state"), (long long)geti(p, "epoch"),
		       (long long)geti(p, "rekeys"), (long long)geti(p, "tx_packets"),
		       (long long)geti(p, "tx_bytes"), (long long)geti(p, "rx_packets"),
		       (long long)geti(p, "rx_bytes"), (long long)geti(p, "dropped_no_key"),
		       (long long)geti(p, "rejected_total"));
	}
	if (json_array_size(peers) == 0)
		printf("(no peers)\n");
}

/* Peers by state and the handshake budget (peer list, tunnel list). */
static void
print_summary(const json_t *s)
{
	const json_t *hs = json_object_get(s, "handshakes");

	if (s == NULL)
		return;
	printf("peers: %lld of %lld slots, %lld up, %lld keying, %lld connecting, %lld idle; "
	       "handshakes: %lld started, %lld deferred (%lld/s, burst %lld)\n",
	       (long long)geti(s, "configured"), (long long)geti(s, "max_peers"),
	       (long long)geti(s, "up"), (long long)geti(s, "keying"),
	       (long long)geti(s, "connecting"), (long long)geti(s, "idle"),
	       (long long)geti(hs, "started"), (long long)geti(hs, "deferred"),
	       (long long)geti(hs, "rate"), (long long)geti(hs, "burst"));
}

/* The tunnel listener's refusals of unauthenticated connections (peer list). */
static void
print_listener(const json_t *l)
{
	const char *k;
	json_t *v;

	if (l == NULL)
		return;
	printf("listener: %lld accepted, %lld pending, %lld refused",
	       (long long)geti(l, "accepted"), (long long)geti(l, "pending"),
	       (long long)geti(l, "refused_total"));
	json_object_foreach(json_object_get(l, "refused"), k, v)
	{
		if (json_integer_value(v) != 0)
			printf(" %s=%lld", k, (long long)json_integer_value(v));
	}
	printf("\n");
}

static void
print_drops(const char *title, const json_t *drops)
{
	const char *k;
	json_t *v;
	int any = 0;

	json_object_foreach((json_t *)drops, k, v)
	{
		if (json_integer_value(v) == 0)
			continue;
		if (!any)
			printf("%s\n", title);
		printf("  %-28s %12lld\n", k, (long long)json_integer_value(v));
		any = 1;
	}
	if (!any)
		printf("%s none\n", title);
}

static void print_rules(const json_t *r);

static void
print_stats(const json_t *r)
{
	size_t i;
	json_t *w;

	printf("node %s: %lld pods, rx %lld, tx %lld, dropped %lld packets\n\n", gets_(r, "node"),
	       (long long)geti(r, "pod_count"), (long long)geti(r, "rx_packets"),
	       (long long)geti(r, "tx_packets"), (long long)geti(r, "dropped"));
	printf("%-6s %-5s %12s %12s %10s %10s %8s %8s %8s\n", "WORKER", "LCORE", "RX_PKTS",
	       "TX_PKTS", "HANDOFF_O", "HANDOFF_I", "ARP_REP", "ICMP", "REASM");
	json_array_foreach(json_object_get(r, "workers"), i, w)
	{
		printf("%-6lld %-5lld %12lld %12lld %10lld %10lld %8lld %8lld %8lld\n",
		       (long long)geti(w, "worker"), (long long)geti(w, "lcore"),
		       (long long)geti(w, "rx_packets"), (long long)geti(w, "tx_packets"),
		       (long long)geti(w, "handoff_out"), (long long)geti(w, "handoff_in"),
		       (long long)geti(w, "arp_replies"), (long long)geti(w, "icmp_sent"),
		       (long long)geti(w, "reassembled"));
	}
	printf("\n");
	print_pods(json_object_get(r, "pods"));
	printf("\n");
	const json_t *fl = json_object_get(r, "flows");
	printf("flows: %lld active of %lld, %lld refused (table full), %lld records written\n\n",
	       (long long)geti(fl, "active"), (long long)geti(fl, "capacity"),
	       (long long)geti(fl, "refused"), (long long)geti(fl, "records_written"));
	print_rules(json_object_get(r, "policy"));
	printf("\n");
	print_drops("drops by reason:", json_object_get(r, "drops"));

	const json_t *logs = json_object_get(r, "logs");
	const char *const log_names[] = {"flows", "alerts"};
	printf("\n");
	for (i = 0; i < 2; i++) {
		const json_t *l = json_object_get(logs, log_names[i]);
		printf("%s log %s: %lld written, %lld lost%s%s\n", log_names[i], gets_(l, "path"),
		       (long long)geti(l, "written"), (long long)geti(l, "lost"),
		       json_is_true(json_object_get(l, "failing")) ? ", failing: " : "",
		       json_is_true(json_object_get(l, "failing")) ? gets_(l, "error") : "");
	}
	const json_t *ctl = json_object_get(r, "control");
	printf("control socket: %lld of %lld connections; refused %lld (denied) %lld (full), "
	       "silent evicted %lld, idle closed %lld, unread dropped %lld\n",
	       (long long)geti(ctl, "connections"), (long long)geti(ctl, "max_connections"),
	       (long long)geti(ctl, "refused_denied"), (long long)geti(ctl, "refused_full"),
	       (long long)geti(ctl, "evicted_silent"), (long long)geti(ctl, "closed_idle"),
	       (long long)geti(ctl, "dropped_unread"));
}

static void
print_rules(const json_t *r)
{
	size_t i;
	json_t *rule;

	printf("default: %s (flows %lld, drops %lld)\n", gets_(r, "default"),
	       (long long)geti(r, "default_flows"), (long long)geti(r, "default_drops"));
	printf("%-5s %10s %10s  %s\n", "ID", "FLOWS", "DROPS", "RULE");
	json_array_foreach(json_object_get(r, "rules"), i, rule)
	{
		printf("%-5lld %10lld %10lld  %s\n", (long long)geti(rule, "id"),
		       (long long)geti(rule, "flows"), (long long)geti(rule, "drops"),
		       gets_(rule, "rule"));
	}
	if (json_array_size(json_object_get(r, "rules")) == 0)
		printf("(no rules)\n");
}

static void
print_sigs(const json_t *r)
{
	size_t i;
	json_t *s;

	if (!json_is_true(json_object_get(r, "loaded"))) {
		printf("(no signatures loaded)\n");
		return;
	}
	printf("file %s, generation %lld, compiled in %.0f ms, %lld bytes of stream state\n",
	       gets_(r, "file"), (long long)geti(r, "generation"),
	       json_real_value(json_object_get(r, "compile_ms")),
	       (long long)geti(r, "stream_state_bytes"));
	printf("%-10s %-4s %-7s %-5s %10s  %s\n", "SID", "REV", "ACTION", "PROTO", "HITS", "MSG");
	json_array_foreach(json_object_get(r, "signatures"), i, s)
	    printf("%-10lld %-4lld %-7s %-5s %10lld  %s\n", (long long)geti(s, "sid"),
		   (long long)geti(s, "rev"), gets_(s, "action"), gets_(s, "proto"),
		   (long long)geti(s, "hits"), gets_(s, "msg"));
}

static void
print_flows(const json_t *flows)
{
	size_t i;
	json_t *f;

	printf("%-10s %-5s %-21s %-21s %-11s %8s %8s %6s %5s %7s\n", "SIDE", "PROTO", "SRC", "DST",
	       "STATE", "PKTS_O", "PKTS_R", "VERDCT", "RULE", "AGE_S");
	json_array_foreach(flows, i, f)
	{
		const json_t *src = json_object_get(f, "src"), *dst = json_object_get(f, "dst");
		char a[64], b[64];
		snprintf(a, sizeof(a), "%s:%lld", gets_(src, "ip"), (long long)geti(src, "port"));
		snprintf(b, sizeof(b), "%s:%lld", gets_(dst, "ip"), (long long)geti(dst, "port"));
		printf("%-10s %-5s %-21s %-21s %-11s %8lld %8lld %6s %5lld %7.1f\n",
		       gets_(f, "side"), gets_(f, "proto"), a, b, gets_(f, "state"),
		       (long long)geti(json_object_get(f, "packets"), "orig"),
		       (long long)geti(json_object_get(f, "packets"), "reply"), gets_(f, "verdict"),
		       (long long)geti(f, "rule_id"), json_real_value(json_object_get(f, "age_s")));
	}
	if (json_array_size(flows) == 0)
		printf("(no flows)\n");
}

static void
print_generic(const json_t *r)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)r, k, v)
	{
		if (strcmp(k, "ok") == 0)
			continue;
		char *s = json_is_string(v) ? strdup(json_string_value(v))
					    : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s: %s\n", k, s ? s : "?");
		free(s);
	}
}

/*
 * Commands the daemon answers at once ({"loading":true,"<id_key>":N}) and
 * finishes in the background: `sig load` compiles, `cert reload` reads the
 * certificate files. The CLI waits for the outcome by polling a status
 * command, so it prints what the command used to answer.
 */
struct background {
	const char *status_cmd; /* polled for the outcome */
	const char *group;	/* object of its answer holding loading and last_key (NULL: top) */
	const char *last_key;	/* the outcome of the last job */
	const char *id_key;	/* the job's number in the first answer and in the outcome */
	const char *what;	/* the command, for errors */
	const char *noun;	/* what one job is called */
	const char *see;	/* where to look when another job finished first */
	useconds_t poll_us;
};

static const struct background sig_load = {"sig stats", "signatures", "last_load", "load_id",
					   "sig load",	"load",	      "sig list",  100 * 1000};
static const struct background cert_reload = {"cert status", NULL,     "last_reload", "reload_id",
					      "cert reload", "reload", "cert status", 20 * 1000};

/*
 * Poll b's status until job id finished; return its outcome as the command's
 * answer ({"ok":true,...} or {"ok":false,"error":...}), or NULL if the
 * daemon stops answering.
 */
static json_t *
wait_background(const char *path, const struct background *b, json_int_t id, int timeout_s)
{
	char msg[160];

	for (;;) {
		char *a = transact(path, b->status_cmd, timeout_s);
		if (a == NULL)
			return NULL;
		json_t *st = json_loads(a, 0, NULL);
		free(a);
		json_t *g = b->group != NULL ? json_object_get(st, b->group) : st;
		json_t *last = json_object_get(g, b->last_key);
		json_int_t last_id = json_integer_value(json_object_get(last, "id"));
		json_int_t loading_id =
		    json_integer_value(json_object_get(json_object_get(g, "loading"), "id"));
		json_t *out = NULL;

		if (last_id == id) {
			out = json_deep_copy(last);
			json_object_del(out, "id");
			json_object_set_new(out, b->id_key, json_integer(id));
		} else if (last_id > id) {
			snprintf(msg, sizeof(msg), "%s: a later %s finished first; see %s", b->what,
				 b->noun, b->see);
			out = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
		} else if (loading_id != id) {
			/* Neither running nor finished: the daemon restarted, or no status. */
			snprintf(msg, sizeof(msg),
				 "%s: the daemon no longer knows this %s (restarted?)", b->what,
				 b->noun);
			out = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
		}
		json_decref(st);
		if (out != NULL)
			return out;
		usleep(b->poll_us);
	}
}

/*
 * flows query|graph|verify: read the store's files here, not through the
 * daemon (a long query never holds up its control thread, and the store
 * answers after the daemon is gone). The directory comes from --store,
 * $NODEMESH_STORE, or the daemon's stats.
 */
static int
flows(const char *path, const char *store, int timeout_s, int argc, char **argv, int as_json)
{
	char dir[256];

	if (store == NULL) {
		char *a = transact(path, "stats", timeout_s);
		json_t *st = a ? json_loads(a, 0, NULL) : NULL;
		const char *d = json_string_value(
		    json_object_get(json_object_get(json_object_get(st, "logs"), "store"), "dir"));
		free(a);
		if (d == NULL || d[0] == '\0') {
			fprintf(stderr, "nodemeshctl: flows: %s; say --store DIR\n",
				st == NULL ? "no daemon to ask where the store is"
					   : "the daemon keeps no store (logs.store_dir is \"\")");
			json_decref(st);
			return 2;
		}
		snprintf(dir, sizeof(dir), "%s", d);
		json_decref(st);
		store = dir;
	}
	return nm_ctl_flows(store, argc, argv, as_json != 0);
}

static volatile sig_atomic_t observe_stop;

static void
on_observe_signal(int sig)
{
	(void)sig;
	observe_stop = 1;
}

/* "pod (ns/sa) ip:port", or "ip:port" for an address of no pod. */
static void
print_endpoint(const json_t *e)
{
	const char *pod = gets_(e, "pod");
	json_int_t port = geti(e, "port");

	if (pod[0] != '\0') {
		const char *sa = gets_(e, "serviceaccount");
		printf("%s (%s/%s) ", pod, gets_(e, "namespace"), sa[0] ? sa : "?unknown");
	}
	printf(port ? "%s:%lld" : "%s", gets_(e, "ip"), (long long)port);
}

static void
print_event(const json_t *ev)
{
	const char *type = gets_(ev, "type");
	bool eve = strcmp(type, "alert") == 0 || strcmp(type, "http") == 0; /* EVE-shaped */
	const char *what = strcmp(type, "drop") == 0 ? gets_(ev, "reason")
			   : strcmp(type, "alert") == 0
			       ? gets_(json_object_get(ev, "alert"), "signature")
			       : gets_(ev, "verdict");
	const char *time = gets_(ev, eve ? "timestamp" : "time");
	char txn[96];

	if (strcmp(type, "http") == 0) {
		/* "GET /path 200": a request without its response shows "-". */
		const json_t *h = json_object_get(ev, "http");
		json_int_t status = geti(h, "status");
		snprintf(txn, sizeof(txn), status ? "%s %.64s %lld" : "%s %.64s -",
			 gets_(h, "http_method"), gets_(h, "url"), (long long)status);
		what = txn;
	}
	printf("%s  %-5s %-5s %-22s ", time, type, gets_(ev, "event"), what);
	if (json_object_get(ev, "src") != NULL) {
		print_endpoint(json_object_get(ev, "src"));
		printf(" -> ");
		print_endpoint(json_object_get(ev, "dst"));
		printf(" %s", gets_(ev, "proto"));
	}
	printf("\n");
}

/*
 * observe: ask for the events after the last one seen, four times a
 * second, until interrupted. The daemon keeps the events; we only follow.
 */
static int
observe(const char *path, const char *filters, bool as_json, int timeout_s)
{
	char line[NM_REQ_MAX_LINE + 64];
	json_int_t since = 0;

	signal(SIGINT, on_observe_signal);
	signal(SIGTERM, on_observe_signal);
	while (!observe_stop) {
		snprintf(line, sizeof(line), "observe since=%lld%s%s", (long long)since,
			 filters[0] ? " " : "", filters);
		char *a = transact(path, line, timeout_s);
		if (a == NULL)
			return 2;
		json_t *r = json_loads(a, 0, NULL);
		free(a);
		if (!json_is_true(json_object_get(r, "ok"))) {
			fprintf(stderr, "error: %s\n", gets_(r, "error"));
			json_decref(r);
			return 1;
		}
		if (geti(r, "lost") > 0)
			fprintf(stderr, "nodemeshctl: %lld events lost (read too slowly)\n",
				(long long)geti(r, "lost"));
		size_t i;
		json_t *ev;
		json_array_foreach(json_object_get(r, "events"), i, ev)
		{
			if (as_json) {
				char *t = json_dumps(ev, JSON_COMPACT);
				printf("%s\n", t);
				free(t);
			} else {
				print_event(ev);
			}
		}
		fflush(stdout);
		since = geti(r, "next");
		json_decref(r);
		usleep(250000);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},  {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'}, {"store", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	const char *path = getenv("NODEMESH_SOCKET") ? getenv("NODEMESH_SOCKET") : DEFAULT_SOCKET;
	const char *store = getenv("NODEMESH_STORE");
	int as_json = 0, timeout_s = 10, c;

	while ((c = getopt_long(argc, argv, "+s:jt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 't':
			timeout_s = atoi(optarg);
			if (timeout_s <= 0) {
				fprintf(stderr, "nodemeshctl: --timeout needs a positive number\n");
				return 2;
			}
			break;
		case 'S':
			store = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "flows") == 0)
		return flows(path, store, timeout_s, argc - optind - 1, argv + optind + 1, as_json);

	char line[NM_REQ_MAX_LINE + 1] = "";
	size_t used = 0;
	for (int i = optind; i < argc; i++) {
		if (strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr, "nodemeshctl: argument '%s' contains blanks\n", argv[i]);
			return 2;
		}
		int n = snprintf(line + used, sizeof(line) - used, "%s%s", i > optind ? " " : "",
				 argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - used) {
			fprintf(stderr, "nodemeshctl: request longer than %d bytes\n",
				NM_REQ_MAX_LINE);
			return 2;
		}
		used += (size_t)n;
	}

	/* observe follows; observe since=N asks once (for scripts). */
	if (strcmp(argv[optind], "observe") == 0 && strstr(line, " since=") == NULL)
		return observe(path, line + strlen("observe") + (line[7] == ' '), as_json,
			       timeout_s);
	char *answer = transact(path, line, timeout_s);
	if (answer == NULL)
		return 2;
	json_error_t jerr;
	json_t *r = json_loads(answer, 0, &jerr);
	if (r == NULL || !json_is_object(r)) {
		fprintf(stderr, "nodemeshctl: answer is not a JSON object: %s\n", jerr.text);
		free(answer);
		return 2;
	}
	bool is_sig = strcmp(argv[optind], "sig") == 0;
	if (json_is_true(json_object_get(r, "loading")) &&
	    (is_sig || strcmp(argv[optind], "cert") == 0)) {
		const struct background *b = is_sig ? &sig_load : &cert_reload;
		json_t *done = wait_background(path, b, geti(r, b->id_key), timeout_s);
		json_decref(r);
		free(answer);
		if (done == NULL)
			return 2;
		r = done;
		answer = json_dumps(r, JSON_COMPACT);
	}
	int ok = json_is_true(json_object_get(r, "ok"));
	if (as_json) {
		printf("%s\n", answer);
	} else if (!ok) {
		fprintf(stderr, "error: %s\n", gets_(r, "error"));
	} else if (strcmp(argv[optind], "stats") == 0) {
		print_stats(r);
	} else if (strcmp(argv[optind], "metrics") == 0) {
		fputs(gets_(r, "text"), stdout);
	} else if (json_object_get(r, "rules") != NULL &&
		   json_is_array(json_object_get(r, "rules"))) {
		print_rules(r);
	} else if (json_is_array(json_object_get(r, "signatures"))) {
		print_sigs(r);
	} else if (json_object_get(r, "flows") != NULL) {
		print_flows(json_object_get(r, "flows"));
	} else if (json_object_get(r, "remote_pods") != NULL) {
		print_remote_pods(r);
	} else if (json_object_get(r, "peers") != NULL) {
		print_peers(json_object_get(r, "peers"), false);
		print_listener(json_object_get(r, "listener"));
		print_summary(json_object_get(r, "summary"));
	} else if (json_object_get(r, "tunnels") != NULL) {
		print_peers(json_object_get(r, "tunnels"), true);
		if (json_is_string(json_object_get(r, "next")))
			printf("(more: tunnel list after=%s)\n", gets_(r, "next"));
		print_summary(json_object_get(r, "summary"));
	} else if (json_object_get(r, "pods") != NULL) {
		print_pods(json_object_get(r, "pods"));
	} else if (json_object_get(r, "commands") != NULL) {
		size_t i;
		json_t *cmd;
		json_array_foreach(json_object_get(r, "commands"), i, cmd)
		    printf("  %-40s  %s\n", gets_(cmd, "usage"), gets_(cmd, "help"));
	} else {
		print_generic(r);
	}
	json_decref(r);
	free(answer);
	return ok ? 0 : 1;
}
