/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the TLS layer, part two of test_tls: JSON messages over a
 * connected pair (order, refusals, a full socket, a bad frame, the peer
 * closing), then the message frames alone (ctrl/peer_msg.c: size prefix,
 * bad JSON, reassembly) and the pod announcements they carry (every
 * malformed field refused, CIDR edges, round trips).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>

#include "peer_msg.h"
#include "peer_tls.h"
#include "test_tls_common.h"

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
	cr_expect_eq(rx.cap, 0, "the large frame's buffer is given back");

	/* A small frame after it: the buffer grows to NM_MSG_RX_KEEP only, and stays. */
	n = (long)frame(buf, "{\"type\":\"hello\",\"node\":\"b\"}");
	cr_assert_eq(feed(buf, (size_t)n, 7, out, 1, err, sizeof(err)), 1, "%s", err);
	json_decref(out[0]);
	cr_expect_eq(rx.cap, NM_MSG_RX_KEEP);
	nm_msg_rx_free(&rx);
	cr_expect_null(rx.buf);

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
	    {"{\"type\":\"pod_add\",\"ip\":\"10.1.0.5\",\"identity\":\"ns/\",\"image\":\"a\"}",
	     "a pod of unknown identity (\"ns/\") has no labels or image"},
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
	    "{\"type\":\"pod_add\",\"ip\":\"10.1.0.8\",\"identity\":\"ns/\"}", /* unknown */
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
