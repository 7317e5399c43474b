/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket client: connect, send one line, read one line. See
 * ctl_client.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_client.h"

static int
connect_to(const char *path, int *sys_errno, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	*sys_errno = 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*sys_errno = errno;
		snprintf(err, errlen, "connect(%s) failed: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * A daemon that refuses the connection (permission, too many connections)
 * answers and closes, possibly before our request arrives: the send then
 * fails with EPIPE, but the refusal is waiting to be read. Only other send
 * failures mean the daemon does not answer.
 */
static int
send_line(int fd, const char *path, const char *line, char *err, size_t errlen)
{
	size_t llen = strlen(line);
	char *req = malloc(llen + 2);

	if (req == NULL) {
		snprintf(err, errlen, "out of memory for a %zu-byte request", llen);
		return -ENOMEM;
	}
	snprintf(req, llen + 2, "%s\n", line);
	ssize_t sent = send(fd, req, llen + 1, MSG_NOSIGNAL);
	int send_errno = errno;
	free(req);
	if (sent != (ssize_t)(llen + 1) && send_errno != EPIPE && send_errno != ECONNRESET) {
		snprintf(err, errlen, "send(%s) failed: %s", path, strerror(send_errno));
		return -send_errno;
	}
	return 0;
}

static char *
read_line(int fd, const char *path, int timeout_s, char *err, size_t errlen)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		snprintf(err, errlen, "out of memory for the answer");
	while (buf != NULL) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_s * 1000) <= 0) {
			snprintf(err, errlen, "no answer from %s within %d s", path, timeout_s);
			break;
		}
		if (len + 1 == cap) {
			if (cap >= NM_CTL_MAX_ANSWER) {
				snprintf(err, errlen, "answer longer than %u bytes",
					 NM_CTL_MAX_ANSWER);
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				snprintf(err, errlen, "out of memory for a %zu-byte answer",
					 cap * 2);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0) {
			snprintf(err, errlen, "connection closed before a full answer%s%s",
				 n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		char *nl = memchr(buf, '\n', len);
		if (nl != NULL) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

static char *
transact_once(const char *path, const char *line, int timeout_s, int *sys_errno, char *err,
	      size_t errlen)
{
	char *answer = NULL;
	int fd = connect_to(path, sys_errno, err, errlen);

	if (fd < 0)
		return NULL;
	if (send_line(fd, path, line, err, errlen) == 0)
		answer = read_line(fd, path, timeout_s, err, errlen);
	close(fd);
	return answer;
}

/*
 * Under a flood of silent connections ours can be evicted between connect
 * and the moment our line reaches the daemon (a loaded machine deschedules
 * us there). The daemon says so and has run nothing: ask again.
 */
#define EVICTED_TRIES 4

char *
nm_ctl_transact(const char *path, const char *line, int timeout_s, int *sys_errno, char *err,
		size_t errlen)
{
	char *answer = NULL;

	for (int i = 0; i < EVICTED_TRIES; i++) {
		free(answer);
		answer = transact_once(path, line, timeout_s, sys_errno, err, errlen);
		if (answer == NULL || strstr(answer, NM_CTL_EVICTED) == NULL ||
		    i + 1 == EVICTED_TRIES)
			break;
		usleep(10000u << i); /* 10, 20, 40 ms */
	}
	return answer;
}
