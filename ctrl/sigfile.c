/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature rule files: lines joined where they end in a backslash,
 * comments and blank lines skipped, each rule parsed by sigrule.c, and a
 * sid given twice refused with both lines. The whole file or nothing: a
 * refused rule fails the load with its line, sid and reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

#define WS " \t\r\n"

/* Open-addressing set of sids (never 0) with the line each was first seen on. */
struct sid_set {
	uint32_t *sid;
	uint32_t *line;
	size_t cap; /* power of two */
	size_t n;
};

static size_t
sid_slot(const struct sid_set *s, uint32_t sid)
{
	/* Knuth's multiplicative hash: the product wraps in 32 bits on purpose. */
	size_t i = (uint32_t)(sid * 2654435761u) & (s->cap - 1);

	while (s->sid[i] != 0 && s->sid[i] != sid)
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Returns 0 when added, the earlier line when already there, -ENOMEM. */
static long
sid_set_add(struct sid_set *s, uint32_t sid, uint32_t line)
{
	if (2 * (s->n + 1) > s->cap) {
		struct sid_set bigger = {.cap = s->cap ? 2 * s->cap : 256, .n = s->n};
		bigger.sid = calloc(bigger.cap, sizeof(*bigger.sid));
		bigger.line = calloc(bigger.cap, sizeof(*bigger.line));
		if (bigger.sid == NULL || bigger.line == NULL) {
			free(bigger.sid);
			free(bigger.line);
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->sid[i] == 0)
				continue;
			size_t j = sid_slot(&bigger, s->sid[i]);
			bigger.sid[j] = s->sid[i];
			bigger.line[j] = s->line[i];
		}
		free(s->sid);
		free(s->line);
		*s = bigger;
	}
	size_t i = sid_slot(s, sid);
	if (s->sid[i] == sid)
		return (long)s->line[i];
	s->sid[i] = sid;
	s->line[i] = line;
	s->n++;
	return 0;
}

/* Append src[0..n) to the heap string *buf of length *len. */
static int
append(char **buf, size_t *len, size_t *cap, const char *src, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t want = (*len + n + 1) * 2;
		char *p = realloc(*buf, want);
		if (p == NULL)
			return -ENOMEM;
		*buf = p;
		*cap = want;
	}
	memcpy(*buf + *len, src, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

int
nm_sig_file_each(const char *path, nm_sig_text_fn fn, void *ctx, unsigned int *lines)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *text = NULL;
	size_t line_cap = 0, text_len = 0, text_cap = 0;
	unsigned int lineno = 0, first = 0;
	bool pending = false; /* text holds the start of a continued rule */
	ssize_t got;
	int rc = 0;

	if (f == NULL)
		return -errno;
	for (;;) {
		got = getline(&line, &line_cap, f);
		if (got >= 0) {
			size_t len = (size_t)got;

			lineno++;
			if (!pending)
				first = lineno;
			while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				len--;
			/* As Suricata: join continuation lines first, then look for comments. */
			pending = len > 0 && line[len - 1] == '\\';
			size_t keep = pending ? len - 1 : len;
			if (append(&text, &text_len, &text_cap, line, keep) < 0) {
				rc = -ENOMEM;
				break;
			}
			if (pending)
				continue;
		} else if (!pending) {
			break;
		}
		pending = false; /* a '\\' on the last line ends the rule there */

		char *t = text + strspn(text, WS);
		text_len = 0;
		if (*t != '\0' && *t != '#') {
			rc = fn(ctx, t, first);
			if (rc < 0)
				break;
		}
		if (got < 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	if (lines != NULL)
		*lines = lineno;
	fclose(f);
	free(line);
	line = NULL;
	free(text);
	text = NULL;
	return rc;
}

/* nm_sig_file_parse's state while nm_sig_file_each walks the file. */
struct file_parse {
	const char *path;
	const struct nm_sig_vars *vars;
	char *err;
	size_t errlen;
	struct sid_set sids;
	struct nm_sig_rule *out;
	size_t n, cap;
};

static int
parse_one(void *ctx, const char *text, unsigned int first)
{
	struct file_parse *fp = ctx;
	char why[512];

	if (fp->n == fp->cap) {
		size_t want = fp->cap ? 2 * fp->cap : 64;
		struct nm_sig_rule *p = realloc(fp->out, want * sizeof(*fp->out));
		if (p == NULL)
			goto nomem;
		fp->out = p;
		fp->cap = want;
	}
	struct nm_sig_rule *r = &fp->out[fp->n];
	if (nm_sig_rule_parse_vars(text, fp->vars, r, why, sizeof(why)) < 0) {
		snprintf(fp->err, fp->errlen, "%s:%u: %s", fp->path, first, why);
		return -EINVAL;
	}
	r->line = first;
	long earlier = sid_set_add(&fp->sids, r->sid, first);
	if (earlier < 0) {
		nm_sig_rule_clear(r);
		goto nomem;
	}
	if (earlier > 0) {
		snprintf(fp->err, fp->errlen, "%s:%u: sid %u: duplicate sid, first on line %ld",
			 fp->path, first, r->sid, earlier);
		nm_sig_rule_clear(r);
		return -EINVAL;
	}
	fp->n++;
	return 0;
nomem:
	snprintf(fp->err, fp->errlen, "%s:%u: out of memory", fp->path, first);
	return -ENOMEM;
}

int
nm_sig_file_parse(const char *path, const struct nm_sig_vars *vars, struct nm_sig_rule **rules,
		  char *err, size_t errlen)
{
	struct file_parse fp = {.path = path, .vars = vars, .err = err, .errlen = errlen};
	struct nm_sig_vars *defaults = NULL;
	int rc;

	*rules = NULL;
	err[0] = '\0';
	if (vars == NULL) {
		defaults = malloc(sizeof(*defaults));
		if (defaults == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -ENOMEM;
		}
		nm_sig_vars_defaults(defaults);
		fp.vars = defaults;
	}
	rc = nm_sig_file_each(path, parse_one, &fp, NULL);
	/* Errors from parse_one wrote err; the reader's own do not. */
	if (rc < 0 && err[0] == '\0') {
		if (rc == -EIO)
			snprintf(err, errlen, "%s: read error", path);
		else if (rc == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		else
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
	}
	free(defaults);
	defaults = NULL;
	free(fp.sids.sid);
	free(fp.sids.line);
	if (rc < 0) {
		nm_sig_rules_free(fp.out, (unsigned int)fp.n);
		return rc;
	}
	*rules = fp.out;
	return (int)fp.n;
}

void
nm_sig_rules_free(struct nm_sig_rule *rules, unsigned int n)
{
	if (rules == NULL)
		return;
	for (unsigned int i = 0; i < n; i++)
		nm_sig_rule_clear(&rules[i]);
	free(rules);
}
