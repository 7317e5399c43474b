/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nm-sigcheck: how much of a rules file nodemesh can use. Unlike
 * nm_sig_file_parse(), which is all or nothing, it parses the file line by
 * line (blank lines and '#' comments skipped, a trailing '\' continues a
 * rule) with nm_sig_rule_parse() and reports every refused rule with the
 * parser's reason; it then compiles the accepted rules with
 * nm_sigdb_compile(), and while Hyperscan refuses a rule (the error names
 * its sid and line) it drops that rule and compiles again, so it ends with
 * the set that compiles. It prints a summary with the reasons grouped, the
 * compile time and the per-stream state size, and with -o FILE writes the
 * rules that compile to FILE. Checking only: nothing is loaded anywhere.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"
#include "sigdb.h"

#define ERR_LEN	  65536 /* nm_sigdb_compile quotes the whole expression */
#define GROUP_KEY 160

struct group {
	char key[GROUP_KEY];
	unsigned int count;
};

struct groups {
	struct group *g;
	unsigned int n, cap;
};

struct accepted {
	struct nm_sig_rule *rules; /* contiguous, for nm_sigdb_compile */
	char **text;		   /* the rule's joined text, for -o */
	unsigned int n, cap;
};

static void
usage(FILE *f)
{
	fprintf(f, "Usage: nm-sigcheck [-q] [-o FILE] RULES\n"
		   "\n"
		   "Parse RULES (Suricata subset, see ctrl/sig.h) rule by rule,\n"
		   "report each refused rule with the reason, compile the accepted ones with\n"
		   "Hyperscan (dropping each rule Hyperscan refuses and compiling again) and\n"
		   "print a summary with the reasons grouped.\n"
		   "\n"
		   "  -o FILE   write the rules that compile to FILE\n"
		   "  -q        no per-rule refusal lines, only the summary\n"
		   "  -h, --help\n"
		   "\n"
		   "Exit status: 0 when the file was read and what remained compiled (even\n"
		   "if rules were refused), 1 on a usage, I/O or unexpected compile error.\n");
}

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fprintf(stderr, "nm-sigcheck: out of memory\n");
		exit(1);
	}
	return q;
}

/* Reason without "sid N: ", digit runs as N, so that like refusals group together. */
static void
group_add(struct groups *gs, const char *reason)
{
	char key[GROUP_KEY];
	size_t o = 0;

	for (const char *p = reason; *p && o < sizeof(key) - 4;) {
		if (isdigit((unsigned char)*p)) {
			key[o++] = 'N';
			while (isdigit((unsigned char)*p))
				p++;
		} else {
			key[o++] = *p++;
		}
	}
	if (o >= sizeof(key) - 4)
		o += (size_t)snprintf(key + o, 4, "...");
	key[o] = '\0';
	for (unsigned int i = 0; i < gs->n; i++)
		if (strcmp(gs->g[i].key, key) == 0) {
			gs->g[i].count++;
			return;
		}
	if (gs->n == gs->cap) {
		gs->cap = gs->cap ? 2 * gs->cap : 32;
		gs->g = xrealloc(gs->g, gs->cap * sizeof(*gs->g));
	}
	memcpy(gs->g[gs->n].key, key, o + 1);
	gs->g[gs->n++].count = 1;
}

static int
by_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

static void
groups_print(struct groups *gs)
{
	qsort(gs->g, gs->n, sizeof(*gs->g), by_count);
	for (unsigned int i = 0; i < gs->n; i++)
		printf("  %6u  %s\n", gs->g[i].count, gs->g[i].key);
}

/* Skip "sid N: " at the start of a parser reason. */
static const char *
strip_sid(const char *reason)
{
	unsigned int sid;
	int used = 0;

	if (sscanf(reason, "sid %u: %n", &sid, &used) == 1 && used > 0)
		return reason + used;
	return reason;
}

/* Index of the accepted rule with this sid and line, or -1. */
static long
find_rule(const struct accepted *a, uint32_t sid, uint32_t line)
{
	for (unsigned int i = 0; i < a->n; i++)
		if (a->rules[i].sid == sid && a->rules[i].line == line)
			return (long)i;
	return -1;
}

static void
drop_rule(struct accepted *a, unsigned int i)
{
	nm_sig_rule_clear(&a->rules[i]);
	free(a->text[i]);
	memmove(&a->rules[i], &a->rules[i + 1], (a->n - i - 1) * sizeof(*a->rules));
	memmove(&a->text[i], &a->text[i + 1], (a->n - i - 1) * sizeof(*a->text));
	a->n--;
}

/* Earlier line of this sid among the accepted rules, or 0. */
static uint32_t
dup_sid(const struct accepted *a, uint32_t sid)
{
	for (unsigned int i = 0; i < a->n; i++)
		if (a->rules[i].sid == sid)
			return a->rules[i].line;
	return 0;
}

/* What check_one needs while nm_sig_file_each walks the file. */
struct check {
	const char *path;
	bool quiet;
	struct accepted *acc;
	struct groups *groups; /* parser refusals by reason */
	char *err;	       /* ERR_LEN bytes */
	unsigned int n_rules;
	unsigned int n_parse_refused;
};

