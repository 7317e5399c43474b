/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature rules → Hyperscan databases. Each rule becomes one or more
 * Hyperscan expressions: a rule with a single positive content/pcre is one
 * expression whose id is the rule index; anything else is a set of quiet
 * sub-expressions (ids from n_rules upward, so they never collide with a
 * rule index) and one logical combination "s1 & s2 & !s3" whose id is the
 * rule index. TCP rules go to the streaming database, UDP/ICMP rules to the
 * block database, ip rules to both, with the same rule ids in each; in the
 * streaming database a multi-pattern rule without negation has reporting
 * sub-expressions instead of a combination (see below).
 *
 * Decisions (the header comment of sigdb.h states the overall design):
 *
 * - content bytes are written as \xHH, every one, so no byte (NUL, 0xff,
 *   a regex metacharacter) can change the expression's meaning.
 * - content offset/depth bound the match END (Hyperscan reports ends):
 *   min_offset = offset + len, max_offset = offset + depth, depth counted
 *   from offset as in Snort/Suricata. In the streaming database both count
 *   from the start of the direction's byte stream, not of a segment. A
 *   depth shorter than the content can never match and is refused.
 * - pcre flags i, s, m map to HS_FLAG_CASELESS, _DOTALL, _MULTILINE.
 *   Hyperscan has no compile flag for x, but its parser implements PCRE's
 *   (?x) option setting (whitespace outside classes and #-comments to end of
 *   line ignored, whitespace inside [...] literal), so x becomes a "(?x)"
 *   prefix: Hyperscan strips exactly what PCRE strips, and nothing is
 *   re-implemented here.
 * - Negation. Hyperscan evaluates a combination at every offset where one
 *   of its sub-expressions matches, so "a & !c" would fire when a matches
 *   before c appears later in the same payload (intel/hyperscan#415).
 *   Suricata's content:!"c" means "c is nowhere in the buffer". Every
 *   combination with a negated operand therefore also requires an
 *   end-of-data marker, one shared quiet expression [\x00-\xff]\z that
 *   matches only at the last byte of a block or, in streaming mode, at
 *   hs_close_stream. Such rules report at the end of a block scan, or when
 *   the stream closes; never mid-stream. An empty payload never reaches
 *   the marker, so a purely negated rule does not fire on it (Suricata does
 *   not inspect an empty payload either).
 * - Streaming-mode limitation of Hyperscan 5.4: a combination is evaluated
 *   for offset X only when a sub-expression match at an offset after X
 *   arrives, or at hs_close_stream; not at the end of each hs_scan_stream.
 *   A combination would therefore report a multi-pattern TCP rule with a
 *   later segment, too late to drop the one that completed it. So the
 *   streaming database uses no combination for a rule with several
 *   patterns and no negation: each pattern is its own reporting
 *   SINGLEMATCH expression (id n_rules + i, nm_sigdb.stream_subs[i] names
 *   its rule, bitmap slot and bit), every nm_sigdb_stream carries one
 *   16-bit bitmap per such rule, and on_match reports the rule when the
 *   match that sets its last bit arrives: in the hs_scan_stream call (the
 *   segment) that completes it, exactly once per stream. The bitmaps are
 *   allocated with the handle at open; scans allocate nothing. ip rules
 *   keep the combination in the block database (block mode flushes at the
 *   end of each scan). Rules with a negated content keep the combination
 *   and the marker in both databases: they can only be decided at the end
 *   of the data, i.e. at close for a stream.
 * - The block database is compiled in HS_MODE_VECTORED, so a datagram
 *   reassembled into an mbuf chain is scanned as it lies, pattern across
 *   segments included (hs_scan_vector), never linearised first. Vectored
 *   mode is block mode over the concatenation: the same expressions,
 *   flags, offsets, combinations and \z marker; only hs_scan refuses such
 *   a database, so every block scan goes through nm_sigdb_scan_vector.
 * - http rules (proto http, or tcp with an HTTP buffer) go to one vectored
 *   database per HTTP buffer (IN_HTTP(b)), scanned as blocks when a
 *   message head completes (dataplane/inspect_http.c), with block
 *   semantics. A rule of more than one expression reports each on its own
 *   id, and the scan completes it from a per-message bitmap, whichever
 *   buffers its patterns are in (add_http_rule says why not combinations).
 * - An empty rule set compiles to a valid struct with both databases NULL;
 *   scratch allocation then gives a NULL scratch, scans report nothing and
 *   nm_sigdb_stream_open returns NULL with errno ENOENT. Likewise a set
 *   with no TCP/ip rule has a NULL stream database, and one with no
 *   UDP/ICMP/ip rule a NULL block database.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "sigdb.h"
#include "sigexpr.h"

#define IN_STREAM  (1ull << 0)
#define IN_BLOCK   (1ull << 1)
#define IN_HTTP(b) (1ull << (2 + (b))) /* the database of HTTP buffer b */
/* Buffer b's database of the rules with a body buffer, scanned when a message ends. */
#define IN_HTTP_LATE(b) (1ull << (2 + NM_SIG_BUF_MAX + (b)))
_Static_assert(2 + 2 * NM_SIG_BUF_MAX <= 64, "a database mask is a uint64_t");

/* Reporting expressions of one http rule, over all its buffers (presence ones included). */
#define HTTP_EXPRS_MAX 48

/* Whether http rule r has a body buffer: it is scanned when its message ends. */
static bool
http_late(const struct nm_sig_rule *r)
{
	for (unsigned int i = 0; i < r->n_patterns; i++)
		if (r->patterns[i].buffer == NM_SIG_BUF_HTTP_REQUEST_BODY ||
		    r->patterns[i].buffer == NM_SIG_BUF_HTTP_RESPONSE_BODY)
			return true;
	return false;
}

/* Matches only at the last byte of the data: the end-of-data marker. */
static const char eod_marker[] = "[\\x00-\\xff]\\z";

/* Every expression of every rule, before they are split by database. */
struct pool {
	unsigned int n;
	char **expr; /* malloc'd; the marker's entry is not (see pool_free) */
	unsigned int *flags;
	unsigned int *ids;
	hs_expr_ext_t *ext;
	bool *has_ext;
	unsigned int *rule; /* rule index; UINT_MAX for the marker */
	uint64_t *dbmask;   /* IN_STREAM | IN_BLOCK | IN_HTTP(b) ... */
};

/* One database's view of the pool, in the layout hs_compile_ext_multi takes. */
struct dbset {
	unsigned int n;
	const char **expr;
	unsigned int *flags;
	unsigned int *ids;
	const hs_expr_ext_t **ext;
	unsigned int *from; /* pool index of each entry */
};

static uint64_t
dbmask_of(uint8_t proto)
{
	switch (proto) {
	case NM_SIG_PROTO_TCP:
		return IN_STREAM;
	case NM_SIG_PROTO_UDP:
	case NM_SIG_PROTO_ICMP:
		return IN_BLOCK;
	default:
		return IN_STREAM | IN_BLOCK;
	}
}

static int
pool_init(struct pool *p, size_t cap)
{
	memset(p, 0, sizeof(*p));
	p->expr = calloc(cap, sizeof(*p->expr));
	p->flags = calloc(cap, sizeof(*p->flags));
	p->ids = calloc(cap, sizeof(*p->ids));
	p->ext = calloc(cap, sizeof(*p->ext));
	p->has_ext = calloc(cap, sizeof(*p->has_ext));
	p->rule = calloc(cap, sizeof(*p->rule));
	p->dbmask = calloc(cap, sizeof(*p->dbmask));
	if (!p->expr || !p->flags || !p->ids || !p->ext || !p->has_ext || !p->rule || !p->dbmask)
		return -ENOMEM;
	return 0;
}

static void
pool_free(struct pool *p)
{
	for (unsigned int i = 0; p->expr && i < p->n; i++)
		if (p->expr[i] != eod_marker)
			free(p->expr[i]);
	free(p->expr);
	free(p->flags);
	free(p->ids);
	free(p->ext);
	free(p->has_ext);
	free(p->rule);
	free(p->dbmask);
	memset(p, 0, sizeof(*p));
}

/* Append one expression; takes ownership of expr. */
static void
pool_add(struct pool *p, char *expr, unsigned int flags, unsigned int id, const hs_expr_ext_t *ext,
	 unsigned int rule, uint64_t dbmask)
{
	unsigned int i = p->n++;

	p->expr[i] = expr;
	p->flags[i] = flags;
	p->ids[i] = id;
	if (ext) {
		p->ext[i] = *ext;
		p->has_ext[i] = true;
	}
	p->rule[i] = rule;
	p->dbmask[i] = dbmask;
}

/* Where the reporting sub-patterns of multi-pattern stream rules map to. */
struct submap {
	struct nm_sigdb_sub *subs; /* by id - n_rules */
	unsigned int n_rules;
	unsigned int n_multi; /* bitmaps handed out */
};

/* Where the ids the pool hands out go: sub-expressions, the marker. */
struct ids {
	unsigned int next_sub; /* next free sub-expression id */
	unsigned int marker;   /* the end-of-data marker's id */
	uint64_t needs_marker; /* databases whose rules use the marker */
};

/*
 * Add rule ri's expressions to the databases in dbmask, reporting as id
 * report (ri itself, or a part of an http rule). sm records the stream
 * rules sigdb decides itself.
 */
static int
add_rule(struct pool *p, const struct nm_sig_rule *r, unsigned int ri, unsigned int report,
	 uint64_t dbmask, struct ids *ids, struct submap *sm, char *err, size_t errlen)
{
	struct nm_sig_expr ex[NM_SIG_MAX_EXPRS];
	unsigned int *next_sub = &ids->next_sub;
	uint64_t comb_mask;
	unsigned int slot = 0, n_ex = 0, k;
	bool negated = false, at_end = false;
	bool single, split;
	char *comb = NULL, *o = NULL;
	int rc;

	if (r->n_patterns == 0 || r->n_patterns > NM_SIG_MAX_PATTERNS) {
		snprintf(err, errlen, "sid %u line %u: %u patterns (1..%d allowed)", r->sid,
			 r->line, r->n_patterns, NM_SIG_MAX_PATTERNS);
		return -EINVAL;
	}
	rc = nm_sig_exprs_build(r, ex, &n_ex, err, errlen);
	if (rc < 0)
		return rc;
	for (k = 0; k < n_ex; k++) {
		negated |= ex[k].negated;
		at_end |= ex[k].at_end;
	}
	/* See sigexpr.c: a TCP stream has no end where \z could match as Suricata means. */
	if (at_end && (dbmask & IN_STREAM)) {
		snprintf(err, errlen,
			 "sid %u line %u: endswith, !isdataat and dsize need the end of a packet: "
			 "not on %s rules (TCP is scanned as a stream)",
			 r->sid, r->line, r->proto == NM_SIG_PROTO_TCP ? "tcp" : "ip");
		rc = -EINVAL;
		goto out;
	}
	if (n_ex > NM_SIG_MAX_PATTERNS && (dbmask & IN_STREAM)) {
		snprintf(err, errlen, "sid %u line %u: %u expressions, more than %d", r->sid,
			 r->line, n_ex, NM_SIG_MAX_PATTERNS);
		rc = -EINVAL;
		goto out;
	}
	single = n_ex == 1 && !negated;
	/*
	 * Several expressions, none negated, in the streaming database: each
	 * reports on its own and on_match completes the rule (file comment).
	 * The block database (ip rules) keeps the combination.
	 */
	split = !single && !negated && (dbmask & IN_STREAM);
	comb_mask = split ? dbmask & ~IN_STREAM : dbmask;
	if (split)
		slot = sm->n_multi++;

	if (!single && comb_mask) {
		/* "(" + per operand "!" + 10 digits + " & ", the marker, ")" */
		comb = malloc((size_t)(n_ex + 1) * 16 + 3);
		if (!comb)
			goto nomem;
		o = comb;
	}

	for (k = 0; k < n_ex; k++) {
		const hs_expr_ext_t *ext = ex[k].ext.flags ? &ex[k].ext : NULL;
		unsigned int flags = ex[k].flags | HS_FLAG_SINGLEMATCH;
		char *re = ex[k].re;

		if (single) {
			ex[k].re = NULL; /* the pool owns it now */
			pool_add(p, re, flags, report, ext, ri, dbmask);
			break;
		}
		if (split) {
			/*
			 * Reporting, SINGLEMATCH: each expression reports once per stream,
			 * so the rule's bitmap fills exactly once.
			 */
			char *sre = comb_mask ? strdup(re) : re;
			struct nm_sigdb_sub *sub = &sm->subs[*next_sub - sm->n_rules];

			if (!sre)
				goto nomem;
			if (!comb_mask)
				ex[k].re = NULL;
			sub->rule = ri;
			sub->slot = slot;
			sub->bit = (uint16_t)(1u << k);
			sub->all = (uint16_t)((1u << n_ex) - 1);
			pool_add(p, sre, flags, (*next_sub)++, ext, ri, IN_STREAM);
			if (!comb_mask)
				continue;
		}
		/*
		 * Not SINGLEMATCH: in streaming mode Hyperscan evaluates combinations
		 * lazily, when a later sub-expression match arrives (or at close), so
		 * every sub-expression match is a chance to report (file comment).
		 */
		o += sprintf(o, "%s%s%u", k ? " & " : "(", ex[k].negated ? "!" : "", *next_sub);
		ex[k].re = NULL;
		pool_add(p, re, (flags & ~HS_FLAG_SINGLEMATCH) | HS_FLAG_QUIET, (*next_sub)++, ext,
			 ri, comb_mask);
	}

	if (!comb)
		goto out;
	/* See the file comment: negation is only decided at the end of the data. */
	if (negated) {
		o += sprintf(o, " & %u", ids->marker);
		ids->needs_marker |= comb_mask;
	}
	strcpy(o, ")");
	pool_add(p, comb, HS_FLAG_COMBINATION | HS_FLAG_SINGLEMATCH, report, NULL, ri, comb_mask);
	comb = NULL;
	goto out;

nomem:
	free(comb);
	comb = NULL;
	snprintf(err, errlen, "sid %u line %u: out of memory", r->sid, r->line);
	rc = -ENOMEM;
out:
	nm_sig_exprs_free(ex, n_ex);
	return rc;
}

/*
 * Where the reporting expressions of http rules map to: (id, rule, bitmap
 * slot, bit) targets, sorted by id at the end. Identical expressions
 * (same buffer, text, flags and extended parameters) share one id, so
 * Hyperscan reports http.method "GET" once, not once per rule using it.
 */
struct httpmap {
	unsigned int n_rules;
	unsigned int n_multi; /* bitmap slots handed out */
	unsigned int n_targets;
	struct http_target {
		unsigned int id;
		struct nm_sigdb_sub sub;
	} * targets;
	unsigned int cap;		  /* entries of seen, a power of two */
	unsigned int *seen;		  /* pool index + 1 of each distinct expression; 0: empty */
	unsigned int n_deferred[2];	  /* by phase: 0 head, 1 late */
	struct nm_sigdb_sub *deferred[2]; /* n_rules entries each */
};

static uint64_t
expr_hash(const char *re, unsigned int flags, const hs_expr_ext_t *ext, uint64_t dbmask)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	const unsigned long long v[] = {flags,
					dbmask,
					ext ? ext->flags : 0,
					ext ? ext->min_offset : 0,
					ext ? ext->max_offset : 0,
					ext ? ext->min_length : 0};

	for (; *re; re++)
		h = (h ^ (uint8_t)*re) * 0x100000001b3ULL;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		h = (h ^ v[i]) * 0x100000001b3ULL;
	return h;
}

