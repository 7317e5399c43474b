/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the tunnel record layer, part three of test_tnl: the two
 * AEAD engines (dataplane/tnl_aead_mb.c, intel-ipsec-mb; tnl_aead_evp.c,
 * OpenSSL EVP) each against published vectors with their bytes written
 * out here (McGrew and Viega's GCM test cases 4 and 16, RFC 8439 §2.8.2),
 * and against each other: a record sealed by one opens with the other,
 * bursts of mixed sizes, and a flipped bit in the tag, the header (the
 * additional data) or the ciphertext refused whichever engine sealed;
 * and the usage limits exact inside one burst, which the record layer
 * prepares together and finishes in order.
 * The intel-ipsec-mb cases are skipped, saying so, when it is not built.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"
#include "test_tnl_common.h"

static const enum nm_tnl_engine engines[] = {NM_TNL_ENGINE_EVP, NM_TNL_ENGINE_MB};
#define N_ENGINES (sizeof(engines) / sizeof(engines[0]))

static void
need_mb(void)
{
	if (nm_tnl_aead_mb_probe() == NULL)
		cr_skip_test("intel-ipsec-mb not built in or no AES-NI here");
}

static struct nm_tnl_key *
engine_key(enum nm_tnl_engine engine, unsigned int cipher, unsigned int dir, const uint8_t *key,
	   const uint8_t *iv)
{
	struct nm_tnl_key_params p = {.cipher = (uint8_t)cipher, .dir = (uint8_t)dir, .epoch = 7};

	memcpy(p.key, key, nm_tnl_cipher_key_len(cipher));
	if (iv != NULL)
		memcpy(p.iv, iv, NM_TNL_IV_LEN);
	struct nm_tnl_key *k = nm_tnl_key_create_engine(&p, engine);
	cr_assert_not_null(k, "nm_tnl_key_create_engine(%s, engine %d): %s",
			   nm_tnl_cipher_name(cipher), engine, strerror(errno));
	return k;
}

/* ---- published vectors, bytes in the source ---- */

struct pub_vector {
	const char *source;
	unsigned int cipher;
	const char *key, *iv, *aad, *pt, *ct, *tag;
};

/* The GCM spec's plaintext and AAD of test cases 4 and 16 (McGrew, Viega 2005, appendix B). */
#define MV_IV  "cafebabefacedbaddecaf888"
#define MV_AAD "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define MV_PT                                                                                      \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                         \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"

static const struct pub_vector pub_vectors[] = {
    {"GCM test case 4", NM_TNL_AES_128_GCM, "feffe9928665731c6d6a8f9467308308", MV_IV, MV_AAD,
     MV_PT,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM test case 16", NM_TNL_AES_256_GCM,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", MV_IV, MV_AAD, MV_PT,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    /* RFC 8439 §2.8.2: "Ladies and Gentlemen of the class of '99: ..." */
    {"RFC 8439 2.8.2", NM_TNL_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
     "50515253c0c1c2c3c4c5c6c7",
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116",
     "1ae10b594f09e26a7e902ecbd0600691"},
};

static void
check_pub_vector(enum nm_tnl_engine engine, const struct pub_vector *v)
{
	uint8_t key[32], iv[12], aad[32], pt[128], ct[128], tag[16], out[128], got_tag[16];
	long key_len = unhex(v->key, key, sizeof(key)), iv_len = unhex(v->iv, iv, sizeof(iv));
	long aad_len = unhex(v->aad, aad, sizeof(aad)), pt_len = unhex(v->pt, pt, sizeof(pt));
	long ct_len = unhex(v->ct, ct, sizeof(ct)), tag_len = unhex(v->tag, tag, sizeof(tag));

	cr_assert(key_len == nm_tnl_cipher_key_len(v->cipher) && iv_len == 12 && aad_len > 0 &&
		      pt_len > 0 && ct_len == pt_len && tag_len == 16,
		  "%s: malformed vector", v->source);

	struct nm_tnl_key *seal = engine_key(engine, v->cipher, NM_TNL_SEAL, key, NULL);
	struct nm_tnl_key *open = engine_key(engine, v->cipher, NM_TNL_OPEN, key, NULL);
	const char *name = nm_tnl_key_engine(seal);

	cr_assert_eq(
	    nm_tnl_aead_seal(seal, iv, aad, (size_t)aad_len, pt, (size_t)pt_len, out, got_tag),
	    NM_TNL_OK, "%s, %s: seal", v->source, name);
	cr_assert_arr_eq(out, ct, (size_t)ct_len, "%s, %s: ciphertext", v->source, name);
	cr_assert_arr_eq(got_tag, tag, 16, "%s, %s: tag", v->source, name);

	cr_assert_eq(nm_tnl_aead_open(open, iv, aad, (size_t)aad_len, ct, (size_t)ct_len, out, tag),
		     NM_TNL_OK, "%s, %s: open", v->source, name);
	cr_assert_arr_eq(out, pt, (size_t)pt_len, "%s, %s: plaintext", v->source, name);

	/* The same bytes with the last tag bit, one AAD bit, one ciphertext bit flipped. */
	tag[15] ^= 0x80;
	cr_assert_eq(nm_tnl_aead_open(open, iv, aad, (size_t)aad_len, ct, (size_t)ct_len, out, tag),
		     NM_TNL_E_BAD_TAG, "%s, %s: flipped tag", v->source, name);
	tag[15] ^= 0x80;
	aad[0] ^= 1;
	cr_assert_eq(nm_tnl_aead_open(open, iv, aad, (size_t)aad_len, ct, (size_t)ct_len, out, tag),
		     NM_TNL_E_BAD_TAG, "%s, %s: flipped AAD", v->source, name);
	aad[0] ^= 1;
	ct[ct_len / 2] ^= 4;
	cr_assert_eq(nm_tnl_aead_open(open, iv, aad, (size_t)aad_len, ct, (size_t)ct_len, out, tag),
		     NM_TNL_E_BAD_TAG, "%s, %s: flipped ciphertext", v->source, name);

	/* Direction is the key's: a sealing key does not open, nor the reverse. */
	cr_assert_eq(nm_tnl_aead_open(seal, iv, aad, (size_t)aad_len, ct, (size_t)ct_len, out, tag),
		     NM_TNL_E_CRYPTO_ERROR);
	cr_assert_eq(
	    nm_tnl_aead_seal(open, iv, aad, (size_t)aad_len, pt, (size_t)pt_len, out, got_tag),
	    NM_TNL_E_CRYPTO_ERROR);
	nm_tnl_key_free(seal);
	nm_tnl_key_free(open);
}

Test(tnl_engine, evp_matches_the_published_bytes)
{
	for (size_t i = 0; i < sizeof(pub_vectors) / sizeof(pub_vectors[0]); i++)
		check_pub_vector(NM_TNL_ENGINE_EVP, &pub_vectors[i]);
}

Test(tnl_engine, ipsec_mb_matches_the_published_bytes)
{
	need_mb();
	for (size_t i = 0; i < sizeof(pub_vectors) / sizeof(pub_vectors[0]); i++)
		check_pub_vector(NM_TNL_ENGINE_MB, &pub_vectors[i]);
}

/* ---- choosing an engine ---- */

Test(tnl_engine, auto_picks_ipsec_mb_when_it_can_run)
{
	struct nm_tnl_key *k = key_new(NM_TNL_AES_128_GCM, NM_TNL_SEAL, test_key, test_iv, 0);
	const char *want = nm_tnl_aead_mb_probe() != NULL ? "intel-ipsec-mb" : "openssl";
	char desc[256];

	cr_assert_str_eq(nm_tnl_key_engine(k), want);
	nm_tnl_engine_describe(desc, sizeof(desc));
	cr_assert(strncmp(desc, want, strlen(want)) == 0, "described as '%s', runs %s", desc, want);
	nm_tnl_key_free(k);
}

Test(tnl_engine, unknown_engine_or_cipher_is_refused)
{
	struct nm_tnl_key_params p = {.cipher = NM_TNL_AES_128_GCM, .dir = NM_TNL_SEAL};

	errno = 0;
	cr_assert_null(nm_tnl_key_create_engine(&p, (enum nm_tnl_engine)9));
	cr_assert_eq(errno, EOPNOTSUPP);
	p.cipher = NM_TNL_CIPHERS;
	cr_assert_null(nm_tnl_key_create_engine(&p, NM_TNL_ENGINE_EVP));
	cr_assert_eq(errno, EINVAL);
	if (nm_tnl_aead_mb_probe() == NULL) {
		p.cipher = NM_TNL_AES_128_GCM;
		cr_assert_null(nm_tnl_key_create_engine(&p, NM_TNL_ENGINE_MB));
		cr_assert_eq(errno, EOPNOTSUPP);
	}
}

/* ---- one engine seals, the other opens ---- */

/* Sizes of a mixed burst: empty, one byte, around block edges, up to 1500. */
static const uint32_t mixed[BURST] = {0,   1,	 15,   16,   17,   31,	 32,   33,   63,   64,	65,
				      100, 127,	 128,  129,  255,  256,	 257,  511,  512,  513, 576,
				      999, 1000, 1023, 1024, 1025, 1279, 1400, 1401, 1499, 1500};

/* Seal a burst of mixed sizes with engine a, open it with engine b, check every byte. */
static void
cross_burst(unsigned int cipher, enum nm_tnl_engine a, enum nm_tnl_engine b)
{
	static uint8_t mem[BURST][BUF_ROOM];
	struct nm_tnl_key *seal = engine_key(a, cipher, NM_TNL_SEAL, test_key, test_iv);
	struct nm_tnl_key *open = engine_key(b, cipher, NM_TNL_OPEN, test_key, test_iv);
	struct nm_tnl_buf bufs[BURST];
	struct nm_tnl_replay replay;
	const char *an = nm_tnl_key_engine(seal), *bn = nm_tnl_key_engine(open);

	nm_tnl_replay_init(&replay);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < BURST; i++)
			buf_fill(&bufs[i], mem[i], mixed[(i + round * 7) % BURST]);
		cr_assert_eq(nm_tnl_seal_burst(seal, bufs, BURST), BURST, "%s by %s",
			     nm_tnl_cipher_name(cipher), an);
		cr_assert_eq(nm_tnl_open_burst(open, &replay, bufs, BURST), BURST,
			     "%s sealed by %s, opened by %s: %s", nm_tnl_cipher_name(cipher), an,
			     bn, nm_tnl_reason_name(bufs[0].reason));
		for (int i = 0; i < BURST; i++) {
			uint32_t inner = mixed[(i + round * 7) % BURST];

			cr_assert_eq(bufs[i].len, NM_TNL_HDRS_LEN + inner);
			cr_assert_eq(bufs[i].seq, (uint64_t)(round * BURST + i));
			for (uint32_t j = 0; j < inner; j++)
				cr_assert_eq(mem[i][NM_TNL_HDRS_LEN + j], pattern(inner, j),
					     "%s %s->%s size %u byte %u",
					     nm_tnl_cipher_name(cipher), an, bn, inner, j);
		}
	}
	nm_tnl_key_free(seal);
	nm_tnl_key_free(open);
}

