/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forensic store, writer side: flow records and alerts in SQLite, one
 * database file per UTC day (DIR/nodemesh-YYYY-MM-DD.db), written in one
 * transaction per batch by one thread (in the daemon, the store's writer
 * thread, store_queue.h), in WAL mode so that nodemeshctl reads while the
 * daemon writes. Rows carry the day's hash chain (store_codec.h).
 *
 * Bounded (store_retain.c): after each batch, day files older than
 * max_days go, then, while the store is over 70% of max_bytes, the oldest
 * day file; if today's rows alone take too much, today's oldest rows go (at
 * most 20,000 per batch) and the next rows reuse their pages. Never
 * blocking: a failed write (disk full, I/O error) rolls the batch back and
 * counts its records as lost; the next batch tries again, so writing
 * resumes by itself when space returns.
 */
#ifndef NM_STORE_H
#define NM_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "store_codec.h"
#include "store_params.h"

struct sqlite3;
struct sqlite3_stmt;

struct nm_store {
	struct nm_store_params p;
	struct sqlite3 *db; /* today's file, NULL until the first record or after a failure */
	char day[NM_STORE_DAY_LEN];
	struct sqlite3_stmt *ins[NM_STORE_TABLES]; /* INSERT into each of nm_store_tables */
	bool in_txn;
	unsigned int batch_rows;		/* rows inserted in the open transaction */
	unsigned int batch_by[NM_STORE_TABLES]; /* of which in each table */
	int64_t next_seq;			/* seq of the next row */
	uint8_t head[NM_STORE_HASH_LEN];
	int64_t committed_seq; /* next_seq and head as of the last commit */
	uint8_t committed_head[NM_STORE_HASH_LEN];
	uint64_t batch_ns; /* time spent in this batch so far */
	uint8_t *canon;	   /* encode buffer */
	size_t canon_cap;

	/* Counters for stats. */
	uint64_t flows_written, alerts_written, http_written;
	uint64_t lost;	    /* records not stored: rolled back, or no file could be opened */
	uint64_t lost_full; /* of which because the disk was full */
	uint64_t episode_lost;
	uint64_t batches, batch_ns_sum, batch_ns_max, batch_rows_max;
	uint64_t rows_trimmed;	/* today's oldest rows removed to stay under max_bytes */
	uint64_t files_removed; /* day files removed (age or size) */
	uint64_t bytes;		/* all files of the store after the last retention pass */
	uint64_t old_bytes;	/* of which files other than today's */
	uint64_t next_scan_ns;	/* CLOCK_MONOTONIC: when to list the directory again */
	int last_rc;		/* SQLite result code of the last failure, 0 while writing */
	char last_error[256];

	/*
	 * Checkpoints (WAL into the database, with its fsyncs) run on this
	 * thread, never on the control thread: the writer's own automatic
	 * checkpoint is off. PASSIVE, so the writer never waits for one.
	 */
	struct {
		pthread_t thread;
		bool started;
		pthread_mutex_t mu;
		pthread_cond_t cv;
		char path[512]; /* file to checkpoint, "" = none asked */
		bool stop;
		/* Written by the thread under mu. */
		bool running; /* a checkpoint is in progress */
		uint64_t done, ns_max, ns_last;
		int last_rc;
	} ckpt;
	uint64_t wal_limit;   /* bytes of WAL after which a checkpoint is asked */
	uint64_t ckpt_inline; /* checkpoints the writer had to run itself (WAL 2x over) */
};

/* Not writing; nm_store_add() on it does nothing. */
void nm_store_init(struct nm_store *s);

/* Create the directory if missing; files open on the first record. 0 or -errno with err. */
int nm_store_open(struct nm_store *s, const struct nm_store_params *p, char *err, size_t errlen);

static inline bool
nm_store_is_open(const struct nm_store *s)
{
	return s->p.dir[0] != '\0';
}

/*
 * Add one row of table t (one of nm_store_tables; v[0], seq, is
 * filled here) to the current batch, in the day file of at_ns. Returns 0,
 * or -1 if the row (and the batch so far) was lost, counted.
 */
int nm_store_add(struct nm_store *s, const struct nm_store_table *t, struct nm_store_val *v,
		 int64_t at_ns);

/* End the batch: commit, then apply retention. Does nothing without a batch. */
void nm_store_commit(struct nm_store *s);

/* The store's directory, counters, batch times and today's chain head. */
json_t *nm_store_json(const struct nm_store *s);

/* Commit what is pending and close today's file. */
void nm_store_close(struct nm_store *s);

/* Path of the day file of day in dir. -1 if it does not fit. */
int nm_store_day_path(const char *dir, const char *day, char *buf, size_t cap);

#endif
