/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node: what the control thread owns and changes (pod table, ports),
 * and the calls the control commands make on it. All of these run on the
 * control thread only; workers see the results through RCU-published
 * tables (dataplane/dp.h).
 */
#ifndef NM_NODE_H
#define NM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "nodemesh/config.h"
#include "nodemesh/pod-t.h"

struct nm_node;

/*
 * After rte_eal_init(): pools, RCU, workers (one per worker lcore),
 * handoff rings and an empty pod table. NULL with err filled on failure.
 */
struct nm_node *nm_node_create(const struct nm_config *cfg, char *err, size_t errlen);

/* Launch the workers on their lcores. */
void nm_node_start(struct nm_node *node);

/* Stop the workers and wait for them. */
void nm_node_stop(struct nm_node *node);

/* Detach every pod and free everything; workers must be stopped. NULL is fine. */
void nm_node_destroy(struct nm_node *node);

/*
 * Attach the pod's port, give the pod to the least-loaded worker and
 * publish it. Returns 0, or -errno with err saying why; on error nothing
 * changed.
 */
int nm_node_pod_add(struct nm_node *node, const struct nm_pod_spec *spec, char *err, size_t errlen);

/* Unpublish the pod, wait for every worker to drop it, detach its port. */
int nm_node_pod_del(struct nm_node *node, const char *name, char *err, size_t errlen);

/* JSON array of pods with their counters. */
json_t *nm_node_pods_json(struct nm_node *node);

/* JSON object: node, totals, drops by reason, per worker, per pod, per port. */
json_t *nm_node_stats_json(struct nm_node *node);

/*
 * Policy (dataplane/node_policy.c). Each returns 0 (load: the number of
 * rules) or -errno with err saying why; on error the rules in force stay.
 */
int nm_node_policy_add(struct nm_node *node, const char *text, uint32_t *id, char *err,
		       size_t errlen);
int nm_node_policy_del(struct nm_node *node, uint32_t id, char *err, size_t errlen);
int nm_node_policy_load(struct nm_node *node, const char *path, char *err, size_t errlen);
int nm_node_policy_default(struct nm_node *node, bool allow, char *err, size_t errlen);
json_t *nm_node_policy_json(struct nm_node *node);

/*
 * Flows (dataplane/node_flow.c). pod: only that pod's flows (NULL: all).
 * match: only flows with this key (NULL: any). At most limit entries.
 */
struct nm_flow_key;
json_t *nm_node_flows_json(struct nm_node *node, const char *pod, const struct nm_flow_key *match,
			   unsigned int limit, char *err, size_t errlen);
/* End every flow of pod (NULL: all) and write their records. */
int nm_node_flow_flush(struct nm_node *node, const char *pod, char *err, size_t errlen);
/* End every flow with reason "shutdown" (workers still running). */
int nm_node_flow_shutdown(struct nm_node *node);
/* Write finished flows the workers handed over to the flow log. */
void nm_node_drain_records(struct nm_node *node);

/*
 * Signatures (dataplane/node_sig.c). load: parse and compile the file and
 * swap it in (RCU); returns the number of rules, or -errno with err
 * naming FILE:LINE and the sid; on error the rules in force stay. Streams
 * open at the swap keep their rules until they end.
 */
int nm_node_sig_load(struct nm_node *node, const char *path, char *err, size_t errlen);
json_t *nm_node_sig_json(struct nm_node *node);
json_t *nm_node_sig_stats_json(struct nm_node *node);
/* Write the workers' alerts to the alert log; free unused replaced rule sets. */
void nm_node_drain_alerts(struct nm_node *node);

/* The configuration the node runs with. */
const struct nm_config *nm_node_config(const struct nm_node *node);

#endif
