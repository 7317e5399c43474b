/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the policy rule parser and selector matching (ctrl/rule.c):
 * every refusal and the word it names, every field of the rules it accepts,
 * the file loader's "FILE:LINE: reason" errors and all-or-nothing result,
 * and which pods each kind of selector matches.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include "rule.h"
#include "unit_tmp.h"

static struct nm_rule rule; /* 5 KiB: not on the stack of every test */
static struct nm_rule rules[4];
static char err[1024];

static int
parse(const char *text)
{
	memset(err, 0, sizeof(err));
	return nm_rule_parse(text, &rule, err, sizeof(err));
}

static int
parse_file(const char *text, unsigned int max, char *path)
{
	nm_test_write_tmp(path, text);
	memset(err, 0, sizeof(err));
	return nm_rule_file_parse(path, rules, max, err, sizeof(err));
}

/* ---- invalid input ----------------------------------------------------- */

static const struct {
	const char *what;
	const char *text;
	const char *want; /* fragment of the error message */
} bad_rules[] = {
    /* shape */
    {"empty", "", "a rule needs at least: allow|deny from SELECTOR to SELECTOR"},
    {"blanks only", " \t\r\n", "a rule needs at least"},
    {"no destination", "allow from * to", "a rule needs at least"},
    {"wrong first word", "permit from * to *", "word 1 'permit': a rule starts with allow or deny"},
    {"first word in upper case", "Allow from * to *", "word 1 'Allow'"},
    {"missing from", "allow to * to *", "word 2 'to': expected 'from'"},
    {"missing to", "allow from * at *", "word 4 'at': expected 'to'"},
    {"selectors only", "allow * to * x", "word 2 '*': expected 'from'"},

    /* selectors */
    {"two slashes", "allow from a/b/c to *",
     "selector 'a/b/c' must be '*', 'namespace/serviceaccount', 'namespace/*' or labels"},
    {"bare word", "allow from web to *", "selector 'web' must be '*'"},
    {"empty namespace", "allow from /x to *", "selector '/x': empty or too long namespace"},
    {"empty service account", "allow from ns/ to *",
     "selector 'ns/': service account must be [a-z0-9._-] or '*'"},
    {"upper-case namespace", "allow from Default/web to *",
     "selector 'Default/web': namespace must be [a-z0-9._-]"},
    {"upper-case service account", "allow from * to default/Web",
     "selector 'default/Web': service account must be"},
    {"namespace 64 chars",
     "allow from aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/x to *",
     "empty or too long namespace"},
    {"star namespace", "allow from */x to *", "namespace must be [a-z0-9._-]"},
    {"label without value", "allow from app= to *",
     "selector 'app=': labels must be key=value[,key=value] of [A-Za-z0-9._/-]"},
    {"label without key", "allow from =x to *", "selector '=x': labels must be key=value"},
    {"label trailing comma", "allow from a=b, to *", "selector 'a=b,': trailing ','"},
    {"label empty item", "allow from a=b,,c=d to *", "selector 'a=b,,c=d': labels must be"},
    {"label item without '='", "allow from a=b,c to *", "selector 'a=b,c': labels must be"},
    {"label value with '='", "allow from a=b=c to *", "labels must be"},
    {"label with '*'", "allow from * to app=w*b", "selector 'app=w*b': labels must be"},
    {"nine labels", "allow from a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9 to *",
     "selector 'a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9': more than 8 labels"},

    /* proto */
    {"unknown proto", "allow from * to * proto sctp",
     "proto 'sctp': must be tcp, udp, icmp or any"},
    {"proto in upper case", "allow from * to * proto TCP", "proto 'TCP'"},

    /* port */
    {"port without proto", "allow from * to * port 80", "port needs proto tcp or udp"},
    {"port with proto icmp", "allow from * to * proto icmp port 80", "port needs proto tcp or udp"},
    {"port with proto any", "allow from * to * proto any port 80", "port needs proto tcp or udp"},
    {"port 0", "allow from * to * proto tcp port 0",
     "port '0': ports are 1-65535 and ranges low-high"},
    {"port range from 0", "allow from * to * proto tcp port 0-10",
     "port '0-10': ports are 1-65535"},
    {"port 65536", "allow from * to * proto tcp port 65536",
     "port '65536' must be N, N-M or a list N,M-K (1-65535)"},
    {"port range to 65536", "allow from * to * proto udp port 1-65536", "port '1-65536' must be"},
    {"reversed range", "allow from * to * proto tcp port 10-5",
     "port '10-5': ports are 1-65535 and ranges low-high"},
    {"port not a number", "allow from * to * proto tcp port http", "port 'http' must be"},
    {"negative port", "allow from * to * proto tcp port -5", "port '-5' must be"},
    {"open range", "allow from * to * proto tcp port 5-", "port '5-' must be"},
    {"double range", "allow from * to * proto tcp port 1-2-3", "port '1-2-3' must be"},
    {"port trailing comma", "allow from * to * proto tcp port 80,", "port '80,' must be"},
    {"port signed", "allow from * to * proto tcp port +80", "port '+80' must be"},
    {"17 port items", "allow from * to * proto tcp port 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
     "more than 16 items"},

    /* rate and burst */
    {"rate 0", "allow from * to * rate 0pps", "rate '0pps': need a positive whole number"},
    {"rate 0 with unit word", "allow from * to * rate 0 mbps", "rate '0': need a positive"},
    {"rate without number", "allow from * to * rate mbps", "need a positive whole number"},
    {"rate unknown unit", "allow from * to * rate 10tbps",
     "rate '10tbps': unit must be pps, bps, kbps, mbps or gbps"},
    {"rate unknown unit word", "allow from * to * rate 10 furlongs",
     "rate '10 furlongs': unit must be pps"},
    {"rate unit in upper case", "allow from * to * rate 10Mbps", "unit must be pps"},
    {"rate without unit", "allow from * to * rate 10", "rate '10': unit must be pps"},
    {"rate negative", "allow from * to * rate -1pps", "unit must be"},
    {"rate overflows", "allow from * to * rate 18446744073709551616pps", "need a positive"},
    {"gbps overflows", "allow from * to * rate 18446744074gbps", "need a positive"},
    {"packet rate twice", "allow from * to * rate 10pps rate 20 pps",
     "rate: a packet rate is given twice"},
    {"bit rate twice", "allow from * to * rate 10mbps rate 5kbps",
     "rate: a bit rate is given twice"},
    {"burst without rate", "allow from * to * burst 32", "burst needs a rate"},
    {"burst 0", "allow from * to * rate 10pps burst 0",
     "burst '0': need a packet count 1-100000000"},
    {"burst too big", "allow from * to * rate 10pps burst 100000001", "burst '100000001'"},
    {"burst not a number", "allow from * to * rate 10pps burst lots", "burst 'lots'"},
    {"deny with packet rate", "deny from * to * rate 10pps", "a deny rule cannot have a rate"},
    {"deny with bit rate", "deny from * to * rate 1 gbps", "a deny rule cannot have a rate"},

    /* inspect */
    {"inspect yes", "allow from * to * inspect yes", "inspect 'yes': must be on or off"},

    /* options */
    {"proto twice", "allow from * to * proto tcp proto udp", "word 8 'proto': given twice"},
    {"port twice", "allow from * to * proto tcp port 80 port 443", "word 10 'port': given twice"},
    {"burst twice", "allow from * to * rate 1pps burst 2 burst 3", "word 10 'burst': given twice"},
    {"inspect twice", "allow from * to * inspect on inspect off", "word 8 'inspect': given twice"},
    {"unknown option", "allow from * to * color red",
     "word 6 'color': expected proto, port, rate, burst, inspect or http"},
    {"unknown option after one", "allow from * to * proto tcp via eth0", "word 8 'via': expected"},
    {"proto without value", "allow from * to * proto", "word 6 'proto': missing its value"},
    {"port without value", "allow from * to * proto tcp port", "word 8 'port': missing its value"},
    {"rate without value", "allow from * to * rate", "word 6 'rate': missing its value"},
    {"burst without value", "allow from * to * rate 1pps burst",
     "word 8 'burst': missing its value"},
    {"inspect without value", "allow from * to * inspect", "word 6 'inspect': missing its value"},

    /* http clause */
    {"http without proto", "allow from * to * http method GET", "http needs proto tcp"},
    {"http with udp", "allow from * to * proto udp http method GET", "http needs proto tcp"},
    {"http alone", "allow from * to * proto tcp http",
     "http needs at least one of method, path, host, header"},
    {"http unknown item", "allow from * to * proto tcp http verb GET",
     "word 9 'verb': after http come only method, path, host and header"},
    {"http option after the clause", "allow from * to * proto tcp http method GET port 80",
     "word 11 'port': after http come only"},
    {"http item without value", "allow from * to * proto tcp http method",
     "word 9 'method': missing its value"},
    {"method twice", "allow from * to * proto tcp http method GET method POST",
     "word 11 'http method': given twice"},
    {"path twice", "allow from * to * proto tcp http path /a path /b",
     "word 11 'http path': given twice"},
    {"host twice", "allow from * to * proto tcp http host a host b",
     "word 11 'http host': given twice"},
    {"method empty item", "allow from * to * proto tcp http method GET,,HEAD",
     "method 'GET,,HEAD': each method is a token"},
    {"method trailing comma", "allow from * to * proto tcp http method GET,",
     "method 'GET,': each method is a token"},
    {"method with a slash", "allow from * to * proto tcp http method GE/T",
     "method 'GE/T': each method is a token"},
    {"method 16 characters", "allow from * to * proto tcp http method ABCDEFGHIJKLMNOP",
     "each method is a token of 1-15 characters"},
    {"nine methods", "allow from * to * proto tcp http method A,B,C,D,E,F,G,H,I",
     "more than 8 methods"},
    {"path relative", "allow from * to * proto tcp http path api/*",
     "path 'api/*': must start with '/'"},
    {"path star inside", "allow from * to * proto tcp http path /a/*/b",
     "path '/a/*/b': '*' may only end the path"},
    {"path with query", "allow from * to * proto tcp http path /a?b=1",
     "path '/a?b=1': no query, fragment, %-escape"},
    {"path with escape", "allow from * to * proto tcp http path /a%2fb", "no query, fragment"},
    {"host with port", "allow from * to * proto tcp http host web:8080",
     "host 'web:8080': a name or IPv4 address"},
    {"header without =", "allow from * to * proto tcp http header x-env",
     "header 'x-env': must be NAME=VALUE"},
    {"header empty value",
     "allow from * to * proto tcp http header x-env=", "header 'x-env=': must be NAME=VALUE"},
    {"header bad name", "allow from * to * proto tcp http header x(env)=a", "must be NAME=VALUE"},
    {"five headers",
     "allow from * to * proto tcp http header a=1 header b=2 header c=3 header d=4 header e=5",
     "header 'e=5': more than 4 headers"},
};

