/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The takeover conversation's frames (ctrl/takeover_msg.c): bad headers
 * first (magic, version, type, fd count, length), then a header round
 * trip, frames with file descriptors across a socketpair, a control
 * server's JSON refusal read as one, a frame cut short and a silent peer;
 * then the flow frames (ctrl/takeover_flows.c): a truncated record and an
 * unknown major version refused, every field's round trip (meters as
 * their tokens), a newer writer's longer record accepted, pod ids that
 * are not an object refused; the stream frames (ctrl/takeover_streams.c)
 * likewise, every truncation and counts past their bounds refused; and
 * the TUNNEL frame's (ctrl/takeover_tunnel.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "node_priv.h"
#include "takeover.h"
#include "takeover_msg.h"
#include "takeover_records.h"
#include "takeover_wire.h"

/* The conversation's two ends (sv[0] writes, sv[1] reads) and what was read. */
static int sv[2] = {-1, -1};
static struct nm_takeover_hdr h;
static int fds[NM_TAKEOVER_MAX_FDS];
static char *payload;
static char err[256];

static void
conversation_open(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	payload = NULL;
	err[0] = '\0';
}

static void
conversation_close(void)
{
	free(payload);
	payload = NULL;
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
}

/* Read one frame from sv[1]: nm_takeover_recv's return code. */
static int
receive(int timeout_ms)
{
	return nm_takeover_recv(sv[1], timeout_ms, &h, &payload, fds, err, sizeof(err));
}

/* A STATE header announcing n_fds and len, written by hand (no fds with it). */
static void
write_state_header(int fd, uint16_t n_fds, uint32_t len)
{
	struct nm_takeover_hdr hdr = {
	    .version = NM_TAKEOVER_VERSION, .type = NM_TAKEOVER_STATE, .n_fds = n_fds, .len = len};
	uint8_t raw[NM_TAKEOVER_HDR_LEN];

	nm_takeover_hdr_encode(&hdr, raw);
	cr_assert_eq(write(fd, raw, sizeof(raw)), (ssize_t)sizeof(raw));
}

/* Encode h, let edit change one byte, decode: the return code and err. */
static int
decode_edited(struct nm_takeover_hdr in, int at, uint8_t value)
{
	uint8_t raw[NM_TAKEOVER_HDR_LEN];
	struct nm_takeover_hdr out;

	nm_takeover_hdr_encode(&in, raw);
	if (at >= 0)
		raw[at] = value;
	return nm_takeover_hdr_decode(raw, &out, err, sizeof(err));
}

/* Each bad header: the byte changed, its value, what err must say. */
static const struct {
	int at;
	uint8_t value;
	const char *says;
} bad_headers[] = {
    {0, 'X', "no \"NMTO\" magic"},
    {4, 0, "version 0, this nodemeshd speaks 2 (and reads 1)"},
    {4, 3, "version 3, this nodemeshd speaks 2"},
    {5, 0, "unknown takeover frame type 0"},
    {5, 10, "unknown takeover frame type 10"},
    {7, NM_TAKEOVER_MAX_FDS + 1, "at most 253"},
    {8, 0xff, "at most 253"}, /* a length over NM_TAKEOVER_MAX_LEN */
};

Test(takeover_msg, refuses_each_bad_header)
{
	struct nm_takeover_hdr good = {.version = NM_TAKEOVER_VERSION, .type = NM_TAKEOVER_STATE};

	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		err[0] = '\0';
		int rc = decode_edited(good, bad_headers[i].at, bad_headers[i].value);
		cr_expect_eq(rc, -EPROTO, "case %zu: rc %d", i, rc);
		cr_expect(strstr(err, bad_headers[i].says) != NULL, "case %zu: err '%s'", i, err);
	}
}

