/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suricata's http.uri: the request-target normalized as Suricata 7 builds
 * it with libhtp's IDS personality (its default), so that a rule written
 * for Suricata matches the same bytes here. http.uri.raw is the target as
 * sent and needs no code.
 *
 * Suricata's normalized URI is path, then "?" and the query, then "#" and
 * the fragment, each present only if the target had it; an absolute-form
 * target ("http://host/p") gives its path only. The path is:
 *
 *   1. percent-decoded: %HH, and %uHHHH (U+00HH gives that byte, the
 *      fullwidth forms U+FF01..U+FF5E give their ASCII twins, any other
 *      '?'); a '%' that does not start a valid escape stays as it is;
 *      encoded separators (%2f, %5c) are decoded too;
 *   2. '\' turned into '/', and runs of '/' compressed to one, as it is
 *      decoded;
 *   3. UTF-8 decoded to one byte per character: ASCII stays, a fullwidth
 *      form becomes its ASCII twin, any other character '?'; bytes that
 *      are not valid UTF-8 stay as they are;
 *   4. rid of dot segments (RFC 3986 §5.2.4).
 *
 * The query is percent-decoded (%HH only, '+' stays '+'); the fragment is
 * kept raw. The case is kept: Suricata turns the IDS personality's
 * lowercasing off, since rules say nocase when they mean it.
 *
 * Where this knowingly differs from libhtp: libhtp maps some other
 * non-ASCII characters (steps 1 and 3) through a Windows best-fit table to
 * an ASCII letter; here they become '?', libhtp's replacement byte for
 * characters outside that table.
 */
#include <stdbool.h>
#include <string.h>

#include "http.h"

#define REPLACEMENT '?' /* libhtp's bestfit_replacement_char */

