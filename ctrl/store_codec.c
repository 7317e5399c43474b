/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's record codec and hash chain (see store_codec.h): column
 * lists, the canonical encoding, SHA-256 links and the SQL the column
 * lists generate.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "store_codec.h"

#define COL_NAME(name, type) #name,
#define COL_TEXT(name, type) COL_IS_##type,
#define COL_IS_TEXT	     true
#define COL_IS_INT	     false

static const char *const flow_cols[] = {NM_STORE_FLOW_COLUMNS(COL_NAME)};
static const bool flow_text[] = {NM_STORE_FLOW_COLUMNS(COL_TEXT)};
static const char *const alert_cols[] = {NM_STORE_ALERT_COLUMNS(COL_NAME)};
static const bool alert_text[] = {NM_STORE_ALERT_COLUMNS(COL_TEXT)};

const struct nm_store_table nm_store_flows = {"flows", NM_SF_N, flow_cols, flow_text};
static const char *const http_cols[] = {NM_STORE_HTTP_COLUMNS(COL_NAME)};
static const bool http_text[] = {NM_STORE_HTTP_COLUMNS(COL_TEXT)};
const struct nm_store_table nm_store_alerts = {"alerts", NM_SA_N, alert_cols, alert_text};
const struct nm_store_table nm_store_http = {"http", NM_SH_N, http_cols, http_text};
const struct nm_store_table *const nm_store_tables[NM_STORE_TABLES] = {
    &nm_store_flows, &nm_store_alerts, &nm_store_http};

unsigned int
nm_store_table_no(const struct nm_store_table *t)
{
	unsigned int i = 0;

	while (i + 1 < NM_STORE_TABLES && nm_store_tables[i] != t)
		i++;
	return i;
}

struct nm_store_val
nm_store_text(const char *s)
{
	if (s == NULL)
		s = "";
	return (struct nm_store_val){.is_text = true, .s = s, .len = (uint32_t)strlen(s)};
}

/*
 * Table name, then per value 'i' + 8 bytes big-endian two's complement, or
 * 's' + 4 bytes big-endian length + the bytes. The table name is in so a
 * flow row can never hash like an alert row.
 */
long
nm_store_encode(const struct nm_store_table *t, const struct nm_store_val *v, uint8_t *buf,
		size_t cap)
{
	size_t len = strlen(t->name) + 1;

	if (len <= cap)
		memcpy(buf, t->name, len); /* with its NUL: the name's end is unambiguous */
	for (unsigned int c = 0; c < t->n_cols; c++) {
		if (v[c].is_text != t->is_text[c])
			return -1;
		size_t need = v[c].is_text ? 5 + (size_t)v[c].len : 9;
		if (len + need <= cap) {
			uint8_t *p = buf + len;
			if (v[c].is_text) {
				p[0] = 's';
				nm_store_put_be(p + 1, v[c].len, 4);
				if (v[c].len > 0)
					memcpy(p + 5, v[c].s, v[c].len);
			} else {
				p[0] = 'i';
				nm_store_put_be(p + 1, (uint64_t)v[c].i, 8);
			}
		}
		len += need;
	}
	return (long)len;
}

int
nm_store_decode(const struct nm_store_table *t, const uint8_t *buf, size_t len,
		struct nm_store_val *v)
{
	size_t at = strlen(t->name) + 1;

	if (len < at || memcmp(buf, t->name, at) != 0)
		return -1;
	for (unsigned int c = 0; c < t->n_cols; c++) {
		if (at >= len || buf[at] != (t->is_text[c] ? 's' : 'i'))
			return -1;
		if (!t->is_text[c]) {
			if (len - at < 9)
				return -1;
			v[c] = nm_store_int((int64_t)nm_store_get_be(buf + at + 1, 8));
			at += 9;
			continue;
		}
		if (len - at < 5)
			return -1;
		uint32_t n = (uint32_t)nm_store_get_be(buf + at + 1, 4);
		if (len - at - 5 < n)
			return -1;
		v[c] = (struct nm_store_val){
		    .is_text = true, .s = (const char *)buf + at + 5, .len = n};
		at += 5 + (size_t)n;
	}
	return at == len ? 0 : -1;
}

int
nm_store_chain(const uint8_t prev[NM_STORE_HASH_LEN], const uint8_t *canon, size_t len,
	       uint8_t out[NM_STORE_HASH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, prev, NM_STORE_HASH_LEN) == 1 &&
		 EVP_DigestUpdate(ctx, canon, len) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1;

	EVP_MD_CTX_free(ctx);
	return ok && n == NM_STORE_HASH_LEN ? 0 : -1;
}

