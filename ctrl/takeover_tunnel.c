/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's tunnel data plane (ctrl/takeover.c holds the conversation).
 * The peers' control sessions are TLS connections whose state lives in the
 * old process's OpenSSL objects and cannot move; what the records need
 * can: per peer, the keys in force (sending, and the receiving epochs
 * still accepted) with their sequence numbers, usage counters and replay
 * windows, the epoch numbering, and the peer's learnt fabric MAC (with
 * the peer's packet and rejection counters, so `tunnel list` goes on). With
 * them the new daemon seals and opens from its first burst, exactly where
 * the old one stopped, while it dials its peers afresh (or they call it);
 * the new session's key offer replaces the handed-over keys as a rotation
 * does, and if no session comes within tunnel.grace_s they are withdrawn
 * (fail closed), as after a lost session.
 *
 * Nonces: the old daemon's workers are stopped (rte_eal_mp_wait_lcore)
 * before it reads a sealing key's next sequence number, and only the
 * fabric worker seals, so no record is sealed after the snapshot and the
 * new daemon goes on from that very number, no margin needed. The one way
 * back to the old keys is a takeover that fails after the new daemon's
 * workers ran: then the old daemon skips NM_TAKEOVER_SEQ_SKIP sequence
 * numbers before it seals again and rekeys (nm_takeover_tunnel_resume).
 *
 * The peers' announced pods (the ipcache) go too: they are not in the
 * state (they are the peers' word, given again in every session), and
 * without them the new daemon would drop every packet to a remote pod as
 * no_pod and every one from it as tunnel_inner_spoofed until the new
 * sessions' announcements came.
 *
 * Frame TUNNEL: two sections, each a u32 record size, a u32 count and
 * count records: struct peer_wire, then struct remote_wire (native byte
 * order: both daemons run on one host; a record size this build does not
 * know refuses the takeover), and the socket
 * listening on tunnel.listen attached (the new daemon could not bind the
 * address while the old one holds it; peers that call meanwhile wait in
 * its backlog). Keys travel only
 * over the takeover socket: every buffer that held them is wiped
 * (OPENSSL_cleanse) before it is freed, and nothing here writes a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "node.h"
#include "node_priv.h"
#include "peer_msg.h"
#include "peers.h"
#include "takeover.h"
#include "takeover_msg.h"
#include "nodemesh/tunnel.h"

/* One key on the wire; present 0: the slot is empty. */
struct key_wire {
	struct nm_tnl_key_params params;
	struct nm_tnl_key_stats stats;
	struct nm_tnl_replay replay; /* receiving keys: the window of that epoch */
	uint8_t present;
	uint8_t pad[7];
};

struct peer_wire {
	char name[NM_NAME_LEN];
	struct key_wire tx;
	struct key_wire rx[2]; /* current receive epoch, previous */
	struct nm_peer_keying keying;
	struct nm_peer_live live; /* its MAC and counters (`tunnel list`) */
};

/* A pod a peer announced (the ipcache), as its announcement. */
struct remote_wire {
	char peer[NM_NAME_LEN];
	struct nm_announce a;
};

#define SECTION_HDR_LEN (2 * sizeof(uint32_t)) /* record size, count */

/* ---- the old daemon ---------------------------------------------------------- */

static void
key_to_wire(const struct nm_tnl_key *key, const struct nm_tnl_replay *replay, struct key_wire *w)
{
	if (key == NULL)
		return;
	nm_tnl_key_export(key, &w->params, &w->stats);
	if (replay != NULL)
		w->replay = *replay;
	w->present = 1;
}

/* The remote pods' section at out; its length. */
static size_t
remotes_to_wire(const struct nm_node *node, uint8_t *out)
{
	uint32_t n = 0, size = sizeof(struct remote_wire);

	for (int i = 0; i < NM_MAX_PODS; i++) {
		const struct nm_pod *q = &node->dp.pods->pods[i];
		struct remote_wire r;

		if (!q->remote)
			continue;
		memset(&r, 0, sizeof(r));
		snprintf(r.peer, sizeof(r.peer), "%s", node->dp.tnl->peers[q->peer].name);
		r.a.type = NM_ANNOUNCE_POD_ADD;
		r.a.ip = q->spec.ip;
		snprintf(r.a.ns, sizeof(r.a.ns), "%s", q->spec.ns);
		snprintf(r.a.sa, sizeof(r.a.sa), "%s", q->spec.sa);
		snprintf(r.a.labels, sizeof(r.a.labels), "%s", q->spec.labels);
		snprintf(r.a.image, sizeof(r.a.image), "%s", q->spec.image);
		memcpy(out + SECTION_HDR_LEN + (size_t)n * size, &r, size);
		n++;
	}
	memcpy(out, &size, sizeof(size));
	memcpy(out + sizeof(size), &n, sizeof(n));
	return SECTION_HDR_LEN + (size_t)n * size;
}

int
nm_takeover_tunnel_send(struct nm_node *node, int conn, unsigned int *n_peers)
{
	const struct nm_tnl_state *st = node->dp.tnl;
	size_t cap = 2 * SECTION_HDR_LEN + (size_t)st->max_peers * sizeof(struct peer_wire) +
		     NM_MAX_PODS * sizeof(struct remote_wire);
	uint8_t *buf = calloc(1, cap);
	struct peer_wire w; /* built here, copied in: records follow an 8-byte header */
	uint32_t n = 0, size = sizeof(struct peer_wire);

	*n_peers = 0;
	if (buf == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < st->max_peers; i++) {
		const struct nm_tnl_peer *p = &st->peers[i];
		const char *name;

		memset(&w, 0, sizeof(w));
		if (!p->in_use || nm_peers_keying_get(node->peers, i, &name, &w.keying) < 0)
			continue;
		snprintf(w.name, sizeof(w.name), "%s", name);
		key_to_wire(p->tx, NULL, &w.tx);
		for (int k = 0; k < 2; k++)
			if (p->rx[k] != NULL)
				key_to_wire(p->rx[k]->key, &p->rx[k]->replay, &w.rx[k]);
		w.live = *p->live;
		memcpy(buf + SECTION_HDR_LEN + (size_t)n * size, &w, size);
		n++;
	}
	OPENSSL_cleanse(&w, sizeof(w));
	memcpy(buf, &size, sizeof(size));
	memcpy(buf + sizeof(size), &n, sizeof(n));
	size_t len = SECTION_HDR_LEN + (size_t)n * size;
	len += remotes_to_wire(node, buf + len);
	/* The peers' calls wait in its backlog while no daemon accepts. */
	int listen_fd = nm_peers_listen_fd(node->peers);
	int rc = nm_takeover_send(conn, NM_TAKEOVER_TUNNEL, buf, (uint32_t)len, &listen_fd,
				  listen_fd >= 0 ? 1 : 0);
	OPENSSL_cleanse(buf, cap);
	free(buf);
	if (rc == 0)
		*n_peers = n;
	return rc;
}

void
nm_takeover_tunnel_resume(struct nm_node *node)
{
	struct nm_tnl_state *st = node->dp.tnl;
	unsigned int n = 0;

	for (unsigned int i = 0; st != NULL && i < st->max_peers; i++) {
		struct nm_tnl_key *tx = st->peers[i].tx;
		struct nm_tnl_key_params kp;
		struct nm_tnl_key_stats ks;

		if (!st->peers[i].in_use || tx == NULL)
			continue;
		/* Workers stopped: the fabric worker reads next_seq after the launch barrier. */
		nm_tnl_key_export(tx, &kp, &ks);
		OPENSSL_cleanse(&kp, sizeof(kp));
		ks.next_seq += NM_TAKEOVER_SEQ_SKIP;
		nm_tnl_key_stats_set(tx, &ks);
		n++;
	}
	nm_peers_rekey_all(node->peers);
	if (n > 0)
		RTE_LOG(INFO, USER1,
			"takeover: %u sending keys skip %llu sequence numbers (the new daemon may "
			"have sealed with them) and are replaced by new epochs\n",
			n, (unsigned long long)NM_TAKEOVER_SEQ_SKIP);
}

/* ---- the new daemon ---------------------------------------------------------- */

/* A key context from w (NULL when absent); 0 or -errno. */
static int
key_from_wire(const struct key_wire *w, uint8_t dir, struct nm_tnl_key **key)
{
	*key = NULL;
	if (!w->present)
		return 0;
	if (w->params.dir != dir)
		return -EPROTO;
	*key = nm_tnl_key_create(&w->params);
	if (*key == NULL)
		return -errno;
	nm_tnl_key_stats_set(*key, &w->stats);
	return 0;
}

static int
rx_from_wire(const struct key_wire *w, struct nm_tnl_rx **out)
{
	struct nm_tnl_key *key;
	int rc = key_from_wire(w, NM_TNL_OPEN, &key);

	*out = NULL;
	if (rc < 0 || key == NULL)
		return rc;
	*out = rte_zmalloc("nm_tnl_rx", sizeof(**out), RTE_CACHE_LINE_SIZE);
	if (*out == NULL) {
		nm_tnl_key_free(key);
		return -ENOMEM;
	}
	(*out)->key = key;
	(*out)->replay = w->replay;
	return 0;
}

/* One peer's keys in force in the tunnel state. 0, or -errno with err. */
static int
restore_peer(struct nm_node *node, const struct peer_wire *w, char *err, size_t errlen)
{
	struct nm_tnl_key *tx = NULL;
	struct nm_tnl_rx *rx[2] = {NULL, NULL};
	unsigned int idx;
	int rc;

	if (memchr(w->name, '\0', sizeof(w->name)) == NULL) {
		snprintf(err, errlen, "a peer record without a name");
		return -EPROTO;
	}
	if (nm_peers_keying_set(node->peers, w->name, &w->keying, &idx) < 0) {
		snprintf(err, errlen, "peer '%s' of the running daemon is not a peer here",
			 w->name);
		return -ENOENT;
	}
	rc = key_from_wire(&w->tx, NM_TNL_SEAL, &tx);
	if (rc == 0)
		rc = rx_from_wire(&w->rx[0], &rx[0]);
	if (rc == 0)
		rc = rx_from_wire(&w->rx[1], &rx[1]);
	if (rc == 0)
		rc = nm_node_tnl_keys_set(node, idx, tx, rx[0], rx[1]);
	if (rc < 0) {
		snprintf(err, errlen, "peer '%s': making its keys failed: %s", w->name,
			 strerror(-rc));
		nm_tnl_key_free(tx);
		nm_node_tnl_rx_free(rx[0]);
		nm_node_tnl_rx_free(rx[1]);
		return rc;
	}
	/*
	 * The MAC (no ARP before the first record) and the counters, so that
	 * `tunnel list` goes on counting. No worker runs yet: the fabric
	 * worker reads this after its launch. The ARP timer is this
	 * process's TSC reading: not carried.
	 */
	struct nm_peer_live *live = node->dp.tnl->peers[idx].live;
	*live = w->live;
	live->arp_sent_tsc = 0;
	return 0;
}

/*
 * Check the section at payload[*off..len): records of want bytes, at most
 * max. Its count, *off moved past it; or -EPROTO with err.
 */
static long
section(const uint8_t *payload, uint32_t len, size_t *off, size_t want, uint32_t max,
	const char *what, char *err, size_t errlen)
{
	uint32_t size, n;

	if (len - *off < SECTION_HDR_LEN) {
		snprintf(err, errlen, "TUNNEL frame of %u bytes: no room for its %s", len, what);
		return -EPROTO;
	}
	memcpy(&size, payload + *off, sizeof(size));
	memcpy(&n, payload + *off + sizeof(size), sizeof(n));
	if (size != want || n > max || len - *off - SECTION_HDR_LEN < (uint64_t)n * size) {
		snprintf(err, errlen,
			 "TUNNEL frame: %u %s of %u bytes in %u; this nodemeshd reads at most "
			 "%u of %zu",
			 n, what, size, len, max, want);
		return -EPROTO;
	}
	*off += SECTION_HDR_LEN + (size_t)n * size;
	return n;
}

/* The peers' announced pods, as if announced again. 0, or -errno with err. */
static int
restore_remotes(struct nm_node *node, const uint8_t *recs, uint32_t n, unsigned int *n_remote,
		char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++) {
		struct remote_wire r;
		unsigned int idx;
		char why[256];

		memcpy(&r, recs + (size_t)i * sizeof(r), sizeof(r));
		r.peer[sizeof(r.peer) - 1] = '\0';
		r.a.ns[sizeof(r.a.ns) - 1] = r.a.sa[sizeof(r.a.sa) - 1] = '\0';
		r.a.labels[sizeof(r.a.labels) - 1] = r.a.image[sizeof(r.a.image) - 1] = '\0';
		if (nm_peers_index(node->peers, r.peer, &idx) < 0) {
			snprintf(err, errlen, "a remote pod of peer '%s', not a peer here", r.peer);
			return -ENOENT;
		}
		int rc = nm_node_remote_pod_add(node, idx, &r.a, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "a remote pod of peer '%s': %s", r.peer, why);
			return rc;
		}
		(*n_remote)++;
	}
	return 0;
}

