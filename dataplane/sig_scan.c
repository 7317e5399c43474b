/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scan half of the signature databases (ctrl/sigdb.c compiles them):
 * block scans for datagrams and one Hyperscan stream per TCP flow
 * direction, on the workers. A multi-pattern stream rule is decided here
 * from a per-stream bitmap of the patterns seen (see ctrl/sigdb.c for
 * why), so a rule is reported in the segment whose match completes it.
 *
 * A worker's streams come from its stream pool: fixed chunks of
 * signatures.stream_state_max bytes, one per open stream, each holding
 * the handle, its bitmaps and the Hyperscan stream state (placed there
 * through hs_set_stream_allocator). Opening and closing a stream on a
 * worker therefore allocates nothing.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "http.h"
#include "sig_scan.h"

struct hit_ctx {
	nm_sigdb_hit_fn fn;
	void *ctx;
	unsigned int n_rules;
	const struct nm_sigdb *db;  /* stream scans: the sub-pattern map */
	struct nm_sigdb_stream *st; /* stream scans: the bitmaps */
};

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *arg)
{
	const struct hit_ctx *h = arg;
	const struct nm_sigdb_sub *sub;
	uint16_t *seen;

	(void)from;
	(void)to;
	(void)flags;
	if (id < h->n_rules)
		return h->fn(h->ctx, id) != 0;
	/*
	 * Otherwise a reporting sub-pattern of a multi-pattern stream rule
	 * (quiet sub-expressions and the marker never arrive): the rule is
	 * reported by the match that sets its last bit, in the scan call
	 * that saw it. Each sub-pattern is SINGLEMATCH, and a complete bitmap
	 * is never reported again.
	 */
	if (!h->st || id - h->n_rules >= h->db->n_stream_subs)
		return 0;
	sub = &h->db->stream_subs[id - h->n_rules];
	if (!sub->all)
		return 0;
	seen = &h->st->seen[sub->slot];
	if (*seen == sub->all || (*seen & sub->bit))
		return 0;
	*seen |= sub->bit;
	if (*seen != sub->all)
		return 0;
	return h->fn(h->ctx, sub->rule) != 0;
}

/* HS_SCAN_TERMINATED means the callback asked to stop: not an error. */
static int
scan_rc(hs_error_t hrc)
{
	return hrc == HS_SUCCESS || hrc == HS_SCAN_TERMINATED ? 0 : -EIO;
}

/*
 * The block database is compiled in HS_MODE_VECTORED (ctrl/sigdb.c): a
 * scan takes the payload as the pieces it lies in (an mbuf chain) and
 * matches as if they were one buffer, patterns across pieces included.
 * Offsets, depths and the end-of-data marker count over the whole.
 */
int
nm_sigdb_scan_vector(const struct nm_sigdb *db, hs_scratch_t *scratch, const uint8_t *const *data,
		     const unsigned int *len, unsigned int n, nm_sigdb_hit_fn fn, void *ctx)
{
	struct hit_ctx h = {fn, ctx, db->n_rules, db, NULL};
	uint64_t total = 0;

	for (unsigned int i = 0; i < n; i++)
		total += len[i];
	if (!db->block || total == 0)
		return 0;
	if (total > UINT_MAX)
		return -EIO;
	/* uint8_t and char pointers share representation; Hyperscan reads bytes. */
	return scan_rc(
	    hs_scan_vector(db->block, (const char *const *)data, len, n, 0, scratch, on_match, &h));
}

/* One message's HTTP scan: its rules' bitmaps live as long as it (ctrl/sigdb.c). */
struct http_hits {
	nm_sigdb_hit_fn fn;
	void *ctx;
	const struct nm_sigdb *db;
	uint16_t *seen; /* n_http_multi bitmaps */
};

static int
on_http_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	      void *arg)
{
	const struct http_hits *h = arg;
	const struct nm_sigdb_http_index *x;

	(void)from;
	(void)to;
	(void)flags;
	if (id < h->db->n_rules)
		return h->fn(h->ctx, id) != 0;
	/* Quiet sub-expressions and the marker never arrive; the rest are reporting ones. */
	if (id - h->db->n_rules >= h->db->n_http_index)
		return 0;
	x = &h->db->http_index[id - h->db->n_rules];
	for (uint32_t t = x->first; t < x->first + x->count; t++) {
		const struct nm_sigdb_sub *sub = &h->db->http_targets[t];
		uint16_t *seen = &h->seen[sub->slot];

		if (*seen & sub->bit)
			continue;
		*seen |= sub->bit;
		if (*seen == sub->all && h->fn(h->ctx, sub->rule) != 0)
			return 1;
	}
	return 0;
}

