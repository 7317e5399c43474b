/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the forensic store: the record codec and hash chain
 * (ctrl/store_codec.c, against SHA-256 values computed with Python's
 * hashlib), the query parser (ctrl/store_query.c), and the writer and
 * readers on real SQLite files in a temp directory: a batch written and
 * answered by pod with its alert, verify before and after an edit, a lost
 * batch counted and the store writing again afterwards, size and age
 * retention.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "store.h"
#include "store_codec.h"
#include "store_query.h"
#include "store_queue.h"

#define DAY0_NS (INT64_C(1796515200) * 1000000000) /* 2026-12-06T00:00:00Z */
#define NOON_NS (DAY0_NS + INT64_C(43200) * 1000000000)

static void
hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* ---------------------------------------------------------------- codec */

static const char *const two_cols[] = {"seq", "name"};
static const bool two_text[] = {false, true};
static const struct nm_store_table two = {"t", 2, two_cols, two_text};

Test(store_codec, rejects_a_value_of_the_wrong_type)
{
	struct nm_store_val v[2] = {nm_store_text("5"), nm_store_text("ab")};
	uint8_t buf[64];

	cr_assert_eq(nm_store_encode(&two, v, buf, sizeof(buf)), -1);
}

Test(store_codec, encodes_type_length_and_bytes)
{
	struct nm_store_val v[2] = {nm_store_int(5), nm_store_text("ab")};
	uint8_t buf[64];
	char h[129];

	long n = nm_store_encode(&two, v, buf, sizeof(buf));
	cr_assert_eq(n, 18);
	hex(buf, (size_t)n, h);
	cr_assert_str_eq(h, "740069000000000000000573000000026162");
}

Test(store_codec, says_how_much_room_and_writes_nothing_past_cap)
{
	struct nm_store_val v[2] = {nm_store_int(-1), nm_store_text("abc")};
	uint8_t buf[8];

	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(nm_store_encode(&two, v, buf, 4), 2 + 9 + 8);
	cr_assert_eq(buf[4], 0xee);
}

/* Moving bytes between neighbouring text fields changes the encoding. */
Test(store_codec, is_injective_across_field_boundaries)
{
	static const char *const cols[] = {"seq", "a", "b"};
	static const bool text[] = {false, true, true};
	const struct nm_store_table t = {"t", 3, cols, text};
	struct nm_store_val x[3] = {nm_store_int(1), nm_store_text("a\tb"), nm_store_text("")};
	struct nm_store_val y[3] = {nm_store_int(1), nm_store_text("a"), nm_store_text("\tb")};
	uint8_t bx[64], by[64];

	long nx = nm_store_encode(&t, x, bx, sizeof(bx));
	long ny = nm_store_encode(&t, y, by, sizeof(by));
	cr_assert_eq(nx, ny);
	cr_assert_neq(memcmp(bx, by, (size_t)nx), 0);
}

Test(store_codec, decodes_what_it_encoded_and_nothing_else)
{
	struct nm_store_val v[2] = {nm_store_int(-7), nm_store_text("a\0b")}, w[2];
	uint8_t buf[64];

	v[1].len = 3; /* bytes, NUL included: text is not a C string here */
	long n = nm_store_encode(&two, v, buf, sizeof(buf));
	cr_assert_eq(nm_store_decode(&two, buf, (size_t)n, w), 0);
	cr_assert_eq(w[0].i, -7);
	cr_assert_eq(w[1].len, 3);
	cr_assert_eq(memcmp(w[1].s, "a\0b", 3), 0);
	for (long cut = 0; cut < n; cut++)
		cr_assert_eq(nm_store_decode(&two, buf, (size_t)cut, w), -1, "cut at %ld", cut);
	buf[2] = 's'; /* seq's type byte */
	cr_assert_eq(nm_store_decode(&two, buf, (size_t)n, w), -1);
}

