/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnels seen from the control thread: the fabric port, the peers' slots
 * in the published tunnel state, their keys, and the pods they announce
 * (the ipcache, nodemesh/ipcache-t.h: remote pods hold no pod table
 * slot; their identities are interned with the local pods', so policy
 * selectors match them alike).
 *
 * The tunnel state is copy-on-write like the pod table: build a copy,
 * change it, publish it (store-release, RCU grace period), free what only
 * the old copy referred to. Key contexts and receive windows are shared
 * by consecutive copies and freed only when a copy drops them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "fabric_bell.h"
#include "node_priv.h"
#include "port.h"
#include "pod_table.h"
#include "ipcache.h"
#include "nodemesh/ipcache.h"
#include "nodemesh/pod_index.h"
#include "nodemesh/tnl_state.h"
#include "nodemesh/tunnel.h"
#include "nodemesh/worker.h"
#include "nodemesh/cidr.h"
#include "node.h"
#include "peer_msg.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

int
nm_node_tunnel_init(struct nm_node *node, char *err, size_t errlen)
{
	const struct nm_tunnel_config *tc = &node->cfg.tunnel;

	/* Slots for tunnel.max_peers, fixed for the daemon's life: workers index by slot. */
	node->dp.tnl = calloc(1, nm_tnl_state_size(tc->max_peers));
	if (node->dp.tnl == NULL) {
		snprintf(err, errlen, "out of memory for the tunnel state (%u peers, %zu bytes)",
			 tc->max_peers, nm_tnl_state_size(tc->max_peers));
		return -ENOMEM;
	}
	node->dp.tnl->max_peers = tc->max_peers;
	nm_tnl_index_build(node->dp.tnl);
	/* Once: describing probes the CPU; `version` and `stats` repeat this string. */
	nm_tnl_engine_describe(node->tnl_engine, sizeof(node->tnl_engine));
	fprintf(stderr, "nodemeshd: tunnel records sealed and opened by %s\n", node->tnl_engine);
	if (tc->fabric_iface[0] == '\0')
		return 0;
	/* Remote pods come only through a fabric: without one, no ipcache (workers check). */
	node->remote_session = calloc(tc->max_peers, sizeof(*node->remote_session));
	node->remote_count = calloc(tc->max_peers, sizeof(*node->remote_count));
	if (node->remote_session == NULL || node->remote_count == NULL) {
		snprintf(err, errlen, "out of memory for %u peers' sessions", tc->max_peers);
		return -ENOMEM;
	}
	int rc = nm_ipcache_create(&node->ipc, tc->max_remote_pods, node->dp.qsbr,
				   (uint32_t)(node->dp.hash_seed >> 32), err, errlen);
	if (rc < 0)
		return rc;
	node->dp.ipcache = node->ipc.h;
	struct nm_pod_spec fab = {.driver = NM_DRV_AF_PACKET};
	snprintf(fab.name, sizeof(fab.name), "fabric");
	snprintf(fab.iface, sizeof(fab.iface), "%s", tc->fabric_iface);
	/*
	 * Pod ids start at 1: 0 names the fabric port's ethdev. A queue pair
	 * per worker: every worker seals what it routes and opens what its
	 * queue receives (the kernel's fanout spreads datagrams by the outer
	 * UDP source port, which carries the inner flow's hash).
	 */
	rc = nm_port_attach(&fab, 0, (uint16_t)node->dp.n_workers, node->dp.pool,
			    &node->dp.fabric_port, &node->dp.fabric_mac, err, errlen);
	if (rc < 0)
		return rc;
	node->dp.has_fabric = true;
	node->dp.tnl_mtu = tc->fabric_mtu - NM_TNL_IP_OVERHEAD;
	/* Without one a worker's idle waits are bounded by sleep_us, as for any ethdev. */
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		char bell_err[256];

		node->fabric_bell[i] = nm_fabric_bell_open(tc->fabric_iface, node->dp.workers[i],
							   bell_err, sizeof(bell_err));
		if (node->fabric_bell[i] == NULL)
			fprintf(stderr, "nodemeshd: %s; worker %u's idle waits last sleep_us\n",
				bell_err, i);
	}
	return 0;
}

