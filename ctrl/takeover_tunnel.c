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
 * Frame TUNNEL: a body of takeover_wire.h (version, then length-prefixed
 * records of big-endian fields): one record per peer (kind 1), then one
 * per remote pod (kind 2), fields in peer_put()'s and remote_put()'s
 * order; a newer writer's trailing fields are skipped, a record too
 * short, of a kind this build does not know or a key or replay window
 * of another size refuses the takeover (the old daemon resumes). The
 * socket listening on tunnel.listen is attached (the new daemon could
 * not bind the address while the old one holds it; peers that call
 * meanwhile wait in its backlog). Keys travel only
 * over the takeover socket: every buffer that held them is wiped
 * (OPENSSL_cleanse, or the writer's wipe) before it is freed, and
 * nothing here writes a file.
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
#include "takeover_wire.h"
#include "nodemesh/ipcache-t.h"
#include "nodemesh/tnl_state.h"
#include "nodemesh/tunnel.h"

/*
 * One key as a TUNNEL record carries it (key_put()); present 0: the slot
 * is empty. A key set is carried as one key: its parameters, the counters
 * summed over its worker contexts, the shared sequence counter, and a
 * receiving key's window in RFC 6479's form (nm_tnl_replay_export), which
 * the release before wrote and reads.
 */
struct key_wire {
	struct nm_tnl_key_params params;
	struct nm_tnl_key_stats stats;
	uint64_t replay_top; /* receiving keys: the window of that epoch */
	uint64_t replay_bits[NM_TNL_REPLAY_WORDS];
	uint8_t present;
};

/* One peer as a TUNNEL record carries it (peer_put()). */
struct peer_wire {
	char name[NM_NAME_LEN];
	struct key_wire tx;
	struct key_wire rx[2]; /* current receive epoch, previous */
	struct nm_peer_keying keying;
	struct rte_ether_addr mac; /* its fabric MAC */
	uint8_t mac_known;
	struct nm_peer_live live; /* its counters, summed over the workers (`tunnel list`) */
};

/* A pod a peer announced (the ipcache), as its announcement. */
struct remote_wire {
	char peer[NM_NAME_LEN];
	struct nm_announce a;
};

enum record_kind {
	REC_PEER = 1,	/* a peer's keys, keying and counters */
	REC_REMOTE = 2, /* a pod a peer announced */
};

/* ---- the old daemon ---------------------------------------------------------- */

static void
key_to_wire(const struct nm_tnl_keyset *ks, struct key_wire *w)
{
	if (ks == NULL)
		return;
	nm_tnl_keyset_export(ks, &w->params, &w->stats);
	if (ks->dir == NM_TNL_OPEN)
		nm_tnl_replay_export(&ks->replay, &w->replay_top, w->replay_bits);
	w->present = 1;
}

static void
str_put(struct nm_twire_writer *w, const char *str, size_t cap)
{
	nm_twire_put_blob(w, str, (uint32_t)strnlen(str, cap));
}

/* A key: present, then its parameters, usage and (receiving keys) replay window. */
static void
key_put(struct nm_twire_writer *w, const struct key_wire *k)
{
	nm_twire_put_u8(w, k->present);
	nm_twire_put_u8(w, k->params.cipher);
	nm_twire_put_u8(w, k->params.dir);
	nm_twire_put_u16(w, k->params.epoch);
	nm_twire_put_blob(w, k->params.key, sizeof(k->params.key));
	nm_twire_put_blob(w, k->params.iv, sizeof(k->params.iv));
	nm_twire_put_u64(w, k->stats.records);
	nm_twire_put_u64(w, k->stats.forgeries);
	nm_twire_put_u64(w, k->stats.next_seq);
	nm_twire_put_u64(w, k->replay_top);
	nm_twire_put_u16(w, NM_TNL_REPLAY_WORDS);
	for (unsigned int i = 0; i < NM_TNL_REPLAY_WORDS; i++)
		nm_twire_put_u64(w, k->replay_bits[i]);
}

static void
live_put(struct nm_twire_writer *w, const struct peer_wire *p)
{
	const struct nm_peer_live *l = &p->live;

	nm_twire_put_bytes(w, p->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	nm_twire_put_u8(w, p->mac_known);
	nm_twire_put_u64(w, l->tx_packets);
	nm_twire_put_u64(w, l->tx_bytes);
	nm_twire_put_u64(w, l->rx_packets);
	nm_twire_put_u64(w, l->rx_bytes);
	nm_twire_put_u64(w, l->no_key);
	nm_twire_put_u64(w, l->unresolved);
	nm_twire_put_u64(w, l->inner_spoofed);
	nm_twire_put_u8(w, NM_TNL_REASON_MAX);
	for (unsigned int i = 0; i < NM_TNL_REASON_MAX; i++)
		nm_twire_put_u64(w, l->rejected[i]);
}

/* One peer's record (version 1.0). Append new fields at the end only. */
static void
peer_put(struct nm_twire_writer *w, const struct peer_wire *p)
{
	nm_twire_record_begin(w);
	nm_twire_put_u8(w, REC_PEER);
	str_put(w, p->name, sizeof(p->name));
	nm_twire_put_u16(w, p->keying.epoch_seq);
	nm_twire_put_u16(w, p->keying.tx_epoch);
	nm_twire_put_u32(w, p->keying.tx_epoch_age_ms);
	nm_twire_put_u32(w, p->keying.rx_prev_left_ms);
	key_put(w, &p->tx);
	key_put(w, &p->rx[0]);
	key_put(w, &p->rx[1]);
	live_put(w, p);
	nm_twire_record_end(w);
}

/* One remote pod's record (version 1.0): its peer and its announcement. */
static void
remote_put(struct nm_twire_writer *w, const struct remote_wire *r)
{
	nm_twire_record_begin(w);
	nm_twire_put_u8(w, REC_REMOTE);
	str_put(w, r->peer, sizeof(r->peer));
	nm_twire_put_u8(w, r->a.type);
	nm_twire_put_bytes(w, &r->a.ip, sizeof(r->a.ip)); /* network order as it is */
	str_put(w, r->a.ns, sizeof(r->a.ns));
	str_put(w, r->a.sa, sizeof(r->a.sa));
	str_put(w, r->a.labels, sizeof(r->a.labels));
	str_put(w, r->a.image, sizeof(r->a.image));
	nm_twire_record_end(w);
}

/*
 * The pods the peers announced (the ipcache), one record each, their
 * identity's namespace, service account and labels from the registry and
 * the image the ipcache keeps beside the entry.
 */
static void
remotes_put(const struct nm_node *node, struct nm_twire_writer *w)
{
	struct nm_ipcache_entry e;
	uint32_t iter = 0, ip;

	if (node->ipc.h == NULL)
		return;
	while (nm_ipcache_next(&node->ipc, &iter, &ip, &e) == 0) {
		const struct nm_idreg_entry *id = nm_idreg_get(&node->idreg, e.identity);
		struct remote_wire r;

		memset(&r, 0, sizeof(r));
		snprintf(r.peer, sizeof(r.peer), "%s", node->dp.tnl->peers[e.peer].name);
		r.a.type = NM_ANNOUNCE_POD_ADD;
		r.a.ip = ip;
		if (id != NULL) {
			snprintf(r.a.ns, sizeof(r.a.ns), "%s", id->ns);
			snprintf(r.a.sa, sizeof(r.a.sa), "%s", id->sa);
			snprintf(r.a.labels, sizeof(r.a.labels), "%s", id->labels);
		}
		snprintf(r.a.image, sizeof(r.a.image), "%s", nm_ipcache_image(&node->ipc, ip));
		remote_put(w, &r);
	}
}

int
nm_takeover_tunnel_send(struct nm_node *node, int conn, unsigned int *n_peers)
{
	const struct nm_tnl_state *st = node->dp.tnl;
	struct nm_twire_writer w = {.wipe = true}; /* keys: wiped when moved or freed */
	struct peer_wire p;
	unsigned int n = 0;

	*n_peers = 0;
	nm_twire_writer_init(&w);
	for (unsigned int i = 0; i < st->max_peers; i++) {
		const struct nm_tnl_peer *tp = &st->peers[i];
		const char *name;

		memset(&p, 0, sizeof(p));
		if (!tp->in_use || nm_peers_keying_get(node->peers, i, &name, &p.keying) < 0)
			continue;
		snprintf(p.name, sizeof(p.name), "%s", name);
		key_to_wire(tp->tx, &p.tx);
		key_to_wire(tp->rx[0], &p.rx[0]);
		key_to_wire(tp->rx[1], &p.rx[1]);
		p.mac_known = nm_peer_mac_get(tp, &p.mac);
		nm_node_tnl_live_sum(node, tp, &p.live);
		peer_put(&w, &p);
		n++;
	}
	OPENSSL_cleanse(&p, sizeof(p));
	remotes_put(node, &w);
	/* The peers' calls wait in its backlog while no daemon accepts. */
	int listen_fd = nm_peers_listen_fd(node->peers);
	int rc = w.err ? -ENOMEM
		       : nm_takeover_send(conn, NM_TAKEOVER_TUNNEL, w.buf, (uint32_t)w.len,
					  &listen_fd, listen_fd >= 0 ? 1 : 0);
	nm_twire_writer_free(&w);
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
		struct nm_tnl_keyset *tx = st->peers[i].tx;
		struct nm_tnl_key_stats ks;

		if (!st->peers[i].in_use || tx == NULL)
			continue;
		/* Workers stopped: they read the counter after the launch barrier. */
		nm_tnl_keyset_stats_get(tx, &ks);
		ks.next_seq += NM_TAKEOVER_SEQ_SKIP;
		nm_tnl_keyset_stats_set(tx, &ks);
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

/*
 * A key set of this node's workers from w (NULL when absent): the old
 * daemon may have had another number of workers; the key, its counters,
 * its sequence counter and its window are the key's, not a worker's.
 * 0 or -errno.
 */
static int
key_from_wire(const struct nm_node *node, const struct key_wire *w, uint8_t dir,
	      struct nm_tnl_keyset **out)
{
	*out = NULL;
	if (!w->present)
		return 0;
	if (w->params.dir != dir)
		return -EPROTO;
	*out = nm_tnl_keyset_create(&w->params, node->dp.n_workers);
	if (*out == NULL)
		return -errno;
	nm_tnl_keyset_stats_set(*out, &w->stats);
	if (dir == NM_TNL_OPEN)
		nm_tnl_replay_import(&(*out)->replay, w->replay_top, w->replay_bits);
	return 0;
}

/* One peer's keys in force in the tunnel state. 0, or -errno with err. */
static int
restore_peer(struct nm_node *node, const struct peer_wire *w, char *err, size_t errlen)
{
	struct nm_tnl_keyset *tx = NULL;
	struct nm_tnl_keyset *rx[2] = {NULL, NULL};
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
	rc = key_from_wire(node, &w->tx, NM_TNL_SEAL, &tx);
	if (rc == 0)
		rc = key_from_wire(node, &w->rx[0], NM_TNL_OPEN, &rx[0]);
	if (rc == 0)
		rc = key_from_wire(node, &w->rx[1], NM_TNL_OPEN, &rx[1]);
	if (rc == 0)
		rc = nm_node_tnl_keys_set(node, idx, tx, rx[0], rx[1]);
	if (rc < 0) {
		snprintf(err, errlen, "peer '%s': making its keys failed: %s", w->name,
			 strerror(-rc));
		nm_tnl_keyset_free(tx);
		nm_tnl_keyset_free(rx[0]);
		nm_tnl_keyset_free(rx[1]);
		return rc;
	}
	/*
	 * The MAC (no ARP before the first record) and the counters, so that
	 * `tunnel list` goes on counting (credited to worker 0). No worker
	 * runs yet: they read this after their launch. The ARP timer is this
	 * process's TSC reading: not carried.
	 */
	const struct nm_tnl_peer *tp = &node->dp.tnl->peers[idx];
	tp->dyn->w[0] = w->live;
	tp->dyn->w[0].arp_sent_tsc = 0;
	if (w->mac_known)
		nm_peer_mac_set(tp, &w->mac);
	return 0;
}

/* A string field into out (cap bytes, NUL-terminated); short if it does not fit. */
static void
str_get(struct nm_twire_reader *r, char *out, size_t cap)
{
	uint32_t n;
	const uint8_t *p = nm_twire_get_blob(r, (uint32_t)cap - 1, &n);

	memset(out, 0, cap);
	if (p != NULL)
		memcpy(out, p, n);
}

/* A fixed-size byte string: exactly n bytes, or the record is short. */
static void
exact_get(struct nm_twire_reader *r, uint8_t *out, uint32_t n)
{
	uint32_t got;
	const uint8_t *p = nm_twire_get_blob(r, n, &got);

	if (p == NULL || got != n) {
		r->short_ = true;
		return;
	}
	memcpy(out, p, n);
}

static void
key_get(struct nm_twire_reader *r, struct key_wire *k)
{
	k->present = nm_twire_get_u8(r);
	k->params.cipher = nm_twire_get_u8(r);
	k->params.dir = nm_twire_get_u8(r);
	k->params.epoch = nm_twire_get_u16(r);
	exact_get(r, k->params.key, sizeof(k->params.key));
	exact_get(r, k->params.iv, sizeof(k->params.iv));
	k->stats.records = nm_twire_get_u64(r);
	k->stats.forgeries = nm_twire_get_u64(r);
	k->stats.next_seq = nm_twire_get_u64(r);
	k->replay_top = nm_twire_get_u64(r);
	/* A window of another size cannot be used safely (RFC 6479's ring): refused. */
	if (nm_twire_get_u16(r) != NM_TNL_REPLAY_WORDS)
		r->short_ = true;
	for (unsigned int i = 0; i < NM_TNL_REPLAY_WORDS && nm_twire_reader_ok(r); i++)
		k->replay_bits[i] = nm_twire_get_u64(r);
}

static void
live_get(struct nm_twire_reader *r, struct peer_wire *p)
{
	struct nm_peer_live *l = &p->live;

	nm_twire_get_bytes(r, p->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	p->mac_known = nm_twire_get_u8(r) != 0;
	l->tx_packets = nm_twire_get_u64(r);
	l->tx_bytes = nm_twire_get_u64(r);
	l->rx_packets = nm_twire_get_u64(r);
	l->rx_bytes = nm_twire_get_u64(r);
	l->no_key = nm_twire_get_u64(r);
	l->unresolved = nm_twire_get_u64(r);
	l->inner_spoofed = nm_twire_get_u64(r);
	/* Reasons this build does not count are dropped; those it has and the writer not, 0. */
	unsigned int n = nm_twire_get_u8(r);
	for (unsigned int i = 0; i < n && nm_twire_reader_ok(r); i++) {
		uint64_t v = nm_twire_get_u64(r);
		if (i < NM_TNL_REASON_MAX)
			l->rejected[i] = v;
	}
}

/* One record of the body: REC_PEER into *p, REC_REMOTE into *q. Its kind, or -EPROTO. */
static int
record_get(struct nm_twire_reader *r, struct peer_wire *p, struct remote_wire *q)
{
	int kind = nm_twire_get_u8(r);

	memset(p, 0, sizeof(*p));
	memset(q, 0, sizeof(*q));
	if (kind == REC_PEER) {
		str_get(r, p->name, sizeof(p->name));
		p->keying.epoch_seq = nm_twire_get_u16(r);
		p->keying.tx_epoch = nm_twire_get_u16(r);
		p->keying.tx_epoch_age_ms = nm_twire_get_u32(r);
		p->keying.rx_prev_left_ms = nm_twire_get_u32(r);
		key_get(r, &p->tx);
		key_get(r, &p->rx[0]);
		key_get(r, &p->rx[1]);
		live_get(r, p);
	} else if (kind == REC_REMOTE) {
		str_get(r, q->peer, sizeof(q->peer));
		q->a.type = nm_twire_get_u8(r);
		nm_twire_get_bytes(r, &q->a.ip, sizeof(q->a.ip));
		str_get(r, q->a.ns, sizeof(q->a.ns));
		str_get(r, q->a.sa, sizeof(q->a.sa));
		str_get(r, q->a.labels, sizeof(q->a.labels));
		str_get(r, q->a.image, sizeof(q->a.image));
	} else {
		return -EPROTO;
	}
	return nm_twire_reader_ok(r) ? kind : -EPROTO;
}

/*
 * Read every record of the body without touching the node: a frame that
 * does not add up is refused before any key is made. Counts of each
 * kind, or -EPROTO with err.
 */
static int
body_check(const uint8_t *payload, uint32_t len, unsigned int *n_peers, unsigned int *n_remote,
	   char *err, size_t errlen)
{
	struct nm_twire_reader body, rec;
	struct peer_wire p;
	struct remote_wire q;
	uint16_t minor;
	int rc;

	*n_peers = *n_remote = 0;
	if (nm_twire_reader_init(&body, payload, len, &minor, err, errlen) < 0)
		return -EPROTO;
	while ((rc = nm_twire_next_record(&body, &rec, err, errlen)) > 0) {
		int kind = record_get(&rec, &p, &q);
		if (kind < 0) {
			snprintf(
			    err, errlen,
			    "TUNNEL frame: a record of %zu bytes that this nodemeshd cannot read "
			    "(kind %u, too short for version %d.%d, or a key or replay window of "
			    "another size)",
			    rec.len, rec.len > 0 ? rec.p[0] : 0u, NM_TWIRE_MAJOR, NM_TWIRE_MINOR);
			rc = -EPROTO;
			break;
		}
		if (kind == REC_PEER && ++*n_peers > NM_PEERS_MAX) {
			snprintf(err, errlen, "TUNNEL frame: more than %d peers", NM_PEERS_MAX);
			rc = -EPROTO;
			break;
		}
		if (kind == REC_REMOTE && ++*n_remote > NM_IPCACHE_MAX) {
			snprintf(err, errlen, "TUNNEL frame: more than %u remote pods",
				 NM_IPCACHE_MAX);
			rc = -EPROTO;
			break;
		}
	}
	OPENSSL_cleanse(&p, sizeof(p));
	return rc;
}

/* A pod a peer announced, as if announced again. 0, or -errno with err. */
static int
restore_remote(struct nm_node *node, const struct remote_wire *r, char *err, size_t errlen)
{
	unsigned int idx;
	char why[256];

	if (nm_peers_index(node->peers, r->peer, &idx) < 0) {
		snprintf(err, errlen, "a remote pod of peer '%s', not a peer here", r->peer);
		return -ENOENT;
	}
	int rc = nm_node_remote_pod_add(node, idx, &r->a, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "a remote pod of peer '%s': %s", r->peer, why);
	return rc;
}

/*
 * Protocol 1 (the release before the versioned bodies): two sections, each
 * a host-order u32 record size, a u32 count and count records of these
 * layouts, memcpy'd. Kept only to take over from that release.
 */
struct key_wire_v1 {
	struct nm_tnl_key_params params;
	struct nm_tnl_key_stats stats;
	uint64_t replay_top; /* struct nm_tnl_replay of that release: RFC 6479's ring */
	uint64_t replay_bits[NM_TNL_REPLAY_WORDS];
	uint8_t present;
	uint8_t pad[7];
};

/* struct nm_peer_live of that release, frozen here (the current one is per worker). */
struct peer_live_v1 {
	struct rte_ether_addr mac;
	bool mac_known;
	uint64_t arp_sent_tsc;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t no_key;
	uint64_t unresolved;
	uint64_t inner_spoofed;
	uint64_t rejected[19]; /* that release's NM_TNL_REASON_MAX: 18 reasons and OK */
} __rte_cache_aligned;

struct peer_wire_v1 {
	char name[NM_NAME_LEN];
	struct key_wire_v1 tx;
	struct key_wire_v1 rx[2];
	struct nm_peer_keying keying;
	struct peer_live_v1 live;
};

#define SECTION_V1_HDR (2 * sizeof(uint32_t)) /* record size, count */

/* A section at payload[*off..len) of records of want bytes, at most max: its count, or -EPROTO. */
static long
section_v1(const uint8_t *payload, uint32_t len, size_t *off, size_t want, uint32_t max,
	   const char *what, char *err, size_t errlen)
{
	uint32_t size, n;

	if (len - *off < SECTION_V1_HDR) {
		snprintf(err, errlen, "TUNNEL frame (protocol 1) of %u bytes: no room for its %s",
			 len, what);
		return -EPROTO;
	}
	memcpy(&size, payload + *off, sizeof(size));
	memcpy(&n, payload + *off + sizeof(size), sizeof(n));
	if (size != want || n > max || len - *off - SECTION_V1_HDR < (uint64_t)n * size) {
		snprintf(err, errlen,
			 "TUNNEL frame (protocol 1): %u %s of %u bytes in %u; this nodemeshd reads "
			 "at most %u of %zu",
			 n, what, size, len, max, want);
		return -EPROTO;
	}
	*off += SECTION_V1_HDR + (size_t)n * size;
	return n;
}

static void
key_from_v1(const struct key_wire_v1 *v, struct key_wire *k)
{
	k->params = v->params;
	k->stats = v->stats;
	k->replay_top = v->replay_top;
	memcpy(k->replay_bits, v->replay_bits, sizeof(k->replay_bits));
	k->present = v->present;
}

static int
restore_v1(struct nm_node *node, const uint8_t *payload, uint32_t len, unsigned int *n_peers,
	   unsigned int *n_remote, char *err, size_t errlen)
{
	size_t off = 0;
	long n = section_v1(payload, len, &off, sizeof(struct peer_wire_v1), NM_PEERS_MAX, "peers",
			    err, errlen);
	size_t remote_off = off;
	long n_rem = n < 0 ? n
			   : section_v1(payload, len, &remote_off, sizeof(struct remote_wire),
					NM_MAX_PODS, "remote pods", err, errlen);
	int rc = 0;

	if (n < 0 || n_rem < 0)
		return -EPROTO;
	if (remote_off != len) {
		snprintf(err, errlen, "TUNNEL frame (protocol 1): %zu bytes after its sections",
			 (size_t)len - remote_off);
		return -EPROTO;
	}
	if (n > 0 && !node->dp.has_fabric) {
		snprintf(err, errlen, "the running daemon has tunnels, this config no fabric port");
		return -ENODEV;
	}
	for (long i = 0; i < n && rc == 0; i++) {
		struct peer_wire_v1 v;
		struct peer_wire p;

		memcpy(&v, payload + SECTION_V1_HDR + (size_t)i * sizeof(v), sizeof(v));
		memset(&p, 0, sizeof(p));
		memcpy(p.name, v.name, sizeof(p.name));
		key_from_v1(&v.tx, &p.tx);
		key_from_v1(&v.rx[0], &p.rx[0]);
		key_from_v1(&v.rx[1], &p.rx[1]);
		p.keying = v.keying;
		p.mac = v.live.mac;
		p.mac_known = v.live.mac_known;
		p.live.tx_packets = v.live.tx_packets;
		p.live.tx_bytes = v.live.tx_bytes;
		p.live.rx_packets = v.live.rx_packets;
		p.live.rx_bytes = v.live.rx_bytes;
		p.live.no_key = v.live.no_key;
		p.live.unresolved = v.live.unresolved;
		p.live.inner_spoofed = v.live.inner_spoofed;
		for (unsigned int r = 0; r < RTE_DIM(v.live.rejected) && r < NM_TNL_REASON_MAX; r++)
			p.live.rejected[r] = v.live.rejected[r];
		rc = restore_peer(node, &p, err, errlen);
		*n_peers += rc == 0;
		OPENSSL_cleanse(&v, sizeof(v));
		OPENSSL_cleanse(&p, sizeof(p));
	}
	for (long i = 0; i < n_rem && rc == 0; i++) {
		struct remote_wire q;

		memcpy(&q, payload + off + SECTION_V1_HDR + (size_t)i * sizeof(q), sizeof(q));
		q.peer[sizeof(q.peer) - 1] = '\0';
		q.a.ns[sizeof(q.a.ns) - 1] = q.a.sa[sizeof(q.a.sa) - 1] = '\0';
		q.a.labels[sizeof(q.a.labels) - 1] = q.a.image[sizeof(q.a.image) - 1] = '\0';
		rc = restore_remote(node, &q, err, errlen);
		*n_remote += rc == 0;
	}
	return rc;
}

int
nm_takeover_tunnel_restore(struct nm_node *node, uint8_t version, const uint8_t *payload,
			   uint32_t len, unsigned int *n_peers, unsigned int *n_remote, char *err,
			   size_t errlen)
{
	struct nm_twire_reader body, rec;
	struct peer_wire p;
	struct remote_wire q;
	unsigned int peers, remotes;
	uint16_t minor;
	int rc;

	*n_peers = 0;
	*n_remote = 0;
	if (version == 1)
		return restore_v1(node, payload, len, n_peers, n_remote, err, errlen);
	rc = body_check(payload, len, &peers, &remotes, err, errlen);
	if (rc < 0)
		return rc;
	if (peers > 0 && !node->dp.has_fabric) {
		snprintf(err, errlen, "the running daemon has tunnels, this config no fabric port");
		return -ENODEV;
	}
	/* Checked whole above: this second pass reads the same records. */
	nm_twire_reader_init(&body, payload, len, &minor, err, errlen);
	/* The remote pods as one batch: one policy compilation, not one per new identity. */
	nm_node_remote_begin(node);
	while (rc == 0 && nm_twire_next_record(&body, &rec, err, errlen) > 0) {
		if (record_get(&rec, &p, &q) == REC_PEER) {
			rc = restore_peer(node, &p, err, errlen);
			*n_peers += rc == 0;
		} else {
			rc = restore_remote(node, &q, err, errlen);
			*n_remote += rc == 0;
		}
	}
	char why[256];
	if (nm_node_remote_end(node, why, sizeof(why)) < 0 && rc == 0) {
		snprintf(err, errlen, "publishing the restored remote pods: %s", why);
		rc = -ENOMEM;
	}
	OPENSSL_cleanse(&p, sizeof(p));
	return rc;
}
