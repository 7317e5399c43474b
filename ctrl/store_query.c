/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `flows query` and `flows graph` (see store_query.h): the filter words,
 * times in ISO 8601 or relative to now, one SQL statement per day file,
 * rows as JSON with their alerts. The graph's DOT writer is here too.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <sqlite3.h>

#include "names.h"
#include "store_codec.h"
#include "store_priv_query.h"
#include "store_query.h"

#define NS_PER_S   1000000000ll
#define MAX_BACK_S (INT64_C(3660) * 86400) /* relative times reach back 10 years at most */

/* Digits at *p, at most max of them, into *v; advances *p. -1 if none. */
static int
digits(const char **p, unsigned int min, unsigned int max, long *v)
{
	unsigned int n = 0;

	*v = 0;
	while (n < max && isdigit((unsigned char)**p)) {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n >= min ? 0 : -1;
}

/* -30s, -15m, -2h, -7d: now minus that, up to MAX_BACK_S. */
static int
relative(const char *s, int64_t now_ns, int64_t *out)
{
	const char *p = s + 1;
	long n;

	if (digits(&p, 1, 9, &n) < 0 || p[0] == '\0' || p[1] != '\0')
		return -EINVAL;
	switch (p[0]) {
	case 's':
		break;
	case 'm':
		n *= 60;
		break;
	case 'h':
		n *= 3600;
		break;
	case 'd':
		n *= 86400;
		break;
	default:
		return -EINVAL;
	}
	if (n > MAX_BACK_S)
		return -EINVAL;
	*out = now_ns - (int64_t)n * NS_PER_S;
	return 0;
}

/* Fraction of a second after '.', up to 9 digits, in ns. */
static int
fraction(const char **p, int64_t *ns)
{
	long v;
	const char *start = *p;

	if (digits(p, 1, 9, &v) < 0)
		return -1;
	for (long i = *p - start; i < 9; i++)
		v *= 10;
	*ns = v;
	return 0;
}

/* Z, +HH:MM or -HH:MM (or nothing: UTC) into seconds east of UTC. */
static int
zone(const char **p, long *east)
{
	long hh, mm;
	char sign = **p;

	*east = 0;
	if (sign == 'Z') {
		(*p)++;
		return 0;
	}
	if (sign != '+' && sign != '-')
		return 0;
	(*p)++;
	if (digits(p, 2, 2, &hh) < 0 || *(*p)++ != ':' || digits(p, 2, 2, &mm) < 0 || hh > 23 ||
	    mm > 59)
		return -1;
	*east = (sign == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
	return 0;
}

/* YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|±HH:MM] */
static int
iso(const char *s, int64_t *out)
{
	const char *p = s;
	long y, mo, d, h = 0, mi = 0, sec = 0, east = 0;
	int64_t frac = 0;

	if (digits(&p, 4, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, 2, &d) < 0)
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, 2, &mi) < 0)
			return -EINVAL;
		if (*p == ':' && (p++, digits(&p, 2, 2, &sec) < 0))
			return -EINVAL;
		if (*p == '.' && (p++, fraction(&p, &frac) < 0))
			return -EINVAL;
		if (zone(&p, &east) < 0)
			return -EINVAL;
	}
	/* 2200: ns since 1970 in an int64_t last until 2262. */
	if (*p != '\0' || y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
	    sec > 60)
		return -EINVAL;

	struct tm tm = {.tm_year = (int)y - 1900,
			.tm_mon = (int)mo - 1,
			.tm_mday = (int)d,
			.tm_hour = (int)h,
			.tm_min = (int)mi,
			.tm_sec = (int)sec};
	time_t t = timegm(&tm);
	/* timegm normalises 2026-02-30 to March: a date that moved did not exist. */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -EINVAL;
	*out = ((int64_t)t - east) * NS_PER_S + frac;
	return 0;
}

int
nm_store_time_parse(const char *s, int64_t now_ns, int64_t *out)
{
	if (strcmp(s, "now") == 0) {
		*out = now_ns;
		return 0;
	}
	if (s[0] == '-')
		return relative(s, now_ns, out);
	return iso(s, out);
}