const char *
nm_node_tnl_engine(const struct nm_node *node)
{
	return node->tnl_engine;
}

void
nm_node_tunnel_fini(struct nm_node *node)
{
	if (node->dp.tnl != NULL) {
		for (uint32_t i = 0; i < node->dp.tnl->max_peers; i++) {
			struct nm_tnl_peer *p = &node->dp.tnl->peers[i];
			nm_tnl_keyset_free(p->tx);
			nm_tnl_keyset_free(p->rx[0]);
			nm_tnl_keyset_free(p->rx[1]);
			rte_free(p->dyn);
		}
		free(node->dp.tnl);
		node->dp.tnl = NULL;
	}
	for (unsigned int i = 0; i < NM_MAX_WORKERS; i++) {
		if (node->fabric_bell[i] == NULL)
			continue;
		/* The workers may be freed already (nm_node_free): then nothing points at it. */
		if (node->dp.workers[i] != NULL)
			node->dp.workers[i]->fabric_bell = NULL;
		nm_fabric_bell_close(node->fabric_bell[i]);
		node->fabric_bell[i] = NULL;
	}
	if (node->dp.has_fabric)
		nm_port_detach(node->dp.fabric_port);
	node->dp.has_fabric = false;
	/* The workers are stopped: nothing reads the ipcache any more. */
	node->dp.ipcache = NULL;
	nm_ipcache_destroy(&node->ipc);
	free(node->remote_session);
	node->remote_session = NULL;
	free(node->remote_count);
	node->remote_count = NULL;
}

/* Publish next as the tunnel state; after this no worker reads the old copy. */
static void
tnl_publish(struct nm_node *node, struct nm_tnl_state *next)
{
	struct nm_tnl_state *old = node->dp.tnl;

	next->generation = old->generation + 1;
	__atomic_store_n(&node->dp.tnl, next, __ATOMIC_RELEASE);
	/* A blocked worker 0 starts learning a new peer's MAC now (fabric.c). */
	nm_node_wake_workers(node);
	rte_rcu_qsbr_synchronize(node->dp.qsbr, RTE_QSBR_THRID_INVALID);
	free(old);
}

static struct nm_tnl_state *
tnl_copy(const struct nm_node *node)
{
	size_t size = nm_tnl_state_size(node->dp.tnl->max_peers);
	struct nm_tnl_state *next = malloc(size);

	if (next != NULL)
		memcpy(next, node->dp.tnl, size);
	return next;
}

int
nm_node_tnl_peer_set(struct nm_node *node, unsigned int idx, const struct nm_peer_spec *spec,
		     char *err, size_t errlen)
{
	if (!node->dp.has_fabric) {
		snprintf(err, errlen, "this node has no fabric port (tunnel.fabric_iface)");
		return -ENODEV;
	}
	if (idx >= node->dp.tnl->max_peers) {
		snprintf(err, errlen, "peer slot %u over tunnel.max_peers %u", idx,
			 node->dp.tnl->max_peers);
		return -ENOSPC;
	}
	struct nm_tnl_state *next = tnl_copy(node);
	struct nm_peer_dyn *dyn =
	    rte_zmalloc("nm_peer_dyn", nm_node_tnl_peer_dyn_bytes(node), RTE_CACHE_LINE_SIZE);
	if (next == NULL || dyn == NULL) {
		free(next);
		rte_free(dyn);
		snprintf(err, errlen, "out of memory for the peer");
		return -ENOMEM;
	}
	struct nm_tnl_peer *p = &next->peers[idx];
	memset(p, 0, sizeof(*p));
	p->in_use = 1;
	p->fabric_ip = spec->fabric_ip;
	p->pod_cidr = spec->pod_cidr;
	p->dyn = dyn;
	snprintf(p->name, sizeof(p->name), "%s", spec->name);
	nm_tnl_index_build(next);
	tnl_publish(node, next);
	return 0;
}

