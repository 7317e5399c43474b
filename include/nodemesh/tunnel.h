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
 * Threads: a key context (struct nm_tnl_key) belongs to one worker and is
 * not safe to share; a replay window may be shared by the workers opening
 * one key's records (see nm_tnl_replay_update). Two contexts sealing with
 * the same key bytes would reuse nonces unless they draw sequence numbers
 * from one counter: a key set's sealing contexts do (nm_tnl_keyset_create),
 * any other sealing key must exist exactly once. The control thread
 * creates and frees keys; workers only use them.
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
 * Anti-replay window, RFC 6479. Sequence s is kept as position s + 1, so
 * that top == 0 means "nothing yet" and sequence 0 is valid.
 * Behaviour, with H the highest sequence accepted so far:
 *   - s == 2^64 - 1: refused (REPLAY_SEQ_LIMIT); s + 1 would wrap, and a
 *     sender never uses it (it rekeys long before);
 *   - s > H, or nothing accepted yet: new; accepting it moves the window,
 *     however far ahead s is (an authenticated jump; everything at or below
 *     s - NM_TNL_REPLAY_WINDOW is then too old);
 *   - H - s >= NM_TNL_REPLAY_WINDOW: REPLAY_TOO_OLD;
 *   - otherwise new unless already received (REPLAY_DUPLICATE).
 * Check before decrypting (cheap refusal), update only after the tag has
 * verified, so that a forged record cannot move the window.
 *
 * Threads: any number of workers may check and update one window at once,
 * without a lock; each sequence is accepted by at most one update over all
 * of them (see nm_tnl_replay_update). Init, export and import only while
 * no worker uses the window.
 */

/* A ring word as the operand of the 16-byte compare-and-swap (cmpxchg16b). */
__extension__ typedef unsigned __int128 nm_tnl_replay_pair __attribute__((may_alias));

/* pos's round: which absolute word of its ring slot (pos / 4096). */
#define NM_TNL_REPLAY_ROUND(pos) ((pos) / (UINT64_C(64) * NM_TNL_REPLAY_WORDS))
#define NM_TNL_REPLAY_SLOT(pos)	 (((pos) / 64) & (NM_TNL_REPLAY_WORDS - 1))

static inline void
nm_tnl_replay_init(struct nm_tnl_replay *replay)
{
	memset(replay, 0, sizeof(*replay));
}

/*
 * Read a word without a lock. Another worker's CAS may land between the two
 * loads; the round is read first (acquire), so the bits read are of that
 * round or of a later state of the word, never older. A torn pair then
 * either tells the truth or pairs an old round with a newer round's bits:
 * a refusal (DUPLICATE instead of TOO_OLD, both refusals and both true of
 * the word by then) or a CAS that fails and reads the word again. It never
 * makes a sequence not yet received look received.
 */
static inline struct nm_tnl_replay_word
nm_tnl_replay_word_read(const struct nm_tnl_replay_word *w)
{
	struct nm_tnl_replay_word v;

	v.round = __atomic_load_n(&w->round, __ATOMIC_ACQUIRE);
	v.bits = __atomic_load_n(&w->bits, __ATOMIC_RELAXED);
	return v;
}

/*
 * Replace *w by want if it still holds *seen (both halves): true if it did,
 * else false with *seen set to what *w holds. A full barrier (lock
 * cmpxchg16b, inlined by -march=native; the record layer stays free of
 * DPDK, hence no rte_atomic128_cmp_exchange).
 */
static inline bool
nm_tnl_replay_word_cas(struct nm_tnl_replay_word *w, struct nm_tnl_replay_word *seen,
		       struct nm_tnl_replay_word want)
{
	nm_tnl_replay_pair expect, desired, found;

	memcpy(&expect, seen, sizeof(expect));
	memcpy(&desired, &want, sizeof(desired));
	found = __sync_val_compare_and_swap((nm_tnl_replay_pair *)w, expect, desired);
	if (found == expect)
		return true;
	memcpy(seen, &found, sizeof(*seen));
	return false;
}

/*
 * NM_TNL_OK if seq would be accepted now, else the reason. Changes nothing.
 * A hint when workers share the window: the update decides.
 */
static inline unsigned int
nm_tnl_replay_check(const struct nm_tnl_replay *replay, uint64_t seq)
{
	if (__builtin_expect(seq == NM_TNL_SEQ_LIMIT, 0))
		return NM_TNL_E_REPLAY_SEQ_LIMIT;

	uint64_t pos = seq + 1;
	/* Relaxed: top is only compared with pos; no other data hangs on it. */
	uint64_t top = __atomic_load_n(&replay->top, __ATOMIC_RELAXED);

	if (__builtin_expect(pos <= top && top - pos >= NM_TNL_REPLAY_WINDOW, 0))
		return NM_TNL_E_REPLAY_TOO_OLD;

	struct nm_tnl_replay_word w =
	    nm_tnl_replay_word_read(&replay->ring[NM_TNL_REPLAY_SLOT(pos)]);
	uint64_t round = NM_TNL_REPLAY_ROUND(pos);

	if (__builtin_expect(w.round > round, 0))
		return NM_TNL_E_REPLAY_TOO_OLD;
	if (__builtin_expect(w.round == round && ((w.bits >> (pos % 64)) & 1) != 0, 0))
		return NM_TNL_E_REPLAY_DUPLICATE;
	return NM_TNL_OK;
}