Test(rule_invalid, each_bad_rule_gives_its_message)
{
	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		int rc = parse(bad_rules[i].text);

		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bad_rules[i].what, rc);
		cr_expect_not_null(strstr(err, bad_rules[i].want), "%s: got \"%s\", want \"%s\"",
				   bad_rules[i].what, err, bad_rules[i].want);
	}
}

Test(rule_invalid, longer_than_511_characters)
{
	char text[NM_RULE_TEXT_LEN + 1];
	const char *head = "allow from * to *";
	size_t n = strlen(head);

	/* 511 characters: trailing blanks make up the length, and it parses. */
	memcpy(text, head, n);
	memset(text + n, ' ', NM_RULE_TEXT_LEN - 1 - n);
	text[NM_RULE_TEXT_LEN - 1] = '\0';
	cr_assert_eq(parse(text), 0, "%s", err);
	cr_assert_str_eq(rule.text, "allow from * to *");

	/* 512 characters. */
	text[NM_RULE_TEXT_LEN - 1] = ' ';
	text[NM_RULE_TEXT_LEN] = '\0';
	cr_assert_eq(parse(text), -EINVAL);
	cr_assert_str_eq(err, "rule longer than 511 characters");
}

Test(rule_invalid, more_than_64_words)
{
	char text[NM_RULE_TEXT_LEN] = "allow from * to *";

	/* 5 + 2 * 30 = 65 words */
	for (int i = 0; i < 30; i++)
		strcat(text, " x y");
	cr_assert_eq(parse(text), -EINVAL);
	cr_assert_str_eq(err, "more than 64 words");
}

