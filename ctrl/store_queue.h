/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forensic store off the control thread. The control thread encodes
 * each row (the canonical form of store_codec.h, a copy that no longer
 * points at the pod history) into the turn's batch and hands the batch
 * over at the end of the turn; the store's writer thread decodes the rows
 * and runs the SQLite side (store.h: transactions, retention) on them.
 * The loop's cost per record is the encoding; SQLite's indexes, commits
 * and checkpoints never land on a loop turn. A writer that falls behind
 * takes the batches that piled up in one transaction; past
 * NM_STORE_QUEUE_MAX bytes waiting, new batches are dropped and counted
 * (queue_lost), never waited for.
 */
#ifndef NM_STORE_QUEUE_H
#define NM_STORE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define NM_STORE_QUEUE_MAX (64u << 20) /* bytes of rows waiting for the writer */

struct nm_store_queue {
	struct nm_store store; /* the writer thread's, once started */
	pthread_t thread;
	bool started;
	bool open; /* logs.store_dir is set */

	/* Control thread only: the turn's batch being filled. */
	uint8_t *fill;
	size_t fill_len, fill_cap;
	unsigned int fill_rows;

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	uint8_t *pending; /* batches handed over, not yet taken by the writer */
	size_t pending_len, pending_cap;
	unsigned int pending_rows;
	bool stop;
	bool busy;	      /* the writer is working on batches it took */
	uint64_t queue_lost;  /* rows dropped: the writer was NM_STORE_QUEUE_MAX behind */
	uint64_t encode_lost; /* rows that could not be encoded (out of memory) */
	json_t *snapshot;     /* the store's stats after the writer's last batch */
};

/* Open the store (store.h) and start its writer thread. 0 or -errno with err. */
int nm_store_queue_open(struct nm_store_queue *q, const struct nm_store_params *p, char *err,
			size_t errlen);

static inline bool
nm_store_queue_is_open(const struct nm_store_queue *q)
{
	return q->open;
}

/* Encode row v of table t, written at at_ns, into the turn's batch. */
void nm_store_queue_add(struct nm_store_queue *q, const struct nm_store_table *t,
			const struct nm_store_val *v, int64_t at_ns);

/* End of the turn: hand the batch to the writer. */
void nm_store_queue_commit(struct nm_store_queue *q);

/* Wait until the writer has written everything handed over (tests, shutdown). */
void nm_store_queue_sync(struct nm_store_queue *q);

/* The store's stats as of the writer's last batch, plus the queue's. */
json_t *nm_store_queue_json(struct nm_store_queue *q);

/* Hand over what is left, let the writer finish it, stop it, close the store. */
void nm_store_queue_close(struct nm_store_queue *q);

#endif
