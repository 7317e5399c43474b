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

#include "nodemesh/config.h"
#include "nodemesh/drop-t.h"
#include "nodemesh/pod-t.h"
#include "nodemesh/policy-t.h"
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
	uint32_t id; /* unique for the run, never reused */
	uint16_t port_id;
	uint16_t worker;		/* index of the owner worker */
	struct rte_ether_addr port_mac; /* our end of the link: the gateway MAC */
	struct nm_pod_live *live;	/* NULL: slot free */
};

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
	uint32_t pod_id;   /* destination pod */
	uint16_t slot;	   /* its slot */
	uint16_t src_slot; /* slot of the pod that sent it */
};

struct nm_txbuf {
	uint16_t n;
	bool dirty; /* listed in the worker's dirty[] until the end-of-turn flush */
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
