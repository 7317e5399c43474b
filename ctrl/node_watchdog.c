/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The systemd watchdog, served by the control thread for the whole node.
 * A ping (WATCHDOG=1) says more than "the control thread runs": it is sent
 * only when every worker has made a loop turn since the previous check,
 * as its heartbeat shows (struct nm_worker, bumped next to its RCU
 * quiescent report). A worker stuck inside a turn stops the pings, and
 * systemd restarts the daemon once WatchdogSec passes without one. A
 * worker asleep in its idle back-off still turns (sleep_us is at most
 * 100 ms), and a control thread that is itself stuck sends nothing.
 *
 * Checks run every half interval, as sd_watchdog_enabled(3) advises, so a
 * stall shorter than half of WatchdogSec may pass unseen; a longer one
 * always costs a ping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "nodemesh/worker-t.h"
#include "node.h"
#include "node_priv.h"
#include "sd_notify.h"

#define STALL_ENV    "NODEMESH_DEBUG_STALL_WORKER"
#define STALL_MAX_MS 60000u

static uint64_t
mono_ns(void)
{
	return nm_sd_monotonic_usec() * 1000u;
}

/* "IDX:AFTER_MS:FOR_MS": worker IDX stalls AFTER_MS after it starts, for FOR_MS. */
static int
arm_stall(struct nm_node *node, const char *v, char *err, size_t errlen)
{
	unsigned int idx, after_ms, for_ms;
	char tail;

	if (sscanf(v, "%u:%u:%u%c", &idx, &after_ms, &for_ms, &tail) != 3 ||
	    idx >= node->dp.n_workers || after_ms > STALL_MAX_MS || for_ms == 0 ||
	    for_ms > STALL_MAX_MS) {
		snprintf(err, errlen,
			 "%s='%s': want IDX:AFTER_MS:FOR_MS with IDX < %u workers and times of "
			 "at most %u ms",
			 STALL_ENV, v, node->dp.n_workers, STALL_MAX_MS);
		return -EINVAL;
	}
	struct nm_worker *w = node->dp.workers[idx];
	/* +1: 0 means "never", and AFTER_MS may be 0. */
	w->debug_stall_at_tsc = rte_rdtsc() + node->dp.tsc_hz * after_ms / 1000 + 1;
	w->debug_stall_us = (uint64_t)for_ms * 1000;
	fprintf(stderr,
		"nodemeshd: %s is set: test hook armed, worker %u (lcore %u) will stall for %u "
		"ms in %u ms\n",
		STALL_ENV, idx, w->lcore, for_ms, after_ms);
	return 0;
}

int
nm_node_watchdog_init(struct nm_node *node, char *err, size_t errlen)
{
	const char *stall = getenv(STALL_ENV);

	if (stall != NULL && arm_stall(node, stall, err, errlen) < 0)
		return -EINVAL;
	uint64_t usec = nm_sd_watchdog_usec();
	if (usec == 0)
		return 0;
	node->watchdog.period_ns = usec * 1000 / 2;
	node->watchdog.next_ns = mono_ns() + node->watchdog.period_ns;
	/* Workers have not started: every heartbeat is 0, and the first check wants them moved. */
	memset(node->watchdog.seen, 0, sizeof(node->watchdog.seen));
	fprintf(stderr, "nodemeshd: systemd watchdog every %llu ms (WATCHDOG_USEC=%llu)\n",
		(unsigned long long)(usec / 2000), (unsigned long long)usec);
	return 0;
}

/* Bit per worker whose heartbeat has not moved since the last check. */
static uint32_t
stalled_workers(struct nm_node *node)
{
	uint32_t stalled = 0;

	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		/* Relaxed: only whether the number moved matters (worker-t.h). */
		uint64_t beat = __atomic_load_n(&node->dp.workers[i]->heartbeat, __ATOMIC_RELAXED);
		if (beat == node->watchdog.seen[i])
			stalled |= 1u << i;
		node->watchdog.seen[i] = beat;
	}
	return stalled;
}

/* Say when the set of stuck workers changes, not at every check. */
static void
report(struct nm_node *node, uint32_t stalled)
{
	unsigned long long ms = (unsigned long long)(node->watchdog.period_ns / 1000000);

	if (stalled == node->watchdog.stalled)
		return;
	for (unsigned int i = 0; i < node->dp.n_workers; i++)
		if (stalled & ~node->watchdog.stalled & (1u << i))
			fprintf(stderr,
				"nodemeshd: worker %u (lcore %u) made no loop turn in %llu ms: "
				"watchdog pings withheld\n",
				i, node->dp.workers[i]->lcore, ms);
	if (stalled == 0)
		fprintf(stderr, "nodemeshd: every worker turns again: watchdog pings resume\n");
	node->watchdog.stalled = stalled;
}

void
nm_node_watchdog_poll(struct nm_node *node)
{
	uint64_t now = mono_ns();

	if (node->watchdog.period_ns == 0 || now < node->watchdog.next_ns)
		return;
	node->watchdog.next_ns = now + node->watchdog.period_ns;

	uint32_t stalled = stalled_workers(node);
	report(node, stalled);
	if (stalled != 0) {
		node->watchdog.withheld++;
		return;
	}
	int rc = nm_sd_notify("WATCHDOG=1");
	if (rc < 0 && node->watchdog.last_errno == 0)
		fprintf(stderr, "nodemeshd: sending WATCHDOG=1 to $NOTIFY_SOCKET failed: %s\n",
			strerror(-rc));
	node->watchdog.last_errno = rc < 0 ? -rc : 0;
	if (rc == 0)
		node->watchdog.pings++;
}

json_t *
nm_node_watchdog_json(const struct nm_node *node)
{
	json_t *stalled = json_array();

	for (unsigned int i = 0; i < node->dp.n_workers; i++)
		if (node->watchdog.stalled & (1u << i))
			json_array_append_new(stalled, json_integer(i));
	return json_pack("{s:I, s:I, s:I, s:o, s:s}", "interval_ms",
			 (json_int_t)(node->watchdog.period_ns * 2 / 1000000), "pings",
			 (json_int_t)node->watchdog.pings, "withheld",
			 (json_int_t)node->watchdog.withheld, "stalled_workers", stalled, "error",
			 node->watchdog.last_errno ? strerror(node->watchdog.last_errno) : "");
}
