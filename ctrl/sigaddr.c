/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address and port groups of a rule header, with variables, as Suricata
 * reads them (its detect-engine-address.c and -port.c):
 *
 *   GROUP := any | ITEM | $NAME | !GROUP | [GROUP, GROUP, ...]
 *
 * A list is the union of its positive members minus the union of its
 * negated ones ("[10.0.0.0/8,!10.1.0.0/16]"); a list of negated members
 * only is everything minus them ("[!80,!443]"); lists nest; a variable
 * stands for its value (signatures.vars, else Suricata's defaults, see
 * ctrl/sigvars.c), which may name other variables. Each group is computed
 * as a set of disjoint ranges, so negation and nesting mean exactly set
 * difference and complement, and the result is written into the rule's
 * fixed list (nm_sig_addrs, nm_sig_ports) as items or as the negated
 * complement: as written ("!..." negated) when it fits, else the other. A group that matches
 * nothing, needs more items than the list holds, or names IPv6 addresses is refused.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigrule_priv.h"

#define MAX_RANGES    256 /* disjoint ranges while a group is computed */
#define MAX_VAR_DEPTH 8	  /* $A naming $B naming ...: deeper is taken as a cycle */

/* Sorted, disjoint, non-adjacent ranges of 0..max. */
struct rset {
	unsigned int n;
	uint32_t lo[MAX_RANGES], hi[MAX_RANGES];
};

/* What is being read: an address group or a port group, and for messages. */
struct grp {
	bool addr;
	uint32_t max; /* UINT32_MAX or 65535 */
	const char *what;
	const char *word; /* the whole header word */
	struct sig_ctx *c;
};

