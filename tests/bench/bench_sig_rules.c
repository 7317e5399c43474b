/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inputs of bench_sig: payloads cut from HTTP-like request text (fixed
 * seed) and copies with a pattern planted in 1 payload of P; and the rule
 * sets, generated (N distinct pseudo-random literals as content rules,
 * through nm_sig_rule_parse) or read from a rules file
 * (nm_sig_file_parse), each compiled by nodemesh (nm_sigdb_compile) and as
 * the raw Hyperscan baseline (hs_compile_multi of the same patterns),
 * stream and block, with a note on whether the databases are the same.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "sig.h"
#include "sigdb.h"
#include "bench_sig.h"

/* Printable bytes a content can hold between quotes unescaped. */
static const char lit_alphabet[] = "!#$%&'()*+,-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "[]^_`abcdefghijklmnopqrstuvwxyz{}~";

/* Planted in rules-file runs when the file has no plain content to plant. */
static const char *const attacks[] = {
    "' OR 1=1-- ",	 "<script>alert(document.cookie)</script>",    "../../../../etc/passwd",
    "; cat /etc/shadow", "UNION SELECT username, password FROM users", "${jndi:ldap://x/a}",
};

/* splitmix64: small, seedable, good enough to pick bytes and words. */
static uint64_t
rnd(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int
rnd_below(uint64_t *state, unsigned int n)
{
	return (unsigned int)(rnd(state) % n);
}

/* ------------------------------------------------------------ payloads */

static const char *const words[] = {
    "index",   "api",	   "v1",       "v2",	   "users",   "account", "login",  "search",
    "static",  "images",   "css",      "js",	   "product", "cart",	 "order",  "item",
    "page",    "news",	   "blog",     "article",  "profile", "session", "token",  "query",
    "lang",    "sort",	   "filter",   "limit",	   "offset",  "name",	 "value",  "color",
    "size",    "price",	   "region",   "date",	   "home",    "about",	 "help",   "docs",
    "upload",  "report",   "status",   "health",   "metrics", "media",	 "video",  "photo",
    "comment", "reply",	   "share",    "follow",   "feed",    "green",	 "winter", "garden",
    "river",   "keyboard", "document", "calendar", "orange",  "window",	 "coffee", "station",
};
static const char *const exts[] = {"html", "php", "json", "png", "css", "js", "txt"};
static const char *const hosts[] = {"www.example.com", "shop.example.net", "api.example.org"};
static const char *const agents[] = {
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "curl/7.88.1",
};

#define PICK(rng, a) ((a)[rnd_below(rng, sizeof(a) / sizeof((a)[0]))])

/* One request (GET, or POST with a form body) at o; returns its length. */
static int
http_request(char *o, size_t room, uint64_t *rng)
{
	char body[512];
	int blen = 0;
	bool post = rnd_below(rng, 3) == 0;

	if (post) {
		unsigned int fields = 2 + rnd_below(rng, 12);

		for (unsigned int i = 0; i < fields; i++)
			blen += snprintf(body + blen, sizeof(body) - (size_t)blen, "%s%s=%s%u",
					 i ? "&" : "", PICK(rng, words), PICK(rng, words),
					 rnd_below(rng, 1000));
	}
	int n =
	    snprintf(o, room,
		     "%s /%s/%s/%s.%s?%s=%s&%s=%u HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "User-Agent: %s\r\n"
		     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
		     "Accept-Language: en-US,en;q=0.5\r\n"
		     "Accept-Encoding: gzip, deflate, br\r\n"
		     "Cookie: sid=%016" PRIx64 "; %s=%s\r\n"
		     "Connection: keep-alive\r\n",
		     post ? "POST" : "GET", PICK(rng, words), PICK(rng, words), PICK(rng, words),
		     PICK(rng, exts), PICK(rng, words), PICK(rng, words), PICK(rng, words),
		     rnd_below(rng, 100000), PICK(rng, hosts), PICK(rng, agents), rnd(rng),
		     PICK(rng, words), PICK(rng, words));
	if (n < 0 || (size_t)n >= room)
		return -1;
	if (post)
		n += snprintf(o + n, room - (size_t)n,
			      "Content-Type: application/x-www-form-urlencoded\r\n"
			      "Content-Length: %d\r\n\r\n%s",
			      blen, body);
	else
		n += snprintf(o + n, room - (size_t)n, "\r\n");
	return (size_t)n < room ? n : -1;
}

/* len bytes of back-to-back requests; the last one is cut where len ends. */
uint8_t *
http_text(size_t len)
{
	uint64_t rng = SEED ^ 0x68747470; /* "http" */
	uint8_t *text = xcalloc(1, len);
	char req[2048];
	size_t o = 0;

	while (o < len) {
		int n = http_request(req, sizeof(req), &rng);

		if (n < 0) {
			fprintf(stderr, "bench_sig: request template too long\n");
			exit(1);
		}
		size_t take = (size_t)n < len - o ? (size_t)n : len - o;
		memcpy(text + o, req, take);
		o += take;
	}
	return text;
}

/* A copy of the payloads with one plant in 1 payload of every, at a random place. */
uint8_t *
payloads_planted(const uint8_t *base, size_t size, const struct ruleset *rs, unsigned int every)
{
	uint64_t rng = SEED ^ size ^ rs->n_rules;
	uint8_t *copy = xcalloc(N_PAYLOADS, size);

	memcpy(copy, base, (size_t)N_PAYLOADS * size);
	for (unsigned int i = 0; i < N_PAYLOADS; i += every) {
		const struct plant *p = &rs->plants[rnd_below(&rng, rs->n_plants)];
		size_t len = p->len < size ? p->len : size;
		size_t at = rnd_below(&rng, (unsigned int)(size - len + 1));

		memcpy(copy + (size_t)i * size + at, p->data, len);
	}
	return copy;
}

/* ------------------------------------------------------------ rule sets */

static int
cmp_literal(const void *a, const void *b)
{
	return strcmp(((const struct literal *)a)->s, ((const struct literal *)b)->s);
}

/* n distinct literals; the sequence does not depend on n. */
struct literal *
literals_make(unsigned int n)
{
	uint64_t rng = SEED;
	struct literal *lits = xcalloc(n, sizeof(*lits));
	struct literal *sorted = xcalloc(n, sizeof(*sorted));

	for (unsigned int i = 0; i < n; i++) {
		lits[i].len = (uint8_t)(LIT_MIN + rnd_below(&rng, LIT_MAX - LIT_MIN + 1));
		for (unsigned int k = 0; k < lits[i].len; k++)
			lits[i].s[k] = lit_alphabet[rnd_below(&rng, sizeof(lit_alphabet) - 1)];
	}
	memcpy(sorted, lits, (size_t)n * sizeof(*lits));
	qsort(sorted, n, sizeof(*sorted), cmp_literal);
	for (unsigned int i = 1; i < n; i++) {
		if (strcmp(sorted[i - 1].s, sorted[i].s) == 0) {
			fprintf(stderr, "bench_sig: literal \"%s\" drawn twice; change SEED\n",
				sorted[i].s);
			exit(1);
		}
	}
	free(sorted);
	return lits;
}

/* Parse n generated rules of protocol proto ("tcp" or "udp") into rules[]. */
static int
gen_parse(const struct literal *lits, unsigned int n, const char *proto, struct nm_sig_rule *rules)
{
	char line[256], err[512];

	for (unsigned int i = 0; i < n; i++) {
		snprintf(line, sizeof(line),
			 "alert %s any any -> any any (msg:\"gen %u\"; content:\"%s\"; sid:%u;)",
			 proto, i + 1, lits[i].s, i + 1);
		if (nm_sig_rule_parse(line, &rules[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_sig: nm_sig_rule_parse(%s) failed: %s\n", line, err);
			return -1;
		}
	}
	return 0;
}

int
ruleset_generate(struct ruleset *rs, const struct literal *lits, unsigned int n)
{
	snprintf(rs->name, sizeof(rs->name), "gen%u", n);
	rs->n_rules = n;
	rs->owned[0] = rs->tcp = xcalloc(n, sizeof(*rs->tcp));
	rs->owned[1] = rs->udp = xcalloc(n, sizeof(*rs->udp));
	if (gen_parse(lits, n, "tcp", rs->tcp) < 0 || gen_parse(lits, n, "udp", rs->udp) < 0)
		return -1;
	rs->plants = xcalloc(n, sizeof(*rs->plants));
	for (unsigned int i = 0; i < n; i++)
		rs->plants[i] = (struct plant){(const uint8_t *)lits[i].s, lits[i].len};
	rs->n_plants = n;
	return 0;
}

/* The rules of path, as TCP rules and as UDP rules (shallow copies). */
int
ruleset_load(struct ruleset *rs, const char *path, const char *label)
{
	char *err = xcalloc(1, ERR_LEN);
	int n = nm_sig_file_parse(path, NULL, &rs->owned[0], err, ERR_LEN);

	if (n <= 0) {
		fprintf(stderr, "bench_sig: nm_sig_file_parse(%s) failed: %s\n", path,
			n == 0 ? "no rules" : err);
		free(err);
		return -1;
	}
	free(err);
	snprintf(rs->name, sizeof(rs->name), "%s", label);
	rs->n_rules = (unsigned int)n;
	rs->copies = true;
	rs->tcp = xcalloc((size_t)n, sizeof(*rs->tcp));
	rs->udp = xcalloc((size_t)n, sizeof(*rs->udp));
	rs->plants = xcalloc((size_t)n + sizeof(attacks) / sizeof(attacks[0]), sizeof(*rs->plants));
	for (int i = 0; i < n; i++) {
		const struct nm_sig_rule *r = &rs->owned[0][i];

		rs->tcp[i] = *r;
		rs->tcp[i].proto = NM_SIG_PROTO_TCP;
		rs->udp[i] = *r;
		rs->udp[i].proto = NM_SIG_PROTO_UDP;
		for (unsigned int k = 0; k < r->n_patterns; k++) {
			const struct nm_sig_pattern *pat = &r->patterns[k];

			if (pat->kind == NM_SIG_CONTENT && !pat->negated && !pat->nocase) {
				rs->plants[rs->n_plants++] = (struct plant){pat->data, pat->len};
				break;
			}
		}
	}
	if (rs->n_plants == 0) {
		for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
			rs->plants[rs->n_plants++] =
			    (struct plant){(const uint8_t *)attacks[i], strlen(attacks[i])};
	}
	return 0;
}

/* A pattern as a Hyperscan expression, malloc'd; *flags gets its flags. */
static char *
raw_expression(const struct nm_sig_pattern *pat, unsigned int *flags)
{
	char *re;

	*flags = HS_FLAG_SINGLEMATCH | (pat->nocase ? HS_FLAG_CASELESS : 0);
	if (pat->kind == NM_SIG_PCRE) {
		*flags |=
		    (pat->dotall ? HS_FLAG_DOTALL : 0) | (pat->multiline ? HS_FLAG_MULTILINE : 0);
		if (asprintf(&re, "%s%.*s", pat->extended ? "(?x)" : "", (int)pat->len,
			     (const char *)pat->data) < 0)
			return NULL;
		return re;
	}
	re = xcalloc((size_t)pat->len * 4 + 1, 1);
	for (unsigned int i = 0; i < pat->len; i++)
		snprintf(re + 4 * i, 5, "\\x%02x", pat->data[i]);
	return re;
}

/* The baseline database of rs's patterns, compiled directly. */
static int
raw_compile(struct ruleset *rs, unsigned int mode, hs_database_t **db, double *ms)
{
	unsigned int n = 0, cap = 0;
	char **expr;
	unsigned int *flags, *ids;
	hs_compile_error_t *cerr = NULL;
	int rc = 0;

	for (unsigned int i = 0; i < rs->n_rules; i++)
		cap += rs->tcp[i].n_patterns;
	if (cap == 0) {
		/* hs_compile_multi refuses zero expressions; say so before calloc(0). */
		fprintf(stderr, "bench_sig: %s: no patterns to compile\n", rs->name);
		*ms = 0;
		return -1;
	}
	expr = xcalloc(cap, sizeof(*expr));
	flags = xcalloc(cap, sizeof(*flags));
	ids = xcalloc(cap, sizeof(*ids));
	rs->inexact = 0;
	for (unsigned int i = 0; i < rs->n_rules; i++) {
		const struct nm_sig_rule *r = &rs->tcp[i];
		bool exact = r->n_patterns == 1;

		for (unsigned int k = 0; k < r->n_patterns; k++) {
			const struct nm_sig_pattern *pat = &r->patterns[k];

			if (pat->negated || pat->offset >= 0 || pat->depth >= 0) {
				exact = false;
				if (pat->negated)
					continue;
			}
			expr[n] = raw_expression(pat, &flags[n]);
			if (expr[n] == NULL) {
				fprintf(stderr, "bench_sig: out of memory\n");
				exit(1);
			}
			ids[n++] = i;
		}
		rs->inexact += !exact;
	}

	double t0 = now_ns();
	hs_error_t hrc =
	    hs_compile_multi((const char *const *)expr, flags, ids, n, mode, NULL, db, &cerr);
	*ms = (now_ns() - t0) / 1e6;
	if (hrc != HS_SUCCESS) {
		fprintf(stderr, "bench_sig: %s: hs_compile_multi(%u expressions, %s) failed: %s\n",
			rs->name, n, mode == HS_MODE_STREAM ? "stream" : "block",
			cerr ? cerr->message : "no reason given");
		rc = -1;
	}
	hs_free_compile_error(cerr);
	for (unsigned int i = 0; i < n; i++)
		free(expr[i]);
	free(expr);
	free(flags);
	free(ids);
	return rc;
}

int
ruleset_compile(struct ruleset *rs)
{
	char *err = xcalloc(1, ERR_LEN);
	int rc = -1;

	rs->nm_stream = nm_sigdb_compile(rs->tcp, rs->n_rules, err, ERR_LEN);
	if (rs->nm_stream == NULL)
		goto fail_nm;
	rs->nm_block = nm_sigdb_compile(rs->udp, rs->n_rules, err, ERR_LEN);
	if (rs->nm_block == NULL)
		goto fail_nm;
	if (raw_compile(rs, HS_MODE_STREAM, &rs->raw_stream, &rs->raw_stream_ms) < 0 ||
	    raw_compile(rs, HS_MODE_VECTORED, &rs->raw_block, &rs->raw_block_ms) < 0)
		goto out;
	if (hs_stream_size(rs->raw_stream, &rs->raw_state_bytes) != HS_SUCCESS) {
		fprintf(stderr, "bench_sig: %s: hs_stream_size failed\n", rs->name);
		goto out;
	}
	if (nm_sigdb_scratch_alloc(rs->nm_stream, &rs->scratch) < 0 ||
	    nm_sigdb_scratch_alloc(rs->nm_block, &rs->scratch) < 0 ||
	    hs_alloc_scratch(rs->raw_stream, &rs->scratch) != HS_SUCCESS ||
	    hs_alloc_scratch(rs->raw_block, &rs->scratch) != HS_SUCCESS) {
		fprintf(stderr, "bench_sig: %s: scratch allocation failed\n", rs->name);
		goto out;
	}
	rc = 0;
	goto out;

fail_nm:
	fprintf(stderr, "bench_sig: %s: nm_sigdb_compile(%u rules) failed: %s\n", rs->name,
		rs->n_rules, err);
out:
	free(err);
	return rc;
}

/*
 * 1 when two databases are byte for byte the same (hs_serialize_database),
 * 0 when not, -1 when that cannot be told.
 */
static int
same_database(const hs_database_t *a, const hs_database_t *b)
{
	char *bytes_a = NULL, *bytes_b = NULL;
	size_t len_a = 0, len_b = 0;
	int same = -1;

	if (hs_serialize_database(a, &bytes_a, &len_a) == HS_SUCCESS &&
	    hs_serialize_database(b, &bytes_b, &len_b) == HS_SUCCESS)
		same = len_a == len_b && memcmp(bytes_a, bytes_b, len_a) == 0;
	free(bytes_a);
	free(bytes_b);
	return same;
}

/* What the ratios compare: the same database, or not (the rules make the baseline inexact). */
char *
database_note(const struct ruleset *rs)
{
	static const char *const answer[] = {"?", "no", "yes"};
	int block = same_database(rs->nm_block->block, rs->raw_block);
	int stream = same_database(rs->nm_stream->stream, rs->raw_stream);
	char *note;

	if (asprintf(&note,
		     "%s: nodemesh's databases byte for byte the raw ones "
		     "(hs_serialize_database): block %s, stream %s\n",
		     rs->name, answer[block + 1], answer[stream + 1]) < 0) {
		fprintf(stderr, "bench_sig: out of memory\n");
		exit(1);
	}
	return note;
}

void
ruleset_free(struct ruleset *rs)
{
	hs_free_scratch(rs->scratch);
	hs_free_database(rs->raw_stream);
	hs_free_database(rs->raw_block);
	nm_sigdb_free(rs->nm_stream);
	nm_sigdb_free(rs->nm_block);
	if (rs->copies) {
		free(rs->tcp);
		free(rs->udp);
	}
	nm_sig_rules_free(rs->owned[0], rs->n_rules);
	nm_sig_rules_free(rs->owned[1], rs->n_rules);
	free(rs->plants);
	memset(rs, 0, sizeof(*rs));
}