Test(store_codec, chains_with_sha256_of_prev_and_row)
{
	uint8_t prev[NM_STORE_HASH_LEN], out[NM_STORE_HASH_LEN];
	const uint8_t canon[] = {'t', 0, 'i', 0, 0, 0, 0, 0, 0, 0, 5, 's', 0, 0, 0, 2, 'a', 'b'};
	char h[65];

	for (int i = 0; i < NM_STORE_HASH_LEN; i++)
		prev[i] = (uint8_t)i;
	cr_assert_eq(nm_store_chain(prev, canon, sizeof(canon), out), 0);
	nm_store_hex(out, h);
	cr_assert_str_eq(h, "6aef583596569a9662befbf5f5c86fd844d94d43de9dd9764dd4604c8559756d");
}

Test(store_codec, genesis_is_sha256_of_the_day)
{
	uint8_t g[NM_STORE_HASH_LEN];
	char h[65];

	nm_store_genesis("2026-12-06", g);
	nm_store_hex(g, h);
	cr_assert_str_eq(h, "69961709b773bbbe31ff00821097f95c1409cdc1e0b4b0a33175713517b8b14d");
}

Test(store_codec, generates_sql_from_the_columns)
{
	char sql[256];

	cr_assert_eq(nm_store_sql_create(&two, sql, sizeof(sql)), 0);
	cr_assert_str_eq(sql, "CREATE TABLE IF NOT EXISTS t(seq INTEGER PRIMARY KEY, name TEXT "
			      "NOT NULL, hash BLOB NOT NULL)");
	cr_assert_eq(nm_store_sql_insert(&two, sql, sizeof(sql)), 0);
	cr_assert_str_eq(sql, "INSERT INTO t(seq, name, hash) VALUES(?, ?, ?)");
	cr_assert_eq(nm_store_sql_select(&two, " ORDER BY seq", sql, sizeof(sql)), 0);
	cr_assert_str_eq(sql, "SELECT seq, name, hash FROM t ORDER BY seq");
	cr_assert_eq(nm_store_sql_select(&two, "", sql, 10), -1);
}

Test(store_codec, names_day_files)
{
	static const char *const bad[] = {
	    "nodemesh-2026-12-6.db",  "nodemesh-2026-12-06.db-wal", "nodemesh-2026-12-06.sqlite",
	    "xodemesh-2026-12-06.db", "nodemesh-2026-1a-06.db",	    ""};
	char day[NM_STORE_DAY_LEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(nm_store_day_of(bad[i], day), "%s", bad[i]);
	cr_assert(nm_store_day_of("nodemesh-2026-12-06.db", day));
	cr_assert_str_eq(day, "2026-12-06");
	nm_store_day(DAY0_NS - 1, day);
	cr_assert_str_eq(day, "2026-12-05");
	nm_store_day(NOON_NS, day);
	cr_assert_str_eq(day, "2026-12-06");
}

/* ---------------------------------------------------------------- parser */

static int
parse(struct nm_store_query *q, const char *words, char *err, size_t errlen)
{
	char buf[512], *argv[16], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *t = strtok_r(buf, " ", &save); t != NULL && argc < 16;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return nm_store_query_parse(q, argc, argv, NOON_NS, err, errlen);
}

Test(store_query_parse, refuses_bad_words_naming_them)
{
	static const struct {
		const char *words, *named;
	} bad[] = {
	    {"pod", "'pod'"},
	    {"=x", "'=x'"},
	    {"pod=", "pod="},
	    {"pod=Bad_Name", "pod='Bad_Name'"},
	    {"namespace=a/b", "namespace="},
	    {"since=2026-02-30", "since='2026-02-30'"},
	    {"since=2026-13-01", "since="},
	    {"since=2026-12-06T24:00", "since="},
	    {"since=2026-12-06T10:00+1", "since="},
	    {"since=yesterday", "since="},
	    {"until=-5x", "until="},
	    {"until=-h", "until="},
	    {"limit=0", "limit='0'"},
	    {"limit=100001", "limit="},
	    {"sid=0", "sid='0'"},
	    {"sid=4294967296", "sid="},
	    {"sid=12a", "sid="},
	    {"verdict=maybe", "verdict='maybe'"},
	    {"identity=test", "identity='test'"},
	    {"identity=test/", "identity serviceaccount"},
	    {"image=a\"b", "image="},
	    {"peer=Db!", "peer"},
	    {"color=red", "unknown filter 'color'"},
	    {"pod=a pod=b", "pod= given twice"},
	    {"since=-1h until=-2h", "since= must be before until="},
	    {"since=now until=now", "since= must be before until="},
	};
	struct nm_store_query q;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(parse(&q, bad[i].words, err, sizeof(err)), -EINVAL, "%s",
			     bad[i].words);
		cr_assert(strstr(err, bad[i].named) != NULL, "%s: '%s' does not name '%s'",
			  bad[i].words, err, bad[i].named);
	}
}

