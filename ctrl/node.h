/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node: what the control thread owns and changes (pod table, ports),
 * and the calls the control commands make on it. All of these run on the
 * control thread only; workers see the results through RCU-published
 * tables (nodemesh/dataplane-t.h).
 */
#ifndef NM_NODE_H
#define NM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
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
/* Wake the workers that block in idle wait mode: they see new shared state at once. */
void nm_node_wake_workers(struct nm_node *node);

/* Detach every pod and free everything; workers must be stopped. NULL is fine. */
void nm_node_destroy(struct nm_node *node);

/*
 * Attach the pod's port, give the pod to the least-loaded worker and
 * publish it. Returns 0, 1 when the same container was attached already
 * with the same spec (a retried CNI ADD), or -errno with err saying why; on
 * error nothing changed.
 */
int nm_node_pod_add(struct nm_node *node, const struct nm_pod_spec *spec, char *err, size_t errlen);

/*
 * The control socket's pod add (ctrl/node_podjob.c): checks now, opens the
 * port on a job thread and answers through nm_server_answer when it is in
 * the table. Returns NM_POD_QUEUED (answer deferred: the caller returns
 * NULL), 1 for a retried attachment already done, 0 if attached at once (no
 * server: tests), or -errno with err filled.
 */
#define NM_POD_QUEUED 2
int nm_node_pod_add_queued(struct nm_node *node, const struct nm_pod_spec *spec, char *err,
			   size_t errlen);
/* Each loop turn: finish what the job did, start the next. */
void nm_node_podjob_poll(struct nm_node *node);
bool nm_node_podjob_busy(const struct nm_node *node);
json_t *nm_node_podjob_json(const struct nm_node *node);
/*
 * Inside a request: send reply once the pod ports queued so far are closed
 * or open (pod del: its rings are given back when it is answered). Returns
 * NULL when deferred (taken), else reply (send it now).
 */
json_t *nm_node_podjob_answer_after(struct nm_node *node, json_t *reply);
/* The control socket deferred answers go to (main.c; NULL: none). */
struct nm_server;
void nm_node_set_server(struct nm_node *node, struct nm_server *srv);

/* Unpublish the pod, wait for every worker to drop it, detach its port. */
int nm_node_pod_del(struct nm_node *node, const char *name, char *err, size_t errlen);

/*
 * Detach the pod a CNI runtime attached for container: 1 if it was there, 0
 * if not (a DEL may be repeated), or -errno with err saying why.
 */
int nm_node_pod_del_container(struct nm_node *node, const char *container, char *err,
			      size_t errlen);

/*
 * Identities (ctrl/node_identity.c), keyed by pod namespace and name. A
 * change to an attached pod's identity republishes the pod table, so live
 * flows are judged again, and is announced to the peers. 0 or -errno.
 */
struct nm_identity;
int nm_node_identity_set(struct nm_node *node, const struct nm_identity *id, char *err,
			 size_t errlen);
int nm_node_identity_del(struct nm_node *node, const char *ns, const char *name, char *err,
			 size_t errlen);
json_t *nm_node_identities_json(const struct nm_node *node);

/* JSON array of pods with their counters. */
json_t *nm_node_pods_json(struct nm_node *node);

/* The Prometheus exposition of stats and the tunnels (ctrl/metrics.c); malloc'd. */
char *nm_node_metrics_text(struct nm_node *node, size_t *len);
/* Give stats the /metrics endpoint's counters (main.c owns it; NULL: none). */
struct nm_metrics_http;
void nm_node_set_metrics_http(struct nm_node *node, struct nm_metrics_http *h);

/*
 * Observation (ctrl/node_observe.c): poll each loop turn (switches the
 * workers' events on while an observer holds the lease, and keeps their
 * events); query answers `observe` (see ctrl/observe.h).
 */
struct nm_observe_filter;
void nm_node_observe_poll(struct nm_node *node);
json_t *nm_node_observe_query(struct nm_node *node, const struct nm_observe_filter *f,
			      uint64_t since, unsigned int limit);

