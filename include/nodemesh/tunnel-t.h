/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel record layer types: the wire format between nodes, the rejection
 * reasons (each one a counter), the buffers a burst works on, the key
 * parameters the control thread derives, and the anti-replay window.
 *
 * On the wire, after the outer Ethernet/IPv4/UDP headers:
 *
 *   offset  size  field
 *        0     1  version (1)
 *        1     1  reserved (0; refused otherwise)
 *        2     2  epoch, big-endian
 *        4     8  sequence number, big-endian
 *       12     1  TLS record type: 0x17 (application_data)
 *       13     2  TLS legacy_record_version: 0x03 0x03
 *       15     2  TLS record length, big-endian = inner length + 1 + 16
 *       17     n  AEAD ciphertext of (inner IPv4 packet || 0x17)
 *    17+n+1   16  AEAD tag
 *
 * The AEAD additional data is bytes 0..16 (tunnel header and record
 * header); the nonce is the 12-byte IV XOR the sequence number, big-endian
 * and left-padded with zeros (RFC 8446 §5.3). Overhead after the outer UDP
 * header: 12 + 5 + 1 + 16 = 34 bytes.
 */
#ifndef NM_TUNNEL_T_H
#define NM_TUNNEL_T_H

#include <stdint.h>

/*
 * Nodes one node keeps tunnels to: tunnel.max_peers (default
 * NM_PEERS_DEFAULT) sizes the peer slots, the tunnel state and the fabric
 * worker's per-peer buffers at start; NM_PEERS_MAX is its largest value
 * (peer slots are uint16_t in the pod table and the fabric index).
 */
#define NM_PEERS_DEFAULT 1024
#define NM_PEERS_MAX	 4096

#define NM_TNL_VERSION	      1
#define NM_TNL_HDR_LEN	      12 /* tunnel header: version, reserved, epoch, sequence */
#define NM_TNL_REC_HDR_LEN    5	 /* TLS record header: type, legacy version, length */
#define NM_TNL_HDRS_LEN	      (NM_TNL_HDR_LEN + NM_TNL_REC_HDR_LEN) /* 17: also the AAD */
#define NM_TNL_TAG_LEN	      16
#define NM_TNL_TRAILER_LEN    (1 + NM_TNL_TAG_LEN)		     /* content type byte + tag */
#define NM_TNL_OVERHEAD	      (NM_TNL_HDRS_LEN + NM_TNL_TRAILER_LEN) /* 34 bytes */
#define NM_TNL_IV_LEN	      12
#define NM_TNL_KEY_MAX	      32
#define NM_TNL_CONTENT_TYPE   0x17   /* TLS application_data, outer and inner */
#define NM_TNL_LEGACY_VERSION 0x0303 /* TLS legacy_record_version */
/* Largest TLSCiphertext.length a receiver accepts (RFC 8446 §5.2). */
#define NM_TNL_REC_LEN_MAX (16384 + 256)
/* Largest inner packet a sender seals: TLSInnerPlaintext is at most 2^14 + 1 bytes. */
#define NM_TNL_INNER_MAX 16384

/* Record length field for an inner packet of INNER bytes. */
#define NM_TNL_REC_LEN(inner) ((inner) + NM_TNL_TRAILER_LEN)

enum nm_tnl_cipher {
	NM_TNL_AES_128_GCM = 0,	  /* default; key 16 bytes */
	NM_TNL_AES_256_GCM,	  /* key 32 bytes */
	NM_TNL_CHACHA20_POLY1305, /* key 32 bytes */
	NM_TNL_CIPHERS
};

/* What a key context does; one direction each, as TLS has one key per direction. */
enum nm_tnl_dir {
	NM_TNL_SEAL = 0, /* sender: encrypt */
	NM_TNL_OPEN,	 /* receiver: decrypt and verify */
};

/*
 * Why a record was refused, declared once: the enum and the counter names.
 * Header parser reasons first, then the receiver's, then the sender's.
 */
