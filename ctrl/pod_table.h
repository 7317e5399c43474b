/* SPDX-License-Identifier: BSD-3-Clause */
/* Building pod tables for publication (ctrl/pod_table.c; types in nodemesh/pod_table-t.h). */
#ifndef NM_POD_TABLE_H
#define NM_POD_TABLE_H

#include <stdint.h>

#include "nodemesh/pod_table-t.h"

/* A copy of old (NULL: an empty table) with the next generation, indexed; NULL and errno on
 * failure. */
struct nm_pod_table *nm_pod_table_clone(const struct nm_pod_table *old, uint64_t seed,
					unsigned int n_workers);
/* Build by_ip and each worker's owned[] list. 0 or -errno. */
int nm_pod_table_index(struct nm_pod_table *tbl, uint64_t seed, unsigned int n_workers);
void nm_pod_table_free(struct nm_pod_table *tbl);
/*
 * Slot of the local pod called name ("POD", or "NS/POD" when pods of two
 * namespaces share the name): -1 if none, -2 if "POD" is in several
 * namespaces.
 */
int nm_pod_table_find_name(const struct nm_pod_table *tbl, const char *name);

/* err for a failed nm_pod_table_find_name (rc -1 or -2). */
void nm_pod_name_error(int rc, const char *name, char *err, size_t errlen);

#endif
