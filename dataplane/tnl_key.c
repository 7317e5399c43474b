/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel key contexts: one per direction, peer and epoch, keyed once when
 * the control thread installs the key, by the AEAD engine chosen then
 * (intel-ipsec-mb with pre-expanded keys when it was built and the CPU has
 * AES-NI, else OpenSSL EVP: tnl_aead_*.c). Per record the data path only
 * builds a nonce: no allocation, no key expansion per packet. Also the
 * AEAD usage limits (tunnel-t.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

static const struct {
	const char *name;     /* ours, for `tunnel list` */
	unsigned int key_len; /* bytes */
} ciphers[NM_TNL_CIPHERS] = {
    [NM_TNL_AES_128_GCM] = {"aes-128-gcm", 16},
    [NM_TNL_AES_256_GCM] = {"aes-256-gcm", 32},
    [NM_TNL_CHACHA20_POLY1305] = {"chacha20-poly1305", 32},
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

void
nm_tnl_aead_seal_each(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct nm_tnl_aead_req *r = &reqs[i];

		r->reason = (uint16_t)key->ops->seal(key, r->nonce, r->aad, NM_TNL_HDRS_LEN,
						     r->body, r->len, r->body, r->tag);
	}
}

void
nm_tnl_aead_open_each(struct nm_tnl_key *key, struct nm_tnl_aead_req *reqs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct nm_tnl_aead_req *r = &reqs[i];

		r->reason = (uint16_t)key->ops->open(key, r->nonce, r->aad, NM_TNL_HDRS_LEN,
						     r->body, r->len, r->body, r->tag);
	}
}

void
nm_tnl_engine_describe(char *buf, size_t len)
{
	char mb[128];

	nm_tnl_aead_mb_describe(mb, sizeof(mb));
	if (nm_tnl_aead_mb_probe() != NULL)
		snprintf(buf, len, "%s", mb);
	else
		snprintf(buf, len, "openssl %s EVP (%s)", OpenSSL_version(OPENSSL_VERSION_STRING),
			 mb);
}

static const struct nm_tnl_aead_ops *
engine_ops(enum nm_tnl_engine engine)
{
	switch (engine) {
	case NM_TNL_ENGINE_AUTO: {
		const struct nm_tnl_aead_ops *mb = nm_tnl_aead_mb_probe();
		return mb != NULL ? mb : &nm_tnl_aead_evp;
	}
	case NM_TNL_ENGINE_EVP:
		return &nm_tnl_aead_evp;
	case NM_TNL_ENGINE_MB:
		return nm_tnl_aead_mb_probe();
	}
	return NULL;
}

struct nm_tnl_key *
nm_tnl_key_create_engine(const struct nm_tnl_key_params *p, enum nm_tnl_engine engine)
{
	struct nm_tnl_key *key = NULL;
	int err;

	if (p->cipher >= NM_TNL_CIPHERS || (p->dir != NM_TNL_SEAL && p->dir != NM_TNL_OPEN)) {
		err = EINVAL;
		goto fail;
	}
	const struct nm_tnl_aead_ops *ops = engine_ops(engine);
	if (ops == NULL) {
		err = EOPNOTSUPP;
		goto fail;
	}
	/* OpenSSL's allocator: nm_tnl_key_free() wipes and frees in one call. */
	key = OPENSSL_zalloc(sizeof(*key));
	if (key == NULL) {
		err = ENOMEM;
		goto fail;
	}
	key->ops = ops;
	key->cipher = p->cipher;
	key->dir = p->dir;
	int rc = ops->init(key, p);
	if (rc < 0) {
		err = -rc;
		goto fail;
	}

	memcpy(key->iv, p->iv, NM_TNL_IV_LEN);
	memcpy(key->key_bytes, p->key, sizeof(key->key_bytes));
	key->epoch = p->epoch;
	key->record_limit =
	    p->cipher == NM_TNL_CHACHA20_POLY1305 ? UINT64_MAX : NM_TNL_AES_GCM_RECORD_LIMIT;
	key->forgery_limit = NM_TNL_FORGERY_LIMIT;
	key->seq = &key->next_seq;
	key->seq_limit = NM_TNL_SEQ_LIMIT;
	return key;

fail:
	nm_tnl_key_free(key);
	errno = err;
	return NULL;
}

struct nm_tnl_key *
nm_tnl_key_create(const struct nm_tnl_key_params *p)
{
	return nm_tnl_key_create_engine(p, NM_TNL_ENGINE_AUTO);
}

void
nm_tnl_key_free(struct nm_tnl_key *key)
{
	if (key == NULL)
		return;
	key->ops->fini(key); /* wipes the engine's key material */
	OPENSSL_clear_free(key, sizeof(*key));
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
	stats->next_seq = key->dir == NM_TNL_SEAL ? __atomic_load_n(key->seq, __ATOMIC_RELAXED) : 0;
}

