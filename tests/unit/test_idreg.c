/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the security identity registry (ctrl/idreg.c): one id per
 * (namespace, service account, label set) whatever the labels' order, the
 * unknown identity, ids kept across rounds while used and reused once
 * free, chains intact across growth and frees, label normalisation, and
 * ids held by remote pods across rounds (nm_idreg_hold, nm_idreg_release).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "idreg.h"

static struct nm_pod_spec
spec(const char *ns, const char *sa, const char *labels)
{
	struct nm_pod_spec s;

	memset(&s, 0, sizeof(s));
	snprintf(s.ns, sizeof(s.ns), "%s", ns);
	snprintf(s.sa, sizeof(s.sa), "%s", sa);
	snprintf(s.labels, sizeof(s.labels), "%s", labels);
	return s;
}

static uint32_t
intern(struct nm_idreg *r, const char *ns, const char *sa, const char *labels)
{
	struct nm_pod_spec s = spec(ns, sa, labels);

	return nm_idreg_intern(r, &s);
}

Test(idreg, labels_normalize)
{
	char out[NM_LABELS_LEN];

	nm_labels_normalize("tier=front,app=web", out, sizeof(out));
	cr_expect_str_eq(out, "app=web,tier=front");
	nm_labels_normalize(",b=2,,a=1,", out, sizeof(out));
	cr_expect_str_eq(out, "a=1,b=2", "empty items dropped");
	nm_labels_normalize("", out, sizeof(out));
	cr_expect_str_eq(out, "");
	nm_labels_normalize("app=web", out, sizeof(out));
	cr_expect_str_eq(out, "app=web");
}

Test(idreg, one_id_per_identity)
{
	struct nm_idreg r = {0};

	nm_idreg_begin(&r);
	uint32_t web = intern(&r, "default", "web", "app=web,tier=front");
	uint32_t web2 = intern(&r, "default", "web", "tier=front,app=web");
	uint32_t other_ns = intern(&r, "prod", "web", "app=web,tier=front");
	uint32_t other_sa = intern(&r, "default", "api", "app=web,tier=front");
	uint32_t other_labels = intern(&r, "default", "web", "app=web");
	uint32_t unknown = intern(&r, "default", "", "app=web");
	nm_idreg_end(&r);

	cr_expect_eq(web, web2, "label order does not make another identity");
	cr_expect_neq(web, NM_IDENTITY_NONE);
	cr_expect_neq(web, other_ns);
	cr_expect_neq(web, other_sa);
	cr_expect_neq(web, other_labels);
	cr_expect_neq(other_ns, other_sa);
	cr_expect_eq(unknown, NM_IDENTITY_NONE, "no service account: the unknown identity");
	cr_expect_eq(r.live, 4);
	const struct nm_idreg_entry *e = nm_idreg_get(&r, web);
	cr_assert_not_null(e);
	cr_expect_str_eq(e->ns, "default");
	cr_expect_str_eq(e->sa, "web");
	cr_expect_str_eq(e->labels, "app=web,tier=front");
	cr_expect_null(nm_idreg_get(&r, NM_IDENTITY_NONE));
	nm_idreg_free(&r);
}

Test(idreg, ids_kept_while_used_and_reused_when_free)
{
	struct nm_idreg r = {0};

	nm_idreg_begin(&r);
	uint32_t a = intern(&r, "ns", "a", "");
	uint32_t b = intern(&r, "ns", "b", "");
	nm_idreg_end(&r);

	nm_idreg_begin(&r); /* b has no pod any more */
	cr_expect_eq(intern(&r, "ns", "a", ""), a, "an identity keeps its id");
	nm_idreg_end(&r);
	cr_expect_eq(r.live, 1);
	cr_expect_null(nm_idreg_get(&r, b), "b's id was freed");

	nm_idreg_begin(&r);
	cr_expect_eq(intern(&r, "ns", "a", ""), a);
	uint32_t c = intern(&r, "ns", "c", "");
	cr_expect_eq(c, b, "a freed id is handed out again");
	uint32_t b_again = intern(&r, "ns", "b", "");
	cr_expect_neq(b_again, c, "b comes back as a new identity");
	nm_idreg_end(&r);
	cr_expect_str_eq(nm_idreg_get(&r, c)->sa, "c");
	cr_expect_eq(r.live, 3);
	nm_idreg_free(&r);
}

