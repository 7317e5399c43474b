/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whether an address or a port is in a rule's group, as the worker checks
 * a rule's header when Hyperscan reports it (dataplane/inspect.c). A group
 * is items or, negated, everything but them; no items is any.
 */
#ifndef NM_SIG_MATCH_H
#define NM_SIG_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "nodemesh/sig-t.h"

/* ip in host order. */
static inline bool
nm_sig_addrs_match(const struct nm_sig_addrs *a, uint32_t ip)
{
	bool in = false;

	if (a->n == 0)
		return true; /* any */
	for (unsigned int i = 0; i < a->n && !in; i++) {
		uint32_t mask = a->items[i].len == 0 ? 0 : ~0u << (32 - a->items[i].len);
		in = (ip & mask) == a->items[i].addr;
	}
	return in != a->negated;
}

static inline bool
nm_sig_ports_match(const struct nm_sig_ports *p, uint16_t port)
{
	bool in = false;

	if (p->n == 0)
		return true;
	for (unsigned int i = 0; i < p->n && !in; i++)
		in = port >= p->items[i].lo && port <= p->items[i].hi;
	return in != p->negated;
}

#endif
