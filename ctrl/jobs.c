/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The job runner: one pthread per running job, started by the control
 * thread and joined by it once the job says it is done, so the event loop
 * never waits on a long computation. The hand-off is one flag: the job
 * thread stores done with release order after writing its results, the
 * control thread loads it with acquire order before joining and reading
 * them. The loop checks the flag every turn (at most one poll timeout
 * later; ctrl/main.c shortens the timeout while a job runs).
 */
#include <errno.h>
#include <time.h>

#include "jobs.h"

static void *
job_main(void *p)
{
	struct nm_job *job = p;

	job->fn(job, job->arg);
	/* Release: the results fn wrote are visible to whoever sees done. */
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int
nm_job_start(struct nm_job *job, nm_job_fn fn, void *arg)
{
	if (job->running)
		return -EBUSY;
	job->fn = fn;
	job->arg = arg;
	job->done = 0;
	job->cancel = 0;
	job->started_ns = nm_wall_ns();
	int rc = pthread_create(&job->thread, NULL, job_main, job);
	if (rc != 0)
		return -rc;
	job->running = true;
	return 0;
}

bool
nm_job_busy(const struct nm_job *job)
{
	return job->running;
}

bool
nm_job_reap(struct nm_job *job)
{
	/* Acquire pairs with job_main's release: fn's results are complete. */
	if (!job->running || !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		return false;
	pthread_join(job->thread, NULL);
	job->running = false;
	return true;
}

void
nm_job_cancel(struct nm_job *job)
{
	if (!job->running)
		return;
	/* Relaxed: only a hint that fn polls; the join below is the synchronisation. */
	__atomic_store_n(&job->cancel, 1, __ATOMIC_RELAXED);
	pthread_join(job->thread, NULL);
	job->running = false;
}

bool
nm_job_cancelled(const struct nm_job *job)
{
	return __atomic_load_n(&job->cancel, __ATOMIC_RELAXED) != 0;
}

uint64_t
nm_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
nm_wall_iso(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
