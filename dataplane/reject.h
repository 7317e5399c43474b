/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP resets nodemesh makes for signature rejects (dataplane/reject.c). */
#ifndef NM_REJECT_H
#define NM_REJECT_H

#include <stdint.h>

#include <rte_mbuf.h>

/* A RST|ACK from saddr:sport to daddr:dport (network order addresses, host order ports). */
struct rte_mbuf *nm_tcp_reset(struct rte_mempool *pool, uint32_t saddr, uint32_t daddr,
			      uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack);

#endif
