/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of policy compilation and evaluation (ctrl/policy_compile.c,
 * dataplane/policy_eval.h): rules parsed by nm_rule_parse() and compiled against a pod
 * table, then judged with nm_policy_eval(). Covers every selector kind,
 * protocols, port lists and range edges, the default action, the order
 * (deny beats allow, first allow wins), the generation semantics (a policy
 * knows only the pods it was compiled against), and the rte_meter profiles
 * compiled from rates, checked packet by packet against the srTCM
 * arithmetic of rte_meter.h (RFC 2697, used as a plain token bucket: ebs
 * is 0, so a packet is green or red). Each test runs with a small
 * in-memory EAL (Criterion forks one process per test).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_meter.h>

#include "http.h"
#include "pod_table.h"
#include "policy_compile.h"
#include "idreg.h"
#include "policy_eval.h"
#include "rule.h"
#include "unit_eal.h"

TestSuite(policy_compile, .init = nm_test_eal_up);
TestSuite(policy_eval, .init = nm_test_eal_up);
TestSuite(policy_order, .init = nm_test_eal_up);
TestSuite(policy_rate, .init = nm_test_eal_up);

/* ---- fixtures ------------------------------------------------------------ */

static struct nm_pod_live lives[NM_MAX_PODS];
static struct nm_rule rules[8]; /* 5 KiB each: not on the stack */
static char err[256];

/* Slots chosen on both sides of the bitmap's 64-bit word boundaries. */
enum { WEB = 0, DB = 1, API = 63, PWEB = 64, DNS = 200, PDB = 255, FREE = 2 };

static const struct {
	uint16_t slot;
	const char *ns, *sa, *labels;
} fixture_pods[] = {
    {WEB, "default", "web", "app=web,tier=front"},
    {DB, "default", "db", "app=db,tier=back"},
    {API, "prod", "api", "app=api"},
    {PWEB, "prod", "web", "app=web"},
    {DNS, "kube-system", "dns", "k8s-app=kube-dns"},
    {PDB, "prod", "db", "app=db,tier=back,env=prod"},
};
#define N_PODS (sizeof(fixture_pods) / sizeof(fixture_pods[0]))

static void
put(struct nm_pod_table *t, uint16_t slot, const char *ns, const char *sa, const char *labels)
{
	struct nm_pod *p = &t->pods[slot];

	memset(p, 0, sizeof(*p));
	snprintf(p->spec.name, sizeof(p->spec.name), "%s-%u", sa, slot);
	snprintf(p->spec.ns, sizeof(p->spec.ns), "%s", ns);
	snprintf(p->spec.sa, sizeof(p->spec.sa), "%s", sa);
	snprintf(p->spec.labels, sizeof(p->spec.labels), "%s", labels);
	p->spec.ip = htonl(0xc6120000u + slot + 1); /* 198.18.x.y */
	p->id = 100u + slot;
	p->live = &lives[slot];
}

static struct nm_pod_table *
pods_up(void)
{
	struct nm_pod_table *t = nm_pod_table_clone(NULL, 1, 1);

	cr_assert_not_null(t);
	for (size_t i = 0; i < N_PODS; i++)
		put(t, fixture_pods[i].slot, fixture_pods[i].ns, fixture_pods[i].sa,
		    fixture_pods[i].labels);
	cr_assert_eq(nm_pod_table_index(t, 1, 1), 0);
	cr_assert_eq(t->n_pods, N_PODS);
	return t;
}

/* Parse texts[0..n) into rules[] with ids 11, 12, ... and slots 0, 1, ... */
static void
parse_all(const char *const *texts, unsigned int n)
{
	cr_assert_leq(n, sizeof(rules) / sizeof(rules[0]));
	for (unsigned int i = 0; i < n; i++) {
		cr_assert_eq(nm_rule_parse(texts[i], &rules[i], err, sizeof(err)), 0, "'%s': %s",
			     texts[i], err);
		rules[i].id = 11 + i;
		rules[i].slot = (uint16_t)i;
	}
}

/*
 * One registry for the whole test, as a node has: an identity keeps its id
 * from one compilation to the next while some pod has it.
 */
static struct nm_idreg reg;
/* The table whose pods' identities ev() looks up by slot: the last one compiled. */
static const struct nm_pod_table *cur;

static struct nm_policy *
compile(const char *const *texts, unsigned int n, uint8_t default_action, struct nm_pod_table *t)
{
	parse_all(texts, n);
	struct nm_policy *p = nm_policy_compile(rules, n, default_action, t, &reg);
	cur = t;
	cr_assert_not_null(p, "nm_policy_compile: %s", strerror(errno));
	cr_assert_eq(p->n_rules, n);
	return p;
}

static struct nm_policy *
compile1(const char *text, struct nm_pod_table *t)
{
	return compile(&text, 1, NM_VERDICT_DENY, t);
}

/* nm_policy_eval between the pods at two slots of cur, as a worker calls it. */
static int
ev(const struct nm_policy *p, uint16_t src, uint16_t dst, uint8_t proto, uint16_t dport)
{
	cr_assert(nm_pod_present(&cur->pods[src]) && nm_pod_present(&cur->pods[dst]),
		  "workers judge only flows between present pods");
	return nm_policy_eval(p, cur->pods[src].identity, cur->pods[dst].identity, proto, dport);
}

/* Id of the rule that decides, or 0 for the default action. */
static uint32_t
decider(const struct nm_policy *p, uint16_t src, uint16_t dst, uint8_t proto, uint16_t dport)
{
	int i = ev(p, src, dst, proto, dport);

	if (i == NM_POLICY_DEFAULT)
		return 0;
	cr_assert(i >= 0 && (uint32_t)i < p->n_rules, "index %d out of range", i);
	return p->rules[i].id;
}

/* ---- compile: degenerate inputs ------------------------------------------ */

Test(policy_compile, no_rules_gives_default_for_everything)
{
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = nm_policy_compile(rules, 0, NM_VERDICT_ALLOW, t, &reg);

	cur = t;
	cr_assert_not_null(p);
	cr_assert_eq(p->n_rules, 0);
	cr_assert_eq(p->default_action, NM_VERDICT_ALLOW);
	cr_assert_eq(ev(p, WEB, DB, IPPROTO_TCP, 80), NM_POLICY_DEFAULT);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_compile, without_a_table_no_identity_is_named)
{
	struct nm_policy *p = compile1("allow from default/web to *", NULL);

	cr_expect_eq(p->n_ids, 0);
	for (uint32_t id = 0; id < 4; id++)
		cr_expect_eq(nm_policy_eval(p, id, id, IPPROTO_TCP, 80), NM_POLICY_DEFAULT);
	nm_policy_free(p);
}