#define NM_TNL_REASONS(_)                                                                          \
	_(SHORT, "tnl_truncated", "shorter than the 17 bytes of tunnel and record header")         \
	_(BAD_VERSION, "tnl_bad_version", "tunnel header version is not 1")                        \
	_(BAD_RESERVED, "tnl_bad_reserved", "tunnel header reserved byte is not 0")                \
	_(BAD_RECORD_TYPE, "tnl_bad_record_type", "record type is not application_data (0x17)")    \
	_(BAD_LEGACY_VERSION, "tnl_bad_legacy_version", "record legacy version is not 0x0303")     \
	_(RECORD_OVERFLOW, "tnl_record_overflow", "record length over 2^14 + 256 (RFC 8446 5.2)")  \
	_(RECORD_TOO_SHORT, "tnl_record_too_short", "record length under 17 (content type + tag)") \
	_(LENGTH_MISMATCH, "tnl_length_mismatch", "record length is not what the datagram holds")  \
	_(WRONG_EPOCH, "tnl_wrong_epoch", "epoch is not the one of the key it was given to")       \
	_(REPLAY_SEQ_LIMIT, "tnl_replay_seq_limit", "sequence 2^64-1, never valid (would wrap)")   \
	_(REPLAY_TOO_OLD, "tnl_replay_too_old", "sequence behind the anti-replay window")          \
	_(REPLAY_DUPLICATE, "tnl_replay_duplicate", "sequence already received")                   \
	_(BAD_TAG, "tnl_bad_tag", "AEAD tag did not verify (forged, corrupted or wrong key)")      \
	_(BAD_CONTENT_TYPE, "tnl_bad_content_type", "inner content type byte is not 0x17")         \
	_(KEY_EXHAUSTED, "tnl_key_exhausted", "key at its AEAD usage or sequence limit")           \
	_(NO_ROOM, "tnl_no_room", "seal: fewer than 17 writable bytes after the plaintext")        \
	_(TOO_BIG, "tnl_too_big", "seal: inner packet over 2^14 bytes")                            \
	_(CRYPTO_ERROR, "tnl_crypto_error", "the AEAD library call failed")

enum nm_tnl_reason {
	NM_TNL_OK = 0, /* not a rejection; keeps every reason non-zero */
#define NM_TNL_REASON_ENUM(sym, name, help) NM_TNL_E_##sym,
	NM_TNL_REASONS(NM_TNL_REASON_ENUM)
#undef NM_TNL_REASON_ENUM
	    NM_TNL_REASON_MAX
};

/* The 17 header bytes, decoded (host order). Version and reserved are implied. */
struct nm_tnl_hdr {
	uint16_t epoch;	  /* key epoch the record was sealed under */
	uint64_t seq;	  /* record sequence number within the epoch */
	uint16_t rec_len; /* TLS record length: ciphertext bytes including type byte and tag */
};

/*
 * One record of a burst, sealed or opened in place. data points at the
 * first byte of the tunnel header (the UDP payload); the inner packet
 * starts NM_TNL_HDRS_LEN bytes later.
 *
 *   seal in:  len = 17 + inner length (header bytes not yet written),
 *             room >= len + 17
 *   seal out: len = 17 + inner length + 17, the whole record
 *   open in:  len = UDP payload length, the whole record
 *   open out: len = 17 + inner length (as seal's input); on a refusal the
 *             bytes after the header may have been overwritten
 */
struct nm_tnl_buf {
	uint8_t *data;
	uint32_t len;	 /* bytes at data, see above */
	uint32_t room;	 /* bytes writable at data (seal needs len + 17) */
	uint64_t seq;	 /* out: sequence number sealed with, or opened */
	uint16_t reason; /* out: NM_TNL_OK or enum nm_tnl_reason */
};

/*
 * What the control thread derives for one direction of one peer and epoch
 * (from the TLS 1.3 exporter). The key bytes are copied into the context.
 */
struct nm_tnl_key_params {
	uint8_t cipher; /* enum nm_tnl_cipher */
	uint8_t dir;	/* enum nm_tnl_dir */
	uint16_t epoch;
	uint8_t key[NM_TNL_KEY_MAX]; /* first 16 (AES-128-GCM) or 32 bytes used */
	uint8_t iv[NM_TNL_IV_LEN];
};

/* A keyed AEAD context for one direction; opaque (dataplane/tnl_priv.h). */
struct nm_tnl_key;

/*
 * AEAD usage limits per key (draft-irtf-cfrg-aead-limits), counted in
 * records so that the check is one compare per burst.
 *
 * Confidentiality (sealing). AES-GCM: 2^24.5 records, the figure RFC 8446
 * §5.5 gives for full-size records: the draft's bound (q * l)^2 / 2^129
 * with l = 2^10 blocks per 2^14-byte record keeps the distinguishing
 * advantage under 2^-60. Our records are at most ~1.5 KB (l <= 96 for a
 * 1500-byte inner packet), so counting every record as full-size leaves a
 * tenfold margin in q. ChaCha20-Poly1305: the draft (§5.2.1) finds the
 * advantage negligible for any number of records a 64-bit sequence can
 * count, so its limit is the sequence space: 2^64 - 1 is never used.
 *
 * Integrity (opening): records whose tag failed, i.e. forgery attempts.
 * 2^36 for all three ciphers, as DTLS 1.3 sets (RFC 9147 §4.5.3; QUIC,
 * RFC 9001 §6.6, allows AES-GCM 2^52 and ChaCha20-Poly1305 2^36: we take
 * the lower figure for all).
 *
 * A key reaching its limit refuses every further record
 * (NM_TNL_E_KEY_EXHAUSTED: fail closed); nm_tnl_key_should_rotate() says
 * yes from half of it, so the control thread has the other half to rekey.
 */
