/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hitless restart and upgrade (ctrl/takeover.c): `nodemeshd --takeover`
 * asks the running daemon, over its control socket and only as root, for
 * its run-time state and its listening control socket, starts forwarding,
 * and the old daemon exits. Frames: ctrl/takeover_msg.h.
 */
#ifndef NM_TAKEOVER_H
#define NM_TAKEOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct nm_node;
struct nm_pod;
struct nm_pod_spec;
struct nm_takeover_rings;
struct nm_takeover_flows;
struct nm_takeover_streams;

/* ---- the old daemon ---- */

/*
 * The server's takeover function (nm_server_takeover_fn; ctx is the node):
 * refuse a caller that is not uid 0; else stop the workers at a quiescent
 * point, send the state and listen_fd, and wait for the new daemon. 1: it
 * forwards now, this daemon must exit without touching the state file; 0:
 * refused, or the new one failed and the workers run again (said).
 */
int nm_takeover_serve(void *node, int conn, const struct ucred *cred, int listen_fd);

/*
 * Send every af_packet pod's socket with its rings' layout and cursors in
 * RINGS frames (ctrl/takeover_rings.c); workers stopped. 0 or -errno;
 * *n_rings says how many went.
 */
int nm_takeover_rings_send(struct nm_node *node, int conn, unsigned int *n_rings);

/*
 * Send the pods' ids and names (PODIDS) and every worker's flows (FLOWS
 * frames; ctrl/takeover_flows.c); workers stopped. 0 or -errno; *n_flows
 * says how many went, *bytes the FLOWS frames' payload.
 */
int nm_takeover_flows_send(struct nm_node *node, int conn, unsigned int *n_flows, size_t *bytes);

/*
 * Send every open inspection stream (STREAMS frames, at least one;
 * ctrl/takeover_streams.c); workers stopped. 0 or -errno; *n_streams says
 * how many went, *bytes the frames' payload.
 */
int nm_takeover_streams_send(struct nm_node *node, int conn, unsigned int *n_streams,
			     size_t *bytes);

/*
 * Send the peers' keys in force (tx and the receive epochs), their
 * counters, sequence numbers and replay windows, epoch numbering, learnt
 * fabric MACs and the pods the peers announced in one TUNNEL frame with the peers' listening
 * socket attached (ctrl/takeover_tunnel.c); workers stopped. 0 or -errno; *n_peers says how many
 * went.
 */
int nm_takeover_tunnel_send(struct nm_node *node, int conn, unsigned int *n_peers);

/*
 * The old daemon resumes after a takeover that failed: the new one may
 * have sealed records with the sending keys it was given, so each skips
 * NM_TAKEOVER_SEQ_SKIP sequence numbers (a nonce never repeats) and every
 * peer is offered a new epoch. Workers stopped.
 */
#define NM_TAKEOVER_SEQ_SKIP (1ull << 40)
void nm_takeover_tunnel_resume(struct nm_node *node);

/* ---- the new daemon ---- */

/*
 * Put a TUNNEL frame's keys in force for the peers of the same names here
 * (configured or restored from the state; workers not started), with the
 * old daemon's sequence numbers, counters, replay windows, epoch numbering
 * and fabric MACs, and the pods they announced (the ipcache). 0 with
 * *n_peers and *n_remote, or -errno with err (a record this build cannot
 * read, checked for the whole frame before anything is applied, a peer not here, a key the crypto
 * library refused).
 */
int nm_takeover_tunnel_restore(struct nm_node *node, uint8_t version, const uint8_t *payload,
			       uint32_t len, unsigned int *n_peers, unsigned int *n_remote,
			       char *err, size_t errlen);

/*
 * Keep a PODIDS or FLOWS frame in *flows (made at the first). 0, or
 * -EPROTO with err (not JSON, records of a size this build cannot read),
 * -ENOMEM.
 */
int nm_takeover_flows_add(struct nm_takeover_flows **flows, uint8_t version, uint8_t type,
			  const char *payload, uint32_t len, char *err, size_t errlen);

/* The slot here of the pod the old daemon called old_id (PODIDS), or -1. */
int nm_takeover_flows_pod_slot(const struct nm_node *node, const struct nm_takeover_flows *flows,
			       uint32_t old_id);

/*
 * Keep a STREAMS frame's records in *streams (made at the first); payload
 * is taken (the records point into it) and freed with *streams. 0, or
 * -EPROTO with err (a record too short, a count past its bound, a body
 * version this build cannot read), -ENOMEM.
 */
int nm_takeover_streams_add(struct nm_takeover_streams **streams, char *payload, uint32_t len,
			    char *err, size_t errlen);

