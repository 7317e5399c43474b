/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP errors a router sends (dataplane/icmp.c). */
#ifndef NM_ICMP_H
#define NM_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

/* ICMP types and codes (RFC 792) that DPDK's rte_icmp.h does not name. */
#define NM_ICMP_DEST_UNREACH  3
#define NM_ICMP_HOST_UNREACH  1 /* code of NM_ICMP_DEST_UNREACH */
#define NM_ICMP_FRAG_NEEDED   4 /* code of NM_ICMP_DEST_UNREACH, RFC 1191 */
#define NM_ICMP_TIME_EXCEEDED 11

/* May a router answer this IPv4 packet with an ICMP error (RFC 1812 §4.3.2.7)? */
bool nm_icmp_error_allowed(const struct rte_mbuf *orig, uint16_t l2_len);
/*
 * An ICMP error about orig (Ethernet + IPv4 at l2_len) from the gateway,
 * addressed back to orig's sender; NULL when the pool is empty.
 */
struct rte_mbuf *nm_icmp_error(struct rte_mempool *pool, const struct rte_mbuf *orig,
			       uint16_t l2_len, uint8_t type, uint8_t code, uint16_t mtu,
			       const struct rte_ether_addr *gw_mac);

/*
 * Take one ICMP error from w's budget (RFC 1812 §4.3.2.8: a router must
 * limit them): NM_ICMP_ERRORS_PER_SEC, bursts of a tenth of a second.
 * false (and counted as suppressed) when it is spent.
 */
bool nm_icmp_budget_take(struct nm_worker *w, uint64_t now);
/* Answer the pod at slot (owned by w) with an ICMP error about m; m stays the caller's. */
void nm_icmp_reply(struct nm_worker *w, const struct nm_pod_table *tbl, uint16_t slot,
		   const struct rte_mbuf *m, uint16_t l2_len, uint8_t type, uint8_t code,
		   uint16_t mtu, uint64_t now);

#endif