/* ---- parsed rules: shape, proto, inspect -------------------------------- */

Test(rule_parse, http_clause_every_item)
{
	cr_assert_eq(parse("allow from shop/api to shop/web proto tcp port 80 http method GET,HEAD "
			   "path /api/v1/* host Web.Shop header X-Env=Prod header x-b=1"),
		     0, "%s", err);
	cr_assert_eq(rule.has_http, 1);
	cr_assert_eq(rule.n_ports, 1);
	cr_assert_eq(rule.http.n_methods, 2);
	cr_assert_str_eq(rule.http.methods[0], "GET");
	cr_assert_str_eq(rule.http.methods[1], "HEAD");
	cr_assert_str_eq(rule.http.path, "/api/v1/");
	cr_assert_eq(rule.http.path_prefix, 1);
	cr_assert_str_eq(rule.http.host, "web.shop", "host is lowercased");
	cr_assert_eq(rule.http.n_headers, 2);
	cr_assert_str_eq(rule.http.headers[0].name, "x-env", "names are lowercased");
	cr_assert_str_eq(rule.http.headers[0].value, "Prod", "values are kept");
	cr_assert_str_eq(rule.http.headers[1].name, "x-b");
}

Test(rule_parse, http_clause_exact_path_and_deny)
{
	cr_assert_eq(parse("deny from * to * proto tcp http path /admin"), 0, "%s", err);
	cr_assert_eq(rule.action, NM_VERDICT_DENY);
	cr_assert_eq(rule.has_http, 1);
	cr_assert_str_eq(rule.http.path, "/admin");
	cr_assert_eq(rule.http.path_prefix, 0);
	cr_assert_eq(rule.http.n_methods, 0, "no method item: any method");
	cr_assert_eq(rule.http.host[0], '\0');

	cr_assert_eq(parse("allow from * to * proto tcp http path /*"), 0, "%s", err);
	cr_assert_str_eq(rule.http.path, "/");
	cr_assert_eq(rule.http.path_prefix, 1);

	cr_assert_eq(parse("allow from * to * proto tcp"), 0, "%s", err);
	cr_assert_eq(rule.has_http, 0, "no clause without the word");
}

