/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the signature rule parser (ctrl/sigrule.c): every refusal
 * and the keyword and sid it names, every field of the rules it accepts
 * (real ET Open / GPL rules among them, trimmed to the subset), the limits
 * at their edges, and the file loader's "FILE:LINE: sid N: reason" errors,
 * continuation lines and duplicate sids. Run under ASan, a refusal that
 * leaves pattern bytes behind fails as a leak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sig.h"
#include "unit_tmp.h"

static struct nm_sig_rule rule; /* 5 KiB: not on the stack of every test */
static char err[1024];

static int
parse(const char *text)
{
	memset(err, 0, sizeof(err));
	return nm_sig_rule_parse(text, &rule, err, sizeof(err));
}

#define ANY_ANY "alert tcp any any -> any any "

/* ---- invalid input ----------------------------------------------------- */

static const struct {
	const char *what;
	const char *text;
	const char *want; /* fragment of the error message */
} bad_rules[] = {
    /* shape */
    {"empty", "", "rule is empty"},
    {"blanks only", " \t\r\n", "rule is empty"},
    {"no options", "alert tcp any any -> any any", "no '(' opening the options"},
    {"six header words", "alert tcp any any -> any (content:\"a\"; sid:1;)",
     "sid 1: header needs 7 words (ACTION PROTO SRC SPORT DIR DST DPORT), got 6"},
    {"eight header words", "alert tcp any any -> any any any (content:\"a\"; sid:1;)",
     "sid 1: header needs 7 words"},
    {"no closing parenthesis", ANY_ANY "(content:\"a\"; sid:1;",
     "sid 1: unbalanced parentheses: no ')' closing the options"},
    {"two opening parentheses", ANY_ANY "((content:\"a\"; sid:1;)",
     "sid 1: expected a keyword at '('"},
    {"last option without ';'", ANY_ANY "(content:\"a\"; sid:1)",
     "option 'sid' is not terminated by ';'"},
    {"text after ')'", ANY_ANY "(content:\"a\"; sid:1;) extra",
     "sid 1: text after the closing ')'"},
    {"empty option", ANY_ANY "(content:\"a\"; ; sid:1;)", "sid 1: expected a keyword at ';'"},
    {"keyword then junk", ANY_ANY "(content \"a\"; sid:1;)",
     "sid 1: option 'content' is not terminated by ';'"},

    /* header words */
    {"unknown action", "log tcp any any -> any any (content:\"a\"; sid:1;)",
     "sid 1: unknown action 'log' (alert, drop, reject or pass)"},
    {"application protocol", "alert http any any -> any any (content:\"a\"; sid:1;)",
     "sid 1: unknown protocol 'http' (tcp, udp, icmp or ip)"},
    {"backward direction", "alert tcp any any <- any any (content:\"a\"; sid:1;)",
     "sid 1: direction '<-' must be -> or <>"},
    {"address variable", "alert tcp $HOME_NET any -> any any (content:\"a\"; sid:1;)",
     "sid 1: source address '$HOME_NET': variables like $HOME_NET are not supported"},
    {"port variable", "alert tcp any any -> any $HTTP_PORTS (content:\"a\"; sid:1;)",
     "sid 1: destination port '$HTTP_PORTS': variables like $HTTP_PORTS are not supported"},
    {"prefix /33", "alert tcp 10.0.0.0/33 any -> any any (content:\"a\"; sid:1;)",
     "sid 1: source address '10.0.0.0/33': prefix length /33 is over 32"},
    {"prefix not a number", "alert tcp 10.0.0.0/x any -> any any (content:\"a\"; sid:1;)",
     "prefix '/x' is not a number 0..32"},
    {"empty prefix", "alert tcp any any -> 10.0.0.0/ any (content:\"a\"; sid:1;)",
     "destination address '10.0.0.0/': prefix '/' is not a number"},
    {"octet over 255", "alert tcp 256.1.1.1 any -> any any (content:\"a\"; sid:1;)",
     "'256.1.1.1' is not an IPv4 address a.b.c.d"},
    {"three octets", "alert tcp 10.1.1 any -> any any (content:\"a\"; sid:1;)",
     "'10.1.1' is not an IPv4 address"},
    {"hostname", "alert tcp example.com any -> any any (content:\"a\"; sid:1;)",
     "'example.com' is not an IPv4 address"},
    {"IPv6", "alert tcp any any -> 2001:db8::1 any (content:\"a\"; sid:1;)",
     "IPv6 is not supported"},
    {"unclosed bracket", "alert tcp [10.0.0.1,10.0.0.2 any -> any any (content:\"a\"; sid:1;)",
     "unbalanced brackets"},
    {"stray closing bracket", "alert tcp 10.0.0.1] any -> any any (content:\"a\"; sid:1;)",
     "unbalanced brackets"},
    {"nested list", "alert tcp [10.0.0.1,[10.0.0.2]] any -> any any (content:\"a\"; sid:1;)",
     "nested lists are not supported"},
    {"negation inside a list",
     "alert tcp [10.0.0.0/8,!10.1.0.0/16] any -> any any "
     "(content:\"a\"; sid:1;)",
     "negation inside a list is not supported"},
    {"!any", "alert tcp !any any -> any any (content:\"a\"; sid:1;)", "'!any' matches nothing"},
    {"double negation", "alert tcp !!10.0.0.1 any -> any any (content:\"a\"; sid:1;)",
     "double negation"},
    {"empty list", "alert tcp [] any -> any any (content:\"a\"; sid:1;)", "empty item"},
    {"trailing comma", "alert tcp any any -> any [80,] (content:\"a\"; sid:1;)", "empty item"},
    {"any in a list", "alert tcp [any,10.0.0.1] any -> any any (content:\"a\"; sid:1;)",
     "'any' inside a list"},
    {"17 addresses",
     "alert tcp [1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8,1.0.0.9,"
     "1.0.0.10,1.0.0.11,1.0.0.12,1.0.0.13,1.0.0.14,1.0.0.15,1.0.0.16,1.0.0.17] any -> any any "
     "(content:\"a\"; sid:1;)",
     "more than 16 items"},
    {"port over 65535", "alert tcp any 65536 -> any any (content:\"a\"; sid:1;)",
     "port 65536 is over 65535"},
    {"reversed port range", "alert tcp any any -> any 90:80 (content:\"a\"; sid:1;)",
     "sid 1: destination port '90:80': range 90:80 has its low end above its high end"},
    {"port by name", "alert tcp any any -> any http (content:\"a\"; sid:1;)",
     "'http' is not a port number"},
    {"negative port", "alert tcp any -1 -> any any (content:\"a\"; sid:1;)",
     "source port '-1': '-1' is not a port number"},
    {"bare colon", "alert tcp any : -> any any (content:\"a\"; sid:1;)",
     "range ':' has neither end"},
    {"huge port", "alert tcp any any -> any 99999999999 (content:\"a\"; sid:1;)",
     "port 99999999999 is over 65535"},
    {"17 ports",
     "alert tcp any any -> any [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17] "
     "(content:\"a\"; sid:1;)",
     "more than 16 items"},
    {"ports on icmp", "alert icmp any any -> any 80 (content:\"a\"; sid:1;)",
     "sid 1: ports need protocol tcp or udp, not 'icmp'"},
    {"ports on ip", "alert ip any 80 -> any any (content:\"a\"; sid:1;)",
     "ports need protocol tcp or udp, not 'ip'"},

    /* keywords */
    {"http_uri, sid given later", ANY_ANY "(msg:\"x\"; content:\"a\"; http_uri; sid:1001;)",
     "sid 1001: unsupported keyword 'http_uri'"},
    {"sticky buffer", ANY_ANY "(http.uri; content:\"a\"; sid:1;)",
     "sid 1: unsupported keyword 'http.uri'"},
    {"distance", ANY_ANY "(content:\"a\"; content:\"b\"; distance:0; sid:1;)",
     "unsupported keyword 'distance'"},
    {"within", ANY_ANY "(content:\"a\"; content:\"b\"; within:4; sid:1;)",
     "sid 1: unsupported keyword 'within'"},
    {"fast_pattern", ANY_ANY "(content:\"a\"; fast_pattern; sid:1;)",
     "sid 1: unsupported keyword 'fast_pattern'"},
    {"isdataat", ANY_ANY "(content:\"a\"; isdataat:2,relative; sid:1;)",
     "sid 1: unsupported keyword 'isdataat'"},
    {"flowbits", ANY_ANY "(flowbits:set,x; content:\"a\"; sid:1;)",
     "sid 1: unsupported keyword 'flowbits'"},
    {"threshold",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_src,count 1,seconds 60; "
	     "sid:1;)",
     "sid 1: unsupported keyword 'threshold'"},
    {"unsupported keyword after the informational ones",
     ANY_ANY "(content:\"a\"; reference:url,x; metadata:m 1; target:dest_ip; distance:0; "
	     "sid:1;)",
     "sid 1: unsupported keyword 'distance'"},

    /* informational keywords: shape only */
    {"reference without comma", ANY_ANY "(content:\"a\"; reference:url; sid:1;)",
     "sid 1: reference 'url': must be TYPE,ID"},
    {"reference without id", ANY_ANY "(content:\"a\"; reference:url, ; sid:1;)",
     "sid 1: reference 'url,': TYPE and ID must both be given"},
    {"reference without type", ANY_ANY "(content:\"a\"; reference:,example.com; sid:1;)",
     "sid 1: reference ',example.com': TYPE and ID must both be given"},
    {"reference only a comma", ANY_ANY "(content:\"a\"; reference: , ; sid:1;)",
     "reference ',': TYPE and ID must both be given"},
    {"reference type with a blank", ANY_ANY "(content:\"a\"; reference:my url,x; sid:1;)",
     "sid 1: reference type 'my url': must be [A-Za-z0-9_-]"},
    {"reference without value", ANY_ANY "(content:\"a\"; reference; sid:1;)",
     "sid 1: reference: needs a value"},
    {"reference with empty value", ANY_ANY "(content:\"a\"; reference: ; sid:1;)",
     "sid 1: reference: needs a value"},
    {"metadata empty", ANY_ANY "(content:\"a\"; sid:1; metadata:;)",
     "sid 1: metadata: needs a value"},
    {"metadata blanks only", ANY_ANY "(content:\"a\"; sid:1; metadata:  \t;)",
     "sid 1: metadata: needs a value"},
    {"metadata without value", ANY_ANY "(content:\"a\"; sid:1; metadata;)",
     "sid 1: metadata: needs a value"},
    {"metadata not terminated", ANY_ANY "(content:\"a\"; sid:1; metadata:created_at 2020)",
     "sid 1: option 'metadata' is not terminated by ';'"},
    {"target any", ANY_ANY "(content:\"a\"; target:any; sid:1;)",
     "sid 1: target 'any': must be src_ip or dest_ip"},
    {"target dst_ip", ANY_ANY "(content:\"a\"; target:dst_ip; sid:1;)",
     "target 'dst_ip': must be src_ip or dest_ip"},
    {"target both", ANY_ANY "(content:\"a\"; target:src_ip,dest_ip; sid:1;)",
     "target 'src_ip,dest_ip': must be src_ip or dest_ip"},
    {"target upper case", ANY_ANY "(content:\"a\"; target:SRC_IP; sid:1;)",
     "target 'SRC_IP': must be src_ip or dest_ip"},
    {"target twice", ANY_ANY "(content:\"a\"; target:src_ip; target:src_ip; sid:1;)",
     "sid 1: target: given twice"},
    {"target without value", ANY_ANY "(content:\"a\"; target; sid:1;)",
     "sid 1: target: needs a value"},
    {"only informational options",
     ANY_ANY "(msg:\"x\"; reference:url,x; metadata:a b; target:src_ip; sid:3;)",
     "sid 3: rule has no content or pcre: nothing to match"},
    {"nocase with a value", ANY_ANY "(content:\"a\"; nocase:1; sid:1;)",
     "sid 1: nocase: takes no value"},
    {"content without value", ANY_ANY "(content; sid:1;)", "sid 1: content: needs a value"},
    {"content with empty value", ANY_ANY "(content: ; sid:1;)", "content: needs a value"},

    /* content */
    {"content unquoted", ANY_ANY "(content:abc; sid:1;)",
     "sid 1: content: value must be in double quotes"},
    {"content unbalanced quote", ANY_ANY "(content:\"abc; sid:1;)",
     "content: unbalanced quotes (a ';' inside quotes must be written '\\;')"},
    {"content unescaped ';'", ANY_ANY "(content:\"a;b\"; sid:1;)", "content: unbalanced quotes"},
    {"content inner quote", ANY_ANY "(content:\"a\"b\"; sid:1;)",
     "content: unbalanced quotes (a '\"' inside quotes must be written '\\\"')"},
    {"content closing quote escaped", ANY_ANY "(content:\"ab\\\"; sid:1;)",
     "content: unbalanced quotes"},
    {"content unknown escape", ANY_ANY "(content:\"a\\nb\"; sid:1;)",
     "sid 1: content: unknown escape '\\n' (only \\\" \\; \\\\ \\:)"},
    {"content empty", ANY_ANY "(content:\"\"; sid:1;)", "sid 1: content: empty"},
    {"odd hex digits", ANY_ANY "(content:\"|414|\"; sid:1;)",
     "sid 1: content: odd number of hex digits in a |...| block"},
    {"odd hex digits with spaces", ANY_ANY "(content:\"|41 4|\"; sid:1;)",
     "odd number of hex digits"},
    {"non-hex digit", ANY_ANY "(content:\"|4g|\"; sid:1;)",
     "sid 1: content: 'g' in a |...| block is not a hex digit"},
    {"tab in hex", ANY_ANY "(content:\"|41\t42|\"; sid:1;)", "'\\x09' in a |...| block"},
    {"unclosed hex block", ANY_ANY "(content:\"ab|41\"; sid:1;)",
     "content: unbalanced '|': a hex block is not closed"},
    {"empty hex block", ANY_ANY "(content:\"a||b\"; sid:1;)", "content: empty |...| block"},
    {"negated content unquoted", ANY_ANY "(content:!abc; sid:1;)",
     "content: value must be in double quotes"},

    /* modifiers */
    {"nocase before any content", ANY_ANY "(nocase; content:\"a\"; sid:1;)",
     "sid 1: nocase: no content before it"},
    {"offset before any content", ANY_ANY "(offset:1; content:\"a\"; sid:1;)",
     "offset: no content before it"},
    {"depth after pcre", ANY_ANY "(content:\"a\"; pcre:\"/b/\"; depth:4; sid:1;)",
     "sid 1: depth: modifies a content, but the pattern before it is a pcre"},
    {"nocase after pcre", ANY_ANY "(pcre:\"/b/\"; nocase; sid:1;)",
     "nocase: modifies a content, but the pattern before it is a pcre"},
    {"depth on negated content", ANY_ANY "(content:!\"a\"; depth:4; sid:1;)",
     "sid 1: depth: not supported on a negated content"},
    {"offset on negated content", ANY_ANY "(content:\"a\"; content:!\"b\"; offset:2; sid:1;)",
     "offset: not supported on a negated content"},
    {"depth shorter than content", ANY_ANY "(content:\"abcdef\"; depth:3; sid:1;)",
     "sid 1: depth 3 is shorter than the content (6 bytes)"},
    {"depth shorter than hex content", ANY_ANY "(content:\"|00 01 02|\"; depth:2; sid:1;)",
     "depth 2 is shorter than the content (3 bytes)"},
    {"depth 0", ANY_ANY "(content:\"a\"; depth:0; sid:1;)", "depth 0 is shorter"},
    {"depth twice", ANY_ANY "(content:\"a\"; depth:4; depth:5; sid:1;)",
     "depth: given twice for one content"},
    {"offset twice", ANY_ANY "(content:\"a\"; offset:4; offset:5; sid:1;)",
     "offset: given twice for one content"},
    {"nocase twice", ANY_ANY "(content:\"a\"; nocase; nocase; sid:1;)",
     "nocase: given twice for one content"},
    {"offset over 65535", ANY_ANY "(content:\"a\"; offset:65536; sid:1;)",
     "sid 1: offset '65536': not a number 0..65535"},
    {"negative offset", ANY_ANY "(content:\"a\"; offset:-1; sid:1;)", "offset '-1': not a number"},
    {"depth not a number", ANY_ANY "(content:\"a\"; depth:4x; sid:1;)", "depth '4x': not a number"},

    /* pcre */
    {"pcre flag R", ANY_ANY "(content:\"a\"; pcre:\"/b/R\"; sid:1;)",
     "sid 1: pcre flag 'R' is not supported (only i s m x)"},
    {"pcre flag U", ANY_ANY "(pcre:\"/b/Ui\"; sid:1;)", "pcre flag 'U' is not supported"},
    {"pcre flag P", ANY_ANY "(pcre:\"/b/iP\"; sid:1;)", "pcre flag 'P' is not supported"},
    {"pcre flag B", ANY_ANY "(pcre:\"/b/B\"; sid:1;)", "pcre flag 'B' is not supported"},
    {"pcre flag G", ANY_ANY "(pcre:\"/b/G\"; sid:1;)", "pcre flag 'G' is not supported"},
    {"pcre flag O", ANY_ANY "(pcre:\"/b/O\"; sid:1;)", "pcre flag 'O' is not supported"},
    {"pcre flag A", ANY_ANY "(pcre:\"/b/A\"; sid:1;)", "pcre flag 'A' is not supported"},
    {"pcre flag E", ANY_ANY "(pcre:\"/b/E\"; sid:1;)", "pcre flag 'E' is not supported"},
    {"pcre without slashes", ANY_ANY "(pcre:\"abc\"; sid:1;)",
     "sid 1: pcre: 'abc' must be written \"/body/flags\""},
    {"pcre one slash", ANY_ANY "(pcre:\"/abc\"; sid:1;)", "pcre: '/abc' must be written"},
    {"pcre not starting with slash", ANY_ANY "(pcre:\"abc/i\"; sid:1;)",
     "pcre: 'abc/i' must be written"},
    {"pcre empty body", ANY_ANY "(pcre:\"//i\"; sid:1;)", "sid 1: pcre: empty body"},
    {"pcre unquoted", ANY_ANY "(pcre:/abc/; sid:1;)", "pcre: value must be in double quotes"},
    {"pcre negated", ANY_ANY "(content:\"a\"; pcre:!\"/b/\"; sid:1;)",
     "sid 1: pcre: negation is not supported"},
    {"pcre unbalanced quotes", ANY_ANY "(pcre:\"/a;b/\"; sid:1;)", "pcre: unbalanced quotes"},

    /* sid and the other plain options */
    {"no sid", ANY_ANY "(msg:\"x\"; content:\"a\";)", "rule has no sid"},
    {"sid 0", ANY_ANY "(content:\"a\"; sid:0;)", "sid '0': must be a number 1..4294967295"},
    {"sid over 32 bits", ANY_ANY "(content:\"a\"; sid:4294967296;)",
     "sid '4294967296': must be a number 1..4294967295"},
    {"sid negative", ANY_ANY "(content:\"a\"; sid:-5;)", "sid '-5': must be a number"},
    {"sid not a number", ANY_ANY "(content:\"a\"; sid:abc;)", "sid 'abc': must be a number"},
    {"sid twice", ANY_ANY "(content:\"a\"; sid:7; sid:8;)", "sid 7: sid: given twice"},
    {"no content or pcre", ANY_ANY "(msg:\"nothing to match\"; sid:9;)",
     "sid 9: rule has no content or pcre: nothing to match"},
    {"msg twice", ANY_ANY "(msg:\"a\"; msg:\"b\"; content:\"a\"; sid:1;)",
     "sid 1: msg: given twice"},
    {"msg unquoted", ANY_ANY "(msg:hello; content:\"a\"; sid:1;)",
     "msg: value must be in double quotes"},
    {"msg with an unescaped ';'", ANY_ANY "(msg:\"a;b\"; content:\"a\"; sid:1;)",
     "msg: unbalanced quotes (a ';' inside quotes must be written '\\;')"},
    {"rev not a number", ANY_ANY "(content:\"a\"; sid:1; rev:x;)",
     "sid 1: rev 'x': must be a number"},
    {"rev twice", ANY_ANY "(content:\"a\"; sid:1; rev:1; rev:2;)", "rev: given twice"},
    {"priority 0", ANY_ANY "(content:\"a\"; sid:1; priority:0;)",
     "priority '0': must be a number 1..255"},
    {"priority 256", ANY_ANY "(content:\"a\"; sid:1; priority:256;)",
     "priority '256': must be a number 1..255"},
    {"classtype with a blank", ANY_ANY "(content:\"a\"; sid:1; classtype:bad class;)",
     "classtype 'bad class': must be 1..63 characters of [A-Za-z0-9_-]"},
    {"classtype twice", ANY_ANY "(content:\"a\"; sid:1; classtype:a; classtype:b;)",
     "classtype: given twice"},
    {"flow stateless", ANY_ANY "(flow:stateless; content:\"a\"; sid:1;)",
     "sid 1: flow option 'stateless' is not supported (to_server, to_client, from_client, "
     "from_server, established)"},
    {"flow not_established", ANY_ANY "(flow:not_established; content:\"a\"; sid:1;)",
     "flow option 'not_established' is not supported"},
    {"flow both directions", ANY_ANY "(flow:to_server,from_server; content:\"a\"; sid:1;)",
     "flow: to_server and to_client together match nothing"},
    {"flow twice", ANY_ANY "(flow:to_server; flow:established; content:\"a\"; sid:1;)",
     "flow: given twice"},
    {"flow empty item", ANY_ANY "(flow:established,; content:\"a\"; sid:1;)",
     "flow option '' is not supported"},
};

