/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Content modifiers and payload checks, with Suricata's meaning (its
 * payload keywords page and detect-engine-content-inspection.c):
 *
 *   offset/depth  where the content may lie, from the start of the data;
 *                 depth counts from offset.
 *   distance D    relative: the content starts at least D bytes after the
 *                 previous content's match ends.
 *   within W      relative: it ends at most W bytes after that (after D,
 *                 when both are given: Suricata's depth = prev_end + D + W).
 *   startswith    offset 0, depth the content's length.
 *   endswith      the content ends where the data ends.
 *   isdataat:N    there is a byte at offset N; ",relative": at least N
 *                 bytes follow the previous content's match; "!": not.
 *   dsize         the packet's payload size: N, <N, >N, N<>M (exclusive).
 *   bsize         the sticky buffer's size, in the same forms; urilen the
 *                 size of http.uri (",raw": http.uri.raw).
 *   fast_pattern  accepted and dropped: it picks Suricata's prefilter
 *                 pattern, never what matches; Hyperscan chooses its own.
 *
 * The parser checks the shapes Suricata refuses too (a relative keyword
 * with offset/depth on the same content, within shorter than the
 * content, startswith mixed with a position) and refuses what nodemesh
 * cannot mean exactly: a negative distance, a relative content after a
 * pcre or a negated content, modifiers on a negated content.
 * ctrl/sigexpr.c turns what is accepted into Hyperscan expressions.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigrule_priv.h"

#define MAX_OFFSET 65535 /* Suricata: uint16_t offset, depth, distance, within */

static const char *const kind_names[] = {"content", "pcre", "isdataat"};

/* The content the modifier key applies to: the last pattern of the rule. */
static int
last_content(struct nm_sig_rule *rule, const char *key, struct nm_sig_pattern **out,
	     struct sig_ctx *c)
{
	if (rule->n_patterns == 0)
		return sig_fail(c, "%s: no content before it", key);
	*out = &rule->patterns[rule->n_patterns - 1];
	if ((*out)->kind != NM_SIG_CONTENT)
		return sig_fail(c, "%s: modifies a content, but the pattern before it is a %s", key,
				kind_names[(*out)->kind]);
	return 0;
}

/*
 * The match a relative keyword counts from: the last content or pcre
 * before pattern `before`. A positive content or a pcre is a position
 * nodemesh can chain from (sigexpr.c joins them into one expression); a
 * negated content's absence is not, so it is refused.
 */
int
sig_previous_match(const struct nm_sig_rule *rule, unsigned int before, uint8_t buffer,
		   const char *key, struct sig_ctx *c)
{
	for (unsigned int i = before; i-- > 0;) {
		const struct nm_sig_pattern *p = &rule->patterns[i];

		if (p->buffer != buffer)
			continue; /* Suricata chains within one buffer's list */
		if (p->kind == NM_SIG_ISDATAAT && !p->relative)
			continue; /* absolute isdataat moves nothing */
		if (p->kind == NM_SIG_ISDATAAT)
			return sig_fail(
			    c, "%s: after a relative isdataat (it would need a lookahead)", key);
		if (p->negated)
			return sig_fail(c, "%s: relative to a negated content is not supported",
					key);
		if (p->endswith)
			return sig_fail(c, "%s: relative to an endswith content matches nothing",
					key);
		return 0;
	}
	if (strcmp(key, "pcre flag R") != 0)
		return 1; /* the start of the buffer: sig_relative_at_start */
	return sig_fail(c, "%s: no content before the one it makes relative", key);
}

/*
 * A relative content or isdataat first in its buffer counts from the
 * buffer's start, as Suricata's inspection starts with the previous
 * match's end at 0: distance D and within W are offset D and depth W,
 * a relative isdataat is an absolute one.
 */
void
sig_relative_at_start(struct nm_sig_rule *rule)
{
	for (unsigned int i = 0; i < rule->n_patterns; i++) {
		struct nm_sig_pattern *p = &rule->patterns[i];
		bool relative =
		    p->has_distance || p->has_within || (p->kind == NM_SIG_ISDATAAT && p->relative);
		bool first = true;

		for (unsigned int j = 0; j < i && relative; j++) {
			const struct nm_sig_pattern *q = &rule->patterns[j];

			first &=
			    q->buffer != p->buffer || (q->kind == NM_SIG_ISDATAAT && !q->relative);
		}
		if (!relative || !first)
			continue;
		if (p->kind == NM_SIG_ISDATAAT) {
			p->relative = false;
			continue;
		}
		p->offset = p->has_distance ? p->distance : -1;
		p->depth = p->has_within ? p->within : -1;
		p->has_distance = false;
		p->has_within = false;
		p->distance = 0;
		p->within = 0;
	}
}

/* offset, depth, distance, within: a number, each once per content. */
static int
position(struct nm_sig_rule *rule, struct nm_sig_pattern *pat, const char *key, const char *val,
	 struct sig_ctx *c)
{
	bool relative = strcmp(key, "distance") == 0 || strcmp(key, "within") == 0;
	uint64_t v;

	if (val[0] == '-' && strcmp(key, "distance") == 0)
		return sig_fail(c, "distance %s: a negative distance is not supported", val);
	if (!sig_parse_uint(val, MAX_OFFSET, &v))
		return sig_fail(c, "%s '%s': not a number 0..%d", key, val, MAX_OFFSET);
	if (pat->negated)
		return sig_fail(c, "%s: not supported on a negated content", key);
	if (pat->startswith)
		return sig_fail(c, "%s: cannot be mixed with startswith", key);
	if (relative ? pat->offset >= 0 || pat->depth >= 0 : pat->has_distance || pat->has_within)
		return sig_fail(c, "%s: offset/depth and distance/within on one content", key);
	if (relative && sig_previous_match(rule, rule->n_patterns - 1, pat->buffer, key, c) < 0)
		return -EINVAL;

	bool is_distance = strcmp(key, "distance") == 0, is_within = strcmp(key, "within") == 0;
	int32_t *field = strcmp(key, "offset") == 0  ? &pat->offset
			 : strcmp(key, "depth") == 0 ? &pat->depth
			 : is_distance		     ? &pat->distance
						     : &pat->within;
	bool given = is_distance ? pat->has_distance : is_within ? pat->has_within : *field >= 0;
	if (given)
		return sig_fail(c, "%s: given twice for one content", key);
	if ((field == &pat->depth || is_within) && v < pat->len)
		return sig_fail(c, "%s %u is shorter than the content (%u bytes)", key,
				(unsigned int)v, pat->len);
	*field = (int32_t)v;
	pat->has_distance |= is_distance;
	pat->has_within |= is_within;
	return 0;
}

int
sig_opt_modifier(struct nm_sig_rule *rule, const char *key, const char *val, struct sig_ctx *c)
{
	struct nm_sig_pattern *pat = NULL;

	if (last_content(rule, key, &pat, c) < 0)
		return -EINVAL;
	if (strcmp(key, "nocase") == 0) {
		if (pat->nocase)
			return sig_fail(c, "nocase: given twice for one content");
		pat->nocase = true;
		return 0;
	}
	if (strcmp(key, "startswith") == 0) {
		if (pat->negated)
			return sig_fail(c, "startswith: not supported on a negated content");
		if (pat->startswith)
			return sig_fail(c, "startswith: given twice for one content");
		if (pat->offset >= 0 || pat->depth >= 0 || pat->has_distance || pat->has_within)
			return sig_fail(c, "startswith: cannot be mixed with offset, depth, "
					   "distance or within");
		pat->startswith = true;
		return 0;
	}
	if (strcmp(key, "endswith") == 0) {
		if (pat->negated)
			return sig_fail(c, "endswith: not supported on a negated content");
		if (pat->endswith)
			return sig_fail(c, "endswith: given twice for one content");
		pat->endswith = true;
		return 0;
	}
	return position(rule, pat, key, val, c);
}

/* fast_pattern; fast_pattern:only; fast_pattern:N,M (a slice of the content). */
int
sig_opt_fast_pattern(struct nm_sig_rule *rule, const char *val, struct sig_ctx *c)
{
	struct nm_sig_pattern *pat = NULL;
	unsigned int off, len;
	int used = 0;

	if (last_content(rule, "fast_pattern", &pat, c) < 0)
		return -EINVAL;
	if (val == NULL || strcmp(val, "only") == 0)
		return 0;
	if (sscanf(val, "%u , %u%n", &off, &len, &used) != 2 || val[used] != '\0')
		return sig_fail(c, "fast_pattern '%s': must be empty, only, or OFFSET,LENGTH", val);
	if ((uint64_t)off + len > pat->len)
		return sig_fail(c, "fast_pattern %u,%u: past the content's %u bytes", off, len,
				pat->len);
	return 0;
}

/* isdataat:[!]N[,relative] */
int
sig_opt_isdataat(struct nm_sig_rule *rule, char *val, struct sig_ctx *c)
{
	struct nm_sig_pattern *pat;
	bool negated = false, relative = false;
	char *comma = strchr(val, ',');
	uint64_t v;

	if (*val == '!') {
		negated = true;
		val = sig_trim(val + 1);
	}
	if (comma != NULL) {
		*comma = '\0';
		if (strcmp(sig_trim(comma + 1), "relative") != 0)
			return sig_fail(c, "isdataat '%s': only ',relative' may follow the number",
					sig_trim(comma + 1));
		relative = true;
	}
	val = sig_trim(val);
	if (!sig_parse_uint(val, MAX_OFFSET, &v))
		return sig_fail(c, "isdataat '%s': not a number 0..%d", val, MAX_OFFSET);
	if (relative && sig_previous_match(rule, rule->n_patterns, c->buffer, "isdataat", c) < 0)
		return -EINVAL;
	if (negated && relative && v == 0)
		return sig_fail(c, "isdataat:!0,relative matches nothing");
	if (rule->n_patterns == NM_SIG_MAX_PATTERNS)
		return sig_fail(c, "more than %d content/pcre/isdataat patterns",
				NM_SIG_MAX_PATTERNS);
	pat = &rule->patterns[rule->n_patterns++];
	memset(pat, 0, sizeof(*pat));
	pat->kind = NM_SIG_ISDATAAT;
	pat->negated = negated;
	pat->relative = relative;
	pat->offset = (int32_t)v;
	pat->depth = -1;
	return 0;
}

/*
 * A size as Suricata's integer keywords read it: N, <N, >N, <=N, >=N, or
 * N<>M with both ends excluded. [*lo, *hi], inclusive; *lo may be 0.
 */
static int
size_range(const char *key, const char *val, long *lo, long *hi, struct sig_ctx *c)
{
	unsigned int a, b = 0;
	int used = 0;

	if (sscanf(val, "%u <> %u%n", &a, &b, &used) == 2 && val[used] == '\0') {
		*lo = (long)a + 1;
		*hi = (long)b - 1;
	} else if (sscanf(val, "<= %u%n", &a, &used) == 1 && val[used] == '\0') {
		*lo = 0;
		*hi = a;
	} else if (sscanf(val, ">= %u%n", &a, &used) == 1 && val[used] == '\0') {
		*lo = a;
		*hi = MAX_OFFSET;
	} else if (sscanf(val, "< %u%n", &a, &used) == 1 && val[used] == '\0') {
		*lo = 0;
		*hi = (long)a - 1;
	} else if (sscanf(val, "> %u%n", &a, &used) == 1 && val[used] == '\0') {
		*lo = (long)a + 1;
		*hi = MAX_OFFSET;
	} else if (val[0] >= '0' && val[0] <= '9' && sscanf(val, "%u%n", &a, &used) == 1 &&
		   val[used] == '\0') {
		*lo = *hi = a;
	} else {
		return sig_fail(c, "%s '%s': must be N, <N, >N, <=N, >=N or N<>M", key, val);
	}
	if (a > MAX_OFFSET || b > MAX_OFFSET)
		return sig_fail(c, "%s '%s': over %d", key, val, MAX_OFFSET);
	return 0;
}

/* dsize:N, <N, >N, N<>M (both ends excluded, as Suricata's range). */
int
sig_opt_dsize(struct nm_sig_rule *rule, const char *val, struct sig_ctx *c)
{
	long lo, hi;

	if (size_range("dsize", val, &lo, &hi, c) < 0)
		return -EINVAL;
	/* A payload is scanned only when it has bytes: dsize 0 could never fire. */
	if (lo < 1)
		lo = 1;
	if (lo > hi)
		return sig_fail(c, "dsize '%s': no payload size of 1 byte or more matches", val);
	rule->dsize_min = (int32_t)lo;
	rule->dsize_max = (int32_t)hi;
	return 0;
}

/* Buffer b's size bound, met with any given before for the same buffer. */
static int
buffer_size(struct nm_sig_rule *rule, unsigned int b, const char *key, const char *val, long lo,
	    long hi, struct sig_ctx *c)
{
	if (rule->bsize_min[b] > 0) {
		lo = lo > rule->bsize_min[b] ? lo : rule->bsize_min[b];
		hi = hi < rule->bsize_max[b] ? hi : rule->bsize_max[b];
	}
	if (lo > hi)
		return sig_fail(c, "%s '%s': no size matches (with the bound before it)", key, val);
	rule->bsize_min[b] = (int32_t)lo;
	rule->bsize_max[b] = (int32_t)hi;
	return 0;
}

/*
 * bsize: the sticky buffer's length (Suricata's detect-bsize.c). A buffer
 * nodemesh never scans when it is empty (Suricata neither inspects an
 * absent one), so a range that takes 0 is refused: it would differ on a
 * present, empty buffer.
 */
int
sig_opt_bsize(struct nm_sig_rule *rule, const char *val, struct sig_ctx *c)
{
	long lo, hi;

	if (c->buffer == NM_SIG_BUF_STREAM)
		return sig_fail(c, "bsize: needs a sticky buffer before it (http.uri, ...)");
	if (size_range("bsize", val, &lo, &hi, c) < 0)
		return -EINVAL;
	if (lo < 1)
		return sig_fail(c,
				"bsize '%s': a size of 0 is not supported (an empty buffer is "
				"not scanned)",
				val);
	return buffer_size(rule, c->buffer, "bsize", val, lo, hi, c);
}

/*
 * urilen:SIZE[,norm|raw]: the length of http.uri (norm, the default) or
 * http.uri.raw, a bsize on that buffer. A request-target is never empty.
 */
int
sig_opt_urilen(struct nm_sig_rule *rule, char *val, struct sig_ctx *c)
{
	unsigned int b = NM_SIG_BUF_HTTP_URI;
	char *comma = strchr(val, ',');
	long lo, hi;

	if (comma != NULL) {
		char *which = sig_trim(comma + 1);

		*comma = '\0';
		if (strcmp(which, "raw") == 0)
			b = NM_SIG_BUF_HTTP_URI_RAW;
		else if (strcmp(which, "norm") != 0)
			return sig_fail(c, "urilen '%s': after the size, norm or raw", which);
	}
	val = sig_trim(val);
	if (size_range("urilen", val, &lo, &hi, c) < 0)
		return -EINVAL;
	if (lo < 1)
		lo = 1;
	return buffer_size(rule, b, "urilen", val, lo, hi, c);
}
