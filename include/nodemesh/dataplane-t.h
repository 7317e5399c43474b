/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the workers read of the node: the parameters they run with and
 * the state the control thread shares with them. struct nm_dataplane is
 * the worker-visible half of the node (ctrl/node_priv.h embeds it in
 * struct nm_node, whose other half only the control thread touches).
 *
 * Publication: pods, sigs and tnl are replaced by the control thread with
 * one release store each and read by the workers with an acquire load at
 * the top of every loop turn; a replaced object is freed after every
 * worker reported a quiescent state on qsbr. Everything else here is set
 * before the workers start and never changes, except stop, the flow
 * flush request (flush_*) and the idle_* params, which a config reload
 * stores and the workers load with relaxed atomics (ctrl/node_reload.c
 * says why that is enough); orders are commented where they are used.
 */
#ifndef NM_DATAPLANE_T_H
#define NM_DATAPLANE_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "nodemesh/flow-t.h"

#define NM_MAX_WORKERS 8
#define NM_BURST       32
#define NM_RING_SIZE   1024 /* mbufs per handoff ring */
#define NM_PORT_DESC   1024 /* RX/TX descriptors per pod port */
/*
 * Frames of each fabric queue's kernel ring (net_af_packet's framecnt; its
 * default is 512). The PMD does not count what the kernel drops when a
 * ring is full (README "Known problems"); at 512 frames a bulk TCP stream
 * across two nodes of the 2-CPU test machine lost frames there that only
 * its retransmissions showed. 2,048 frames of 2 KiB: 4 MiB per queue.
 */
#define NM_FABRIC_RING_FRAMES 2048
/* Every pod's default gateway. Unsigned: DPDK 22.11's RTE_IPV4 shifts its
 * argument as given, and 169 << 24 overflows an int. */
#define NM_GATEWAY_IP	       RTE_IPV4(169u, 254u, 1u, 1u)
#define NM_ICMP_ERRORS_PER_SEC 1000 /* ICMP errors one worker may send per second */

struct rte_hash;
struct rte_mempool;
struct rte_rcu_qsbr;
struct nm_pod_table;
struct nm_sig_set;
struct nm_tnl_state;
struct nm_worker;

/*
 * The configuration the workers run with, copied from the node's
 * configuration (ctrl/config.h documents each setting) before they start.
 */
/*
 * Payload of an inspected TCP flow whose handshake this node did not see
 * (after a restart, or a flow older than the flow table): Suricata's
 * stream.midstream choice.
 */
enum nm_midstream {
	NM_MIDSTREAM_DROP = 0, /* drop it (tcp_midstream): the sender reconnects; the default */
	NM_MIDSTREAM_PICKUP,   /* open a stream at this segment and inspect from here on */
};

/*
 * What an idle worker does once it has found nothing for idle_sleep_after
 * polls (dataplane/idle.c, README "Configuration").
 */
enum nm_idle_mode {
	NM_IDLE_POLL = 0, /* keep polling (rte_pause between polls): a core always busy */
	NM_IDLE_SLEEP,	  /* sleep idle_sleep_us between polls, whatever arrives */
	NM_IDLE_WAKE,	  /* block until a pod, a handoff or the control thread has work */
	NM_IDLE_MODES,
};

struct nm_dp_params {
	uint32_t mbufs;		   /* mbufs in the packet pool */
	uint32_t pod_mtu;	   /* bytes of IP packet a pod port carries */
	uint32_t idle_mode;	   /* enum nm_idle_mode */
	uint32_t idle_wait_max_us; /* wake: longest block (housekeeping, heartbeat), microseconds */
	uint32_t idle_linger_us;   /* wake: idle time with waits of at most idle_sleep_us */
	uint32_t idle_pause_after; /* empty polls before rte_pause() */
	uint32_t idle_sleep_after; /* empty polls before sleeping; 0: never */
	uint32_t idle_sleep_us;	   /* microseconds of one idle sleep */
	uint32_t frag_max_flows;   /* IPv4 reassembly slots per worker */
	uint32_t frag_timeout_ms;  /* reassembly timeout */
	uint32_t flow_capacity;	   /* tracked flows per worker */
	uint32_t flow_timeout_s[NM_FLOW_STATES]; /* by enum nm_flow_state */
	uint32_t sig_max_streams;		 /* open TCP inspection streams per worker */
	uint32_t sig_stream_state_max;		 /* bytes of one stream's state (pool chunk) */
	uint32_t sig_http_body_decoded_max;	 /* bytes a gzip/deflate HTTP body inflates to */
	uint8_t sig_midstream; /* enum nm_midstream: a TCP flow whose handshake we did not see */
	uint32_t fabric_ip;    /* this node's fabric address, network order */
	uint16_t udp_port;     /* tunnel datagrams, host order */
	uint32_t max_peers;    /* peer slots in the tunnel state (tunnel.max_peers) */
};

struct nm_dataplane {
	struct nm_dp_params params;
	struct nm_pod_table *pods; /* current table (RCU), never NULL once created */
	struct nm_sig_set *sigs;   /* current rule set (RCU); NULL: none loaded */
	struct nm_tnl_state *tnl;  /* current tunnel state (RCU), never NULL */
	struct rte_hash *ipcache;  /* remote pods (nodemesh/ipcache-t.h); NULL: no fabric */
	uint64_t ipc_gen; /* bumped when an ipcache entry changes or goes: flows re-judge */
	struct rte_rcu_qsbr *qsbr;
	struct rte_mempool *pool;	/* packets */
	struct rte_mempool *indirect;	/* fragmentation */
	struct rte_mempool *rec_pool;	/* struct nm_flow_record */
	struct rte_mempool *alert_pool; /* struct nm_alert_record */
	struct rte_mempool *http_pool;	/* struct nm_http_record */
	int meta_off;			/* offset of struct nm_mbuf_meta in mbufs */
	unsigned int n_workers;
	struct nm_worker *workers[NM_MAX_WORKERS];
	volatile bool stop;
	uint64_t flush_seq;    /* flow flush requests: control writes, workers serve */
	uint32_t flush_pod_id; /* 0: every pod */
	uint8_t flush_end;     /* enum nm_flow_end the flushed records carry */
	uint32_t observing;    /* non-zero while someone observes: workers write events */
	bool has_fabric;
	uint16_t fabric_port;
	struct rte_ether_addr fabric_mac;
	uint32_t tnl_mtu;   /* largest inner IP packet a tunnel carries */
	uint64_t hash_seed; /* random per run: no hash flooding */
	uint64_t tsc_hz;
};

#endif