Test(sigrule_invalid, each_bad_rule_gives_its_message_and_holds_nothing)
{
	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		int rc = parse(bad_rules[i].text);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bad_rules[i].what, rc);
		cr_expect_not_null(strstr(err, bad_rules[i].want), "%s: got \"%s\", want \"%s\"",
				   bad_rules[i].what, err, bad_rules[i].want);
		cr_expect_eq(rule.n_patterns, 0, "%s: patterns left", bad_rules[i].what);
	}
}

Test(sigrule_invalid, sid_is_named_only_once_known)
{
	cr_assert_eq(parse(ANY_ANY "(content:\"a\"; foo; )"), -EINVAL);
	cr_assert_str_eq(err, "unsupported keyword 'foo'");
	cr_assert_eq(parse(ANY_ANY "(content:\"a\"; foo; sid:12;)"), -EINVAL);
	cr_assert_str_eq(err, "sid 12: unsupported keyword 'foo'");
}

Test(sigrule_invalid, error_after_patterns_frees_them)
{
	/* Two patterns allocated before the refusal: ASan's leak check watches. */
	cr_assert_eq(parse(ANY_ANY "(content:\"abc\"; pcre:\"/x/\"; bogus; sid:3;)"), -EINVAL);
	cr_assert_eq(rule.n_patterns, 0);
	cr_assert_eq(parse(ANY_ANY "(content:\"abc\"; pcre:\"/x/\"; sid:3;"), -EINVAL);
	cr_assert_eq(rule.n_patterns, 0);
}

