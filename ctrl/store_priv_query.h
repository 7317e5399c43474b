/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the store's readers: what store_query.c, store_graph.c and
 * store_verify.c share.
 */
#ifndef NM_STORE_PRIV_QUERY_H
#define NM_STORE_PRIV_QUERY_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

#include "store_query.h"

/* " WHERE ..." of q over flows, with named parameters (:since, :pod, ...). */
void nm_store_where(const struct nm_store_query *q, char *buf, size_t cap);

/* Bind q's values to the named parameters st has. */
void nm_store_bind(sqlite3_stmt *st, const struct nm_store_query *q);

/* Open day's file of dir for reading. NULL with err. */
sqlite3 *nm_store_open_ro(const char *dir, const char *day, char *err, size_t errlen);

/*
 * Run each_day on every day file that can hold flows of q's window,
 * oldest first. Returns the number of files, or -1 with err.
 */
int nm_store_each_day(const char *dir, const struct nm_store_query *q,
		      int (*each_day)(sqlite3 *db, const struct nm_store_query *q, json_t *acc,
				      char *err, size_t errlen),
		      json_t *acc, char *err, size_t errlen);

#endif
