/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rule's patterns → Hyperscan expressions, with Suricata's meaning of
 * the content modifiers (ctrl/sigmod.c lists them).
 *
 * A content alone is its bytes as \xHH (so no byte changes the
 * expression's meaning), HS_FLAG_CASELESS for nocase, and offset/depth as
 * bounds on the match end (min_offset = offset + len, max_offset = offset
 * + depth); startswith is depth len at offset 0.
 *
 * A content followed by relative contents (distance/within) is one
 * expression, so Hyperscan finds the chain wherever it lies, across TCP
 * segments included, and tries every occurrence of the first content as
 * Suricata's inspection engine does by backtracking:
 *
 *   c1 .{D, D+W-len2} c2 ...       HS_FLAG_DOTALL, each content (?i:...) when nocase
 *
 * with .{D,} for distance alone and .{0,W-len2} for within alone. A pcre
 * takes a content's place in a chain as a group with its own flags,
 * (?i-sm:body): as its head, or relative (flag R) as .*(?:body) after the
 * previous match, or (?:body) right after it when the body starts with ^
 * (anchored where the previous match ended, as Suricata anchors it). The
 * head's offset/depth become an anchored prefix ^.{offset, offset+depth-len1}
 * (^ for startswith), counted from the start of the data as for a content
 * alone. endswith appends \z; a relative isdataat N appends .{N} (at least
 * N bytes follow) or, negated, .{0,N-1}\z (fewer than N follow), and must
 * end the chain: what follows it would need a lookahead Hyperscan lacks.
 *
 * An absolute isdataat N is [\x00-\xff] with min_offset N+1 (some byte
 * ends past N: the byte at N exists), negated [\x00-\xff]\z with
 * max_offset N (the data is at most N bytes). dsize is [\x00-\xff]\z with
 * min/max_offset the size range: it matches once, at the last byte, iff
 * the payload's length is in range.
 *
 * Expressions anchored at the end of the data (\z) only mean what Suricata
 * means on a packet: a TCP stream has no end until it closes, and
 * Suricata itself checks dsize per packet, so rules for tcp (or ip, which
 * also go to the stream database) with endswith, !isdataat or dsize are
 * refused by sigdb with that reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigexpr.h"

/* A growing expression string. */
struct buf {
	char *s;
	size_t len, cap;
	bool nomem;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->nomem)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->nomem = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap)
			break;
		size_t want = (b->cap + (size_t)n + 64) * 2;
		char *p = realloc(b->s, want);
		if (p == NULL) {
			b->nomem = true;
			return;
		}
		b->s = p;
		b->cap = want;
	}
	b->len += (size_t)n;
}

static void
put_bytes(struct buf *b, const struct nm_sig_pattern *pat)
{
	for (unsigned int i = 0; i < pat->len; i++)
		put(b, "\\x%02x", pat->data[i]);
}

/* Any bytes between lo and hi of them (hi < 0: no upper bound); Hyperscan refuses .{0,0}. */
static void
put_gap(struct buf *b, long lo, long hi)
{
	if (hi < 0)
		put(b, lo == 0 ? ".*" : ".{%ld,}", lo);
	else if (lo == hi && lo > 0)
		put(b, ".{%ld}", lo);
	else if (lo != hi)
		put(b, ".{%ld,%ld}", lo, hi);
}

static int
refuse(const struct nm_sig_rule *r, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "sid %u line %u: %s", r->sid, r->line, why);
	return -EINVAL;
}

/* A content with no relative partner and nothing \z: bytes, flags, ext. */
static void
content_alone(const struct nm_sig_pattern *pat, struct nm_sig_expr *e, struct buf *b)
{
	int32_t offset = pat->offset > 0 ? pat->offset : 0;
	int32_t depth = pat->startswith ? pat->len : pat->depth;

	put_bytes(b, pat);
	e->flags = pat->nocase ? HS_FLAG_CASELESS : 0;
	if (offset > 0) {
		e->ext.flags |= HS_EXT_FLAG_MIN_OFFSET;
		e->ext.min_offset = (unsigned long long)offset + pat->len;
	}
	if (depth >= 0) {
		e->ext.flags |= HS_EXT_FLAG_MAX_OFFSET;
		e->ext.max_offset = (unsigned long long)offset + (unsigned long long)depth;
	}
}

/*
 * Whether a relative pcre's body (NUL-terminated) has a ^ other than a
 * leading one, outside a character class: an anchor inside the chain that
 * nodemesh cannot place.
 */
static bool
inner_caret(const char *s)
{
	bool in_class = false;

	for (size_t i = s[0] == '^' ? 1 : 0; s[i] != '\0'; i++) {
		if (s[i] == '\\' && s[i + 1] != '\0') {
			i++;
			continue;
		}
		if (in_class) {
			in_class = s[i] != ']';
			continue;
		}
		if (s[i] == '[') {
			in_class = true;
			if (s[i + 1] == '^')
				i++;
			if (s[i + 1] == ']')
				i++; /* a ] right after [ or [^ is a member */
			continue;
		}
		if (s[i] == '^')
			return true;
	}
	return false;
}

