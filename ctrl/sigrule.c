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

#include "sig.h"

#define WS		 " \t\r\n"
#define MAX_HEADER_WORDS 8
#define MAX_OFFSET	 65535 /* Suricata: uint16_t offset and depth */

/* Where a refusal goes, and the sid to name once it is known. */
struct ctx {
	char *err;
	size_t errlen;
	uint32_t sid; /* 0: not known */
};

static int __attribute__((format(printf, 2, 3))) fail(struct ctx *c, const char *fmt, ...)
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

/* A character for a message: printable as itself, anything else as \xNN. */
static const char *
show_char(char ch, char buf[8])
{
	if (isprint((unsigned char)ch))
		snprintf(buf, 8, "%c", ch);
	else
		snprintf(buf, 8, "\\x%02x", (unsigned char)ch);
	return buf;
}

static char *
trim(char *s)
{
	char *end;

	s += strspn(s, WS);
	end = s + strlen(s);
	while (end > s && strchr(WS, end[-1]) != NULL)
		*--end = '\0';
	return s;
}

/* Decimal without sign, at most max; whole string. */
static bool
parse_uint(const char *s, uint64_t max, uint64_t *out)
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
split_header(char *hdr, char **words, unsigned int *n, struct ctx *c)
{
	char *p = hdr;

	*n = 0;
	for (;;) {
		int depth = 0;

		p += strspn(p, WS);
		if (*p == '\0')
			return 0;
		if (*n == MAX_HEADER_WORDS)
			return fail(c, "header has more than 7 words "
				       "(ACTION PROTO SRC SPORT DIR DST DPORT)");
		words[(*n)++] = p;
		for (; *p != '\0' && (depth > 0 || strchr(WS, *p) == NULL); p++) {
			if (*p == '[')
				depth++;
			else if (*p == ']' && --depth < 0)
				break;
		}
		if (depth != 0) {
			char *w = words[*n - 1];
			if (*p != '\0')
				p[1] = '\0';
			return fail(c, "'%s': unbalanced brackets", trim(w));
		}
		if (*p == '\0')
			return 0;
		*p++ = '\0';
	}
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

static int
parse_cidr(char *item, const char *what, const char *word, struct nm_sig_cidr *cidr, struct ctx *c)
{
	char *slash = strchr(item, '/');
	uint64_t len = 32;

	if (item[0] == '$')
		return fail(c, "%s '%s': variables like %s are not supported, write the addresses",
			    what, word, item);
	if (strchr(item, ':') != NULL)
		return fail(c, "%s '%s': IPv6 is not supported", what, word);
	if (slash != NULL) {
		*slash = '\0';
		if (!parse_uint(slash + 1, UINT8_MAX, &len) ||
		    (slash[1] == '0' && slash[2] != '\0'))
			return fail(c, "%s '%s': prefix '/%s' is not a number 0..32", what, word,
				    slash + 1);
		if (len > 32)
			return fail(c, "%s '%s': prefix length /%s is over 32", what, word,
				    slash + 1);
	}
	if (!parse_ipv4(item, &cidr->addr))
		return fail(c, "%s '%s': '%s' is not an IPv4 address a.b.c.d", what, word, item);
	cidr->len = (uint8_t)len;
	/* Host bits are dropped, as Suricata does: 10.1.2.3/8 is 10.0.0.0/8. */
	cidr->addr &= len == 0 ? 0 : UINT32_MAX << (32 - len);
	return 0;
}

/*
 * Shared shape of address and port words: `any`, one item, "[a,b,...]",
 * "!item", "![list]". Per-item negation inside a list and nested lists
 * cannot be represented by one negated flag, so they are refused.
 * Calls item_fn for each item; returns the number of items (0 for any).
 */
typedef int (*item_fn)(char *item, const char *what, const char *word, void *out, unsigned int i,
		       struct ctx *c);

static int
parse_list(char *word, const char *what, unsigned int max, bool *negated, item_fn fn, void *out,
	   struct ctx *c)
{
	char orig[128];
	char *p = word;
	unsigned int n = 0;

	snprintf(orig, sizeof(orig), "%s", word);
	*negated = false;
	if (*p == '!') {
		*negated = true;
		p++;
	}
	if (strcasecmp(p, "any") == 0) {
		if (*negated)
			return fail(c, "%s '%s': '!any' matches nothing", what, orig);
		return 0;
	}
	if (*p != '[') {
		if (*p == '!')
			return fail(c, "%s '%s': double negation", what, orig);
		if (*p == '\0')
			return fail(c, "%s '%s': empty", what, orig);
		if (strchr(p, ']') != NULL)
			return fail(c, "%s '%s': unbalanced brackets", what, orig);
		return fn(p, what, orig, out, 0, c) < 0 ? -EINVAL : 1;
	}
	if (strchr(p + 1, '[') != NULL)
		return fail(c, "%s '%s': nested lists are not supported", what, orig);
	/* split_header() balanced the brackets; the word must end with the ']'. */
	char *end = strchr(p, ']');
	if (end == NULL || end[1] != '\0')
		return fail(c, "%s '%s': text after the closing ']'", what, orig);
	*end = '\0';
	p++;
	for (char *item = p, *comma; item != NULL; item = comma) {
		comma = strchr(item, ',');
		if (comma != NULL)
			*comma++ = '\0';
		item = trim(item);
		if (*item == '\0')
			return fail(c, "%s '%s': empty item in the list", what, orig);
		if (*item == '[')
			return fail(c, "%s '%s': nested lists are not supported", what, orig);
		if (*item == '!')
			return fail(c,
				    "%s '%s': negation inside a list is not supported, negate the "
				    "whole list: ![...]",
				    what, orig);
		if (strcasecmp(item, "any") == 0)
			return fail(c, "%s '%s': 'any' inside a list", what, orig);
		if (n == max)
			return fail(c, "%s '%s': more than %u items", what, orig, max);
		if (fn(item, what, orig, out, n, c) < 0)
			return -EINVAL;
		n++;
	}
	return (int)n;
}

static int
addr_item(char *item, const char *what, const char *word, void *out, unsigned int i, struct ctx *c)
{
	struct nm_sig_addrs *a = out;

	return parse_cidr(item, what, word, &a->items[i], c);
}

static int
port_number(const char *s, const char *what, const char *word, uint16_t *out, struct ctx *c)
{
	size_t len = strlen(s);
	uint64_t v;

	if (len == 0 || strspn(s, "0123456789") != len)
		return fail(c, "%s '%s': '%s' is not a port number", what, word, s);
	if (len > 5 || !parse_uint(s, 65535, &v))
		return fail(c, "%s '%s': port %s is over 65535", what, word, s);
	*out = (uint16_t)v;
	return 0;
}

/* N, N:M, N: (to 65535), :M (from 0). */
static int
port_item(char *item, const char *what, const char *word, void *out, unsigned int i, struct ctx *c)
{
	struct nm_sig_port_range *r = &((struct nm_sig_ports *)out)->items[i];
	char *colon = strchr(item, ':');

	if (item[0] == '$')
		return fail(c, "%s '%s': variables like %s are not supported, write the ports",
			    what, word, item);
	if (colon == NULL) {
		if (port_number(item, what, word, &r->lo, c) < 0)
			return -EINVAL;
		r->hi = r->lo;
		return 0;
	}
	*colon = '\0';
	if (item[0] == '\0' && colon[1] == '\0')
		return fail(c, "%s '%s': range ':' has neither end", what, word);
	r->lo = 0;
	r->hi = 65535;
	if (item[0] != '\0' && port_number(item, what, word, &r->lo, c) < 0)
		return -EINVAL;
	if (colon[1] != '\0' && port_number(colon + 1, what, word, &r->hi, c) < 0)
		return -EINVAL;
	if (r->lo > r->hi)
		return fail(c, "%s '%s': range %u:%u has its low end above its high end", what,
			    word, r->lo, r->hi);
	return 0;
}

static int
parse_addrs(char *word, const char *what, struct nm_sig_addrs *a, struct ctx *c)
{
	int n = parse_list(word, what, NM_SIG_MAX_ADDRS, &a->negated, addr_item, a, c);

	if (n < 0)
		return n;
	a->n = (uint8_t)n;
	return 0;
}

static int
parse_ports(char *word, const char *what, struct nm_sig_ports *p, struct ctx *c)
{
	int n = parse_list(word, what, NM_SIG_MAX_PORTS, &p->negated, port_item, p, c);

	if (n < 0)
		return n;
	p->n = (uint8_t)n;
	return 0;
}

static int
parse_header(char *hdr, struct nm_sig_rule *rule, struct ctx *c)
{
	static const char *const actions[] = {"alert", "drop", "reject", "pass"};
	static const char *const protos[] = {"ip", "tcp", "udp", "icmp"};
	char *w[MAX_HEADER_WORDS];
	unsigned int n, i;

	if (split_header(hdr, w, &n, c) < 0)
		return -EINVAL;
	if (n != 7)
		return fail(
		    c, "header needs 7 words (ACTION PROTO SRC SPORT DIR DST DPORT), got %u", n);

	for (i = 0; i < 4 && strcasecmp(w[0], actions[i]) != 0; i++)
		;
	if (i == 4)
		return fail(c, "unknown action '%s' (alert, drop, reject or pass)", w[0]);
	rule->action = (uint8_t)i; /* enum nm_sig_action order */

	for (i = 0; i < 4 && strcasecmp(w[1], protos[i]) != 0; i++)
		;
	if (i == 4)
		return fail(c, "unknown protocol '%s' (tcp, udp, icmp or ip)", w[1]);
	rule->proto = (uint8_t)i; /* enum nm_sig_proto order */

	if (strcmp(w[4], "<>") == 0)
		rule->bidirectional = true;
	else if (strcmp(w[4], "->") != 0)
		return fail(c, "direction '%s' must be -> or <>", w[4]);

	if (parse_addrs(w[2], "source address", &rule->src, c) < 0 ||
	    parse_ports(w[3], "source port", &rule->sport, c) < 0 ||
	    parse_addrs(w[5], "destination address", &rule->dst, c) < 0 ||
	    parse_ports(w[6], "destination port", &rule->dport, c) < 0)
		return -EINVAL;

	/* Ports only exist for TCP and UDP; on ip or icmp they could never match as written. */
	if ((rule->sport.n != 0 || rule->dport.n != 0) && rule->proto != NM_SIG_PROTO_TCP &&
	    rule->proto != NM_SIG_PROTO_UDP)
		return fail(c, "ports need protocol tcp or udp, not '%s'", w[1]);
	return 0;
}

/* ---- options ----------------------------------------------------------- */

struct option {
	char *key;
	size_t klen;
	char *val; /* NULL: no ':' */
	size_t vlen;
};

/*
 * Next "key[:value];" at *pp. Returns 1 with *opt filled, 0 at the closing
 * ')', or -EINVAL. As in Suricata, the value ends at the first ';' not
 * preceded by a backslash, quotes or not. Does not write to the text.
 */
static int
next_option(char **pp, struct option *opt, struct ctx *c)
{
	char *p = *pp + strspn(*pp, WS);

	if (*p == ')') {
		*pp = p;
		return 0;
	}
	if (*p == '\0')
		return fail(c, "unbalanced parentheses: no ')' closing the options");
	opt->key = p;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')
		p++;
	opt->klen = (size_t)(p - opt->key);
	if (opt->klen == 0) {
		char buf[8];
		return fail(c, "expected a keyword at '%s'", show_char(*p, buf));
	}
	p += strspn(p, WS);
	opt->val = NULL;
	opt->vlen = 0;
	if (*p == ';') {
		*pp = p + 1;
		return 1;
	}
	if (*p != ':')
		return fail(c, "option '%.*s' is not terminated by ';'", (int)opt->klen, opt->key);
	p++;
	opt->val = p;
	for (; *p != '\0' && *p != ';'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	if (*p == '\0')
		return fail(c, "option '%.*s' is not terminated by ';'", (int)opt->klen, opt->key);
	opt->vlen = (size_t)(p - opt->val);
	*pp = p + 1;
	return 1;
}

static bool
key_is(const struct option *o, const char *name)
{
	return o->klen == strlen(name) && strncasecmp(o->key, name, o->klen) == 0;
}

/*
 * The body of a double-quoted value, in place. With unescape, \" \; \\ \:
 * become the character; otherwise escapes stay (pcre reads them itself).
 * Returns the body length, or -EINVAL.
 */
static int
unquote(const char *key, char *val, bool unescape, char **body, struct ctx *c)
{
	size_t len = strlen(val), out = 0;
	char buf[8];

	if (len < 1 || val[0] != '"')
		return fail(c, "%s: value must be in double quotes", key);
	for (size_t i = 1; i < len; i++) {
		char ch = val[i];
		if (ch == '"') {
			if (i != len - 1)
				return fail(c,
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
				return fail(c, "%s: unknown escape '\\%s' (only \\\" \\; \\\\ \\:)",
					    key, next == '\0' ? "" : show_char(next, buf));
			if (!unescape)
				val[out++] = ch;
			ch = next;
		}
		val[out++] = ch;
	}
	return fail(c, "%s: unbalanced quotes (a ';' inside quotes must be written '\\;')", key);
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
decode_content(char *s, size_t len, struct ctx *c)
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
				return fail(c,
					    "content: odd number of hex digits in a |...| block");
			if (hex && hex_digits == 0)
				return fail(c, "content: empty |...| block");
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
			return fail(c, "content: '%s' in a |...| block is not a hex digit",
				    show_char(ch, buf));
		hex_digits++;
		if (nibble < 0) {
			nibble = v;
		} else {
			s[out++] = (char)(nibble << 4 | v);
			nibble = -1;
		}
	}
	if (hex)
		return fail(c, "content: unbalanced '|': a hex block is not closed");
	if (out == 0)
		return fail(c, "content: empty");
	if (out > NM_SIG_MAX_PATTERN)
		return fail(c, "content: %zu bytes, longer than %d", out, NM_SIG_MAX_PATTERN);
	return (int)out;
}

static int
add_pattern(struct nm_sig_rule *rule, const char *bytes, size_t len, struct ctx *c,
	    struct nm_sig_pattern **out)
{
	struct nm_sig_pattern *pat;

	if (rule->n_patterns == NM_SIG_MAX_PATTERNS)
		return fail(c, "more than %d content/pcre patterns", NM_SIG_MAX_PATTERNS);
	pat = &rule->patterns[rule->n_patterns];
	memset(pat, 0, sizeof(*pat));
	pat->data = malloc(len + 1);
	if (pat->data == NULL) {
		fail(c, "out of memory");
		return -ENOMEM;
	}
	memcpy(pat->data, bytes, len);
	pat->data[len] = '\0';
	pat->len = (uint16_t)len;
	pat->offset = -1;
	pat->depth = -1;
	rule->n_patterns++;
	*out = pat;
	return 0;
}

static int
opt_content(struct nm_sig_rule *rule, char *val, struct ctx *c)
{
	struct nm_sig_pattern *pat;
	bool negated = false;
	char *body;
	int len;

	if (*val == '!') {
		negated = true;
		val = trim(val + 1);
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

static int
opt_pcre(struct nm_sig_rule *rule, char *val, struct ctx *c)
{
	struct nm_sig_pattern *pat;
	char *body, *slash, buf[8];
	int len;

	if (*val == '!')
		return fail(c, "pcre: negation is not supported");
	len = unquote("pcre", val, false, &body, c);
	if (len < 0)
		return len;
	slash = strrchr(body, '/');
	if (body[0] != '/' || slash == body)
		return fail(c, "pcre: '%.64s' must be written \"/body/flags\"", body);
	*slash = '\0';
	size_t blen = (size_t)(slash - body - 1);
	if (blen == 0)
		return fail(c, "pcre: empty body");
	if (blen > NM_SIG_MAX_PATTERN)
		return fail(c, "pcre: body of %zu bytes, longer than %d", blen, NM_SIG_MAX_PATTERN);

	bool fl_i = false, fl_s = false, fl_m = false, fl_x = false;
	for (const char *f = slash + 1; *f; f++) {
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
		default:
			return fail(c, "pcre flag '%s' is not supported (only i s m x)",
				    show_char(*f, buf));
		}
	}
	int rc = add_pattern(rule, body + 1, blen, c, &pat);
	if (rc < 0)
		return rc;
	pat->kind = NM_SIG_PCRE;
	pat->nocase = fl_i;
	pat->dotall = fl_s;
	pat->multiline = fl_m;
	pat->extended = fl_x;
	return 0;
}

/* nocase, offset and depth modify the content just before them. */
static int
last_content(struct nm_sig_rule *rule, const char *key, struct nm_sig_pattern **out, struct ctx *c)
{
	if (rule->n_patterns == 0)
		return fail(c, "%s: no content before it", key);
	*out = &rule->patterns[rule->n_patterns - 1];
	if ((*out)->kind != NM_SIG_CONTENT)
		return fail(c, "%s: modifies a content, but the pattern before it is a pcre", key);
	return 0;
}

static int
opt_modifier(struct nm_sig_rule *rule, const char *key, const char *val, struct ctx *c)
{
	struct nm_sig_pattern *pat = NULL;
	uint64_t v;

	if (last_content(rule, key, &pat, c) < 0)
		return -EINVAL;
	if (strcmp(key, "nocase") == 0) {
		if (pat->nocase)
			return fail(c, "nocase: given twice for one content");
		pat->nocase = true;
		return 0;
	}
	if (!parse_uint(val, MAX_OFFSET, &v))
		return fail(c, "%s '%s': not a number 0..%d", key, val, MAX_OFFSET);
	if (pat->negated)
		return fail(c, "%s: not supported on a negated content", key);
	if (strcmp(key, "offset") == 0) {
		if (pat->offset >= 0)
			return fail(c, "offset: given twice for one content");
		pat->offset = (int32_t)v;
		return 0;
	}
	if (pat->depth >= 0)
		return fail(c, "depth: given twice for one content");
	if (v < pat->len)
		return fail(c, "depth %u is shorter than the content (%u bytes)", (unsigned int)v,
			    pat->len);
	pat->depth = (int32_t)v;
	return 0;
}

static int
opt_flow(struct nm_sig_rule *rule, char *val, struct ctx *c)
{
	for (char *item = val, *comma; item != NULL; item = comma) {
		comma = strchr(item, ',');
		if (comma != NULL)
			*comma++ = '\0';
		item = trim(item);
		if (strcasecmp(item, "to_server") == 0 || strcasecmp(item, "from_client") == 0)
			rule->flow |= NM_SIG_FLOW_TO_SERVER;
		else if (strcasecmp(item, "to_client") == 0 || strcasecmp(item, "from_server") == 0)
			rule->flow |= NM_SIG_FLOW_TO_CLIENT;
		else if (strcasecmp(item, "established") == 0)
			rule->flow |= NM_SIG_FLOW_ESTABLISHED;
		else
			return fail(c,
				    "flow option '%s' is not supported (to_server, to_client, "
				    "from_client, from_server, established)",
				    item);
	}
	if ((rule->flow & NM_SIG_FLOW_TO_SERVER) && (rule->flow & NM_SIG_FLOW_TO_CLIENT))
		return fail(c, "flow: to_server and to_client together match nothing");
	return 0;
}

static int
opt_text(const char *key, char *val, char *dst, size_t size, struct ctx *c)
{
	char *body;
	int len = unquote(key, val, true, &body, c);

	if (len < 0)
		return len;
	if ((size_t)len >= size)
		return fail(c, "%s: longer than %zu characters", key, size - 1);
	memcpy(dst, body, (size_t)len + 1);
	return 0;
}

static int
opt_classtype(struct nm_sig_rule *rule, const char *val, struct ctx *c)
{
	size_t n = strlen(val);

	if (n == 0 || n >= sizeof(rule->classtype) ||
	    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return fail(c, "classtype '%s': must be 1..%zu characters of [A-Za-z0-9_-]", val,
			    sizeof(rule->classtype) - 1);
	memcpy(rule->classtype, val, n + 1);
	return 0;
}

/*
 * reference:TYPE,ID; names an advisory (url, cve, bugtraq, md5, ...). Only
 * read for shape: TYPE a name, ID any text; nothing is kept.
 */
static int
opt_reference(char *val, struct ctx *c)
{
	char *comma = strchr(val, ',');

	if (comma == NULL)
		return fail(c, "reference '%.64s': must be TYPE,ID", val);
	*comma = '\0';
	char *type = trim(val), *id = trim(comma + 1);
	size_t n = strlen(type);
	if (n == 0 || *id == '\0')
		return fail(c, "reference '%.32s,%.64s': TYPE and ID must both be given", type, id);
	if (strspn(type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return fail(c, "reference type '%.32s': must be [A-Za-z0-9_-]", type);
	return 0;
}

/* target:src_ip|dest_ip; says which side is the victim, for logging only. */
static int
opt_target(const char *val, struct ctx *c)
{
	if (strcmp(val, "src_ip") != 0 && strcmp(val, "dest_ip") != 0)
		return fail(c, "target '%.64s': must be src_ip or dest_ip", val);
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
    {"pcre", true, 0},
    {"flow", true, SEEN_FLOW},
    {"sid", true, SEEN_SID},
    {"rev", true, SEEN_REV},
    {"classtype", true, SEEN_CLASSTYPE},
    {"priority", true, SEEN_PRIORITY},
    /* Informational: checked for shape, then dropped (they change no match). */
    {"reference", true, 0},
    {"metadata", true, 0},
    {"target", true, SEEN_TARGET},
};

static int
apply_option(struct nm_sig_rule *rule, struct option *o, unsigned int *seen, struct ctx *c)
{
	unsigned int k;
	char key[16];
	char *val = NULL;
	uint64_t v;

	for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]) && !key_is(o, keywords[k].name); k++)
		;
	if (k == sizeof(keywords) / sizeof(keywords[0]))
		return fail(c, "unsupported keyword '%.*s'", (int)(o->klen > 64 ? 64 : o->klen),
			    o->key);
	snprintf(key, sizeof(key), "%s", keywords[k].name);
	if (o->val != NULL) {
		o->val[o->vlen] = '\0';
		val = trim(o->val);
	}
	if (!keywords[k].value && val != NULL)
		return fail(c, "%s: takes no value", key);
	if (keywords[k].value && (val == NULL || *val == '\0'))
		return fail(c, "%s: needs a value", key);
	if (keywords[k].once & *seen)
		return fail(c, "%s: given twice", key);
	*seen |= keywords[k].once;

	if (strcmp(key, "content") == 0)
		return opt_content(rule, val, c);
	if (strcmp(key, "pcre") == 0)
		return opt_pcre(rule, val, c);
	if (strcmp(key, "nocase") == 0 || strcmp(key, "offset") == 0 || strcmp(key, "depth") == 0)
		return opt_modifier(rule, key, val, c);
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
		if (!parse_uint(val, UINT32_MAX, &v) || v == 0)
			return fail(c, "sid '%s': must be a number 1..%u", val, UINT32_MAX);
		rule->sid = (uint32_t)v;
		c->sid = rule->sid;
		return 0;
	}
	if (strcmp(key, "rev") == 0) {
		if (!parse_uint(val, UINT32_MAX, &v))
			return fail(c, "rev '%s': must be a number 0..%u", val, UINT32_MAX);
		rule->rev = (uint32_t)v;
		return 0;
	}
	/* priority: Suricata takes 1..255. */
	if (!parse_uint(val, 255, &v) || v == 0)
		return fail(c, "priority '%s': must be a number 1..255", val);
	rule->priority = (uint32_t)v;
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
	p += strspn(p, WS);
	if (*p++ != ':')
		return 0;
	p += strspn(p, WS);
	for (digits = p; isdigit((unsigned char)*p) && p - digits < 10; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	p += strspn(p, WS);
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
	struct ctx quiet = {.err = NULL, .errlen = 0, .sid = 0};
	struct option o;
	char *p = opts;
	int rc;

	while ((rc = next_option(&p, &o, &quiet)) == 1)
		if (key_is(&o, "sid"))
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
			uint32_t sid = sid_at(p + (*p == ';') + strspn(p + (*p == ';'), WS));
			if (sid != 0)
				return sid;
		}
	}
	return 0;
}

static int
parse_rule(char *text, struct nm_sig_rule *rule, struct ctx *c)
{
	char *open = strchr(text, '('), *p;
	struct option o;
	unsigned int seen = 0;
	int rc;

	if (text[strspn(text, WS)] == '\0')
		return fail(c, "rule is empty");
	if (open == NULL)
		return fail(c, "no '(' opening the options");
	*open = '\0';
	p = open + 1;
	c->sid = find_sid(p);

	if (parse_header(text, rule, c) < 0)
		return -EINVAL;

	while ((rc = next_option(&p, &o, c)) == 1)
		if ((rc = apply_option(rule, &o, &seen, c)) < 0)
			return rc;
	if (rc < 0)
		return rc;
	if (p[1 + strspn(p + 1, WS)] != '\0')
		return fail(c, "text after the closing ')'");

	if (!(seen & SEEN_SID))
		return fail(c, "rule has no sid");
	if (rule->n_patterns == 0)
		return fail(c, "rule has no content or pcre: nothing to match");
	return 0;
}

int
nm_sig_rule_parse(const char *line, struct nm_sig_rule *rule, char *err, size_t errlen)
{
	struct ctx c = {.err = err, .errlen = errlen, .sid = 0};
	char *text;
	int rc;

	memset(rule, 0, sizeof(*rule));
	text = strdup(line);
	if (text == NULL) {
		fail(&c, "out of memory");
		return -ENOMEM;
	}
	rc = parse_rule(text, rule, &c);
	free(text);
	text = NULL;
	if (rc < 0)
		nm_sig_rule_clear(rule);
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
