/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server (ctrl/server.c) with a stub handler: requests are
 * answered, a full socket gives a silent connection's slot to a newcomer,
 * a client that never reads is dropped, and the refusals and drops are
 * counted in the "control" object of stats; a deferred answer holds its
 * connection's next request and is dropped, counted, when the client left.
 * The daemon's loop is played by calling nm_server_poll() between the
 * client's steps.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "server.h"

#define MAX_CLIENTS 32 /* server.c's limit */

static struct nm_server *srv;
static char sock_path[108];

static uint64_t later_ticket; /* the last "later" request's, answered by the test */

/*
 * "stats" gets the server's counters added; "big" a 64 KiB answer; "later"
 * is deferred (its ticket kept in later_ticket).
 */
static json_t *
stub(void *ctx, const struct nm_req *req)
{
	(void)ctx;
	if (strcmp(req->words[0], "later") == 0) {
		later_ticket = nm_server_defer(srv);
		return NULL;
	}
	json_t *r = nm_reply_ok();
	if (strcmp(req->words[0], "big") == 0) {
		char *pad = malloc(65536);
		memset(pad, 'x', 65535);
		pad[65535] = '\0';
		json_object_set_new(r, "pad", json_string(pad));
		free(pad);
	}
	return r;
}

static void
setup(void)
{
	char err[256];

	snprintf(sock_path, sizeof(sock_path), "/tmp/nm-srv-test-%d.sock", getpid());
	srv = nm_server_open(sock_path, "root", stub, NULL, err, sizeof(err));
	cr_assert_not_null(srv, "%s", err);
}

static void
teardown(void)
{
	nm_server_close(srv);
}

static int
dial(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
turns(int n)
{
	for (int i = 0; i < n; i++)
		nm_server_poll(srv, 10);
}

/* One answer line (read byte by byte: the next stays queued), serving the socket meanwhile. */
static json_t *
answer(int fd, int ms)
{
	static char buf[65536 * 2];
	size_t len = 0;

	for (int t = 0; t < ms / 10;) {
		ssize_t n = recv(fd, buf + len, 1, MSG_DONTWAIT);
		if (n == 0)
			return NULL;
		if (n < 0) {
			nm_server_poll(srv, 10);
			t++;
			continue;
		}
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return json_loads(buf, 0, NULL);
		}
		if (++len == sizeof(buf) - 1)
			return NULL;
	}
	return NULL;
}

static json_int_t
control(const char *key)
{
	int fd = dial();
	cr_assert_eq(send(fd, "stats\n", 6, MSG_NOSIGNAL), 6);
	json_t *r = answer(fd, 1000);
	cr_assert_not_null(r);
	json_int_t v = json_integer_value(json_object_get(json_object_get(r, "control"), key));
	json_decref(r);
	close(fd);
	return v;
}

TestSuite(server, .init = setup, .fini = teardown);

Test(server, answers_a_request_and_stats_carry_the_counters)
{
	int fd = dial();

	cr_assert_eq(send(fd, "version\n", 8, MSG_NOSIGNAL), 8);
	json_t *r = answer(fd, 1000);
	cr_assert_not_null(r);
	cr_assert(json_is_true(json_object_get(r, "ok")));
	cr_assert_null(json_object_get(r, "control"));
	json_decref(r);
	close(fd);
	cr_assert_eq(control("max_connections"), MAX_CLIENTS);
	cr_assert_geq(control("accepted"), 2);
}

Test(server, full_of_silent_connections_still_answers_a_newcomer)
{
	int silent[MAX_CLIENTS + 8];

	for (int i = 0; i < MAX_CLIENTS + 8; i++) {
		silent[i] = dial();
		turns(1);
	}
	/* Each newcomer beyond 32 displaced the longest-silent one. */
	json_int_t evicted = control("evicted_silent");
	cr_assert_geq(evicted, 8, "evicted %lld", (long long)evicted);
	cr_assert_eq(control("refused_full"), 0);

	/* The oldest were closed with a reason; the newest are still open. */
	char line[256];
	ssize_t n = recv(silent[0], line, sizeof(line) - 1, MSG_DONTWAIT);
	cr_assert_gt(n, 0);
	line[n] = '\0';
	cr_assert(strstr(line, "sent nothing") != NULL, "%s", line);
	n = recv(silent[MAX_CLIENTS + 7], line, sizeof(line), MSG_DONTWAIT);
	cr_assert(n < 0 && errno == EAGAIN);
	for (int i = 0; i < MAX_CLIENTS + 8; i++)
		close(silent[i]);
}

