/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's state: one per worker lcore, allocated by nm_worker_create()
 * on the control thread and written only by its worker afterwards. The
 * control thread reads the counters (c, sc, flows.c, rule_*, tnl_rejected)
 * for stats, drains rec_ring, alert_ring and http_ring, and reads flow entries for
 * listings, and the heartbeat (watchdog); it writes nothing here while
 * the worker runs but the flow timeouts of a config reload (relaxed
 * atomics, nodemesh/flow-t.h).
 */
#ifndef NM_WORKER_T_H
#define NM_WORKER_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ip_frag.h>

#include "nodemesh/authz-t.h"
#include "nodemesh/dataplane-t.h"
#include "nodemesh/drop-t.h"
#include "nodemesh/flow-t.h"
#include "nodemesh/pkt-t.h"
#include "nodemesh/pod-t.h"
#include "nodemesh/pod_poll-t.h"
#include "nodemesh/policy-t.h"
#include "nodemesh/sig_set-t.h"
#include "nodemesh/tunnel-t.h"

struct rte_mbuf;
struct rte_ring;
struct nm_tnl_state;
struct nm_sig_stream_pool;
struct nm_authz;
struct nm_http_inflater;
struct nm_sig_thresh_table;

/*
 * The private area of the node's packet mbufs: room for a packet's parse
 * (struct nm_pkt_meta), so that a packet handed to another worker is not
 * parsed there again (nm_handoff_parsed in tx.h).
 */
#define NM_MBUF_PRIV_SIZE RTE_ALIGN_CEIL(sizeof(struct nm_pkt_meta), RTE_MBUF_PRIV_ALIGN)

/* Where a packet handed to another worker is going (mbuf dynamic field). */
struct nm_mbuf_meta {
	uint32_t pod_id;    /* destination pod */
	uint16_t slot;	    /* its slot */
	uint16_t src_slot;  /* slot of the pod that sent it */
	uint8_t kind;	    /* enum nm_handoff_kind */
	uint8_t has_pkt;    /* the sender's parse of it is in the mbuf's private area */
	uint16_t flow_hash; /* to the fabric: the inner flow's hash (outer UDP source port) */
};

enum nm_handoff_kind {
	NM_HANDOFF_POD = 0, /* to a local pod: ingress conntrack, policy, inspection */
	NM_HANDOFF_RAW,	    /* made by nodemesh (reset, ICMP error): deliver, do not track */
};

/* Packets queued for one pod port, sent as a burst. */
struct nm_txbuf {
	uint16_t n;
	bool dirty; /* listed in the worker's dirty[] until the end-of-turn flush */
	struct rte_mbuf *pkts[NM_BURST];
};

/* Packets for one peer, sealed as a burst (every worker, its own). */
struct nm_fabric_out {
	uint16_t n; /* 0: not listed in fabric_pending */
	struct rte_mbuf *pkts[NM_BURST];
};

/*
 * The fabric port's doorbell for wake mode: net_af_packet has no Rx
 * interrupt, so a second PF_PACKET socket on the fabric interface takes
 * one byte of every frame into a small RX ring (TPACKET_V2) and is
 * readable while a slot holds one. The control thread opens it
 * (ctrl/fabric_bell.c) before the workers start; the fabric worker
 * re-arms it (every slot back to the kernel) before it blocks
 * (dataplane/idle.c).
 */
#define NM_FABRIC_BELL_EPOLL_TAG 1 /* its epoll data in the fabric worker's idle set */

struct nm_fabric_bell {
	int fd;
	uint8_t *ring; /* frames slots of frame_size bytes */
	uint32_t frames;
	uint32_t frame_size;
	uint32_t armed_at; /* fabric worker: its empty_polls when it last re-armed the ring */
	uint64_t rearms;   /* fabric worker: re-arms so far */
	uint64_t wakeups;  /* fabric worker: idle waits it ended */
};

struct nm_worker_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t handoff_out; /* packets handed to another worker */
	uint64_t handoff_in;
	uint64_t arp_replies;	  /* proxy-ARP answers sent */
	uint64_t arp_requests;	  /* ARP requests sent to resolve pods */
	uint64_t icmp_sent;	  /* ICMP errors sent */
	uint64_t icmp_suppressed; /* ICMP errors not sent: rate limit */
	uint64_t reassembled;	  /* datagrams rebuilt from fragments */
	uint64_t fragmented;	  /* datagrams split for the pod MTU */
	uint64_t idle_sleeps;	  /* sleep mode: fixed sleeps taken */
	uint64_t idle_waits;	  /* wake mode: blocks in epoll_pwait2() */
	uint64_t idle_wakeups;	  /* of which ended by traffic or a doorbell, not the time limit */
	uint64_t idle_errors;	  /* of which failed (EINTR) */
	uint64_t doorbells;	  /* doorbells rung for a sleeping worker after a handoff */
	uint64_t events_lost;	  /* observation events the event ring had no room for */
	uint64_t tnl_sealed;	  /* tunnel records this worker sealed and sent */
	uint64_t tnl_opened;	  /* tunnel records this worker's fabric queue got and opened */
	uint64_t drops[NM_DROP_MAX];
};