static bool
same_ext(const struct pool *p, unsigned int i, const hs_expr_ext_t *ext)
{
	if (!p->has_ext[i] || ext == NULL)
		return !p->has_ext[i] && ext == NULL;
	return p->ext[i].flags == ext->flags && p->ext[i].min_offset == ext->min_offset &&
	       p->ext[i].max_offset == ext->max_offset && p->ext[i].min_length == ext->min_length &&
	       p->ext[i].edit_distance == ext->edit_distance &&
	       p->ext[i].hamming_distance == ext->hamming_distance;
}

/*
 * The id of a reporting http expression: an identical one's (re is then
 * freed), or a new one added to the pool (which takes re).
 */
static unsigned int
http_expr_id(struct pool *p, struct httpmap *hm, struct ids *ids, char *re, unsigned int flags,
	     const hs_expr_ext_t *ext, unsigned int ri, uint64_t dbmask)
{
	unsigned int k = (unsigned int)expr_hash(re, flags, ext, dbmask) & (hm->cap - 1);

	for (; hm->seen[k] != 0; k = (k + 1) & (hm->cap - 1)) {
		unsigned int i = hm->seen[k] - 1;
		if (p->flags[i] == flags && p->dbmask[i] == dbmask && same_ext(p, i, ext) &&
		    strcmp(p->expr[i], re) == 0) {
			free(re);
			return p->ids[i];
		}
	}
	hm->seen[k] = p->n + 1;
	pool_add(p, re, flags, ids->next_sub, ext, ri, dbmask);
	return ids->next_sub++;
}

