/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-lines logs (ctrl/jsonlog.c): a record is written whole or counted
 * as lost, and the file never ends with part of a line. A full disk is
 * played by RLIMIT_FSIZE, which makes write(2) come up short and then fail
 * with EFBIG exactly as ENOSPC does on a full filesystem.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "jsonlog.h"

static char path[64];

static void
setup(void)
{
	snprintf(path, sizeof(path), "/tmp/nm-jsonlog-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	/* Exceeding RLIMIT_FSIZE raises SIGXFSZ; the daemon never sets the limit. */
	signal(SIGXFSZ, SIG_IGN);
}

static void
teardown(void)
{
	unlink(path);
}

static json_t *
record(int i)
{
	return json_pack("{s:s, s:i, s:s}", "type", "flow", "seq", i, "pad",
			 "0123456789abcdefghijklmnopqrstuvwxyz");
}

/* Every line of the file parses; returns how many there are. */
static int
whole_lines(void)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		cr_assert(len > 0 && line[len - 1] == '\n', "line %d has no newline: '%s'", n + 1,
			  line);
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		cr_assert_not_null(j, "line %d does not parse: %s", n + 1, e.text);
		cr_assert_eq(json_integer_value(json_object_get(j, "seq")), n);
		json_decref(j);
		n++;
	}
	fclose(f);
	return n;
}

