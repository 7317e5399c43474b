/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the tunnel record layer (dataplane/tnl_key.c,
 * dataplane/tnl_record.c, include/nodemesh/tunnel.h): the AEAD under it
 * against the published NIST CAVP AES-GCM and ChaCha20-Poly1305 vectors,
 * read from the files of Debian's python3-cryptography-vectors; records
 * against the README's worked example and independently computed records;
 * round trips of all sizes in bursts; every header and body bit flip
 * refused for its reason; the header parser's edges; the anti-replay
 * window's edges; usage limits; and that the burst paths allocate nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <criterion/criterion.h>

#include "nodemesh/tunnel.h"
#include "tnl_priv.h"

#ifndef NM_SRC_ROOT
#error "NM_SRC_ROOT must name the source tree (set by tests/unit/meson.build)"
#endif
#ifndef NM_CRYPTO_VECTORS
#error "NM_CRYPTO_VECTORS must name cryptography_vectors/ciphers (tests/unit/meson.build)"
#endif
#define EXAMPLE_MD NM_SRC_ROOT "/README.md" /* its "### Worked example" */

/* Room for the largest record the tests build, with slack past the tag. */
#define BUF_ROOM (NM_TNL_HDRS_LEN + 1500 + NM_TNL_TRAILER_LEN + 64)
#define BURST	 32

/* OpenSSL allocations, counted from before the first one (see the constructor). */
static unsigned long ossl_allocs;

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* Must run before OpenSSL allocates anything, or OpenSSL refuses it. */
__attribute__((constructor)) static void
count_ossl_allocs(void)
{
	CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
}

/* Hex digits of s (spaces ignored) into out; the byte count, or -1. */
static long
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (*s == ' ' || *s == '\t')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

static struct nm_tnl_key *
key_new(unsigned int cipher, unsigned int dir, const uint8_t *key_bytes, const uint8_t *iv,
	uint16_t epoch)
{
	struct nm_tnl_key_params p = {
	    .cipher = (uint8_t)cipher, .dir = (uint8_t)dir, .epoch = epoch};

	memcpy(p.key, key_bytes, nm_tnl_cipher_key_len(cipher));
	if (iv != NULL)
		memcpy(p.iv, iv, NM_TNL_IV_LEN);
	struct nm_tnl_key *k = nm_tnl_key_create(&p);
	cr_assert_not_null(k, "nm_tnl_key_create(%s): %s", nm_tnl_cipher_name(cipher),
			   strerror(errno));
	return k;
}

/* A sealing and an opening key for the same key bytes. */
struct key_pair {
	struct nm_tnl_key *seal;
	struct nm_tnl_key *open;
};

static const uint8_t test_key[32] = {
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f};
static const uint8_t test_iv[NM_TNL_IV_LEN] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
					       0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b};

static struct key_pair
pair_new(unsigned int cipher, uint16_t epoch)
{
	struct key_pair kp = {
	    .seal = key_new(cipher, NM_TNL_SEAL, test_key, test_iv, epoch),
	    .open = key_new(cipher, NM_TNL_OPEN, test_key, test_iv, epoch),
	};
	return kp;
}

static void
pair_free(struct key_pair *kp)
{
	nm_tnl_key_free(kp->seal);
	kp->seal = NULL;
	nm_tnl_key_free(kp->open);
	kp->open = NULL;
}

/* Plaintext byte i of a test packet of size len. */
static uint8_t
pattern(uint32_t len, uint32_t i)
{
	return (uint8_t)(len * 7 + i * 13 + 1);
}

/* Set b up for sealing an inner packet of inner bytes in mem. */
static void
buf_fill(struct nm_tnl_buf *b, uint8_t *mem, uint32_t inner)
{
	memset(mem, 0xee, BUF_ROOM);
	for (uint32_t i = 0; i < inner; i++)
		mem[NM_TNL_HDRS_LEN + i] = pattern(inner, i);
	*b = (struct nm_tnl_buf){.data = mem, .len = NM_TNL_HDRS_LEN + inner, .room = BUF_ROOM};
}

/* Seal one inner packet of inner bytes into mem; the record length. */
static uint32_t
seal_one(struct nm_tnl_key *k, uint8_t *mem, uint32_t inner)
{
	struct nm_tnl_buf b;

	buf_fill(&b, mem, inner);
	cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 1, "seal: %s", nm_tnl_reason_name(b.reason));
	return b.len;
}

/* Open the record mem[0..len) with a fresh window; the reason. */
static unsigned int
open_fresh(struct nm_tnl_key *k, uint8_t *mem, uint32_t len)
{
	struct nm_tnl_replay replay;
	struct nm_tnl_buf b = {.data = mem, .len = len, .room = BUF_ROOM};

	nm_tnl_replay_init(&replay);
	nm_tnl_open_burst(k, &replay, &b, 1);
	return b.reason;
}

/* ---- names ---- */

Test(tnl_names, every_reason_has_a_distinct_name)
{
	cr_assert_str_eq(nm_tnl_reason_name(NM_TNL_OK), "ok");
	cr_assert_str_eq(nm_tnl_reason_name(NM_TNL_REASON_MAX), "unknown");
	cr_assert_str_eq(nm_tnl_reason_name(12345), "unknown");
	for (unsigned int r = 1; r < NM_TNL_REASON_MAX; r++) {
		cr_assert_eq(strncmp(nm_tnl_reason_name(r), "tnl_", 4), 0, "%u", r);
		cr_assert_str_neq(nm_tnl_reason_help(r), "unknown reason");
		for (unsigned int o = 1; o < r; o++)
			cr_assert_str_neq(nm_tnl_reason_name(r), nm_tnl_reason_name(o));
	}
}

Test(tnl_names, ciphers_and_key_lengths)
{
	cr_assert_str_eq(nm_tnl_cipher_name(NM_TNL_AES_128_GCM), "aes-128-gcm");
	cr_assert_str_eq(nm_tnl_cipher_name(NM_TNL_AES_256_GCM), "aes-256-gcm");
	cr_assert_str_eq(nm_tnl_cipher_name(NM_TNL_CHACHA20_POLY1305), "chacha20-poly1305");
	cr_assert_null(nm_tnl_cipher_name(NM_TNL_CIPHERS));
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_AES_128_GCM), 16);
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_AES_256_GCM), 32);
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_CHACHA20_POLY1305), 32);
	cr_assert_eq(nm_tnl_cipher_key_len(NM_TNL_CIPHERS), 0);
	cr_assert_eq(NM_TNL_OVERHEAD, 34);
}

/* ---- key contexts ---- */

Test(tnl_key, create_refuses_unknown_cipher_and_direction)
{
	struct nm_tnl_key_params p = {.cipher = NM_TNL_CIPHERS, .dir = NM_TNL_SEAL};

	errno = 0;
	cr_assert_null(nm_tnl_key_create(&p));
	cr_assert_eq(errno, EINVAL);
	p.cipher = NM_TNL_AES_128_GCM;
	p.dir = 2;
	errno = 0;
	cr_assert_null(nm_tnl_key_create(&p));
	cr_assert_eq(errno, EINVAL);
	nm_tnl_key_free(NULL);
}

