/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemeshd: start-up and shutdown. Reads the config, initialises DPDK,
 * creates the packet pools, handoff rings and workers, attaches static
 * pods, restores the run-time state, then runs the control thread (control
 * socket) on the main lcore until SIGINT or SIGTERM. SIGHUP reopens the
 * logs. Tells systemd (sd_notify) when it is ready, reloading, stopping,
 * and that every worker still turns (the watchdog). With --takeover it
 * takes the state and the control socket of the daemon running on the
 * same socket path instead (ctrl/takeover.c), and that one exits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "node_priv.h"
#include "commands.h"
#include "loop_wait.h"
#include "metrics_http.h"
#include "telemetry.h"
#include "node.h"
#include "peers.h"
#include "sd_notify.h"
#include "jobs.h"
#include "server.h"
#include "takeover.h"

/*
 * An idle turn's poll: also how often finished flows reach the flow log. A
 * worker's record ring (NM_REC_RING_SIZE, 4096) fills in 41 ms at 100 k
 * records a second, so an idle loop must come round sooner than that.
 */
#define CONTROL_POLL_MS 25
#define BUSY_POLL_MS	5  /* after a turn that drained records: they keep coming */
#define PEER_POLL_MS	10 /* each of the socket and the peers, when there are tunnels */
#define JOB_POLL_MS                                                                                \
	20 /* while a job runs (sig load, cert reload), so its end is applied promptly */

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t reopen_logs;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGHUP: logrotate moved the logs away; the control thread reopens them
 * at its next turn (ctrl/node_reload.c). Only the flag here: the logs are
 * the control thread's, and a record being written must finish first.
 */
static void
on_hup(int sig)
{
	(void)sig;
	reopen_logs = 1;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: nodemeshd -c FILE [-s PATH] [--state PATH] [--file-prefix NAME]\n"
		     "                 [--takeover]\n"
		     "\n"
		     "One dataplane per node: forwards, polices and records the traffic of every\n"
		     "pod on this node. Runs in the foreground; SIGINT or SIGTERM stop it,\n"
		     "SIGHUP reopens the log files (logrotate), `nodemeshctl config reload`\n"
		     "applies a changed config file. Speaks sd_notify under systemd.\n"
		     "\n"
		     "  -c, --config FILE       libconfig file (see conf/nodemesh.conf)\n"
		     "  -s, --socket PATH       control socket, overrides control.socket\n"
		     "      --state PATH        run-time state file, overrides state.file\n"
		     "      --file-prefix NAME  DPDK runtime prefix, overrides eal.file_prefix\n"
		     "      --takeover          take over from the nodemeshd running on the same\n"
		     "                          control socket (root only): its state, pods and\n"
		     "                          socket; it exits. DPDK prefix: NAME-to<pid>\n"
		     "      --commands          print the control commands (what help answers)\n"
		     "  -h, --help              this text\n"
		     "  -V, --version           print the version\n");
}

