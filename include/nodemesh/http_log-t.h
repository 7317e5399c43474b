/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP transaction records (EVE `http` events) from the workers to the
 * control thread. A worker fills one per message its HTTP parser follows:
 * a request at the server's side of a flow, a final response at the
 * client's side (README "Signatures (IDS/IPS)": the request stream is
 * inspected where it arrives). The record is taken from a pool when the
 * head completes, counts the body while it passes, and goes on the
 * worker's http ring when the message ends, or when the stream closes
 * first (then marked incomplete). The control thread pairs a request with
 * its response by flow and transaction number (ctrl/node_http.c).
 *
 * Field lengths are bounded; a longer value is cut and the cut is marked
 * (NM_HTTP_TRUNC_*), never silently.
 */
#ifndef NM_HTTP_LOG_T_H
#define NM_HTTP_LOG_T_H

#include <stdint.h>

#include "nodemesh/flowkey.h"

#define NM_HTTP_LOG_METHOD_LEN 32   /* the parser's method bound: never cut */
#define NM_HTTP_LOG_HOST_LEN   256  /* a DNS name is at most 253 bytes */
#define NM_HTTP_LOG_URI_LEN    1024 /* the request-target as sent */
#define NM_HTTP_LOG_UA_LEN     256
#define NM_HTTP_RING_SIZE      1024 /* records in flight per worker */

enum nm_http_trunc {
	NM_HTTP_TRUNC_HOST = 1u << 0,
	NM_HTTP_TRUNC_URI = 1u << 1,
	NM_HTTP_TRUNC_UA = 1u << 2,
};

/*
 * A message head's logged fields. Strings are not NUL-terminated: each
 * has its length. A request has method and uri; host and user agent when
 * the headers carried them. A response has status only.
 */
struct nm_http_fields {
	uint16_t status;   /* responses: 100..999; 0 for a request */
	uint8_t truncated; /* enum nm_http_trunc */
	uint8_t method_len;
	uint16_t host_len;
	uint16_t uri_len;
	uint16_t ua_len;
	char method[NM_HTTP_LOG_METHOD_LEN];
	char host[NM_HTTP_LOG_HOST_LEN]; /* the Host header as sent, port included */
	char uri[NM_HTTP_LOG_URI_LEN];	 /* the request-target as sent (Suricata's "url") */
	char ua[NM_HTTP_LOG_UA_LEN];
};

struct nm_http_record {
	struct nm_flow_key key; /* the flow, for flow_id */
	uint32_t init_pod_id;
	uint32_t client_pod_id; /* the flow's initiator */
	uint32_t server_pod_id;
	uint32_t client_ip; /* network order */
	uint32_t server_ip;
	uint16_t client_port; /* host order */
	uint16_t server_port;
	uint32_t tx;	     /* requests before this one on the connection (final responses) */
	uint8_t dir;	     /* enum nm_http_dir */
	uint8_t complete;    /* the message ended; 0: its stream closed first */
	uint8_t peer_parsed; /* the other direction is parsed on this node too: pair them */
	uint8_t pad;
	uint64_t tsc;	     /* the head completed */
	uint64_t body_bytes; /* body bytes seen (chunked framing removed) */
	struct nm_http_fields f;
};

#endif
