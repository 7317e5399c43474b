/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pod table: what the control thread publishes to the workers about
 * the node's pods, built by ctrl/pod_table.c and read by every worker
 * stage. The pods other nodes announce are not here but in the ipcache
 * (nodemesh/ipcache-t.h): where a slot stands for one of them it is
 * NM_SLOT_REMOTE, whose entry is the same for every remote pod.
 *
 * Ownership: the control thread builds a new table and publishes it with
 * one pointer store; workers read the current table at the top of each
 * loop turn and report a quiescent state at the bottom (rte_rcu_qsbr), so
 * a replaced table is freed only once no worker can still hold it. Each
 * pod is owned by one worker: only that worker polls its port (or its
 * rings, nodemesh/podio-t.h), transmits on it and writes its nm_pod_live
 * and nm_podio.
 */
#ifndef NM_POD_TABLE_T_H
#define NM_POD_TABLE_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "nodemesh/dataplane-t.h"
#include "nodemesh/pod-t.h"

struct nm_policy;
struct nm_podio;

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
	uint32_t id;	   /* unique for the run, never reused */
	uint32_t identity; /* security identity id (ctrl/idreg.h), set when the table's policy is
			      compiled */
	uint8_t remote;	   /* NM_SLOT_REMOTE's entry: any pod of another node */
	uint16_t port_id;  /* af_xdp, memif: the pod's ethdev; unused when io is set */
	uint16_t worker;   /* index of the owner worker */
	struct rte_ether_addr port_mac; /* our end of the link: the gateway MAC */
	struct nm_pod_live *live;	/* NULL: slot free, or a remote pod */
	struct nm_podio *io;		/* af_packet: the pod's rings (NULL: an ethdev) */
};

/*
 * The slot that stands for any remote pod (a flow's end, a made packet's
 * destination): pods[NM_SLOT_REMOTE] is present, remote, with id
 * NM_POD_ID_REMOTE, and no identity of its own; its identity and peer
 * are the ipcache's, by address.
 */
#define NM_SLOT_REMOTE	 NM_MAX_PODS
#define NM_POD_ID_REMOTE UINT32_MAX

/* Is the slot in use (a local pod with its port, or the remote pods' slot)? */
static inline bool
nm_pod_present(const struct nm_pod *p)
{
	return p->live != NULL || p->remote;
}

/*
 * The index of pods by IPv4 address: open addressing with linear probing
 * (nodemesh/pod_index.h), at most half full, so that a lookup, hit or
 * miss, reads one or two cache lines and never calls out. Addresses come
 * from the control plane, not from traffic; the hash is seeded anyway.
 */
#define NM_POD_INDEX_SIZE (NM_MAX_PODS * 2) /* a power of two */

struct nm_pod_index_entry {
	uint32_t ip;   /* network order */
	uint16_t slot; /* in nm_pod_table.pods */
	uint16_t used; /* 0: empty, ends a probe */
};

/*
 * Immutable once published. Slots keep their index for a pod's lifetime.
 * The policy is compiled against these pods; the generation changes with
 * every publication, and flows re-judge themselves when it does.
 */
struct nm_pod_table {
	uint64_t generation;
	struct nm_policy *policy; /* owned by the table */
	uint32_t ip_hash_seed;	  /* by_ip's seed (nm_pod_ip_hash in nodemesh/pod_index.h) */
	uint32_t n_pods;
	uint16_t n_owned[NM_MAX_WORKERS];
	uint16_t owned[NM_MAX_WORKERS][NM_MAX_PODS];	    /* slots each worker polls */
	struct nm_pod pods[NM_MAX_PODS + 1];		    /* and pods[NM_SLOT_REMOTE] */
	struct nm_pod_index_entry by_ip[NM_POD_INDEX_SIZE]; /* pod IPv4 -> slot */
};

#endif
