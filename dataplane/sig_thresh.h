/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counting the matches of rules with a threshold or a detection_filter,
 * on the worker that scans: one fixed table per worker, allocated when
 * the worker is made, nothing allocated at scan time. Plain C on a TSC
 * clock given by the caller, so that tests drive time by hand.
 */
#ifndef NM_SIG_THRESH_H
#define NM_SIG_THRESH_H

#include <stdint.h>

#include "nodemesh/sig-t.h"

#define NM_SIG_THRESH_PROBES 8 /* slots looked at for one key before the table is full */

/* What one match of a thresholded rule does (Suricata's 1, 2 and 0). */
enum nm_sig_thresh_verdict {
	NM_SIG_THRESH_ALERT = 0, /* the rule acts and alerts */
	NM_SIG_THRESH_SILENT,	 /* the rule acts (drop, reject, pass), its alert is suppressed */
	NM_SIG_THRESH_HOLD,	 /* neither: as if the rule had not matched */
	NM_SIG_THRESH_FULL,	 /* no room to count the key: as HOLD, counted apart */
};

struct nm_sig_thresh_table;

/* An empty table of slots entries (a power of two) on a clock of tsc_hz; NULL and errno. */
struct nm_sig_thresh_table *nm_sig_thresh_table_create(uint32_t slots, uint64_t tsc_hz);
void nm_sig_thresh_table_free(struct nm_sig_thresh_table *t);

/*
 * One header-matching match of rule (sid, rev) with threshold th, from
 * src to dst (IPv4, host order) at time now (TSC): count it under the key
 * th->track names and say what it does.
 */
enum nm_sig_thresh_verdict nm_sig_thresh_check(struct nm_sig_thresh_table *t,
					       const struct nm_sig_thresh *th, uint32_t sid,
					       uint32_t rev, uint32_t src, uint32_t dst,
					       uint64_t now);

#endif
