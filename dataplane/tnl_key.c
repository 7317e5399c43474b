/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel key contexts: one OpenSSL cipher context per direction, peer and
 * epoch, fetched and keyed once when the control thread installs the key.
 * Per record the data path sets only the nonce (EVP_CipherInit_ex with
 * NULL cipher and NULL key keeps the key schedule), feeds the additional data
 * and the message, and sets or reads the tag: no allocation, no key
 * expansion per packet. Also the AEAD usage limits (tunnel-t.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

static const struct {
	const char *name;     /* ours, for `tunnel list` */
	const char *ossl;     /* OpenSSL's algorithm name */
	unsigned int key_len; /* bytes */
} ciphers[NM_TNL_CIPHERS] = {
    [NM_TNL_AES_128_GCM] = {"aes-128-gcm", "AES-128-GCM", 16},
    [NM_TNL_AES_256_GCM] = {"aes-256-gcm", "AES-256-GCM", 32},
    [NM_TNL_CHACHA20_POLY1305] = {"chacha20-poly1305", "ChaCha20-Poly1305", 32},
};

const char *
nm_tnl_cipher_name(unsigned int cipher)
{
	return cipher < NM_TNL_CIPHERS ? ciphers[cipher].name : NULL;
}

unsigned int
nm_tnl_cipher_key_len(unsigned int cipher)
{
	return cipher < NM_TNL_CIPHERS ? ciphers[cipher].key_len : 0;
}

struct nm_tnl_key *
nm_tnl_key_create(const struct nm_tnl_key_params *p)
{
	struct nm_tnl_key *key = NULL;
	EVP_CIPHER *cipher = NULL;
	int err = EIO;
	int ok;

	if (p->cipher >= NM_TNL_CIPHERS || (p->dir != NM_TNL_SEAL && p->dir != NM_TNL_OPEN)) {
		err = EINVAL;
		goto fail;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		err = ENOMEM;
		goto fail;
	}
	key->ctx = EVP_CIPHER_CTX_new();
	if (key->ctx == NULL) {
		err = ENOMEM;
		goto fail;
	}
	/* An explicit fetch: no implicit provider lookup hidden in a later call. */
	cipher = EVP_CIPHER_fetch(NULL, ciphers[p->cipher].ossl, NULL);
	if (cipher == NULL)
		goto fail;

	/* The key schedule is computed here, once; records only set a nonce. */
	if (p->dir == NM_TNL_SEAL)
		ok = EVP_EncryptInit_ex(key->ctx, cipher, NULL, p->key, NULL);
	else
		ok = EVP_DecryptInit_ex(key->ctx, cipher, NULL, p->key, NULL);
	if (ok != 1 || EVP_CIPHER_CTX_get_iv_length(key->ctx) != NM_TNL_IV_LEN)
		goto fail;
	EVP_CIPHER_free(cipher); /* the context holds its own reference */
	cipher = NULL;

	memcpy(key->iv, p->iv, NM_TNL_IV_LEN);
	key->cipher = p->cipher;
	key->dir = p->dir;
	key->epoch = p->epoch;
	key->record_limit =
	    p->cipher == NM_TNL_CHACHA20_POLY1305 ? UINT64_MAX : NM_TNL_AES_GCM_RECORD_LIMIT;
	return key;

fail:
	EVP_CIPHER_free(cipher);
	nm_tnl_key_free(key);
	errno = err;
	return NULL;
}

void
nm_tnl_key_free(struct nm_tnl_key *key)
{
	if (key == NULL)
		return;
	EVP_CIPHER_CTX_free(key->ctx); /* wipes the key schedule */
	key->ctx = NULL;
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}

uint16_t
nm_tnl_key_epoch(const struct nm_tnl_key *key)
{
	return key->epoch;
}

void
nm_tnl_key_stats_get(const struct nm_tnl_key *key, struct nm_tnl_key_stats *stats)
{
	stats->records = key->records;
	stats->forgeries = key->forgeries;
	stats->next_seq = key->next_seq;
}

bool
nm_tnl_key_should_rotate(const struct nm_tnl_key *key)
{
	if (key->dir == NM_TNL_OPEN)
		return key->forgeries >= NM_TNL_FORGERY_LIMIT / 2;
	/* ChaCha20-Poly1305 has no record limit below the sequence space. */
	return key->records >= key->record_limit / 2 || key->next_seq >= NM_TNL_SEQ_LIMIT / 2;
}

/*
 * The part sealing and opening share: the nonce (EVP_CipherInit_ex with
 * enc -1 keeps the key and the direction the context was created for),
 * the additional data, then the message into out.
 */
static unsigned int
aead_start(struct nm_tnl_key *key, unsigned int dir, const uint8_t *nonce, const uint8_t *aad,
	   size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	int outl;

	if (tnl_unlikely(key->dir != dir || len > INT32_MAX || aad_len > INT32_MAX))
		return NM_TNL_E_CRYPTO_ERROR;
	if (tnl_unlikely(EVP_CipherInit_ex(key->ctx, NULL, NULL, NULL, nonce, -1) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	if (aad_len > 0 &&
	    tnl_unlikely(EVP_CipherUpdate(key->ctx, NULL, &outl, aad, (int)aad_len) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	if (len > 0 && tnl_unlikely(EVP_CipherUpdate(key->ctx, out, &outl, in, (int)len) != 1 ||
				    (size_t)outl != len))
		return NM_TNL_E_CRYPTO_ERROR;
	return NM_TNL_OK;
}

unsigned int
nm_tnl_aead_seal(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		 const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	unsigned int reason = aead_start(key, NM_TNL_SEAL, nonce, aad, aad_len, in, len, out);
	int outl;

	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;
	/* AEAD stream ciphers buffer nothing: Final writes no bytes. */
	if (tnl_unlikely(EVP_EncryptFinal_ex(key->ctx, out + len, &outl) != 1 || outl != 0))
		return NM_TNL_E_CRYPTO_ERROR;
	if (tnl_unlikely(
		EVP_CIPHER_CTX_ctrl(key->ctx, EVP_CTRL_AEAD_GET_TAG, NM_TNL_TAG_LEN, tag) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	return NM_TNL_OK;
}

unsigned int
nm_tnl_aead_open(struct nm_tnl_key *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		 const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
	unsigned int reason = aead_start(key, NM_TNL_OPEN, nonce, aad, aad_len, in, len, out);
	int outl;

	if (tnl_unlikely(reason != NM_TNL_OK))
		return reason;
	/* The ctrl copies the tag; it does not write through the pointer. */
	if (tnl_unlikely(EVP_CIPHER_CTX_ctrl(key->ctx, EVP_CTRL_AEAD_SET_TAG, NM_TNL_TAG_LEN,
					     (void *)(uintptr_t)tag) != 1))
		return NM_TNL_E_CRYPTO_ERROR;
	/* Final compares the tag in constant time; a mismatch is the one expected failure. */
	if (tnl_unlikely(EVP_DecryptFinal_ex(key->ctx, out + len, &outl) != 1))
		return NM_TNL_E_BAD_TAG;
	return NM_TNL_OK;
}
