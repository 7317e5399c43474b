/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A compiled signature database: what the control thread compiles
 * (ctrl/sigdb.c) and the workers scan with (dataplane/sig_scan.c).
 *
 * Two Hyperscan databases: a streaming one for TCP (payload in sequence
 * order per flow and direction) and a block one for UDP, ICMP and the
 * first packet of anything else; and for http rules one block database
 * per HTTP buffer, scanned when an HTTP message's head completes. The database is immutable and
 * shared by every worker; each worker has its own scratch.
 */
#ifndef NM_SIGDB_T_H
#define NM_SIGDB_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "nodemesh/http-t.h"
#include "nodemesh/sig-t.h"

#define NM_SIGDB_DIGEST_LEN 32 /* SHA-256 */

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
	struct nm_sig_thresh thresh; /* threshold or detection_filter; type NONE: neither */
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

/* Where one reporting http expression's targets lie in nm_sigdb.http_targets. */
struct nm_sigdb_http_index {
	uint32_t first;
	uint32_t count; /* 0: not a reporting http expression */
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
	/*
	 * http rules: one block (vectored) database per HTTP buffer, by enum
	 * nm_sig_buffer (NULL: no rule looks there; [NM_SIG_BUF_STREAM] is
	 * always NULL). has_http: at least one, so TCP streams carry an HTTP
	 * parser.
	 */
	hs_database_t *http[NM_SIG_BUF_MAX];
	/*
	 * The same per buffer for the rules with a body buffer
	 * (http.request_body, http.response_body, file.data): scanned once,
	 * when a message ends, over its head's buffers and its body, so the
	 * bitmap of such a rule lives for one scan as the others do.
	 */
	hs_database_t *http_late[NM_SIG_BUF_MAX];
	bool has_http;
	/*
	 * http rules of more than one expression: id n_rules + i reports the
	 * http_index[i].count targets from http_targets[http_index[i].first]
	 * (one expression may serve several rules); a target's slot indexes a
	 * bitmap the scan keeps for one message, n_http_multi of them.
	 */
	unsigned int n_http_multi;
	unsigned int n_http_index;
	struct nm_sigdb_http_index *http_index;
	struct nm_sigdb_sub *http_targets;
	/*
	 * SHA-256 of what a TCP stream's state means: the serialized stream
	 * database (hs_serialize_database), the rule count and the
	 * multi-pattern bitmaps' map, and whether streams carry an HTTP
	 * parser. A stream handed over in a takeover (hs_compress_stream)
	 * is expanded only into a database of the same digest.
	 */
	uint8_t stream_digest[NM_SIGDB_DIGEST_LEN];
	/*
	 * The rules with a negated content, by phase (0: head, 1: late), each
	 * with `all` its positive bits: complete at the end of the message's
	 * scan if those are all seen and NM_SIGDB_HTTP_VETO is not. Block
	 * mode would evaluate a logical combination for each at the end of
	 * every buffer's scan instead: ET's 317 http.header_names rules with
	 * negations cost 50 us per request that way.
	 */
	unsigned int n_http_deferred[2];
	struct nm_sigdb_sub *http_deferred[2];
};

/*
 * An http rule with a negated content has its negated expressions report
 * this bit ("seen: the rule cannot match in this message") and the
 * marker bit in its `all`, which is never seen: it is decided once all
 * the message's buffers are scanned (nm_sigdb.http_deferred), not when a
 * match completes it.
 */
#define NM_SIGDB_HTTP_VETO     0x8000u
#define NM_SIGDB_HTTP_DEFERRED 0x4000u

/* http rules of more than one expression in one set: their bitmaps are on a worker's stack. */
#define NM_SIGDB_HTTP_MULTI_MAX 16384

struct nm_sig_stream_pool;

/*
 * One TCP flow direction: the Hyperscan stream and one 16-bit bitmap per
 * multi-pattern stream rule (NM_SIG_MAX_PATTERNS <= 16) of the patterns
 * matched so far. Taken whole at open, on a worker from its stream pool
 * (dataplane/sig_scan.c); scanning allocates nothing.
 */
struct nm_sigdb_stream {
	hs_stream_t *hs;		 /* NULL when the set has only http rules */
	struct nm_sig_stream_pool *pool; /* where its memory came from; NULL: the heap */
	struct nm_http_parser *http;	 /* in the same memory; NULL when no http rule */
	uint16_t seen[];
};

/* Called once per matching rule (rule index into db->rules); return 0 to go on. */
typedef int (*nm_sigdb_hit_fn)(void *ctx, unsigned int rule);

#endif
