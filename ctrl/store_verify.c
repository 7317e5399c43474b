/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `flows verify`: walk each day file's hash chain (store_codec.h) in seq
 * order over both tables and report the first link that does not hold: a
 * row whose content or hash was changed, a row removed from the middle
 * (a seq missing), a value of the wrong type. What this proves and what it
 * does not is in README ("Forensic store").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_codec.h"
#include "store_priv_query.h"
#include "store_query.h"

/* One table's rows in seq order. */
struct cursor {
	const struct nm_store_table *t;
	sqlite3_stmt *st;
	bool row; /* st is on a row */
};

struct walk {
	uint8_t prev[NM_STORE_HASH_LEN];
	int64_t expect; /* seq of the next row */
	int64_t rows;
	uint8_t *canon;
	size_t cap;
	char why[256];
	const char *table; /* where the chain broke */
	int64_t seq;
};

static int
cursor_open(sqlite3 *db, struct cursor *c, const struct nm_store_table *t)
{
	char sql[2048];

	c->t = t;
	c->row = false;
	if (nm_store_sql_select(t, " ORDER BY seq", sql, sizeof(sql)) < 0 ||
	    sqlite3_prepare_v2(db, sql, -1, &c->st, NULL) != SQLITE_OK)
		return -1;
	c->row = sqlite3_step(c->st) == SQLITE_ROW;
	return 0;
}

/* -1 and why filled when the row does not link to w->prev. */
static int
check_row(struct walk *w, const struct cursor *c)
{
	struct nm_store_val v[NM_STORE_COLS_MAX];
	const struct nm_store_table *t = c->t;
	uint8_t h[NM_STORE_HASH_LEN];

	w->table = t->name;
	w->seq = sqlite3_column_int64(c->st, 0);
	for (unsigned int i = 0; i < t->n_cols; i++) {
		int type = sqlite3_column_type(c->st, (int)i);
		if (type != (t->is_text[i] ? SQLITE_TEXT : SQLITE_INTEGER)) {
			snprintf(w->why, sizeof(w->why), "column %s holds a value of another type",
				 t->cols[i]);
			return -1;
		}
		v[i] = t->is_text[i]
			   ? (struct nm_store_val){.is_text = true,
						   .s = (const char *)sqlite3_column_text(c->st,
											  (int)i),
						   .len = (uint32_t)sqlite3_column_bytes(c->st,
											 (int)i)}
			   : nm_store_int(sqlite3_column_int64(c->st, (int)i));
	}
	if (w->seq != w->expect) {
		snprintf(w->why, sizeof(w->why),
			 w->seq > w->expect ? "seq %" PRId64 " to %" PRId64 " missing: rows removed"
					    : "seq %" PRId64 " out of order (after %" PRId64 ")",
			 w->seq > w->expect ? w->expect : w->seq,
			 w->seq > w->expect ? w->seq - 1 : w->expect - 1);
		return -1;
	}
	long need = nm_store_encode(t, v, w->canon, w->cap);
	if (need > 0 && (size_t)need > w->cap) {
		uint8_t *b = realloc(w->canon, (size_t)need * 2);
		if (b == NULL)
			return -1;
		w->canon = b;
		w->cap = (size_t)need * 2;
		nm_store_encode(t, v, w->canon, w->cap);
	}
	const void *stored = sqlite3_column_blob(c->st, (int)t->n_cols);
	if (need < 0 || nm_store_chain(w->prev, w->canon, (size_t)need, h) < 0 ||
	    sqlite3_column_bytes(c->st, (int)t->n_cols) != NM_STORE_HASH_LEN ||
	    memcmp(h, stored, NM_STORE_HASH_LEN) != 0) {
		snprintf(w->why, sizeof(w->why),
			 "hash does not match: this row was changed after it was written, or its "
			 "hash was");
		return -1;
	}
	memcpy(w->prev, h, sizeof(h));
	w->expect++;
	w->rows++;
	return 0;
}

