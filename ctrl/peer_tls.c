/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mutual TLS 1.3 between nodes: the control connection that authenticates
 * a peer, carries its pod announcements, and yields the tunnel keys
 * through the TLS exporter (RFC 8446 section 7.5). OpenSSL does the
 * protocol; this file pins it to TLS 1.3 with AEAD suites and no
 * resumption, adds the SPIFFE node identity check to the certificate
 * verification, and turns every failure into a reason worth logging.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "names.h"
#include "peer_msg.h"
#include "peer_tls.h"

#define TX_MAX	     ((size_t)1024 * 1024) /* bytes queued for one peer before send refuses */
#define REASON_LEN   256
#define TLS13_GROUPS "X25519:P-256:P-384"

struct nm_tls_ctx {
	SSL_CTX *ssl_ctx;
	char trust_domain[NM_NAME_LEN];
};

struct nm_tls_conn {
	SSL *ssl;
	char trust_domain[NM_NAME_LEN];
	char expect[NM_NAME_LEN]; /* peer name wanted; "" = any node of the trust domain */
	char peer[NM_NAME_LEN];	  /* authenticated peer name, once the handshake is done */
	char reject[REASON_LEN];  /* why verify_cb refused the peer's certificate */
	uint8_t *tx;		  /* queued frames: bytes tx_off..tx_len not yet written */
	size_t tx_off, tx_len, tx_cap;
	size_t tx_retry; /* length of the SSL_write to repeat after WANT_*; 0 = none */
	struct nm_msg_rx rx;
};

/*
 * X.509 verification errors a peer's certificate is most often refused
 * for, in the words an operator looks for; the rest keep OpenSSL's words.
 */
static const struct {
	long code;
	const char *reason;
} verify_reasons[] = {
    {X509_V_ERR_CERT_REVOKED, "certificate revoked"},
    {X509_V_ERR_CERT_HAS_EXPIRED, "certificate expired"},
    {X509_V_ERR_CERT_NOT_YET_VALID, "certificate not yet valid"},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "unknown CA"},
    {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "unknown CA"},
    {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "unknown CA"},
    {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "unknown CA (self-signed certificate)"},
    {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "unknown CA (self-signed certificate in chain)"},
    {X509_V_ERR_CERT_SIGNATURE_FAILURE, "bad certificate signature"},
    {X509_V_ERR_UNABLE_TO_GET_CRL, "no CRL from the certificate's issuer"},
    {X509_V_ERR_CRL_HAS_EXPIRED, "CRL expired"},
    {X509_V_ERR_CRL_NOT_YET_VALID, "CRL not yet valid"},
    {X509_V_ERR_INVALID_PURPOSE, "certificate not for TLS client and server use (EKU)"},
};

/* This thread's last OpenSSL error in words; the error queue is cleared. */
static const char *
ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = ERR_reason_error_string(e);

	if (e == 0)
		snprintf(buf, len, "no OpenSSL error recorded");
	else if (r != NULL)
		snprintf(buf, len, "%s", r);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/*
 * Does cert carry exactly one SAN URI, spiffe://td/node/NAME, with want as
 * NAME (any valid name when want is NULL)? Returns 0 with the name in
 * name[NM_NAME_LEN] (if not NULL), or -EACCES with the reason.
 */
