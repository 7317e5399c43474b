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

#include "nodemesh/flow-t.h"

/* flow.c */
int nm_flow_table_init(struct nm_flow_table *t, uint32_t cap,
		       const uint32_t timeout_s[NM_FLOW_STATES], uint64_t tsc_hz, uint32_t seed,
		       int socket, unsigned int worker);
void nm_flow_table_fini(struct nm_flow_table *t);
struct nm_flow *nm_flow_lookup(struct nm_flow_table *t, const struct nm_flow_hkey *hk);
/* New entry, or NULL (counted as refused) when the table is full. */
struct nm_flow *nm_flow_create(struct nm_flow_table *t, const struct nm_flow_hkey *hk,
			       uint64_t now);
void nm_flow_delete(struct nm_flow_table *t, struct nm_flow *f);
/* TCP state after a packet with flags in direction dir (enum nm_flow_dir). */
void nm_flow_tcp_update(struct nm_flow *f, unsigned int dir, uint8_t flags);
uint8_t nm_flow_initial_state(uint8_t proto, uint8_t tcp_flags);
bool nm_flow_expired(const struct nm_flow_table *t, const struct nm_flow *f, uint64_t now);
const char *nm_flow_state_name(uint8_t state);

#endif
