/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node on the control thread: pod add and delete (port hot-plug plus
 * table publication) and the JSON views of pods and counters.
 *
 * Publication protocol: build the new table completely, store its pointer
 * with release order, wait until every worker has passed a quiescent point
 * (rte_rcu_qsbr_synchronize), and only then free the old table or tear
 * down a removed pod's port. A worker therefore never sees a half-built
 * table nor a freed one, and traffic of other pods never stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_random.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <rte_rcu_qsbr.h>

#include "node_priv.h"
#include "pod_table.h"
#include "podio_setup.h"
#include "takeover.h"
#include "policy_compile.h"
#include "port.h"
#include "nodemesh/flow.h"
#include "nodemesh/pkt.h"
#include "nodemesh/podio-t.h"
#include "nodemesh/worker.h"
#include "node.h"
#include "peers.h"
#include "metrics.h"
#include "metrics_http.h"

void
nm_node_set_peers(struct nm_node *node, struct nm_peers *peers)
{
	node->peers = peers;
}

struct nm_peers *
nm_node_peers(struct nm_node *node)
{
	return node->peers;
}

const struct nm_config *
nm_node_config(const struct nm_node *node)
{
	return &node->cfg;
}

/* What the workers need of the configuration (nodemesh/dataplane-t.h). */
static void
params_from_config(struct nm_dp_params *p, const struct nm_config *cfg)
{
	p->mbufs = cfg->mbufs;
	p->pod_mtu = cfg->pod_mtu;
	p->idle_pause_after = cfg->idle_pause_after;
	p->idle_sleep_after = cfg->idle_sleep_after;
	p->idle_sleep_us = cfg->idle_sleep_us;
	_Static_assert((int)NM_CONFIG_IDLE_POLL == (int)NM_IDLE_POLL &&
			   (int)NM_CONFIG_IDLE_SLEEP == (int)NM_IDLE_SLEEP &&
			   (int)NM_CONFIG_IDLE_WAKE == (int)NM_IDLE_WAKE,
		       "dataplane.idle.mode numbered as the workers read it");
	p->idle_mode = cfg->idle_mode;
	p->idle_wait_max_us = cfg->idle_wait_max_us;
	p->idle_linger_us = cfg->idle_linger_us;
	p->frag_max_flows = cfg->frag_max_flows;
	p->frag_timeout_ms = cfg->frag_timeout_ms;
	p->flow_capacity = cfg->flow_capacity;
	_Static_assert(sizeof(p->flow_timeout_s) == sizeof(cfg->flow_timeout_s),
		       "one flow timeout per state in both");
	memcpy(p->flow_timeout_s, cfg->flow_timeout_s, sizeof(p->flow_timeout_s));
	p->sig_max_streams = cfg->sig_max_streams;
	p->sig_midstream = cfg->sig_midstream_pickup ? NM_MIDSTREAM_PICKUP : NM_MIDSTREAM_DROP;
	p->sig_stream_state_max = cfg->sig_stream_state_max;
	p->sig_http_body_decoded_max = cfg->sig_http_body_decoded_max;
	p->fabric_ip = cfg->tunnel.fabric_ip;
	p->udp_port = cfg->tunnel.udp_port;
	p->max_peers = cfg->tunnel.max_peers;
}