Test(policy_compile, unknown_identity_matches_only_any)
{
	struct nm_pod_table *t = pods_up();

	put(t, FREE, "default", "", "app=web"); /* no service account yet: identity unknown */
	cr_assert_eq(nm_pod_table_index(t, 1, 1), 0);
	struct nm_policy *any = compile1("allow from * to *", t);
	cr_expect_eq(t->pods[FREE].identity, NM_IDENTITY_NONE);
	cr_expect_eq(ev(any, FREE, DB, IPPROTO_TCP, 80), 0);
	cr_expect_eq(ev(any, WEB, FREE, IPPROTO_TCP, 80), 0);
	struct nm_policy *ns = compile1("allow from app=web to *", t);
	cr_expect_eq(ev(ns, FREE, DB, IPPROTO_TCP, 80), NM_POLICY_DEFAULT, "labels are not enough");
	cr_expect_eq(ev(ns, WEB, DB, IPPROTO_TCP, 80), 0);
	nm_policy_free(any);
	nm_policy_free(ns);
	nm_pod_table_free(t);
}

Test(policy_compile, pods_with_one_identity_share_its_id)
{
	struct nm_pod_table *t = pods_up();

	put(t, 7, "prod", "web", "app=web");	 /* PWEB's identity */
	put(t, 9, "prod", "web", "app=web,x=y"); /* another label set: another identity */
	put(t, 11, "default", "web", "tier=front,app=web"); /* WEB's set, spelt otherwise */
	cr_assert_eq(nm_pod_table_index(t, 1, 1), 0);
	struct nm_policy *p = compile1("deny from prod/web to *", t);
	cr_expect_eq(t->pods[7].identity, t->pods[PWEB].identity);
	cr_expect_neq(t->pods[9].identity, t->pods[PWEB].identity);
	cr_expect_eq(t->pods[11].identity, t->pods[WEB].identity);
	cr_expect_eq(reg.live, N_PODS + 1, "six fixture identities and one new label set");
	cr_expect_eq(ev(p, 9, DB, IPPROTO_TCP, 80), 0, "same namespace and account");
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_compile, free_releases_null)
{
	nm_policy_free(NULL);
}

