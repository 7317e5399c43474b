/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One simulated peer's control connection (sim_peer.c): dial, step on
 * poll() events, announce its pods, answer and make key offers.
 */
#ifndef NM_SIM_PEER_H
#define NM_SIM_PEER_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

/* The daemon every simulated peer talks to. */
struct sim_target {
	char name[SIM_NAME_LEN]; /* its node name: the SAN its certificate must carry */
	uint32_t ip;		 /* its tunnel.listen address, network order */
	uint16_t port;
	unsigned int cipher; /* enum nm_tnl_cipher: the daemon's tunnel.cipher */
};

/* What each simulated peer announces: pod j (1..per_peer) is pod_cidr.net + j. */
struct sim_pods {
	unsigned int per_peer;
	char ns[SIM_NAME_LEN]; /* identity NS/PEERNAME, labels app=peersim,node=PEERNAME */
};

/* Start a non-blocking connect from p's address; 0, or -1 with p failed. */
int sim_peer_dial(struct sim_peer *p, const struct sim_target *t);

/* Close the connection (the daemon sees the session end); p can dial again. */
void sim_peer_close(struct sim_peer *p);

/* The poll() events p waits for. */
short sim_peer_events(const struct sim_peer *p);

/* Advance p after poll() said revents: connect, handshake, flush, read. */
void sim_peer_step(struct sim_peer *p, short revents, const struct sim_target *t,
		   const struct sim_pods *pods);

/* Send pod_add (add) or pod_del for p's pod j (1-based); 0 or -1 (p is not up, or failed). */
int sim_peer_announce(struct sim_peer *p, const struct sim_pods *pods, unsigned int j, bool add);

/* Send pod_add (add) or pod_del for each of p's pods; 0 or -1 (p failed). */
int sim_peer_announce_all(struct sim_peer *p, const struct sim_pods *pods, bool add);

/* Address of p's pod j (1-based), network order. */
uint32_t sim_pod_ip(const struct sim_peer *p, unsigned int j);

#endif