static void
limit_file_size(rlim_t bytes)
{
	struct rlimit rl = {.rlim_cur = bytes, .rlim_max = RLIM_INFINITY};
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

TestSuite(jsonlog, .init = setup, .fini = teardown);

Test(jsonlog, refuses_a_path_in_a_missing_directory)
{
	struct nm_jsonlog log;
	char err[256];

	cr_assert_lt(
	    nm_jsonlog_open(&log, "logs.flows", "/nonexistent-nm/x/y.jsonl", err, sizeof(err)), 0);
	cr_assert(strstr(err, "logs.flows: open(/nonexistent-nm/x/y.jsonl)") != NULL, "%s", err);
	cr_assert_eq(log.fd, -1);
}

Test(jsonlog, empty_path_is_off_and_writes_nothing)
{
	struct nm_jsonlog log;
	char err[256];
	json_t *o = record(0);

	cr_assert_eq(nm_jsonlog_open(&log, "logs.flows", "", err, sizeof(err)), 0);
	cr_assert_not(nm_jsonlog_is_open(&log));
	cr_assert_eq(nm_jsonlog_write(&log, o), 0);
	cr_assert_eq(log.written + log.lost, 0);
	json_decref(o);
	nm_jsonlog_close(&log);
}

Test(jsonlog, writes_one_line_per_record)
{
	struct nm_jsonlog log;
	char err[256];

	cr_assert_eq(nm_jsonlog_open(&log, "logs.flows", path, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < 100; i++) {
		json_t *o = record(i);
		cr_assert_eq(nm_jsonlog_write(&log, o), 0);
		json_decref(o);
	}
	cr_assert_eq(log.written, 100);
	cr_assert_eq(log.lost, 0);
	cr_assert_eq(whole_lines(), 100);
	nm_jsonlog_close(&log);
}

/*
 * Limits that cut the file inside a record, at a record's end and before
 * the first one: each leaves only whole lines, counts the rest as lost,
 * and writing resumes once the limit is lifted.
 */
Test(jsonlog, full_disk_leaves_no_torn_line_and_counts_losses)
{
	static const rlim_t limits[] = {1000, 1003, 77, 1};

	for (size_t t = 0; t < sizeof(limits) / sizeof(limits[0]); t++) {
		struct nm_jsonlog log;
		char err[256];

		cr_assert_eq(truncate(path, 0), 0);
		cr_assert_eq(nm_jsonlog_open(&log, "logs.flows", path, err, sizeof(err)), 0);
		limit_file_size(limits[t]);
		int seq = 0, lost = 0;
		for (int i = 0; i < 60; i++) {
			json_t *o = record(seq);
			if (nm_jsonlog_write(&log, o) == 0)
				seq++;
			else
				lost++;
			json_decref(o);
		}
		cr_assert_gt(lost, 0, "limit %lu: nothing lost", (unsigned long)limits[t]);
		cr_assert_eq(log.lost, (uint64_t)lost);
		cr_assert_eq(log.written, (uint64_t)seq);
		cr_assert_neq(log.last_errno, 0);
		cr_assert_not(log.torn);
		cr_assert_eq(whole_lines(), seq, "limit %lu", (unsigned long)limits[t]);

		/* Space returns: the next record is written and the episode ends. */
		limit_file_size(RLIM_INFINITY);
		json_t *o = record(seq);
		cr_assert_eq(nm_jsonlog_write(&log, o), 0);
		json_decref(o);
		cr_assert_eq(log.last_errno, 0);
		cr_assert_eq(log.episode_lost, 0);
		cr_assert_eq(whole_lines(), seq + 1);
		nm_jsonlog_close(&log);
	}
}

Test(jsonlog, stats_say_failing_with_the_error)
{
	struct nm_jsonlog log;
	char err[256];
	json_t *o = record(0);

	cr_assert_eq(nm_jsonlog_open(&log, "logs.alerts", path, err, sizeof(err)), 0);
	limit_file_size(10);
	cr_assert_lt(nm_jsonlog_write(&log, o), 0);
	json_t *s = nm_jsonlog_json(&log);
	cr_assert(json_is_true(json_object_get(s, "failing")));
	cr_assert_eq(json_integer_value(json_object_get(s, "lost")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(s, "error")),
			 strerror(ENOSPC)); /* short write: reported as ENOSPC */
	json_decref(s);
	json_decref(o);
	nm_jsonlog_close(&log);
}

/* Lines in file p (0 when it does not exist). */
static int
lines_in(const char *p)
{
	FILE *f = fopen(p, "r");
	char line[512];
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* logrotate's way: rename the file, then SIGHUP makes the daemon reopen. */
Test(jsonlog, reopen_after_rename_writes_a_new_file_and_keeps_counting)
{
	struct nm_jsonlog log;
	char err[256], rotated[80];

	snprintf(rotated, sizeof(rotated), "%s.1", path);
	cr_assert_eq(nm_jsonlog_open(&log, "logs.flows", path, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < 3; i++) {
		json_t *o = record(i);
		cr_assert_eq(nm_jsonlog_write(&log, o), 0);
		json_decref(o);
	}
	cr_assert_eq(rename(path, rotated), 0);
	json_t *o = record(3);
	cr_assert_eq(nm_jsonlog_write(&log, o), 0); /* still the old file, now rotated */
	json_decref(o);

	cr_assert_eq(nm_jsonlog_reopen(&log, log.path, err, sizeof(err)), 0, "%s", err);
	o = record(0);
	cr_assert_eq(nm_jsonlog_write(&log, o), 0);
	json_decref(o);
	cr_assert_eq(lines_in(rotated), 4);
	cr_assert_eq(whole_lines(), 1, "the new file holds the record written after the reopen");
	cr_assert_eq(log.written, 5);
	cr_assert_eq(log.reopened, 1);
	cr_assert_str_eq(log.path, path);
	nm_jsonlog_close(&log);
	unlink(rotated);
}

Test(jsonlog, failed_reopen_keeps_writing_to_the_old_file)
{
	struct nm_jsonlog log;
	char err[256];

	cr_assert_eq(nm_jsonlog_open(&log, "logs.flows", path, err, sizeof(err)), 0, "%s", err);
	cr_assert_lt(nm_jsonlog_reopen(&log, "/nonexistent-nm/x/y.jsonl", err, sizeof(err)), 0);
	cr_assert(strstr(err, "open(/nonexistent-nm/x/y.jsonl)") != NULL, "%s", err);
	json_t *o = record(0);
	cr_assert_eq(nm_jsonlog_write(&log, o), 0);
	json_decref(o);
	cr_assert_eq(whole_lines(), 1);
	cr_assert_str_eq(log.path, path);
	cr_assert_eq(log.reopened, 0);
	nm_jsonlog_close(&log);
}

Test(jsonlog, reopen_to_empty_path_turns_the_log_off)
{
	struct nm_jsonlog log;
	char err[256];

	cr_assert_eq(nm_jsonlog_open(&log, "logs.flows", path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nm_jsonlog_reopen(&log, "", err, sizeof(err)), 0, "%s", err);
	cr_assert_not(nm_jsonlog_is_open(&log));
	cr_assert_str_eq(log.path, "");
	nm_jsonlog_close(&log);
}
