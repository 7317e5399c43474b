/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the peer manager: the peers, the listener's pending handshakes
 * and the calls between ctrl/peers.c (sessions, keys, announcements,
 * commands) and ctrl/peer_listen.c (the listener). Nothing outside those
 * two files includes this.
 */
#ifndef NM_PEERS_PRIV_H
#define NM_PEERS_PRIV_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <arpa/inet.h>

#include <jansson.h>
#include <rte_log.h>

#include "config.h"
#include "jobs.h"
#include "peer_rate.h"
#include "peer_tls.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define HANDSHAKE_MS   10000 /* a handshake (or the peer's hello) must finish in this */
#define KEY_RETRY_MS   5000  /* a key offer not acknowledged in this is sent again */
/*
 * The listener, against connections that never authenticate. Only the
 * addresses of peers that dial us are accepted; the kernel hands over a
 * connection once its first bytes came (TCP_DEFER_ACCEPT), and one that
 * sends nothing within FIRST_BYTES_MS, or has not finished its handshake
 * within PENDING_MS, is closed. An address has at most PENDING_PER_SRC
 * handshakes in progress: the newest replaces the oldest that sent
 * nothing (else the oldest), so a peer's real dial, whose ClientHello
 * comes with it, is never pushed out by idle connections from its own
 * address. Handshakes are non-blocking steps, at most ACCEPT_BURST
 * accepts per poll, so no amount of them delays an up session or a dial.
 * Each accept takes a handshake token (tunnel.handshake_rate): without
 * one, calls wait in the kernel's accept queue (LISTEN_BACKLOG, at least
 * tunnel.max_peers) and are counted as deferred once each. MAX_PENDING
 * holds what PENDING_MS of accepts at a few hundred a second can start.
 */
#define FIRST_BYTES_MS	1000
#define PENDING_MS	3000
#define DEFER_ACCEPT_S	1
#define PENDING_PER_SRC 4
#define MAX_PENDING	256
#define ACCEPT_BURST	64
#define LISTEN_BACKLOG	128
/*
 * Jitter, so that peers that failed, or a node's whole set after a start
 * or `cert reload`, do not dial in step: a first dial waits up to
 * DIAL_JITTER_MS, a retry between half and all of its back-off, and a
 * dialler renews its session (tunnel.handshake_s) up to a tenth early.
 */
#define DIAL_JITTER_MS	  250
#define PLOG(p, fmt, ...) RTE_LOG(INFO, USER1, "peer %s: " fmt "\n", (p)->spec.name, ##__VA_ARGS__)

enum peer_state {
	PEER_IDLE = 0,	 /* not connected; a dialler tries again at next_try_ms */
	PEER_CONNECTING, /* TCP connect in progress (dialler) */
	PEER_HANDSHAKE,	 /* TLS handshake in progress (dialler) */
	PEER_UP,	 /* authenticated; up for traffic once hello_rx */
};

/* By enum peer_state (ctrl/peer_list.c). */
extern const char *const nm_peer_state_names[];

struct peer {
	bool in_use;
	bool dialer; /* we connect: our name sorts before the peer's */
	struct nm_peer_spec spec;
	enum peer_state state;
	int fd;
	struct nm_tls_conn *tls;
	int tx_dir;		 /* enum nm_tls_dir of our sending direction in this session */
	bool hello_rx;		 /* the peer's first message came: it accepted us */
	uint64_t resyncs;	 /* pods_synced messages applied */
	uint64_t resync_removed; /* pods they removed: announced in an earlier session only */
	uint64_t state_ms;
	uint64_t next_try_ms;
	uint64_t backoff_ms;
	uint64_t session_ms;	 /* when the current TLS session began */
	uint64_t session_end_ms; /* a dialler starts a new one then (tunnel.handshake_s) */
	bool deferred;		 /* due to dial, waiting for a handshake token (counted) */
	uint64_t failures;
	uint64_t sessions;
	uint64_t announce_refused;
	char last_error[256];
	/* Keys. Epochs count up across sessions; 0 is never used. */
	uint16_t epoch_seq; /* last epoch number offered */
	uint16_t tx_epoch;  /* sealing with this (0: none yet) */
	uint16_t offered;   /* offered, waiting for key_ack (0: none) */
	uint64_t offered_ms;
	uint64_t tx_epoch_ms;
	uint64_t rx_prev_until_ms; /* drop the previous receive epoch then (0: none) */
	uint64_t rekeys;
	bool rekey_now;
	uint64_t down_ms; /* when an up session was lost (0: up, or keys withdrawn) */
};

