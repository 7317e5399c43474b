/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking tables (dataplane/flow.c); the types and the design
 * are in nodemesh/flow-t.h. Each worker owns its table; the control thread
 * creates it through nm_worker_create() and reads it only for listings.
 */
#ifndef NM_FLOW_H
#define NM_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_jhash.h>
#include <rte_vect.h>

#include "nodemesh/flow-t.h"

/*
 * The table hashes a key in two steps so that a packet's 5-tuple is hashed
 * once, not once per side: a flow between two local pods is looked up on
 * the source pod's side at egress and on the destination pod's at ingress,
 * with keys that differ only in pod_id. The 5-tuple's hash is jhash with
 * the table's per-run seed, as one rte_jhash over the whole key was.
 */

/* Is k an IPv4 flow's key: both addresses IPv4-mapped (::ffff:a.b.c.d)? */
static inline bool
nm_flow_key_is_v4(const uint32_t w[10])
{
	const uint32_t mapped = rte_cpu_to_be_32(0xffff);

	return (w[0] | w[1] | w[4] | w[5]) == 0 && w[2] == mapped && w[6] == mapped;
}

/*
 * Step one, per packet: the normalised 5-tuple alone. An IPv4 key (the
 * common case) hashes only its words that vary, the two addresses and the
 * ports, with the protocol in the seed: jhash's final mix alone, where
 * ten words take three mixing rounds before it.
 */
static inline uint32_t
nm_flow_key_hash(const struct nm_flow_key *k, uint32_t seed)
{
	uint32_t w[sizeof(*k) / 4];

	memcpy(w, k, sizeof(w)); /* 10 words: addr_lo 0-3, addr_hi 4-7, ports 8, proto 9 */
	if (nm_flow_key_is_v4(w))
		return rte_jhash_3words(w[3], w[7], w[8], seed ^ w[9]);
	return rte_jhash_32b(w, RTE_DIM(w), seed);
}

/*
 * Step two, per side: the 5-tuple's hash with the side's pod, by XOR with
 * a multiplicative spread of the pod id (Knuth's golden-ratio constant),
 * so that the same 5-tuple on two pods lands in unrelated buckets. Two
 * keys of one pod collide only where their seeded 5-tuple hashes do, as
 * under a full jhash of the key; a second jhash per side cost 30
 * instructions a packet.
 */
static inline uint32_t
nm_flow_side_hash(uint32_t tuple_hash, uint32_t pod_id)
{
	return tuple_hash ^ (pod_id * UINT32_C(0x9e3779b1));
}

/* The table's hash function (rte_hash calls it when not given a hash): both steps. */
static inline uint32_t
nm_flow_hkey_hash(const void *key, uint32_t key_len, uint32_t seed)
{
	const struct nm_flow_hkey *hk = key;

	(void)key_len; /* always sizeof(struct nm_flow_hkey) */
	return nm_flow_side_hash(nm_flow_key_hash(&hk->k, seed), hk->pod_id);
}

/*
 * Keys equal as bytes, as rte_hash compares them; inline, where memcmp() is
 * a call. On x86 three 16-byte compares (SSE2, rte_vect.h), as rte_hash's
 * own k48 compare does; elsewhere six 8-byte words.
 */
static inline bool
nm_flow_hkey_eq(const struct nm_flow_hkey *a, const struct nm_flow_hkey *b)
{
#if defined(RTE_ARCH_X86)
	const __m128i *x = (const __m128i *)(const void *)a;
	const __m128i *y = (const __m128i *)(const void *)b;
	__m128i d = _mm_or_si128(
	    _mm_or_si128(_mm_xor_si128(_mm_loadu_si128(x), _mm_loadu_si128(y)),
			 _mm_xor_si128(_mm_loadu_si128(x + 1), _mm_loadu_si128(y + 1))),
	    _mm_xor_si128(_mm_loadu_si128(x + 2), _mm_loadu_si128(y + 2)));

	RTE_BUILD_BUG_ON(sizeof(*a) != 3 * sizeof(__m128i));
	return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
#else
	uint64_t x[6], y[6];

	RTE_BUILD_BUG_ON(sizeof(*a) != sizeof(x));
	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	/* Written out: -O2 does not unroll the loop, which then costs 80 instructions. */
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]) |
		(x[5] ^ y[5])) == 0;
#endif
}

/* The entry f's link names in t (nm_flow_table's link), or NULL: a hint to check. */
static inline struct nm_flow *
nm_flow_linked(const struct nm_flow_table *t, const struct nm_flow *f)
{
	uint32_t l = t->link[f - t->e];

	return l != 0 ? &t->e[l - 1] : NULL;
}

/* Link from's entry to to's, both of t. */
static inline void
nm_flow_link(struct nm_flow_table *t, const struct nm_flow *from, const struct nm_flow *to)
{
	t->link[from - t->e] = (uint32_t)(to - t->e) + 1;
}

/* flow.c */
int nm_flow_table_init(struct nm_flow_table *t, uint32_t cap,
		       const uint32_t timeout_s[NM_FLOW_STATES], uint64_t tsc_hz, uint32_t seed,
		       int socket, unsigned int worker);
void nm_flow_table_fini(struct nm_flow_table *t);
struct nm_flow *nm_flow_lookup(struct nm_flow_table *t, const struct nm_flow_hkey *hk);
/* The same with hk's hash already computed (nm_flow_hkey_hash with t->seed). */
struct nm_flow *nm_flow_lookup_with_hash(struct nm_flow_table *t, const struct nm_flow_hkey *hk,
					 uint32_t hash);
/* New entry, or NULL (counted as refused) when the table is full. */
struct nm_flow *nm_flow_create(struct nm_flow_table *t, const struct nm_flow_hkey *hk,
			       uint64_t now);
struct nm_flow *nm_flow_create_with_hash(struct nm_flow_table *t, const struct nm_flow_hkey *hk,
					 uint32_t hash, uint64_t now);
void nm_flow_delete(struct nm_flow_table *t, struct nm_flow *f);
/* TCP state after a packet with flags in direction dir (enum nm_flow_dir). */
void nm_flow_tcp_update(struct nm_flow *f, unsigned int dir, uint8_t flags);
uint8_t nm_flow_initial_state(uint8_t proto, uint8_t tcp_flags);
bool nm_flow_expired(const struct nm_flow_table *t, const struct nm_flow *f, uint64_t now);
const char *nm_flow_state_name(uint8_t state);

#endif
