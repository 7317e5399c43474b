/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window cost (nm_tnl_replay_update, nodemesh/tunnel.h), in
 * TSC cycles per sequence, median of REPS runs of N sequences:
 *
 *   alone      one thread, in order: what one worker pays per record;
 *   check+upd  one thread, in order, check then update, as a record is opened;
 *   reordered  one thread, blocks of 8 in reverse order (late records);
 *   shared     two threads on one window, thread t updating t, t+2, t+4...:
 *              both workers opening one peer's records, every update on
 *              the cache lines the other just wrote (the worst case:
 *              records alternating between the workers). Neither runs more
 *              than LEAD sequences ahead of the other, as records arriving
 *              at one rate keep them; cycles are the wall clock's per update
 *              of one thread;
 *   private    the same two threads with a window each: the baseline
 *              "shared" is paid against (no line bouncing between cores);
 *   shared32   "shared" through nm_tnl_replay_update_burst, 32 sequences a
 *              call, as a worker opens a chunk of records (one CAS per ring
 *              word a burst covers, top raised once).
 *
 * The threads are pinned to CPUs 0 and 1. The single-thread cases use only
 * the record layer's inline functions, so they also build against a tree
 * before the shared window (the RFC 6479 ring, -s; drop shared32's code):
 *   cc -O2 -march=native -D_GNU_SOURCE -I OLD/include tests/bench/bench_replay.c -lpthread
 * Run: taskset -c 1 build/tests/bench/bench_replay [-n SEQUENCES] [-r REPS] [-s]
 * One line per case: "RESULT case=... cycles_per_seq=... min=... accepted_min=..."
 * (accepted_min: the fewest sequences the window took in one run, of all).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include "nodemesh/tunnel.h"

#define REPS_MAX 101
#define LEAD	 1024 /* sequences a thread may run ahead of the other (window 4032) */
#define BATCH	 64   /* updates between two looks at the other thread's progress */

/* A thread's progress, on its own cache line. */
struct progress {
	uint64_t done;
} __attribute__((aligned(64)));

struct run {
	struct nm_tnl_replay *window;
	uint64_t first, n; /* sequences first, first + 2, ... (n of them) */
	unsigned int cpu;  /* pinned here */
	uint64_t accepted;
	volatile unsigned int *ready; /* start line */
	struct progress *mine, *other;
	unsigned int
	    burst; /* 0: nm_tnl_replay_update per sequence; else update_burst of this many */
};

static uint64_t
updates(struct nm_tnl_replay *w, uint64_t first, uint64_t step, uint64_t n)
{
	uint64_t ok = 0;

	for (uint64_t i = 0; i < n; i++)
		ok += nm_tnl_replay_update(w, first + i * step) == NM_TNL_OK;
	return ok;
}

/* The same sequences through nm_tnl_replay_update_burst, burst of them a call. */
static uint64_t
burst_updates(struct nm_tnl_replay *w, uint64_t first, uint64_t step, uint64_t n,
	      unsigned int burst)
{
	uint64_t seqs[NM_TNL_REPLAY_BURST_MAX], ok = 0;
	uint16_t why[NM_TNL_REPLAY_BURST_MAX];

	for (uint64_t i = 0; i < n; i += burst) {
		unsigned int k = n - i < burst ? (unsigned int)(n - i) : burst;

		for (unsigned int j = 0; j < k; j++)
			seqs[j] = first + (i + j) * step;
		nm_tnl_replay_update_burst(w, seqs, k, why);
		for (unsigned int j = 0; j < k; j++)
			ok += why[j] == NM_TNL_OK;
	}
	return ok;
}

static uint64_t
checked_updates(struct nm_tnl_replay *w, uint64_t n)
{
	uint64_t ok = 0;

	for (uint64_t i = 0; i < n; i++)
		if (nm_tnl_replay_check(w, i) == NM_TNL_OK)
			ok += nm_tnl_replay_update(w, i) == NM_TNL_OK;
	return ok;
}

/* Blocks of 8, each in reverse: 7 of 8 records arrive after a later one. */
static uint64_t
reordered_updates(struct nm_tnl_replay *w, uint64_t n)
{
	uint64_t ok = 0;

	for (uint64_t b = 0; b + 8 <= n; b += 8)
		for (uint64_t i = 8; i-- > 0;)
			ok += nm_tnl_replay_update(w, b + i) == NM_TNL_OK;
	return ok;
}

static void
pin(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc != 0) {
		fprintf(stderr, "bench_replay: pthread_setaffinity_np(cpu %u) failed: %s\n", cpu,
			strerror(rc));
		exit(1);
	}
}

