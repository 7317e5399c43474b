/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The OpenSSL EVP engine of the tunnel AEAD: one cipher context per key,
 * fetched and keyed once when the control thread installs the key. Per
 * record the data path sets only the nonce (EVP_CipherInit_ex with NULL
 * cipher and NULL key keeps the key schedule), feeds the additional data
 * and the message, and sets or reads the tag: no allocation, no key
 * expansion per packet. The fallback when intel-ipsec-mb is absent, and
 * the reference the unit tests hold the other engine to.
 */
#include <errno.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

/* OpenSSL's algorithm names, by enum nm_tnl_cipher. */
static const char *const ossl_names[NM_TNL_CIPHERS] = {
    [NM_TNL_AES_128_GCM] = "AES-128-GCM",
    [NM_TNL_AES_256_GCM] = "AES-256-GCM",
    [NM_TNL_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
};

static int
evp_init(struct nm_tnl_key *key, const struct nm_tnl_key_params *p)
{
	EVP_CIPHER *cipher = NULL;
	int ok;

	key->engine.ctx = EVP_CIPHER_CTX_new();
	if (key->engine.ctx == NULL)
		return -ENOMEM;
	/* An explicit fetch: no implicit provider lookup hidden in a later call. */
	cipher = EVP_CIPHER_fetch(NULL, ossl_names[p->cipher], NULL);
	if (cipher == NULL)
		return -EIO;

	/* The key schedule is computed here, once; records only set a nonce. */
	if (p->dir == NM_TNL_SEAL)
		ok = EVP_EncryptInit_ex(key->engine.ctx, cipher, NULL, p->key, NULL);
	else
		ok = EVP_DecryptInit_ex(key->engine.ctx, cipher, NULL, p->key, NULL);
	EVP_CIPHER_free(cipher); /* the context holds its own reference */
	if (ok != 1 || EVP_CIPHER_CTX_get_iv_length(key->engine.ctx) != NM_TNL_IV_LEN)
		return -EIO;
	return 0;
}

static void
evp_fini(struct nm_tnl_key *key)
{
	EVP_CIPHER_CTX_free(key->engine.ctx); /* wipes the key schedule */
	key->engine.ctx = NULL;
}

/*
 * The part sealing and opening share: the nonce (EVP_CipherInit_ex with
 * enc -1 keeps the key and the direction the context was created for),
 * the additional data, then the message into out.
 */
static unsigned int
aead_start(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
	   const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = key->engine.ctx;
	int outl;

	if (tnl_unlikely(len > INT32_MAX || aad_len > INT32_MAX))
		return NM_TNL_E_CRYPTO_ERROR;
	if (tnl_unlikely(EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, -1) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	if (aad_len > 0 && tnl_unlikely(EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	if (len > 0 && tnl_unlikely(EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 ||
				    (size_t)outl != len))
		return NM_TNL_E_CRYPTO_ERROR;
	return NM_TNL_OK;
}

static unsigned int
evp_seal(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
	 const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	unsigned int reason = aead_start(key, nonce, aad, aad_len, in, len, out);
	int outl;

	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;
	/* AEAD stream ciphers buffer nothing: Final writes no bytes. */
	if (tnl_unlikely(EVP_EncryptFinal_ex(key->engine.ctx, out + len, &outl) != 1 || outl != 0))
		return NM_TNL_E_CRYPTO_ERROR;
	if (tnl_unlikely(EVP_CIPHER_CTX_ctrl(key->engine.ctx, EVP_CTRL_AEAD_GET_TAG, NM_TNL_TAG_LEN,
					     tag) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	return NM_TNL_OK;
}

static unsigned int
evp_open(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
	 const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
	unsigned int reason = aead_start(key, nonce, aad, aad_len, in, len, out);
	int outl;

	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;
	/* The ctrl copies the tag; it does not write through the pointer. */
	if (tnl_unlikely(EVP_CIPHER_CTX_ctrl(key->engine.ctx, EVP_CTRL_AEAD_SET_TAG, NM_TNL_TAG_LEN,
					     (void *)(uintptr_t)tag) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	/* Final compares the tag in constant time; a mismatch is the one expected failure. */
	if (tnl_unlikely(EVP_DecryptFinal_ex(key->engine.ctx, out + len, &outl) != 1))
		return NM_TNL_E_BAD_TAG;
	return NM_TNL_OK;
}

const struct nm_tnl_aead_ops nm_tnl_aead_evp = {
    .name = "openssl",
    .init = evp_init,
    .fini = evp_fini,
    .seal = evp_seal,
    .open = evp_open,
    .seal_burst = nm_tnl_aead_seal_each, /* EVP has no burst call */
    .open_burst = nm_tnl_aead_open_each,
};
