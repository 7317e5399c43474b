/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helpers the signature rule parser's tests share (declared in
 * test_sigrule_common.h): one rule and one error buffer for every parse,
 * and rule text with a content or pcre of any length, built on the heap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sig.h"
#include "test_sigrule_common.h"

struct nm_sig_rule rule; /* 5 KiB: not on the stack of every test */
char err[1024];

int
parse(const char *text)
{
	memset(err, 0, sizeof(err));
	return nm_sig_rule_parse(text, &rule, err, sizeof(err));
}

/* Build "alert tcp any any -> any any (content:\"<n x 'a'>\"; sid:1;)" on the heap. */
char *
rule_with_content_of(size_t n, const char *key)
{
	size_t size = n + 128;
	char *text = malloc(size);
	size_t at;

	cr_assert_not_null(text);
	at = (size_t)snprintf(text, size, ANY_ANY "(%s:\"%s", key, strcmp(key, "pcre") ? "" : "/");
	memset(text + at, 'a', n);
	at += n;
	snprintf(text + at, size - at, "%s\"; sid:1;)", strcmp(key, "pcre") ? "" : "/");
	return text;
}