/*
 * Scan each non-empty buffer with its database in dbs, one message's
 * bitmaps on the stack; then decide the rules of phase (0 head, 1 late)
 * with a negated content: all their positive bits and no veto.
 */
static int
scan_http(const struct nm_sigdb *db, hs_database_t *const *dbs, unsigned int phase,
	  hs_scratch_t *scratch, const struct nm_sig_http_bufs *bufs, nm_sigdb_hit_fn fn, void *ctx)
{
	uint16_t seen[NM_SIGDB_HTTP_MULTI_MAX]; /* ctrl/sigdb.c refuses a set that needs more */
	struct http_hits h = {.fn = fn, .ctx = ctx, .db = db, .seen = seen};

	memset(seen, 0, (size_t)db->n_http_multi * sizeof(seen[0]));
	for (unsigned int b = NM_SIG_BUF_STREAM + 1; b < NM_SIG_BUF_MAX; b++) {
		const char *data = (const char *)bufs->data[b];
		unsigned int len = bufs->len[b];
		hs_error_t hrc;

		/* Suricata does not inspect an empty or absent buffer either. */
		if (dbs[b] == NULL || len == 0)
			continue;
		hrc = hs_scan_vector(dbs[b], &data, &len, 1, 0, scratch, on_http_match, &h);
		if (hrc == HS_SCAN_TERMINATED)
			return 0;
		if (hrc != HS_SUCCESS)
			return -EIO;
	}
	for (unsigned int i = 0; i < db->n_http_deferred[phase]; i++) {
		const struct nm_sigdb_sub *d = &db->http_deferred[phase][i];

		if ((seen[d->slot] & (d->all | NM_SIGDB_HTTP_VETO)) == d->all &&
		    fn(ctx, d->rule) != 0)
			return 0;
	}
	return 0;
}

int
nm_sigdb_scan_http(const struct nm_sigdb *db, hs_scratch_t *scratch,
		   const struct nm_sig_http_bufs *bufs, nm_sigdb_hit_fn fn, void *ctx)
{
	return scan_http(db, db->http, 0, scratch, bufs, fn, ctx);
}

int
nm_sigdb_scan_http_late(const struct nm_sigdb *db, hs_scratch_t *scratch,
			const struct nm_sig_http_bufs *bufs, nm_sigdb_hit_fn fn, void *ctx)
{
	return scan_http(db, db->http_late, 1, scratch, bufs, fn, ctx);
}

int
nm_sigdb_scan_block(const struct nm_sigdb *db, hs_scratch_t *scratch, const uint8_t *data,
		    size_t len, nm_sigdb_hit_fn fn, void *ctx)
{
	if (len > UINT_MAX)
		return -EIO;
	unsigned int len1 = (unsigned int)len;
	return nm_sigdb_scan_vector(db, scratch, &data, &len1, 1, fn, ctx);
}

/*
 * Hyperscan takes stream state from one process-wide allocator. Inside a
 * pooled open or close (on a worker) the thread-local chunk below is what
 * it gets; anywhere else (the control thread, tools, tests) it is the C
 * heap, as Hyperscan's default is.
 */
static __thread void *tls_chunk; /* an open: the memory hs_open_stream may take */
static __thread size_t tls_room; /* its size */
static __thread bool tls_pooled; /* inside a pooled open or close */

static void *
stream_alloc(size_t size)
{
	void *p;

	if (!tls_pooled)
		return malloc(size);
	if (tls_chunk == NULL || size > tls_room)
		return NULL; /* Hyperscan reports HS_NOMEM: the open fails, nothing allocated */
	p = tls_chunk;
	tls_chunk = NULL;
	return p;
}

static void
stream_free(void *p)
{
	if (!tls_pooled)
		free(p);
	/* Pooled: the chunk goes back to its pool after hs_close_stream returns. */
}