static int
cmp_lo(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Sort and merge overlapping or adjacent ranges. */
static void
normalize(struct rset *s)
{
	uint64_t r[MAX_RANGES];
	unsigned int n = 0;

	if (s->n == 0)
		return;
	for (unsigned int i = 0; i < s->n; i++)
		r[i] = (uint64_t)s->lo[i] << 32 | s->hi[i];
	qsort(r, s->n, sizeof(r[0]), cmp_lo);
	for (unsigned int i = 0; i < s->n; i++) {
		uint32_t lo = (uint32_t)(r[i] >> 32), hi = (uint32_t)r[i];

		if (n > 0 && (uint64_t)s->hi[n - 1] + 1 >= lo) {
			if (hi > s->hi[n - 1])
				s->hi[n - 1] = hi;
			continue;
		}
		s->lo[n] = lo;
		s->hi[n] = hi;
		n++;
	}
	s->n = n;
}

static int
add_range(struct rset *s, uint32_t lo, uint32_t hi, const struct grp *g)
{
	if (s->n == MAX_RANGES) {
		normalize(s);
		if (s->n == MAX_RANGES)
			return sig_fail(g->c, "%s '%s': more than %d ranges", g->what, g->word,
					MAX_RANGES);
	}
	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->n++;
	return 0;
}

static void
complement(struct rset *s, uint32_t max)
{
	struct rset out = {0};
	uint64_t next = 0; /* first value not yet covered */

	for (unsigned int i = 0; i < s->n; i++) {
		if (s->lo[i] > next) {
			out.lo[out.n] = (uint32_t)next;
			out.hi[out.n++] = s->lo[i] - 1;
		}
		next = (uint64_t)s->hi[i] + 1;
	}
	if (next <= max) {
		out.lo[out.n] = (uint32_t)next;
		out.hi[out.n++] = max;
	}
	*s = out;
}

/* a minus b; both normalized. */
static int
subtract(struct rset *a, const struct rset *b, const struct grp *g)
{
	struct rset nb = *b;

	/* a - b = a ∩ ¬b = ¬(¬a ∪ b) */
	complement(a, g->max);
	for (unsigned int i = 0; i < nb.n; i++)
		if (add_range(a, nb.lo[i], nb.hi[i], g) < 0)
			return -EINVAL;
	normalize(a);
	complement(a, g->max);
	return 0;
}

/* a.b.c.d, each part 0..255 written in 1..3 digits. */
static bool
parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t addr = 0;

	for (int part = 0; part < 4; part++) {
		unsigned int v = 0, digits = 0;

		while (isdigit((unsigned char)*s) && digits < 4) {
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		addr = addr << 8 | v;
		if (part < 3 && *s++ != '.')
			return false;
	}
	if (*s != '\0')
		return false;
	*out = addr;
	return true;
}

/* a.b.c.d or a.b.c.d/len; host bits are dropped, as Suricata does. */
static int
addr_item(char *item, struct rset *s, const struct grp *g)
{
	char *slash = strchr(item, '/');
	uint64_t len = 32;
	uint32_t addr;

	if (strchr(item, ':') != NULL)
		return sig_fail(g->c, "%s '%s': IPv6 is not supported", g->what, g->word);
	if (slash != NULL) {
		*slash = '\0';
		if (!sig_parse_uint(slash + 1, UINT8_MAX, &len) ||
		    (slash[1] == '0' && slash[2] != '\0'))
			return sig_fail(g->c, "%s '%s': prefix '/%s' is not a number 0..32",
					g->what, g->word, slash + 1);
		if (len > 32)
			return sig_fail(g->c, "%s '%s': prefix length /%s is over 32", g->what,
					g->word, slash + 1);
	}
	if (!parse_ipv4(item, &addr))
		return sig_fail(g->c, "%s '%s': '%s' is not an IPv4 address a.b.c.d", g->what,
				g->word, item);
	uint32_t mask = len == 0 ? 0 : UINT32_MAX << (32 - len);
	return add_range(s, addr & mask, (addr & mask) | ~mask, g);
}

static int
port_number(const char *p, uint16_t *out, const struct grp *g)
{
	size_t len = strlen(p);
	uint64_t v;

	if (len == 0 || strspn(p, "0123456789") != len)
		return sig_fail(g->c, "%s '%s': '%s' is not a port number", g->what, g->word, p);
	if (len > 5 || !sig_parse_uint(p, 65535, &v))
		return sig_fail(g->c, "%s '%s': port %s is over 65535", g->what, g->word, p);
	*out = (uint16_t)v;
	return 0;
}

/* N, N:M, N: (to 65535), :M (from 0). */
static int
port_item(char *item, struct rset *s, const struct grp *g)
{
	char *colon = strchr(item, ':');
	uint16_t lo = 0, hi = 65535;

	if (colon == NULL) {
		if (port_number(item, &lo, g) < 0)
			return -EINVAL;
		return add_range(s, lo, lo, g);
	}
	*colon = '\0';
	if (item[0] == '\0' && colon[1] == '\0')
		return sig_fail(g->c, "%s '%s': range ':' has neither end", g->what, g->word);
	if (item[0] != '\0' && port_number(item, &lo, g) < 0)
		return -EINVAL;
	if (colon[1] != '\0' && port_number(colon + 1, &hi, g) < 0)
		return -EINVAL;
	if (lo > hi)
		return sig_fail(g->c, "%s '%s': range %u:%u has its low end above its high end",
				g->what, g->word, lo, hi);
	return add_range(s, lo, hi, g);
}

static int group(char *s, struct rset *out, unsigned int depth, const struct grp *g);

/* "[a, !b, [c, d]]" without its brackets: positives minus negatives. */
static int
list(char *s, struct rset *out, unsigned int depth, const struct grp *g)
{
	struct rset *neg = calloc(1, sizeof(*neg)), *one = calloc(1, sizeof(*one));
	bool any_pos = false;
	int rc = -EINVAL;

	if (neg == NULL || one == NULL) {
		rc = sig_fail(g->c, "out of memory");
		goto out;
	}
	out->n = 0;
	for (char *item = s; item != NULL;) {
		int nest = 0;
		char *p = item;

		for (; *p != '\0' && (nest > 0 || *p != ','); p++)
			nest += *p == '[' ? 1 : *p == ']' ? -1 : 0;
		char *next = *p == ',' ? p + 1 : NULL;
		*p = '\0';
		item = sig_trim(item);
		if (*item == '\0') {
			sig_fail(g->c, "%s '%s': empty item in the list", g->what, g->word);
			goto out;
		}
		if (strcasecmp(item, "any") == 0) {
			sig_fail(g->c, "%s '%s': 'any' inside a list", g->what, g->word);
			goto out;
		}
		bool negated = *item == '!';
		if (group(negated ? item + 1 : item, one, depth, g) < 0)
			goto out;
		struct rset *into = negated ? neg : out;
		any_pos |= !negated;
		for (unsigned int i = 0; i < one->n; i++)
			if (add_range(into, one->lo[i], one->hi[i], g) < 0)
				goto out;
		item = next;
	}
	normalize(out);
	normalize(neg);
	if (!any_pos) {
		out->n = 1;
		out->lo[0] = 0;
		out->hi[0] = g->max;
	}
	rc = subtract(out, neg, g);
out:
	free(neg);
	free(one);
	return rc;
}

static int
variable(const char *name, struct rset *out, unsigned int depth, const struct grp *g)
{
	const char *value = nm_sig_vars_get(g->c->vars, name);
	char *copy;
	int rc;

	if (value == NULL)
		return sig_fail(g->c, "%s '%s': unknown variable $%s (not in signatures.vars)",
				g->what, g->word, name);
	if (depth >= MAX_VAR_DEPTH)
		return sig_fail(g->c, "%s '%s': variables nest deeper than %d (a cycle?) at $%s",
				g->what, g->word, MAX_VAR_DEPTH, name);
	copy = strdup(value);
	if (copy == NULL)
		return sig_fail(g->c, "out of memory");
	rc = group(copy, out, depth + 1, g);
	free(copy);
	return rc;
}

/* One group, normalized into out. Writes into s. */
static int
group(char *s, struct rset *out, unsigned int depth, const struct grp *g)
{
	size_t len;

	s = sig_trim(s);
	len = strlen(s);
	out->n = 0;
	if (len == 0)
		return sig_fail(g->c, "%s '%s': empty", g->what, g->word);
	if (s[0] == '!') {
		if (s[1] == '!')
			return sig_fail(g->c, "%s '%s': double negation", g->what, g->word);
		if (group(s + 1, out, depth, g) < 0)
			return -EINVAL;
		complement(out, g->max);
		return 0;
	}
	if (strcasecmp(s, "any") == 0) {
		out->n = 1;
		out->lo[0] = 0;
		out->hi[0] = g->max;
		return 0;
	}
	if (s[0] == '$')
		return variable(s + 1, out, depth, g);
	if (s[0] == '[') {
		if (s[len - 1] != ']')
			return sig_fail(g->c, "%s '%s': text after the closing ']'", g->what,
					g->word);
		s[len - 1] = '\0';
		return list(s + 1, out, depth, g);
	}
	if (strpbrk(s, "[]") != NULL)
		return sig_fail(g->c, "%s '%s': unbalanced brackets", g->what, g->word);
	if (g->addr ? addr_item(s, out, g) < 0 : port_item(s, out, g) < 0)
		return -EINVAL;
	return 0;
}

/* Prefixes covering [lo, hi] exactly, largest first; calls fn for each (NULL: count). */
static unsigned int
cidrs(uint32_t lo, uint32_t hi, struct nm_sig_cidr *out, unsigned int room)
{
	unsigned int n = 0;
	uint64_t at = lo;

	while (at <= hi) {
		unsigned int len = 32;

		/* Widen while aligned and still inside [lo, hi]. */
		while (len > 0) {
			uint64_t size = 1ull << (33 - len);
			if ((at & (size - 1)) != 0 || at + size - 1 > hi)
				break;
			len--;
		}
		if (out != NULL && n < room) {
			out[n].addr = (uint32_t)at;
			out[n].len = (uint8_t)len;
		}
		n++;
		at += 1ull << (32 - len);
	}
	return n;
}

static unsigned int
cidr_count(const struct rset *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->n; i++)
		n += cidrs(s->lo[i], s->hi[i], NULL, 0);
	return n;
}