Test(store_query_parse, defaults)
{
	struct nm_store_query q;
	char err[256];

	cr_assert_eq(parse(&q, "", err, sizeof(err)), 0);
	cr_assert_eq(q.since_ns, 0);
	cr_assert_eq(q.until_ns, INT64_MAX);
	cr_assert_eq(q.limit, 100);
	cr_assert_eq(q.sid, -1);
	cr_assert_str_eq(q.pod, "");
	cr_assert_str_eq(q.verdict, "");
}

Test(store_query_parse, times)
{
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {
	    {"2026-12-06", DAY0_NS},
	    {"2026-12-06T17:05", DAY0_NS + INT64_C(61500) * 1000000000},
	    {"2026-12-06T17:05:00Z", DAY0_NS + INT64_C(61500) * 1000000000},
	    {"2026-12-06 17:05:00", DAY0_NS + INT64_C(61500) * 1000000000},
	    {"2026-12-06T18:05:00+01:00", DAY0_NS + INT64_C(61500) * 1000000000},
	    {"2026-12-06T16:35:00-00:30", DAY0_NS + INT64_C(61500) * 1000000000},
	    {"2026-12-06T17:05:00.5Z", DAY0_NS + INT64_C(61500) * 1000000000 + 500000000},
	    {"2026-12-06T17:05:00.000000001", DAY0_NS + INT64_C(61500) * 1000000000 + 1},
	    {"2024-02-29", INT64_C(1709164800) * 1000000000},
	    {"now", NOON_NS},
	    {"-30s", NOON_NS - INT64_C(30) * 1000000000},
	    {"-15m", NOON_NS - INT64_C(900) * 1000000000},
	    {"-2h", NOON_NS - INT64_C(7200) * 1000000000},
	    {"-7d", NOON_NS - INT64_C(604800) * 1000000000},
	};
	int64_t ns;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(nm_store_time_parse(ok[i].s, NOON_NS, &ns), 0, "%s", ok[i].s);
		cr_assert_eq(ns, ok[i].ns, "%s: %lld, want %lld", ok[i].s, (long long)ns,
			     (long long)ok[i].ns);
	}
	cr_assert_eq(nm_store_time_parse("2025-02-29", NOON_NS, &ns), -EINVAL);
	cr_assert_eq(nm_store_time_parse("1969-12-31", NOON_NS, &ns), -EINVAL);
	/* Found by fuzz_store_query: ns of year 9677 overflow an int64_t. */
	cr_assert_eq(nm_store_time_parse("9677-12-06T17:05:00", NOON_NS, &ns), -EINVAL);
	cr_assert_eq(nm_store_time_parse("-999999999d", NOON_NS, &ns), -EINVAL);
	cr_assert_eq(nm_store_time_parse("2200-12-31T23:59:59Z", NOON_NS, &ns), 0);
	cr_assert_eq(nm_store_time_parse("-3660d", NOON_NS, &ns), 0);
	cr_assert_eq(nm_store_time_parse("2026-12-06T17:05:00.1234567890", NOON_NS, &ns), -EINVAL);
}

