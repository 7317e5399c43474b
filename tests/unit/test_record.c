/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow record lines (ctrl/node_flow.c): the line written directly must be
 * byte for byte what jansson dumps of the record object, whatever the
 * record holds (identities known and unknown, characters to escape, IPv6,
 * signature verdicts, whole-second durations, large counters).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "node_priv.h"
#include "nodemesh/flow-t.h"

static struct nm_node *
fake_node(void)
{
	struct nm_node *node = calloc(1, sizeof(*node));

	cr_assert_not_null(node);
	snprintf(node->cfg.node_name, sizeof(node->cfg.node_name), "node-a");
	node->dp.tsc_hz = 2600000000ull;
	node->tsc0 = 1000;
	node->wall_ns0 = 1796000000000000000ull; /* 2026-11-30 */
	node->pod_history = calloc(NM_POD_HISTORY, sizeof(*node->pod_history));
	node->pod_history_id = calloc(NM_POD_HISTORY, sizeof(*node->pod_history_id));
	cr_assert(node->pod_history && node->pod_history_id);
	return node;
}

static void
pod(struct nm_node *node, uint32_t id, const char *name, const char *sa, const char *image)
{
	struct nm_pod_spec *p = &node->pod_history[id % NM_POD_HISTORY];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->ns, sizeof(p->ns), "shop");
	snprintf(p->sa, sizeof(p->sa), "%s", sa);
	snprintf(p->labels, sizeof(p->labels), "app=%s,tier=front", name);
	snprintf(p->image, sizeof(p->image), "%s", image);
	node->pod_history_id[id % NM_POD_HISTORY] = id;
}

static void
same(const struct nm_node *node, const struct nm_flow_record *r)
{
	json_t *o = nm_flow_record_json(node, r);
	char *want = json_dumps(o, JSON_COMPACT);
	char line[4096];
	size_t n = nm_flow_record_line(node, r, line, sizeof(line));

	cr_assert_gt(n, 0);
	line[n] = '\0';
	cr_expect_str_eq(line, want);
	/* Too small a buffer gives 0, never a cut line. */
	cr_expect_eq(nm_flow_record_line(node, r, line, n - 1), 0);
	free(want);
	json_decref(o);
}

static struct nm_flow_record
record(void)
{
	struct nm_flow_record r;

	memset(&r, 0, sizeof(r));
	r.key.addr_lo[10] = r.key.addr_lo[11] = 0xff;
	r.key.addr_lo[12] = 198, r.key.addr_lo[13] = 18, r.key.addr_lo[15] = 11;
	r.key.addr_hi[10] = r.key.addr_hi[11] = 0xff;
	r.key.addr_hi[12] = 198, r.key.addr_hi[13] = 18, r.key.addr_hi[15] = 10;
	r.key.port_lo = 43952;
	r.key.port_hi = 80;
	r.key.proto = IPPROTO_TCP;
	r.init_pod_id = 7;
	r.resp_pod_id = 8;
	r.first_tsc = 5000000000ull;
	r.last_tsc = 5530400000ull;
	r.pkts[0] = 6, r.pkts[1] = 4;
	r.bytes[0] = 476, r.bytes[1] = 1342;
	r.rule_id = 2;
	r.init_is_lo = 1;
	r.verdict = NM_VERDICT_ALLOW;
	r.state = NM_FLOW_TCP_CLOSED;
	r.end = 1;
	r.sig = NM_FLOW_SIG_INSPECT;
	return r;
}

Test(record_line, as_jansson_dumps_it)
{
	struct nm_node *node = fake_node();
	struct nm_flow_record r = record();

	pod(node, 7, "api", "api", "example/api:2.3");
	pod(node, 8, "web", "", "reg.example/we\"b\\x:1"); /* identity unknown; escapes */
	same(node, &r);

	r.sig = NM_FLOW_SIG_PASS;
	r.verdict = NM_VERDICT_DENY;
	r.init_is_lo = 0;	  /* the initiator is the higher address */
	r.last_tsc = r.first_tsc; /* duration 0: "0.0" */
	r.pkts[0] = UINT64_MAX / 3;
	r.rate_drops = 12345678901ull;
	r.end = 9; /* unknown end: "?" */
	same(node, &r);

	r.sig = NM_FLOW_SIG_BLOCKED;
	r.last_tsc = r.first_tsc + 2 * node->dp.tsc_hz; /* exactly 2 s: "2.0" */
	r.init_pod_id = 99;				/* not a pod of ours: address only */
	same(node, &r);

	memset(r.key.addr_lo, 0, 16);
	r.key.addr_lo[0] = 0xfd, r.key.addr_lo[15] = 1;
	memset(r.key.addr_hi, 0, 16);
	r.key.addr_hi[0] = 0xfd, r.key.addr_hi[15] = 2;
	r.key.proto = IPPROTO_ICMPV6;
	same(node, &r);
	free(node->pod_history);
	free(node->pod_history_id);
	free(node);
}
