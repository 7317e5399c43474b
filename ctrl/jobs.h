/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Long jobs off the control thread's event loop (ctrl/jobs.c). A job is
 * one function run on its own pthread; it reads only what its argument
 * holds and writes its results there, never worker-visible state. The
 * control thread starts it, checks each loop turn whether it finished
 * (nm_job_reap) and then, back on the control thread, applies the result
 * (for a signature load: scratch growth and RCU publication). One job per
 * struct nm_job at a time: the caller keeps one struct per job kind.
 */
#ifndef NM_JOBS_H
#define NM_JOBS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct nm_job;

/* Runs on the job thread. Should check nm_job_cancelled between long steps. */
typedef void (*nm_job_fn)(struct nm_job *job, void *arg);

struct nm_job {
	pthread_t thread;
	nm_job_fn fn;
	void *arg;
	uint64_t started_ns; /* CLOCK_REALTIME when started, for "since" */
	bool running;	     /* control thread: started and not yet joined */
	int done;	     /* job thread sets it (release) when fn returned */
	int cancel;	     /* control thread sets it (relaxed) to ask fn to stop early */
};

/*
 * Run fn(job, arg) on a new thread. Returns 0, -EBUSY if this job is still
 * running (or finished but not reaped), or -errno from pthread_create.
 */
int nm_job_start(struct nm_job *job, nm_job_fn fn, void *arg);

/* True from nm_job_start until nm_job_reap or nm_job_cancel joined the thread. */
bool nm_job_busy(const struct nm_job *job);

/*
 * If the job's function returned, join its thread and return true: what it
 * wrote to its argument is visible to the caller. False while it runs, and
 * when no job was started. Never blocks for long (the join is of a thread
 * that already finished).
 */
bool nm_job_reap(struct nm_job *job);

/*
 * Ask the job to stop (nm_job_cancelled turns true) and join it: returns
 * when the function has returned. A step that cannot be interrupted (a
 * Hyperscan compile) is waited out. Nothing to do if no job runs.
 */
void nm_job_cancel(struct nm_job *job);

/* For the job's function: true once nm_job_cancel was called. */
bool nm_job_cancelled(const struct nm_job *job);

/*
 * An eventfd a job writes when it finishes, for the event loop to poll
 * (readable: some job is done; read it to reset). Created at the first
 * call, on the control thread, before jobs start; -1 if eventfd failed
 * (then the loop sees a job's end at its next turn).
 */
int nm_jobs_wake_fd(void);

/* Wall clock (CLOCK_REALTIME) in ns, for when a job started and ended. */
uint64_t nm_wall_ns(void);
/* ns as an ISO 8601 UTC time, "2026-12-06T15:45:14Z". */
void nm_wall_iso(uint64_t ns, char *buf, size_t len);

#endif