/* The n hex digits at s as a number, or -1. */
static long
hex_at(const uint8_t *s, unsigned int n)
{
	long v = 0;

	for (unsigned int i = 0; i < n; i++) {
		int d = nm_http_hex_digit(s[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A non-ASCII code point as the one byte libhtp's best-fit gives it (see the file comment). */
static uint8_t
best_fit(unsigned long cp)
{
	if (cp >= 0xff01 && cp <= 0xff5e)
		return (uint8_t)(cp - 0xff01 + 0x21);
	return REPLACEMENT;
}

/*
 * Step 1 and 2: decode the path's n bytes at in into out; returns the
 * bytes written (never more than n).
 */
static uint32_t
decode_path(const uint8_t *in, uint32_t n, uint8_t *out)
{
	uint32_t r = 0, w = 0;

	while (r < n) {
		uint8_t c = in[r];
		long v;

		if (c == '%' && r + 5 < n && (in[r + 1] == 'u' || in[r + 1] == 'U') &&
		    (v = hex_at(in + r + 2, 4)) >= 0) {
			c = v < 0x100 ? (uint8_t)v : best_fit((unsigned long)v);
			r += 6;
		} else if (c == '%' && r + 2 < n && (v = hex_at(in + r + 1, 2)) >= 0) {
			c = (uint8_t)v;
			r += 3;
		} else {
			r++;
		}
		if (c == '\\')
			c = '/';
		if (c == '/' && w > 0 && out[w - 1] == '/')
			continue;
		out[w++] = c;
	}
	return w;
}

/* Bytes of the valid UTF-8 sequence at s (n bytes available) and its code point, or 0. */
static unsigned int
utf8_at(const uint8_t *s, uint32_t n, unsigned long *cp)
{
	static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned int len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	*cp = s[0] & (0x7f >> len);
	for (unsigned int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if (*cp < min[len] || (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return len;
}

/* Step 3, in place: returns the new length. */
static uint32_t
utf8_best_fit(uint8_t *s, uint32_t n)
{
	uint32_t r = 0, w = 0;

	while (r < n) {
		unsigned long cp;
		unsigned int len = s[r] < 0x80 ? 0 : utf8_at(s + r, n - r, &cp);

		if (len == 0) {
			s[w++] = s[r++];
			continue;
		}
		s[w++] = best_fit(cp);
		r += len;
	}
	return w;
}

static bool
starts(const uint8_t *s, uint32_t n, const char *with)
{
	size_t k = strlen(with);

	return n >= k && memcmp(s, with, k) == 0;
}

/* Drop the output's last segment and its '/' (RFC 3986 §5.2.4 step 2C). */
static uint32_t
drop_last_segment(const uint8_t *s, uint32_t w)
{
	while (w > 0 && s[w - 1] != '/')
		w--;
	return w > 0 ? w - 1 : 0;
}

/*
 * Step 4, in place (RFC 3986 §5.2.4): the output never runs ahead of the
 * input, so one buffer serves both. Returns the new length.
 */
static uint32_t
remove_dot_segments(uint8_t *s, uint32_t n)
{
	uint32_t r = 0, w = 0;

	while (r < n) {
		const uint8_t *in = s + r;
		uint32_t left = n - r;

		if (starts(in, left, "../")) {
			r += 3;
		} else if (starts(in, left, "./") || starts(in, left, "/./")) {
			r += 2;
		} else if (left == 2 && starts(in, left, "/.")) {
			r += 1;
			s[r] = '/';
		} else if (starts(in, left, "/../")) {
			r += 3;
			w = drop_last_segment(s, w);
		} else if (left == 3 && starts(in, left, "/..")) {
			r += 2;
			s[r] = '/';
			w = drop_last_segment(s, w);
		} else if ((left == 1 && in[0] == '.') || (left == 2 && starts(in, left, ".."))) {
			r = n;
		} else {
			/* Step 2E: the first segment, its leading '/' included, moves to the
			 * output. */
			do
				s[w++] = s[r++];
			while (r < n && s[r] != '/');
		}
	}
	return w;
}

/* The query's %HH escapes decoded (libhtp's URLENCODED decoder, '+' kept). */
static uint32_t
decode_query(const uint8_t *in, uint32_t n, uint8_t *out)
{
	uint32_t r = 0, w = 0;

	while (r < n) {
		long v;

		if (in[r] == '%' && r + 2 < n && (v = hex_at(in + r + 1, 2)) >= 0) {
			out[w++] = (uint8_t)v;
			r += 3;
		} else {
			out[w++] = in[r++];
		}
	}
	return w;
}

/* Where an absolute-form target's path starts ("http://host/p" gives 11), else 0. */
static uint32_t
absolute_form_path(const uint8_t *t, uint32_t n)
{
	uint32_t i = 0;

	if (n == 0 || t[0] == '/')
		return 0;
	while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
			 (i > 0 && ((t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '-' ||
				    t[i] == '.'))))
		i++;
	if (i == 0 || !starts(t + i, n - i, "://"))
		return 0;
	i += 3;
	while (i < n && t[i] != '/' && t[i] != '?' && t[i] != '#')
		i++;
	return i;
}

uint32_t
nm_http_uri_normalize(const uint8_t *target, uint32_t len, uint8_t *out)
{
	uint32_t start = absolute_form_path(target, len), path_end, query_end, w;

	path_end = start;
	while (path_end < len && target[path_end] != '?' && target[path_end] != '#')
		path_end++;
	query_end = path_end;
	if (query_end < len && target[query_end] == '?')
		while (query_end < len && target[query_end] != '#')
			query_end++;

	w = decode_path(target + start, path_end - start, out);
	w = utf8_best_fit(out, w);
	w = remove_dot_segments(out, w);

	if (path_end < query_end) {
		out[w++] = '?';
		w += decode_query(target + path_end + 1, query_end - path_end - 1, out + w);
	}
	if (query_end < len) {
		/* The fragment, '#' included, as sent. */
		memcpy(out + w, target + query_end, len - query_end);
		w += len - query_end;
	}
	return w;
}