/* Where the chain starts: the genesis of the day in meta, or retention's anchor. */
static int
chain_start(sqlite3 *db, struct walk *w, char day[NM_STORE_DAY_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &st, NULL);

	day[0] = '\0';
	w->expect = 1;
	while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		if (strcmp(k, "day") == 0)
			snprintf(day, NM_STORE_DAY_LEN, "%s", sqlite3_column_text(st, 1));
		else if (strcmp(k, "trim_seq") == 0)
			w->expect = sqlite3_column_int64(st, 1) + 1;
		else if (strcmp(k, "trim_hash") == 0 &&
			 sqlite3_column_bytes(st, 1) == NM_STORE_HASH_LEN)
			memcpy(w->prev, sqlite3_column_blob(st, 1), NM_STORE_HASH_LEN);
	}
	sqlite3_finalize(st);
	if (day[0] == '\0')
		return -1;
	if (w->expect == 1)
		nm_store_genesis(day, w->prev);
	return 0;
}

/* The cursor on the lowest seq of those with a row left, or NULL. */
static struct cursor *
lowest(struct cursor *c)
{
	struct cursor *best = NULL;

	for (unsigned int t = 0; t < NM_STORE_TABLES; t++)
		if (c[t].row && (best == NULL || sqlite3_column_int64(c[t].st, 0) <
						     sqlite3_column_int64(best->st, 0)))
			best = &c[t];
	return best;
}

static json_t *
verify_day(const char *dir, const char *file_day)
{
	struct cursor c[NM_STORE_TABLES] = {{0}};
	struct walk w = {0};
	char day[NM_STORE_DAY_LEN], err[512], hex[2 * NM_STORE_HASH_LEN + 1];
	json_t *o = json_pack("{s:s}", "day", file_day);
	sqlite3 *db = nm_store_open_ro(dir, file_day, err, sizeof(err));
	int broken = 0;

	if (db == NULL) {
		json_object_set_new(o, "ok", json_false());
		json_object_set_new(o, "error", json_string(err));
		return o;
	}
	if (chain_start(db, &w, day) < 0) {
		snprintf(w.why, sizeof(w.why), "no day in the meta table");
		broken = 1;
	}
	int64_t first = w.expect;
	for (unsigned int t = 0; !broken && t < NM_STORE_TABLES; t++)
		if (cursor_open(db, &c[t], nm_store_tables[t]) < 0) {
			snprintf(w.why, sizeof(w.why), "cannot read the rows of %s: %s",
				 nm_store_tables[t]->name, sqlite3_errmsg(db));
			broken = 1;
		}
	struct cursor *cur;
	while (!broken && (cur = lowest(c)) != NULL) {
		/* The tables share one chain: take the lowest seq next. */
		if (check_row(&w, cur) < 0)
			broken = 1;
		else
			cur->row = sqlite3_step(cur->st) == SQLITE_ROW;
	}
	nm_store_hex(w.prev, hex);
	json_object_set_new(o, "ok", json_boolean(!broken));
	json_object_set_new(o, "rows", json_integer(w.rows));
	json_object_set_new(o, "first_seq", json_integer(first));
	if (broken)
		json_object_set_new(o, "broken",
				    json_pack("{s:s, s:I, s:s}", "table",
					      w.table ? w.table : "meta", "seq", (json_int_t)w.seq,
					      "why", w.why));
	else
		json_object_set_new(o, "head", json_string(hex));
	if (strcmp(day, file_day) != 0 && !broken)
		json_object_set_new(o, "note", json_string("the file's name is not its day"));
	for (unsigned int t = 0; t < NM_STORE_TABLES; t++)
		sqlite3_finalize(c[t].st);
	sqlite3_close_v2(db);
	free(w.canon);
	return o;
}

json_t *
nm_store_verify(const char *dir, const char *day, char *err, size_t errlen)
{
	char(*days)[NM_STORE_DAY_LEN] = NULL;
	int n = nm_store_days(dir, day, &days);
	json_t *list = json_array();
	bool ok = true;

	if (n < 0) {
		snprintf(err, errlen, "store %s: %s", dir, strerror(-n));
		json_decref(list);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		if (day != NULL && strcmp(days[i], day) != 0)
			continue;
		json_t *d = verify_day(dir, days[i]);
		ok = ok && json_is_true(json_object_get(d, "ok"));
		json_array_append_new(list, d);
	}
	free(days);
	if (day != NULL && json_array_size(list) == 0) {
		snprintf(err, errlen, "store %s: no file for day %s", dir, day);
		json_decref(list);
		return NULL;
	}
	return json_pack("{s:b, s:o}", "ok", ok, "days", list);
}
