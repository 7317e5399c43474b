/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy rule parser. Rules come from operators, files and the control
 * socket, so every word is checked and every error says which word and
 * why; nothing is guessed. The parsed rule keeps its own text, re-joined
 * with single spaces, for `policy list`.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "names.h"
#include "rule.h"

#define MAX_WORDS 64

struct words {
	unsigned int n;
	char *w[MAX_WORDS];
	char buf[NM_RULE_TEXT_LEN];
};

static int
split(const char *text, struct words *ws, char *err, size_t errlen)
{
	size_t len = strlen(text);

	if (len >= sizeof(ws->buf)) {
		snprintf(err, errlen, "rule longer than %d characters", NM_RULE_TEXT_LEN - 1);
		return -EINVAL;
	}
	memcpy(ws->buf, text, len + 1);
	ws->n = 0;
	for (char *save = NULL, *t = strtok_r(ws->buf, " \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (ws->n == MAX_WORDS) {
			snprintf(err, errlen, "more than %d words", MAX_WORDS);
			return -EINVAL;
		}
		ws->w[ws->n++] = t;
	}
	return 0;
}

static int
parse_selector(const char *word, struct nm_selector *sel, char *err, size_t errlen)
{
	memset(sel, 0, sizeof(*sel));
	if (strcmp(word, "*") == 0) {
		sel->kind = NM_SEL_ANY;
		return 0;
	}
	if (strchr(word, '=') != NULL) {
		const char *p = word;
		sel->kind = NM_SEL_LABELS;
		while (*p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			const char *eq = memchr(p, '=', len);
			if (sel->n_labels == NM_SEL_MAX_LABELS) {
				snprintf(err, errlen, "selector '%s': more than %d labels", word,
					 NM_SEL_MAX_LABELS);
				return -EINVAL;
			}
			if (eq == NULL || !nm_label_part_valid(p, (size_t)(eq - p)) ||
			    !nm_label_part_valid(eq + 1, len - (size_t)(eq - p) - 1)) {
				snprintf(err, errlen,
					 "selector '%s': labels must be key=value[,key=value] of "
					 "[A-Za-z0-9._/-]",
					 word);
				return -EINVAL;
			}
			struct nm_label *l = &sel->labels[sel->n_labels++];
			memcpy(l->key, p, (size_t)(eq - p));
			memcpy(l->val, eq + 1, len - (size_t)(eq - p) - 1);
			if (comma == NULL)
				break;
			p = comma + 1;
			if (*p == '\0') {
				snprintf(err, errlen, "selector '%s': trailing ','", word);
				return -EINVAL;
			}
		}
		return 0;
	}
	const char *slash = strchr(word, '/');
	if (slash == NULL || strchr(slash + 1, '/') != NULL) {
		snprintf(err, errlen,
			 "selector '%s' must be '*', 'namespace/serviceaccount', 'namespace/*' or "
			 "labels 'key=value,...'",
			 word);
		return -EINVAL;
	}
	size_t nslen = (size_t)(slash - word);
	if (nslen == 0 || nslen >= NM_NAME_LEN) {
		snprintf(err, errlen, "selector '%s': empty or too long namespace", word);
		return -EINVAL;
	}
	memcpy(sel->ns, word, nslen);
	if (!nm_name_valid(sel->ns, strlen(sel->ns))) {
		snprintf(err, errlen, "selector '%s': namespace must be [a-z0-9._-]", word);
		return -EINVAL;
	}
	if (strcmp(slash + 1, "*") == 0) {
		sel->kind = NM_SEL_NS;
		return 0;
	}
	if (!nm_name_valid(slash + 1, strlen(slash + 1))) {
		snprintf(err, errlen, "selector '%s': service account must be [a-z0-9._-] or '*'",
			 word);
		return -EINVAL;
	}
	snprintf(sel->sa, sizeof(sel->sa), "%s", slash + 1);
	sel->kind = NM_SEL_NS_SA;
	return 0;
}