/* Parse one rule; keep it if it parses and its sid is new, else count the refusal. */
static int
check_one(void *ctx, const char *text, unsigned int first)
{
	struct check *c = ctx;
	struct accepted *acc = c->acc;

	c->n_rules++;
	if (acc->n == acc->cap) {
		acc->cap = acc->cap ? 2 * acc->cap : 256;
		acc->rules = xrealloc(acc->rules, acc->cap * sizeof(*acc->rules));
		acc->text = xrealloc(acc->text, acc->cap * sizeof(*acc->text));
	}
	struct nm_sig_rule *r = &acc->rules[acc->n];
	if (nm_sig_rule_parse(text, r, c->err, ERR_LEN) < 0) {
		c->n_parse_refused++;
		if (!c->quiet)
			printf("%s:%u: refused by the parser: %s\n", c->path, first, c->err);
		group_add(c->groups, strip_sid(c->err));
		return 0;
	}
	uint32_t earlier = dup_sid(acc, r->sid);
	if (earlier != 0) {
		c->n_parse_refused++;
		if (!c->quiet)
			printf("%s:%u: refused by the parser: sid %u: duplicate sid, first on line "
			       "%u\n",
			       c->path, first, r->sid, earlier);
		group_add(c->groups, "duplicate sid");
		nm_sig_rule_clear(r);
		return 0;
	}
	r->line = first;
	acc->text[acc->n] = strdup(text);
	if (acc->text[acc->n] == NULL) {
		fprintf(stderr, "nm-sigcheck: out of memory\n");
		exit(1);
	}
	acc->n++;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out_path = NULL, *path;
	bool quiet = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "ho:q", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return 0;
		case 'o':
			out_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 1;
	}
	path = argv[optind];

	struct accepted acc = {0};
	struct groups parse_groups = {0}, hs_groups = {0};
	unsigned int n_hs_refused = 0, lines = 0;
	char *err = xrealloc(NULL, ERR_LEN);
	struct check chk = {
	    .path = path, .quiet = quiet, .acc = &acc, .groups = &parse_groups, .err = err};

	/* ---- parse, rule by rule ---- */
	int each = nm_sig_file_each(path, check_one, &chk, &lines);
	if (each < 0) {
		fprintf(stderr, "nm-sigcheck: %s: %s\n", path,
			each == -EIO ? "read error" : strerror(-each));
		return 1;
	}
	unsigned int n_rules = chk.n_rules, n_parse_refused = chk.n_parse_refused;
	unsigned int n_parsed = acc.n;

	/* ---- compile, dropping what Hyperscan refuses ---- */
	struct nm_sigdb *db = NULL;
	while (acc.n > 0) {
		unsigned int sid, rline;
		int used = 0;

		db = nm_sigdb_compile(acc.rules, acc.n, err, ERR_LEN);
		if (db != NULL)
			break;
		long i = -1;
		if (sscanf(err, "sid %u line %u: %n", &sid, &rline, &used) == 2 && used > 0)
			i = find_rule(&acc, sid, rline);
		if (i < 0) {
			fprintf(stderr, "nm-sigcheck: compile failed, naming no rule: %s\n", err);
			return 1;
		}
		/* "Hyperscan refused "EXPR": MESSAGE": group by MESSAGE only. */
		const char *reason = err + used;
		char key[GROUP_KEY + 16];
		static const char refused[] = "Hyperscan refused \"";
		if (strncmp(reason, refused, sizeof(refused) - 1) == 0) {
			const char *msg = NULL;
			for (const char *p = strstr(reason, "\": "); p; p = strstr(p + 1, "\": "))
				msg = p + 3;
			snprintf(key, sizeof(key), "Hyperscan: %s", msg ? msg : reason);
		} else {
			snprintf(key, sizeof(key), "%s", reason);
		}
		n_hs_refused++;
		if (!quiet)
			printf("%s:%u: refused by Hyperscan: sid %u: %s\n", path, rline, sid,
			       key + (strncmp(key, "Hyperscan: ", 11) == 0 ? 11 : 0));
		group_add(&hs_groups, key);
		drop_rule(&acc, (unsigned int)i);
	}

	/* ---- summary ---- */
	printf("nm-sigcheck summary for %s\n", path);
	printf("lines:                %u\n", lines);
	printf("rules:                %u\n", n_rules);
	printf("parsed:               %u\n", n_parsed);
	printf("refused by parser:    %u\n", n_parse_refused);
	groups_print(&parse_groups);
	printf("refused by Hyperscan: %u\n", n_hs_refused);
	groups_print(&hs_groups);
	printf("compiled:             %u\n", acc.n);
	if (db != NULL) {
		printf("compile ms:           %.1f\n", db->compile_ms);
		printf("stream state bytes:   %zu\n", db->stream_state_bytes);
	} else {
		printf("compile ms:           -\n");
		printf("stream state bytes:   -\n");
	}

	int rc = 0;
	if (out_path != NULL) {
		FILE *o = fopen(out_path, "w");
		if (o == NULL) {
			fprintf(stderr, "nm-sigcheck: %s: %s\n", out_path, strerror(errno));
			rc = 1;
		} else {
			fprintf(o, "# %u of the %u rules of %s that nodemesh parses and compiles\n",
				acc.n, n_rules, path);
			for (unsigned int i = 0; i < acc.n; i++)
				fprintf(o, "%s\n", acc.text[i]);
			if (fclose(o) != 0) {
				fprintf(stderr, "nm-sigcheck: %s: write error\n", out_path);
				rc = 1;
			} else {
				printf("written:              %s\n", out_path);
			}
		}
	}

	nm_sigdb_free(db);
	for (unsigned int i = 0; i < acc.n; i++) {
		nm_sig_rule_clear(&acc.rules[i]);
		free(acc.text[i]);
	}
	free(acc.rules);
	free(acc.text);
	free(parse_groups.g);
	free(hs_groups.g);
	free(err);
	return rc;
}
