/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the policy rule parser: rules arrive over the control
 * socket and from files, so arbitrary bytes must give either an error
 * message or a rule that keeps the parser's promises: its text parses back
 * to the same rule, port items are within bounds and ordered, a deny
 * rule carries no rate, and an HTTP clause is TCP's, within its bounds and
 * normalised (methods tokens, a path from '/', host and header names
 * lowercase).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_rule: %s:%d: check failed: %s\n", __FILE__,          \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nm_rule rule, again;
	char *text = malloc(size + 1);
	char err[256];
	int rc;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	err[0] = '\0';
	rc = nm_rule_parse(text, &rule, err, sizeof(err));
	free(text);
	if (rc != 0) {
		CHECK(rc == -EINVAL);
		CHECK(err[0] != '\0');
		return 0;
	}

	CHECK(rule.id == 0);
	CHECK(rule.action == NM_VERDICT_ALLOW || rule.action == NM_VERDICT_DENY);
	CHECK(rule.proto == 0 || rule.proto == 1 || rule.proto == 6 || rule.proto == 17);
	CHECK(rule.inspect == 0 || rule.inspect == 1);
	CHECK(rule.n_ports <= NM_RULE_MAX_PORTS);
	CHECK(rule.n_ports == 0 || rule.proto == 6 || rule.proto == 17);
	for (unsigned int i = 0; i < rule.n_ports; i++)
		CHECK(rule.ports[i].lo >= 1 && rule.ports[i].lo <= rule.ports[i].hi);
	if (rule.action == NM_VERDICT_DENY)
		CHECK(rule.rate_pps == 0 && rule.rate_bps == 0);
	CHECK(rule.burst == 0 || rule.rate_pps != 0 || rule.rate_bps != 0);
	CHECK(rule.burst <= 100000000);
	CHECK(rule.from.n_labels <= NM_SEL_MAX_LABELS && rule.to.n_labels <= NM_SEL_MAX_LABELS);
	CHECK(rule.has_http == 0 || rule.proto == 6);
	CHECK(rule.http.n_methods <= NM_HTTP_RULE_METHODS &&
	      rule.http.n_headers <= NM_HTTP_RULE_HEADERS);
	CHECK(!rule.has_http || rule.http.n_methods || rule.http.path_prefix || rule.http.path[0] ||
	      rule.http.host[0] || rule.http.n_headers);
	for (unsigned int i = 0; i < rule.http.n_methods; i++)
		CHECK(rule.http.methods[i][0] != '\0' &&
		      strpbrk(rule.http.methods[i], " ,/") == NULL);
	CHECK(rule.http.path[0] == '\0' || rule.http.path[0] == '/');
	CHECK(strpbrk(rule.http.path, "?#%*") == NULL);
	for (const char *c = rule.http.host; *c; c++)
		CHECK(!(*c >= 'A' && *c <= 'Z'));
	for (unsigned int i = 0; i < rule.http.n_headers; i++) {
		CHECK(rule.http.headers[i].name[0] != '\0' &&
		      rule.http.headers[i].value[0] != '\0');
		for (const char *c = rule.http.headers[i].name; *c; c++)
			CHECK(!(*c >= 'A' && *c <= 'Z'));
	}
	CHECK(strlen(rule.text) >= strlen("deny from * to *") &&
	      strlen(rule.text) < NM_RULE_TEXT_LEN);

	/* The normalised text is a rule in its own right, the same one. */
	err[0] = '\0';
	rc = nm_rule_parse(rule.text, &again, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "fuzz_rule: '%s' does not re-parse: %s\n", rule.text, err);
	CHECK(rc == 0);
	CHECK(memcmp(&rule, &again, offsetof(struct nm_rule, text)) == 0);
	CHECK(strcmp(rule.text, again.text) == 0);
	return 0;
}