/* Decimal without sign, no leading '+', fits max. */
static int
parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
parse_ports(const char *word, struct nm_rule *r, char *err, size_t errlen)
{
	const char *p = word;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *dash = memchr(p, '-', len);
		uint64_t lo, hi;

		if (r->n_ports == NM_RULE_MAX_PORTS) {
			snprintf(err, errlen, "port '%s': more than %d items", word,
				 NM_RULE_MAX_PORTS);
			return -EINVAL;
		}
		if (dash == NULL) {
			if (parse_u64(p, len, 65535, &lo) < 0)
				goto bad;
			hi = lo;
		} else if (parse_u64(p, (size_t)(dash - p), 65535, &lo) < 0 ||
			   parse_u64(dash + 1, len - (size_t)(dash - p) - 1, 65535, &hi) < 0) {
			goto bad;
		}
		if (lo == 0 || hi < lo) {
			snprintf(err, errlen, "port '%s': ports are 1-65535 and ranges low-high",
				 word);
			return -EINVAL;
		}
		r->ports[r->n_ports].lo = (uint16_t)lo;
		r->ports[r->n_ports].hi = (uint16_t)hi;
		r->n_ports++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
bad:
	snprintf(err, errlen, "port '%s' must be N, N-M or a list N,M-K (1-65535)", word);
	return -EINVAL;
}

/* "10mbps", or "10" followed by the word "mbps" (then *used_next is set). */
static int
parse_rate(const char *word, const char *next, bool *used_next, struct nm_rule *r, char *err,
	   size_t errlen)
{
	static const struct {
		const char *unit;
		uint64_t mult;
		bool packets;
	} units[] = {
	    {"pps", 1, true},	      {"bps", 1, false},	   {"kbps", 1000, false},
	    {"mbps", 1000000, false}, {"gbps", 1000000000, false},
	};
	size_t digits = strspn(word, "0123456789");
	const char *unit = word + digits;
	uint64_t n;

	*used_next = false;
	if (*unit == '\0' && next != NULL) {
		unit = next;
		*used_next = true;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) != 0)
			continue;
		if (parse_u64(word, digits, UINT64_MAX / units[i].mult, &n) < 0 || n == 0) {
			snprintf(err, errlen, "rate '%s': need a positive whole number", word);
			return -EINVAL;
		}
		uint64_t *slot = units[i].packets ? &r->rate_pps : &r->rate_bps;
		if (*slot != 0) {
			snprintf(err, errlen, "rate: a %s rate is given twice",
				 units[i].packets ? "packet" : "bit");
			return -EINVAL;
		}
		*slot = n * units[i].mult;
		return 0;
	}
	snprintf(err, errlen, "rate '%s%s%s': unit must be pps, bps, kbps, mbps or gbps", word,
		 *used_next ? " " : "", *used_next ? next : "");
	return -EINVAL;
}

/* RFC 9110 §5.6.2 tchar: what a method and a header name are made of. */
static bool
is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
all_tchar(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar(s[i]))
			return false;
	return true;
}

