/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnels seen from the control thread: the fabric port, the peers' slots
 * in the published tunnel state, their keys, and the pods they announce
 * (the ipcache: remote pods live in the pod table, so policy selectors
 * match them like local ones).
 *
 * The tunnel state is copy-on-write like the pod table: build a copy,
 * change it, publish it (store-release, RCU grace period), free what only
 * the old copy referred to. Key contexts and receive windows are shared
 * by consecutive copies and freed only when a copy drops them.
 */
#include <errno.h>
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
	struct nm_pod_spec fab = {.driver = NM_DRV_AF_PACKET};
	snprintf(fab.name, sizeof(fab.name), "fabric");
	snprintf(fab.iface, sizeof(fab.iface), "%s", tc->fabric_iface);
	/* Pod ids start at 1: 0 names the fabric port's ethdev. */
	int rc = nm_port_attach(&fab, 0, node->dp.pool, &node->dp.fabric_port, &node->dp.fabric_mac,
				err, errlen);
	if (rc < 0)
		return rc;
	node->dp.has_fabric = true;
	node->dp.tnl_mtu = tc->fabric_mtu - NM_TNL_IP_OVERHEAD;
	/* Without it the fabric worker's idle waits are bounded by sleep_us, as for any ethdev. */
	char bell_err[256];
	node->fabric_bell = nm_fabric_bell_open(
	    tc->fabric_iface, node->dp.workers[NM_FABRIC_WORKER], bell_err, sizeof(bell_err));
	if (node->fabric_bell == NULL)
		fprintf(stderr, "nodemeshd: %s; the fabric worker's idle waits last sleep_us\n",
			bell_err);
	return 0;
}

const char *
nm_node_tnl_engine(const struct nm_node *node)
{
	return node->tnl_engine;
}

void
nm_node_tnl_rx_free(struct nm_tnl_rx *rx)
{
	if (rx == NULL)
		return;
	nm_tnl_key_free(rx->key);
	rte_free(rx);
}

void
nm_node_tunnel_fini(struct nm_node *node)
{
	if (node->dp.tnl != NULL) {
		for (uint32_t i = 0; i < node->dp.tnl->max_peers; i++) {
			struct nm_tnl_peer *p = &node->dp.tnl->peers[i];
			nm_tnl_key_free(p->tx);
			nm_node_tnl_rx_free(p->rx[0]);
			nm_node_tnl_rx_free(p->rx[1]);
			rte_free(p->live);
		}
		free(node->dp.tnl);
		node->dp.tnl = NULL;
	}
	if (node->fabric_bell != NULL) {
		/* The workers may be freed already (nm_node_free): then nothing points at it. */
		if (node->dp.workers[NM_FABRIC_WORKER] != NULL)
			node->dp.workers[NM_FABRIC_WORKER]->fabric_bell = NULL;
		nm_fabric_bell_close(node->fabric_bell);
		node->fabric_bell = NULL;
	}
	if (node->dp.has_fabric)
		nm_port_detach(node->dp.fabric_port);
	node->dp.has_fabric = false;
}

/* Publish next as the tunnel state; after this no worker reads the old copy. */
static void
tnl_publish(struct nm_node *node, struct nm_tnl_state *next)
{
	struct nm_tnl_state *old = node->dp.tnl;

	next->generation = old->generation + 1;
	__atomic_store_n(&node->dp.tnl, next, __ATOMIC_RELEASE);
	/* A blocked fabric worker starts learning a new peer's MAC now (fabric.c). */
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
	struct nm_peer_live *live = rte_zmalloc("nm_peer_live", sizeof(*live), RTE_CACHE_LINE_SIZE);
	if (next == NULL || live == NULL) {
		free(next);
		rte_free(live);
		snprintf(err, errlen, "out of memory for the peer");
		return -ENOMEM;
	}
	struct nm_tnl_peer *p = &next->peers[idx];
	memset(p, 0, sizeof(*p));
	p->in_use = 1;
	p->fabric_ip = spec->fabric_ip;
	p->pod_cidr = spec->pod_cidr;
	p->live = live;
	snprintf(p->name, sizeof(p->name), "%s", spec->name);
	nm_tnl_index_build(next);
	tnl_publish(node, next);
	return 0;
}

