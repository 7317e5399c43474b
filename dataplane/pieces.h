/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A TCP or UDP payload as the segments of its mbuf chain hold it, never
 * linearised, its CRC32C, and the last segments forwarded: signature
 * inspection and HTTP policy both read payloads and check retransmissions
 * this way.
 */
#ifndef NM_PIECES_H
#define NM_PIECES_H

#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>

#include "nodemesh/flow-t.h"

#define NM_PIECES_MAX 64 /* mbuf segments one scan takes: 64 KiB in 2 KiB buffers is 33 */

/* A payload as the segments of the mbuf chain hold it, in order. */
struct nm_pieces {
	unsigned int n;
	const uint8_t *data[NM_PIECES_MAX];
	unsigned int len[NM_PIECES_MAX];
};

/*
 * The len bytes at off in chain m, piece by piece. -1 if the chain ends
 * before them or they lie in more than NM_PIECES_MAX segments.
 */
static inline int
nm_pieces_of(struct nm_pieces *pc, const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	pc->n = 0;
	for (; m != NULL && len > 0; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		uint32_t take = RTE_MIN((uint32_t)m->data_len - off, len);
		if (unlikely(pc->n == NM_PIECES_MAX))
			return -1;
		pc->data[pc->n] = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
		pc->len[pc->n++] = take;
		len -= take;
		off = 0;
	}
	return len == 0 ? 0 : -1;
}

/*
 * CRC32C of a payload at any alignment (rte_hash_crc loads whole words in
 * place), carried across its pieces: CRC32C of 8 bytes at once equals the
 * same 8 bytes one by one, so the result does not depend on how the
 * payload is cut.
 */
static inline uint32_t
nm_pieces_crc(const struct nm_pieces *pc)
{
	uint32_t crc = 0;
	uint64_t v8;

	for (unsigned int k = 0; k < pc->n; k++) {
		const uint8_t *p = pc->data[k];
		uint32_t len = pc->len[k], i = 0;
		for (; i + 8 <= len; i += 8) {
			memcpy(&v8, p + i, 8);
			crc = rte_hash_crc_8byte(v8, crc);
		}
		for (; i < len; i++)
			crc = rte_hash_crc_1byte(p[i], crc);
	}
	return crc;
}

/* Remember a forwarded segment in segs[n], overwriting the oldest (*pos is the next slot). */
static inline void
nm_seg_remember(struct nm_seg_seen *segs, unsigned int n, uint8_t *pos, uint32_t seq, uint16_t len,
		uint32_t crc)
{
	segs[*pos].seq = seq;
	segs[*pos].len = len;
	segs[*pos].crc = crc;
	*pos = (uint8_t)((*pos + 1) % n);
}

/* Does [seq, seq+len) repeat a remembered segment? 1 same bytes, -1 other bytes, 0 unknown. */
static inline int
nm_seg_check(const struct nm_seg_seen *segs, unsigned int n, uint32_t seq, uint16_t len,
	     uint32_t crc)
{
	for (unsigned int i = 0; i < n; i++)
		if (segs[i].len == len && segs[i].seq == seq)
			return segs[i].crc == crc ? 1 : -1;
	return 0;
}

#endif