Test(policy_compile, fields_are_copied)
{
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile1("allow from * to * proto udp port 53,5000-5010", t);
	const struct nm_policy_rule *r = &p->rules[0];

	cr_assert_eq(r->id, 11);
	cr_assert_eq(r->slot, 0);
	cr_assert_eq(r->action, NM_VERDICT_ALLOW);
	cr_assert_eq(r->proto, IPPROTO_UDP);
	cr_assert_eq(r->inspect, 1); /* the default: rules inspect unless they say inspect off */
	cr_assert_eq(r->n_ports, 2);
	cr_assert_eq(r->ports[0].lo, 53);
	cr_assert_eq(r->ports[0].hi, 53);
	cr_assert_eq(r->ports[1].lo, 5000);
	cr_assert_eq(r->ports[1].hi, 5010);
	cr_assert_eq(r->has_pps, 0);
	cr_assert_eq(r->has_bps, 0);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

/* ---- eval: selectors ----------------------------------------------------- */

#define S(x) (1u << (x)) /* bit by index in fixture_pods */
static const struct {
	const char *sel;
	unsigned int want; /* indexes into fixture_pods */
} selectors[] = {
    {"*", S(0) | S(1) | S(2) | S(3) | S(4) | S(5)},
    {"default/*", S(0) | S(1)},
    {"prod/*", S(2) | S(3) | S(5)},
    {"kube-system/*", S(4)},
    {"def/*", 0},
    {"default/web", S(0)},
    {"prod/web", S(3)},
    {"prod/db", S(5)},
    {"default/api", 0},
    {"prod/nosuch", 0},
    {"app=web", S(0) | S(3)},
    {"app=db", S(1) | S(5)},
    {"app=db,tier=back", S(1) | S(5)},
    {"tier=back,app=db", S(1) | S(5)},
    {"app=db,tier=back,env=prod", S(5)},
    {"env=prod", S(5)},
    {"tier=front", S(0)},
    {"app=web,tier=back", 0},
    {"app=we", 0},
    {"pp=web", 0},
    {"app=webx", 0},
    {"k8s-app=kube-dns", S(4)},
    {"app=kube-dns", 0},
};

Test(policy_eval, selector_kinds_on_both_sides)
{
	struct nm_pod_table *t = pods_up();
	char text[128];

	for (size_t s = 0; s < sizeof(selectors) / sizeof(selectors[0]); s++) {
		snprintf(text, sizeof(text), "allow from %s to *", selectors[s].sel);
		struct nm_policy *from = compile1(text, t);
		snprintf(text, sizeof(text), "allow from * to %s", selectors[s].sel);
		struct nm_policy *to = compile1(text, t);

		for (size_t i = 0; i < N_PODS; i++) {
			uint16_t slot = fixture_pods[i].slot;
			bool want = selectors[s].want & S(i);
			int peer = fixture_pods[(i + 1) % N_PODS].slot;

			cr_expect_eq(ev(from, slot, peer, IPPROTO_TCP, 80) == 0, want,
				     "from %s: pod %s/%s", selectors[s].sel, fixture_pods[i].ns,
				     fixture_pods[i].sa);
			cr_expect_eq(ev(to, peer, slot, IPPROTO_TCP, 80) == 0, want,
				     "to %s: pod %s/%s", selectors[s].sel, fixture_pods[i].ns,
				     fixture_pods[i].sa);
		}
		nm_policy_free(from);
		nm_policy_free(to);
	}
	nm_pod_table_free(t);
}

Test(policy_eval, from_and_to_both_must_match)
{
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile1("allow from default/web to default/db", t);

	cr_expect_eq(ev(p, WEB, DB, IPPROTO_TCP, 5432), 0);
	cr_expect_eq(ev(p, DB, WEB, IPPROTO_TCP, 5432), NM_POLICY_DEFAULT, "a rule is directional");
	cr_expect_eq(ev(p, WEB, WEB, IPPROTO_TCP, 5432), NM_POLICY_DEFAULT);
	cr_expect_eq(ev(p, PWEB, DB, IPPROTO_TCP, 5432), NM_POLICY_DEFAULT);
	cr_expect_eq(ev(p, WEB, PDB, IPPROTO_TCP, 5432), NM_POLICY_DEFAULT);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

/* ---- eval: protocols and ports ------------------------------------------ */

static const struct {
	const char *rule;
	uint8_t proto;
	uint16_t dport;
	bool match;
} l4[] = {
    /* protocols */
    {"allow from * to *", IPPROTO_TCP, 80, true},
    {"allow from * to *", IPPROTO_UDP, 53, true},
    {"allow from * to *", IPPROTO_ICMP, 0, true},
    {"allow from * to *", IPPROTO_GRE, 0, true},
    {"allow from * to * proto any", IPPROTO_SCTP, 0, true},
    {"allow from * to * proto tcp", IPPROTO_TCP, 1, true},
    {"allow from * to * proto tcp", IPPROTO_UDP, 1, false},
    {"allow from * to * proto tcp", IPPROTO_ICMP, 0, false},
    {"allow from * to * proto udp", IPPROTO_UDP, 65535, true},
    {"allow from * to * proto udp", IPPROTO_TCP, 65535, false},
    {"allow from * to * proto icmp", IPPROTO_ICMP, 0, true},
    {"allow from * to * proto icmp", IPPROTO_ICMPV6, 0, false},
    {"allow from * to * proto icmp", IPPROTO_TCP, 0, false},

    /* a single port: lo-1, lo == hi, hi+1 */
    {"allow from * to * proto udp port 53", IPPROTO_UDP, 52, false},
    {"allow from * to * proto udp port 53", IPPROTO_UDP, 53, true},
    {"allow from * to * proto udp port 53", IPPROTO_UDP, 54, false},
    {"allow from * to * proto udp port 53", IPPROTO_TCP, 53, false},
    {"allow from * to * proto udp port 53", IPPROTO_UDP, 0, false},

    /* a list with a range: each item's edges */
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 79, false},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 80, true},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 81, false},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 7999, false},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 8000, true},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 8040, true},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 8080, true},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_TCP, 8081, false},
    {"allow from * to * proto tcp port 80,8000-8080", IPPROTO_UDP, 8040, false},

    /* the ends of the port space */
    {"allow from * to * proto tcp port 1-2", IPPROTO_TCP, 0, false},
    {"allow from * to * proto tcp port 1-2", IPPROTO_TCP, 1, true},
    {"allow from * to * proto tcp port 1-2", IPPROTO_TCP, 2, true},
    {"allow from * to * proto tcp port 1-2", IPPROTO_TCP, 3, false},
    {"allow from * to * proto tcp port 65534-65535", IPPROTO_TCP, 65533, false},
    {"allow from * to * proto tcp port 65534-65535", IPPROTO_TCP, 65534, true},
    {"allow from * to * proto tcp port 65534-65535", IPPROTO_TCP, 65535, true},
    {"allow from * to * proto tcp port 1-65535", IPPROTO_TCP, 0, false},
    {"allow from * to * proto tcp port 1-65535", IPPROTO_TCP, 65535, true},

    /* overlapping and out-of-order items */
    {"allow from * to * proto tcp port 9000-9010,9005-9020,100", IPPROTO_TCP, 9020, true},
    {"allow from * to * proto tcp port 9000-9010,9005-9020,100", IPPROTO_TCP, 9021, false},
    {"allow from * to * proto tcp port 9000-9010,9005-9020,100", IPPROTO_TCP, 100, true},
    {"allow from * to * proto tcp port 9000-9010,9005-9020,100", IPPROTO_TCP, 8999, false},

    /* a deny matches by the same rules */
    {"deny from * to * proto tcp port 22", IPPROTO_TCP, 22, true},
    {"deny from * to * proto tcp port 22", IPPROTO_TCP, 23, false},
};

Test(policy_eval, protocols_and_ports)
{
	struct nm_pod_table *t = pods_up();

	for (size_t i = 0; i < sizeof(l4) / sizeof(l4[0]); i++) {
		struct nm_policy *p = compile1(l4[i].rule, t);

		cr_expect_eq(ev(p, WEB, DB, l4[i].proto, l4[i].dport) == 0, l4[i].match,
			     "'%s' with proto %u port %u: want %s", l4[i].rule, l4[i].proto,
			     l4[i].dport, l4[i].match ? "match" : "no match");
		nm_policy_free(p);
	}
	nm_pod_table_free(t);
}

