/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the node-to-node TLS layer (ctrl/peer_tls.c) and of the
 * frames and announcements it carries (ctrl/peer_msg.c).
 *
 * Certificates come from scripts/mkcerts, run once before all tests into a
 * temporary directory (ReportHook PRE_ALL runs in Criterion's runner, whose
 * environment every test process inherits): nodes a, b and r of trust
 * domain td.test, r revoked, e expired, and x from a CA nobody trusts.
 * Handshakes run in-process over a non-blocking socketpair, stepping the
 * client and the server in turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "peer_msg.h"
#include "peer_tls.h"

#ifndef NM_SRC_ROOT
#error "NM_SRC_ROOT must name the source tree (set by tests/unit/meson.build)"
#endif

#define TD	  "td.test"
#define CERTS_ENV "NM_TEST_TLS_CERTS"

static char certs_dir[] = "/tmp/nm-test-tls-XXXXXX";

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char cmd[512];

	(void)set;
	if (mkdtemp(certs_dir) == NULL)
		return;
	snprintf(cmd, sizeof(cmd),
		 NM_SRC_ROOT "/scripts/mkcerts --revoke r --other-ca x --expired e %s " TD
			     " a b r >/dev/null",
		 certs_dir);
	/* Tests find the directory through the environment; no variable, no certificates. */
	if (system(cmd) == 0)
		setenv(CERTS_ENV, certs_dir, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char cmd[512];

	(void)stats;
	if (strcmp(certs_dir + strlen(certs_dir) - 6, "XXXXXX") == 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", certs_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_tls: could not remove %s\n", certs_dir);
}

static void
tls_setup(void)
{
	/* A write to a closed socketpair end must fail with EPIPE, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	cr_assert_not_null(getenv(CERTS_ENV), "scripts/mkcerts failed before the tests");
}

TestSuite(tls_ctx, .init = tls_setup);
TestSuite(tls_handshake, .init = tls_setup);
TestSuite(tls_export, .init = tls_setup);
TestSuite(tls_json, .init = tls_setup);
TestSuite(msg_frame);
TestSuite(announce);

/* ---- helpers ------------------------------------------------------------ */

/* Identity of node `node`, whose files are in DIR/subdir (subdir "" or "other"). */
static void
identity(struct nm_tls_identity *id, const char *subdir, const char *node, int with_crl)
{
	const char *dir = getenv(CERTS_ENV);

	memset(id, 0, sizeof(*id));
	snprintf(id->node, sizeof(id->node), "%s", node);
	snprintf(id->trust_domain, sizeof(id->trust_domain), "%s", TD);
	snprintf(id->cert_file, sizeof(id->cert_file), "%s/%s/%s.pem", dir, subdir, node);
	snprintf(id->key_file, sizeof(id->key_file), "%s/%s/%s.key", dir, subdir, node);
	/* Every node trusts the cluster CA, the one from other/ included. */
	snprintf(id->ca_file, sizeof(id->ca_file), "%s/ca.pem", dir);
	if (with_crl)
		snprintf(id->crl_file, sizeof(id->crl_file), "%s/crl.pem", dir);
}

static struct nm_tls_ctx *
ctx_of(const char *subdir, const char *node)
{
	struct nm_tls_identity id;
	struct nm_tls_ctx *ctx;
	char err[512] = "";

	identity(&id, subdir, node, 1);
	ctx = nm_tls_ctx_new(&id, err, sizeof(err));
	cr_assert_not_null(ctx, "nm_tls_ctx_new(%s): %s", node, err);
	return ctx;
}

struct pair {
	struct nm_tls_ctx *cctx, *sctx;
	int fd[2]; /* [0] client end, [1] server end */
	struct nm_tls_conn *client, *server;
	int crc, src; /* last handshake step results */
	char cerr[512], serr[512];
};

/*
 * Client node `client` (files in csub) dials, expecting `dial`; server node
 * `server` expects `expect` (NULL: any node).
 */
static void
pair_open(struct pair *p, const char *csub, const char *client, const char *dial,
	  const char *server, const char *expect)
{
	memset(p, 0, sizeof(*p));
	p->cctx = ctx_of(csub, client);
	p->sctx = ctx_of("", server);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fd), 0);
	p->client = nm_tls_client_new(p->cctx, p->fd[0], dial);
	p->server = nm_tls_server_new(p->sctx, p->fd[1], expect);
	cr_assert_not_null(p->client);
	cr_assert_not_null(p->server);
}

/* Step both ends until neither wants more (or a bound, if one waits forever). */
static void
pair_handshake(struct pair *p)
{
	p->crc = NM_TLS_WANT_WRITE;
	p->src = NM_TLS_WANT_READ;
	for (int i = 0; i < 50 && (p->crc > 0 || p->src > 0); i++) {
		if (p->crc > 0)
			p->crc = nm_tls_handshake_step(p->client, p->cerr, sizeof(p->cerr));
		if (p->src > 0)
			p->src = nm_tls_handshake_step(p->server, p->serr, sizeof(p->serr));
	}
}

static void
pair_close(struct pair *p)
{
	nm_tls_conn_free(p->client);
	nm_tls_conn_free(p->server);
	nm_tls_ctx_free(p->cctx);
	nm_tls_ctx_free(p->sctx);
	close(p->fd[0]);
	close(p->fd[1]);
}

/* A message from the peer of c, which must arrive within a few reads. */
static int
recv_one(struct nm_tls_conn *c, json_t **msg, char *err, size_t errlen)
{
	int rc = NM_TLS_WANT_READ;

	for (int i = 0; i < 50 && rc > 0; i++)
		rc = nm_tls_recv_json(c, msg, err, errlen);
	return rc;
}

/* {"f":"xxx..."} whose compact JSON is `bytes` long (8 bytes more than the string). */
static json_t *
sized_msg(size_t bytes)
{
	char *filler = malloc(bytes - 7);
	json_t *msg;

	cr_assert_not_null(filler);
	memset(filler, 'x', bytes - 8);
	filler[bytes - 8] = '\0';
	msg = json_pack("{s:s}", "f", filler);
	free(filler);
	cr_assert_not_null(msg);
	return msg;
}