/* The pools of the records workers hand the control thread: alerts, http transactions. */
static int
record_pools(struct nm_node *node, char *err, size_t errlen)
{
	node->dp.alert_pool = rte_mempool_create(
	    "nm_alerts", NM_ALERT_RING_SIZE * node->dp.n_workers * 2 - 1,
	    sizeof(struct nm_alert_record), 64, 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
	if (node->dp.alert_pool == NULL) {
		snprintf(err, errlen, "out of memory for alert records");
		return -ENOMEM;
	}
	/* In the rings, in the streams' open messages, and waiting for their pair. */
	node->dp.http_pool = rte_mempool_create(
	    "nm_http", NM_HTTP_RING_SIZE * node->dp.n_workers * 2 + NM_HTTP_PAIR_MAX - 1,
	    sizeof(struct nm_http_record), 64, 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
	if (node->dp.http_pool == NULL) {
		snprintf(err, errlen, "out of memory for http records");
		return -ENOMEM;
	}
	return 0;
}

struct nm_node *
nm_node_create(const struct nm_config *cfg, char *err, size_t errlen)
{
	static const struct rte_mbuf_dynfield meta_desc = {
	    .name = "nodemesh_meta",
	    .size = sizeof(struct nm_mbuf_meta),
	    .align = __alignof__(struct nm_mbuf_meta),
	};
	unsigned int lcore;
	struct nm_node *node = calloc(1, sizeof(*node));

	if (node == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nm_jsonlog_init(&node->flow_log, "logs.flows");
	nm_jsonlog_init(&node->alert_log, "logs.alerts");
	node->cfg = *cfg;
	params_from_config(&node->dp.params, cfg);
	node->dp.tsc_hz = rte_get_tsc_hz();
	node->dp.hash_seed = rte_rand();
	node->next_pod_id = 1;
	node->dp.n_workers = rte_lcore_count() - 1;
	if (nm_podio_params_check(&cfg->podio, cfg->pod_mtu, err, errlen) < 0)
		goto fail;
	if (node->dp.n_workers == 0 || node->dp.n_workers > NM_MAX_WORKERS) {
		snprintf(err, errlen,
			 "eal.lcores '%s' gives %u workers; need 1..%d (the "
			 "first lcore is the control thread)",
			 node->cfg.lcores, node->dp.n_workers, NM_MAX_WORKERS);
		goto fail;
	}

	node->dp.pool = rte_pktmbuf_pool_create("nm_pkts", node->cfg.mbufs, 256, NM_MBUF_PRIV_SIZE,
						RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	node->dp.indirect = rte_pktmbuf_pool_create("nm_indirect", node->cfg.mbufs / 4, 64, 0, 0,
						    (int)rte_socket_id());
	if (node->dp.pool == NULL || node->dp.indirect == NULL) {
		snprintf(err, errlen, "rte_pktmbuf_pool_create(%u mbufs) failed: %s",
			 node->cfg.mbufs, rte_strerror(rte_errno));
		goto fail;
	}
	node->dp.meta_off = rte_mbuf_dynfield_register(&meta_desc);
	if (node->dp.meta_off < 0) {
		snprintf(err, errlen, "rte_mbuf_dynfield_register failed: %s",
			 rte_strerror(rte_errno));
		goto fail;
	}

	size_t sz = rte_rcu_qsbr_get_memsize(node->dp.n_workers);
	node->dp.qsbr = rte_zmalloc("nm_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (node->dp.qsbr == NULL || rte_rcu_qsbr_init(node->dp.qsbr, node->dp.n_workers) < 0) {
		snprintf(err, errlen, "rte_rcu_qsbr_init(%u workers) failed", node->dp.n_workers);
		goto fail;
	}

	unsigned int idx = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		node->dp.workers[idx] = nm_worker_create(&node->dp, idx, lcore);
		if (node->dp.workers[idx] == NULL) {
			snprintf(err, errlen, "creating worker %u (lcore %u) failed", idx, lcore);
			goto fail;
		}
		idx++;
	}
	/* One single-producer single-consumer ring per ordered worker pair. */
	for (unsigned int s = 0; s < node->dp.n_workers; s++) {
		for (unsigned int d = 0; d < node->dp.n_workers; d++) {
			char name[64]; /* rte_ring_create checks it fits RTE_RING_NAMESIZE */

			if (s == d)
				continue;
			snprintf(name, sizeof(name), "nm_handoff_%u_%u", s, d);
			struct rte_ring *r =
			    rte_ring_create(name, NM_RING_SIZE, (int)rte_socket_id(),
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL) {
				snprintf(err, errlen, "rte_ring_create(%s) failed: %s", name,
					 rte_strerror(rte_errno));
				goto fail;
			}
			node->dp.workers[s]->out[d] = r;
			node->dp.workers[d]->in[s] = r;
		}
	}

	node->dp.rec_pool = rte_mempool_create(
	    "nm_flow_records", NM_REC_RING_SIZE * node->dp.n_workers * 2 - 1,
	    sizeof(struct nm_flow_record), 64, 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
	node->rules = calloc(NM_MAX_RULES, sizeof(*node->rules));
	node->pod_history = calloc(NM_POD_HISTORY, sizeof(*node->pod_history));
	node->pod_history_id = calloc(NM_POD_HISTORY, sizeof(*node->pod_history_id));
	if (node->dp.rec_pool == NULL || node->rules == NULL || node->pod_history == NULL ||
	    node->pod_history_id == NULL || nm_observe_init(&node->observe) < 0) {
		snprintf(err, errlen, "out of memory for flow records or rules");
		goto fail;
	}
	node->next_rule_id = 1;
	node->default_allow = cfg->default_allow;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	node->tsc0 = rte_rdtsc();
	node->wall_ns0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	if (record_pools(node, err, errlen) < 0)
		goto fail;
	if (nm_jsonlog_open(&node->flow_log, "logs.flows", cfg->flow_log, err, errlen) < 0 ||
	    nm_jsonlog_open(&node->alert_log, "logs.alerts", cfg->alert_log, err, errlen) < 0 ||
	    nm_store_queue_open(&node->store, &cfg->store, err, errlen) < 0)
		goto fail;

	if (nm_node_tunnel_init(node, err, errlen) < 0)
		goto fail;
	node->dp.pods = nm_pod_table_clone(NULL, node->dp.hash_seed, node->dp.n_workers);
	if (node->dp.pods == NULL) {
		snprintf(err, errlen, "creating the pod table failed");
		goto fail;
	}
	if (nm_policy_attach(node->dp.pods, NULL, 0, node->default_allow, &node->idreg, err,
			     errlen) < 0)
		goto fail;
	if (cfg->rules_file[0] != '\0' &&
	    nm_node_policy_load(node, cfg->rules_file, err, errlen) < 0)
		goto fail;
	if (cfg->sig_file[0] != '\0' && nm_node_sig_load(node, cfg->sig_file, err, errlen) < 0)
		goto fail;
	return node;
fail:
	nm_node_destroy(node);
	return NULL;
}

void
nm_node_destroy(struct nm_node *node)
{
	if (node == NULL)
		return;
	nm_node_podjob_fini(node);
	if (node->dp.pods != NULL) {
		for (int slot = 0; slot < NM_MAX_PODS; slot++) {
			struct nm_pod *p = &node->dp.pods->pods[slot];
			if (p->live == NULL)
				continue;
			nm_port_pod_detach(p);
			rte_free(p->live);
			p->live = NULL;
		}
		nm_pod_table_free(node->dp.pods);
		node->dp.pods = NULL;
	}
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		if (node->dp.workers[i] == NULL)
			continue;
		for (unsigned int d = 0; d < node->dp.n_workers; d++)
			rte_ring_free(node->dp.workers[i]->out[d]);
		nm_worker_free(node->dp.workers[i]);
		node->dp.workers[i] = NULL;
	}
	nm_node_tunnel_fini(node);
	/* A compile still running writes only to its load: join it before freeing. */
	nm_node_jobs_cancel(node);
	json_decref(node->sig_takeover);
	node->sig_takeover = NULL;
	/* Workers are gone and released their streams: every set can go. */
	nm_sig_set_free(node->dp.sigs, node->dp.n_workers);
	node->dp.sigs = NULL;
	while (node->sigs_retired != NULL) {
		struct nm_sig_set *next = node->sigs_retired->next;
		nm_sig_set_free(node->sigs_retired, node->dp.n_workers);
		node->sigs_retired = next;
	}
	rte_free(node->dp.qsbr);
	node->dp.qsbr = NULL;
	rte_mempool_free(node->dp.indirect);
	rte_mempool_free(node->dp.pool);
	rte_mempool_free(node->dp.rec_pool);
	rte_mempool_free(node->dp.alert_pool);
	rte_mempool_free(node->dp.http_pool);
	nm_jsonlog_close(&node->flow_log);
	nm_jsonlog_close(&node->alert_log);
	nm_store_queue_close(&node->store);
	free(node->rules);
	nm_observe_fini(&node->observe);
	free(node->pod_history);
	nm_identities_free(&node->identities);
	nm_idreg_free(&node->idreg);
	free(node->pod_history_id);
	free(node);
}

void
nm_node_start(struct nm_node *node)
{
	for (unsigned int i = 0; i < node->dp.n_workers; i++)
		rte_eal_remote_launch(nm_worker_main, node->dp.workers[i],
				      node->dp.workers[i]->lcore);
}

void
nm_node_wake_workers(struct nm_node *node)
{
	for (unsigned int i = 0; i < node->dp.n_workers; i++)
		nm_worker_wake(node->dp.workers[i]);
}

void
nm_node_stop(struct nm_node *node)
{
	/* Workers poll this flag once per turn; relaxed is enough for a one-way stop. */
	__atomic_store_n(&node->dp.stop, true, __ATOMIC_RELAXED);
	nm_node_wake_workers(node);
	rte_eal_mp_wait_lcore();
	nm_node_drain_records(node);
	nm_node_drain_alerts(node);
	nm_node_drain_http(node, true);
}

int
nm_node_publish_rebuilt(struct nm_node *node, struct nm_pod_table *next, char *err, size_t errlen)
{
	if (nm_pod_table_index(next, node->dp.hash_seed, node->dp.n_workers) < 0 ||
	    nm_policy_attach(next, node->rules, node->n_rules, node->default_allow, &node->idreg,
			     err, errlen) < 0) {
		nm_pod_table_free(next);
		snprintf(err, errlen, "building the pod table failed");
		return -ENOMEM;
	}
	nm_node_publish(node, next);
	return 0;
}

void
nm_node_publish(struct nm_node *node, struct nm_pod_table *next)
{
	struct nm_pod_table *old = node->dp.pods;

	/* Release: every store into *next happens-before a worker's acquire load of it. */
	__atomic_store_n(&node->dp.pods, next, __ATOMIC_RELEASE);
	/* A blocked worker may now own an ethdev pod, which cannot wake it: a turn at once. */
	nm_node_wake_workers(node);
	rte_rcu_qsbr_synchronize(node->dp.qsbr, RTE_QSBR_THRID_INVALID);
	nm_pod_table_free(old);
}

/*
 * An af_packet pod's socket into its owner's epoll set (nodemesh/pod_poll-t.h),
 * so the worker finds it when it has traffic. 0 or -errno.
 */
static int
poll_watch(struct nm_node *node, const struct nm_pod *pod, uint16_t slot, char *err, size_t errlen)
{
	struct epoll_event ev = {
	    .events = EPOLLIN,
	    .data.u64 = slot | (uint64_t)pod->id << 32,
	};
	int epfd = node->dp.workers[pod->worker]->poll.epfd;

	if (pod->io == NULL)
		return 0;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pod->io->fd, &ev) < 0) {
		snprintf(err, errlen, "epoll_ctl(ADD, %s's socket, worker %u) failed: %s",
			 pod->spec.name, pod->worker, strerror(errno));
		return -errno;
	}
	return 0;
}

static void
poll_unwatch(struct nm_node *node, const struct nm_pod *pod)
{
	if (pod->io != NULL && epoll_ctl(node->dp.workers[pod->worker]->poll.epfd, EPOLL_CTL_DEL,
					 pod->io->fd, NULL) < 0)
		RTE_LOG(WARNING, USER1, "epoll_ctl(DEL, %s's socket) failed: %s\n", pod->spec.name,
			strerror(errno));
}

static unsigned int
least_loaded_worker(const struct nm_node *node)
{
	const struct nm_pod_table *t = node->dp.pods;
	unsigned int best = 0;

	for (unsigned int w = 1; w < node->dp.n_workers; w++)
		if (t->n_owned[w] < t->n_owned[best])
			best = w;
	return best;
}

/* The local pod attached for CNI container id c, or -1. */
static int
find_container(const struct nm_pod_table *t, const char *c)
{
	for (int slot = 0; slot < NM_MAX_PODS; slot++)
		if (t->pods[slot].live != NULL && strcmp(t->pods[slot].spec.container, c) == 0)
			return slot;
	return -1;
}

/*
 * A retried attachment (same container, name, address and interface) is
 * answered as done: a runtime that lost our first answer may ask again.
 */
static bool
same_attachment(const struct nm_pod_spec *a, const struct nm_pod_spec *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->ns, b->ns) == 0 && a->ip == b->ip &&
	       strcmp(a->iface, b->iface) == 0 && strcmp(a->memif_socket, b->memif_socket) == 0;
}

