/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The intel-ipsec-mb engine of the tunnel AEAD: AES-GCM and
 * ChaCha20-Poly1305, the code DPDK's crypto_aesni_gcm and
 * crypto_chacha20_poly1305 PMDs run. When the control thread installs a
 * key, a manager initialised by init_mb_mgr_auto() picks the code for this
 * CPU (VAES and VPCLMULQDQ with AVX-512 where present) and the AES round
 * keys and the GHASH key powers are computed, once (imb_aes_gcm_pre).
 *
 * Per burst, what measured fastest here (bench_tnl, A/B on one core):
 * AES-GCM records go one direct-API call each, nonce, additional data,
 * message and tag together (a GCM job runs that same single-buffer code;
 * a job burst was 4-16 % slower per record), and the key keeps the
 * functions init_mb_mgr_auto chose, not the manager. ChaCha20-Poly1305
 * records go as one job burst (IMB_SUBMIT_BURST_NOCHECK) of a manager the
 * key owns, which the library runs several records at a time: about
 * twice the rate of direct calls at 64 B. That manager is allocated with
 * the key on the control thread and used only by the worker that owns the
 * key; it costs imb_get_mb_mgr_size() bytes (about 200 KB) per key, at
 * most 3 keys per peer. Nothing is allocated per record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

/* What AES-GCM needs of the CPU; without it the library emulates AES, slower than OpenSSL. */
#define MB_NEEDED (IMB_FEATURE_AESNI | IMB_FEATURE_PCLMULQDQ)

struct tnl_mb_key {
	struct gcm_key_data gcm; /* AES-GCM: round keys and GHASH powers (64-byte aligned) */
	uint8_t chacha[32];	 /* ChaCha20-Poly1305: the key itself, it has no schedule */
	IMB_MGR *mgr; /* ChaCha20-Poly1305: the key's job manager for bursts (its worker's) */
	IMB_KEY_SIZE_BYTES key_size; /* AES-GCM: 16 or 32 */
	aes_gcm_enc_dec_t gcm_enc;   /* one call: nonce, AAD, message, tag */
	aes_gcm_enc_dec_t gcm_dec;
	chacha_poly_init_t cc_init; /* nonce and AAD */
	chacha_poly_enc_dec_update_t cc_enc;
	chacha_poly_enc_dec_update_t cc_dec;
	chacha_poly_finalize_t cc_final; /* the tag */
};

static const char *const arch_names[IMB_ARCH_NUM] = {
    [IMB_ARCH_NONE] = "none", [IMB_ARCH_NOAESNI] = "no-aesni", [IMB_ARCH_SSE] = "sse",
    [IMB_ARCH_AVX] = "avx",   [IMB_ARCH_AVX2] = "avx2",	       [IMB_ARCH_AVX512] = "avx512",
};

static void
mb_fini(struct nm_tnl_key *key)
{
	if (key->engine.mb == NULL)
		return;
	if (key->engine.mb->mgr != NULL)
		free_mb_mgr(key->engine.mb->mgr);
	OPENSSL_cleanse(key->engine.mb, sizeof(*key->engine.mb));
	free(key->engine.mb);
	key->engine.mb = NULL;
}

static int
mb_init(struct nm_tnl_key *key, const struct nm_tnl_key_params *p)
{
	/* gcm_key_data must be 64-byte aligned: aligned_alloc wants a multiple of it. */
	size_t size = (sizeof(struct tnl_mb_key) + 63) & ~(size_t)63;
	struct tnl_mb_key *mb = aligned_alloc(64, size);
	IMB_ARCH arch = IMB_ARCH_NONE;

	if (mb == NULL)
		return -ENOMEM;
	memset(mb, 0, size);
	key->engine.mb = mb; /* mb_fini frees it and the manager, also on failure */
	/* Allocated and initialised here, on the control thread, never on a worker. */
	mb->mgr = alloc_mb_mgr(0);
	if (mb->mgr == NULL)
		return -ENOMEM;
	IMB_MGR *mgr = mb->mgr;

	init_mb_mgr_auto(mgr, &arch);
	if ((mgr->features & MB_NEEDED) != MB_NEEDED || arch < IMB_ARCH_SSE)
		return -EOPNOTSUPP;
	mb->key_size = p->cipher == NM_TNL_AES_128_GCM ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;

	switch (p->cipher) {
	case NM_TNL_AES_128_GCM:
		IMB_AES128_GCM_PRE(mgr, p->key, &mb->gcm);
		mb->gcm_enc = mgr->gcm128_enc;
		mb->gcm_dec = mgr->gcm128_dec;
		break;
	case NM_TNL_AES_256_GCM:
		IMB_AES256_GCM_PRE(mgr, p->key, &mb->gcm);
		mb->gcm_enc = mgr->gcm256_enc;
		mb->gcm_dec = mgr->gcm256_dec;
		break;
	case NM_TNL_CHACHA20_POLY1305:
		memcpy(mb->chacha, p->key, sizeof(mb->chacha));
		mb->cc_init = mgr->chacha20_poly1305_init;
		mb->cc_enc = mgr->chacha20_poly1305_enc_update;
		mb->cc_dec = mgr->chacha20_poly1305_dec_update;
		mb->cc_final = mgr->chacha20_poly1305_finalize;
		break;
	default:
		return -EINVAL;
	}
	/* Only ChaCha20-Poly1305 runs job bursts; AES-GCM keys need no manager after this. */
	if (p->cipher != NM_TNL_CHACHA20_POLY1305) {
		free_mb_mgr(mb->mgr);
		mb->mgr = NULL;
	}
	return 0;
}

