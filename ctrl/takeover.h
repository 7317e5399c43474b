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

/* ---- the old daemon ---- */

/*
 * The server's takeover function (nm_server_takeover_fn; ctx is the node):
 * refuse a caller that is not uid 0; else stop the workers at a quiescent
 * point, send the state and listen_fd, and wait for the new daemon. 1: it
 * forwards now, this daemon must exit without touching the state file; 0:
 * refused, or the new one failed and the workers run again (said).
 */
int nm_takeover_serve(void *node, int conn, const struct ucred *cred, int listen_fd);

/* ---- the new daemon ---- */

struct nm_takeover {
	int conn;      /* to the old daemon */
	int listen_fd; /* its control socket; -1 once a server adopted it */
	char *state;   /* the state file's encoding */
	uint32_t state_len;
	uint64_t asked_ns;   /* when the request went out (nm_mono_ns) */
	uint64_t state_ns;   /* when the state was in */
	uint64_t applied_ns; /* when the pods were attached and the rules in force */
	bool answered;	     /* STARTED or ABORT sent */
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
