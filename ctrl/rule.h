/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy rule parser and selector matching (control thread).
 *
 *   rule     := ("allow" | "deny") "from" SEL "to" SEL option*
 *   SEL      := "*" | NS "/" SA | NS "/" "*" | KEY "=" VALUE ("," KEY "=" VALUE)*
 *   option   := "proto" ("tcp" | "udp" | "icmp" | "any")
 *             | "port" ITEM ("," ITEM)*          ITEM := N | N "-" M   (tcp/udp only)
 *             | "rate" N ("pps" | "bps" | "kbps" | "mbps" | "gbps")   (once per kind)
 *             | "burst" N                          (packets; needs a rate)
 *             | "inspect" ("on" | "off")   (default on: signature matching)
 *   rule     := ... ["http" item+]              (last: the clause ends the rule; proto tcp)
 *   item     := "method" TOKEN ("," TOKEN)*   (case-sensitive, up to 8)
 *             | "path" "/"...["*"]            (decoded path without query; '*' at the end:
 *                                               prefix, else exact)
 *             | "host" NAME                     (case-insensitive, compared without port)
 *             | "header" NAME "=" VALUE         (name any case, value exact; up to 4)
 *
 * A unit may also stand as its own word ("rate 10 mbps"). Each option may
 * appear once (rate once as pps and once as a bit rate).
 */
#ifndef NM_RULE_H
#define NM_RULE_H

#include <stdbool.h>
#include <stddef.h>

#include "nodemesh/policy-t.h"
#include "nodemesh/pod-t.h"

/* Parse one rule. Returns 0 or -EINVAL with err saying which word is wrong and why. */
int nm_rule_parse(const char *text, struct nm_rule *rule, char *err, size_t errlen);

/*
 * Parse a rules file: one rule per line, blank lines and '#' comments
 * ignored. All or nothing: returns the number of rules, or -errno with err
 * holding "FILE:LINE: reason" for the first bad line.
 */
int nm_rule_file_parse(const char *path, struct nm_rule *rules, unsigned int max, char *err,
		       size_t errlen);

/* Does the pod (identity and "k=v,..." labels) match the selector? */
bool nm_selector_match(const struct nm_selector *sel, const struct nm_pod_spec *pod);
/* The same, on an identity's fields (ctrl/idreg.h). */
bool nm_selector_match_identity(const struct nm_selector *sel, const char *ns, const char *sa,
				const char *labels);

#endif