Test(sigrule_invalid, message_truncated_to_errlen)
{
	char small[12];

	cr_assert_eq(nm_sig_rule_parse(ANY_ANY "(content:\"a\"; bogus; sid:1001;)", &rule, small,
				       sizeof(small)),
		     -EINVAL);
	cr_assert_str_eq(small, "sid 1001: u");
	cr_assert_eq(nm_sig_rule_parse("", &rule, small, 0), -EINVAL); /* no write at all */
}

/* Build "alert tcp any any -> any any (content:\"<n x 'a'>\"; sid:1;)" on the heap. */
static char *
rule_with_content_of(size_t n, const char *key)
{
	size_t size = n + 128;
	char *text = malloc(size);
	size_t at;

	cr_assert_not_null(text);
	at = (size_t)snprintf(text, size, ANY_ANY "(%s:\"%s", key, strcmp(key, "pcre") ? "" : "/");
	memset(text + at, 'a', n);
	at += n;
	snprintf(text + at, size - at, "%s\"; sid:1;)", strcmp(key, "pcre") ? "" : "/");
	return text;
}

Test(sigrule_invalid, content_and_pcre_longer_than_max)
{
	char *text = rule_with_content_of(NM_SIG_MAX_PATTERN + 1, "content");

	cr_expect_eq(parse(text), -EINVAL);
	cr_expect_str_eq(err, "sid 1: content: 8193 bytes, longer than 8192");
	free(text);
	text = rule_with_content_of(NM_SIG_MAX_PATTERN + 1, "pcre");
	cr_expect_eq(parse(text), -EINVAL);
	cr_expect_str_eq(err, "sid 1: pcre: body of 8193 bytes, longer than 8192");
	free(text);
}

