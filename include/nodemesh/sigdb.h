/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hyperscan databases compiled from signature rules (ctrl/sigdb.c).
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "nodemesh/sig-t.h"

/* What a worker needs of a rule after Hyperscan reports it. */
struct nm_sigdb_rule {
	uint32_t sid;
	uint32_t rev;
	uint32_t priority; /* 0 when not given */
	uint8_t action;	   /* enum nm_sig_action */
	uint8_t proto;	   /* enum nm_sig_proto */
	uint8_t flow;	   /* enum nm_sig_flow_flags */
	bool bidirectional;
	struct nm_sig_addrs src, dst;
	struct nm_sig_ports sport, dport;
	char msg[NM_SIG_MSG_LEN];
	char classtype[NM_SIG_CLASSTYPE_LEN];
};

/*
 * A reporting sub-pattern of a multi-pattern stream rule: Hyperscan id
 * n_rules + i is stream_subs[i] (entries with all == 0 are not such ids).
 */
struct nm_sigdb_sub {
	uint32_t rule; /* rule index */
	uint32_t slot; /* index of the rule's bitmap in nm_sigdb_stream.seen */
	uint16_t bit;  /* this pattern's bit */
	uint16_t all;  /* every pattern's bit: the rule is complete */
};

struct nm_sigdb {
	hs_database_t *stream; /* TCP and ip rules; NULL when there are none */
	hs_database_t *block;  /* UDP, ICMP and ip rules; NULL when there are none */
	unsigned int n_rules;
	struct nm_sigdb_rule *rules; /* by rule index = Hyperscan report id */
	double compile_ms;	     /* wall time of both compilations */
	/*
	 * Per stream: hs_stream_size of the stream database plus the
	 * nm_sigdb_stream handle and its bitmaps (stream_seen_bytes).
	 */
	size_t stream_state_bytes;
	size_t stream_seen_bytes;    /* handle + bitmaps, included above */
	unsigned int n_stream_multi; /* multi-pattern stream rules = bitmaps */
	unsigned int n_stream_subs;  /* entries of stream_subs */
	struct nm_sigdb_sub *stream_subs;
};

/*
 * One TCP flow direction: the Hyperscan stream and one 16-bit bitmap per
 * multi-pattern stream rule (NM_SIG_MAX_PATTERNS <= 16) of the patterns
 * matched so far. Allocated whole at open; scanning allocates nothing.
 */
struct nm_sigdb_stream {
	hs_stream_t *hs;
	uint16_t seen[];
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

/*
 * Streams: one per TCP flow direction. open returns NULL on allocation
 * failure (errno ENOMEM) or when there is no stream database (ENOENT).
 * A rule is reported at most once per stream.
 */
struct nm_sigdb_stream *nm_sigdb_stream_open(const struct nm_sigdb *db);
int nm_sigdb_stream_scan(const struct nm_sigdb *db, struct nm_sigdb_stream *st,
			 hs_scratch_t *scratch, const uint8_t *data, size_t len, nm_sigdb_hit_fn fn,
			 void *ctx);
/*
 * Close and free st (reporting end-of-stream matches such as combinations
 * with negation). fn may be NULL to drop the stream without reports.
 */
int nm_sigdb_stream_close(const struct nm_sigdb *db, struct nm_sigdb_stream *st,
			  hs_scratch_t *scratch, nm_sigdb_hit_fn fn, void *ctx);

#endif
