/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel records (wire format in nodemesh/tunnel-t.h): the 17 header
 * bytes, and sealing and opening whole bursts in place with a pre-keyed
 * context (tnl_key.c). A burst goes in three steps: every record's checks
 * and header, one AEAD call for all of them (the engine's burst: a job
 * burst for intel-ipsec-mb), then every record's outcome in order. The
 * receive order follows what each step costs and what it may change:
 * parse, epoch, replay check (all cheap, change nothing), then the AEAD,
 * and only for a record whose tag verified the replay window update
 * (RFC 6479 §3: a forged record must not move it).
 */
#include <stddef.h>
#include <stdint.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

static const char *const reason_names[NM_TNL_REASON_MAX] = {[NM_TNL_OK] = "ok",
#define NM_TNL_REASON_NAME(sym, name, help) [NM_TNL_E_##sym] = (name),
							    NM_TNL_REASONS(NM_TNL_REASON_NAME)
#undef NM_TNL_REASON_NAME
};

static const char *const reason_helps[NM_TNL_REASON_MAX] = {[NM_TNL_OK] = "not a rejection",
#define NM_TNL_REASON_HELP(sym, name, help) [NM_TNL_E_##sym] = (help),
							    NM_TNL_REASONS(NM_TNL_REASON_HELP)
#undef NM_TNL_REASON_HELP
};

const char *
nm_tnl_reason_name(unsigned int reason)
{
	return reason < NM_TNL_REASON_MAX ? reason_names[reason] : "unknown";
}

const char *
nm_tnl_reason_help(unsigned int reason)
{
	return reason < NM_TNL_REASON_MAX ? reason_helps[reason] : "unknown reason";
}

