/* SPDX-License-Identifier: BSD-3-Clause */
/* The observation buffer (ctrl/observe.c): numbering, catching up, loss, filters. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "observe.h"

static json_t *
ev(const char *type, const char *verdict, const char *src_pod, const char *src_sa,
   const char *dst_pod)
{
	json_t *src =
	    json_pack("{s:s, s:s, s:s}", "ip", "198.18.0.1", "pod", src_pod, "namespace", "test");
	if (src_sa != NULL)
		json_object_set_new(src, "serviceaccount", json_string(src_sa));
	else
		json_object_set_new(src, "identity", json_string("unknown"));
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s}}", "type", type, "verdict",
			 verdict, "src", src, "dst", "ip", "198.18.0.2", "pod", dst_pod,
			 "namespace", "test", "serviceaccount", "sa-2");
}

/* An http event as node_observe.c shapes it: EVE fields, src and dst, no verdict. */
static json_t *
http_ev(const char *src_pod, const char *src_sa, const char *dst_pod)
{
	json_t *e = ev("http", "", src_pod, src_sa, dst_pod);

	json_object_del(e, "verdict");
	json_object_set_new(e, "http",
			    json_pack("{s:s, s:s, s:i}", "http_method", "GET", "url", "/index.html",
				      "status", 200));
	return e;
}

static void
push(struct nm_observe *o, json_t *e)
{
	nm_observe_push(o, e);
	json_decref(e);
}

static const struct nm_observe_filter any;

Test(observe, numbers_and_catching_up)
{
	struct nm_observe o;

	cr_assert_eq(nm_observe_init(&o), 0);
	/* since=0: start now, nothing old. */
	push(&o, ev("drop", "deny", "a", "sa-1", "b"));
	json_t *r = nm_observe_query(&o, &any, 0, 100, 1000);
	cr_expect_eq(json_array_size(json_object_get(r, "events")), 0);
	json_int_t next = json_integer_value(json_object_get(r, "next"));
	cr_expect_eq(next, 1);
	json_decref(r);

	push(&o, ev("flow", "allow", "a", "sa-1", "b"));
	push(&o, ev("drop", "deny", "c", NULL, "b"));
	r = nm_observe_query(&o, &any, (uint64_t)next, 100, 1000);
	cr_assert_eq(json_array_size(json_object_get(r, "events")), 2);
	cr_expect_eq(json_integer_value(
			 json_object_get(json_array_get(json_object_get(r, "events"), 0), "seq")),
		     2);
	cr_expect_eq(json_integer_value(json_object_get(r, "next")), 3);
	cr_expect_eq(json_integer_value(json_object_get(r, "lost")), 0);
	json_decref(r);

	/* limit: the rest comes with the next ask. */
	r = nm_observe_query(&o, &any, 1, 1, 1000);
	cr_expect_eq(json_array_size(json_object_get(r, "events")), 1);
	cr_expect_eq(json_integer_value(json_object_get(r, "next")), 2);
	json_decref(r);
	nm_observe_fini(&o);
}

Test(observe, lease)
{
	struct nm_observe o;

	cr_assert_eq(nm_observe_init(&o), 0);
	cr_expect(!nm_observe_wanted(&o, 1000));
	json_decref(nm_observe_query(&o, &any, 0, 10, 1000));
	cr_expect(nm_observe_wanted(&o, 1000 + NM_OBSERVE_LEASE_MS - 1));
	cr_expect(!nm_observe_wanted(&o, 1000 + NM_OBSERVE_LEASE_MS));
	nm_observe_fini(&o);
}

/* A reader further behind than the buffer is told how many it lost. */
Test(observe, loss_is_counted)
{
	struct nm_observe o;

	cr_assert_eq(nm_observe_init(&o), 0);
	for (int i = 0; i < NM_OBSERVE_KEEP + 10; i++)
		push(&o, ev("drop", "deny", "a", "sa-1", "b"));
	json_t *r = nm_observe_query(&o, &any, 1, 5, 1000);
	/* Kept: 11 .. KEEP + 10; the reader saw 1, so 2 .. 10 are gone. */
	cr_expect_eq(json_integer_value(json_object_get(r, "lost")), 9);
	cr_expect_eq(json_integer_value(
			 json_object_get(json_array_get(json_object_get(r, "events"), 0), "seq")),
		     11);
	json_decref(r);
	nm_observe_fini(&o);
}

static const char *
kv(const void *ctx, const char *key)
{
	const char *const *p = ctx;

	for (; p[0] != NULL; p += 2)
		if (strcmp(p[0], key) == 0)
			return p[1];
	return NULL;
}

static size_t
count(struct nm_observe *o, const char *const *filter)
{
	struct nm_observe_filter f;
	char err[128];

	cr_assert_eq(nm_observe_filter_fill(&f, kv, filter, err, sizeof(err)), 0, "%s", err);
	json_t *r = nm_observe_query(o, &f, 1, 100, 0);
	size_t n = json_array_size(json_object_get(r, "events"));
	json_decref(r);
	return n;
}

Test(observe, filters)
{
	struct nm_observe o;
	static const char *const by_type[] = {"type", "drop", NULL};
	static const char *const by_http[] = {"type", "http", "identity", "test/sa-1", NULL};
	static const char *const http_of_c[] = {"type", "http", "pod", "c", NULL};
	static const char *const by_verdict[] = {"verdict", "allow", NULL};
	static const char *const by_pod[] = {"pod", "c", NULL};
	static const char *const by_dst_pod[] = {"pod", "b", NULL};
	static const char *const by_identity[] = {"identity", "test/sa-1", NULL};
	static const char *const unknown[] = {"identity", "unknown", NULL};
	static const char *const both[] = {"type", "drop", "identity", "test/sa-1", NULL};
	static const char *const bad[] = {"verdict", "maybe", NULL};
	struct nm_observe_filter f;
	char err[128];

	cr_assert_eq(nm_observe_init(&o), 0);
	push(&o, ev("drop", "deny", "x", "sa-9", "y")); /* seq 1: before since */
	push(&o, ev("drop", "deny", "a", "sa-1", "b"));
	push(&o, ev("flow", "allow", "a", "sa-1", "b"));
	push(&o, ev("drop", "deny", "c", NULL, "b"));
	push(&o, http_ev("a", "sa-1", "b"));
	cr_expect_eq(count(&o, by_type), 2);
	cr_expect_eq(count(&o, by_http), 1);
	cr_expect_eq(count(&o, http_of_c), 0);
	cr_expect_eq(count(&o, by_verdict), 1);
	cr_expect_eq(count(&o, by_pod), 1);
	cr_expect_eq(count(&o, by_dst_pod), 4);	 /* either end */
	cr_expect_eq(count(&o, by_identity), 3); /* the three with src test/sa-1 */
	cr_expect_eq(count(&o, unknown), 1);
	cr_expect_eq(count(&o, both), 1);
	cr_expect_eq(nm_observe_filter_fill(&f, kv, bad, err, sizeof(err)), -EINVAL);
	cr_expect_not_null(strstr(err, "'verdict' maybe"), "%s", err);
	nm_observe_fini(&o);
}
