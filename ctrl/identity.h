/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Workload identities, keyed by pod namespace and name: what a node agent
 * that watches the API server says a pod is (service account, labels,
 * image). Kubernetes gives a CNI plugin none of these, and a pod must not
 * choose its own, so they arrive apart from the attachment and may come
 * before or after it. Control thread only.
 */
#ifndef NM_IDENTITY_H
#define NM_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nodemesh/pod-t.h"

#define NM_MAX_IDENTITIES 65536 /* identities one node keeps */

struct nm_identity {
	char ns[NM_NAME_LEN];
	char name[NM_NAME_LEN];
	char sa[NM_NAME_LEN];
	char labels[NM_LABELS_LEN];
	char image[NM_IMAGE_LEN];
};

/*
 * A growable array with a chained hash index by namespace/name; a node
 * holds one. Zero-initialised is empty.
 */
struct nm_identities {
	struct nm_identity *v;
	int32_t *next;	 /* per entry: the next entry of its bucket, or -1 */
	int32_t *bucket; /* cap buckets: the first entry, or -1 */
	unsigned int n;
	unsigned int cap; /* entries and buckets allocated (a power of two) */
};

/* Insert or replace the identity of id->ns/id->name. 0, -ENOSPC or -ENOMEM. */
int nm_identities_set(struct nm_identities *ids, const struct nm_identity *id);
/* Forget ns/name. 0 or -ENOENT. */
int nm_identities_del(struct nm_identities *ids, const char *ns, const char *name);
/* The identity of ns/name, or NULL. */
const struct nm_identity *nm_identities_find(const struct nm_identities *ids, const char *ns,
					     const char *name);
void nm_identities_free(struct nm_identities *ids);

/* Give spec the identity (NULL: unknown, the fields cleared). */
void nm_identity_apply(const struct nm_identity *id, struct nm_pod_spec *spec);
/* Take the identity a pod spec carries (ns, name, sa, labels, image). */
void nm_identity_from_spec(struct nm_identity *id, const struct nm_pod_spec *spec);

#endif