/* JSON object: node, totals, drops by reason, per worker, per pod, per port. */
json_t *nm_node_stats_json(struct nm_node *node);

/*
 * Policy (ctrl/node_policy.c). Each returns 0 (load: the number of
 * rules) or -errno with err saying why; on error the rules in force stay.
 */
int nm_node_policy_add(struct nm_node *node, const char *text, uint32_t *id, char *err,
		       size_t errlen);
int nm_node_policy_del(struct nm_node *node, uint32_t id, char *err, size_t errlen);
int nm_node_policy_load(struct nm_node *node, const char *path, char *err, size_t errlen);
int nm_node_policy_default(struct nm_node *node, bool allow, char *err, size_t errlen);
json_t *nm_node_policy_json(struct nm_node *node);
/*
 * Replace the rules with rules[0..n) keeping their ids (a restart's state
 * file); later rules get ids from next_id on. All or nothing.
 */
struct nm_rule;
int nm_node_policy_restore(struct nm_node *node, const struct nm_rule *rules, unsigned int n,
			   uint32_t next_id, bool allow, char *err, size_t errlen);

/*
 * The run-time state file (ctrl/node_state.c). restore: read path, and if
 * it is a good state put its pods, identities, rules, peers and signature
 * file in force (what the config gave at start is replaced); a missing
 * file is a first start, a bad one is refused with a log line, moved aside
 * to PATH.refused, and the node runs on its config. Returns 0 unless the
 * node cannot go on (out of memory). Then every change is saved:
 * nm_node_state_changed marks it, nm_node_state_flush (each loop turn)
 * writes it.
 */
int nm_node_state_restore(struct nm_node *node, const char *path);
void nm_node_state_changed(struct nm_node *node);
void nm_node_state_flush(struct nm_node *node);
json_t *nm_node_state_json(const struct nm_node *node);
/* The state as the file would hold it (header and body), malloc'd; NULL on ENOMEM. */
char *nm_node_state_encode(const struct nm_node *node, size_t *len);
/*
 * A takeover (ctrl/takeover.c): put the state the old daemon sent in
 * force as a restart would, and keep saving it to path. The number of
 * entries not restored, or -EINVAL with err (a version this nodemeshd
 * cannot read, damage, an entry the command parsers refuse): nothing
 * applied then.
 */
int nm_node_state_takeover(struct nm_node *node, const char *path, const char *buf, size_t len,
			   char *err, size_t errlen);

/*
 * Flows (ctrl/node_flow.c). pod: only that pod's flows (NULL: all).
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
#define NM_DRAIN_MAX 4096 /* records written per event-loop turn at most */
/* Returns how many were drained: NM_DRAIN_MAX means more may be waiting. */
unsigned int nm_node_drain_records(struct nm_node *node);

/*
 * Signatures (ctrl/node_sig.c). load: parse and compile the file and
 * swap it in (RCU); returns the number of rules, or -errno with err
 * naming FILE:LINE and the sid; on error the rules in force stay. Streams
 * open at the swap keep their rules until they end.
 */
int nm_node_sig_load(struct nm_node *node, const char *path, char *err, size_t errlen);
/*
 * The same load off the event loop (the `sig load` command): parse, compile
 * and the stream-size check run on a job thread (ctrl/jobs.h); the control
 * thread grows scratch and publishes in nm_node_jobs_poll when the compile
 * is done. Returns 0 with *id the load's number, or -EBUSY with err naming
 * the load still compiling (one at a time), or -errno. The outcome appears
 * in sig list ("loading" while it compiles, then "last_load").
 */
int nm_node_sig_load_start(struct nm_node *node, const char *path, uint64_t *id, char *err,
			   size_t errlen);
/* Event loop, every turn: finish (publish) jobs that are done. Never blocks on a job. */
void nm_node_jobs_poll(struct nm_node *node);
/*
 * A takeover with streams to restore, before the workers start: wait for
 * the load the state started (if any) and publish it, so the streams find
 * the set they were made with. Blocks for the rest of the compile.
 */
