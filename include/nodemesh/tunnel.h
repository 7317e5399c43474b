/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel record layer: the data-path crypto between nodes (wire format in
 * nodemesh/tunnel-t.h). Records are sealed and opened in place over bursts
 * of plain buffers, with AEAD contexts keyed once when the control thread
 * installs a key (intel-ipsec-mb with pre-expanded keys, or OpenSSL EVP as
 * the fallback); per record only the nonce changes. Nothing here
 * allocates after nm_tnl_key_create(), and nothing depends on DPDK, so the
 * layer is tested and fuzzed on its own.
 *
 * Threads: a key context (struct nm_tnl_key) and a replay window belong to
 * one worker; neither is safe to share. A sealing key must exist exactly
 * once for its (key, IV): two contexts sealing with the same key bytes
 * would reuse nonces. The control thread creates and frees keys; workers
 * only use them.
 */
#ifndef NM_TUNNEL_H
#define NM_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nodemesh/tunnel-t.h"

/* Counter name of a reason ("tnl_bad_tag"), "ok" for NM_TNL_OK, or "unknown". */
const char *nm_tnl_reason_name(unsigned int reason);
/* One-line explanation of a reason. */
const char *nm_tnl_reason_help(unsigned int reason);

/* "aes-128-gcm", "aes-256-gcm", "chacha20-poly1305", or NULL for another value. */
const char *nm_tnl_cipher_name(unsigned int cipher);
/* Key bytes the cipher takes (16 or 32), or 0 for an unknown cipher. */
unsigned int nm_tnl_cipher_key_len(unsigned int cipher);

/*
 * Which AEAD engine new keys get, for the start-up log, `version` and
 * `stats`: "intel-ipsec-mb 1.3.0 avx512 vaes" when the library was built
 * in and this CPU has AES-NI, else "openssl 3.0.x EVP (why not the other)".
 * Control thread (probes the CPU).
 */
void nm_tnl_engine_describe(char *buf, size_t len);

/*
 * Write the 17 header bytes (tunnel header, then TLS record header) for a
 * record of inner_len plaintext bytes (at most NM_TNL_INNER_MAX).
 */
void nm_tnl_hdr_build(uint8_t *out, uint16_t epoch, uint64_t seq, uint32_t inner_len);

/*
 * Check and decode the 17 header bytes of the datagram buf[0..len), len
 * being the whole UDP payload: the record length must account for exactly
 * the rest of it. Returns 0 with *hdr filled, or -enum nm_tnl_reason:
 * SHORT, BAD_VERSION, BAD_RESERVED, BAD_RECORD_TYPE, BAD_LEGACY_VERSION,
 * RECORD_OVERFLOW, RECORD_TOO_SHORT, LENGTH_MISMATCH (checked in that order).
 */
int nm_tnl_hdr_parse(const uint8_t *buf, uint32_t len, struct nm_tnl_hdr *hdr);

/*
 * Create a key context from p: the cipher context is allocated and keyed
 * here, once, for p->dir. A sealing key starts at sequence 0. Returns NULL
 * with errno EINVAL (unknown cipher or direction), ENOMEM, or EIO (the
 * crypto library refused). Control thread.
 */
struct nm_tnl_key *nm_tnl_key_create(const struct nm_tnl_key_params *p);

/* Free a key context and wipe its key material. NULL is ignored. */
void nm_tnl_key_free(struct nm_tnl_key *key);

/* The epoch the key was created for. */
uint16_t nm_tnl_key_epoch(const struct nm_tnl_key *key);

/* The key's counters. */
void nm_tnl_key_stats_get(const struct nm_tnl_key *key, struct nm_tnl_key_stats *stats);

/*
 * A takeover's copy of a key (ctrl/takeover_tunnel.c): what created it
 * (the key bytes included) and its counters. The caller wipes p after use
 * (OPENSSL_cleanse) and sends it only over the takeover socket. Control
 * thread, the workers stopped (the counters are the fabric worker's).
 */
void nm_tnl_key_export(const struct nm_tnl_key *key, struct nm_tnl_key_params *p,
		       struct nm_tnl_key_stats *stats);