static void *
run_thread(void *arg)
{
	struct run *r = arg;

	pin(r->cpu);
	__atomic_add_fetch(r->ready, 1, __ATOMIC_ACQ_REL);
	while (*r->ready < 2)
		;
	for (uint64_t i = 0; i < r->n; i += BATCH) {
		/* Relaxed: a pace, nothing is read through it. */
		while (i > __atomic_load_n(&r->other->done, __ATOMIC_RELAXED) + LEAD / 2)
			;
		uint64_t batch = r->n - i < BATCH ? r->n - i : BATCH;
		r->accepted += r->burst == 0
				   ? updates(r->window, r->first + 2 * i, 2, batch)
				   : burst_updates(r->window, r->first + 2 * i, 2, batch, r->burst);
		__atomic_store_n(&r->mine->done, i + batch, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Two threads, each with its run; TSC cycles from the start line to both done. */
static uint64_t
pair(struct run runs[2])
{
	static struct progress progress[2];
	volatile unsigned int ready = 0;
	pthread_t tid[2];

	for (int t = 0; t < 2; t++) {
		progress[t].done = 0;
		runs[t].ready = &ready;
		runs[t].mine = &progress[t];
		runs[t].other = &progress[1 - t];
		int rc = pthread_create(&tid[t], NULL, run_thread, &runs[t]);
		if (rc != 0) {
			fprintf(stderr, "bench_replay: pthread_create failed: %s\n", strerror(rc));
			exit(1);
		}
	}
	while (ready < 2)
		;
	uint64_t t0 = __rdtsc();
	for (int t = 0; t < 2; t++)
		pthread_join(tid[t], NULL);
	return __rdtsc() - t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum bench_case { ALONE, CHECK_UPDATE, REORDERED, SHARED, PRIVATE, SHARED_BURST, CASES };
static const char *const case_names[CASES] = {"alone",	"check+upd", "reordered",
					      "shared", "private",   "shared32"};

/* One run of a case over n sequences: cycles per sequence; *accepted what the window took. */
static double
case_run(enum bench_case c, struct nm_tnl_replay w[2], uint64_t n, uint64_t *accepted)
{
	nm_tnl_replay_init(&w[0]);
	nm_tnl_replay_init(&w[1]);
	if (c == SHARED || c == PRIVATE || c == SHARED_BURST) {
		unsigned int burst = c == SHARED_BURST ? 32 : 0;
		struct run runs[2] = {
		    {.window = &w[0], .first = 0, .n = n / 2, .cpu = 0, .burst = burst},
		    {.window = &w[c == PRIVATE ? 1 : 0],
		     .first = 1,
		     .n = n / 2,
		     .cpu = 1,
		     .burst = burst}};
		uint64_t cycles = pair(runs);

		*accepted = runs[0].accepted + runs[1].accepted;
		return (double)cycles / (double)(n / 2);
	}

	uint64_t t0 = __rdtsc();

	if (c == ALONE)
		*accepted = updates(&w[0], 0, 1, n);
	else if (c == CHECK_UPDATE)
		*accepted = checked_updates(&w[0], n);
	else
		*accepted = reordered_updates(&w[0], n);
	return (double)(__rdtsc() - t0) / (double)n;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: bench_replay [-n SEQUENCES] [-r REPS] [-s]\n"
		"  -n sequences per run (default 4000000), -r runs per case, median kept\n"
		"  (default 9, at most %d), -s the single-thread cases only\n",
		REPS_MAX);
}

int
main(int argc, char **argv)
{
	uint64_t n = 4000000;
	unsigned long reps = 9;
	int opt, cases = CASES;

	while ((opt = getopt(argc, argv, "n:r:sh")) != -1) {
		char *end = "";

		errno = 0;
		if (opt == 's') {
			cases = SHARED;
			continue;
		}
		if (opt == 'n')
			n = strtoull(optarg, &end, 10);
		else if (opt == 'r')
			reps = strtoul(optarg, &end, 10);
		else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
		if (errno != 0 || *end != '\0' || (opt == 'n' && n < 16) ||
		    (opt == 'r' && (reps == 0 || reps > REPS_MAX))) {
			fprintf(stderr, "bench_replay: -%c '%s': out of range\n", opt, optarg);
			usage(stderr);
			return 2;
		}
	}

	static struct nm_tnl_replay windows[2];
	double cycles[REPS_MAX];

	printf("window %zu bytes, %" PRIu64 " sequences per run, median of %lu runs\n",
	       sizeof(windows[0]), n, reps);
	for (int c = 0; c < cases; c++) {
		uint64_t accepted = 0, fewest = UINT64_MAX;
		uint64_t all = c == REORDERED ? n / 8 * 8 : c >= SHARED ? n / 2 * 2 : n;

		for (unsigned long i = 0; i < reps; i++) {
			cycles[i] = case_run((enum bench_case)c, windows, n, &accepted);
			if (accepted < fewest)
				fewest = accepted;
		}
		qsort(cycles, reps, sizeof(cycles[0]), cmp_double);
		printf("RESULT case=%s cycles_per_seq=%.2f min=%.2f accepted_min=%" PRIu64
		       "/%" PRIu64 "\n",
		       case_names[c], cycles[reps / 2], cycles[0], fewest, all);
	}
	return 0;
}
