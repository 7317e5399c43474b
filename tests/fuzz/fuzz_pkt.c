/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet parser. Besides "no crash, no sanitizer
 * report", it checks what the parser promises: a class or a known drop
 * reason, lengths that lie inside the frame, and that parsing with only
 * the headers readable (nm_pkt_parse_partial) agrees with parsing the whole
 * frame, while never reading past what it was given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodemesh/pkt.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_pkt: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Parse with only buf[0..cap) readable: the copy has exactly cap bytes. */
static int
parse_cap(const uint8_t *data, uint32_t cap, uint32_t len, struct nm_pkt_meta *meta)
{
	uint8_t *copy = malloc(cap ? cap : 1);
	int rc;

	CHECK(copy != NULL);
	memcpy(copy, data, cap);
	rc = nm_pkt_parse_partial(copy, cap, len, meta);
	free(copy);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_pkt_meta meta, part;
	uint32_t len = (uint32_t)size;

	if (size > UINT16_MAX * 2u)
		return 0;

	int rc = nm_pkt_parse(data, len, &meta);
	CHECK(rc != 0);
	if (rc < 0) {
		CHECK((unsigned int)-rc < NM_DROP_MAX);
		CHECK(strcmp(nm_drop_name((unsigned int)-rc), "unknown") != 0);
	} else {
		CHECK(rc == NM_PKT_ARP || rc == NM_PKT_IPV4 || rc == NM_PKT_IPV6);
		CHECK(meta.cls == rc);
		CHECK((uint32_t)meta.l2_len + meta.l3_len + meta.l4_len <= len);
		if (rc != NM_PKT_ARP)
			CHECK(meta.l2_len + meta.ip_len <= len);
	}

	/* Headers alone are enough, and give the same answer. */
	if (rc > 0) {
		uint32_t hdr = (uint32_t)meta.l2_len + meta.l3_len + meta.l4_len;

		CHECK(parse_cap(data, hdr, len, &part) == rc);
		CHECK(memcmp(&part, &meta, sizeof(meta)) == 0);
	}

	/* Any shorter readable prefix fails or agrees; it never turns a drop into a pass. */
	uint32_t cap = size ? data[size - 1] % (len + 1) : 0;
	int prc = parse_cap(data, cap, len, &part);
	CHECK(prc != 0);
	if (prc > 0) {
		CHECK(prc == rc);
		CHECK(memcmp(&part, &meta, sizeof(meta)) == 0);
	}
	return 0;
}
