/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's counters in DPDK telemetry (ctrl/telemetry.c), for
 * dpdk-telemetry.py and other rte_telemetry clients:
 *
 *   /nodemesh/stats            node totals and drops by reason
 *   /nodemesh/pods             the pods' names
 *   /nodemesh/pod,NAME         one pod's identity and counters
 *   /nodemesh/workers          the workers' numbers
 *   /nodemesh/worker,N         one worker's counters
 *
 * Telemetry answers on its own thread, which must not read the node's
 * RCU-published tables; so the control thread publishes a snapshot of
 * `stats` (once a second) and the callbacks read only that, under a lock.
 */
#ifndef NM_TELEMETRY_H
#define NM_TELEMETRY_H

#include <jansson.h>

/* Register the commands (after rte_eal_init). 0 or -errno. */
int nm_telemetry_init(void);

/* Control thread: stats becomes what telemetry answers from (reference taken). */
void nm_telemetry_publish(json_t *stats);

/* Drop the snapshot (shutdown); later requests answer empty. */
void nm_telemetry_fini(void);

#endif