void nm_node_sig_load_wait(struct nm_node *node);
/* True while a job runs: the loop then polls more often, to notice the end promptly. */
bool nm_node_jobs_busy(const struct nm_node *node);
/* Shutdown: stop and join a running job, free what it held. Waits out a compile step. */
void nm_node_jobs_cancel(struct nm_node *node);
json_t *nm_node_sig_json(struct nm_node *node);
json_t *nm_node_sig_stats_json(struct nm_node *node);
/* Write the workers' alerts to the alert log; free unused replaced rule sets. */
void nm_node_drain_alerts(struct nm_node *node);

/* End the loop turn's store batch: one transaction for its records and alerts. */
void nm_node_store_commit(struct nm_node *node);

/*
 * Day-two operations (ctrl/node_reload.c). set_config_source: remember the
 * file and overrides the node was started with. logs_reopen: open
 * logs.flows and logs.alerts again at their paths (SIGHUP, for
 * logrotate). config_reload: load the same file again and put its live
 * settings in force, all or nothing; refused (-EINVAL, err naming each
 * setting) if a setting that needs a restart changed. report gets
 * "applied" and "seed_only" (changed in the file, but the run-time state
 * owns them). Both return 0 or -errno.
 */
void nm_node_set_config_source(struct nm_node *node, const struct nm_config_source *src);
int nm_node_logs_reopen(struct nm_node *node, char *err, size_t errlen);
int nm_node_config_reload(struct nm_node *node, json_t *report, char *err, size_t errlen);
json_t *nm_node_reload_json(const struct nm_node *node);

/*
 * The systemd watchdog (ctrl/node_watchdog.c). init: read WATCHDOG_USEC
 * and arm the hook that stalls a worker for tests
 * ($NODEMESH_DEBUG_STALL_WORKER="IDX:AFTER_MS:FOR_MS"), before the
 * workers start; -EINVAL with err if that variable is malformed. poll
 * (each loop turn): every half interval, send WATCHDOG=1 if every worker
 * made a loop turn since the last check, else withhold it and say which
 * worker is stuck.
 */
int nm_node_watchdog_init(struct nm_node *node, char *err, size_t errlen);
void nm_node_watchdog_poll(struct nm_node *node);
json_t *nm_node_watchdog_json(const struct nm_node *node);

/*
 * Tunnels (ctrl/node_tunnel.c), driven by the peer manager (peers.c).
 * idx is the peer's slot (0..tunnel.max_peers-1). Keys take effect for the
 * fabric worker with one RCU publication; replaced keys are freed after.
 */
struct nm_tnl_key_params;
struct nm_announce;
int nm_node_tnl_peer_set(struct nm_node *node, unsigned int idx, const struct nm_peer_spec *spec,
			 char *err, size_t errlen);
/* Forget the peer: its keys and its pods. */
void nm_node_tnl_peer_clear(struct nm_node *node, unsigned int idx);
int nm_node_tnl_set_tx(struct nm_node *node, unsigned int idx, const struct nm_tnl_key_params *kp,
		       char *err, size_t errlen);
/* The new receive epoch becomes current; the current one stays as previous. */
int nm_node_tnl_set_rx(struct nm_node *node, unsigned int idx, const struct nm_tnl_key_params *kp,
		       char *err, size_t errlen);
void nm_node_tnl_drop_prev_rx(struct nm_node *node, unsigned int idx);
/*
 * A takeover's keys for peer idx (ctrl/takeover_tunnel.c): tx, rx0 (the
 * current receive epoch) and rx1 (the previous, or NULL) become the
 * peer's, and the node frees them from then on. 0 or -ENOMEM (then they
 * are still the caller's).
 */
struct nm_tnl_keyset;
int nm_node_tnl_keys_set(struct nm_node *node, unsigned int idx, struct nm_tnl_keyset *tx,
			 struct nm_tnl_keyset *rx0, struct nm_tnl_keyset *rx1);
