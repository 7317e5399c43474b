/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node object, inside the control side (ctrl/node*.c, peers.c). Its
 * first member is what the workers read (struct nm_dataplane); the rest is
 * touched by the control thread only: the configuration, the rule list and
 * its counter baselines, pod history for records, logs, retired rule sets.
 * Commands reach the node through ctrl/node.h.
 */
#ifndef NM_NODE_PRIV_H
#define NM_NODE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "nodemesh/dataplane-t.h"
#include "nodemesh/flow-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/policy-t.h"
#include "nodemesh/sig_set-t.h"
#include "nodemesh/tnl_state-t.h"
#include "config.h"
#include "identity.h"
#include "idreg.h"
#include "ipcache.h"
#include "jobs.h"
#include "jsonlog.h"
#include "loop_stats.h"
#include "observe.h"
#include "store_queue.h"

#define NM_POD_HISTORY	    4096 /* identities of recent pods kept for flow records */
#define NM_POD_JOBS_MAX	    64	 /* pod attachments waiting for the job thread at most */
#define NM_HTTP_PAIR_MAX    256	 /* http halves waiting for their other half, at most */
#define NM_HTTP_PAIR_WAIT_S 10	 /* seconds a half waits for its other half */

/*
 * A pod attachment (or, with detach, a port to close) on its way through
 * ctrl/node_podjob.c: prepared on the control thread, its port opened or
 * closed by the job thread, committed back on the control thread.
 */
struct nm_pod_attach {
	struct nm_pod_attach *next; /* queue order */
	bool detach;		    /* close pod's port and free its live state */
	bool attached;		    /* pod's port is open and not the table's */
	bool stepped;		    /* the job thread did the port step */
	struct nm_pod_spec spec;    /* as asked (with serviceaccount if given) */
	struct nm_pod pod;	    /* identity resolved, id, live; port once attached */
	struct rte_mempool *pool;   /* what the job thread needs, copied */
	struct nm_podio_params io_params;
	int rc;		  /* of the port step */
	uint64_t step_ns; /* how long the port step took (job thread) */
	char err[256];
	uint64_t ticket; /* the control socket's deferred answer, 0 if none */
	json_t *after;	 /* an answer to send once this entry is done (pod del), or NULL */
	uint64_t after_ticket;
};
/* The end reason of an interim record: the flow is still open (not a worker's enum nm_flow_end). */
#define NM_FLOW_END_INTERIM 0xff

/* A rule's counters summed over the workers (by counter slot). */
struct nm_rule_counts {
	uint64_t flows;	   /* flows it judged */
	uint64_t drops;	   /* packets it dropped: deny, rate, refused requests */
	uint64_t requests; /* HTTP requests it judged */
	uint64_t refused;  /* HTTP requests it refused */
};

struct nm_node {
	struct nm_dataplane dp; /* what the workers read */