/* ---- context ------------------------------------------------------------ */

Test(tls_ctx, refuses_bad_identity_with_reason)
{
	static const struct {
		const char *what; /* field to spoil */
		const char *want; /* in err */
		int rc;
	} cases[] = {
	    {"node", "node name and trust domain", EINVAL},
	    {"domain", "node name and trust domain", EINVAL},
	    {"nocert", "are all required", EINVAL},
	    {"missing cert", "certificate /nonexistent.pem", EINVAL},
	    {"wrong node",
	     "is not this node's: SAN URI spiffe://td.test/node/a does not match "
	     "expected spiffe://td.test/node/b",
	     EINVAL},
	    {"wrong domain", "is not this node's", EINVAL},
	    {"wrong key", "does not match certificate", EINVAL},
	    {"missing ca", "CA bundle /nonexistent-ca.pem", EINVAL},
	    {"crl is a cert", "no PEM X509 CRL", EINVAL},
	    {"missing crl", "CRL /nonexistent-crl.pem: cannot open", ENOENT},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_tls_identity id;
		struct nm_tls_ctx *ctx;
		char err[512] = "";
		const char *w = cases[i].what;

		identity(&id, "", "a", 1);
		if (strcmp(w, "node") == 0)
			strcpy(id.node, "Node A");
		else if (strcmp(w, "domain") == 0)
			id.trust_domain[0] = '\0';
		else if (strcmp(w, "nocert") == 0)
			id.cert_file[0] = '\0';
		else if (strcmp(w, "missing cert") == 0)
			strcpy(id.cert_file, "/nonexistent.pem");
		else if (strcmp(w, "wrong node") == 0)
			strcpy(id.node, "b");
		else if (strcmp(w, "wrong domain") == 0)
			strcpy(id.trust_domain, "other.test");
		else if (strcmp(w, "wrong key") == 0)
			snprintf(id.key_file, sizeof(id.key_file), "%s/b.key", getenv(CERTS_ENV));
		else if (strcmp(w, "missing ca") == 0)
			strcpy(id.ca_file, "/nonexistent-ca.pem");
		else if (strcmp(w, "crl is a cert") == 0)
			snprintf(id.crl_file, sizeof(id.crl_file), "%s/ca.pem", getenv(CERTS_ENV));
		else if (strcmp(w, "missing crl") == 0)
			strcpy(id.crl_file, "/nonexistent-crl.pem");

		errno = 0;
		ctx = nm_tls_ctx_new(&id, err, sizeof(err));
		cr_expect_null(ctx, "%s: accepted", w);
		cr_expect_eq(errno, cases[i].rc, "%s: errno %d", w, errno);
		cr_expect_not_null(strstr(err, cases[i].want), "%s: err '%s', wanted '%s'", w, err,
				   cases[i].want);
		nm_tls_ctx_free(ctx);
	}
}