/* Store the complement, negated? As written when it fits, else the shorter. */
static bool
prefer_negated(const char *word, unsigned int n_set, unsigned int n_inv, unsigned int room)
{
	bool written = word[strspn(word, SIG_WS)] == '!';

	if ((written ? n_inv : n_set) <= room)
		return written;
	return n_inv < n_set;
}

/* Parse a header word into *set (normalized); refuses an empty result. */
static int
parse_word(const char *word, struct rset *set, struct grp *g)
{
	char *copy = strdup(word);
	int rc;

	if (copy == NULL)
		return sig_fail(g->c, "out of memory");
	rc = group(copy, set, 0, g);
	free(copy);
	if (rc == 0 && set->n == 0)
		rc = sig_fail(g->c, "%s '%s': matches nothing", g->what, word);
	return rc;
}

/*
 * Parse a header word into set[0] and its complement into set[1] (two
 * sets, allocated here; the caller frees). Returns 1 for any, 0, -EINVAL.
 */
static int
word_sets(const char *word, struct grp *g, struct rset **sets)
{
	struct rset *set = calloc(2, sizeof(*set));

	*sets = set;
	if (set == NULL)
		return sig_fail(g->c, "out of memory");
	if (parse_word(word, set, g) < 0)
		return -EINVAL;
	if (set->n == 1 && set->lo[0] == 0 && set->hi[0] == g->max)
		return 1;
	set[1] = set[0];
	complement(&set[1], g->max);
	return 0;
}

