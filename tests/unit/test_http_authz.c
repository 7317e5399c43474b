/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of authorization by HTTP method and path in the pipeline
 * (dataplane/http_authz.c) on the in-memory ports of unit_pipeline.h, with
 * no signature set loaded: pod A (client) sends requests to pod B
 * (server, port 80) segment by segment. Each case asserts what reached
 * the server, what the client got (the 403: its sequence number, FIN and
 * body), the resets, the drop reasons and the counters.
 */
#include <stdio.h>
#include <string.h>

#include "unit_pipeline.h"
#include "unit_tcp.h"

static struct nm_worker *w0;
static uint32_t allow_id, deny_id;

/* Rule allow_id: GET under /api/v1/; rule deny_id: /api/v1/secret; default deny. */
static void
authz_up(void)
{
	char err[256] = "";

	one_worker_up();
	learn_mac(POD_A, MAC_A);
	learn_mac(POD_B, MAC_B);
	cr_assert_eq(nm_node_policy_add(node,
					"allow from * to * proto tcp port 80 http method GET "
					"path /api/v1/*",
					&allow_id, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(nm_node_policy_add(node, "deny from * to * proto tcp http path /api/v1/secret",
					&deny_id, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(nm_node_policy_default(node, false, err, sizeof(err)), 0, "%s", err);
	w0 = node->dp.workers[0];
	cr_assert_null(w0->sigs, "no signature set: the parser runs for the policy alone");
}

TestSuite(http_authz, .init = authz_up, .fini = node_down);

/* The one TCP segment pod A got: its sequence number, flags and payload. */
static void
client_got(uint32_t *seq, uint8_t *flags, char *payload, size_t cap)
{
	struct rte_mbuf *m[MAX_OUT];

	cr_assert_eq(sent_to(POD_A, m), 1, "the client gets one segment");
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m[0], const uint8_t *, ETH_LEN);
	const uint8_t *tcp = ip + 20;
	size_t hl = (size_t)(tcp[12] >> 4) * 4, plen = rd16(ip + 2) - 20 - hl;

	cr_assert_eq(ones_sum(ip, 20), 0xffff, "IP checksum");
	cr_assert_lt(plen, cap);
	*seq = rd32(tcp + 4);
	*flags = tcp[13];
	memcpy(payload, tcp + hl, plen);
	payload[plen] = '\0';
	rte_pktmbuf_free(m[0]);
}

static const char get_ok[] = "GET /api/v1/items HTTP/1.1\r\nHost: b\r\n\r\n";
static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
#define N_GET	 ((uint32_t)sizeof(get_ok) - 1)
#define N_ANSWER ((uint32_t)sizeof(answer) - 1)

/* A new connection whose first request is the allowed GET. */
static void
connect_and_get(void)
{
	handshake();
	drain_all();
	client_data(0, get_ok);
}

/* A kept-alive request answered, then a refused one: the server's RST, the client's 403. */
Test(http_authz, refused_request_gets_403_with_fin_and_the_server_a_reset)
{
	char got[512], want[64];
	unsigned int rst;
	uint32_t seq, n1 = N_GET, n2 = N_ANSWER;
	uint8_t flags;

	connect_and_get();
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, get_ok, "the allowed request reaches the server");
	send_tcp(false, S_ISN + 1, C_ISN + 1 + n1, F_ACK | F_PSH, answer);
	received(POD_A, got, sizeof(got), &rst);
	cr_assert_str_eq(got, answer);

	send_tcp(true, C_ISN + 1 + n1, S_ISN + 1 + n2, F_ACK | F_PSH,
		 "POST /api/v1/items HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0, "the server got: %s", got);
	cr_assert_eq(rst, 1, "the server gets a RST instead");
	client_got(&seq, &flags, got, sizeof(got));
	cr_assert_eq(seq, S_ISN + 1 + n2, "the 403 sits right after the server's answer");
	cr_assert_eq(flags, F_FIN | F_PSH | F_ACK);
	cr_assert(strncmp(got, "HTTP/1.1 403 Forbidden\r\n", 24) == 0, "got: %s", got);
	cr_assert_not_null(strstr(got, "\r\nConnection: close\r\n"));
	cr_assert_not_null(strstr(got, "refused by the default policy action"), "got: %s", got);
	assert_drops(0, NM_DROP_HTTP_POLICY_REFUSED, 1);
	cr_assert_eq(w0->authz.requests, 2);
	cr_assert_eq(w0->authz.refused, 1);
	cr_assert_eq(w0->authz.forbidden_sent, 1);
	cr_assert_eq(w0->default_refused, 1);

	/* The deny names its rule; a new connection on another port. */
	unit_cport = CPORT + 1;
	handshake();
	drain_all();
	client_data(0, "GET /api/v1/secret HTTP/1.1\r\n\r\n");
	client_got(&seq, &flags, got, sizeof(got));
	snprintf(want, sizeof(want), "X-Nodemesh-Rule: %u\r\n", deny_id);
	cr_assert_not_null(strstr(got, want), "got: %s", got);
	cr_assert_eq(seq, S_ISN + 1, "nothing came from the server before it");
	unit_cport = CPORT;
}

/* The server has not answered the first request yet: the 403 waits for the client's ACK. */
Test(http_authz, refusal_waits_until_the_client_has_the_earlier_answer)
{
	char got[512];
	unsigned int rst;
	uint32_t seq, n1 = N_GET, n2 = N_ANSWER;
	uint8_t flags;

	connect_and_get();
	client_data(n1, "GET /admin HTTP/1.1\r\n\r\n");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, get_ok, "only the allowed request reaches the server");
	cr_assert_eq(rst, 0, "no reset yet: the server still answers the first request");
	cr_assert_eq(w0->authz.delayed, 1);
	received(POD_A, got, sizeof(got), &rst);
	cr_assert_eq(rst, 0);

	send_tcp(false, S_ISN + 1, C_ISN + 1 + n1, F_ACK | F_PSH, answer);
	received(POD_A, got, sizeof(got), &rst);
	cr_assert_str_eq(got, answer, "the earlier answer reaches the client");
	send_tcp(true, C_ISN + 1 + n1 + 23, S_ISN + 1 + n2, F_ACK, NULL); /* its ACK */
	client_got(&seq, &flags, got, sizeof(got));
	cr_assert_eq(seq, S_ISN + 1 + n2);
	cr_assert(strncmp(got, "HTTP/1.1 403", 12) == 0, "got: %s", got);
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_eq(rst, 1);
}

/* Pipelined in one segment: cut before the refused request; the server gets the rest. */
Test(http_authz, pipelined_segment_is_cut_before_the_refused_request)
{
	char both[256], got[512];
	unsigned int rst;

	snprintf(both, sizeof(both), "%sDELETE /api/v1/items HTTP/1.1\r\n\r\n%s", get_ok, get_ok);
	handshake();
	drain_all();
	client_data(0, both);
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, get_ok, "the server gets the first request only");
	cr_assert_eq(w0->authz.trimmed, 1);
	cr_assert_eq(w0->authz.requests, 2, "the third request is never judged");
	cr_assert_eq(w0->authz.refused, 1);
	assert_drops(0, NM_DROP_HTTP_POLICY_REFUSED, 0);
}

Test(http_authz, bytes_out_of_order_or_retransmitted_differently_are_dropped)
{
	char got[512];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(10, "v1/items HTTP/1.1\r\n\r\n"); /* after a gap */
	assert_drops(0, NM_DROP_HTTP_POLICY_UNORDERED, 1);
	client_data(0, "GET /api/");
	client_data(0, "GET /adm/"); /* the same bytes again, but other bytes */
	assert_drops(0, NM_DROP_HTTP_POLICY_UNORDERED, 2);
	client_data(0, "GET /api/"); /* an exact repeat passes */
	cr_assert_eq(w0->authz.retransmits, 1);
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "GET /api/GET /api/");
	client_data(9, "v1/items HTTP/1.1\r\n\r\n");
	cr_assert_eq(w0->authz.requests, 1);
	cr_assert_eq(w0->authz.refused, 0);
	server_ack(9);
	client_data(0, "GET /adm/"); /* acknowledged bytes: the server discards them */
	cr_assert_eq(w0->authz.retransmits, 2);
}

