/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel state: the peers' keys and replay windows as the control thread
 * publishes them (ctrl/node_tunnel.c) and the fabric worker uses them
 * (dataplane/fabric.c). Wire format and record layer: nodemesh/tunnel-t.h.
 *
 * The fabric port is owned by one worker (NM_FABRIC_WORKER): it seals
 * every packet to other nodes and opens every packet from them, so each
 * key context, sequence counter and replay window has one writer. Other
 * workers hand their packets for remote pods to it.
 */
#ifndef NM_TNL_STATE_T_H
#define NM_TNL_STATE_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "nodemesh/cidr-t.h"
#include "nodemesh/pod-t.h"
#include "nodemesh/tunnel-t.h"

#define NM_FABRIC_WORKER 0
#define NM_TNL_OUTER_LEN (RTE_ETHER_HDR_LEN + 20 + 8) /* outer Ethernet, IPv4, UDP */
/* Bytes a tunnel adds to an inner IP packet on the fabric (outer IPv4 + UDP + record). */
#define NM_TNL_IP_OVERHEAD (20 + 8 + NM_TNL_OVERHEAD)

struct nm_tnl_key;

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
	/*
	 * Fabric datagrams per inner packet (issue 14 part 3): today one record,
	 * one datagram per inner packet. tx_bursts counts the per-peer groups a
	 * flush sealed; tx_packable the records those groups would have needed
	 * had the packets of one group shared records up to the fabric MTU.
	 */
	uint64_t tx_bursts;
	uint64_t tx_packable;
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

/*
 * Immutable once published (RCU, like the pod table). One allocation of
 * nm_tnl_state_size(max_peers) bytes: the header, max_peers slots, then
 * the fabric-address index (nodemesh/tnl_state.h), so that a copy is one
 * memcpy and holds no pointer into itself.
 */
struct nm_tnl_state {
	uint64_t generation;
	uint32_t max_peers; /* slots in peers[] (tunnel.max_peers) */
	uint32_t ip_mask;   /* index slots - 1: a power of two, at least twice max_peers */
	struct nm_tnl_peer peers[];
};

#endif