/* Refuse a local pod at an address a peer announced (the ipcache's). */
static int
check_not_remote(const struct nm_node *node, uint32_t ip, char *err, size_t errlen)
{
	struct nm_ipcache_entry e;
	char addr[INET_ADDRSTRLEN];

	if (node->ipc.h == NULL || nm_ipcache_get(&node->ipc, ip, &e) < 0)
		return 0;
	inet_ntop(AF_INET, &ip, addr, sizeof(addr));
	snprintf(err, errlen, "ip %s belongs to a pod of peer '%s' already", addr,
		 node->dp.tnl->peers[e.peer].name);
	return -EEXIST;
}

/* Refuse a pod whose name, address, interface or socket another pod has. */
static int
check_unique(const struct nm_pod_table *cur, const struct nm_pod_spec *spec, unsigned int max_pods,
	     int *free_slot, char *err, size_t errlen)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &spec->ip, ip, sizeof(ip));
	*free_slot = -1;
	for (int slot = 0; slot < NM_MAX_PODS; slot++) {
		const struct nm_pod *p = &cur->pods[slot];

		if (!nm_pod_present(p)) {
			if (*free_slot < 0)
				*free_slot = slot;
			continue;
		}
		if (strcmp(p->spec.name, spec->name) == 0 && strcmp(p->spec.ns, spec->ns) == 0) {
			snprintf(err, errlen, "pod '%s/%s' exists already", spec->ns, spec->name);
			return -EEXIST;
		}
		if (p->spec.ip == spec->ip) {
			snprintf(err, errlen, "ip %s belongs to pod '%s' already", ip,
				 p->spec.name);
			return -EEXIST;
		}
		if (spec->iface[0] != '\0' && strcmp(p->spec.iface, spec->iface) == 0) {
			snprintf(err, errlen, "iface '%s' belongs to pod '%s' already", spec->iface,
				 p->spec.name);
			return -EEXIST;
		}
		if (spec->memif_socket[0] != '\0' &&
		    strcmp(p->spec.memif_socket, spec->memif_socket) == 0) {
			snprintf(err, errlen, "socket '%s' belongs to pod '%s' already",
				 spec->memif_socket, p->spec.name);
			return -EEXIST;
		}
	}
	/* Remote pods live in the ipcache: the slots are the local pods'. */
	if (cur->n_pods >= max_pods || *free_slot < 0) {
		snprintf(err, errlen, "node is full: %u pods (dataplane.max_pods %u)", cur->n_pods,
			 max_pods);
		return -ENOSPC;
	}
	return 0;
}

