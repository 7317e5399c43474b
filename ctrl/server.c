/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server. Connections are non-blocking and served from one
 * poll() loop on the control thread. Each connection has a line buffer of
 * NM_REQ_MAX_LINE bytes; a longer line is answered with an error and
 * skipped up to its newline, so one bad client cannot make the daemon
 * read without bound or lose its place in the stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server.h"

#define MAX_CLIENTS	32
#define SEND_TIMEOUT_MS 1000 /* a client that does not read its answer is dropped */

struct client {
	int fd;
	size_t len;
	bool skipping; /* inside an oversized line, discarding to its newline */
	char buf[NM_REQ_MAX_LINE + 2];
};

struct nm_server {
	int fd;
	gid_t gid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	nm_server_handler_fn fn;
	void *ctx;
	struct client *clients[MAX_CLIENTS];
};

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

struct nm_server *
nm_server_open(const char *path, const char *group, nm_server_handler_fn fn, void *ctx, char *err,
	       size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct nm_server *srv;
	struct group *gr;
	char dir[sizeof(sa.sun_path)];

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path '%s' longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
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
	srv->gid = gr->gr_gid;
	srv->fn = fn;
	srv->ctx = ctx;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
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

static void
client_close(struct nm_server *srv, int i)
{
	close(srv->clients[i]->fd);
	free(srv->clients[i]);
	srv->clients[i] = NULL;
}

/* Root, or a member of the admin group (primary or supplementary). */
static bool
peer_allowed(const struct nm_server *srv, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if (cred.uid == 0 || cred.gid == srv->gid)
		return true;

	/* Only the control thread looks up users and groups: not reentrant is fine. */
	// cppcheck-suppress getpwuidCalled
	struct passwd *pw = getpwuid(cred.uid);
	gid_t groups[64];
	int n = 64;
	if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == srv->gid)
			return true;
	return false;
}

static int
send_all(int fd, const char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (poll(&p, 1, SEND_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static int
respond(int fd, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	int rc;

	json_decref(reply);
	if (text == NULL)
		return -ENOMEM;
	size_t len = strlen(text);
	rc = send_all(fd, text, len);
	if (rc == 0)
		rc = send_all(fd, "\n", 1);
	free(text);
	return rc;
}

static int
handle_line(struct nm_server *srv, int fd, const char *line, size_t len)
{
	struct nm_req *req = malloc(sizeof(*req));
	char err[256];
	json_t *reply;

	if (req == NULL)
		return respond(fd, nm_reply_error("out of memory"));
	if (nm_req_parse(line, len, req, err, sizeof(err)) < 0)
		reply = nm_reply_error("%s", err);
	else
		reply = srv->fn(srv->ctx, req);
	free(req);
	return respond(fd, reply);
}

/* Read what is there; answer each complete line. Returns <0 to close. */
static int
client_read(struct nm_server *srv, struct client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->len += (size_t)n;

		char *start = c->buf, *nl;
		while ((nl = memchr(start, '\n', c->len - (size_t)(start - c->buf))) != NULL) {
			if (c->skipping)
				c->skipping = false;
			else if (handle_line(srv, c->fd, start, (size_t)(nl - start)) < 0)
				return -1;
			start = nl + 1;
		}
		c->len -= (size_t)(start - c->buf);
		memmove(c->buf, start, c->len);

		if (c->len > NM_REQ_MAX_LINE) {
			/* Oversized line: answer once, then drop bytes up to its newline. */
			if (!c->skipping &&
			    respond(c->fd, nm_reply_error("request longer than %d bytes",
							  NM_REQ_MAX_LINE)) < 0)
				return -1;
			c->skipping = true;
			c->len = 0;
		}
	}
}

static void
accept_clients(struct nm_server *srv)
{
	for (;;) {
		/* accept4(2) takes a NULL addrlen with a NULL addr; gnu.cfg says not. */
		// cppcheck-suppress nullPointer
		int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!peer_allowed(srv, fd)) {
			respond(fd, nm_reply_error("permission denied: not root nor in the "
						   "admin group"));
			close(fd);
			continue;
		}
		int i;
		for (i = 0; i < MAX_CLIENTS && srv->clients[i] != NULL; i++)
			;
		struct client *c = i < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			respond(fd,
				nm_reply_error("too many control connections (%d)", MAX_CLIENTS));
			close(fd);
			continue;
		}
		c->fd = fd;
		srv->clients[i] = c;
	}
}

int
nm_server_poll(struct nm_server *srv, int timeout_ms)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	int who[MAX_CLIENTS + 1];
	nfds_t n = 0;

	pfd[n].fd = srv->fd;
	pfd[n].events = POLLIN;
	who[n++] = -1;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (srv->clients[i] == NULL)
			continue;
		pfd[n].fd = srv->clients[i]->fd;
		pfd[n].events = POLLIN;
		who[n++] = i;
	}
	int rc = poll(pfd, n, timeout_ms);
	if (rc < 0)
		return -errno;
	for (nfds_t k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (who[k] < 0)
			accept_clients(srv);
		else if (client_read(srv, srv->clients[who[k]]) < 0)
			client_close(srv, who[k]);
	}
	return 0;
}

void
nm_server_close(struct nm_server *srv)
{
	if (srv == NULL)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (srv->clients[i] != NULL)
			client_close(srv, i);
	close(srv->fd);
	unlink(srv->path);
	free(srv);
}