Test(policy_eval, sixteen_port_items_are_all_checked)
{
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile1(
	    "allow from * to * proto tcp port 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,1000-1001", t);

	cr_assert_eq(p->rules[0].n_ports, NM_RULE_MAX_PORTS);
	cr_expect_eq(ev(p, WEB, DB, IPPROTO_TCP, 15), 0);
	cr_expect_eq(ev(p, WEB, DB, IPPROTO_TCP, 16), NM_POLICY_DEFAULT);
	cr_expect_eq(ev(p, WEB, DB, IPPROTO_TCP, 999), NM_POLICY_DEFAULT);
	cr_expect_eq(ev(p, WEB, DB, IPPROTO_TCP, 1001), 0, "last item");
	cr_expect_eq(ev(p, WEB, DB, IPPROTO_TCP, 1002), NM_POLICY_DEFAULT);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

/* ---- eval: default action ------------------------------------------------ */

Test(policy_eval, nothing_matches_gives_default_deny_or_allow)
{
	static const char *const texts[] = {
	    "allow from default/web to default/db proto tcp port 5432",
	    "deny from prod/* to default/* proto udp",
	};
	struct nm_pod_table *t = pods_up();

	for (uint8_t def = NM_VERDICT_DENY; def <= NM_VERDICT_ALLOW; def++) {
		struct nm_policy *p = compile(texts, 2, def, t);

		cr_expect_eq(p->default_action, def);
		cr_expect_eq(ev(p, WEB, DB, IPPROTO_TCP, 5433), NM_POLICY_DEFAULT);
		cr_expect_eq(ev(p, WEB, DB, IPPROTO_UDP, 5432), NM_POLICY_DEFAULT);
		cr_expect_eq(ev(p, DNS, DB, IPPROTO_UDP, 53), NM_POLICY_DEFAULT);
		cr_expect_eq(ev(p, DB, WEB, IPPROTO_TCP, 5432), NM_POLICY_DEFAULT);
		/* And the rules still decide what they match. */
		cr_expect_eq(decider(p, WEB, DB, IPPROTO_TCP, 5432), 11);
		cr_expect_eq(decider(p, API, WEB, IPPROTO_UDP, 53), 12);
		nm_policy_free(p);
	}
	nm_pod_table_free(t);
}

/* ---- order --------------------------------------------------------------- */

Test(policy_order, deny_listed_after_allow_still_wins)
{
	static const char *const texts[] = {
	    "allow from default/web to default/db proto tcp port 5432", /* id 11 */
	    "deny from * to default/db proto tcp",			/* id 12 */
	};
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile(texts, 2, NM_VERDICT_ALLOW, t);
	int i = ev(p, WEB, DB, IPPROTO_TCP, 5432);

	cr_assert_neq(i, NM_POLICY_DEFAULT);
	cr_expect_eq(p->rules[i].id, 12, "deny beats allow: rule %u decided", p->rules[i].id);
	cr_expect_eq(p->rules[i].action, NM_VERDICT_DENY);
	/* Traffic the deny does not cover is still allowed by the allow... */
	cr_expect_eq(decider(p, WEB, DB, IPPROTO_UDP, 5432), 0);
	/* ...and the compiled list keeps the rule's own fields with it. */
	cr_expect_eq(p->rules[i].slot, 1);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_order, deny_first_then_allow_in_list_order)
{
	static const char *const texts[] = {
	    "allow from * to * proto tcp port 80",     /* 11 */
	    "allow from default/* to *",	       /* 12 */
	    "deny from prod/* to * proto tcp port 80", /* 13 */
	    "allow from * to * proto udp",	       /* 14 */
	    "deny from * to kube-system/*",	       /* 15 */
	};
	static const uint32_t want_order[] = {13, 15, 11, 12, 14};
	static const struct {
		uint16_t src, dst;
		uint8_t proto;
		uint16_t dport;
		uint32_t want; /* deciding rule id, 0: default */
	} cases[] = {
	    {WEB, DB, IPPROTO_TCP, 80, 11},  /* 11 and 12 match: first listed allow */
	    {WEB, DB, IPPROTO_TCP, 81, 12},  /* only 12 */
	    {WEB, DB, IPPROTO_UDP, 53, 12},  /* 12 and 14: 12 listed first */
	    {API, DB, IPPROTO_UDP, 53, 14},  /* only 14 */
	    {API, DB, IPPROTO_TCP, 80, 13},  /* 11 allows, 13 denies: deny */
	    {API, DB, IPPROTO_TCP, 81, 0},   /* nothing */
	    {WEB, DNS, IPPROTO_UDP, 53, 15}, /* 12, 14 allow, 15 denies */
	    {API, DNS, IPPROTO_TCP, 80, 13}, /* two denies: the first listed */
	    {DNS, WEB, IPPROTO_TCP, 80, 11},
	};
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile(texts, 5, NM_VERDICT_DENY, t);

	for (unsigned int i = 0; i < 5; i++)
		cr_expect_eq(p->rules[i].id, want_order[i], "compiled rule %u: id %u, want %u", i,
			     p->rules[i].id, want_order[i]);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(decider(p, cases[i].src, cases[i].dst, cases[i].proto, cases[i].dport),
			     cases[i].want, "case %zu: rule %u decided, want %u", i,
			     decider(p, cases[i].src, cases[i].dst, cases[i].proto, cases[i].dport),
			     cases[i].want);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_order, first_of_two_allows_wins_and_brings_its_rate)
{
	static const char *const texts[] = {
	    "allow from * to default/db proto tcp rate 100pps", /* 11 */
	    "allow from default/web to default/db",		/* 12 */
	};
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile(texts, 2, NM_VERDICT_DENY, t);
	int i = ev(p, WEB, DB, IPPROTO_TCP, 5432);

	cr_assert_eq(i, 0);
	cr_expect_eq(p->rules[i].id, 11);
	cr_expect_eq(p->rules[i].has_pps, 1);
	i = ev(p, WEB, DB, IPPROTO_UDP, 5432);
	cr_assert_eq(i, 1);
	cr_expect_eq(p->rules[i].id, 12);
	cr_expect_eq(p->rules[i].has_pps, 0);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

/* ---- generation: a policy knows the pods it was compiled against --------- */

Test(policy_order, pods_added_later_match_only_after_recompiling)
{
	static const char *const texts[] = {"allow from app=web to app=db"};
	struct nm_pod_table *t1 = pods_up();
	struct nm_policy *p1 = compile(texts, 1, NM_VERDICT_DENY, t1);
	t1->policy = p1; /* owned by the table from here */

	/* pod add: clone, add a web pod at slot 7 and a db pod at slot 128, index. */
	struct nm_pod_table *t2 = nm_pod_table_clone(t1, 1, 1);
	cr_assert_not_null(t2);
	cr_assert_null(t2->policy, "a clone must get its own compiled policy");
	cr_assert_eq(t2->generation, t1->generation + 1);
	put(t2, 7, "default", "web2", "app=web");
	put(t2, 128, "default", "db2", "app=db");
	cr_assert_eq(nm_pod_table_index(t2, 1, 1), 0);

	/* The old policy does not know the new pods (no identity before t2 is compiled)... */
	cur = t2;
	cr_expect_eq(ev(p1, 7, DB, IPPROTO_TCP, 5432), NM_POLICY_DEFAULT);
	cr_expect_eq(ev(p1, WEB, 128, IPPROTO_TCP, 5432), NM_POLICY_DEFAULT);
	cr_expect_eq(ev(p1, WEB, DB, IPPROTO_TCP, 5432), 0);

	/* ...the one compiled against the new table does. */
	struct nm_policy *p2 = compile(texts, 1, NM_VERDICT_DENY, t2);
	t2->policy = p2;
	cr_expect_eq(ev(p2, 7, DB, IPPROTO_TCP, 5432), 0);
	cr_expect_eq(ev(p2, WEB, 128, IPPROTO_TCP, 5432), 0);
	cr_expect_eq(ev(p2, 7, 128, IPPROTO_TCP, 5432), 0);
	cr_expect_eq(ev(p2, WEB, DB, IPPROTO_TCP, 5432), 0);

	/* pod del of WEB: the new compilation forgets it, the old one is untouched. */
	struct nm_pod_table *t3 = nm_pod_table_clone(t2, 1, 1);
	cr_assert_not_null(t3);
	memset(&t3->pods[WEB], 0, sizeof(t3->pods[WEB]));
	cr_assert_eq(nm_pod_table_index(t3, 1, 1), 0);
	struct nm_policy *p3 = compile(texts, 1, NM_VERDICT_DENY, t3);
	t3->policy = p3;
	cr_expect_eq(
	    nm_policy_eval(p3, t2->pods[WEB].identity, t3->pods[DB].identity, IPPROTO_TCP, 5432),
	    NM_POLICY_DEFAULT, "WEB's identity has no pod left: p3 names it nowhere");
	cr_expect_eq(ev(p3, 7, DB, IPPROTO_TCP, 5432), 0);
	cur = t2;
	cr_expect_eq(ev(p2, WEB, DB, IPPROTO_TCP, 5432), 0);

	nm_pod_table_free(t1);
	nm_pod_table_free(t2);
	nm_pod_table_free(t3);
}

/* ---- rates: compiled profiles and the meter arithmetic ------------------ */

/* Fresh per-flow state on the profile, as a worker makes it; returns its start time. */
static uint64_t
meter_up(struct rte_meter_srtcm *m, struct rte_meter_srtcm_profile *prof)
{
	cr_assert_eq(rte_meter_srtcm_config(m, prof), 0);
	cr_assert_eq(m->tc, prof->cbs, "a new flow starts with a full bucket");
	cr_assert_eq(m->te, 0);
	return m->time;
}

/* Packets of len that pass back to back at tsc now, until the first refusal (max cap). */
static unsigned int
greens(struct rte_meter_srtcm *m, struct rte_meter_srtcm_profile *prof, uint64_t now, uint32_t len,
       unsigned int cap)
{
	unsigned int n = 0;

	while (n < cap) {
		enum rte_color c = rte_meter_srtcm_color_blind_check(m, prof, now, len);
		if (c != RTE_COLOR_GREEN) {
			cr_assert_eq(c, RTE_COLOR_RED, "ebs is 0: no yellow");
			break;
		}
		n++;
	}
	return n;
}

/* Tokens ("bytes") the profile adds over dt cycles, before the cbs cap. */
static uint64_t
tokens_in(const struct rte_meter_srtcm_profile *prof, uint64_t dt)
{
	return dt / prof->cir_period * prof->cir_bytes_per_period;
}

static const struct {
	const char *rule;
	bool has_pps;
	uint64_t pps_cbs;
	bool has_bps;
	uint64_t bps_cbs;
} profiles[] = {
    {"allow from * to *", false, 0, false, 0},
    {"allow from * to * rate 1000pps burst 10", true, 10, false, 0},
    {"allow from * to * rate 1000pps", true, 100, false, 0}, /* 100 ms of the rate */
    {"allow from * to * rate 15pps", true, 1, false, 0},     /* 1.5 -> 1 */
    {"allow from * to * rate 5pps", true, 1, false, 0},	     /* 0.5 -> at least 1 */
    {"allow from * to * rate 1pps", true, 1, false, 0},
    {"allow from * to * rate 8mbps", false, 0, true, 100000},	     /* 1 MB/s x 100 ms */
    {"allow from * to * rate 8 mbps burst 4", false, 0, true, 6000}, /* 4 x 1500 */
    {"allow from * to * rate 1gbps", false, 0, true, 12500000},
    {"allow from * to * rate 100kbps", false, 0, true, 1500}, /* 1250 < one packet */
    {"allow from * to * rate 7bps", false, 0, true, 1500},    /* 0 B/s -> 1 B/s */
    {"allow from * to * rate 200pps rate 16mbps", true, 20, true, 200000},
    {"allow from * to * rate 200pps rate 16mbps burst 3", true, 3, true, 4500},
};

Test(policy_rate, profiles_from_rates_and_bursts)
{
	struct nm_pod_table *t = pods_up();

	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		struct nm_policy *p = compile1(profiles[i].rule, t);
		const struct nm_policy_rule *r = &p->rules[0];

		cr_expect_eq(r->has_pps, profiles[i].has_pps, "'%s': has_pps", profiles[i].rule);
		cr_expect_eq(r->has_bps, profiles[i].has_bps, "'%s': has_bps", profiles[i].rule);
		if (profiles[i].has_pps) {
			cr_expect_eq(r->pps.cbs, profiles[i].pps_cbs, "'%s': pps cbs %lu, want %lu",
				     profiles[i].rule, (unsigned long)r->pps.cbs,
				     (unsigned long)profiles[i].pps_cbs);
			cr_expect_eq(r->pps.ebs, 0, "'%s': pps ebs", profiles[i].rule);
		}
		if (profiles[i].has_bps) {
			cr_expect_eq(r->bps.cbs, profiles[i].bps_cbs, "'%s': bps cbs %lu, want %lu",
				     profiles[i].rule, (unsigned long)r->bps.cbs,
				     (unsigned long)profiles[i].bps_cbs);
			cr_expect_eq(r->bps.ebs, 0, "'%s': bps ebs", profiles[i].rule);
		}
		nm_policy_free(p);
	}
	nm_pod_table_free(t);
}

Test(policy_rate, profile_refill_rate_matches_the_rule)
{
	static const struct {
		const char *rule;
		bool pps;
		uint64_t per_sec;
	} rates[] = {
	    {"allow from * to * rate 1pps", true, 1},
	    {"allow from * to * rate 1000pps", true, 1000},
	    {"allow from * to * rate 1000000pps", true, 1000000},
	    {"allow from * to * rate 8mbps", false, 1000000},
	    {"allow from * to * rate 1gbps", false, 125000000},
	};
	struct nm_pod_table *t = pods_up();
	uint64_t hz = rte_get_tsc_hz();

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct nm_policy *p = compile1(rates[i].rule, t);
		const struct rte_meter_srtcm_profile *prof =
		    rates[i].pps ? &p->rules[0].pps : &p->rules[0].bps;
		double got = (double)tokens_in(prof, 10 * hz) / 10.0;
		double want = (double)rates[i].per_sec;

		/* rte_meter rounds a period of >= 100 cycles down: ~1 % at worst. */
		cr_expect(got >= want * 0.985 && got <= want * 1.015,
			  "'%s': %.0f tokens per second, want %.0f (hz %lu)", rates[i].rule, got,
			  want, (unsigned long)hz);
		nm_policy_free(p);
	}
	nm_pod_table_free(t);
}

