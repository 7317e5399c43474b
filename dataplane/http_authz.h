/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP policy on the workers: each request on a connection that rules
 * with an HTTP clause cover is judged (dataplane/http_authz.c explains
 * how, README "Policy, connection tracking and rate limits" what).
 */
#ifndef NM_HTTP_AUTHZ_H
#define NM_HTTP_AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "nodemesh/drop-t.h"
#include "nodemesh/flow-t.h"
#include "nodemesh/http-t.h"
#include "nodemesh/pkt-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"
#include "inspect.h"

#define NM_AUTHZ_SEGS	   4	/* forwarded segments remembered, to check retransmissions */
#define NM_AUTHZ_RESP_HEAD 4096 /* bytes of a response head the answer counter follows */

enum nm_authz_phase {
	NM_AUTHZ_JUDGING = 0, /* requests parsed and judged */
	NM_AUTHZ_PENDING,     /* a request refused; its 403 waits for earlier answers */
	NM_AUTHZ_TUNNEL,      /* after an Upgrade or CONNECT: the server's answer decides */
	NM_AUTHZ_CLOSED,      /* refused and answered (or reset): payload is dropped */
};

/*
 * The client's byte stream at the responder's side: in order, parsed, and
 * what the server sent and acknowledged (its egress passes this side too).
 * Sequence numbers are the client's unless named for the server.
 */
struct nm_authz {
	struct nm_http_parser parser;
	uint32_t isn;	     /* the client's: stream offset 0 is isn + 1 */
	uint32_t next;	     /* next client byte to parse: all before it reached the server */
	uint32_t client_end; /* end of the client's bytes seen */
	uint32_t acked;	     /* highest acknowledgement the server sent */
	uint32_t server_nxt; /* the server's next sequence number: end of what it sent */
	uint8_t acked_known;
	uint8_t server_known;
	uint8_t phase; /* enum nm_authz_phase */
	uint8_t seg_pos;
	int16_t refuse_idx; /* the refusing rule's index, or NM_POLICY_DEFAULT */
	uint16_t refuse_slot;
	uint32_t refuse_rule_id; /* 0: the default action */
	uint32_t refuse_seq;	 /* first byte of the refused request */
	struct nm_seg_seen seg[NM_AUTHZ_SEGS];
	/*
	 * The server's answers, counted so that a 403 never overtakes one:
	 * awaiting allowed requests were forwarded, answered answers ended.
	 */
	struct nm_http_parser resp;
	uint32_t resp_next; /* the server's next byte to parse */
	uint32_t awaiting;
	uint32_t answered;
	uint8_t resp_lost; /* the answers cannot be followed: count on the client's ACK alone */
	uint8_t head[NM_HTTP_HEAD_BYTES_DEFAULT]; /* the request parser's head buffer */
	uint8_t resp_head[NM_AUTHZ_RESP_HEAD];	  /* the response parser's */
};

/* The worker's NM_AUTHZ_FLOWS parsers and the stack of free ones. 0 or -ENOMEM. */
int nm_authz_pool_init(struct nm_worker *w, int socket);
void nm_authz_pool_fini(struct nm_worker *w);

/*
 * A client packet arriving into the responder pod of an http_judged flow
 * f. Returns NM_DROP_NONE (forward it; *ip_len is its IP length, smaller
 * than meta's when the segment was cut before a refused request) or why
 * it must be dropped; a refusal adds the 403 and the resets to *made.
 */
enum nm_drop_reason nm_authz_request(struct nm_worker *w, const struct nm_pod_table *tbl,
				     struct nm_flow *f, struct rte_mbuf *m,
				     const struct nm_pkt_meta *meta, uint16_t src_slot,
				     uint16_t slot, uint32_t *ip_len, struct nm_made *made);

/*
 * The server's own packet m, leaving its pod, on the flow f whose requests
 * are judged: what it sent and acknowledged, and its answers counted.
 */
void nm_authz_response(struct nm_worker *w, struct nm_flow *f, const struct rte_mbuf *m,
		       const struct nm_pkt_meta *meta);

/* f is ending: its parser goes back to the pool. */
void nm_authz_release(struct nm_worker *w, struct nm_flow *f);

#endif