Test(takeover_msg, header_round_trip)
{
	struct nm_takeover_hdr in = {.version = NM_TAKEOVER_VERSION,
				     .type = NM_TAKEOVER_ABORT,
				     .n_fds = 3,
				     .len = 0x01020304};
	struct nm_takeover_hdr out;
	uint8_t raw[NM_TAKEOVER_HDR_LEN];

	nm_takeover_hdr_encode(&in, raw);
	cr_assert_eq(memcmp(raw, "NMTO\x02\x04\x00\x03\x01\x02\x03\x04", 12), 0);
	cr_assert_eq(nm_takeover_hdr_decode(raw, &out, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(out.type, NM_TAKEOVER_ABORT);
	cr_expect_eq(out.n_fds, 3);
	cr_expect_eq(out.len, 0x01020304u);
	cr_expect_str_eq(nm_takeover_type_name(NM_TAKEOVER_STARTED), "STARTED");
	cr_expect_str_eq(nm_takeover_type_name(NM_TAKEOVER_TUNNEL), "TUNNEL");
	cr_expect_str_eq(nm_takeover_type_name(NM_TAKEOVER_STREAMS), "STREAMS");
	cr_expect_str_eq(nm_takeover_type_name(200), "unknown");
}

TestSuite(frames, .init = conversation_open, .fini = conversation_close);

Test(frames, carries_payload_and_fds)
{
	static const char body[] = "nodemesh-state 1 2 ...\n{}";
	int pipefd[2];
	char c = 0;

	cr_assert_eq(pipe(pipefd), 0);
	cr_assert_eq(
	    nm_takeover_send(sv[0], NM_TAKEOVER_STATE, body, sizeof(body) - 1, &pipefd[1], 1), 0);
	cr_assert_eq(receive(1000), 0, "%s", err);
	cr_expect_eq(h.type, NM_TAKEOVER_STATE);
	cr_expect_eq(h.len, sizeof(body) - 1);
	cr_expect_str_eq(payload, body);
	cr_assert_eq(h.n_fds, 1);
	/* The fd received is the pipe's write end: what goes in comes out. */
	cr_assert_eq(write(fds[0], "x", 1), 1);
	cr_expect_eq(read(pipefd[0], &c, 1), 1);
	cr_expect_eq(c, 'x');
	cr_expect(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, "received fds are close-on-exec");
	close(fds[0]);
	close(pipefd[0]);
	close(pipefd[1]);
}

Test(frames, empty_frame)
{
	cr_assert_eq(nm_takeover_send(sv[0], NM_TAKEOVER_STARTED, NULL, 0, NULL, 0), 0);
	cr_assert_eq(receive(1000), 0, "%s", err);
	cr_expect_eq(h.type, NM_TAKEOVER_STARTED);
	cr_expect_eq(h.n_fds, 0);
	cr_expect_str_eq(payload, "");
}

Test(frames, reads_a_servers_json_refusal)
{
	static const char line[] =
	    "{\"ok\":false,\"error\":\"permission denied: not root nor in the admin group\"}\n";

	cr_assert_eq(write(sv[0], line, sizeof(line) - 1), (ssize_t)sizeof(line) - 1);
	cr_expect_eq(receive(1000), -ECONNREFUSED);
	cr_expect(strstr(err, "refused: {\"ok\":false,\"error\":\"permission denied") != NULL,
		  "err '%s'", err);
	cr_expect_null(payload);
}

Test(frames, frame_cut_short_is_an_error)
{
	write_state_header(sv[0], 0, 100);
	cr_assert_eq(write(sv[0], "only ten b", 10), 10);
	close(sv[0]);
	sv[0] = -1;
	cr_expect_eq(receive(1000), -ECONNRESET);
	cr_expect(strstr(err, "STATE frame cut short") != NULL, "err '%s'", err);
	cr_expect_null(payload);
}

Test(frames, fd_count_must_match_the_header)
{
	write_state_header(sv[0], 1, 0);
	cr_expect_eq(receive(1000), -EPROTO);
	cr_expect(strstr(err, "announced 1 fds, 0 came with it") != NULL, "err '%s'", err);
}

Test(frames, silent_peer_times_out)
{
	cr_expect_eq(receive(50), -ETIMEDOUT);
	cr_expect(strstr(err, "no answer within the timeout") != NULL, "err '%s'", err);
}

/* ---- flow frames (ctrl/takeover_flows.c) ---- */

/* A flow whose every field differs from the others and from zero. */
static void
flow_sample(struct nm_flow *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 16; i++) {
		f->hk.k.addr_lo[i] = (uint8_t)(i + 1);
		f->hk.k.addr_hi[i] = (uint8_t)(0x80 + i);
	}
	f->hk.k.port_lo = 1234;
	f->hk.k.port_hi = 80;
	f->hk.k.proto = 6;
	f->hk.pod_id = 11;
	f->init_pod_id = 12;
	f->resp_pod_id = 13;
	f->rule_id = 14;
	f->first_tsc = 0x1000000000001ull;
	f->last_tsc = 0x1000000000002ull;
	f->pkts[0] = 3, f->pkts[1] = 4;
	f->bytes[0] = 5000, f->bytes[1] = 6000;
	f->rate_drops = 7;
	for (int d = 0; d < 2; d++) {
		f->pps[d] =
		    (struct rte_meter_srtcm){.time = 100u + d, .tc = 200u + d, .te = 300u + d};
		f->bps[d] =
		    (struct rte_meter_srtcm){.time = 400u + d, .tc = 500u + d, .te = 600u + d};
	}
	f->state = NM_FLOW_TCP_ESTABLISHED;
	f->init_is_lo = 1;
	f->local_is_init = 0;
	f->fin_seen = 2;
	f->inspect = 1;
	f->sig = NM_FLOW_SIG_INSPECT;
	f->sig_born = 1;
}

static void
flow_expect_same(const struct nm_flow *a, const struct nm_flow *b)
{
	cr_expect_arr_eq(&a->hk.k, &b->hk.k, sizeof(a->hk.k));
	cr_expect_eq(a->hk.pod_id, b->hk.pod_id);
	cr_expect_eq(a->init_pod_id, b->init_pod_id);
	cr_expect_eq(a->resp_pod_id, b->resp_pod_id);
	cr_expect_eq(a->rule_id, b->rule_id);
	cr_expect_eq(a->first_tsc, b->first_tsc);
	cr_expect_eq(a->last_tsc, b->last_tsc);
	cr_expect_arr_eq(a->pkts, b->pkts, sizeof(a->pkts));
	cr_expect_arr_eq(a->bytes, b->bytes, sizeof(a->bytes));
	cr_expect_eq(a->rate_drops, b->rate_drops);
	cr_expect_arr_eq(a->pps, b->pps, sizeof(a->pps), "pps meters' tokens and times");
	cr_expect_arr_eq(a->bps, b->bps, sizeof(a->bps), "bps meters' tokens and times");
	cr_expect_eq(a->state, b->state);
	cr_expect_eq(a->init_is_lo, b->init_is_lo);
	cr_expect_eq(a->local_is_init, b->local_is_init);
	cr_expect_eq(a->fin_seen, b->fin_seen);
	cr_expect_eq(a->inspect, b->inspect);
	cr_expect_eq(a->sig, b->sig);
	cr_expect_eq(a->sig_born, b->sig_born);
}

/* The one record of a body: its length field's offset in the body. */
#define REC_AT NM_TWIRE_HDR_LEN

static uint32_t
rec_len(const uint8_t *body)
{
	return (uint32_t)body[REC_AT] << 24 | (uint32_t)body[REC_AT + 1] << 16 |
	       (uint32_t)body[REC_AT + 2] << 8 | body[REC_AT + 3];
}

static void
rec_len_set(uint8_t *body, uint32_t n)
{
	body[REC_AT] = (uint8_t)(n >> 24);
	body[REC_AT + 1] = (uint8_t)(n >> 16);
	body[REC_AT + 2] = (uint8_t)(n >> 8);
	body[REC_AT + 3] = (uint8_t)n;
}

/* The first record of body in *rec. 0 or -EPROTO. */
static int
first_record(const uint8_t *body, size_t len, struct nm_twire_reader *rec)
{
	struct nm_twire_reader r;
	uint16_t minor;

	if (nm_twire_reader_init(&r, body, len, &minor, err, sizeof(err)) < 0 ||
	    nm_twire_next_record(&r, rec, err, sizeof(err)) != 1)
		return -EPROTO;
	return 0;
}

/* Decode the first record of body as a flow. 0 or -EPROTO. */
static int
flow_decode_body(const uint8_t *body, size_t len, struct nm_flow *out)
{
	struct nm_twire_reader rec;

	return first_record(body, len, &rec) < 0 ? -EPROTO : nm_takeover_flow_decode(&rec, out);
}

Test(flow_frames, refuses_a_truncated_record)
{
	struct nm_takeover_flows *flows = NULL;
	struct nm_twire_writer w = {0};
	struct nm_flow f, got;

	flow_sample(&f);
	nm_twire_writer_init(&w);
	nm_takeover_flow_encode(&w, &f);
	rec_len_set(w.buf, rec_len(w.buf) - 1); /* the last field cut short */
	cr_expect_eq(flow_decode_body(w.buf, w.len - 1, &got), -EPROTO);
	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_VERSION, NM_TAKEOVER_FLOWS,
					   (char *)w.buf, (uint32_t)w.len - 1, err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "shorter than this nodemeshd reads (version 1.0)") != NULL,
		  "err '%s'", err);
	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_VERSION, NM_TAKEOVER_FLOWS,
					   (char *)w.buf, 2, err, sizeof(err)),
		     -EPROTO, "a frame shorter than its version");
	nm_takeover_flows_free(flows);
	nm_twire_writer_free(&w);
}

