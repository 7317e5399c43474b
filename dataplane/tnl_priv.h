/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the tunnel record layer: the key context, the AEAD engines
 * behind it, and the single-record AEAD calls under the burst functions.
 * The unit tests use the AEAD calls with the published vectors' nonces and
 * additional data, pick an engine to cross-check the two, and set a
 * sealing key's sequence for the worked example; nothing else should.
 */
#ifndef NM_TNL_PRIV_H
#define NM_TNL_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "nodemesh/tunnel-t.h"

#define tnl_likely(x)	__builtin_expect(!!(x), 1)
#define tnl_unlikely(x) __builtin_expect(!!(x), 0)

struct nm_tnl_key;
struct tnl_mb_key; /* tnl_aead_mb.c: pre-expanded key, its manager, the library's functions */

/* Records a burst hands the engine at once; longer bursts go in chunks of it. */
#define NM_TNL_CHUNK 32
_Static_assert(NM_TNL_CHUNK <= NM_TNL_REPLAY_BURST_MAX, "a chunk's window update is one burst");

/*
 * One record's AEAD work in a burst, in place: what tnl_record.c prepared
 * (nonce, the 17 header bytes as additional data, the body, where the tag
 * goes or is), and the engine's answer.
 */
struct nm_tnl_aead_req {
	uint8_t nonce[NM_TNL_IV_LEN];
	const uint8_t *aad; /* NM_TNL_HDRS_LEN bytes */
	uint8_t *body;	    /* seal: plaintext in, ciphertext out; open: the reverse */
	uint32_t len;	    /* body bytes */
	uint8_t *tag;	    /* seal: written; open: compared */
	uint16_t reason;    /* out: NM_TNL_OK, NM_TNL_E_BAD_TAG (open), NM_TNL_E_CRYPTO_ERROR */
};

/*
 * One AEAD implementation (an engine), chosen per key when it is created:
 * tnl_aead_mb.c (intel-ipsec-mb) when it was built and the CPU has AES-NI,
 * else tnl_aead_evp.c (OpenSSL EVP). Both produce the same bytes; the unit
 * tests cross-check them. init keys key->engine for p (key->cipher and
 * key->dir are set), returning 0 or -errno; fini wipes and frees what init
 * made (also after a failed init). seal and open are nm_tnl_aead_seal and
 * nm_tnl_aead_open below; seal_burst and open_burst do reqs[0..n), n at
 * most NM_TNL_CHUNK, setting each one's reason (the direction is checked by
 * the caller).
 */
struct nm_tnl_aead_ops {
	const char *name; /* "intel-ipsec-mb" or "openssl" */
	int (*init)(struct nm_tnl_key *key, const struct nm_tnl_key_params *p);
	void (*fini)(struct nm_tnl_key *key);
	unsigned int (*seal)(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad,
			     size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			     uint8_t *tag);
	unsigned int (*open)(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad,
			     size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			     const uint8_t *tag);
	void (*seal_burst)(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n);
	void (*open_burst)(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n);
};

/* A burst one record at a time through key->ops->seal or ->open: engines without a burst call. */
void nm_tnl_aead_seal_each(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n);
void nm_tnl_aead_open_each(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n);

enum nm_tnl_engine {
	NM_TNL_ENGINE_AUTO = 0, /* intel-ipsec-mb if built and usable here, else OpenSSL */
	NM_TNL_ENGINE_EVP,	/* OpenSSL EVP, always built */
	NM_TNL_ENGINE_MB,	/* intel-ipsec-mb; EOPNOTSUPP if not built or no AES-NI */
};

extern const struct nm_tnl_aead_ops nm_tnl_aead_evp;
/*
 * The intel-ipsec-mb engine, or NULL when it cannot run: not built
 * (tnl_aead_mb_absent.c), or the CPU lacks AES-NI and PCLMULQDQ. Probes the
 * CPU on each call (a manager allocated and freed): control thread only.
 */
const struct nm_tnl_aead_ops *nm_tnl_aead_mb_probe(void);
/* What the intel-ipsec-mb engine would run here, e.g. "intel-ipsec-mb 1.3.0 avx512"; or why not. */
void nm_tnl_aead_mb_describe(char *buf, size_t len);