static int
target_cmp(const void *a, const void *b)
{
	unsigned int x = ((const struct http_target *)a)->id,
		     y = ((const struct http_target *)b)->id;

	return (x > y) - (x < y);
}

/* rule r's patterns in buffer b (sharing their bytes: the builder only reads them). */
static void
part_of(struct nm_sig_rule *part, const struct nm_sig_rule *r, unsigned int b)
{
	*part = *r;
	part->n_patterns = 0;
	/*
	 * Buffer b's bsize is the part's dsize: sigexpr.c gives it the same
	 * expression, its buffer's length (http rules refuse dsize itself).
	 */
	part->dsize_min = r->bsize_min[b] > 0 ? r->bsize_min[b] : -1;
	part->dsize_max = r->bsize_min[b] > 0 ? r->bsize_max[b] : -1;
	for (unsigned int i = 0; i < r->n_patterns; i++)
		if (r->patterns[i].buffer == b)
			part->patterns[part->n_patterns++] = r->patterns[i];
}

/*
 * Add buffer b's part of http rule ri: each expression reporting on its
 * own id, or, with a negated pattern, one combination (it needs the
 * end-of-data marker). The ids reported go to bit[*n_bits...].
 */
static int
add_http_part(struct pool *p, const struct nm_sig_rule *part, unsigned int ri, uint64_t mask,
	      bool combine, struct ids *ids, struct submap *sm, struct httpmap *hm,
	      unsigned int *id_of_bit, bool *veto, unsigned int *n_bits, char *err, size_t errlen)
{
	struct nm_sig_expr ex[NM_SIG_MAX_EXPRS];
	unsigned int n_ex = 0;
	bool negated = false;
	int rc = nm_sig_exprs_build(part, ex, &n_ex, err, errlen);

	if (rc < 0)
		return rc;
	unsigned int positive = 0;

	for (unsigned int k = 0; k < n_ex; k++) {
		negated |= ex[k].negated;
		positive += !ex[k].negated;
	}
	/*
	 * A negated content reports a veto; a part of negated contents only
	 * needs its buffer there, as Suricata inspects no absent buffer: the
	 * presence expression (the buffer's first byte) is its positive bit.
	 */
	static const hs_expr_ext_t first_byte = {.flags = HS_EXT_FLAG_MAX_OFFSET, .max_offset = 1};
	if (*n_bits + n_ex + 1 > HTTP_EXPRS_MAX) {
		snprintf(err, errlen,
			 "sid %u line %u: more than %d expressions over its HTTP buffers",
			 part->sid, part->line, HTTP_EXPRS_MAX - 1);
		rc = -EINVAL;
		goto out;
	}
	if (negated && combine) {
		/* Too many bits otherwise: the part is one combination, one bit. */
		unsigned int id = ids->next_sub++;

		veto[*n_bits] = false;
		id_of_bit[(*n_bits)++] = id;
		rc = add_rule(p, part, ri, id, mask, ids, sm, err, errlen);
		goto out;
	}
	if (positive == 0) {
		char *re = strdup("[\\x00-\\xff]");

		if (re == NULL) {
			snprintf(err, errlen, "sid %u line %u: out of memory", part->sid,
				 part->line);
			rc = -ENOMEM;
			goto out;
		}
		veto[*n_bits] = false;
		id_of_bit[(*n_bits)++] =
		    http_expr_id(p, hm, ids, re, HS_FLAG_SINGLEMATCH, &first_byte, ri, mask);
	}
	for (unsigned int k = 0; k < n_ex; k++) {
		veto[*n_bits] = ex[k].negated;
		id_of_bit[(*n_bits)++] =
		    http_expr_id(p, hm, ids, ex[k].re, ex[k].flags | HS_FLAG_SINGLEMATCH,
				 ex[k].ext.flags ? &ex[k].ext : NULL, ri, mask);
		ex[k].re = NULL; /* the pool owns it now, or it was freed */
	}
out:
	nm_sig_exprs_free(ex, n_ex);
	return rc;
}

