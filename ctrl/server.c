/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server. Connections are non-blocking and served from one
 * poll() loop on the control thread, which never waits on a client:
 *
 * - Each connection has a line buffer of NM_REQ_MAX_LINE bytes; a longer
 *   line is answered with an error and skipped up to its newline, so one
 *   bad client cannot make the daemon read without bound or lose its place.
 * - Answers are sent without blocking. A connection has at most one answer
 *   in flight (at most OUT_MAX bytes): its next request is not read until
 *   the previous answer is out, so a client that pipelines requests and
 *   never reads stops costing anything once its socket buffer is full, and
 *   is dropped when its answer has made no progress for UNREAD_TIMEOUT_MS.
 * - A connection with no complete request for IDLE_TIMEOUT_MS is closed.
 * - At most MAX_CLIENTS connections; non-root users together hold at most
 *   MAX_CLIENTS - ROOT_RESERVED of them. When no slot is free, a newcomer
 *   takes the slot of the connection of its own uid (root: of any uid)
 *   that has been silent longest, so connections that never send cannot
 *   lock anyone out: root always gets in, and a user's own silent
 *   connections give way to that user's next one. Only when every eligible
 *   connection is busy is the newcomer refused.
 * - At most LINES_PER_TURN requests of one connection per poll turn, so one
 *   busy client cannot hold the loop.
 * - A handler whose work is done off the loop (a job thread) defers its
 *   answer (nm_server_defer) and gives it later (nm_server_answer). The
 *   connection reads nothing more meanwhile, is not idle and not evicted;
 *   an answer whose connection has gone is counted and dropped. A job
 *   wakes the loop through a watched descriptor (nm_server_watch_fd).
 *
 * Every refusal, eviction and drop is counted; `stats` shows the counters
 * as its "control" object.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "loop_wait.h"
#include "server.h"

#define MAX_CLIENTS	  32
#define ROOT_RESERVED	  4	      /* slots non-root connections cannot take */
#define IDLE_TIMEOUT_MS	  10000	      /* no complete request for this long: closed */
#define UNREAD_TIMEOUT_MS 2000	      /* an answer not read for this long: dropped */
#define OUT_MAX		  (16u << 20) /* bytes of one answer (nodemeshctl reads as much) */
#define LINES_PER_TURN	  8	      /* requests of one connection per poll turn */
#define ACCEPTS_PER_TURN  8	      /* new connections per poll turn */

struct client {
	int fd;
	uid_t uid;
	bool skipping;	  /* inside an oversized line, discarding to its newline */
	bool eof;	  /* the client shut its side: answer what is buffered, then close */
	bool takeover;	  /* asked for a takeover: the connection goes to takeover_fn */
	uint64_t last_ms; /* accept, last complete request or last answer sent (monotonic) */
	char *out;	  /* the answer in flight (newline-terminated), NULL if none */
	size_t out_len, out_off;
	uint64_t out_ms; /* when the answer last made progress */
	uint64_t ticket; /* the deferred answer it waits for, 0 if none */
	size_t len;
	char buf[NM_REQ_MAX_LINE + 2];
};

/* What the server refused or dropped, for `stats` ("control"). */
struct server_stats {
	uint64_t accepted;
	uint64_t refused_denied;    /* not root nor in the admin group */
	uint64_t refused_full;	    /* every slot busy, none silent to give way */
	uint64_t evicted_silent;    /* gave its slot to a newcomer */
	uint64_t closed_idle;	    /* no complete request for IDLE_TIMEOUT_MS */
	uint64_t dropped_unread;    /* answer not read for UNREAD_TIMEOUT_MS */
	uint64_t answers_too_long;  /* replaced by an error */
	uint64_t deferred;	    /* answers given later by nm_server_answer */
	uint64_t deferred_orphaned; /* ... whose connection had gone by then */
};