/* A pcre in a chain: a group carrying its own flags (the chain is DOTALL). */
static int
chain_pcre(const struct nm_sig_rule *r, const struct nm_sig_pattern *pat, struct buf *b, char *err,
	   size_t errlen)
{
	const char *body = (const char *)pat->data;

	if (memchr(pat->data, '\0', pat->len) != NULL)
		return refuse(r, err, errlen, "pcre contains a NUL byte (write \\x00)");
	if (pat->relative && inner_caret(body))
		return refuse(r, err, errlen,
			      "pcre R with ^ other than at its start (an anchor inside the chain)");
	if (pat->relative && body[0] == '^')
		body++; /* anchored where the previous match ended */
	else if (pat->relative)
		put(b, ".*");
	/* "(?ism-:" is not valid: with i, s and m all on, x is turned off instead. */
	bool all_on = pat->nocase && pat->dotall && pat->multiline;
	if (all_on && pat->extended)
		return refuse(r, err, errlen, "pcre R with flags i, s, m and x together");
	put(b, "(?%s%s%s%s-%s%s%s%s:%s)", pat->nocase ? "i" : "", pat->dotall ? "s" : "",
	    pat->multiline ? "m" : "", pat->extended ? "x" : "", pat->nocase ? "" : "i",
	    pat->dotall ? "" : "s", pat->multiline ? "" : "m", all_on ? "x" : "", body);
	return 0;
}

static void
chain_content(const struct nm_sig_pattern *pat, struct buf *b)
{
	if (pat->nocase)
		put(b, "(?i:");
	put_bytes(b, pat);
	if (pat->nocase)
		put(b, ")");
}

/*
 * The chain starting at pattern k: contents while the next one is
 * relative, then a relative isdataat if one follows. Returns the index
 * after the chain, or -EINVAL.
 */
static int
chain(const struct nm_sig_rule *r, unsigned int k, struct nm_sig_expr *e, struct buf *b, char *err,
      size_t errlen)
{
	const struct nm_sig_pattern *head = &r->patterns[k];
	unsigned int i = k + 1;

	e->flags = HS_FLAG_DOTALL;
	if (head->kind == NM_SIG_PCRE) {
		if (chain_pcre(r, head, b, err, errlen) < 0)
			return -EINVAL;
	} else if (head->startswith) {
		put(b, "^");
	} else if (head->offset > 0 || head->depth >= 0) {
		long off = head->offset > 0 ? head->offset : 0;
		put(b, "^");
		put_gap(b, off, head->depth >= 0 ? off + head->depth - head->len : -1);
	}
	if (head->kind == NM_SIG_CONTENT)
		chain_content(head, b);
	const struct nm_sig_pattern *last = head;
	for (; i < r->n_patterns; i++) {
		const struct nm_sig_pattern *p = &r->patterns[i];

		if (p->kind == NM_SIG_ISDATAAT && !p->relative)
			continue; /* absolute: its own expression, moves nothing */
		if (p->kind == NM_SIG_PCRE && p->relative) {
			if (last->endswith)
				return refuse(r, err, errlen, "a relative pcre after endswith");
			if (chain_pcre(r, p, b, err, errlen) < 0)
				return -EINVAL;
			last = p;
			continue;
		}
		if (p->kind != NM_SIG_CONTENT || (!p->has_distance && !p->has_within))
			break;
		if (last->endswith)
			return refuse(r, err, errlen, "a relative content after endswith");
		long d = p->has_distance ? p->distance : 0;
		put_gap(b, d, p->has_within ? d + p->within - p->len : -1);
		chain_content(p, b);
		last = p;
	}
	if (i < r->n_patterns && r->patterns[i].kind == NM_SIG_ISDATAAT &&
	    r->patterns[i].relative) {
		const struct nm_sig_pattern *at = &r->patterns[i];

		if (last->endswith)
			return refuse(r, err, errlen, "isdataat relative to an endswith content");
		if (at->negated) {
			put_gap(b, 0, at->offset - 1);
			put(b, "\\z");
			e->at_end = true;
		} else {
			put_gap(b, at->offset, at->offset);
		}
		i++;
	}
	if (last->endswith) {
		put(b, "\\z");
		e->at_end = true;
	}
	return (int)i;
}

/* [\x00-\xff] with end bounds: isdataat (absolute) and dsize. */
static void
any_byte(struct nm_sig_expr *e, struct buf *b, bool at_end, long long min_end, long long max_end)
{
	put(b, "[\\x00-\\xff]%s", at_end ? "\\z" : "");
	e->at_end = at_end;
	if (min_end > 0) {
		e->ext.flags |= HS_EXT_FLAG_MIN_OFFSET;
		e->ext.min_offset = (unsigned long long)min_end;
	}
	if (max_end >= 0) {
		e->ext.flags |= HS_EXT_FLAG_MAX_OFFSET;
		e->ext.max_offset = (unsigned long long)max_end;
	}
}

