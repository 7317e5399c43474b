/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the takeover conversation's receiver
 * (ctrl/takeover_msg.c): the input is what the other daemon wrote on the
 * connection before closing it. nm_takeover_recv must return a frame whose
 * header encodes back to the input's first 12 bytes and whose payload is
 * the next len bytes, or an error with a message; never hang, never leak.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "takeover_msg.h"

#define CHECK(cond) NM_FUZZ_CHECK("fuzz_takeover", cond)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_takeover_hdr h;
	int sv[2], fds[NM_TAKEOVER_MAX_FDS], buf = 1 << 20;
	char *payload = NULL, err[256] = "";

	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	close(sv[0]); /* the input is all there is: EOF after it, never a wait */

	int rc = nm_takeover_recv(sv[1], 1000, &h, &payload, fds, err, sizeof(err));
	if (rc == 0) {
		uint8_t raw[NM_TAKEOVER_HDR_LEN];
		nm_takeover_hdr_encode(&h, raw);
		CHECK(size >= NM_TAKEOVER_HDR_LEN + h.len);
		CHECK(memcmp(raw, data, sizeof(raw)) == 0);
		CHECK(memcmp(payload, data + NM_TAKEOVER_HDR_LEN, h.len) == 0);
		CHECK(payload[h.len] == '\0');
		CHECK(h.n_fds == 0); /* nothing sent any */
		free(payload);
	} else {
		CHECK(rc != -ETIMEDOUT);
		CHECK(payload == NULL);
		CHECK(err[0] != '\0');
	}
	close(sv[1]);
	return 0;
}