Test(tls_ctx, pins_tls13_and_aead_suites)
{
	struct nm_tls_ctx *ctx = ctx_of("", "a");
	SSL_CTX *s = nm_tls_ctx_ssl(ctx);
	SSL *ssl = SSL_new(s);
	STACK_OF(SSL_CIPHER) *suites = SSL_get1_supported_ciphers(ssl);

	cr_assert_eq(SSL_CTX_get_min_proto_version(s), TLS1_3_VERSION);
	cr_assert_eq(SSL_CTX_get_max_proto_version(s), TLS1_3_VERSION);
	cr_assert_eq(SSL_CTX_get_verify_mode(s), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	cr_assert_eq(SSL_CTX_get_num_tickets(s), 0);
	cr_assert_eq(SSL_CTX_get_session_cache_mode(s), SSL_SESS_CACHE_OFF);
	cr_assert_eq(sk_SSL_CIPHER_num(suites), 3);
	for (int i = 0; i < sk_SSL_CIPHER_num(suites); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(suites, i);

		cr_expect(SSL_CIPHER_is_aead(c), "%s", SSL_CIPHER_get_name(c));
		cr_expect_not_null(strstr(NM_TLS_CIPHERSUITES, SSL_CIPHER_get_name(c)), "%s",
				   SSL_CIPHER_get_name(c));
	}
	sk_SSL_CIPHER_free(suites);
	SSL_free(ssl);
	nm_tls_ctx_free(ctx);
}

Test(tls_ctx, conn_needs_fd_and_valid_names)
{
	struct nm_tls_ctx *ctx = ctx_of("", "a");

	errno = 0;
	cr_expect_null(nm_tls_client_new(ctx, 3, NULL));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(nm_tls_client_new(ctx, -1, "b"));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(nm_tls_server_new(ctx, 3, "B/../x"));
	cr_expect_eq(errno, EINVAL);
	nm_tls_ctx_free(ctx);
}

/* ---- handshake ---------------------------------------------------------- */

Test(tls_handshake, good_pair_authenticates_both_ends)
{
	struct pair p;

	pair_open(&p, "", "a", "b", "b", "a");
	pair_handshake(&p);
	cr_assert_eq(p.crc, NM_TLS_DONE, "client: %s", p.cerr);
	cr_assert_eq(p.src, NM_TLS_DONE, "server: %s", p.serr);
	cr_expect_str_eq(nm_tls_conn_peer(p.client), "b");
	cr_expect_str_eq(nm_tls_conn_peer(p.server), "a");

	for (int side = 0; side < 2; side++) {
		struct nm_tls_conn *c = side == 0 ? p.client : p.server;
		SSL *ssl = nm_tls_conn_ssl(c);
		const SSL_CIPHER *suite = SSL_get_current_cipher(ssl);
		char err[512] = "";

		cr_expect_eq(SSL_version(ssl), TLS1_3_VERSION);
		cr_expect(SSL_CIPHER_is_aead(suite), "%s", SSL_CIPHER_get_name(suite));
		cr_expect_not_null(strstr(NM_TLS_CIPHERSUITES, SSL_CIPHER_get_name(suite)));
		cr_expect_eq(SSL_session_reused(ssl), 0);
		cr_expect_eq(nm_tls_check_peer(ssl, TD, side == 0 ? "b" : "a", err, sizeof(err)), 0,
			     "%s", err);
		/* The same session does not authenticate the peer as someone else. */
		cr_expect_eq(nm_tls_check_peer(ssl, TD, "z", err, sizeof(err)), -EACCES);
		cr_expect_not_null(strstr(err, "does not match expected spiffe://td.test/node/z"),
				   "%s", err);
	}
	pair_close(&p);
}

Test(tls_handshake, server_without_expectation_learns_peer_name)
{
	struct pair p;

	pair_open(&p, "", "b", "a", "a", NULL);
	pair_handshake(&p);
	cr_assert_eq(p.crc, NM_TLS_DONE, "client: %s", p.cerr);
	cr_assert_eq(p.src, NM_TLS_DONE, "server: %s", p.serr);
	cr_expect_str_eq(nm_tls_conn_peer(p.server), "b");
	pair_close(&p);
}

/*
 * Peers that must not get in. The end that sees the bad certificate refuses
 * it with a reason; the other learns from the alert, during the handshake
 * or, for a TLS 1.3 client whose certificate the server refused after the
 * client had finished, at its first read.
 */
Test(tls_handshake, refuses_bad_peers)
{
	static const struct {
		const char *name;
		const char *csub, *client, *dial; /* client's files, node, whom it dials */
		const char *server, *expect;	  /* server node, whom it expects (NULL: any) */
		int server_refuses;		  /* else the client refuses */
		const char *reason;		  /* in the refusing end's err */
	} cases[] = {
	    {"other CA", "other", "x", "a", "a", NULL, 1, "unknown CA"},
	    {"revoked client", "", "r", "a", "a", NULL, 1, "certificate revoked"},
	    {"revoked server", "", "a", "r", "r", "a", 0, "certificate revoked"},
	    {"expired client", "", "e", "a", "a", NULL, 1, "certificate expired"},
	    {"client dialled b, reached a", "", "b", "b", "a", NULL, 0,
	     "SAN URI spiffe://td.test/node/a does not match expected spiffe://td.test/node/b"},
	    {"server expects r, b came", "", "b", "a", "a", "r", 1,
	     "SAN URI spiffe://td.test/node/b does not match expected spiffe://td.test/node/r"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = cases[i].name;
		struct pair p;
		int refuser_rc, other_rc;
		const char *refuser_err, *other_err;
		char read_err[512] = "";

		pair_open(&p, cases[i].csub, cases[i].client, cases[i].dial, cases[i].server,
			  cases[i].expect);
		pair_handshake(&p);
		refuser_rc = cases[i].server_refuses ? p.src : p.crc;
		refuser_err = cases[i].server_refuses ? p.serr : p.cerr;
		other_rc = cases[i].server_refuses ? p.crc : p.src;
		other_err = cases[i].server_refuses ? p.cerr : p.serr;

		cr_expect_eq(refuser_rc, -EACCES, "%s: %d %s", name, refuser_rc, refuser_err);
		cr_expect_not_null(strstr(refuser_err, cases[i].reason), "%s: %s", name,
				   refuser_err);
		if (other_rc == NM_TLS_DONE) {
			json_t *msg = NULL;

			cr_expect(cases[i].server_refuses, "%s: the server finished", name);
			other_rc = recv_one(p.client, &msg, read_err, sizeof(read_err));
			other_err = read_err;
			cr_expect_null(msg, "%s", name);
		}
		cr_expect_eq(other_rc, -EPROTO, "%s: %d %s", name, other_rc, other_err);
		cr_expect(strstr(other_err, "refused this node (") != NULL &&
			      strstr(other_err, "alert") != NULL,
			  "%s: %s", name, other_err);
		cr_expect_str_eq(nm_tls_conn_peer(cases[i].server_refuses ? p.server : p.client),
				 "", "%s", name);
		pair_close(&p);
	}
}

Test(tls_handshake, revoked_is_accepted_without_crl)
{
	struct nm_tls_identity id;
	struct pair p;
	char err[512] = "";

	/* The CRL is what refuses r: the server without one lets it in. */
	pair_open(&p, "", "r", "a", "a", NULL);
	nm_tls_conn_free(p.server);
	nm_tls_ctx_free(p.sctx);
	identity(&id, "", "a", 0);
	p.sctx = nm_tls_ctx_new(&id, err, sizeof(err));
	cr_assert_not_null(p.sctx, "%s", err);
	p.server = nm_tls_server_new(p.sctx, p.fd[1], NULL);
	pair_handshake(&p);
	cr_expect_eq(p.src, NM_TLS_DONE, "server: %s", p.serr);
	cr_expect_str_eq(nm_tls_conn_peer(p.server), "r");
	pair_close(&p);
}

Test(tls_handshake, tls12_client_fails)
{
	struct pair p;

	pair_open(&p, "", "a", "b", "b", NULL);
	cr_assert_eq(SSL_set_min_proto_version(nm_tls_conn_ssl(p.client), TLS1_2_VERSION), 1);
	cr_assert_eq(SSL_set_max_proto_version(nm_tls_conn_ssl(p.client), TLS1_2_VERSION), 1);
	pair_handshake(&p);
	cr_assert_eq(p.src, -EPROTO, "server: %d %s", p.src, p.serr);
	cr_expect_not_null(strstr(p.serr, "unsupported protocol"), "%s", p.serr);
	cr_assert_eq(p.crc, -EPROTO, "client: %d %s", p.crc, p.cerr);
	cr_expect_not_null(strstr(p.cerr, "protocol version"), "%s", p.cerr);
	pair_close(&p);
}

Test(tls_handshake, peer_closing_midway_is_reset)
{
	struct pair p;

	pair_open(&p, "", "a", "b", "b", NULL);
	p.crc = nm_tls_handshake_step(p.client, p.cerr, sizeof(p.cerr));
	cr_assert_eq(p.crc, NM_TLS_WANT_READ, "%s", p.cerr);
	close(p.fd[1]);
	p.fd[1] = -1;
	p.crc = nm_tls_handshake_step(p.client, p.cerr, sizeof(p.cerr));
	cr_expect_eq(p.crc, -ECONNRESET, "%d %s", p.crc, p.cerr);
	cr_expect_not_null(strstr(p.cerr, "peer b closed the connection"), "%s", p.cerr);
	pair_close(&p);
}

/* ---- exporter ----------------------------------------------------------- */

static void
connected(struct pair *p)
{
	pair_open(p, "", "a", "b", "b", "a");
	pair_handshake(p);
	cr_assert_eq(p->crc, NM_TLS_DONE, "client: %s", p->cerr);
	cr_assert_eq(p->src, NM_TLS_DONE, "server: %s", p->serr);
}

Test(tls_export, both_ends_derive_the_same_key_per_epoch_and_direction)
{
	static const struct {
		uint32_t epoch;
		int dir;
		size_t key_len;
	} cases[] = {
	    {0, 0, 16}, {0, 1, 16}, {1, 0, 16}, {1, 1, 16}, {0x01000000, 0, 16}, {0, 0, 32},
	};
	uint8_t key[6][2][NM_TLS_KEY_MAX], iv[6][2][NM_TLS_IV_LEN];
	struct pair p;

	connected(&p);
	for (size_t i = 0; i < 6; i++) {
		for (int side = 0; side < 2; side++) {
			SSL *ssl = nm_tls_conn_ssl(side == 0 ? p.client : p.server);

			memset(key[i][side], 0, NM_TLS_KEY_MAX);
			cr_assert_eq(nm_tls_export_key(ssl, cases[i].epoch, cases[i].dir,
						       cases[i].key_len, key[i][side], iv[i][side]),
				     0);
		}
		cr_expect_arr_eq(key[i][0], key[i][1], NM_TLS_KEY_MAX, "case %zu: keys differ", i);
		cr_expect_arr_eq(iv[i][0], iv[i][1], NM_TLS_IV_LEN, "case %zu: IVs differ", i);
	}
	/* Another epoch or direction: unrelated bytes. */
	for (size_t i = 0; i < 5; i++)
		for (size_t j = i + 1; j < 5; j++) {
			cr_expect_arr_neq(key[i][0], key[j][0], 16, "cases %zu, %zu", i, j);
			cr_expect_arr_neq(iv[i][0], iv[j][0], NM_TLS_IV_LEN, "cases %zu, %zu", i,
					  j);
		}
	/* The output length is part of the exporter's input: a longer key is not an extension. */
	cr_expect_arr_neq(key[0][0], key[5][0], 16);
	/* A new session (new handshake) gives new keys for the same epoch. */
	{
		struct pair q;
		uint8_t k[16], v[NM_TLS_IV_LEN];

		connected(&q);
		cr_assert_eq(nm_tls_export_key(nm_tls_conn_ssl(q.client), 0, 0, 16, k, v), 0);
		cr_expect_arr_neq(k, key[0][0], 16);
		pair_close(&q);
	}
	pair_close(&p);
}

Test(tls_export, refuses_bad_arguments)
{
	struct pair p;
	uint8_t key[64], iv[NM_TLS_IV_LEN];
	SSL *ssl;

	pair_open(&p, "", "a", "b", "b", "a");
	/* Before the handshake there is nothing to export. */
	cr_expect_eq(nm_tls_export_key(nm_tls_conn_ssl(p.client), 0, 0, 16, key, iv), -EINVAL);
	pair_handshake(&p);
	ssl = nm_tls_conn_ssl(p.client);
	cr_expect_eq(nm_tls_export_key(ssl, 0, 2, 16, key, iv), -EINVAL);
	cr_expect_eq(nm_tls_export_key(ssl, 0, -1, 16, key, iv), -EINVAL);
	cr_expect_eq(nm_tls_export_key(ssl, 0, 0, 0, key, iv), -EINVAL);
	cr_expect_eq(nm_tls_export_key(ssl, 0, 0, NM_TLS_KEY_MAX + 1, key, iv), -EINVAL);
	cr_expect_eq(nm_tls_export_key(NULL, 0, 0, 16, key, iv), -EINVAL);
	pair_close(&p);
}

/* The client's exporter_master_secret, from OpenSSL's key log (NSS key log format). */
static uint8_t exporter_secret[EVP_MAX_MD_SIZE];
static size_t exporter_secret_len;

static void
keylog(const SSL *ssl, const char *line)
{
	const char *hex;

	(void)ssl;
	if (strncmp(line, "EXPORTER_SECRET ", 16) != 0)
		return;
	hex = strchr(line + 16, ' ');
	cr_assert_not_null(hex);
	hex++;
	exporter_secret_len = strlen(hex) / 2;
	cr_assert_leq(exporter_secret_len, sizeof(exporter_secret));
	for (size_t i = 0; i < exporter_secret_len; i++)
		cr_assert_eq(sscanf(hex + 2 * i, "%2hhx", &exporter_secret[i]), 1);
}

/* HKDF-Expand-Label (RFC 8446 section 7.1) with libcrypto's plain HKDF. */
static void
hkdf_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
		  const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t label_len = strlen("tls13 ") + strlen(label), n = 0;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5];

	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)label_len;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, strlen(label));
	n += label_len;
	info[n++] = (uint8_t)context_len;
	memcpy(info + n, context, context_len);
	n += context_len;

	params[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[2] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	params[4] = OSSL_PARAM_construct_end();
	cr_assert_not_null(kctx);
	cr_assert_eq(EVP_KDF_derive(kctx, out, out_len, params), 1);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
}