/*
 * The identity a new pod runs with: the one its own spec carries (an
 * operator's `pod add ... serviceaccount=`, which then also becomes the
 * identity on record), else the one `identity set` gave for its namespace
 * and name, else none (unknown: fail closed).
 */
static int
resolve_identity(struct nm_node *node, const struct nm_pod_spec *spec, struct nm_pod_spec *eff,
		 char *err, size_t errlen)
{
	*eff = *spec;
	if (spec->sa[0] == '\0') {
		nm_identity_apply(nm_identities_find(&node->identities, spec->ns, spec->name), eff);
		return 0;
	}
	if (nm_identities_find(&node->identities, spec->ns, spec->name) == NULL &&
	    node->identities.n == NM_MAX_IDENTITIES) {
		snprintf(err, errlen, "identity table is full: %d identities", NM_MAX_IDENTITIES);
		return -ENOSPC;
	}
	return 0;
}

/*
 * A pod add is three steps, so that the slow middle one (the kernel's
 * af_packet ring set-up waits for RCU grace periods: tens of ms) can run
 * off the event loop (ctrl/node_podjob.c): prepare checks the request
 * against the table and the attachments in flight, attach opens the port
 * (touching nothing the workers or the loop read), commit publishes.
 * Returns 1 for a retried attachment already done, 0 or -errno.
 */