Test(policy_rate, pps_burst_10_passes_10_then_refills_at_the_rate)
{
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile1("allow from * to * rate 1000pps burst 10", t);
	struct rte_meter_srtcm_profile *prof = &p->rules[0].pps;
	struct rte_meter_srtcm m;
	uint64_t hz = rte_get_tsc_hz();

	cr_assert(p->rules[0].has_pps);
	cr_assert_eq(prof->cbs, 10);
	uint64_t t0 = meter_up(&m, prof);

	/* A pps meter counts one token per packet: pkt_len 1. */
	cr_expect_eq(greens(&m, prof, t0, 1, 100), 10, "burst of 10 at one instant");
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, t0, 1), RTE_COLOR_RED, "the 11th");

	/* 10 ms later: 10 ms of 1000 pps is 10 tokens, the bucket holds 10. */
	uint64_t t1 = t0 + hz / 100;
	cr_expect_eq(RTE_MIN(tokens_in(prof, t1 - m.time), prof->cbs), 10);
	cr_expect_eq(greens(&m, prof, t1, 1, 100), 10, "10 ms after the burst");
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, t1, 1), RTE_COLOR_RED);

	/*
	 * The next token comes one period after the meter's last whole
	 * period (m.time, at or before t1): one cycle short is refused, at
	 * the boundary exactly one packet passes.
	 */
	cr_expect_eq(prof->cir_bytes_per_period, 1, "hz %lu: 1000 pps is one token per period",
		     (unsigned long)hz);
	uint64_t next = m.time + prof->cir_period;
	cr_expect_gt(next, t1);
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, next - 1, 1), RTE_COLOR_RED);
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, next, 1), RTE_COLOR_GREEN);
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, next, 1), RTE_COLOR_RED);

	/* Half the refill time gives half the tokens (to the period). */
	uint64_t half = next + hz / 200;
	cr_expect_eq(greens(&m, prof, half, 1, 100),
		     RTE_MIN(tokens_in(prof, half - next), prof->cbs));

	/* After a long idle the bucket is full again, never more. */
	cr_expect_eq(greens(&m, prof, half + 60 * hz, 1, 100), 10);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_rate, bps_8mbps_default_burst_passes_66_full_packets)
{
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile1("allow from * to * rate 8mbps", t);
	struct rte_meter_srtcm_profile *prof = &p->rules[0].bps;
	struct rte_meter_srtcm m;

	cr_assert(p->rules[0].has_bps);
	cr_assert_not(p->rules[0].has_pps);
	/* 8 Mbit/s = 1 000 000 B/s; 100 ms of it = 100 000 bytes. */
	cr_assert_eq(prof->cbs, 100000);
	uint64_t t0 = meter_up(&m, prof);

	/* 66 x 1500 = 99 000 <= 100 000 < 67 x 1500 = 100 500. */
	cr_expect_eq(greens(&m, prof, t0, 1500, 1000), 66);
	cr_expect_eq(m.tc, 1000, "1 000 bytes left");
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, t0, 1500), RTE_COLOR_RED);
	cr_expect_eq(m.tc, 1000, "a refused packet takes no tokens");

	/* The 67th full packet needs 500 bytes more: the first period that brings them. */
	uint64_t periods = (500 + prof->cir_bytes_per_period - 1) / prof->cir_bytes_per_period;
	uint64_t ready = t0 + periods * prof->cir_period;
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, ready - 1, 1500), RTE_COLOR_RED);
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, ready, 1500), RTE_COLOR_GREEN);
	cr_expect_lt(m.tc, 1500);
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, ready, 1500), RTE_COLOR_RED);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_rate, bps_packet_exactly_the_size_of_the_bucket_passes)
{
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile1("allow from * to * rate 8mbps burst 2", t);
	struct rte_meter_srtcm_profile *prof = &p->rules[0].bps;
	struct rte_meter_srtcm m;

	cr_assert_eq(prof->cbs, 3000);
	uint64_t t0 = meter_up(&m, prof);

	/* tc >= len passes: equality is green, one byte more is red. */
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, t0, 3001), RTE_COLOR_RED);
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, t0, 3000), RTE_COLOR_GREEN);
	cr_expect_eq(m.tc, 0);
	cr_expect_eq(rte_meter_srtcm_color_blind_check(&m, prof, t0, 1), RTE_COLOR_RED);
	/* A packet larger than the bucket never passes, however long the wait. */
	cr_expect_eq(
	    rte_meter_srtcm_color_blind_check(&m, prof, t0 + 3600 * rte_get_tsc_hz(), 3001),
	    RTE_COLOR_RED);
	cr_expect_eq(m.tc, 3000, "but the bucket filled up to cbs");
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_rate, default_pps_burst_does_not_wrap_for_huge_rates)
{
	/*
	 * The parser accepts any pps rate up to UINT64_MAX, and the default
	 * burst is rate * 100 / 1000 in 64 bits: from 2^64 / 100 pps on the
	 * product wraps. 184467440737095517 pps wraps to 84, so the bucket
	 * gets 1 packet instead of a tenth of the rate.
	 */
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile1("allow from * to * rate 184467440737095517pps", t);

	cr_assert_not_null(p);
	cr_expect_geq(p->rules[0].pps.cbs, UINT64_C(184467440737095517) / 10,
		      "default burst %lu: rate * DEFAULT_BURST_MS overflowed",
		      (unsigned long)p->rules[0].pps.cbs);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

/* ---- the compiled lists against the rules' plain meaning ------------------ */

static uint64_t prng = 88172645463325252ull;

static uint32_t
pick(uint32_t n)
{
	prng ^= prng << 13;
	prng ^= prng >> 7;
	prng ^= prng << 17;
	return (uint32_t)(prng % n);
}

/* Deny beats allow, then list order: the rule that decides, read off the rules themselves. */
static uint32_t
naive_decider(const struct nm_rule *rs, unsigned int n, const struct nm_idreg_entry *src,
	      const struct nm_idreg_entry *dst, uint8_t proto, uint16_t dport)
{
	for (int pass = 0; pass < 2; pass++)
		for (unsigned int i = 0; i < n; i++) {
			const struct nm_rule *r = &rs[i];
			if ((pass == 0) != (r->action == NM_VERDICT_DENY))
				continue;
			if (!nm_selector_match_identity(&r->from, src->ns, src->sa, src->labels) ||
			    !nm_selector_match_identity(&r->to, dst->ns, dst->sa, dst->labels))
				continue;
			if (r->proto != 0 && r->proto != proto)
				continue;
			bool hit = r->n_ports == 0;
			for (unsigned int k = 0; k < r->n_ports; k++)
				hit |= dport >= r->ports[k].lo && dport <= r->ports[k].hi;
			if (hit)
				return r->id;
		}
	return 0;
}

Test(policy_eval, compiled_lists_agree_with_the_rules_on_random_policies)
{
	static struct nm_rule rs[300];
	struct nm_idreg r = {0};
	struct nm_pod_spec s;
	char text[160];

	nm_idreg_begin(&r);
	for (int k = 0; k < 400; k++) {
		memset(&s, 0, sizeof(s));
		snprintf(s.ns, sizeof(s.ns), "ns%u", pick(5));
		snprintf(s.sa, sizeof(s.sa), "sa%u", pick(8));
		snprintf(s.labels, sizeof(s.labels), "app=a%u,tier=t%u", pick(6), pick(3));
		cr_assert_neq(nm_idreg_intern(&r, &s), NM_IDREG_FULL);
	}
	nm_idreg_end(&r);
	static const char *const sel_fmt[] = {"*", "ns%u/sa%u", "ns%u/*", "app=a%u",
					      "app=a%u,tier=t%u"};
	for (unsigned int i = 0; i < 300; i++) {
		char from[48], to[48];
		snprintf(from, sizeof(from), sel_fmt[pick(5)], pick(5), pick(8));
		snprintf(to, sizeof(to), sel_fmt[pick(5)], pick(6), pick(3));
		const char *proto = pick(2) ? "tcp" : "udp";
		snprintf(text, sizeof(text), "%s from %s to %s proto %s port %u-%u",
			 pick(4) == 0 ? "deny" : "allow", from, to, proto, 1 + pick(50),
			 50 + pick(50));
		cr_assert_eq(nm_rule_parse(text, &rs[i], err, sizeof(err)), 0, "%s: %s", text, err);
		rs[i].id = i + 1;
		rs[i].slot = (uint16_t)i;
	}
	struct nm_policy *p = nm_policy_build(rs, 300, NM_VERDICT_DENY, &r);
	cr_assert_not_null(p);
	for (int k = 0; k < 20000; k++) {
		uint32_t a = 1 + pick(r.n - 1), b = 1 + pick(r.n - 1);
		uint8_t proto = pick(2) ? IPPROTO_TCP : IPPROTO_UDP;
		uint16_t port = (uint16_t)(1 + pick(110));
		int i = nm_policy_eval(p, a, b, proto, port);
		uint32_t got = i == NM_POLICY_DEFAULT ? 0 : p->rules[i].id;
		cr_assert_eq(got, naive_decider(rs, 300, &r.e[a], &r.e[b], proto, port),
			     "identities %u -> %u, proto %u port %u", a, b, proto, port);
	}
	nm_policy_free(p);
	nm_idreg_free(&r);
}

/* ---- HTTP clauses: connection setup and each request ---------------------- */

TestSuite(policy_http, .init = nm_test_eal_up);

/* nm_policy_http_covers between the pods at two slots of cur. */
static bool
covers(const struct nm_policy *p, uint16_t src, uint16_t dst, uint8_t proto, uint16_t dport)
{
	return nm_policy_http_covers(p, cur->pods[src].identity, cur->pods[dst].identity, proto,
				     dport);
}

struct judged {
	const struct nm_policy *p;
	uint32_t src, dst; /* identity ids */
	uint16_t dport;
	int idx;
	int heads;
};

static void
judge_head(void *arg, const struct nm_http_head *h)
{
	struct judged *j = arg;

	j->idx = nm_policy_head_eval(j->p, j->src, j->dst, j->dport, h);
	j->heads++;
}

/* Id of the rule that decides one request (0: default), parsed as the worker parses it. */
static uint32_t
request_decider(const struct nm_policy *p, uint16_t src, uint16_t dst, uint16_t dport,
		const char *request)
{
	static const struct nm_http_cb cb = {judge_head, NULL, NULL};
	struct nm_http_limits lim = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};
	static uint8_t head[NM_HTTP_HEAD_BYTES_DEFAULT];
	struct nm_http_parser parser;
	struct judged j = {
	    .p = p, .src = cur->pods[src].identity, .dst = cur->pods[dst].identity, .dport = dport};

	nm_http_parser_init(&parser, NM_HTTP_REQUEST, &lim, head, sizeof(head));
	cr_assert_eq(nm_http_parse(&parser, (const uint8_t *)request, strlen(request), &cb, &j),
		     NM_HTTP_MORE, "'%s' is not a request", request);
	cr_assert_eq(j.heads, 1, "'%s': %d heads", request, j.heads);
	return j.idx == NM_POLICY_DEFAULT ? 0 : p->rules[j.idx].id;
}

