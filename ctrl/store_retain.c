/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's retention, run after each batch: day files past max_days go,
 * then the oldest day files while the store is over 70% of max_bytes,
 * then, if today's rows alone take too much, today's oldest rows, a
 * bounded number per batch (so no batch pays for a big delete). Rows
 * removed from today leave an anchor in the meta table (the seq and hash
 * of the last row removed) from which `flows verify` checks the rest of
 * the chain.
 *
 * Sizes are the files' lengths (the database, its WAL and shared memory),
 * which is what the store puts on the file system; today's file is judged
 * by the pages its rows use, since freed pages are reused, not returned.
 * The rest of the bound is headroom for the WAL (checkpointed at 1/16 of
 * max_bytes, by the writer itself past 1/8) and one batch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_priv.h"

#define HIGH_PCT      70	     /* of max_bytes: start removing */
#define LOW_PCT	      50	     /* of max_bytes: what a trim of today aims for */
#define SCAN_EVERY_NS 10000000000ull /* list the directory at least this often */
#define TRIM_MIN_ROWS 256
#define TRIM_MAX_ROWS 20000 /* per batch: a few ms of deletes */

static const char *const suffixes[] = {"", "-wal", "-shm"};

/* Bytes of a day's files: database, WAL and shared memory. */
static uint64_t
day_bytes(const char *dir, const char *day)
{
	char path[512], file[520];
	uint64_t sum = 0;
	struct stat st;

	if (nm_store_day_path(dir, day, path, sizeof(path)) < 0)
		return 0;
	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (stat(file, &st) == 0)
			sum += (uint64_t)st.st_size;
	}
	return sum;
}

static void
remove_day(struct nm_store *s, const char *day, const char *why)
{
	char path[512], file[520];

	if (nm_store_day_path(s->p.dir, day, path, sizeof(path)) < 0)
		return;
	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (unlink(file) < 0 && errno != ENOENT)
			fprintf(stderr, "nodemeshd: store: unlink(%s) failed: %s\n", file,
				strerror(errno));
	}
	s->files_removed++;
	fprintf(stderr, "nodemeshd: store: removed nodemesh-%s.db (%s)\n", day, why);
}

/*
 * List the day files other than today's, oldest first, into *out (malloc'd);
 * remove those past max_days. Sets old_bytes. Returns how many are listed.
 */
static size_t
scan(struct nm_store *s, char (**out)[NM_STORE_DAY_LEN])
{
	char cutoff[NM_STORE_DAY_LEN];
	char(*days)[NM_STORE_DAY_LEN] = NULL;
	struct timespec now;
	size_t kept = 0;
	int n = nm_store_days(s->p.dir, NULL, &days);

	s->old_bytes = 0;
	*out = days;
	if (n <= 0)
		return 0;

	/* Kept: max_days days, today included. */
	clock_gettime(CLOCK_REALTIME, &now);
	nm_store_day(((int64_t)now.tv_sec - (int64_t)(s->p.max_days - 1) * 86400) * 1000000000,
		     cutoff);
	for (int i = 0; i < n; i++) {
		if (strcmp(days[i], s->day) == 0)
			continue;
		if (strcmp(days[i], cutoff) < 0) {
			remove_day(s, days[i], "older than logs.max_days");
			continue;
		}
		memmove(days[kept], days[i], sizeof(days[0]));
		s->old_bytes += day_bytes(s->p.dir, days[kept]);
		kept++;
	}
	return kept;
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Delete today's rows below seq cut, leaving the chain's anchor in meta. */
static int
delete_below(sqlite3 *db, int64_t cut)
{
	sqlite3_stmt *st = NULL;
	char sql[256];
	int rc = exec(db, "BEGIN");

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_prepare_v2(
	    db,
	    "INSERT OR REPLACE INTO meta SELECT 'trim_seq', seq FROM (SELECT seq "
	    "FROM flows WHERE seq < ?1 UNION ALL SELECT seq FROM alerts WHERE "
	    "seq < ?1 UNION ALL SELECT seq FROM http WHERE seq < ?1 ORDER BY seq "
	    "DESC LIMIT 1) UNION ALL SELECT 'trim_hash', "
	    "hash FROM (SELECT seq, hash FROM flows WHERE seq < ?1 UNION ALL "
	    "SELECT seq, hash FROM alerts WHERE seq < ?1 UNION ALL SELECT seq, "
	    "hash FROM http WHERE seq < ?1 ORDER BY seq DESC LIMIT 1)",
	    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, cut);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	}
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql),
		 "DELETE FROM flows WHERE seq < %" PRId64
		 "; DELETE FROM alerts WHERE seq < %" PRId64
		 "; DELETE FROM http WHERE seq < %" PRId64,
		 cut, cut, cut);
	if (rc == SQLITE_OK)
		rc = exec(db, sql);
	if (rc == SQLITE_OK)
		rc = exec(db, "COMMIT");
	if (rc != SQLITE_OK)
		exec(db, "ROLLBACK");
	return rc;
}

