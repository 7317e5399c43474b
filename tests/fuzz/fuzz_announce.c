/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for what a peer node sends on its control connection:
 * frame reassembly (ctrl/peer_msg.c) and the pod announcement parser. The
 * first input byte sets the size of the pieces the stream arrives in, as
 * TLS records would cut it; the rest is the stream. Arbitrary bytes must
 * give frames that are JSON objects or an error with a reason, and every
 * announcement accepted must keep the parser's promises: inside the
 * peer's pod CIDR, names and labels that a local pod could have, and the
 * same announcement again after nm_announce_to_json and a second parse.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodemesh/cidr.h"
#include "names.h"
#include "peer_msg.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_announce: %s:%d: check failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

/* "k=v,k=v" of valid parts, or "". */
static void
check_labels(const char *labels)
{
	const char *p = labels;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);

		CHECK(eq != NULL);
		CHECK(nm_label_part_valid(p, (size_t)(eq - p)));
		CHECK(nm_label_part_valid(eq + 1, len - (size_t)(eq - p) - 1));
		p += len;
		if (*p == ',')
			CHECK(*++p != '\0');
	}
}

static void
check_announce(const json_t *msg, const struct nm_cidr *cidr)
{
	static struct nm_announce a, again;
	char err[256];
	json_t *back;
	int rc;

	err[0] = '\0';
	rc = nm_announce_parse(msg, cidr, &a, err, sizeof(err));
	if (rc != 0) {
		CHECK(rc == -EINVAL);
		CHECK(err[0] != '\0');
		CHECK(a.type == 0 && a.ip == 0);
		return;
	}

	CHECK(a.type == NM_ANNOUNCE_POD_ADD || a.type == NM_ANNOUNCE_POD_DEL);
	CHECK(nm_cidr_contains(cidr, a.ip));
	CHECK(nm_ipv4_pod_unicast(a.ip));
	CHECK(terminated(a.ns, sizeof(a.ns)) && terminated(a.sa, sizeof(a.sa)));
	CHECK(terminated(a.labels, sizeof(a.labels)) && terminated(a.image, sizeof(a.image)));
	if (a.type == NM_ANNOUNCE_POD_ADD) {
		CHECK(nm_name_valid(a.ns, strlen(a.ns)));
		/* sa "" is a pod of unknown identity ("ns/"): then no labels and no image. */
		CHECK(nm_name_valid(a.sa, strlen(a.sa)) ||
		      (a.sa[0] == '\0' && a.labels[0] == '\0' && a.image[0] == '\0'));
		check_labels(a.labels);
	} else {
		CHECK(a.ns[0] == '\0' && a.sa[0] == '\0' && a.labels[0] == '\0' &&
		      a.image[0] == '\0');
	}

	back = nm_announce_to_json(&a);
	CHECK(back != NULL);
	rc = nm_announce_parse(back, cidr, &again, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "fuzz_announce: re-parse refused: %s\n", err);
	CHECK(rc == 0);
	CHECK(memcmp(&a, &again, sizeof(a)) == 0);
	json_decref(back);
}

/* The message framed again and reassembled is the same message. */
static void
check_reframe(const json_t *msg)
{
	static struct nm_msg_rx rx;
	static uint8_t buf[NM_MSG_HDR_LEN + NM_MSG_MAX];
	char err[256];
	json_t *again;
	size_t used;
	long n;

	n = nm_msg_frame_write(msg, buf, sizeof(buf), err, sizeof(err));
	/* Compact output may be shorter than the input, never much longer. */
	if (n == -EMSGSIZE)
		return;
	CHECK(n > NM_MSG_HDR_LEN);
	nm_msg_rx_reset(&rx);
	CHECK(nm_msg_rx_push(&rx, buf, (size_t)n, &used, &again, err, sizeof(err)) == 0);
	CHECK(used == (size_t)n);
	CHECK(json_equal(msg, again));
	json_decref(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nm_msg_rx rx;
	/* 10.1.0.0/16: the peer's pod CIDR. */
	const struct nm_cidr cidr = {.net = htonl(0x0a010000), .prefix_len = 16};
	size_t piece, off;
	char err[256];

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;

	nm_msg_rx_reset(&rx);
	for (off = 0; off < size;) {
		size_t len = size - off < piece ? size - off : piece;
		size_t used;
		json_t *msg;
		int rc;

		err[0] = '\0';
		rc = nm_msg_rx_push(&rx, data + off, len, &used, &msg, err, sizeof(err));
		CHECK(used <= len);
		off += used;
		if (rc < 0) {
			CHECK(rc == -EMSGSIZE || rc == -EBADMSG);
			CHECK(err[0] != '\0');
			CHECK(msg == NULL);
			break;
		}
		if (rc == NM_MSG_NEED_MORE) {
			CHECK(used == len && msg == NULL);
			continue;
		}
		CHECK(rc == 0 && json_is_object(msg));
		check_announce(msg, &cidr);
		check_reframe(msg);
		json_decref(msg);
	}
	return 0;
}