/* "GET,HEAD": case-sensitive tokens (RFC 9110 §9.1), as many as NM_HTTP_RULE_METHODS. */
static int
http_methods(const char *arg, struct nm_rule_http *h, char *err, size_t errlen)
{
	for (const char *p = arg;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (h->n_methods == NM_HTTP_RULE_METHODS) {
			snprintf(err, errlen, "method '%.64s': more than %d methods", arg,
				 NM_HTTP_RULE_METHODS);
			return -EINVAL;
		}
		if (!all_tchar(p, len) || len >= NM_HTTP_RULE_METHOD_LEN) {
			snprintf(err, errlen,
				 "method '%.64s': each method is a token of 1-%d characters "
				 "(A-Z, a-z, 0-9, !#$%%&'*+-.^_`|~), comma-separated",
				 arg, NM_HTTP_RULE_METHOD_LEN - 1);
			return -EINVAL;
		}
		memcpy(h->methods[h->n_methods++], p, len);
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* "/api/v1/" then "*" (a prefix) or "/api/v1/items" (exact): a path without query. */
static int
http_path(const char *arg, struct nm_rule_http *h, char *err, size_t errlen)
{
	size_t len = strlen(arg);
	const char *star = strchr(arg, '*');

	if (arg[0] != '/' || len >= NM_HTTP_RULE_PATH_LEN) {
		snprintf(err, errlen, "path '%.64s': must start with '/' and be shorter than %d",
			 arg, NM_HTTP_RULE_PATH_LEN);
		return -EINVAL;
	}
	if (star != NULL && star != arg + len - 1) {
		snprintf(err, errlen, "path '%.64s': '*' may only end the path (a prefix)", arg);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)arg[i];
		if (c == '?' || c == '#' || c == '%' || c < 0x21 || c >= 0x7f) {
			snprintf(err, errlen,
				 "path '%.64s': no query, fragment, %%-escape or control byte "
				 "(requests are matched by their decoded path)",
				 arg);
			return -EINVAL;
		}
	}
	h->path_prefix = star != NULL;
	memcpy(h->path, arg, star != NULL ? len - 1 : len);
	return 0;
}

/* A host name or address, lowercased; requests are compared without their port. */
static int
http_host(const char *arg, struct nm_rule_http *h, char *err, size_t errlen)
{
	size_t len = strlen(arg);

	if (len == 0 || len >= NM_HTTP_RULE_HOST_LEN ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		len) {
		snprintf(err, errlen,
			 "host '%.64s': a name or IPv4 address of [A-Za-z0-9.-], shorter than %d, "
			 "without a port",
			 arg, NM_HTTP_RULE_HOST_LEN);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		h->host[i] = (char)tolower((unsigned char)arg[i]);
	return 0;
}

/* "x-env=prod": the name (any case) and the value (exact) of one header a request must carry. */
static int
http_header(const char *arg, struct nm_rule_http *h, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : 0;

	if (h->n_headers == NM_HTTP_RULE_HEADERS) {
		snprintf(err, errlen, "header '%.64s': more than %d headers", arg,
			 NM_HTTP_RULE_HEADERS);
		return -EINVAL;
	}
	if (eq == NULL || !all_tchar(arg, nlen) || nlen >= NM_HTTP_RULE_NAME_LEN || eq[1] == '\0' ||
	    strlen(eq + 1) >= NM_HTTP_RULE_VALUE_LEN) {
		snprintf(err, errlen,
			 "header '%.64s': must be NAME=VALUE, a token name shorter than %d and a "
			 "value of 1-%d characters",
			 arg, NM_HTTP_RULE_NAME_LEN, NM_HTTP_RULE_VALUE_LEN - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < nlen; i++)
		h->headers[h->n_headers].name[i] = (char)tolower((unsigned char)arg[i]);
	snprintf(h->headers[h->n_headers].value, NM_HTTP_RULE_VALUE_LEN, "%s", eq + 1);
	h->n_headers++;
	return 0;
}

/*
 * The HTTP clause: the words after "http" to the end of the rule, as
 * pairs. method, path and host once each, header up to
 * NM_HTTP_RULE_HEADERS times.
 */
static int
http_clause(const struct words *ws, unsigned int first, struct nm_rule_http *h, char *err,
	    size_t errlen)
{
	bool seen_method = false, seen_path = false, seen_host = false;
	int rc = 0;

	if (first >= ws->n) {
		snprintf(err, errlen, "http needs at least one of method, path, host, header");
		return -EINVAL;
	}
	for (unsigned int i = first; i < ws->n && rc == 0; i += 2) {
		const char *item = ws->w[i];
		const char *arg = i + 1 < ws->n ? ws->w[i + 1] : NULL;
		bool *seen = strcmp(item, "method") == 0 ? &seen_method
			     : strcmp(item, "path") == 0 ? &seen_path
			     : strcmp(item, "host") == 0 ? &seen_host
							 : NULL;

		if (seen == NULL && strcmp(item, "header") != 0) {
			snprintf(err, errlen,
				 "word %u '%.32s': after http come only method, path, host and "
				 "header",
				 i + 1, item);
			return -EINVAL;
		}
		if (arg == NULL) {
			snprintf(err, errlen, "word %u '%.32s': missing its value", i + 1, item);
			return -EINVAL;
		}
		if (seen != NULL && *seen) {
			snprintf(err, errlen, "word %u 'http %s': given twice", i + 1, item);
			return -EINVAL;
		}
		if (seen != NULL)
			*seen = true;
		if (seen == &seen_method)
			rc = http_methods(arg, h, err, errlen);
		else if (seen == &seen_path)
			rc = http_path(arg, h, err, errlen);
		else if (seen == &seen_host)
			rc = http_host(arg, h, err, errlen);
		else
			rc = http_header(arg, h, err, errlen);
	}
	return rc;
}

int
nm_rule_parse(const char *text, struct nm_rule *r, char *err, size_t errlen)
{
	struct words *ws = malloc(sizeof(*ws));
	bool seen_proto = false, seen_port = false, seen_burst = false, seen_inspect = false;
	int rc = -EINVAL;

	if (ws == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	r->inspect = 1;
	if (split(text, ws, err, errlen) < 0)
		goto out;
	if (ws->n < 5) {
		snprintf(err, errlen,
			 "a rule needs at least: allow|deny from SELECTOR to SELECTOR");
		goto out;
	}
	if (strcmp(ws->w[0], "allow") == 0) {
		r->action = NM_VERDICT_ALLOW;
	} else if (strcmp(ws->w[0], "deny") == 0) {
		r->action = NM_VERDICT_DENY;
	} else {
		snprintf(err, errlen, "word 1 '%.32s': a rule starts with allow or deny", ws->w[0]);
		goto out;
	}
	if (strcmp(ws->w[1], "from") != 0) {
		snprintf(err, errlen, "word 2 '%.32s': expected 'from'", ws->w[1]);
		goto out;
	}
	if (parse_selector(ws->w[2], &r->from, err, errlen) < 0)
		goto out;
	if (strcmp(ws->w[3], "to") != 0) {
		snprintf(err, errlen, "word 4 '%.32s': expected 'to'", ws->w[3]);
		goto out;
	}
	if (parse_selector(ws->w[4], &r->to, err, errlen) < 0)
		goto out;

	/* Options are word pairs; "rate 10 mbps" takes one word more. */
	for (unsigned int i = 5; i < ws->n; i += 2) {
		const char *opt = ws->w[i];
		const char *arg = i + 1 < ws->n ? ws->w[i + 1] : NULL;

		if (strcmp(opt, "http") == 0) {
			/* The clause runs to the end of the rule. */
			if (http_clause(ws, i + 1, &r->http, err, errlen) < 0)
				goto out;
			r->has_http = 1;
			break;
		}
		if (arg == NULL) {
			snprintf(err, errlen, "word %u '%.32s': missing its value", i + 1, opt);
			goto out;
		}
		if (strcmp(opt, "proto") == 0 && !seen_proto) {
			if (strcmp(arg, "tcp") == 0)
				r->proto = IPPROTO_TCP;
			else if (strcmp(arg, "udp") == 0)
				r->proto = IPPROTO_UDP;
			else if (strcmp(arg, "icmp") == 0)
				r->proto = IPPROTO_ICMP;
			else if (strcmp(arg, "any") == 0)
				r->proto = 0;
			else {
				snprintf(err, errlen,
					 "proto '%.32s': must be tcp, udp, icmp or any", arg);
				goto out;
			}
			seen_proto = true;
		} else if (strcmp(opt, "port") == 0 && !seen_port) {
			if (parse_ports(arg, r, err, errlen) < 0)
				goto out;
			seen_port = true;
		} else if (strcmp(opt, "rate") == 0) {
			bool used_next;
			const char *after = i + 2 < ws->n ? ws->w[i + 2] : NULL;
			if (parse_rate(arg, after, &used_next, r, err, errlen) < 0)
				goto out;
			if (used_next)
				i++;
		} else if (strcmp(opt, "burst") == 0 && !seen_burst) {
			if (parse_u64(arg, strlen(arg), 100000000, &r->burst) < 0 ||
			    r->burst == 0) {
				snprintf(err, errlen,
					 "burst '%.32s': need a packet count 1-100000000", arg);
				goto out;
			}
			seen_burst = true;
		} else if (strcmp(opt, "inspect") == 0 && !seen_inspect) {
			if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0) {
				snprintf(err, errlen, "inspect '%.32s': must be on or off", arg);
				goto out;
			}
			r->inspect = strcmp(arg, "on") == 0;
			seen_inspect = true;
		} else if (strcmp(opt, "proto") == 0 || strcmp(opt, "port") == 0 ||
			   strcmp(opt, "burst") == 0 || strcmp(opt, "inspect") == 0) {
			snprintf(err, errlen, "word %u '%s': given twice", i + 1, opt);
			goto out;
		} else {
			snprintf(err, errlen,
				 "word %u '%.32s': expected proto, port, rate, burst, inspect or "
				 "http",
				 i + 1, opt);
			goto out;
		}
	}

	if (r->n_ports > 0 && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP) {
		snprintf(err, errlen, "port needs proto tcp or udp");
		goto out;
	}
	if (r->has_http && r->proto != IPPROTO_TCP) {
		snprintf(err, errlen, "http needs proto tcp");
		goto out;
	}
	if (r->burst != 0 && r->rate_pps == 0 && r->rate_bps == 0) {
		snprintf(err, errlen, "burst needs a rate");
		goto out;
	}
	if (r->action == NM_VERDICT_DENY && (r->rate_pps || r->rate_bps)) {
		snprintf(err, errlen, "a deny rule cannot have a rate");
		goto out;
	}

	/* Keep the rule's words, re-joined with single spaces. */
	size_t used = 0;
	for (unsigned int i = 0; i < ws->n; i++)
		used += (size_t)snprintf(r->text + used, sizeof(r->text) - used, "%s%s",
					 i ? " " : "", ws->w[i]);
	rc = 0;
out:
	free(ws);
	return rc;
}

int
nm_rule_file_parse(const char *path, struct nm_rule *rules, unsigned int max, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[NM_RULE_TEXT_LEN + 2];
	char why[256];
	unsigned int n = 0, lineno = 0;
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %d characters", path, lineno,
				 NM_RULE_TEXT_LEN - 1);
			rc = -EINVAL;
			break;
		}
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (n == max) {
			snprintf(err, errlen, "%s:%u: more than %u rules", path, lineno, max);
			rc = -E2BIG;
			break;
		}
		if (nm_rule_parse(line, &rules[n], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			rc = -EINVAL;
			break;
		}
		n++;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -EIO;
	}
	fclose(f);
	return rc < 0 ? rc : (int)n;
}

/* Is "key=val" one of the comma-separated labels? */
static bool
has_label(const char *labels, const struct nm_label *l)
{
	size_t klen = strlen(l->key), vlen = strlen(l->val);
	const char *p = labels;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == klen + 1 + vlen && memcmp(p, l->key, klen) == 0 && p[klen] == '=' &&
		    memcmp(p + klen + 1, l->val, vlen) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

bool
nm_selector_match_identity(const struct nm_selector *sel, const char *ns, const char *sa,
			   const char *labels)
{
	/* A pod whose identity is not known yet is nobody in particular. */
	if (sa[0] == '\0')
		return sel->kind == NM_SEL_ANY;
	switch (sel->kind) {
	case NM_SEL_ANY:
		return true;
	case NM_SEL_NS:
		return strcmp(sel->ns, ns) == 0;
	case NM_SEL_NS_SA:
		return strcmp(sel->ns, ns) == 0 && strcmp(sel->sa, sa) == 0;
	case NM_SEL_LABELS:
		for (unsigned int i = 0; i < sel->n_labels; i++)
			if (!has_label(labels, &sel->labels[i]))
				return false;
		return true;
	default:
		return false;
	}
}

bool
nm_selector_match(const struct nm_selector *sel, const struct nm_pod_spec *pod)
{
	return nm_selector_match_identity(sel, pod->ns, pod->sa, pod->labels);
}
