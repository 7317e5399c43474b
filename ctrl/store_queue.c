/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's writer thread and the batches the control thread hands it
 * (see store_queue.h). A row in a batch: the table (1 byte: its number in
 * nm_store_tables: 0 flows, 1 alerts, 2 http), the time it was written (8 bytes), the canonical
 * row's length (4 bytes), the canonical row.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_queue.h"

#define ROW_HEAD 13
#define TXN_ROWS 500

static int
grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t cap2 = *cap ? *cap : 65536;
	while (cap2 < need)
		cap2 *= 2;
	uint8_t *b = realloc(*buf, cap2);
	if (b == NULL)
		return -ENOMEM;
	*buf = b;
	*cap = cap2;
	return 0;
}

void
nm_store_queue_add(struct nm_store_queue *q, const struct nm_store_table *t,
		   const struct nm_store_val *v, int64_t at_ns)
{
	if (!q->open)
		return;

	long need = nm_store_encode(t, v, NULL, 0);
	if (need < 0 || grow(&q->fill, &q->fill_cap, q->fill_len + ROW_HEAD + (size_t)need) < 0) {
		pthread_mutex_lock(&q->mu);
		q->encode_lost++;
		pthread_mutex_unlock(&q->mu);
		return;
	}
	uint8_t *p = q->fill + q->fill_len;
	p[0] = (uint8_t)nm_store_table_no(t);
	nm_store_put_be(p + 1, (uint64_t)at_ns, 8);
	nm_store_put_be(p + 9, (uint64_t)need, 4);
	nm_store_encode(t, v, p + ROW_HEAD, (size_t)need);
	q->fill_len += ROW_HEAD + (size_t)need;
	q->fill_rows++;
}

void
nm_store_queue_commit(struct nm_store_queue *q)
{
	if (!q->open || q->fill_rows == 0)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->pending_len + q->fill_len > NM_STORE_QUEUE_MAX) {
		q->queue_lost += q->fill_rows;
	} else if (q->pending_len == 0) {
		/* The writer took the last batch: swap buffers, nothing copied. */
		uint8_t *b = q->pending;
		size_t cap = q->pending_cap;
		q->pending = q->fill;
		q->pending_cap = q->fill_cap;
		q->pending_len = q->fill_len;
		q->pending_rows = q->fill_rows;
		q->fill = b;
		q->fill_cap = cap;
	} else if (grow(&q->pending, &q->pending_cap, q->pending_len + q->fill_len) == 0) {
		memcpy(q->pending + q->pending_len, q->fill, q->fill_len);
		q->pending_len += q->fill_len;
		q->pending_rows += q->fill_rows;
	} else {
		q->encode_lost += q->fill_rows;
	}
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	q->fill_len = 0;
	q->fill_rows = 0;
}

/*
 * Writer thread: the rows of one taken buffer into the store, a
 * transaction per TXN_ROWS at most, so that retention runs (and the WAL is
 * checked) as often when the writer catches up on several turns at once.
 */
static void
write_rows(struct nm_store *s, const uint8_t *buf, size_t len)
{
	struct nm_store_val v[NM_STORE_COLS_MAX];
	size_t at = 0;
	unsigned int rows = 0;

	while (len - at >= ROW_HEAD) {
		const struct nm_store_table *t = nm_store_tables[buf[at] % NM_STORE_TABLES];
		int64_t at_ns = (int64_t)nm_store_get_be(buf + at + 1, 8);
		size_t n = (size_t)nm_store_get_be(buf + at + 9, 4);

		if (len - at - ROW_HEAD < n)
			break; /* cannot happen: the control thread wrote whole rows */
		if (nm_store_decode(t, buf + at + ROW_HEAD, n, v) == 0)
			nm_store_add(s, t, v, at_ns);
		else
			s->lost++; /* cannot happen: encoded by nm_store_queue_add */
		at += ROW_HEAD + n;
		if (++rows % TXN_ROWS == 0)
			nm_store_commit(s);
	}
	nm_store_commit(s);
}

static void *
writer_main(void *arg)
{
	struct nm_store_queue *q = arg;
	uint8_t *work = NULL;
	size_t work_cap = 0;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stop && q->pending_len == 0)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->pending_len == 0)
			break; /* stop, and nothing left */
		/* Take the batches: swap, so the control thread appends to an empty buffer. */
		uint8_t *b = q->pending;
		size_t len = q->pending_len, cap = q->pending_cap;
		q->pending = work;
		q->pending_cap = work_cap;
		q->pending_len = 0;
		q->pending_rows = 0;
		work = b;
		work_cap = cap;
		q->busy = true;
		pthread_mutex_unlock(&q->mu);

		write_rows(&q->store, work, len);
		json_t *snap = nm_store_json(&q->store);

		pthread_mutex_lock(&q->mu);
		json_decref(q->snapshot);
		q->snapshot = snap;
		q->busy = false;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	free(work);
	return NULL;
}

int
nm_store_queue_open(struct nm_store_queue *q, const struct nm_store_params *p, char *err,
		    size_t errlen)
{
	memset(q, 0, sizeof(*q));
	int rc = nm_store_open(&q->store, p, err, errlen);
	if (rc < 0 || !nm_store_is_open(&q->store))
		return rc;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->snapshot = nm_store_json(&q->store);
	rc = pthread_create(&q->thread, NULL, writer_main, q);
	if (rc != 0) {
		snprintf(err, errlen, "store: cannot start the writer thread: %s", strerror(rc));
		nm_store_close(&q->store);
		return -rc;
	}
	q->started = true;
	q->open = true;
	return 0;
}

void
nm_store_queue_sync(struct nm_store_queue *q)
{
	if (!q->started)
		return;
	nm_store_queue_commit(q);
	pthread_mutex_lock(&q->mu);
	while (q->pending_len != 0 || q->busy)
		pthread_cond_wait(&q->cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

json_t *
nm_store_queue_json(struct nm_store_queue *q)
{
	if (!q->started)
		return nm_store_json(&q->store);
	pthread_mutex_lock(&q->mu);
	json_t *o = json_deep_copy(q->snapshot);
	json_object_set_new(o, "queue_lost", json_integer((json_int_t)q->queue_lost));
	json_object_set_new(o, "encode_lost", json_integer((json_int_t)q->encode_lost));
	json_object_set_new(o, "queued_bytes", json_integer((json_int_t)q->pending_len));
	pthread_mutex_unlock(&q->mu);
	return o;
}

void
nm_store_queue_close(struct nm_store_queue *q)
{
	if (q->started) {
		nm_store_queue_commit(q);
		pthread_mutex_lock(&q->mu);
		q->stop = true;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->thread, NULL);
		q->started = false;
		json_decref(q->snapshot);
		q->snapshot = NULL;
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
	}
	nm_store_close(&q->store);
	free(q->fill);
	free(q->pending);
	q->fill = q->pending = NULL;
	q->open = false;
}