static pthread_once_t allocator_once = PTHREAD_ONCE_INIT;

static void
allocator_install(void)
{
	hs_set_stream_allocator(stream_alloc, stream_free);
}

struct nm_sig_stream_pool *
nm_sig_stream_pool_create(uint32_t n, size_t chunk)
{
	struct nm_sig_stream_pool *pool;

	if (n == 0 || chunk < NM_SIGDB_STREAM_ALIGN || chunk % NM_SIGDB_STREAM_ALIGN != 0) {
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&allocator_once, allocator_install);
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	pool->free = malloc((size_t)n * sizeof(*pool->free));
	/*
	 * Reserved, not committed: a page is backed when a stream first uses
	 * it, so a pool sized for signatures.max_streams costs what the open
	 * streams use, and a worker still never allocates.
	 */
	pool->bytes = (size_t)n * chunk;
	pool->mem = mmap(NULL, pool->bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pool->free == NULL || pool->mem == MAP_FAILED) {
		int e = pool->mem == MAP_FAILED ? errno : ENOMEM;

		if (pool->mem != MAP_FAILED)
			munmap(pool->mem, pool->bytes);
		free(pool->free);
		free(pool);
		errno = e;
		return NULL;
	}
	pool->chunk = chunk;
	pool->n = n;
	for (uint32_t i = 0; i < n; i++)
		pool->free[i] = n - 1 - i;
	pool->n_free = n;
	return pool;
}

void
nm_sig_stream_pool_free(struct nm_sig_stream_pool *pool)
{
	if (pool == NULL)
		return;
	munmap(pool->mem, pool->bytes);
	free(pool->free);
	free(pool);
}

/* A new stream's HTTP parser: after the handle, its head buffer the n bytes at head. */
static void
http_attach(const struct nm_sigdb *db, struct nm_sigdb_stream *st, uint8_t *head, size_t n)
{
	size_t seen = sizeof(*st) + (size_t)db->n_stream_multi * sizeof(st->seen[0]);
	/* Bounded so that a head's buffers fit the scan's stack space (inspect_http.h). */
	struct nm_http_limits limits = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};

	if (!db->has_http)
		return;
	st->http = (struct nm_http_parser *)((uint8_t *)st + stream_align(seen));
	nm_http_parser_init(st->http, NM_HTTP_REQUEST, &limits, head, (uint32_t)n);
}