int
nm_takeover_tunnel_restore(struct nm_node *node, const uint8_t *payload, uint32_t len,
			   unsigned int *n_peers, unsigned int *n_remote, char *err, size_t errlen)
{
	size_t off = 0;
	long n = section(payload, len, &off, sizeof(struct peer_wire), NM_PEERS_MAX, "peers", err,
			 errlen);
	size_t remote_off = off;
	long n_rem = n < 0 ? n
			   : section(payload, len, &remote_off, sizeof(struct remote_wire),
				     NM_MAX_PODS, "remote pods", err, errlen);

	*n_peers = 0;
	*n_remote = 0;
	if (n < 0 || n_rem < 0)
		return -EPROTO;
	if (remote_off != len) {
		snprintf(err, errlen, "TUNNEL frame: %zu bytes after its sections",
			 (size_t)len - remote_off);
		return -EPROTO;
	}
	if (n > 0 && !node->dp.has_fabric) {
		snprintf(err, errlen, "the running daemon has tunnels, this config no fabric port");
		return -ENODEV;
	}
	for (long i = 0; i < n; i++) {
		struct peer_wire w;

		memcpy(&w, payload + SECTION_HDR_LEN + (size_t)i * sizeof(w), sizeof(w));
		int rc = restore_peer(node, &w, err, errlen);
		OPENSSL_cleanse(&w, sizeof(w));
		if (rc < 0)
			return rc;
		(*n_peers)++;
	}
	return restore_remotes(node, payload + off + SECTION_HDR_LEN, (uint32_t)n_rem, n_remote,
			       err, errlen);
}