void
nm_tnl_key_export(const struct nm_tnl_key *key, struct nm_tnl_key_params *p,
		  struct nm_tnl_key_stats *stats)
{
	memset(p, 0, sizeof(*p));
	p->cipher = key->cipher;
	p->dir = key->dir;
	p->epoch = key->epoch;
	memcpy(p->key, key->key_bytes, sizeof(p->key));
	memcpy(p->iv, key->iv, sizeof(p->iv));
	nm_tnl_key_stats_get(key, stats);
}

void
nm_tnl_key_stats_set(struct nm_tnl_key *key, const struct nm_tnl_key_stats *stats)
{
	key->records = stats->records;
	key->forgeries = stats->forgeries;
	*key->seq = key->dir == NM_TNL_SEAL ? stats->next_seq : 0;
}

bool
nm_tnl_key_should_rotate(const struct nm_tnl_key *key)
{
	if (key->dir == NM_TNL_OPEN)
		return key->forgeries >= key->forgery_limit / 2;
	/* ChaCha20-Poly1305 has no record limit below the sequence space. */
	uint64_t next = __atomic_load_n(key->seq, __ATOMIC_RELAXED);

	return key->records >= key->record_limit / 2 ||
	       next - key->seq_base >= (key->seq_limit - key->seq_base) / 2;
}

/* A key set context's counter bounds: the record limit from base, within the sequence space. */
static void
seq_bound(struct nm_tnl_key *k, uint64_t base)
{
	k->seq_base = base;
	k->seq_limit =
	    k->record_limit < NM_TNL_SEQ_LIMIT - base ? base + k->record_limit : NM_TNL_SEQ_LIMIT;
}

struct nm_tnl_keyset *
nm_tnl_keyset_create(const struct nm_tnl_key_params *p, unsigned int n)
{
	if (n == 0 || n > NM_TNL_CTX_MAX) {
		errno = EINVAL;
		return NULL;
	}
	/* Cache-line aligned: the shared counter and window have lines of their own. */
	struct nm_tnl_keyset *ks = aligned_alloc(64, sizeof(*ks));
	if (ks == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(ks, 0, sizeof(*ks));
	ks->epoch = p->epoch;
	ks->dir = p->dir;
	for (unsigned int i = 0; i < n; i++) {
		struct nm_tnl_key *k = nm_tnl_key_create(p);

		if (k == NULL) {
			int err = errno;

			nm_tnl_keyset_free(ks);
			errno = err;
			return NULL;
		}
		/* One sequence space for the key; its record limit bounds it, over all workers. */
		k->seq = &ks->next_seq;
		seq_bound(k, 0);
		k->forgery_limit = NM_TNL_FORGERY_LIMIT / n;
		ks->ctx[ks->n++] = k;
	}
	nm_tnl_replay_init(&ks->replay);
	return ks;
}

void
nm_tnl_keyset_free(struct nm_tnl_keyset *ks)
{
	if (ks == NULL)
		return;
	for (unsigned int i = 0; i < ks->n; i++)
		nm_tnl_key_free(ks->ctx[i]);
	OPENSSL_cleanse(ks, sizeof(*ks));
	free(ks);
}

void
nm_tnl_keyset_stats_get(const struct nm_tnl_keyset *ks, struct nm_tnl_key_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (unsigned int i = 0; i < ks->n; i++) {
		const struct nm_tnl_key *k = ks->ctx[i];

		stats->records += __atomic_load_n(&k->records, __ATOMIC_RELAXED);
		stats->forgeries += __atomic_load_n(&k->forgeries, __ATOMIC_RELAXED);
	}
	if (ks->dir == NM_TNL_SEAL)
		stats->next_seq = __atomic_load_n(&ks->next_seq, __ATOMIC_RELAXED);
}

void
nm_tnl_keyset_export(const struct nm_tnl_keyset *ks, struct nm_tnl_key_params *p,
		     struct nm_tnl_key_stats *stats)
{
	nm_tnl_key_export(ks->ctx[0], p, stats);
	nm_tnl_keyset_stats_get(ks, stats);
}

void
nm_tnl_keyset_stats_set(struct nm_tnl_keyset *ks, const struct nm_tnl_key_stats *stats)
{
	for (unsigned int i = 0; i < ks->n; i++) {
		ks->ctx[i]->records = i == 0 ? stats->records : 0;
		ks->ctx[i]->forgeries = i == 0 ? stats->forgeries : 0;
	}
	ks->next_seq = ks->dir == NM_TNL_SEAL ? stats->next_seq : 0;
	/* Numbers skipped (a resume after a failed takeover) spend no record budget. */
	uint64_t used = stats->records < ks->next_seq ? stats->records : ks->next_seq;
	for (unsigned int i = 0; i < ks->n; i++)
		seq_bound(ks->ctx[i], ks->next_seq - used);
}

bool
nm_tnl_keyset_should_rotate(const struct nm_tnl_keyset *ks)
{
	for (unsigned int i = 0; i < ks->n; i++)
		if (nm_tnl_key_should_rotate(ks->ctx[i]))
			return true;
	return false;
}