static int
san_check(X509 *cert, const char *td, const char *want, char *name, char *err, size_t errlen)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	char prefix[sizeof("spiffe:///node/") + NM_NAME_LEN];
	const char *uri = NULL;
	int uri_len = 0, n_uri = 0, prefix_len, rc = -EACCES;

	prefix_len = snprintf(prefix, sizeof(prefix), "spiffe://%s/node/", td);
	for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

		if (gn->type != GEN_URI)
			continue;
		n_uri++;
		uri = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		uri_len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
	}
	if (n_uri != 1) {
		snprintf(err, errlen, "certificate has %d SAN URIs, expected one: %s%s", n_uri,
			 prefix, want != NULL ? want : "<name>");
		goto out;
	}
	for (int i = 0; i < uri_len; i++) {
		if (uri[i] <= ' ' || uri[i] > '~') {
			snprintf(err, errlen, "SAN URI holds byte 0x%02x, expected %s%s",
				 (unsigned char)uri[i], prefix, want != NULL ? want : "<name>");
			goto out;
		}
	}
	if (uri_len <= prefix_len || memcmp(uri, prefix, (size_t)prefix_len) != 0 ||
	    !nm_name_valid(uri + prefix_len, (size_t)(uri_len - prefix_len)) ||
	    (want != NULL && (strlen(want) != (size_t)(uri_len - prefix_len) ||
			      memcmp(uri + prefix_len, want, strlen(want)) != 0))) {
		snprintf(err, errlen, "SAN URI %.*s does not match expected %s%s",
			 uri_len < 200 ? uri_len : 200, uri, prefix,
			 want != NULL ? want : "<node name>");
		goto out;
	}
	if (name != NULL) {
		memcpy(name, uri + prefix_len, (size_t)(uri_len - prefix_len));
		name[uri_len - prefix_len] = '\0';
	}
	rc = 0;
out:
	GENERAL_NAMES_free(sans);
	return rc;
}

/*
 * Runs for each certificate of the peer's chain after OpenSSL's own check
 * of it (ok). The SAN check belongs here rather than after the handshake:
 * a refused peer gets an alert and its handshake fails too, and the
 * verification result records why for nm_tls_check_peer().
 */
static int
verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct nm_tls_conn *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;

	if (!ok || c == NULL || X509_STORE_CTX_get_error_depth(store) != 0)
		return ok;
	if (san_check(X509_STORE_CTX_get_current_cert(store), c->trust_domain,
		      c->expect[0] != '\0' ? c->expect : NULL, NULL, c->reject,
		      sizeof(c->reject)) != 0) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

static void
verify_reason(SSL *ssl, long code, char *err, size_t errlen)
{
	const struct nm_tls_conn *c = SSL_get_app_data(ssl);

	if (code == X509_V_ERR_APPLICATION_VERIFICATION && c != NULL && c->reject[0] != '\0') {
		snprintf(err, errlen, "peer certificate refused: %s", c->reject);
		return;
	}
	for (size_t i = 0; i < sizeof(verify_reasons) / sizeof(verify_reasons[0]); i++) {
		if (verify_reasons[i].code == code) {
			snprintf(err, errlen, "peer certificate refused: %s (X509 error %ld: %s)",
				 verify_reasons[i].reason, code,
				 X509_verify_cert_error_string(code));
			return;
		}
	}
	snprintf(err, errlen, "peer certificate refused: %s (X509 error %ld)",
		 X509_verify_cert_error_string(code), code);
}

/* check_peer with the authenticated name in name[NM_NAME_LEN] (if not NULL). */
static int
check_peer(SSL *ssl, const char *td, const char *want, char *name, char *err, size_t errlen)
{
	long verify = SSL_get_verify_result(ssl);
	X509 *cert = SSL_get0_peer_certificate(ssl);
	int rc;

	if (verify != X509_V_OK) {
		verify_reason(ssl, verify, err, errlen);
		return -EACCES;
	}
	if (cert == NULL) {
		snprintf(err, errlen, "peer sent no certificate");
		return -EACCES;
	}
	if (SSL_version(ssl) != TLS1_3_VERSION) {
		snprintf(err, errlen, "session is %s, not TLS 1.3", SSL_get_version(ssl));
		return -EACCES;
	}
	rc = san_check(cert, td, want, name, err, errlen);
	if (rc != 0) {
		/* Keep the reason in front of what san_check says. */
		char why[REASON_LEN];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "peer certificate refused: %s", why);
	}
	return rc;
}

int
nm_tls_check_peer(SSL *ssl, const char *trust_domain, const char *peer_name, char *err,
		  size_t errlen)
{
	return check_peer(ssl, trust_domain, peer_name, NULL, err, errlen);
}