/* What today's rows take: the database's pages in use (not its free list) and its WAL. */
static uint64_t
live_bytes(struct nm_store *s, uint64_t files)
{
	char path[512], wal[520];
	struct stat st;
	int64_t used = query_int(s->db, "SELECT (SELECT page_count FROM pragma_page_count()) - "
					"(SELECT freelist_count FROM pragma_freelist_count())");
	int64_t page = query_int(s->db, "PRAGMA page_size");

	if (used <= 0 || page <= 0 || nm_store_day_path(s->p.dir, s->day, path, sizeof(path)) < 0)
		return files;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	return (uint64_t)(used * page) + (stat(wal, &st) == 0 ? (uint64_t)st.st_size : 0);
}

/*
 * Today's rows take too much: remove the share of its oldest rows that
 * would bring the store to LOW_PCT, within TRIM_MIN/MAX_ROWS. Their pages
 * go to the file's free list and the next rows reuse them, so the file
 * stops growing instead of shrinking (a vacuum would rewrite half the file
 * through the WAL on this loop turn).
 */
static bool
trim_today(struct nm_store *s, uint64_t live)
{
	uint64_t low = s->p.max_bytes / 100 * LOW_PCT;
	int64_t first = query_int(s->db, "SELECT min(m) FROM (SELECT min(seq) AS m FROM flows "
					 "UNION ALL SELECT min(seq) FROM alerts "
					 "UNION ALL SELECT min(seq) FROM http)");
	int64_t rows = s->committed_seq - first;

	if (first <= 0 || rows <= 0)
		return false;
	double share = low > s->old_bytes + live ? 0.0
		       : low <= s->old_bytes	 ? 1.0
					     : (double)(s->old_bytes + live - low) / (double)live;
	int64_t k = (int64_t)((double)rows * share);
	if (k < TRIM_MIN_ROWS)
		k = TRIM_MIN_ROWS;
	if (k > TRIM_MAX_ROWS)
		k = TRIM_MAX_ROWS;
	if (k > rows)
		k = rows;

	/* seq has no gaps (a lost batch gives its numbers back), so this is k rows. */
	if (delete_below(s->db, first + k) == SQLITE_OK) {
		s->rows_trimmed += (uint64_t)k;
		return true;
	}
	fprintf(stderr, "nodemeshd: store: removing the oldest rows of nodemesh-%s.db failed: %s\n",
		s->day, sqlite3_errmsg(s->db));
	return false;
}

bool
nm_store_retain(struct nm_store *s, uint64_t now)
{
	uint64_t high = s->p.max_bytes / 100 * HIGH_PCT;
	uint64_t cur = s->day[0] ? day_bytes(s->p.dir, s->day) : 0;

	if (s->p.max_bytes == 0)
		high = UINT64_MAX;
	/* Other days' files first, by their size on disk: removing one frees it all. */
	if (now >= s->next_scan_ns || s->old_bytes + cur > high) {
		char(*days)[NM_STORE_DAY_LEN] = NULL;
		size_t n = scan(s, &days);
		for (size_t i = 0; i < n && s->old_bytes + cur > high; i++) {
			s->old_bytes -= day_bytes(s->p.dir, days[i]);
			remove_day(s, days[i], "store over logs.max_bytes");
		}
		free(days);
		s->next_scan_ns = now + SCAN_EVERY_NS;
	}
	if (s->old_bytes + cur > high && s->db != NULL && !s->in_txn) {
		uint64_t live = live_bytes(s, cur);
		if (s->old_bytes + live > high)
			return trim_today(s, live);
	}
	return false;
}

void
nm_store_measure(struct nm_store *s)
{
	s->bytes = s->old_bytes + (s->day[0] ? day_bytes(s->p.dir, s->day) : 0);
}