static unsigned int
mb_seal(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
	const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	const struct tnl_mb_key *mb = key->engine.mb;

	if (tnl_likely(key->cipher != NM_TNL_CHACHA20_POLY1305)) {
		struct gcm_context_data ctx;

		mb->gcm_enc(&mb->gcm, &ctx, out, in, len, nonce, aad, aad_len, tag, NM_TNL_TAG_LEN);
		return NM_TNL_OK;
	}

	struct chacha20_poly1305_context_data ctx;

	mb->cc_init(mb->chacha, &ctx, nonce, aad, aad_len);
	mb->cc_enc(mb->chacha, &ctx, out, in, len);
	mb->cc_final(&ctx, tag, NM_TNL_TAG_LEN);
	return NM_TNL_OK;
}

static unsigned int
mb_open(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
	const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
	const struct tnl_mb_key *mb = key->engine.mb;
	uint8_t computed[NM_TNL_TAG_LEN];

	/* The library decrypts and computes the tag; comparing it is ours to do. */
	if (tnl_likely(key->cipher != NM_TNL_CHACHA20_POLY1305)) {
		struct gcm_context_data ctx;

		mb->gcm_dec(&mb->gcm, &ctx, out, in, len, nonce, aad, aad_len, computed,
			    NM_TNL_TAG_LEN);
	} else {
		struct chacha20_poly1305_context_data ctx;

		mb->cc_init(mb->chacha, &ctx, nonce, aad, aad_len);
		mb->cc_dec(mb->chacha, &ctx, out, in, len);
		mb->cc_final(&ctx, computed, NM_TNL_TAG_LEN);
	}
	/* In constant time: how many tag bytes matched must not show in the timing. */
	if (tnl_unlikely(CRYPTO_memcmp(computed, tag, NM_TNL_TAG_LEN) != 0))
		return NM_TNL_E_BAD_TAG;
	return NM_TNL_OK;
}

/*
 * One job of a burst: AES-GCM (GMAC for the tag) or ChaCha20-Poly1305,
 * in place. Every field the library reads is set: jobs are reused.
 */
static void
job_fill(const struct nm_tnl_key *key, IMB_JOB *job, struct nm_tnl_aead_req *r, bool seal,
	 uint8_t *tag_out)
{
	const struct tnl_mb_key *mb = key->engine.mb;

	if (key->cipher == NM_TNL_CHACHA20_POLY1305) {
		job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
		job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
		job->enc_keys = mb->chacha;
		job->dec_keys = mb->chacha;
		job->key_len_in_bytes = IMB_KEY_256_BYTES;
		job->u.CHACHA20_POLY1305.aad = r->aad;
		job->u.CHACHA20_POLY1305.aad_len_in_bytes = NM_TNL_HDRS_LEN;
	} else {
		job->cipher_mode = IMB_CIPHER_GCM;
		job->hash_alg = IMB_AUTH_AES_GMAC;
		job->enc_keys = &mb->gcm;
		job->dec_keys = &mb->gcm;
		job->key_len_in_bytes = mb->key_size;
		job->u.GCM.aad = r->aad;
		job->u.GCM.aad_len_in_bytes = NM_TNL_HDRS_LEN;
	}
	/* The tag covers the ciphertext: after encrypting, before decrypting. */
	job->cipher_direction = seal ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = seal ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->src = r->body;
	job->dst = r->body;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = r->len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = r->len;
	job->iv = r->nonce;
	job->iv_len_in_bytes = NM_TNL_IV_LEN;
	job->auth_tag_output = tag_out;
	job->auth_tag_output_len_in_bytes = NM_TNL_TAG_LEN;
	job->user_data = r;
}