/* Every CRL in path into the store, and CRL checking of peer certificates on. */
static int
load_crl(SSL_CTX *ssl_ctx, const char *path, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
	BIO *bio = BIO_new_file(path, "r");
	X509_CRL *crl;
	char why[REASON_LEN];
	int n = 0, rc = 0;

	if (bio == NULL) {
		snprintf(err, errlen, "CRL %s: cannot open: %s", path,
			 ossl_reason(why, sizeof(why)));
		return -ENOENT;
	}
	/*
	 * PEM_read_bio_X509_CRL rather than X509_STORE_load_file: the latter
	 * also takes certificates, and a certificate slipped into the CRL
	 * file would become a trust anchor.
	 */
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

		if (next != NULL && X509_cmp_current_time(next) < 0) {
			snprintf(err, errlen,
				 "CRL %s: expired (its next update has passed); re-issue it", path);
			rc = -EKEYEXPIRED;
		} else if (X509_STORE_add_crl(store, crl) != 1) {
			snprintf(err, errlen, "CRL %s: X509_STORE_add_crl failed: %s", path,
				 ossl_reason(why, sizeof(why)));
			rc = -EINVAL;
		}
		X509_CRL_free(crl);
		if (rc != 0)
			goto out;
		n++;
	}
	/* The loop ends on "no start line" at the end of the file: not an error. */
	ERR_clear_error();
	if (n == 0) {
		snprintf(err, errlen, "CRL %s: no PEM X509 CRL in it", path);
		rc = -EINVAL;
		goto out;
	}
	/* The peer's own certificate is checked; the CA is trusted as configured. */
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
out:
	BIO_free(bio);
	return rc;
}

/* This node's certificate (it must name this node) and key, the CA bundle, the CRL. */
static int
load_files(SSL_CTX *ssl_ctx, const struct nm_tls_identity *id, char *err, size_t errlen)
{
	char why[REASON_LEN], san[REASON_LEN];

	if (SSL_CTX_use_certificate_chain_file(ssl_ctx, id->cert_file) != 1) {
		snprintf(err, errlen, "certificate %s: %s", id->cert_file,
			 ossl_reason(why, sizeof(why)));
		return -EINVAL;
	}
	if (san_check(SSL_CTX_get0_certificate(ssl_ctx), id->trust_domain, id->node, NULL, san,
		      sizeof(san)) != 0) {
		snprintf(err, errlen, "certificate %s is not this node's: %s", id->cert_file, san);
		return -EINVAL;
	}
	/* Loading the key checks it against the certificate; so does the check after. */
	if (SSL_CTX_use_PrivateKey_file(ssl_ctx, id->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ssl_ctx) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			snprintf(err, errlen, "key %s does not match certificate %s", id->key_file,
				 id->cert_file);
		else
			snprintf(err, errlen, "key %s: %s", id->key_file,
				 ossl_reason(why, sizeof(why)));
		ERR_clear_error();
		return -EINVAL;
	}
	if (SSL_CTX_load_verify_file(ssl_ctx, id->ca_file) != 1) {
		snprintf(err, errlen, "CA bundle %s: %s", id->ca_file,
			 ossl_reason(why, sizeof(why)));
		return -EINVAL;
	}
	return id->crl_file[0] != '\0' ? load_crl(ssl_ctx, id->crl_file, err, errlen) : 0;
}

static int
check_identity(const struct nm_tls_identity *id, char *err, size_t errlen)
{
	if (!nm_name_valid(id->node, strnlen(id->node, NM_NAME_LEN)) ||
	    !nm_name_valid(id->trust_domain, strnlen(id->trust_domain, NM_NAME_LEN))) {
		snprintf(err, errlen,
			 "node name and trust domain must be 1 to %d characters of a-z, 0-9, "
			 "'-', '.', '_'",
			 NM_NAME_LEN - 1);
		return -EINVAL;
	}
	if (id->cert_file[0] == '\0' || id->key_file[0] == '\0' || id->ca_file[0] == '\0') {
		snprintf(err, errlen, "certificate, key and CA bundle files are all required");
		return -EINVAL;
	}
	if (memchr(id->cert_file, '\0', NM_TLS_PATH_LEN) == NULL ||
	    memchr(id->key_file, '\0', NM_TLS_PATH_LEN) == NULL ||
	    memchr(id->ca_file, '\0', NM_TLS_PATH_LEN) == NULL ||
	    memchr(id->crl_file, '\0', NM_TLS_PATH_LEN) == NULL) {
		snprintf(err, errlen, "file names must be under %d bytes", NM_TLS_PATH_LEN);
		return -ENAMETOOLONG;
	}
	return 0;
}