/* Replace (tx, rx0, rx1) of peer idx; what is replaced is freed after publication. */
static int
keys_swap(struct nm_node *node, unsigned int idx, struct nm_tnl_keyset *tx,
	  struct nm_tnl_keyset *rx0, struct nm_tnl_keyset *rx1, bool free_live)
{
	struct nm_tnl_state *next = tnl_copy(node);

	if (next == NULL)
		return -ENOMEM;
	struct nm_tnl_peer *p = &next->peers[idx];
	struct nm_tnl_keyset *old_tx = p->tx;
	struct nm_tnl_keyset *old_rx[2] = {p->rx[0], p->rx[1]};
	struct nm_peer_dyn *old_dyn = p->dyn;

	p->tx = tx;
	p->rx[0] = rx0;
	p->rx[1] = rx1;
	if (free_live) {
		memset(p, 0, sizeof(*p));
		nm_tnl_index_build(next);
	}
	tnl_publish(node, next);
	if (old_tx != tx)
		nm_tnl_keyset_free(old_tx);
	for (int k = 0; k < 2; k++)
		if (old_rx[k] != rx0 && old_rx[k] != rx1)
			nm_tnl_keyset_free(old_rx[k]);
	if (free_live)
		rte_free(old_dyn);
	return 0;
}

void
nm_node_tnl_peer_clear(struct nm_node *node, unsigned int idx)
{
	nm_node_remote_pods_clear(node, idx);
	if (node->dp.tnl->peers[idx].in_use)
		keys_swap(node, idx, NULL, NULL, NULL, true);
}

int
nm_node_tnl_set_tx(struct nm_node *node, unsigned int idx, const struct nm_tnl_key_params *kp,
		   char *err, size_t errlen)
{
	struct nm_tnl_keyset *key = nm_tnl_keyset_create(kp, node->dp.n_workers);

	if (key == NULL) {
		snprintf(err, errlen, "creating the sending key failed: %s", strerror(errno));
		return -ENOMEM;
	}
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[idx];
	if (keys_swap(node, idx, key, p->rx[0], p->rx[1], false) < 0) {
		nm_tnl_keyset_free(key);
		snprintf(err, errlen, "out of memory for the tunnel state");
		return -ENOMEM;
	}
	return 0;
}

int
nm_node_tnl_set_rx(struct nm_node *node, unsigned int idx, const struct nm_tnl_key_params *kp,
		   char *err, size_t errlen)
{
	struct nm_tnl_keyset *rx = nm_tnl_keyset_create(kp, node->dp.n_workers);

	if (rx == NULL) {
		snprintf(err, errlen, "creating the receiving key failed: %s", strerror(errno));
		return -ENOMEM;
	}
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[idx];
	/*
	 * The new epoch becomes current; the current one stays for the grace
	 * period. After the publication every worker has seen it (tnl_publish
	 * waits for their grace period), so the peer may seal under it as soon
	 * as it hears back: no record of the new epoch finds a worker without it.
	 */
	if (keys_swap(node, idx, p->tx, rx, p->rx[0], false) < 0) {
		nm_tnl_keyset_free(rx);
		snprintf(err, errlen, "out of memory for the tunnel state");
		return -ENOMEM;
	}
	return 0;
}

int
nm_node_tnl_keys_set(struct nm_node *node, unsigned int idx, struct nm_tnl_keyset *tx,
		     struct nm_tnl_keyset *rx0, struct nm_tnl_keyset *rx1)
{
	return keys_swap(node, idx, tx, rx0, rx1, false);
}

void
nm_node_tnl_drop_prev_rx(struct nm_node *node, unsigned int idx)
{
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[idx];

	if (p->rx[1] != NULL)
		keys_swap(node, idx, p->tx, p->rx[0], NULL, false);
}

