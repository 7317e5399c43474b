/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the signature rule parser, part two of test_sigrule: the
 * rules it accepts, every field of each checked (actions, protocols,
 * addresses, ports, msg, sid, rev, priority, classtype, flow, and every
 * content and pcre modifier; real ET Open / GPL rules among them, trimmed
 * to the subset), the longest content and pcre, the most patterns,
 * addresses and ports, and a cleared rule parsing again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sig.h"
#include "test_sigrule_common.h"

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
      .sport = {.n = 2, .items = {{0, 99}, {1024, 65535}}}, /* sorted */
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
      .src = {.n = 0}, /* 0.0.0.0/0 is any */
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
      .sport = {.n = 0}, /* the union is every port: any */
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
      /* Sorted and merged: 1.2.3.4/32 lies inside 1.2.3.4/31. */
      .dst = {.n = 2, .items = {{IP(1, 2, 3, 4), 31}, {IP(172, 16, 0, 0), 12}}},
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

    /* ET Open 2011716's threshold, as shipped: items in any order, blanks before ','. */
    {"threshold type limit, items out of order",
     ANY_ANY "(content:\"a\"; threshold: type limit, track by_src, seconds 60, count 1 ; sid:13;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 13,
      .thresh = {NM_SIG_THRESH_LIMIT, NM_SIG_TRACK_SRC, 1, 60},
      .n_patterns = 1,
      .patterns = {CONTENT("a", false, false, -1, -1)}}},
    {"threshold type both by_dst, no blanks",
     ANY_ANY "(content:\"a\"; threshold:type both,count 5 ,seconds 3600,track by_dst; sid:14;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 14,
      .thresh = {NM_SIG_THRESH_BOTH, NM_SIG_TRACK_DST, 5, 3600},
      .n_patterns = 1,
      .patterns = {CONTENT("a", false, false, -1, -1)}}},
    {"threshold type threshold by_rule, largest count and seconds",
     ANY_ANY "(threshold:type THRESHOLD, track by_rule, count 4294967295, seconds 4294967295; "
	     "content:\"a\"; sid:15;)",
     {.action = NM_SIG_ALERT,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 15,
      .thresh = {NM_SIG_THRESH_THRESHOLD, NM_SIG_TRACK_RULE, UINT32_MAX, UINT32_MAX},
      .n_patterns = 1,
      .patterns = {CONTENT("a", false, false, -1, -1)}}},
    {"detection_filter on a drop rule, by_both",
     "drop tcp any any -> any any (content:\"a\"; detection_filter:track by_both, count 3, "
     "seconds 1; sid:16;)",
     {.action = NM_SIG_DROP,
      .proto = NM_SIG_PROTO_TCP,
      .sid = 16,
      .thresh = {NM_SIG_THRESH_DETECTION, NM_SIG_TRACK_BOTH, 3, 1},
      .n_patterns = 1,
      .patterns = {CONTENT("a", false, false, -1, -1)}}},
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
	cr_expect_eq(got->thresh.type, want->thresh.type, "%s: thresh.type", what);
	cr_expect_eq(got->thresh.track, want->thresh.track, "%s: thresh.track", what);
	cr_expect_eq(got->thresh.count, want->thresh.count, "%s: thresh.count", what);
	cr_expect_eq(got->thresh.seconds, want->thresh.seconds, "%s: thresh.seconds", what);
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
				       i > 1 ? "," : "", 2 * i); /* even: no two merge */
	at += (size_t)snprintf(text + at, sizeof(text) - at, "] any -> any [");
	for (int i = 1; i <= NM_SIG_MAX_PORTS; i++)
		at +=
		    (size_t)snprintf(text + at, sizeof(text) - at, "%s%d", i > 1 ? "," : "", 2 * i);
	at += (size_t)snprintf(text + at, sizeof(text) - at, "] (");
	for (int i = 0; i < NM_SIG_MAX_PATTERNS - 1; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "content:\"p%d\"; ", i);
	snprintf(text + at, sizeof(text) - at, "pcre:\"/last/\"; sid:16;)");

	cr_assert_eq(parse(text), 0, "%s", err);
	cr_expect_eq(rule.src.n, NM_SIG_MAX_ADDRS);
	cr_expect_eq(rule.src.items[15].addr, IP(10, 0, 0, 32));
	cr_expect_eq(rule.dport.n, NM_SIG_MAX_PORTS);
	cr_expect_eq(rule.dport.items[15].lo, 32);
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

/* Sticky buffers apply to what follows them, legacy modifiers to the content before. */
Test(sigrule_parse, http_buffers_sticky_and_legacy)
{
	cr_assert_eq(parse("alert http $HOME_NET any -> any $HTTP_PORTS (msg:\"x\"; "
			   "flow:established,to_server; content:\"X-A|3a|\"; http_header; "
			   "http.method; content:\"POST\"; http.uri; content:\"/cgi-bin/\"; "
			   "content:\".cgi\"; distance:0; pcre:\"/b/i\"; "
			   "http.host; content:\"ex.com\"; pkt_data; sid:7;)"),
		     0, "%s", err);
	cr_expect_eq(rule.proto, NM_SIG_PROTO_HTTP);
	cr_assert_eq(rule.n_patterns, 6);
	/* A legacy modifier moves the content before it; a sticky buffer what follows. */
	cr_expect_eq(rule.patterns[0].buffer, NM_SIG_BUF_HTTP_HEADER);
	cr_expect_eq(rule.patterns[1].buffer, NM_SIG_BUF_HTTP_METHOD);
	cr_expect_eq(rule.patterns[2].buffer, NM_SIG_BUF_HTTP_URI);
	cr_expect_eq(rule.patterns[3].buffer, NM_SIG_BUF_HTTP_URI);
	cr_expect(rule.patterns[3].has_distance);
	cr_expect_eq(rule.patterns[4].buffer, NM_SIG_BUF_HTTP_URI);
	cr_expect_eq(rule.patterns[5].buffer, NM_SIG_BUF_HTTP_HOST);
	nm_sig_rule_clear(&rule);

	/* tcp with HTTP buffers is an http rule, as in Suricata. */
	cr_assert_eq(parse(ANY_ANY "(content:\"/a\"; http_raw_uri; sid:8;)"), 0, "%s", err);
	cr_expect_eq(rule.proto, NM_SIG_PROTO_HTTP);
	cr_expect_eq(rule.patterns[0].buffer, NM_SIG_BUF_HTTP_URI_RAW);
	nm_sig_rule_clear(&rule);

	cr_assert_eq(parse("alert http any any -> any any (flow:to_client; http.stat_code; "
			   "content:\"404\"; http.cookie; content:\"id=\"; sid:9;)"),
		     0, "%s", err);
	cr_expect_eq(rule.patterns[1].buffer, NM_SIG_BUF_HTTP_COOKIE);
	nm_sig_rule_clear(&rule);
}