struct pending {
	int fd;
	struct nm_tls_conn *tls;
	uint64_t accepted_ms;
	uint64_t seq;	/* accept order: the oldest of an address is replaced first */
	bool got_bytes; /* the client sent something (a real dial sends its ClientHello) */
	uint32_t src;	/* source address, network order */
	char addr[INET_ADDRSTRLEN];
};

/* Why the listener closed a connection before it authenticated, counted in `peer list`. */
#define LISTEN_REFUSALS(_)                                                                         \
	_(NOT_PEER_ADDRESS, "not_peer_address")                                                    \
	_(FIRST_BYTES_TIMEOUT, "first_bytes_timeout")                                              \
	_(HANDSHAKE_TIMEOUT, "handshake_timeout")                                                  \
	_(REPLACED, "replaced_by_newer")                                                           \
	_(HANDSHAKE_FAILED, "handshake_failed")                                                    \
	_(NOT_CONFIGURED_NODE, "not_configured_node")

enum listen_refusal {
#define REFUSAL_ENUM(e, s) REFUSED_##e,
	LISTEN_REFUSALS(REFUSAL_ENUM)
#undef REFUSAL_ENUM
	    REFUSED_MAX
};

/*
 * A `cert reload` in progress: the TLS context is built (files read and
 * checked, SSL_CTX made) on a job thread from a copy of the identity; the
 * control thread swaps it in when the job is done (nm_peers_jobs_poll).
 */
struct cert_load {
	uint64_t id;
	uint64_t started_ns; /* CLOCK_REALTIME */
	struct nm_tls_identity ident;
	struct nm_tls_ctx *ctx; /* the job's result; NULL with err on failure */
	char err[512];
};

struct nm_peers {
	struct nm_node *node;
	const struct nm_config *cfg;
	struct nm_tls_identity id;
	struct nm_tls_ctx *ctx;
	struct nm_job cert_job;
	struct cert_load *cert_loading; /* the reload in progress, or NULL */
	uint64_t cert_load_id;		/* reloads started so far */
	json_t *cert_last;		/* outcome of the last finished reload, or NULL */
	int listen_fd;
	uint32_t max_peers;	/* slots in peers[] (tunnel.max_peers) */
	struct peer *peers;	/* index = slot in the tunnel state */
	struct pollfd *pfd;	/* poll set: listener, pending, peers */
	void **who;		/* what each pfd entry is (NULL: the listener) */
	struct nm_peer_rate hs; /* the handshake budget, dialled and accepted */
	uint32_t accept_queued; /* calls in the accept queue counted as deferred already */
	struct pending pend[MAX_PENDING];
	uint64_t accept_seq;	       /* connections accepted (orders pend[]) */
	uint64_t refused[REFUSED_MAX]; /* listener refusals, by reason */
};

static inline uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* peers.c */
struct peer *nm_peer_named(struct nm_peers *ps, const char *name, unsigned int *idx);
void nm_peer_close(struct peer *p);
/* An authenticated session on p: announce our pods, offer a key. */
void nm_peer_up(struct nm_peers *ps, struct peer *p, int tx_dir);

/* peer_listen.c */
int nm_peers_listen(struct nm_peers *ps, char *err, size_t errlen);
void nm_peers_accept(struct nm_peers *ps);
/* The bucket is empty: count the calls in the accept queue not counted yet as deferred. */
void nm_peers_accept_deferred(struct nm_peers *ps);
void nm_peers_pending_step(struct nm_peers *ps, struct pending *q);
void nm_peers_pending_expire(struct nm_peers *ps, uint64_t now);
void nm_peers_pending_drop(struct pending *q);

#endif
