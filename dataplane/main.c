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

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_random.h>

#include "dp.h"
#include "nodemesh/commands.h"
#include "nodemesh/node.h"
#include "nodemesh/server.h"

#define CONTROL_POLL_MS 200

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: nodemeshd -c FILE [-s PATH] [--file-prefix NAME]\n"
		"\n"
		"One dataplane per node: forwards, polices and records the traffic of every\n"
		"pod on this node. Runs in the foreground; SIGINT or SIGTERM stop it.\n"
		"\n"
		"  -c, --config FILE       libconfig file (see conf/nodemesh.conf)\n"
		"  -s, --socket PATH       control socket, overrides control.socket\n"
		"      --file-prefix NAME  DPDK runtime prefix, overrides eal.file_prefix\n"
		"  -h, --help              this text\n"
		"  -V, --version           print the version\n");
}

struct options {
	const char *config;
	const char *socket;
	const char *file_prefix;
};

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"file-prefix", required_argument, NULL, 'p'},
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
	argv[argc++] = (char *)"-l";
	argv[argc++] = (char *)cfg->lcores;
	argv[argc++] = (char *)"--file-prefix";
	argv[argc++] = (char *)cfg->file_prefix;
	for (unsigned int i = 0; i < cfg->n_eal_args; i++)
		argv[argc++] = (char *)cfg->eal_args[i];
	argv[argc] = NULL;
	return rte_eal_init(argc, argv);
}

