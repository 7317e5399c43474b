/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the control request tokenizer: the socket is a trust
 * boundary, so arbitrary bytes must give either a well-formed request or an
 * error message, never a crash or an overlong token.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_request: %s:%d: check failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nm_req req; /* 14 KiB */
	static const char *const allowed[] = {"name", "ip", "iface", "ns", NULL};
	char err[128];

	err[0] = '\0';
	int rc = nm_req_parse((const char *)data, size, &req, err, sizeof(err));
	if (rc != 0) {
		CHECK(rc == -EINVAL);
		CHECK(err[0] != '\0');
		return 0;
	}

	CHECK(req.nwords >= 1 && req.nwords <= NM_REQ_MAX_WORDS);
	CHECK(req.nargs <= NM_REQ_MAX_ARGS);
	for (unsigned int i = 0; i < req.nwords; i++) {
		CHECK(strlen(req.words[i]) >= 1 && strlen(req.words[i]) <= NM_REQ_MAX_TOKEN);
		CHECK(printable(req.words[i]));
		CHECK(strchr(req.words[i], '=') == NULL);
	}
	for (unsigned int i = 0; i < req.nargs; i++) {
		const char *key = req.args[i].key;

		CHECK(strlen(key) >= 1 && strlen(key) <= NM_REQ_MAX_TOKEN);
		CHECK(strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(key));
		CHECK(strlen(req.args[i].val) <= NM_REQ_MAX_TOKEN);
		CHECK(printable(req.args[i].val));
		CHECK(nm_req_arg(&req, key) != NULL);
	}
	rc = nm_req_check_keys(&req, allowed, err, sizeof(err));
	CHECK(rc == 0 || (rc == -EINVAL && err[0] != '\0'));
	return 0;
}
