/* SPDX-License-Identifier: BSD-3-Clause */
/* Workload identities on record (ctrl/identity.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "identity.h"

static struct nm_identity
ident(const char *ns, const char *name, const char *sa, const char *labels)
{
	struct nm_identity id;

	memset(&id, 0, sizeof(id));
	snprintf(id.ns, sizeof(id.ns), "%s", ns);
	snprintf(id.name, sizeof(id.name), "%s", name);
	snprintf(id.sa, sizeof(id.sa), "%s", sa);
	snprintf(id.labels, sizeof(id.labels), "%s", labels);
	return id;
}

Test(identities, set_replaces_by_namespace_and_name)
{
	struct nm_identities ids = {0};
	struct nm_identity a = ident("shop", "web-0", "web", "app=web");
	struct nm_identity b = ident("blog", "web-0", "blog", "");
	struct nm_identity a2 = ident("shop", "web-0", "web2", "app=web,v=2");

	cr_assert_eq(nm_identities_set(&ids, &a), 0);
	cr_assert_eq(nm_identities_set(&ids, &b), 0);
	cr_expect_eq(ids.n, 2); /* same name, other namespace: another pod */
	cr_assert_eq(nm_identities_set(&ids, &a2), 0);
	cr_expect_eq(ids.n, 2);

	const struct nm_identity *got = nm_identities_find(&ids, "shop", "web-0");
	cr_assert_not_null(got);
	cr_expect_str_eq(got->sa, "web2");
	cr_expect_str_eq(got->labels, "app=web,v=2");
	cr_expect_str_eq(nm_identities_find(&ids, "blog", "web-0")->sa, "blog");
	cr_expect_null(nm_identities_find(&ids, "shop", "web-1"));
	cr_expect_null(nm_identities_find(&ids, "sho", "web-0"));
	nm_identities_free(&ids);
	cr_expect_eq(ids.n, 0);
	cr_expect_null(ids.v);
}

Test(identities, del_keeps_the_others)
{
	struct nm_identities ids = {0};
	char name[16];

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		struct nm_identity id = ident("ns", name, name, "");
		cr_assert_eq(nm_identities_set(&ids, &id), 0);
	}
	cr_expect_eq(nm_identities_del(&ids, "ns", "p17"), 0);
	cr_expect_eq(nm_identities_del(&ids, "ns", "p17"), -ENOENT);
	cr_expect_eq(nm_identities_del(&ids, "other", "p18"), -ENOENT);
	cr_expect_eq(ids.n, 99);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		const struct nm_identity *got = nm_identities_find(&ids, "ns", name);
		if (i == 17) {
			cr_expect_null(got);
		} else {
			cr_assert_not_null(got, "%s", name);
			cr_expect_str_eq(got->sa, name);
		}
	}
	nm_identities_free(&ids);
}

/* Deletions anywhere keep every other entry findable (the index follows the moves). */
Test(identities, index_survives_deletions)
{
	struct nm_identities ids = {0};
	char name[16], sa[16];

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		struct nm_identity id = ident(i % 2 ? "odd" : "even", name, name, "");
		cr_assert_eq(nm_identities_set(&ids, &id), 0);
	}
	for (int i = 0; i < 5000; i += 3) {
		snprintf(name, sizeof(name), "p%d", i);
		cr_assert_eq(nm_identities_del(&ids, i % 2 ? "odd" : "even", name), 0, "%s", name);
	}
	cr_expect_eq(ids.n, 5000 - 1667);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		const struct nm_identity *got =
		    nm_identities_find(&ids, i % 2 ? "odd" : "even", name);
		if (i % 3 == 0) {
			cr_expect_null(got, "%s", name);
			continue;
		}
		cr_assert_not_null(got, "%s", name);
		snprintf(sa, sizeof(sa), "p%d", i);
		cr_expect_str_eq(got->sa, sa);
		cr_expect_null(nm_identities_find(&ids, i % 2 ? "even" : "odd", name));
	}
	nm_identities_free(&ids);
}

Test(identities, bounded)
{
	struct nm_identities ids = {0};
	char name[16];

	for (int i = 0; i < NM_MAX_IDENTITIES; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		struct nm_identity id = ident("ns", name, "sa", "");
		cr_assert_eq(nm_identities_set(&ids, &id), 0);
	}
	struct nm_identity one_more = ident("ns", "last", "sa", "");
	cr_expect_eq(nm_identities_set(&ids, &one_more), -ENOSPC);
	/* Replacing one on record still works when full. */
	struct nm_identity again = ident("ns", "p5", "other", "");
	cr_expect_eq(nm_identities_set(&ids, &again), 0);
	cr_expect_str_eq(nm_identities_find(&ids, "ns", "p5")->sa, "other");
	nm_identities_free(&ids);
}

Test(identities, apply_and_take_from_a_pod)
{
	struct nm_identity id = ident("shop", "web-0", "web", "app=web");
	struct nm_pod_spec spec;
	struct nm_identity back;

	memset(&spec, 0, sizeof(spec));
	snprintf(spec.ns, sizeof(spec.ns), "shop");
	snprintf(spec.name, sizeof(spec.name), "web-0");
	snprintf(id.image, sizeof(id.image), "nginx:1.25");
	nm_identity_apply(&id, &spec);
	cr_expect_str_eq(spec.sa, "web");
	cr_expect_str_eq(spec.labels, "app=web");
	cr_expect_str_eq(spec.image, "nginx:1.25");
	nm_identity_from_spec(&back, &spec);
	cr_expect_eq(memcmp(&back, &id, sizeof(id)), 0);

	nm_identity_apply(NULL, &spec); /* identity withdrawn: unknown */
	cr_expect_str_eq(spec.sa, "");
	cr_expect_str_eq(spec.labels, "");
	cr_expect_str_eq(spec.image, "");
	cr_expect_str_eq(spec.name, "web-0"); /* the attachment stays */
}