/*
 * Run reqs[0..n) as one job burst. Sealing writes each tag at reqs[i].tag;
 * opening writes it to computed[i], for the caller to compare. The AEAD
 * jobs complete synchronously, but what the library does not return at
 * once is flushed, so that the manager is empty between bursts. A request
 * whose job did not complete stays CRYPTO_ERROR.
 */
static void
run_burst(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n,
	  uint8_t (*computed)[NM_TNL_TAG_LEN])
{
	IMB_MGR *mgr = key->engine.mb->mgr;
	IMB_JOB *jobs[NM_TNL_CHUNK];
	bool seal = computed == NULL;

	for (unsigned int i = 0; i < n; i++)
		reqs[i].reason = NM_TNL_E_CRYPTO_ERROR;
	if (tnl_unlikely(IMB_GET_NEXT_BURST(mgr, n, jobs) < n))
		return; /* never: the manager is empty between bursts */
	for (unsigned int i = 0; i < n; i++)
		job_fill(key, jobs[i], &reqs[i], seal, seal ? reqs[i].tag : computed[i]);

	/* NOCHECK: every field set above is valid by construction (lengths, IV, key). */
	uint32_t done = IMB_SUBMIT_BURST_NOCHECK(mgr, n, jobs);

	if (tnl_unlikely(done < n))
		done += IMB_FLUSH_BURST(mgr, n - done, jobs + done);
	for (uint32_t j = 0; j < done; j++)
		if (tnl_likely(jobs[j]->status == IMB_STATUS_COMPLETED))
			((struct nm_tnl_aead_req *)jobs[j]->user_data)->reason = NM_TNL_OK;
}

/*
 * AES-GCM: one direct call per record (a GCM job runs the same
 * single-buffer code, and the job burst measured 4-16 % slower per record
 * here); ChaCha20-Poly1305: one job burst, which the library runs several
 * records at a time (about twice the direct calls' rate at 64 B).
 */
static void
mb_seal_burst(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n)
{
	if (key->cipher == NM_TNL_CHACHA20_POLY1305)
		run_burst(key, reqs, n, NULL);
	else
		nm_tnl_aead_seal_each(key, reqs, n);
}

static void
mb_open_burst(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n)
{
	uint8_t computed[NM_TNL_CHUNK][NM_TNL_TAG_LEN];

	if (key->cipher != NM_TNL_CHACHA20_POLY1305) {
		nm_tnl_aead_open_each(key, reqs, n);
		return;
	}
	run_burst(key, reqs, n, computed);
	for (unsigned int i = 0; i < n; i++)
		if (tnl_likely(reqs[i].reason == NM_TNL_OK) &&
		    tnl_unlikely(CRYPTO_memcmp(computed[i], reqs[i].tag, NM_TNL_TAG_LEN) != 0))
			reqs[i].reason = NM_TNL_E_BAD_TAG; /* constant time, as mb_open */
}

static const struct nm_tnl_aead_ops mb_ops = {
    .name = "intel-ipsec-mb",
    .init = mb_init,
    .fini = mb_fini,
    .seal = mb_seal,
    .open = mb_open,
    .seal_burst = mb_seal_burst,
    .open_burst = mb_open_burst,
};

const struct nm_tnl_aead_ops *
nm_tnl_aead_mb_probe(void)
{
	/* The library's view of the CPU, without a manager. */
	return (imb_get_feature_flags() & MB_NEEDED) == MB_NEEDED ? &mb_ops : NULL;
}

void
nm_tnl_aead_mb_describe(char *buf, size_t len)
{
	IMB_MGR *mgr = alloc_mb_mgr(0);
	IMB_ARCH arch = IMB_ARCH_NONE;

	if (mgr == NULL) {
		snprintf(buf, len, "intel-ipsec-mb %s: alloc_mb_mgr failed", imb_get_version_str());
		return;
	}
	init_mb_mgr_auto(mgr, &arch);
	uint64_t f = mgr->features;
	free_mb_mgr(mgr);
	if ((f & MB_NEEDED) != MB_NEEDED)
		snprintf(buf, len, "intel-ipsec-mb %s unused: this CPU lacks AES-NI or PCLMULQDQ",
			 imb_get_version_str());
	else
		snprintf(buf, len, "intel-ipsec-mb %s %s%s", imb_get_version_str(),
			 (unsigned int)arch < IMB_ARCH_NUM ? arch_names[arch] : "?",
			 (f & IMB_FEATURE_VAES) != 0 ? " vaes" : "");
}
