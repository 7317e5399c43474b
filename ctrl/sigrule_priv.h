/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the three parts of the rule parser share: ctrl/sigrule.c (the rule
 * and its header), ctrl/sigaddr.c (address and port groups, variables)
 * and ctrl/sigopt.c (the options between the parentheses). Control thread
 * only; nothing here is seen outside ctrl/sig*.c.
 */
#ifndef NM_SIGRULE_PRIV_H
#define NM_SIGRULE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sig.h"

#define SIG_WS " \t\r\n"

/* Where a refusal goes, and the sid to name once it is known. */
struct sig_ctx {
	char *err;
	size_t errlen;
	uint32_t sid;			/* 0: not known */
	const struct nm_sig_vars *vars; /* $NAME values; never NULL while parsing */
	uint8_t buffer; /* the sticky buffer content/pcre go to (enum nm_sig_buffer) */
	bool file_data; /* the rule named file.data (the response body) */
};

/* Write "sid N: " and the message into c->err; returns -EINVAL. */
int sig_fail(struct sig_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A character for a message: printable as itself, anything else as \xNN. */
const char *sig_show_char(char ch, char buf[8]);

/* s without leading and trailing blanks (writes a NUL at the new end). */
char *sig_trim(char *s);

/* Decimal without sign, at most max; the whole string. */
bool sig_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* A header word: address group (what names it in messages) or port group. */
int sig_parse_addrs(const char *word, const char *what, struct nm_sig_addrs *a, struct sig_ctx *c);
int sig_parse_ports(const char *word, const char *what, struct nm_sig_ports *p, struct sig_ctx *c);

/* One "key[:value];" of the options. */
struct sig_option {
	char *key;
	size_t klen;
	char *val; /* NULL: no ':' */
	size_t vlen;
};

/* Next option at *pp: 1 with *opt filled, 0 at the closing ')', or -EINVAL. */
int sig_next_option(char **pp, struct sig_option *opt, struct sig_ctx *c);
bool sig_key_is(const struct sig_option *o, const char *name);

/* Apply one option to rule; *seen tracks the keywords allowed once. */
int sig_apply_option(struct nm_sig_rule *rule, struct sig_option *o, unsigned int *seen,
		     struct sig_ctx *c);

/*
 * Content modifiers (ctrl/sigmod.c): nocase, offset, depth, distance,
 * within, startswith, endswith modify the content before them;
 * fast_pattern is accepted; isdataat adds a check; dsize is per rule.
 */
int sig_opt_modifier(struct nm_sig_rule *rule, const char *key, const char *val, struct sig_ctx *c);
int sig_opt_fast_pattern(struct nm_sig_rule *rule, const char *val, struct sig_ctx *c);
int sig_opt_isdataat(struct nm_sig_rule *rule, char *val, struct sig_ctx *c);
int sig_opt_dsize(struct nm_sig_rule *rule, const char *val, struct sig_ctx *c);
/*
 * Whether pattern `before` of rule, in buffer, may be relative to the
 * match before it in that buffer: 0, 1 when there is none (it counts from
 * the buffer's start, sig_relative_at_start; a pcre R is refused then),
 * or -EINVAL.
 */
int sig_previous_match(const struct nm_sig_rule *rule, unsigned int before, uint8_t buffer,
		       const char *key, struct sig_ctx *c);
/* After the last option: relative matches first in their buffer made absolute. */
void sig_relative_at_start(struct nm_sig_rule *rule);
/* bsize on the sticky buffer; urilen on http.uri (or raw): rule->bsize_min/max. */
int sig_opt_bsize(struct nm_sig_rule *rule, const char *val, struct sig_ctx *c);
int sig_opt_urilen(struct nm_sig_rule *rule, char *val, struct sig_ctx *c);

/*
 * threshold and detection_filter (ctrl/sigthresh.c): key is which, val
 * its items; into rule->thresh, one per rule.
 */
int sig_opt_threshold(struct nm_sig_rule *rule, const char *key, char *val, struct sig_ctx *c);

/*
 * HTTP buffers (ctrl/sighttp.c): a sticky buffer keyword (http.uri) or a
 * legacy content modifier (http_uri). 1 if key is one, with the option
 * applied; 0 if it is not; -EINVAL if refused.
 */
int sig_opt_buffer(struct nm_sig_rule *rule, const struct sig_option *o, struct sig_ctx *c);
/* The whole rule's HTTP checks, from sig_options_done. */
int sig_http_done(struct nm_sig_rule *rule, struct sig_ctx *c);

/* After the last option: checks that need the whole rule (sigopt.c). */
int sig_options_done(struct nm_sig_rule *rule, unsigned int seen, struct sig_ctx *c);

#endif
