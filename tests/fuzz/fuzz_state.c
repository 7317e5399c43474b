/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the run-time state file (ctrl/state.c). The first
 * input byte picks the mode: odd, the rest is a whole file (header and
 * body); even, the rest is a body and the target writes a correct header
 * for it, so the fuzzer gets past the checksum to the parser. A state the
 * parser accepts must come back the same through nm_state_body, encode,
 * decode and parse again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "state.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_state: %s:%d: check failed: %s\n", __FILE__,         \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "nodemesh-state 1 LEN SHA256\n" + body */
static char *
with_header(const uint8_t *body, size_t n, size_t *len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char head[128], *out;
	int h;

	EVP_Digest(body, n, md, &mdlen, EVP_sha256(), NULL);
	h = snprintf(head, sizeof(head), "nodemesh-state %d %zu ", NM_STATE_VERSION, n);
	for (unsigned int i = 0; i < 32; i++)
		h += snprintf(head + h, sizeof(head) - (size_t)h, "%02x", md[i]);
	head[h++] = '\n';
	out = malloc((size_t)h + n);
	if (out == NULL)
		return NULL;
	memcpy(out, head, (size_t)h);
	memcpy(out + h, body, n);
	*len = (size_t)h + n;
	return out;
}

static void
same_again(const struct nm_state *st)
{
	struct nm_state again;
	char err[256];
	size_t len;

	json_t *body = nm_state_body(st, "fuzz");
	CHECK(body != NULL);
	char *buf = nm_state_encode(body, &len);
	CHECK(buf != NULL);
	json_t *back = nm_state_decode(buf, len, err, sizeof(err));
	CHECK(back != NULL);
	CHECK(nm_state_parse(back, &again, err, sizeof(err)) == 0);
	CHECK(again.n_pods == st->n_pods && again.n_identities == st->n_identities);
	CHECK(again.n_rules == st->n_rules && again.n_peers == st->n_peers);
	CHECK(again.next_rule_id == st->next_rule_id && again.default_allow == st->default_allow);
	CHECK(strcmp(again.sig_file, st->sig_file) == 0);
	for (unsigned int i = 0; i < st->n_pods; i++)
		CHECK(memcmp(&again.pods[i], &st->pods[i], sizeof(st->pods[i])) == 0);
	for (unsigned int i = 0; i < st->n_rules; i++)
		CHECK(again.rules[i].id == st->rules[i].id &&
		      strcmp(again.rules[i].text, st->rules[i].text) == 0);
	nm_state_clear(&again);
	json_decref(back);
	json_decref(body);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_state st;
	char err[256], *buf;
	size_t len;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		buf = malloc(size - 1 + 1);
		if (buf == NULL)
			return 0;
		memcpy(buf, data + 1, size - 1);
		len = size - 1;
	} else {
		buf = with_header(data + 1, size - 1, &len);
		if (buf == NULL)
			return 0;
	}
	err[0] = '\0';
	json_t *body = nm_state_decode(buf, len, err, sizeof(err));
	free(buf);
	if (body == NULL) {
		CHECK(err[0] != '\0');
		return 0;
	}
	if (nm_state_parse(body, &st, err, sizeof(err)) == 0) {
		same_again(&st);
		nm_state_clear(&st);
	} else {
		CHECK(err[0] != '\0' && st.pods == NULL && st.n_rules == 0);
	}
	json_decref(body);
	return 0;
}
