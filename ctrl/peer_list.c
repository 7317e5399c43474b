/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What `peer list` and `tunnel list` say about the peers: one object per
 * peer, in name order and paged (limit=, after=, peer=) since a node may
 * have a thousand of them, and a summary: how many in each state, the
 * handshake budget and the handshakes it deferred.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "peers.h"
#include "peers_priv.h"

const char *const nm_peer_state_names[] = {"idle", "connecting", "handshake", "up"};

/* What `tunnel list` calls the state: "up" only with keys both ways. */
static const char *
shown_state(const struct peer *p)
{
	if (p->state != PEER_UP)
		return nm_peer_state_names[p->state];
	if (!p->hello_rx)
		return "handshake";
	return p->tx_epoch == 0 ? "keying" : "up";
}

static json_t *
peer_json(struct nm_peers *ps, unsigned int i, bool tunnel, uint64_t now)
{
	const struct peer *p = &ps->peers[i];
	char fab[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN], cidr[INET_ADDRSTRLEN + 4];

	inet_ntop(AF_INET, &p->spec.fabric_ip, fab, sizeof(fab));
	inet_ntop(AF_INET, &p->spec.pod_cidr.net, net, sizeof(net));
	snprintf(cidr, sizeof(cidr), "%s/%u", net, p->spec.pod_cidr.prefix_len);
	json_t *o = json_pack(
	    "{s:s, s:s, s:i, s:s, s:s, s:s, s:b, s:I, s:I, s:s, s:I, s:I, s:I}", "name",
	    p->spec.name, "address", p->spec.host, "port", p->spec.port, "fabric_ip", fab,
	    "pod_cidr", cidr, "state", shown_state(p), "dialer", p->dialer, "sessions",
	    (json_int_t)p->sessions, "failures", (json_int_t)p->failures, "last_error",
	    p->last_error, "announcements_refused", (json_int_t)p->announce_refused, "resyncs",
	    (json_int_t)p->resyncs, "resync_removed", (json_int_t)p->resync_removed);
	if (tunnel) {
		json_object_set_new(o, "epoch", json_integer(p->tx_epoch));
		json_object_set_new(o, "rekeys", json_integer((json_int_t)p->rekeys));
		json_object_set_new(o, "epoch_age_s",
				    p->tx_epoch
					? json_integer((json_int_t)(now - p->tx_epoch_ms) / 1000)
					: json_null());
		json_object_update_new(o, nm_node_tnl_peer_json(ps->node, i));
	}
	return o;
}

/* A peer in the sorted order of a page. */
struct peer_ref {
	const char *name;
	unsigned int slot;
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct peer_ref *)a)->name, ((const struct peer_ref *)b)->name);
}

/* The peers whose names sort after `after` (NULL: all), in name order; their number. */
static unsigned int
peers_sorted(const struct nm_peers *ps, const char *after, struct peer_ref *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < ps->max_peers; i++) {
		const struct peer *p = &ps->peers[i];
		if (p->in_use && (after == NULL || strcmp(p->spec.name, after) > 0))
			out[n++] = (struct peer_ref){.name = p->spec.name, .slot = i};
	}
	qsort(out, n, sizeof(*out), by_name);
	return n;
}

json_t *
nm_peers_json(struct nm_peers *ps, bool tunnel, const struct nm_peers_page *page, const char **next,
	      char *err, size_t errlen)
{
	json_t *list = json_array();
	uint64_t now = now_ms();

	if (next != NULL)
		*next = NULL;
	if (ps == NULL || ps->peers == NULL)
		return list;
	if (page != NULL && page->peer != NULL) {
		unsigned int idx;
		if (nm_peer_named(ps, page->peer, &idx) == NULL) {
			snprintf(err, errlen, "no peer named '%s'", page->peer);
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, peer_json(ps, idx, tunnel, now));
		return list;
	}
	struct peer_ref *sorted = malloc((ps->max_peers + 1) * sizeof(*sorted));
	if (sorted == NULL) {
		snprintf(err, errlen, "out of memory");
		json_decref(list);
		return NULL;
	}
	unsigned int n = peers_sorted(ps, page != NULL ? page->after : NULL, sorted);
	unsigned int limit = page != NULL && page->limit != 0 && page->limit < n ? page->limit : n;
	for (unsigned int k = 0; k < limit; k++)
		json_array_append_new(list, peer_json(ps, sorted[k].slot, tunnel, now));
	if (next != NULL && limit < n)
		*next = sorted[limit - 1].name;
	free(sorted);
	return list;
}

json_t *
nm_peers_summary_json(const struct nm_peers *ps)
{
	json_int_t configured = 0, up = 0, keying = 0, connecting = 0, idle = 0;

	for (unsigned int i = 0; ps != NULL && ps->peers != NULL && i < ps->max_peers; i++) {
		const struct peer *p = &ps->peers[i];
		if (!p->in_use)
			continue;
		configured++;
		const char *s = shown_state(p);
		if (strcmp(s, "up") == 0)
			up++;
		else if (strcmp(s, "idle") == 0)
			idle++;
		else if (strcmp(s, "keying") == 0)
			keying++;
		else
			connecting++;
	}
	const struct nm_peer_rate *hs = ps != NULL ? &ps->hs : NULL;
	/* Control side per slot: the peer, its poll entry; the rest is the dataplane's. */
	size_t slot = sizeof(struct peer) + sizeof(struct pollfd) + sizeof(void *) +
		      (ps != NULL ? nm_node_tnl_slot_bytes(ps->node) : 0);
	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I}, s:{s:i, s:i, s:I, s:I}}",
			 "max_peers", ps != NULL ? (int)ps->max_peers : 0, "configured", configured,
			 "up", up, "keying", keying, "connecting", connecting, "idle", idle,
			 "memory", "bytes_per_slot", (json_int_t)slot, "bytes_per_keyed_peer",
			 (json_int_t)(ps != NULL ? nm_node_tnl_peer_bytes(ps->node) : 0),
			 "handshakes", "rate", hs != NULL ? (int)hs->rate : 0, "burst",
			 hs != NULL ? (int)hs->burst : 0, "started",
			 (json_int_t)(hs != NULL ? hs->taken : 0), "deferred",
			 (json_int_t)(hs != NULL ? hs->deferred : 0));
}