int
nm_node_pod_prepare(struct nm_node *node, const struct nm_pod_spec *spec, struct nm_pod_attach *a,
		    char *err, size_t errlen)
{
	const struct nm_pod_table *cur = node->dp.pods;
	int free_slot, rc;

	if (spec->container[0] != '\0') {
		int slot = find_container(cur, spec->container);
		if (slot >= 0 && same_attachment(&cur->pods[slot].spec, spec))
			return 1;
		if (slot >= 0) {
			snprintf(err, errlen, "container %s is attached already as pod '%s'",
				 spec->container, cur->pods[slot].spec.name);
			return -EEXIST;
		}
	}
	rc = nm_node_pod_pending_check(node, spec, err, errlen);
	if (rc == 0)
		rc = check_unique(cur, spec, node->cfg.max_pods - nm_node_pods_pending(node),
				  &free_slot, err, errlen);
	if (rc == 0)
		rc = check_not_remote(node, spec->ip, err, errlen);
	if (rc == 0)
		rc = resolve_identity(node, spec, &a->pod.spec, err, errlen);
	if (rc < 0)
		return rc;

	a->spec = *spec;
	a->pod.id = node->next_pod_id++;
	a->pod.live = rte_zmalloc("nm_pod_live", sizeof(*a->pod.live), RTE_CACHE_LINE_SIZE);
	if (a->pod.live == NULL) {
		snprintf(err, errlen, "out of memory for pod state");
		return -ENOMEM;
	}
	if (spec->has_mac) {
		memcpy(a->pod.live->pod_mac.addr_bytes, spec->mac, RTE_ETHER_ADDR_LEN);
		a->pod.live->mac_known = true;
	}
	a->pool = node->dp.pool;
	a->io_params = node->cfg.podio;
	return 0;
}

void
nm_pod_attach_io(struct nm_pod_attach *a)
{
	a->rc =
	    nm_port_pod_attach(&a->spec, a->pool, &a->io_params, &a->pod, a->err, sizeof(a->err));
	a->attached = a->rc == 0;
}

void
nm_pod_attach_abandon(struct nm_pod_attach *a)
{
	if (a->attached)
		nm_port_pod_detach(&a->pod);
	a->attached = false;
	rte_free(a->pod.live);
	a->pod.live = NULL;
}

int
nm_node_pod_commit(struct nm_node *node, struct nm_pod_attach *a, char *err, size_t errlen)
{
	const struct nm_pod_table *cur = node->dp.pods;
	const struct nm_pod_spec *spec = &a->spec;
	const struct nm_pod_spec *eff = &a->pod.spec;
	int free_slot, rc;
	char ip[INET_ADDRSTRLEN];

	/* While it attached, a peer's pods may have taken the address or the last slot. */
	rc = check_unique(cur, spec, node->cfg.max_pods, &free_slot, err, errlen);
	if (rc == 0)
		rc = check_not_remote(node, spec->ip, err, errlen);
	if (rc < 0)
		return rc;
	a->pod.worker = (uint16_t)least_loaded_worker(node);
	rc = poll_watch(node, &a->pod, (uint16_t)free_slot, err, errlen);
	if (rc < 0)
		return rc;

	struct nm_pod_table *next = nm_pod_table_clone(cur, node->dp.hash_seed, node->dp.n_workers);
	if (next != NULL)
		next->pods[free_slot] = a->pod;
	if (next == NULL || nm_node_publish_rebuilt(node, next, err, errlen) < 0) {
		snprintf(err, errlen, "building the pod table failed");
		poll_unwatch(node, &a->pod);
		return -ENOMEM;
	}
	a->attached = false; /* the table owns the port and the live state now */
	a->pod.live = NULL;
	if (spec->sa[0] != '\0') {
		struct nm_identity id;
		nm_identity_from_spec(&id, spec);
		(void)nm_identities_set(&node->identities, &id); /* room checked above */
	}
	const struct nm_pod *pod = &node->dp.pods->pods[free_slot];
	nm_peers_pod_changed(node->peers, eff, true);
	node->pod_history[pod->id % NM_POD_HISTORY] = *eff;
	node->pod_history_id[pod->id % NM_POD_HISTORY] = pod->id;
	inet_ntop(AF_INET, &spec->ip, ip, sizeof(ip));
	RTE_LOG(INFO, USER1, "pod %s (%s/%s, %s) added on %s (%s), worker %u\n", spec->name,
		eff->ns, eff->sa[0] ? eff->sa : "(identity unknown)", ip,
		nm_port_driver_name(spec->driver), spec->iface, pod->worker);
	return 0;
}

