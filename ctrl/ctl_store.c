/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemeshctl's store commands (see ctl_store.h): parse the filters, run
 * them on the day files, print flows as a table, the graph as DOT, and
 * the chain check as one line per day.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl_store.h"
#include "store_codec.h"
#include "store_query.h"

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : "-";
}

static long long
num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* "pod (ns/sa, image) ip:port", or the address alone for no pod. */
static void
end_str(const json_t *e, char *buf, size_t len)
{
	const char *pod = json_string_value(json_object_get(e, "pod"));

	if (pod == NULL || pod[0] == '\0')
		snprintf(buf, len, "%s:%lld", str(e, "ip"), num(e, "port"));
	else
		snprintf(buf, len, "%s (%s/%s, %s) %s:%lld", pod, str(e, "namespace"),
			 str(e, "serviceaccount"), str(e, "image"), str(e, "ip"), num(e, "port"));
}

static void
print_flows(const json_t *r)
{
	const json_t *flows = json_object_get(r, "flows");
	size_t i, k;
	json_t *f, *a;

	json_array_foreach(flows, i, f)
	{
		char src[256], dst[256];
		double dur = (double)(num(f, "end_ns") - num(f, "start_ns")) / 1e9;

		end_str(json_object_get(f, "src"), src, sizeof(src));
		end_str(json_object_get(f, "dst"), dst, sizeof(dst));
		printf("%s %7.1fs %-4s %s -> %s %s pkts %lld/%lld bytes %lld/%lld %s\n",
		       str(f, "start"), dur, str(f, "proto"), src, dst, str(f, "verdict"),
		       num(f, "pkts_orig"), num(f, "pkts_reply"), num(f, "bytes_orig"),
		       num(f, "bytes_reply"), str(f, "end_reason"));
		json_array_foreach(json_object_get(f, "alerts"), k, a)
		    printf("    alert %s sid %lld: %s (%s)\n", str(a, "ts"), num(a, "sid"),
			   str(a, "msg"), str(a, "action"));
		json_array_foreach(json_object_get(f, "http"), k, a)
		    printf("    http %s #%lld %s %s %s -> %lld (%s)\n", str(a, "ts"),
			   num(a, "tx_id"), str(a, "method"), str(a, "hostname"), str(a, "url"),
			   num(a, "status"), str(a, "seen"));
	}
	printf("(%zu flow%s from %lld day file%s in %.1f ms)\n", json_array_size(flows),
	       json_array_size(flows) == 1 ? "" : "s", num(r, "files"),
	       num(r, "files") == 1 ? "" : "s", json_real_value(json_object_get(r, "took_ms")));
}

static int
print_verify(const json_t *r)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(r, "days"), i, d)
	{
		const json_t *b = json_object_get(d, "broken");

		if (json_object_get(d, "error") != NULL)
			printf("%s  unreadable: %s\n", str(d, "day"), str(d, "error"));
		else if (b != NULL)
			printf("%s  BROKEN at %s seq %lld: %s (%lld rows verified before it)\n",
			       str(d, "day"), str(b, "table"), num(b, "seq"), str(b, "why"),
			       num(d, "rows"));
		else
			printf("%s  ok: %lld rows from seq %lld, chain head %s\n", str(d, "day"),
			       num(d, "rows"), num(d, "first_seq"), str(d, "head"));
	}
	if (json_array_size(json_object_get(r, "days")) == 0)
		printf("(no day files)\n");
	return json_is_true(json_object_get(r, "ok")) ? 0 : 1;
}

/* YYYY-MM-DD, as day files are named. */
static bool
day_ok(const char *s)
{
	char name[64], day[NM_STORE_DAY_LEN];

	snprintf(name, sizeof(name), "nodemesh-%.16s.db", s);
	return strlen(s) == NM_STORE_DAY_LEN - 1 && nm_store_day_of(name, day);
}

static int
verify(const char *dir, int argc, char *const argv[], bool as_json)
{
	const char *day = NULL;
	char err[512];

	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "day=", 4) != 0 || !day_ok(argv[i] + 4)) {
			fprintf(stderr, "error: flows verify: '%s': say day=YYYY-MM-DD\n", argv[i]);
			return 1;
		}
		day = argv[i] + 4;
	}
	json_t *r = nm_store_verify(dir, day, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "error: flows verify: %s\n", err);
		return 2;
	}
	int rc = json_is_true(json_object_get(r, "ok")) ? 0 : 1;
	if (as_json) {
		char *s = json_dumps(r, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
	} else {
		rc = print_verify(r);
	}
	json_decref(r);
	return rc;
}

int
nm_ctl_flows(const char *dir, int argc, char *const argv[], bool as_json)
{
	struct nm_store_query q;
	struct timespec now;
	char err[512];
	json_t *r;

	if (argc >= 1 && strcmp(argv[0], "verify") == 0)
		return verify(dir, argc - 1, argv + 1, as_json);
	if (argc < 1 || (strcmp(argv[0], "query") != 0 && strcmp(argv[0], "graph") != 0)) {
		fprintf(stderr, "error: 'flows' needs one of: query|graph|verify\n");
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (nm_store_query_parse(&q, argc - 1, argv + 1,
				 (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, err,
				 sizeof(err)) < 0) {
		fprintf(stderr, "error: flows %s: %s\n", argv[0], err);
		return 1;
	}
	bool graph = strcmp(argv[0], "graph") == 0;
	r = graph ? nm_store_graph_run(dir, &q, err, sizeof(err))
		  : nm_store_query_run(dir, &q, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "error: flows %s: %s\n", argv[0], err);
		return 2;
	}
	if (as_json) {
		char *s = json_dumps(r, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
	} else if (graph) {
		nm_store_graph_dot(r, stdout);
	} else {
		print_flows(r);
	}
	json_decref(r);
	return 0;
}