Test(rule_parse, minimal_allow_has_every_default)
{
	cr_assert_eq(parse("allow from * to *"), 0, "%s", err);
	cr_assert_eq(rule.id, 0);
	cr_assert_eq(rule.action, NM_VERDICT_ALLOW);
	cr_assert_eq(rule.proto, 0);
	cr_assert_eq(rule.inspect, 1);
	cr_assert_eq(rule.n_ports, 0);
	cr_assert_eq(rule.rate_pps, 0);
	cr_assert_eq(rule.rate_bps, 0);
	cr_assert_eq(rule.burst, 0);
	cr_assert_eq(rule.from.kind, NM_SEL_ANY);
	cr_assert_eq(rule.from.n_labels, 0);
	cr_assert_str_eq(rule.from.ns, "");
	cr_assert_str_eq(rule.from.sa, "");
	cr_assert_eq(rule.to.kind, NM_SEL_ANY);
	cr_assert_str_eq(rule.text, "allow from * to *");
}

Test(rule_parse, deny_with_proto_and_port)
{
	cr_assert_eq(parse("deny from default/web to prod/db proto tcp port 5432"), 0, "%s", err);
	cr_assert_eq(rule.action, NM_VERDICT_DENY);
	cr_assert_eq(rule.proto, 6);
	cr_assert_eq(rule.inspect, 1);
	cr_assert_eq(rule.n_ports, 1);
	cr_assert_eq(rule.ports[0].lo, 5432);
	cr_assert_eq(rule.ports[0].hi, 5432);
	cr_assert_eq(rule.rate_pps, 0);
	cr_assert_eq(rule.rate_bps, 0);
	cr_assert_eq(rule.burst, 0);
	cr_assert_eq(rule.from.kind, NM_SEL_NS_SA);
	cr_assert_str_eq(rule.from.ns, "default");
	cr_assert_str_eq(rule.from.sa, "web");
	cr_assert_eq(rule.to.kind, NM_SEL_NS_SA);
	cr_assert_str_eq(rule.to.ns, "prod");
	cr_assert_str_eq(rule.to.sa, "db");
	cr_assert_str_eq(rule.text, "deny from default/web to prod/db proto tcp port 5432");
}

static const struct {
	const char *name;
	unsigned int number;
} protos[] = {
    {"tcp", IPPROTO_TCP},
    {"udp", IPPROTO_UDP},
    {"icmp", IPPROTO_ICMP},
    {"any", 0},
};

Test(rule_parse, proto_numbers)
{
	/* The numbers the dataplane compares with the IPv4 protocol field. */
	cr_assert_eq(IPPROTO_TCP, 6);
	cr_assert_eq(IPPROTO_UDP, 17);
	cr_assert_eq(IPPROTO_ICMP, 1);
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		char text[64];

		snprintf(text, sizeof(text), "allow from * to * proto %s", protos[i].name);
		cr_expect_eq(parse(text), 0, "%s: %s", text, err);
		cr_expect_eq(rule.proto, protos[i].number, "%s: proto %u", text, rule.proto);
	}
}

