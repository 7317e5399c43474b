/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The options of a rule, between its parentheses: the keyword table and
 * one function per keyword. Suricata's semantics are followed where they
 * apply: ';' ends an option unless escaped (even inside quotes), content
 * mixes text with |hex| blocks, modifiers apply to the content before
 * them. The informational keywords reference, metadata and target change
 * no match, so they are checked for shape and dropped, not refused.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigrule_priv.h"

/*
 * Next "key[:value];" at *pp. Returns 1 with *opt filled, 0 at the closing
 * ')', or -EINVAL. As in Suricata, the value ends at the first ';' not
 * preceded by a backslash, quotes or not. Does not write to the text.
 */
int
sig_next_option(char **pp, struct sig_option *opt, struct sig_ctx *c)
{
	char *p = *pp + strspn(*pp, SIG_WS);

	if (*p == ')') {
		*pp = p;
		return 0;
	}
	if (*p == '\0')
		return sig_fail(c, "unbalanced parentheses: no ')' closing the options");
	opt->key = p;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')
		p++;
	opt->klen = (size_t)(p - opt->key);
	if (opt->klen == 0) {
		char buf[8];
		return sig_fail(c, "expected a keyword at '%s'", sig_show_char(*p, buf));
	}
	p += strspn(p, SIG_WS);
	opt->val = NULL;
	opt->vlen = 0;
	if (*p == ';') {
		*pp = p + 1;
		return 1;
	}
	if (*p != ':')
		return sig_fail(c, "option '%.*s' is not terminated by ';'", (int)opt->klen,
				opt->key);
	p++;
	opt->val = p;
	for (; *p != '\0' && *p != ';'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	if (*p == '\0')
		return sig_fail(c, "option '%.*s' is not terminated by ';'", (int)opt->klen,
				opt->key);
	opt->vlen = (size_t)(p - opt->val);
	*pp = p + 1;
	return 1;
}

bool
sig_key_is(const struct sig_option *o, const char *name)
{
	return o->klen == strlen(name) && strncasecmp(o->key, name, o->klen) == 0;
}

/*
 * The body of a double-quoted value, in place. With unescape, \" \; \\ \:
 * become the character; otherwise escapes stay (pcre reads them itself).
 * Returns the body length, or -EINVAL.
 */
static int
unquote(const char *key, char *val, bool unescape, char **body, struct sig_ctx *c)
{
	size_t len = strlen(val), out = 0;
	char buf[8];

	if (len < 1 || val[0] != '"')
		return sig_fail(c, "%s: value must be in double quotes", key);
	for (size_t i = 1; i < len; i++) {
		char ch = val[i];
		if (ch == '"') {
			if (i != len - 1)
				return sig_fail(
				    c,
				    "%s: unbalanced quotes (a '\"' inside quotes must be "
				    "written '\\\"')",
				    key);
			*body = val;
			val[out] = '\0';
			return (int)out;
		}
		if (ch == '\\') {
			if (i + 1 >= len)
				break;
			char next = val[++i];
			if (unescape && next != '"' && next != ';' && next != '\\' && next != ':')
				return sig_fail(
				    c, "%s: unknown escape '\\%s' (only \\\" \\; \\\\ \\:)", key,
				    next == '\0' ? "" : sig_show_char(next, buf));
			if (!unescape)
				val[out++] = ch;
			ch = next;
		}
		val[out++] = ch;
	}
	return sig_fail(c, "%s: unbalanced quotes (a ';' inside quotes must be written '\\;')",
			key);
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Text with |41 42| hex blocks, decoded in place. Returns the length. */
static int
decode_content(char *s, size_t len, struct sig_ctx *c)
{
	size_t out = 0, i;
	bool hex = false;
	int nibble = -1;
	unsigned int hex_digits = 0;
	char buf[8];

	for (i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '|') {
			if (hex && nibble >= 0)
				return sig_fail(
				    c, "content: odd number of hex digits in a |...| block");
			if (hex && hex_digits == 0)
				return sig_fail(c, "content: empty |...| block");
			hex = !hex;
			hex_digits = 0;
			continue;
		}
		if (!hex) {
			s[out++] = ch;
			continue;
		}
		if (ch == ' ')
			continue;
		int v = hex_value(ch);
		if (v < 0)
			return sig_fail(c, "content: '%s' in a |...| block is not a hex digit",
					sig_show_char(ch, buf));
		hex_digits++;
		if (nibble < 0) {
			nibble = v;
		} else {
			s[out++] = (char)(nibble << 4 | v);
			nibble = -1;
		}
	}
	if (hex)
		return sig_fail(c, "content: unbalanced '|': a hex block is not closed");
	if (out == 0)
		return sig_fail(c, "content: empty");
	if (out > NM_SIG_MAX_PATTERN)
		return sig_fail(c, "content: %zu bytes, longer than %d", out, NM_SIG_MAX_PATTERN);
	return (int)out;
}

static int
add_pattern(struct nm_sig_rule *rule, const char *bytes, size_t len, struct sig_ctx *c,
	    struct nm_sig_pattern **out)
{
	struct nm_sig_pattern *pat;

	if (rule->n_patterns == NM_SIG_MAX_PATTERNS)
		return sig_fail(c, "more than %d content/pcre patterns", NM_SIG_MAX_PATTERNS);
	pat = &rule->patterns[rule->n_patterns];
	memset(pat, 0, sizeof(*pat));
	pat->data = malloc(len + 1);
	if (pat->data == NULL) {
		sig_fail(c, "out of memory");
		return -ENOMEM;
	}
	memcpy(pat->data, bytes, len);
	pat->data[len] = '\0';
	pat->len = (uint16_t)len;
	pat->buffer = c->buffer;
	pat->offset = -1;
	pat->depth = -1;
	rule->n_patterns++;
	*out = pat;
	return 0;
}

static int
opt_content(struct nm_sig_rule *rule, char *val, struct sig_ctx *c)
{
	struct nm_sig_pattern *pat;
	bool negated = false;
	char *body;
	int len;

	if (*val == '!') {
		negated = true;
		val = sig_trim(val + 1);
	}
	len = unquote("content", val, true, &body, c);
	if (len < 0)
		return len;
	len = decode_content(body, (size_t)len, c);
	if (len < 0)
		return len;
	int rc = add_pattern(rule, body, (size_t)len, c, &pat);
	if (rc < 0)
		return rc;
	pat->kind = NM_SIG_CONTENT;
	pat->negated = negated;
	return 0;
}

/*
 * Suricata's pcre flags that put the pcre in an HTTP buffer (its pcre
 * keyword page): the buffer, or -1 for any other character.
 */
static int
pcre_buffer_flag(char f)
{
	switch (f) {
	case 'U':
		return NM_SIG_BUF_HTTP_URI;
	case 'I':
		return NM_SIG_BUF_HTTP_URI_RAW;
	case 'P':
		return NM_SIG_BUF_HTTP_REQUEST_BODY;
	case 'Q':
		return NM_SIG_BUF_HTTP_RESPONSE_BODY;
	case 'H':
		return NM_SIG_BUF_HTTP_HEADER;
	case 'C':
		return NM_SIG_BUF_HTTP_COOKIE;
	case 'M':
		return NM_SIG_BUF_HTTP_METHOD;
	case 'S':
		return NM_SIG_BUF_HTTP_STAT_CODE;
	case 'Y':
		return NM_SIG_BUF_HTTP_STAT_MSG;
	case 'V':
		return NM_SIG_BUF_HTTP_USER_AGENT;
	case 'W':
		return NM_SIG_BUF_HTTP_HOST;
	default:
		return -1;
	}
}

static int
opt_pcre(struct nm_sig_rule *rule, char *val, struct sig_ctx *c)
{
	struct nm_sig_pattern *pat;
	char *body, *slash, buf[8];
	int len;

	if (*val == '!')
		return sig_fail(c, "pcre: negation is not supported");
	len = unquote("pcre", val, false, &body, c);
	if (len < 0)
		return len;
	slash = strrchr(body, '/');
	if (body[0] != '/' || slash == body)
		return sig_fail(c, "pcre: '%.64s' must be written \"/body/flags\"", body);
	*slash = '\0';
	size_t blen = (size_t)(slash - body - 1);
	if (blen == 0)
		return sig_fail(c, "pcre: empty body");
	if (blen > NM_SIG_MAX_PATTERN)
		return sig_fail(c, "pcre: body of %zu bytes, longer than %d", blen,
				NM_SIG_MAX_PATTERN);

	bool fl_i = false, fl_s = false, fl_m = false, fl_x = false, fl_r = false;
	uint8_t buffer = c->buffer;
	for (const char *f = slash + 1; *f; f++) {
		int b = pcre_buffer_flag(*f);

		if (b >= 0) {
			/* As Suricata: a buffer flag must name the sticky buffer, if any. */
			if (buffer != NM_SIG_BUF_STREAM && buffer != b)
				return sig_fail(c,
						"pcre flag '%s': the pcre is already in another "
						"buffer",
						sig_show_char(*f, buf));
			buffer = (uint8_t)b;
			continue;
		}
		switch (*f) {
		case 'i':
			fl_i = true;
			break;
		case 's':
			fl_s = true;
			break;
		case 'm':
			fl_m = true;
			break;
		case 'x':
			fl_x = true;
			break;
		case 'R':
			fl_r = true;
			break;
		default:
			return sig_fail(c,
					"pcre flag '%s' is not supported (only i s m x R and the "
					"buffer flags U I P Q H C M S Y V W)",
					sig_show_char(*f, buf));
		}
	}
	if (fl_r && sig_previous_match(rule, rule->n_patterns, buffer, "pcre flag R", c) < 0)
		return -EINVAL;
	int rc = add_pattern(rule, body + 1, blen, c, &pat);
	if (rc < 0)
		return rc;
	pat->buffer = buffer;
	pat->relative = fl_r;
	pat->kind = NM_SIG_PCRE;
	pat->nocase = fl_i;
	pat->dotall = fl_s;
	pat->multiline = fl_m;
	pat->extended = fl_x;
	return 0;
}

static int
opt_flow(struct nm_sig_rule *rule, char *val, struct sig_ctx *c)
{
	for (char *item = val, *comma; item != NULL; item = comma) {
		comma = strchr(item, ',');
		if (comma != NULL)
			*comma++ = '\0';
		item = sig_trim(item);
		if (strcasecmp(item, "to_server") == 0 || strcasecmp(item, "from_client") == 0)
			rule->flow |= NM_SIG_FLOW_TO_SERVER;
		else if (strcasecmp(item, "to_client") == 0 || strcasecmp(item, "from_server") == 0)
			rule->flow |= NM_SIG_FLOW_TO_CLIENT;
		else if (strcasecmp(item, "established") == 0)
			rule->flow |= NM_SIG_FLOW_ESTABLISHED;
		else
			return sig_fail(c,
					"flow option '%s' is not supported (to_server, to_client, "
					"from_client, from_server, established)",
					item);
	}
	if ((rule->flow & NM_SIG_FLOW_TO_SERVER) && (rule->flow & NM_SIG_FLOW_TO_CLIENT))
		return sig_fail(c, "flow: to_server and to_client together match nothing");
	return 0;
}

static int
opt_text(const char *key, char *val, char *dst, size_t size, struct sig_ctx *c)
{
	char *body;
	int len = unquote(key, val, true, &body, c);

	if (len < 0)
		return len;
	if ((size_t)len >= size)
		return sig_fail(c, "%s: longer than %zu characters", key, size - 1);
	memcpy(dst, body, (size_t)len + 1);
	return 0;
}

static int
opt_classtype(struct nm_sig_rule *rule, const char *val, struct sig_ctx *c)
{
	size_t n = strlen(val);

	if (n == 0 || n >= sizeof(rule->classtype) ||
	    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return sig_fail(c, "classtype '%s': must be 1..%zu characters of [A-Za-z0-9_-]",
				val, sizeof(rule->classtype) - 1);
	memcpy(rule->classtype, val, n + 1);
	return 0;
}

/*
 * reference:TYPE,ID; names an advisory (url, cve, bugtraq, md5, ...). Only
 * read for shape: TYPE a name, ID any text; nothing is kept.
 */
static int
opt_reference(char *val, struct sig_ctx *c)
{
	char *comma = strchr(val, ',');

	if (comma == NULL)
		return sig_fail(c, "reference '%.64s': must be TYPE,ID", val);
	*comma = '\0';
	char *type = sig_trim(val), *id = sig_trim(comma + 1);
	size_t n = strlen(type);
	if (n == 0 || *id == '\0')
		return sig_fail(c, "reference '%.32s,%.64s': TYPE and ID must both be given", type,
				id);
	if (strspn(type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return sig_fail(c, "reference type '%.32s': must be [A-Za-z0-9_-]", type);
	return 0;
}

/* target:src_ip|dest_ip; says which side is the victim, for logging only. */
static int
opt_target(const char *val, struct sig_ctx *c)
{
	if (strcmp(val, "src_ip") != 0 && strcmp(val, "dest_ip") != 0)
		return sig_fail(c, "target '%.64s': must be src_ip or dest_ip", val);
	return 0;
}

enum seen {
	SEEN_MSG = 1 << 0,
	SEEN_SID = 1 << 1,
	SEEN_REV = 1 << 2,
	SEEN_PRIORITY = 1 << 3,
	SEEN_FLOW = 1 << 4,
	SEEN_CLASSTYPE = 1 << 5,
	SEEN_TARGET = 1 << 6,
	SEEN_DSIZE = 1 << 7,
};

static const struct {
	const char *name;
	bool value;	   /* takes ":value" */
	unsigned int once; /* enum seen, 0: may repeat */
} keywords[] = {
    {"msg", true, SEEN_MSG},
    {"content", true, 0},
    {"nocase", false, 0},
    {"offset", true, 0},
    {"depth", true, 0},
    {"distance", true, 0},
    {"within", true, 0},
    {"startswith", false, 0},
    {"endswith", false, 0},
    {"isdataat", true, 0},
    {"dsize", true, SEEN_DSIZE},
    {"bsize", true, 0},
    {"urilen", true, 0},
    {"fast_pattern", true, 0},
    {"pcre", true, 0},
    {"flow", true, SEEN_FLOW},
    {"sid", true, SEEN_SID},
    {"rev", true, SEEN_REV},
    {"classtype", true, SEEN_CLASSTYPE},
    {"priority", true, SEEN_PRIORITY},
    {"threshold", true, 0}, /* once per rule, either of the two: sigthresh.c says so */
    {"detection_filter", true, 0},
    /* Informational: checked for shape, then dropped (they change no match). */
    {"reference", true, 0},
    {"metadata", true, 0},
    {"target", true, SEEN_TARGET},
};

int
sig_apply_option(struct nm_sig_rule *rule, struct sig_option *o, unsigned int *seen,
		 struct sig_ctx *c)
{
	unsigned int k;
	char key[20];
	char *val = NULL;
	uint64_t v;
	int rc = sig_opt_buffer(rule, o, c);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]) && !sig_key_is(o, keywords[k].name);
	     k++)
		;
	if (k == sizeof(keywords) / sizeof(keywords[0]))
		return sig_fail(c, "unsupported keyword '%.*s'", (int)(o->klen > 64 ? 64 : o->klen),
				o->key);
	snprintf(key, sizeof(key), "%s", keywords[k].name);
	if (o->val != NULL) {
		o->val[o->vlen] = '\0';
		val = sig_trim(o->val);
	}
	if (strcmp(key, "fast_pattern") == 0)
		return sig_opt_fast_pattern(rule, val, c); /* its value is optional */
	if (!keywords[k].value && val != NULL)
		return sig_fail(c, "%s: takes no value", key);
	if (keywords[k].value && (val == NULL || *val == '\0'))
		return sig_fail(c, "%s: needs a value", key);
	if (keywords[k].once & *seen)
		return sig_fail(c, "%s: given twice", key);
	*seen |= keywords[k].once;

	if (strcmp(key, "content") == 0)
		return opt_content(rule, val, c);
	if (strcmp(key, "pcre") == 0)
		return opt_pcre(rule, val, c);
	if (strcmp(key, "isdataat") == 0)
		return sig_opt_isdataat(rule, val, c);
	if (strcmp(key, "dsize") == 0)
		return sig_opt_dsize(rule, val, c);
	if (strcmp(key, "bsize") == 0)
		return sig_opt_bsize(rule, val, c);
	if (strcmp(key, "urilen") == 0)
		return sig_opt_urilen(rule, val, c);
	if (strcmp(key, "nocase") == 0 || strcmp(key, "offset") == 0 || strcmp(key, "depth") == 0 ||
	    strcmp(key, "distance") == 0 || strcmp(key, "within") == 0 ||
	    strcmp(key, "startswith") == 0 || strcmp(key, "endswith") == 0)
		return sig_opt_modifier(rule, key, val, c);
	if (strcmp(key, "threshold") == 0 || strcmp(key, "detection_filter") == 0)
		return sig_opt_threshold(rule, key, val, c);
	if (strcmp(key, "msg") == 0)
		return opt_text(key, val, rule->msg, sizeof(rule->msg), c);
	if (strcmp(key, "flow") == 0)
		return opt_flow(rule, val, c);
	if (strcmp(key, "classtype") == 0)
		return opt_classtype(rule, val, c);
	if (strcmp(key, "reference") == 0)
		return opt_reference(val, c);
	if (strcmp(key, "metadata") == 0)
		return 0; /* any text up to the unescaped ';': free-form key/value notes */
	if (strcmp(key, "target") == 0)
		return opt_target(val, c);
	if (strcmp(key, "sid") == 0) {
		if (!sig_parse_uint(val, UINT32_MAX, &v) || v == 0)
			return sig_fail(c, "sid '%s': must be a number 1..%u", val, UINT32_MAX);
		rule->sid = (uint32_t)v;
		c->sid = rule->sid;
		return 0;
	}
	if (strcmp(key, "rev") == 0) {
		if (!sig_parse_uint(val, UINT32_MAX, &v))
			return sig_fail(c, "rev '%s': must be a number 0..%u", val, UINT32_MAX);
		rule->rev = (uint32_t)v;
		return 0;
	}
	/* priority: Suricata takes 1..255. */
	if (!sig_parse_uint(val, 255, &v) || v == 0)
		return sig_fail(c, "priority '%s': must be a number 1..255", val);
	rule->priority = (uint32_t)v;
	return 0;
}

int
sig_options_done(struct nm_sig_rule *rule, unsigned int seen, struct sig_ctx *c)
{
	if (!(seen & SEEN_SID))
		return sig_fail(c, "rule has no sid");
	sig_relative_at_start(rule);
	for (unsigned int i = 0; i < rule->n_patterns; i++)
		if (rule->patterns[i].kind != NM_SIG_ISDATAAT)
			return sig_http_done(rule, c);
	return sig_fail(c, "rule has no content or pcre: nothing to match");
}