struct nm_tnl_peer;
struct nm_peer_live;
/* The workers' counters for peer p, summed (arp_sent_tsc 0). */
void nm_node_tnl_live_sum(const struct nm_node *node, const struct nm_tnl_peer *p,
			  struct nm_peer_live *sum);
/* Drop every key of the peer: nothing is sealed for it or opened from it. */
void nm_node_tnl_withdraw(struct nm_node *node, unsigned int idx);
bool nm_node_tnl_tx_should_rotate(const struct nm_node *node, unsigned int idx);
json_t *nm_node_tnl_peer_json(struct nm_node *node, unsigned int idx);
/*
 * Dataplane bytes per peer slot, reserved at start for tunnel.max_peers
 * (tunnel state with its index, every worker's buffers), and bytes a
 * keyed peer adds (its per-worker counters, three key sets with their
 * shared counter and replay windows); the key contexts' engine state is
 * the crypto library's (not counted: `scripts/bench peers` measures the
 * process's growth per peer). dyn: the per-peer block the workers write.
 */
size_t nm_node_tnl_slot_bytes(const struct nm_node *node);
size_t nm_node_tnl_peer_bytes(const struct nm_node *node);
size_t nm_node_tnl_peer_dyn_bytes(const struct nm_node *node);
/*
 * Pods a peer announced (inside its pod CIDR only), kept in the ipcache
 * (nodemesh/ipcache-t.h). Each change is visible to the workers at once;
 * what it needs besides (a policy compilation for a new identity or one
 * gone, flows re-judging for a changed or removed entry) is done once at
 * nm_node_remote_end for the changes made since nm_node_remote_begin (a
 * peer's messages of one read are one batch), or at once outside a batch.
 */
void nm_node_remote_begin(struct nm_node *node);
int nm_node_remote_end(struct nm_node *node, char *err, size_t errlen);
/* Peer's new session begins: its announcements from now on are marked with it. */
void nm_node_remote_session_begin(struct nm_node *node, unsigned int peer);
int nm_node_remote_pod_add(struct nm_node *node, unsigned int peer, const struct nm_announce *a,
			   char *err, size_t errlen);
int nm_node_remote_pod_del(struct nm_node *node, unsigned int peer, uint32_t ip, char *err,
			   size_t errlen);
void nm_node_remote_pods_clear(struct nm_node *node, unsigned int peer);
/*
 * A full resync: remove peer's pods that its current session did not
 * announce (nm_node_remote_session_begin). How many went, or -errno.
 */
long nm_node_remote_pods_keep(struct nm_node *node, unsigned int peer);
/*
 * Remote pods (of the peer named peer, or all for NULL), at most limit of
 * them; *total gets how many there are.
 */
json_t *nm_node_remote_pods_json(struct nm_node *node, const char *peer, uint32_t limit,
				 uint32_t *total);
/*
 * The remote pod at ip as a spec (name "peer/ip", its identity's namespace,
 * service account and labels; no image: the ipcache keeps none) in *spec,
 * or NULL when no peer announces ip.
 */
const struct nm_pod_spec *nm_node_remote_pod_spec(const struct nm_node *node, uint32_t ip,
						  struct nm_pod_spec *spec);
/* The ipcache's size, use, refusals and memory, for `tunnel list` and `stats`. */
json_t *nm_node_ipcache_json(const struct nm_node *node);
void nm_node_local_pods_each(struct nm_node *node, void (*fn)(void *, const struct nm_pod_spec *),
			     void *ctx);
/* The peer manager commands reach through the node (NULL: none). */
struct nm_peers;
void nm_node_set_peers(struct nm_node *node, struct nm_peers *peers);
struct nm_peers *nm_node_peers(struct nm_node *node);

/* The configuration the node runs with. */
const struct nm_config *nm_node_config(const struct nm_node *node);
/* The AEAD engine tunnel records use, as logged at start ("intel-ipsec-mb 1.3.0 avx512 vaes"). */
const char *nm_node_tnl_engine(const struct nm_node *node);

#endif