Test(tnl_key, epoch_and_counters)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 7);
	struct nm_tnl_key_stats st;
	uint8_t mem[BUF_ROOM];

	cr_assert_eq(nm_tnl_key_epoch(kp.seal), 7);
	cr_assert_eq(nm_tnl_key_epoch(kp.open), 7);
	uint32_t len = seal_one(kp.seal, mem, 40);
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_OK);
	mem[len - 1] ^= 1;
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_E_BAD_TAG);

	nm_tnl_key_stats_get(kp.seal, &st);
	cr_assert_eq(st.records, 1);
	cr_assert_eq(st.next_seq, 1);
	nm_tnl_key_stats_get(kp.open, &st);
	cr_assert_eq(st.records, 1);
	cr_assert_eq(st.forgeries, 1);
	pair_free(&kp);
}

/* ---- published vectors ---- */

/* One vector as the files give it; which fields are there varies by file. */
struct vector {
	uint8_t key[64], iv[160], tag[32];
	long key_len, iv_len, tag_len;
	uint8_t *pt, *ct, *aad;
	long pt_len, ct_len, aad_len;
	bool fail; /* the tag must not verify */
	bool any;  /* some field was read */
};

struct vector_counts {
	unsigned int checked; /* 96-bit IV, 128-bit tag, key of the cipher's size */
	unsigned int failed;  /* of those, FAIL cases refused as they must be */
	unsigned int skipped; /* other IV or tag lengths */
};

/* One key context per direction, reused while consecutive vectors share the key. */
struct vector_keys {
	unsigned int cipher;
	uint8_t key[32];
	struct nm_tnl_key *seal, *open;
};

static void
vector_keys_for(struct vector_keys *vk, const uint8_t *key)
{
	size_t key_len = nm_tnl_cipher_key_len(vk->cipher);

	if (vk->seal != NULL && memcmp(vk->key, key, key_len) == 0)
		return;
	nm_tnl_key_free(vk->seal);
	nm_tnl_key_free(vk->open);
	memcpy(vk->key, key, key_len);
	vk->seal = key_new(vk->cipher, NM_TNL_SEAL, key, NULL, 0);
	vk->open = key_new(vk->cipher, NM_TNL_OPEN, key, NULL, 0);
}

/* A field's value, hex or a "quoted string", into out; the byte count or -1. */
static long
field_bytes(const char *val, uint8_t *out, size_t cap)
{
	size_t n = strlen(val);

	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
		cr_assert_leq(n - 2, cap);
		memcpy(out, val + 1, n - 2);
		return (long)(n - 2);
	}
	return unhex(val, out, cap);
}

static void
vector_check(const char *file, struct vector *v, struct vector_keys *vk, struct vector_counts *c)
{
	uint8_t out[1024], tag[NM_TNL_TAG_LEN];

	if (!v->any)
		return;
	cr_assert_eq(v->key_len, (long)nm_tnl_cipher_key_len(vk->cipher), "%s: key length", file);
	if (v->iv_len != NM_TNL_IV_LEN || v->tag_len != NM_TNL_TAG_LEN) {
		c->skipped++;
		return;
	}
	vector_keys_for(vk, v->key);
	c->checked++;

	unsigned int r = nm_tnl_aead_open(vk->open, v->iv, v->aad, (size_t)v->aad_len, v->ct,
					  (size_t)v->ct_len, out, v->tag);
	if (v->fail) {
		cr_assert_eq(r, NM_TNL_E_BAD_TAG, "%s: FAIL vector %u opened", file, c->checked);
		c->failed++;
		return;
	}
	cr_assert_eq(r, NM_TNL_OK, "%s: vector %u: %s", file, c->checked, nm_tnl_reason_name(r));
	cr_assert_eq(v->pt_len, v->ct_len);
	cr_assert_arr_eq(out, v->pt, (size_t)v->pt_len, "%s: vector %u plaintext", file,
			 c->checked);

	r = nm_tnl_aead_seal(vk->seal, v->iv, v->aad, (size_t)v->aad_len, v->pt, (size_t)v->pt_len,
			     out, tag);
	cr_assert_eq(r, NM_TNL_OK);
	cr_assert_arr_eq(out, v->ct, (size_t)v->ct_len, "%s: vector %u ciphertext", file,
			 c->checked);
	cr_assert_arr_eq(tag, v->tag, NM_TNL_TAG_LEN, "%s: vector %u tag", file, c->checked);
}

static void
vector_reset(struct vector *v)
{
	free(v->pt);
	free(v->ct);
	free(v->aad);
	memset(v, 0, sizeof(*v));
}

/*
 * Read every vector of a NIST .rsp file (Key/IV/PT/AAD/CT/Tag, FAIL) or of
 * the ChaCha20-Poly1305 files (KEY/NONCE/IN/AD/CT/TAG; Key/IV/AAD/Tag/
 * Plaintext/Ciphertext with "Result = CIPHERFINAL_ERROR"): the label
 * spellings differ, the shape does not. A vector ends at a blank line.
 */
static struct vector_counts
vectors_run(const char *name, unsigned int cipher)
{
	char path[512];
	struct vector v = {0};
	struct vector_keys vk = {.cipher = cipher};
	struct vector_counts c = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", NM_CRYPTO_VECTORS, name);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s (scripts/setup installs python3-cryptography-vectors)", path,
			   strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0) {
			vector_check(name, &v, &vk, &c);
			vector_reset(&v);
			continue;
		}
		if (line[0] == '#' || line[0] == '[')
			continue;
		if (strcmp(line, "FAIL") == 0) {
			v.fail = true;
			continue;
		}

		char *eq = strchr(line, '=');
		cr_assert_not_null(eq, "%s: line without '=': %s", name, line);
		char *label = line, *val = eq + 1;
		*eq = '\0';
		for (char *e = eq - 1; e >= label && *e == ' '; e--)
			*e = '\0';
		while (*val == ' ')
			val++;

		size_t vlen = strlen(val) + 1; /* bytes enough for hex or a quoted string */
		uint8_t **dyn = NULL;
		long *dyn_len = NULL;

		if (strcasecmp(label, "Count") == 0)
			continue;
		if (strcasecmp(label, "Result") == 0) {
			v.fail = strcmp(val, "CIPHERFINAL_ERROR") == 0;
			continue;
		}
		if (strcasecmp(label, "Key") == 0) {
			v.key_len = field_bytes(val, v.key, sizeof(v.key));
		} else if (strcasecmp(label, "IV") == 0 || strcasecmp(label, "NONCE") == 0) {
			v.iv_len = field_bytes(val, v.iv, sizeof(v.iv));
		} else if (strcasecmp(label, "Tag") == 0) {
			v.tag_len = field_bytes(val, v.tag, sizeof(v.tag));
		} else if (strcasecmp(label, "PT") == 0 || strcasecmp(label, "IN") == 0 ||
			   strcasecmp(label, "Plaintext") == 0) {
			dyn = &v.pt;
			dyn_len = &v.pt_len;
		} else if (strcasecmp(label, "CT") == 0 || strcasecmp(label, "Ciphertext") == 0) {
			dyn = &v.ct;
			dyn_len = &v.ct_len;
		} else if (strcasecmp(label, "AAD") == 0 || strcasecmp(label, "AD") == 0) {
			dyn = &v.aad;
			dyn_len = &v.aad_len;
		} else {
			cr_assert_fail("%s: unknown label '%s'", name, label);
		}
		if (dyn != NULL) {
			free(*dyn);
			*dyn = malloc(vlen);
			cr_assert_not_null(*dyn);
			*dyn_len = field_bytes(val, *dyn, vlen);
		}
		cr_assert(v.key_len >= 0 && v.iv_len >= 0 && v.tag_len >= 0 && v.pt_len >= 0 &&
			      v.ct_len >= 0 && v.aad_len >= 0,
			  "%s: bad value for %s", name, label);
		v.any = true;
	}
	vector_check(name, &v, &vk, &c);
	vector_reset(&v);
	free(line);
	fclose(f);
	nm_tnl_key_free(vk.seal);
	nm_tnl_key_free(vk.open);
	return c;
}

