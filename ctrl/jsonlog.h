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
};

/* Not open; nm_jsonlog_write() on it does nothing. */
void nm_jsonlog_init(struct nm_jsonlog *log, const char *what);

/*
 * Open path for appending, creating it (and its directory, one level) if
 * missing. "" leaves the log off. Returns 0 or -errno with err filled.
 */
int nm_jsonlog_open(struct nm_jsonlog *log, const char *what, const char *path, char *err,
		    size_t errlen);

/*
 * Append o as one compact JSON line. Returns 0 (written, or the log is
 * off) or -errno (counted as lost; the file still ends with a whole line).
 * Does not take o's reference.
 */
int nm_jsonlog_write(struct nm_jsonlog *log, const json_t *o);

static inline bool
nm_jsonlog_is_open(const struct nm_jsonlog *log)
{
	return log->fd >= 0;
}

/* {"path", "written", "lost", "failing", "error"} for stats. */
json_t *nm_jsonlog_json(const struct nm_jsonlog *log);

void nm_jsonlog_close(struct nm_jsonlog *log);

#endif
