/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 reassembly and fragmentation on a worker (dataplane/frag.c). */
#ifndef NM_FRAG_H
#define NM_FRAG_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "nodemesh/pkt-t.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/worker-t.h"

#define NM_FRAG_MAX 64 /* a 65535-byte datagram split for the smallest pod MTU (576) */

/*
 * Split m (Ethernet + IPv4, RFC 791) into fragments of at most mtu bytes
 * of IP, each whole in one mbuf with m's Ethernet header and a fresh IP
 * checksum. m is consumed. Returns how many are in frags[NM_FRAG_MAX]
 * (failures are dropped and counted).
 */
unsigned int nm_frag_split(struct nm_worker *w, struct rte_mbuf *m, uint16_t l2_len, uint32_t mtu,
			   struct rte_mbuf **frags);
/*
 * Feed a fragment from the pod whose live state is from to w's reassembly
 * table. Returns the whole datagram (re-parsed into *meta) or NULL when
 * it is held or was dropped (counted).
 */
struct rte_mbuf *nm_frag_reassemble(struct nm_worker *w, struct rte_mbuf *m,
				    struct nm_pkt_meta *meta, struct nm_pod_live *from,
				    uint64_t now);
/* Drop incomplete datagrams past the reassembly timeout (counted as frag_invalid). */
void nm_frag_expire(struct nm_worker *w, uint64_t now);

#endif