int
sig_parse_addrs(const char *word, const char *what, struct nm_sig_addrs *a, struct sig_ctx *c)
{
	struct grp g = {true, UINT32_MAX, what, word, c};
	struct rset *set;
	int rc;

	memset(a, 0, sizeof(*a));
	rc = word_sets(word, &g, &set);
	if (rc != 0)
		goto out;
	unsigned int n_set = cidr_count(&set[0]), n_inv = cidr_count(&set[1]);
	bool neg = prefer_negated(word, n_set, n_inv, NM_SIG_MAX_ADDRS);
	const struct rset *use = &set[neg];
	unsigned int n = neg ? n_inv : n_set;
	if (n > NM_SIG_MAX_ADDRS) {
		rc = sig_fail(c, "%s '%s': %u prefixes, more than %d", what, word, n,
			      NM_SIG_MAX_ADDRS);
		goto out;
	}
	a->negated = neg;
	for (unsigned int i = 0; i < use->n; i++)
		a->n += (uint8_t)cidrs(use->lo[i], use->hi[i], &a->items[a->n],
				       NM_SIG_MAX_ADDRS - a->n);
out:
	free(set);
	return rc < 0 ? rc : 0;
}

int
sig_parse_ports(const char *word, const char *what, struct nm_sig_ports *p, struct sig_ctx *c)
{
	struct grp g = {false, 65535, what, word, c};
	struct rset *set;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = word_sets(word, &g, &set);
	if (rc != 0)
		goto out;
	bool neg = prefer_negated(word, set[0].n, set[1].n, NM_SIG_MAX_PORTS);
	const struct rset *use = &set[neg];
	if (use->n > NM_SIG_MAX_PORTS) {
		rc = sig_fail(c, "%s '%s': %u port ranges, more than %d", what, word, use->n,
			      NM_SIG_MAX_PORTS);
		goto out;
	}
	p->negated = neg;
	p->n = (uint8_t)use->n;
	for (unsigned int i = 0; i < use->n; i++) {
		p->items[i].lo = (uint16_t)use->lo[i];
		p->items[i].hi = (uint16_t)use->hi[i];
	}
out:
	free(set);
	return rc < 0 ? rc : 0;
}
