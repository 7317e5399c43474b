/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sd_notify(3) by hand. The protocol is one sendto(2) on an AF_UNIX
 * datagram socket, which is less code than the dependency: libsystemd
 * would pull in its own libraries (lz4, zstd, gcrypt, cap) for a handful
 * of lines, and the wire format has been stable since systemd 209.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sd_notify.h"

int
nm_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace: the name is not NUL-terminated */

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	int rc = n == (ssize_t)strlen(state) ? 0 : (n < 0 ? -errno : -EMSGSIZE);
	close(fd);
	return rc;
}

uint64_t
nm_sd_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;

	if (usec == NULL)
		return 0;
	/* Set for another process (a parent that did not clear it): not ours to serve. */
	if (pid != NULL && strtol(pid, &end, 10) != (long)getpid())
		return 0;
	unsigned long long v = strtoull(usec, &end, 10);
	if (end == usec || *end != '\0')
		return 0;
	return v;
}

uint64_t
nm_sd_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
