/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy compilation (control thread): the rule list resolved against the
 * security identities of the current pods into the form workers evaluate
 * (nodemesh/policy_table-t.h).
 */
#ifndef NM_POLICY_COMPILE_H
#define NM_POLICY_COMPILE_H

#include <stdbool.h>
#include <stddef.h>

#include "nodemesh/policy_table-t.h"
#include "rule.h"

struct nm_pod_table;
struct nm_idreg;

/*
 * Compile rules[0..n) against the pods of tbl: each present pod is given
 * its identity id from reg (NULL: ids of this compilation's own), then the
 * selectors are resolved over reg's live identities. Returns NULL with errno
 * set: EINVAL for a rate the meter library refuses, ENOSPC when reg is out
 * of identity ids, ENOMEM.
 */
struct nm_policy *nm_policy_compile(const struct nm_rule *rules, unsigned int n,
				    uint8_t default_action, struct nm_pod_table *tbl,
				    struct nm_idreg *reg);
/*
 * The same against the identities reg's last round interned (no table):
 * what nm_policy_compile does once the pods have their ids.
 */
struct nm_policy *nm_policy_build(const struct nm_rule *rules, unsigned int n,
				  uint8_t default_action, const struct nm_idreg *reg);
void nm_policy_free(struct nm_policy *p);

/*
 * Compile rules against tbl's pods (whose index is final) and make the
 * result tbl's policy, replacing any it had. 0, or -errno with err set.
 */
int nm_policy_attach(struct nm_pod_table *tbl, const struct nm_rule *rules, unsigned int n,
		     bool default_allow, struct nm_idreg *reg, char *err, size_t errlen);

#endif