static bool
is_ip(const char *s)
{
	uint8_t a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* An image reference: printable, no blanks or quotes, shorter than NM_IMAGE_LEN. */
static bool
image_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NM_IMAGE_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static int
copy_name(const char *v, char *dst, const char *key, char *err, size_t errlen)
{
	if (!nm_name_valid(v, strlen(v))) {
		snprintf(err, errlen,
			 "%s='%.64s': a name is 1 to %d characters of a-z, 0-9, '.', '-', '_'", key,
			 v, NM_NAME_LEN - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
parse_identity(struct nm_store_query *q, const char *v, char *err, size_t errlen)
{
	const char *slash = strchr(v, '/');
	char ns[NM_NAME_LEN];

	if (slash == NULL || (size_t)(slash - v) >= sizeof(ns)) {
		snprintf(err, errlen, "identity='%.64s': say identity=NAMESPACE/SERVICEACCOUNT", v);
		return -EINVAL;
	}
	memcpy(ns, v, (size_t)(slash - v));
	ns[slash - v] = '\0';
	if (copy_name(ns, q->id_ns, "identity namespace", err, errlen) < 0 ||
	    copy_name(slash + 1, q->id_sa, "identity serviceaccount", err, errlen) < 0)
		return -EINVAL;
	return 0;
}

static int
parse_number(const char *v, int64_t min, int64_t max, int64_t *out)
{
	const char *p = v;
	long n;

	if (digits(&p, 1, 10, &n) < 0 || *p != '\0' || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

/* One key=value word into q. */
static int
parse_word(struct nm_store_query *q, const char *key, const char *v, int64_t now_ns, char *err,
	   size_t errlen)
{
	int64_t n;

	if (strcmp(key, "since") == 0 || strcmp(key, "until") == 0) {
		if (nm_store_time_parse(v, now_ns, key[0] == 's' ? &q->since_ns : &q->until_ns) ==
		    0)
			return 0;
		snprintf(err, errlen,
			 "%s='%.64s': a time is ISO 8601 (2026-12-06, 2026-12-06T17:05:00Z, "
			 "2026-12-06T18:05:00+01:00), now, or relative: -30s, -15m, -2h, -7d",
			 key, v);
		return -EINVAL;
	}
	if (strcmp(key, "pod") == 0)
		return copy_name(v, q->pod, key, err, errlen);
	if (strcmp(key, "namespace") == 0)
		return copy_name(v, q->ns, key, err, errlen);
	if (strcmp(key, "identity") == 0)
		return parse_identity(q, v, err, errlen);
	if (strcmp(key, "image") == 0) {
		if (!image_valid(v)) {
			snprintf(err, errlen,
				 "image='%.64s': 1 to %d printable characters without quotes", v,
				 NM_IMAGE_LEN - 1);
			return -EINVAL;
		}
		memcpy(q->image, v, strlen(v) + 1);
		return 0;
	}
	if (strcmp(key, "peer") == 0) {
		if (is_ip(v) && strlen(v) < sizeof(q->peer)) {
			memcpy(q->peer, v, strlen(v) + 1);
			return 0;
		}
		return copy_name(v, q->peer, "peer (a pod name or an IP address)", err, errlen);
	}
	if (strcmp(key, "verdict") == 0) {
		if (strcmp(v, "allow") != 0 && strcmp(v, "deny") != 0) {
			snprintf(err, errlen, "verdict='%.64s': say allow or deny", v);
			return -EINVAL;
		}
		memcpy(q->verdict, v, strlen(v) + 1);
		return 0;
	}
	if (strcmp(key, "sid") == 0) {
		if (parse_number(v, 1, UINT32_MAX, &q->sid) == 0)
			return 0;
		snprintf(err, errlen, "sid='%.64s': a signature id is 1 to %" PRIu32, v,
			 UINT32_MAX);
		return -EINVAL;
	}
	if (strcmp(key, "url") == 0) {
		size_t len = strlen(v);
		if (len == 0 || len >= sizeof(q->url)) {
			snprintf(err, errlen, "url='%.64s': 1 to %d bytes of the URL", v,
				 NM_STORE_URL_LEN - 1);
			return -EINVAL;
		}
		memcpy(q->url, v, len + 1);
		return 0;
	}
	if (strcmp(key, "limit") == 0) {
		if (parse_number(v, 1, NM_STORE_QUERY_MAX_LIMIT, &n) == 0) {
			q->limit = (unsigned int)n;
			return 0;
		}
		snprintf(err, errlen, "limit='%.64s': 1 to %d", v, NM_STORE_QUERY_MAX_LIMIT);
		return -EINVAL;
	}
	snprintf(err, errlen,
		 "unknown filter '%.64s' (known: since until pod namespace identity image peer "
		 "verdict sid url limit)",
		 key);
	return -EINVAL;
}

int
nm_store_query_parse(struct nm_store_query *q, int argc, char *const argv[], int64_t now_ns,
		     char *err, size_t errlen)
{
	static const char *const keys[] = {"since",    "until", "pod",	"namespace",
					   "identity", "image", "peer", "verdict",
					   "sid",      "url",	"limit"};
	unsigned int seen = 0;

	memset(q, 0, sizeof(*q));
	q->since_ns = 0;
	q->until_ns = INT64_MAX;
	q->sid = -1;
	q->limit = NM_STORE_QUERY_LIMIT;
	for (int i = 0; i < argc; i++) {
		char key[16];
		const char *eq = strchr(argv[i], '=');

		if (eq == NULL || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(key)) {
			snprintf(err, errlen, "'%.64s': filters are key=value", argv[i]);
			return -EINVAL;
		}
		memcpy(key, argv[i], (size_t)(eq - argv[i]));
		key[eq - argv[i]] = '\0';
		for (unsigned int k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strcmp(key, keys[k]) != 0)
				continue;
			if (seen & (1u << k)) {
				snprintf(err, errlen, "%s= given twice", key);
				return -EINVAL;
			}
			seen |= 1u << k;
		}
		if (parse_word(q, key, eq + 1, now_ns, err, errlen) < 0)
			return -EINVAL;
	}
	if (q->since_ns >= q->until_ns) {
		snprintf(err, errlen, "since= must be before until=");
		return -EINVAL;
	}
	return 0;
}

/* The WHERE clause of q over flows, with named parameters bind() fills. */
void
nm_store_where(const struct nm_store_query *q, char *buf, size_t cap)
{
	size_t len = 0;

#define ADD(s) len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s", s)
	ADD(" WHERE start_ns < :until AND end_ns >= :since");
	if (q->pod[0])
		ADD(" AND (src_pod = :pod OR dst_pod = :pod)");
	if (q->ns[0])
		ADD(" AND (src_ns = :ns OR dst_ns = :ns)");
	if (q->id_ns[0])
		ADD(" AND ((src_ns = :id_ns AND src_sa = :id_sa) OR (dst_ns = :id_ns AND dst_sa = "
		    ":id_sa))");
	if (q->image[0])
		ADD(" AND (src_image = :image OR dst_image = :image)");
	if (q->peer[0] && q->pod[0])
		ADD(" AND ((src_pod = :pod AND (dst_pod = :peer OR dst_ip = :peer)) OR (dst_pod = "
		    ":pod AND (src_pod = :peer OR src_ip = :peer)))");
	else if (q->peer[0])
		ADD(" AND (src_pod = :peer OR dst_pod = :peer OR src_ip = :peer OR dst_ip = "
		    ":peer)");
	if (q->verdict[0])
		ADD(" AND verdict = :verdict");
	if (q->sid >= 0)
		ADD(" AND flow_id IN (SELECT flow_id FROM alerts WHERE sid = :sid)");
	if (q->url[0])
		ADD(" AND flow_id IN (SELECT flow_id FROM http WHERE instr(url, :url) > 0)");
#undef ADD
}

static void
bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

void
nm_store_bind(sqlite3_stmt *st, const struct nm_store_query *q)
{
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":until"), q->until_ns);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), q->since_ns);
	bind_text(st, ":pod", q->pod);
	bind_text(st, ":ns", q->ns);
	bind_text(st, ":id_ns", q->id_ns);
	bind_text(st, ":id_sa", q->id_sa);
	bind_text(st, ":image", q->image);
	bind_text(st, ":peer", q->peer);
	bind_text(st, ":verdict", q->verdict);
	bind_text(st, ":url", q->url);
	if (sqlite3_bind_parameter_index(st, ":sid") > 0)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":sid"), q->sid);
	if (sqlite3_bind_parameter_index(st, ":limit") > 0)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"), q->limit);
}

