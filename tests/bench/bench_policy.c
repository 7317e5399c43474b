/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy at cluster sizes (issue 19): compile time, memory and the cost of
 * judging a new flow, for R rules over I security identities.
 *
 * Identities: I distinct (namespace, service account, labels) triples over
 * 100 namespaces, each with labels app=a<k> (I/10 apps) and tier=t<k % 4>.
 * Rules, in turn: "allow from NS/SA to app=A proto tcp port P", "allow from NS/(any) to
 * app=A", "deny from app=A,tier=T to NS/SA proto udp port P", "allow from * to app=A
 * proto tcp port P", over random names, so every rule names a few
 * identities and the '*' lists are not empty.
 *
 *   compile  nm_policy_build over the interned identities, best of 3.
 *            Baseline: the same rules tested against every identity with
 *            nm_selector_match_identity (what a compiler without indexes
 *            does: rules x identities tests), timed on min(I, 1000)
 *            identities and scaled to I.
 *   memory   bytes of the compiled policy (rte_malloc) / rule, and the
 *            (identity, rule) entries it holds.
 *   verdict  nm_policy_eval for 1,000,000 random identity pairs and ports
 *            (what a worker pays once per new flow), ns per call; baseline:
 *            a first-match walk over every rule that tests proto and port
 *            only (the floor of any per-rule scan).
 *
 * Usage: bench_policy [-r RULES,...] [-i IDENTITIES,...] [-p FILE_PREFIX]
 * One "RESULT rules=R ids=I ..." line per size.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "bench_common.h"
#include "idreg.h"
#include "policy_compile.h"
#include "policy_eval.h"
#include "rule.h"

#define N_NS	  100
#define N_EVALS	  1000000
#define MAX_SIZES 8

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
identity_spec(uint32_t k, uint32_t n_ids, struct nm_pod_spec *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->ns, sizeof(s->ns), "ns%u", k % N_NS);
	snprintf(s->sa, sizeof(s->sa), "sa%u", k / N_NS);
	snprintf(s->labels, sizeof(s->labels), "app=a%u,tier=t%u", k % (n_ids / 10 + 1), k % 4);
}

static int
make_rules(struct nm_rule *rules, uint32_t n, uint32_t n_ids)
{
	char text[256], err[256];

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = rnd(n_ids), app = rnd(n_ids / 10 + 1), port = 1 + rnd(60000);
		switch (i % 4) {
		case 0:
			snprintf(text, sizeof(text),
				 "allow from ns%u/sa%u to app=a%u proto tcp port %u", k % N_NS,
				 k / N_NS, app, port);
			break;
		case 1:
			snprintf(text, sizeof(text), "allow from ns%u/* to app=a%u", k % N_NS, app);
			break;
		case 2:
			snprintf(text, sizeof(text),
				 "deny from app=a%u,tier=t%u to ns%u/sa%u proto udp port %u", app,
				 k % 4, k % N_NS, k / N_NS, port);
			break;
		default:
			snprintf(text, sizeof(text), "allow from * to app=a%u proto tcp port %u",
				 app, port);
			break;
		}
		if (nm_rule_parse(text, &rules[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_policy: '%s': %s\n", text, err);
			return -1;
		}
		rules[i].id = i + 1;
		rules[i].slot = (uint16_t)i;
	}
	return 0;
}

/* The naive compiler's work: every rule's two selectors against every identity. */
static double
naive_seconds(const struct nm_rule *rules, uint32_t n, const struct nm_idreg *reg, uint32_t sample)
{
	volatile uint64_t hits = 0;
	double t0 = now_s();

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t id = 1; id <= sample && id < reg->n; id++) {
			const struct nm_idreg_entry *e = &reg->e[id];
			hits += nm_selector_match_identity(&rules[i].from, e->ns, e->sa, e->labels);
			hits += nm_selector_match_identity(&rules[i].to, e->ns, e->sa, e->labels);
		}
	return now_s() - t0;
}

/* A first-match walk testing proto and port of every rule: the floor of a per-rule scan. */
static int
walk_all(const struct nm_policy *p, uint8_t proto, uint16_t dport)
{
	for (uint32_t i = 0; i < p->n_rules; i++)
		if (nm_policy_rule_l4(&p->rules[i], proto, dport) && p->rules[i].id == 0)
			return (int)i; /* ids start at 1: never, but the compiler cannot know */
	return NM_POLICY_DEFAULT;
}