Test(rule_parse, inspect_defaults_to_on_and_can_be_turned_off)
{
	cr_assert_eq(parse("allow from * to *"), 0, "%s", err);
	cr_assert_eq(rule.inspect, 1);
	cr_assert_eq(parse("allow from * to * proto tcp port 80 inspect off"), 0, "%s", err);
	cr_assert_eq(rule.inspect, 0);
	cr_assert_str_eq(rule.text, "allow from * to * proto tcp port 80 inspect off");
	cr_assert_eq(parse("allow from * to * inspect on"), 0, "%s", err);
	cr_assert_eq(rule.inspect, 1);
}

Test(rule_parse, text_normalised_to_single_spaces)
{
	cr_assert_eq(parse("\t allow   from\t*  to \t ns/*\r\n  proto  udp\tport 53 \n"), 0, "%s",
		     err);
	cr_assert_str_eq(rule.text, "allow from * to ns/* proto udp port 53");
	cr_assert_eq(rule.proto, 17);
	cr_assert_eq(rule.to.kind, NM_SEL_NS);
	cr_assert_str_eq(rule.to.ns, "ns");
}

Test(rule_parse, options_in_any_order)
{
	cr_assert_eq(parse("allow from * to * port 80 burst 8 rate 5pps proto tcp"), 0, "%s", err);
	cr_assert_eq(rule.proto, 6);
	cr_assert_eq(rule.n_ports, 1);
	cr_assert_eq(rule.ports[0].lo, 80);
	cr_assert_eq(rule.rate_pps, 5);
	cr_assert_eq(rule.burst, 8);
}

/* ---- parsed rules: ports ------------------------------------------------ */

static const struct {
	const char *port;
	unsigned int n;
	struct nm_port_range want[4];
} good_ports[] = {
    {"1", 1, {{1, 1}}},
    {"65535", 1, {{65535, 65535}}},
    {"1-65535", 1, {{1, 65535}}},
    {"8000-8080", 1, {{8000, 8080}}},
    {"7-7", 1, {{7, 7}}},
    {"080", 1, {{80, 80}}},
    {"80,443", 2, {{80, 80}, {443, 443}}},
    {"80,443,8000-8080", 3, {{80, 80}, {443, 443}, {8000, 8080}}},
    {"1-2,3-4,5,65535", 4, {{1, 2}, {3, 4}, {5, 5}, {65535, 65535}}},
};

Test(rule_parse, port_items_and_ranges)
{
	for (size_t i = 0; i < sizeof(good_ports) / sizeof(good_ports[0]); i++) {
		char text[96];

		snprintf(text, sizeof(text), "allow from * to * proto udp port %s",
			 good_ports[i].port);
		cr_expect_eq(parse(text), 0, "%s: %s", text, err);
		cr_expect_eq(rule.n_ports, good_ports[i].n, "%s: n_ports %u", text, rule.n_ports);
		for (unsigned int j = 0; j < good_ports[i].n; j++) {
			cr_expect_eq(rule.ports[j].lo, good_ports[i].want[j].lo,
				     "%s: item %u lo %u", text, j, rule.ports[j].lo);
			cr_expect_eq(rule.ports[j].hi, good_ports[i].want[j].hi,
				     "%s: item %u hi %u", text, j, rule.ports[j].hi);
		}
	}
}

Test(rule_parse, sixteen_port_items)
{
	cr_assert_eq(
	    parse("allow from * to * proto tcp port 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16-20"), 0,
	    "%s", err);
	cr_assert_eq(rule.n_ports, NM_RULE_MAX_PORTS);
	for (unsigned int j = 0; j < 15; j++) {
		cr_expect_eq(rule.ports[j].lo, j + 1);
		cr_expect_eq(rule.ports[j].hi, j + 1);
	}
	cr_assert_eq(rule.ports[15].lo, 16);
	cr_assert_eq(rule.ports[15].hi, 20);
}

/* ---- parsed rules: rate and burst --------------------------------------- */

static const struct {
	const char *rate;
	uint64_t pps;
	uint64_t bps;
} good_rates[] = {
    {"1pps", 1, 0},
    {"100 pps", 100, 0},
    {"1bps", 0, 1},
    {"9 bps", 0, 9},
    {"10kbps", 0, 10000},
    {"10 kbps", 0, 10000},
    {"10mbps", 0, 10000000},
    {"10 mbps", 0, 10000000},
    {"10gbps", 0, 10000000000ull},
    {"10 gbps", 0, 10000000000ull},
    {"18446744073709551615pps", UINT64_MAX, 0},
    {"18446744073gbps", 0, 18446744073000000000ull},
};