Test(tls_export, matches_rfc8446_exporter_computed_independently)
{
	static const uint8_t context[NM_TLS_EXPORT_CTX_LEN] = {0x00, 0x00, 0x00, 0x07, 0x01};
	uint8_t key[16], iv[NM_TLS_IV_LEN], want[16 + NM_TLS_IV_LEN];
	uint8_t empty_hash[EVP_MAX_MD_SIZE], context_hash[EVP_MAX_MD_SIZE],
	    derived[EVP_MAX_MD_SIZE];
	unsigned int hash_len;
	const EVP_MD *md;
	struct pair p;

	pair_open(&p, "", "a", "b", "b", "a");
	SSL_CTX_set_keylog_callback(nm_tls_ctx_ssl(p.cctx), keylog);
	nm_tls_conn_free(p.client);
	p.client = nm_tls_client_new(p.cctx, p.fd[0], "b");
	pair_handshake(&p);
	cr_assert_eq(p.crc, NM_TLS_DONE, "client: %s", p.cerr);
	cr_assert_gt(exporter_secret_len, 0, "no EXPORTER_SECRET in the key log");
	cr_assert_eq(nm_tls_export_key(nm_tls_conn_ssl(p.server), 7, 1, sizeof(key), key, iv), 0);

	/*
	 * RFC 8446 section 7.5:
	 *   TLS-Exporter(label, context, length) = HKDF-Expand-Label(
	 *       Derive-Secret(exporter_master_secret, label, ""),
	 *       "exporter", Hash(context), length)
	 * with Derive-Secret(S, L, "") = HKDF-Expand-Label(S, L, Hash(""), Hash.length).
	 */
	md = SSL_CIPHER_get_handshake_digest(SSL_get_current_cipher(nm_tls_conn_ssl(p.client)));
	cr_assert_not_null(md);
	cr_assert_eq((size_t)EVP_MD_get_size(md), exporter_secret_len);
	cr_assert_eq(EVP_Digest("", 0, empty_hash, &hash_len, md, NULL), 1);
	hkdf_expand_label(md, exporter_secret, exporter_secret_len, NM_TLS_EXPORT_LABEL, empty_hash,
			  hash_len, derived, hash_len);
	cr_assert_eq(EVP_Digest(context, sizeof(context), context_hash, &hash_len, md, NULL), 1);
	hkdf_expand_label(md, derived, hash_len, "exporter", context_hash, hash_len, want,
			  sizeof(want));

	cr_expect_arr_eq(key, want, sizeof(key));
	cr_expect_arr_eq(iv, want + sizeof(key), NM_TLS_IV_LEN);
	pair_close(&p);
}

