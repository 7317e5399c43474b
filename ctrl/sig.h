/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature rules: parser (ctrl/sigrule.c) and Hyperscan databases
 * (ctrl/sigdb.c). Control thread only; workers get compiled databases.
 *
 * Accepted grammar (Suricata subset):
 *   ACTION PROTO SRC SPORT DIR DST DPORT (OPTIONS)
 *   ACTION  := alert | drop | reject | pass
 *   PROTO   := tcp | udp | icmp | ip | http
 *   SRC/DST := any | CIDR | a.b.c.d | $VAR | !GROUP | [GROUP, !GROUP, ...]  (nested)
 *   PORT    := any | N | N:M | N: | :M | $VAR | !GROUP | [GROUP, !GROUP, ...]
 *   DIR     := -> | <>
 *   OPTIONS := KEY[:VALUE]; ...   with KEY one of
 *     msg:"..."; content:"..."/!"..." (|hex| allowed); nocase; offset:N;
 *     depth:N; distance:N; within:N; startswith; endswith; fast_pattern[:only|:N,M];
 *     isdataat:[!]N[,relative]; dsize, bsize, urilen[,raw|norm]:
 *     N|<N|>N|<=N|>=N|N<>M;
 *     pcre:"/body/flags" (flags i s m x R, buffer flags U I P Q H C M S Y V W);
 *     the HTTP sticky buffers (ctrl/sighttp.c) and pkt_data; flow:to_server|
 *     to_client|from_client|from_server|established (comma list);
 *     sid:N; rev:N; classtype:NAME; priority:N
 *   and, accepted but not kept (informational, they change no match):
 *     reference:TYPE,ID (TYPE [A-Za-z0-9_-]+, ID any non-empty text, may repeat);
 *     metadata:TEXT (any non-empty text up to the unescaped ';', may repeat);
 *     target:src_ip|dest_ip (once)
 *   Modifiers apply to the content before them (ctrl/sigmod.c has their
 *   meaning); $VAR comes from signatures.vars over Suricata's defaults.
 * Anything else (another keyword, a buffer not built, a pcre flag
 * Hyperscan cannot honour, a modifier on a negated content, a relative
 * match after a negated content) is refused with the reason.
 */
#ifndef NM_SIG_H
#define NM_SIG_H

#include <stddef.h>

#include "nodemesh/sig-t.h"

#define NM_SIG_MAX_VARS	 64
#define NM_SIG_VAR_NAME	 32  /* bytes, NUL included; the name without '$' */
#define NM_SIG_VAR_VALUE 512 /* bytes, NUL included */

/* Rule variables ($NAME in a header): ctrl/sigvars.c. */
struct nm_sig_var {
	char name[NM_SIG_VAR_NAME];
	char value[NM_SIG_VAR_VALUE]; /* an address or port group, as written */
};

struct nm_sig_vars {
	unsigned int n;
	struct nm_sig_var v[NM_SIG_MAX_VARS];
};

/* Suricata's defaults (suricata.yaml's vars section): HOME_NET, EXTERNAL_NET, HTTP_PORTS, ... */
void nm_sig_vars_defaults(struct nm_sig_vars *v);

/* Replace or add NAME (without '$'). 0, or -EINVAL/-E2BIG with err saying why. */
int nm_sig_vars_set(struct nm_sig_vars *v, const char *name, const char *value, char *err,
		    size_t errlen);

/* The value of NAME, or NULL. */
const char *nm_sig_vars_get(const struct nm_sig_vars *v, const char *name);

/* Every variable parses as an address or a port group. 0 or -EINVAL with err. */
int nm_sig_vars_check(const struct nm_sig_vars *v, char *err, size_t errlen);

/*
 * Variables from a libconfig file (NAME = "value"; at the top level or in
 * signatures.vars) over what *vars holds. 0, or -1 with err naming the
 * file, the line and what was wrong (ctrl/sigvars_file.c).
 */
int nm_sig_vars_load(const char *path, struct nm_sig_vars *vars, char *err, size_t errlen);

/*
 * Parse one rule line. Returns 0, or -EINVAL with err saying why (and the
 * sid when it was already read). On error *rule holds nothing to free.
 */
int nm_sig_rule_parse(const char *line, struct nm_sig_rule *rule, char *err, size_t errlen);

/* The same with $NAME taken from vars (nm_sig_rule_parse uses Suricata's defaults). */
int nm_sig_rule_parse_vars(const char *line, const struct nm_sig_vars *vars,
			   struct nm_sig_rule *rule, char *err, size_t errlen);

/* Free what a parsed rule holds (pattern bytes); the rule can be parsed into again. */
void nm_sig_rule_clear(struct nm_sig_rule *rule);

/*
 * Parse a rules file, all or nothing: blank lines and '#' comments are
 * skipped, a line may continue with a trailing '\\'. Returns the number of
 * rules in *rules (malloc'd; free with nm_sig_rules_free), or -errno with
 * (vars: $NAME values; NULL for Suricata's defaults)
 * err holding "FILE:LINE: sid N: reason". Duplicate sids are refused.
 */
int nm_sig_file_parse(const char *path, const struct nm_sig_vars *vars, struct nm_sig_rule **rules,
		      char *err, size_t errlen);
void nm_sig_rules_free(struct nm_sig_rule *rules, unsigned int n);

/* Called with one rule's text (continuations joined) and the line it starts on. */
typedef int (*nm_sig_text_fn)(void *ctx, const char *text, unsigned int first_line);

/*
 * The rules-file reader under nm_sig_file_parse, for callers that treat
 * each rule on its own (nm-sigcheck): calls fn for every rule text in
 * order, after joining '\\' continuations and skipping blank lines and '#'
 * comments. Stops at the first negative fn result and returns it; else 0,
 * or -errno when the file cannot be opened or read, -ENOMEM. *lines (if
 * not NULL) gets the number of lines read.
 */
int nm_sig_file_each(const char *path, nm_sig_text_fn fn, void *ctx, unsigned int *lines);

#endif
