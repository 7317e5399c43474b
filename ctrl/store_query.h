/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forensic store, reader side, run by nodemeshctl on the day files
 * themselves (read-only, beside the writing daemon thanks to WAL, and
 * after the daemon is gone): `flows query`, `flows graph` and `flows
 * verify`. Nothing here runs on the daemon's control thread, so a long
 * query never holds up a loop turn.
 */
#ifndef NM_STORE_QUERY_H
#define NM_STORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "nodemesh/pod-t.h"

#define NM_STORE_QUERY_MAX_LIMIT 100000
#define NM_STORE_QUERY_LIMIT	 100

/*
 * What `flows query` and `flows graph` select. Each filter holds when either
 * end of the flow matches it (pod=a namespace=b: some end is pod a, some end
 * is in namespace b); peer narrows pod to flows whose other end is peer.
 */
#define NM_STORE_URL_LEN 256 /* url= filter text, NUL included */

struct nm_store_query {
	int64_t since_ns; /* flows still open at or after this ... */
	int64_t until_ns; /* ... that started before this; ns since the epoch, UTC */
	char pod[NM_NAME_LEN];
	char ns[NM_NAME_LEN];
	char id_ns[NM_NAME_LEN]; /* identity=ns/sa */
	char id_sa[NM_NAME_LEN];
	char image[NM_IMAGE_LEN];
	char peer[NM_NAME_LEN];	    /* a pod name or an IP address */
	char verdict[8];	    /* "allow", "deny" or "" */
	int64_t sid;		    /* flows with an alert of this sid; -1 = any */
	char url[NM_STORE_URL_LEN]; /* flows with an http event whose url holds this; "" = any */
	unsigned int limit;
};

/*
 * Parse key=value words (since= until= pod= namespace= identity=ns/sa image=
 * peer= verdict= sid= url= limit=) into q. Times are ISO 8601 (2026-12-06,
 * 2026-12-06T17:05:00Z, with .fraction or a +01:00 offset; no zone means
 * UTC), "now", or relative to now_ns: -30s, -15m, -2h, -7d. Returns 0, or
 * -EINVAL with err naming the word and what was wrong.
 */
int nm_store_query_parse(struct nm_store_query *q, int argc, char *const argv[], int64_t now_ns,
			 char *err, size_t errlen);

/* One time as above into *out. 0 or -EINVAL. */
int nm_store_time_parse(const char *s, int64_t now_ns, int64_t *out);

/*
 * Run q over the day files of dir that can hold matching flows:
 * {"flows": [...], "files": N, "took_ms": T}, each flow with its alerts
 * (joined by flow_id within its day file). NULL with err on failure.
 */
json_t *nm_store_query_run(const char *dir, const struct nm_store_query *q, char *err,
			   size_t errlen);

/*
 * The service graph of q's window: {"nodes": [...], "edges": [{"from",
 * "to", "connections", "bytes", "allowed", "denied", "alerts"}]}, an
 * identity being "namespace/serviceaccount" (or the address of an end
 * that is no pod here). NULL with err on failure.
 */
json_t *nm_store_graph_run(const char *dir, const struct nm_store_query *q, char *err,
			   size_t errlen);

/* Write a graph from nm_store_graph_run() as Graphviz DOT. */
void nm_store_graph_dot(const json_t *graph, FILE *out);

/*
 * Check the hash chain of every day file in dir, or only day's (day may be
 * NULL): {"ok": bool, "days": [{"day", "rows", "ok", "head", "first_seq",
 * "broken": {"table", "seq", "why"}}]}. NULL with err if dir cannot be read.
 */
json_t *nm_store_verify(const char *dir, const char *day, char *err, size_t errlen);

#endif