/* ---- JSON messages over TLS --------------------------------------------- */

Test(tls_json, messages_cross_in_order_both_ways)
{
	struct pair p;
	json_t *msg, *big;
	char err[512] = "";

	connected(&p);
	for (int i = 0; i < 3; i++) {
		json_t *m = json_pack("{s:s, s:i}", "type", "test", "seq", i);

		cr_assert_eq(nm_tls_send_json(p.client, m, err, sizeof(err)), NM_TLS_DONE, "%s",
			     err);
		json_decref(m);
	}
	/* Three frames in the server's TLS buffer: each call gives one. */
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(recv_one(p.server, &msg, err, sizeof(err)), NM_TLS_DONE, "%s", err);
		cr_expect_eq(json_integer_value(json_object_get(msg, "seq")), i);
		json_decref(msg);
	}
	cr_expect_eq(nm_tls_recv_json(p.server, &msg, err, sizeof(err)), NM_TLS_WANT_READ);

	/* A frame of several TLS records, the other way. */
	big = sized_msg(60000);
	cr_assert_eq(nm_tls_send_json(p.server, big, err, sizeof(err)), NM_TLS_DONE, "%s", err);
	cr_assert_eq(recv_one(p.client, &msg, err, sizeof(err)), NM_TLS_DONE, "%s", err);
	cr_expect(json_equal(msg, big));
	json_decref(msg);
	json_decref(big);
	pair_close(&p);
}

Test(tls_json, refuses_before_handshake_and_oversize)
{
	struct pair p;
	json_t *msg = NULL, *huge;
	char err[512] = "";

	pair_open(&p, "", "a", "b", "b", "a");
	msg = json_object();
	cr_expect_eq(nm_tls_send_json(p.client, msg, err, sizeof(err)), -ENOTCONN);
	json_decref(msg);
	cr_expect_eq(nm_tls_recv_json(p.server, &msg, err, sizeof(err)), -ENOTCONN);
	cr_expect_null(msg);

	pair_handshake(&p);
	huge = sized_msg(NM_MSG_MAX + 1);
	cr_expect_eq(nm_tls_send_json(p.client, huge, err, sizeof(err)), -EMSGSIZE);
	cr_expect_not_null(strstr(err, "does not fit a frame"), "%s", err);
	cr_expect_eq(nm_tls_pending(p.client), 0);
	json_decref(huge);
	pair_close(&p);
}

Test(tls_json, full_socket_queues_then_flushes)
{
	struct pair p;
	json_t *m, *msg;
	char err[512] = "";
	int rc = NM_TLS_DONE, sent = 0, got = 0, queued = 0;

	connected(&p);
	m = sized_msg(50000);
	/* Nobody reads: the socket fills, frames queue, then the queue limit. */
	while (rc >= 0 && sent < 100) {
		rc = nm_tls_send_json(p.client, m, err, sizeof(err));
		sent += rc >= 0;
		queued += rc == NM_TLS_WANT_WRITE;
	}
	cr_assert_eq(rc, -ENOBUFS, "%d %s", rc, err);
	cr_expect_not_null(strstr(err, "bytes already queued for peer b, which is not reading"),
			   "%s", err);
	cr_expect_gt(queued, 0, "the socket never filled");
	cr_expect_gt(nm_tls_pending(p.client), 0);
	/* Read and flush in turn until every queued frame has arrived. */
	for (int i = 0; i < 10000 && got < sent; i++) {
		rc = nm_tls_recv_json(p.server, &msg, err, sizeof(err));
		cr_assert_geq(rc, 0, "%s", err);
		if (rc == NM_TLS_DONE) {
			cr_expect(json_equal(msg, m));
			json_decref(msg);
			got++;
		}
		cr_assert_geq(nm_tls_flush(p.client, err, sizeof(err)), 0, "%s", err);
	}
	cr_expect_eq(got, sent);
	cr_expect_eq(nm_tls_pending(p.client), 0);
	json_decref(m);
	pair_close(&p);
}