Test(tnl_engine, records_cross_between_engines_in_mixed_bursts)
{
	need_mb();
	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++)
		for (size_t a = 0; a < N_ENGINES; a++)
			for (size_t b = 0; b < N_ENGINES; b++)
				cross_burst(cipher, engines[a], engines[b]);
}

/*
 * A record sealed by one engine with one bit flipped is refused by the
 * other with BAD_TAG: in the header, which is the additional data (the
 * sequence number's last byte: the other header fields have checks of
 * their own before the AEAD), in the ciphertext (first, middle, the
 * encrypted content type byte) or in the tag.
 */
Test(tnl_engine, tampered_records_refused_across_engines)
{
	static uint8_t mem[BUF_ROOM];
	const uint32_t inner = 200;

	need_mb();
	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		for (size_t a = 0; a < N_ENGINES; a++) {
			enum nm_tnl_engine sealer = engines[a], opener = engines[1 - a];
			struct nm_tnl_key *seal =
			    engine_key(sealer, cipher, NM_TNL_SEAL, test_key, test_iv);
			struct nm_tnl_key *open =
			    engine_key(opener, cipher, NM_TNL_OPEN, test_key, test_iv);
			const uint32_t len = seal_one(seal, mem, inner);
			const uint32_t flips[] = {11, NM_TNL_HDRS_LEN, NM_TNL_HDRS_LEN + inner / 2,
						  NM_TNL_HDRS_LEN + inner, len - 1};

			for (size_t f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
				static uint8_t copy[BUF_ROOM];

				memcpy(copy, mem, len);
				copy[flips[f]] ^= 0x10;
				cr_assert_eq(open_fresh(open, copy, len), NM_TNL_E_BAD_TAG,
					     "%s sealed by %s, byte %u flipped, opened by %s",
					     nm_tnl_cipher_name(cipher), nm_tnl_key_engine(seal),
					     flips[f], nm_tnl_key_engine(open));
			}
			cr_assert_eq(open_fresh(open, mem, len), NM_TNL_OK);
			struct nm_tnl_key_stats st;
			nm_tnl_key_stats_get(open, &st);
			cr_assert_eq(st.forgeries, 5);
			nm_tnl_key_free(seal);
			nm_tnl_key_free(open);
		}
	}
}