Test(store_query_parse, every_filter)
{
	struct nm_store_query q;
	char err[256];

	cr_assert_eq(parse(&q,
			   "since=-1h until=now pod=web-1 namespace=shop identity=shop/web "
			   "image=registry.local/web:1.2 peer=198.18.0.7 verdict=deny "
			   "sid=1000001 url=/etc/passwd limit=5",
			   err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(q.since_ns, NOON_NS - INT64_C(3600) * 1000000000);
	cr_assert_eq(q.until_ns, NOON_NS);
	cr_assert_str_eq(q.pod, "web-1");
	cr_assert_str_eq(q.ns, "shop");
	cr_assert_str_eq(q.id_ns, "shop");
	cr_assert_str_eq(q.id_sa, "web");
	cr_assert_str_eq(q.image, "registry.local/web:1.2");
	cr_assert_str_eq(q.peer, "198.18.0.7");
	cr_assert_str_eq(q.verdict, "deny");
	cr_assert_eq(q.sid, 1000001);
	cr_assert_str_eq(q.url, "/etc/passwd");
	cr_assert_eq(q.limit, 5);
	cr_assert_eq(parse(&q, "url=", err, sizeof(err)), -EINVAL);
	cr_assert_eq(parse(&q, "peer=db-0 peer2=x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(parse(&q, "peer=2001:db8::1", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(q.peer, "2001:db8::1");
}

/* ---------------------------------------------------------------- writer and readers */

static char dir[64];

static void
mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void
flow(struct nm_store_val *v, int i, const char *src_pod, const char *verdict)
{
	static char ip[32];

	snprintf(ip, sizeof(ip), "198.18.0.%d", i % 200 + 1);
	for (int c = 0; c < NM_SF_N; c++)
		v[c] = nm_store_flows.is_text[c] ? nm_store_text("") : nm_store_int(0);
	v[NM_SF_flow_id] = nm_store_int(1000 + i);
	v[NM_SF_start_ns] = nm_store_int(NOON_NS + (int64_t)i * 1000000);
	v[NM_SF_end_ns] = nm_store_int(NOON_NS + (int64_t)i * 1000000 + 500);
	v[NM_SF_proto] = nm_store_text("tcp");
	v[NM_SF_src_ip] = nm_store_text(ip);
	v[NM_SF_src_port] = nm_store_int(40000 + i);
	v[NM_SF_src_pod] = nm_store_text(src_pod);
	v[NM_SF_src_ns] = nm_store_text("shop");
	v[NM_SF_src_sa] = nm_store_text("web");
	v[NM_SF_src_image] = nm_store_text("registry.local/web:1.2");
	v[NM_SF_dst_ip] = nm_store_text("198.18.1.1");
	v[NM_SF_dst_port] = nm_store_int(5432);
	v[NM_SF_dst_pod] = nm_store_text("db-0");
	v[NM_SF_dst_ns] = nm_store_text("shop");
	v[NM_SF_dst_sa] = nm_store_text("db");
	v[NM_SF_bytes_orig] = nm_store_int(100 + i);
	v[NM_SF_verdict] = nm_store_text(verdict);
}

static void
alert(struct nm_store_val *v, int64_t flow_id, int64_t sid)
{
	for (int c = 0; c < NM_SA_N; c++)
		v[c] = nm_store_alerts.is_text[c] ? nm_store_text("") : nm_store_int(0);
	v[NM_SA_flow_id] = nm_store_int(flow_id);
	v[NM_SA_ts_ns] = nm_store_int(NOON_NS);
	v[NM_SA_sid] = nm_store_int(sid);
	v[NM_SA_msg] = nm_store_text("SQL injection");
	v[NM_SA_direction] = nm_store_text("to_server");
}

static void
http_row(struct nm_store_val *v, int64_t flow_id, int64_t tx, const char *url)
{
	for (int c = 0; c < NM_SH_N; c++)
		v[c] = nm_store_http.is_text[c] ? nm_store_text("") : nm_store_int(0);
	v[NM_SH_flow_id] = nm_store_int(flow_id);
	v[NM_SH_ts_ns] = nm_store_int(NOON_NS);
	v[NM_SH_tx_id] = nm_store_int(tx);
	v[NM_SH_method] = nm_store_text("GET");
	v[NM_SH_url] = nm_store_text(url);
	v[NM_SH_status] = nm_store_int(200);
	v[NM_SH_seen] = nm_store_text("request+response");
}

static void
open_store(struct nm_store *s, uint64_t max_bytes)
{
	struct nm_store_params p = {.max_bytes = max_bytes, .max_days = 30};
	char err[256];

	snprintf(p.dir, sizeof(p.dir), "%s", dir);
	cr_assert_eq(nm_store_open(s, &p, err, sizeof(err)), 0, "%s", err);
}

static json_t *
query(const char *words)
{
	struct nm_store_query q;
	char err[256];

	cr_assert_eq(parse(&q, words, err, sizeof(err)), 0, "%s", err);
	json_t *r = nm_store_query_run(dir, &q, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	return r;
}

static json_t *
verify(void)
{
	char err[256];
	json_t *r = nm_store_verify(dir, NULL, err, sizeof(err));

	cr_assert_not_null(r, "%s", err);
	return r;
}

static void
sql(const char *stmt)
{
	char path[128];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/nodemesh-2026-12-06.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

Test(store, a_batch_is_answered_by_pod_with_its_alert, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct nm_store s;
	struct nm_store_val v[NM_SF_N], a[NM_SA_N];

	open_store(&s, 0);
	flow(v, 1, "web-1", "allow");
	cr_assert_eq(nm_store_add(&s, &nm_store_flows, v, NOON_NS), 0);
	flow(v, 2, "web-2", "deny");
	cr_assert_eq(nm_store_add(&s, &nm_store_flows, v, NOON_NS), 0);
	alert(a, 1001, 1000001);
	cr_assert_eq(nm_store_add(&s, &nm_store_alerts, a, NOON_NS), 0);
	nm_store_commit(&s);
	cr_assert_eq(s.flows_written, 2);
	cr_assert_eq(s.alerts_written, 1);
	cr_assert_eq(s.lost, 0);
	cr_assert_eq(s.batches, 1);
	nm_store_close(&s);

	json_t *r = query("pod=web-1");
	json_t *f = json_array_get(json_object_get(r, "flows"), 0);
	cr_assert_eq(json_array_size(json_object_get(r, "flows")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "src"), "pod")),
			 "web-1");
	cr_assert_str_eq(json_string_value(json_object_get(f, "start")),
			 "2026-12-06T12:00:00.001Z");
	json_t *al = json_array_get(json_object_get(f, "alerts"), 0);
	cr_assert_eq(json_integer_value(json_object_get(al, "sid")), 1000001);
	json_decref(r);

	static const struct {
		const char *words;
		size_t flows;
	} asked[] = {
	    {"sid=1000001 identity=shop/web", 1},
	    {"verdict=deny pod=db-0 peer=web-2", 1},
	    {"pod=db-0 peer=web-3", 0},
	    {"namespace=shop image=registry.local/web:1.2", 2},
	    {"since=2026-12-07", 0},
	    {"until=2026-12-06T12:00:00.0015Z", 1},
	};
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		r = query(asked[i].words);
		cr_assert_eq(json_array_size(json_object_get(r, "flows")), asked[i].flows, "%s",
			     asked[i].words);
		json_decref(r);
	}
}

Test(store, verify_names_the_edited_row, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct nm_store s;
	struct nm_store_val v[NM_SF_N];

	open_store(&s, 0);
	for (int i = 0; i < 5; i++) {
		flow(v, i, "web-1", "allow");
		nm_store_add(&s, &nm_store_flows, v, NOON_NS);
	}
	nm_store_commit(&s);
	char head[65];
	nm_store_hex(s.committed_head, head);
	nm_store_close(&s);

	json_t *r = verify();
	json_t *d = json_array_get(json_object_get(r, "days"), 0);
	cr_assert(json_is_true(json_object_get(r, "ok")));
	cr_assert_eq(json_integer_value(json_object_get(d, "rows")), 5);
	cr_assert_str_eq(json_string_value(json_object_get(d, "head")), head);
	json_decref(r);

	sql("UPDATE flows SET bytes_orig = 1 WHERE seq = 3");
	r = verify();
	d = json_array_get(json_object_get(r, "days"), 0);
	cr_assert(json_is_false(json_object_get(r, "ok")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(d, "broken"), "seq")), 3);
	json_decref(r);

	sql("UPDATE flows SET bytes_orig = 102 WHERE seq = 3; UPDATE flows SET src_port = 'x' "
	    "WHERE "
	    "seq = 4");
	r = verify();
	d = json_array_get(json_object_get(r, "days"), 0);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(d, "broken"), "seq")), 4);
	cr_assert(strstr(json_string_value(json_object_get(json_object_get(d, "broken"), "why")),
			 "src_port") != NULL);
	json_decref(r);
}