Test(idreg, many_identities_through_growth_and_frees)
{
	struct nm_idreg r = {0};
	static uint32_t ids[5000];
	char sa[32];

	nm_idreg_begin(&r);
	for (int i = 0; i < 5000; i++) {
		snprintf(sa, sizeof(sa), "sa%d", i);
		ids[i] = intern(&r, "ns", sa, i % 2 ? "app=x" : "app=y");
		cr_assert_neq(ids[i], NM_IDREG_FULL);
	}
	nm_idreg_end(&r);
	cr_expect_eq(r.live, 5000);

	/* Keep the even ones: every odd id is freed and unlinked from its chain. */
	nm_idreg_begin(&r);
	for (int i = 0; i < 5000; i += 2) {
		snprintf(sa, sizeof(sa), "sa%d", i);
		cr_assert_eq(intern(&r, "ns", sa, "app=y"), ids[i], "sa%d", i);
	}
	nm_idreg_end(&r);
	cr_expect_eq(r.live, 2500);
	cr_expect_eq(r.n_free, 2500);
	for (int i = 1; i < 5000; i += 2)
		cr_expect_null(nm_idreg_get(&r, ids[i]));

	/* Chains still find the survivors after the frees. */
	nm_idreg_begin(&r);
	for (int i = 0; i < 5000; i += 2) {
		snprintf(sa, sizeof(sa), "sa%d", i);
		cr_assert_eq(intern(&r, "ns", sa, "app=y"), ids[i]);
	}
	nm_idreg_end(&r);
	cr_expect_eq(r.n_free, 2500, "no new ids for known identities");
	nm_idreg_free(&r);
}

Test(idreg, a_held_id_survives_rounds_until_its_last_holder_lets_go)
{
	struct nm_idreg r = {0};
	struct nm_pod_spec remote = spec("sim", "sim-001", "app=x");
	struct nm_pod_spec none = spec("sim", "", "");
	bool created;

	cr_expect_eq(nm_idreg_hold(&r, &none, &created), NM_IDENTITY_NONE);
	cr_expect_not(created, "the unknown identity is never new");
	cr_expect_not(nm_idreg_release(&r, NM_IDENTITY_NONE));

	uint32_t id = nm_idreg_hold(&r, &remote, &created);
	cr_assert_neq(id, NM_IDENTITY_NONE);
	cr_expect(created, "a new id: the policy must learn it");
	cr_expect_eq(nm_idreg_hold(&r, &remote, &created), id);
	cr_expect_not(created, "held twice, one id");

	/* A round in which no local pod has it: kept, it is held. */
	nm_idreg_begin(&r);
	nm_idreg_end(&r);
	cr_expect_not_null(nm_idreg_get(&r, id));
	cr_expect_eq(r.live, 1);

	cr_expect_not(nm_idreg_release(&r, id), "one holder left");
	cr_expect(nm_idreg_release(&r, id), "the last holder: compile again");
	cr_expect_not(nm_idreg_release(&r, id), "released more often than held: ignored");
	cr_expect_not_null(nm_idreg_get(&r, id), "freed only by the next round");
	nm_idreg_begin(&r);
	nm_idreg_end(&r);
	cr_expect_null(nm_idreg_get(&r, id));
	cr_expect_eq(r.live, 0);

	/* A local pod interning it in the round keeps it after its holders went. */
	id = nm_idreg_hold(&r, &remote, &created);
	cr_expect(created);
	cr_expect(nm_idreg_release(&r, id));
	nm_idreg_begin(&r);
	cr_expect_eq(nm_idreg_intern(&r, &remote), id);
	nm_idreg_end(&r);
	cr_expect_not_null(nm_idreg_get(&r, id));
	nm_idreg_free(&r);
}