int
nm_node_pod_add(struct nm_node *node, const struct nm_pod_spec *spec, char *err, size_t errlen)
{
	struct nm_pod_attach a = {0};
	int rc = nm_node_pod_prepare(node, spec, &a, err, errlen);

	if (rc != 0)
		return rc;
	/* A takeover's pods map the rings the old daemon passed (ctrl/takeover_rings.c). */
	rc = nm_takeover_rings_adopt(node->handover, spec, &a.pod, err, errlen);
	a.attached = rc > 0;
	if (rc == 0) {
		nm_pod_attach_io(&a);
		rc = a.rc;
		if (rc < 0)
			snprintf(err, errlen, "%s", a.err);
	}
	if (rc >= 0)
		rc = nm_node_pod_commit(node, &a, err, errlen);
	if (rc < 0)
		nm_pod_attach_abandon(&a);
	return rc;
}

int
nm_node_pod_del(struct nm_node *node, const char *name, char *err, size_t errlen)
{
	int slot = nm_pod_table_find_name(node->dp.pods, name);

	if (slot < 0) {
		nm_pod_name_error(slot, name, err, errlen);
		return slot == -2 ? -EINVAL : -ENOENT;
	}
	struct nm_pod gone = node->dp.pods->pods[slot];
	struct nm_pod_table *next =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	if (next == NULL) {
		snprintf(err, errlen, "out of memory for the pod table");
		return -ENOMEM;
	}
	memset(&next->pods[slot], 0, sizeof(next->pods[slot]));
	/* Once published no worker polls, transmits on or counts into the pod. */
	if (nm_node_publish_rebuilt(node, next, err, errlen) < 0)
		return -ENOMEM;
	nm_peers_pod_changed(node->peers, &gone.spec, false);
	poll_unwatch(node, &gone);
	nm_node_pod_release(node, &gone); /* the socket's close waits in the kernel: off the loop */
	RTE_LOG(INFO, USER1, "pod %s deleted\n", name);
	return 0;
}

int
nm_node_pod_del_container(struct nm_node *node, const char *container, char *err, size_t errlen)
{
	int slot = find_container(node->dp.pods, container);

	if (slot < 0)
		return 0;
	char name[2 * NM_NAME_LEN];
	snprintf(name, sizeof(name), "%s/%s", node->dp.pods->pods[slot].spec.ns,
		 node->dp.pods->pods[slot].spec.name);
	int rc = nm_node_pod_del(node, name, err, errlen);
	return rc < 0 ? rc : 1;
}

/* Counters are written by one worker each; relaxed loads give a torn-free snapshot. */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static json_t *
pod_json(const struct nm_pod *p)
{
	char ip[INET_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];

	inet_ntop(AF_INET, &p->spec.ip, ip, sizeof(ip));
	rte_ether_format_addr(mac, sizeof(mac), &p->live->pod_mac);
	return json_pack(
	    "{s:s, s:s, s:s?, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s?, s:I, s:I, s:I, "
	    "s:I, s:I, s:s?, s:b}",
	    "name", p->spec.name, "namespace", p->spec.ns, "serviceaccount",
	    p->spec.sa[0] != '\0' ? p->spec.sa : NULL, "identity_id", (json_int_t)p->identity, "ip",
	    ip, "iface", p->spec.iface, "driver", nm_port_driver_name(p->spec.driver), "labels",
	    p->spec.labels, "image", p->spec.image, "socket", p->spec.memif_socket, "worker",
	    p->worker, "port_id", p->io != NULL ? -1 : p->port_id, "mac",
	    LOAD(p->live->mac_known) ? mac : NULL, "rx_packets",
	    (json_int_t)LOAD(p->live->c.rx_packets), "rx_bytes",
	    (json_int_t)LOAD(p->live->c.rx_bytes), "tx_packets",
	    (json_int_t)LOAD(p->live->c.tx_packets), "tx_bytes",
	    (json_int_t)LOAD(p->live->c.tx_bytes), "drops", (json_int_t)LOAD(p->live->c.drops),
	    "container", p->spec.container[0] != '\0' ? p->spec.container : NULL, "identity_known",
	    p->spec.sa[0] != '\0');
}

json_t *
nm_node_pods_json(struct nm_node *node)
{
	json_t *arr = json_array();

	for (int slot = 0; slot < NM_MAX_PODS; slot++)
		if (node->dp.pods->pods[slot].live != NULL)
			json_array_append_new(arr, pod_json(&node->dp.pods->pods[slot]));
	return arr;
}

static json_t *
drops_json(const uint64_t *drops)
{
	json_t *o = json_object();

	for (unsigned int r = 1; r < NM_DROP_MAX; r++)
		json_object_set_new(o, nm_drop_name(r), json_integer((json_int_t)LOAD(drops[r])));
	return o;
}