Test(sigrule_invalid, hex_content_counts_decoded_bytes)
{
	/* 8193 bytes written as hex: refused on the decoded length. */
	size_t n = NM_SIG_MAX_PATTERN + 1, size = 3 * n + 128, at;
	char *text = malloc(size);

	cr_assert_not_null(text);
	at = (size_t)snprintf(text, size, ANY_ANY "(content:\"|");
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(text + at, size - at, "%s41", i ? " " : "");
	snprintf(text + at, size - at, "|\"; sid:1;)");
	cr_expect_eq(parse(text), -EINVAL);
	cr_expect_str_eq(err, "sid 1: content: 8193 bytes, longer than 8192");
	free(text);
}

Test(sigrule_invalid, more_than_16_patterns)
{
	char text[1024];
	size_t at = (size_t)snprintf(text, sizeof(text), ANY_ANY "(");

	for (int i = 0; i < NM_SIG_MAX_PATTERNS; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "content:\"p%d\"; ", i);
	snprintf(text + at, sizeof(text) - at, "pcre:\"/x/\"; sid:44;)");
	cr_expect_eq(parse(text), -EINVAL);
	cr_expect_str_eq(err, "sid 44: more than 16 content/pcre patterns");
	cr_expect_eq(rule.n_patterns, 0);
}

Test(sigrule_invalid, msg_longer_than_255)
{
	char text[600];
	size_t at = (size_t)snprintf(text, sizeof(text), ANY_ANY "(msg:\"");

	memset(text + at, 'm', 256);
	snprintf(text + at + 256, sizeof(text) - at - 256, "\"; content:\"a\"; sid:2;)");
	cr_expect_eq(parse(text), -EINVAL);
	cr_expect_str_eq(err, "sid 2: msg: longer than 255 characters");
}

/* ---- valid rules: every field ------------------------------------------ */

#define IP(a, b, c, d)                                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define CONTENT(s, nc, neg, off, dep)                                                              \
	{                                                                                          \
		.kind = NM_SIG_CONTENT, .nocase = nc, .negated = neg, .offset = off, .depth = dep, \
		.len = sizeof(s) - 1, .data = (uint8_t *)s                                         \
	}
#define PCRE(s, i, s_, m, x)                                                                       \
	{                                                                                          \
		.kind = NM_SIG_PCRE, .nocase = i, .dotall = s_, .multiline = m, .extended = x,     \
		.offset = -1, .depth = -1, .len = sizeof(s) - 1, .data = (uint8_t *)s              \
	}

