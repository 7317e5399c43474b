/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forensic store's writer (see store.h): day files, batched
 * transactions, the hash chain's head, and failure accounting. Retention
 * is in store_retain.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "store_priv.h"

#define CANON_MIN    1024
#define BUSY_WAIT_MS 10 /* a reader's checkpoint or an outside writer: wait this long at most */

void
nm_store_init(struct nm_store *s)
{
	memset(s, 0, sizeof(*s));
}

int
nm_store_day_path(const char *dir, const char *day, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/nodemesh-%s.db", dir, day);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* mkdir -p: the default /var/lib/nodemesh/store on a fresh machine has no parent. */
static int
mkdirs(const char *dir, char *err, size_t errlen)
{
	char path[sizeof(((struct nm_store_params *)0)->dir)];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0750) < 0 && errno != EEXIST) {
			int e = errno;
			snprintf(err, errlen, "logs.store_dir: mkdir(%s) failed: %s", path,
				 strerror(e));
			return -e;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

int
nm_store_open(struct nm_store *s, const struct nm_store_params *p, char *err, size_t errlen)
{
	nm_store_init(s);
	if (p->dir[0] == '\0')
		return 0;
	int rc = mkdirs(p->dir, err, errlen);
	if (rc < 0)
		return rc;
	s->p = *p;
	rc = nm_store_ckpt_start(s);
	if (rc < 0) {
		snprintf(err, errlen, "store: cannot start the checkpoint thread: %s",
			 strerror(-rc));
		s->p.dir[0] = '\0';
		return rc;
	}
	return 0;
}

/* First failure of an episode: say so once, with what failed. */
static void
report(struct nm_store *s, int rc, const char *what)
{
	if (s->last_rc == 0)
		fprintf(stderr,
			"nodemeshd: store: %s (%s/nodemesh-%s.db) failed: %s; records are "
			"counted as lost until a batch is written\n",
			what, s->p.dir, s->day,
			s->last_error[0] ? s->last_error : sqlite3_errstr(rc));
	s->last_rc = rc;
}

/*
 * The batch (and whatever else is given as extra) is lost: roll back, count
 * it, and return the chain to where the last commit left it. A file that
 * failed for another reason than a full disk or a busy lock is closed, so
 * the next batch opens it afresh.
 */
static void
batch_lost(struct nm_store *s, int rc, const char *what, unsigned int extra)
{
	uint64_t n = s->batch_rows + extra;

	snprintf(s->last_error, sizeof(s->last_error), "%s: %s", what,
		 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	if (s->db != NULL && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_txn = false;
	s->batch_rows = 0;
	memset(s->batch_by, 0, sizeof(s->batch_by));
	s->next_seq = s->committed_seq;
	memcpy(s->head, s->committed_head, sizeof(s->head));
	s->lost += n;
	s->episode_lost += n;
	if ((rc & 0xff) == SQLITE_FULL)
		s->lost_full += n;
	report(s, rc, what);
	if ((rc & 0xff) != SQLITE_FULL && (rc & 0xff) != SQLITE_BUSY)
		nm_store_close_day(s);
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* The pragmas, tables and indexes of a day file; idempotent. */
static int
schema(struct nm_store *s)
{
	static const char *const indexes[] = {
	    "CREATE INDEX IF NOT EXISTS flows_start ON flows(start_ns)",
	    "CREATE INDEX IF NOT EXISTS flows_src_pod ON flows(src_pod, start_ns)",
	    "CREATE INDEX IF NOT EXISTS flows_dst_pod ON flows(dst_pod, start_ns)",
	    "CREATE INDEX IF NOT EXISTS flows_src_id ON flows(src_ns, src_sa)",
	    "CREATE INDEX IF NOT EXISTS flows_dst_id ON flows(dst_ns, dst_sa)",
	    "CREATE INDEX IF NOT EXISTS flows_src_image ON flows(src_image)",
	    "CREATE INDEX IF NOT EXISTS flows_dst_image ON flows(dst_image)",
	    "CREATE INDEX IF NOT EXISTS flows_src_ip ON flows(src_ip)",
	    "CREATE INDEX IF NOT EXISTS flows_dst_ip ON flows(dst_ip)",
	    "CREATE INDEX IF NOT EXISTS flows_verdict ON flows(verdict, start_ns)",
	    "CREATE INDEX IF NOT EXISTS flows_flow_id ON flows(flow_id)",
	    "CREATE INDEX IF NOT EXISTS alerts_ts ON alerts(ts_ns)",
	    "CREATE INDEX IF NOT EXISTS alerts_sid ON alerts(sid)",
	    "CREATE INDEX IF NOT EXISTS alerts_flow_id ON alerts(flow_id)",
	    "CREATE INDEX IF NOT EXISTS http_ts ON http(ts_ns)",
	    "CREATE INDEX IF NOT EXISTS http_flow_id ON http(flow_id)",
	};
	char sql[2048], pragmas[256];
	/*
	 * Checkpoint about every 1/16 of the bound, so the WAL stays a small
	 * part of it: between 16 pages and 1000 (SQLite's default).
	 */
	uint64_t wal_pages = s->p.max_bytes / 16 / 4096;
	int rc;

	if (s->p.max_bytes == 0 || wal_pages > 1000)
		wal_pages = 1000;
	if (wal_pages < 16)
		wal_pages = 16;
	s->wal_limit = wal_pages * 4096;
	/*
	 * synchronous=NORMAL: a commit does not fsync in WAL mode (a
	 * power cut can lose the last batches, never corrupt the file); the
	 * fsyncs are the checkpoint thread's.
	 */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; "
		 "PRAGMA cache_size=-16384; PRAGMA synchronous=NORMAL; "
		 "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=%u",
		 (unsigned int)s->wal_limit);
	rc = exec(s->db, pragmas);
	if (rc != SQLITE_OK)
		return rc;
	rc = exec(s->db, "BEGIN");
	if (rc != SQLITE_OK)
		return rc;
	rc = exec(s->db, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value NOT NULL)");
	for (unsigned int t = 0; rc == SQLITE_OK && t < NM_STORE_TABLES; t++)
		if (nm_store_sql_create(nm_store_tables[t], sql, sizeof(sql)) == 0)
			rc = exec(s->db, sql);
	for (size_t i = 0; rc == SQLITE_OK && i < sizeof(indexes) / sizeof(indexes[0]); i++)
		rc = exec(s->db, indexes[i]);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql),
			 "INSERT OR IGNORE INTO meta VALUES('day', '%s'), ('version', 1)", s->day);
		rc = exec(s->db, sql);
	}
	if (rc == SQLITE_OK)
		rc = exec(s->db, "COMMIT");
	if (rc != SQLITE_OK)
		exec(s->db, "ROLLBACK");
	return rc;
}

