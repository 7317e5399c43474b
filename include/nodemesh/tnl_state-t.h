/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel state: the peers' keys and replay windows as the control thread
 * publishes them (ctrl/node_tunnel.c) and the workers use them
 * (dataplane/fabric.c). Wire format and record layer: nodemesh/tunnel-t.h.
 *
 * No worker owns the fabric (issue 14 part 1): the fabric port has an RX
 * and a TX queue per worker; a worker seals the packets for remote pods it
 * routes and opens the records its queue receives. A key is therefore a
 * key set (struct nm_tnl_keyset) with a context per worker, one shared
 * sequence counter per sending key and one shared replay window per
 * receiving key; the per-peer counters are per worker.
 */
#ifndef NM_TNL_STATE_T_H
#define NM_TNL_STATE_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "nodemesh/cidr-t.h"
#include "nodemesh/dataplane-t.h"
#include "nodemesh/pod-t.h"
#include "nodemesh/tunnel-t.h"

#define NM_TNL_OUTER_LEN (RTE_ETHER_HDR_LEN + 20 + 8) /* outer Ethernet, IPv4, UDP */
/* Bytes a tunnel adds to an inner IP packet on the fabric (outer IPv4 + UDP + record). */
#define NM_TNL_IP_OVERHEAD (20 + 8 + NM_TNL_OVERHEAD)

_Static_assert(NM_TNL_CTX_MAX >= NM_MAX_WORKERS, "a key set has a context per worker");

/* A peer's fabric MAC in one word, so that any worker may learn it and any read it. */
#define NM_PEER_MAC_KNOWN (1ull << 48)

/*
 * Per peer, what the workers write; lives as long as the peer slot. The
 * counters are per worker (w[i] written by worker i only, summed by the
 * control thread); the MAC is one atomic word (bits 0-47 the address in
 * wire order, NM_PEER_MAC_KNOWN once learnt) that any worker stores when an
 * ARP reply or an authentic record shows it.
 */
struct nm_peer_live {
	uint64_t arp_sent_tsc; /* this worker's last ARP request for the peer */
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

struct nm_peer_dyn {
	uint64_t mac;				     /* atomic, see above */
	struct nm_peer_live w[] __rte_cache_aligned; /* one per worker */
};

struct nm_tnl_peer {
	uint8_t in_use;
	uint32_t fabric_ip; /* network order */
	struct nm_cidr pod_cidr;
	struct nm_tnl_keyset *tx;    /* NULL: no keys yet, every packet to it is dropped */
	struct nm_tnl_keyset *rx[2]; /* receive epochs: the current one and the previous */
	struct nm_peer_dyn *dyn;     /* allocated with the slot */
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
