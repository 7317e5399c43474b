/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the body decoder (dataplane/http_body.c): a
 * response body that claims gzip or deflate is attacker bytes. The first
 * input byte picks the coding; the rest is inflated with a small bound.
 * The output must stay within the bound, a full output must say CUT, and
 * a second run over the same bytes must give the same result (the arena
 * and the window are reset between bodies).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "http_body.h"

#define CHECK(cond) NM_FUZZ_CHECK("fuzz_http_body", cond)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nm_http_inflater *inf;
	static uint8_t first[NM_HTTP_DECODED_MIN];
	enum nm_http_coding coding;
	enum nm_http_inflate_result r1, r2;
	const uint8_t *out;
	uint32_t n1, n2;

	if (inf == NULL)
		inf = nm_http_inflater_create(NM_HTTP_DECODED_MIN);
	CHECK(inf != NULL);
	if (size < 1)
		return 0;
	coding = (data[0] & 1) ? NM_HTTP_CODING_DEFLATE : NM_HTTP_CODING_GZIP;
	data++;
	size--;

	r1 = nm_http_inflate(inf, coding, data, (uint32_t)size, &out, &n1);
	CHECK(n1 <= NM_HTTP_DECODED_MIN);
	CHECK(r1 != NM_HTTP_INFLATE_CUT || n1 == NM_HTTP_DECODED_MIN);
	memcpy(first, out, n1);
	r2 = nm_http_inflate(inf, coding, data, (uint32_t)size, &out, &n2);
	CHECK(r1 == r2 && n1 == n2 && memcmp(first, out, n1) == 0);
	return 0;
}
