/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /metrics endpoint: see metrics_http.h. A connection is reading
 * (until the blank line ending the request head), then writing (the whole
 * answer, prepared at once), then closed. Everything is non-blocking and
 * stepped from the event loop, so no scraper can hold the control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "loop_wait.h"
#include "metrics_http.h"

#define ACCEPT_BURST 16

struct conn {
	int fd; /* -1: free */
	uint64_t deadline_ms;
	size_t in_len;
	char in[NM_METRICS_REQ_MAX];
	char *out; /* the answer, once the request is read */
	size_t out_len, out_off;
};

struct nm_metrics_http {
	int fd;
	char listen[64];
	struct conn conns[NM_METRICS_CONNS];
	uint64_t scrapes, bad_requests, refused_busy, timed_out;
};

struct nm_metrics_http *
nm_metrics_http_open(const char *host, uint16_t port, char *err, size_t errlen)
{
	struct nm_metrics_http *h = calloc(1, sizeof(*h));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1;

	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < NM_METRICS_CONNS; i++)
		h->conns[i].fd = -1;
	snprintf(h->listen, sizeof(h->listen), "%s:%u", host, port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(h->fd, 16) < 0) {
		snprintf(err, errlen, "metrics.listen %s: %s", h->listen, strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
accept_new(struct nm_metrics_http *h)
{
	for (int n = 0; n < ACCEPT_BURST; n++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd =
		    accept4(h->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn *c = NULL;
		for (int i = 0; i < NM_METRICS_CONNS && c == NULL; i++)
			if (h->conns[i].fd < 0)
				c = &h->conns[i];
		if (c == NULL) {
			h->refused_busy++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline_ms = nm_mono_ns() / 1000000u + NM_METRICS_DEADLINE_MS;
	}
}

/* A whole answer with its head; body is taken (freed with the answer). */
static void
answer(struct conn *c, const char *status, const char *type, char *body, size_t body_len)
{
	char head[256];
	int h = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, body_len);

	c->out = body != NULL ? malloc((size_t)h + body_len) : NULL;
	if (c->out != NULL) {
		memcpy(c->out, head, (size_t)h);
		memcpy(c->out + h, body, body_len);
		c->out_len = (size_t)h + body_len;
	}
	free(body);
}

/* The request head is complete: decide the answer. */
static void
respond(struct nm_metrics_http *h, struct conn *c, char *(*render)(void *, size_t *), void *ctx)
{
	char method[8], target[64];
	size_t len = 0;

	if (sscanf(c->in, "%7s %63s HTTP/1.", method, target) != 2 || strcmp(method, "GET") != 0) {
		h->bad_requests++;
		answer(c, "405 Method Not Allowed", "text/plain", strdup("GET only\n"), 9);
		return;
	}
	/* Prometheus may add a query string; the path alone decides. */
	target[strcspn(target, "?")] = '\0';
	if (strcmp(target, "/metrics") != 0) {
		h->bad_requests++;
		answer(c, "404 Not Found", "text/plain", strdup("try /metrics\n"), 13);
		return;
	}
	char *body = render(ctx, &len);
	if (body == NULL) {
		answer(c, "503 Service Unavailable", "text/plain", strdup("out of memory\n"), 14);
		return;
	}
	h->scrapes++;
	answer(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, len);
}

static void
step_read(struct nm_metrics_http *h, struct conn *c, char *(*render)(void *, size_t *), void *ctx)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c); /* the scraper went away */
			return;
		}
		if (n < 0)
			return;
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		if (strstr(c->in, "\r\n\r\n") != NULL || strstr(c->in, "\n\n") != NULL) {
			respond(h, c, render, ctx);
			if (c->out == NULL)
				conn_close(c);
			return;
		}
		if (c->in_len == sizeof(c->in) - 1) {
			h->bad_requests++;
			conn_close(c);
			return;
		}
	}
}

static void
step_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	conn_close(c);
}

void
nm_metrics_http_poll(struct nm_metrics_http *h, char *(*render)(void *ctx, size_t *len), void *ctx)
{
	if (h == NULL)
		return;
	accept_new(h);
	uint64_t now = nm_mono_ns() / 1000000u;
	for (int i = 0; i < NM_METRICS_CONNS; i++) {
		struct conn *c = &h->conns[i];
		if (c->fd < 0)
			continue;
		if (now > c->deadline_ms) {
			h->timed_out++;
			conn_close(c);
			continue;
		}
		if (c->out == NULL)
			step_read(h, c, render, ctx);
		if (c->fd >= 0 && c->out != NULL)
			step_write(c);
	}
}

json_t *
nm_metrics_http_json(const struct nm_metrics_http *h)
{
	int open = 0;

	if (h == NULL)
		return json_null();
	for (int i = 0; i < NM_METRICS_CONNS; i++)
		open += h->conns[i].fd >= 0;
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:i}", "listen", h->listen, "scrapes",
			 (json_int_t)h->scrapes, "bad_requests", (json_int_t)h->bad_requests,
			 "refused_busy", (json_int_t)h->refused_busy, "timed_out",
			 (json_int_t)h->timed_out, "open", open);
}

void
nm_metrics_http_close(struct nm_metrics_http *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < NM_METRICS_CONNS; i++)
		if (h->conns[i].fd >= 0)
			conn_close(&h->conns[i]);
	close(h->fd);
	free(h);
}
