/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helpers the TLS layer's tests share (declared in test_tls_common.h):
 * the set-up of the suites that need certificates, node identities and
 * contexts from the certificates in $NM_TEST_TLS_CERTS, pairs of
 * connections over a socketpair and their handshake, and JSON messages of
 * a given size.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "peer_tls.h"
#include "test_tls_common.h"

void
tls_setup(void)
{
	/* A write to a closed socketpair end must fail with EPIPE, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	cr_assert_not_null(getenv(CERTS_ENV), "scripts/mkcerts failed before the tests");
}

/* Identity of node `node`, whose files are in DIR/subdir (subdir "" or "other"). */
void
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

struct nm_tls_ctx *
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

/*
 * Client node `client` (files in csub) dials, expecting `dial`; server node
 * `server` expects `expect` (NULL: any node).
 */
void
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
void
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

void
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
int
recv_one(struct nm_tls_conn *c, json_t **msg, char *err, size_t errlen)
{
	int rc = NM_TLS_WANT_READ;

	for (int i = 0; i < 50 && rc > 0; i++)
		rc = nm_tls_recv_json(c, msg, err, errlen);
	return rc;
}

/* {"f":"xxx..."} whose compact JSON is `bytes` long (8 bytes more than the string). */
json_t *
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

void
connected(struct pair *p)
{
	pair_open(p, "", "a", "b", "b", "a");
	pair_handshake(p);
	cr_assert_eq(p->crc, NM_TLS_DONE, "client: %s", p->cerr);
	cr_assert_eq(p->src, NM_TLS_DONE, "server: %s", p->serr);
}