static int
one_size(uint32_t n_rules, uint32_t n_ids)
{
	struct nm_idreg reg = {0};
	struct nm_pod_spec spec;
	struct nm_rule *rules = calloc(n_rules, sizeof(*rules));

	if (rules == NULL)
		return -1;
	nm_idreg_begin(&reg);
	for (uint32_t k = 0; k < n_ids; k++) {
		identity_spec(k, n_ids, &spec);
		if (nm_idreg_intern(&reg, &spec) == NM_IDREG_FULL)
			return -1;
	}
	nm_idreg_end(&reg);
	if (make_rules(rules, n_rules, n_ids) < 0)
		return -1;

	double best = 1e9;
	struct nm_policy *p = NULL;
	for (int rep = 0; rep < 3; rep++) {
		nm_policy_free(p);
		double t0 = now_s();
		p = nm_policy_build(rules, n_rules, NM_VERDICT_DENY, &reg);
		double dt = now_s() - t0;
		if (p == NULL) {
			perror("bench_policy: nm_policy_build");
			return -1;
		}
		best = dt < best ? dt : best;
	}
	uint32_t sample = n_ids < 1000 ? n_ids : 1000;
	double naive = naive_seconds(rules, n_rules, &reg, sample) * n_ids / sample;
	size_t entries = p->from.off[p->n_ids] + p->to.off[p->n_ids] + p->from.n_any + p->to.n_any;
	size_t bytes =
	    sizeof(*p) + n_rules * sizeof(p->rules[0]) + 4 * (entries + 2 * ((size_t)p->n_ids + 1));

	volatile int sink = 0;
	double t0 = now_s();
	for (uint32_t k = 0; k < N_EVALS; k++)
		sink += nm_policy_eval(p, 1 + rnd(n_ids), 1 + rnd(n_ids), IPPROTO_TCP,
				       (uint16_t)(1 + rnd(60000)));
	double eval_ns = (now_s() - t0) * 1e9 / N_EVALS;
	t0 = now_s();
	for (uint32_t k = 0; k < N_EVALS / 10; k++)
		sink += walk_all(p, IPPROTO_TCP, (uint16_t)(1 + rnd(60000)));
	double walk_ns = (now_s() - t0) * 1e9 / (N_EVALS / 10);

	printf("RESULT rules=%u ids=%u compile_ms=%.2f naive_ms=%.1f bytes_per_rule=%.0f "
	       "entries=%zu eval_ns=%.1f walk_ns=%.1f\n",
	       n_rules, n_ids, best * 1e3, naive * 1e3, (double)bytes / n_rules, entries, eval_ns,
	       walk_ns);
	nm_policy_free(p);
	nm_idreg_free(&reg);
	free(rules);
	return 0;
}

static unsigned int
parse_list(char *arg, uint32_t *out)
{
	unsigned int n = 0;

	for (char *save = NULL, *t = strtok_r(arg, ",", &save); t != NULL && n < MAX_SIZES;
	     t = strtok_r(NULL, ",", &save))
		out[n++] = (uint32_t)strtoul(t, NULL, 10);
	return n;
}

int
main(int argc, char **argv)
{
	char rules_arg[64] = "1000,10000", ids_arg[64] = "1000,100000";
	char prefix[64] = "nmbpol", mem[] = "1024";
	uint32_t r[MAX_SIZES], ids[MAX_SIZES];
	int opt;

	while ((opt = getopt(argc, argv, "r:i:p:")) != -1) {
		if (opt == 'r')
			snprintf(rules_arg, sizeof(rules_arg), "%s", optarg);
		else if (opt == 'i')
			snprintf(ids_arg, sizeof(ids_arg), "%s", optarg);
		else if (opt == 'p')
			snprintf(prefix, sizeof(prefix), "%s", optarg);
		else {
			fprintf(stderr,
				"usage: bench_policy [-r RULES,...] [-i IDS,...] [-p PREFIX]\n");
			return 2;
		}
	}
	unsigned int nr = parse_list(rules_arg, r), ni = parse_list(ids_arg, ids);
	if (bench_eal_init("bench_policy", argv[0], mem, prefix) < 0)
		return 1;
	for (unsigned int a = 0; a < nr; a++)
		for (unsigned int b = 0; b < ni; b++)
			if (r[a] == 0 || r[a] > NM_MAX_RULES || ids[b] < 10 ||
			    one_size(r[a], ids[b]) < 0) {
				fprintf(stderr, "bench_policy: size %u rules x %u ids failed\n",
					r[a], ids[b]);
				return 1;
			}
	rte_eal_cleanup();
	return 0;
}