/*
 * The positive bits rule r would take with vetoes for its negated
 * contents (a presence bit for a part of negated contents only); 99 if
 * its expressions cannot be built (add_http_part then says why).
 */
static unsigned int
positive_bits(const struct nm_sig_rule *r, unsigned int used, struct nm_sig_rule *part)
{
	unsigned int n = 0;
	char why[8];

	for (unsigned int b = 0; b < NM_SIG_BUF_MAX; b++) {
		struct nm_sig_expr ex[NM_SIG_MAX_EXPRS];
		unsigned int n_ex = 0, positive = 0;

		if (!(used & (1u << b)))
			continue;
		part_of(part, r, b);
		if (nm_sig_exprs_build(part, ex, &n_ex, why, sizeof(why)) < 0)
			return 99;
		for (unsigned int k = 0; k < n_ex; k++)
			positive += !ex[k].negated;
		n += positive > 0 ? positive : 1;
		nm_sig_exprs_free(ex, n_ex);
	}
	return n;
}

/*
 * An http rule. A rule that is one expression in one buffer reports
 * itself. Otherwise each expression (or a buffer's combination, see
 * add_http_part) reports on its own id, SINGLEMATCH, and the scan sets the
 * rule's bit for it in a bitmap that lives for one message
 * (dataplane/sig_scan.c): the rule matches when all its bits are set,
 * whichever buffers they are in. Hyperscan's logical combinations are
 * avoided where they are not needed: block mode evaluates every
 * combination at the end of every scan, about 30 ns each, and ET's
 * thousands made a 43-byte http.uri scan take 70 us.
 */