/*
 * Where the chain goes on in a file written before (a restart): after its
 * last row, or after the anchor retention left when it removed every row.
 */
static int
chain_resume(struct nm_store *s)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT seq, hash FROM (SELECT seq, hash FROM flows UNION ALL "
				    "SELECT seq, hash FROM alerts UNION ALL "
				    "SELECT seq, hash FROM http UNION ALL SELECT "
				    "(SELECT value FROM meta WHERE key='trim_seq'), "
				    "(SELECT value FROM meta WHERE key='trim_hash')) "
				    "WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	nm_store_genesis(s->day, s->head);
	s->next_seq = 1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == NM_STORE_HASH_LEN) {
		s->next_seq = sqlite3_column_int64(st, 0) + 1;
		memcpy(s->head, sqlite3_column_blob(st, 1), NM_STORE_HASH_LEN);
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	sqlite3_finalize(st);
	s->committed_seq = s->next_seq;
	memcpy(s->committed_head, s->head, sizeof(s->head));
	return rc;
}

static int
open_day(struct nm_store *s, const char *day)
{
	char path[512], sql[2048];
	int rc;

	snprintf(s->day, sizeof(s->day), "%s", day);
	if (nm_store_day_path(s->p.dir, day, path, sizeof(path)) < 0) {
		snprintf(s->last_error, sizeof(s->last_error), "path too long");
		return SQLITE_CANTOPEN;
	}
	rc = sqlite3_open_v2(
	    path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(s->db, BUSY_WAIT_MS);
	if (rc == SQLITE_OK)
		rc = schema(s);
	if (rc == SQLITE_OK)
		rc = chain_resume(s);
	for (unsigned int t = 0; rc == SQLITE_OK && t < NM_STORE_TABLES; t++)
		if (nm_store_sql_insert(nm_store_tables[t], sql, sizeof(sql)) == 0)
			rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
						&s->ins[t], NULL);
	if (rc != SQLITE_OK) {
		snprintf(s->last_error, sizeof(s->last_error), "open: %s",
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		nm_store_close_day(s);
		return rc;
	}
	s->next_scan_ns = 0; /* a new file: look at the directory after this batch */
	return SQLITE_OK;
}

void
nm_store_close_day(struct nm_store *s)
{
	if (s->db == NULL)
		return;
	if (s->last_rc == 0 && s->committed_seq > 1) {
		char hex[2 * NM_STORE_HASH_LEN + 1];

		/* A copy of the head kept elsewhere is what makes truncation evident. */
		nm_store_hex(s->committed_head, hex);
		fprintf(stderr,
			"nodemeshd: store: closed nodemesh-%s.db at seq %" PRId64
			", chain head %s\n",
			s->day, s->committed_seq - 1, hex);
	}
	for (unsigned int t = 0; t < NM_STORE_TABLES; t++) {
		sqlite3_finalize(s->ins[t]);
		s->ins[t] = NULL;
	}
	sqlite3_close_v2(s->db);
	s->db = NULL;
	s->in_txn = false;
}

/* Bind row v and its hash to st and run it. */
static int
insert(sqlite3_stmt *st, const struct nm_store_table *t, const struct nm_store_val *v,
       const uint8_t hash[NM_STORE_HASH_LEN])
{
	int rc = SQLITE_OK;

	for (unsigned int c = 0; c < t->n_cols && rc == SQLITE_OK; c++)
		rc = v[c].is_text
			 ? sqlite3_bind_text(st, (int)c + 1, v[c].s, (int)v[c].len, SQLITE_STATIC)
			 : sqlite3_bind_int64(st, (int)c + 1, v[c].i);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, (int)t->n_cols + 1, hash, NM_STORE_HASH_LEN,
				       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The next link: v's seq, its canonical bytes and its hash. */
static int
link_row(struct nm_store *s, const struct nm_store_table *t, struct nm_store_val *v,
	 uint8_t hash[NM_STORE_HASH_LEN])
{
	v[0] = nm_store_int(s->next_seq);
	long need = nm_store_encode(t, v, s->canon, s->canon_cap);
	if (need < 0)
		return SQLITE_MISMATCH;
	if ((size_t)need > s->canon_cap) {
		size_t cap = (size_t)need < CANON_MIN ? CANON_MIN : (size_t)need * 2;
		uint8_t *b = realloc(s->canon, cap);
		if (b == NULL)
			return SQLITE_NOMEM;
		s->canon = b;
		s->canon_cap = cap;
		nm_store_encode(t, v, s->canon, s->canon_cap);
	}
	return nm_store_chain(s->head, s->canon, (size_t)need, hash) == 0 ? SQLITE_OK
									  : SQLITE_INTERNAL;
}

static int
add(struct nm_store *s, const struct nm_store_table *t, struct nm_store_val *v, int64_t at_ns)
{
	char day[NM_STORE_DAY_LEN];
	uint8_t hash[NM_STORE_HASH_LEN];
	int rc;

	nm_store_day(at_ns, day);
	if (s->db != NULL && strcmp(day, s->day) != 0) {
		nm_store_commit_batch(s); /* the rest of the batch goes to the new day */
		nm_store_close_day(s);
	}
	if (s->db == NULL && (rc = open_day(s, day)) != SQLITE_OK) {
		batch_lost(s, rc, "opening the day file", 1);
		return -1;
	}
	if (!s->in_txn) {
		rc = exec(s->db, "BEGIN");
		if (rc != SQLITE_OK) {
			batch_lost(s, rc, "BEGIN", 1);
			return -1;
		}
		s->in_txn = true;
	}
	rc = link_row(s, t, v, hash);
	if (rc == SQLITE_OK)
		rc = insert(s->ins[nm_store_table_no(t)], t, v, hash);
	if (rc != SQLITE_OK) {
		batch_lost(s, rc, "INSERT", 1);
		return -1;
	}
	memcpy(s->head, hash, sizeof(hash));
	s->next_seq++;
	s->batch_rows++;
	s->batch_by[nm_store_table_no(t)]++;
	return 0;
}

int
nm_store_add(struct nm_store *s, const struct nm_store_table *t, struct nm_store_val *v,
	     int64_t at_ns)
{
	if (!nm_store_is_open(s))
		return 0;

	uint64_t t0 = nm_store_mono_ns();
	int rc = add(s, t, v, at_ns);

	s->batch_ns += nm_store_mono_ns() - t0;
	return rc;
}

void
nm_store_commit_batch(struct nm_store *s)
{
	if (!s->in_txn)
		return;

	int rc = exec(s->db, "COMMIT");
	if (rc != SQLITE_OK) {
		batch_lost(s, rc, "COMMIT", 0);
		return;
	}
	s->in_txn = false;
	s->flows_written += s->batch_by[0];
	s->alerts_written += s->batch_by[1];
	s->http_written += s->batch_by[2];
	if (s->batch_rows > s->batch_rows_max)
		s->batch_rows_max = s->batch_rows;
	s->batch_rows = 0;
	memset(s->batch_by, 0, sizeof(s->batch_by));
	s->committed_seq = s->next_seq;
	memcpy(s->committed_head, s->head, sizeof(s->head));
	if (s->last_rc != 0)
		fprintf(stderr,
			"nodemeshd: store: writing %s/nodemesh-%s.db again; %" PRIu64
			" record(s) lost meanwhile\n",
			s->p.dir, s->day, s->episode_lost);
	s->last_rc = 0;
	s->last_error[0] = '\0';
	s->episode_lost = 0;
}

void
nm_store_commit(struct nm_store *s)
{
	if (!nm_store_is_open(s) || (s->batch_ns == 0 && !s->in_txn))
		return;

	uint64_t t0 = nm_store_mono_ns();
	nm_store_commit_batch(s);
	bool trimmed = nm_store_retain(s, t0);
	nm_store_ckpt_overdue(s, trimmed);
	nm_store_ckpt_ask(s, false);
	nm_store_measure(s);

	uint64_t ns = s->batch_ns + (nm_store_mono_ns() - t0);
	s->batches++;
	s->batch_ns_sum += ns;
	if (ns > s->batch_ns_max)
		s->batch_ns_max = ns;
	s->batch_ns = 0;
}

json_t *
nm_store_json(const struct nm_store *s)
{
	char hex[2 * NM_STORE_HASH_LEN + 1];

	nm_store_hex(s->committed_head, hex);
	json_t *o = json_pack(
	    "{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:b, s:s, s:I, s:f, s:f, s:I, s:I, s:I, s:I, "
	    "s:I, s:s}",
	    "dir", s->p.dir, "max_bytes", (json_int_t)s->p.max_bytes, "max_days",
	    (json_int_t)s->p.max_days, "day", s->day, "bytes", (json_int_t)s->bytes,
	    "flows_written", (json_int_t)s->flows_written, "alerts_written",
	    (json_int_t)s->alerts_written, "lost", (json_int_t)s->lost, "failing", s->last_rc != 0,
	    "error", s->last_error, "batches", (json_int_t)s->batches, "batch_ms_avg",
	    s->batches ? (double)s->batch_ns_sum / (double)s->batches / 1e6 : 0.0, "batch_ms_max",
	    (double)s->batch_ns_max / 1e6, "batch_rows_max", (json_int_t)s->batch_rows_max,
	    "lost_disk_full", (json_int_t)s->lost_full, "rows_trimmed", (json_int_t)s->rows_trimmed,
	    "files_removed", (json_int_t)s->files_removed, "chain_seq",
	    (json_int_t)(s->committed_seq > 0 ? s->committed_seq - 1 : 0), "chain_head", hex);
	json_object_set_new(o, "http_written", json_integer((json_int_t)s->http_written));
	struct nm_store *w = (struct nm_store *)s; /* the mutex only; counters are read */

	if (s->ckpt.started) {
		pthread_mutex_lock(&w->ckpt.mu);
		json_object_set_new(o, "checkpoints",
				    json_pack("{s:I, s:f, s:f, s:s, s:I}", "done",
					      (json_int_t)s->ckpt.done, "ms_last",
					      (double)s->ckpt.ns_last / 1e6, "ms_max",
					      (double)s->ckpt.ns_max / 1e6, "last_result",
					      sqlite3_errstr(s->ckpt.last_rc), "by_writer",
					      (json_int_t)s->ckpt_inline));
		pthread_mutex_unlock(&w->ckpt.mu);
	}
	return o;
}

void
nm_store_close(struct nm_store *s)
{
	if (s->db != NULL)
		nm_store_commit(s);
	nm_store_ckpt_stop(s);
	nm_store_close_day(s); /* the last connection: SQLite checkpoints on close */
	free(s->canon);
	s->canon = NULL;
	s->canon_cap = 0;
}
