/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane internals shared by the node (control thread) and the workers.
 *
 * Ownership: the control thread builds pod tables and publishes them with
 * one pointer store; workers read the current table at the top of each
 * loop turn and report a quiescent state at the bottom (rte_rcu_qsbr), so
 * a replaced table is freed only once no worker can still hold it. Each
 * pod is owned by one worker: only that worker polls its port, transmits
 * on it and writes its nm_pod_live. Packets for a pod another worker owns
 * travel through a single-producer single-consumer ring per worker pair.
 */
#ifndef NM_DP_H
#define NM_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <hs/hs.h>

#include "nodemesh/config.h"
#include "nodemesh/drop-t.h"
#include "nodemesh/pkt-t.h"
#include "nodemesh/pod-t.h"
#include "nodemesh/policy-t.h"
#include "nodemesh/sig-t.h"
#include "nodemesh/sigdb.h"
#include "nodemesh/tunnel.h"
#include "flow.h"
#include "policy.h"

#define NM_MAX_WORKERS 8
#define NM_BURST       32
#define NM_RING_SIZE   1024 /* mbufs per handoff ring */
#define NM_PORT_DESC   1024 /* RX/TX descriptors per pod port */
/* Every pod's default gateway. Unsigned: DPDK 22.11's RTE_IPV4 shifts its
 * argument as given, and 169 << 24 overflows an int. */
#define NM_GATEWAY_IP	       RTE_IPV4(169u, 254u, 1u, 1u)
#define NM_POD_HISTORY	       4096 /* identities of recent pods kept for flow records */
#define NM_ICMP_ERRORS_PER_SEC 1000 /* ICMP errors one worker may send per second */

/* ICMP types and codes (RFC 792) that DPDK's rte_icmp.h does not name. */
#define NM_ICMP_DEST_UNREACH  3
#define NM_ICMP_HOST_UNREACH  1 /* code of NM_ICMP_DEST_UNREACH */
#define NM_ICMP_FRAG_NEEDED   4 /* code of NM_ICMP_DEST_UNREACH, RFC 1191 */
#define NM_ICMP_TIME_EXCEEDED 11

/* Counters of one pod. Written only by the owner worker. */
struct nm_pod_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t drops; /* packets from this pod dropped on the way out (egress checks) */
};

/*
 * Per-pod state that changes at packet rate: allocated by the control thread
 * at `pod add`, written only by the owner worker, freed after an RCU grace
 * period at `pod del`.
 */
struct nm_pod_live {
	struct nm_pod_counters c;
	struct rte_ether_addr pod_mac; /* learnt from the pod's frames */
	bool mac_known;
	uint64_t arp_sent_tsc; /* last ARP request we sent for the pod */
} __rte_cache_aligned;

struct nm_pod {
	struct nm_pod_spec spec;
	uint32_t id;	/* unique for the run, never reused */
	uint8_t remote; /* a pod of another node (announced by its peer): no port, no live */
	uint8_t peer;	/* remote: index of its node in the tunnel state */
	uint16_t port_id;
	uint16_t worker;		/* index of the owner worker */
	struct rte_ether_addr port_mac; /* our end of the link: the gateway MAC */
	struct nm_pod_live *live;	/* NULL: slot free, or a remote pod */
};

/* Is the slot in use (a local pod with its port, or a remote pod)? */
static inline bool
nm_pod_present(const struct nm_pod *p)
{
	return p->live != NULL || p->remote;
}

/*
 * Immutable once published. Slots keep their index for a pod's lifetime.
 * The policy is compiled against these pods; the generation changes with
 * every publication, and flows re-judge themselves when it does.
 */
struct nm_pod_table {
	uint64_t generation;
	struct nm_policy *policy; /* owned by the table */
	struct rte_hash *by_ip;	  /* pod IPv4 (network order) -> slot */
	uint32_t n_pods;
	uint16_t n_owned[NM_MAX_WORKERS];
	uint16_t owned[NM_MAX_WORKERS][NM_MAX_PODS]; /* slots each worker polls */
	struct nm_pod pods[NM_MAX_PODS];
};

