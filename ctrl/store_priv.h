/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the store's writer: what store.c and store_retain.c share.
 */
#ifndef NM_STORE_PRIV_H
#define NM_STORE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Commit the open transaction, if any; a failure counts the batch lost. */
void nm_store_commit_batch(struct nm_store *s);

/* Close today's file (after logging its chain head). */
void nm_store_close_day(struct nm_store *s);

/* Age and size retention after a batch (store_retain.c); now is CLOCK_MONOTONIC. */
/* Returns true when it removed rows of today. */
bool nm_store_retain(struct nm_store *s, uint64_t now);
/* The store's size on disk into s->bytes, after the batch's checkpoints. */
void nm_store_measure(struct nm_store *s);

/* store_ckpt.c: the checkpoint thread. start: 0 or -errno. */
int nm_store_ckpt_start(struct nm_store *s);
void nm_store_ckpt_stop(struct nm_store *s);
/* Ask for a checkpoint of today's file if its WAL passed wal_limit (or always). */
void nm_store_ckpt_ask(struct nm_store *s, bool always);
/* The writer's own checkpoint when the WAL is far past wal_limit, or past it after a trim. */
void nm_store_ckpt_overdue(struct nm_store *s, bool trimmed);

#endif
