/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server: a Unix stream socket, mode 0660, owned by root and
 * the admin group; peers are checked with SO_PEERCRED. One request per
 * line, one single-line JSON response each. Runs on the control thread
 * inside its poll loop and never waits on a client: answers are sent
 * without blocking, a client that does not read them is dropped, a silent
 * connection times out or gives its slot to a newcomer (server.c says how).
 * The answer to `stats` gets the server's counters as its "control" object.
 */
#ifndef NM_SERVER_H
#define NM_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "request.h"

struct nm_server;

/* Handles one parsed request; returns a new JSON object with "ok". */
typedef json_t *(*nm_server_handler_fn)(void *ctx, const struct nm_req *req);

/*
 * Bind path (creating its directory if missing), chmod 0660, chgrp to
 * group. Returns NULL with errno set and err filled on failure.
 */
struct nm_server *nm_server_open(const char *path, const char *group, nm_server_handler_fn fn,
				 void *ctx, char *err, size_t errlen);

/*
 * Adopt listen_fd, a listening socket bound at path that a daemon being
 * taken over passed (ctrl/takeover.c): connections waiting in its backlog
 * are served here. Close leaves path alone until nm_server_own_path. NULL
 * with err filled if it is not a listening socket.
 */
struct nm_server *nm_server_adopt(int listen_fd, const char *path, const char *group,
				  nm_server_handler_fn fn, void *ctx, char *err, size_t errlen);

/*
 * The request line that asks for a takeover. With a takeover function set,
 * a connection that sends it leaves the server and goes to fn (blocking,
 * cred from SO_PEERCRED, the listening socket to hand over); fn owns conn
 * and returns 1 when it handed the listening socket over (the server then
 * serves nothing more and close keeps the path), else 0.
 */
#define NM_SERVER_TAKEOVER "takeover"
typedef int (*nm_server_takeover_fn)(void *ctx, int conn, const struct ucred *cred, int listen_fd);
void nm_server_set_takeover(struct nm_server *srv, nm_server_takeover_fn fn, void *ctx);

/* An adopted socket's path is its maker's until this: then close unlinks it. */
void nm_server_own_path(struct nm_server *srv);

/* True once a takeover function handed the listening socket over. */
bool nm_server_handed_over(const struct nm_server *srv);

/* Serve whatever is ready, waiting at most timeout_ms. Returns 0 or -errno (EINTR). */
int nm_server_poll(struct nm_server *srv, int timeout_ms);

/*
 * For a handler whose answer comes later (its work runs off the loop): call
 * it inside the handler and return NULL from it. Returns the ticket that
 * nm_server_answer takes (never 0), or 0 when not called from a handler
 * (then answer at once). The connection reads no further request until
 * answered.
 */
uint64_t nm_server_defer(struct nm_server *srv);

/* Send the deferred answer (taken); dropped and counted if its connection is gone. */
void nm_server_answer(struct nm_server *srv, uint64_t ticket, json_t *reply);

/* Also wake nm_server_poll when fd (an eventfd) is readable, and reset it. -1: none. */
void nm_server_watch_fd(struct nm_server *srv, int fd);

/* Close every connection and unlink the socket (unless handed over). */
void nm_server_close(struct nm_server *srv);

/* Error response {"ok":false,"error":msg}. */
json_t *nm_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Success response {"ok":true} to add fields to. */
json_t *nm_reply_ok(void);

#endif