Test(rule_parse, rate_units_joined_or_as_own_word)
{
	for (size_t i = 0; i < sizeof(good_rates) / sizeof(good_rates[0]); i++) {
		char text[96];

		snprintf(text, sizeof(text), "allow from * to * rate %s", good_rates[i].rate);
		cr_expect_eq(parse(text), 0, "%s: %s", text, err);
		cr_expect_eq(rule.rate_pps, good_rates[i].pps, "%s: pps %lu", text,
			     (unsigned long)rule.rate_pps);
		cr_expect_eq(rule.rate_bps, good_rates[i].bps, "%s: bps %lu", text,
			     (unsigned long)rule.rate_bps);
		cr_expect_eq(rule.burst, 0, "%s", text);
		cr_expect_str_eq(rule.text, text);
	}
}

Test(rule_parse, packet_and_bit_rate_together_with_burst)
{
	cr_assert_eq(parse("allow from a=b to * rate 1000pps rate 10 mbps burst 64 proto udp"), 0,
		     "%s", err);
	cr_assert_eq(rule.rate_pps, 1000);
	cr_assert_eq(rule.rate_bps, 10000000);
	cr_assert_eq(rule.burst, 64);
	cr_assert_eq(rule.proto, 17);
	cr_assert_eq(rule.inspect, 1);
}

Test(rule_parse, burst_limits)
{
	cr_assert_eq(parse("allow from * to * rate 1 bps burst 1"), 0, "%s", err);
	cr_assert_eq(rule.burst, 1);
	cr_assert_eq(rule.rate_bps, 1);
	cr_assert_eq(parse("allow from * to * rate 1pps burst 100000000"), 0, "%s", err);
	cr_assert_eq(rule.burst, 100000000);
}

/* ---- parsed rules: selectors -------------------------------------------- */

Test(rule_parse, selector_namespace_star)
{
	cr_assert_eq(parse("allow from kube-system/* to my.ns/sa_1-x"), 0, "%s", err);
	cr_assert_eq(rule.from.kind, NM_SEL_NS);
	cr_assert_str_eq(rule.from.ns, "kube-system");
	cr_assert_str_eq(rule.from.sa, "");
	cr_assert_eq(rule.from.n_labels, 0);
	cr_assert_eq(rule.to.kind, NM_SEL_NS_SA);
	cr_assert_str_eq(rule.to.ns, "my.ns");
	cr_assert_str_eq(rule.to.sa, "sa_1-x");
}

Test(rule_parse, selector_63_char_names)
{
	char text[NM_RULE_TEXT_LEN];
	char name[NM_NAME_LEN];

	memset(name, 'n', NM_NAME_LEN - 1);
	name[NM_NAME_LEN - 1] = '\0';
	snprintf(text, sizeof(text), "allow from %s/%s to %s=%s", name, name, name, name);
	cr_assert_eq(parse(text), 0, "%s", err);
	cr_assert_str_eq(rule.from.ns, name);
	cr_assert_str_eq(rule.from.sa, name);
	cr_assert_str_eq(rule.to.labels[0].key, name);
	cr_assert_str_eq(rule.to.labels[0].val, name);

	/* 64 characters of service account or label value. */
	snprintf(text, sizeof(text), "allow from ns/%sn to *", name);
	cr_assert_eq(parse(text), -EINVAL);
	cr_assert_not_null(strstr(err, "service account must be"), "%s", err);
	snprintf(text, sizeof(text), "allow from * to k=%sn", name);
	cr_assert_eq(parse(text), -EINVAL);
	cr_assert_not_null(strstr(err, "labels must be"), "%s", err);
}

Test(rule_parse, selector_labels)
{
	cr_assert_eq(parse("allow from app=web,tier=Front.1,k8s.io/name=a_b-c to x=y"), 0, "%s",
		     err);
	cr_assert_eq(rule.from.kind, NM_SEL_LABELS);
	cr_assert_str_eq(rule.from.ns, "");
	cr_assert_str_eq(rule.from.sa, "");
	cr_assert_eq(rule.from.n_labels, 3);
	cr_assert_str_eq(rule.from.labels[0].key, "app");
	cr_assert_str_eq(rule.from.labels[0].val, "web");
	cr_assert_str_eq(rule.from.labels[1].key, "tier");
	cr_assert_str_eq(rule.from.labels[1].val, "Front.1");
	cr_assert_str_eq(rule.from.labels[2].key, "k8s.io/name");
	cr_assert_str_eq(rule.from.labels[2].val, "a_b-c");
	cr_assert_eq(rule.to.kind, NM_SEL_LABELS);
	cr_assert_eq(rule.to.n_labels, 1);
	cr_assert_str_eq(rule.to.labels[0].key, "x");
	cr_assert_str_eq(rule.to.labels[0].val, "y");
}

