/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table: creation with admission control, lookup, TCP
 * state tracking and timeout sweeps. Only the owning worker writes a
 * table; the control thread reads entries (never the hash) for `flow
 * list`, tolerating a counter that moves while it reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "nodemesh/flow.h"

int
nm_flow_table_init(struct nm_flow_table *t, uint32_t cap, const uint32_t timeout_s[NM_FLOW_STATES],
		   uint64_t tsc_hz, uint32_t seed, int socket, unsigned int worker)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
	    .name = name,
	    .entries = cap,
	    .key_len = sizeof(struct nm_flow_hkey),
	    .hash_func = nm_flow_hkey_hash,
	    .hash_func_init_val = seed, /* per run: chosen 5-tuples cannot aim at a bucket */
	    .socket_id = socket,
	    /* Extendable buckets: the table holds cap keys whatever their hashes. */
	    .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	memset(t, 0, sizeof(*t));
	snprintf(name, sizeof(name), "nm_flows_%u", worker);
	t->h = rte_hash_create(&hp);
	if (t->h == NULL)
		return -ENOMEM;
	t->e = rte_zmalloc_socket("nm_flows", (size_t)cap * sizeof(*t->e), RTE_CACHE_LINE_SIZE,
				  socket);
	if (t->e == NULL) {
		rte_hash_free(t->h);
		t->h = NULL;
		return -ENOMEM;
	}
	t->link = rte_zmalloc_socket("nm_flow_links", (size_t)cap * sizeof(*t->link),
				     RTE_CACHE_LINE_SIZE, socket);
	if (t->link == NULL) {
		rte_free(t->e);
		rte_hash_free(t->h);
		t->e = NULL;
		t->h = NULL;
		return -ENOMEM;
	}
	t->cap = cap;
	t->seed = seed;
	for (int s = 0; s < NM_FLOW_STATES; s++)
		t->timeout_tsc[s] = tsc_hz * timeout_s[s];
	return 0;
}

void
nm_flow_table_fini(struct nm_flow_table *t)
{
	rte_hash_free(t->h);
	t->h = NULL;
	rte_free(t->e);
	t->e = NULL;
	rte_free(t->link);
	t->link = NULL;
}

struct nm_flow *
nm_flow_lookup_with_hash(struct nm_flow_table *t, const struct nm_flow_hkey *hk, uint32_t hash)
{
	int pos = rte_hash_lookup_with_hash(t->h, hk, hash);

	return pos < 0 ? NULL : &t->e[pos];
}

struct nm_flow *
nm_flow_lookup(struct nm_flow_table *t, const struct nm_flow_hkey *hk)
{
	return nm_flow_lookup_with_hash(t, hk, nm_flow_hkey_hash(hk, sizeof(*hk), t->seed));
}

struct nm_flow *
nm_flow_create_with_hash(struct nm_flow_table *t, const struct nm_flow_hkey *hk, uint32_t hash,
			 uint64_t now)
{
	/* Admission: a full table refuses; nothing live is evicted to make room. */
	if (t->n >= t->cap) {
		t->c.refused++;
		return NULL;
	}
	int pos = rte_hash_add_key_with_hash(t->h, hk, hash);
	if (pos < 0) {
		t->c.refused++;
		return NULL;
	}
	struct nm_flow *f = &t->e[pos];
	memset(f, 0, sizeof(*f));
	t->link[pos] = 0;
	f->hk = *hk;
	f->first_tsc = now;
	f->last_tsc = now;
	f->in_use = 1;
	t->n++;
	t->c.created++;
	return f;
}

struct nm_flow *
nm_flow_create(struct nm_flow_table *t, const struct nm_flow_hkey *hk, uint64_t now)
{
	return nm_flow_create_with_hash(t, hk, nm_flow_hkey_hash(hk, sizeof(*hk), t->seed), now);
}

void
nm_flow_delete(struct nm_flow_table *t, struct nm_flow *f)
{
	if (rte_hash_del_key(t->h, &f->hk) >= 0)
		t->n--;
	f->in_use = 0;
}

void
nm_flow_tcp_update(struct nm_flow *f, unsigned int dir, uint8_t flags)
{
	if (flags & RTE_TCP_RST_FLAG) {
		f->state = NM_FLOW_TCP_CLOSED;
		return;
	}
	/* The ports reused for a new connection once the old one closed. */
	if ((flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG &&
	    f->state == NM_FLOW_TCP_CLOSED) {
		f->state = NM_FLOW_TCP_SYN;
		f->fin_seen = 0;
		return;
	}
	if (flags & RTE_TCP_FIN_FLAG) {
		f->fin_seen |= (uint8_t)(1u << dir);
		f->state = f->fin_seen == 3 ? NM_FLOW_TCP_CLOSED : NM_FLOW_TCP_CLOSING;
		return;
	}
	/* Any answer from the responder establishes the flow. */
	if (f->state == NM_FLOW_TCP_SYN && dir == 1)
		f->state = NM_FLOW_TCP_ESTABLISHED;
}

uint8_t
nm_flow_initial_state(uint8_t proto, uint8_t tcp_flags)
{
	switch (proto) {
	case 6:
		/* A first packet that is not a bare SYN is picked up mid-stream. */
		return (tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG
			   ? NM_FLOW_TCP_SYN
			   : NM_FLOW_TCP_ESTABLISHED;
	case 17:
		return NM_FLOW_UDP;
	case 1:
	case 58:
		return NM_FLOW_ICMP;
	default:
		return NM_FLOW_OTHER;
	}
}

bool
nm_flow_expired(const struct nm_flow_table *t, const struct nm_flow *f, uint64_t now)
{
	/* Signed: a packet later in this loop turn may have stamped last_tsc after now. */
	/* Relaxed: a config reload may store a new timeout (ctrl/node_reload.c); any whole value
	 * will do. */
	uint64_t timeout = __atomic_load_n(&t->timeout_tsc[f->state], __ATOMIC_RELAXED);
	return (int64_t)(now - f->last_tsc) > (int64_t)timeout;
}

const char *
nm_flow_state_name(uint8_t state)
{
	static const char *const names[NM_FLOW_STATES] = {
	    [NM_FLOW_TCP_SYN] = "syn",
	    [NM_FLOW_TCP_ESTABLISHED] = "established",
	    [NM_FLOW_TCP_CLOSING] = "closing",
	    [NM_FLOW_TCP_CLOSED] = "closed",
	    [NM_FLOW_UDP] = "udp",
	    [NM_FLOW_ICMP] = "icmp",
	    [NM_FLOW_OTHER] = "other",
	};
	return state < NM_FLOW_STATES ? names[state] : "?";
}