static bool
starts_chain(const struct nm_sig_rule *r, unsigned int k)
{
	const struct nm_sig_pattern *p = &r->patterns[k];

	if (p->endswith)
		return true;
	for (unsigned int i = k + 1; i < r->n_patterns; i++) {
		const struct nm_sig_pattern *q = &r->patterns[i];
		if (q->kind == NM_SIG_ISDATAAT && !q->relative)
			continue;
		return (q->kind == NM_SIG_CONTENT && (q->has_distance || q->has_within)) ||
		       (q->kind != NM_SIG_CONTENT && q->relative);
	}
	return false;
}

/* One expression from pattern k; returns the next pattern index or -errno. */
static int
one_expr(const struct nm_sig_rule *r, unsigned int k, struct nm_sig_expr *e, struct buf *b,
	 char *err, size_t errlen)
{
	const struct nm_sig_pattern *p = &r->patterns[k];

	e->negated = p->negated && p->kind == NM_SIG_CONTENT;
	/* What the parser never writes, for rules built by hand. */
	if (p->offset < -1 || p->depth < -1 || p->distance < 0 || p->within < 0)
		return refuse(r, err, errlen, "a negative offset, depth, distance or within");
	if (p->kind == NM_SIG_PCRE && (p->offset >= 0 || p->depth >= 0))
		return refuse(r, err, errlen, "offset/depth apply to content, not to pcre");
	if (p->kind == NM_SIG_CONTENT && p->depth >= 0 && p->depth < p->len)
		return refuse(r, err, errlen, "content: depth is shorter than the content");
	if (p->kind == NM_SIG_CONTENT && p->has_within && p->within < p->len)
		return refuse(r, err, errlen, "content: within is shorter than the content");
	switch (p->kind) {
	case NM_SIG_CONTENT:
		if (p->has_distance || p->has_within)
			return refuse(r, err, errlen,
				      "a relative content with no content to follow");
		if (starts_chain(r, k))
			return chain(r, k, e, b, err, errlen);
		content_alone(p, e, b);
		return (int)k + 1;
	case NM_SIG_PCRE:
		if (p->relative)
			return refuse(r, err, errlen, "a relative pcre with no match before it");
		if (starts_chain(r, k))
			return chain(r, k, e, b, err, errlen);
		if (memchr(p->data, '\0', p->len) != NULL)
			return refuse(r, err, errlen, "pcre contains a NUL byte (write \\x00)");
		put(b, "%s%s", p->extended ? "(?x)" : "", (const char *)p->data);
		e->flags = (p->nocase ? HS_FLAG_CASELESS : 0) | (p->dotall ? HS_FLAG_DOTALL : 0) |
			   (p->multiline ? HS_FLAG_MULTILINE : 0);
		return (int)k + 1;
	case NM_SIG_ISDATAAT:
		if (p->relative)
			return refuse(r, err, errlen,
				      "isdataat relative with no content before it");
		if (p->negated)
			any_byte(e, b, true, 0, p->offset);
		else
			any_byte(e, b, false, (long long)p->offset + 1, -1);
		return (int)k + 1;
	default:
		return refuse(r, err, errlen, "pattern of unknown kind");
	}
}

int
nm_sig_exprs_build(const struct nm_sig_rule *r, struct nm_sig_expr *out, unsigned int *n, char *err,
		   size_t errlen)
{
	unsigned int k = 0;
	int rc = 0;

	*n = 0;
	memset(out, 0, NM_SIG_MAX_EXPRS * sizeof(*out));
	while (k < r->n_patterns && rc >= 0) {
		struct buf b = {0};

		if (r->patterns[k].kind != NM_SIG_ISDATAAT &&
		    (r->patterns[k].len == 0 || r->patterns[k].data == NULL)) {
			rc = refuse(r, err, errlen, "an empty pattern");
			break;
		}
		rc = one_expr(r, k, &out[*n], &b, err, errlen);
		if (b.nomem)
			rc = -ENOMEM;
		if (rc < 0) {
			free(b.s);
			break;
		}
		out[(*n)++].re = b.s;
		k = (unsigned int)rc;
	}
	if (rc >= 0 && r->dsize_min > 0) {
		struct buf b = {0};

		any_byte(&out[*n], &b, true, r->dsize_min, r->dsize_max);
		if (b.nomem)
			rc = -ENOMEM;
		else
			out[(*n)++].re = b.s;
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "sid %u line %u: out of memory", r->sid, r->line);
	if (rc < 0) {
		nm_sig_exprs_free(out, *n);
		*n = 0;
		return rc;
	}
	return 0;
}

void
nm_sig_exprs_free(struct nm_sig_expr *e, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(e[i].re);
		e[i].re = NULL;
	}
}