Test(flow_frames, refuses_an_unknown_major_version)
{
	struct nm_takeover_flows *flows = NULL;
	struct nm_twire_writer w = {0};
	struct nm_flow f;

	flow_sample(&f);
	nm_twire_writer_init(&w);
	nm_takeover_flow_encode(&w, &f);
	w.buf[1] = NM_TWIRE_MAJOR + 1;
	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_VERSION, NM_TAKEOVER_FLOWS,
					   (char *)w.buf, (uint32_t)w.len, err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "takeover body version 2.0, this nodemeshd reads 1.x") != NULL,
		  "err '%s'", err);
	nm_takeover_flows_free(flows);
	nm_twire_writer_free(&w);
}

/*
 * Protocol 1 (the release before): a host-order u32 record size, then
 * fixed records of 216 bytes on x86-64. This build reads them to take
 * over from that release; another size is refused naming both.
 */
Test(flow_frames, reads_protocol_1_records_of_their_size_only)
{
	struct nm_takeover_flows *flows = NULL;
	char buf[4 + 2 * 216];
	uint32_t size = 216;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &size, sizeof(size));
	cr_expect_eq(
	    nm_takeover_flows_add(&flows, 1, NM_TAKEOVER_FLOWS, buf, sizeof(buf), err, sizeof(err)),
	    0, "%s", err);
	size = 100;
	memcpy(buf, &size, sizeof(size));
	cr_expect_eq(
	    nm_takeover_flows_add(&flows, 1, NM_TAKEOVER_FLOWS, buf, sizeof(buf), err, sizeof(err)),
	    -EPROTO);
	cr_expect(strstr(err, "(protocol 1) of 436 bytes: records of 100 bytes, this nodemeshd "
			      "reads 216") != NULL,
		  "err '%s'", err);
	nm_takeover_flows_free(flows);
}

