/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the signature rule parser (ctrl/sigrule.c): rule
 * sets are third-party text, so arbitrary bytes must give either an error
 * message and nothing allocated, or a rule that keeps the promises sigdb.c
 * relies on: at least one pattern, each within NM_SIG_MAX_PATTERN bytes,
 * pcre bodies NUL-terminated, depth and within never shorter than their
 * content, relative keywords only where sigexpr.c can chain them, port
 * ranges ordered, prefix lengths at most 32 with host bits clear, a
 * threshold's count and seconds at least 1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_sigrule: %s:%d: check failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_addrs(const struct nm_sig_addrs *a)
{
	CHECK(a->n <= NM_SIG_MAX_ADDRS);
	CHECK(a->n > 0 || !a->negated); /* !any is refused */
	for (unsigned int i = 0; i < a->n; i++) {
		const struct nm_sig_cidr *c = &a->items[i];
		CHECK(c->len <= 32);
		CHECK(c->len == 32 || (c->addr & (UINT32_MAX >> c->len)) == 0);
	}
}

static void
check_ports(const struct nm_sig_ports *p)
{
	CHECK(p->n <= NM_SIG_MAX_PORTS);
	CHECK(p->n > 0 || !p->negated);
	for (unsigned int i = 0; i < p->n; i++)
		CHECK(p->items[i].lo <= p->items[i].hi);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nm_sig_rule rule; /* 5 KiB */
	char *text = malloc(size + 1);
	char err[512];
	int rc;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	err[0] = '\0';
	rc = nm_sig_rule_parse(text, &rule, err, sizeof(err));
	free(text);
	text = NULL;
	if (rc != 0) {
		CHECK(rc == -EINVAL || rc == -ENOMEM);
		CHECK(err[0] != '\0');
		CHECK(rule.n_patterns == 0); /* nothing left to free */
		return 0;
	}

	CHECK(rule.sid > 0);
	CHECK(rule.action <= NM_SIG_PASS);
	CHECK(rule.proto <= NM_SIG_PROTO_HTTP);
	CHECK(rule.flow <=
	      (NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_TO_CLIENT | NM_SIG_FLOW_ESTABLISHED));
	CHECK((rule.flow & (NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_TO_CLIENT)) !=
	      (NM_SIG_FLOW_TO_SERVER | NM_SIG_FLOW_TO_CLIENT));
	CHECK(memchr(rule.msg, '\0', sizeof(rule.msg)) != NULL);
	CHECK(memchr(rule.classtype, '\0', sizeof(rule.classtype)) != NULL);
	CHECK(rule.priority <= 255);
	check_addrs(&rule.src);
	check_addrs(&rule.dst);
	check_ports(&rule.sport);
	check_ports(&rule.dport);
	CHECK(rule.proto == NM_SIG_PROTO_TCP || rule.proto == NM_SIG_PROTO_UDP ||
	      rule.proto == NM_SIG_PROTO_HTTP || (rule.sport.n == 0 && rule.dport.n == 0));
	/* An http rule looks only in HTTP buffers, any other rule only at the payload. */
	for (unsigned int i = 0; i < rule.n_patterns; i++) {
		CHECK(rule.patterns[i].buffer < NM_SIG_BUF_MAX);
		CHECK((rule.proto == NM_SIG_PROTO_HTTP) ==
		      (rule.patterns[i].buffer != NM_SIG_BUF_STREAM));
	}
	CHECK(rule.proto != NM_SIG_PROTO_HTTP || rule.dsize_min == -1);
	/* threshold / detection_filter: what dataplane/sig_thresh.c counts with. */
	CHECK(rule.thresh.type <= NM_SIG_THRESH_DETECTION);
	CHECK(rule.thresh.track <= NM_SIG_TRACK_BOTH);
	CHECK(rule.thresh.type == NM_SIG_THRESH_NONE ||
	      (rule.thresh.count >= 1 && rule.thresh.seconds >= 1));

	CHECK(rule.n_patterns >= 1 && rule.n_patterns <= NM_SIG_MAX_PATTERNS);
	CHECK((rule.dsize_min == -1 && rule.dsize_max == -1) ||
	      (rule.dsize_min >= 1 && rule.dsize_min <= rule.dsize_max));
	bool matches_bytes = false;
	for (unsigned int i = 0; i < rule.n_patterns; i++) {
		const struct nm_sig_pattern *p = &rule.patterns[i];
		if (p->kind == NM_SIG_ISDATAAT) {
			CHECK(p->data == NULL && p->len == 0);
			CHECK(p->offset >= 0 && p->offset <= 65535);
			CHECK(!p->relative || !p->negated || p->offset > 0);
			continue;
		}
		matches_bytes = true;
		CHECK(p->data != NULL);
		CHECK(p->len >= 1 && p->len <= NM_SIG_MAX_PATTERN);
		CHECK(p->data[p->len] == '\0');
		if (p->kind == NM_SIG_PCRE) {
			CHECK(strlen((const char *)p->data) == p->len);
			CHECK(p->offset == -1 && p->depth == -1 && !p->negated);
			continue;
		}
		CHECK(p->kind == NM_SIG_CONTENT);
		CHECK(!p->dotall && !p->multiline && !p->extended);
		CHECK(p->offset >= -1 && p->offset <= 65535);
		CHECK(p->depth == -1 || (p->depth >= p->len && p->depth <= 65535));
		CHECK(!p->negated || (p->offset == -1 && p->depth == -1));
		/* Relative keywords: never negative, never with offset/depth or on a negation. */
		CHECK(!p->has_distance || (p->distance >= 0 && p->distance <= 65535));
		CHECK(!p->has_within || (p->within >= p->len && p->within <= 65535));
		CHECK(!(p->has_distance || p->has_within) ||
		      (p->offset == -1 && p->depth == -1 && !p->negated && i > 0));
		CHECK(!p->startswith || (p->offset == -1 && p->depth == -1 && !p->has_distance &&
					 !p->has_within && !p->negated));
		CHECK(!p->endswith || !p->negated);
	}
	CHECK(matches_bytes); /* a content or a pcre: isdataat alone matches nothing */

	nm_sig_rule_clear(&rule);
	CHECK(rule.n_patterns == 0);
	return 0;
}
