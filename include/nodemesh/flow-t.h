/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking, per worker. Every flow that touches a pod has an
 * entry in the table of that pod's owner worker, keyed by (pod, normalised
 * 5-tuple); a flow between two local pods therefore has one entry on each
 * side, and each side sees both directions of it (egress of its pod's
 * packets, ingress of the peer's). Both sides judge the flow by the same
 * policy (initiator to responder) and cache the verdict with the policy
 * generation that produced it.
 *
 * Entries live in a preallocated array indexed by the rte_hash key
 * position; nothing is allocated per packet. When the table is full a new
 * flow is refused and counted; established flows are never evicted to make
 * room. Entries expire by state-dependent timeouts, swept a few per loop
 * turn.
 */
#ifndef NM_FLOW_T_H
#define NM_FLOW_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_meter.h>

#include "nodemesh/flowkey.h"

enum nm_flow_state {
	NM_FLOW_TCP_SYN = 0,	 /* SYN seen, no answer yet */
	NM_FLOW_TCP_ESTABLISHED, /* answered (or picked up mid-stream) */
	NM_FLOW_TCP_CLOSING,	 /* FIN seen in one direction */
	NM_FLOW_TCP_CLOSED,	 /* RST, or FIN both ways */
	NM_FLOW_UDP,
	NM_FLOW_ICMP,
	NM_FLOW_OTHER,
	NM_FLOW_STATES
};

enum nm_flow_dir {
	NM_DIR_ORIG = 0,  /* from the initiator */
	NM_DIR_REPLY = 1, /* from the responder */
};

enum nm_flow_end {
	NM_FLOW_END_TIMEOUT = 0,
	NM_FLOW_END_CLOSED, /* TCP FIN both ways or RST, after its short timeout */
	NM_FLOW_END_FLUSH,  /* flow flush */
	NM_FLOW_END_SHUTDOWN,
	NM_FLOW_END_POD_GONE, /* an end pod was deleted; a packet for its address came */
};

enum nm_flow_sig {
	NM_FLOW_SIG_INSPECT = 0, /* scanned when rules are loaded and the policy says inspect */
	NM_FLOW_SIG_PASS,	 /* a pass signature matched: no more scanning */
	NM_FLOW_SIG_BLOCKED,	 /* a drop/reject signature matched: every packet dropped */
};

#define NM_INSP_SEGS	    8 /* scanned segments remembered per stream, to check retransmissions */
#define NM_INSP_HOLD	    8 /* out-of-order segments held per stream until the gap fills */
#define NM_INSP_HOLD_WINDOW 262144 /* bytes past the next one a held segment may start */

struct rte_hash;
struct rte_mbuf;

struct nm_sig_set;
struct nm_sigdb_stream;
struct nm_authz;

/* A TCP segment forwarded, remembered to check a retransmission of it (dataplane/pieces.h). */
struct nm_seg_seen {
	uint32_t seq;
	uint32_t crc; /* CRC32C of the payload */
	uint16_t len; /* 0: slot unused */
};

/*
 * Inspection of the TCP bytes arriving into this side's pod (one stream per
 * flow entry; the other direction is the other side's). Taken from the
 * worker's pool (signatures.max_streams of them) when a stream opens, so
 * flows without a stream carry only a pointer; the stream keeps its set
 * (rules) until it closes.
 */
struct nm_http_record;

struct nm_insp {
	struct nm_sig_set *set;
	struct nm_sigdb_stream *st;
	uint32_t next;	/* sequence number of the next byte to scan */
	uint32_t acked; /* highest acknowledgement the receiving pod sent */
	uint8_t acked_known;
	uint8_t seg_pos; /* next slot of seg[] to overwrite */
	struct nm_seg_seen seg[NM_INSP_SEGS];
	uint8_t n_held;
	struct {
		struct rte_mbuf *m; /* a reference to a segment forwarded ahead of a gap */
		uint32_t seq;
		uint16_t off; /* payload offset in m */
		uint16_t len;
	} held[NM_INSP_HOLD];
	struct nm_http_record *http_rec; /* the message being logged (http_log-t.h), or NULL */
	uint32_t http_tx;		 /* requests (or final responses) logged so far */
	uint8_t http_interim;		 /* in a 1xx response: not logged, not counted */
};

/*
 * The table's key. 48 bytes, so that rte_hash compares keys with its
 * 16-byte-vector compare (rte_hash_k48_cmp_eq) instead of memcmp().
 */
struct nm_flow_hkey {
	struct nm_flow_key k;
	uint32_t pod_id; /* the pod on this side */
	uint32_t pad;	 /* zero: the key is hashed and compared as bytes */
};

struct nm_flow {
	struct nm_flow_hkey hk;
	uint64_t first_tsc;
	uint64_t last_tsc;
	uint64_t pkts[2]; /* by enum nm_flow_dir */
	uint64_t bytes[2];
	uint64_t rate_drops;	       /* packets the rule's rate dropped */
	uint64_t policy_gen;	       /* generation the cached verdict came from (nm_track_gen) */
	struct rte_meter_srtcm pps[2]; /* by direction of arrival into this side's pod */
	struct rte_meter_srtcm bps[2];
	uint32_t init_pod_id; /* initiator and responder pods (NM_POD_ID_REMOTE: remote) */
	uint32_t resp_pod_id;
	uint32_t init_id; /* their security identities when the verdict was cached */
	uint32_t resp_id;
	uint32_t rule_id; /* 0: default action */
	int16_t rule_idx; /* index in the policy of policy_gen, or NM_POLICY_DEFAULT */
	uint16_t rule_slot;
	uint16_t init_slot;
	uint16_t resp_slot;
	uint8_t in_use;
	uint8_t state;	       /* enum nm_flow_state */
	uint8_t verdict;       /* enum nm_verdict */
	uint8_t init_is_lo;    /* the initiator is the key's lo endpoint */
	uint8_t local_is_init; /* this side's pod is the initiator */
	uint8_t fin_seen;      /* bit per direction */
	uint8_t inspect;
	uint8_t sig;	      /* enum nm_flow_sig */
	uint8_t sig_born;     /* a rule set existed when this entry was created */
	uint8_t metered;      /* rule_idx's rule has a rate (pps or bps) to meter at ingress */
	uint8_t http_judged;  /* rules with an HTTP clause cover it: each request is judged */
	struct nm_insp *insp; /* NULL: no stream open */
	struct nm_authz
	    *authz; /* the responder's side of an http_judged flow: its request parser */
} __rte_cache_aligned;

struct nm_flow_counters {
	uint64_t created;
	uint64_t refused; /* table full: new flow dropped */
	uint64_t expired;
	uint64_t closed;
	uint64_t flushed;
	uint64_t records_lost; /* flow record ring or pool full */
	uint64_t reevaluated;  /* verdicts recomputed after a policy change */
};

struct nm_flow_table {
	struct rte_hash *h;
	struct nm_flow *e; /* cap entries, by rte_hash key position */
	/*
	 * Also by key position (beside e, which stays at four cache lines an
	 * entry): a local connection whose two ends this worker owns has an
	 * entry per end here; at the source's position, the destination's
	 * position + 1 (0: not known), so that ingress finds that entry
	 * without a second hash lookup (nm_flow_linked). A hint: checked
	 * against the key before use, since the entry may have ended and its
	 * position been reused.
	 */
	uint32_t *link;
	uint32_t cap;
	uint32_t n; /* entries in use */
	uint32_t sweep_pos;
	uint32_t seed; /* of the table's hash (nm_flow_hkey_hash), random per run and worker */
	uint64_t timeout_tsc[NM_FLOW_STATES]; /* relaxed atomics: a config reload stores them */
	struct nm_flow_counters c;
};

/* A finished flow, handed from a worker to the control thread's flow log. */
struct nm_flow_record {
	struct nm_flow_key key;
	uint32_t init_pod_id;
	uint32_t resp_pod_id;
	uint64_t first_tsc;
	uint64_t last_tsc;
	uint64_t pkts[2]; /* by enum nm_flow_dir */
	uint64_t bytes[2];
	uint64_t rate_drops;
	uint32_t rule_id; /* 0: the default action decided */
	uint8_t init_is_lo;
	uint8_t verdict;
	uint8_t state;
	uint8_t end; /* enum nm_flow_end */
	uint8_t sig; /* enum nm_flow_sig */
};

#define NM_FLOW_SWEEP	 64   /* flow entries checked for expiry per loop turn */
#define NM_REC_RING_SIZE 4096 /* flow records in flight per worker */

#endif
