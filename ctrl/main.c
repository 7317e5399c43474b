/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemeshd: start-up and shutdown. Reads the config, initialises DPDK,
 * creates the packet pools, handoff rings and workers, attaches static
 * pods, then runs the control thread (control socket) on the main lcore
 * until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
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
#include "node.h"
#include "peers.h"
#include "server.h"

#define CONTROL_POLL_MS 100 /* also how often finished flows reach the flow log */
#define PEER_POLL_MS	10  /* each of the socket and the peers, when there are tunnels */
#define JOB_POLL_MS                                                                                \
	20 /* while a job runs (sig load, cert reload), so its end is applied promptly */

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGHUP must not kill the daemon (its default action would, and
 * logrotate's usual postrotate sends it). Until the logs can be reopened
 * on reload, it is ignored and said so; write(2) because stdio is not
 * async-signal-safe.
 */
static void
on_hup(int sig)
{
	static const char msg[] = "nodemeshd: SIGHUP ignored: reopening logs is not "
				  "implemented yet\n";
	int saved = errno;

	(void)sig;
	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n; /* nothing to do if stderr is gone */
	errno = saved;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: nodemeshd -c FILE [-s PATH] [--state PATH] [--file-prefix NAME]\n"
		     "\n"
		     "One dataplane per node: forwards, polices and records the traffic of every\n"
		     "pod on this node. Runs in the foreground; SIGINT or SIGTERM stop it,\n"
		     "SIGHUP is ignored (logged).\n"
		     "\n"
		     "  -c, --config FILE       libconfig file (see conf/nodemesh.conf)\n"
		     "  -s, --socket PATH       control socket, overrides control.socket\n"
		     "      --state PATH        run-time state file, overrides state.file\n"
		     "      --file-prefix NAME  DPDK runtime prefix, overrides eal.file_prefix\n"
		     "  -h, --help              this text\n"
		     "  -V, --version           print the version\n");
}

struct options {
	const char *config;
	const char *socket;
	const char *file_prefix;
	const char *state;
};

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"file-prefix", required_argument, NULL, 'p'},
	    {"state", required_argument, NULL, 'S'},
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

int
main(int argc, char **argv)
{
	struct options opt = {0};
	struct nm_config *cfg;
	struct nm_node *node = NULL;
	struct nm_server *srv = NULL;
	struct nm_peers *peers = NULL;
	char err[512];
	int rc = 1;

	if (parse_args(argc, argv, &opt) < 0)
		return 2;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return 1;
	if (nm_config_load(opt.config, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "nodemeshd: %s\n", err);
		free(cfg);
		return 1;
	}
	if (opt.socket != NULL)
		snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", opt.socket);
	if (opt.file_prefix != NULL)
		snprintf(cfg->file_prefix, sizeof(cfg->file_prefix), "%s", opt.file_prefix);
	if (opt.state != NULL)
		snprintf(cfg->state_file, sizeof(cfg->state_file), "%s", opt.state);

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

	/*
	 * The socket first: if another daemon answers on it, stop before
	 * touching a pod's interface (its pods are its own). Requests wait in
	 * the backlog until the event loop starts.
	 */
	srv = nm_server_open(node->cfg.socket_path, node->cfg.admin_group, nm_commands_dispatch,
			     node, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "nodemeshd: control socket: %s\n", err);
		goto out;
	}

	for (unsigned int i = 0; i < node->cfg.n_pods; i++) {
		if (nm_node_pod_add(node, &node->cfg.pods[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "nodemeshd: %s: static pod '%s': %s\n", opt.config,
				node->cfg.pods[i].name, err);
			goto out;
		}
	}

	peers = nm_peers_create(node, nm_node_config(node), err, sizeof(err));
	if (peers == NULL) {
		fprintf(stderr, "nodemeshd: %s: %s\n", opt.config, err);
		goto out;
	}
	nm_node_set_peers(node, peers);
	if (nm_node_state_restore(node, node->cfg.state_file) < 0) {
		fprintf(stderr, "nodemeshd: out of memory restoring %s\n", node->cfg.state_file);
		goto out;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sigaction hup = {.sa_handler = on_hup, .sa_flags = SA_RESTART};
	sigemptyset(&hup.sa_mask);
	sigaction(SIGHUP, &hup, NULL);
	signal(SIGPIPE, SIG_IGN);

	nm_node_start(node);

	fprintf(stderr, "nodemeshd: node %s ready: %u worker(s), control socket %s\n",
		node->cfg.node_name, node->dp.n_workers, node->cfg.socket_path);

	while (!stop_signal) {
		/* With peers, the socket and the peer connections take turns. */
		int poll_ms = node->cfg.n_peers > 0 || node->cfg.tunnel.fabric_iface[0]
				  ? PEER_POLL_MS
				  : CONTROL_POLL_MS;
		node->loop.poll_timeout_ms = (unsigned int)poll_ms;
		nm_loop_stats_turn(&node->loop, nm_loop_waited_ns());
		/* A job's end is seen at the next turn: come round sooner while one runs. */
		bool jobs = nm_node_jobs_busy(node) || nm_peers_jobs_busy(peers);
		int prc =
		    nm_server_poll(srv, jobs && poll_ms > JOB_POLL_MS ? JOB_POLL_MS : poll_ms);
		nm_peers_poll(peers, node->cfg.tunnel.fabric_iface[0] ? PEER_POLL_MS : 0);
		nm_node_drain_records(node);
		nm_node_drain_alerts(node);
		nm_node_store_interim(node);
		nm_node_store_commit(node);
		nm_node_jobs_poll(node);
		nm_peers_jobs_poll(peers);
		nm_node_state_flush(node);
		if (prc < 0 && prc != -EINTR) {
			fprintf(stderr, "nodemeshd: poll failed: %s\n", strerror(-prc));
			break;
		}
	}
	fprintf(stderr, "nodemeshd: stopping (%s)\n",
		stop_signal ? strsignal(stop_signal) : "error");
	rc = 0;

	nm_node_state_flush(node);
	/* Every live flow gets its record before the workers stop. */
	nm_node_flow_shutdown(node);
	nm_node_stop(node);
out:
	nm_server_close(srv);
	if (node != NULL)
		nm_node_set_peers(node, NULL);
	nm_peers_destroy(peers);
	nm_node_destroy(node);
	rte_eal_cleanup();
	return rc;
}
