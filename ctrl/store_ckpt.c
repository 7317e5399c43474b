/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's checkpoint thread (see struct nm_store's ckpt): copies the
 * WAL into the database file when the writer asks, on its own connection,
 * so that the fsyncs a checkpoint needs never land on the control
 * thread's loop turn. PASSIVE: it copies what no reader still needs and
 * never makes the writer wait; the writer starts the WAL over at its next
 * transaction once everything was copied.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store.h"
#include "store_priv.h"

static void *
ckpt_main(void *arg)
{
	struct nm_store *s = arg;
	char path[sizeof(s->ckpt.path)] = "", open_path[sizeof(path)] = "";
	sqlite3 *db = NULL;

	pthread_mutex_lock(&s->ckpt.mu);
	for (;;) {
		while (!s->ckpt.stop && s->ckpt.path[0] == '\0')
			pthread_cond_wait(&s->ckpt.cv, &s->ckpt.mu);
		if (s->ckpt.stop)
			break;
		memcpy(path, s->ckpt.path, sizeof(path));
		s->ckpt.path[0] = '\0';
		s->ckpt.running = true;
		pthread_mutex_unlock(&s->ckpt.mu);

		uint64_t t0 = nm_store_mono_ns();
		int rc = SQLITE_OK;
		if (db == NULL || strcmp(path, open_path) != 0) {
			sqlite3_close_v2(db);
			db = NULL;
			rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
			/* A connection that has not read the file yet does not know it is WAL. */
			if (rc == SQLITE_OK)
				rc = sqlite3_exec(db, "PRAGMA journal_mode", NULL, NULL, NULL);
			memcpy(open_path, path, sizeof(path));
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
						       NULL);
		if (rc != SQLITE_OK) {
			sqlite3_close_v2(db); /* open afresh next time */
			db = NULL;
		}
		uint64_t ns = nm_store_mono_ns() - t0;

		pthread_mutex_lock(&s->ckpt.mu);
		s->ckpt.running = false;
		s->ckpt.done++;
		s->ckpt.ns_last = ns;
		if (ns > s->ckpt.ns_max)
			s->ckpt.ns_max = ns;
		s->ckpt.last_rc = rc;
	}
	pthread_mutex_unlock(&s->ckpt.mu);
	sqlite3_close_v2(db);
	return NULL;
}

int
nm_store_ckpt_start(struct nm_store *s)
{
	pthread_mutex_init(&s->ckpt.mu, NULL);
	pthread_cond_init(&s->ckpt.cv, NULL);
	int rc = pthread_create(&s->ckpt.thread, NULL, ckpt_main, s);
	if (rc != 0)
		return -rc;
	s->ckpt.started = true;
	return 0;
}

void
nm_store_ckpt_stop(struct nm_store *s)
{
	if (!s->ckpt.started)
		return;
	pthread_mutex_lock(&s->ckpt.mu);
	s->ckpt.stop = true;
	pthread_cond_signal(&s->ckpt.cv);
	pthread_mutex_unlock(&s->ckpt.mu);
	pthread_join(s->ckpt.thread, NULL);
	s->ckpt.started = false;
	pthread_mutex_destroy(&s->ckpt.mu);
	pthread_cond_destroy(&s->ckpt.cv);
}

void
nm_store_ckpt_ask(struct nm_store *s, bool always)
{
	char path[sizeof(s->ckpt.path)], wal[sizeof(path) + 4];
	struct stat st;

	if (!s->ckpt.started || s->db == NULL ||
	    nm_store_day_path(s->p.dir, s->day, path, sizeof(path)) < 0)
		return;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (!always && (stat(wal, &st) < 0 || (uint64_t)st.st_size < s->wal_limit))
		return;
	/* Held only to copy a path: the thread never holds it across a checkpoint. */
	pthread_mutex_lock(&s->ckpt.mu);
	memcpy(s->ckpt.path, path, sizeof(path));
	pthread_cond_signal(&s->ckpt.cv);
	pthread_mutex_unlock(&s->ckpt.mu);
}

/*
 * The WAL starts over only when a checkpoint copied all of it between two
 * transactions. Batches back to back (a loop busier than the checkpoint
 * thread's fsyncs) can keep that from happening: past twice the
 * limit, the writer checkpoints itself, once, and it is counted; also past
 * the limit in a batch that removed rows for retention, whose deletes
 * would otherwise sit in the WAL on top of a store already at its bound.
 * The cost is then on this loop turn, which is why it is the exception.
 */
void
nm_store_ckpt_overdue(struct nm_store *s, bool trimmed)
{
	char path[sizeof(s->ckpt.path)], wal[sizeof(path) + 4];
	struct stat st;

	if (s->db == NULL || s->in_txn ||
	    nm_store_day_path(s->p.dir, s->day, path, sizeof(path)) < 0)
		return;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) < 0 || (uint64_t)st.st_size < (trimmed ? 1 : 2) * s->wal_limit)
		return;
	/* The thread's checkpoint in progress would make this one fail busy: let it finish. */
	pthread_mutex_lock(&s->ckpt.mu);
	bool running = s->ckpt.running || s->ckpt.path[0] != '\0';
	pthread_mutex_unlock(&s->ckpt.mu);
	if (running)
		return;
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	s->ckpt_inline++;
}
