/* SPDX-License-Identifier: BSD-3-Clause */
/* Incremental Internet checksum update for headers the workers rewrite. */
#ifndef NM_CKSUM_H
#define NM_CKSUM_H

#include <stdint.h>

#include <rte_byteorder.h>

/*
 * RFC 1624 eqn. 3: the one's complement checksum cksum (network order) of
 * a header in which one 16-bit word (host order values) changes from old
 * to new: HC' = ~(~HC + ~m + m').
 */
static inline uint16_t
nm_cksum_adjust(uint16_t cksum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~rte_be_to_cpu_16(cksum);

	sum += (uint16_t)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return rte_cpu_to_be_16((uint16_t)~sum);
}

#endif