Test(tls_json, bad_frame_from_peer_fails_the_stream)
{
	struct pair p;
	json_t *msg = NULL;
	char err[512] = "";
	static const uint8_t oversize[] = {0x00, 0x01, 0x00, 0x01};

	connected(&p);
	/* Bypass nm_tls_send_json: a peer that does not follow the framing. */
	cr_assert_eq(SSL_write(nm_tls_conn_ssl(p.client), oversize, sizeof(oversize)), 4);
	cr_expect_eq(recv_one(p.server, &msg, err, sizeof(err)), -EMSGSIZE);
	cr_expect_not_null(strstr(err, "frame of 65537 bytes is over the limit"), "%s", err);
	cr_expect_null(msg);
	/* The stream is lost from here on. */
	cr_expect_eq(nm_tls_recv_json(p.server, &msg, err, sizeof(err)), -EMSGSIZE);
	pair_close(&p);
}

Test(tls_json, peer_close_is_reset)
{
	struct pair p;
	json_t *msg = NULL;
	char err[512] = "";

	connected(&p);
	nm_tls_conn_free(p.client); /* sends close_notify */
	p.client = NULL;
	cr_expect_eq(recv_one(p.server, &msg, err, sizeof(err)), -ECONNRESET);
	cr_expect_not_null(strstr(err, "peer a closed the connection"), "%s", err);
	pair_close(&p);
}

/* ---- frames ------------------------------------------------------------- */

static struct nm_msg_rx rx;

/* Feed n bytes in pieces of `piece`; collect messages into out. */
static int
feed(const uint8_t *data, size_t n, size_t piece, json_t **out, int max, char *err, size_t errlen)
{
	int got = 0;

	for (size_t off = 0; off < n;) {
		size_t len = n - off < piece ? n - off : piece;
		size_t used;
		json_t *msg;
		int rc = nm_msg_rx_push(&rx, data + off, len, &used, &msg, err, errlen);

		if (rc < 0)
			return rc;
		off += used;
		if (rc == 0) {
			cr_assert_lt(got, max);
			out[got++] = msg;
		}
	}
	return got;
}

static size_t
frame(uint8_t *buf, const char *json)
{
	size_t n = strlen(json);

	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	memcpy(buf + 4, json, n);
	return n + 4;
}

Test(msg_frame, refuses_oversize_at_the_prefix)
{
	/* Prefix only: refused before any body byte arrives. */
	static const uint8_t over[] = {0x00, 0x01, 0x00, 0x01};
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[] = {0x00, 0x00, 0x00, 0x00};
	json_t *out[1];
	char err[256] = "";

	nm_msg_rx_reset(&rx);
	cr_expect_eq(feed(over, 4, 1, out, 1, err, sizeof(err)), -EMSGSIZE);
	cr_expect_not_null(strstr(err, "frame of 65537 bytes is over the limit of 65536"), "%s",
			   err);
	nm_msg_rx_reset(&rx);
	cr_expect_eq(feed(huge, 4, 4, out, 1, err, sizeof(err)), -EMSGSIZE);
	nm_msg_rx_reset(&rx);
	cr_expect_eq(feed(zero, 4, 4, out, 1, err, sizeof(err)), -EMSGSIZE);
	cr_expect_not_null(strstr(err, "frame of 0 bytes"), "%s", err);
}

Test(msg_frame, refuses_bad_json_and_stays_failed)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
	    {"{", "frame is not JSON"},
	    {"{\"a\":1} x", "frame is not JSON"},
	    {"[1,2]", "not an object"},
	    {"\"str\"", "frame is not JSON"},		/* jansson wants an object or array */
	    {"{\"a\":1,\"a\":2}", "frame is not JSON"}, /* duplicate key */
	    {"{\"a\":\"\\u0000\"}", "frame is not JSON"},
	    {"{\"a\":\"\xff\"}", "frame is not JSON"}, /* not UTF-8 */
	};
	uint8_t buf[128];
	json_t *out[1];
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = frame(buf, cases[i].json);

		nm_msg_rx_reset(&rx);
		err[0] = '\0';
		cr_expect_eq(feed(buf, n, n, out, 1, err, sizeof(err)), -EBADMSG, "%s",
			     cases[i].json);
		cr_expect_not_null(strstr(err, cases[i].want), "%s: %s", cases[i].json, err);
		/* A good frame after a bad one is not read: framing cannot be trusted. */
		n = frame(buf, "{}");
		cr_expect_eq(feed(buf, n, n, out, 1, err, sizeof(err)), -EBADMSG);
	}
}

Test(msg_frame, reassembles_split_and_joined_frames)
{
	static const char *const msgs[] = {"{\"type\":\"a\"}", "{}",
					   "{\"type\":\"pod_del\",\"ip\":\"10.1.0.5\"}"};
	uint8_t buf[256];
	size_t n = 0;
	char err[256] = "";

	for (size_t i = 0; i < 3; i++)
		n += frame(buf + n, msgs[i]);
	/* Every piece size from 1 byte to the whole buffer at once. */
	for (size_t piece = 1; piece <= n; piece++) {
		json_t *out[3];

		nm_msg_rx_reset(&rx);
		cr_assert_eq(feed(buf, n, piece, out, 3, err, sizeof(err)), 3, "piece %zu: %s",
			     piece, err);
		for (int i = 0; i < 3; i++) {
			json_t *want = json_loads(msgs[i], 0, NULL);

			cr_expect(json_equal(out[i], want), "piece %zu, message %d", piece, i);
			json_decref(want);
			json_decref(out[i]);
		}
	}
}

Test(msg_frame, largest_frame_is_accepted)
{
	uint8_t *buf = malloc(NM_MSG_HDR_LEN + NM_MSG_MAX);
	json_t *out[1], *msg;
	char err[256] = "";
	long n;

	msg = sized_msg(NM_MSG_MAX);
	cr_assert_eq(nm_msg_frame_len(msg), NM_MSG_HDR_LEN + NM_MSG_MAX);
	cr_expect_eq(nm_msg_frame_write(msg, buf, NM_MSG_MAX, err, sizeof(err)), -ENOBUFS);
	n = nm_msg_frame_write(msg, buf, NM_MSG_HDR_LEN + NM_MSG_MAX, err, sizeof(err));
	cr_assert_eq(n, NM_MSG_HDR_LEN + NM_MSG_MAX, "%s", err);
	nm_msg_rx_reset(&rx);
	cr_assert_eq(feed(buf, (size_t)n, 1000, out, 1, err, sizeof(err)), 1, "%s", err);
	cr_expect(json_equal(out[0], msg));
	json_decref(out[0]);
	json_decref(msg);

	/* One byte more and it is no frame. */
	msg = sized_msg(NM_MSG_MAX + 1);
	cr_expect_eq(nm_msg_frame_write(msg, buf, NM_MSG_HDR_LEN + NM_MSG_MAX, err, sizeof(err)),
		     -EMSGSIZE);
	json_decref(msg);
	free(buf);
}