struct nm_server {
	int fd;
	gid_t gid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	nm_server_handler_fn fn;
	void *ctx;
	struct client *clients[MAX_CLIENTS];
	struct client *handling; /* the connection whose request the handler runs for */
	uint64_t next_ticket;
	int watch_fd; /* a job's wake-up (eventfd), -1 if none */
	struct server_stats st;
	nm_server_takeover_fn takeover_fn; /* NULL: "takeover" is an ordinary command */
	void *takeover_ctx;
	bool handed_over; /* the listening socket is another daemon's now: keep the path */
	bool keep_path;	  /* adopted, and the daemon that made it still runs: not ours to unlink */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

json_t *
nm_reply_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

json_t *
nm_reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* A server with no socket yet (fd -1); NULL with err (no such group) or errno. */
static struct nm_server *
server_new(const char *path, const char *group, nm_server_handler_fn fn, void *ctx, char *err,
	   size_t errlen)
{
	struct nm_server *srv;
	struct group *gr;

	/* Only the control thread looks up users and groups: not reentrant is fine. */
	// cppcheck-suppress getgrnamCalled
	gr = getgrnam(group);
	if (gr == NULL) {
		snprintf(err, errlen, "admin group '%s' does not exist", group);
		errno = ENOENT;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->fd = -1;
	srv->gid = gr->gr_gid;
	srv->watch_fd = -1;
	srv->fn = fn;
	srv->ctx = ctx;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	return srv;
}

struct nm_server *
nm_server_open(const char *path, const char *group, nm_server_handler_fn fn, void *ctx, char *err,
	       size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct nm_server *srv;
	char dir[sizeof(sa.sun_path)];

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path '%s' longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	srv = server_new(path, group, fn, ctx, err, errlen);
	if (srv == NULL)
		return NULL;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	/* Create the socket's directory if missing (e.g. /run/nodemesh). */
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == 0 && chown(dir, 0, srv->gid) < 0)
			fprintf(stderr, "nodemeshd: chown(%s) failed: %s\n", dir, strerror(errno));
	}

	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0) {
		snprintf(err, errlen, "socket(AF_UNIX) failed: %s", strerror(errno));
		goto fail;
	}
	/* A socket file left by a crashed daemon: remove it only if nothing answers on it. */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "another daemon is listening on %s", path);
			errno = EADDRINUSE;
			goto fail;
		}
		close(probe);
	}
	unlink(path);
	if (bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "bind(%s) failed: %s", path, strerror(errno));
		goto fail;
	}
	if (chmod(path, 0660) < 0 || chown(path, 0, srv->gid) < 0) {
		snprintf(err, errlen, "chmod/chown(%s) failed: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(srv->fd, 16) < 0) {
		snprintf(err, errlen, "listen(%s) failed: %s", path, strerror(errno));
		goto fail;
	}
	return srv;
fail:
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv);
	return NULL;
}

struct nm_server *
nm_server_adopt(int listen_fd, const char *path, const char *group, nm_server_handler_fn fn,
		void *ctx, char *err, size_t errlen)
{
	int listening = 0;
	socklen_t len = sizeof(listening);
	struct nm_server *srv;

	if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening) {
		snprintf(err, errlen, "fd %d given for %s is not a listening socket", listen_fd,
			 path);
		errno = EINVAL;
		return NULL;
	}
	srv = server_new(path, group, fn, ctx, err, errlen);
	if (srv == NULL)
		return NULL;
	if (fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "fcntl(%s) failed: %s", path, strerror(errno));
		free(srv);
		return NULL;
	}
	srv->fd = listen_fd;
	srv->keep_path = true; /* until nm_server_own_path */
	return srv;
}

/* Best effort: one error line to a connection about to be closed. */
static void
say_goodbye(int fd, const char *why)
{
	json_t *r = nm_reply_error("%s", why);
	char *text = r != NULL ? json_dumps(r, JSON_COMPACT) : NULL;

	json_decref(r);
	if (text != NULL) {
		size_t len = strlen(text);
		text[len++] = '\n';
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n; /* a client gone or not reading misses the reason, nothing more */
	}
	free(text);
}

/*
 * Refuse a connection: the reason, then close. The request it may have sent
 * is read first: closing a Unix socket with unread data makes the peer's
 * next read fail with ECONNRESET instead of returning our answer.
 */
static void
refuse(int fd, const char *why)
{
	char scratch[NM_REQ_MAX_LINE];

	say_goodbye(fd, why);
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 4 && recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

static void
client_close(struct nm_server *srv, int i, const char *why)
{
	struct client *c = srv->clients[i];

	if (why != NULL)
		say_goodbye(c->fd, why);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	free(c);
	srv->clients[i] = NULL;
}

/* Root, or a member of the admin group (primary or supplementary). */
static bool
peer_allowed(const struct nm_server *srv, const struct ucred *cred)
{
	if (cred->uid == 0 || cred->gid == srv->gid)
		return true;

	/* Only the control thread looks up users and groups: not reentrant is fine. */
	// cppcheck-suppress getpwuidCalled
	struct passwd *pw = getpwuid(cred->uid);
	gid_t groups[64];
	int n = 64;
	if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == srv->gid)
			return true;
	return false;
}

/* Send what the socket takes now. Returns <0 when the connection is broken. */
static int
flush_out(struct client *c, uint64_t now)
{
	while (c->out != NULL && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->out_ms = now;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	}
	free(c->out);
	c->out = NULL;
	c->last_ms = now;
	return 0;
}