Test(rule_parse, selector_eight_labels)
{
	cr_assert_eq(parse("allow from * to a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8"), 0, "%s", err);
	cr_assert_eq(rule.to.kind, NM_SEL_LABELS);
	cr_assert_eq(rule.to.n_labels, NM_SEL_MAX_LABELS);
	for (unsigned int i = 0; i < NM_SEL_MAX_LABELS; i++) {
		char key[2] = {(char)('a' + i), '\0'};
		char val[2] = {(char)('1' + i), '\0'};

		cr_expect_str_eq(rule.to.labels[i].key, key);
		cr_expect_str_eq(rule.to.labels[i].val, val);
	}
}

/* ---- rules files -------------------------------------------------------- */

Test(rule_file, nonexistent_file)
{
	const char *path = "/tmp/nm-test-rule-does-not-exist/rules";

	memset(err, 0, sizeof(err));
	cr_assert_eq(nm_rule_file_parse(path, rules, 4, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "/tmp/nm-test-rule-does-not-exist/rules: cannot open: No such file "
			      "or directory");
}

static const struct {
	const char *what;
	const char *text;
	unsigned int line;
	const char *reason;
} bad_files[] = {
    {"line 1", "allow from * to\nallow from * to *\n", 1, "a rule needs at least"},
    {"line 3 after comment and blank", "# header\n\nallow from * to * proto gre\n", 3,
     "proto 'gre': must be tcp, udp, icmp or any"},
    {"last line without newline", "allow from * to *\n# x\n\t\ndeny from * to * rate 1pps", 4,
     "a deny rule cannot have a rate"},
    {"first of two bad lines", "allow from * to *\nbad\nworse\n", 2, "a rule needs at least"},
};

Test(rule_file, first_bad_line_named_with_path_and_number)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		char path[] = "/tmp/nm-test-rule-XXXXXX";
		char want[256];
		int rc = parse_file(bad_files[i].text, 4, path);

		snprintf(want, sizeof(want), "%s:%u: %s", path, bad_files[i].line,
			 bad_files[i].reason);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bad_files[i].what, rc);
		cr_expect_eq(strncmp(err, want, strlen(want)), 0, "%s: got \"%s\", want \"%s\"",
			     bad_files[i].what, err, want);
		unlink(path);
	}
}

Test(rule_file, comments_and_blank_lines_skipped)
{
	char path[] = "/tmp/nm-test-rule-XXXXXX";
	int rc = parse_file("# policy for the demo\n"
			    "\n"
			    "   \t\n"
			    "allow from default/web to default/db proto tcp port 5432 # postgres\n"
			    "  # indented comment\n"
			    "deny from * to default/db\r\n"
			    "allow from app=a to app=b rate 10 mbps",
			    4, path);

	cr_assert_eq(rc, 3, "rc %d: %s", rc, err);
	cr_assert_eq(rules[0].action, NM_VERDICT_ALLOW);
	cr_assert_eq(rules[0].proto, 6);
	cr_assert_eq(rules[0].ports[0].lo, 5432);
	cr_assert_str_eq(rules[0].text, "allow from default/web to default/db proto tcp port 5432");
	cr_assert_eq(rules[1].action, NM_VERDICT_DENY);
	cr_assert_eq(rules[1].to.kind, NM_SEL_NS_SA);
	cr_assert_str_eq(rules[1].text, "deny from * to default/db");
	cr_assert_eq(rules[2].rate_bps, 10000000);
	cr_assert_str_eq(rules[2].text, "allow from app=a to app=b rate 10 mbps");
	unlink(path);
}

Test(rule_file, empty_and_comment_only_files_hold_no_rules)
{
	char path[] = "/tmp/nm-test-rule-XXXXXX";

	cr_assert_eq(parse_file("", 4, path), 0, "%s", err);
	unlink(path);
	strcpy(path, "/tmp/nm-test-rule-XXXXXX");
	cr_assert_eq(parse_file("# nothing\n\n", 4, path), 0, "%s", err);
	unlink(path);
}

Test(rule_file, exactly_max_rules)
{
	char path[] = "/tmp/nm-test-rule-XXXXXX";

	cr_assert_eq(parse_file("allow from * to *\n# c\ndeny from * to *\n", 2, path), 2, "%s",
		     err);
	unlink(path);
}

