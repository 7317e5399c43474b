/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 address checks shared by the config loader, the announcement parser
 * and the dataplane: prefix membership and "may this be a pod address".
 */
#ifndef NM_CIDR_H
#define NM_CIDR_H

#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>

#include "nodemesh/cidr-t.h"

/* Is ip (network byte order) inside c? A /0 holds everything. */
static inline bool
nm_cidr_contains(const struct nm_cidr *c, uint32_t ip)
{
	uint32_t mask = c->prefix_len == 0 ? 0 : UINT32_MAX << (32 - c->prefix_len);

	return ((ntohl(ip) ^ ntohl(c->net)) & mask) == 0;
}

/*
 * May ip (network byte order) be a pod's address? Not 0.0.0.0, broadcast,
 * multicast (224/4), loopback (127/8) or link-local (169.254/16).
 */
static inline bool
nm_ipv4_pod_unicast(uint32_t ip)
{
	uint32_t h = ntohl(ip);

	return !(h == 0 || h == UINT32_MAX || (h >> 28) == 0xe || (h >> 24) == 127 ||
		 (h >> 16) == 0xa9fe);
}

#endif
