/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule variables and address/port groups (ctrl/sigvars.c, ctrl/sigaddr.c):
 * Suricata's defaults, signatures.vars over them, and what a group with
 * negation and nesting matches, checked address by address the way the
 * worker matches them (nodemesh/sig_match.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "nodemesh/sig_match.h"
#include "sig.h"
#include "test_sigrule_common.h"

#define IP(a, b, c, d)                                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int
parse_with(const struct nm_sig_vars *vars, const char *text)
{
	memset(err, 0, sizeof(err));
	return nm_sig_rule_parse_vars(text, vars, &rule, err, sizeof(err));
}

Test(sigrule_vars, suricata_defaults_home_and_external_net)
{
	cr_assert_eq(parse("alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS "
			   "(content:\"a\"; sid:1;)"),
		     0, "%s", err);
	/* [192.168.0.0/16,10.0.0.0/8,172.16.0.0/12], sorted. */
	cr_assert_eq(rule.src.n, 3);
	cr_expect_not(rule.src.negated);
	cr_expect_eq(rule.src.items[0].addr, IP(10, 0, 0, 0));
	cr_expect_eq(rule.src.items[1].addr, IP(172, 16, 0, 0));
	cr_expect_eq(rule.src.items[2].addr, IP(192, 168, 0, 0));
	/* !$HOME_NET: the same three, negated. */
	cr_expect_eq(rule.dst.n, 3);
	cr_expect(rule.dst.negated);
	cr_expect(nm_sig_addrs_match(&rule.dst, IP(198, 18, 0, 1)));
	cr_expect_not(nm_sig_addrs_match(&rule.dst, IP(10, 9, 9, 9)));
	cr_expect_not(nm_sig_addrs_match(&rule.dst, IP(172, 31, 255, 255)));
	cr_expect(nm_sig_addrs_match(&rule.dst, IP(172, 32, 0, 0)));
	cr_expect(nm_sig_ports_match(&rule.dport, 80));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 8080));
	nm_sig_rule_clear(&rule);
}

Test(sigrule_vars, default_port_groups)
{
	cr_assert_eq(parse("alert tcp any $SHELLCODE_PORTS -> any $FILE_DATA_PORTS "
			   "(content:\"a\"; sid:1;)"),
		     0, "%s", err);
	cr_expect_not(nm_sig_ports_match(&rule.sport, 80)); /* !80 */
	cr_expect(nm_sig_ports_match(&rule.sport, 81));
	cr_expect(nm_sig_ports_match(&rule.sport, 0));
	/* [$HTTP_PORTS,110,143] */
	cr_expect(nm_sig_ports_match(&rule.dport, 80));
	cr_expect(nm_sig_ports_match(&rule.dport, 110));
	cr_expect(nm_sig_ports_match(&rule.dport, 143));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 111));
	nm_sig_rule_clear(&rule);
}

/* Suricata: a list is its positive members minus its negated ones. */
Test(sigrule_vars, negation_inside_a_list_is_set_difference)
{
	cr_assert_eq(parse("alert tcp [10.0.0.0/8,!10.1.0.0/16] any -> any [1:1024,!80,!443] "
			   "(content:\"a\"; sid:1;)"),
		     0, "%s", err);
	cr_expect(nm_sig_addrs_match(&rule.src, IP(10, 0, 0, 1)));
	cr_expect(nm_sig_addrs_match(&rule.src, IP(10, 2, 0, 1)));
	cr_expect_not(nm_sig_addrs_match(&rule.src, IP(10, 1, 200, 1)));
	cr_expect_not(nm_sig_addrs_match(&rule.src, IP(11, 0, 0, 1)));
	cr_expect(nm_sig_ports_match(&rule.dport, 1));
	cr_expect(nm_sig_ports_match(&rule.dport, 79));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 80));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 443));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 0));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 1025));
	nm_sig_rule_clear(&rule);
}

Test(sigrule_vars, only_negated_members_mean_everything_else)
{
	cr_assert_eq(parse("alert tcp [!10.0.0.0/8,!192.168.0.0/16] any -> any [!80,!443] "
			   "(content:\"a\"; sid:1;)"),
		     0, "%s", err);
	cr_expect_not(nm_sig_addrs_match(&rule.src, IP(10, 1, 1, 1)));
	cr_expect_not(nm_sig_addrs_match(&rule.src, IP(192, 168, 1, 1)));
	cr_expect(nm_sig_addrs_match(&rule.src, IP(8, 8, 8, 8)));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 443));
	cr_expect(nm_sig_ports_match(&rule.dport, 8443));
	nm_sig_rule_clear(&rule);
}