/* ---- announcements ------------------------------------------------------ */

static struct nm_cidr
cidr(const char *net, uint8_t len)
{
	struct nm_cidr c;

	cr_assert_eq(inet_pton(AF_INET, net, &c.net), 1);
	c.prefix_len = len;
	return c;
}

static int
parse(const char *json, const struct nm_cidr *c, struct nm_announce *a, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *msg = json_loads(json, JSON_DECODE_ANY, &jerr);
	int rc;

	cr_assert_not_null(msg, "test JSON %s: %s", json, jerr.text);
	err[0] = '\0';
	rc = nm_announce_parse(msg, c, a, err, errlen);
	json_decref(msg);
	return rc;
}

/* A pod_add good so far: the cases append one field and the closing brace. */
#define ADD "{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"ns/sa\","

Test(announce, refuses_every_malformed_field)
{
	static const struct {
		const char *json;
		const char *want; /* in err */
	} cases[] = {
	    {"[]", "must be a JSON object"},
	    {"{}", "missing 'type'"},
	    {"{\"type\":1}", "'type' must be a string"},
	    {"{\"type\":\"pod_move\",\"ip\":\"10.1.0.5\"}",
	     "\"pod_move\" is not pod_add or pod_del"},
	    {"{\"type\":\"pod_add\",\"identity\":\"ns/sa\"}", "pod_add: missing 'ip'"},
	    {"{\"type\":\"pod_add\",\"ip\":167837701,\"identity\":\"ns/sa\"}",
	     "'ip' must be a string"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0\",\"identity\":\"ns/sa\"}",
	     "\"10.1.0\" is not an IPv4 address"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.256\",\"identity\":\"ns/sa\"}",
	     "is not an IPv4 address"},
	    {"{\"type\":\"pod_add\",\"ip\":\" 10.1.0.5\",\"identity\":\"ns/sa\"}",
	     "is not an IPv4 address"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5/32\",\"identity\":\"ns/sa\"}",
	     "is not an IPv4 address"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.2.0.5\",\"identity\":\"ns/sa\"}",
	     "'ip' 10.2.0.5 is outside the peer's pod CIDR 10.1.0.0/24"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.1.0\",\"identity\":\"ns/sa\"}",
	     "outside the peer's pod CIDR"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\"}", "pod_add: missing 'identity'"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":[\"ns\",\"sa\"]}",
	     "'identity' must be a string"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"nssa\"}",
	     "must be namespace/serviceaccount"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"/sa\"}",
	     "must be namespace/serviceaccount"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"ns/\"}",
	     "must be namespace/serviceaccount"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"ns/s/a\"}",
	     "must be namespace/serviceaccount"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"NS/sa\"}",
	     "must be namespace/serviceaccount"},
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"ns/"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	     "each 1 to 63 characters"},
	    {ADD "\"labels\":[]}", "'labels' must be an object of strings"},
	    {ADD "\"labels\":{\"a\":1}}", "label 'a' must have a string value"},
	    {ADD "\"labels\":{\"a b\":\"c\"}}", "label key \"a b\" must be"},
	    {ADD "\"labels\":{\"a=b\":\"c\"}}", "label key \"a=b\" must be"},
	    {ADD "\"labels\":{\"\":\"c\"}}", "label key \"\" must be"},
	    {ADD "\"labels\":{\"a\":\"\"}}", "label 'a' value \"\" must be"},
	    {ADD "\"labels\":{\"a\":\"x,y\"}}", "label 'a' value \"x,y\" must be"},
	    {ADD "\"labels\":{\"k\":"
		 "\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\"}}",
	     "must be 1 to 63 characters"},
	    {ADD "\"labels\":{"
		 "\"k0\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\","
		 "\"k1\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\","
		 "\"k2\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\","
		 "\"k3\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\"}}",
	     "'labels' are over 255 characters"},
	    {ADD "\"image\":5}", "'image' must be a string"},
	    {ADD "\"image\":\"\"}", "'image' must be 1 to 159 characters"},
	    {ADD "\"image\":\"a b\"}", "printable ASCII only, without spaces (byte 0x20 at 1)"},
	    {ADD "\"image\":\"a\\nb\"}", "(byte 0x0a at 1)"},
	    {ADD "\"image\":\"\xc3\xa9\"}", "(byte 0xc3 at 0)"},
	    {ADD "\"node\":\"b\"}", "pod_add: unknown key 'node'"},
	    {"{\"type\":\"pod_del\",\"ip\":\"10.1.0.5\",\"identity\":\"ns/sa\"}",
	     "pod_del: unknown key 'identity'"},
	    {"{\"type\":\"pod_del\"}", "pod_del: missing 'ip'"},
	    {"{\"type\":\"pod_del\",\"ip\":\"10.1.2.5\"}", "outside the peer's pod CIDR"},
	};
	struct nm_cidr c = cidr("10.1.0.0", 24);
	struct nm_announce a;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		cr_expect_eq(parse(cases[i].json, &c, &a, err, sizeof(err)), -EINVAL, "%s",
			     cases[i].json);
		cr_expect_not_null(strstr(err, cases[i].want), "%s\n  err:    %s\n  wanted: %s",
				   cases[i].json, err, cases[i].want);
		/* Nothing half-parsed is left for a careless caller. */
		cr_expect_eq(a.type, 0, "%s", cases[i].json);
		cr_expect_eq(a.ip, 0, "%s", cases[i].json);
	}
}

