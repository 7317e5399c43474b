/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sd_notify by hand (ctrl/sd_notify.c): nothing is sent without
 * NOTIFY_SOCKET, a message reaches a path socket and an abstract one
 * ("@name") whole, a bad NOTIFY_SOCKET is an error, and WATCHDOG_USEC is
 * ours only when WATCHDOG_PID is unset or our pid.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sd_notify.h"

/* A datagram socket bound at name ('@' first: abstract); returns its fd. */
static int
listener(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		unlink(name);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, len), 0, "bind(%s): %s", name,
		     strerror(errno));
	return fd;
}

static void
expect_message(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	cr_assert_gt(n, 0, "nothing received: %s", strerror(errno));
	buf[n] = '\0';
	cr_assert_str_eq(buf, want);
}

Test(sd_notify, without_notify_socket_sends_nothing_and_succeeds)
{
	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(nm_sd_notify("READY=1"), 0);
}

Test(sd_notify, a_relative_or_missing_socket_is_an_error)
{
	setenv("NOTIFY_SOCKET", "relative/sock", 1);
	cr_assert_eq(nm_sd_notify("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "/nonexistent-nm/notify.sock", 1);
	cr_assert_lt(nm_sd_notify("READY=1"), 0);
}

Test(sd_notify, reaches_a_path_socket_whole)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/nm-sd-notify-%d.sock", (int)getpid());
	int fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	cr_assert_eq(nm_sd_notify("RELOADING=1\nMONOTONIC_USEC=5"), 0);
	expect_message(fd, "RELOADING=1\nMONOTONIC_USEC=5");
	close(fd);
	unlink(path);
}

Test(sd_notify, reaches_an_abstract_socket)
{
	char name[64];

	snprintf(name, sizeof(name), "@nm-sd-notify-%d", (int)getpid());
	int fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	cr_assert_eq(nm_sd_notify("WATCHDOG=1"), 0);
	expect_message(fd, "WATCHDOG=1");
	close(fd);
}

Test(sd_notify, watchdog_usec_is_ours_only_for_our_pid)
{
	char pid[16];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	cr_assert_eq(nm_sd_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "1000000", 1);
	cr_assert_eq(nm_sd_watchdog_usec(), 1000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	cr_assert_eq(nm_sd_watchdog_usec(), 1000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	cr_assert_eq(nm_sd_watchdog_usec(), 0, "another process's watchdog");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "10s", 1);
	cr_assert_eq(nm_sd_watchdog_usec(), 0, "not a number of microseconds");
}
