/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The takeover conversation's frames (ctrl/takeover_msg.c): bad headers
 * first (magic, version, type, fd count, length), then a header round
 * trip, frames with file descriptors across a socketpair, a control
 * server's JSON refusal read as one, a frame cut short and a silent peer;
 * then the flow frames' checks (ctrl/takeover_flows.c): records of another
 * size and pod ids that are not an object are refused; and the TUNNEL
 * frame's (ctrl/takeover_tunnel.c).
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
    {4, 2, "version 2, this nodemeshd speaks 1"},
    {4, 0, "version 0, this nodemeshd speaks 1"},
    {5, 0, "unknown takeover frame type 0"},
    {5, 9, "unknown takeover frame type 9"},
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
	cr_assert_eq(memcmp(raw, "NMTO\x01\x04\x00\x03\x01\x02\x03\x04", 12), 0);
	cr_assert_eq(nm_takeover_hdr_decode(raw, &out, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(out.type, NM_TAKEOVER_ABORT);
	cr_expect_eq(out.n_fds, 3);
	cr_expect_eq(out.len, 0x01020304u);
	cr_expect_str_eq(nm_takeover_type_name(NM_TAKEOVER_STARTED), "STARTED");
	cr_expect_str_eq(nm_takeover_type_name(NM_TAKEOVER_TUNNEL), "TUNNEL");
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

Test(flow_frames, refuses_records_of_another_size)
{
	struct nm_takeover_flows *flows = NULL;
	char buf[4 + 3 * 100];
	uint32_t size = 100; /* not this build's record */

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &size, sizeof(size));
	cr_expect_eq(
	    nm_takeover_flows_add(&flows, NM_TAKEOVER_FLOWS, buf, sizeof(buf), err, sizeof(err)),
	    -EPROTO);
	cr_expect(strstr(err, "records of 100 bytes, this nodemeshd reads") != NULL, "err '%s'",
		  err);
	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_FLOWS, buf, 2, err, sizeof(err)),
		     -EPROTO, "a frame shorter than its record size field");
	nm_takeover_flows_free(flows);
}

Test(flow_frames, refuses_pod_ids_that_are_not_an_object)
{
	struct nm_takeover_flows *flows = NULL;
	static const char text[] = "[1,2]";

	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_PODIDS, text, sizeof(text) - 1, err,
					   sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "PODIDS frame is not a JSON object") != NULL, "err '%s'", err);
	cr_expect_eq(nm_takeover_flows_add(&flows, NM_TAKEOVER_PODIDS, "{\"7\":\"test/pod-1\"}", 18,
					   err, sizeof(err)),
		     0, "%s", err);
	nm_takeover_flows_free(flows);
}

/*
 * The TUNNEL frame (ctrl/takeover_tunnel.c): a frame that does not add up
 * is refused before any key is made or any node state is touched (the
 * node here is all zeroes: nothing may read past has_fabric).
 */
Test(tunnel_frames, refuses_frames_that_do_not_add_up)
{
	struct nm_node *node = calloc(1, sizeof(*node));
	uint8_t frame[64] = {0};
	uint32_t size = 1, count = 0;
	unsigned int n_peers = 7, n_remote = 7;

	cr_assert_not_null(node);
	cr_expect_eq(
	    nm_takeover_tunnel_restore(node, frame, 4, &n_peers, &n_remote, err, sizeof(err)),
	    -EPROTO);
	cr_expect(strstr(err, "no room for its peers") != NULL, "err '%s'", err);
	cr_expect_eq(n_peers, 0);

	memcpy(frame, &size, sizeof(size)); /* a record size this build does not read */
	memcpy(frame + 4, &count, sizeof(count));
	cr_expect_eq(nm_takeover_tunnel_restore(node, frame, sizeof(frame), &n_peers, &n_remote,
						err, sizeof(err)),
		     -EPROTO);
	cr_expect(strstr(err, "0 peers of 1 bytes in 64") != NULL, "err '%s'", err);
	free(node);
}
