/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the node-to-node TLS layer (ctrl/peer_tls.c) and of the
 * frames and announcements it carries (ctrl/peer_msg.c), in two files of
 * one executable. This one: the certificates, the suites, contexts,
 * handshakes (every refusal among them) and the exporter keys, checked
 * against RFC 8446's exporter computed independently; test_tls_msg.c the
 * JSON messages over TLS, their frames and the announcements.
 *
 * Certificates come from scripts/mkcerts, run once before all tests into a
 * temporary directory (ReportHook PRE_ALL runs in Criterion's runner, whose
 * environment every test process inherits): nodes a, b and r of trust
 * domain td.test, r revoked, e expired, and x from a CA nobody trusts.
 * Handshakes run in-process over a non-blocking socketpair, stepping the
 * client and the server in turn (test_tls_common.c).
 */
#include <errno.h>
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
#include "test_tls_common.h"

#ifndef NM_SRC_ROOT
#error "NM_SRC_ROOT must name the source tree (set by tests/unit/meson.build)"
#endif

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

TestSuite(tls_ctx, .init = tls_setup);
TestSuite(tls_handshake, .init = tls_setup);
TestSuite(tls_export, .init = tls_setup);
TestSuite(tls_json, .init = tls_setup);
TestSuite(msg_frame);
TestSuite(announce);

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