static int
add_http_rule(struct pool *p, const struct nm_sig_rule *r, unsigned int ri, struct ids *ids,
	      struct submap *sm, struct httpmap *hm, char *err, size_t errlen)
{
	unsigned int used = 0, n_bits = 0, id_of_bit[HTTP_EXPRS_MAX], n_pos = 0;
	bool veto[HTTP_EXPRS_MAX] = {false}, deferred = false;
	bool late = http_late(r);
	struct nm_sig_rule *part;
	int rc = 0;

	for (unsigned int i = 0; i < r->n_patterns; i++)
		used |= 1u << r->patterns[i].buffer;
	for (unsigned int b = 0; b < NM_SIG_BUF_MAX; b++)
		if (r->bsize_min[b] > 0)
			used |= 1u << b; /* urilen alone in http.uri */
	part = malloc(sizeof(*part));
	if (part == NULL) {
		snprintf(err, errlen, "sid %u line %u: out of memory", r->sid, r->line);
		return -ENOMEM;
	}
	if (__builtin_popcount(used) == 1) {
		unsigned int b = (unsigned int)__builtin_ctz(used);
		struct nm_sig_expr ex[NM_SIG_MAX_EXPRS];
		unsigned int n_ex = 0;

		part_of(part, r, b);
		rc = nm_sig_exprs_build(part, ex, &n_ex, err, errlen);
		bool single = rc == 0 && n_ex == 1 && !ex[0].negated;
		nm_sig_exprs_free(ex, n_ex);
		if (single || rc < 0) {
			/* One expression: add_rule makes it report the rule index. */
			if (rc == 0)
				rc = add_rule(p, part, ri, ri, late ? IN_HTTP_LATE(b) : IN_HTTP(b),
					      ids, sm, err, errlen);
			free(part);
			return rc;
		}
	}
	bool combine = positive_bits(r, used, part) > 14;
	for (unsigned int b = 0; b < NM_SIG_BUF_MAX && rc == 0; b++) {
		if (!(used & (1u << b)))
			continue;
		part_of(part, r, b);
		rc = add_http_part(p, part, ri, late ? IN_HTTP_LATE(b) : IN_HTTP(b), combine, ids,
				   sm, hm, id_of_bit, veto, &n_bits, err, errlen);
	}
	free(part);
	if (rc < 0)
		return rc;
	uint16_t bit_of[HTTP_EXPRS_MAX], all = 0;