struct nm_tnl_key {
	const struct nm_tnl_aead_ops *ops; /* the engine that keyed it */
	union {
		EVP_CIPHER_CTX *ctx;   /* evp: keyed for one direction; per record only the nonce */
		struct tnl_mb_key *mb; /* mb: key schedule and GHASH powers, computed once */
	} engine;
	uint8_t iv[NM_TNL_IV_LEN];
	/*
	 * The key as given, for a takeover only (nm_tnl_key_export): the
	 * engines keep just their schedules. Wiped with the context.
	 */
	uint8_t key_bytes[NM_TNL_KEY_MAX];
	uint8_t cipher; /* enum nm_tnl_cipher */
	uint8_t dir;	/* enum nm_tnl_dir */
	uint16_t epoch;
	uint64_t next_seq; /* seal: sequence number of the next record, unless shared */
	/*
	 * seal: the counter numbers are taken from (atomically, seq_take in
	 * tnl_record.c): &next_seq, or the next_seq of the key set whose
	 * contexts share one sequence space.
	 */
	uint64_t *seq;
	uint64_t records;	/* sealed, or opened with a valid tag */
	uint64_t forgeries;	/* open: records whose tag failed */
	uint64_t record_limit;	/* seal: refuse once records reaches it (UINT64_MAX: none) */
	uint64_t forgery_limit; /* open: refuse every record once forgeries reaches it */
	/*
	 * seal: *seq never passes seq_limit. A key set bounds its shared
	 * counter by the AES-GCM record limit counted from seq_base, the
	 * counter's value when the key had sealed nothing (0; after a
	 * takeover or a resume that skipped numbers, the counter less the
	 * records sealed), so that a skip spends no record budget.
	 */
	uint64_t seq_base;
	uint64_t seq_limit;
};

/*
 * nm_tnl_key_create() with an explicit engine, for the tests that
 * cross-check the two and the benchmark that compares them. AUTO is what
 * nm_tnl_key_create() does. NULL with errno EOPNOTSUPP when the engine
 * asked for cannot run here, otherwise as nm_tnl_key_create().
 */
struct nm_tnl_key *nm_tnl_key_create_engine(const struct nm_tnl_key_params *p,
					    enum nm_tnl_engine engine);

/* The engine's name, "intel-ipsec-mb" or "openssl". */
static inline const char *
nm_tnl_key_engine(const struct nm_tnl_key *key)
{
	return key->ops->name;
}

/*
 * Seal one message with an explicit nonce: out[0..len) = ciphertext of
 * in[0..len) (in == out allowed), tag[0..16) written. aad may be NULL when
 * aad_len is 0. Counts nothing. Returns NM_TNL_OK or NM_TNL_E_CRYPTO_ERROR
 * (also for an opening key).
 */
static inline unsigned int
nm_tnl_aead_seal(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		 const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	if (tnl_unlikely(key->dir != NM_TNL_SEAL))
		return NM_TNL_E_CRYPTO_ERROR;
	return key->ops->seal(key, nonce, aad, aad_len, in, len, out, tag);
}

/*
 * Open one message with an explicit nonce: out[0..len) = plaintext of
 * in[0..len) (in == out allowed) if tag verifies. Counts nothing. Returns
 * NM_TNL_OK, NM_TNL_E_BAD_TAG (out then holds unauthenticated bytes) or
 * NM_TNL_E_CRYPTO_ERROR (also for a sealing key).
 */
static inline unsigned int
nm_tnl_aead_open(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		 const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
	if (tnl_unlikely(key->dir != NM_TNL_OPEN))
		return NM_TNL_E_CRYPTO_ERROR;
	return key->ops->open(key, nonce, aad, aad_len, in, len, out, tag);
}

/* nonce = iv XOR (seq, big-endian, left-padded with 4 zero bytes): RFC 8446 §5.3. */
static inline void
nm_tnl_nonce(uint8_t *nonce, const uint8_t *iv, uint64_t seq)
{
	nonce[0] = iv[0];
	nonce[1] = iv[1];
	nonce[2] = iv[2];
	nonce[3] = iv[3];
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = iv[4 + i] ^ (uint8_t)(seq >> (56 - 8 * i));
}

#endif
