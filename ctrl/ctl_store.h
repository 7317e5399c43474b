/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemeshctl's store commands: `flows query`, `flows graph` and `flows
 * verify`, answered from the store's day files by nodemeshctl itself.
 */
#ifndef NM_CTL_STORE_H
#define NM_CTL_STORE_H

#include <stdbool.h>

/*
 * Run `flows WORD key=value ...` (argv[0] is WORD) on the store in dir and
 * print the answer, readable or as JSON. Returns the exit status: 0 ok, 1
 * refused (bad filter, broken chain), 2 the store could not be read.
 */
int nm_ctl_flows(const char *dir, int argc, char *const argv[], bool as_json);

#endif
