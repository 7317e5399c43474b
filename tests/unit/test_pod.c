/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the pod table (ctrl/pod_table.c): copy-on-write clones,
 * the by-address index, per-worker ownership lists and the refusals. The
 * table lives in DPDK memory, so each test runs with a small in-memory EAL
 * (Criterion forks one process per test).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "nodemesh/pod_index.h"
#include "pod_table.h"
#include "policy_compile.h"
#include "unit_eal.h"

TestSuite(pod, .init = nm_test_eal_up);

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct nm_pod_live lives[NM_MAX_PODS];

static void
put(struct nm_pod_table *t, uint16_t slot, const char *name, const char *addr, uint16_t worker)
{
	struct nm_pod *p = &t->pods[slot];

	memset(p, 0, sizeof(*p));
	snprintf(p->spec.name, sizeof(p->spec.name), "%s", name);
	p->spec.ip = ip(addr);
	p->worker = worker;
	p->id = slot + 100u;
	p->live = &lives[slot];
}

static int
lookup(const struct nm_pod_table *t, const char *addr)
{
	return nm_pod_index_lookup(t, ip(addr));
}

Test(pod, empty_table_finds_nothing)
{
	struct nm_pod_table *t = nm_pod_table_clone(NULL, 42, 2);

	cr_assert_not_null(t);
	cr_assert_eq(t->n_pods, 0);
	cr_assert_eq(t->generation, 1);
	cr_assert_eq(lookup(t, "198.18.0.1"), -1);
	cr_assert_eq(nm_pod_table_find_name(t, "web"), -1);
	nm_pod_table_free(t);
}

Test(pod, index_rejects_owner_beyond_workers)
{
	struct nm_pod_table *t = nm_pod_table_clone(NULL, 1, 2);

	put(t, 0, "web", "198.18.0.1", 2); /* workers are 0 and 1 */
	cr_assert_eq(nm_pod_table_index(t, 1, 2), -EINVAL);
	nm_pod_table_free(t);
}

Test(pod, index_maps_addresses_to_slots_and_owners)
{
	struct nm_pod_table *t = nm_pod_table_clone(NULL, 7, 2);

	put(t, 0, "web", "198.18.0.1", 0);
	put(t, 3, "api", "198.18.0.2", 1);
	put(t, 9, "db", "198.18.0.3", 1);
	cr_assert_eq(nm_pod_table_index(t, 7, 2), 0);

	cr_assert_eq(t->n_pods, 3);
	cr_assert_eq(lookup(t, "198.18.0.1"), 0);
	cr_assert_eq(lookup(t, "198.18.0.2"), 3);
	cr_assert_eq(lookup(t, "198.18.0.3"), 9);
	cr_assert_eq(lookup(t, "198.18.0.4"), -1);
	cr_assert_eq(t->n_owned[0], 1);
	cr_assert_eq(t->owned[0][0], 0);
	cr_assert_eq(t->n_owned[1], 2);
	cr_assert_eq(t->owned[1][0], 3);
	cr_assert_eq(t->owned[1][1], 9);
	cr_assert_eq(nm_pod_table_find_name(t, "db"), 9);
	cr_assert_eq(nm_pod_table_find_name(t, "nope"), -1);
	nm_pod_table_free(t);
}

Test(pod, clone_is_independent_of_its_source)
{
	struct nm_pod_table *a = nm_pod_table_clone(NULL, 5, 1);

	put(a, 0, "web", "198.18.0.1", 0);
	put(a, 1, "api", "198.18.0.2", 0);
	cr_assert_eq(nm_pod_table_index(a, 5, 1), 0);

	/* Delete "web" in the clone, as pod del does: the published table is untouched. */
	struct nm_pod_table *b = nm_pod_table_clone(a, 5, 1);
	cr_assert_not_null(b);
	cr_assert_eq(b->generation, a->generation + 1);
	memset(&b->pods[0], 0, sizeof(b->pods[0]));
	cr_assert_eq(nm_pod_table_index(b, 5, 1), 0);

	cr_assert_eq(lookup(b, "198.18.0.1"), -1);
	cr_assert_eq(lookup(b, "198.18.0.2"), 1);
	cr_assert_eq(b->n_pods, 1);
	cr_assert_eq(lookup(a, "198.18.0.1"), 0, "source table changed under a reader");
	cr_assert_eq(a->n_pods, 2);
	nm_pod_table_free(a);
	nm_pod_table_free(b);
}

Test(pod, full_table_indexes_every_slot)
{
	struct nm_pod_table *t = nm_pod_table_clone(NULL, 99, 4);
	char name[16], addr[16];

	for (uint16_t s = 0; s < NM_MAX_PODS; s++) {
		snprintf(name, sizeof(name), "p%u", s);
		snprintf(addr, sizeof(addr), "198.18.%u.%u", (unsigned int)(s / 200),
			 (unsigned int)(1 + s % 200));
		put(t, s, name, addr, s % 4);
	}
	cr_assert_eq(nm_pod_table_index(t, 99, 4), 0);
	cr_assert_eq(t->n_pods, NM_MAX_PODS);
	for (unsigned int w = 0; w < 4; w++)
		cr_assert_eq(t->n_owned[w], NM_MAX_PODS / 4);
	cr_assert_eq(lookup(t, "198.18.1.56"), 255);
	nm_pod_table_free(t);
}

Test(pod, seed_changes_nothing_visible)
{
	/* Different per-run seeds must give the same answers. */
	for (uint64_t seed = 0; seed < 4; seed++) {
		struct nm_pod_table *t = nm_pod_table_clone(NULL, seed * 0x9e3779b97f4a7c15ull, 1);
		put(t, 2, "web", "198.18.0.1", 0);
		cr_assert_eq(nm_pod_table_index(t, seed, 1), 0);
		cr_assert_eq(lookup(t, "198.18.0.1"), 2);
		nm_pod_table_free(t);
	}
}
