/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-lines logs written whole or not at all (see jsonlog.h). Only the
 * control thread writes a log, so the offset before a write is the file's
 * end and nothing else can append between the lseek and the write; an
 * outside writer (logrotate's copytruncate) at worst makes us truncate to
 * a stale offset, which again leaves whole lines only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonlog.h"

void
nm_jsonlog_init(struct nm_jsonlog *log, const char *what)
{
	memset(log, 0, sizeof(*log));
	log->fd = -1;
	log->what = what;
}

int
nm_jsonlog_open(struct nm_jsonlog *log, const char *what, const char *path, char *err,
		size_t errlen)
{
	char dir[sizeof(log->path)];

	nm_jsonlog_init(log, what);
	if (path[0] == '\0')
		return 0;
	if (strlen(path) >= sizeof(log->path)) {
		snprintf(err, errlen, "%s: path '%s' longer than %zu bytes", what, path,
			 sizeof(log->path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(log->path, sizeof(log->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0750);
	}
	log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: open(%s) failed: %s", what, path, strerror(e));
		return -e;
	}
	return 0;
}

/* First failure of an episode: say so once, with the call and its arguments. */
static void
lost_n(struct nm_jsonlog *log, unsigned int n, const char *call, size_t len, int e)
{
	log->lost += n;
	log->episode_lost += n;
	if (log->last_errno == 0)
		fprintf(stderr,
			"nodemeshd: %s: %s(%s, %zu bytes) failed: %s; records are counted as "
			"lost until a write succeeds\n",
			log->what, call, log->path, len, strerror(e));
	log->last_errno = e;
}

/* Cut a torn record off; true when the file ends with a whole line again. */
static bool
untear(struct nm_jsonlog *log)
{
	if (!log->torn)
		return true;
	if (ftruncate(log->fd, log->torn_at) < 0)
		return false;
	log->torn = false;
	return true;
}

static void
lost(struct nm_jsonlog *log, const char *call, size_t len, int e)
{
	lost_n(log, 1, call, len, e);
}

void
nm_jsonlog_lost(struct nm_jsonlog *log, const char *call, size_t len, int e)
{
	if (log->fd >= 0)
		lost(log, call, len, e);
}

/* Room for n more bytes in the batch. */
static int
reserve(struct nm_jsonlog *log, size_t n)
{
	if (log->batch_len + n <= log->batch_cap)
		return 0;
	size_t cap = log->batch_cap ? log->batch_cap * 2 : NM_JSONLOG_BATCH;
	while (cap < log->batch_len + n)
		cap *= 2;
	char *b = realloc(log->batch, cap);
	if (b == NULL) {
		lost(log, "realloc", cap, ENOMEM);
		return -ENOMEM;
	}
	log->batch = b;
	log->batch_cap = cap;
	return 0;
}

int
nm_jsonlog_add_line(struct nm_jsonlog *log, const char *line, size_t len)
{
	if (log->fd < 0)
		return 0;
	if (reserve(log, len + 1) < 0)
		return -ENOMEM;
	memcpy(log->batch + log->batch_len, line, len);
	log->batch_len += len;
	log->batch[log->batch_len++] = '\n';
	log->batch_n++;
	return log->batch_len >= NM_JSONLOG_BATCH ? nm_jsonlog_flush(log) : 0;
}

int
nm_jsonlog_add(struct nm_jsonlog *log, const json_t *o)
{
	if (log->fd < 0)
		return 0;
	for (;;) {
		/* Serialised straight into the batch; grown (rarely) when it does not fit. */
		size_t room = log->batch_cap - log->batch_len;
		size_t n = room > 1
			       ? json_dumpb(o, log->batch + log->batch_len, room - 1, JSON_COMPACT)
			       : room + 1;
		if (n == 0) {
			lost(log, "json_dumpb", 0, ENOMEM);
			return -ENOMEM;
		}
		if (n < room) {
			log->batch_len += n;
			log->batch[log->batch_len++] = '\n';
			log->batch_n++;
			break;
		}
		if (reserve(log, n + 1) < 0)
			return -ENOMEM;
	}
	return log->batch_len >= NM_JSONLOG_BATCH ? nm_jsonlog_flush(log) : 0;
}

/*
 * Append buf[0..len) whole or not at all: 0, or -errno with the file cut
 * back to its last whole line (or marked torn if the cut failed).
 */
static int
append(struct nm_jsonlog *log, const char *buf, size_t len)
{
	if (!untear(log))
		return -errno;
	off_t end = lseek(log->fd, 0, SEEK_END);
	ssize_t n = write(log->fd, buf, len);
	if (n == (ssize_t)len)
		return 0;
	/* Failed or short: a short write (ENOSPC, EFBIG part way) leaves part of a line. */
	int rc = n < 0 ? -errno : -ENOSPC;
	if (n > 0 && end >= 0) { /* end < 0: not a regular file, nothing to cut */
		log->torn = true;
		log->torn_at = end;
		untear(log);
	}
	return rc;
}

static void
written(struct nm_jsonlog *log, unsigned int n_lines)
{
	log->written += n_lines;
	if (log->last_errno != 0)
		fprintf(stderr, "nodemeshd: %s: writing %s again; %llu record(s) lost meanwhile\n",
			log->what, log->path, (unsigned long long)log->episode_lost);
	log->last_errno = 0;
	log->episode_lost = 0;
}

int
nm_jsonlog_flush(struct nm_jsonlog *log)
{
	unsigned int n_lines = log->batch_n;
	size_t len = log->batch_len;

	if (log->fd < 0 || n_lines == 0)
		return 0;
	log->batch_len = 0;
	log->batch_n = 0;
	int rc = append(log, log->batch, len);
	if (rc == 0) {
		written(log, n_lines);
		return 0;
	}
	/*
	 * The batch did not fit: as many whole lines as fit, one by one, as a
	 * log written record by record would have (a full disk takes what
	 * room is left; the rest is lost and counted).
	 */
	const char *p = log->batch, *stop = log->batch + len;
	unsigned int done = 0;
	while (p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		size_t l = (size_t)(nl - p) + 1;
		rc = append(log, p, l);
		if (rc < 0)
			break;
		done++;
		p += l;
	}
	if (done == n_lines) {
		written(log, n_lines);
		return 0;
	}
	log->written += done; /* the episode goes on: no "writing again" for a partial batch */
	lost_n(log, n_lines - done, "write", len, -rc);
	return rc;
}

int
nm_jsonlog_write(struct nm_jsonlog *log, const json_t *o)
{
	int rc = nm_jsonlog_add(log, o);

	return rc < 0 ? rc : nm_jsonlog_flush(log);
}

int
nm_jsonlog_reopen_prepare(const struct nm_jsonlog *log, const char *path, struct nm_jsonlog *next,
			  char *err, size_t errlen)
{
	return nm_jsonlog_open(next, log->what, path, err, errlen);
}

void
nm_jsonlog_reopen_commit(struct nm_jsonlog *log, struct nm_jsonlog *next)
{
	/*
	 * A torn tail left in the old file stays there: cutting it is that
	 * file's business no more, and the new one starts with whole lines.
	 */
	nm_jsonlog_close(log);
	log->fd = next->fd;
	next->fd = -1;
	memcpy(log->path, next->path, sizeof(log->path));
	log->torn = false;
	log->torn_at = 0;
	log->reopened++;
}

int
nm_jsonlog_reopen(struct nm_jsonlog *log, const char *path, char *err, size_t errlen)
{
	struct nm_jsonlog next;
	char copy[sizeof(log->path)];

	/* path may be log->path itself, which commit overwrites. */
	snprintf(copy, sizeof(copy), "%s", path);
	int rc = nm_jsonlog_reopen_prepare(log, copy, &next, err, errlen);
	if (rc < 0)
		return rc;
	nm_jsonlog_reopen_commit(log, &next);
	return 0;
}

json_t *
nm_jsonlog_json(const struct nm_jsonlog *log)
{
	return json_pack("{s:s, s:I, s:I, s:b, s:s, s:I}", "path", log->path, "written",
			 (json_int_t)log->written, "lost", (json_int_t)log->lost, "failing",
			 log->last_errno != 0, "error",
			 log->last_errno != 0 ? strerror(log->last_errno) : "", "reopened",
			 (json_int_t)log->reopened);
}

void
nm_jsonlog_close(struct nm_jsonlog *log)
{
	nm_jsonlog_flush(log);
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
	free(log->batch);
	log->batch = NULL;
	log->batch_len = log->batch_cap = 0;
	log->batch_n = 0;
}