	/* Control thread only. */
	struct nm_config cfg;
	uint32_t next_pod_id;
	bool remote_batch;	    /* inside nm_node_remote_begin/_end */
	bool remote_recompile;	    /* the batch changed the remote identities */
	bool remote_rejudge;	    /* the batch changed or removed entries */
	uint64_t remote_recompiles; /* policy compilations remote pods caused */
	struct nm_ipcache ipc;	    /* remote pods (dp.ipcache is ipc.h) */
	uint16_t *remote_session;   /* by peer: its current session (nodemesh/ipcache-t.h) */
	uint32_t *remote_count;	    /* by peer: its pods in the ipcache */
	struct nm_peers *peers;	    /* control connections to other nodes (peers.c) */
	/* wakes worker i when its fabric queue has traffic (fabric_bell.h); NULL: none */
	struct nm_fabric_bell *fabric_bell[NM_MAX_WORKERS];
	char tnl_engine[160];  /* the AEAD engine tunnel keys get (nm_tnl_engine_describe) */
	struct nm_rule *rules; /* NM_MAX_RULES, the first n_rules in force, in order */
	unsigned int n_rules;
	uint32_t next_rule_id;
	uint8_t default_allow;
	struct nm_rule_counts rule_base[NM_MAX_RULES]; /* counter values when the slot was taken */
	struct nm_pod_spec *pod_history; /* by pod id % NM_POD_HISTORY, for flow records */
	uint32_t *pod_history_id;
	struct nm_identities identities; /* from `identity set` or a pod add naming one */
	struct nm_idreg idreg;		 /* security identity ids, renewed at each publication */
	struct nm_jsonlog flow_log;
	uint64_t records_written;	 /* == flow_log.written */
	struct nm_sig_set *sigs_retired; /* replaced sets, freed when no stream holds them */
	uint64_t sig_generation;
	uint64_t sig_hits_retired;	 /* hits counted by sets already freed */
	struct nm_job sig_job;		 /* compiles the load below off the event loop */
	struct nm_sig_load *sig_loading; /* the load sig_job compiles, NULL when none */
	uint64_t sig_load_id;		 /* number of the last load started */
	json_t *sig_last_load;		 /* outcome of the last asynchronous load, or NULL */
	json_t *sig_takeover;		 /* streams a takeover handed over (`sig stats`), or NULL */
	struct nm_loop_stats loop;	 /* event-loop turn times (ctrl/main.c) */
	struct nm_server *server;	 /* for deferred answers (main.c's), or NULL */
	struct {
		struct nm_job job;	    /* opens or closes the queue head's port */
		struct nm_pod_attach *head; /* FIFO; the job works on head */
		struct nm_pod_attach *tail;
		unsigned int attaches; /* attachments queued: not in the table yet */
		uint64_t attached, failed, detached;
		uint64_t max_us;	      /* longest port step, off the loop */
	} podjob;			      /* ctrl/node_podjob.c */
	struct nm_metrics_http *metrics_http; /* main.c's /metrics endpoint, or NULL */
	struct nm_observe observe;	      /* events kept for `observe` (ctrl/observe.c) */
	struct nm_jsonlog alert_log;
	uint64_t alerts_written; /* == alert_log.written */
	struct {
		struct nm_http_record *wait[NM_HTTP_PAIR_MAX]; /* halves waiting, oldest first */
		uint64_t since[NM_HTTP_PAIR_MAX];	       /* TSC each arrived here */
		unsigned int n;
		uint64_t written;    /* http events in the alert log */
		uint64_t paired;     /* events with a request and its response */
		uint64_t unpaired;   /* events with one half (the other never came here, or late) */
	} http;			     /* ctrl/node_http.c */
	struct nm_store_queue store; /* flow records and alerts to SQLite (node_store.c) */
	struct nm_takeover_rings *handover; /* a takeover's pod rings while pods attach, or NULL */
	struct {
		uint64_t next_pass_tsc; /* when the next walk of the flow tables starts */
		unsigned int worker;	/* the walk in progress: worker and entry */
		uint32_t pos;
		bool walking;
		uint64_t rows; /* interim records made */
	} interim;	       /* logs.flow_interval_s (node_store.c) */
	struct {
		char path[1024];      /* state.file or --state; "" = not kept */
		char restored[160];   /* what the start found: "first start", "restored: ..." */
		bool dirty;	      /* changed since the last write */
		unsigned int failing; /* writes failed in a row */
		uint64_t retry_ns;    /* CLOCK_MONOTONIC: next try after a failure */
		uint64_t saves, failures, bytes, last_us, max_us;
		char last_error[256];
	} state; /* the run-time state file (ctrl/node_state.c) */
	struct {
		struct nm_config_source src; /* what a reload reads (ctrl/node_reload.c) */
		uint64_t reloads, refused;   /* config reloads applied and refused */
		char last_error[512];	     /* of the last refused reload, "" if none */
	} reload;
	struct {
		uint64_t period_ns;	       /* check and ping this often; 0: no watchdog */
		uint64_t next_ns;	       /* CLOCK_MONOTONIC of the next check */
		uint64_t seen[NM_MAX_WORKERS]; /* each worker's heartbeat at the last check */
		uint32_t stalled;	       /* bit per worker: no turn since the last check */
		uint64_t pings, withheld;      /* WATCHDOG=1 sent, and checks that sent none */
		int last_errno;		       /* of a failed send, 0 while sends work */
	} watchdog;			       /* ctrl/node_watchdog.c */
	uint64_t wall_ns0;		       /* wall clock at tsc0, for record times */
	uint64_t tsc0;
};

/* node.c: store next as the current table, wait out readers of the old one, free it. */
void nm_node_publish(struct nm_node *node, struct nm_pod_table *next);
/* Index next, compile the policy into it and publish it; frees next on error. */
int nm_node_publish_rebuilt(struct nm_node *node, struct nm_pod_table *next, char *err,
			    size_t errlen);

