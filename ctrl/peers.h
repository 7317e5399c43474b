/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peers: the control connections to other nodes (ctrl/peers.c), run
 * by the control thread between control-socket requests.
 *
 * One mutual TLS 1.3 connection per peer, dialled by the node whose name
 * sorts first and accepted by the other. It carries JSON messages:
 *
 *   {"type":"hello","node":NAME}          first message each way; a dialler
 *                                         counts the peer up only once it came
 *   {"type":"pod_add",...} / "pod_del"    the ipcache (ctrl/peer_msg.c)
 *   {"type":"key","epoch":E}              "install epoch E for receiving"
 *   {"type":"key_ack","epoch":E}          "installed": the sender switches
 *
 * Keys come from the TLS exporter (nm_tls_export_key) per direction and
 * epoch, so the receiver has epoch E before the sender seals with it, and
 * keeps the previous epoch for tunnel.grace_s: a rotation loses nothing.
 * Failures (connection, handshake, identity) are logged with the reason
 * and retried with exponential back-off (1 s to 30 s); nothing is sent to
 * a peer before its certificate and name were verified.
 */
#ifndef NM_PEERS_H
#define NM_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"

struct nm_node;
struct nm_peers;

/*
 * NULL with err set on failure; a node without a tunnel gets an empty
 * manager. listen_fd: a takeover's listening socket for tunnel.listen,
 * bound and listening already (ownership passes, even on failure), or -1
 * to open one.
 */
struct nm_peers *nm_peers_create(struct nm_node *node, const struct nm_config *cfg, int listen_fd,
				 char *err, size_t errlen);
/* The listening socket for peers' calls (a takeover passes it on), or -1. */
int nm_peers_listen_fd(const struct nm_peers *ps);
void nm_peers_destroy(struct nm_peers *ps);

/* Do whatever is due, waiting at most timeout_ms for socket activity. */
void nm_peers_poll(struct nm_peers *ps, int timeout_ms);

int nm_peers_add(struct nm_peers *ps, const struct nm_peer_spec *spec, char *err, size_t errlen);
int nm_peers_del(struct nm_peers *ps, const char *name, char *err, size_t errlen);
/* Copy the specs of the peers in use (at most max) into out; their number. */
unsigned int nm_peers_specs(const struct nm_peers *ps, struct nm_peer_spec *out, unsigned int max);
/*
 * Which peers `tunnel list` shows: the one called peer, or those whose
 * names sort after `after` (NULL: from the first), at most limit (0: all),
 * in name order, so that pages stay in step while peers come and go.
 */
struct nm_peers_page {
	const char *peer;
	const char *after;
	uint32_t limit;
};

/*
 * `peer list` and `tunnel list` (page NULL: every peer). With a page,
 * *next is the name to ask for the next page with (after=), or NULL when
 * this page holds the last peer. NULL with err when page->peer names no
 * peer.
 */
json_t *nm_peers_json(struct nm_peers *ps, bool tunnel, const struct nm_peers_page *page,
		      const char **next, char *err, size_t errlen);
/* Peers configured, and in each state; the handshake budget and how often it made one wait. */
json_t *nm_peers_summary_json(const struct nm_peers *ps);
/* The listener's counters: accepted, pending handshakes, refusals by reason. */
json_t *nm_peers_listener_json(struct nm_peers *ps);
/* Start a key rotation toward this peer now. */
int nm_peers_rekey(struct nm_peers *ps, const char *name, char *err, size_t errlen);
/*
 * `cert reload`: read certificate, key, CA and CRL from their files again,
 * then handshake anew with every peer, off the event loop: the files are
 * read and the TLS context built on a job thread (ctrl/jobs.h); nm_peers_jobs_poll,
 * each loop turn, swaps it in on the control thread once it is done. 0
 * with *id the reload's number, -EBUSY while one is in progress (one at a
 * time), -ENODEV without a tunnel. A failed reload leaves the certificate
 * in use unchanged; nm_peers_cert_json says how each ended.
 */
int nm_peers_cert_reload_start(struct nm_peers *ps, uint64_t *id, char *err, size_t errlen);
/* Each loop turn: finish a reload whose job is done. */
void nm_peers_jobs_poll(struct nm_peers *ps);
/* True while a reload's job runs. */
bool nm_peers_jobs_busy(const struct nm_peers *ps);
/* `cert status`: {"loading": null|{"id","since","elapsed_ms"}, "last_reload": null|{"id",
 * "ok", "started", "finished", "took_ms"[, "error"]}}. */
json_t *nm_peers_cert_json(const struct nm_peers *ps);
/*
 * What a takeover carries of a peer's key schedule besides the keys
 * themselves (ctrl/takeover_tunnel.c): the epoch numbers go on from the
 * old daemon's, so the new session's first offer never reuses an epoch
 * number the peer still holds a key for.
 */
struct nm_peer_keying {
	uint16_t epoch_seq;	  /* last epoch number offered */
	uint16_t tx_epoch;	  /* sealing with this (0: none) */
	uint32_t tx_epoch_age_ms; /* since it was installed (for tunnel.rekey_s) */
	uint32_t rx_prev_left_ms; /* the previous receive epoch goes then (0: none pending) */
};

/* The slot of the peer called name: 0 with *idx, or -ENOENT. */
int nm_peers_index(struct nm_peers *ps, const char *name, unsigned int *idx);

/* Peer slot idx's name and keying. 0, or -ENOENT for a slot not in use. */
int nm_peers_keying_get(const struct nm_peers *ps, unsigned int idx, const char **name,
			struct nm_peer_keying *k);

/*
 * The new daemon: give the peer called name (configured or restored here)
 * the old daemon's keying, and count its session as lost now, so that the
 * handed-over keys are withdrawn after tunnel.grace_s unless a new session
 * replaces them first. 0 with *idx its slot, or -ENOENT.
 */
int nm_peers_keying_set(struct nm_peers *ps, const char *name, const struct nm_peer_keying *k,
			unsigned int *idx);

/* Offer every peer a new sending key at the next chance (a resumed takeover). */
void nm_peers_rekey_all(struct nm_peers *ps);

/* Tell the peers a local pod came or went. */
void nm_peers_pod_changed(struct nm_peers *ps, const struct nm_pod_spec *spec, bool added);

#endif