struct nm_tls_ctx *
nm_tls_ctx_new(const struct nm_tls_identity *id, char *err, size_t errlen)
{
	struct nm_tls_ctx *ctx = NULL;
	SSL_CTX *s;
	char why[REASON_LEN];
	int rc;

	ERR_clear_error();
	rc = check_identity(id, err, errlen);
	if (rc != 0)
		goto out;
	rc = -ENOMEM;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(ctx->trust_domain, id->trust_domain, strlen(id->trust_domain) + 1);
	ctx->ssl_ctx = s = SSL_CTX_new(TLS_method());
	if (s == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed: %s", ossl_reason(why, sizeof(why)));
		goto out;
	}

	/* TLS 1.3 only, AEAD suites only (RFC 8446 has no other kind). */
	rc = -EPROTO;
	if (SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(s, NM_TLS_CIPHERSUITES) != 1 ||
	    SSL_CTX_set1_groups_list(s, TLS13_GROUPS) != 1) {
		snprintf(err, errlen, "cannot restrict OpenSSL to TLS 1.3 (%s, %s): %s",
			 NM_TLS_CIPHERSUITES, TLS13_GROUPS, ossl_reason(why, sizeof(why)));
		goto out;
	}
	/*
	 * No tickets, no session cache: every handshake is a full one with
	 * fresh (EC)DHE keys, which is what the periodic re-handshake is for.
	 */
	SSL_CTX_set_options(s, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(s, 0);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	/*
	 * nm_tls_flush() may move and grow its buffer between retries. An idle
	 * session gives its record buffers back (some 50 KB): a node holds a
	 * session per peer, up to tunnel.max_peers, and most are idle.
	 */
	SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);

	rc = load_files(s, id, err, errlen);
out:
	ERR_clear_error();
	if (rc != 0) {
		nm_tls_ctx_free(ctx);
		ctx = NULL;
		errno = -rc;
	}
	return ctx;
}

void
nm_tls_ctx_free(struct nm_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	ctx->ssl_ctx = NULL;
	free(ctx);
}

SSL_CTX *
nm_tls_ctx_ssl(struct nm_tls_ctx *ctx)
{
	return ctx->ssl_ctx;
}

