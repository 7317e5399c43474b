/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cycles of authorization by HTTP method and path, per request and per
 * answer, beside the L4 judgement a connection gets either way.
 *
 * What the worker does for each request on a connection an HTTP rule
 * covers (dataplane/http_authz.c): the request parser takes the bytes,
 * and at each head the request view is built (the target normalized, the
 * Host found) and nm_policy_request_eval walks the rules; the answer
 * counter parses the server's response. Here a kept-alive stream of the
 * same request (as wrk sends it) and of nginx's answer go through the
 * same functions in a loop, timed with rte_rdtsc; the policy is the one
 * of scripts/bench http plus an HTTP deny and an L4 rule, compiled
 * against two pods. Baseline in the same run: nm_policy_eval, the L4
 * judgement of a connection with the same rules.
 *
 * Usage: bench_authz [-n MILLION_REQUESTS] [-p FILE_PREFIX]
 * The last line is machine-readable: "RESULT key=value ...".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "bench_common.h"
#include "http.h"
#include "pod_table.h"
#include "policy_compile.h"
#include "policy_eval.h"
#include "rule.h"

#define ROUNDS 7 /* timed rounds per figure; the median is reported */

static const char request[] = "GET /api/v1/items?id=42 HTTP/1.1\r\nHost: 198.18.0.2\r\n"
			      "User-Agent: wrk\r\nAccept: */*\r\n\r\n";
static const char answer[] =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 00:00:00 GMT\r\n"
    "Content-Type: application/octet-stream\r\nContent-Length: 6\r\n"
    "Last-Modified: Mon, 07 Dec 2026 00:00:00 GMT\r\nConnection: keep-alive\r\n"
    "ETag: \"6b15f6b4-6\"\r\nAccept-Ranges: bytes\r\n\r\nitems\n";

static const char *const rules_text[] = {
    "deny from * to bench/web proto tcp port 80 http path /api/v1/admin/*",
    "allow from bench/client to bench/web proto tcp port 80 http method GET,HEAD path /api/v1/*",
    "allow from bench/client to bench/web proto tcp port 22",
};

/* The client's and the web pod's identities, once the policy is compiled. */
static uint32_t client_id, web_id;

struct judged {
	const struct nm_policy *p;
	uint64_t allowed;
	uint64_t heads;
};

static void
on_request(void *arg, const struct nm_http_head *h)
{
	struct judged *j = arg;
	int idx = nm_policy_head_eval(j->p, client_id, web_id, 80, h);

	j->allowed += idx != NM_POLICY_DEFAULT && j->p->rules[idx].action == NM_VERDICT_ALLOW;
	j->heads++;
}

static void
on_answer_end(void *arg)
{
	(*(uint64_t *)arg)++;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Cycles per request of parsing and judging n kept-alive requests; one round. */
static uint64_t
requests_round(const struct nm_policy *p, uint64_t n, struct judged *j)
{
	static const struct nm_http_cb cb = {on_request, NULL, NULL};
	static uint8_t head[NM_HTTP_HEAD_BYTES_DEFAULT];
	struct nm_http_limits lim = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};
	struct nm_http_parser parser;

	nm_http_parser_init(&parser, NM_HTTP_REQUEST, &lim, head, sizeof(head));
	j->p = p;
	uint64_t t0 = rte_rdtsc();
	for (uint64_t i = 0; i < n; i++)
		nm_http_parse(&parser, (const uint8_t *)request, sizeof(request) - 1, &cb, j);
	return (rte_rdtsc() - t0) / n;
}

/* Cycles per answer of counting n answers (the response parser); one round. */
static uint64_t
answers_round(uint64_t n, uint64_t *ended)
{
	static const struct nm_http_cb cb = {NULL, NULL, on_answer_end};
	static uint8_t head[4096];
	struct nm_http_limits lim = {NM_HTTP_HEAD_BYTES_DEFAULT, NM_HTTP_HEADER_COUNT_DEFAULT};
	struct nm_http_parser parser;
	struct nm_http_head get = {.buf = (const uint8_t *)request, .method = {0, 3}};

	nm_http_parser_init(&parser, NM_HTTP_RESPONSE, &lim, head, sizeof(head));
	uint64_t t0 = rte_rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		nm_http_response_expect(&parser, &get);
		nm_http_parse(&parser, (const uint8_t *)answer, sizeof(answer) - 1, &cb, ended);
	}
	return (rte_rdtsc() - t0) / n;
}

/* Cycles per connection of the L4 judgement; one round. */
static uint64_t
l4_round(const struct nm_policy *p, uint64_t n, uint64_t *hits)
{
	uint64_t t0 = rte_rdtsc();
	for (uint64_t i = 0; i < n; i++)
		*hits += nm_policy_eval(p, client_id, web_id, IPPROTO_TCP,
					(uint16_t)(80 + (i & 1))) >= 0;
	return (rte_rdtsc() - t0) / n;
}