void
nm_store_genesis(const char *day, uint8_t out[NM_STORE_HASH_LEN])
{
	char seed[64];
	unsigned int n = 0;
	int len = snprintf(seed, sizeof(seed), "nodemesh-store-v1 %s", day);

	EVP_Digest(seed, (size_t)len, out, &n, EVP_sha256(), NULL);
}

/* Append fmt to buf at *len; -1 once it no longer fits. */
static int
append(char *buf, size_t cap, size_t *len, const char *a, const char *b)
{
	int n = snprintf(buf + *len, cap - *len, "%s%s", a, b);

	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

int
nm_store_sql_create(const struct nm_store_table *t, char *buf, size_t cap)
{
	size_t len = 0;
	int rc = append(buf, cap, &len, "CREATE TABLE IF NOT EXISTS ", t->name);

	rc |= append(buf, cap, &len, "(seq INTEGER PRIMARY KEY", "");
	for (unsigned int c = 1; c < t->n_cols; c++) {
		rc |= append(buf, cap, &len, ", ", t->cols[c]);
		rc |= append(buf, cap, &len, t->is_text[c] ? " TEXT NOT NULL" : " INTEGER NOT NULL",
			     "");
	}
	rc |= append(buf, cap, &len, ", hash BLOB NOT NULL)", "");
	return rc;
}

int
nm_store_sql_insert(const struct nm_store_table *t, char *buf, size_t cap)
{
	size_t len = 0;
	int rc = append(buf, cap, &len, "INSERT INTO ", t->name);

	for (unsigned int c = 0; c < t->n_cols; c++)
		rc |= append(buf, cap, &len, c ? ", " : "(", t->cols[c]);
	rc |= append(buf, cap, &len, ", hash) VALUES(?", "");
	for (unsigned int c = 0; c < t->n_cols; c++)
		rc |= append(buf, cap, &len, ", ?", "");
	rc |= append(buf, cap, &len, ")", "");
	return rc;
}

int
nm_store_sql_select(const struct nm_store_table *t, const char *tail, char *buf, size_t cap)
{
	size_t len = 0;
	int rc = append(buf, cap, &len, "SELECT ", "");

	for (unsigned int c = 0; c < t->n_cols; c++)
		rc |= append(buf, cap, &len, c ? ", " : "", t->cols[c]);
	rc |= append(buf, cap, &len, ", hash FROM ", t->name);
	rc |= append(buf, cap, &len, tail, "");
	return rc;
}

void
nm_store_day(int64_t ns, char day[NM_STORE_DAY_LEN])
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(day, NM_STORE_DAY_LEN, "%Y-%m-%d", &tm);
}

void
nm_store_hex(const uint8_t h[NM_STORE_HASH_LEN], char out[2 * NM_STORE_HASH_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < NM_STORE_HASH_LEN; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[(size_t)2 * NM_STORE_HASH_LEN] = '\0';
}

bool
nm_store_day_of(const char *name, char day[NM_STORE_DAY_LEN])
{
	static const char pat[] = "nodemesh-####-##-##.db";

	if (strlen(name) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; i < sizeof(pat) - 1; i++)
		if (pat[i] == '#' ? name[i] < '0' || name[i] > '9' : name[i] != pat[i])
			return false;
	memcpy(day, name + 9, NM_STORE_DAY_LEN - 1);
	day[NM_STORE_DAY_LEN - 1] = '\0';
	return true;
}

int
nm_store_days(const char *dir, const char *since, char (**days)[NM_STORE_DAY_LEN])
{
	struct dirent **names = NULL;
	/* scandir: the directory listed in one call, sorted (day names sort by date). */
	int n = scandir(dir, &names, NULL, alphasort), kept = 0;

	*days = NULL;
	if (n < 0)
		return -errno;
	char(*list)[NM_STORE_DAY_LEN] = malloc(((size_t)n + 1) * sizeof(*list));
	for (int i = 0; i < n; i++) {
		if (list != NULL && nm_store_day_of(names[i]->d_name, list[kept]) &&
		    (since == NULL || strcmp(list[kept], since) >= 0))
			kept++;
		free(names[i]);
	}
	free(names);
	if (list == NULL)
		return -ENOMEM;
	*days = list;
	return kept;
}

uint64_t
nm_store_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