/* Make reply the connection's answer in flight and send what fits. */
static int
respond(struct nm_server *srv, struct client *c, json_t *reply, uint64_t now)
{
	char *text = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;

	json_decref(reply);
	if (text != NULL && strlen(text) + 1 > OUT_MAX) {
		srv->st.answers_too_long++;
		free(text);
		json_t *e =
		    nm_reply_error("answer longer than %u bytes: ask for less (limit=)", OUT_MAX);
		text = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	}
	if (text == NULL)
		return -ENOMEM;
	c->out_len = strlen(text) + 1;
	text[c->out_len - 1] = '\n'; /* json_dumps' NUL becomes the newline */
	c->out = text;
	c->out_off = 0;
	c->out_ms = now;
	return flush_out(c, now);
}

static json_t *
stats_json(const struct nm_server *srv)
{
	int n = 0;

	for (int i = 0; i < MAX_CLIENTS; i++)
		n += srv->clients[i] != NULL;
	return json_pack(
	    "{s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "connections",
	    n, "max_connections", MAX_CLIENTS, "root_reserved", ROOT_RESERVED, "idle_timeout_ms",
	    IDLE_TIMEOUT_MS, "unread_timeout_ms", UNREAD_TIMEOUT_MS, "accepted",
	    (json_int_t)srv->st.accepted, "refused_denied", (json_int_t)srv->st.refused_denied,
	    "refused_full", (json_int_t)srv->st.refused_full, "evicted_silent",
	    (json_int_t)srv->st.evicted_silent, "closed_idle", (json_int_t)srv->st.closed_idle,
	    "dropped_unread", (json_int_t)srv->st.dropped_unread, "answers_too_long",
	    (json_int_t)srv->st.answers_too_long, "deferred", (json_int_t)srv->st.deferred,
	    "deferred_orphaned", (json_int_t)srv->st.deferred_orphaned);
}

static int
handle_line(struct nm_server *srv, struct client *c, const char *line, size_t len, uint64_t now)
{
	struct nm_req *req = malloc(sizeof(*req));
	char err[256];
	json_t *reply;

	c->last_ms = now;
	if (req == NULL)
		return respond(srv, c, nm_reply_error("out of memory"), now);
	if (srv->takeover_fn != NULL && len == strlen(NM_SERVER_TAKEOVER) &&
	    memcmp(line, NM_SERVER_TAKEOVER, len) == 0) {
		/* No answer here: the connection leaves the server (serve_takeover). */
		c->takeover = true;
		free(req);
		return 0;
	}
	if (nm_req_parse(line, len, req, err, sizeof(err)) < 0) {
		reply = nm_reply_error("%s", err);
	} else {
		srv->handling = c;
		reply = srv->fn(srv->ctx, req);
		srv->handling = NULL;
		if (reply == NULL && c->ticket != 0) {
			free(req);
			return 0; /* answered by nm_server_answer */
		}
		/* The server keeps its own counters; stats shows them beside the node's. */
		if (req->nwords == 1 && strcmp(req->words[0], "stats") == 0 &&
		    json_is_true(json_object_get(reply, "ok")))
			json_object_set_new(reply, "control", stats_json(srv));
	}
	free(req);
	return respond(srv, c, reply, now);
}

static bool
has_line(const struct client *c)
{
	return memchr(c->buf, '\n', c->len) != NULL;
}

/*
 * Answer complete lines in the buffer while no answer is in flight and the
 * turn's budget lasts. Returns <0 to close.
 */
static int
serve_lines(struct nm_server *srv, struct client *c, int *budget, uint64_t now)
{
	char *start = c->buf, *nl;
	int rc = 0;

	while (c->out == NULL && c->ticket == 0 && !c->takeover && *budget > 0 &&
	       (nl = memchr(start, '\n', c->len - (size_t)(start - c->buf))) != NULL) {
		if (c->skipping) {
			c->skipping = false;
		} else {
			(*budget)--;
			rc = handle_line(srv, c, start, (size_t)(nl - start), now);
		}
		start = nl + 1;
		if (rc < 0)
			return rc;
	}
	c->len -= (size_t)(start - c->buf);
	memmove(c->buf, start, c->len);

	if (c->out == NULL && c->ticket == 0 && c->len > NM_REQ_MAX_LINE) {
		/* Oversized line: answer once, then drop bytes up to its newline. */
		c->len = 0;
		if (!c->skipping) {
			c->skipping = true;
			return respond(
			    srv, c, nm_reply_error("request longer than %d bytes", NM_REQ_MAX_LINE),
			    now);
		}
	}
	return 0;
}

