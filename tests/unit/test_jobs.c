/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The job runner (ctrl/jobs.c) and the signature load it carries off the
 * event loop (nm_node_sig_load_start / nm_node_jobs_poll in
 * ctrl/node_sig.c): a finished job is reaped and published, a second load
 * is refused while one compiles, a failed compile leaves the set in force,
 * and shutdown joins a running compile without leaking it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "jobs.h"
#include "node.h"
#include "node_priv.h"
#include "unit_pipeline.h"
#include "unit_tmp.h"

struct sleeper {
	unsigned int sleep_ms;
	int result;
	bool saw_cancel;
};

static void
sleeper_fn(struct nm_job *job, void *arg)
{
	struct sleeper *s = arg;

	for (unsigned int t = 0; t < s->sleep_ms; t += 5) {
		if (nm_job_cancelled(job)) {
			s->saw_cancel = true;
			return;
		}
		usleep(5000);
	}
	s->result = 42;
}

/* Reap (as each event-loop turn does) until done or about 10 s passed. */
static bool
reap_within(struct nm_job *job)
{
	for (int i = 0; i < 2000; i++) {
		if (nm_job_reap(job))
			return true;
		usleep(5000);
	}
	return false;
}

Test(jobs, reap_without_a_job_is_false)
{
	struct nm_job job = {0};

	cr_assert_not(nm_job_busy(&job));
	cr_assert_not(nm_job_reap(&job));
	nm_job_cancel(&job); /* nothing to cancel: returns */
	cr_assert_not(nm_job_busy(&job));
}

Test(jobs, second_start_while_running_is_busy)
{
	struct nm_job job = {0};
	struct sleeper s = {.sleep_ms = 200};

	cr_assert_eq(nm_job_start(&job, sleeper_fn, &s), 0);
	cr_assert_eq(nm_job_start(&job, sleeper_fn, &s), -EBUSY);
	cr_assert(reap_within(&job));
}

Test(jobs, completion_is_reaped_with_its_result)
{
	struct nm_job job = {0};
	struct sleeper s = {.sleep_ms = 50};

	cr_assert_eq(nm_job_start(&job, sleeper_fn, &s), 0);
	cr_assert(nm_job_busy(&job));
	cr_assert(reap_within(&job), "job never finished");
	cr_assert_eq(s.result, 42);
	cr_assert_not(s.saw_cancel);
	cr_assert_not(nm_job_busy(&job));
	cr_assert_not(nm_job_reap(&job), "reaped twice");
	/* The runner is reusable once reaped. */
	cr_assert_eq(nm_job_start(&job, sleeper_fn, &s), 0);
	cr_assert(reap_within(&job));
}

Test(jobs, cancel_joins_a_running_job)
{
	struct nm_job job = {0};
	struct sleeper s = {.sleep_ms = 10000};

	cr_assert_eq(nm_job_start(&job, sleeper_fn, &s), 0);
	usleep(20000);
	nm_job_cancel(&job);
	cr_assert(s.saw_cancel, "the job did not see the cancel");
	cr_assert_neq(s.result, 42);
	cr_assert_not(nm_job_busy(&job));
}

/* Signature loads on a node built by the pipeline harness. */

static const char good_rules[] =
    "alert tcp any any -> any any (msg:\"one\"; content:\"one\"; sid:1;)\n"
    "alert tcp any any -> any any (msg:\"two\"; pcre:\"/tw[o0]+/i\"; sid:2;)\n";
/* Parses, but Hyperscan refuses back-references. */
static const char uncompilable_rules[] =
    "alert tcp any any -> any any (msg:\"backref\"; pcre:\"/(ab)\\1/\"; sid:5;)\n";

/* A set large enough that its compile is still running a moment after the start. */
static void
write_slow_rules(char *path)
{
	size_t cap = 400 * 160, len = 0;
	char *text = malloc(cap);

	cr_assert_not_null(text);
	for (unsigned int i = 0; i < 400; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"alert tcp any any -> any any (msg:\"r%u\"; "
					"pcre:\"/k%uq[a-z]{2,9}\\d+(x%u|y%u)z/i\"; sid:%u;)\n",
					i, i, i % 97, i % 89, 1000 + i);
	nm_test_write_tmp(path, text);
	free(text);
}

static void
poll_until_done(void)
{
	for (int i = 0; i < 6000 && nm_node_jobs_busy(node); i++) {
		nm_node_jobs_poll(node);
		usleep(5000);
	}
	nm_node_jobs_poll(node);
	cr_assert_not(nm_node_jobs_busy(node), "the load never finished");
}