static struct nm_tls_conn *
conn_new(struct nm_tls_ctx *ctx, int fd, const char *peer_name, int server)
{
	struct nm_tls_conn *c;

	if (fd < 0 || (peer_name != NULL && !nm_name_valid(peer_name, strlen(peer_name)))) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->ssl = SSL_new(ctx->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		ERR_clear_error();
		nm_tls_conn_free(c);
		errno = ENOMEM;
		return NULL;
	}
	/* verify_cb finds the conn (expected peer, trust domain) through the SSL. */
	SSL_set_app_data(c->ssl, c);
	memcpy(c->trust_domain, ctx->trust_domain, sizeof(c->trust_domain));
	if (peer_name != NULL)
		memcpy(c->expect, peer_name, strlen(peer_name) + 1);
	if (server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	nm_msg_rx_reset(&c->rx);
	return c;
}

struct nm_tls_conn *
nm_tls_client_new(struct nm_tls_ctx *ctx, int fd, const char *peer_name)
{
	if (peer_name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return conn_new(ctx, fd, peer_name, 0);
}

struct nm_tls_conn *
nm_tls_server_new(struct nm_tls_ctx *ctx, int fd, const char *peer_name)
{
	return conn_new(ctx, fd, peer_name, 1);
}

void
nm_tls_conn_free(struct nm_tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL && SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl);
	ERR_clear_error();
	SSL_free(c->ssl);
	c->ssl = NULL;
	free(c->tx);
	c->tx = NULL;
	nm_msg_rx_free(&c->rx);
	free(c);
}

SSL *
nm_tls_conn_ssl(struct nm_tls_conn *c)
{
	return c->ssl;
}

const char *
nm_tls_conn_peer(const struct nm_tls_conn *c)
{
	return c->peer;
}

/* The peer's name for messages: authenticated, else expected, else unknown. */
static const char *
peer_label(const struct nm_tls_conn *c)
{
	if (c->peer[0] != '\0')
		return c->peer;
	return c->expect[0] != '\0' ? c->expect : "(not yet known)";
}

/* What a failed SSL_do_handshake/SSL_read/SSL_write call (result r) means. */
static int
io_result(struct nm_tls_conn *c, int r, const char *call, char *err, size_t errlen)
{
	int sys_errno = errno;
	int ssl_err = SSL_get_error(c->ssl, r);
	char why[REASON_LEN];
	long verify;

	switch (ssl_err) {
	case SSL_ERROR_WANT_READ:
		return NM_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return NM_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(err, errlen, "%s: peer %s closed the connection", call, peer_label(c));
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (sys_errno == 0 || sys_errno == ECONNRESET || sys_errno == EPIPE) {
			snprintf(err, errlen, "%s: peer %s closed the connection", call,
				 peer_label(c));
			return -ECONNRESET;
		}
		snprintf(err, errlen, "%s failed: %s", call, strerror(sys_errno));
		return -sys_errno;
	case SSL_ERROR_SSL:
		verify = SSL_get_verify_result(c->ssl);
		if (verify != X509_V_OK) {
			ERR_clear_error();
			verify_reason(c->ssl, verify, err, errlen);
			return -EACCES;
		}
		if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			snprintf(err, errlen,
				 "%s: peer %s closed the connection without close_notify", call,
				 peer_label(c));
			return -ECONNRESET;
		}
		/* Alerts from the peer have reason codes of their own, from SSL_AD_REASON_OFFSET.
		 */
		if (ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_SSL &&
		    ERR_GET_REASON(ERR_peek_last_error()) >= SSL_AD_REASON_OFFSET) {
			snprintf(err, errlen, "%s: peer %s refused this node (%s)", call,
				 peer_label(c), ossl_reason(why, sizeof(why)));
			return -EPROTO;
		}
		snprintf(err, errlen, "%s failed: %s", call, ossl_reason(why, sizeof(why)));
		return -EPROTO;
	default:
		ERR_clear_error();
		snprintf(err, errlen, "%s failed: SSL_get_error %d", call, ssl_err);
		return -EPROTO;
	}
}

int
nm_tls_handshake_step(struct nm_tls_conn *c, char *err, size_t errlen)
{
	int r, rc;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	if (r != 1)
		return io_result(c, r, "TLS handshake", err, errlen);
	/*
	 * verify_cb checked the SAN during the handshake; this checks the
	 * outcome as a whole (a certificate came, TLS 1.3) and takes the name.
	 */
	rc = check_peer(c->ssl, c->trust_domain, c->expect[0] != '\0' ? c->expect : NULL, c->peer,
			err, errlen);
	return rc != 0 ? rc : NM_TLS_DONE;
}