void
nm_node_tnl_withdraw(struct nm_node *node, unsigned int idx)
{
	if (node->dp.tnl->peers[idx].in_use)
		keys_swap(node, idx, NULL, NULL, NULL, false);
}

bool
nm_node_tnl_tx_should_rotate(const struct nm_node *node, unsigned int idx)
{
	const struct nm_tnl_keyset *tx = node->dp.tnl->peers[idx].tx;

	return tx != NULL && nm_tnl_keyset_should_rotate(tx);
}

/* ---- remote pods (announced by peers): the ipcache --------------------------- */

/*
 * A change to the ipcache is visible to the workers at once (one entry at
 * a time, lock-free). What it may need besides, done once per batch by
 * remote_flush(): a new identity, or one no remote pod holds any more,
 * changes the compiled policy (one clone of the pod table, one
 * publication); a changed or removed entry makes flows re-judge (the
 * ipcache generation). A new address with a known identity needs neither.
 */
static int
remote_flush(struct nm_node *node, char *err, size_t errlen)
{
	int rc = 0;

	if (node->remote_recompile) {
		struct nm_pod_table *next =
		    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
		if (next == NULL) {
			snprintf(err, errlen, "out of memory for the pod table");
			rc = -ENOMEM;
		} else {
			rc = nm_node_publish_rebuilt(node, next, err, errlen);
		}
		if (rc == 0)
			node->remote_recompiles++;
	}
	if (node->remote_rejudge) {
		/* Release: the entries changed before this store are what a re-judge reads. */
		__atomic_add_fetch(&node->dp.ipc_gen, 1, __ATOMIC_RELEASE);
	}
	node->remote_recompile = rc < 0; /* try again at the next change */
	node->remote_rejudge = false;
	return rc;
}

/* A change made outside a batch takes effect now; inside one, at its end. */
static int
remote_done(struct nm_node *node, char *err, size_t errlen)
{
	return node->remote_batch ? 0 : remote_flush(node, err, errlen);
}

/* A remote pod no longer holds identity id: when it was the last, the policy changes. */
static void
identity_release(struct nm_node *node, uint32_t id)
{
	if (nm_idreg_release(&node->idreg, id))
		node->remote_recompile = true;
}

void
nm_node_remote_begin(struct nm_node *node)
{
	node->remote_batch = true;
}

int
nm_node_remote_end(struct nm_node *node, char *err, size_t errlen)
{
	node->remote_batch = false;
	return remote_flush(node, err, errlen);
}

void
nm_node_remote_session_begin(struct nm_node *node, unsigned int peer)
{
	/* 0 marks the pods a takeover restored: announced by no session of this daemon. */
	if (++node->remote_session[peer] == 0)
		node->remote_session[peer] = 1;
}