static int
node_init(struct nm_node *node)
{
	static const struct rte_mbuf_dynfield meta_desc = {
		.name = "nodemesh_meta",
		.size = sizeof(struct nm_mbuf_meta),
		.align = __alignof__(struct nm_mbuf_meta),
	};
	unsigned int lcore;

	node->tsc_hz = rte_get_tsc_hz();
	node->hash_seed = rte_rand();
	node->next_pod_id = 1;
	node->n_workers = rte_lcore_count() - 1;
	if (node->n_workers == 0 || node->n_workers > NM_MAX_WORKERS) {
		fprintf(stderr, "nodemeshd: eal.lcores '%s' gives %u workers; need 1..%d (the "
			"first lcore is the control thread)\n", node->cfg.lcores, node->n_workers,
			NM_MAX_WORKERS);
		return -EINVAL;
	}

	node->pool = rte_pktmbuf_pool_create("nm_pkts", node->cfg.mbufs, 256, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	node->indirect = rte_pktmbuf_pool_create("nm_indirect", node->cfg.mbufs / 4, 64, 0, 0,
						 (int)rte_socket_id());
	if (node->pool == NULL || node->indirect == NULL) {
		fprintf(stderr, "nodemeshd: rte_pktmbuf_pool_create(%u mbufs) failed: %s\n",
			node->cfg.mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	node->meta_off = rte_mbuf_dynfield_register(&meta_desc);
	if (node->meta_off < 0) {
		fprintf(stderr, "nodemeshd: rte_mbuf_dynfield_register failed: %s\n",
			rte_strerror(rte_errno));
		return -ENOMEM;
	}

	size_t sz = rte_rcu_qsbr_get_memsize(node->n_workers);
	node->qsbr = rte_zmalloc("nm_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (node->qsbr == NULL || rte_rcu_qsbr_init(node->qsbr, node->n_workers) < 0)
		return -ENOMEM;

	unsigned int idx = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		node->workers[idx] = nm_worker_create(node, idx, lcore);
		if (node->workers[idx] == NULL) {
			fprintf(stderr, "nodemeshd: creating worker %u (lcore %u) failed\n", idx,
				lcore);
			return -ENOMEM;
		}
		idx++;
	}
	/* One single-producer single-consumer ring per ordered worker pair. */
	for (unsigned int s = 0; s < node->n_workers; s++) {
		for (unsigned int d = 0; d < node->n_workers; d++) {
			char name[64]; /* rte_ring_create checks it fits RTE_RING_NAMESIZE */

			if (s == d)
				continue;
			snprintf(name, sizeof(name), "nm_handoff_%u_%u", s, d);
			struct rte_ring *r = rte_ring_create(name, NM_RING_SIZE, (int)rte_socket_id(),
							     RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL) {
				fprintf(stderr, "nodemeshd: rte_ring_create(%s) failed: %s\n", name,
					rte_strerror(rte_errno));
				return -ENOMEM;
			}
			node->workers[s]->out[d] = r;
			node->workers[d]->in[s] = r;
		}
	}

	node->pods = nm_pod_table_clone(NULL, node->hash_seed, node->n_workers);
	if (node->pods == NULL)
		return -ENOMEM;
	return 0;
}

static void
node_fini(struct nm_node *node)
{
	if (node->pods != NULL) {
		for (int slot = 0; slot < NM_MAX_PODS; slot++) {
			struct nm_pod *p = &node->pods->pods[slot];
			if (p->live == NULL)
				continue;
			nm_port_detach(p->port_id);
			rte_free(p->live);
			p->live = NULL;
		}
		nm_pod_table_free(node->pods);
		node->pods = NULL;
	}
	for (unsigned int i = 0; i < node->n_workers; i++) {
		if (node->workers[i] == NULL)
			continue;
		for (unsigned int d = 0; d < node->n_workers; d++)
			rte_ring_free(node->workers[i]->out[d]);
		nm_worker_free(node->workers[i]);
		node->workers[i] = NULL;
	}
	rte_free(node->qsbr);
	node->qsbr = NULL;
}

int
main(int argc, char **argv)
{
	struct options opt = {0};
	struct nm_node *node;
	struct nm_server *srv = NULL;
	char err[512];
	int rc = 1;

	if (parse_args(argc, argv, &opt) < 0)
		return 2;
	node = calloc(1, sizeof(*node));
	if (node == NULL)
		return 1;
	if (nm_config_load(opt.config, &node->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "nodemeshd: %s\n", err);
		free(node);
		return 1;
	}
	if (opt.socket != NULL)
		snprintf(node->cfg.socket_path, sizeof(node->cfg.socket_path), "%s", opt.socket);
	if (opt.file_prefix != NULL)
		snprintf(node->cfg.file_prefix, sizeof(node->cfg.file_prefix), "%s",
			 opt.file_prefix);

	if (eal_init(&node->cfg) < 0) {
		fprintf(stderr, "nodemeshd: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		free(node);
		return 1;
	}
	if (node_init(node) < 0)
		goto out;

	for (unsigned int i = 0; i < node->cfg.n_pods; i++) {
		if (nm_node_pod_add(node, &node->cfg.pods[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "nodemeshd: %s: static pod '%s': %s\n", opt.config,
				node->cfg.pods[i].name, err);
			goto out;
		}
	}

	srv = nm_server_open(node->cfg.socket_path, node->cfg.admin_group, nm_commands_dispatch,
			     node, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "nodemeshd: control socket: %s\n", err);
		goto out;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (unsigned int i = 0; i < node->n_workers; i++)
		rte_eal_remote_launch(nm_worker_main, node->workers[i], node->workers[i]->lcore);

	fprintf(stderr, "nodemeshd: node %s ready: %u worker(s), control socket %s\n",
		node->cfg.node_name, node->n_workers, node->cfg.socket_path);

	while (!stop_signal) {
		int prc = nm_server_poll(srv, CONTROL_POLL_MS);
		if (prc < 0 && prc != -EINTR) {
			fprintf(stderr, "nodemeshd: poll failed: %s\n", strerror(-prc));
			break;
		}
	}
	fprintf(stderr, "nodemeshd: stopping (%s)\n",
		stop_signal ? strsignal(stop_signal) : "error");
	rc = 0;

	__atomic_store_n(&node->stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
out:
	nm_server_close(srv);
	node_fini(node);
	rte_eal_cleanup();
	free(node);
	return rc;
}