Test(rule_file, more_rules_than_max)
{
	char path[] = "/tmp/nm-test-rule-XXXXXX";
	char want[128];

	cr_assert_eq(
	    parse_file("allow from * to *\n\ndeny from * to *\nallow from * to *\n", 2, path),
	    -E2BIG);
	snprintf(want, sizeof(want), "%s:4: more than 2 rules", path);
	cr_assert_str_eq(err, want);
	unlink(path);
}

Test(rule_file, line_longer_than_a_rule)
{
	char path[] = "/tmp/nm-test-rule-XXXXXX";
	char text[700] = "# first\nallow from * to *";
	char want[128];

	memset(text + strlen(text), ' ', 600);
	strcat(text, "\n");
	cr_assert_eq(parse_file(text, 4, path), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: line longer than 511 characters", path);
	cr_assert_str_eq(err, want);
	unlink(path);
}

/* ---- selector matching -------------------------------------------------- */

static struct nm_selector
sel_of(const char *word)
{
	char text[256];

	snprintf(text, sizeof(text), "allow from %s to *", word);
	cr_assert_eq(parse(text), 0, "%s: %s", word, err);
	return rule.from;
}

static const struct {
	const char *sel;
	const char *ns;
	const char *sa;
	const char *labels;
	bool want;
} matches[] = {
    {"*", "default", "web", "app=web", true},
    {"*", "", "", "", true},
    {"*", "default", "", "", true}, /* identity unknown */
    {"default/*", "default", "web", "", true},
    {"default/*", "default", "db", "app=db", true},
    {"default/*", "prod", "web", "", false},
    {"default/*", "defaults", "web", "", false},
    {"default/*", "def", "web", "", false},
    {"default/web", "default", "web", "", true},
    {"default/web", "default", "db", "", false},
    {"default/web", "prod", "web", "", false},
    {"default/web", "default", "webx", "", false},
    {"app=web", "default", "web", "app=web", true},
    {"app=web", "default", "web", "tier=front,app=web,x=y", true}, /* pod has more */
    {"app=web,tier=front", "d", "s", "tier=front,app=web", true},  /* any order */
    {"app=web,tier=front", "d", "s", "app=web", false},		   /* pod has fewer */
    {"app=web,tier=front", "d", "s", "app=web,tier=back", false},  /* value differs */
    {"app=web", "d", "s", "tier=front", false},			   /* key missing */
    {"app=web", "d", "s", "app=db", false},			   /* value differs */
    {"app=web", "d", "s", "app=webx", false},			   /* value prefix */
    {"app=webx", "d", "s", "app=web", false},			   /* pod value prefix */
    {"app=web", "d", "s", "apps=web", false},			   /* key prefix */
    {"app=web", "d", "s", "xapp=web", false},			   /* key suffix */
    {"app=web", "d", "s", "app=webx,app2=web", false},
    {"app=web", "d", "s", "app=webx,app=web", true},
    {"app=web", "d", "s", "", false},	     /* no labels */
    {"app=web", "d", "s", "app=Web", false}, /* case */
    {"k8s.io/app=web", "d", "s", "k8s.io/app=web", true},
    /* Identity unknown (no service account): nothing but '*', fail closed. */
    {"default/*", "default", "", "", false},
    {"app=web", "default", "", "app=web", false},
    {"default/web", "default", "", "", false},
};

Test(selector_match, table)
{
	for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		struct nm_selector sel = sel_of(matches[i].sel);
		struct nm_pod_spec pod;

		memset(&pod, 0, sizeof(pod));
		snprintf(pod.ns, sizeof(pod.ns), "%s", matches[i].ns);
		snprintf(pod.sa, sizeof(pod.sa), "%s", matches[i].sa);
		snprintf(pod.labels, sizeof(pod.labels), "%s", matches[i].labels);
		cr_expect_eq(nm_selector_match(&sel, &pod), matches[i].want,
			     "%zu: selector '%s' pod %s/%s labels '%s': want %d", i, matches[i].sel,
			     matches[i].ns, matches[i].sa, matches[i].labels, matches[i].want);
	}
}

Test(selector_match, unknown_kind_matches_nothing)
{
	struct nm_selector sel;
	struct nm_pod_spec pod;

	memset(&sel, 0, sizeof(sel));
	memset(&pod, 0, sizeof(pod));
	sel.kind = 99;
	cr_assert_eq(nm_selector_match(&sel, &pod), false);
}
