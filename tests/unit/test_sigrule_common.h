/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parts of the signature rule parser's tests share
 * (test_sigrule.c, test_sigrule_parse.c, test_sigrule_file.c;
 * test_sigrule_common.c defines them): the rule parsed into and the error
 * text of the last parse, parse() itself, and rules with a content or pcre
 * of a given length.
 */
#ifndef NM_TEST_SIGRULE_COMMON_H
#define NM_TEST_SIGRULE_COMMON_H

#include <stddef.h>

#include "sig.h"

#define ANY_ANY "alert tcp any any -> any any "

extern struct nm_sig_rule rule; /* 5 KiB: not on the stack of every test */
extern char err[1024];

/* Parse text into rule, the error into err; what nm_sig_rule_parse returns. */
int parse(const char *text);
/* Build "alert tcp any any -> any any (content:\"<n x 'a'>\"; sid:1;)" on the heap. */
char *rule_with_content_of(size_t n, const char *key);

#endif
