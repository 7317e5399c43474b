/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suricata's threshold and detection_filter on a worker: the match counts
 * of each (rule, tracked address) key in a fixed open-addressed table,
 * and what each match does. The arithmetic follows Suricata 7's
 * detect-engine-threshold.c (ThresholdSetup, ThresholdCheckUpdate):
 *
 *   - a window opens at a key's first match, count 1, and lasts `seconds`
 *     (a match at exactly start + seconds is still inside);
 *   - a match after the window opens a new one, as a first match does;
 *   - limit:     alert while count <= N; past it the rule still acts,
 *                silently (Suricata's "silent match", return 2);
 *   - threshold: act and alert when count reaches N, then count from 0
 *                in the same window; N == 1 acts on every match;
 *   - both:      act and alert when count == N, act silently past it;
 *   - detection_filter: act and alert when count > N, nothing before.
 *
 * A match that neither acts nor alerts is as if the rule had not matched:
 * a drop rule drops nothing then (Suricata's documentation: "neither the
 * rule action nor its alert are applied before (threshold and both) or at
 * (detection_filter) the count limit").
 *
 * An entry whose window has passed means the same as no entry (the next
 * match restarts it either way), so such slots are reused in place: no
 * sweeper, no deletion. A key that finds neither itself nor a reusable
 * slot among its NM_SIG_THRESH_PROBES is not counted; the caller counts
 * that and treats the match as Suricata does when it cannot get an entry
 * (return 0: no action, no alert).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sig_thresh.h"

struct entry {
	uint32_t sid; /* 0: never used (a sid is at least 1) */
	uint32_t rev;
	uint32_t addr_a; /* what the rule tracks; see key_of */
	uint32_t addr_b;
	uint32_t count; /* matches in this window (threshold: since its last alert) */
	uint8_t track;
	uint64_t end; /* TSC of the window's last instant: first match + seconds */
};

struct nm_sig_thresh_table {
	uint64_t tsc_hz;
	uint32_t mask; /* slots - 1 */
	struct entry slots[];
};

struct nm_sig_thresh_table *
nm_sig_thresh_table_create(uint32_t slots, uint64_t tsc_hz)
{
	struct nm_sig_thresh_table *t;

	if (slots == 0 || (slots & (slots - 1)) != 0 || tsc_hz == 0) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t) + (size_t)slots * sizeof(t->slots[0]));
	if (t == NULL)
		return NULL;
	t->tsc_hz = tsc_hz;
	t->mask = slots - 1;
	return t;
}

void
nm_sig_thresh_table_free(struct nm_sig_thresh_table *t)
{
	free(t);
}

/* The addresses a track keys on: by_both in either direction is one key. */
static void
key_of(uint8_t track, uint32_t src, uint32_t dst, uint32_t *a, uint32_t *b)
{
	*a = 0;
	*b = 0;
	switch (track) {
	case NM_SIG_TRACK_SRC:
		*a = src;
		break;
	case NM_SIG_TRACK_DST:
		*a = dst;
		break;
	case NM_SIG_TRACK_BOTH:
		*a = src < dst ? src : dst;
		*b = src < dst ? dst : src;
		break;
	default: /* by_rule: one key */
		break;
	}
}

static uint32_t
key_hash(uint32_t sid, uint32_t rev, uint8_t track, uint32_t a, uint32_t b)
{
	uint64_t h = ((uint64_t)sid << 32 | rev) * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)a << 32 | b) + track;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* A new window at now: count 1 (Suricata's ThresholdSetup). */
static enum nm_sig_thresh_verdict
window_open(struct nm_sig_thresh_table *t, struct entry *e, const struct nm_sig_thresh *th,
	    uint64_t now)
{
	uint64_t len =
	    th->seconds > UINT64_MAX / t->tsc_hz ? UINT64_MAX : (uint64_t)th->seconds * t->tsc_hz;

	e->count = 1;
	e->end = now > UINT64_MAX - len ? UINT64_MAX : now + len;
	switch (th->type) {
	case NM_SIG_THRESH_LIMIT:
		return NM_SIG_THRESH_ALERT;
	case NM_SIG_THRESH_THRESHOLD:
	case NM_SIG_THRESH_BOTH:
		return th->count == 1 ? NM_SIG_THRESH_ALERT : NM_SIG_THRESH_HOLD;
	default: /* detection_filter: never at the first */
		return NM_SIG_THRESH_HOLD;
	}
}

/* Another match inside the window (Suricata's ThresholdCheckUpdate). */
static enum nm_sig_thresh_verdict
window_match(struct entry *e, const struct nm_sig_thresh *th)
{
	if (e->count < UINT32_MAX) /* past 2^32 - 1 nothing changes for any type */
		e->count++;
	switch (th->type) {
	case NM_SIG_THRESH_LIMIT:
		return e->count <= th->count ? NM_SIG_THRESH_ALERT : NM_SIG_THRESH_SILENT;
	case NM_SIG_THRESH_THRESHOLD:
		if (e->count < th->count)
			return NM_SIG_THRESH_HOLD;
		e->count = 0;
		return NM_SIG_THRESH_ALERT;
	case NM_SIG_THRESH_BOTH:
		if (e->count == th->count)
			return NM_SIG_THRESH_ALERT;
		return e->count > th->count ? NM_SIG_THRESH_SILENT : NM_SIG_THRESH_HOLD;
	default:
		return e->count > th->count ? NM_SIG_THRESH_ALERT : NM_SIG_THRESH_HOLD;
	}
}

enum nm_sig_thresh_verdict
nm_sig_thresh_check(struct nm_sig_thresh_table *t, const struct nm_sig_thresh *th, uint32_t sid,
		    uint32_t rev, uint32_t src, uint32_t dst, uint64_t now)
{
	struct entry *reuse = NULL;
	uint32_t a, b, h;

	/* Suricata's fast path: type threshold with count 1 is every match, no entry. */
	if (th->type == NM_SIG_THRESH_THRESHOLD && th->count == 1)
		return NM_SIG_THRESH_ALERT;
	key_of(th->track, src, dst, &a, &b);
	h = key_hash(sid, rev, th->track, a, b);
	for (uint32_t i = 0; i < NM_SIG_THRESH_PROBES; i++) {
		struct entry *e = &t->slots[(h + i) & t->mask];
		bool expired = now > e->end;

		if (e->sid == sid && e->rev == rev && e->track == th->track && e->addr_a == a &&
		    e->addr_b == b)
			return expired ? window_open(t, e, th, now) : window_match(e, th);
		if (reuse == NULL && (e->sid == 0 || expired))
			reuse = e;
	}
	if (reuse == NULL)
		return NM_SIG_THRESH_FULL;
	reuse->sid = sid;
	reuse->rev = rev;
	reuse->track = th->track;
	reuse->addr_a = a;
	reuse->addr_b = b;
	return window_open(t, reuse, th, now);
}