static const char upgrade[] =
    "GET /api/v1/ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
#define N_UPGRADE ((uint32_t)sizeof(upgrade) - 1)

/* A new connection on port cport whose first request asks for an upgrade, answered with reply. */
static void
upgrade_answered(uint16_t cport, const char *reply)
{
	unit_cport = cport;
	handshake();
	drain_all();
	client_data(0, upgrade);
	if (reply != NULL)
		send_tcp(false, S_ISN + 1, C_ISN + 1 + N_UPGRADE, F_ACK | F_PSH, reply);
	drain_all();
}

Test(http_authz, another_protocol_resets_both_ends)
{
	char got[512];
	unsigned int rst_a, rst_b;

	handshake();
	drain_all();
	client_data(0, "\x16\x03\x01\x00\x05hello");
	assert_drops(0, NM_DROP_HTTP_POLICY_NOT_HTTP, 1);
	received(POD_B, got, sizeof(got), &rst_b);
	received(POD_A, got, sizeof(got), &rst_a);
	cr_assert_eq(rst_a + rst_b, 2, "a RST each way");
}

Test(http_authz, upgrade_accepted_is_a_tunnel_declined_resets)
{
	char got[512];
	unsigned int rst;

	/* Before the server answers, the client's frame waits (dropped, resent later). */
	upgrade_answered(CPORT, NULL);
	client_data(N_UPGRADE, "\x81\x05hello");
	assert_drops(0, NM_DROP_HTTP_POLICY_UNORDERED, 1);
	/* 101: a tunnel, its bytes pass unjudged. */
	send_tcp(false, S_ISN + 1, C_ISN + 1 + N_UPGRADE, F_ACK | F_PSH,
		 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
		 "Upgrade\r\n\r\n");
	drain_all();
	client_data(N_UPGRADE, "\x81\x05hello");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "\x81\x05hello");
	cr_assert_eq(w0->authz.tunnelled, 1);

	/* Declined with a 200: what follows is not read by the parser, so it resets. */
	reset_counters();
	upgrade_answered(CPORT + 1, answer);
	client_data(N_UPGRADE, "\x81\x05hello");
	assert_drops(0, NM_DROP_HTTP_POLICY_NOT_HTTP, 1);
	unit_cport = CPORT;
}

Test(http_authz, payload_of_a_connection_whose_syn_was_not_seen_is_dropped)
{
	client_data(0, get_ok);
	assert_drops(0, NM_DROP_HTTP_POLICY_NO_STATE, 1);
	assert_nothing_sent();
}

Test(http_authz, parser_returns_to_the_pool_when_the_connection_closes)
{
	uint32_t free0 = w0->n_authz_free, n1 = N_GET;

	connect_and_get();
	cr_assert_eq(w0->n_authz_free, free0 - 1);
	send_tcp(false, S_ISN + 1, C_ISN + 1 + n1, F_ACK | F_FIN, NULL);
	send_tcp(true, C_ISN + 1 + n1, S_ISN + 2, F_ACK | F_FIN, NULL);
	cr_assert_eq(w0->n_authz_free, free0, "FIN both ways: back in the pool");
	drain_all();
}