static const struct {
	const char *what;
	const char *text;
	struct nm_sig_rule want; /* patterns[].data points at the expected bytes */
} good_rules[] = {
    {"minimal",
     ANY_ANY "(content:\"abc\"; sid:1;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 1,
      .n_patterns = 1,
      .patterns = {CONTENT("abc", false, false, -1, -1)}}},

    /* ET Open 2013028 (reference and metadata dropped, variables written out). */
    {"ET POLICY curl User-Agent Outbound",
     "alert tcp 10.0.0.0/8 any -> !10.0.0.0/8 [80,8080] (msg:\"ET POLICY curl User-Agent "
     "Outbound\"; flow:established,to_server; content:\"User-Agent|3a 20|curl/\"; nocase; "
     "classtype:attempted-recon; sid:2013028; rev:8;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .src = {.n = 1, .items = {{IP(10, 0, 0, 0), 8}}},
      .dst = {.negated = true, .n = 1, .items = {{IP(10, 0, 0, 0), 8}}},
      .dport = {.n = 2, .items = {{80, 80}, {8080, 8080}}},
      .sid = 2013028,
      .rev = 8,
      .flow = NM_SIG_FLOW_ESTABLISHED | NM_SIG_FLOW_TO_SERVER,
      .msg = "ET POLICY curl User-Agent Outbound",
      .classtype = "attempted-recon",
      .n_patterns = 1,
      .patterns = {CONTENT("User-Agent: curl/", true, false, -1, -1)}}},

    /* GPL 2100498, as shipped apart from metadata. */
    {"GPL ATTACK_RESPONSE id check returned root",
     "alert ip any any -> any any (msg:\"GPL ATTACK_RESPONSE id check returned root\"; "
     "content:\"uid=0|28|root|29|\"; classtype:bad-unknown; sid:2100498; rev:8;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_IP,
      .sid = 2100498,
      .rev = 8,
      .msg = "GPL ATTACK_RESPONSE id check returned root",
      .classtype = "bad-unknown",
      .n_patterns = 1,
      .patterns = {CONTENT("uid=0(root)", false, false, -1, -1)}}},

    /* GPL 2100361 (its distance:0 dropped): pcre escapes reach Hyperscan untouched. */
    {"GPL FTP SITE EXEC format string attempt",
     "alert tcp any any -> 192.168.1.0/24 21 (msg:\"GPL FTP SITE EXEC format string "
     "attempt\"; flow:to_server,established; content:\"SITE\"; nocase; content:\"EXEC\"; "
     "nocase; pcre:\"/^SITE\\s+EXEC\\s[^\\n]*?%[^\\n]*?%/smi\"; classtype:bad-unknown; "
     "sid:2100361; rev:12;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .dst = {.n = 1, .items = {{IP(192, 168, 1, 0), 24}}},
      .dport = {.n = 1, .items = {{21, 21}}},
      .sid = 2100361,
      .rev = 12,
      .flow = NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_ESTABLISHED,
      .msg = "GPL FTP SITE EXEC format string attempt",
      .classtype = "bad-unknown",
      .n_patterns = 3,
      .patterns = {CONTENT("SITE", true, false, -1, -1), CONTENT("EXEC", true, false, -1, -1),
		   PCRE("^SITE\\s+EXEC\\s[^\\n]*?%[^\\n]*?%", true, true, true, false)}}},

    /* ET Open 2014939 style DNS rule: offset/depth on hex content, a name label. */
    {"ET DNS Query for .onion",
     "alert udp any any -> any 53 (msg:\"ET DNS Query for .onion proxy Domain\"; "
     "content:\"|01 00 00 01 00 00 00 00 00 00|\"; depth:10; offset:2; "
     "content:\"|05|onion|00|\"; nocase; classtype:bad-unknown; sid:2014939; rev:3;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_UDP,
      .dport = {.n = 1, .items = {{53, 53}}},
      .sid = 2014939,
      .rev = 3,
      .msg = "ET DNS Query for .onion proxy Domain",
      .classtype = "bad-unknown",
      .n_patterns = 2,
      .patterns = {CONTENT("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", false, false, 2, 10),
		   CONTENT("\x05onion\x00", true, false, -1, -1)}}},

    /* ET Open 2012088, as shipped apart from metadata. */
    {"ET SHELLCODE call with no offset",
     "alert tcp any any -> any any (msg:\"ET SHELLCODE Possible Call with No Offset TCP "
     "Shellcode\"; flow:established; content:\"|E8 00 00 00 00 58|\"; "
     "classtype:shellcode-detect; sid:2012088; rev:1;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 2012088,
      .rev = 1,
      .flow = NM_SIG_FLOW_ESTABLISHED,
      .msg = "ET SHELLCODE Possible Call with No Offset TCP Shellcode",
      .classtype = "shellcode-detect",
      .n_patterns = 1,
      .patterns = {CONTENT("\xe8\x00\x00\x00\x00\x58", false, false, -1, -1)}}},

    /*
     * The real rules above again, with their reference/metadata options as
     * shipped in ET Open (variables written as any; application-layer
     * protocols as tcp and matching keywords this parser refuses dropped,
     * as noted). Informational options leave every field as without them.
     */
    /* ET Open 2013028 rev 6: http.user_agent, startswith and http header dropped. */
    {"ET POLICY curl User-Agent Outbound, with reference and metadata",
     "alert tcp any any -> any any (msg:\"ET POLICY curl User-Agent Outbound\"; "
     "flow:established,to_server; content:\"User-Agent|3a 20|curl/\"; nocase; "
     "reference:url,www.useragentstring.com/pages/useragentstring.php; "
     "classtype:attempted-recon; sid:2013028; rev:6; "
     "metadata:created_at 2011_06_14, updated_at 2021_12_01;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 2013028,
      .rev = 6,
      .flow = NM_SIG_FLOW_ESTABLISHED | NM_SIG_FLOW_TO_SERVER,
      .msg = "ET POLICY curl User-Agent Outbound",
      .classtype = "attempted-recon",
      .n_patterns = 1,
      .patterns = {CONTENT("User-Agent: curl/", true, false, -1, -1)}}},

    /* GPL 2100498 rev 7, verbatim. */
    {"GPL ATTACK_RESPONSE id check returned root, verbatim",
     "alert ip any any -> any any (msg:\"GPL ATTACK_RESPONSE id check returned root\"; "
     "content:\"uid=0|28|root|29|\"; classtype:bad-unknown; sid:2100498; rev:7; "
     "metadata:created_at 2010_09_23, updated_at 2010_09_23;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_IP,
      .sid = 2100498,
      .rev = 7,
      .msg = "GPL ATTACK_RESPONSE id check returned root",
      .classtype = "bad-unknown",
      .n_patterns = 1,
      .patterns = {CONTENT("uid=0(root)", false, false, -1, -1)}}},

    /* GPL 2101971 rev 5 (the SITE EXEC format string rule): ftp as tcp, distance:0 dropped. */
    {"GPL FTP SITE EXEC format string attempt, with metadata",
     "alert tcp any any -> any any (msg:\"GPL FTP SITE EXEC format string attempt\"; "
     "flow:to_server,established; content:\"SITE\"; nocase; content:\"EXEC\"; nocase; "
     "pcre:\"/^SITE\\s+EXEC\\s[^\\n]*?%[^\\n]*?%/smi\"; classtype:bad-unknown; sid:2101971; "
     "rev:5; metadata:created_at 2010_09_23, updated_at 2010_09_23;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 2101971,
      .rev = 5,
      .flow = NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_ESTABLISHED,
      .msg = "GPL FTP SITE EXEC format string attempt",
      .classtype = "bad-unknown",
      .n_patterns = 3,
      .patterns = {CONTENT("SITE", true, false, -1, -1), CONTENT("EXEC", true, false, -1, -1),
		   PCRE("^SITE\\s+EXEC\\s[^\\n]*?%[^\\n]*?%", true, true, true, false)}}},

    /* GPL 2100361 rev 17, the SITE EXEC rule itself: several references. */
    {"GPL FTP SITE EXEC attempt, four references",
     "alert tcp any any -> any any (msg:\"GPL FTP SITE EXEC attempt\"; "
     "flow:to_server,established; content:\"SITE\"; nocase; content:\"EXEC\"; nocase; "
     "pcre:\"/^SITE\\s+EXEC/smi\"; reference:arachnids,317; reference:bugtraq,2241; "
     "reference:cve,1999-0080; reference:cve,1999-0955; classtype:bad-unknown; sid:2100361; "
     "rev:17; metadata:created_at 2010_09_23, updated_at 2010_09_23;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 2100361,
      .rev = 17,
      .flow = NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_ESTABLISHED,
      .msg = "GPL FTP SITE EXEC attempt",
      .classtype = "bad-unknown",
      .n_patterns = 3,
      .patterns = {CONTENT("SITE", true, false, -1, -1), CONTENT("EXEC", true, false, -1, -1),
		   PCRE("^SITE\\s+EXEC", true, true, true, false)}}},

    /* ET Open 2014939 style DNS rule; ET-style options (not checked against the feed). */
    {"ET DNS Query for .onion, with reference, metadata and target",
     "alert udp any any -> any 53 (msg:\"ET DNS Query for .onion proxy Domain\"; "
     "content:\"|01 00 00 01 00 00 00 00 00 00|\"; depth:10; offset:2; "
     "content:\"|05|onion|00|\"; nocase; reference:url,en.wikipedia.org/wiki/Tor_(network); "
     "classtype:bad-unknown; sid:2014939; rev:3; target:src_ip; "
     "metadata:affected_product Any, attack_target Client_Endpoint, created_at 2012_06_19, "
     "deployment Perimeter, signature_severity Minor, updated_at 2019_07_26;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_UDP,
      .dport = {.n = 1, .items = {{53, 53}}},
      .sid = 2014939,
      .rev = 3,
      .msg = "ET DNS Query for .onion proxy Domain",
      .classtype = "bad-unknown",
      .n_patterns = 2,
      .patterns = {CONTENT("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", false, false, 2, 10),
		   CONTENT("\x05onion\x00", true, false, -1, -1)}}},

    /* ET Open 2012088 rev 4, verbatim apart from the variables. */
    {"ET SHELLCODE call with no offset, verbatim",
     "alert tcp any any -> any any (msg:\"ET SHELLCODE Possible Call with No Offset TCP "
     "Shellcode\"; flow:established; content:\"|E8 00 00 00 00 8F|\"; "
     "reference:url,community.rsa.com/community/products/netwitness/blog/2012/08/22/"
     "network-detection-of-x86-buffer-overflow-shellcode; classtype:shellcode-detect; "
     "sid:2012088; rev:4; metadata:created_at 2010_12_23, updated_at 2019_07_26;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 2012088,
      .rev = 4,
      .flow = NM_SIG_FLOW_ESTABLISHED,
      .msg = "ET SHELLCODE Possible Call with No Offset TCP Shellcode",
      .classtype = "shellcode-detect",
      .n_patterns = 1,
      .patterns = {CONTENT("\xe8\x00\x00\x00\x00\x8f", false, false, -1, -1)}}},

    {"informational options: repeats, escapes, blanks, case, before the content",
     ANY_ANY "(REFERENCE : cve , 2021-44228 ; reference:url,http://x/?a=1\\;b=2&c=(d); "
	     "Metadata: a \"quoted\\; value\", b 2; metadata:x; target : dest_ip ; content:\"a\"; "
	     "sid:13;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 13,
      .n_patterns = 1,
      .patterns = {CONTENT("a", false, false, -1, -1)}}},

    {"every option, escapes, negations, lists",
     "drop tcp [10.1.2.3/8, 192.168.1.1] [1024:,:99] <> !192.168.0.0/16 ![80,443,8000:8080] "
     "(msg:\"all \\\"options\\\" \\; a\\\\b\\:c\"; flow:from_client , established; "
     "content:\"GET |20 2f|\"; nocase; offset:0; depth:16; content:!\"b\\;a\\\"d\"; "
     "pcre:\"/^x[0-9]+\\;y\\/z/smix\"; classtype:trojan-activity; priority:2; sid:4294967295; "
     "rev:0;)",
     {.action = NM_SIG_DROP,
      .proto = NM_SIG_PROTO_TCP,
      .bidirectional = true,
      .src = {.n = 2, .items = {{IP(10, 0, 0, 0), 8}, {IP(192, 168, 1, 1), 32}}},
      .sport = {.n = 2, .items = {{1024, 65535}, {0, 99}}},
      .dst = {.negated = true, .n = 1, .items = {{IP(192, 168, 0, 0), 16}}},
      .dport = {.negated = true, .n = 3, .items = {{80, 80}, {443, 443}, {8000, 8080}}},
      .sid = 4294967295u,
      .rev = 0,
      .priority = 2,
      .flow = NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_ESTABLISHED,
      .msg = "all \"options\" ; a\\b:c",
      .classtype = "trojan-activity",
      .n_patterns = 3,
      .patterns = {CONTENT("GET  /", true, false, 0, 16), CONTENT("b;a\"d", false, true, -1, -1),
		   PCRE("^x[0-9]+\\;y\\/z", true, true, true, true)}}},

    {"reject udp, single port, negated single address",
     "reject udp !10.0.0.1 53 -> any any (content:\"x\"; sid:5;)",
     {.action = NM_SIG_REJECT,
      .proto = NM_SIG_PROTO_UDP,
      .src = {.negated = true, .n = 1, .items = {{IP(10, 0, 0, 1), 32}}},
      .sport = {.n = 1, .items = {{53, 53}}},
      .sid = 5,
      .n_patterns = 1,
      .patterns = {CONTENT("x", false, false, -1, -1)}}},

    {"pass icmp with pcre only, flow to_client",
     "pass icmp 0.0.0.0/0 any -> 255.255.255.255 any (flow:from_server; pcre:\"/ping/\"; "
     "sid:6; priority:255;)",
     {.action = NM_SIG_PASS,
      .proto = NM_SIG_PROTO_ICMP,
      .src = {.n = 1, .items = {{0, 0}}},
      .dst = {.n = 1, .items = {{UINT32_MAX, 32}}},
      .sid = 6,
      .priority = 255,
      .flow = NM_SIG_FLOW_TO_CLIENT,
      .n_patterns = 1,
      .patterns = {PCRE("ping", false, false, false, false)}}},

    {"port edges and open ranges",
     "alert tcp any [0,65535,0:65535] -> any ![:0,65535:] (content:\"a\"; sid:7;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sport = {.n = 3, .items = {{0, 0}, {65535, 65535}, {0, 65535}}},
      .dport = {.negated = true, .n = 2, .items = {{0, 0}, {65535, 65535}}},
      .sid = 7,
      .n_patterns = 1,
      .patterns = {CONTENT("a", false, false, -1, -1)}}},

    {"host bits masked, /32 kept",
     "alert tcp 10.1.2.3/8 any -> [172.16.5.4/12,1.2.3.4/32,1.2.3.5/31] any "
     "(content:\"a\"; sid:8;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .src = {.n = 1, .items = {{IP(10, 0, 0, 0), 8}}},
      .dst = {.n = 3,
	      .items = {{IP(172, 16, 0, 0), 12}, {IP(1, 2, 3, 4), 32}, {IP(1, 2, 3, 4), 31}}},
      .sid = 8,
      .n_patterns = 1,
      .patterns = {CONTENT("a", false, false, -1, -1)}}},

    {"keywords, actions, protocols and any in any case, blanks everywhere",
     "  ALERT Tcp ANY Any -> aNy any  ( MSG : \"m\" ;Content: \"A\" ;NoCase;DEPTH : 1 ; "
     "Sid : 9 ; )  \r\n",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 9,
      .msg = "m",
      .n_patterns = 1,
      .patterns = {CONTENT("A", true, false, -1, 1)}}},

    {"hex only, lower case digits, no spaces; depth equal to length",
     ANY_ANY "(content:\"|deadBEEF|\"; depth:4; offset:65535; sid:10;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 10,
      .n_patterns = 1,
      .patterns = {CONTENT("\xde\xad\xbe\xef", false, false, 65535, 4)}}},

    {"negated content with nocase; ')' and '(' inside quotes",
     ANY_ANY "(msg:\"a (b) c\"; content:\"x)\"; content:!\"(y\"; nocase; sid:11;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 11,
      .msg = "a (b) c",
      .n_patterns = 2,
      .patterns = {CONTENT("x)", false, false, -1, -1), CONTENT("(y", true, true, -1, -1)}}},

    {"sid first, empty msg, pcre with a quote and no flags",
     ANY_ANY "(sid:12; msg:\"\"; pcre:\"/a\\\"b/\";)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 12,
      .n_patterns = 1,
      .patterns = {PCRE("a\\\"b", false, false, false, false)}}},
};