Test(server, a_client_that_never_reads_is_dropped_and_counted, .timeout = 20)
{
	int fd = dial();
	char reqs[64 * 4];

	for (int i = 0; i < 64; i++)
		memcpy(reqs + i * 4, "big\n", 4);
	/* Pipeline until the daemon stops reading us: its answer cannot go out. */
	for (int i = 0; i < 200; i++) {
		ssize_t n = send(fd, reqs, sizeof(reqs), MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
		turns(1);
	}
	/* The server never waited on us: a turn takes no longer than its timeout. */
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	turns(10);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	cr_assert_lt(ms, 500, "10 turns took %.0f ms", ms);

	for (int i = 0; i < 300 && control("dropped_unread") == 0; i++)
		turns(1);
	cr_assert_eq(control("dropped_unread"), 1);
	close(fd);
}

Test(server, an_oversized_line_is_refused_once_and_the_next_answered)
{
	int fd = dial();
	static char big[NM_REQ_MAX_LINE * 3];

	memset(big, 'a', sizeof(big));
	for (size_t off = 0; off < sizeof(big);) {
		ssize_t n = send(fd, big + off, sizeof(big) - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		turns(1);
	}
	cr_assert_eq(send(fd, "\nversion\n", 9, MSG_NOSIGNAL), 9);
	json_t *r = answer(fd, 1000);
	cr_assert_not_null(r);
	cr_assert(json_is_false(json_object_get(r, "ok")));
	json_decref(r);
	r = answer(fd, 1000);
	cr_assert_not_null(r);
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
}

Test(server, a_deferred_answer_comes_later_and_holds_the_next_request)
{
	int fd = dial();

	later_ticket = 0;
	cr_assert_eq(send(fd, "later\nversion\n", 14, MSG_NOSIGNAL), 14);
	json_t *r = answer(fd, 200);
	cr_assert_null(r, "nothing is answered while the first request waits");
	cr_assert_neq(later_ticket, 0);

	json_t *late = nm_reply_ok();
	json_object_set_new(late, "late", json_true());
	nm_server_answer(srv, later_ticket, late);
	r = answer(fd, 1000);
	cr_assert_not_null(r);
	cr_assert(json_is_true(json_object_get(r, "late")), "the deferred answer comes first");
	json_decref(r);
	r = answer(fd, 1000);
	cr_assert_not_null(r, "then the request sent behind it");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	cr_assert_null(json_object_get(r, "late"));
	json_decref(r);
	close(fd);
	cr_assert_eq(control("deferred"), 1);
	cr_assert_eq(control("deferred_orphaned"), 0);
}

Test(server, a_deferred_answer_whose_client_left_is_counted)
{
	int fd = dial();

	later_ticket = 0;
	cr_assert_eq(send(fd, "later\n", 6, MSG_NOSIGNAL), 6);
	for (int i = 0; i < 20 && later_ticket == 0; i++)
		nm_server_poll(srv, 10);
	cr_assert_neq(later_ticket, 0);
	close(fd);
	turns(3); /* the hang-up is seen: the slot is freed */
	nm_server_answer(srv, later_ticket, nm_reply_ok());
	cr_assert_eq(control("deferred_orphaned"), 1);
	cr_assert_eq(control("connections"), 1, "only the stats connection is left");
}

Test(server, a_waiting_connection_is_not_evicted_for_a_newcomer, .timeout = 30)
{
	int fd = dial();
	int others[MAX_CLIENTS];

	later_ticket = 0;
	cr_assert_eq(send(fd, "later\n", 6, MSG_NOSIGNAL), 6);
	for (int i = 0; i < 20 && later_ticket == 0; i++)
		nm_server_poll(srv, 10);
	cr_assert_neq(later_ticket, 0);
	/* Fill every other slot with silent connections, then one more: a silent one gives way. */
	for (int i = 0; i < MAX_CLIENTS - 1; i++) {
		others[i] = dial();
		turns(1);
	}
	int extra = dial();
	turns(3);
	cr_assert_eq(control("evicted_silent"), 2, "the newcomer and stats took silent slots");
	nm_server_answer(srv, later_ticket, nm_reply_ok());
	json_t *r = answer(fd, 1000);
	cr_assert_not_null(r, "the waiting connection kept its slot");
	json_decref(r);
	close(fd);
	close(extra);
	for (int i = 0; i < MAX_CLIENTS - 1; i++)
		close(others[i]);
}