static inline void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void
nm_tnl_hdr_build(uint8_t *out, uint16_t epoch, uint64_t seq, uint32_t inner_len)
{
	out[0] = NM_TNL_VERSION;
	out[1] = 0;
	put_be16(out + 2, epoch);
	for (int i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
	out[12] = NM_TNL_CONTENT_TYPE;
	put_be16(out + 13, NM_TNL_LEGACY_VERSION);
	put_be16(out + 15, (uint16_t)NM_TNL_REC_LEN(inner_len));
}

int
nm_tnl_hdr_parse(const uint8_t *buf, uint32_t len, struct nm_tnl_hdr *hdr)
{
	if (tnl_unlikely(len < NM_TNL_HDRS_LEN))
		return -NM_TNL_E_SHORT;
	if (tnl_unlikely(buf[0] != NM_TNL_VERSION))
		return -NM_TNL_E_BAD_VERSION;
	if (tnl_unlikely(buf[1] != 0))
		return -NM_TNL_E_BAD_RESERVED;
	if (tnl_unlikely(buf[12] != NM_TNL_CONTENT_TYPE))
		return -NM_TNL_E_BAD_RECORD_TYPE;
	if (tnl_unlikely(get_be16(buf + 13) != NM_TNL_LEGACY_VERSION))
		return -NM_TNL_E_BAD_LEGACY_VERSION;

	uint16_t rec_len = get_be16(buf + 15);

	if (tnl_unlikely(rec_len > NM_TNL_REC_LEN_MAX))
		return -NM_TNL_E_RECORD_OVERFLOW;
	if (tnl_unlikely(rec_len < NM_TNL_TRAILER_LEN))
		return -NM_TNL_E_RECORD_TOO_SHORT;
	/* The caller gives the UDP payload: no trailing bytes are allowed. */
	if (tnl_unlikely(rec_len != len - NM_TNL_HDRS_LEN))
		return -NM_TNL_E_LENGTH_MISMATCH;

	uint64_t seq = 0;

	for (int i = 0; i < 8; i++)
		seq = seq << 8 | buf[4 + i];
	hdr->epoch = get_be16(buf + 2);
	hdr->seq = seq;
	hdr->rec_len = rec_len;
	return 0;
}

/*
 * Seal, first step: the checks that spend nothing. pending counts the
 * records of this chunk already accepted, so that the usage limit holds
 * inside a burst as across bursts.
 */
static unsigned int
seal_check(const struct nm_tnl_key *key, uint64_t pending, const struct nm_tnl_buf *b)
{
	if (tnl_unlikely(b->len < NM_TNL_HDRS_LEN))
		return NM_TNL_E_SHORT;
	if (tnl_unlikely(b->len - NM_TNL_HDRS_LEN > NM_TNL_INNER_MAX))
		return NM_TNL_E_TOO_BIG;
	if (tnl_unlikely(b->room < b->len || b->room - b->len < NM_TNL_TRAILER_LEN))
		return NM_TNL_E_NO_ROOM;
	if (tnl_unlikely(key->records + pending >= key->record_limit))
		return NM_TNL_E_KEY_EXHAUSTED;
	return NM_TNL_OK;
}

/*
 * Take up to want sequence numbers from the key's counter, which the
 * sealing contexts of a key set share (one per worker): a compare and
 * swap, so that the counter never passes key->seq_limit (at most
 * NM_TNL_SEQ_LIMIT, never sealed) and a number is
 * handed out once, whichever worker asks. Returns how many were taken,
 * from *first on.
 */
static unsigned int
seq_take(struct nm_tnl_key *key, unsigned int want, uint64_t *first)
{
	uint64_t cur = __atomic_load_n(key->seq, __ATOMIC_RELAXED);
	uint64_t take;

	do {
		uint64_t left = cur < key->seq_limit ? key->seq_limit - cur : 0;

		take = want < left ? want : left;
		if (take == 0)
			break;
	} while (!__atomic_compare_exchange_n(key->seq, &cur, cur + take, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	*first = cur;
	return (unsigned int)take;
}

/* Seal, second step: write b's header and content type byte under seq, describe the AEAD work. */
static void
seal_prepare(const struct nm_tnl_key *key, uint64_t seq, struct nm_tnl_buf *b,
	     struct nm_tnl_aead_req *req)
{
	uint32_t inner_len = b->len - NM_TNL_HDRS_LEN;
	uint8_t *body = b->data + NM_TNL_HDRS_LEN;

	b->seq = seq;
	nm_tnl_hdr_build(b->data, key->epoch, seq, inner_len);
	body[inner_len] = NM_TNL_CONTENT_TYPE;
	nm_tnl_nonce(req->nonce, key->iv, seq);
	req->aad = b->data;
	req->body = body;
	req->len = inner_len + 1; /* TLSInnerPlaintext: content, type; no padding */
	req->tag = body + req->len;
}

/*
 * Seal bufs[0..n), n at most NM_TNL_CHUNK: check each, take the sequence
 * numbers for those that passed in one step, one AEAD call for all,
 * finish. A number is spent before the AEAD runs (never offered to it
 * twice); a buffer refused before it spends none.
 */
static uint16_t
seal_chunk(struct nm_tnl_key *key, struct nm_tnl_buf *bufs, unsigned int n)
{
	struct nm_tnl_aead_req reqs[NM_TNL_CHUNK];
	struct nm_tnl_buf *of[NM_TNL_CHUNK]; /* the buffer of each request */
	unsigned int m = 0;
	uint16_t sealed = 0;
	uint64_t seq;

	for (unsigned int i = 0; i < n; i++) {
		bufs[i].reason = (uint16_t)seal_check(key, m, &bufs[i]);
		if (tnl_likely(bufs[i].reason == NM_TNL_OK))
			of[m++] = &bufs[i];
	}
	if (m == 0)
		return 0;
	unsigned int got = seq_take(key, m, &seq);
	for (unsigned int j = got; j < m; j++)
		of[j]->reason = NM_TNL_E_KEY_EXHAUSTED; /* the sequence space is spent */
	m = got;
	if (m == 0)
		return 0;
	for (unsigned int j = 0; j < m; j++) {
		if (j + 1 < m)
			__builtin_prefetch(of[j + 1]->data, 1);
		seal_prepare(key, seq + j, of[j], &reqs[j]);
	}
	key->ops->seal_burst(key, reqs, m);
	for (unsigned int j = 0; j < m; j++) {
		of[j]->reason = reqs[j].reason;
		if (tnl_unlikely(reqs[j].reason != NM_TNL_OK))
			continue;
		key->records++;
		of[j]->len += NM_TNL_TRAILER_LEN;
		sealed++;
	}
	return sealed;
}

/* A key of the wrong direction: the library would refuse every record of the burst. */
static uint16_t
refuse_all(struct nm_tnl_buf *bufs, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		bufs[i].reason = NM_TNL_E_CRYPTO_ERROR;
	return 0;
}

uint16_t
nm_tnl_seal_burst(struct nm_tnl_key *key, struct nm_tnl_buf *bufs, uint16_t n)
{
	uint16_t sealed = 0;

	if (tnl_unlikely(key->dir != NM_TNL_SEAL))
		return refuse_all(bufs, n);
	for (uint16_t i = 0; i < n; i += NM_TNL_CHUNK)
		sealed += seal_chunk(key, bufs + i, n - i < NM_TNL_CHUNK ? n - i : NM_TNL_CHUNK);
	return sealed;
}

/*
 * Open, first step: everything that is cheap and changes nothing (header,
 * epoch, usage limit, replay check), then describe the AEAD work in req.
 */
static unsigned int
open_prepare(const struct nm_tnl_key *key, const struct nm_tnl_replay *replay, struct nm_tnl_buf *b,
	     struct nm_tnl_aead_req *req)
{
	struct nm_tnl_hdr hdr;
	int rc = nm_tnl_hdr_parse(b->data, b->len, &hdr);

	if (tnl_unlikely(rc < 0))
		return (unsigned int)-rc;
	b->seq = hdr.seq;
	if (tnl_unlikely(hdr.epoch != key->epoch))
		return NM_TNL_E_WRONG_EPOCH;
	if (tnl_unlikely(key->forgeries >= key->forgery_limit))
		return NM_TNL_E_KEY_EXHAUSTED;

	unsigned int reason = nm_tnl_replay_check(replay, hdr.seq);

	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;
	nm_tnl_nonce(req->nonce, key->iv, hdr.seq);
	req->aad = b->data;
	req->body = b->data + NM_TNL_HDRS_LEN;
	req->len = hdr.rec_len - NM_TNL_TAG_LEN; /* >= 1: parse refused less */
	req->tag = req->body + req->len;
	return NM_TNL_OK;
}

/*
 * Open, third step, in the order the records came: what the AEAD said. A
 * record after the one that reached the forgery limit is refused as if it
 * had been checked after it (as one record at a time would be).
 */
static unsigned int
open_verdict(struct nm_tnl_key *key, const struct nm_tnl_aead_req *req)
{
	if (tnl_unlikely(key->forgeries >= key->forgery_limit))
		return NM_TNL_E_KEY_EXHAUSTED;
	if (tnl_unlikely(req->reason != NM_TNL_OK)) {
		if (req->reason == NM_TNL_E_BAD_TAG)
			key->forgeries++;
		return req->reason;
	}
	return NM_TNL_OK;
}

/* Open, last step, for a record the window took: its content type. */
static unsigned int
open_finish(struct nm_tnl_key *key, struct nm_tnl_buf *b, const struct nm_tnl_aead_req *req)
{
	key->records++;
	if (tnl_unlikely(req->body[req->len - 1] != NM_TNL_CONTENT_TYPE))
		return NM_TNL_E_BAD_CONTENT_TYPE;
	b->len = NM_TNL_HDRS_LEN + req->len - 1;
	return NM_TNL_OK;
}

/* Open bufs[0..n), n at most NM_TNL_CHUNK: check each, one AEAD call for all, finish in order. */
static uint16_t
open_chunk(struct nm_tnl_key *key, struct nm_tnl_replay *replay, struct nm_tnl_buf *bufs,
	   unsigned int n)
{
	struct nm_tnl_aead_req reqs[NM_TNL_CHUNK];
	struct nm_tnl_buf *of[NM_TNL_CHUNK];
	unsigned int m = 0;
	uint16_t opened = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (i + 1 < n)
			__builtin_prefetch(bufs[i + 1].data, 1);
		bufs[i].reason = (uint16_t)open_prepare(key, replay, &bufs[i], &reqs[m]);
		if (tnl_likely(bufs[i].reason == NM_TNL_OK))
			of[m++] = &bufs[i];
	}
	if (m == 0)
		return 0;
	key->ops->open_burst(key, reqs, m);

	/*
	 * Authentic records: mark their sequences used, all at once (the window
	 * may be shared by other workers: one compare-and-swap per ring word),
	 * even if a content type turns out wrong, so that a replay of such a
	 * record is a duplicate like any other. The update checks again: an
	 * earlier copy in this burst, or on another worker, may have won.
	 */
	uint64_t seqs[NM_TNL_CHUNK];
	uint16_t why[NM_TNL_CHUNK];
	unsigned int auth[NM_TNL_CHUNK], na = 0;

	for (unsigned int j = 0; j < m; j++) {
		of[j]->reason = (uint16_t)open_verdict(key, &reqs[j]);
		if (tnl_likely(of[j]->reason == NM_TNL_OK)) {
			seqs[na] = of[j]->seq;
			auth[na++] = j;
		}
	}
	nm_tnl_replay_update_burst(replay, seqs, na, why);
	for (unsigned int a = 0; a < na; a++) {
		unsigned int j = auth[a];

		of[j]->reason =
		    why[a] != NM_TNL_OK ? why[a] : (uint16_t)open_finish(key, of[j], &reqs[j]);
		opened += of[j]->reason == NM_TNL_OK;
	}
	return opened;
}

uint16_t
nm_tnl_open_burst(struct nm_tnl_key *key, struct nm_tnl_replay *replay, struct nm_tnl_buf *bufs,
		  uint16_t n)
{
	uint16_t opened = 0;

	if (tnl_unlikely(key->dir != NM_TNL_OPEN))
		return refuse_all(bufs, n);
	for (uint16_t i = 0; i < n; i += NM_TNL_CHUNK)
		opened +=
		    open_chunk(key, replay, bufs + i, n - i < NM_TNL_CHUNK ? n - i : NM_TNL_CHUNK);
	return opened;
}