/* The directory is gone (replaced by a file): the batch is lost, counted; then written again. */
Test(store, a_lost_batch_is_counted_and_writing_resumes, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct nm_store s;
	struct nm_store_val v[NM_SF_N];
	char store_dir[128];

	snprintf(store_dir, sizeof(store_dir), "%s/s", dir);
	struct nm_store_params p = {.max_bytes = 0, .max_days = 30};
	char err[256];
	snprintf(p.dir, sizeof(p.dir), "%s", store_dir);
	cr_assert_eq(nm_store_open(&s, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rmdir(store_dir), 0);
	FILE *f = fopen(store_dir, "w");
	cr_assert_not_null(f);
	fclose(f);

	flow(v, 1, "web-1", "allow");
	cr_assert_eq(nm_store_add(&s, &nm_store_flows, v, NOON_NS), -1);
	cr_assert_eq(nm_store_add(&s, &nm_store_flows, v, NOON_NS), -1);
	nm_store_commit(&s);
	cr_assert_eq(s.lost, 2);
	cr_assert_eq(s.flows_written, 0);
	cr_assert_neq(s.last_rc, 0);
	cr_assert(strstr(s.last_error, "open") != NULL, "%s", s.last_error);

	cr_assert_eq(unlink(store_dir), 0);
	cr_assert_eq(mkdir(store_dir, 0750), 0);
	cr_assert_eq(nm_store_add(&s, &nm_store_flows, v, NOON_NS), 0);
	nm_store_commit(&s);
	cr_assert_eq(s.flows_written, 1);
	cr_assert_eq(s.last_rc, 0);
	cr_assert_eq(s.lost, 2);
	nm_store_close(&s);
}

/*
 * The daemon's loop turns are 10 to 100 ms apart: the checkpoint thread
 * finishes between two batches. Wait for it as the loop's poll would.
 */
static void
turn_gap(struct nm_store *s)
{
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&s->ckpt.mu);
		bool idle = s->ckpt.path[0] == '\0' && !s->ckpt.running;
		pthread_mutex_unlock(&s->ckpt.mu);
		if (idle)
			break;
		usleep(1000);
	}
}