static void
put_pod(struct nm_pod_table *t, uint16_t slot, const char *sa, uint32_t ip)
{
	struct nm_pod *pod = &t->pods[slot];
	static struct nm_pod_live lives[2];

	memset(pod, 0, sizeof(*pod));
	snprintf(pod->spec.name, sizeof(pod->spec.name), "%s", sa);
	snprintf(pod->spec.ns, sizeof(pod->spec.ns), "bench");
	snprintf(pod->spec.sa, sizeof(pod->spec.sa), "%s", sa);
	pod->spec.ip = htonl(ip);
	pod->id = 100u + slot;
	pod->live = &lives[slot];
}

int
main(int argc, char **argv)
{
	char prefix[64] = "", mem[] = "256", err[256];
	double mreq = 2.0;
	int c;

	while ((c = getopt(argc, argv, "n:p:h")) != -1) {
		if (c == 'n') {
			mreq = atof(optarg);
		} else if (c == 'p') {
			snprintf(prefix, sizeof(prefix), "%s", optarg);
		} else {
			fprintf(stderr, "usage: %s [-n MILLION_REQUESTS] [-p FILE_PREFIX]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (mreq <= 0 || mreq > 1000) {
		fprintf(stderr, "bench_authz: -n must be in (0, 1000]\n");
		return 2;
	}
	if (prefix[0] == '\0')
		snprintf(prefix, sizeof(prefix), "nmbenchz%d", (int)getpid());
	if (bench_eal_init("bench_authz", argv[0], mem, prefix) != 0)
		return 1;

	struct nm_rule rules[3];
	unsigned int n_rules = sizeof(rules_text) / sizeof(rules_text[0]);
	for (unsigned int i = 0; i < n_rules; i++) {
		if (nm_rule_parse(rules_text[i], &rules[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_authz: rule '%s': %s\n", rules_text[i], err);
			return 1;
		}
		rules[i].id = i + 1;
		rules[i].slot = (uint16_t)i;
	}
	struct nm_pod_table *t = nm_pod_table_clone(NULL, 1, 1);
	if (t == NULL) {
		fprintf(stderr, "bench_authz: out of memory for the pod table\n");
		return 1;
	}
	put_pod(t, 0, "client", 0xc6120001u);
	put_pod(t, 1, "web", 0xc6120002u);
	if (nm_pod_table_index(t, 1, 1) != 0) {
		fprintf(stderr, "bench_authz: indexing the pod table failed\n");
		return 1;
	}
	struct nm_policy *p = nm_policy_compile(rules, n_rules, NM_VERDICT_DENY, t, NULL);
	if (p == NULL) {
		fprintf(stderr, "bench_authz: nm_policy_compile failed\n");
		return 1;
	}
	client_id = t->pods[0].identity;
	web_id = t->pods[1].identity;

	uint64_t n = (uint64_t)(mreq * 1e6 / ROUNDS) + 1, req[ROUNDS], ans[ROUNDS], l4[ROUNDS];
	uint64_t ended = 0, hits = 0;
	struct judged j = {0};
	for (int r = 0; r < ROUNDS; r++) {
		req[r] = requests_round(p, n, &j);
		ans[r] = answers_round(n, &ended);
		l4[r] = l4_round(p, n, &hits);
	}
	qsort(req, ROUNDS, sizeof(req[0]), cmp_u64);
	qsort(ans, ROUNDS, sizeof(ans[0]), cmp_u64);
	qsort(l4, ROUNDS, sizeof(l4[0]), cmp_u64);
	int rc = j.heads == n * ROUNDS && j.allowed == j.heads && ended == n * ROUNDS ? 0 : 1;

	printf("bench_authz: %" PRIu64 " requests and answers per round, %d rounds (median), "
	       "%zu-byte request, %zu-byte answer, %u rules, TSC %.0f MHz\n",
	       n, ROUNDS, sizeof(request) - 1, sizeof(answer) - 1, n_rules,
	       (double)rte_get_tsc_hz() / 1e6);
	printf("  request parsed and judged: %" PRIu64 " cycles\n", req[ROUNDS / 2]);
	printf("  answer counted:            %" PRIu64 " cycles\n", ans[ROUNDS / 2]);
	printf("  baseline L4 judgement:     %" PRIu64 " cycles per connection\n", l4[ROUNDS / 2]);
	printf("  heads %" PRIu64 " (allowed %" PRIu64 "), answers %" PRIu64 ", L4 hits %" PRIu64
	       "\n",
	       j.heads, j.allowed, ended, hits);
	printf("RESULT request_cycles=%" PRIu64 " answer_cycles=%" PRIu64 " l4_cycles=%" PRIu64
	       " ok=%d\n",
	       req[ROUNDS / 2], ans[ROUNDS / 2], l4[ROUNDS / 2], rc == 0);
	nm_policy_free(p);
	nm_pod_table_free(t);
	rte_eal_cleanup();
	return rc;
}