/* ---- limits inside one burst (records prepared together, finished in order) ---- */

/* A burst that crosses the AES-GCM record limit seals up to it and refuses the rest. */
Test(tnl_engine, record_limit_holds_inside_a_burst)
{
	static uint8_t mem[BURST][BUF_ROOM];

	for (size_t e = 0; e < N_ENGINES; e++) {
		if (engines[e] == NM_TNL_ENGINE_MB && nm_tnl_aead_mb_probe() == NULL)
			continue;
		struct nm_tnl_key *k =
		    engine_key(engines[e], NM_TNL_AES_128_GCM, NM_TNL_SEAL, test_key, test_iv);
		struct nm_tnl_buf b[BURST];

		k->records = NM_TNL_AES_GCM_RECORD_LIMIT - 5;
		for (int i = 0; i < BURST; i++)
			buf_fill(&b[i], mem[i], 64);
		cr_assert_eq(nm_tnl_seal_burst(k, b, BURST), 5, "%s", nm_tnl_key_engine(k));
		for (int i = 0; i < BURST; i++)
			cr_assert_eq(b[i].reason, i < 5 ? NM_TNL_OK : NM_TNL_E_KEY_EXHAUSTED,
				     "%s record %d: %s", nm_tnl_key_engine(k), i,
				     nm_tnl_reason_name(b[i].reason));
		cr_assert_eq(k->records, NM_TNL_AES_GCM_RECORD_LIMIT);
		cr_assert_eq(k->next_seq, 5, "refused records spend no sequence number");
		nm_tnl_key_free(k);
	}
}

