/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Types of the node-to-node mutual TLS 1.3 layer (ctrl/peer_tls.c): the
 * node's identity as the config gives it, and the outcomes of one
 * non-blocking step.
 */
#ifndef NM_PEER_TLS_T_H
#define NM_PEER_TLS_T_H

#include "nodemesh/pod-t.h"

#define NM_TLS_PATH_LEN 256 /* bytes of a file name, NUL included */

/* The only TLS 1.3 cipher suites offered or accepted: all AEAD. */
#define NM_TLS_CIPHERSUITES                                                                        \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/*
 * Tunnel key derivation from the TLS 1.3 exporter (RFC 8446 section 7.5):
 *
 *   TLS-Exporter(NM_TLS_EXPORT_LABEL, context, key_len + NM_TLS_IV_LEN)
 *   context = epoch (4 bytes, big-endian) || direction (1 byte)
 *
 * first key_len bytes are the AEAD key, the last NM_TLS_IV_LEN the IV. The
 * dataplane and the README's wire format depend on this layout: it must
 * not change.
 */
#define NM_TLS_EXPORT_LABEL   "EXPORTER-nodemesh-tunnel"
#define NM_TLS_EXPORT_CTX_LEN 5
#define NM_TLS_IV_LEN	      12 /* bytes: TLS 1.3 per-record nonce length */
#define NM_TLS_KEY_MAX	      32 /* bytes: AES-256-GCM, ChaCha20-Poly1305 */

/* Direction of a tunnel key, named by the TLS roles of the control connection. */
enum nm_tls_dir {
	NM_TLS_DIR_CLIENT_TO_SERVER = 0, /* sealed by the TLS client, opened by the server */
	NM_TLS_DIR_SERVER_TO_CLIENT = 1, /* sealed by the TLS server, opened by the client */
};

/*
 * What a non-blocking call needs next. Failures are negative errno values,
 * never one of these.
 */
enum nm_tls_step {
	NM_TLS_DONE = 0,       /* finished: handshake complete, data sent, message received */
	NM_TLS_WANT_READ = 1,  /* call again when the socket is readable (POLLIN) */
	NM_TLS_WANT_WRITE = 2, /* call again when the socket is writable (POLLOUT) */
};

/* This node's identity: what the config's node section names. */
struct nm_tls_identity {
	char node[NM_NAME_LEN];		 /* this node's name: its SAN is spiffe://TD/node/NAME */
	char trust_domain[NM_NAME_LEN];	 /* SPIFFE trust domain of the cluster */
	char cert_file[NM_TLS_PATH_LEN]; /* PEM: this node's certificate (+ chain) */
	char key_file[NM_TLS_PATH_LEN];	 /* PEM: its private key */
	char ca_file[NM_TLS_PATH_LEN];	 /* PEM: the CA bundle peers must chain to */
	char crl_file[NM_TLS_PATH_LEN];	 /* PEM: CRLs of those CAs; "" = no revocation check */
};

#endif