/* Replace (tx, rx0, rx1) of peer idx; what is replaced is freed after publication. */
static int
keys_swap(struct nm_node *node, unsigned int idx, struct nm_tnl_key *tx, struct nm_tnl_rx *rx0,
	  struct nm_tnl_rx *rx1, bool free_live)
{
	struct nm_tnl_state *next = tnl_copy(node);

	if (next == NULL)
		return -ENOMEM;
	struct nm_tnl_peer *p = &next->peers[idx];
	struct nm_tnl_key *old_tx = p->tx;
	struct nm_tnl_rx *old_rx[2] = {p->rx[0], p->rx[1]};
	struct nm_peer_live *old_live = p->live;

	p->tx = tx;
	p->rx[0] = rx0;
	p->rx[1] = rx1;
	if (free_live) {
		memset(p, 0, sizeof(*p));
		nm_tnl_index_build(next);
	}
	tnl_publish(node, next);
	if (old_tx != tx)
		nm_tnl_key_free(old_tx);
	for (int k = 0; k < 2; k++)
		if (old_rx[k] != rx0 && old_rx[k] != rx1)
			nm_node_tnl_rx_free(old_rx[k]);
	if (free_live)
		rte_free(old_live);
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
	struct nm_tnl_key *key = nm_tnl_key_create(kp);

	if (key == NULL) {
		snprintf(err, errlen, "creating the sending key failed");
		return -ENOMEM;
	}
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[idx];
	if (keys_swap(node, idx, key, p->rx[0], p->rx[1], false) < 0) {
		nm_tnl_key_free(key);
		snprintf(err, errlen, "out of memory for the tunnel state");
		return -ENOMEM;
	}
	return 0;
}

int
nm_node_tnl_set_rx(struct nm_node *node, unsigned int idx, const struct nm_tnl_key_params *kp,
		   char *err, size_t errlen)
{
	struct nm_tnl_rx *rx = rte_zmalloc("nm_tnl_rx", sizeof(*rx), RTE_CACHE_LINE_SIZE);

	if (rx != NULL)
		rx->key = nm_tnl_key_create(kp);
	if (rx == NULL || rx->key == NULL) {
		nm_node_tnl_rx_free(rx);
		snprintf(err, errlen, "creating the receiving key failed");
		return -ENOMEM;
	}
	nm_tnl_replay_init(&rx->replay);
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[idx];
	/* The new epoch becomes current; the current one stays for the grace period. */
	if (keys_swap(node, idx, p->tx, rx, p->rx[0], false) < 0) {
		nm_node_tnl_rx_free(rx);
		snprintf(err, errlen, "out of memory for the tunnel state");
		return -ENOMEM;
	}
	return 0;
}

int
nm_node_tnl_keys_set(struct nm_node *node, unsigned int idx, struct nm_tnl_key *tx,
		     struct nm_tnl_rx *rx0, struct nm_tnl_rx *rx1)
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
	const struct nm_tnl_key *tx = node->dp.tnl->peers[idx].tx;

	return tx != NULL && nm_tnl_key_should_rotate(tx);
}

/* ---- remote pods (announced by peers) ------------------------------------- */

/*
 * The table announcements edit: inside a batch (nm_node_remote_begin/_end),
 * one clone taken at the first change and published once at the end;
 * outside one, a clone per change, published at once. *fresh says which.
 */
static struct nm_pod_table *
edit_table(struct nm_node *node, bool *fresh)
{
	*fresh = !node->remote_batch;
	if (node->remote_batch && node->remote_next != NULL)
		return node->remote_next;
	struct nm_pod_table *next =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	if (next != NULL && node->remote_batch)
		node->remote_next = next;
	return next;
}

/* The table a change reads: the batch's clone when there is one, else the published one. */
static const struct nm_pod_table *
read_table(const struct nm_node *node)
{
	return node->remote_next != NULL ? node->remote_next : node->dp.pods;
}

/* Publish an edit made outside a batch; inside one, the batch's end does it. */
static int
edit_done(struct nm_node *node, struct nm_pod_table *next, bool fresh, char *err, size_t errlen)
{
	return fresh ? nm_node_publish_rebuilt(node, next, err, errlen) : 0;
}

void
nm_node_remote_begin(struct nm_node *node)
{
	node->remote_batch = true;
}