/*
 * The other end of a takeover: give a key just created from exported
 * params its counters, so that a sealing key goes on from the old
 * process's next sequence number (a nonce never repeats under one key)
 * and both directions keep counting toward their usage limits. next_seq
 * is ignored for an opening key. Before the key is published.
 */
void nm_tnl_key_stats_set(struct nm_tnl_key *key, const struct nm_tnl_key_stats *stats);

/*
 * True once the key has used half of its AEAD usage limit (records sealed
 * for AES-GCM, sequence numbers for ChaCha20-Poly1305, failed tags for an
 * opening key; see NM_TNL_AES_GCM_RECORD_LIMIT): time to install the next
 * epoch. At the full limit the key refuses records.
 */
bool nm_tnl_key_should_rotate(const struct nm_tnl_key *key);

/*
 * Seal bufs[0..n) in place with a NM_TNL_SEAL key: give each the next
 * sequence number, write its 17 header bytes, append the content type
 * byte, encrypt, append the tag. Each buffer's reason says how it went
 * (SHORT: len under 17, NO_ROOM, TOO_BIG, KEY_EXHAUSTED, CRYPTO_ERROR:
 * the library failed or the key is an opening key); a buffer refused
 * before the AEAD consumes no sequence number. Returns how many sealed.
 */
uint16_t nm_tnl_seal_burst(struct nm_tnl_key *key, struct nm_tnl_buf *bufs, uint16_t n);

/*
 * Open bufs[0..n) in place with a NM_TNL_OPEN key and the replay window of
 * the same peer and epoch: parse the header, refuse another epoch and
 * sequences the window refuses, decrypt and verify, check the inner content
 * type, and only then mark the sequence received. Each buffer's reason says
 * how it went (any header reason, WRONG_EPOCH, REPLAY_*, BAD_TAG,
 * BAD_CONTENT_TYPE, KEY_EXHAUSTED, CRYPTO_ERROR). Returns how many opened.
 */
uint16_t nm_tnl_open_burst(struct nm_tnl_key *key, struct nm_tnl_replay *replay,
			   struct nm_tnl_buf *bufs, uint16_t n);

/*
 * A key set of n contexts (1..NM_TNL_CTX_MAX) for p, one per worker: all
 * keyed here. Sealing contexts share one sequence counter (from 0), opening
 * contexts one replay window (empty). The AES-GCM record limit bounds the
 * shared counter (sequence numbers handed out, over all workers); each
 * opening context refuses records after NM_TNL_FORGERY_LIMIT / n
 * forgeries, so that the key as a whole stays within both limits. NULL
 * with errno as nm_tnl_key_create(), or EINVAL for n out of range.
 * Control thread.
 */
struct nm_tnl_keyset *nm_tnl_keyset_create(const struct nm_tnl_key_params *p, unsigned int n);

/* Free a key set and wipe its contexts. NULL is ignored. Control thread, after a grace period. */
void nm_tnl_keyset_free(struct nm_tnl_keyset *ks);

/* The context worker i uses (i < ks->n). */
static inline struct nm_tnl_key *
nm_tnl_keyset_ctx(const struct nm_tnl_keyset *ks, unsigned int i)
{
	return ks->ctx[i];
}

/*
 * The key's counters over all its contexts: records and forgeries summed,
 * next_seq the shared counter (0 for an opening key). Relaxed reads of
 * counters the workers write: a snapshot for `tunnel list` and rotation.
 */
void nm_tnl_keyset_stats_get(const struct nm_tnl_keyset *ks, struct nm_tnl_key_stats *stats);

/*
 * A takeover's copy of the key: its parameters and counters as one key
 * (nm_tnl_key_export of the first context, the counters summed). The
 * workers are stopped.
 */
void nm_tnl_keyset_export(const struct nm_tnl_keyset *ks, struct nm_tnl_key_params *p,
			  struct nm_tnl_key_stats *stats);

/*
 * The other end: a key set just created from exported parameters goes on
 * from the exported counters (the sequence counter from next_seq; records
 * and forgeries credited to the first context, so the whole key keeps
 * counting toward its limits). Before the key set is published.
 */
void nm_tnl_keyset_stats_set(struct nm_tnl_keyset *ks, const struct nm_tnl_key_stats *stats);

