/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy types. A rule is what the operator writes
 * ("allow from default/web to default/db proto tcp port 5432"), parsed into
 * struct nm_rule by ctrl/rule.c. The control thread compiles the rule list
 * against the current pods' security identities into struct nm_policy
 * (nodemesh/policy_table-t.h) that workers read, published with the pod
 * table.
 */
#ifndef NM_POLICY_T_H
#define NM_POLICY_T_H

#include <stdint.h>

#include "nodemesh/pod-t.h"

#define NM_MAX_RULES	  16384 /* rule counter slots are uint16_t */
#define NM_RULE_MAX_PORTS 16	/* port items in one rule: "80,443,8000-8080" */
#define NM_SEL_MAX_LABELS 8
#define NM_RULE_TEXT_LEN  512

#define NM_HTTP_RULE_METHODS	8   /* methods in one "method GET,HEAD,..." */
#define NM_HTTP_RULE_METHOD_LEN 16  /* bytes of one method token, NUL included */
#define NM_HTTP_RULE_PATH_LEN	256 /* bytes of a path glob, NUL included */
#define NM_HTTP_RULE_HOST_LEN	128 /* bytes of a host, NUL included */
#define NM_HTTP_RULE_HEADERS	4   /* "header NAME=VALUE" items in one rule */
#define NM_HTTP_RULE_NAME_LEN	64  /* bytes of a header name, NUL included */
#define NM_HTTP_RULE_VALUE_LEN	128 /* bytes of a header value, NUL included */

enum nm_verdict {
	NM_VERDICT_DENY = 0,
	NM_VERDICT_ALLOW = 1,
};

enum nm_sel_kind {
	NM_SEL_ANY = 0, /* "*" */
	NM_SEL_NS_SA,	/* "ns/sa" */
	NM_SEL_NS,	/* "ns/" followed by "*" */
	NM_SEL_LABELS,	/* "app=web,tier=front": every label must be present */
};

struct nm_label {
	char key[NM_NAME_LEN];
	char val[NM_NAME_LEN];
};

struct nm_selector {
	uint8_t kind; /* enum nm_sel_kind */
	uint8_t n_labels;
	char ns[NM_NAME_LEN];
	char sa[NM_NAME_LEN];
	struct nm_label labels[NM_SEL_MAX_LABELS];
};

struct nm_port_range {
	uint16_t lo; /* inclusive, host order */
	uint16_t hi;
};

/*
 * A rule's HTTP clause ("http method GET,HEAD path /api/v1/... host h
 * header x-env=prod"): every item given must match a request. What is
 * compared, and how, is README "Policy, connection tracking and rate
 * limits"; ctrl/rule.c checks and normalises it (host and header names
 * lowercased).
 */
struct nm_rule_http {
	uint8_t n_methods; /* 0: any method */
	uint8_t n_headers;
	uint8_t path_prefix; /* the path ended in '*': a prefix match of path[] */
	char methods[NM_HTTP_RULE_METHODS][NM_HTTP_RULE_METHOD_LEN]; /* case-sensitive tokens */
	char path[NM_HTTP_RULE_PATH_LEN]; /* without the '*'; empty: any path */
	char host[NM_HTTP_RULE_HOST_LEN]; /* lowercase, no port; empty: any host */
	struct {
		char name[NM_HTTP_RULE_NAME_LEN]; /* lowercase */
		char value[NM_HTTP_RULE_VALUE_LEN];
	} headers[NM_HTTP_RULE_HEADERS];
};

struct nm_rule {
	uint32_t id;	  /* assigned when the rule enters the list; 0 before */
	uint16_t slot;	  /* counter slot, 0..NM_MAX_RULES-1, assigned with the id */
	uint8_t action;	  /* enum nm_verdict */
	uint8_t proto;	  /* 0: any, else IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMP */
	uint8_t inspect;  /* 1: payload inspection on (default), 0: off */
	uint8_t n_ports;  /* 0: any port */
	uint8_t has_http; /* 1: http holds a clause every request is judged by */
	struct nm_port_range ports[NM_RULE_MAX_PORTS];
	uint64_t rate_pps; /* packets per second per flow and direction; 0: unlimited */
	uint64_t rate_bps; /* bits per second per flow and direction; 0: unlimited */
	uint64_t burst; /* packets the buckets hold (bps bucket: burst x 1500 bytes); 0: default */
	struct nm_selector from;
	struct nm_selector to;
	struct nm_rule_http http;
	char text[NM_RULE_TEXT_LEN]; /* the rule as written, normalised spacing */
};

#endif