/* Where a packet handed to another worker is going (mbuf dynamic field). */
struct nm_mbuf_meta {
	uint32_t pod_id;    /* destination pod */
	uint16_t slot;	    /* its slot */
	uint16_t src_slot;  /* slot of the pod that sent it */
	uint8_t kind;	    /* enum nm_handoff_kind */
	uint16_t flow_hash; /* to the fabric: the inner flow's hash (outer UDP source port) */
};

enum nm_handoff_kind {
	NM_HANDOFF_POD = 0, /* to a local pod: ingress conntrack, policy, inspection */
	NM_HANDOFF_RAW,	    /* made by nodemesh (reset, ICMP error): deliver, do not track */
	NM_HANDOFF_FABRIC,  /* to a remote pod: the fabric worker seals and sends it */
};

/*
 * Tunnels. The fabric port is owned by one worker (NM_FABRIC_WORKER): it
 * seals every packet to other nodes and opens every packet from them, so
 * each key context, sequence counter and replay window has one writer.
 * Other workers hand their packets for remote pods to it.
 */
#define NM_FABRIC_WORKER 0
#define NM_TNL_OUTER_LEN (RTE_ETHER_HDR_LEN + 20 + 8) /* outer Ethernet, IPv4, UDP */
/* Bytes a tunnel adds to an inner IP packet on the fabric (outer IPv4 + UDP + record). */
#define NM_TNL_IP_OVERHEAD (20 + 8 + NM_TNL_OVERHEAD)

/* One receive epoch of a peer: its key and replay window (fabric worker writes both). */
struct nm_tnl_rx {
	struct nm_tnl_key *key;
	struct nm_tnl_replay replay;
};

/* Per-peer state the fabric worker writes; lives as long as the peer slot. */
struct nm_peer_live {
	struct rte_ether_addr mac; /* the peer's fabric MAC */
	bool mac_known;
	uint64_t arp_sent_tsc;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t no_key;		      /* dropped: no established keys (fail closed) */
	uint64_t unresolved;		      /* dropped: fabric MAC unknown (ARP sent) */
	uint64_t inner_spoofed;		      /* opened, inner source not a pod of this peer */
	uint64_t rejected[NM_TNL_REASON_MAX]; /* records refused, by reason */
} __rte_cache_aligned;

struct nm_tnl_peer {
	uint8_t in_use;
	uint32_t fabric_ip; /* network order */
	struct nm_cidr pod_cidr;
	struct nm_tnl_key *tx;	   /* NULL: no keys yet, every packet to it is dropped */
	struct nm_tnl_rx *rx[2];   /* receive epochs: the current one and the previous */
	struct nm_peer_live *live; /* allocated with the slot */
	char name[NM_NAME_LEN];
};

/* Immutable once published (RCU, like the pod table). */
struct nm_tnl_state {
	uint64_t generation;
	struct nm_tnl_peer peers[NM_MAX_PEERS];
};

struct nm_txbuf {
	uint16_t n;
	bool dirty; /* listed in the worker's dirty[] until the end-of-turn flush */
	struct rte_mbuf *pkts[NM_BURST];
};

struct nm_fabric_out {
	uint16_t n;
	struct rte_mbuf *pkts[NM_BURST];
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
	uint64_t idle_sleeps;
	uint64_t drops[NM_DROP_MAX];
};

/*
 * A loaded signature rule set. Immutable once published except for the
 * counters and refs. Workers read the current set at the top of each turn;
 * every TCP stream holds a reference to the set it was opened with, so a
 * reload never changes the rules of a stream already open. A replaced set
 * is freed by the control thread once no stream holds it and an RCU grace
 * period has passed. Each worker's scratch was grown for every set alive
 * when this one was loaded, so the current set's scratch serves streams
 * of older sets too.
 */
struct nm_sig_set {
	struct nm_sigdb *db;
	uint64_t generation; /* 1 for the first load, +1 per load */
	uint32_t refs;	     /* streams open on this set (atomic) */
	hs_scratch_t *scratch[NM_MAX_WORKERS];
	uint64_t *hits; /* [worker][rule]: header-matching hits, each worker its row */
	uint64_t loaded_ns;
	char file[NM_CFG_ARG_LEN];
	struct nm_sig_set *next; /* retired list, control thread */
};

