/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a name may be. Pod, namespace, service account and node names follow
 * Kubernetes' DNS-label-like rule, and labels Kubernetes' key/value
 * alphabet. The config, pod add, policy selectors, peer certificates and
 * peer announcements all check names with these, so that what a peer
 * announces is held to the same rules as a local pod: a remote pod can be
 * matched by any selector a local pod can.
 */
#ifndef NM_NAMES_H
#define NM_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "nodemesh/pod-t.h"

/* n bytes at s (no NUL needed) are 1..NM_NAME_LEN-1 characters of [a-z0-9._-]. */
static inline bool
nm_name_valid(const char *s, size_t n)
{
	if (n == 0 || n >= NM_NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.' || ch == '_'))
			return false;
	}
	return true;
}

/* Is ch allowed in a label key or value: [A-Za-z0-9._/-]? */
static inline bool
nm_label_char_valid(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-' || ch == '/';
}

/* n bytes at s (no NUL needed) are a label key or value: 1..NM_NAME_LEN-1 label characters. */
static inline bool
nm_label_part_valid(const char *s, size_t n)
{
	if (n == 0 || n >= NM_NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!nm_label_char_valid(s[i]))
			return false;
	return true;
}

#endif