static void
assert_addrs(const char *what, const char *side, const struct nm_sig_addrs *got,
	     const struct nm_sig_addrs *want)
{
	cr_expect_eq(got->negated, want->negated, "%s: %s negated", what, side);
	cr_expect_eq(got->n, want->n, "%s: %s n %u", what, side, got->n);
	for (unsigned int i = 0; i < want->n && i < got->n; i++) {
		cr_expect_eq(got->items[i].addr, want->items[i].addr, "%s: %s[%u] addr %08x", what,
			     side, i, got->items[i].addr);
		cr_expect_eq(got->items[i].len, want->items[i].len, "%s: %s[%u] len", what, side,
			     i);
	}
}

static void
assert_ports(const char *what, const char *side, const struct nm_sig_ports *got,
	     const struct nm_sig_ports *want)
{
	cr_expect_eq(got->negated, want->negated, "%s: %s negated", what, side);
	cr_expect_eq(got->n, want->n, "%s: %s n %u", what, side, got->n);
	for (unsigned int i = 0; i < want->n && i < got->n; i++) {
		cr_expect_eq(got->items[i].lo, want->items[i].lo, "%s: %s[%u] lo", what, side, i);
		cr_expect_eq(got->items[i].hi, want->items[i].hi, "%s: %s[%u] hi", what, side, i);
	}
}