/*
 * The expected counts are those of the files in python3-cryptography-vectors
 * 38.0.4 (Debian 12): the NIST files have 7 IV lengths x 7 tag lengths of
 * 15 vectors per PT/AAD size; 375 per file have a 96-bit IV and a 128-bit tag.
 */
static const struct {
	const char *file;
	unsigned int cipher;
	unsigned int checked, failed;
} vector_files[] = {
    {"AES/GCM/gcmEncryptExtIV128.rsp", NM_TNL_AES_128_GCM, 375, 0},
    {"AES/GCM/gcmDecrypt128.rsp", NM_TNL_AES_128_GCM, 375, 196},
    {"AES/GCM/gcmEncryptExtIV256.rsp", NM_TNL_AES_256_GCM, 375, 0},
    {"AES/GCM/gcmDecrypt256.rsp", NM_TNL_AES_256_GCM, 375, 191},
    {"ChaCha20Poly1305/boringssl.txt", NM_TNL_CHACHA20_POLY1305, 66, 0},
    {"ChaCha20Poly1305/openssl.txt", NM_TNL_CHACHA20_POLY1305, 5, 1},
};

Test(tnl_vectors, published_aead_vectors_all_pass)
{
	unsigned int checked = 0, failed = 0;

	for (size_t i = 0; i < sizeof(vector_files) / sizeof(vector_files[0]); i++) {
		struct vector_counts c = vectors_run(vector_files[i].file, vector_files[i].cipher);

		cr_log_info("%s: %u checked (%u FAIL cases refused), %u other IV/tag sizes",
			    vector_files[i].file, c.checked, c.failed, c.skipped);
		cr_assert_eq(c.checked, vector_files[i].checked, "%s: %u vectors checked",
			     vector_files[i].file, c.checked);
		cr_assert_eq(c.failed, vector_files[i].failed, "%s: %u FAIL cases",
			     vector_files[i].file, c.failed);
		checked += c.checked;
		failed += c.failed;
	}
	cr_assert_eq(checked, 1571);
	cr_assert_eq(failed, 388);
}

/* ---- the README's worked example ---- */

/* The example's values, fixed here too: editing the text alone fails the test. */
static const uint8_t ex_key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t ex_iv[12] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
				  0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b};
static const uint16_t ex_epoch = 1;
static const uint64_t ex_seq = 42;
static const uint8_t ex_plain[60] = {
    0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x14, 0x86, 0x0a, 0x01, 0x00,
    0x02, 0x0a, 0x02, 0x00, 0x03, 0x08, 0x00, 0x4d, 0x5a, 0x00, 0x01, 0x00, 0x01, 0x61, 0x62,
    0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
    0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69};
static const uint8_t ex_record[94] = {
    /* header */
    0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x17, 0x03, 0x03, 0x00,
    0x4d,
    /* ciphertext */
    0xb7, 0x78, 0xef, 0x90, 0x39, 0x11, 0x4d, 0x6e, 0x5a, 0xe5, 0xfa, 0xbf, 0xf1, 0x9c, 0xe3, 0xd6,
    0x5a, 0x5f, 0xeb, 0xb0, 0x43, 0x8d, 0xdc, 0x11, 0x48, 0xa9, 0x10, 0xb8, 0xa3, 0xfc, 0x3f, 0xb2,
    0xc5, 0x53, 0x30, 0x21, 0xc5, 0xd8, 0xb4, 0xa4, 0x04, 0xa3, 0x4b, 0xad, 0x70, 0xf7, 0x4f, 0x5a,
    0xc3, 0x97, 0x5a, 0x35, 0xc5, 0x1d, 0x76, 0x0d, 0x61, 0x16, 0x14, 0x03, 0x04,
    /* tag */
    0x9b, 0xb2, 0x69, 0x5a, 0x9d, 0xa4, 0xa1, 0xe1, 0x5d, 0x29, 0x0d, 0x1e, 0x49, 0xca, 0xce, 0x97};

/* The example block of README.md's "Worked example": label -> value text (spaces kept). */
#define EX_FIELDS 16
struct example {
	char label[EX_FIELDS][16];
	char value[EX_FIELDS][512];
	int n;
};

static void
example_read(struct example *ex)
{
	FILE *f = fopen(EXAMPLE_MD, "r");
	char line[256];
	bool in_section = false, in_block = false, done = false;

	cr_assert_not_null(f, "%s: %s", EXAMPLE_MD, strerror(errno));
	memset(ex, 0, sizeof(*ex));
	ex->n = -1;
	while (!done && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!in_section) {
			in_section = strcmp(line, "### Worked example") == 0;
			continue;
		}
		if (!in_block) {
			in_block = strcmp(line, "```text") == 0;
			continue;
		}
		if (strcmp(line, "```") == 0) {
			done = true;
		} else if (line[0] == ' ') {
			cr_assert_geq(ex->n, 0, "continuation before any label");
			strncat(ex->value[ex->n], line,
				sizeof(ex->value[0]) - 1 - strlen(ex->value[ex->n]));
		} else {
			cr_assert_lt(ex->n + 1, EX_FIELDS);
			ex->n++;
			cr_assert_eq(sscanf(line, "%15s", ex->label[ex->n]), 1);
			strncat(ex->value[ex->n], line + strlen(ex->label[ex->n]),
				sizeof(ex->value[0]) - 1);
		}
	}
	fclose(f);
	cr_assert(done, "%s: no ```text block", EXAMPLE_MD);
}

/* Bytes of the field LABEL; asserts it is there and is hex. */
static long
example_bytes(const struct example *ex, const char *label, uint8_t *out, size_t cap)
{
	for (int i = 0; i <= ex->n; i++) {
		if (strcmp(ex->label[i], label) != 0)
			continue;
		long n = unhex(ex->value[i], out, cap);
		cr_assert_geq(n, 0, "%s: %s is not hex: %s", EXAMPLE_MD, label, ex->value[i]);
		return n;
	}
	cr_assert_fail("%s: no field %s", EXAMPLE_MD, label);
	return -1;
}

static void
example_expect(const struct example *ex, const char *label, const uint8_t *want, size_t len)
{
	uint8_t got[128];

	cr_assert_eq(example_bytes(ex, label, got, sizeof(got)), (long)len, "%s length", label);
	cr_assert_arr_eq(got, want, len, "%s: %s differs from the test's copy", EXAMPLE_MD, label);
}