/* Today alone over the bound: its oldest rows go, the rest still verifies from the anchor. */
Test(store, stays_under_max_bytes_and_the_rest_verifies, .init = mkdir_tmp, .fini = rm_tmp)
{
	const uint64_t max = 2 * 1024 * 1024;
	struct nm_store s;
	struct nm_store_val v[NM_SF_N];
	uint64_t most = 0;

	open_store(&s, max);
	for (int b = 0; b < 80; b++) {
		for (int i = 0; i < 100; i++) {
			flow(v, b * 100 + i, "web-1", "allow");
			nm_store_add(&s, &nm_store_flows, v, NOON_NS);
		}
		nm_store_commit(&s);
		most = s.bytes > most ? s.bytes : most;
		turn_gap(&s);
	}
	cr_assert_eq(s.lost, 0);
	cr_assert_gt(s.rows_trimmed, 0);
	cr_assert_leq(most, max, "the store reached %llu bytes", (unsigned long long)most);
	nm_store_close(&s);

	json_t *r = verify();
	json_t *d = json_array_get(json_object_get(r, "days"), 0);
	cr_assert(json_is_true(json_object_get(r, "ok")), "%s", json_dumps(r, 0));
	cr_assert_gt(json_integer_value(json_object_get(d, "first_seq")), 1);
	cr_assert_eq(json_integer_value(json_object_get(d, "first_seq")) +
			 json_integer_value(json_object_get(d, "rows")),
		     8001);
	json_decref(r);
}

Test(store, removes_day_files_past_max_days, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct nm_store s;
	struct nm_store_val v[NM_SF_N];
	char old[128], wal[140];

	snprintf(old, sizeof(old), "%s/nodemesh-2000-01-01.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", old);
	fclose(fopen(old, "w"));
	fclose(fopen(wal, "w"));
	open_store(&s, 0);
	flow(v, 1, "web-1", "allow");
	nm_store_add(&s, &nm_store_flows, v, NOON_NS);
	nm_store_commit(&s);
	cr_assert_eq(s.files_removed, 1);
	cr_assert_eq(access(old, F_OK), -1);
	cr_assert_eq(access(wal, F_OK), -1);
	nm_store_close(&s);
}