	for (unsigned int k = 0; k < n_bits; k++) {
		n_pos += !veto[k];
		deferred |= veto[k];
	}
	/* With a veto, bits 14 and 15 are the deferred marker and the veto. */
	if (n_pos > (deferred ? 14u : 16u)) {
		snprintf(err, errlen,
			 "sid %u line %u: more than %u positive expressions over its HTTP buffers",
			 r->sid, r->line, deferred ? 14u : 16u);
		return -EINVAL;
	}
	n_pos = 0;
	for (unsigned int k = 0; k < n_bits; k++) {
		bit_of[k] = veto[k] ? NM_SIGDB_HTTP_VETO : (uint16_t)(1u << n_pos++);
		all |= veto[k] ? 0 : bit_of[k];
	}
	for (unsigned int k = 0; k < n_bits; k++)
		hm->targets[hm->n_targets++] = (struct http_target){
		    .id = id_of_bit[k],
		    .sub = {.rule = ri,
			    .slot = hm->n_multi,
			    .bit = bit_of[k],
			    .all = (uint16_t)(all | (deferred ? NM_SIGDB_HTTP_DEFERRED : 0))},
		};
	if (deferred)
		hm->deferred[late][hm->n_deferred[late]++] =
		    (struct nm_sigdb_sub){.rule = ri, .slot = hm->n_multi, .all = all};
	hm->n_multi++;
	return 0;
}

static int
compile_db(const struct pool *p, const struct nm_sig_rule *rules, uint64_t which,
	   hs_database_t **db, char *err, size_t errlen)
{
	struct dbset s = {0};
	hs_compile_error_t *cerr = NULL;
	hs_error_t hrc;
	int rc = 0;

	*db = NULL;
	s.expr = calloc(p->n, sizeof(*s.expr));
	s.flags = calloc(p->n, sizeof(*s.flags));
	s.ids = calloc(p->n, sizeof(*s.ids));
	/* An array of pointers, one per expression (NULL: no extended parameters). */
	s.ext = calloc(p->n, sizeof(*s.ext)); // NOLINT(bugprone-sizeof-expression)
	s.from = calloc(p->n, sizeof(*s.from));
	if (!s.expr || !s.flags || !s.ids || !s.ext || !s.from) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < p->n; i++) {
		if (!(p->dbmask[i] & which))
			continue;
		s.expr[s.n] = p->expr[i];
		s.flags[s.n] = p->flags[i];
		s.ids[s.n] = p->ids[i];
		s.ext[s.n] = p->has_ext[i] ? &p->ext[i] : NULL;
		s.from[s.n] = i;
		s.n++;
	}
	if (s.n == 0)
		goto out; /* nothing for this database: NULL */

	hrc = hs_compile_ext_multi(s.expr, s.flags, s.ids, s.ext, s.n,
				   which == IN_STREAM ? HS_MODE_STREAM : HS_MODE_VECTORED, NULL, db,
				   &cerr);
	if (hrc == HS_SUCCESS)
		goto out;

	rc = -EINVAL;
	if (cerr && cerr->expression >= 0 && (unsigned int)cerr->expression < s.n &&
	    p->rule[s.from[cerr->expression]] != UINT_MAX) {
		const struct nm_sig_rule *r = &rules[p->rule[s.from[cerr->expression]]];

		snprintf(err, errlen, "sid %u line %u: Hyperscan refused \"%s\": %s", r->sid,
			 r->line, s.expr[cerr->expression], cerr->message);
	} else {
		snprintf(err, errlen, "hs_compile_ext_multi(%u expressions, %s) failed: %s", s.n,
			 which == IN_STREAM  ? "stream"
			 : which == IN_BLOCK ? "block"
					     : "an HTTP buffer's block",
			 cerr ? cerr->message : "no reason given");
		if (hrc == HS_NOMEM)
			rc = -ENOMEM;
	}
	*db = NULL;

out:
	if (cerr)
		hs_free_compile_error(cerr);
	free(s.expr);
	free(s.flags);
	free(s.ids);
	free(s.ext);
	free(s.from);
	return rc;
}

static void
copy_rule(struct nm_sigdb_rule *d, const struct nm_sig_rule *r)
{
	d->sid = r->sid;
	d->rev = r->rev;
	d->priority = r->priority;
	d->action = r->action;
	d->proto = r->proto;
	d->flow = r->flow;
	d->bidirectional = r->bidirectional;
	d->src = r->src;
	d->dst = r->dst;
	d->sport = r->sport;
	d->dport = r->dport;
	d->thresh = r->thresh;
	memcpy(d->msg, r->msg, sizeof(d->msg));
	d->msg[sizeof(d->msg) - 1] = '\0';
	memcpy(d->classtype, r->classtype, sizeof(d->classtype));
	d->classtype[sizeof(d->classtype) - 1] = '\0';
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The targets sorted by id, and for each id above the rules' where its targets start. */
static int
http_index_build(struct nm_sigdb *db, struct httpmap *hm, unsigned int n_ids, char *err,
		 size_t errlen)
{
	qsort(hm->targets, hm->n_targets, sizeof(*hm->targets), target_cmp);
	db->http_index = calloc(n_ids, sizeof(*db->http_index));
	db->http_targets = calloc(hm->n_targets, sizeof(*db->http_targets));
	if (db->http_index == NULL || db->http_targets == NULL) {
		snprintf(err, errlen, "out of memory for %u http rule targets", hm->n_targets);
		return -ENOMEM;
	}
	for (unsigned int t = 0; t < hm->n_targets; t++) {
		struct nm_sigdb_http_index *x = &db->http_index[hm->targets[t].id - hm->n_rules];

		if (x->count++ == 0)
			x->first = t;
		db->http_targets[t] = hm->targets[t].sub;
	}
	db->n_http_index = n_ids;
	db->n_http_multi = hm->n_multi;
	return 0;
}

static void
digest_u32(EVP_MD_CTX *md, uint32_t v)
{
	uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	EVP_DigestUpdate(md, be, sizeof(be));
}

/*
 * db->stream_digest (sigdb-t.h says what it covers). Hyperscan's
 * serialized form has no addresses in it, so one rules file compiled by
 * two processes of one build on one CPU gives one digest. 0 or -errno.
 */
static int
stream_digest(struct nm_sigdb *db, char *err, size_t errlen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char *bytes = NULL;
	size_t len = 0;
	int rc = -EIO;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "SHA-256 of the stream database: no digest context");
		goto out;
	}
	if (db->stream != NULL && hs_serialize_database(db->stream, &bytes, &len) != HS_SUCCESS) {
		snprintf(err, errlen, "hs_serialize_database() of the stream database failed");
		goto out;
	}
	digest_u32(md, (uint32_t)len);
	EVP_DigestUpdate(md, bytes, len);
	digest_u32(md, db->n_rules);
	digest_u32(md, db->n_stream_multi);
	digest_u32(md, db->n_stream_subs);
	for (unsigned int i = 0; i < db->n_stream_subs; i++) {
		const struct nm_sigdb_sub *s = &db->stream_subs[i];
		digest_u32(md, s->rule);
		digest_u32(md, s->slot);
		digest_u32(md, (uint32_t)s->bit << 16 | s->all);
	}
	digest_u32(md, db->has_http);
	if (EVP_DigestFinal_ex(md, db->stream_digest, NULL) != 1)
		snprintf(err, errlen, "SHA-256 of the stream database failed");
	else
		rc = 0;
