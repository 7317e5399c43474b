/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mutual TLS 1.3 between nodes (ctrl/peer_tls.c), for the control threads:
 * the context built from this node's identity, non-blocking connections
 * driven by poll(), the peer identity check, framed JSON messages, and the
 * tunnel keys exported from the session (DESIGN.md, "Tunnel between nodes").
 *
 * A peer is authenticated when its certificate chains to the CA bundle, is
 * within its validity period, is not on the CRL (when one is configured),
 * and carries exactly one SAN URI, spiffe://<trust domain>/node/<name>,
 * naming the expected peer. Only TLS 1.3 and its three AEAD suites are
 * offered or accepted; no session is ever resumed, so each handshake is a
 * full (EC)DHE one and has forward secrecy.
 *
 * All calls that take err fill it with a reason a log line can carry.
 * The layer uses OpenSSL's per-thread error queue and clears it itself.
 * OpenSSL writes to the socket with write(2): the process must ignore
 * SIGPIPE (nodemeshd does), or a peer that went away kills it.
 */
#ifndef NM_PEER_TLS_H
#define NM_PEER_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "peer_tls-t.h"

struct nm_tls_ctx;  /* one per identity; shared by all connections */
struct nm_tls_conn; /* one per TCP connection to a peer */

/*
 * The TLS context for this node: loads and checks its certificate (it must
 * carry this node's own SAN URI), key (it must match), the CA bundle and
 * the CRL. Returns NULL with errno set and err naming the file and what
 * was wrong with it. An expired CRL is refused here rather than failing
 * every handshake later.
 */
struct nm_tls_ctx *nm_tls_ctx_new(const struct nm_tls_identity *id, char *err, size_t errlen);

/* Free ctx. Connections made from it stay valid (they hold the SSL_CTX). */
void nm_tls_ctx_free(struct nm_tls_ctx *ctx);

/* The OpenSSL context, for what this layer does not wrap (tests, key logging). */
SSL_CTX *nm_tls_ctx_ssl(struct nm_tls_ctx *ctx);

/*
 * A connection on a connected, non-blocking TCP socket fd (which the caller
 * keeps owning and closes). The client knows whom it dialled: peer_name is
 * required. A server may name the peer it expects (say, from the source
 * address) or pass NULL to accept any node of the trust domain and learn
 * which from nm_tls_conn_peer() once the handshake is done. Returns NULL
 * with errno set.
 */
struct nm_tls_conn *nm_tls_client_new(struct nm_tls_ctx *ctx, int fd, const char *peer_name);
struct nm_tls_conn *nm_tls_server_new(struct nm_tls_ctx *ctx, int fd, const char *peer_name);

/*
 * Free c: sends close_notify if the handshake had finished (one attempt,
 * never blocks); does not close the socket.
 */
void nm_tls_conn_free(struct nm_tls_conn *c);

/* The OpenSSL connection: for nm_tls_export_key() and inspection. */
SSL *nm_tls_conn_ssl(struct nm_tls_conn *c);

/* The authenticated peer's node name after NM_TLS_DONE; "" before. */
const char *nm_tls_conn_peer(const struct nm_tls_conn *c);

/*
 * Advance the handshake. Returns NM_TLS_DONE once it is complete and the
 * peer is authenticated (nm_tls_check_peer passed), NM_TLS_WANT_READ or
 * NM_TLS_WANT_WRITE, or a negative errno with err saying why:
 *   -EACCES     this side refused the peer's certificate ("certificate
 *               revoked", "unknown CA", "certificate expired", "SAN URI
 *               ... does not match expected ...")
 *   -EPROTO     the TLS exchange failed (no TLS 1.3, or the peer refused
 *               this node: "tlsv1 alert unknown ca", ...)
 *   -ECONNRESET the peer closed the connection
 * In TLS 1.3 the client finishes before the server has checked the
 * client's certificate: a client learns that it was refused from its first
 * read (nm_tls_recv_json fails with the server's alert). Treat a
 * connection as up on the client side only once the server's first
 * message has arrived.
 */
int nm_tls_handshake_step(struct nm_tls_conn *c, char *err, size_t errlen);

/*
 * Is the peer of ssl authenticated as node peer_name of trust_domain?
 * peer_name NULL accepts any valid node name. Returns 0, or -EACCES with
 * err holding the reason: the X.509 verification error in words (from
 * SSL_get_verify_result), no certificate, not TLS 1.3, or the SAN URI
 * that was found against the one expected.
 */
int nm_tls_check_peer(SSL *ssl, const char *trust_domain, const char *peer_name, char *err,
		      size_t errlen);

/*
 * Tunnel key and IV for (epoch, dir) from the TLS 1.3 exporter of a
 * finished session; the layout is in peer_tls-t.h (NM_TLS_EXPORT_LABEL).
 * Both ends of a connection derive the same bytes for the same epoch and
 * dir, whichever end calls: the TLS client seals with
 * NM_TLS_DIR_CLIENT_TO_SERVER and opens with NM_TLS_DIR_SERVER_TO_CLIENT,
 * the server the other way round. Any other epoch or dir gives unrelated
 * bytes. key_len is 1..NM_TLS_KEY_MAX (16 for AES-128-GCM, 32 for
 * AES-256-GCM and ChaCha20-Poly1305). Returns 0, -EINVAL for bad
 * arguments or a session that is not a finished TLS 1.3 one, or -EIO.
 */
int nm_tls_export_key(SSL *ssl, uint32_t epoch, int dir, size_t key_len, uint8_t *key,
		      uint8_t iv[NM_TLS_IV_LEN]);

/*
 * Queue msg as one frame (peer_msg-t.h) and write as much as the socket
 * takes. Returns NM_TLS_DONE when all queued bytes are written,
 * NM_TLS_WANT_WRITE / NM_TLS_WANT_READ when some remain (call
 * nm_tls_flush() when the socket is ready), or a negative errno: -EMSGSIZE
 * (message over NM_MSG_MAX, nothing queued), -ENOBUFS (over a MiB already
 * queued: the peer is not reading), -EPROTO, -ECONNRESET, -ENOTCONN
 * (handshake not done).
 */
int nm_tls_send_json(struct nm_tls_conn *c, const json_t *msg, char *err, size_t errlen);

/* Write queued frames; returns as nm_tls_send_json does. */
int nm_tls_flush(struct nm_tls_conn *c, char *err, size_t errlen);

/* Bytes queued and not yet taken by TLS. */
size_t nm_tls_pending(const struct nm_tls_conn *c);

/*
 * The next message from the peer. Returns NM_TLS_DONE with *msg (a JSON
 * object; json_decref() it), NM_TLS_WANT_READ / NM_TLS_WANT_WRITE when no
 * whole message has arrived yet, or a negative errno: -EMSGSIZE, -EBADMSG
 * (bad frame: the connection is lost), -ECONNRESET (closed), -EPROTO (TLS
 * failure or the peer's alert). Several messages may arrive in one TCP
 * read and TLS keeps them: call until it returns something else than
 * NM_TLS_DONE before polling again.
 */
int nm_tls_recv_json(struct nm_tls_conn *c, json_t **msg, char *err, size_t errlen);

#endif
