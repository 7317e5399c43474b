/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel records (wire format in nodemesh/tunnel-t.h): the 17 header
 * bytes, and sealing and opening whole bursts in place with a pre-keyed
 * context (tnl_key.c). The receive order follows what each step costs and
 * what it may change: parse, epoch, replay check (all cheap, change
 * nothing), then the AEAD, and only for a record whose tag verified the
 * replay window update (RFC 6479 §3: a forged record must not move it).
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

static unsigned int
seal_one(struct nm_tnl_key *key, struct nm_tnl_buf *b)
{
	if (tnl_unlikely(b->len < NM_TNL_HDRS_LEN))
		return NM_TNL_E_SHORT;

	uint32_t inner_len = b->len - NM_TNL_HDRS_LEN;

	if (tnl_unlikely(inner_len > NM_TNL_INNER_MAX))
		return NM_TNL_E_TOO_BIG;
	if (tnl_unlikely(b->room < b->len || b->room - b->len < NM_TNL_TRAILER_LEN))
		return NM_TNL_E_NO_ROOM;
	if (tnl_unlikely(key->next_seq == NM_TNL_SEQ_LIMIT || key->records >= key->record_limit))
		return NM_TNL_E_KEY_EXHAUSTED;

	uint64_t seq = key->next_seq;
	uint8_t *body = b->data + NM_TNL_HDRS_LEN;
	uint32_t body_len = inner_len + 1; /* TLSInnerPlaintext: content, type; no padding */
	uint8_t nonce[NM_TNL_IV_LEN];

	/* Spent before the AEAD runs: a number is never offered to it twice. */
	key->next_seq = seq + 1;
	nm_tnl_hdr_build(b->data, key->epoch, seq, inner_len);
	body[inner_len] = NM_TNL_CONTENT_TYPE;
	nm_tnl_nonce(nonce, key->iv, seq);
	unsigned int reason = nm_tnl_aead_seal(key, nonce, b->data, NM_TNL_HDRS_LEN, body, body_len,
					       body, body + body_len);
	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;

	key->records++;
	b->seq = seq;
	b->len += NM_TNL_TRAILER_LEN;
	return NM_TNL_OK;
}

uint16_t
nm_tnl_seal_burst(struct nm_tnl_key *key, struct nm_tnl_buf *bufs, uint16_t n)
{
	uint16_t sealed = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			__builtin_prefetch(bufs[i + 1].data, 1);
		bufs[i].reason = (uint16_t)seal_one(key, &bufs[i]);
		sealed += bufs[i].reason == NM_TNL_OK;
	}
	return sealed;
}

static unsigned int
open_one(struct nm_tnl_key *key, struct nm_tnl_replay *replay, struct nm_tnl_buf *b)
{
	struct nm_tnl_hdr hdr;
	int rc = nm_tnl_hdr_parse(b->data, b->len, &hdr);

	if (tnl_unlikely(rc < 0))
		return (unsigned int)-rc;
	b->seq = hdr.seq;
	if (tnl_unlikely(hdr.epoch != key->epoch))
		return NM_TNL_E_WRONG_EPOCH;
	if (tnl_unlikely(key->forgeries >= NM_TNL_FORGERY_LIMIT))
		return NM_TNL_E_KEY_EXHAUSTED;

	unsigned int reason = nm_tnl_replay_check(replay, hdr.seq);

	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;

	uint8_t *body = b->data + NM_TNL_HDRS_LEN;
	uint32_t body_len = hdr.rec_len - NM_TNL_TAG_LEN; /* >= 1: parse refused less */
	uint8_t nonce[NM_TNL_IV_LEN];

	nm_tnl_nonce(nonce, key->iv, hdr.seq);
	reason = nm_tnl_aead_open(key, nonce, b->data, NM_TNL_HDRS_LEN, body, body_len, body,
				  body + body_len);
	if (tnl_unlikely(reason != NM_TNL_OK)) {
		if (reason == NM_TNL_E_BAD_TAG)
			key->forgeries++;
		return reason;
	}

	/*
	 * Authentic: mark the sequence used even if the content type turns out
	 * wrong, so that a replay of this record is a duplicate like any other.
	 * The update checks again: an earlier copy in this burst may have won.
	 */
	reason = nm_tnl_replay_update(replay, hdr.seq);
	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;
	key->records++;
	if (tnl_unlikely(body[body_len - 1] != NM_TNL_CONTENT_TYPE))
		return NM_TNL_E_BAD_CONTENT_TYPE;
	b->len = NM_TNL_HDRS_LEN + body_len - 1;
	return NM_TNL_OK;
}

uint16_t
nm_tnl_open_burst(struct nm_tnl_key *key, struct nm_tnl_replay *replay, struct nm_tnl_buf *bufs,
		  uint16_t n)
{
	uint16_t opened = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			__builtin_prefetch(bufs[i + 1].data, 1);
		bufs[i].reason = (uint16_t)open_one(key, replay, &bufs[i]);
		opened += bufs[i].reason == NM_TNL_OK;
	}
	return opened;
}