out:
	free(bytes); /* hs_serialize_database's allocator is the C heap's (hs_set_misc_allocator
			unset) */
	EVP_MD_CTX_free(md);
	return rc;
}

struct nm_sigdb *
nm_sigdb_compile(const struct nm_sig_rule *rules, unsigned int n, char *err, size_t errlen)
{
	struct nm_sigdb *db = NULL;
	struct pool pool = {0};
	struct submap sm = {NULL, n, 0};
	struct httpmap hm = {.n_rules = n};
	struct ids ids = {.next_sub = n};
	double t0;
	int rc = 0;

	if (hs_valid_platform() != HS_SUCCESS) {
		snprintf(err, errlen, "hs_valid_platform() failed: this CPU lacks SSSE3");
		rc = -ENOTSUP;
		goto out;
	}
	if (n > 0 && rules == NULL) {
		snprintf(err, errlen, "%u rules but no rule array", n);
		rc = -EINVAL;
		goto out;
	}
	/*
	 * Ids: rules 0..n-1, sub-expressions (at most two per pattern: quiet for
	 * a combination, reporting for the stream) and the marker above.
	 */
	if (n > (UINT_MAX - 2) / (2 * NM_SIG_MAX_EXPRS + 1 + NM_SIG_BUF_MAX)) {
		snprintf(err, errlen, "%u rules: too many", n);
		rc = -E2BIG;
		goto out;
	}

	db = calloc(1, sizeof(*db));
	if (!db || (n > 0 && !(db->rules = calloc(n, sizeof(*db->rules))))) {
		snprintf(err, errlen, "out of memory for %u rules", n);
		rc = -ENOMEM;
		goto out;
	}
	db->n_rules = n;
	if (n == 0)
		goto out;

	/* Per rule at most 2 * NM_SIG_MAX_EXPRS sub-expressions and one combination; one marker. */
	rc = pool_init(&pool, (size_t)n * (2 * NM_SIG_MAX_EXPRS + 1) + 1);
	sm.subs = calloc((size_t)n * 2 * NM_SIG_MAX_EXPRS, sizeof(*sm.subs));
	/* At most HTTP_EXPRS_MAX targets per rule; the dedup table at most half full. */
	hm.targets = calloc((size_t)n * HTTP_EXPRS_MAX, sizeof(*hm.targets));
	for (hm.cap = 64; hm.cap < (size_t)n * 2 * NM_SIG_MAX_EXPRS * 2; hm.cap *= 2)
		;
	hm.seen = calloc(hm.cap, sizeof(*hm.seen));
	hm.deferred[0] = calloc(n, sizeof(*hm.deferred[0]));
	hm.deferred[1] = calloc(n, sizeof(*hm.deferred[1]));
	if (rc < 0 || !sm.subs || !hm.targets || !hm.seen || !hm.deferred[0] || !hm.deferred[1]) {
		snprintf(err, errlen, "out of memory for %u rules", n);
		rc = -ENOMEM;
		goto out;
	}
	ids.marker = n + n * 2 * NM_SIG_MAX_EXPRS; /* above every sub-expression id */
	for (unsigned int i = 0; i < n; i++) {
		copy_rule(&db->rules[i], &rules[i]);
		if (rules[i].proto == NM_SIG_PROTO_HTTP)
			rc = add_http_rule(&pool, &rules[i], i, &ids, &sm, &hm, err, errlen);
		else
			rc = add_rule(&pool, &rules[i], i, i, dbmask_of(rules[i].proto), &ids, &sm,
				      err, errlen);
		if (rc < 0)
			goto out;
	}
	if (hm.n_multi > NM_SIGDB_HTTP_MULTI_MAX) {
		snprintf(err, errlen,
			 "%u http rules of more than one expression, more than %d (a message's "
			 "bitmaps are on the worker's stack)",
			 hm.n_multi, NM_SIGDB_HTTP_MULTI_MAX);
		rc = -E2BIG;
		goto out;
	}
	if (hm.n_multi > 0) {
		rc = http_index_build(db, &hm, ids.next_sub - n, err, errlen);
		if (rc < 0)
			goto out;
	}
	for (unsigned int ph = 0; ph < 2; ph++) {
		db->http_deferred[ph] = hm.deferred[ph];
		db->n_http_deferred[ph] = hm.n_deferred[ph];
		hm.deferred[ph] = NULL;
	}
	if (sm.n_multi) {
		/* Keep the map only up to the last sub-expression id handed out. */
		struct nm_sigdb_sub *subs =
		    realloc(sm.subs, (size_t)(ids.next_sub - n) * sizeof(*sm.subs));

		db->stream_subs = subs ? subs : sm.subs;
		sm.subs = NULL;
		db->n_stream_subs = ids.next_sub - n;
		db->n_stream_multi = sm.n_multi;
	}
	if (ids.needs_marker)
		pool_add(&pool, (char *)eod_marker, HS_FLAG_QUIET | HS_FLAG_SINGLEMATCH, ids.marker,
			 NULL, UINT_MAX, ids.needs_marker);

	t0 = now_ms();
	rc = compile_db(&pool, rules, IN_STREAM, &db->stream, err, errlen);
	if (rc == 0)
		rc = compile_db(&pool, rules, IN_BLOCK, &db->block, err, errlen);
	for (unsigned int b = NM_SIG_BUF_STREAM + 1; b < NM_SIG_BUF_MAX && rc == 0; b++) {
		rc = compile_db(&pool, rules, IN_HTTP(b), &db->http[b], err, errlen);
		if (rc == 0)
			rc = compile_db(&pool, rules, IN_HTTP_LATE(b), &db->http_late[b], err,
					errlen);
		db->has_http |= db->http[b] != NULL || db->http_late[b] != NULL;
	}
	db->compile_ms = now_ms() - t0;
	if (rc < 0)
		goto out;

	if (db->stream && hs_stream_size(db->stream, &db->stream_state_bytes) != HS_SUCCESS) {
		snprintf(err, errlen, "hs_stream_size() failed");
		rc = -EIO;
		goto out;
	}
	if (db->stream) {
		db->stream_seen_bytes =
		    sizeof(struct nm_sigdb_stream) + (size_t)db->n_stream_multi * sizeof(uint16_t);
		db->stream_state_bytes += db->stream_seen_bytes;
	}
	rc = stream_digest(db, err, errlen);

out:
	free(sm.subs);
	free(hm.targets);
	free(hm.seen);
	free(hm.deferred[0]);
	free(hm.deferred[1]);
	pool_free(&pool);
	if (rc < 0) {
		nm_sigdb_free(db);
		db = NULL;
		errno = -rc;
	}
	return db;
}