/* Send, answer and read what can be done now without waiting. Returns <0 to close. */
static int
client_serve(struct nm_server *srv, struct client *c, uint64_t now)
{
	int budget = LINES_PER_TURN;

	for (;;) {
		if (flush_out(c, now) < 0)
			return -1;
		if (c->out != NULL || c->ticket != 0)
			return 0; /* wait for POLLOUT or the answer: nothing more is read meanwhile
				   */
		if (serve_lines(srv, c, &budget, now) < 0)
			return -1;
		if (c->takeover)
			return 0;
		if (c->out != NULL || c->ticket != 0 || budget == 0 || has_line(c))
			return 0;
		if (c->eof)
			return -1; /* everything it sent is answered */

		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n == 0) {
			c->eof = true;
			continue;
		}
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->len += (size_t)n;
	}
}

/* Bytes the client sent that we have not read yet (a request on its way in). */
static bool
unread_input(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/*
 * The connection that has been silent longest among those uid may displace,
 * or -1. One whose request is waiting in its socket is not silent: it was
 * accepted before its bytes arrived and is served next turn.
 */
static int
longest_silent(const struct nm_server *srv, uid_t uid)
{
	int best = -1;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		const struct client *c = srv->clients[i];
		if (c == NULL || c->out != NULL || c->ticket != 0 || c->eof || has_line(c) ||
		    unread_input(c->fd))
			continue;
		if (uid != 0 && c->uid != uid)
			continue;
		if (best < 0 || c->last_ms < srv->clients[best]->last_ms)
			best = i;
	}
	return best;
}

/* A free slot uid may take, making one from a silent connection if need be; or -1. */
static int
take_slot(struct nm_server *srv, uid_t uid)
{
	int free_slot = -1, non_root = 0;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (srv->clients[i] == NULL) {
			if (free_slot < 0)
				free_slot = i;
		} else if (srv->clients[i]->uid != 0) {
			non_root++;
		}
	}
	if (free_slot >= 0 && (uid == 0 || non_root < MAX_CLIENTS - ROOT_RESERVED))
		return free_slot;

	int victim = longest_silent(srv, uid);
	if (victim >= 0) {
		srv->st.evicted_silent++;
		client_close(srv, victim, NM_CTL_EVICTED);
	}
	return victim;
}

/*
 * Give client i's connection to the takeover function: it leaves the
 * server's table (the function owns the fd and blocks on it) and the
 * server stops serving if the function handed the listening socket over.
 */
static void
serve_takeover(struct nm_server *srv, int i)
{
	struct client *c = srv->clients[i];
	struct ucred cred = {.pid = 0, .uid = c->uid, .gid = (gid_t)-1};
	socklen_t len = sizeof(cred);
	int fd = c->fd;

	srv->clients[i] = NULL;
	free(c->out);
	free(c);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.pid = 0;
	/* Blocking from here: the conversation is a few frames, each with a deadline. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		close(fd);
		return;
	}
	if (srv->takeover_fn(srv->takeover_ctx, fd, &cred, srv->fd) > 0)
		srv->handed_over = true;
}

static void
accept_clients(struct nm_server *srv, uint64_t now)
{
	for (int k = 0; k < ACCEPTS_PER_TURN; k++) {
		/* accept4(2) takes a NULL addrlen with a NULL addr; gnu.cfg says not. */
		// cppcheck-suppress nullPointer
		int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		srv->st.accepted++;

		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    !peer_allowed(srv, &cred)) {
			srv->st.refused_denied++;
			refuse(fd, "permission denied: not root nor in the admin group");
			continue;
		}
		int i = take_slot(srv, cred.uid);
		struct client *c = i >= 0 ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			char why[96];
			srv->st.refused_full++;
			snprintf(why, sizeof(why),
				 "too many control connections (%d), none of them idle",
				 MAX_CLIENTS);
			refuse(fd, why);
			continue;
		}
		c->fd = fd;
		c->uid = cred.uid;
		c->last_ms = now;
		srv->clients[i] = c;
		/* A client that sent its request with the connect is answered now. */
		if (client_serve(srv, c, now) < 0)
			client_close(srv, i, NULL);
		else if (c->takeover)
			serve_takeover(srv, i);
	}
}