/*
 * An opening key one forgery short of its limit, given a burst of a
 * forged record then valid ones: the forgery is BAD_TAG and counted, every
 * record after it KEY_EXHAUSTED, as if they had come one at a time.
 */
Test(tnl_engine, forgery_limit_holds_inside_a_burst)
{
	static uint8_t mem[4][BUF_ROOM];

	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		for (size_t e = 0; e < N_ENGINES; e++) {
			if (engines[e] == NM_TNL_ENGINE_MB && nm_tnl_aead_mb_probe() == NULL)
				continue;
			struct nm_tnl_key *seal =
			    engine_key(engines[e], cipher, NM_TNL_SEAL, test_key, test_iv);
			struct nm_tnl_key *open =
			    engine_key(engines[e], cipher, NM_TNL_OPEN, test_key, test_iv);
			struct nm_tnl_buf b[4];
			struct nm_tnl_replay replay;

			for (int i = 0; i < 4; i++)
				b[i] = (struct nm_tnl_buf){.data = mem[i],
							   .len = seal_one(seal, mem[i], 100),
							   .room = BUF_ROOM};
			mem[1][NM_TNL_HDRS_LEN + 3] ^= 1;
			open->forgeries = NM_TNL_FORGERY_LIMIT - 1;
			nm_tnl_replay_init(&replay);
			cr_assert_eq(nm_tnl_open_burst(open, &replay, b, 4), 1);
			cr_assert_eq(b[0].reason, NM_TNL_OK);
			cr_assert_eq(b[1].reason, NM_TNL_E_BAD_TAG, "%s %s: %s",
				     nm_tnl_cipher_name(cipher), nm_tnl_key_engine(open),
				     nm_tnl_reason_name(b[1].reason));
			cr_assert_eq(b[2].reason, NM_TNL_E_KEY_EXHAUSTED);
			cr_assert_eq(b[3].reason, NM_TNL_E_KEY_EXHAUSTED);
			cr_assert_eq(open->forgeries, NM_TNL_FORGERY_LIMIT);
			cr_assert_eq(open->records, 1);
			cr_assert_eq(nm_tnl_replay_check(&replay, 2), NM_TNL_OK,
				     "a refused record does not move the window");
			nm_tnl_key_free(seal);
			nm_tnl_key_free(open);
		}
	}
}