int
nm_node_remote_pod_add(struct nm_node *node, unsigned int peer, const struct nm_announce *a,
		       char *err, size_t errlen)
{
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[peer];
	struct nm_ipcache_entry e = {.peer = (uint16_t)peer, .session = node->remote_session[peer]};
	struct nm_ipcache_entry old;
	struct nm_pod_spec spec;
	bool created;
	int had;

	if (!p->in_use || !nm_cidr_contains(&p->pod_cidr, a->ip)) {
		snprintf(err, errlen, "address outside the peer's pod CIDR");
		return -EPERM;
	}
	int slot = nm_pod_index_lookup(node->dp.pods, a->ip);
	if (slot >= 0) {
		snprintf(err, errlen, "address belongs to pod '%s'",
			 node->dp.pods->pods[slot].spec.name);
		return -EEXIST;
	}
	if (nm_ipcache_get(&node->ipc, a->ip, &old) == 0 && old.peer != peer) {
		snprintf(err, errlen, "address belongs to a pod of peer '%s'",
			 node->dp.tnl->peers[old.peer].name);
		return -EEXIST;
	}
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.ns, sizeof(spec.ns), "%s", a->ns);
	snprintf(spec.sa, sizeof(spec.sa), "%s", a->sa);
	snprintf(spec.labels, sizeof(spec.labels), "%s", a->labels);
	e.identity = nm_idreg_hold(&node->idreg, &spec, &created);
	if (e.identity == NM_IDREG_FULL) {
		snprintf(err, errlen, "out of security identity ids (%u)", NM_IDREG_MAX);
		return -ENOSPC;
	}
	if (nm_ipcache_set(&node->ipc, a->ip, &e, &old, &had) < 0) {
		identity_release(node, e.identity);
		if (node->ipc.refused == 1 || node->ipc.refused % 1000 == 0)
			RTE_LOG(WARNING, USER1,
				"ipcache full: %u remote pods (tunnel.max_remote_pods), %" PRIu64
				" announcements refused so far\n",
				node->ipc.max, node->ipc.refused);
		snprintf(err, errlen, "ipcache full (%u remote pods, tunnel.max_remote_pods)",
			 node->ipc.max);
		return -ENOSPC;
	}
	if (nm_ipcache_set_image(&node->ipc, a->ip, a->image) < 0)
		RTE_LOG(WARNING, USER1, "remote pod %s: no memory to keep its image '%s'\n",
			inet_ntoa((struct in_addr){.s_addr = a->ip}), a->image);
	node->remote_recompile |= created;
	node->remote_count[peer] += !had;
	if (had) {
		/* Re-announced: the entry holds the new identity, the old one is let go. */
		node->remote_rejudge |= old.identity != e.identity;
		identity_release(node, old.identity);
	}
	return remote_done(node, err, errlen);
}

/* Remove ip's entry (peer's); 0 or -ENOENT. */
static int
remote_remove(struct nm_node *node, unsigned int peer, uint32_t ip)
{
	struct nm_ipcache_entry old;

	if (nm_ipcache_get(&node->ipc, ip, &old) < 0 || old.peer != peer)
		return -ENOENT;
	nm_ipcache_del(&node->ipc, ip, &old);
	node->remote_count[peer]--;
	identity_release(node, old.identity);
	node->remote_rejudge = true;
	return 0;
}

int
nm_node_remote_pod_del(struct nm_node *node, unsigned int peer, uint32_t ip, char *err,
		       size_t errlen)
{
	if (remote_remove(node, peer, ip) < 0) {
		snprintf(err, errlen, "no pod of this peer at that address");
		return -ENOENT;
	}
	return remote_done(node, err, errlen);
}

/*
 * Remove peer's entries, all of them or those a session before the
 * current one announced. The addresses are collected first: the hash is
 * not changed under its own iterator. How many went, or -ENOMEM.
 */
static long
remote_sweep(struct nm_node *node, unsigned int peer, bool all)
{
	uint32_t cap = 256, n = 0, iter = 0, ip;
	uint32_t *gone = malloc(cap * sizeof(*gone));
	struct nm_ipcache_entry e;
	char err[128];

	if (gone == NULL)
		return -ENOMEM;
	while (nm_ipcache_next(&node->ipc, &iter, &ip, &e) == 0) {
		if (e.peer != peer || (!all && e.session == node->remote_session[peer]))
			continue;
		if (n == cap) {
			uint32_t *v = realloc(gone, (size_t)cap * 2 * sizeof(*gone));
			if (v == NULL) {
				free(gone);
				return -ENOMEM;
			}
			gone = v;
			cap *= 2;
		}
		gone[n++] = ip;
	}
	for (uint32_t i = 0; i < n; i++)
		remote_remove(node, peer, gone[i]);
	free(gone);
	if (n > 0 && remote_done(node, err, sizeof(err)) < 0)
		RTE_LOG(WARNING, USER1, "removing %u remote pods: %s\n", n, err);
	return n;
}

void
nm_node_remote_pods_clear(struct nm_node *node, unsigned int peer)
{
	remote_sweep(node, peer, true);
}

long
nm_node_remote_pods_keep(struct nm_node *node, unsigned int peer)
{
	return remote_sweep(node, peer, false);
}