/* Close what timed out; returns the earliest deadline left (or now + limit). */
static uint64_t
expire(struct nm_server *srv, uint64_t now, uint64_t limit)
{
	uint64_t next = now + limit;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = srv->clients[i];
		if (c == NULL || c->ticket != 0)
			continue; /* its answer is being worked out off the loop */
		uint64_t due =
		    c->out != NULL ? c->out_ms + UNREAD_TIMEOUT_MS : c->last_ms + IDLE_TIMEOUT_MS;
		if (now >= due && c->out != NULL) {
			srv->st.dropped_unread++;
			client_close(srv, i, NULL);
		} else if (now >= due && !has_line(c)) {
			srv->st.closed_idle++;
			client_close(srv, i, "closed: no request within the idle timeout");
		} else if (due < next) {
			next = due;
		}
	}
	return next;
}

int
nm_server_poll(struct nm_server *srv, int timeout_ms)
{
	struct pollfd pfd[MAX_CLIENTS + 2];
	int who[MAX_CLIENTS + 2];
	uint64_t now = now_ms();
	uint64_t next = expire(srv, now, timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
	bool ready = false;
	nfds_t n = 0;

	pfd[n].fd = srv->fd;
	pfd[n].events = POLLIN;
	who[n++] = -1;
	pfd[n].fd = srv->watch_fd; /* negative: poll() skips it */
	pfd[n].events = POLLIN;
	who[n++] = -1;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		const struct client *c = srv->clients[i];
		if (c == NULL)
			continue;
		/* Lines left over from the last turn's budget are served without waiting. */
		if (c->out == NULL && c->ticket == 0 && (has_line(c) || c->eof))
			ready = true;
		pfd[n].fd = c->fd;
		pfd[n].events =
		    (short)(c->out != NULL ? POLLOUT : (c->eof || c->ticket != 0 ? 0 : POLLIN));
		who[n++] = i;
	}
	int rc = nm_loop_poll(pfd, n, ready ? 0 : (int)(next - now));
	if (rc < 0)
		return -errno;

	now = now_ms();
	if (pfd[1].revents & POLLIN) {
		uint64_t v;
		/* Only the wake-up matters: the caller polls its jobs after this. */
		if (read(srv->watch_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			fprintf(stderr, "nodemeshd: reading the jobs' wake-up failed: %s\n",
				strerror(errno));
	}
	for (nfds_t k = 2; k < n; k++) {
		struct client *c = srv->clients[who[k]];
		if (c->ticket != 0) {
			/* Waiting for its answer: only a hang-up is of interest. */
			if (pfd[k].revents & (POLLHUP | POLLERR))
				client_close(srv, who[k], NULL);
			continue;
		}
		bool work = c->out == NULL && (has_line(c) || c->eof);
		if ((pfd[k].revents != 0 || work) && client_serve(srv, c, now) < 0)
			client_close(srv, who[k], NULL);
		else if (c->takeover)
			serve_takeover(srv, who[k]);
		if (srv->handed_over)
			return 0; /* the rest is the new daemon's to serve */
	}
	/* New connections after the old ones' requests: an old client is never starved. */
	if (pfd[0].revents != 0 && !srv->handed_over)
		accept_clients(srv, now);
	return 0;
}

uint64_t
nm_server_defer(struct nm_server *srv)
{
	struct client *c = srv->handling;

	if (c == NULL)
		return 0;
	c->ticket = ++srv->next_ticket;
	srv->st.deferred++;
	return c->ticket;
}

void
nm_server_answer(struct nm_server *srv, uint64_t ticket, json_t *reply)
{
	uint64_t now = now_ms();

	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = srv->clients[i];
		if (c == NULL || c->ticket != ticket || ticket == 0)
			continue;
		c->ticket = 0;
		c->last_ms = now;
		/* Then whatever it sent meanwhile, as if it had just arrived. */
		if (respond(srv, c, reply, now) < 0 || client_serve(srv, c, now) < 0)
			client_close(srv, i, NULL);
		return;
	}
	srv->st.deferred_orphaned++;
	json_decref(reply);
}

void
nm_server_watch_fd(struct nm_server *srv, int fd)
{
	srv->watch_fd = fd;
}

void
nm_server_set_takeover(struct nm_server *srv, nm_server_takeover_fn fn, void *ctx)
{
	srv->takeover_fn = fn;
	srv->takeover_ctx = ctx;
}

void
nm_server_own_path(struct nm_server *srv)
{
	srv->keep_path = false;
}

bool
nm_server_handed_over(const struct nm_server *srv)
{
	return srv->handed_over;
}

void
nm_server_close(struct nm_server *srv)
{
	if (srv == NULL)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (srv->clients[i] != NULL)
			client_close(srv, i, NULL);
	close(srv->fd);
	if (!srv->handed_over && !srv->keep_path)
		unlink(srv->path); /* else the path is the new daemon's socket now */
	free(srv);
}