int
nm_node_remote_end(struct nm_node *node, char *err, size_t errlen)
{
	struct nm_pod_table *next = node->remote_next;

	node->remote_batch = false;
	node->remote_next = NULL;
	if (next == NULL)
		return 0;
	return nm_node_publish_rebuilt(node, next, err, errlen);
}

int
nm_node_remote_pod_add(struct nm_node *node, unsigned int peer, const struct nm_announce *a,
		       char *err, size_t errlen)
{
	const struct nm_pod_table *cur = read_table(node);
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[peer];
	int slot = -1;

	if (!p->in_use || !nm_cidr_contains(&p->pod_cidr, a->ip)) {
		snprintf(err, errlen, "address outside the peer's pod CIDR");
		return -EPERM;
	}
	for (int i = 0; i < NM_MAX_PODS; i++) {
		const struct nm_pod *q = &cur->pods[i];
		if (nm_pod_present(q) && q->spec.ip == a->ip) {
			if (!q->remote || q->peer != peer) {
				snprintf(err, errlen, "address belongs to pod '%s'", q->spec.name);
				return -EEXIST;
			}
			slot = i; /* re-announced: replace */
			break;
		}
	}
	for (int i = 0; slot < 0 && i < NM_MAX_PODS; i++)
		if (!nm_pod_present(&cur->pods[i]))
			slot = i;
	if (slot < 0) {
		snprintf(err, errlen, "pod table full (%d)", NM_MAX_PODS);
		return -ENOSPC;
	}
	bool fresh;
	struct nm_pod_table *next = edit_table(node, &fresh);
	if (next == NULL) {
		snprintf(err, errlen, "out of memory for the pod table");
		return -ENOMEM;
	}
	struct nm_pod *q = &next->pods[slot];
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	memset(q, 0, sizeof(*q));
	q->remote = 1;
	q->peer = (uint16_t)peer;
	q->id = node->next_pod_id++;
	q->spec.ip = a->ip;
	snprintf(q->spec.name, sizeof(q->spec.name), "%s/%s", p->name, ip);
	snprintf(q->spec.ns, sizeof(q->spec.ns), "%s", a->ns);
	snprintf(q->spec.sa, sizeof(q->spec.sa), "%s", a->sa);
	snprintf(q->spec.labels, sizeof(q->spec.labels), "%s", a->labels);
	snprintf(q->spec.image, sizeof(q->spec.image), "%s", a->image);
	/* Named for flow records before publication: a record may name it only after. */
	node->pod_history[q->id % NM_POD_HISTORY] = q->spec;
	node->pod_history_id[q->id % NM_POD_HISTORY] = q->id;
	return edit_done(node, next, fresh, err, errlen);
}

/* Is the remote pod q one of peer's that goes: at only_ip, all, or not in keep[0..n_keep)? */
static bool
goes(const struct nm_pod *q, unsigned int peer, uint32_t only_ip, bool all, const uint32_t *keep,
     size_t n_keep)
{
	if (!q->remote || q->peer != peer)
		return false;
	if (keep != NULL) {
		for (size_t k = 0; k < n_keep; k++)
			if (keep[k] == q->spec.ip)
				return false;
		return true;
	}
	return all || q->spec.ip == only_ip;
}

/* Remove the remote pods of peer that goes() picks. -ENOENT if none. */
static int
remote_remove(struct nm_node *node, unsigned int peer, uint32_t only_ip, bool all,
	      const uint32_t *keep, size_t n_keep)
{
	const struct nm_pod_table *cur = read_table(node);
	bool any = false;

	for (int i = 0; i < NM_MAX_PODS && !any; i++)
		any = goes(&cur->pods[i], peer, only_ip, all, keep, n_keep);
	if (!any)
		return -ENOENT;
	bool fresh;
	struct nm_pod_table *next = edit_table(node, &fresh);
	if (next == NULL)
		return -ENOMEM;
	for (int i = 0; i < NM_MAX_PODS; i++)
		if (goes(&next->pods[i], peer, only_ip, all, keep, n_keep))
			memset(&next->pods[i], 0, sizeof(next->pods[i]));
	char err[128];
	return edit_done(node, next, fresh, err, sizeof(err));
}

