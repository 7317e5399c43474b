/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `flows graph`: the service graph of a window from the store, identities
 * as nodes and who-called-whom as edges with connections, bytes, verdicts
 * and alerts, summed over the day files; and its Graphviz DOT form.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store_codec.h"
#include "store_priv_query.h"
#include "store_query.h"

/* An end's identity in SQL: ns/sa, ns/(unknown) for a pod of no identity, or its address. */
#define IDENT(p)                                                                                   \
	"CASE WHEN " p "ns = '' THEN " p "ip ELSE " p "ns || '/' || CASE WHEN " p                  \
	"sa = '' THEN '(unknown)' ELSE " p "sa END END"

/* The edge from -> to in edges (an object keyed "from\nto"), created empty. */
static json_t *
edge(json_t *edges, const char *from, const char *to)
{
	char key[300];

	snprintf(key, sizeof(key), "%s\n%s", from, to);
	json_t *e = json_object_get(edges, key);
	if (e == NULL) {
		e = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "from", from, "to", to,
			      "connections", (json_int_t)0, "bytes", (json_int_t)0, "allowed",
			      (json_int_t)0, "denied", (json_int_t)0, "alerts", (json_int_t)0);
		json_object_set_new(edges, key, e);
	}
	return e;
}

static void
add_int(json_t *o, const char *key, int64_t v)
{
	json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + v));
}

static int
graph_day(sqlite3 *db, const struct nm_store_query *q, json_t *edges, char *err, size_t errlen)
{
	char where[1024], sql[2048];
	sqlite3_stmt *st = NULL;
	int rc;

	nm_store_where(q, where, sizeof(where));
	snprintf(
	    sql, sizeof(sql),
	    "SELECT " IDENT("src_") ", " IDENT("dst_") ", count(*), "
						       "sum(bytes_orig + bytes_reply), sum(verdict "
						       "= 'allow'), sum(verdict = 'deny') "
						       "FROM flows%s GROUP BY 1, 2",
	    where);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		nm_store_bind(st, q);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			json_t *e = edge(edges, (const char *)sqlite3_column_text(st, 0),
					 (const char *)sqlite3_column_text(st, 1));
			add_int(e, "connections", sqlite3_column_int64(st, 2));
			add_int(e, "bytes", sqlite3_column_int64(st, 3));
			add_int(e, "allowed", sqlite3_column_int64(st, 4));
			add_int(e, "denied", sqlite3_column_int64(st, 5));
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto fail;

	/* Alerts of the window on the edge of their flow: the initiator is the sender to_server. */
	snprintf(sql, sizeof(sql),
		 "SELECT CASE WHEN direction = 'to_server' THEN " IDENT("src_") " ELSE " IDENT(
		     "dst_") " END, CASE WHEN direction = 'to_server' "
			     "THEN " IDENT("dst_") " ELSE " IDENT("src_") " END, "
									  "count("
									  "*) "
									  "FROM "
									  "alerts"
									  " WHERE"
									  " ts_"
									  "ns >= "
									  ":since"
									  " AND "
									  "ts_ns "
									  "< "
									  ":until"
									  " GROUP"
									  " BY "
									  "1, 2");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		nm_store_bind(st, q);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			add_int(edge(edges, (const char *)sqlite3_column_text(st, 0),
				     (const char *)sqlite3_column_text(st, 1)),
				"alerts", sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
fail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	return -1;
}

json_t *
nm_store_graph_run(const char *dir, const struct nm_store_query *q, char *err, size_t errlen)
{
	json_t *by_key = json_object(), *edges = json_array(), *nodes = json_object();
	const char *key;
	json_t *e;

	if (nm_store_each_day(dir, q, graph_day, by_key, err, errlen) < 0) {
		json_decref(by_key);
		json_decref(edges);
		json_decref(nodes);
		return NULL;
	}
	json_object_foreach(by_key, key, e)
	{
		json_array_append(edges, e);
		json_object_set_new(nodes, json_string_value(json_object_get(e, "from")),
				    json_true());
		json_object_set_new(nodes, json_string_value(json_object_get(e, "to")),
				    json_true());
	}
	json_decref(by_key);
	json_t *names = json_array();
	json_object_foreach(nodes, key, e) json_array_append_new(names, json_string(key));
	json_decref(nodes);
	return json_pack("{s:o, s:o}", "nodes", names, "edges", edges);
}

static void
human_bytes(int64_t b, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
	double v = (double)b;
	unsigned int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* Names are [a-z0-9._-/()] or addresses: nothing DOT needs escaped but a quote. */
static void
quoted(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void
nm_store_graph_dot(const json_t *graph, FILE *out)
{
	size_t i;
	json_t *v;

	fprintf(out, "digraph nodemesh {\n\trankdir=LR;\n\tnode [shape=box, style=rounded, "
		     "fontname=\"Helvetica\"];\n\tedge [fontname=\"Helvetica\", fontsize=10];\n");
	json_array_foreach(json_object_get(graph, "nodes"), i, v)
	{
		fputc('\t', out);
		quoted(json_string_value(v), out);
		fprintf(out, ";\n");
	}
	json_array_foreach(json_object_get(graph, "edges"), i, v)
	{
		int64_t denied = json_integer_value(json_object_get(v, "denied"));
		int64_t alerts = json_integer_value(json_object_get(v, "alerts"));
		char bytes[32];

		human_bytes(json_integer_value(json_object_get(v, "bytes")), bytes, sizeof(bytes));
		fputc('\t', out);
		quoted(json_string_value(json_object_get(v, "from")), out);
		fprintf(out, " -> ");
		quoted(json_string_value(json_object_get(v, "to")), out);
		fprintf(out, " [label=\"%" PRId64 " conn, %s",
			(int64_t)json_integer_value(json_object_get(v, "connections")), bytes);
		if (denied)
			fprintf(out, "\\n%" PRId64 " denied", denied);
		if (alerts)
			fprintf(out, "\\n%" PRId64 " alert%s", alerts, alerts == 1 ? "" : "s");
		fprintf(out, "\"%s];\n",
			alerts	 ? ", color=red, fontcolor=red, penwidth=2"
			: denied ? ", color=orange, style=dashed"
				 : "");
	}
	fprintf(out, "}\n");
}