/* Inspection counters of one worker. */
struct nm_sig_counters {
	uint64_t packets;	 /* payloads scanned (segments and datagrams) */
	uint64_t bytes;		 /* payload bytes scanned */
	uint64_t cycles;	 /* TSC cycles spent in Hyperscan */
	uint64_t streams_opened; /* TCP streams opened */
	uint64_t streams_open;	 /* open now */
	uint64_t hits;		 /* header-matching rule hits */
	uint64_t alerts;	 /* alert records handed to the control thread */
	uint64_t alerts_lost;	 /* alert ring or pool full */
	uint64_t flows_passed;	 /* flows a pass rule took out of inspection */
	uint64_t flows_blocked;	 /* flows a drop/reject rule blocked */
	uint64_t resets_sent;	 /* TCP RSTs sent by reject */
	uint64_t unreach_sent;	 /* ICMP unreachables sent by reject */
	uint64_t retransmits;	 /* retransmitted bytes verified and forwarded */
	uint64_t urgent_cleared; /* segments whose URG flag and pointer were cleared */
	uint64_t uninspected;	 /* TCP payloads of flows older than the first rule set */
	uint64_t held;		 /* out-of-order segments forwarded and held until the gap filled */
	uint64_t held_now;	 /* held now (mbuf references) */
};

/* A signature hit, handed from a worker to the control thread's alert log. */
struct nm_alert_record {
	struct nm_flow_key key; /* the flow, for flow_id */
	uint32_t init_pod_id;
	uint32_t src_pod_id; /* the packet's sender and receiver */
	uint32_t dst_pod_id;
	uint32_t src_ip; /* network order */
	uint32_t dst_ip;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t action;	   /* enum nm_sig_action of the rule */
	uint8_t blocked;   /* the packet was dropped */
	uint8_t to_server; /* the packet came from the flow's initiator */
	uint64_t tsc;
	uint32_t sid;
	uint32_t rev;
	uint32_t priority;
	char msg[NM_SIG_MSG_LEN];
	char classtype[NM_SIG_CLASSTYPE_LEN];
};

#define NM_ALERT_RING_SIZE 1024 /* alerts in flight per worker */

/* A finished flow, handed from a worker to the control thread's flow log. */
struct nm_flow_record {
	struct nm_flow_key key;
	uint32_t init_pod_id;
	uint32_t resp_pod_id;
	uint64_t first_tsc;
	uint64_t last_tsc;
	uint64_t pkts[2]; /* by enum nm_flow_dir */
	uint64_t bytes[2];
	uint64_t rate_drops;
	uint32_t rule_id; /* 0: the default action decided */
	uint8_t init_is_lo;
	uint8_t verdict;
	uint8_t state;
	uint8_t end; /* enum nm_flow_end */
	uint8_t sig; /* enum nm_flow_sig */
};

#define NM_FLOW_SWEEP	 64   /* flow entries checked for expiry per loop turn */
#define NM_REC_RING_SIZE 4096 /* flow records in flight per worker */

struct nm_node;

struct nm_worker {
	unsigned int idx; /* 0..n_workers-1, also the RCU thread id */
	unsigned int lcore;
	struct nm_node *node;
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
	struct nm_sig_set *sigs;	/* current rule set, read at the top of each turn */
	const struct nm_tnl_state *tnl; /* current tunnel state, same */
	struct nm_fabric_out fabric_out[NM_MAX_PEERS]; /* fabric worker: to seal, per peer */
	uint64_t tnl_rejected[NM_TNL_REASON_MAX]; /* fabric worker: records refused, by reason */
	struct rte_ring *alert_ring;		  /* alerts to the control thread */
	struct nm_sig_counters sc;
	struct nm_insp *insp_pool; /* signatures.max_streams stream states */
	uint32_t *insp_free;	   /* indices of the free ones, a stack */
	uint32_t n_insp_free;
	double icmp_tokens; /* ICMP error budget, token bucket */
	uint64_t icmp_last_tsc;
	struct nm_worker_counters c;
} __rte_cache_aligned;

