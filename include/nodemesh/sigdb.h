/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hyperscan databases compiled from signature rules (ctrl/sigdb.c).
 *
 * Two databases: a streaming one for TCP (payload in sequence order per
 * flow and direction) and a block one for UDP, ICMP and the first packet
 * of anything else. A rule with several content/pcre items becomes quiet
 * sub-expressions plus one Hyperscan logical combination that reports
 * only when all of them (and none of its negated contents) matched.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "nodemesh/sig-t.h"

/* What a worker needs of a rule after Hyperscan reports it. */
struct nm_sigdb_rule {
	uint32_t sid;
	uint32_t rev;
	uint8_t action;   /* enum nm_sig_action */
	uint8_t proto;    /* enum nm_sig_proto */
	uint8_t flow;     /* enum nm_sig_flow_flags */
	bool bidirectional;
	struct nm_sig_addrs src, dst;
	struct nm_sig_ports sport, dport;
	char msg[NM_SIG_MSG_LEN];
	char classtype[NM_SIG_CLASSTYPE_LEN];
};

struct nm_sigdb {
	hs_database_t *stream; /* TCP and ip rules; NULL when there are none */
	hs_database_t *block;  /* UDP, ICMP and ip rules; NULL when there are none */
	unsigned int n_rules;
	struct nm_sigdb_rule *rules; /* by rule index = Hyperscan report id */
	double compile_ms;           /* wall time of both compilations */
	size_t stream_state_bytes;   /* hs_stream_size of the stream database */
};

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

/* Called once per matching rule (rule index into db->rules); return 0 to go on. */
typedef int (*nm_sigdb_hit_fn)(void *ctx, unsigned int rule);

/* Scan one block (UDP/ICMP payload). Returns 0 or -EIO. */
int nm_sigdb_scan_block(const struct nm_sigdb *db, hs_scratch_t *scratch, const uint8_t *data,
			size_t len, nm_sigdb_hit_fn fn, void *ctx);

/* Streams: one per TCP flow direction. open returns NULL on allocation failure. */
hs_stream_t *nm_sigdb_stream_open(const struct nm_sigdb *db);
int nm_sigdb_stream_scan(const struct nm_sigdb *db, hs_stream_t *st, hs_scratch_t *scratch,
			 const uint8_t *data, size_t len, nm_sigdb_hit_fn fn, void *ctx);
/* Close (reporting end-of-stream matches such as combinations with negation). */
int nm_sigdb_stream_close(const struct nm_sigdb *db, hs_stream_t *st, hs_scratch_t *scratch,
			  nm_sigdb_hit_fn fn, void *ctx);

#endif
