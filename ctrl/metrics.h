/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of the node's counters
 * (ctrl/metrics.c). Rendered from the same JSON documents `stats` and
 * `tunnel list` answer with, so a scraped value is the value `stats`
 * shows. Pure: no node, no DPDK; the caller passes the documents.
 */
#ifndef NM_METRICS_H
#define NM_METRICS_H

#include <stddef.h>

#include <jansson.h>

/*
 * The exposition text for stats (nm_node_stats_json) and tunnels (the
 * `tunnel list` array, or NULL without tunnels), malloc'd and
 * NUL-terminated; *len its length. NULL on ENOMEM.
 */
char *nm_metrics_render(const json_t *stats, const json_t *tunnels, size_t *len);

#endif