struct nm_worker {
	unsigned int idx; /* 0..n_workers-1, also the RCU thread id */
	unsigned int lcore;
	struct nm_dataplane *dp;
	struct rte_ip_frag_tbl *frag_tbl;
	struct rte_ip_frag_death_row death_row;
	struct rte_ring *in[NM_MAX_WORKERS];  /* from worker s to me; NULL for s == me */
	struct rte_ring *out[NM_MAX_WORKERS]; /* from me to worker d */
	uint16_t n_handoff[NM_MAX_WORKERS];
	struct rte_mbuf *handoff[NM_MAX_WORKERS][NM_BURST];
	uint16_t n_dirty; /* slots with something in txbuf */
	uint16_t dirty[NM_MAX_PODS];
	struct nm_txbuf txbuf[NM_MAX_PODS]; /* per destination slot */
	struct nm_flow_table flows;
	struct rte_ring *rec_ring;	   /* finished flows to the control thread */
	uint64_t flush_done;		   /* last flow-flush request served */
	uint64_t rule_flows[NM_MAX_RULES]; /* flows judged by rule counter slot */
	uint64_t rule_drops[NM_MAX_RULES]; /* packets dropped by rule (deny or rate) */
	uint64_t default_flows;		   /* flows judged by the default action */
	uint64_t default_drops;
	uint64_t rule_requests[NM_MAX_RULES]; /* HTTP requests judged, by rule counter slot */
	uint64_t rule_refused[NM_MAX_RULES];  /* HTTP requests refused, by rule counter slot */
	uint64_t default_requests;	      /* HTTP requests the default action judged */
	uint64_t default_refused;
	struct nm_authz_counters authz; /* HTTP policy: requests, 403s, resets */
	struct nm_authz *authz_pool;	/* NM_AUTHZ_FLOWS request parsers */
	uint32_t *authz_free;		/* indices of the free ones, a stack */
	uint32_t n_authz_free;
	struct nm_sig_set *sigs;	/* current rule set, read at the top of each turn */
	const struct nm_tnl_state *tnl; /* current tunnel state, same */
	/*
	 * Fabric worker only (NULL elsewhere): packets to seal, one buffer per
	 * peer slot (tunnel.max_peers of them), and the slots holding some, so
	 * that a flush visits those rather than every peer.
	 */
	struct nm_fabric_out *fabric_out;
	uint16_t *fabric_pending;
	uint32_t n_fabric_pending;
	uint32_t fabric_arp_cursor;	/* next slot whose MAC the flush checks */
	uint32_t fabric_unresolved;	/* keyed peers without a MAC seen in this pass */
	bool fabric_resolving;		/* the last pass (or this tunnel state) had some */
	uint64_t fabric_arp_generation; /* of the tunnel state the pass runs over */
	uint64_t tnl_rejected[NM_TNL_REASON_MAX]; /* fabric worker: records refused, by reason */
	struct rte_ring *alert_ring;		  /* alerts to the control thread */
	struct rte_ring *http_ring; /* http transaction records to the control thread */
	struct rte_ring *events;    /* observation events to the control thread (observe-t.h) */
	struct nm_sig_counters sc;
	struct nm_insp *insp_pool; /* signatures.max_streams stream states */
	uint32_t *insp_free;	   /* indices of the free ones, a stack */
	uint32_t n_insp_free;
	struct nm_sig_stream_pool *stream_pool; /* Hyperscan stream memory, as many streams */
	struct nm_http_inflater *http_inflater; /* decodes gzip/deflate HTTP bodies to inspect */
	struct nm_sig_thresh_table *thresh;	/* threshold/detection_filter match counts */
	double icmp_tokens;			/* ICMP error budget, token bucket */
	uint64_t icmp_last_tsc;
	/*
	 * Loop turns so far: the worker stores it (relaxed) once per turn, the
	 * control thread's watchdog loads it (relaxed); it only has to see the
	 * number move, in any order with everything else.
	 */
	uint64_t heartbeat;
	/*
	 * Test hook (README "Running it under systemd"): at this TSC the
	 * worker stalls for debug_stall_us while online, as a stuck worker
	 * would. Set by the control thread before the workers start, from
	 * $NODEMESH_DEBUG_STALL_WORKER; 0: never.
	 */
	uint64_t debug_stall_at_tsc;
	uint64_t debug_stall_us;
	/*
	 * nm-replay: the time of the packet being replayed, as a TSC value the
	 * tool computes from the capture, so the flow timers run on capture
	 * time (nm_worker_now()). 0, always on a node: the real clock.
	 */
	uint64_t replay_tsc;
	struct nm_pod_poll
	    poll; /* which owned pods to poll (epfd: the control thread adds to it) */
	/*
	 * Wake mode (dataplane/idle.c): idle_epfd holds poll.epfd (nested) and
	 * doorbell, an eventfd that other workers (after a handoff) and the
	 * control thread (stop, reload, flush, a new table) write to wake it.
	 */
	int idle_epfd;
	int doorbell;
	uint64_t idle_since_tsc; /* wake mode: TSC of the first wait since the last work; 0: none */
	struct nm_fabric_bell *fabric_bell; /* fabric worker with a fabric port; else NULL */
	struct nm_worker_counters c;
	/*
	 * Non-zero while this worker is about to block or blocked in wake
	 * mode. Written by this worker, read by every worker that hands it
	 * packets: on a cache line of its own. The orders are in idle.c.
	 */
	uint32_t asleep __rte_cache_aligned;
} __rte_cache_aligned;

#endif