/* What became of the streams handed over (`sig stats` → takeover). */
struct nm_takeover_stream_stats {
	unsigned int received;
	unsigned int restored;	  /* inspection goes on where it stopped */
	unsigned int db_mismatch; /* made with another database than the one here: midstream */
	unsigned int no_room;	  /* stream pool full, or no mbuf for a held segment: midstream */
	unsigned int refused;	  /* Hyperscan refused the compressed state: midstream */
	unsigned int no_flow;	  /* its flow was not restored (pod not here, table full) */
	unsigned int http_reset;  /* restored, its HTTP head too long for this chunk: raw stream */
	unsigned int held;	  /* out-of-order segments held again */
};

/*
 * Put the streams into the flows restored from flows (after
 * nm_takeover_flows_restore, with the signature set in force; workers
 * not started). Each stream's outcome is counted in *stats.
 */
void nm_takeover_streams_restore(struct nm_node *node, const struct nm_takeover_streams *streams,
				 const struct nm_takeover_flows *flows,
				 struct nm_takeover_stream_stats *stats);
/* How many streams came (NULL: none). */
unsigned int nm_takeover_streams_count(const struct nm_takeover_streams *streams);
void nm_takeover_streams_free(struct nm_takeover_streams *streams);

/*
 * Put the flows into the tables of the workers that own their pods here
 * (pods attached, rules in force, workers not started). Returns how many;
 * *skipped counts those whose pods are not here or whose table was full.
 */
unsigned int nm_takeover_flows_restore(struct nm_node *node, struct nm_takeover_flows *flows,
				       unsigned int *skipped);
void nm_takeover_flows_free(struct nm_takeover_flows *flows);

/*
 * Keep the rings of one RINGS frame (payload, fds[0..n_fds)) in *rings
 * (made at the first). 0, or -EPROTO/-ENOMEM with err and none of this
 * frame's fds kept: they are then the caller's to close.
 */
int nm_takeover_rings_add(struct nm_takeover_rings **rings, const char *payload, const int *fds,
			  unsigned int n_fds, char *err, size_t errlen);

/*
 * For nm_node_pod_add: if rings holds spec's interface (af_packet), map
 * those rings into pod->io and pod->port_mac. 1 adopted, 0 none to adopt,
 * or -errno with err.
 */
int nm_takeover_rings_adopt(struct nm_takeover_rings *rings, const struct nm_pod_spec *spec,
			    struct nm_pod *pod, char *err, size_t errlen);

/* Close the rings no pod adopted and free; returns how many there were. NULL is fine. */
unsigned int nm_takeover_rings_free(struct nm_takeover_rings *rings);

struct nm_takeover {
	int conn;      /* to the old daemon */
	int listen_fd; /* its control socket; -1 once a server adopted it */
	char *state;   /* the state file's encoding */
	uint32_t state_len;
	uint64_t asked_ns;		 /* when the request went out (nm_mono_ns) */
	uint64_t state_ns;		 /* when the state was in */
	uint64_t applied_ns;		 /* when the pods were attached and the rules in force */
	bool answered;			 /* STARTED or ABORT sent */
	struct nm_takeover_rings *rings; /* the pods' sockets, until the pods adopt them */
	unsigned int n_rings;
	struct nm_takeover_flows *flows;     /* the old daemon's flow tables, until restored */
	struct nm_takeover_streams *streams; /* its inspection streams, until restored */
	uint8_t version; /* of the conversation: the old daemon's (NM_TAKEOVER_VERSION_MIN..) */
	uint8_t *tunnel; /* its TUNNEL frame (keys: wiped when freed), or NULL */
	uint8_t tunnel_version;
	uint32_t tunnel_len;
	int peer_listen_fd; /* its tunnel.listen socket; -1 once the peer manager took it */
};

/*
 * Connect to the daemon at path, ask for a takeover and receive its state
 * and listening socket. NULL with err saying why (no daemon, refused,
 * timed out).
 */
struct nm_takeover *nm_takeover_connect(const char *path, char *err, size_t errlen);

/* Tell the old daemon this one forwards now. 0 or -errno. */
int nm_takeover_started(struct nm_takeover *tk);

/* Tell the old daemon this one gives up (why): it resumes. */
void nm_takeover_abort(struct nm_takeover *tk, const char *why);

/* Wait until the old daemon closed the connection (exited). 0 or -ETIMEDOUT. */
int nm_takeover_wait_gone(struct nm_takeover *tk, int timeout_ms);

/* Close what is left; aborts first if neither STARTED nor ABORT was sent. NULL is fine. */
void nm_takeover_free(struct nm_takeover *tk);

#endif