/* One remote pod as `pod list remote` shows it. */
static json_t *
remote_json(const struct nm_node *node, uint32_t ip, const struct nm_ipcache_entry *e)
{
	const struct nm_idreg_entry *id = nm_idreg_get(&node->idreg, e->identity);
	const char *peer = node->dp.tnl->peers[e->peer].name;
	char addr[INET_ADDRSTRLEN], name[NM_NAME_LEN + INET_ADDRSTRLEN + 1];

	inet_ntop(AF_INET, &ip, addr, sizeof(addr));
	snprintf(name, sizeof(name), "%s/%s", peer, addr);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "name", name, "node", peer,
			 "ip", addr, "namespace", id ? id->ns : "", "serviceaccount",
			 id ? id->sa : "", "labels", id ? id->labels : "", "image",
			 nm_ipcache_image(&node->ipc, ip), "identity", (json_int_t)e->identity);
}

json_t *
nm_node_remote_pods_json(struct nm_node *node, const char *peer, uint32_t limit, uint32_t *total)
{
	json_t *list = json_array();
	struct nm_ipcache_entry e;
	uint32_t iter = 0, ip;

	*total = 0;
	while (nm_ipcache_next(&node->ipc, &iter, &ip, &e) == 0) {
		if (peer != NULL && strcmp(node->dp.tnl->peers[e.peer].name, peer) != 0)
			continue;
		if (++*total <= limit)
			json_array_append_new(list, remote_json(node, ip, &e));
	}
	return list;
}

const struct nm_pod_spec *
nm_node_remote_pod_spec(const struct nm_node *node, uint32_t ip, struct nm_pod_spec *spec)
{
	struct nm_ipcache_entry e;
	char addr[INET_ADDRSTRLEN];

	if (node->ipc.h == NULL || nm_ipcache_get(&node->ipc, ip, &e) < 0)
		return NULL;
	const struct nm_idreg_entry *id = nm_idreg_get(&node->idreg, e.identity);
	memset(spec, 0, sizeof(*spec));
	inet_ntop(AF_INET, &ip, addr, sizeof(addr));
	snprintf(spec->name, sizeof(spec->name), "%s/%s", node->dp.tnl->peers[e.peer].name, addr);
	spec->ip = ip;
	if (id != NULL) {
		snprintf(spec->ns, sizeof(spec->ns), "%s", id->ns);
		snprintf(spec->sa, sizeof(spec->sa), "%s", id->sa);
		snprintf(spec->labels, sizeof(spec->labels), "%s", id->labels);
	}
	snprintf(spec->image, sizeof(spec->image), "%s", nm_ipcache_image(&node->ipc, ip));
	return spec;
}

json_t *
nm_node_ipcache_json(const struct nm_node *node)
{
	uint32_t max = node->ipc.max;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "remote_pods",
			 (json_int_t)node->ipc.n, "max_remote_pods", (json_int_t)max, "refused",
			 (json_int_t)node->ipc.refused, "bytes", (json_int_t)node->ipc.bytes,
			 "bytes_per_remote_pod", (json_int_t)(max ? node->ipc.bytes / max : 0),
			 "image_bytes", (json_int_t)node->ipc.image_bytes, "recompiles",
			 (json_int_t)node->remote_recompiles);
}

void
nm_node_local_pods_each(struct nm_node *node, void (*fn)(void *, const struct nm_pod_spec *),
			void *ctx)
{
	for (int i = 0; i < NM_MAX_PODS; i++)
		if (node->dp.pods->pods[i].live != NULL)
			fn(ctx, &node->dp.pods->pods[i].spec);
}

size_t
nm_node_tnl_slot_bytes(const struct nm_node *node)
{
	uint32_t n = node->dp.tnl->max_peers;

	return nm_tnl_state_size(n) / n +
	       node->dp.n_workers * (sizeof(struct nm_fabric_out) + sizeof(uint16_t));
}