Test(flow_frames, round_trip_keeps_every_field)
{
	struct nm_twire_writer w = {0};
	struct nm_flow f, got;

	flow_sample(&f);
	nm_twire_writer_init(&w);
	nm_takeover_flow_encode(&w, &f);
	cr_assert_eq(flow_decode_body(w.buf, w.len, &got), 0, "%s", err);
	flow_expect_same(&f, &got);
	nm_twire_writer_free(&w);
}

/* A later release appends fields to the record: this one reads its own, the rest skipped. */
Test(flow_frames, accepts_a_newer_writers_longer_record)
{
	struct nm_takeover_flows *flows = NULL;
	struct nm_twire_writer w = {0};
	struct nm_flow f, got;

	flow_sample(&f);
	nm_twire_writer_init(&w);
	nm_takeover_flow_encode(&w, &f);
	nm_twire_put_u64(&w, 0x5555555555555555ull); /* the newer field, after the record */
	nm_twire_put_u32(&w, 0xaaaaaaaa);
	rec_len_set(w.buf, rec_len(w.buf) + 12);
	cr_assert_not(w.err);
	cr_assert_eq(flow_decode_body(w.buf, w.len, &got), 0, "%s", err);
	flow_expect_same(&f, &got);
	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_VERSION, NM_TAKEOVER_FLOWS,
					   (char *)w.buf, (uint32_t)w.len, err, sizeof(err)),
		     0, "%s", err);
	nm_takeover_flows_free(flows);
	nm_twire_writer_free(&w);
}

/* ---- stream frames (ctrl/takeover_streams.c) ---- */

static const uint16_t seen_sample[3] = {0x0001, 0x8003, 0xffff};
static const uint8_t hs_sample[5] = {9, 8, 7, 6, 5};
static const uint8_t head_sample[] = "GET /a HTTP/1.1\r\nHost: x\r\n";
static const uint8_t held_sample[2][4] = {{'a', 'b', 'c', 'd'}, {'e', 'f', 'g', 'h'}};

