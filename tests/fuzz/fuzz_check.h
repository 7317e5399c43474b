/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fuzz target's own assertions: a broken promise of the code under test
 * aborts, which libFuzzer reports as a crash with the input that caused it.
 */
#ifndef NM_FUZZ_CHECK_H
#define NM_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define NM_FUZZ_CHECK(target, cond)                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s: %s:%d: check failed: %s\n", target, __FILE__,         \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
