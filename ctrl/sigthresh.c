/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The threshold and detection_filter options of a rule, as Suricata's
 * "Thresholding Keywords" page writes them:
 *
 *   threshold: type limit|threshold|both, track by_src|by_dst|by_rule|by_both,
 *              count N, seconds T;
 *   detection_filter: track by_src|by_dst|by_rule|by_both, count N, seconds T;
 *
 * Items in any order, separated by commas, each a name and a value. All
 * are required, each once; one of the two keywords per rule (Suricata
 * refuses both together). What Suricata 7 added and nodemesh does not
 * count (type backoff, track by_flow) is refused with its reason, not
 * weakened. The worker counts matches (dataplane/sig_thresh.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sigrule_priv.h"

enum item {
	ITEM_TYPE = 1 << 0,
	ITEM_TRACK = 1 << 1,
	ITEM_COUNT = 1 << 2,
	ITEM_SECONDS = 1 << 3,
};

/* A word of an item and its value; UNSUPPORTED: Suricata's, refused by name. */
#define UNSUPPORTED 0xff
struct word {
	const char *name;
	uint8_t value;
};

static const struct word types[] = {
    {"limit", NM_SIG_THRESH_LIMIT},
    {"threshold", NM_SIG_THRESH_THRESHOLD},
    {"both", NM_SIG_THRESH_BOTH},
    {"backoff", UNSUPPORTED}, /* Suricata 8: count, multiplier instead of seconds */
    {NULL, 0},
};

static const struct word tracks[] = {
    {"by_src", NM_SIG_TRACK_SRC},
    {"by_dst", NM_SIG_TRACK_DST},
    {"by_rule", NM_SIG_TRACK_RULE},
    {"by_both", NM_SIG_TRACK_BOTH},
    {"by_flow", UNSUPPORTED}, /* Suricata 7: per flow */
    {NULL, 0},
};

/* v as one of words into *out; what names the item ("type", "track") in messages. */
static int
parse_word(const char *key, const char *what, const struct word *words, const char *v, uint8_t *out,
	   struct sig_ctx *c)
{
	char list[64];
	size_t at = 0;
	const struct word *w;

	for (w = words; w->name != NULL && w->value != UNSUPPORTED; w++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", w == words ? "" : ", ",
				       w->name);
	for (w = words; w->name != NULL; w++) {
		if (strcasecmp(v, w->name) != 0)
			continue;
		if (w->value == UNSUPPORTED)
			return sig_fail(c, "%s: %s %s is not supported (%s)", key, what, w->name,
					list);
		*out = w->value;
		return 0;
	}
	return sig_fail(c, "%s: unknown %s '%.32s' (%s)", key, what, v, list);
}

/* count and seconds: 1..UINT32_MAX, as Suricata reads them (0 would count nothing). */
static int
parse_number(const char *key, const char *name, const char *v, uint32_t *out, struct sig_ctx *c)
{
	uint64_t n;

	if (!sig_parse_uint(v, UINT32_MAX, &n) || n == 0)
		return sig_fail(c, "%s: %s '%.32s' must be a number 1..%u", key, name, v,
				UINT32_MAX);
	*out = (uint32_t)n;
	return 0;
}

/* One "name value" item into t; *seen says which were given. */
static int
parse_item(const char *key, char *item, bool detection, struct nm_sig_thresh *t, unsigned int *seen,
	   struct sig_ctx *c)
{
	char *name = sig_trim(item);
	size_t n = strcspn(name, SIG_WS);
	char *value = name + n;
	unsigned int bit;

	if (*value != '\0')
		*value++ = '\0';
	value = sig_trim(value);
	if (*name == '\0' || *value == '\0' || strcspn(value, SIG_WS) != strlen(value))
		return sig_fail(c, "%s: '%.64s' must be a name and a value", key, name);
	if (strcasecmp(name, "type") == 0 && !detection)
		bit = ITEM_TYPE;
	else if (strcasecmp(name, "track") == 0)
		bit = ITEM_TRACK;
	else if (strcasecmp(name, "count") == 0)
		bit = ITEM_COUNT;
	else if (strcasecmp(name, "seconds") == 0)
		bit = ITEM_SECONDS;
	else
		return sig_fail(c, "%s: unknown item '%.32s' (%s)", key, name,
				detection ? "track, count, seconds"
					  : "type, track, count, seconds");
	if (*seen & bit)
		return sig_fail(c, "%s: %s given twice", key, name);
	*seen |= bit;
	switch (bit) {
	case ITEM_TYPE:
		return parse_word(key, "type", types, value, &t->type, c);
	case ITEM_TRACK:
		return parse_word(key, "track", tracks, value, &t->track, c);
	case ITEM_COUNT:
		return parse_number(key, "count", value, &t->count, c);
	default:
		return parse_number(key, "seconds", value, &t->seconds, c);
	}
}

int
sig_opt_threshold(struct nm_sig_rule *rule, const char *key, char *val, struct sig_ctx *c)
{
	bool detection = strcmp(key, "detection_filter") == 0;
	unsigned int need = ITEM_TRACK | ITEM_COUNT | ITEM_SECONDS;
	unsigned int seen = 0;
	struct nm_sig_thresh t = {0};

	if (rule->thresh.type != NM_SIG_THRESH_NONE)
		return sig_fail(c,
				"%s: a rule takes one threshold or detection_filter (Suricata "
				"refuses both, or either twice)",
				key);
	if (!detection)
		need |= ITEM_TYPE;
	for (char *item = val, *comma; item != NULL; item = comma) {
		comma = strchr(item, ',');
		if (comma != NULL)
			*comma++ = '\0';
		int rc = parse_item(key, item, detection, &t, &seen, c);
		if (rc < 0)
			return rc;
	}
	if ((seen & need) != need) {
		unsigned int missing = need & ~seen;
		return sig_fail(c, "%s: %s missing", key,
				missing & ITEM_TYPE    ? "type"
				: missing & ITEM_TRACK ? "track"
				: missing & ITEM_COUNT ? "count"
						       : "seconds");
	}
	if (detection)
		t.type = NM_SIG_THRESH_DETECTION;
	rule->thresh = t;
	return 0;
}
