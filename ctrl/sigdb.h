/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hyperscan databases compiled from signature rules (ctrl/sigdb.c; the scan half is
 * dataplane/sig_scan.c).
 *
 * Two databases: a streaming one for TCP (payload in sequence order per
 * flow and direction) and a block one for UDP, ICMP and the first packet
 * of anything else. A rule with several content/pcre items becomes quiet
 * sub-expressions plus one Hyperscan logical combination that reports
 * only when all of them (and none of its negated contents) matched; except
 * in the streaming database, where a rule with several patterns and no
 * negated content is decided by sigdb itself: each pattern reports on its
 * own and a per-stream bitmap reports the rule in the segment whose match
 * completes it (Hyperscan 5.4 would only evaluate the combination at a
 * later sub-expression match or at close; see ctrl/sigdb.c).
 * content offset/depth become Hyperscan extended parameters
 * (min_offset/max_offset of the match end), counted from the start of the
 * packet payload (block) or of the direction's byte stream (stream).
 *
 * The compiled database is immutable and shared by every worker; each
 * worker allocates its own scratch (nm_sigdb_scratch_alloc) at start and
 * after a reload, as Suricata's util-mpm-hs does.
 */
#ifndef NM_SIGDB_H
#define NM_SIGDB_H

#include <stddef.h>

#include <hs/hs.h>

#include "nodemesh/sigdb-t.h"
#include "sig.h"

/*
 * Compile rules[0..n). Returns NULL with err naming the rule (sid, file
 * line) and Hyperscan's reason when any rule cannot be compiled: all or
 * nothing.
 */
struct nm_sigdb *nm_sigdb_compile(const struct nm_sig_rule *rules, unsigned int n, char *err,
				  size_t errlen);
void nm_sigdb_free(struct nm_sigdb *db);

/* Scratch for one worker, big enough for both databases. 0 or -ENOMEM. */
int nm_sigdb_scratch_alloc(const struct nm_sigdb *db, hs_scratch_t **scratch);

#endif
