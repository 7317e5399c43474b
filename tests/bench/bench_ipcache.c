/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ipcache's control side at cluster size (issue 19): what applying
 * announcements costs the control thread, without TLS and JSON (those are
 * the simulator's and `scripts/bench peers`' part).
 *
 * A node is created (no workers launched) with an ipcache of -m slots and
 * -n peers, each with a /25 pod CIDR from 198.18.4.0 (as nm-peersim's)
 * and its own identity sim/sim-NNN. Then, timed with the TSC:
 *
 *   fill     each peer's -p pods as one batch (nm_node_remote_begin, the
 *            adds, nm_node_remote_end: the first brings a new identity,
 *            so each batch compiles the policy once), in peer order; the
 *            rate overall and in the first and last quarter of the fill;
 *   known    at the full size, 100 new pods of known identities (one more
 *            pod of each of 100 peers) as one batch: no compilation, no
 *            table copy; then the same 100 announced again unchanged, and
 *            withdrawn (one ipcache generation bump), each as one batch;
 *            baseline: 100 new pods that bring one new identity (one
 *            compilation and pod table publication, what every batch of
 *            announcements cost before the ipcache, less its table copy
 *            per batch that grew with the pods held).
 *   memory   the ipcache's own bytes (allocated whole at creation) per
 *            slot, and the process's RSS growth per remote pod over the
 *            fill (the control side's per-pod state beside the hash).
 *
 * Usage: bench_ipcache [-n PEERS] [-p PODS] [-m MAX_REMOTE_PODS] [-f FILE_PREFIX]
 * Prints one "RESULT key=value ..." line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "bench_common.h"
#include "nodemesh/ipcache-t.h"
#include "node.h"
#include "peer_msg.h"

#define KNOWN_BATCH 100u /* pods of the timed batches at full size */

struct opts {
	unsigned int peers;
	unsigned int pods;
	unsigned int max;
	char prefix[64];
};

static long
rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double
us_since(uint64_t t0)
{
	return (double)(rte_rdtsc() - t0) * 1e6 / (double)rte_get_tsc_hz();
}

/* Pod `pod` (1-based) of peer `peer` (0-based): inside its /25. */
static uint32_t
pod_ip(unsigned int peer, unsigned int pod)
{
	return htonl((198u << 24 | 18u << 16 | 4u << 8) + peer * 128u + pod);
}

/* The ipcache and peer slots a fabric would give (nm_node_tunnel_init's part). */
static int
fabric_up(struct nm_node *node, const struct opts *o)
{
	char err[256];

	node->dp.has_fabric = true; /* no port: nothing is sent */
	node->remote_session = calloc(node->dp.tnl->max_peers, sizeof(*node->remote_session));
	node->remote_count = calloc(node->dp.tnl->max_peers, sizeof(*node->remote_count));
	if (node->remote_session == NULL || node->remote_count == NULL ||
	    nm_ipcache_create(&node->ipc, o->max, node->dp.qsbr, 7, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_ipcache: the ipcache: %s\n", err);
		return -1;
	}
	node->dp.ipcache = node->ipc.h;
	for (unsigned int i = 0; i < o->peers; i++) {
		struct nm_peer_spec spec = {.port = 7400};
		snprintf(spec.name, sizeof(spec.name), "sim-%03u", i + 1);
		spec.fabric_ip = htonl((198u << 24 | 19u << 16) + 10 + i);
		spec.pod_cidr.net = pod_ip(i, 0);
		spec.pod_cidr.prefix_len = 25;
		if (nm_node_tnl_peer_set(node, i, &spec, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_ipcache: peer %u: %s\n", i, err);
			return -1;
		}
	}
	return 0;
}

/*
 * One batch: pods [pod, pod + n_pods) of peers [peer, peer + n_peers)
 * announced (add) or withdrawn, each with its peer's identity sim/sim-NNN,
 * or with sim/`sa` when given. 0, or -1.
 */
static int
batch(struct nm_node *node, unsigned int peer, unsigned int n_peers, unsigned int pod,
      unsigned int n_pods, const char *sa, bool add)
{
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	char err[256];
	int rc = 0;

	snprintf(a.ns, sizeof(a.ns), "sim");
	snprintf(a.labels, sizeof(a.labels), "app=sim");
	nm_node_remote_begin(node);
	for (unsigned int i = peer; i < peer + n_peers && rc == 0; i++) {
		if (sa != NULL)
			snprintf(a.sa, sizeof(a.sa), "%s", sa);
		else
			snprintf(a.sa, sizeof(a.sa), "sim-%03u", i + 1);
		for (unsigned int k = pod; k < pod + n_pods && rc == 0; k++) {
			a.ip = pod_ip(i, k);
			rc = add ? nm_node_remote_pod_add(node, i, &a, err, sizeof(err))
				 : nm_node_remote_pod_del(node, i, a.ip, err, sizeof(err));
		}
	}
	if (rc == 0)
		rc = nm_node_remote_end(node, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "bench_ipcache: a batch of peers %u.. pods %u..: %s\n", peer, pod,
			err);
	return rc;
}

/* The timed batch at full size: pod `pod` of each of the first KNOWN_BATCH peers. */
static int
known_batch(struct nm_node *node, unsigned int pod, bool add, const char *sa, double *us)
{
	uint64_t t0 = rte_rdtsc();
	int rc = batch(node, 0, KNOWN_BATCH, pod, 1, sa, add);

	*us = us_since(t0);
	return rc;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){.peers = 1000, .pods = 100, .max = NM_IPCACHE_DEFAULT};
	while ((c = getopt(argc, argv, "n:p:m:f:h")) != -1) {
		switch (c) {
		case 'n':
			o->peers = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->pods = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			o->max = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			snprintf(o->prefix, sizeof(o->prefix), "%s", optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n PEERS] [-p PODS] [-m MAX] [-f PREFIX]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	/* Pods 1..pods and the batches' pods + 1 and + 2, inside a /25 (126 hosts). */
	if (o->peers < KNOWN_BATCH || o->peers > NM_PEERS_MAX || o->pods < 1 || o->pods > 124 ||
	    o->max < (uint64_t)o->peers * o->pods + 2 * KNOWN_BATCH || o->max > NM_IPCACHE_MAX) {
		fprintf(stderr,
			"bench_ipcache: -n %u to %u peers, -p 1 to 124 pods, -m at least n x p + "
			"%u and at most %u\n",
			KNOWN_BATCH, (unsigned int)NM_PEERS_MAX, 2 * KNOWN_BATCH, NM_IPCACHE_MAX);
		return 2;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(argc, argv, &o);

	if (rc != 1)
		return rc;
	if (o.prefix[0] == '\0')
		snprintf(o.prefix, sizeof(o.prefix), "nmbenchipc%d", (int)getpid());
	char mem[] = "512";
	if (bench_eal_init("bench_ipcache", argv[0], mem, o.prefix) != 0)
		return 1;
	struct nm_config cfg;
	char err[256];
	nm_config_defaults(&cfg);
	cfg.store.dir[0] = '\0';
	cfg.tunnel.max_peers = o.peers;
	struct nm_node *node = nm_node_create(&cfg, err, sizeof(err));
	if (node == NULL) {
		fprintf(stderr, "bench_ipcache: nm_node_create: %s\n", err);
		return 1;
	}
	if (fabric_up(node, &o) < 0)
		return 1;

	/* Fill, one batch per peer; quarters by pods applied. */
	uint64_t total = (uint64_t)o.peers * o.pods, gen0 = node->dp.pods->generation;
	double quarter_us[4] = {0};
	uint64_t quarter_pods[4] = {0};
	long rss0 = rss_kib();
	uint64_t t_fill = rte_rdtsc();
	for (unsigned int i = 0; i < o.peers; i++) {
		uint64_t t0 = rte_rdtsc();
		if (batch(node, i, 1, 1, o.pods, NULL, true) < 0)
			return 1;
		unsigned int q = (unsigned int)((uint64_t)i * o.pods * 4 / total);
		quarter_us[q] += us_since(t0);
		quarter_pods[q] += o.pods;
	}
	double fill_us = us_since(t_fill);
	long rss1 = rss_kib();
	uint64_t fill_gens = node->dp.pods->generation - gen0;

	/* At full size: known identities, new addresses; again unchanged; withdrawn. */
	double add_us, again_us, del_us, new_id_us;
	uint64_t gen1 = node->dp.pods->generation, ipc0 = node->dp.ipc_gen;
	if (known_batch(node, o.pods + 1, true, NULL, &add_us) < 0 ||
	    known_batch(node, o.pods + 1, true, NULL, &again_us) < 0)
		return 1;
	uint64_t ipc1 = node->dp.ipc_gen;
	if (known_batch(node, o.pods + 1, false, NULL, &del_us) < 0)
		return 1;
	uint64_t known_gens = node->dp.pods->generation - gen1;
	if (known_batch(node, o.pods + 2, true, "sim-new", &new_id_us) < 0)
		return 1;

	printf("fill: %" PRIu64 " remote pods of %u peers in %.1f ms (%.0f pods/s), "
	       "%" PRIu64 " policy compilations (one per peer: a new identity each)\n",
	       total, o.peers, fill_us / 1000, (double)total * 1e6 / fill_us, fill_gens);
	printf("at %" PRIu64 " remote pods: %u new pods of known identities %.1f us, the same "
	       "again %.1f us, withdrawn %.1f us; %" PRIu64
	       " compilations, ipcache generation +%" PRIu64 " (add, again), +%" PRIu64
	       " (withdrawn); %u new pods of a new identity %.1f us\n",
	       total, KNOWN_BATCH, add_us, again_us, del_us, known_gens, ipc1 - ipc0,
	       node->dp.ipc_gen - ipc1, KNOWN_BATCH, new_id_us);
	printf("memory: ipcache %zu bytes for %u slots (%zu a slot); RSS %ld -> %ld KiB over the "
	       "fill\n",
	       node->ipc.bytes, o.max, node->ipc.bytes / o.max, rss0, rss1);
	printf("RESULT peers=%u pods=%" PRIu64 " fill_pods_per_s=%.0f q1_pods_per_s=%.0f "
	       "q4_pods_per_s=%.0f fill_compilations=%" PRIu64 " known_add_us=%.1f "
	       "known_again_us=%.1f known_del_us=%.1f known_compilations=%" PRIu64
	       " new_identity_us=%.1f ipcache_bytes=%zu bytes_per_slot=%zu "
	       "rss_bytes_per_pod=%.1f\n",
	       o.peers, total, (double)total * 1e6 / fill_us,
	       quarter_us[0] > 0 ? (double)quarter_pods[0] * 1e6 / quarter_us[0] : 0.0,
	       quarter_us[3] > 0 ? (double)quarter_pods[3] * 1e6 / quarter_us[3] : 0.0, fill_gens,
	       add_us, again_us, del_us, known_gens, new_id_us, node->ipc.bytes,
	       node->ipc.bytes / o.max, (double)(rss1 - rss0) * 1024 / (double)total);
	node->dp.has_fabric = false; /* no port to detach */
	nm_node_destroy(node);
	rte_eal_cleanup();
	return 0;
}
