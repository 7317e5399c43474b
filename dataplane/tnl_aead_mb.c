/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The intel-ipsec-mb engine of the tunnel AEAD: AES-GCM and
 * ChaCha20-Poly1305 through the library's direct API, the calls DPDK's
 * crypto_aesni_gcm and crypto_chacha20_poly1305 PMDs make. When the control
 * thread installs a key, a manager initialised by init_mb_mgr_auto() picks
 * the code for this CPU (VAES and VPCLMULQDQ with AVX-512 where present);
 * the AES round keys and the GHASH key powers are computed then, once
 * (imb_aes_gcm_pre), and the key keeps them with the chosen functions. A
 * record is then one library call for AES-GCM (nonce, additional data,
 * message and tag together) and three for ChaCha20-Poly1305, with the
 * per-record state on the worker's stack: nothing allocated, nothing
 * shared between workers, no manager on the data path.
 *
 * The job and burst API is not used: in 1.3 a GCM job runs these same
 * single-buffer functions synchronously (there is no multi-buffer GCM), so
 * queueing jobs would add their set-up to every record and save nothing.
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
	struct gcm_key_data gcm;   /* AES-GCM: round keys and GHASH powers (64-byte aligned) */
	uint8_t chacha[32];	   /* ChaCha20-Poly1305: the key itself, it has no schedule */
	aes_gcm_enc_dec_t gcm_enc; /* one call: nonce, AAD, message, tag */
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
	OPENSSL_cleanse(key->engine.mb, sizeof(*key->engine.mb));
	free(key->engine.mb);
	key->engine.mb = NULL;
}

static int
mb_init(struct nm_tnl_key *key, const struct nm_tnl_key_params *p)
{
	/* gcm_key_data must be 64-byte aligned: aligned_alloc wants a multiple of it. */
	size_t size = (sizeof(struct tnl_mb_key) + 63) & ~(size_t)63;
	IMB_MGR *mgr = NULL;
	IMB_ARCH arch = IMB_ARCH_NONE;
	int rc = 0;

	key->engine.mb = aligned_alloc(64, size); /* mb_fini frees it, also on failure */
	mgr = alloc_mb_mgr(0);
	if (key->engine.mb == NULL || mgr == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memset(key->engine.mb, 0, size);
	init_mb_mgr_auto(mgr, &arch);
	if ((mgr->features & MB_NEEDED) != MB_NEEDED || arch < IMB_ARCH_SSE) {
		rc = -EOPNOTSUPP;
		goto out;
	}

	struct tnl_mb_key *mb = key->engine.mb;

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
		rc = -EINVAL;
		break;
	}

out:
	/* The functions chosen live in the library, not in the manager: it can go. */
	if (mgr != NULL)
		free_mb_mgr(mgr);
	return rc;
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

static const struct nm_tnl_aead_ops mb_ops = {
    .name = "intel-ipsec-mb",
    .init = mb_init,
    .fini = mb_fini,
    .seal = mb_seal,
    .open = mb_open,
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