/*
 * True once the key has used half of a usage limit: the shared sequence
 * counter half of the record limit (AES-GCM) or of the sequence space, or
 * an opening context half of its share of the forgery limit.
 */
bool nm_tnl_keyset_should_rotate(const struct nm_tnl_keyset *ks);

/*
 * Anti-replay window, RFC 6479. Sequence s is kept as bit (s + 1) of the
 * ring, so that top == 0 means "nothing yet" and sequence 0 is valid.
 * Behaviour, with H the highest sequence accepted so far:
 *   - s == 2^64 - 1: refused (REPLAY_SEQ_LIMIT); s + 1 would wrap, and a
 *     sender never uses it (it rekeys long before);
 *   - s > H, or nothing accepted yet: new; accepting it moves the window,
 *     however far ahead s is (an authenticated jump; everything at or below
 *     s - NM_TNL_REPLAY_WINDOW is then too old);
 *   - H - s >= NM_TNL_REPLAY_WINDOW: REPLAY_TOO_OLD;
 *   - otherwise new unless its bit is set (REPLAY_DUPLICATE).
 * Check before decrypting (cheap refusal), update only after the tag has
 * verified, so that a forged record cannot move the window.
 */
static inline void
nm_tnl_replay_init(struct nm_tnl_replay *replay)
{
	memset(replay, 0, sizeof(*replay));
}

/* NM_TNL_OK if seq would be accepted now, else the reason. Changes nothing. */
static inline unsigned int
nm_tnl_replay_check(const struct nm_tnl_replay *replay, uint64_t seq)
{
	if (__builtin_expect(seq == NM_TNL_SEQ_LIMIT, 0))
		return NM_TNL_E_REPLAY_SEQ_LIMIT;

	uint64_t pos = seq + 1;

	if (__builtin_expect(pos > replay->top, 1))
		return NM_TNL_OK;
	if (__builtin_expect(replay->top - pos >= NM_TNL_REPLAY_WINDOW, 0))
		return NM_TNL_E_REPLAY_TOO_OLD;

	uint64_t word = replay->bits[(pos / 64) & (NM_TNL_REPLAY_WORDS - 1)];

	if (__builtin_expect(((word >> (pos % 64)) & 1) != 0, 0))
		return NM_TNL_E_REPLAY_DUPLICATE;
	return NM_TNL_OK;
}

/*
 * Check seq again and, if accepted, mark it received (moving the window
 * when it is the highest). Returns NM_TNL_OK or the reason, as check: two
 * copies of one record in a burst both pass the check, only one the update.
 */
static inline unsigned int
nm_tnl_replay_update(struct nm_tnl_replay *replay, uint64_t seq)
{
	unsigned int reason = nm_tnl_replay_check(replay, seq);

	if (reason != NM_TNL_OK)
		return reason;

	uint64_t pos = seq + 1;
	uint64_t word = pos / 64;

	if (pos > replay->top) {
		/* Clear the words the window slides over; at most the whole ring. */
		uint64_t top_word = replay->top / 64;
		uint64_t steps = word - top_word;

		if (steps > NM_TNL_REPLAY_WORDS)
			steps = NM_TNL_REPLAY_WORDS;
		for (uint64_t i = 1; i <= steps; i++)
			replay->bits[(top_word + i) & (NM_TNL_REPLAY_WORDS - 1)] = 0;
		replay->top = pos;
	}
	replay->bits[word & (NM_TNL_REPLAY_WORDS - 1)] |= 1ull << (pos % 64);
	return NM_TNL_OK;
}

/*
 * A window in RFC 6479's own form (top, and the ring of NM_TNL_REPLAY_WORDS
 * words) and back: what a takeover carries, as the release before wrote it.
 * Not while a worker updates the window.
 */
void nm_tnl_replay_export(const struct nm_tnl_replay *r, uint64_t *top,
			  uint64_t bits[NM_TNL_REPLAY_WORDS]);
void nm_tnl_replay_import(struct nm_tnl_replay *r, uint64_t top,
			  const uint64_t bits[NM_TNL_REPLAY_WORDS]);

#endif