static json_t *
flows_json(const struct nm_flow_table *t)
{
	const struct nm_flow_counters *c = &t->c;

	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "capacity", (json_int_t)t->cap,
	    "active", (json_int_t)LOAD(t->n), "created", (json_int_t)LOAD(c->created), "refused",
	    (json_int_t)LOAD(c->refused), "expired", (json_int_t)LOAD(c->expired), "closed",
	    (json_int_t)LOAD(c->closed), "flushed", (json_int_t)LOAD(c->flushed), "records_lost",
	    (json_int_t)LOAD(c->records_lost), "reevaluated", (json_int_t)LOAD(c->reevaluated));
}

static json_t *
worker_json(const struct nm_worker *w)
{
	const struct nm_worker_counters *c = &w->c;

	json_t *o = json_pack(
	    "{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:o}",
	    "worker", w->idx, "lcore", w->lcore, "rx_packets", (json_int_t)LOAD(c->rx_packets),
	    "rx_bytes", (json_int_t)LOAD(c->rx_bytes), "tx_packets",
	    (json_int_t)LOAD(c->tx_packets), "tx_bytes", (json_int_t)LOAD(c->tx_bytes),
	    "handoff_out", (json_int_t)LOAD(c->handoff_out), "handoff_in",
	    (json_int_t)LOAD(c->handoff_in), "arp_replies", (json_int_t)LOAD(c->arp_replies),
	    "arp_requests", (json_int_t)LOAD(c->arp_requests), "icmp_sent",
	    (json_int_t)LOAD(c->icmp_sent), "icmp_suppressed", (json_int_t)LOAD(c->icmp_suppressed),
	    "reassembled", (json_int_t)LOAD(c->reassembled), "fragmented",
	    (json_int_t)LOAD(c->fragmented), "idle_sleeps", (json_int_t)LOAD(c->idle_sleeps),
	    "drops", drops_json(c->drops));
	json_object_set_new(
	    o, "idle",
	    json_pack("{s:I, s:I, s:I, s:I, s:b}", "waits", (json_int_t)LOAD(c->idle_waits),
		      "wakeups", (json_int_t)LOAD(c->idle_wakeups), "errors",
		      (json_int_t)LOAD(c->idle_errors), "doorbells", (json_int_t)LOAD(c->doorbells),
		      "asleep", LOAD(w->asleep) != 0));
	if (w->fabric_bell != NULL) {
		json_t *idle = json_object_get(o, "idle");

		json_object_set_new(idle, "fabric_rearms",
				    json_integer((json_int_t)LOAD(w->fabric_bell->rearms)));
		json_object_set_new(idle, "fabric_wakeups",
				    json_integer((json_int_t)LOAD(w->fabric_bell->wakeups)));
	}
	json_object_set_new(o, "tunnel",
			    json_pack("{s:I, s:I}", "sealed", (json_int_t)LOAD(c->tnl_sealed),
				      "opened", (json_int_t)LOAD(c->tnl_opened)));
	json_object_set_new(o, "flows", flows_json(&w->flows));
	json_object_set_new(o, "pod_poll",
			    json_pack("{s:i, s:I, s:I, s:I, s:I}", "hot", (int)LOAD(w->poll.n_hot),
				      "epoll_calls", (json_int_t)LOAD(w->poll.epoll_calls),
				      "epoll_errors", (json_int_t)LOAD(w->poll.epoll_errors),
				      "woken", (json_int_t)LOAD(w->poll.woken), "cooled",
				      (json_int_t)LOAD(w->poll.cooled)));
	return o;
}

/* An af_packet pod's rings: no ethdev, its traffic is in the pod's counters. */
static json_t *
podio_json(const struct nm_pod *p)
{
	struct nm_podio *io = p->io;

	if (nm_podio_kernel_stats(io) < 0)
		RTE_LOG(WARNING, USER1, "getsockopt(PACKET_STATISTICS, pod %s) failed: %s\n",
			p->spec.name, strerror(errno));
	return json_pack(
	    "{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "port_id", -1, "name",
	    "af_packet rings", "iface", p->spec.iface, "pod", p->spec.name, "ring_bytes",
	    (json_int_t)io->map_len, "rx_packets", (json_int_t)io->kernel_rx, "rx_ring_drops",
	    (json_int_t)io->kernel_rx_drops, "tx_kicks", (json_int_t)LOAD(io->tx_kicks),
	    "tx_kick_errors", (json_int_t)LOAD(io->tx_kick_errors));
}

/*
 * The fabric port (DPDK af_packet, a queue pair per worker): what its
 * queues took and sent. Frames the kernel dropped for want of a free slot
 * in a queue's RX ring are not here: DPDK 22.11's net_af_packet never
 * reads PACKET_STATISTICS (README "Known problems").
 */
