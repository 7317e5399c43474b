/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The job runner: one pthread per running job, started by the control
 * thread and joined by it once the job says it is done, so the event loop
 * never waits on a long computation. The hand-off is one flag: the job
 * thread stores done with release order after writing its results, the
 * control thread loads it with acquire order before joining and reading
 * them. A finishing job also writes the wake-up eventfd (nm_jobs_wake_fd),
 * which the control socket's poll watches, so the loop comes round at once;
 * it checks the flag every turn anyway (ctrl/main.c shortens the poll
 * timeout while a job runs).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"

static int wake_fd = -1; /* created by the control thread before any job starts */

int
nm_jobs_wake_fd(void)
{
	if (wake_fd < 0)
		wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return wake_fd;
}

static void *
job_main(void *p)
{
	struct nm_job *job = p;

	job->fn(job, job->arg);
	/* Release: the results fn wrote are visible to whoever sees done. */
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
	if (wake_fd >= 0) {
		uint64_t one = 1;
		/* Fails only if the counter would overflow: then it is readable anyway. */
		if (write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			fprintf(stderr, "nodemeshd: waking the event loop failed: %s\n",
				strerror(errno));
	}
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