struct nm_node {
	struct nm_config cfg;
	struct nm_pod_table *pods; /* current table; see dp.h header comment */
	struct rte_rcu_qsbr *qsbr;
	struct rte_mempool *pool;     /* packets */
	struct rte_mempool *indirect; /* fragmentation */
	int meta_off;		      /* offset of struct nm_mbuf_meta in mbufs */
	unsigned int n_workers;
	struct nm_worker *workers[NM_MAX_WORKERS];
	volatile bool stop;
	uint32_t next_pod_id;
	uint64_t flush_seq;	      /* flow flush requests: control writes, workers serve */
	uint32_t flush_pod_id;	      /* 0: every pod */
	uint8_t flush_end;	      /* enum nm_flow_end the flushed records carry */
	struct rte_mempool *rec_pool; /* struct nm_flow_record */
	struct nm_sig_set *sigs;      /* current rule set (NULL: none loaded) */
	struct nm_tnl_state *tnl;     /* current tunnel state (never NULL) */
	bool has_fabric;
	uint16_t fabric_port;
	struct rte_ether_addr fabric_mac;
	uint32_t tnl_mtu;		/* largest inner IP packet a tunnel carries */
	struct nm_peers *peers;		/* control connections to other nodes (peer.c) */
	struct rte_mempool *alert_pool; /* struct nm_alert_record */

	/* Control thread only. */
	struct nm_rule *rules; /* NM_MAX_RULES, the first n_rules in force, in order */
	unsigned int n_rules;
	uint32_t next_rule_id;
	uint8_t default_allow;
	uint64_t rule_base_flows[NM_MAX_RULES]; /* counter values when the slot was taken */
	uint64_t rule_base_drops[NM_MAX_RULES];
	struct nm_pod_spec *pod_history; /* by pod id % NM_POD_HISTORY, for flow records */
	uint32_t *pod_history_id;
	FILE *flow_log;
	uint64_t records_written;
	struct nm_sig_set *sigs_retired; /* replaced sets, freed when no stream holds them */
	uint64_t sig_generation;
	uint64_t sig_hits_retired; /* hits counted by sets already freed */
	FILE *alert_log;
	uint64_t alerts_written;
	uint64_t wall_ns0; /* wall clock at tsc0, for record times */
	uint64_t tsc0;
	uint64_t hash_seed; /* random per run: no hash flooding */
	uint64_t tsc_hz;
};

static inline struct nm_mbuf_meta *
nm_mbuf_meta(const struct nm_node *node, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, node->meta_off, struct nm_mbuf_meta *);
}

/*
 * RFC 1624 eqn. 3: the one's complement checksum cksum (network order) of
 * a header in which one 16-bit word (host order values) changes from old
 * to new: HC' = ~(~HC + ~m + m').
 */
static inline uint16_t
nm_cksum_adjust(uint16_t cksum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~rte_be_to_cpu_16(cksum);

	sum += (uint16_t)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return rte_cpu_to_be_16((uint16_t)~sum);
}

/* worker.c */
int nm_worker_main(void *arg);
struct nm_worker *nm_worker_create(struct nm_node *node, unsigned int idx, unsigned int lcore);
void nm_worker_free(struct nm_worker *w);

/* Pipeline entry points, also used by the in-memory benchmark. */
void nm_worker_rx_pod(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		      struct rte_mbuf **pkts, uint16_t n);
void nm_worker_rx_handoff(struct nm_worker *w, const struct nm_pod_table *tbl,
			  struct rte_mbuf **pkts, uint16_t n);
void nm_worker_flush(struct nm_worker *w, const struct nm_pod_table *tbl);

/* pod.c: pod tables (control thread) */
struct nm_pod_table *nm_pod_table_clone(const struct nm_pod_table *old, uint64_t seed,
					unsigned int n_workers);
int nm_pod_table_index(struct nm_pod_table *tbl, uint64_t seed, unsigned int n_workers);
void nm_pod_table_free(struct nm_pod_table *tbl);
int nm_pod_table_find_name(const struct nm_pod_table *tbl, const char *name);

/* node.c: store next as the current table, wait out readers of the old one, free it. */
void nm_node_publish(struct nm_node *node, struct nm_pod_table *next);
/* Index next, compile the policy into it and publish it; frees next on error. */
int nm_node_publish_rebuilt(struct nm_node *node, struct nm_pod_table *next, char *err,
			    size_t errlen);

/* inspect.c: signature matching on the workers */
/*
 * Inspect one packet arriving into the pod at slot (its flow entry f on
 * this side, direction dir). Returns NM_DROP_NONE or why it must be
 * dropped; a reject also queues resets or an ICMP error.
 */
