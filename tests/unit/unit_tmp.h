/* SPDX-License-Identifier: BSD-3-Clause */
/* Temporary files for unit tests of file loaders. */
#ifndef NM_TEST_UNIT_TMP_H
#define NM_TEST_UNIT_TMP_H

#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

/* Write text to a fresh temp file; path is a mkstemp template ("/tmp/x-XXXXXX"). */
static inline void
nm_test_write_tmp(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

#endif