struct options {
	const char *config;
	const char *socket;
	const char *file_prefix;
	const char *state;
	bool takeover;
};

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"file-prefix", required_argument, NULL, 'p'},
	    {"state", required_argument, NULL, 'S'},
	    {"takeover", no_argument, NULL, 'T'},
	    {"commands", no_argument, NULL, 'C'}, /* the command table, for the man page test */
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'p':
			o->file_prefix = optarg;
			break;
		case 'S':
			o->state = optarg;
			break;
		case 'T':
			o->takeover = true;
			break;
		case 'C':
			nm_commands_print(stdout);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("nodemeshd %s\n", NM_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nodemeshd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	if (o->config == NULL) {
		fprintf(stderr, "nodemeshd: -c FILE is required\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static char *
render_metrics(void *node, size_t *len)
{
	return nm_node_metrics_text(node, len);
}

/* DPDK telemetry answers from a snapshot of stats, renewed once a second. */
static void
publish_telemetry(struct nm_node *node)
{
	static uint64_t last_ms;
	uint64_t now = nm_mono_ns() / 1000000u;

	if (now - last_ms < 1000)
		return;
	last_ms = now;
	nm_telemetry_publish(nm_node_stats_json(node));
}

/* The file and the command line's overrides, as a reload will read them again. */
static void
config_source(const struct options *o, struct nm_config_source *src)
{
	char *abs = realpath(o->config, NULL); /* the daemon does not chdir, but be sure */

	memset(src, 0, sizeof(*src));
	snprintf(src->path, sizeof(src->path), "%s", abs != NULL ? abs : o->config);
	free(abs);
	src->has_socket = o->socket != NULL;
	if (o->socket != NULL)
		snprintf(src->socket, sizeof(src->socket), "%s", o->socket);
	src->has_file_prefix = o->file_prefix != NULL;
	if (o->file_prefix != NULL)
		snprintf(src->file_prefix, sizeof(src->file_prefix), "%s", o->file_prefix);
	src->has_state = o->state != NULL;
	if (o->state != NULL)
		snprintf(src->state, sizeof(src->state), "%s", o->state);
}

/* SIGHUP: reopen both logs where they are (logrotate moved the old files away). */
static void
reopen(struct nm_node *node)
{
	char err[512];

	reopen_logs = 0;
	if (nm_node_logs_reopen(node, err, sizeof(err)) < 0)
		fprintf(stderr, "nodemeshd: SIGHUP: %s; the logs stay open where they were\n", err);
	else
		fprintf(stderr, "nodemeshd: SIGHUP: reopened the logs\n");
}

static int
eal_init(const struct nm_config *cfg)
{
	char *argv[NM_CFG_MAX_EAL_ARGS + 8];
	int argc = 0;

	argv[argc++] = (char *)"nodemeshd";
	/* --lcores takes "0-1" as -l does, and also "0@0,(1,2)@1" to share CPUs. */
	argv[argc++] = (char *)"--lcores";
	argv[argc++] = (char *)cfg->lcores;
	argv[argc++] = (char *)"--file-prefix";
	argv[argc++] = (char *)cfg->file_prefix;
	for (unsigned int i = 0; i < cfg->n_eal_args; i++)
		argv[argc++] = (char *)cfg->eal_args[i];
	argv[argc] = NULL;
	return rte_eal_init(argc, argv);
}

/* The config file with the command line's overrides (src); NULL (said) on error. */
static struct nm_config *
load_config(const struct options *opt, struct nm_config_source *src)
{
	struct nm_config *cfg = calloc(1, sizeof(*cfg));
	char err[512];

	if (cfg == NULL)
		return NULL;
	config_source(opt, src);
	if (nm_config_load_source(src, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "nodemeshd: %s\n", err);
		free(cfg);
		return NULL;
	}
	return cfg;
}

/* The /metrics endpoint if metrics.listen is set. 0, or -1 (said). */
static int
open_metrics(struct nm_node *node, struct nm_metrics_http **mh)
{
	const char *listen = node->cfg.metrics_listen;
	char host[NM_CFG_ARG_LEN], err[256];

	if (listen[0] == '\0')
		return 0;
	snprintf(host, sizeof(host), "%.*s", (int)(strrchr(listen, ':') - listen), listen);
	*mh = nm_metrics_http_open(host, node->cfg.metrics_port, err, sizeof(err));
	if (*mh == NULL) {
		fprintf(stderr, "nodemeshd: %s\n", err);
		return -1;
	}
	nm_node_set_metrics_http(node, *mh);
	return 0;
}

static void
install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sigaction hup = {.sa_handler = on_hup, .sa_flags = SA_RESTART};
	sigemptyset(&hup.sa_mask);
	sigaction(SIGHUP, &hup, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * The control thread's event loop, until SIGINT or SIGTERM: the control
 * socket, the peers, the workers' records and alerts, finished jobs, the
 * state file, /metrics and telemetry, each turn.
 */
static void
event_loop(struct nm_node *node, struct nm_server *srv, struct nm_peers *peers,
	   struct nm_metrics_http *mh)
{
	unsigned int drained = 0;

	while (!stop_signal && !nm_server_handed_over(srv)) {
		/* With peers, the socket and the peer connections take turns. */
		int poll_ms = node->cfg.n_peers > 0 || node->cfg.tunnel.fabric_iface[0]
				  ? PEER_POLL_MS
				  : CONTROL_POLL_MS;
		/* Records waiting (a full turn's share left some): come round at once. */
		if (drained >= NM_DRAIN_MAX / node->dp.n_workers * node->dp.n_workers)
			poll_ms = 0;
		else if (drained > 0 && poll_ms > BUSY_POLL_MS)
			poll_ms = BUSY_POLL_MS;
		node->loop.poll_timeout_ms = (unsigned int)poll_ms;
		nm_loop_stats_turn(&node->loop, nm_loop_waited_ns());
		/* A job's end is seen at the next turn: come round sooner while one runs. */
		bool jobs = nm_node_jobs_busy(node) || nm_node_podjob_busy(node) ||
			    nm_peers_jobs_busy(peers);
		int prc =
		    nm_server_poll(srv, jobs && poll_ms > JOB_POLL_MS ? JOB_POLL_MS : poll_ms);
		nm_peers_poll(peers, node->cfg.tunnel.fabric_iface[0] ? PEER_POLL_MS : 0);
		drained = nm_node_drain_records(node);
		nm_node_drain_alerts(node);
		nm_node_store_interim(node);
		nm_node_store_commit(node);
		nm_node_observe_poll(node);
		nm_node_jobs_poll(node);
		nm_node_podjob_poll(node);
		nm_peers_jobs_poll(peers);
		nm_node_state_flush(node);
		nm_node_watchdog_poll(node);
		if (reopen_logs)
			reopen(node);
		nm_metrics_http_poll(mh, render_metrics, node);
		publish_telemetry(node);
		if (prc < 0 && prc != -EINTR) {
			fprintf(stderr, "nodemeshd: poll failed: %s\n", strerror(-prc));
			break;
		}
	}
}

/*
 * --takeover: take a DPDK prefix of our own (the old daemon's runtime
 * files stay its own). 0 or -1 (said).
 */
static int
takeover_prepare(struct nm_config *cfg)
{
	char prefix[sizeof(cfg->file_prefix)];

	if ((size_t)snprintf(prefix, sizeof(prefix), "%s-to%d", cfg->file_prefix, (int)getpid()) >=
	    sizeof(prefix)) {
		fprintf(stderr, "nodemeshd: --takeover: file prefix '%s' too long to suffix\n",
			cfg->file_prefix);
		return -1;
	}
	memcpy(cfg->file_prefix, prefix, sizeof(prefix));
	return 0;
}

/*
 * --takeover with a fabric port: the old daemon's keys, sequences and
 * replay windows in force for the peers just restored, so records flow
 * before the new sessions are up. 0, or -1 with why.
 */
static int
takeover_tunnels(struct nm_node *node, struct nm_takeover *tk, char *why, size_t whylen)
{
	char err[400];
	unsigned int n, n_remote;

	if (!node->dp.has_fabric && tk->tunnel == NULL)
		return 0;
	if (tk->tunnel == NULL) {
		snprintf(why, whylen,
			 "the running nodemeshd sent no tunnel state (a version that cannot "
			 "hand tunnels over?)");
		return -1;
	}
	if (nm_takeover_tunnel_restore(node, tk->tunnel_version, tk->tunnel, tk->tunnel_len, &n,
				       &n_remote, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "its tunnels: %s", err);
		return -1;
	}
	fprintf(stderr,
		"nodemeshd: takeover: %u peers' keys in force (sending goes on from the old "
		"sequence numbers), %u remote pods; new sessions follow\n",
		n, n_remote);
	return 0;
}

/*
 * --takeover, flows restored: the inspection streams into them. A stream
 * is only good against the database it was made with: when the state
 * named a signature file other than the config's, its compile (started
 * by the state) is waited for here, in the gap, so that the streams find
 * it (README "Takeover": name the file in the config to compile it before
 * asking). What did not come back is counted and goes midstream.
 */
static void
takeover_streams(struct nm_node *node, struct nm_takeover *tk)
{
	struct nm_takeover_stream_stats st;
	uint64_t t0 = nm_mono_ns();

	if (nm_takeover_streams_count(tk->streams) > 0)
		nm_node_sig_load_wait(node);
	uint64_t t1 = nm_mono_ns();
	nm_takeover_streams_restore(node, tk->streams, tk->flows, &st);
	fprintf(stderr,
		"nodemeshd: takeover: %u of %u inspection streams restored (%u made with another "
		"signature database, %u did not fit, %u refused by Hyperscan, %u without their "
		"flow: those go midstream; %u HTTP parsers reset; %u held segments) in %.1f ms "
		"(%.1f ms waiting for the signature compile)\n",
		st.restored, st.received, st.db_mismatch, st.no_room, st.refused, st.no_flow,
		st.http_reset, st.held, (double)(nm_mono_ns() - t0) / 1e6, (double)(t1 - t0) / 1e6);
	json_decref(node->sig_takeover);
	node->sig_takeover =
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "streams_received",
		      (json_int_t)st.received, "streams_restored", (json_int_t)st.restored,
		      "streams_other_database", (json_int_t)st.db_mismatch, "streams_no_room",
		      (json_int_t)st.no_room, "streams_refused", (json_int_t)st.refused,
		      "streams_without_flow", (json_int_t)st.no_flow, "http_parsers_reset",
		      (json_int_t)st.http_reset, "held_segments", (json_int_t)st.held);
}

/*
 * --takeover, before the workers start: the old daemon's state in force
 * (its pods attached here too). 0, or -1 after telling the old daemon why
 * (it resumes).
 */
static int
takeover_apply(struct nm_node *node, struct nm_takeover *tk)
{
	char err[512], why[600];

	int rc = nm_node_state_takeover(node, node->cfg.state_file, tk->state, tk->state_len, err,
					sizeof(err));
	node->handover = NULL; /* set by main before the config's pods attached */
	unsigned int unused = nm_takeover_rings_free(tk->rings);
	tk->rings = NULL;
	if (unused > 0)
		fprintf(stderr, "nodemeshd: takeover: %u of %u rings handed over had no pod here\n",
			unused, tk->n_rings);

	if (rc < 0)
		snprintf(why, sizeof(why), "its state refused: %s", err);
	else if (rc > 0)
		snprintf(why, sizeof(why), "%d entries of its state not restored here (see log)",
			 rc);
	/* A test hook: the new daemon failing after attaching the pods (takeover.sh). */
	else if (getenv("NODEMESH_DEBUG_TAKEOVER_FAIL") != NULL)
		snprintf(why, sizeof(why), "NODEMESH_DEBUG_TAKEOVER_FAIL is set");
	else if (takeover_tunnels(node, tk, why, sizeof(why)) < 0)
		; /* why says it */
	else {
		unsigned int skipped, n = nm_takeover_flows_restore(node, tk->flows, &skipped);
		fprintf(stderr, "nodemeshd: takeover: %u flows restored (%u skipped)\n", n,
			skipped);
		takeover_streams(node, tk);
		tk->applied_ns = nm_mono_ns();
		return 0;
	}
	fprintf(stderr, "nodemeshd: takeover abandoned: %s; the old daemon resumes\n", why);
	nm_takeover_abort(tk, why);
	return -1;
}

/*
 * --takeover, before the workers start (nothing read from the rings yet,
 * so the old daemon can still resume): serve the control socket it
 * passed. 0, or -1 (said, and the old daemon told).
 */
static int
takeover_socket(struct nm_node *node, struct nm_takeover *tk, struct nm_server **srv)
{
	char err[512];

	*srv = nm_server_adopt(tk->listen_fd, node->cfg.socket_path, node->cfg.admin_group,
			       nm_commands_dispatch, node, err, sizeof(err));
	if (*srv == NULL) {
		fprintf(stderr, "nodemeshd: takeover: control socket: %s\n", err);
		nm_takeover_abort(tk, err);
		return -1;
	}
	tk->listen_fd = -1; /* the server's now */
	nm_server_set_takeover(*srv, nm_takeover_serve, node);
	return 0;
}

/*
 * --takeover, workers launched: tell the old daemon to go and wait until
 * it is gone (its /metrics port with it). 0, or -1 (said) if it could not
 * be told: then it resumes, and this daemon must stop.
 */
static int
takeover_finish(struct nm_node *node, struct nm_takeover *tk, struct nm_server *srv,
		struct nm_metrics_http **mh)
{
	int rc = nm_takeover_started(tk);

	if (rc < 0) {
		fprintf(stderr, "nodemeshd: takeover: telling the old daemon failed: %s\n",
			strerror(-rc));
		return -1;
	}
	nm_server_own_path(srv); /* the old daemon leaves it to us: ours to remove at exit */
	uint64_t started = nm_mono_ns();
	fprintf(stderr,
		"nodemeshd: takeover: forwarding %.1f ms after asking (state %u bytes in %.1f ms, "
		"applied in %.1f ms)\n",
		(double)(started - tk->asked_ns) / 1e6, tk->state_len,
		(double)(tk->state_ns - tk->asked_ns) / 1e6,
		(double)(tk->applied_ns - tk->state_ns) / 1e6);
	if (nm_takeover_wait_gone(tk, 10000) < 0)
		fprintf(stderr, "nodemeshd: takeover: the old daemon has not exited after 10 s\n");
	else
		fprintf(stderr, "nodemeshd: takeover: the old daemon exited %.1f ms later\n",
			(double)(nm_mono_ns() - started) / 1e6);
	if (open_metrics(node, mh) < 0)
		fprintf(stderr, "nodemeshd: takeover: /metrics not served\n");
	return 0;
}

/*
 * The socket first: if another daemon answers on it, stop before touching
 * a pod's interface (its pods are its own). Requests wait in the backlog
 * until the event loop starts. A takeover asks that daemon for its state
 * instead; its workers stop from here until ours start. 0 or -1 (said).
 */
static int
open_control(struct nm_node *node, bool takeover, struct nm_server **srv, struct nm_takeover **tk)
{
	char err[512];

	if (takeover) {
		*tk = nm_takeover_connect(node->cfg.socket_path, err, sizeof(err));
		if (*tk == NULL) {
			fprintf(stderr, "nodemeshd: takeover: %s\n", err);
			return -1;
		}
		/* Pods take the old daemon's rings as they attach (config's and state's). */
		node->handover = (*tk)->rings;
		return 0;
	}
	*srv = nm_server_open(node->cfg.socket_path, node->cfg.admin_group, nm_commands_dispatch,
			      node, err, sizeof(err));
	if (*srv == NULL) {
		fprintf(stderr, "nodemeshd: control socket: %s\n", err);
		return -1;
	}
	nm_server_set_takeover(*srv, nm_takeover_serve, node);
	return 0;
}

/* After the event loop: a signal's orderly stop, or nothing after a handover. */
static void
shutdown_node(struct nm_node *node, const struct nm_server *srv)
{
	if (nm_server_handed_over(srv)) {
		/*
		 * The new daemon owns the state file, the socket, the rings and
		 * the flows now: write nothing (no state, no "shutdown" flow
		 * ends); the workers stopped when it asked.
		 */
		fprintf(stderr, "nodemeshd: handed over to the new daemon; exiting\n");
		return;
	}
	fprintf(stderr, "nodemeshd: stopping (%s)\n",
		stop_signal ? strsignal(stop_signal) : "error");
	nm_sd_notify("STOPPING=1");

	nm_node_state_flush(node);
	/* Every live flow gets its record before the workers stop. */
	nm_node_flow_shutdown(node);
	nm_node_stop(node);
}

int
main(int argc, char **argv)
{
	struct options opt = {0};
	struct nm_config_source src;
	struct nm_config *cfg;
	struct nm_node *node = NULL;
	struct nm_server *srv = NULL;
	struct nm_peers *peers = NULL;
	struct nm_metrics_http *mh = NULL;
	struct nm_takeover *tk = NULL;
	char err[512];
	int rc = 1;

	if (parse_args(argc, argv, &opt) < 0)
		return 2;
	cfg = load_config(&opt, &src);
	if (cfg == NULL)
		return 1;
	if (opt.takeover && takeover_prepare(cfg) < 0) {
		free(cfg);
		return 1;
	}

	if (eal_init(cfg) < 0) {
		fprintf(stderr, "nodemeshd: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		free(cfg);
		return 1;
	}
	node = nm_node_create(cfg, err, sizeof(err));
	free(cfg);
	cfg = NULL;
	if (node == NULL) {
		fprintf(stderr, "nodemeshd: %s\n", err);
		goto out;
	}
	nm_node_set_config_source(node, &src);

	if (open_control(node, opt.takeover, &srv, &tk) < 0)
		goto out;

	for (unsigned int i = 0; i < node->cfg.n_pods; i++) {
		if (nm_node_pod_add(node, &node->cfg.pods[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "nodemeshd: %s: static pod '%s': %s\n", opt.config,
				node->cfg.pods[i].name, err);
			goto out;
		}
	}

	/* A takeover's peers' listening socket, if the old daemon had one. */
	int peer_listen_fd = tk != NULL ? tk->peer_listen_fd : -1;
	if (tk != NULL)
		tk->peer_listen_fd = -1;
	peers = nm_peers_create(node, nm_node_config(node), peer_listen_fd, err, sizeof(err));
	if (peers == NULL) {
		fprintf(stderr, "nodemeshd: %s: %s\n", opt.config, err);
		goto out;
	}
	nm_node_set_peers(node, peers);
	if (tk != NULL) {
		if (takeover_apply(node, tk) < 0)
			goto out;
	} else if (nm_node_state_restore(node, node->cfg.state_file) < 0) {
		fprintf(stderr, "nodemeshd: out of memory restoring %s\n", node->cfg.state_file);
		goto out;
	}

	/* A takeover opens it once the old daemon has let go of the port. */
	if (tk == NULL && open_metrics(node, &mh) < 0)
		goto out;

	if (nm_telemetry_init() < 0)
		fprintf(stderr, "nodemeshd: DPDK telemetry commands not registered\n");

	install_signals();

	if (nm_node_watchdog_init(node, err, sizeof(err)) < 0) {
		fprintf(stderr, "nodemeshd: %s\n", err);
		goto out;
	}
	if (tk != NULL && takeover_socket(node, tk, &srv) < 0)
		goto out;
	nm_node_start(node);
	/* From here pod ports open and close on a job thread, answers deferred. */
	nm_server_watch_fd(srv, nm_jobs_wake_fd());
	nm_node_set_server(node, srv);
	if (tk != NULL && takeover_finish(node, tk, srv, &mh) < 0) {
		nm_node_stop(node);
		goto out;
	}

	fprintf(stderr, "nodemeshd: node %s ready: %u worker(s), control socket %s\n",
		node->cfg.node_name, node->dp.n_workers, node->cfg.socket_path);
	/* Ports up, state restored, workers launched: systemd may start what depends on us. */
	char ready[96];
	snprintf(ready, sizeof(ready), "READY=1\nSTATUS=forwarding\nMAINPID=%d", (int)getpid());
	if (nm_sd_notify(ready) < 0)
		fprintf(stderr, "nodemeshd: sending READY=1 to $NOTIFY_SOCKET failed\n");

	event_loop(node, srv, peers, mh);
	rc = 0;
	shutdown_node(node, srv);
out:
	nm_takeover_free(tk); /* after a failure: the old daemon resumes */
	nm_telemetry_fini();
	if (node != NULL) {
		nm_node_set_metrics_http(node, NULL);
		nm_node_set_server(node, NULL);
	}
	nm_metrics_http_close(mh);
	nm_server_close(srv);
	if (node != NULL)
		nm_node_set_peers(node, NULL);
	nm_peers_destroy(peers);
	nm_node_destroy(node);
	rte_eal_cleanup();
	return rc;
}