/* Open path with flags and read its meta table, waiting out a writer's lock. */
static int
open_probe(const char *path, int flags, const char *sql, sqlite3 **db)
{
	int rc = sqlite3_open_v2(path, db, flags, NULL);

	/* Before the first statement: the writer may hold a lock (creating the file). */
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(*db, 2000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(*db, sql, NULL, NULL, NULL);
	return rc;
}

sqlite3 *
nm_store_open_ro(const char *dir, const char *day, char *err, size_t errlen)
{
	char path[512];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/nodemesh-%s.db", dir, day);
	int rc = open_probe(path, SQLITE_OPEN_READONLY, "SELECT 1 FROM meta LIMIT 1", &db);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		/* Read-only needs the WAL's shared memory to exist; a stopped daemon's may not. */
		sqlite3_close_v2(db);
		db = NULL;
		rc = open_probe(path, SQLITE_OPEN_READWRITE,
				"PRAGMA query_only=1; SELECT 1 FROM meta LIMIT 1", &db);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		return NULL;
	}
	return db;
}

/* ISO 8601 with milliseconds, UTC. */
static json_t *
iso_json(int64_t ns)
{
	char base[32], buf[40];
	time_t sec = (time_t)(ns / NS_PER_S);
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s.%03" PRId64 "Z", base, (int64_t)((ns % NS_PER_S) / 1000000));
	return json_string(buf);
}