static json_t *
fabric_port_json(const struct nm_node *node)
{
	struct rte_eth_stats st;

	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(node->dp.fabric_port, &st);
	return json_pack("{s:i, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I}", "port_id",
			 node->dp.fabric_port, "name", "fabric", "iface",
			 node->cfg.tunnel.fabric_iface, "pod", "", "queues",
			 (int)node->dp.n_workers, "rx_packets", (json_int_t)st.ipackets, "rx_bytes",
			 (json_int_t)st.ibytes, "tx_packets", (json_int_t)st.opackets, "tx_bytes",
			 (json_int_t)st.obytes, "tx_errors", (json_int_t)st.oerrors);
}

static json_t *
port_json(const struct nm_pod *p)
{
	struct rte_eth_stats st;
	char name[RTE_ETH_NAME_MAX_LEN] = "";

	if (p->io != NULL)
		return podio_json(p);
	memset(&st, 0, sizeof(st));
	rte_eth_stats_get(p->port_id, &st);
	rte_eth_dev_get_name_by_port(p->port_id, name);
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "port_id",
			 p->port_id, "name", name, "iface", p->spec.iface, "pod", p->spec.name,
			 "rx_packets", (json_int_t)st.ipackets, "rx_bytes", (json_int_t)st.ibytes,
			 "tx_packets", (json_int_t)st.opackets, "tx_bytes", (json_int_t)st.obytes,
			 "rx_missed", (json_int_t)st.imissed, "rx_errors", (json_int_t)st.ierrors,
			 "tx_errors", (json_int_t)st.oerrors);
}

json_t *
nm_node_stats_json(struct nm_node *node)
{
	uint64_t drops[NM_DROP_MAX] = {0};
	json_t *workers = json_array(), *ports = json_array();
	uint64_t rx = 0, tx = 0, dropped = 0;

	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		const struct nm_worker *w = node->dp.workers[i];

		json_array_append_new(workers, worker_json(w));
		rx += LOAD(w->c.rx_packets);
		tx += LOAD(w->c.tx_packets);
		for (unsigned int r = 1; r < NM_DROP_MAX; r++) {
			drops[r] += LOAD(w->c.drops[r]);
			dropped += LOAD(w->c.drops[r]);
		}
	}
	for (int slot = 0; slot < NM_MAX_PODS; slot++)
		if (node->dp.pods->pods[slot].live != NULL)
			json_array_append_new(ports, port_json(&node->dp.pods->pods[slot]));
	if (node->dp.has_fabric)
		json_array_append_new(ports, fabric_port_json(node));

	uint64_t active = 0, refused = 0;
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		active += LOAD(node->dp.workers[i]->flows.n);
		refused += LOAD(node->dp.workers[i]->flows.c.refused);
	}
	json_t *flows = json_pack("{s:I, s:I, s:I, s:I}", "capacity",
				  (json_int_t)node->cfg.flow_capacity * node->dp.n_workers,
				  "active", (json_int_t)active, "refused", (json_int_t)refused,
				  "records_written", (json_int_t)node->records_written);
	json_t *store = nm_store_queue_json(&node->store);
	json_object_set_new(store, "interim_rows", json_integer((json_int_t)node->interim.rows));
	json_t *logs = json_pack("{s:o, s:o, s:o}", "flows", nm_jsonlog_json(&node->flow_log),
				 "alerts", nm_jsonlog_json(&node->alert_log), "store", store);
	return json_pack(
	    "{s:s, s:I, s:I, s:I, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o, s:o, s:o}",
	    "node", node->cfg.node_name, "rx_packets", (json_int_t)rx, "tx_packets", (json_int_t)tx,
	    "dropped", (json_int_t)dropped, "pod_count", (int)node->dp.pods->n_pods,
	    "pod_table_generation", (json_int_t)node->dp.pods->generation, "drops",
	    drops_json(drops), "workers", workers, "pods", nm_node_pods_json(node), "ports", ports,
	    "flows", flows, "policy", nm_node_policy_json(node), "signatures",
	    nm_node_sig_stats_json(node), "logs", logs, "control_loop",
	    nm_loop_stats_json(&node->loop), "state", nm_node_state_json(node), "metrics_http",
	    nm_metrics_http_json(node->metrics_http), "config", nm_node_reload_json(node),
	    "watchdog", nm_node_watchdog_json(node), "pod_jobs", nm_node_podjob_json(node), "peers",
	    nm_peers_summary_json(node->peers), "ipcache", nm_node_ipcache_json(node));
}

char *
nm_node_metrics_text(struct nm_node *node, size_t *len)
{
	json_t *stats = nm_node_stats_json(node);
	json_t *tunnels =
	    node->peers != NULL ? nm_peers_json(node->peers, true, NULL, NULL, NULL, 0) : NULL;
	char *text = stats != NULL ? nm_metrics_render(stats, tunnels, len) : NULL;

	json_decref(stats);
	json_decref(tunnels);
	return text;
}

void
nm_node_set_metrics_http(struct nm_node *node, struct nm_metrics_http *h)
{
	node->metrics_http = h;
}
