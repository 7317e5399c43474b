/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the signature rule parser (ctrl/sigrule.c, ctrl/sigfile.c),
 * in three files of one executable: this one holds every refusal and the
 * keyword and sid it names, and the limits past their edges;
 * test_sigrule_parse.c every field of the rules it accepts (real ET Open /
 * GPL rules among them, trimmed to the subset) and the limits at their
 * edges; test_sigrule_file.c the file loader's "FILE:LINE: sid N: reason"
 * errors, continuation lines and duplicate sids. Run under ASan, a refusal
 * that leaves pattern bytes behind fails as a leak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sig.h"
#include "test_sigrule_common.h"

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
    {"http rule on the raw stream", "alert http any any -> any any (content:\"a\"; sid:1;)",
     "sid 1: an http rule needs its patterns in HTTP buffers (http.uri, ...): nodemesh does not "
     "scan the raw stream of http rules"},
    {"unknown protocol", "alert smtp any any -> any any (content:\"a\"; sid:1;)",
     "sid 1: unknown protocol 'smtp' (tcp, udp, icmp, ip or http)"},
    {"backward direction", "alert tcp any any <- any any (content:\"a\"; sid:1;)",
     "sid 1: direction '<-' must be -> or <>"},
    {"unknown address variable", "alert tcp $NO_SUCH_NET any -> any any (content:\"a\"; sid:1;)",
     "sid 1: source address '$NO_SUCH_NET': unknown variable $NO_SUCH_NET"},
    {"unknown port variable", "alert tcp any any -> any $NO_PORTS (content:\"a\"; sid:1;)",
     "sid 1: destination port '$NO_PORTS': unknown variable $NO_PORTS"},
    {"port variable as an address", "alert tcp $HTTP_PORTS any -> any any (content:\"a\"; sid:1;)",
     "source address '$HTTP_PORTS': '80' is not an IPv4 address"},
    {"list minus all of itself",
     "alert tcp [10.0.0.0/8,!10.0.0.0/7] any -> any any "
     "(content:\"a\"; sid:1;)",
     "source address '[10.0.0.0/8,!10.0.0.0/7]': matches nothing"},
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
    {"!any", "alert tcp !any any -> any any (content:\"a\"; sid:1;)", "'!any': matches nothing"},
    {"double negation", "alert tcp !!10.0.0.1 any -> any any (content:\"a\"; sid:1;)",
     "double negation"},
    {"empty list", "alert tcp [] any -> any any (content:\"a\"; sid:1;)", "empty item"},
    {"trailing comma", "alert tcp any any -> any [80,] (content:\"a\"; sid:1;)", "empty item"},
    {"any in a list", "alert tcp [any,10.0.0.1] any -> any any (content:\"a\"; sid:1;)",
     "'any' inside a list"},
    {"17 addresses",
     "alert tcp [1.0.0.1,1.0.0.3,1.0.0.5,1.0.0.7,1.0.0.9,1.0.0.11,1.0.0.13,1.0.0.15,1.0.0.17,"
     "1.0.0.19,1.0.0.21,1.0.0.23,1.0.0.25,1.0.0.27,1.0.0.29,1.0.0.31,1.0.0.33] any -> any any "
     "(content:\"a\"; sid:1;)",
     "17 prefixes, more than 16"},
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
     "alert tcp any any -> any [1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33] "
     "(content:\"a\"; sid:1;)",
     "17 port ranges, more than 16"},
    {"ports on icmp", "alert icmp any any -> any 80 (content:\"a\"; sid:1;)",
     "sid 1: ports need protocol tcp, udp or http, not 'icmp'"},
    {"ports on ip", "alert ip any 80 -> any any (content:\"a\"; sid:1;)",
     "ports need protocol tcp, udp or http, not 'ip'"},

    /* keywords */
    {"buffer not built yet, sid given later",
     ANY_ANY "(msg:\"x\"; http.header.raw; content:\"a\"; sid:1001;)",
     "sid 1001: http.header.raw: nodemesh does not build this HTTP buffer yet"},
    {"file.data to_server",
     ANY_ANY "(flow:established,to_server; file.data; content:\"a\"; sid:1;)",
     "sid 1: file.data with flow:to_server (files uploaded in a request) is not supported: "
     "nodemesh's file.data is the response body"},
    {"file.data with a value", ANY_ANY "(file_data:1; content:\"a\"; sid:1;)",
     "sid 1: file.data: takes no value"},
    {"request body and response body",
     ANY_ANY "(http.request_body; content:\"a\"; http.response_body; content:\"b\"; sid:1;)",
     "sid 1: request buffers and response buffers (http.stat_code, http.response_body, "
     "file.data) in one rule are not supported (nodemesh matches one message at a time)"},
    {"request body to_client", ANY_ANY "(flow:to_client; content:\"a\"; http_client_body; sid:1;)",
     "sid 1: request buffers with flow:to_client matches nothing"},
    {"response body to_server", ANY_ANY "(flow:to_server; content:\"a\"; http_server_body; sid:1;)",
     "sid 1: response buffers with flow:to_server matches nothing"},
    {"unknown http keyword", ANY_ANY "(http.uri.normalized; content:\"a\"; sid:1;)",
     "sid 1: unsupported keyword 'http.uri.normalized'"},
    /* HTTP buffers: what Suricata refuses too, and what nodemesh cannot mean exactly */
    {"sticky buffer with a value", ANY_ANY "(http.uri:1; content:\"a\"; sid:1;)",
     "sid 1: http.uri: takes no value"},
    {"sticky buffer on udp", "alert udp any any -> any any (http.uri; content:\"a\"; sid:1;)",
     "sid 1: HTTP buffers need protocol http or tcp"},
    {"legacy modifier first", ANY_ANY "(http_uri; content:\"a\"; sid:1;)",
     "sid 1: http_uri: no content before it to modify"},
    {"legacy modifier after pcre", ANY_ANY "(pcre:\"/a/\"; http_uri; sid:1;)",
     "sid 1: http_uri: no content before it to modify"},
    {"two legacy modifiers", ANY_ANY "(content:\"a\"; http_uri; http_header; sid:1;)",
     "sid 1: http_header: the content before it is already in http.uri"},
    {"payload and buffer", ANY_ANY "(content:\"a\"; http.uri; content:\"b\"; sid:1;)",
     "sid 1: patterns in the payload and in HTTP buffers in one rule are not supported"},
    {"request and response buffers",
     ANY_ANY "(http.uri; content:\"a\"; http.stat_code; content:\"200\"; sid:1;)",
     "sid 1: request buffers and response buffers (http.stat_code, http.response_body, "
     "file.data) in one rule are not supported (nodemesh matches one message at a time)"},
    {"request buffer to_client", ANY_ANY "(flow:to_client; http.method; content:\"GET\"; sid:1;)",
     "sid 1: request buffers with flow:to_client matches nothing"},
    {"dsize on http", ANY_ANY "(http.uri; content:\"a\"; dsize:>5; sid:1;)",
     "sid 1: dsize on an http rule is not supported (it counts a packet's payload, not a "
     "buffer)"},
    {"upper case host", ANY_ANY "(http.host; content:\"Example.com\"; sid:1;)",
     "sid 1: http.host content \"Example.com\" has upper case: the buffer is lowercased, it can "
     "never match"},
    /* content modifiers: what Suricata refuses too, and what nodemesh cannot mean exactly */
    {"negative distance", ANY_ANY "(content:\"a\"; content:\"b\"; distance:-2; sid:1;)",
     "distance -2: a negative distance is not supported"},
    {"within shorter than content", ANY_ANY "(content:\"a\"; content:\"bcd\"; within:2; sid:1;)",
     "sid 1: within 2 is shorter than the content (3 bytes)"},
    {"distance twice", ANY_ANY "(content:\"a\"; content:\"b\"; distance:1; distance:2; sid:1;)",
     "distance: given twice for one content"},
    {"relative with depth", ANY_ANY "(content:\"a\"; content:\"b\"; depth:4; distance:0; sid:1;)",
     "distance: offset/depth and distance/within on one content"},
    {"depth on relative", ANY_ANY "(content:\"a\"; content:\"b\"; within:4; depth:4; sid:1;)",
     "depth: offset/depth and distance/within on one content"},
    {"pcre buffer flag in another sticky buffer",
     ANY_ANY "(http.method; content:\"GET\"; pcre:\"/a/U\"; sid:1;)",
     "sid 1: pcre flag 'U': the pcre is already in another buffer"},
    {"relative to negated", ANY_ANY "(content:!\"a\"; content:\"b\"; within:3; sid:1;)",
     "within: relative to a negated content is not supported"},
    {"negated relative", ANY_ANY "(content:\"a\"; content:!\"b\"; distance:0; sid:1;)",
     "distance: not supported on a negated content"},
    {"startswith with offset", ANY_ANY "(content:\"a\"; offset:1; startswith; sid:1;)",
     "startswith: cannot be mixed with offset, depth, distance or within"},
    {"endswith negated", ANY_ANY "(content:!\"a\"; endswith; sid:1;)",
     "endswith: not supported on a negated content"},
    {"endswith with a value", ANY_ANY "(content:\"a\"; endswith:1; sid:1;)",
     "endswith: takes no value"},
    {"fast_pattern before content", ANY_ANY "(fast_pattern; content:\"a\"; sid:1;)",
     "sid 1: fast_pattern: no content before it"},
    {"fast_pattern slice too long", ANY_ANY "(content:\"abc\"; fast_pattern:1,3; sid:1;)",
     "fast_pattern 1,3: past the content's 3 bytes"},
    {"fast_pattern junk", ANY_ANY "(content:\"abc\"; fast_pattern:x; sid:1;)",
     "fast_pattern 'x': must be empty, only, or OFFSET,LENGTH"},
    {"isdataat alone", ANY_ANY "(isdataat:4; sid:1;)",
     "sid 1: rule has no content or pcre: nothing to match"},
    {"isdataat bad suffix", ANY_ANY "(content:\"a\"; isdataat:2,rawbytes; sid:1;)",
     "isdataat 'rawbytes': only ',relative' may follow the number"},
    {"isdataat !0 relative", ANY_ANY "(content:\"a\"; isdataat:!0,relative; sid:1;)",
     "isdataat:!0,relative matches nothing"},
    {"relative after relative isdataat",
     ANY_ANY "(content:\"a\"; isdataat:2,relative; content:\"b\"; distance:0; sid:1;)",
     "distance: after a relative isdataat"},
    {"dsize junk", "alert udp any any -> any any (content:\"a\"; dsize:=>3; sid:1;)",
     "dsize '=>3': must be N, <N, >N, <=N, >=N or N<>M"},
    {"bsize on the payload", ANY_ANY "(content:\"a\"; bsize:3; sid:1;)",
     "sid 1: bsize: needs a sticky buffer before it (http.uri, ...)"},
    {"bsize that takes 0", ANY_ANY "(http.uri; content:\"a\"; bsize:<3; sid:1;)",
     "sid 1: bsize '<3': a size of 0 is not supported (an empty buffer is not scanned)"},
    {"bsize and urilen that never meet",
     ANY_ANY "(http.uri; content:\"a\"; bsize:>10; urilen:<5; sid:1;)",
     "sid 1: urilen '<5': no size matches (with the bound before it)"},
    {"urilen junk", ANY_ANY "(urilen:5,normalized; http.uri; content:\"a\"; sid:1;)",
     "sid 1: urilen 'normalized': after the size, norm or raw"},
    {"urilen with request and response buffers",
     ANY_ANY "(urilen:5; http.stat_code; content:\"200\"; sid:1;)",
     "sid 1: request buffers and response buffers (http.stat_code, http.response_body, "
     "file.data) in one rule are not supported (nodemesh matches one message at a time)"},
    {"dsize 0", "alert udp any any -> any any (content:\"a\"; dsize:0; sid:1;)",
     "dsize '0': no payload size of 1 byte or more matches"},
    {"dsize empty range", "alert udp any any -> any any (content:\"a\"; dsize:5<>6; sid:1;)",
     "dsize '5<>6': no payload size"},
    {"dsize twice", "alert udp any any -> any any (content:\"a\"; dsize:5; dsize:6; sid:1;)",
     "dsize: given twice"},
    {"flowbits", ANY_ANY "(flowbits:set,x; content:\"a\"; sid:1;)",
     "sid 1: unsupported keyword 'flowbits'"},
    /* threshold and detection_filter (ctrl/sigthresh.c) */
    {"threshold without a value", ANY_ANY "(content:\"a\"; threshold; sid:1;)",
     "sid 1: threshold: needs a value"},
    {"threshold type backoff",
     ANY_ANY "(content:\"a\"; threshold:type backoff,track by_src,"
	     "count 1,multiplier 10; sid:1;)",
     "sid 1: threshold: type backoff is not supported (limit, threshold, both)"},
    {"threshold unknown type",
     ANY_ANY "(content:\"a\"; threshold:type often,track by_src,"
	     "count 1,seconds 60; sid:1;)",
     "sid 1: threshold: unknown type 'often' (limit, threshold, both)"},
    {"threshold track by_flow",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_flow,"
	     "count 1,seconds 60; sid:1;)",
     "sid 1: threshold: track by_flow is not supported (by_src, by_dst, by_rule, by_both)"},
    {"threshold unknown track",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_pod,"
	     "count 1,seconds 60; sid:1;)",
     "sid 1: threshold: unknown track 'by_pod' (by_src, by_dst, by_rule, by_both)"},
    {"threshold count 0",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_src,"
	     "count 0,seconds 60; sid:1;)",
     "sid 1: threshold: count '0' must be a number 1..4294967295"},
    {"threshold count past 32 bits",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_src,"
	     "count 4294967296,seconds 60; sid:1;)",
     "sid 1: threshold: count '4294967296' must be a number 1..4294967295"},
    {"threshold seconds not a number",
     ANY_ANY "(content:\"a\"; threshold:type limit,"
	     "track by_src,count 1,seconds 1m; sid:1;)",
     "sid 1: threshold: seconds '1m' must be a number 1..4294967295"},
    {"threshold seconds missing",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_src,"
	     "count 1; sid:1;)",
     "sid 1: threshold: seconds missing"},
    {"threshold type missing",
     ANY_ANY "(content:\"a\"; threshold:track by_src,count 1,"
	     "seconds 60; sid:1;)",
     "sid 1: threshold: type missing"},
    {"threshold item twice",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_src,"
	     "count 1,count 2,seconds 60; sid:1;)",
     "sid 1: threshold: count given twice"},
    {"threshold unknown item",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_src,"
	     "count 1,seconds 60,timeout 5; sid:1;)",
     "sid 1: threshold: unknown item 'timeout' (type, track, count, seconds)"},
    {"threshold item without value",
     ANY_ANY "(content:\"a\"; threshold:type limit,track,"
	     "count 1,seconds 60; sid:1;)",
     "sid 1: threshold: 'track' must be a name and a value"},
    {"threshold empty item",
     ANY_ANY "(content:\"a\"; threshold:type limit,,track by_src,"
	     "count 1,seconds 60; sid:1;)",
     "sid 1: threshold: '' must be a name and a value"},
    {"threshold value of two words",
     ANY_ANY "(content:\"a\"; threshold:type limit both,"
	     "track by_src,count 1,seconds 60; sid:1;)",
     "sid 1: threshold: 'type' must be a name and a value"},
    {"threshold twice",
     ANY_ANY "(content:\"a\"; threshold:type limit,track by_src,count 1,"
	     "seconds 60; threshold:type limit,track by_dst,count 1,seconds 60; "
	     "sid:1;)",
     "sid 1: threshold: a rule takes one threshold or detection_filter"},
    {"threshold and detection_filter",
     ANY_ANY "(content:\"a\"; threshold:type limit,"
	     "track by_src,count 1,seconds 60; "
	     "detection_filter:track by_src,count 3,seconds 60; "
	     "sid:1;)",
     "sid 1: detection_filter: a rule takes one threshold or detection_filter"},
    {"detection_filter with a type",
     ANY_ANY "(content:\"a\"; detection_filter:type limit,"
	     "track by_src,count 3,seconds 60; sid:1;)",
     "sid 1: detection_filter: unknown item 'type' (track, count, seconds)"},
    {"detection_filter count missing",
     ANY_ANY "(content:\"a\"; detection_filter:track by_src,"
	     "seconds 60; sid:1;)",
     "sid 1: detection_filter: count missing"},
    {"unsupported keyword after the informational ones",
     ANY_ANY "(content:\"a\"; reference:url,x; metadata:m 1; target:dest_ip; byte_test:1,>,2,0; "
	     "sid:1;)",
     "sid 1: unsupported keyword 'byte_test'"},

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
    {"pcre flag B", ANY_ANY "(content:\"a\"; pcre:\"/b/B\"; sid:1;)",
     "sid 1: pcre flag 'B' is not supported (only i s m x R and the buffer flags U I P Q H C M "
     "S Y V W)"},
    {"pcre flag R first", ANY_ANY "(pcre:\"/b/Ri\"; sid:1;)",
     "sid 1: pcre flag R: no content before the one it makes relative"},
    {"pcre flag P on udp", "alert udp any any -> any any (pcre:\"/b/iP\"; sid:1;)",
     "sid 1: HTTP buffers need protocol http or tcp"},
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
