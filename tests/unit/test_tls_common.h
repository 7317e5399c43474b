/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parts of the TLS layer's tests share (test_tls.c,
 * test_tls_msg.c; test_tls_common.c defines them): the suites' set-up,
 * identities and contexts of the nodes scripts/mkcerts made, and a client
 * and a server connected over a non-blocking socketpair, stepped in turn.
 */
#ifndef NM_TEST_TLS_COMMON_H
#define NM_TEST_TLS_COMMON_H

#include <stddef.h>

#include <jansson.h>

#include "peer_tls.h"

#define TD	  "td.test"
#define CERTS_ENV "NM_TEST_TLS_CERTS"

struct pair {
	struct nm_tls_ctx *cctx, *sctx;
	int fd[2]; /* [0] client end, [1] server end */
	struct nm_tls_conn *client, *server;
	int crc, src; /* last handshake step results */
	char cerr[512], serr[512];
};

/* .init of the suites that need certificates: they are there, SIGPIPE ignored. */
void tls_setup(void);
/* Identity of node `node`, whose files are in DIR/subdir (subdir "" or "other"). */
void identity(struct nm_tls_identity *id, const char *subdir, const char *node, int with_crl);
struct nm_tls_ctx *ctx_of(const char *subdir, const char *node);
/*
 * Client node `client` (files in csub) dials, expecting `dial`; server node
 * `server` expects `expect` (NULL: any node).
 */
void pair_open(struct pair *p, const char *csub, const char *client, const char *dial,
	       const char *server, const char *expect);
/* Step both ends until neither wants more (or a bound, if one waits forever). */
void pair_handshake(struct pair *p);
void pair_close(struct pair *p);
/* A message from the peer of c, which must arrive within a few reads. */
int recv_one(struct nm_tls_conn *c, json_t **msg, char *err, size_t errlen);
/* {"f":"xxx..."} whose compact JSON is `bytes` long (8 bytes more than the string). */
json_t *sized_msg(size_t bytes);
/* Nodes a and b, handshake done. */
void connected(struct pair *p);

#endif