Test(tnl_example, readme_text_matches_the_test)
{
	struct example ex;
	uint8_t epoch[2] = {ex_epoch >> 8, ex_epoch & 0xff}, seq[8], nonce[12];
	bool cipher_seen = false;

	example_read(&ex);
	for (int i = 0; i <= ex.n; i++)
		if (strcmp(ex.label[i], "cipher") == 0)
			cipher_seen = strstr(ex.value[i], nm_tnl_cipher_name(NM_TNL_AES_128_GCM));
	cr_assert(cipher_seen, "cipher aes-128-gcm");
	for (int i = 0; i < 8; i++)
		seq[i] = (uint8_t)(ex_seq >> (56 - 8 * i));
	nm_tnl_nonce(nonce, ex_iv, ex_seq);

	example_expect(&ex, "key", ex_key, sizeof(ex_key));
	example_expect(&ex, "iv", ex_iv, sizeof(ex_iv));
	example_expect(&ex, "epoch", epoch, sizeof(epoch));
	example_expect(&ex, "sequence", seq, sizeof(seq));
	example_expect(&ex, "nonce", nonce, sizeof(nonce));
	example_expect(&ex, "plaintext", ex_plain, sizeof(ex_plain));
	example_expect(&ex, "header", ex_record, NM_TNL_HDRS_LEN);
	example_expect(&ex, "ciphertext", ex_record + NM_TNL_HDRS_LEN, sizeof(ex_plain) + 1);
	example_expect(&ex, "tag", ex_record + sizeof(ex_record) - NM_TNL_TAG_LEN, NM_TNL_TAG_LEN);
}

Test(tnl_example, seals_and_opens_byte_for_byte)
{
	struct nm_tnl_key *seal = key_new(NM_TNL_AES_128_GCM, NM_TNL_SEAL, ex_key, ex_iv, ex_epoch);
	struct nm_tnl_key *open = key_new(NM_TNL_AES_128_GCM, NM_TNL_OPEN, ex_key, ex_iv, ex_epoch);
	uint8_t mem[BUF_ROOM];
	struct nm_tnl_buf b = {.data = mem, .len = NM_TNL_HDRS_LEN + 60, .room = sizeof(mem)};
	struct nm_tnl_replay replay;

	memcpy(mem + NM_TNL_HDRS_LEN, ex_plain, sizeof(ex_plain));
	seal->next_seq = ex_seq;
	cr_assert_eq(nm_tnl_seal_burst(seal, &b, 1), 1);
	cr_assert_eq(b.seq, ex_seq);
	cr_assert_eq(b.len, sizeof(ex_record));
	cr_assert_arr_eq(mem, ex_record, sizeof(ex_record));

	nm_tnl_replay_init(&replay);
	cr_assert_eq(nm_tnl_open_burst(open, &replay, &b, 1), 1);
	cr_assert_eq(b.len, NM_TNL_HDRS_LEN + sizeof(ex_plain));
	cr_assert_arr_eq(mem + NM_TNL_HDRS_LEN, ex_plain, sizeof(ex_plain));
	nm_tnl_key_free(seal);
	nm_tnl_key_free(open);
}

/*
 * Records computed apart from this code (Python's cryptography package, one
 * fresh AEAD call each): the 28-byte head of the example packet under
 * test_key (its first 16 bytes for AES-128) and test_iv, epoch 0xbeef, at sequences
 * 0x0102030405060708 and the next, sealed one after the other through one context, so a nonce that
 * failed to change between records would show.
 */
static const struct {
	unsigned int cipher;
	const char *record[2];
} kat[] = {
    {NM_TNL_AES_256_GCM,
     {"0100beef0102030405060708170303002d6650e83ac34027cf9da55d27f883eff4e0998df28586bd53"
      "753b23a66666348488cab0a17cd2e32bae85fdf83d",
      "0100beef0102030405060709170303002dccda284e9cc5b37fe92887891b0fcc30576ceb18b39dca21"
      "6f03ffd6ff3403319eaad00a1ab281803073c14ea5"}},
    {NM_TNL_CHACHA20_POLY1305,
     {"0100beef0102030405060708170303002d69befa59d65e1f0a2a19e676160ce7bc32db68bb8cad60b3"
      "098bcf96119ff123c4e2ab59aeb19c92bd91615c13",
      "0100beef0102030405060709170303002d4e4cde4b5bc4b3ffa9cfbe3e6bb7ed7eaa27bc2ed67c46b9"
      "27d07bc5f96ebab15d5efe40f5341954fd6a7fa02c"}},
    {NM_TNL_AES_128_GCM,
     {"0100beef0102030405060708170303002de586388637260fdaaf1c80940e9865f093131ee89775437f"
      "34a53ff6cf1734c5d0ca160f0516e62e686049e0ab",
      "0100beef0102030405060709170303002db260e6f2384cceb296485efc69758a3972f2f670e605dbc2"
      "816640a128f1026614f195e097862e2c2fe146451e"}},
};

Test(tnl_example, consecutive_records_match_an_independent_aead)
{
	for (size_t c = 0; c < sizeof(kat) / sizeof(kat[0]); c++) {
		struct nm_tnl_key *k =
		    key_new(kat[c].cipher, NM_TNL_SEAL, test_key, test_iv, 0xbeef);
		uint8_t mem[2][BUF_ROOM], want[128];
		struct nm_tnl_buf b[2];

		for (int i = 0; i < 2; i++) {
			b[i] = (struct nm_tnl_buf){
			    .data = mem[i], .len = NM_TNL_HDRS_LEN + 28, .room = BUF_ROOM};
			memcpy(mem[i] + NM_TNL_HDRS_LEN, ex_plain, 28);
		}
		k->next_seq = 0x0102030405060708ull;
		cr_assert_eq(nm_tnl_seal_burst(k, b, 2), 2);
		for (int i = 0; i < 2; i++) {
			long n = unhex(kat[c].record[i], want, sizeof(want));

			cr_assert_eq(n, 28 + NM_TNL_OVERHEAD);
			cr_assert_eq(b[i].len, (uint32_t)n);
			cr_assert_arr_eq(mem[i], want, (size_t)n, "%s record %d",
					 nm_tnl_cipher_name(kat[c].cipher), i);
		}
		nm_tnl_key_free(k);
	}
}

/* ---- round trips ---- */

Test(tnl_burst, round_trip_every_size_all_ciphers)
{
	static uint8_t mem[BURST][BUF_ROOM];
	uint8_t want[1500];

	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		struct key_pair kp = pair_new(cipher, 3);
		struct nm_tnl_replay replay;
		uint64_t want_seq = 0;

		nm_tnl_replay_init(&replay);
		for (uint32_t first = 0; first <= 1500; first += BURST) {
			struct nm_tnl_buf b[BURST];
			uint16_t n = (uint16_t)(first + BURST <= 1501 ? BURST : 1501 - first);

			for (uint16_t i = 0; i < n; i++)
				buf_fill(&b[i], mem[i], first + i);
			cr_assert_eq(nm_tnl_seal_burst(kp.seal, b, n), n);
			for (uint16_t i = 0; i < n; i++) {
				uint32_t inner = first + i;
				struct nm_tnl_hdr h;

				cr_assert_eq(b[i].reason, NM_TNL_OK);
				cr_assert_eq(b[i].seq, want_seq++);
				cr_assert_eq(b[i].len, inner + NM_TNL_OVERHEAD);
				cr_assert_eq(nm_tnl_hdr_parse(mem[i], b[i].len, &h), 0);
				cr_assert_eq(h.epoch, 3);
				cr_assert_eq(h.seq, b[i].seq);
				cr_assert_eq(h.rec_len, inner + NM_TNL_TRAILER_LEN);
				/* Nothing written past the tag. */
				cr_assert_eq(mem[i][b[i].len], 0xee);
			}
			cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, b, n), n);
			for (uint16_t i = 0; i < n; i++) {
				uint32_t inner = first + i;

				cr_assert_eq(b[i].reason, NM_TNL_OK, "%s size %u: %s",
					     nm_tnl_cipher_name(cipher), inner,
					     nm_tnl_reason_name(b[i].reason));
				cr_assert_eq(b[i].len, NM_TNL_HDRS_LEN + inner);
				for (uint32_t j = 0; j < inner; j++)
					want[j] = pattern(inner, j);
				cr_assert_arr_eq(mem[i] + NM_TNL_HDRS_LEN, want, inner,
						 "%s size %u", nm_tnl_cipher_name(cipher), inner);
			}
		}
		cr_assert_eq(want_seq, 1501);
		pair_free(&kp);
	}
}

