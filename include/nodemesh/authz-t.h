/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP policy on the workers (dataplane/http_authz.c), as the control
 * thread sees it: its bound and its counters. Each connection that rules
 * with an HTTP clause cover has a request parser at the responder's side
 * from its SYN on; every request head on it is judged by the policy.
 */
#ifndef NM_AUTHZ_T_H
#define NM_AUTHZ_T_H

#include <stdint.h>

#define NM_AUTHZ_FLOWS 1024 /* request parsers per worker (8 KiB head buffer each) */

/* HTTP policy counters of one worker. */
struct nm_authz_counters {
	uint64_t opened;	 /* request parsers taken at a SYN */
	uint64_t requests;	 /* request heads judged */
	uint64_t refused;	 /* requests refused (by a deny rule or the default) */
	uint64_t forbidden_sent; /* HTTP 403 answers sent to clients */
	uint64_t resets_sent;	 /* RSTs sent to servers (and to clients of non-HTTP bytes) */
	uint64_t delayed;	 /* refusals whose 403 waited for the server's earlier answers */
	uint64_t trimmed;	 /* segments cut before a refused request they also carried */
	uint64_t retransmits;	 /* retransmitted bytes verified and forwarded */
	uint64_t tunnelled;	 /* client segments passed unjudged after a 101 or CONNECT 2xx */
};

#endif
