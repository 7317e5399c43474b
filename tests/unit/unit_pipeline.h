/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-memory pipeline harness shared by test_worker.c, test_inspect.c
 * and test_fabric.c (unit_pipeline.c, linked into each): pod ports are
 * net_ring ethdevs (rte_eth_from_rings) with an RX ring the test fills and
 * a TX ring the test drains; the node comes from nm_node_create() and its
 * workers are never launched: a test calls nm_worker_rx_pod /
 * nm_worker_rx_handoff / nm_worker_flush itself, which is what one worker
 * loop turn does. Pods are inserted without af_packet by building a pod
 * table the way node.c does (clone, fill a slot, index, swap). Frames are
 * written with frames.h.
 */
#ifndef NM_UNIT_PIPELINE_H
#define NM_UNIT_PIPELINE_H

#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "node_priv.h"
#include "pod_table.h"
#include "nodemesh/worker.h"
#include "nodemesh/tunnel.h"
#include "fabric.h"
#include "inspect.h"
#include "policy_compile.h"
#include "config.h"
#include "node.h"

#include "frames.h"

#define MAX_OUT 64

#define IP_A	IP4(198, 18, 0, 1)
#define IP_B	IP4(198, 18, 0, 2)
#define IP_C	IP4(198, 18, 0, 3)
#define IP_NONE IP4(198, 18, 0, 99)
#define IP_GW	IP4(169, 254, 1, 1)

/* A pod's own MAC, and the MAC of our end of its link (the gateway it sees). */
extern const uint8_t MAC_A[6], MAC_B[6], MAC_C[6];
extern const uint8_t PORT_MAC_A[6], PORT_MAC_B[6], PORT_MAC_C[6];

/* One in-memory pod port. */
struct tport {
	uint16_t id;
	struct rte_ring *rx; /* the test enqueues what the pod sends */
	struct rte_ring *tx; /* the test dequeues what the dataplane sent to the pod */
};

enum { POD_A, POD_B, POD_C, N_TEST_PODS };

/* The node under test, pod i's port, and pod i's slot in the pod table. */
extern struct nm_node *node;
extern struct tport ports[N_TEST_PODS];
extern const uint16_t slot_of[N_TEST_PODS];

/* ---- frames ------------------------------------------------------------ */

/*
 * An untagged ARP frame from a pod (eth src eth_src) to its gateway:
 * requests (op 1) broadcast, replies to pod A's port MAC. Addresses in
 * host order.
 */
size_t pod_arp_frame(uint8_t *f, const uint8_t *eth_src, uint16_t op, const uint8_t *sha,
		     uint32_t spa, const uint8_t *tha, uint32_t tpa);

/* ---- node and ports ---------------------------------------------------- */

/* A net_ring port named name, started, its RX queue on the node's pool. */
struct tport port_create(const char *name);

/* Index t and make it the current table, as node.c's publish does. */
void table_publish(struct nm_pod_table *t);

/* Publish a copy of the current table with pod i in its slot, owned by worker. */
struct nm_pod_live *pod_insert(unsigned int i, const char *name, uint32_t ip,
			       const uint8_t *port_mac, uint16_t worker);

/* Pod i's live state in the current table. */
struct nm_pod_live *live(unsigned int i);

void learn_mac(unsigned int i, const uint8_t *mac);

/* Suite setups: A and B on one worker; or A on worker 0 and C (MAC known) on worker 1. */
void one_worker_up(void);
void two_workers_up(void);

/* Free whatever the dataplane left on the pods' TX rings. */
void drain_all(void);

/* Suite teardown: free what the TX rings hold, the test pods' live state, the node. */
void node_down(void);

/* ---- driving the pipeline ---------------------------------------------- */

/* Pod i sends these frames; worker w runs one turn over them (RX, pipeline, flush). */
void feed_mbufs(unsigned int w, unsigned int i, struct rte_mbuf **m, unsigned int n);

/* Pod i sends the frame f; worker 0 runs one turn. */
void feed(unsigned int i, const uint8_t *f, size_t len);

/* What the dataplane transmitted to pod i since the last call. */
unsigned int sent_to(unsigned int i, struct rte_mbuf **out);

void assert_nothing_sent(void);

/* Exactly `count` drops for `reason` on worker w and none for any other reason. */
void assert_drops(unsigned int w, enum nm_drop_reason reason, uint64_t count);

void reset_counters(void);

/* An ICMP error to pod A (from the gateway) about the frame `orig`. */
void assert_icmp_to_a(struct rte_mbuf *m, uint8_t type, uint8_t code, uint16_t mtu,
		      const uint8_t *orig);

#endif