int
nm_node_remote_pod_del(struct nm_node *node, unsigned int peer, uint32_t ip, char *err,
		       size_t errlen)
{
	int rc = remote_remove(node, peer, ip, false, NULL, 0);

	if (rc == -ENOENT)
		snprintf(err, errlen, "no pod of this peer at that address");
	else if (rc < 0)
		snprintf(err, errlen, "building the pod table failed");
	return rc;
}

void
nm_node_remote_pods_clear(struct nm_node *node, unsigned int peer)
{
	remote_remove(node, peer, 0, true, NULL, 0);
}

long
nm_node_remote_pods_keep(struct nm_node *node, unsigned int peer, const uint32_t *keep,
			 size_t n_keep)
{
	const struct nm_pod_table *cur = read_table(node);
	long gone = 0;

	for (int i = 0; i < NM_MAX_PODS; i++)
		gone += goes(&cur->pods[i], peer, 0, false, keep, n_keep);
	if (gone == 0)
		return 0;
	int rc = remote_remove(node, peer, 0, false, keep, n_keep);
	return rc < 0 ? rc : gone;
}

json_t *
nm_node_remote_pods_json(struct nm_node *node)
{
	json_t *list = json_array();

	for (int i = 0; i < NM_MAX_PODS; i++) {
		const struct nm_pod *q = &node->dp.pods->pods[i];
		char ip[INET_ADDRSTRLEN];

		if (!q->remote)
			continue;
		inet_ntop(AF_INET, &q->spec.ip, ip, sizeof(ip));
		json_array_append_new(
		    list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", q->spec.name,
				    "node", node->dp.tnl->peers[q->peer].name, "ip", ip,
				    "namespace", q->spec.ns, "serviceaccount", q->spec.sa, "labels",
				    q->spec.labels, "image", q->spec.image));
	}
	return list;
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

	return nm_tnl_state_size(n) / n + sizeof(struct nm_fabric_out) + sizeof(uint16_t);
}

size_t
nm_node_tnl_peer_bytes(void)
{
	return sizeof(struct nm_peer_live) + 2 * sizeof(struct nm_tnl_rx);
}

/* Dataplane view of peer idx for `tunnel list`. */
json_t *
nm_node_tnl_peer_json(struct nm_node *node, unsigned int idx)
{
	const struct nm_tnl_peer *p = &node->dp.tnl->peers[idx];
	json_t *o = json_object();

	if (!p->in_use)
		return o;
	const struct nm_peer_live *l = p->live;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &l->mac);
	json_object_set_new(o, "fabric_mac", LOAD(l->mac_known) ? json_string(mac) : json_null());
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)LOAD(l->tx_packets)));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)LOAD(l->tx_bytes)));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)LOAD(l->rx_packets)));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)LOAD(l->rx_bytes)));
	json_object_set_new(o, "dropped_no_key", json_integer((json_int_t)LOAD(l->no_key)));
	json_object_set_new(o, "dropped_unresolved", json_integer((json_int_t)LOAD(l->unresolved)));
	json_object_set_new(o, "inner_spoofed", json_integer((json_int_t)LOAD(l->inner_spoofed)));
	json_t *rej = json_object();
	uint64_t failures = 0;
	for (unsigned int r = 1; r < NM_TNL_REASON_MAX; r++) {
		uint64_t v = LOAD(l->rejected[r]);
		failures += v;
		json_object_set_new(rej, nm_tnl_reason_name(r), json_integer((json_int_t)v));
	}
	json_object_set_new(o, "rejected", rej);
	json_object_set_new(o, "rejected_total", json_integer((json_int_t)failures));
	if (p->tx != NULL) {
		struct nm_tnl_key_stats ks;
		nm_tnl_key_stats_get(p->tx, &ks);
		json_object_set_new(o, "tx_epoch", json_integer(nm_tnl_key_epoch(p->tx)));
		json_object_set_new(o, "tx_epoch_records", json_integer((json_int_t)ks.records));
	} else {
		json_object_set_new(o, "tx_epoch", json_null());
	}
	json_t *rx = json_array();
	for (int k = 0; k < 2; k++)
		if (p->rx[k] != NULL)
			json_array_append_new(rx, json_integer(nm_tnl_key_epoch(p->rx[k]->key)));
	json_object_set_new(o, "rx_epochs", rx);
	return o;
}
