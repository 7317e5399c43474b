/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gzip and deflate bodies decoded for inspection (http_body.h). zlib
 * allocates its state (about 7 KiB) and its 32 KiB window through
 * zalloc; here they come from the inflater's arena, reset for each
 * body, so a worker never calls malloc. The output is bounded: past it
 * the body is cut, as libhtp cuts at its decompression limits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "http_body.h"

/* zlib's inflate state and a 2^15-byte window, with room to spare. */
#define ARENA_BYTES ((size_t)64 * 1024)

struct nm_http_inflater {
	z_stream z;
	size_t arena_used;
	uint32_t out_max;
	uint8_t *out;
	uint8_t arena[ARENA_BYTES];
};

static voidpf
arena_alloc(voidpf opaque, uInt items, uInt size)
{
	struct nm_http_inflater *inf = opaque;
	size_t n = ((size_t)items * size + 15) & ~(size_t)15;

	if (n > ARENA_BYTES - inf->arena_used)
		return Z_NULL; /* inflate fails with Z_MEM_ERROR: counted as an error */
	voidpf p = inf->arena + inf->arena_used;
	inf->arena_used += n;
	return p;
}

static void
arena_free(voidpf opaque, voidpf p)
{
	/* The arena is reset before the next body. */
	(void)opaque;
	(void)p;
}

struct nm_http_inflater *
nm_http_inflater_create(uint32_t out_max)
{
	struct nm_http_inflater *inf;

	if (out_max < NM_HTTP_DECODED_MIN || out_max > NM_HTTP_DECODED_MAX) {
		errno = EINVAL;
		return NULL;
	}
	inf = calloc(1, sizeof(*inf));
	if (inf == NULL)
		return NULL;
	inf->out = malloc(out_max);
	if (inf->out == NULL) {
		free(inf);
		errno = ENOMEM;
		return NULL;
	}
	inf->out_max = out_max;
	return inf;
}

void
nm_http_inflater_free(struct nm_http_inflater *inf)
{
	if (inf == NULL)
		return;
	free(inf->out);
	inf->out = NULL;
	free(inf);
}

enum nm_http_coding
nm_http_coding_of(const uint8_t *value, uint32_t len)
{
	if ((len == 4 && strncasecmp((const char *)value, "gzip", 4) == 0) ||
	    (len == 6 && strncasecmp((const char *)value, "x-gzip", 6) == 0))
		return NM_HTTP_CODING_GZIP;
	if (len == 7 && strncasecmp((const char *)value, "deflate", 7) == 0)
		return NM_HTTP_CODING_DEFLATE;
	return NM_HTTP_CODING_NONE;
}

/*
 * zlib's window bits for a body: gzip's header (16 + 15); for deflate the
 * zlib header RFC 1950 §2.2 defines when the first two bytes are one
 * (CM 8, the check), raw deflate otherwise (-15), as libhtp guesses.
 */
static int
window_bits(enum nm_http_coding coding, const uint8_t *in, uint32_t len)
{
	if (coding == NM_HTTP_CODING_GZIP)
		return 16 + 15;
	if (len >= 2 && (in[0] & 0x0f) == 8 && ((unsigned int)in[0] << 8 | in[1]) % 31 == 0)
		return 15;
	return -15;
}

enum nm_http_inflate_result
nm_http_inflate(struct nm_http_inflater *inf, enum nm_http_coding coding, const uint8_t *in,
		uint32_t len, const uint8_t **out, uint32_t *out_len)
{
	enum nm_http_inflate_result res = NM_HTTP_INFLATE_OK;
	int rc;

	*out = inf->out;
	*out_len = 0;
	memset(&inf->z, 0, sizeof(inf->z));
	inf->arena_used = 0;
	inf->z.zalloc = arena_alloc;
	inf->z.zfree = arena_free;
	inf->z.opaque = inf;
	if (inflateInit2(&inf->z, window_bits(coding, in, len)) != Z_OK)
		return NM_HTTP_INFLATE_ERROR;

	inf->z.next_in = (Bytef *)(uintptr_t)in; /* zlib does not write its input */
	inf->z.avail_in = len;
	inf->z.next_out = inf->out;
	inf->z.avail_out = inf->out_max;
	rc = inflate(&inf->z, Z_SYNC_FLUSH);
	*out_len = inf->out_max - inf->z.avail_out;
	/* Z_OK or Z_BUF_ERROR with output room left: the input ended first (a body kept in part).
	 */
	if (rc != Z_STREAM_END && rc != Z_OK && rc != Z_BUF_ERROR)
		res = NM_HTTP_INFLATE_ERROR;
	else if (rc != Z_STREAM_END && inf->z.avail_out == 0)
		res = NM_HTTP_INFLATE_CUT;
	inflateEnd(&inf->z);
	return res;
}
