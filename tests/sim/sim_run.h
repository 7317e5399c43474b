/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nm-peersim's run: its options and state (peersim.c runs the phases,
 * sim_args.c fills the options from the command line).
 */
#ifndef NM_SIM_RUN_H
#define NM_SIM_RUN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"
#include "sim_peer.h"

#define MAX_SIM_PEERS 4096
#define MAX_SEND_FROM 16
#define POLL_MS	      5
#define CTL_EVERY_NS  (20 * 1000000ull) /* how often a wait asks the daemon */
#define CTL_FAST_NS   (2 * 1000000ull)	/* ... while it applies announcements */

struct sim {
	/* options */
	unsigned int n_peers;
	double rate;	    /* handshakes started per second; 0: all at once */
	unsigned int batch; /* announcements per timed batch; 0: all at once */
	bool withdraw, restart, register_peers, unregister;
	bool redial;		 /* while holding, a peer whose session ended dials again */
	unsigned int pod_prefix; /* each peer's pod CIDR: the i-th /pod_prefix from pod_base */
	const char *certs, *td, *ctl, *prefix;
	uint32_t mgmt_base, fabric_base, pod_base;
	uint16_t peer_port;
	double timeout_s;
	double hold_s;
	struct sim_target target;
	struct sim_pods pods;
	/* --send */
	bool send;
	const char *fabric_iface;
	struct sim_fabric fabric;
	uint32_t send_dst;
	uint16_t send_port;
	unsigned int send_count;
	unsigned int send_from[MAX_SEND_FROM], n_send_from;
	/* state */
	struct sim_peer *peers;
	unsigned int n_active; /* registered with the daemon */
	struct pollfd *pfd;
	char result[2048];
	size_t result_len;
};

/* Print a refusal of the command line (or of the set-up) and return -1. */
#define BAD(...)                                                                                   \
	do {                                                                                       \
		fprintf(stderr, "nm-peersim: " __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                               \
		return -1;                                                                         \
	} while (0)

/*
 * Fill s from argv (s holds the defaults). Returns 0, or -1 with the
 * reason on stderr; --help prints the usage and exits 0.
 */
int sim_args_parse(struct sim *s, int argc, char **argv);

#endif
