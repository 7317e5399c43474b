/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP segments nodemesh makes: resets for rejects, a policy's HTTP 403 (dataplane/reject.c). */
#ifndef NM_REJECT_H
#define NM_REJECT_H

#include <stdint.h>

#include <rte_mbuf.h>

/* A RST|ACK from saddr:sport to daddr:dport (network order addresses, host order ports). */
struct rte_mbuf *nm_tcp_reset(struct rte_mempool *pool, uint32_t saddr, uint32_t daddr,
			      uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack);

/*
 * A TCP segment with flags (RTE_TCP_*_FLAG) and plen bytes of payload, as
 * above; NULL when the pool is empty or the payload does not fit one mbuf.
 */
struct rte_mbuf *nm_tcp_segment(struct rte_mempool *pool, uint32_t saddr, uint32_t daddr,
				uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
				uint8_t flags, const void *payload, uint16_t plen);

#endif