#undef ADD

Test(announce, refuses_nul_inside_strings)
{
	struct nm_cidr c = cidr("10.1.0.0", 24);
	struct nm_announce a;
	char err[256] = "";
	json_t *msg = json_pack("{s:s, s:s}", "type", "pod_add", "ip", "10.1.0.5");

	/* jansson's parser refuses \u0000; a json_t built in code may hold one. */
	json_object_set_new(msg, "identity", json_stringn("ns/sa\0x", 7));
	cr_expect_eq(nm_announce_parse(msg, &c, &a, err, sizeof(err)), -EINVAL);
	cr_expect_not_null(strstr(err, "'identity' holds a NUL character"), "%s", err);
	json_decref(msg);
}

Test(announce, refuses_non_unicast_even_in_a_wide_cidr)
{
	static const char *const ips[] = {"0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1",
					  "169.254.1.1"};
	struct nm_cidr any = cidr("0.0.0.0", 0);
	struct nm_announce a;
	char json[128], err[256];

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		snprintf(json, sizeof(json), "{\"type\":\"pod_del\",\"ip\":\"%s\"}", ips[i]);
		cr_expect_eq(parse(json, &any, &a, err, sizeof(err)), -EINVAL, "%s", ips[i]);
		cr_expect_not_null(strstr(err, "is not a unicast pod address"), "%s: %s", ips[i],
				   err);
	}
}

Test(announce, accepts_cidr_edges_only)
{
	static const struct {
		const char *net;
		uint8_t len;
		const char *ip;
		int ok;
	} cases[] = {
	    {"10.1.0.0", 24, "10.1.0.1", 1},	 {"10.1.0.0", 24, "10.1.0.254", 1},
	    {"10.1.0.0", 24, "10.0.255.254", 0}, {"10.1.0.0", 24, "10.1.1.1", 0},
	    {"10.1.0.0", 16, "10.1.255.1", 1},	 {"10.1.0.0", 16, "10.2.0.1", 0},
	    {"10.1.0.5", 32, "10.1.0.5", 1},	 {"10.1.0.5", 32, "10.1.0.4", 0},
	    {"0.0.0.0", 0, "192.0.2.1", 1},	 {"10.1.0.128", 25, "10.1.0.127", 0},
	};
	struct nm_announce a;
	char json[128], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_cidr c = cidr(cases[i].net, cases[i].len);

		snprintf(json, sizeof(json), "{\"type\":\"pod_del\",\"ip\":\"%s\"}", cases[i].ip);
		cr_expect_eq(parse(json, &c, &a, err, sizeof(err)), cases[i].ok ? 0 : -EINVAL,
			     "%s in %s/%u: %s", cases[i].ip, cases[i].net, cases[i].len, err);
	}
}

Test(announce, pod_add_fills_every_field)
{
	struct nm_cidr c = cidr("10.1.0.0", 24);
	struct nm_announce a;
	char err[256];

	cr_assert_eq(parse("{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"shop/web\","
			   "\"labels\":{\"app\":\"web\",\"tier\":\"front\",\"k8s.io/part-of\":"
			   "\"Shop_1\"},\"image\":\"registry.example/nginx:1.25@sha256:ab\"}",
			   &c, &a, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(a.type, NM_ANNOUNCE_POD_ADD);
	cr_expect_eq(a.ip, htonl(0x0a010005));
	cr_expect_str_eq(a.ns, "shop");
	cr_expect_str_eq(a.sa, "web");
	cr_expect_str_eq(a.labels, "app=web,tier=front,k8s.io/part-of=Shop_1");
	cr_expect_str_eq(a.image, "registry.example/nginx:1.25@sha256:ab");

	cr_assert_eq(parse("{\"type\":\"pod_add\",\"ip\":\"10.1.0.6\",\"identity\":\"a/b\"}", &c,
			   &a, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_str_eq(a.labels, "");
	cr_expect_str_eq(a.image, "");
	cr_expect_eq(parse("{\"type\":\"pod_add\",\"ip\":\"10.1.0.6\",\"identity\":\"a/b\","
			   "\"labels\":{}}",
			   &c, &a, err, sizeof(err)),
		     0, "%s", err);
}

Test(announce, pod_del_has_type_and_ip_only)
{
	struct nm_cidr c = cidr("10.1.0.0", 24);
	struct nm_announce a;
	char err[256];

	cr_assert_eq(parse("{\"ip\":\"10.1.0.9\",\"type\":\"pod_del\"}", &c, &a, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(a.type, NM_ANNOUNCE_POD_DEL);
	cr_expect_eq(a.ip, htonl(0x0a010009));
	cr_expect_str_eq(a.ns, "");
	cr_expect_str_eq(a.labels, "");
}

Test(announce, to_json_round_trips)
{
	static const char *const msgs[] = {
	    ("{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"ns/sa\","
	     "\"labels\":{\"app\":\"web\",\"v\":\"1\"},\"image\":\"nginx:1.25\"}"),
	    "{\"type\":\"pod_add\",\"ip\":\"10.1.0.7\",\"identity\":\"ns/sa\"}",
	    "{\"type\":\"pod_del\",\"ip\":\"10.1.0.5\"}",
	};
	struct nm_cidr c = cidr("10.1.0.0", 24);
	struct nm_announce a, again;
	struct nm_announce bad = {.type = 9};
	char err[256];

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		json_t *want = json_loads(msgs[i], 0, NULL);
		json_t *got;

		cr_assert_eq(nm_announce_parse(want, &c, &a, err, sizeof(err)), 0, "%s", err);
		got = nm_announce_to_json(&a);
		cr_assert_not_null(got);
		cr_expect(json_equal(got, want), "%s", msgs[i]);
		cr_assert_eq(nm_announce_parse(got, &c, &again, err, sizeof(err)), 0, "%s", err);
		cr_expect_eq(memcmp(&a, &again, sizeof(a)), 0, "%s", msgs[i]);
		json_decref(got);
		json_decref(want);
	}
	errno = 0;
	cr_expect_null(nm_announce_to_json(&bad));
	cr_expect_eq(errno, EINVAL);
}