Test(policy_http, connection_setup_skips_http_denies_and_takes_http_allows)
{
	static const char *const texts[] = {
	    "allow from default/web to default/db proto tcp port 80 http method GET path "
	    "/api/*",							      /* 11 */
	    "deny from * to default/db proto tcp port 80 http path /admin/*", /* 12 */
	    "deny from prod/* to default/db proto tcp port 80",		      /* 13 */
	};
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile(texts, 3, NM_VERDICT_DENY, t);

	cr_expect_eq(p->n_http, 2);
	cr_expect_eq(decider(p, WEB, DB, IPPROTO_TCP, 80), 11, "an http allow lets it through");
	cr_expect(covers(p, WEB, DB, IPPROTO_TCP, 80));
	cr_expect_eq(decider(p, API, DB, IPPROTO_TCP, 80), 13, "an L4 deny still cuts it");
	cr_expect_eq(decider(p, WEB, DB, IPPROTO_TCP, 81), 0);
	cr_expect_not(covers(p, WEB, DB, IPPROTO_TCP, 81));
	cr_expect_not(covers(p, WEB, DB, IPPROTO_UDP, 80));
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_http, each_request_by_the_same_order)
{
	static const char *const texts[] = {
	    "allow from default/web to default/db proto tcp port 80 http method GET,HEAD "
	    "path "
	    "/api/v1/*",							    /* 11 */
	    "deny from * to default/db proto tcp port 80 http path /api/v1/secret", /* 12 */
	    "allow from default/web to default/db proto tcp port 80 http method POST path "
	    "/upload "
	    "host db.shop header x-env=prod",			      /* 13 */
	    "deny from * to default/db proto tcp http method DELETE", /* 14 */
	};
	static const struct {
		const char *what;
		const char *request;
		uint32_t want; /* deciding rule id, 0: the default (deny) */
	} cases[] = {
	    {"allowed GET", "GET /api/v1/items HTTP/1.1\r\nHost: db\r\n\r\n", 11},
	    {"HEAD too", "HEAD /api/v1/items HTTP/1.1\r\n\r\n", 11},
	    {"the prefix itself", "GET /api/v1/ HTTP/1.1\r\n\r\n", 11},
	    {"query is not the path", "GET /api/v1/x?a=/admin HTTP/1.1\r\n\r\n", 11},
	    {"POST not listed", "POST /api/v1/items HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0},
	    {"method is case-sensitive", "get /api/v1/items HTTP/1.1\r\n\r\n", 0},
	    {"outside the prefix", "GET /api/v2/items HTTP/1.1\r\n\r\n", 0},
	    {"prefix without its slash", "GET /api/v1 HTTP/1.1\r\n\r\n", 0},
	    {"path is case-sensitive", "GET /API/v1/items HTTP/1.1\r\n\r\n", 0},
	    {"deny beats the allow", "GET /api/v1/secret HTTP/1.1\r\n\r\n", 12},
	    {"exact deny: longer path not denied", "GET /api/v1/secrets HTTP/1.1\r\n\r\n", 11},
	    {"percent-encoded path is decoded", "GET /api/v1/%73ecret HTTP/1.1\r\n\r\n", 12},
	    {"dot segments are removed", "GET /api/v1/x/../secret HTTP/1.1\r\n\r\n", 12},
	    {"double slashes compressed", "GET /api//v1//secret HTTP/1.1\r\n\r\n", 12},
	    {"escape out of the prefix", "GET /api/v1/../../etc HTTP/1.1\r\n\r\n", 0},
	    {"absolute-form target", "GET http://db/api/v1/a HTTP/1.1\r\nHost: db\r\n\r\n", 11},
	    {"host, header and method",
	     "POST /upload HTTP/1.1\r\nHost: DB.Shop:80\r\nX-Env: prod\r\nContent-Length: "
	     "0\r\n\r\n",
	     13},
	    {"header value is exact",
	     "POST /upload HTTP/1.1\r\nHost: db.shop\r\nX-Env: Prod\r\nContent-Length: "
	     "0\r\n\r\n",
	     0},
	    {"header value trimmed",
	     "POST /upload HTTP/1.1\r\nHost: db.shop\r\nx-env:   prod  \r\nContent-Length: "
	     "0\r\n\r\n",
	     13},
	    {"header among several",
	     "POST /upload HTTP/1.1\r\nHost: db.shop\r\nX-Env: dev\r\nX-Env: "
	     "prod\r\nContent-Length: "
	     "0\r\n\r\n",
	     13},
	    {"no host header", "POST /upload HTTP/1.1\r\nX-Env: prod\r\nContent-Length: 0\r\n\r\n",
	     0},
	    {"another host", "POST /upload HTTP/1.1\r\nHost: db.shop.evil\r\nX-Env: prod\r\n\r\n",
	     0},
	    {"DELETE denied anywhere", "DELETE /api/v1/items HTTP/1.1\r\n\r\n", 14},
	};
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile(texts, 4, NM_VERDICT_DENY, t);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = request_decider(p, WEB, DB, 80, cases[i].request);
		cr_expect_eq(got, cases[i].want, "%s: rule %u decided, want %u", cases[i].what, got,
			     cases[i].want);
	}
	/* Another client: the allows do not match it, the denies still do. */
	cr_expect_eq(request_decider(p, API, DB, 80, "GET /api/v1/items HTTP/1.1\r\n\r\n"), 0);
	cr_expect_eq(request_decider(p, API, DB, 80, "GET /api/v1/secret HTTP/1.1\r\n\r\n"), 12);
	nm_policy_free(p);
	nm_pod_table_free(t);
}