Test(tnl_burst, ciphertext_hides_the_plaintext)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[BUF_ROOM];

	seal_one(kp.seal, mem, 64);
	for (uint32_t j = 0; j + 8 <= 64; j++) {
		uint8_t plain[8];

		for (uint32_t k = 0; k < 8; k++)
			plain[k] = pattern(64, j + k);
		cr_assert_neq(memcmp(mem + NM_TNL_HDRS_LEN + j, plain, 8), 0);
	}
	pair_free(&kp);
}

/* The reason a record with byte pos changed to v must be refused for. */
static unsigned int
flip_reason(uint32_t pos, const uint8_t *rec, uint32_t len)
{
	if (pos == 0)
		return NM_TNL_E_BAD_VERSION;
	if (pos == 1)
		return NM_TNL_E_BAD_RESERVED;
	if (pos < 4)
		return NM_TNL_E_WRONG_EPOCH;
	if (pos < 12)
		return NM_TNL_E_BAD_TAG; /* sequence: in the nonce and the AAD */
	if (pos == 12)
		return NM_TNL_E_BAD_RECORD_TYPE;
	if (pos < 15)
		return NM_TNL_E_BAD_LEGACY_VERSION;
	if (pos < 17) {
		uint32_t rec_len = (uint32_t)rec[15] << 8 | rec[16];

		if (rec_len > NM_TNL_REC_LEN_MAX)
			return NM_TNL_E_RECORD_OVERFLOW;
		if (rec_len < NM_TNL_TRAILER_LEN)
			return NM_TNL_E_RECORD_TOO_SHORT;
		return rec_len == len - NM_TNL_HDRS_LEN ? NM_TNL_OK : NM_TNL_E_LENGTH_MISMATCH;
	}
	return NM_TNL_E_BAD_TAG; /* ciphertext, content type byte, tag */
}

Test(tnl_burst, every_flipped_bit_is_refused_for_its_reason)
{
	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		struct key_pair kp = pair_new(cipher, 0x0102);
		uint8_t rec[BUF_ROOM], mem[BUF_ROOM];
		unsigned long tags = 0;

		/* A sequence with set and clear bits, and a record length with both too. */
		kp.seal->next_seq = 0x00ff00ff00ff00f0ull;
		uint32_t len = seal_one(kp.seal, rec, 100);

		memcpy(mem, rec, len);
		cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_OK);
		for (uint32_t pos = 0; pos < len; pos++) {
			for (unsigned int bit = 0; bit < 8; bit++) {
				memcpy(mem, rec, len);
				mem[pos] ^= (uint8_t)(1u << bit);
				unsigned int want = flip_reason(pos, mem, len);
				unsigned int got = open_fresh(kp.open, mem, len);

				cr_assert_neq(want, NM_TNL_OK);
				cr_assert_eq(got, want, "%s: byte %u bit %u: %s, want %s",
					     nm_tnl_cipher_name(cipher), pos, bit,
					     nm_tnl_reason_name(got), nm_tnl_reason_name(want));
				tags += want == NM_TNL_E_BAD_TAG;
			}
		}

		struct nm_tnl_key_stats st;

		nm_tnl_key_stats_get(kp.open, &st);
		cr_assert_eq(st.forgeries, tags, "every tag failure counted");
		cr_assert_eq(st.records, 1);
		pair_free(&kp);
	}
}

Test(tnl_burst, open_refuses_wrong_epoch_key_and_content_type)
{
	struct key_pair kp = pair_new(NM_TNL_CHACHA20_POLY1305, 5);
	struct nm_tnl_key *other =
	    key_new(NM_TNL_CHACHA20_POLY1305, NM_TNL_OPEN, test_key, test_iv, 6);
	uint8_t other_key[32], rec[BUF_ROOM], mem[BUF_ROOM];

	memcpy(other_key, test_key, sizeof(other_key));
	other_key[31] ^= 0x80;
	struct nm_tnl_key *wrong =
	    key_new(NM_TNL_CHACHA20_POLY1305, NM_TNL_OPEN, other_key, test_iv, 5);
	uint32_t len = seal_one(kp.seal, rec, 20);

	memcpy(mem, rec, len);
	cr_assert_eq(open_fresh(other, mem, len), NM_TNL_E_WRONG_EPOCH);
	memcpy(mem, rec, len);
	cr_assert_eq(open_fresh(wrong, mem, len), NM_TNL_E_BAD_TAG);
	memcpy(mem, rec, len);
	cr_assert_eq(open_fresh(kp.seal, mem, len), NM_TNL_E_CRYPTO_ERROR, "a sealing key");

	/* An authentic record whose inner content type is not application_data. */
	uint8_t nonce[NM_TNL_IV_LEN];

	nm_tnl_hdr_build(mem, 5, 77, 20);
	memcpy(mem + NM_TNL_HDRS_LEN, rec + NM_TNL_HDRS_LEN, 20);
	mem[NM_TNL_HDRS_LEN + 20] = 0x16; /* handshake */
	nm_tnl_nonce(nonce, test_iv, 77);
	cr_assert_eq(nm_tnl_aead_seal(kp.seal, nonce, mem, NM_TNL_HDRS_LEN, mem + NM_TNL_HDRS_LEN,
				      21, mem + NM_TNL_HDRS_LEN, mem + NM_TNL_HDRS_LEN + 21),
		     NM_TNL_OK);
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_E_BAD_CONTENT_TYPE);

	nm_tnl_key_free(other);
	nm_tnl_key_free(wrong);
	pair_free(&kp);
}

Test(tnl_burst, empty_inner_packet_is_a_record)
{
	struct key_pair kp = pair_new(NM_TNL_AES_256_GCM, 0);
	uint8_t mem[BUF_ROOM];
	uint32_t len = seal_one(kp.seal, mem, 0);

	cr_assert_eq(len, NM_TNL_OVERHEAD);
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_OK);
	pair_free(&kp);
}

Test(tnl_burst, duplicate_inside_one_burst_opens_once)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[3][BUF_ROOM];
	struct nm_tnl_buf b[3];
	struct nm_tnl_replay replay;
	uint32_t len = seal_one(kp.seal, mem[0], 64);
	uint32_t len2 = seal_one(kp.seal, mem[2], 64);

	memcpy(mem[1], mem[0], len);
	for (int i = 0; i < 3; i++)
		b[i] = (struct nm_tnl_buf){
		    .data = mem[i], .len = i == 2 ? len2 : len, .room = BUF_ROOM};
	nm_tnl_replay_init(&replay);
	cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, b, 3), 2);
	cr_assert_eq(b[0].reason, NM_TNL_OK);
	cr_assert_eq(b[1].reason, NM_TNL_E_REPLAY_DUPLICATE);
	cr_assert_eq(b[2].reason, NM_TNL_OK);
	cr_assert_eq(b[2].seq, 1);
	pair_free(&kp);
}