enum nm_drop_reason nm_inspect(struct nm_worker *w, const struct nm_pod_table *tbl,
			       struct nm_flow *f, unsigned int dir, struct rte_mbuf *m,
			       const struct nm_pkt_meta *meta, uint16_t src_slot, uint16_t slot,
			       uint64_t now);
/* The receiving pod acknowledged up to ack (its egress on this side). */
static inline void
nm_inspect_acked(struct nm_flow *f, uint32_t ack)
{
	struct nm_insp *s = f->insp;

	if (!s->acked_known || (int32_t)(ack - s->acked) > 0) {
		s->acked = ack;
		s->acked_known = 1;
	}
}
/* Close f's stream (end-of-stream hits are logged); f is ending. */
void nm_inspect_release(struct nm_worker *w, struct nm_flow *f, bool report);
/*
 * Deliver a packet nodemesh made (a reset, an ICMP error) to the pod at
 * slot, on whichever worker owns it or through the tunnel. With track it
 * passes the receiving side's conntrack as if the pod at src_slot had
 * sent it (a reset then closes that side's flow), never policy again.
 */
void nm_worker_send_made(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
			 uint16_t src_slot, struct rte_mbuf *m, bool track);
bool nm_worker_icmp_allowed(struct nm_worker *w, uint64_t now);

/* fabric.c: the fabric worker's side of the tunnels */
void nm_fabric_rx(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		  uint16_t n, uint64_t now);
void nm_fabric_enqueue(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		       struct rte_mbuf *m, uint16_t flow_hash);
void nm_fabric_flush(struct nm_worker *w, uint64_t now);
/* Ingress for packets whose destination pods this worker or another owns (worker.c). */
void nm_worker_deliver(struct nm_worker *w, const struct nm_pod_table *tbl, struct rte_mbuf **pkts,
		       const struct nm_pkt_meta *meta, const uint16_t *slot,
		       const uint16_t *src_slot, uint16_t n, uint64_t now);
/* Clamp the MSS option of a SYN leaving through the tunnel to mss. */
void nm_tcp_mss_clamp(struct rte_mbuf *m, const struct nm_pkt_meta *meta, uint16_t mss);

/* reject.c */
struct rte_mbuf *nm_tcp_reset(struct rte_mempool *pool, uint32_t saddr, uint32_t daddr,
			      uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack);

/* node_tunnel.c (control thread) */
int nm_node_tunnel_init(struct nm_node *node, char *err, size_t errlen);
void nm_node_tunnel_fini(struct nm_node *node);

/* node_sig.c (control thread) */
void nm_sig_set_free(struct nm_sig_set *set, unsigned int n_workers);
void nm_node_sig_gc(struct nm_node *node);

/* node_flow.c: shared with the alert log */
uint64_t nm_flow_id(const struct nm_flow_key *k, uint32_t init_pod_id);
json_t *nm_endpoint_json(const struct nm_node *node, const uint8_t addr[16], uint16_t port,
			 uint32_t pod_id);
void nm_iso_time(const struct nm_node *node, uint64_t tsc, char *buf, size_t len);

/* port.c */
int nm_port_attach(const struct nm_pod_spec *spec, uint32_t pod_id, struct rte_mempool *pool,
		   uint16_t *port_id, struct rte_ether_addr *mac, char *err, size_t errlen);
void nm_port_detach(uint16_t port_id);
const char *nm_port_driver_name(uint8_t driver);

/* arp.c */
void nm_arp_reply_inplace(struct rte_mbuf *m, uint16_t l2_len, const struct rte_ether_addr *mac);
struct rte_mbuf *nm_arp_request(struct rte_mempool *pool, const struct rte_ether_addr *mac,
				uint32_t target_ip);

/* icmp.c */
/* May a router answer this IPv4 packet with an ICMP error (RFC 1812 §4.3.2.7)? */
bool nm_icmp_error_allowed(const struct rte_mbuf *orig, uint16_t l2_len);
struct rte_mbuf *nm_icmp_error(struct rte_mempool *pool, const struct rte_mbuf *orig,
			       uint16_t l2_len, uint8_t type, uint8_t code, uint16_t mtu,
			       const struct rte_ether_addr *gw_mac);

#endif