void
nm_sigdb_free(struct nm_sigdb *db)
{
	if (!db)
		return;
	hs_free_database(db->stream);
	db->stream = NULL;
	hs_free_database(db->block);
	db->block = NULL;
	free(db->rules);
	db->rules = NULL;
	free(db->stream_subs);
	db->stream_subs = NULL;
	for (unsigned int b = 0; b < NM_SIG_BUF_MAX; b++) {
		hs_free_database(db->http[b]);
		db->http[b] = NULL;
		hs_free_database(db->http_late[b]);
		db->http_late[b] = NULL;
	}
	free(db->http_index);
	db->http_index = NULL;
	free(db->http_targets);
	db->http_targets = NULL;
	for (unsigned int ph = 0; ph < 2; ph++) {
		free(db->http_deferred[ph]);
		db->http_deferred[ph] = NULL;
	}
	free(db);
}

/*
 * *scratch may be NULL or a scratch from an earlier call (Hyperscan grows
 * it in place). With no database at all, *scratch is left as it was.
 */
int
nm_sigdb_scratch_alloc(const struct nm_sigdb *db, hs_scratch_t **scratch)
{
	hs_scratch_t *s = *scratch;
	hs_error_t hrc = HS_SUCCESS;

	if (db->stream)
		hrc = hs_alloc_scratch(db->stream, &s);
	if (hrc == HS_SUCCESS && db->block)
		hrc = hs_alloc_scratch(db->block, &s);
	for (unsigned int b = 0; b < NM_SIG_BUF_MAX && hrc == HS_SUCCESS; b++)
		if (db->http[b])
			hrc = hs_alloc_scratch(db->http[b], &s);
	for (unsigned int b = 0; b < NM_SIG_BUF_MAX && hrc == HS_SUCCESS; b++)
		if (db->http_late[b])
			hrc = hs_alloc_scratch(db->http_late[b], &s);
	if (hrc != HS_SUCCESS) {
		/* Only free what this call allocated; a caller's scratch stays theirs. */
		if (*scratch == NULL && s != NULL)
			hs_free_scratch(s);
		return hrc == HS_NOMEM ? -ENOMEM : -EINVAL;
	}
	*scratch = s;
	return 0;
}
