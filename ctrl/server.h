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

#include <stdint.h>

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

/* Close every connection and unlink the socket. */
void nm_server_close(struct nm_server *srv);

/* Error response {"ok":false,"error":msg}. */
json_t *nm_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Success response {"ok":true} to add fields to. */
json_t *nm_reply_ok(void);

#endif