Test(policy_http, l4_rules_judge_requests_with_http_denies)
{
	static const char *const texts[] = {
	    "allow from * to default/db proto tcp port 80",		/* 11 */
	    "deny from * to default/db proto tcp http method POST,PUT", /* 12 */
	};
	struct nm_pod_table *t = pods_up();
	struct nm_policy *p = compile(texts, 2, NM_VERDICT_DENY, t);

	cr_expect_eq(decider(p, WEB, DB, IPPROTO_TCP, 80), 11);
	cr_expect(covers(p, WEB, DB, IPPROTO_TCP, 80), "a deny clause covers it");
	cr_expect_eq(request_decider(p, WEB, DB, 80, "GET / HTTP/1.1\r\n\r\n"), 11);
	cr_expect_eq(request_decider(p, WEB, DB, 80, "PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
		     12);
	nm_policy_free(p);
	nm_pod_table_free(t);

	/* Default allow and only an http deny: the connection passes, its POSTs do not. */
	static const char *const deny_only[] = {"deny from * to * proto tcp http method POST"};
	t = pods_up();
	p = compile(deny_only, 1, NM_VERDICT_ALLOW, t);
	cr_expect_eq(decider(p, WEB, DB, IPPROTO_TCP, 80), 0);
	cr_expect(covers(p, WEB, DB, IPPROTO_TCP, 80));
	cr_expect_eq(request_decider(p, WEB, DB, 80, "GET / HTTP/1.1\r\n\r\n"), 0);
	cr_expect_eq(
	    request_decider(p, WEB, DB, 80, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 11);
	nm_policy_free(p);
	nm_pod_table_free(t);
}