#define NM_TNL_AES_GCM_RECORD_LIMIT 23726566ull	 /* floor(2^24.5) records sealed */
#define NM_TNL_SEQ_LIMIT	    UINT64_MAX	 /* sequence never sealed nor accepted */
#define NM_TNL_FORGERY_LIMIT	    (1ull << 36) /* records whose tag failed */

/* A key's counters, for `tunnel list` and the rotation decision. */
struct nm_tnl_key_stats {
	uint64_t records;   /* sealed, or opened with a valid tag */
	uint64_t forgeries; /* open: records whose tag failed */
	uint64_t next_seq;  /* seal: sequence number of the next record */
};

/*
 * Anti-replay window (RFC 6479), shared by every worker that opens the
 * records of one peer and epoch. Position pos = sequence + 1 (so that 0
 * means "nothing yet") lives in ring word (pos / 64) % 64, bit pos % 64, as
 * in RFC 6479's ring; the word holding the highest position is partly
 * filled, so the window guaranteed is one word less than the ring.
 *
 * Instead of clearing the words the window slides over, each word carries
 * the round it holds (pos / 4096, which absolute word of that slot): a word
 * of an older round reads as empty and is recycled by the update that
 * lands in it. Round and bits change together in one 16-byte
 * compare-and-swap, so several workers update one window without a lock
 * and a sequence is accepted at most once over all of them (see
 * nm_tnl_replay_update). A window costs 1 KiB of words plus top (1040
 * bytes, 16-byte aligned) where the single-writer RFC 6479 ring took 520.
 */
#define NM_TNL_REPLAY_WORDS	64					   /* power of two */
#define NM_TNL_REPLAY_WINDOW	((NM_TNL_REPLAY_WORDS - 1) * UINT64_C(64)) /* 4032 sequences */
#define NM_TNL_REPLAY_BURST_MAX 64 /* records one nm_tnl_replay_update_burst() takes at most */

/* One ring word: 64 positions of one round. Changed only by a 16-byte CAS. */
struct nm_tnl_replay_word {
	uint64_t round; /* pos / 4096 of the positions the bits stand for */
	uint64_t bits;	/* bit pos % 64 set: position pos received */
} __attribute__((aligned(16)));

struct nm_tnl_replay {
	/*
	 * Highest accepted position (sequence + 1); 0 before the first record.
	 * Only raised (CAS-max), after the word; a hint for refusing old ones.
	 */
	uint64_t top;
	struct nm_tnl_replay_word ring[NM_TNL_REPLAY_WORDS];
};

/*
 * Worker contexts one key set holds at most: one per worker, so at least
 * NM_MAX_WORKERS (nodemesh/tnl_state-t.h checks).
 */
#define NM_TNL_CTX_MAX 8

/*
 * One key (one direction, peer and epoch) used by several workers at once:
 * every worker seals the packets it routes and opens the records it
 * receives (issue 14 part 1: no fabric worker). Each worker has its own
 * context (engine state and counters are not shared), keyed from the same
 * parameters. Sealing contexts take their sequence numbers from next_seq,
 * one counter for the key, so a nonce never repeats under it whichever
 * worker seals (the wire format is that of one sender); opening contexts
 * share replay, one window for the key, which any worker may update.
 * Created and freed by the control thread (nm_tnl_keyset_create()).
 */
struct nm_tnl_keyset {
	uint16_t epoch;
	uint8_t dir; /* enum nm_tnl_dir */
	uint8_t n;   /* contexts: ctx[0..n) */
	struct nm_tnl_key *ctx[NM_TNL_CTX_MAX];
	/* seal: the next sequence number (atomic); its own cache line, workers take from it */
	uint64_t next_seq __attribute__((aligned(64)));
	/* open: the window of every context (atomic updates, nodemesh/tunnel.h) */
	struct nm_tnl_replay replay __attribute__((aligned(64)));
};

#endif