static void
stream_sample(struct nm_takeover_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->k.port_lo = 5, s->k.port_hi = 80, s->k.proto = 6;
	s->k.addr_lo[15] = 1, s->k.addr_hi[15] = 2;
	s->pod_id = 21;
	for (int i = 0; i < NM_SIGDB_DIGEST_LEN; i++)
		s->digest[i] = (uint8_t)(0xc0 + i);
	s->next = 0xfffffff0u; /* about to wrap */
	s->acked = 0xffffff00u;
	s->acked_known = 1;
	s->seg_pos = 3;
	for (int i = 0; i < NM_INSP_SEGS; i++) {
		s->seg[i].seq = 1000u * (uint32_t)i;
		s->seg[i].crc = 0x11111111u * (uint32_t)i;
		s->seg[i].len = (uint16_t)(10 + i);
	}
	s->n_seen = 3;
	s->seen = seen_sample;
	s->hs = hs_sample;
	s->hs_len = sizeof(hs_sample);
	s->has_http = 1;
	s->http.m.body_left = 77;
	s->http.m.content_length = 88;
	s->http.m.head_len = sizeof(head_sample) - 1;
	s->http.m.line_off = 17;
	s->http.m.n_headers = 1;
	s->http.m.version_minor = 1;
	s->http.m.chunked = true;
	s->http.pending = 0x5;
	s->http.messages = 42;
	s->http.header_count_max = 100;
	s->http.n_pending = 3;
	s->http.dir = NM_HTTP_RESPONSE;
	s->http.state = 4;
	s->http.cr = true;
	s->head = head_sample;
	s->n_held = 2;
	for (int i = 0; i < 2; i++) {
		s->held[i].seq = 0x10u + 100u * (uint32_t)i;
		s->held[i].len = 4;
		s->held[i].data = held_sample[i];
	}
}

static int
stream_decode_body(const uint8_t *body, size_t len, struct nm_takeover_stream *out)
{
	struct nm_twire_reader rec;

	return first_record(body, len, &rec) < 0 ? -EPROTO : nm_takeover_stream_decode(&rec, out);
}

Test(stream_frames, round_trip_keeps_every_field)
{
	struct nm_twire_writer w = {0};
	struct nm_takeover_stream s, got;

	stream_sample(&s);
	nm_twire_writer_init(&w);
	nm_takeover_stream_encode(&w, &s);
	cr_assert_eq(stream_decode_body(w.buf, w.len, &got), 0);
	cr_expect_arr_eq(&got.k, &s.k, sizeof(s.k));
	cr_expect_eq(got.pod_id, s.pod_id);
	cr_expect_arr_eq(got.digest, s.digest, sizeof(s.digest));
	cr_expect_eq(got.next, s.next);
	cr_expect_eq(got.acked, s.acked);
	cr_expect_eq(got.acked_known, 1);
	cr_expect_eq(got.seg_pos, 3);
	for (int i = 0; i < NM_INSP_SEGS; i++) {
		cr_expect_eq(got.seg[i].seq, s.seg[i].seq);
		cr_expect_eq(got.seg[i].crc, s.seg[i].crc);
		cr_expect_eq(got.seg[i].len, s.seg[i].len);
	}
	cr_assert_eq(got.n_seen, 3);
	for (size_t i = 0; i < 3; i++)
		cr_expect_eq(got.seen_be[2 * i] << 8 | got.seen_be[2 * i + 1], seen_sample[i]);
	cr_assert_eq(got.hs_len, sizeof(hs_sample));
	cr_expect_arr_eq(got.hs, hs_sample, sizeof(hs_sample));
	cr_expect_eq(got.has_http, 1);
	cr_expect_eq(got.http.m.body_left, 77);
	cr_expect_eq(got.http.m.content_length, 88);
	cr_expect_eq(got.http.m.head_len, s.http.m.head_len);
	cr_expect_eq(got.http.m.line_off, 17);
	cr_expect(got.http.m.chunked);
	cr_expect_eq(got.http.pending, 0x5);
	cr_expect_eq(got.http.messages, 42);
	cr_expect_eq(got.http.n_pending, 3);
	cr_expect_eq(got.http.dir, NM_HTTP_RESPONSE);
	cr_expect_eq(got.http.state, 4);
	cr_expect(got.http.cr);
	cr_expect_arr_eq(got.head, head_sample, s.http.m.head_len);
	cr_assert_eq(got.n_held, 2);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(got.held[i].seq, s.held[i].seq);
		cr_assert_eq(got.held[i].len, 4);
		cr_expect_arr_eq(got.held[i].data, held_sample[i], 4);
	}
	nm_twire_writer_free(&w);
}