Test(tnl_burst, forged_record_does_not_move_the_window)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[BUF_ROOM];
	struct nm_tnl_replay replay;
	struct nm_tnl_buf b = {.data = mem, .room = BUF_ROOM};

	nm_tnl_replay_init(&replay);
	b.len = seal_one(kp.seal, mem, 64); /* sequence 0 */
	cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, &b, 1), 1);

	/* A forged far-ahead sequence: refused, and the window stays at 0. */
	b.len = seal_one(kp.seal, mem, 64);
	nm_tnl_hdr_build(mem, 0, 1000000, 64);
	cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, &b, 1), 0);
	cr_assert_eq(b.reason, NM_TNL_E_BAD_TAG);
	cr_assert_eq(replay.top, 1);
	cr_assert_eq(nm_tnl_replay_check(&replay, 1), NM_TNL_OK);
	pair_free(&kp);
}

Test(tnl_burst, seal_refusals_keep_their_sequence_number)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	static uint8_t mem[5][NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX + 64];
	struct nm_tnl_buf b[5] = {
	    {.data = mem[0], .len = NM_TNL_HDRS_LEN + 10, .room = sizeof(mem[0])},
	    /* one byte short of room for the content type and tag */
	    {.data = mem[1], .len = NM_TNL_HDRS_LEN + 10, .room = NM_TNL_HDRS_LEN + 10 + 16},
	    {.data = mem[2], .len = NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX + 1, .room = sizeof(mem[2])},
	    {.data = mem[3], .len = NM_TNL_HDRS_LEN - 1, .room = sizeof(mem[3])},
	    {.data = mem[4], .len = NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX, .room = sizeof(mem[4])},
	};

	cr_assert_eq(nm_tnl_seal_burst(kp.seal, b, 5), 2);
	cr_assert_eq(b[0].reason, NM_TNL_OK);
	cr_assert_eq(b[0].seq, 0);
	cr_assert_eq(b[1].reason, NM_TNL_E_NO_ROOM);
	cr_assert_eq(b[2].reason, NM_TNL_E_TOO_BIG);
	cr_assert_eq(b[3].reason, NM_TNL_E_SHORT);
	cr_assert_eq(b[4].reason, NM_TNL_OK);
	cr_assert_eq(b[4].seq, 1);
	cr_assert_eq(b[4].len, NM_TNL_INNER_MAX + NM_TNL_OVERHEAD);

	/* An opening key cannot seal. */
	b[0].len = NM_TNL_HDRS_LEN + 10;
	cr_assert_eq(nm_tnl_seal_burst(kp.open, b, 1), 0);
	cr_assert_eq(b[0].reason, NM_TNL_E_CRYPTO_ERROR);
	pair_free(&kp);
}

/* ---- usage limits ---- */

Test(tnl_limits, aes_gcm_rotates_at_half_and_stops_at_the_limit)
{
	for (unsigned int cipher = NM_TNL_AES_128_GCM; cipher <= NM_TNL_AES_256_GCM; cipher++) {
		struct nm_tnl_key *k = key_new(cipher, NM_TNL_SEAL, test_key, test_iv, 0);
		uint8_t mem[BUF_ROOM];
		struct nm_tnl_buf b;

		cr_assert_not(nm_tnl_key_should_rotate(k));
		k->records = NM_TNL_AES_GCM_RECORD_LIMIT / 2 - 1;
		cr_assert_not(nm_tnl_key_should_rotate(k));
		k->records++;
		cr_assert(nm_tnl_key_should_rotate(k));

		k->records = NM_TNL_AES_GCM_RECORD_LIMIT - 1;
		buf_fill(&b, mem, 64);
		cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 1, "the last record allowed");
		buf_fill(&b, mem, 64);
		cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 0);
		cr_assert_eq(b.reason, NM_TNL_E_KEY_EXHAUSTED);
		nm_tnl_key_free(k);
	}
}

Test(tnl_limits, chacha_is_bounded_by_the_sequence_space)
{
	struct nm_tnl_key *k = key_new(NM_TNL_CHACHA20_POLY1305, NM_TNL_SEAL, test_key, test_iv, 0);
	uint8_t mem[BUF_ROOM];
	struct nm_tnl_buf b;

	k->records = NM_TNL_AES_GCM_RECORD_LIMIT; /* no record limit below the sequence space */
	k->next_seq = NM_TNL_AES_GCM_RECORD_LIMIT;
	cr_assert_not(nm_tnl_key_should_rotate(k));
	k->next_seq = NM_TNL_SEQ_LIMIT / 2;
	cr_assert(nm_tnl_key_should_rotate(k));

	/* 2^64 - 2 is the last sequence sealed; 2^64 - 1 never is. */
	k->next_seq = NM_TNL_SEQ_LIMIT - 1;
	buf_fill(&b, mem, 64);
	cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 1);
	cr_assert_eq(b.seq, UINT64_MAX - 1);
	buf_fill(&b, mem, 64);
	cr_assert_eq(nm_tnl_seal_burst(k, &b, 1), 0);
	cr_assert_eq(b.reason, NM_TNL_E_KEY_EXHAUSTED);
	nm_tnl_key_free(k);
}

Test(tnl_limits, opening_key_stops_after_too_many_forgeries)
{
	struct key_pair kp = pair_new(NM_TNL_AES_128_GCM, 0);
	uint8_t mem[BUF_ROOM];
	uint32_t len = seal_one(kp.seal, mem, 64);

	kp.open->forgeries = NM_TNL_FORGERY_LIMIT / 2 - 1;
	cr_assert_not(nm_tnl_key_should_rotate(kp.open));
	kp.open->forgeries++;
	cr_assert(nm_tnl_key_should_rotate(kp.open));
	kp.open->forgeries = NM_TNL_FORGERY_LIMIT;
	cr_assert_eq(open_fresh(kp.open, mem, len), NM_TNL_E_KEY_EXHAUSTED, "even a valid record");
	pair_free(&kp);
}

/* ---- header parser ---- */

/* A datagram of len bytes whose header says rec_len, other fields valid. */
static void
hdr_make(uint8_t *d, uint32_t len, uint16_t rec_len)
{
	memset(d, 0, len);
	nm_tnl_hdr_build(d, 0x1234, 0x1122334455667788ull, 0);
	d[15] = (uint8_t)(rec_len >> 8);
	d[16] = (uint8_t)rec_len;
}