/*
 * A row of t as JSON: src_* and dst_* columns go into "src" and "dst"
 * objects (ns and sa as "namespace" and "serviceaccount", as in the flow
 * log), *_ns times get an ISO twin, the hash becomes hex.
 */
static json_t *
row_json(const struct nm_store_table *t, sqlite3_stmt *st)
{
	json_t *o = json_object(), *src = json_object(), *dst = json_object();

	for (unsigned int c = 0; c < t->n_cols; c++) {
		const char *name = t->cols[c];
		json_t *into = o;
		json_t *v = t->is_text[c]
				? json_string((const char *)sqlite3_column_text(st, (int)c))
				: json_integer(sqlite3_column_int64(st, (int)c));

		if (strncmp(name, "src_", 4) == 0 || strncmp(name, "dst_", 4) == 0) {
			into = name[0] == 's' ? src : dst;
			name += 4;
			name = strcmp(name, "ns") == 0	 ? "namespace"
			       : strcmp(name, "sa") == 0 ? "serviceaccount"
							 : name;
		}
		json_object_set_new(into, name, v);
		size_t n = strlen(name);
		if (n > 3 && strcmp(name + n - 3, "_ns") == 0 && !t->is_text[c]) {
			char iso_name[32];
			snprintf(iso_name, sizeof(iso_name), "%.*s", (int)(n - 3), name);
			json_object_set_new(into, iso_name,
					    iso_json(sqlite3_column_int64(st, (int)c)));
		}
	}
	json_object_set_new(o, "src", src);
	json_object_set_new(o, "dst", dst);
	return o;
}

/* The rows of table t (alerts, http) of flow_id, oldest first. */
static json_t *
rows_of(const struct nm_store_table *t, sqlite3_stmt *st, int64_t flow_id)
{
	json_t *list = json_array();

	sqlite3_bind_int64(st, 1, flow_id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, row_json(t, st));
	sqlite3_reset(st);
	return list;
}

