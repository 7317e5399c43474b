/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature sets as the control thread publishes them (ctrl/node_sig.c)
 * and the workers inspect with them (dataplane/inspect.c), the workers'
 * inspection counters, and the alert records they hand back.
 */
#ifndef NM_SIG_SET_T_H
#define NM_SIG_SET_T_H

#include <stdint.h>

#include <hs/hs.h>

#include "nodemesh/dataplane-t.h"
#include "nodemesh/flowkey.h"
#include "nodemesh/http_log-t.h"
#include "nodemesh/sig-t.h"
#include "nodemesh/sigdb-t.h"

#define NM_SIG_FILE_LEN	   256	/* the rules file a set was loaded from, as given */
#define NM_ALERT_RING_SIZE 1024 /* alerts in flight per worker */
/* Keys (rule, tracked addresses) a worker counts threshold/detection_filter matches for. */
#define NM_SIG_THRESH_SLOTS 8192

/*
 * A loaded signature rule set. Immutable once published except for the
 * counters and refs. Workers read the current set at the top of each turn;
 * every TCP stream holds a reference to the set it was opened with, so a
 * reload never changes the rules of a stream already open. A replaced set
 * is freed by the control thread once no stream holds it and an RCU grace
 * period has passed. Each worker's scratch was grown for every set alive
 * when this one was loaded, so the current set's scratch serves streams
 * of older sets too.
 */
struct nm_sig_set {
	struct nm_sigdb *db;
	uint64_t generation; /* 1 for the first load, +1 per load */
	uint32_t refs;	     /* streams open on this set (atomic) */
	hs_scratch_t *scratch[NM_MAX_WORKERS];
	uint64_t *hits; /* [worker][rule]: header-matching hits, each worker its row */
	uint64_t loaded_ns;
	char file[NM_SIG_FILE_LEN];
	struct nm_sig_set *next; /* retired list, control thread */
};

/*
 * One scan in this many is timed (two TSC reads, some 60 cycles each on a
 * virtual machine) and counted this many times: the scan time is an
 * estimate, and the other scans pay no clock. A power of two.
 */
#define NM_SCAN_TIME_EVERY 16

/* Inspection counters of one worker. */
struct nm_sig_counters {
	uint64_t packets; /* payloads scanned (segments and datagrams) */
	uint64_t bytes;	  /* payload bytes scanned */
	uint64_t
	    cycles; /* TSC cycles in Hyperscan, estimated: 1 scan in NM_SCAN_TIME_EVERY timed */
	uint64_t streams_opened; /* TCP streams opened */
	uint64_t streams_open;	 /* open now */
	uint64_t hits;		 /* header-matching rule hits */
	uint64_t alerts;	 /* alert records handed to the control thread */
	uint64_t alerts_lost;	 /* alert ring or pool full */
	uint64_t flows_passed;	 /* flows a pass rule took out of inspection */
	uint64_t flows_blocked;	 /* flows a drop/reject rule blocked */
	uint64_t resets_sent;	 /* TCP RSTs sent by reject */
	uint64_t unreach_sent;	 /* ICMP unreachables sent by reject */
	uint64_t retransmits;	 /* retransmitted bytes verified and forwarded */
	uint64_t urgent_cleared; /* segments whose URG flag and pointer were cleared */
	uint64_t uninspected;	 /* TCP payloads of flows older than the first rule set */
	uint64_t held;		 /* out-of-order segments forwarded and held until the gap filled */
	uint64_t held_now;	 /* held now (mbuf references) */
	uint64_t midstream;	 /* streams opened mid-connection (signatures.midstream pickup) */
	uint64_t http_heads;	 /* HTTP message heads whose buffers were scanned */
	uint64_t http_not_http;	 /* stream directions found not to be HTTP: raw stream only */
	uint64_t http_tunnels;	 /* directions past an Upgrade or CONNECT: raw stream only */
	uint64_t http_refused;	 /* request directions refused (drop reason http_refused) */
	uint64_t http_resp_lost; /* response directions the parser could not follow: raw only */
	uint64_t http_events;	 /* http transaction records handed to the control thread */
	uint64_t http_events_lost;    /* http records lost: pool empty or ring full */
	uint64_t http_bodies;	      /* message bodies scanned with the rules of a body buffer */
	uint64_t http_bodies_cut;     /* bodies past the room kept for them: the rest unscanned */
	uint64_t http_inflate_cut;    /* gzip/deflate bodies cut at http_body_decoded_max */
	uint64_t http_inflate_errors; /* bodies that are not the gzip/deflate they claim */
	uint64_t thresh_held;	      /* matches a threshold/detection_filter kept from acting */
	uint64_t thresh_silenced;     /* matches that acted with their alert suppressed */
	uint64_t thresh_full;	      /* matches not counted: no room in the table (held) */
};

/* A signature hit, handed from a worker to the control thread's alert log. */
struct nm_alert_record {
	struct nm_flow_key key; /* the flow, for flow_id */
	uint32_t init_pod_id;
	uint32_t src_pod_id; /* the packet's sender and receiver */
	uint32_t dst_pod_id;
	uint32_t src_ip; /* network order */
	uint32_t dst_ip;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t action;	   /* enum nm_sig_action of the rule */
	uint8_t blocked;   /* the packet was dropped */
	uint8_t to_server; /* the packet came from the flow's initiator */
	uint64_t tsc;
	uint32_t sid;
	uint32_t rev;
	uint32_t priority;
	char msg[NM_SIG_MSG_LEN];
	char classtype[NM_SIG_CLASSTYPE_LEN];
	/* An HTTP flow: the fields of the message in progress on this side (EVE alert.http). */
	uint8_t has_http;
	struct nm_http_fields http;
};

#endif
