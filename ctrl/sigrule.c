/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature rule parser: the Suricata rule-language subset described in
 * ctrl/sig.h, into struct nm_sig_rule. Rules come from
 * third-party rule sets, so whatever the Hyperscan engine could not honour
 * exactly (an unknown keyword, a pcre flag, a modifier it cannot place) is
 * refused with the keyword and the sid, never silently dropped: a rule that
 * matches less than its author wrote is worse than no rule. Suricata's
 * semantics are followed where they apply: ';' ends an option unless
 * escaped (even inside quotes), content mixes text with |hex| blocks,
 * nocase/offset/depth modify the content before them, depth counts from
 * offset, and both are at most 65535 (Suricata keeps them in 16 bits).
 * The informational keywords reference, metadata and target change no
 * match, so they are checked for shape and dropped, not refused.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigrule_priv.h"

#define MAX_HEADER_WORDS 8

int
sig_fail(struct sig_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (c->errlen == 0)
		return -EINVAL;
	if (c->sid != 0)
		n = snprintf(c->err, c->errlen, "sid %u: ", c->sid);
	if (n < 0 || (size_t)n >= c->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *
sig_show_char(char ch, char buf[8])
{
	if (isprint((unsigned char)ch))
		snprintf(buf, 8, "%c", ch);
	else
		snprintf(buf, 8, "\\x%02x", (unsigned char)ch);
	return buf;
}

char *
sig_trim(char *s)
{
	char *end;

	s += strspn(s, SIG_WS);
	end = s + strlen(s);
	while (end > s && strchr(SIG_WS, end[-1]) != NULL)
		*--end = '\0';
	return s;
}

bool
sig_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* ---- header ------------------------------------------------------------ */

/*
 * Split the header into words at blanks outside brackets, so that
 * "[1.2.3.4, 5.6.7.8]" stays one word as Suricata reads it.
 */
static int
split_header(char *hdr, char **words, unsigned int *n, struct sig_ctx *c)
{
	char *p = hdr;

	*n = 0;
	for (;;) {
		int depth = 0;

		p += strspn(p, SIG_WS);
		if (*p == '\0')
			return 0;
		if (*n == MAX_HEADER_WORDS)
			return sig_fail(c, "header has more than 7 words "
					   "(ACTION PROTO SRC SPORT DIR DST DPORT)");
		words[(*n)++] = p;
		for (; *p != '\0' && (depth > 0 || strchr(SIG_WS, *p) == NULL); p++) {
			if (*p == '[')
				depth++;
			else if (*p == ']' && --depth < 0)
				break;
		}
		if (depth != 0) {
			char *w = words[*n - 1];
			if (*p != '\0')
				p[1] = '\0';
			return sig_fail(c, "'%s': unbalanced brackets", sig_trim(w));
		}
		if (*p == '\0')
			return 0;
		*p++ = '\0';
	}
}

static int
parse_header(char *hdr, struct nm_sig_rule *rule, struct sig_ctx *c)
{
	static const char *const actions[] = {"alert", "drop", "reject", "pass"};
	static const char *const protos[] = {"ip", "tcp", "udp", "icmp", "http"};
	char *w[MAX_HEADER_WORDS];
	unsigned int n, i;

	if (split_header(hdr, w, &n, c) < 0)
		return -EINVAL;
	if (n != 7)
		return sig_fail(
		    c, "header needs 7 words (ACTION PROTO SRC SPORT DIR DST DPORT), got %u", n);

	for (i = 0; i < 4 && strcasecmp(w[0], actions[i]) != 0; i++)
		;
	if (i == 4)
		return sig_fail(c, "unknown action '%s' (alert, drop, reject or pass)", w[0]);
	rule->action = (uint8_t)i; /* enum nm_sig_action order */

	for (i = 0; i < 5 && strcasecmp(w[1], protos[i]) != 0; i++)
		;
	if (i == 5)
		return sig_fail(c, "unknown protocol '%s' (tcp, udp, icmp, ip or http)", w[1]);
	rule->proto = (uint8_t)i; /* enum nm_sig_proto order */

	if (strcmp(w[4], "<>") == 0)
		rule->bidirectional = true;
	else if (strcmp(w[4], "->") != 0)
		return sig_fail(c, "direction '%s' must be -> or <>", w[4]);

	if (sig_parse_addrs(w[2], "source address", &rule->src, c) < 0 ||
	    sig_parse_ports(w[3], "source port", &rule->sport, c) < 0 ||
	    sig_parse_addrs(w[5], "destination address", &rule->dst, c) < 0 ||
	    sig_parse_ports(w[6], "destination port", &rule->dport, c) < 0)
		return -EINVAL;

	/* Ports only exist for TCP and UDP; on ip or icmp they could never match as written. */
	if ((rule->sport.n != 0 || rule->dport.n != 0) && rule->proto != NM_SIG_PROTO_TCP &&
	    rule->proto != NM_SIG_PROTO_UDP && rule->proto != NM_SIG_PROTO_HTTP)
		return sig_fail(c, "ports need protocol tcp, udp or http, not '%s'", w[1]);
	return 0;
}

/* "sid: N ;" at p, as a number, or 0. */
static uint32_t
sid_at(const char *p)
{
	uint64_t v = 0;
	const char *digits;

	if (strncasecmp(p, "sid", 3) != 0)
		return 0;
	p += 3;
	p += strspn(p, SIG_WS);
	if (*p++ != ':')
		return 0;
	p += strspn(p, SIG_WS);
	for (digits = p; isdigit((unsigned char)*p) && p - digits < 10; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	p += strspn(p, SIG_WS);
	return p > digits && *p == ';' && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/*
 * Find the sid before anything else is checked, so that a refusal in the
 * header or an early option can still name it. Reads only. When the
 * options do not split, look for "sid:N;" after any unescaped ';' or the
 * '(' instead: a refusal of broken text is still worth a sid.
 */
static uint32_t
find_sid(char *opts)
{
	struct sig_ctx quiet = {.err = NULL, .errlen = 0, .sid = 0, .vars = NULL};
	struct sig_option o;
	char *p = opts;
	int rc;

	while ((rc = sig_next_option(&p, &o, &quiet)) == 1)
		if (sig_key_is(&o, "sid"))
			return sid_at(o.key);
	if (rc == 0)
		return 0;

	bool escaped = false;
	for (p = opts; *p; p++) {
		if (escaped) {
			escaped = false;
			continue;
		}
		if (*p == '\\') {
			escaped = true;
			continue;
		}
		if (p == opts || *p == ';') {
			uint32_t sid = sid_at(p + (*p == ';') + strspn(p + (*p == ';'), SIG_WS));
			if (sid != 0)
				return sid;
		}
	}
	return 0;
}

static int
parse_rule(char *text, struct nm_sig_rule *rule, struct sig_ctx *c)
{
	char *open = strchr(text, '('), *p;
	struct sig_option o;
	unsigned int seen = 0;
	int rc;

	if (text[strspn(text, SIG_WS)] == '\0')
		return sig_fail(c, "rule is empty");
	if (open == NULL)
		return sig_fail(c, "no '(' opening the options");
	*open = '\0';
	p = open + 1;
	c->sid = find_sid(p);

	if (parse_header(text, rule, c) < 0)
		return -EINVAL;

	while ((rc = sig_next_option(&p, &o, c)) == 1)
		if ((rc = sig_apply_option(rule, &o, &seen, c)) < 0)
			return rc;
	if (rc < 0)
		return rc;
	if (p[1 + strspn(p + 1, SIG_WS)] != '\0')
		return sig_fail(c, "text after the closing ')'");

	return sig_options_done(rule, seen, c);
}

int
nm_sig_rule_parse_vars(const char *line, const struct nm_sig_vars *vars, struct nm_sig_rule *rule,
		       char *err, size_t errlen)
{
	struct sig_ctx c = {.err = err, .errlen = errlen, .sid = 0, .vars = vars};
	char *text;
	int rc;

	memset(rule, 0, sizeof(*rule));
	rule->dsize_min = -1;
	rule->dsize_max = -1;
	text = strdup(line);
	if (text == NULL) {
		sig_fail(&c, "out of memory");
		return -ENOMEM;
	}
	rc = parse_rule(text, rule, &c);
	free(text);
	text = NULL;
	if (rc < 0)
		nm_sig_rule_clear(rule);
	return rc;
}

int
nm_sig_rule_parse(const char *line, struct nm_sig_rule *rule, char *err, size_t errlen)
{
	struct nm_sig_vars *vars = malloc(sizeof(*vars));
	int rc;

	if (vars == NULL) {
		struct sig_ctx c = {.err = err, .errlen = errlen, .sid = 0, .vars = NULL};
		memset(rule, 0, sizeof(*rule));
		sig_fail(&c, "out of memory");
		return -ENOMEM;
	}
	nm_sig_vars_defaults(vars);
	rc = nm_sig_rule_parse_vars(line, vars, rule, err, errlen);
	free(vars);
	vars = NULL;
	return rc;
}

void
nm_sig_rule_clear(struct nm_sig_rule *rule)
{
	for (unsigned int i = 0; i < rule->n_patterns && i < NM_SIG_MAX_PATTERNS; i++) {
		free(rule->patterns[i].data);
		rule->patterns[i].data = NULL;
	}
	rule->n_patterns = 0;
}