Test(tnl_hdr, parser_edges)
{
	static const struct {
		const char *what;
		uint32_t len;	  /* datagram length */
		uint16_t rec_len; /* record length written */
		int byte;	  /* -1, or a byte to overwrite */
		uint8_t value;
		int want; /* 0 or -reason */
	} cases[] = {
	    /* 1 */ {"empty datagram", 0, 17, -1, 0, -NM_TNL_E_SHORT},
	    /* 2 */ {"16 bytes", 16, 17, -1, 0, -NM_TNL_E_SHORT},
	    /* 3 */ {"version 0", 34, 17, 0, 0, -NM_TNL_E_BAD_VERSION},
	    /* 4 */ {"version 2", 34, 17, 0, 2, -NM_TNL_E_BAD_VERSION},
	    /* 5 */ {"reserved 1", 34, 17, 1, 1, -NM_TNL_E_BAD_RESERVED},
	    /* 6 */ {"reserved 0x80", 34, 17, 1, 0x80, -NM_TNL_E_BAD_RESERVED},
	    /* 7 */ {"record type handshake", 34, 17, 12, 0x16, -NM_TNL_E_BAD_RECORD_TYPE},
	    /* 8 */ {"record type alert", 34, 17, 12, 0x15, -NM_TNL_E_BAD_RECORD_TYPE},
	    /* 9 */ {"legacy version 0x0203", 34, 17, 13, 2, -NM_TNL_E_BAD_LEGACY_VERSION},
	    /* 10 */ {"legacy version 0x0301", 34, 17, 14, 1, -NM_TNL_E_BAD_LEGACY_VERSION},
	    /* 11 */ {"legacy version 0x0304", 34, 17, 14, 4, -NM_TNL_E_BAD_LEGACY_VERSION},
	    /* 12 */ {"length 0, 17 bytes", 17, 0, -1, 0, -NM_TNL_E_RECORD_TOO_SHORT},
	    /* 13 */ {"length 16, 33 bytes", 33, 16, -1, 0, -NM_TNL_E_RECORD_TOO_SHORT},
	    /* 14 */ {"length 17, 34 bytes: empty inner", 34, 17, -1, 0, 0},
	    /* 15 */ {"length 17, 35 bytes", 35, 17, -1, 0, -NM_TNL_E_LENGTH_MISMATCH},
	    /* 16 */ {"length 18, 34 bytes", 34, 18, -1, 0, -NM_TNL_E_LENGTH_MISMATCH},
	    /* 17 */ {"length 77, 17 bytes", 17, 77, -1, 0, -NM_TNL_E_LENGTH_MISMATCH},
	    /* 18 */ {"length 2^14+256, exact", 17 + 16640, 16640, -1, 0, 0},
	    /* 19 */ {"length 2^14+257", 17 + 16641, 16641, -1, 0, -NM_TNL_E_RECORD_OVERFLOW},
	    /* 20 */ {"length 0xffff", 17 + 0xffff, 0xffff, -1, 0, -NM_TNL_E_RECORD_OVERFLOW},
	    /* 21 */ {"version checked before length", 10 + 17, 3, 0, 9, -NM_TNL_E_BAD_VERSION},
	};
	static uint8_t d[17 + 0xffff];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_tnl_hdr h;

		hdr_make(d, cases[i].len > 17 ? cases[i].len : 17, cases[i].rec_len);
		if (cases[i].byte >= 0)
			d[cases[i].byte] = cases[i].value;
		int rc = nm_tnl_hdr_parse(d, cases[i].len, &h);

		cr_assert_eq(rc, cases[i].want, "case %zu (%s): %d %s", i + 1, cases[i].what, rc,
			     nm_tnl_reason_name((unsigned int)-rc));
		if (rc == 0) {
			cr_assert_eq(h.epoch, 0x1234);
			cr_assert_eq(h.seq, 0x1122334455667788ull);
			cr_assert_eq(h.rec_len, cases[i].rec_len);
		}
	}
}

Test(tnl_hdr, build_then_parse_extremes)
{
	static const struct {
		uint16_t epoch;
		uint64_t seq;
		uint32_t inner;
	} cases[] = {
	    {0, 0, 0},
	    {0xffff, UINT64_MAX - 1, 1500},
	    {0x8001, 0x8000000000000001ull, NM_TNL_INNER_MAX},
	};
	static uint8_t d[NM_TNL_HDRS_LEN + NM_TNL_INNER_MAX + NM_TNL_TRAILER_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nm_tnl_hdr h;
		uint32_t len = cases[i].inner + NM_TNL_OVERHEAD;

		nm_tnl_hdr_build(d, cases[i].epoch, cases[i].seq, cases[i].inner);
		cr_assert_eq(d[0], 1);
		cr_assert_eq(d[1], 0);
		cr_assert_eq(nm_tnl_hdr_parse(d, len, &h), 0, "case %zu", i + 1);
		cr_assert_eq(h.epoch, cases[i].epoch);
		cr_assert_eq(h.seq, cases[i].seq);
		cr_assert_eq(h.rec_len, cases[i].inner + NM_TNL_TRAILER_LEN);
	}
}

/* ---- anti-replay window ---- */

struct replay_step {
	uint64_t seq;
	unsigned int want;
};

static void
replay_run(const char *name, const struct replay_step *steps, size_t n)
{
	struct nm_tnl_replay r;

	nm_tnl_replay_init(&r);
	for (size_t i = 0; i < n; i++) {
		unsigned int checked = nm_tnl_replay_check(&r, steps[i].seq);
		unsigned int updated = nm_tnl_replay_update(&r, steps[i].seq);

		cr_assert_eq(checked, steps[i].want, "%s step %zu (seq %llu): check says %s", name,
			     i + 1, (unsigned long long)steps[i].seq, nm_tnl_reason_name(checked));
		cr_assert_eq(updated, steps[i].want, "%s step %zu: update says %s", name, i + 1,
			     nm_tnl_reason_name(updated));
	}
}

#define RUN(steps) replay_run(#steps, steps, sizeof(steps) / sizeof(steps[0]))
#define W	   NM_TNL_REPLAY_WINDOW

Test(replay, window_is_at_least_2048)
{
	cr_assert_geq(NM_TNL_REPLAY_WINDOW, 2048);
	cr_assert_eq(NM_TNL_REPLAY_WINDOW, 4032);
}