int
nm_tls_export_key(SSL *ssl, uint32_t epoch, int dir, size_t key_len, uint8_t *key,
		  uint8_t iv[NM_TLS_IV_LEN])
{
	const uint8_t context[NM_TLS_EXPORT_CTX_LEN] = {
	    (uint8_t)(epoch >> 24), (uint8_t)(epoch >> 16), (uint8_t)(epoch >> 8), (uint8_t)epoch,
	    (uint8_t)dir};
	uint8_t out[NM_TLS_KEY_MAX + NM_TLS_IV_LEN];
	int r;

	if (ssl == NULL || key == NULL || iv == NULL || key_len == 0 || key_len > NM_TLS_KEY_MAX ||
	    (dir != NM_TLS_DIR_CLIENT_TO_SERVER && dir != NM_TLS_DIR_SERVER_TO_CLIENT) ||
	    !SSL_is_init_finished(ssl) || SSL_version(ssl) != TLS1_3_VERSION)
		return -EINVAL;

	ERR_clear_error();
	r = SSL_export_keying_material(ssl, out, key_len + NM_TLS_IV_LEN, NM_TLS_EXPORT_LABEL,
				       strlen(NM_TLS_EXPORT_LABEL), context, sizeof(context), 1);
	if (r != 1) {
		ERR_clear_error();
		OPENSSL_cleanse(out, sizeof(out));
		return -EIO;
	}
	memcpy(key, out, key_len);
	memcpy(iv, out + key_len, NM_TLS_IV_LEN);
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

static int
check_connected(const struct nm_tls_conn *c, char *err, size_t errlen)
{
	if (c->peer[0] == '\0') {
		snprintf(err, errlen, "not connected: the handshake has not finished");
		return -ENOTCONN;
	}
	return 0;
}

size_t
nm_tls_pending(const struct nm_tls_conn *c)
{
	return c->tx_len - c->tx_off;
}

int
nm_tls_flush(struct nm_tls_conn *c, char *err, size_t errlen)
{
	int rc = check_connected(c, err, errlen);

	if (rc != 0)
		return rc;
	while (c->tx_off < c->tx_len) {
		/* OpenSSL wants a retried write repeated with the same length. */
		size_t n = c->tx_retry != 0 ? c->tx_retry : c->tx_len - c->tx_off;
		int r;

		ERR_clear_error();
		errno = 0;
		r = SSL_write(c->ssl, c->tx + c->tx_off, (int)n);
		if (r <= 0) {
			rc = io_result(c, r, "SSL_write", err, errlen);
			if (rc > 0)
				c->tx_retry = n;
			return rc;
		}
		c->tx_retry = 0;
		c->tx_off += (size_t)r;
	}
	c->tx_off = 0;
	c->tx_len = 0;
	return NM_TLS_DONE;
}

int
nm_tls_send_json(struct nm_tls_conn *c, const json_t *msg, char *err, size_t errlen)
{
	size_t need = nm_msg_frame_len(msg);
	long n;
	int rc = check_connected(c, err, errlen);

	if (rc != 0)
		return rc;
	if (need > NM_MSG_HDR_LEN + NM_MSG_MAX)
		return (int)nm_msg_frame_write(msg, NULL, 0, err, errlen);
	if (nm_tls_pending(c) + need > TX_MAX) {
		snprintf(err, errlen, "%zu bytes already queued for peer %s, which is not reading",
			 nm_tls_pending(c), c->peer);
		return -ENOBUFS;
	}

	/* Unsent bytes to the front (allowed: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), then room. */
	if (c->tx_off > 0) {
		memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
		c->tx_len -= c->tx_off;
		c->tx_off = 0;
	}
	if (c->tx_len + need > c->tx_cap) {
		size_t cap = 2 * (c->tx_len + need);
		uint8_t *tx = realloc(c->tx, cap);

		if (tx == NULL) {
			snprintf(err, errlen, "out of memory queueing %zu bytes", need);
			return -ENOMEM;
		}
		c->tx = tx;
		c->tx_cap = cap;
	}
	n = nm_msg_frame_write(msg, c->tx + c->tx_len, c->tx_cap - c->tx_len, err, errlen);
	if (n < 0)
		return (int)n;
	c->tx_len += (size_t)n;
	return nm_tls_flush(c, err, errlen);
}

int
nm_tls_recv_json(struct nm_tls_conn *c, json_t **msg, char *err, size_t errlen)
{
	int rc = check_connected(c, err, errlen);

	*msg = NULL;
	if (rc != 0)
		return rc;
	for (;;) {
		uint8_t *dst;
		size_t want = nm_msg_rx_want(&c->rx, &dst);
		int r;

		/* Nothing wanted: the stream failed before; commit repeats why. */
		if (want == 0)
			return nm_msg_rx_commit(&c->rx, 0, msg, err, errlen);
		/* Read no further than this frame: the rest stays in TLS's buffer. */
		ERR_clear_error();
		errno = 0;
		r = SSL_read(c->ssl, dst, (int)want);
		if (r <= 0)
			return io_result(c, r, "SSL_read", err, errlen);
		rc = nm_msg_rx_commit(&c->rx, (size_t)r, msg, err, errlen);
		if (rc != NM_MSG_NEED_MORE)
			return rc;
	}
}