Test(sigrule_vars, nested_lists_and_negated_groups)
{
	/* 10/8 minus (10.1/16 minus 10.1.1/24): 10.1.1.x is back in. */
	cr_assert_eq(parse("alert tcp [10.0.0.0/8,![10.1.0.0/16,!10.1.1.0/24]] any -> any any "
			   "(content:\"a\"; sid:1;)"),
		     0, "%s", err);
	cr_expect(nm_sig_addrs_match(&rule.src, IP(10, 1, 1, 5)));
	cr_expect_not(nm_sig_addrs_match(&rule.src, IP(10, 1, 2, 5)));
	cr_expect(nm_sig_addrs_match(&rule.src, IP(10, 2, 0, 1)));
	cr_expect_not(nm_sig_addrs_match(&rule.src, IP(9, 255, 255, 255)));
	nm_sig_rule_clear(&rule);
}

Test(sigrule_vars, signatures_vars_replace_defaults_and_chain)
{
	struct nm_sig_vars *v = malloc(sizeof(*v));
	char why[256];

	cr_assert_not_null(v);
	nm_sig_vars_defaults(v);
	cr_assert_eq(nm_sig_vars_set(v, "HOME_NET", "198.18.0.0/15", why, sizeof(why)), 0, "%s",
		     why);
	cr_assert_eq(nm_sig_vars_set(v, "WEB_PORTS", "[$HTTP_PORTS,8080:8090]", why, sizeof(why)),
		     0);
	cr_assert_eq(nm_sig_vars_check(v, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(parse_with(v, "alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS $WEB_PORTS "
				   "(content:\"a\"; sid:1;)"),
		     0, "%s", err);
	/* EXTERNAL_NET is !$HOME_NET, read with the new HOME_NET. */
	cr_expect_not(nm_sig_addrs_match(&rule.src, IP(198, 19, 1, 1)));
	cr_expect(nm_sig_addrs_match(&rule.src, IP(10, 0, 0, 1)));
	cr_expect(nm_sig_addrs_match(&rule.dst, IP(198, 18, 0, 10)));
	cr_expect_not(nm_sig_addrs_match(&rule.dst, IP(10, 0, 0, 1)));
	cr_expect(nm_sig_ports_match(&rule.dport, 80));
	cr_expect(nm_sig_ports_match(&rule.dport, 8085));
	cr_expect_not(nm_sig_ports_match(&rule.dport, 8091));
	nm_sig_rule_clear(&rule);
	free(v);
}

Test(sigrule_vars, bad_variables_are_refused_with_their_name)
{
	struct nm_sig_vars *v = malloc(sizeof(*v));
	char why[512];

	cr_assert_not_null(v);
	nm_sig_vars_defaults(v);
	cr_expect_eq(nm_sig_vars_set(v, "HOME-NET", "10.0.0.0/8", why, sizeof(why)), -EINVAL);
	cr_expect_not_null(strstr(why, "variable name 'HOME-NET'"), "%s", why);
	cr_expect_eq(nm_sig_vars_set(v, "EMPTY", "", why, sizeof(why)), -EINVAL);

	cr_assert_eq(nm_sig_vars_set(v, "BAD", "[10.0.0.0/8,example]", why, sizeof(why)), 0);
	cr_expect_eq(nm_sig_vars_check(v, why, sizeof(why)), -EINVAL);
	cr_expect_not_null(strstr(why, "variable BAD"), "%s", why);

	/* A cycle is caught by the nesting bound, naming where it stopped. */
	nm_sig_vars_defaults(v);
	cr_assert_eq(nm_sig_vars_set(v, "A_NET", "$B_NET", why, sizeof(why)), 0);
	cr_assert_eq(nm_sig_vars_set(v, "B_NET", "[10.0.0.0/8,$A_NET]", why, sizeof(why)), 0);
	cr_expect_eq(parse_with(v, "alert tcp $A_NET any -> any any (content:\"a\"; sid:1;)"),
		     -EINVAL);
	cr_expect_not_null(strstr(err, "variables nest deeper than 8"), "%s", err);
	free(v);
}