/* Flows of q in one day file, appended to list; -1 with err on failure. */
static int
query_day(sqlite3 *db, const struct nm_store_query *q, json_t *list, char *err, size_t errlen)
{
	char where[1024], tail[1200], sql[4096], asql[2048], hsql[2048];
	sqlite3_stmt *st = NULL, *ast = NULL, *hst = NULL;
	int rc;

	nm_store_where(q, where, sizeof(where));
	snprintf(tail, sizeof(tail), "%s ORDER BY start_ns LIMIT :limit", where);
	if (nm_store_sql_select(&nm_store_flows, tail, sql, sizeof(sql)) < 0 ||
	    nm_store_sql_select(&nm_store_alerts, " WHERE flow_id = ?1 ORDER BY ts_ns", asql,
				sizeof(asql)) < 0 ||
	    nm_store_sql_select(&nm_store_http, " WHERE flow_id = ?1 ORDER BY tx_id, ts_ns", hsql,
				sizeof(hsql)) < 0)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, asql, -1, &ast, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		goto out;
	}
	/* A day file written before http events were stored has no http table: no list. */
	if (sqlite3_prepare_v2(db, hsql, -1, &hst, NULL) != SQLITE_OK)
		hst = NULL;
	nm_store_bind(st, q);
	while (json_array_size(list) < q->limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = row_json(&nm_store_flows, st);
		int64_t flow_id = sqlite3_column_int64(st, NM_SF_flow_id);
		json_object_set_new(row, "alerts", rows_of(&nm_store_alerts, ast, flow_id));
		if (hst != NULL)
			json_object_set_new(row, "http", rows_of(&nm_store_http, hst, flow_id));
		json_array_append_new(list, row);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		goto out;
	}
	rc = SQLITE_OK;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ast);
	sqlite3_finalize(hst);
	return rc == SQLITE_OK ? 0 : -1;
}

static bool
has_http(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool yes = sqlite3_prepare_v2(db,
				      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
				      "name = 'http'",
				      -1, &st, NULL) == SQLITE_OK &&
		   sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return yes;
}

/*
 * Call each_day for every day file that can hold flows of q's window: a
 * record is filed under the day it was written, at or after its end, so
 * the days from since's on.
 */
int
nm_store_each_day(const char *dir, const struct nm_store_query *q,
		  int (*each_day)(sqlite3 *db, const struct nm_store_query *q, json_t *acc,
				  char *err, size_t errlen),
		  json_t *acc, char *err, size_t errlen)
{
	char since[NM_STORE_DAY_LEN], dayerr[512];
	char(*days)[NM_STORE_DAY_LEN] = NULL;
	int files = 0;

	nm_store_day(q->since_ns, since);
	int n = nm_store_days(dir, since, &days);
	if (n < 0) {
		snprintf(err, errlen, "store %s: %s", dir, strerror(-n));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		sqlite3 *db = nm_store_open_ro(dir, days[i], err, errlen);
		if (db == NULL)
			break;
		/* A day file from before http events were stored has none to match url=. */
		int rc =
		    q->url[0] && !has_http(db) ? 0 : each_day(db, q, acc, dayerr, sizeof(dayerr));
		sqlite3_close_v2(db);
		if (rc < 0) {
			snprintf(err, errlen, "nodemesh-%s.db: %s", days[i], dayerr);
			break;
		}
		files++;
	}
	free(days);
	return files == n ? files : -1;
}

json_t *
nm_store_query_run(const char *dir, const struct nm_store_query *q, char *err, size_t errlen)
{
	uint64_t t0 = nm_store_mono_ns();
	json_t *list = json_array();
	int files = nm_store_each_day(dir, q, query_day, list, err, errlen);

	if (files < 0) {
		json_decref(list);
		return NULL;
	}
	return json_pack("{s:o, s:i, s:f}", "flows", list, "files", files, "took_ms",
			 (double)(nm_store_mono_ns() - t0) / 1e6);
}
