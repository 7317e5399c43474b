/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A JSON-lines log (flow records, alerts) that never holds a torn line.
 * Each record is serialised in memory and written with one write(2) on an
 * O_APPEND descriptor; a write that fails or comes up short is undone with
 * ftruncate(2) back to the end of the last whole record, and the record is
 * counted as lost. A failure is logged once per episode (when writes start
 * failing, and again when they succeed), never once per record.
 */
#ifndef NM_JSONLOG_H
#define NM_JSONLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct nm_jsonlog {
	int fd;		  /* -1: the log is off */
	const char *what; /* name in messages, e.g. "logs.flows" */
	char path[256];
	uint64_t written;      /* records written whole */
	uint64_t lost;	       /* records not written (write failed or short) */
	uint64_t episode_lost; /* lost since the current failure episode began */
	int last_errno;	       /* of the last failure, 0 while writes succeed */
	/*
	 * A short write whose ftruncate failed: the file may end with part of
	 * a record. Retried before the next write; nothing is appended until it
	 * succeeds, so the torn tail is never followed by a record.
	 */
	bool torn;
	off_t torn_at; /* where the last whole record ended */
	char *batch;   /* lines added and not yet written (nm_jsonlog_add) */
	size_t batch_len, batch_cap;
	unsigned int batch_n; /* lines in batch */
	uint64_t reopened;    /* times the file was reopened (SIGHUP, config reload) */
};

/* Not open; nm_jsonlog_write() on it does nothing. */
void nm_jsonlog_init(struct nm_jsonlog *log, const char *what);

/*
 * Open path for appending, creating it (and its directory, one level) if
 * missing. "" leaves the log off. Returns 0 or -errno with err filled.
 */
int nm_jsonlog_open(struct nm_jsonlog *log, const char *what, const char *path, char *err,
		    size_t errlen);

#define NM_JSONLOG_BATCH (64u << 10) /* bytes of lines that make add() flush */

/*
 * Append o as one compact JSON line. Returns 0 (written, or the log is
 * off) or -errno (counted as lost; the file still ends with a whole line).
 * Does not take o's reference. nm_jsonlog_add + nm_jsonlog_flush.
 */
int nm_jsonlog_write(struct nm_jsonlog *log, const json_t *o);

/*
 * The same for many records: add serialises o into the log's batch (and
 * flushes when it holds NM_JSONLOG_BATCH bytes); flush writes the batch
 * with one write(2), whole lines only: a failure loses (and counts) every
 * line of the batch, and the file still ends with a whole line.
 */
int nm_jsonlog_add(struct nm_jsonlog *log, const json_t *o);
/* The same for a line already serialised (len bytes, no newline). */
int nm_jsonlog_add_line(struct nm_jsonlog *log, const char *line, size_t len);
/* Count one record lost before it reached the log (e.g. it could not be formatted). */
void nm_jsonlog_lost(struct nm_jsonlog *log, const char *call, size_t len, int e);
int nm_jsonlog_flush(struct nm_jsonlog *log);

static inline bool
nm_jsonlog_is_open(const struct nm_jsonlog *log)
{
	return log->fd >= 0;
}

/*
 * Point log at path (its own, for logrotate's SIGHUP, or a new one from a
 * config reload; "" turns it off): the new file is opened first, and only
 * when that worked is the old descriptor closed, so a failure leaves the
 * log writing where it did. Only the control thread writes, so no record
 * is in flight during the swap: each lands whole in the old file or the
 * new one. Counters carry over. Returns 0 or -errno with err filled.
 */
int nm_jsonlog_reopen(struct nm_jsonlog *log, const char *path, char *err, size_t errlen);

/*
 * The two halves of a reopen, for callers that must open several logs
 * before switching any (all or nothing): prepare opens path into next
 * (nothing of log changes); commit makes log write to next's file and
 * closes the old one. A prepared next that is not committed is closed
 * with nm_jsonlog_close.
 */
int nm_jsonlog_reopen_prepare(const struct nm_jsonlog *log, const char *path,
			      struct nm_jsonlog *next, char *err, size_t errlen);
void nm_jsonlog_reopen_commit(struct nm_jsonlog *log, struct nm_jsonlog *next);

/* {"path", "written", "lost", "failing", "error", "reopened"} for stats. */
json_t *nm_jsonlog_json(const struct nm_jsonlog *log);

void nm_jsonlog_close(struct nm_jsonlog *log);

#endif