size_t
nm_node_tnl_peer_dyn_bytes(const struct nm_node *node)
{
	return sizeof(struct nm_peer_dyn) + node->dp.n_workers * sizeof(struct nm_peer_live);
}

size_t
nm_node_tnl_peer_bytes(const struct nm_node *node)
{
	return nm_node_tnl_peer_dyn_bytes(node) + 3 * sizeof(struct nm_tnl_keyset);
}

/* The workers' counters for a peer, summed (relaxed reads of counters they write). */
void
nm_node_tnl_live_sum(const struct nm_node *node, const struct nm_tnl_peer *p,
		     struct nm_peer_live *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		const struct nm_peer_live *l = &p->dyn->w[i];

		sum->tx_packets += LOAD(l->tx_packets);
		sum->tx_bytes += LOAD(l->tx_bytes);
		sum->tx_bursts += LOAD(l->tx_bursts);
		sum->tx_packable += LOAD(l->tx_packable);
		sum->rx_packets += LOAD(l->rx_packets);
		sum->rx_bytes += LOAD(l->rx_bytes);
		sum->no_key += LOAD(l->no_key);
		sum->unresolved += LOAD(l->unresolved);
		sum->inner_spoofed += LOAD(l->inner_spoofed);
		for (unsigned int r = 0; r < NM_TNL_REASON_MAX; r++)
			sum->rejected[r] += LOAD(l->rejected[r]);
	}
}

/* Dataplane view of peer idx for `tunnel list`. */
json_t *
nm_node_tnl_peer_json(struct nm_node *node, unsigned int idx)
{
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[idx];
	json_t *o = json_object();

	if (!p->in_use)
		return o;
	json_object_set_new(o, "remote_pods",
			    json_integer(node->remote_count ? node->remote_count[idx] : 0));
	struct nm_peer_live sum;
	nm_node_tnl_live_sum(node, p, &sum);
	const struct nm_peer_live *l = &sum;
	struct rte_ether_addr ea;
	if (nm_peer_mac_get(p, &ea)) {
		char mac[RTE_ETHER_ADDR_FMT_SIZE];
		rte_ether_format_addr(mac, sizeof(mac), &ea);
		json_object_set_new(o, "fabric_mac", json_string(mac));
	} else {
		json_object_set_new(o, "fabric_mac", json_null());
	}
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)l->tx_packets));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)l->tx_bytes));
	json_object_set_new(o, "tx_bursts", json_integer((json_int_t)l->tx_bursts));
	json_object_set_new(o, "tx_packable", json_integer((json_int_t)l->tx_packable));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)l->rx_packets));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)l->rx_bytes));
	json_object_set_new(o, "dropped_no_key", json_integer((json_int_t)l->no_key));
	json_object_set_new(o, "dropped_unresolved", json_integer((json_int_t)l->unresolved));
	json_object_set_new(o, "inner_spoofed", json_integer((json_int_t)l->inner_spoofed));
	json_t *rej = json_object();
	uint64_t failures = 0;
	for (unsigned int r = 1; r < NM_TNL_REASON_MAX; r++) {
		uint64_t v = l->rejected[r];
		failures += v;
		json_object_set_new(rej, nm_tnl_reason_name(r), json_integer((json_int_t)v));
	}
	json_object_set_new(o, "rejected", rej);
	json_object_set_new(o, "rejected_total", json_integer((json_int_t)failures));
	if (p->tx != NULL) {
		struct nm_tnl_key_stats ks;
		nm_tnl_keyset_stats_get(p->tx, &ks);
		json_object_set_new(o, "tx_epoch", json_integer(p->tx->epoch));
		json_object_set_new(o, "tx_epoch_records", json_integer((json_int_t)ks.records));
	} else {
		json_object_set_new(o, "tx_epoch", json_null());
	}
	json_t *rx = json_array();
	for (int k = 0; k < 2; k++)
		if (p->rx[k] != NULL)
			json_array_append_new(rx, json_integer(p->rx[k]->epoch));
	json_object_set_new(o, "rx_epochs", rx);
	return o;
}