/*
 * Mark the positions in mask (bits of ring word slot) received in round:
 * one compare-and-swap for all of them, none when every one is marked
 * already. Returns false, marking nothing, when the slot holds a later
 * round (all of them too old); else true, with *dup the positions of mask
 * an earlier update had marked (duplicates; the others are marked now).
 * A word of an older round is recycled: the window has left it. What the
 * update below and nm_tnl_replay_update_burst() share.
 */
static inline bool
nm_tnl_replay_mark(struct nm_tnl_replay *replay, uint64_t slot, uint64_t round, uint64_t mask,
		   uint64_t *dup)
{
	struct nm_tnl_replay_word *w = &replay->ring[slot];
	struct nm_tnl_replay_word seen = nm_tnl_replay_word_read(w), want;

	do {
		if (__builtin_expect(seen.round > round, 0))
			return false;
		*dup = seen.round == round ? seen.bits & mask : 0;
		if (__builtin_expect(*dup == mask, 0))
			return true;
		want = (struct nm_tnl_replay_word){
		    .round = round, .bits = (seen.round == round ? seen.bits : 0) | mask};
	} while (!nm_tnl_replay_word_cas(w, &seen, want));
	return true;
}

/* Raise top from top_seen to pos unless another worker raised it higher (CAS-max). */
static inline void
nm_tnl_replay_raise_top(struct nm_tnl_replay *replay, uint64_t top_seen, uint64_t pos)
{
	while (top_seen < pos && !__atomic_compare_exchange_n(&replay->top, &top_seen, pos, false,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/*
 * Check seq again and, if accepted, mark it received (moving the window
 * when it is the highest). Returns NM_TNL_OK or the reason, as check: two
 * copies of one record, in one burst or on two workers at the same
 * instant, both pass the check, only one the update.
 *
 * Alone, this is RFC 6479's ring exactly. Call a_j the absolute word
 * (pos / 64) that RFC 6479's slot j holds: the largest a <= top / 64 with
 * a % 64 == j, cleared when top first reached it, so its bits are the
 * positions accepted in a_j. Here slot j's round is at most a_j / 64 (only
 * accepted positions, all <= top, set a round); if equal, its bits are
 * those same positions (the first of them recycled the word, the others
 * were or-ed in), if lower, nothing in a_j was accepted yet and the word
 * reads as empty, as RFC 6479's cleared one. A position in the window, or
 * above top, lies in a_j or above it, so both answer alike; a word of a
 * later round than pos only exists when top is 4033 or more ahead of pos,
 * which the top test already refuses.
 *
 * Shared, each sequence is accepted at most once: a position's bit is set
 * only by a CAS that found its slot on an older round or on its round with
 * the bit clear; a word's round never decreases (every CAS writes the same
 * or a higher one) and within a round bits are only added, so after that
 * CAS no state the slot will ever hold lets another CAS accept it. top
 * only adds refusals (TOO_OLD), and may lag an accepted word: a worker that
 * read a stale top accepts at most what it would have before that record.
 */
static inline unsigned int
nm_tnl_replay_update(struct nm_tnl_replay *replay, uint64_t seq)
{
	if (__builtin_expect(seq == NM_TNL_SEQ_LIMIT, 0))
		return NM_TNL_E_REPLAY_SEQ_LIMIT;

	uint64_t pos = seq + 1;
	uint64_t top = __atomic_load_n(&replay->top, __ATOMIC_RELAXED);
	uint64_t dup;

	if (__builtin_expect(pos <= top && top - pos >= NM_TNL_REPLAY_WINDOW, 0))
		return NM_TNL_E_REPLAY_TOO_OLD;
	if (!nm_tnl_replay_mark(replay, NM_TNL_REPLAY_SLOT(pos), NM_TNL_REPLAY_ROUND(pos),
				1ull << (pos % 64), &dup))
		return NM_TNL_E_REPLAY_TOO_OLD;
	if (__builtin_expect(dup != 0, 0))
		return NM_TNL_E_REPLAY_DUPLICATE;
	nm_tnl_replay_raise_top(replay, top, pos);
	return NM_TNL_OK;
}

/*
 * nm_tnl_replay_update() of seqs[0..n) in that order (n at most
 * NM_TNL_REPLAY_BURST_MAX), each answer in reasons[i]: the same answers,
 * one by one, as n updates would give, but the records of one ring word
 * are marked with one compare-and-swap and top is raised once, so workers
 * that share a window write its cache lines once per word a burst covers,
 * not once per record (tnl_replay.c).
 */
void nm_tnl_replay_update_burst(struct nm_tnl_replay *replay, const uint64_t *seqs, unsigned int n,
				uint16_t *reasons);

/*
 * The window in RFC 6479's layout, as a takeover carries it (an older
 * release reads and writes that): top, and ring word j = the bits of the
 * absolute word a_j = the largest a <= top / 64 with a % 64 == j (0 when
 * there is none, or when the slot holds an older round). Import gives
 * slot j round a_j / 64 and those bits.
 */
void nm_tnl_replay_export(const struct nm_tnl_replay *r, uint64_t *top,
			  uint64_t bits[NM_TNL_REPLAY_WORDS]);
void nm_tnl_replay_import(struct nm_tnl_replay *r, uint64_t top,
			  const uint64_t bits[NM_TNL_REPLAY_WORDS]);

#endif