Test(stream_frames, accepts_a_newer_writers_longer_record)
{
	struct nm_takeover_streams *streams = NULL;
	struct nm_twire_writer w = {0};
	struct nm_takeover_stream s, got;

	stream_sample(&s);
	nm_twire_writer_init(&w);
	nm_takeover_stream_encode(&w, &s);
	nm_twire_put_u32(&w, 0x12345678);
	rec_len_set(w.buf, rec_len(w.buf) + 4);
	cr_assert_eq(stream_decode_body(w.buf, w.len, &got), 0);
	cr_expect_eq(got.held[1].seq, s.held[1].seq);
	char *copy = malloc(w.len);
	cr_assert_not_null(copy);
	memcpy(copy, w.buf, w.len);
	cr_expect_eq(nm_takeover_streams_add(&streams, copy, (uint32_t)w.len, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(nm_takeover_streams_count(streams), 1);
	nm_takeover_streams_free(streams);
	nm_twire_writer_free(&w);
}

/* Every cut of the record short of its last field is refused, none read past the end. */
Test(stream_frames, refuses_every_truncation)
{
	struct nm_twire_writer w = {0};
	struct nm_takeover_stream s, got;

	stream_sample(&s);
	nm_twire_writer_init(&w);
	nm_takeover_stream_encode(&w, &s);
	uint32_t full = rec_len(w.buf);
	for (uint32_t n = 0; n < full; n++) {
		rec_len_set(w.buf, n);
		cr_expect_eq(
		    stream_decode_body(w.buf, NM_TWIRE_HDR_LEN + NM_TWIRE_REC_HDR + n, &got),
		    -EPROTO, "record cut to %u of %u bytes", n, full);
	}
	nm_twire_writer_free(&w);
}

Test(stream_frames, refuses_counts_past_their_bounds)
{
	struct nm_takeover_streams *streams = NULL;
	struct nm_twire_writer w = {0};
	struct nm_takeover_stream s, got;

	stream_sample(&s);
	s.http.m.line_off = s.http.m.head_len + 1; /* outside the head it comes with */
	nm_twire_writer_init(&w);
	nm_takeover_stream_encode(&w, &s);
	cr_expect_eq(stream_decode_body(w.buf, w.len, &got), -EPROTO);

	stream_sample(&s);
	s.seg_pos = NM_INSP_SEGS;
	nm_twire_writer_reset(&w);
	nm_takeover_stream_encode(&w, &s);
	cr_expect_eq(stream_decode_body(w.buf, w.len, &got), -EPROTO);
	char *copy = malloc(w.len);
	cr_assert_not_null(copy);
	memcpy(copy, w.buf, w.len);
	cr_expect_eq(nm_takeover_streams_add(&streams, copy, (uint32_t)w.len, err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "STREAMS frame: a stream record of") != NULL, "err '%s'", err);
	nm_takeover_streams_free(streams);
	nm_twire_writer_free(&w);
}

Test(flow_frames, refuses_pod_ids_that_are_not_an_object)
{
	struct nm_takeover_flows *flows = NULL;
	static const char text[] = "[1,2]";

	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_VERSION, NM_TAKEOVER_PODIDS, text,
					   sizeof(text) - 1, err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "PODIDS frame is not a JSON object") != NULL, "err '%s'", err);
	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_VERSION, NM_TAKEOVER_PODIDS,
					   "{\"7\":\"test/pod-1\"}", 18, err, sizeof(err)),
		     0, "%s", err);
	nm_takeover_flows_free(flows);
}

/*
 * The TUNNEL frame (ctrl/takeover_tunnel.c): a frame that does not add up
 * is refused before any key is made or any node state is touched (the
 * node here is all zeroes: nothing may read past has_fabric). A peer
 * record written field by field as README "The takeover's format" says
 * is read whole: the node then refuses it for want of a fabric port.
 */
