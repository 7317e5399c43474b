/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events kept for `nodemeshctl observe` (ctrl/observe.c): the last
 * NM_OBSERVE_KEEP events (drops, flow starts and ends, alerts, HTTP
 * transactions) as JSON,
 * numbered. An observer asks for what came after the number it saw last
 * (`observe since=N`), so any number of observers read at their own pace:
 * one that falls more than NM_OBSERVE_KEEP behind is told how many it
 * lost, and a stuck one costs nothing. Workers write events only while an
 * observer asked within NM_OBSERVE_LEASE_MS. Control thread only.
 */
#ifndef NM_OBSERVE_H
#define NM_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define NM_OBSERVE_KEEP	    16384
#define NM_OBSERVE_LEASE_MS 5000
#define NM_OBSERVE_LIMIT    2000 /* events one answer carries at most */

struct nm_observe {
	json_t **ev;	   /* NM_OBSERVE_KEEP slots; event seq s lives at s % KEEP */
	uint64_t next_seq; /* number of the next event; the first is 1 */
	uint64_t lease_ms; /* CLOCK_MONOTONIC ms until which events are wanted */
	uint64_t pushed;   /* events kept so far */
	uint64_t requests; /* observe requests answered */
};

/* What an observer wants; "" = any. */
struct nm_observe_filter {
	char pod[64];
	char ns[64];
	char identity[128]; /* "ns/sa", or "unknown" */
	char type[8];	    /* flow | drop | alert | http */
	char verdict[8];    /* allow | deny */
};

int nm_observe_init(struct nm_observe *o);
void nm_observe_fini(struct nm_observe *o);

/* Keep ev (reference taken), numbered; the oldest kept event makes room. */
void nm_observe_push(struct nm_observe *o, json_t *ev);

/* Does an observer want events at now_ms? */
bool nm_observe_wanted(const struct nm_observe *o, uint64_t now_ms);

/*
 * Fill f from key/value strings (pod, namespace, identity, type, verdict).
 * 0 or -EINVAL with err naming the key.
 */
int nm_observe_filter_fill(struct nm_observe_filter *f,
			   const char *(*key_fn)(const void *, const char *), const void *ctx,
			   char *err, size_t errlen);

/*
 * The events after since that match f, at most limit, and renews the
 * lease: {"events": [...], "next": N (ask since=N next), "lost": K (events
 * after since no longer kept)}. since 0: none, only "next" (start now).
 */
json_t *nm_observe_query(struct nm_observe *o, const struct nm_observe_filter *f, uint64_t since,
			 unsigned int limit, uint64_t now_ms);

#endif
