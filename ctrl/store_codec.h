/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forensic store's record codec, shared by the writer (store.c, in the
 * daemon) and the readers (store_query.c, in nodemeshctl). A record is a
 * row of typed values in the column order the X-macros below declare; the
 * same lists generate the tables, the INSERT and the SELECT that `flows
 * verify` reads back, so the writer and the verifier cannot disagree on
 * what a record is.
 *
 * The canonical form a record hashes over is injective: every value is a
 * type byte and a fixed-width length or number, so no two different rows
 * encode to the same bytes (a pod named "a\tb" cannot pass for two fields).
 * Each day's rows form one hash chain in seq order over both tables:
 * hash(row) = SHA-256(hash(previous row) || canonical(row)), the first row
 * hashing over the day's genesis, SHA-256("nodemesh-store-v1 " || day).
 */
#ifndef NM_STORE_CODEC_H
#define NM_STORE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NM_STORE_HASH_LEN 32 /* SHA-256 */
#define NM_STORE_DAY_LEN  11 /* "YYYY-MM-DD" and its NUL */

/* One endpoint's columns; prefix is src_ or dst_. */
#define NM_STORE_END_COLUMNS(_, prefix)                                                            \
	_(prefix##ip, TEXT)                                                                        \
	_(prefix##port, INT)                                                                       \
	_(prefix##pod, TEXT)                                                                       \
	_(prefix##ns, TEXT)                                                                        \
	_(prefix##sa, TEXT)                                                                        \
	_(prefix##image, TEXT)

/* A finished flow (README "Flow records"). Times in ns since the epoch, UTC. */
#define NM_STORE_FLOW_COLUMNS(_)                                                                   \
	_(seq, INT)                                                                                \
	_(flow_id, INT)                                                                            \
	_(start_ns, INT)                                                                           \
	_(end_ns, INT)                                                                             \
	_(node, TEXT)                                                                              \
	_(proto, TEXT)                                                                             \
	NM_STORE_END_COLUMNS(_, src_)                                                              \
	_(src_labels, TEXT)                                                                        \
	NM_STORE_END_COLUMNS(_, dst_)                                                              \
	_(dst_labels, TEXT)                                                                        \
	_(pkts_orig, INT)                                                                          \
	_(pkts_reply, INT)                                                                         \
	_(bytes_orig, INT)                                                                         \
	_(bytes_reply, INT)                                                                        \
	_(verdict, TEXT)                                                                           \
	_(rule_id, INT)                                                                            \
	_(rate_drops, INT)                                                                         \
	_(state, TEXT)                                                                             \
	_(end_reason, TEXT)                                                                        \
	_(signature, TEXT)

/* An alert (the EVE alert's fields); flow_id joins it to its flow. */
#define NM_STORE_ALERT_COLUMNS(_)                                                                  \
	_(seq, INT)                                                                                \
	_(flow_id, INT)                                                                            \
	_(ts_ns, INT)                                                                              \
	_(node, TEXT)                                                                              \
	_(proto, TEXT)                                                                             \
	NM_STORE_END_COLUMNS(_, src_)                                                              \
	NM_STORE_END_COLUMNS(_, dst_)                                                              \
	_(sid, INT)                                                                                \
	_(rev, INT)                                                                                \
	_(msg, TEXT)                                                                               \
	_(category, TEXT)                                                                          \
	_(severity, INT)                                                                           \
	_(action, TEXT)                                                                            \
	_(rule_action, TEXT)                                                                       \
	_(direction, TEXT)

/*
 * An HTTP transaction (the EVE http event's fields): a request, its
 * response, or both (seen says which). flow_id joins it to its flow.
 */
#define NM_STORE_HTTP_COLUMNS(_)                                                                   \
	_(seq, INT)                                                                                \
	_(flow_id, INT)                                                                            \
	_(ts_ns, INT)                                                                              \
	_(node, TEXT)                                                                              \
	_(tx_id, INT)                                                                              \
	NM_STORE_END_COLUMNS(_, src_)                                                              \
	NM_STORE_END_COLUMNS(_, dst_)                                                              \
	_(method, TEXT)                                                                            \
	_(hostname, TEXT)                                                                          \
	_(url, TEXT)                                                                               \
	_(user_agent, TEXT)                                                                        \
	_(status, INT)                                                                             \
	_(request_body_bytes, INT)                                                                 \
	_(response_body_bytes, INT)                                                                \
	_(seen, TEXT)                                                                              \
	_(truncated, TEXT)

#define NM_STORE_COL_ENUM(name, type) NM_SF_##name,
enum nm_store_flow_col { NM_STORE_FLOW_COLUMNS(NM_STORE_COL_ENUM) NM_SF_N };
#undef NM_STORE_COL_ENUM
#define NM_STORE_COL_ENUM(name, type) NM_SA_##name,
enum nm_store_alert_col { NM_STORE_ALERT_COLUMNS(NM_STORE_COL_ENUM) NM_SA_N };
#undef NM_STORE_COL_ENUM
#define NM_STORE_COL_ENUM(name, type) NM_SH_##name,
enum nm_store_http_col { NM_STORE_HTTP_COLUMNS(NM_STORE_COL_ENUM) NM_SH_N };
#undef NM_STORE_COL_ENUM

/* The widest row of any table. */
#define NM_STORE_COLS_MAX                                                                          \
	((int)NM_SF_N > (int)NM_SA_N                                                               \
	     ? ((int)NM_SF_N > (int)NM_SH_N ? (int)NM_SF_N : (int)NM_SH_N)                         \
	     : ((int)NM_SA_N > (int)NM_SH_N ? (int)NM_SA_N : (int)NM_SH_N))

/* One value of a row: an integer, or text of len bytes at s (not NUL-terminated). */
struct nm_store_val {
	bool is_text;
	int64_t i;
	const char *s;
	uint32_t len;
};

/* A table: its name and its columns, seq first. */
struct nm_store_table {
	const char *name;
	unsigned int n_cols;
	const char *const *cols;
	const bool *is_text;
};

extern const struct nm_store_table nm_store_flows;
extern const struct nm_store_table nm_store_alerts;
extern const struct nm_store_table nm_store_http;

/* Every table, in the order of their number (the queue's tag, the writer's INSERTs). */
#define NM_STORE_TABLES 3
extern const struct nm_store_table *const nm_store_tables[NM_STORE_TABLES];

/* t's number in nm_store_tables. */
unsigned int nm_store_table_no(const struct nm_store_table *t);

static inline struct nm_store_val
nm_store_int(int64_t i)
{
	return (struct nm_store_val){.is_text = false, .i = i};
}

/* Big-endian fixed-width numbers, as the canonical form writes them. */
static inline void
nm_store_put_be(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static inline uint64_t
nm_store_get_be(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* Text from a C string; NULL stores "". */
struct nm_store_val nm_store_text(const char *s);

/*
 * Canonical bytes of row v (t->n_cols values) into buf: the bytes needed,
 * written only when they fit in cap (as snprintf). -1 if a value's type is
 * not its column's.
 */
long nm_store_encode(const struct nm_store_table *t, const struct nm_store_val *v, uint8_t *buf,
		     size_t cap);

/*
 * The row of t encoded at buf (len bytes) back into v: text values point
 * into buf. 0, or -1 if the bytes are not a whole row of t.
 */
int nm_store_decode(const struct nm_store_table *t, const uint8_t *buf, size_t len,
		    struct nm_store_val *v);

/* out = SHA-256(prev || canon[0..len)). 0, or -1 if OpenSSL fails. */
int nm_store_chain(const uint8_t prev[NM_STORE_HASH_LEN], const uint8_t *canon, size_t len,
		   uint8_t out[NM_STORE_HASH_LEN]);

/* The hash a day's first row chains from. */
void nm_store_genesis(const char *day, uint8_t out[NM_STORE_HASH_LEN]);

/* SQL: "CREATE TABLE IF NOT EXISTS t(seq INTEGER PRIMARY KEY, ..., hash BLOB NOT NULL)". */
int nm_store_sql_create(const struct nm_store_table *t, char *buf, size_t cap);
/* SQL: "INSERT INTO t(seq, ..., hash) VALUES(?, ..., ?)". */
int nm_store_sql_insert(const struct nm_store_table *t, char *buf, size_t cap);
/* SQL: "SELECT seq, ..., hash FROM t" and what follows (e.g. " ORDER BY seq"). */
int nm_store_sql_select(const struct nm_store_table *t, const char *tail, char *buf, size_t cap);

/* "YYYY-MM-DD" of ns since the epoch, UTC. */
void nm_store_day(int64_t ns, char day[NM_STORE_DAY_LEN]);

/* Lowercase hex of a hash: 64 characters and a NUL. */
void nm_store_hex(const uint8_t h[NM_STORE_HASH_LEN], char out[2 * NM_STORE_HASH_LEN + 1]);

/* "nodemesh-YYYY-MM-DD.db" gives YYYY-MM-DD; false for any other name. */
bool nm_store_day_of(const char *name, char day[NM_STORE_DAY_LEN]);

/*
 * The days of dir's day files, from since on (NULL: all), sorted, in a
 * malloc'd array. Returns the count or -errno.
 */
int nm_store_days(const char *dir, const char *since, char (**days)[NM_STORE_DAY_LEN]);

/* CLOCK_MONOTONIC in ns, for the batch and query times. */
uint64_t nm_store_mono_ns(void);

#endif