Test(replay, first_packet_and_duplicates)
{
	static const struct replay_step zero_first[] = {
	    /* 1 */ {0, NM_TNL_OK},
	    /* 2 */ {0, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 3 */ {1, NM_TNL_OK},
	    /* 4 */ {1, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {0, NM_TNL_E_REPLAY_DUPLICATE},
	};
	static const struct replay_step late_first[] = {
	    /* 1 */ {1000, NM_TNL_OK}, /* any sequence may come first */
	    /* 2 */ {999, NM_TNL_OK},  /* and earlier ones within the window after it */
	    /* 3 */ {0, NM_TNL_OK},
	    /* 4 */ {1000, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {999, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(zero_first);
	RUN(late_first);
}

Test(replay, window_edges)
{
	static const struct replay_step edges[] = {
	    /* 1 */ {10000, NM_TNL_OK},
	    /* 2 */ {10000 - W, NM_TNL_E_REPLAY_TOO_OLD}, /* just outside */
	    /* 3 */ {10000 - W + 1, NM_TNL_OK},		  /* oldest inside */
	    /* 4 */ {10000 - W + 1, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {0, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 6 */ {10001, NM_TNL_OK}, /* slides by one: step 3's sequence now falls out */
	    /* 7 */ {10000 - W + 1, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 8 */ {10000 - W + 2, NM_TNL_OK},
	    /* 9 */ {9999, NM_TNL_OK},
	    /* 10 */ {10000, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(edges);
}

Test(replay, word_boundaries)
{
	/* Positions are seq + 1: seq 63 opens word 1, seq 4095 wraps to the ring's word 0. */
	static const struct replay_step words[] = {
	    /* 1 */ {62, NM_TNL_OK},
	    /* 2 */ {63, NM_TNL_OK},
	    /* 3 */ {64, NM_TNL_OK},
	    /* 4 */ {4095, NM_TNL_OK}, /* ring wraps: word 64 reuses word 0's slot */
	    /* 5 */ {62, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 6 */ {63, NM_TNL_E_REPLAY_TOO_OLD},   /* 4095 - 63 = 4032 = W */
	    /* 7 */ {64, NM_TNL_E_REPLAY_DUPLICATE}, /* 4031 back: inside, and kept */
	    /* 8 */ {65, NM_TNL_OK},
	    /* 9 */ {4094, NM_TNL_OK},
	    /* 10 */ {4096, NM_TNL_OK},
	    /* 11 */ {4095, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(words);
}

Test(replay, far_ahead_moves_the_window_and_old_ones_are_refused)
{
	static const struct replay_step jump[] = {
	    /* 1 */ {5, NM_TNL_OK},
	    /* 2 */ {6, NM_TNL_OK},
	    /* 3 */ {7, NM_TNL_OK},
	    /* 4 */ {1000000007, NM_TNL_OK},	  /* far ahead: accepted, window moves */
	    /* 5 */ {8, NM_TNL_E_REPLAY_TOO_OLD}, /* in flight before the jump: refused */
	    /* 6 */ {7, NM_TNL_E_REPLAY_TOO_OLD},
	    /* 7 */ {1000000007 - W + 1, NM_TNL_OK}, /* inside the new window, never seen */
	    /* 8 */ {1000000006, NM_TNL_OK},
	    /* 9 */ {1000000007, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 10 */ {1000000007 + W / 2, NM_TNL_OK},	      /* a jump inside the window */
	    /* 11 */ {1000000006, NM_TNL_E_REPLAY_DUPLICATE}, /* kept across the slide */
	    /* 12 */ {1000000007 - W + 1, NM_TNL_E_REPLAY_TOO_OLD},
	};
	RUN(jump);
}

Test(replay, jump_clears_the_old_bits)
{
	/*
	 * A jump of a whole ring, or more, must clear every word: afterwards a
	 * sequence on the slot and bit of an old one is new, not a duplicate.
	 */
	static const struct replay_step ring[] = {
	    /* 1 */ {100, NM_TNL_OK},		 /* word 1, bit 37 */
	    /* 2 */ {4197, NM_TNL_OK},		 /* word 65 (slot 1): 64 words on */
	    /* 3 */ {4196, NM_TNL_OK},		 /* slot 1, bit 37 again: cleared */
	    /* 4 */ {4196 + 64 * 65, NM_TNL_OK}, /* word 130: 65 words on */
	    /* 5 */ {4196 + 64 * 64, NM_TNL_OK}, /* slot 1, bit 37, inside: cleared */
	    /* 6 */ {4196 + 64 * 64, NM_TNL_E_REPLAY_DUPLICATE},
	};
	RUN(ring);
}

Test(replay, sequence_wrap_is_never_accepted)
{
	static const struct replay_step wrap[] = {
	    /* 1 */ {UINT64_MAX, NM_TNL_E_REPLAY_SEQ_LIMIT}, /* even as the first */
	    /* 2 */ {UINT64_MAX - 1, NM_TNL_OK},
	    /* 3 */ {UINT64_MAX, NM_TNL_E_REPLAY_SEQ_LIMIT},
	    /* 4 */ {UINT64_MAX - 1, NM_TNL_E_REPLAY_DUPLICATE},
	    /* 5 */ {UINT64_MAX - 2, NM_TNL_OK},
	    /* 6 */ {0, NM_TNL_E_REPLAY_TOO_OLD},		   /* no wrap back to the start */
	    /* 7 */ {UINT64_MAX - 1 - W, NM_TNL_E_REPLAY_TOO_OLD}, /* highest is 2^64 - 2 */
	    /* 8 */ {UINT64_MAX - W, NM_TNL_OK},		   /* oldest inside */
	};
	RUN(wrap);
}

Test(replay, check_changes_nothing)
{
	struct nm_tnl_replay r;

	nm_tnl_replay_init(&r);
	cr_assert_eq(nm_tnl_replay_check(&r, 7), NM_TNL_OK);
	cr_assert_eq(nm_tnl_replay_check(&r, 7), NM_TNL_OK);
	cr_assert_eq(r.top, 0);
	cr_assert_eq(nm_tnl_replay_update(&r, 7), NM_TNL_OK);
	cr_assert_eq(nm_tnl_replay_check(&r, 7), NM_TNL_E_REPLAY_DUPLICATE);
}

Test(replay, every_order_inside_the_window_is_accepted_once)
{
	struct nm_tnl_replay r;
	static uint64_t seqs[W];
	uint64_t base = 123456789;
	uint32_t rnd = 12345;

	/* A shuffled window's worth after a first record at its top. */
	for (uint64_t i = 0; i < W; i++)
		seqs[i] = base - i;
	for (uint64_t i = W - 1; i > 0; i--) {
		rnd = rnd * 1103515245u + 12345u;
		uint64_t j = (rnd >> 8) % (i + 1), t = seqs[i];

		seqs[i] = seqs[j];
		seqs[j] = t;
	}
	nm_tnl_replay_init(&r);
	cr_assert_eq(nm_tnl_replay_update(&r, base), NM_TNL_OK);
	for (uint64_t i = 0; i < W; i++)
		cr_assert_eq(nm_tnl_replay_update(&r, seqs[i]),
			     seqs[i] == base ? NM_TNL_E_REPLAY_DUPLICATE : NM_TNL_OK, "seq %llu",
			     (unsigned long long)seqs[i]);
	for (uint64_t i = 0; i < W; i++)
		cr_assert_eq(nm_tnl_replay_check(&r, seqs[i]), NM_TNL_E_REPLAY_DUPLICATE);
	cr_assert_eq(nm_tnl_replay_check(&r, base - W), NM_TNL_E_REPLAY_TOO_OLD);
}

/* ---- no allocation on the data path ---- */

Test(tnl_burst, seal_and_open_allocate_nothing)
{
	static uint8_t mem[BURST][BUF_ROOM];

	for (unsigned int cipher = 0; cipher < NM_TNL_CIPHERS; cipher++) {
		struct key_pair kp = pair_new(cipher, 0);
		struct nm_tnl_buf b[BURST];
		struct nm_tnl_replay replay;

		cr_assert_gt(ossl_allocs, 0, "OpenSSL's allocator is the counting one");
		nm_tnl_replay_init(&replay);
		unsigned long before = ossl_allocs;
		for (int round = 0; round < 4; round++) {
			for (int i = 0; i < BURST; i++)
				buf_fill(&b[i], mem[i], (uint32_t)(64 + 40 * i));
			cr_assert_eq(nm_tnl_seal_burst(kp.seal, b, BURST), BURST);
			b[3].data[40] ^= 1; /* a failed tag allocates nothing either */
			cr_assert_eq(nm_tnl_open_burst(kp.open, &replay, b, BURST), BURST - 1);
		}
		cr_assert_eq(ossl_allocs, before, "%s: %lu allocations in the burst paths",
			     nm_tnl_cipher_name(cipher), ossl_allocs - before);
		pair_free(&kp);
	}
}
