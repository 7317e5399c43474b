/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security identities: the numbers policy is compiled against. A workload
 * identity is a namespace, a service account and a label set; every pod
 * that has the same three shares one id, local or announced by a peer, so
 * policy costs rules x identities, not rules x pods (Cilium's numeric
 * security identity, kept per node).
 *
 * Id 0 is the unknown identity (a pod whose service account is not known
 * yet): it matches no selector but '*'. An id stays the same for as long
 * as some pod has that identity: each publication interns the identities
 * of the table's pods (nm_idreg_begin, nm_idreg_intern for each pod,
 * nm_idreg_end), and nm_idreg_end frees the ids no pod used, for reuse.
 * Remote pods (the ipcache) are not in the table: each holds its id with
 * a count (nm_idreg_hold, nm_idreg_release), and a held id survives the
 * rounds. Control thread only.
 */
#ifndef NM_IDREG_H
#define NM_IDREG_H

#include <stdbool.h>
#include <stdint.h>

#include "nodemesh/pod-t.h"

#define NM_IDREG_MAX	 (1u << 20) /* identity ids one node hands out */
#define NM_IDENTITY_NONE 0u	    /* the unknown identity */
#define NM_IDREG_FULL	 UINT32_MAX /* nm_idreg_intern: out of ids or memory */

struct nm_idreg_entry {
	char ns[NM_NAME_LEN];
	char sa[NM_NAME_LEN];
	char labels[NM_LABELS_LEN]; /* "k=v,k=v", items sorted: one spelling per label set */
	uint32_t hash;
	uint32_t next;	/* the next id in its bucket, 0: none */
	uint32_t round; /* the last round that interned it; 0: free */
	uint32_t held;	/* remote pods holding it (nm_idreg_hold): kept across rounds */
};

/* Zero-initialised is empty. */
struct nm_idreg {
	struct nm_idreg_entry *e; /* by id; e[0] is the unknown identity, never in a bucket */
	uint32_t *bucket;	  /* n_buckets heads, 0: empty */
	uint32_t *free_ids;	  /* ids given back, reused first */
	uint32_t n_free;
	uint32_t n;	    /* ids handed out so far, incl. 0: e[0..n) */
	uint32_t cap;	    /* entries allocated */
	uint32_t n_buckets; /* a power of two, at least cap / 2 */
	uint32_t round;
	uint32_t live; /* ids interned in the last completed round, 0 excluded */
};

/* Start a round of interning. */
void nm_idreg_begin(struct nm_idreg *r);
/*
 * The id of spec's identity (ns, sa, labels), given out now if it is new;
 * NM_IDENTITY_NONE when spec->sa is empty; NM_IDREG_FULL when out of ids
 * or memory.
 */
uint32_t nm_idreg_intern(struct nm_idreg *r, const struct nm_pod_spec *spec);
/* End the round: ids not interned in it and not held are freed for reuse. */
void nm_idreg_end(struct nm_idreg *r);
/*
 * Intern spec's identity and hold it (a remote pod has it): the id, with
 * *created true when it is new (the compiled policy does not know it yet);
 * NM_IDENTITY_NONE (not held) when spec->sa is empty; NM_IDREG_FULL.
 */
uint32_t nm_idreg_hold(struct nm_idreg *r, const struct nm_pod_spec *spec, bool *created);
/*
 * A remote pod lets id go. True when it was the last hold: the next round
 * frees the id unless a local pod has it (the policy should be compiled again).
 */
bool nm_idreg_release(struct nm_idreg *r, uint32_t id);
/* The entry of a live id (not 0), or NULL. */
const struct nm_idreg_entry *nm_idreg_get(const struct nm_idreg *r, uint32_t id);
void nm_idreg_free(struct nm_idreg *r);

/*
 * Labels "k=v,k=v" with the items sorted and empty items dropped, into out
 * (outlen bytes, at least as long as labels). Two spellings of one set give
 * one string.
 */
void nm_labels_normalize(const char *labels, char *out, size_t outlen);

#endif