/* The daemon's path: rows encoded on the caller's thread, written by the writer thread. */
Test(store_queue, hands_batches_to_the_writer, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct nm_store_queue q;
	struct nm_store_params p = {.max_bytes = 0, .max_days = 30};
	struct nm_store_val v[NM_SF_N], a[NM_SA_N], h[NM_SH_N];
	char err[256];

	snprintf(p.dir, sizeof(p.dir), "%s", dir);
	cr_assert_eq(nm_store_queue_open(&q, &p, err, sizeof(err)), 0, "%s", err);
	for (int turn = 0; turn < 3; turn++) {
		for (int i = 0; i < 10; i++) {
			flow(v, turn * 10 + i, "web-1", "allow");
			nm_store_queue_add(&q, &nm_store_flows, v, NOON_NS);
		}
		nm_store_queue_commit(&q);
	}
	alert(a, 1005, 1000001);
	nm_store_queue_add(&q, &nm_store_alerts, a, NOON_NS);
	http_row(h, 1005, 1, "/second");
	nm_store_queue_add(&q, &nm_store_http, h, NOON_NS);
	http_row(h, 1005, 0, "/first");
	nm_store_queue_add(&q, &nm_store_http, h, NOON_NS);
	nm_store_queue_sync(&q);

	json_t *st = nm_store_queue_json(&q);
	cr_assert_eq(json_integer_value(json_object_get(st, "flows_written")), 30);
	cr_assert_eq(json_integer_value(json_object_get(st, "alerts_written")), 1);
	cr_assert_eq(json_integer_value(json_object_get(st, "http_written")), 2);
	cr_assert_eq(json_integer_value(json_object_get(st, "lost")), 0);
	cr_assert_eq(json_integer_value(json_object_get(st, "queue_lost")), 0);
	json_decref(st);
	nm_store_queue_close(&q);

	json_t *r = query("pod=web-1 sid=1000001");
	json_t *f = json_array_get(json_object_get(r, "flows"), 0);
	cr_assert_eq(json_array_size(json_object_get(r, "flows")), 1);
	cr_assert_eq(json_integer_value(json_object_get(f, "flow_id")), 1005);
	cr_assert_eq(json_array_size(json_object_get(f, "alerts")), 1);
	json_t *hl = json_object_get(f, "http");
	cr_assert_eq(json_array_size(hl), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(hl, 0), "url")), "/first",
			 "in transaction order");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(hl, 1), "status")), 200);
	json_decref(r);
	r = query("url=/sec");
	cr_assert_eq(json_array_size(json_object_get(r, "flows")), 1, "a part of the url matches");
	json_decref(r);
	r = query("url=/third");
	cr_assert_eq(json_array_size(json_object_get(r, "flows")), 0);
	json_decref(r);
	r = verify();
	cr_assert(json_is_true(json_object_get(r, "ok")));
	cr_assert_eq(json_integer_value(
			 json_object_get(json_array_get(json_object_get(r, "days"), 0), "rows")),
		     33, "the chain runs through all three tables");
	json_decref(r);

	/* An http row edited after the fact breaks the chain at that row. */
	sql("UPDATE http SET url = '/edited' WHERE tx_id = 0");
	r = verify();
	json_t *broken = json_object_get(json_array_get(json_object_get(r, "days"), 0), "broken");
	cr_assert(json_is_false(json_object_get(r, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(broken, "table")), "http");
	json_decref(r);
}

Test(store, creates_the_directory_and_its_parents, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct nm_store s;
	struct nm_store_params p = {.max_bytes = 0, .max_days = 30};
	char err[256], file[160];

	snprintf(p.dir, sizeof(p.dir), "%s/var/lib/nodemesh/store", dir);
	cr_assert_eq(nm_store_open(&s, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(access(p.dir, W_OK), 0);
	nm_store_close(&s);

	snprintf(file, sizeof(file), "%s/file", dir);
	fclose(fopen(file, "w"));
	snprintf(p.dir, sizeof(p.dir), "%s/file/store", dir);
	cr_assert_eq(nm_store_open(&s, &p, err, sizeof(err)), -ENOTDIR);
	cr_assert(strstr(err, "logs.store_dir: mkdir(") != NULL, "%s", err);
}
