/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's tunnel data plane (ctrl/takeover.c holds the conversation).
 * The peers' control sessions are TLS connections whose state lives in the
 * old process's OpenSSL objects and cannot move; what the records need
 * can: per peer, the keys in force (sending, and the receiving epochs
 * still accepted) with their sequence numbers, usage counters and replay
 * windows, the epoch numbering, and the peer's learnt fabric MAC. With
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
 * Frame TUNNEL: u32 record size, u32 count, then count records of struct
 * peer_wire (native byte order: both daemons run on one host; a record
 * size this build does not know refuses the takeover), and the socket
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
	uint8_t mac[RTE_ETHER_ADDR_LEN];
	uint8_t mac_known;
	uint8_t pad;
};

#define FRAME_HDR_LEN (2 * sizeof(uint32_t))

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

int
nm_takeover_tunnel_send(struct nm_node *node, int conn, unsigned int *n_peers)
{
	const struct nm_tnl_state *st = node->dp.tnl;
	size_t cap = FRAME_HDR_LEN + NM_MAX_PEERS * sizeof(struct peer_wire);
	uint8_t *buf = calloc(1, cap);
	struct peer_wire *recs;
	uint32_t n = 0, size = sizeof(struct peer_wire);

	*n_peers = 0;
	if (buf == NULL)
		return -ENOMEM;
	recs = (struct peer_wire *)(buf + FRAME_HDR_LEN);
	for (unsigned int i = 0; i < NM_MAX_PEERS; i++) {
		const struct nm_tnl_peer *p = &st->peers[i];
		struct peer_wire *w = &recs[n];
		const char *name;

		if (!p->in_use || nm_peers_keying_get(node->peers, i, &name, &w->keying) < 0)
			continue;
		snprintf(w->name, sizeof(w->name), "%s", name);
		key_to_wire(p->tx, NULL, &w->tx);
		for (int k = 0; k < 2; k++)
			if (p->rx[k] != NULL)
				key_to_wire(p->rx[k]->key, &p->rx[k]->replay, &w->rx[k]);
		memcpy(w->mac, p->live->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
		w->mac_known = p->live->mac_known;
		n++;
	}
	memcpy(buf, &size, sizeof(size));
	memcpy(buf + sizeof(size), &n, sizeof(n));
	size_t len = FRAME_HDR_LEN + (size_t)n * size;
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

	for (unsigned int i = 0; st != NULL && i < NM_MAX_PEERS; i++) {
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
	/* No worker runs yet: the fabric worker reads these after its launch. */
	struct nm_peer_live *live = node->dp.tnl->peers[idx].live;
	memcpy(live->mac.addr_bytes, w->mac, RTE_ETHER_ADDR_LEN);
	live->mac_known = w->mac_known != 0;
	return 0;
}

int
nm_takeover_tunnel_restore(struct nm_node *node, const uint8_t *payload, uint32_t len,
			   unsigned int *n_peers, char *err, size_t errlen)
{
	uint32_t size, n;

	*n_peers = 0;
	if (len < FRAME_HDR_LEN) {
		snprintf(err, errlen, "TUNNEL frame of %u bytes: shorter than its header", len);
		return -EPROTO;
	}
	memcpy(&size, payload, sizeof(size));
	memcpy(&n, payload + sizeof(size), sizeof(n));
	if (size != sizeof(struct peer_wire) || n > NM_MAX_PEERS ||
	    len != FRAME_HDR_LEN + (uint64_t)n * size) {
		snprintf(err, errlen,
			 "TUNNEL frame: %u records of %u bytes in %u; this nodemeshd reads at most "
			 "%d of %zu",
			 n, size, len, NM_MAX_PEERS, sizeof(struct peer_wire));
		return -EPROTO;
	}
	if (n > 0 && !node->dp.has_fabric) {
		snprintf(err, errlen, "the running daemon has tunnels, this config no fabric port");
		return -ENODEV;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct peer_wire w;

		memcpy(&w, payload + FRAME_HDR_LEN + (size_t)i * size, sizeof(w));
		int rc = restore_peer(node, &w, err, errlen);
		OPENSSL_cleanse(&w, sizeof(w));
		if (rc < 0)
			return rc;
		(*n_peers)++;
	}
	return 0;
}
