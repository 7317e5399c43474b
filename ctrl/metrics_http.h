/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /metrics over HTTP/1.x for a Prometheus server (ctrl/metrics_http.c),
 * served by the control thread without ever waiting: non-blocking sockets
 * stepped once per event-loop turn, at most NM_METRICS_CONNS connections
 * (one more is accepted and closed at once, counted), each with a deadline
 * (a slow or silent scraper is cut off, counted). One request per
 * connection (Connection: close).
 */
#ifndef NM_METRICS_HTTP_H
#define NM_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define NM_METRICS_CONNS       8
#define NM_METRICS_DEADLINE_MS 5000 /* request read and answer sent within this */
#define NM_METRICS_REQ_MAX     4096 /* bytes of request head we read */

struct nm_metrics_http;

/* Listen on host:port (IPv4). NULL with err on failure. */
struct nm_metrics_http *nm_metrics_http_open(const char *host, uint16_t port, char *err,
					     size_t errlen);

/*
 * One step: accept, read requests, answer, write, expire. render(ctx, &len)
 * makes the body (malloc'd) when a GET /metrics is complete. Never blocks.
 */
void nm_metrics_http_poll(struct nm_metrics_http *h, char *(*render)(void *ctx, size_t *len),
			  void *ctx);

/* {"listen", "scrapes", "bad_requests", "refused_busy", "timed_out", "open"} */
json_t *nm_metrics_http_json(const struct nm_metrics_http *h);

void nm_metrics_http_close(struct nm_metrics_http *h);

#endif
