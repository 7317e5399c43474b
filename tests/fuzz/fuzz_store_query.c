/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the store's query parser (`flows query` and `flows
 * graph` filters, ctrl/store_query.c): the words come from a command line,
 * so arbitrary bytes, cut into words at blanks, must give either an error
 * message or a query that keeps the parser's promises: a window with since
 * before until, names that are names, both halves of an identity, a known
 * verdict, a sid and a limit in range, and a WHERE clause that fits.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "store_priv_query.h"
#include "store_query.h"

#define MAX_WORDS 32
#define NOW_NS	  (INT64_C(1796558400) * 1000000000) /* 2026-12-06T12:00:00Z */

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_store_query: %s:%d: check failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
name_or_empty(const char *s)
{
	return s[0] == '\0' || nm_name_valid(s, strlen(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_store_query q;
	char *argv[MAX_WORDS], where[1024], err[512];
	char *text = malloc(size + 1);
	int argc = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *save = NULL, *w = strtok_r(text, " \t\n", &save); w != NULL && argc < MAX_WORDS;
	     w = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = w;

	err[0] = '\0';
	int rc = nm_store_query_parse(&q, argc, argv, NOW_NS, err, sizeof(err));
	free(text);
	if (rc != 0) {
		CHECK(rc == -EINVAL);
		CHECK(err[0] != '\0');
		return 0;
	}

	CHECK(q.since_ns < q.until_ns);
	CHECK(q.limit >= 1 && q.limit <= NM_STORE_QUERY_MAX_LIMIT);
	CHECK(q.sid == -1 || (q.sid >= 1 && q.sid <= UINT32_MAX));
	CHECK(strcmp(q.verdict, "") == 0 || strcmp(q.verdict, "allow") == 0 ||
	      strcmp(q.verdict, "deny") == 0);
	CHECK(name_or_empty(q.pod) && name_or_empty(q.ns));
	CHECK((q.id_ns[0] == '\0') == (q.id_sa[0] == '\0'));
	CHECK(name_or_empty(q.id_ns) && name_or_empty(q.id_sa));
	CHECK(strlen(q.image) < sizeof(q.image) && strchr(q.image, '"') == NULL);

	nm_store_where(&q, where, sizeof(where));
	CHECK(strlen(where) < sizeof(where) - 1);
	CHECK(strncmp(where, " WHERE start_ns < :until AND end_ns >= :since", 45) == 0);
	return 0;
}