/* From the heap (tools, tests): the handle, the parser, a default-sized head buffer. */
static struct nm_sigdb_stream *
stream_open_heap(const struct nm_sigdb *db)
{
	size_t head = nm_sigdb_stream_head_bytes(db);
	size_t http = db->has_http ? NM_HTTP_HEAD_BYTES_DEFAULT : 0;

	struct nm_sigdb_stream *st = calloc(1, head + http);
	hs_error_t hrc;

	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	http_attach(db, st, (uint8_t *)st + head, http);
	if (db->stream == NULL)
		return st;
	hrc = hs_open_stream(db->stream, 0, &st->hs);
	if (hrc != HS_SUCCESS) {
		free(st);
		errno = hrc == HS_NOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	return st;
}

struct nm_sigdb_stream *
nm_sigdb_stream_open(const struct nm_sigdb *db, struct nm_sig_stream_pool *pool)
{
	struct nm_sigdb_stream *st;
	hs_error_t hrc = HS_SUCCESS;

	if (!db->stream && !db->has_http) {
		errno = ENOENT;
		return NULL;
	}
	if (pool == NULL)
		return stream_open_heap(db);

	size_t head = nm_sigdb_stream_head_bytes(db);
	size_t hs = db->stream ? stream_align(db->stream_state_bytes - db->stream_seen_bytes) : 0;
	if (pool->n_free == 0 || nm_sigdb_stream_chunk_bytes(db) > pool->chunk) {
		errno = ENOMEM;
		return NULL;
	}
	uint8_t *chunk = pool->mem + (size_t)pool->free[pool->n_free - 1] * pool->chunk;
	st = (struct nm_sigdb_stream *)chunk;
	memset(st, 0, head);
	st->pool = pool;
	/* The HTTP head buffer takes what the chunk has after Hyperscan's state. */
	http_attach(db, st, chunk + head + hs, pool->chunk - head - hs);
	if (db->stream) {
		tls_pooled = true;
		tls_chunk = chunk + head;
		tls_room = hs;
		hrc = hs_open_stream(db->stream, 0, &st->hs);
		tls_pooled = false;
		tls_chunk = NULL;
	}
	if (hrc != HS_SUCCESS) {
		errno = hrc == HS_NOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	pool->n_free--;
	return st;
}

/* Close st's Hyperscan stream and give its memory back (chunk or heap). */
static hs_error_t
stream_end(struct nm_sigdb_stream *st, hs_scratch_t *scratch, match_event_handler on, void *ctx)
{
	struct nm_sig_stream_pool *pool = st->pool;
	hs_error_t hrc;

	if (st->hs == NULL) {
		hrc = HS_SUCCESS; /* only http rules: no Hyperscan stream */
	} else {
		tls_pooled = pool != NULL;
		hrc = hs_close_stream(st->hs, scratch, on, ctx);
		tls_pooled = false;
	}
	if (pool == NULL) {
		free(st);
		return hrc;
	}
	pool->free[pool->n_free++] = (uint32_t)(((uint8_t *)st - pool->mem) / pool->chunk);
	return hrc;
}

int
nm_sigdb_stream_scan(const struct nm_sigdb *db, struct nm_sigdb_stream *st, hs_scratch_t *scratch,
		     const uint8_t *data, size_t len, nm_sigdb_hit_fn fn, void *ctx)
{
	struct hit_ctx h = {fn, ctx, db->n_rules, db, st};

	if (!st || !st->hs || len == 0)
		return 0; /* no stream database: nothing can match */
	if (len > UINT_MAX)
		return -EIO;
	return scan_rc(hs_scan_stream(st->hs, (const char *)data, (unsigned int)len, 0, scratch,
				      on_match, &h));
}

/* fn may be NULL to drop a stream without end-of-stream reports (scratch may then be NULL). */
int
nm_sigdb_stream_close(const struct nm_sigdb *db, struct nm_sigdb_stream *st, hs_scratch_t *scratch,
		      nm_sigdb_hit_fn fn, void *ctx)
{
	struct hit_ctx h = {fn, ctx, db->n_rules, db, st};

	if (!st)
		return 0;
	if (!fn || !scratch) {
		/* Hyperscan needs scratch to report; without it the stream must still be freed. */
		stream_end(st, NULL, NULL, NULL);
		return fn ? -EIO : 0;
	}
	/* A pcre ending in $ or \z may complete a split rule only now. */
	return scan_rc(stream_end(st, scratch, on_match, &h));
}

/*
 * A takeover (ctrl/takeover_streams.c), workers stopped: Hyperscan's
 * stream state in the compact form hs_compress_stream gives, which
 * hs_expand_stream reads back against the same database only.
 */
int
nm_sigdb_stream_compress(const struct nm_sigdb_stream *st, void *buf, size_t cap, size_t *used)
{
	*used = 0;
	if (st->hs == NULL)
		return 0; /* only http rules: no Hyperscan state */
	hs_error_t hrc = hs_compress_stream(st->hs, buf, cap, used);
	if (hrc == HS_INSUFFICIENT_SPACE)
		return -ENOSPC; /* *used says how much it needs */
	return hrc == HS_SUCCESS ? 0 : -EIO;
}

struct nm_sigdb_stream *
nm_sigdb_stream_expand(const struct nm_sigdb *db, struct nm_sig_stream_pool *pool,
		       const void *bytes, size_t len)
{
	if ((db->stream == NULL) != (len == 0)) {
		errno = EINVAL; /* state for no stream database, or none for one */
		return NULL;
	}
	struct nm_sigdb_stream *st = nm_sigdb_stream_open(db, pool);
	if (st == NULL || st->hs == NULL)
		return st;
	/*
	 * Into the stream just opened in its chunk: hs_reset_and_expand_stream
	 * allocates nothing, where hs_expand_stream would take a second chunk.
	 * No scratch: the reset reports nothing (no callback).
	 */
	if (hs_reset_and_expand_stream(st->hs, bytes, len, NULL, NULL, NULL) != HS_SUCCESS) {
		nm_sigdb_stream_close(db, st, NULL, NULL, NULL);
		errno = EINVAL;
		return NULL;
	}
	return st;
}