static void
assert_rule(const char *what, const struct nm_sig_rule *got, const struct nm_sig_rule *want)
{
	cr_expect_eq(got->action, want->action, "%s: action", what);
	cr_expect_eq(got->proto, want->proto, "%s: proto", what);
	cr_expect_eq(got->bidirectional, want->bidirectional, "%s: bidirectional", what);
	assert_addrs(what, "src", &got->src, &want->src);
	assert_addrs(what, "dst", &got->dst, &want->dst);
	assert_ports(what, "sport", &got->sport, &want->sport);
	assert_ports(what, "dport", &got->dport, &want->dport);
	cr_expect_eq(got->sid, want->sid, "%s: sid %u", what, got->sid);
	cr_expect_eq(got->rev, want->rev, "%s: rev", what);
	cr_expect_eq(got->priority, want->priority, "%s: priority", what);
	cr_expect_eq(got->flow, want->flow, "%s: flow %#x", what, got->flow);
	cr_expect_str_eq(got->msg, want->msg, "%s: msg", what);
	cr_expect_str_eq(got->classtype, want->classtype, "%s: classtype", what);
	cr_expect_eq(got->line, 0, "%s: line", what);
	cr_expect_eq(got->n_patterns, want->n_patterns, "%s: n_patterns %u", what, got->n_patterns);
	for (unsigned int i = 0; i < want->n_patterns && i < got->n_patterns; i++) {
		const struct nm_sig_pattern *g = &got->patterns[i], *w = &want->patterns[i];
		cr_expect_eq(g->kind, w->kind, "%s: [%u] kind", what, i);
		cr_expect_eq(g->nocase, w->nocase, "%s: [%u] nocase", what, i);
		cr_expect_eq(g->negated, w->negated, "%s: [%u] negated", what, i);
		cr_expect_eq(g->dotall, w->dotall, "%s: [%u] dotall", what, i);
		cr_expect_eq(g->multiline, w->multiline, "%s: [%u] multiline", what, i);
		cr_expect_eq(g->extended, w->extended, "%s: [%u] extended", what, i);
		cr_expect_eq(g->offset, w->offset, "%s: [%u] offset %d", what, i, g->offset);
		cr_expect_eq(g->depth, w->depth, "%s: [%u] depth %d", what, i, g->depth);
		cr_expect_eq(g->len, w->len, "%s: [%u] len %u", what, i, g->len);
		cr_expect(g->len == w->len && memcmp(g->data, w->data, w->len) == 0,
			  "%s: [%u] data \"%.*s\"", what, i, (int)g->len, (const char *)g->data);
		cr_expect_eq(g->data[g->len], '\0', "%s: [%u] not NUL-terminated", what, i);
	}
}

Test(sigrule_parse, each_good_rule_gives_every_field)
{
	for (size_t i = 0; i < sizeof(good_rules) / sizeof(good_rules[0]); i++) {
		int rc = parse(good_rules[i].text);
		cr_expect_eq(rc, 0, "%s: %s", good_rules[i].what, err);
		if (rc == 0)
			assert_rule(good_rules[i].what, &rule, &good_rules[i].want);
		nm_sig_rule_clear(&rule);
		cr_expect_eq(rule.n_patterns, 0);
	}
}

Test(sigrule_parse, longest_content_and_pcre)
{
	char *text = rule_with_content_of(NM_SIG_MAX_PATTERN, "content");

	cr_assert_eq(parse(text), 0, "%s", err);
	cr_expect_eq(rule.patterns[0].len, NM_SIG_MAX_PATTERN);
	cr_expect_eq(rule.patterns[0].data[NM_SIG_MAX_PATTERN - 1], 'a');
	nm_sig_rule_clear(&rule);
	free(text);
	text = rule_with_content_of(NM_SIG_MAX_PATTERN, "pcre");
	cr_assert_eq(parse(text), 0, "%s", err);
	cr_expect_eq(rule.patterns[0].kind, NM_SIG_PCRE);
	cr_expect_eq(strlen((char *)rule.patterns[0].data), NM_SIG_MAX_PATTERN);
	nm_sig_rule_clear(&rule);
	free(text);
}

Test(sigrule_parse, sixteen_patterns_and_addresses_and_ports)
{
	char text[2048];
	size_t at = (size_t)snprintf(text, sizeof(text), "alert tcp [");

	for (int i = 1; i <= NM_SIG_MAX_ADDRS; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "%s10.0.0.%d",
				       i > 1 ? "," : "", i);
	at += (size_t)snprintf(text + at, sizeof(text) - at, "] any -> any [");
	for (int i = 1; i <= NM_SIG_MAX_PORTS; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "%s%d", i > 1 ? "," : "", i);
	at += (size_t)snprintf(text + at, sizeof(text) - at, "] (");
	for (int i = 0; i < NM_SIG_MAX_PATTERNS - 1; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "content:\"p%d\"; ", i);
	snprintf(text + at, sizeof(text) - at, "pcre:\"/last/\"; sid:16;)");

	cr_assert_eq(parse(text), 0, "%s", err);
	cr_expect_eq(rule.src.n, NM_SIG_MAX_ADDRS);
	cr_expect_eq(rule.src.items[15].addr, IP(10, 0, 0, 16));
	cr_expect_eq(rule.dport.n, NM_SIG_MAX_PORTS);
	cr_expect_eq(rule.dport.items[15].lo, 16);
	cr_expect_eq(rule.n_patterns, NM_SIG_MAX_PATTERNS);
	cr_expect_str_eq((char *)rule.patterns[14].data, "p14");
	cr_expect_eq(rule.patterns[15].kind, NM_SIG_PCRE);
	nm_sig_rule_clear(&rule);
}

Test(sigrule_parse, cleared_rule_parses_again)
{
	cr_assert_eq(parse(ANY_ANY "(content:\"a\"; content:\"b\"; sid:1;)"), 0, "%s", err);
	nm_sig_rule_clear(&rule);
	cr_assert_eq(rule.n_patterns, 0);
	nm_sig_rule_clear(&rule); /* twice is harmless */
	cr_assert_eq(parse(ANY_ANY "(pcre:\"/c/\"; sid:2;)"), 0, "%s", err);
	cr_expect_eq(rule.sid, 2);
	cr_expect_eq(rule.n_patterns, 1);
	nm_sig_rule_clear(&rule);
}

/* ---- files ------------------------------------------------------------- */

static struct nm_sig_rule *rules;