TestSuite(sigjob, .init = one_worker_up, .fini = node_down);

Test(sigjob, completion_publishes_the_set)
{
	char path[] = "/tmp/nm-test-job-XXXXXX";
	char err[1400] = "";
	uint64_t id = 0;

	nm_test_write_tmp(path, good_rules);
	cr_assert_eq(nm_node_sig_load_start(node, path, &id, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(id, 1);
	cr_assert(nm_node_jobs_busy(node));
	cr_assert_null(node->dp.sigs, "published before the compile finished");
	poll_until_done();
	unlink(path);

	cr_assert_not_null(node->dp.sigs);
	cr_assert_eq(node->dp.sigs->generation, 1);
	cr_assert_eq(node->dp.sigs->db->n_rules, 2);
	json_t *list = nm_node_sig_json(node);
	json_t *last = json_object_get(list, "last_load");
	cr_assert(json_is_true(json_object_get(last, "ok")));
	cr_assert_eq(json_integer_value(json_object_get(last, "signatures_loaded")), 2);
	cr_assert_eq(json_integer_value(json_object_get(last, "id")), 1);
	cr_assert(json_is_null(json_object_get(list, "loading")));
	json_decref(list);
}

Test(sigjob, second_load_while_compiling_is_refused_naming_the_first)
{
	char slow[] = "/tmp/nm-test-job-slow-XXXXXX";
	char other[] = "/tmp/nm-test-job-other-XXXXXX";
	char err[1400] = "";
	uint64_t id = 0;

	write_slow_rules(slow);
	nm_test_write_tmp(other, good_rules);
	cr_assert_eq(nm_node_sig_load_start(node, slow, &id, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nm_node_sig_load_start(node, other, &id, err, sizeof(err)), -EBUSY);
	cr_assert(strstr(err, slow) != NULL && strstr(err, "still compiling") != NULL, "%s", err);
	cr_assert_eq(id, 1, "the refused load took a number");
	json_t *list = nm_node_sig_json(node);
	json_t *loading = json_object_get(list, "loading");
	cr_assert_str_eq(json_string_value(json_object_get(loading, "file")), slow);
	cr_assert_not_null(json_object_get(loading, "since"));
	json_decref(list);
	poll_until_done();
	unlink(slow);
	unlink(other);
	cr_assert_eq(node->dp.sigs->db->n_rules, 400);
}

Test(sigjob, failed_compile_leaves_the_set_in_force)
{
	char good[] = "/tmp/nm-test-job-good-XXXXXX";
	char bad[] = "/tmp/nm-test-job-bad-XXXXXX";
	char err[1400] = "";
	uint64_t id = 0;

	nm_test_write_tmp(good, good_rules);
	nm_test_write_tmp(bad, uncompilable_rules);
	cr_assert_eq(nm_node_sig_load(node, good, err, sizeof(err)), 2, "%s", err);
	const struct nm_sig_set *before = node->dp.sigs;

	cr_assert_eq(nm_node_sig_load_start(node, bad, &id, err, sizeof(err)), 0, "%s", err);
	poll_until_done();
	unlink(good);
	unlink(bad);

	cr_assert_eq(node->dp.sigs, before, "the set in force changed");
	cr_assert_eq(node->dp.sigs->generation, 1);
	json_t *list = nm_node_sig_json(node);
	json_t *last = json_object_get(list, "last_load");
	const char *msg = json_string_value(json_object_get(last, "error"));
	cr_assert(json_is_false(json_object_get(last, "ok")));
	cr_assert(msg != NULL && strstr(msg, "sid 5") != NULL && strstr(msg, "unchanged") != NULL,
		  "%s", msg ? msg : "(no error)");
	json_decref(list);
}

/* Own suite: the test takes the node down itself, while the compile runs. */
Test(sigjob_shutdown, destroy_while_a_job_runs_joins_it, .init = one_worker_up)
{
	char slow[] = "/tmp/nm-test-job-down-XXXXXX";
	char err[1400] = "";
	uint64_t id = 0;

	write_slow_rules(slow);
	cr_assert_eq(nm_node_sig_load_start(node, slow, &id, err, sizeof(err)), 0, "%s", err);
	usleep(20000);
	cr_assert(nm_node_jobs_busy(node), "compile already over: make the set slower");
	node_down(); /* nm_node_destroy joins the compile and frees its load; ASan checks */
	unlink(slow);
}