/* node.c: a pod add in steps (see nm_node_pod_prepare). */
int nm_node_pod_prepare(struct nm_node *node, const struct nm_pod_spec *spec,
			struct nm_pod_attach *a, char *err, size_t errlen);
void nm_pod_attach_io(struct nm_pod_attach *a);
void nm_pod_attach_abandon(struct nm_pod_attach *a);
int nm_node_pod_commit(struct nm_node *node, struct nm_pod_attach *a, char *err, size_t errlen);

/* node_podjob.c: refuse a pod that clashes with an attachment in flight; pods queued. */
int nm_node_pod_pending_check(const struct nm_node *node, const struct nm_pod_spec *spec, char *err,
			      size_t errlen);
unsigned int nm_node_pods_pending(const struct nm_node *node);
/* Close gone's port (after the table dropped it), off the loop when there is one. */
void nm_node_pod_release(struct nm_node *node, struct nm_pod *gone);
/* Join the job and finish the queue in place (shutdown). */
void nm_node_podjob_fini(struct nm_node *node);

/* node_tunnel.c */
int nm_node_tunnel_init(struct nm_node *node, char *err, size_t errlen);
void nm_node_tunnel_fini(struct nm_node *node);

/* node_sig.c */
void nm_sig_set_free(struct nm_sig_set *set, unsigned int n_workers);
void nm_node_sig_gc(struct nm_node *node);

/* node_flow.c: shared with the alert log and the store */
uint64_t nm_flow_id(const struct nm_flow_key *k, uint32_t init_pod_id);
const struct nm_pod_spec *nm_node_pod_by_id(const struct nm_node *node, uint32_t id);
/*
 * The pod at one end of a flow: by id, or for NM_POD_ID_REMOTE the ipcache's
 * pod at the IPv4 address ip4 (network order), written into *buf. NULL: unknown.
 */
const struct nm_pod_spec *nm_node_end_spec(const struct nm_node *node, uint32_t ip4,
					   uint32_t pod_id, struct nm_pod_spec *buf);
void nm_addr_str(const uint8_t a[16], char *buf, size_t len);
const char *nm_proto_name(uint8_t proto);
const char *nm_flow_end_name(uint8_t end);
json_t *nm_endpoint_json(const struct nm_node *node, const uint8_t addr[16], uint16_t port,
			 uint32_t pod_id);
void nm_iso_time(const struct nm_node *node, uint64_t tsc, char *buf, size_t len);

/*
 * node_flow.c: a finished flow's record as an object (observers, tests) and
 * as its JSON line (the flow log: the same bytes as the object's compact
 * dump, formatted directly). line: its length, or 0 if cap is too small.
 */
struct nm_flow_record;
json_t *nm_flow_record_json(const struct nm_node *node, const struct nm_flow_record *r);
size_t nm_flow_record_line(const struct nm_node *node, const struct nm_flow_record *r, char *buf,
			   size_t cap);

/* node_observe.c: does someone observe now? (Records are copied for them only then.) */
bool nm_node_observing(const struct nm_node *node);
/* node_observe.c: a record, an alert or an http event just made, for observers (not taken). */
void nm_node_observe_record(struct nm_node *node, const json_t *rec);
void nm_node_observe_alert(struct nm_node *node, const json_t *alert);
void nm_node_observe_http(struct nm_node *node, const json_t *event);

/* node_store.c */
int64_t nm_node_wall_ns(const struct nm_node *node, uint64_t tsc);
void nm_node_store_flow(struct nm_node *node, const struct nm_flow_record *r);
/* A little of the walk for interim records of long flows; each loop turn. */
void nm_node_store_interim(struct nm_node *node);
void nm_node_store_alert(struct nm_node *node, const struct nm_alert_record *a);
struct nm_http_record;
/* One http event: req and resp (either may be NULL) of one transaction. */
void nm_node_store_http(struct nm_node *node, const struct nm_http_record *req,
			const struct nm_http_record *resp);

/*
 * node_http.c: the workers' http records into events, a request paired
 * with its response; with all, every half still waiting is written alone
 * (shutdown).
 */
void nm_node_drain_http(struct nm_node *node, bool all);
/* One http event as its JSON line's object (tests read it too). */
json_t *nm_http_event_json(const struct nm_node *node, const struct nm_http_record *req,
			   const struct nm_http_record *resp);
/* EVE alert.http of an alert on an HTTP flow: hostname, url, http_method, status... */
json_t *nm_http_alert_json(const struct nm_http_fields *f);

#endif