static int
parse_file(const char *text, char *path)
{
	nm_test_write_tmp(path, text);
	memset(err, 0, sizeof(err));
	rules = (struct nm_sig_rule *)&err; /* must be reset either way */
	int rc = nm_sig_file_parse(path, &rules, err, sizeof(err));
	unlink(path);
	return rc;
}

#define R(sid, extra) ANY_ANY "(content:\"x\"; " extra "sid:" #sid ";)"

Test(sigrule_file, missing_file)
{
	memset(err, 0, sizeof(err));
	cr_assert_eq(nm_sig_file_parse("/nonexistent/x.rules", &rules, err, sizeof(err)), -ENOENT);
	cr_assert_null(rules);
	cr_assert_str_eq(err, "/nonexistent/x.rules: cannot open: No such file or directory");
}

static const struct {
	const char *what;
	const char *text;
	unsigned int line; /* of the error */
	const char *reason;
} bad_files[] = {
    {"first line", R(1, "bogus; ") "\n" R(2, "") "\n" R(3, "") "\n", 1,
     "sid 1: unsupported keyword 'bogus'"},
    {"middle line after comments and blanks",
     "# header\n\n" R(1, "") "\n   # indented comment\n" R(2, "pcre:\"/a/R\"; ") "\n\n" R(3,
											  "") "\n",
     5, "sid 2: pcre flag 'R' is not supported (only i s m x)"},
    {"last line without newline", R(1, "") "\n" R(2, "") "\n" R(3, "depth:0; "), 3,
     "sid 3: depth 0 is shorter than the content (1 bytes)"},
    {"after continuation lines",
     R(1, "") "\n" ANY_ANY "(content:\"x\"; \\\n  nocase; \\\n"
	      "  sid:2;)\n" R(3, "offset:x; ") "\n",
     5, "sid 3: offset 'x': not a number 0..65535"},
    {"inside a continued rule: its first line",
     "\n" ANY_ANY "(content:\"x\"; \\\n  foo; \\\n"
     "  sid:2;)\n",
     2, "sid 2: unsupported keyword 'foo'"},
    {"sid unknown", R(1, "") "\n" ANY_ANY "(content:\"x\"; bar;)\n", 2,
     "unsupported keyword 'bar'"},
    {"duplicate sid", "# rules\n" R(7, "") "\n" R(8, "") "\n\n" R(7, "nocase; ") "\n", 5,
     "sid 7: duplicate sid, first on line 2"},
    {"duplicate sid after a continuation",
     R(1, "") "\n" ANY_ANY "\\\n(content:\"y\"; \\\nsid:9;)\n" R(9, "") "\n", 5,
     "sid 9: duplicate sid, first on line 2"},
    {"CRLF line endings", R(1, "") "\r\n" R(2, "") "\r\n" R(2, "") "\r\n", 3,
     "sid 2: duplicate sid, first on line 2"},
};

Test(sigrule_file, each_bad_file_names_file_line_sid_and_reason)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		char path[] = "/tmp/nm-test-sigrule-XXXXXX";
		char want[1100];
		int rc = parse_file(bad_files[i].text, path);

		snprintf(want, sizeof(want), "%s:%u: %s", path, bad_files[i].line,
			 bad_files[i].reason);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bad_files[i].what, rc);
		cr_expect_null(rules, "%s: rules not NULL", bad_files[i].what);
		cr_expect_str_eq(err, want, "%s", bad_files[i].what);
	}
}

Test(sigrule_file, good_file_counts_rules_and_their_lines)
{
	char path[] = "/tmp/nm-test-sigrule-XXXXXX";
	/* One line of the file per line here, its number in the comment. */
	// clang-format off
	const char *text =
		"# nodemesh test rules\n"                              /* 1 */
		"\n"                                                   /* 2 */
		R(100, "nocase; ") "\n"                                /* 3 */
		"   \t\n"                                              /* 4 */
		"alert tcp any any -> any 80 (msg:\"multi\"; \\\n"     /* 5 */
		"    content:\"GET\"; depth:3; \\\n"                   /* 6 */
		"    sid:200;)\n"                                      /* 7 */
		"#" R(100, "") " \\\n"                                 /* 8: comment */
		"  continued comment line\n"                           /* 9 */
		"  " R(300, "content:\"#not a comment\"; ") "\n"       /* 10 */
		"alert udp any any -> any 53 (content:\"|00|\"; \\\n"  /* 11 */
		"sid:400;) \\";                                        /* 12: at EOF */
	// clang-format on
	int n = parse_file(text, path);

	cr_assert_eq(n, 4, "%s", err);
	cr_assert_not_null(rules);
	cr_expect_eq(rules[0].sid, 100);
	cr_expect_eq(rules[0].line, 3);
	cr_expect(rules[0].patterns[0].nocase);
	cr_expect_eq(rules[1].sid, 200);
	cr_expect_eq(rules[1].line, 5);
	cr_expect_str_eq(rules[1].msg, "multi");
	cr_expect_eq(rules[1].patterns[0].depth, 3);
	cr_expect_eq(rules[1].dport.items[0].lo, 80);
	cr_expect_eq(rules[2].sid, 300);
	cr_expect_eq(rules[2].line, 10);
	cr_expect_eq(rules[2].n_patterns, 2);
	cr_expect_str_eq((char *)rules[2].patterns[1].data, "#not a comment");
	cr_expect_eq(rules[3].sid, 400);
	cr_expect_eq(rules[3].line, 11);
	cr_expect_eq(rules[3].proto, NM_SIG_PROTO_UDP);
	nm_sig_rules_free(rules, (unsigned int)n);
}

Test(sigrule_file, empty_and_comment_only_files_have_no_rules)
{
	char path[] = "/tmp/nm-test-sigrule-XXXXXX";
	char path2[] = "/tmp/nm-test-sigrule-XXXXXX";

	cr_assert_eq(parse_file("", path), 0, "%s", err);
	cr_assert_null(rules);
	cr_assert_eq(parse_file("# only\n\n  # comments\n", path2), 0, "%s", err);
	cr_assert_null(rules);
	nm_sig_rules_free(rules, 0);
}

Test(sigrule_file, many_rules_grow_the_array_and_the_sid_set)
{
	char path[] = "/tmp/nm-test-sigrule-XXXXXX";
	size_t size = 3000 * 80, at = 0;
	char *text = malloc(size);

	cr_assert_not_null(text);
	for (unsigned int sid = 1; sid <= 3000; sid++)
		at += (size_t)snprintf(text + at, size - at, ANY_ANY "(content:\"r%u\"; sid:%u;)\n",
				       sid, sid * 7919u);
	int n = parse_file(text, path);
	cr_assert_eq(n, 3000, "%s", err);
	cr_expect_eq(rules[2999].sid, 3000u * 7919u);
	cr_expect_eq(rules[2999].line, 3000);
	nm_sig_rules_free(rules, (unsigned int)n);

	/* The same with one duplicate at the very end: all or nothing. */
	char path2[] = "/tmp/nm-test-sigrule-XXXXXX";
	snprintf(text + at, size - at, ANY_ANY "(content:\"again\"; sid:%u;)\n", 1500u * 7919u);
	cr_assert_eq(parse_file(text, path2), -EINVAL);
	cr_assert_null(rules);
	char want[200];
	snprintf(want, sizeof(want), "%s:3001: sid %u: duplicate sid, first on line 1500", path2,
		 1500u * 7919u);
	cr_expect_str_eq(err, want);
	free(text);
}
