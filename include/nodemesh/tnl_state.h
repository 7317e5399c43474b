/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tunnel state's layout and its fabric-address index. With a thousand
 * peers the fabric worker cannot scan the slots for each datagram's
 * source, so the state carries an open-addressing table (linear probing)
 * from fabric address to slot, right after the slots in the same
 * allocation. The control thread rebuilds it whenever a slot is added or
 * cleared (peer add/del: rare); key changes leave it alone.
 */
#ifndef NM_TNL_STATE_H
#define NM_TNL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nodemesh/tnl_state-t.h"

/* Index slots for max_peers: the power of two at least twice as many (load <= 1/2). */
static inline uint32_t
nm_tnl_index_slots(uint32_t max_peers)
{
	uint32_t n = 2;

	while (n < 2 * max_peers)
		n <<= 1;
	return n;
}

/* Bytes of one tunnel state of max_peers slots, index included. */
static inline size_t
nm_tnl_state_size(uint32_t max_peers)
{
	return sizeof(struct nm_tnl_state) + (size_t)max_peers * sizeof(struct nm_tnl_peer) +
	       (size_t)nm_tnl_index_slots(max_peers) * sizeof(uint16_t);
}

/* The index: slot + 1 per entry, 0 empty. */
static inline uint16_t *
nm_tnl_index(struct nm_tnl_state *st)
{
	return (uint16_t *)(void *)&st->peers[st->max_peers];
}

static inline const uint16_t *
nm_tnl_index_const(const struct nm_tnl_state *st)
{
	return (const uint16_t *)(const void *)&st->peers[st->max_peers];
}

/* Fibonacci hashing of the address; any bits of the mask will do. */
static inline uint32_t
nm_tnl_ip_hash(uint32_t ip, uint32_t mask)
{
	return (uint32_t)(((uint64_t)ip * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

/* The slot of the peer whose fabric address is ip (network order), or -1. */
static inline int
nm_tnl_peer_by_ip(const struct nm_tnl_state *st, uint32_t ip)
{
	const uint16_t *ix = nm_tnl_index_const(st);

	for (uint32_t h = nm_tnl_ip_hash(ip, st->ip_mask);; h = (h + 1) & st->ip_mask) {
		uint16_t v = ix[h];
		if (v == 0)
			return -1;
		if (st->peers[v - 1].in_use && st->peers[v - 1].fabric_ip == ip)
			return v - 1;
	}
}

/*
 * Fill the header fields and rebuild the index from the slots in use. The
 * load stays under one half, so every probe ends at an empty entry.
 */
static inline void
nm_tnl_index_build(struct nm_tnl_state *st)
{
	uint16_t *ix = nm_tnl_index(st);

	st->ip_mask = nm_tnl_index_slots(st->max_peers) - 1;
	for (uint32_t h = 0; h <= st->ip_mask; h++)
		ix[h] = 0;
	for (uint32_t i = 0; i < st->max_peers; i++) {
		if (!st->peers[i].in_use)
			continue;
		uint32_t h = nm_tnl_ip_hash(st->peers[i].fabric_ip, st->ip_mask);
		while (ix[h] != 0)
			h = (h + 1) & st->ip_mask;
		ix[h] = (uint16_t)(i + 1);
	}
}

/*
 * The peer's fabric MAC word (struct nm_peer_dyn): the address in bytes
 * 0-5 of the word as memory holds it, NM_PEER_MAC_KNOWN once learnt. Any
 * worker stores it when an ARP reply or an authentic record shows it; the
 * control thread reads it for `tunnel list` and a takeover. True and *mac
 * when known.
 */
static inline bool
nm_peer_mac_get(const struct nm_tnl_peer *p, struct rte_ether_addr *mac)
{
	uint64_t v = __atomic_load_n(&p->dyn->mac, __ATOMIC_RELAXED);

	memcpy(mac->addr_bytes, &v, RTE_ETHER_ADDR_LEN);
	return (v & NM_PEER_MAC_KNOWN) != 0;
}

static inline bool
nm_peer_mac_known(const struct nm_tnl_peer *p)
{
	return (__atomic_load_n(&p->dyn->mac, __ATOMIC_RELAXED) & NM_PEER_MAC_KNOWN) != 0;
}

/* Learn (or correct) the peer's MAC: one atomic store, none when it is known already. */
static inline void
nm_peer_mac_set(const struct nm_tnl_peer *p, const struct rte_ether_addr *mac)
{
	uint64_t v = NM_PEER_MAC_KNOWN;

	memcpy(&v, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	if (__atomic_load_n(&p->dyn->mac, __ATOMIC_RELAXED) != v)
		__atomic_store_n(&p->dyn->mac, v, __ATOMIC_RELAXED);
}

#endif
