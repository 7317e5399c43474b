/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nm-sigcheck: how much of a rules file nodemesh can use. Unlike
 * nm_sig_file_parse(), which is all or nothing, it parses the file line by
 * line (blank lines and '#' comments skipped, a trailing '\' continues a
 * rule) with nm_sig_rule_parse() and reports every refused rule with the
 * parser's reason; it then compiles each accepted rule alone with
 * nm_sigdb_compile() (dropping those refused: by sigdb, e.g. endswith on
 * tcp, or by Hyperscan), then the rest together, and while that is
 * refused (the error names a sid and line, or a bisection finds it) it
 * drops that rule and compiles again, so it ends with the set that
 * compiles. It prints a summary with the reasons grouped, the
 * compile time and the per-stream state size, and with -o FILE writes the
 * rules that compile to FILE. Checking only: nothing is loaded anywhere.
 * Rule variables ($HOME_NET, ...) are Suricata's defaults, or with --vars
 * FILE what FILE sets over them: a libconfig file of NAME = "value";
 * settings, at its top level or in a signatures.vars group (so the
 * daemon's own config file can be given).
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
	fprintf(f, "Usage: nm-sigcheck [-q] [-o FILE] [--vars FILE] RULES\n"
		   "\n"
		   "Parse RULES (Suricata subset, see ctrl/sig.h) rule by rule,\n"
		   "report each refused rule with the reason, compile the accepted ones with\n"
		   "Hyperscan (dropping each rule Hyperscan refuses and compiling again) and\n"
		   "print a summary with the reasons grouped.\n"
		   "\n"
		   "  -o FILE   write the rules that compile to FILE\n"
		   "  -q        no per-rule refusal lines, only the summary\n"
		   "  --vars FILE  rule variables (NAME = \"value\"; at the top level or in\n"
		   "            signatures.vars) over Suricata's defaults\n"
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

/*
 * Reason without "sid N: ", digit runs as N and long quoted words as '...',
 * so that like refusals group together.
 */
static void
group_add(struct groups *gs, const char *reason)
{
	char key[GROUP_KEY];
	size_t o = 0;

	for (const char *p = reason; *p && o < sizeof(key) - 4;) {
		const char *close = *p == '\'' ? strchr(p + 1, '\'') : NULL;

		/* A long quoted word (an address list) says nothing the reason does not. */
		if (close != NULL && close - p > 24 && o + 5 < sizeof(key) - 4) {
			memcpy(key + o, "'...'", 5);
			o += 5;
			p = close + 1;
			continue;
		}
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

static bool
compiles(const struct accepted *a, unsigned int n, char *err)
{
	struct nm_sigdb *db = nm_sigdb_compile(a->rules, n, err, ERR_LEN);

	nm_sigdb_free(db);
	return db != NULL;
}

/*
 * Hyperscan named no expression (e.g. "Have unordered match in
 * sub-expressions", about two rules' expressions in one database): find
 * the shortest prefix of the rules that fails and blame its last rule,
 * with err set to "sid N line L: " and the message, *used past that
 * prefix. Returns its index, or -1 when the whole set compiles after all.
 */
static long
find_unnamed(const struct accepted *a, char *err, unsigned int *sid, unsigned int *line, int *used)
{
	unsigned int lo = 0, hi = a->n; /* rules[0..lo) compile, rules[0..hi) do not */
	char *why = malloc(ERR_LEN);

	if (why == NULL || compiles(a, hi, why)) {
		free(why);
		return -1;
	}
	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (compiles(a, mid, err))
			lo = mid;
		else
			hi = mid;
	}
	compiles(a, hi, why);
	*sid = a->rules[hi - 1].sid;
	*line = a->rules[hi - 1].line;
	snprintf(err, ERR_LEN, "sid %u line %u: %n%s", *sid, *line, used, why);
	free(why);
	return (long)hi - 1;
}

/* Read --vars FILE over the defaults in *vars. 0, or -1 after a message. */
static int
vars_load(const char *path, struct nm_sig_vars *vars)
{
	char err[768];

	if (nm_sig_vars_load(path, vars, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "nm-sigcheck: --vars %s\n", err);
	return -1;
}

/* What check_one needs while nm_sig_file_each walks the file. */
struct check {
	const char *path;
	bool quiet;
	const struct nm_sig_vars *vars;
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
	if (nm_sig_rule_parse_vars(text, c->vars, r, c->err, ERR_LEN) < 0) {
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

/* Count one compile refusal by reason ("Hyperscan refused "EXPR": MESSAGE": MESSAGE). */
static void
refusal_count(struct groups *hs_groups, const char *path, bool quiet, const struct nm_sig_rule *r,
	      const char *reason)
{
	static const char refused[] = "Hyperscan refused \"";
	char key[GROUP_KEY + 16];

	if (strncmp(reason, refused, sizeof(refused) - 1) == 0) {
		const char *msg = NULL;
		for (const char *p = strstr(reason, "\": "); p; p = strstr(p + 1, "\": "))
			msg = p + 3;
		snprintf(key, sizeof(key), "Hyperscan: %s", msg ? msg : reason);
	} else {
		snprintf(key, sizeof(key), "compile: %s", reason);
	}
	if (!quiet)
		printf("%s:%u: refused by the compiler: sid %u: %s\n", path, r->line, r->sid,
		       strchr(key, ' ') + 1);
	group_add(hs_groups, key);
}

/*
 * Compile the accepted rules; while Hyperscan refuses one, count it by
 * reason and drop it. Returns how many were dropped, with *db the set that
 * compiled (NULL when none is left), or -1 after a message.
 */
static int
compile_dropping(struct accepted *acc, const char *path, bool quiet, struct groups *hs_groups,
		 char *err, struct nm_sigdb **db)
{
	int n_refused = 0;

	*db = NULL;
	/*
	 * Rule by rule first: most refusals are one rule's own, and a compile of
	 * one rule takes milliseconds where the whole set takes seconds.
	 */
	for (unsigned int i = 0; i < acc->n;) {
		struct nm_sigdb *one = nm_sigdb_compile(&acc->rules[i], 1, err, ERR_LEN);
		int used = 0;

		if (one != NULL) {
			nm_sigdb_free(one);
			i++;
			continue;
		}
		sscanf(err, "sid %*u line %*u: %n", &used);
		refusal_count(hs_groups, path, quiet, &acc->rules[i], err + used);
		drop_rule(acc, i);
		n_refused++;
	}
	while (acc->n > 0) {
		unsigned int sid, rline;
		int used = 0;
		long i = -1;

		*db = nm_sigdb_compile(acc->rules, acc->n, err, ERR_LEN);
		if (*db != NULL)
			break;
		if (sscanf(err, "sid %u line %u: %n", &sid, &rline, &used) == 2 && used > 0)
			i = find_rule(acc, sid, rline);
		if (i < 0)
			i = find_unnamed(acc, err, &sid, &rline, &used);
		if (i < 0) {
			fprintf(stderr, "nm-sigcheck: compile failed, naming no rule: %s\n", err);
			return -1;
		}
		refusal_count(hs_groups, path, quiet, &acc->rules[i], err + used);
		n_refused++;
		drop_rule(acc, (unsigned int)i);
	}
	return n_refused;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"vars", required_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *out_path = NULL, *vars_path = NULL, *path;
	static struct nm_sig_vars vars; /* 35 KB: not on the stack */
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
		case 'V':
			vars_path = optarg;
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
	nm_sig_vars_defaults(&vars);
	if (vars_path != NULL && vars_load(vars_path, &vars) < 0)
		return 1;

	struct accepted acc = {0};
	struct groups parse_groups = {0}, hs_groups = {0};
	unsigned int lines = 0;
	char *err = xrealloc(NULL, ERR_LEN);
	struct check chk = {.path = path,
			    .quiet = quiet,
			    .vars = &vars,
			    .acc = &acc,
			    .groups = &parse_groups,
			    .err = err};

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
	int n_hs_refused = compile_dropping(&acc, path, quiet, &hs_groups, err, &db);
	if (n_hs_refused < 0)
		return 1;

	/* ---- summary ---- */
	printf("nm-sigcheck summary for %s\n", path);
	printf("lines:                %u\n", lines);
	printf("rules:                %u\n", n_rules);
	printf("parsed:               %u\n", n_parsed);
	printf("refused by parser:    %u\n", n_parse_refused);
	groups_print(&parse_groups);
	printf("refused by compile:   %d\n", n_hs_refused);
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