static void
tunnel_key(struct nm_twire_writer *w, uint16_t words)
{
	static const uint8_t key[32] = {1}, iv[12] = {2};

	nm_twire_put_u8(w, 1);	/* present */
	nm_twire_put_u8(w, 0);	/* cipher */
	nm_twire_put_u8(w, 0);	/* dir */
	nm_twire_put_u16(w, 3); /* epoch */
	nm_twire_put_blob(w, key, sizeof(key));
	nm_twire_put_blob(w, iv, sizeof(iv));
	for (int i = 0; i < 4; i++) /* records, forgeries, next_seq, replay top */
		nm_twire_put_u64(w, 100u + (uint64_t)i);
	nm_twire_put_u16(w, words);
	for (unsigned int i = 0; i < words; i++)
		nm_twire_put_u64(w, i);
}

static void
tunnel_peer(struct nm_twire_writer *w, uint16_t words, bool newer_field)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};

	nm_twire_record_begin(w);
	nm_twire_put_u8(w, 1); /* a peer */
	nm_twire_put_blob(w, "node-b", 6);
	nm_twire_put_u16(w, 3);	   /* epoch_seq */
	nm_twire_put_u16(w, 3);	   /* tx_epoch */
	nm_twire_put_u32(w, 1000); /* tx_epoch_age_ms */
	nm_twire_put_u32(w, 0);	   /* rx_prev_left_ms */
	for (int k = 0; k < 3; k++)
		tunnel_key(w, words);
	nm_twire_put_bytes(w, mac, sizeof(mac));
	nm_twire_put_u8(w, 1);
	for (int i = 0; i < 7; i++)
		nm_twire_put_u64(w, (uint64_t)i);
	nm_twire_put_u8(w, 2); /* rejection reasons the writer counts */
	nm_twire_put_u64(w, 5);
	nm_twire_put_u64(w, 6);
	if (newer_field)
		nm_twire_put_u64(w, 0x77);
	nm_twire_record_end(w);
}

static int
tunnel_restore(struct nm_node *node, const struct nm_twire_writer *w)
{
	unsigned int n_peers = 7, n_remote = 7;
	int rc = nm_takeover_tunnel_restore(node, NM_TAKEOVER_VERSION, w->buf, (uint32_t)w->len,
					    &n_peers, &n_remote, err, sizeof(err));

	cr_expect_eq(n_peers, 0);
	return rc;
}

Test(tunnel_frames, refuses_frames_that_do_not_add_up)
{
	struct nm_node *node = calloc(1, sizeof(*node));
	struct nm_twire_writer w = {.wipe = true};
	uint8_t frame[3] = {0, 1, 0};
	unsigned int n_peers = 7, n_remote = 7;

	cr_assert_not_null(node);
	cr_expect_eq(nm_takeover_tunnel_restore(node, NM_TAKEOVER_VERSION, frame, sizeof(frame),
						&n_peers, &n_remote, err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "too short") != NULL, "err '%s'", err);

	nm_twire_writer_init(&w);
	nm_twire_record_begin(&w);
	nm_twire_put_u8(&w, 9); /* a kind this build does not know */
	nm_twire_record_end(&w);
	cr_expect_eq(tunnel_restore(node, &w), -EPROTO);
	cr_expect(strstr(err, "cannot read (kind 9") != NULL, "err '%s'", err);

	nm_twire_writer_reset(&w);
	tunnel_peer(&w, 32, false); /* a replay window of another size */
	cr_expect_eq(tunnel_restore(node, &w), -EPROTO);
	cr_expect(strstr(err, "a key or replay window of another size") != NULL, "err '%s'", err);

	nm_twire_writer_reset(&w);
	tunnel_peer(&w, NM_TNL_REPLAY_WORDS, false);
	w.len -= 1; /* the last field cut short (the record's length says more) */
	cr_expect_eq(tunnel_restore(node, &w), -EPROTO);
	nm_twire_writer_free(&w);
	free(node);
}

Test(tunnel_frames, reads_a_peer_record_whole_and_a_newer_writers)
{
	struct nm_node *node = calloc(1, sizeof(*node));
	struct nm_twire_writer w = {.wipe = true};

	cr_assert_not_null(node);
	for (int newer = 0; newer < 2; newer++) {
		nm_twire_writer_init(&w);
		tunnel_peer(&w, NM_TNL_REPLAY_WORDS, newer);
		cr_expect_eq(tunnel_restore(node, &w), -ENODEV, "newer %d: %s", newer, err);
		cr_expect(strstr(err, "no fabric port") != NULL, "err '%s'", err);
		nm_twire_writer_free(&w);
	}
	free(node);
}
