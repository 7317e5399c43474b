/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The observation buffer: see observe.h. Events are JSON objects with
 * "seq", "time", "type" (flow, drop, alert) and "src"/"dst" endpoints
 * (ip, port and, for pods, pod, namespace and serviceaccount or
 * "identity": "unknown"); the filter reads only those.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe.h"

int
nm_observe_init(struct nm_observe *o)
{
	memset(o, 0, sizeof(*o));
	o->ev = calloc(NM_OBSERVE_KEEP, sizeof(json_t *));
	o->next_seq = 1;
	return o->ev != NULL ? 0 : -ENOMEM;
}

void
nm_observe_fini(struct nm_observe *o)
{
	for (unsigned int i = 0; o->ev != NULL && i < NM_OBSERVE_KEEP; i++)
		json_decref(o->ev[i]);
	free(o->ev);
	memset(o, 0, sizeof(*o));
}

void
nm_observe_push(struct nm_observe *o, json_t *ev)
{
	json_t **slot = &o->ev[o->next_seq % NM_OBSERVE_KEEP];

	json_object_set_new(ev, "seq", json_integer((json_int_t)o->next_seq));
	json_decref(*slot);
	*slot = json_incref(ev);
	o->next_seq++;
	o->pushed++;
}

bool
nm_observe_wanted(const struct nm_observe *o, uint64_t now_ms)
{
	return now_ms < o->lease_ms;
}

int
nm_observe_filter_fill(struct nm_observe_filter *f,
		       const char *(*key_fn)(const void *, const char *), const void *ctx,
		       char *err, size_t errlen)
{
	const struct {
		const char *key;
		char *dst;
		size_t len;
		const char *const allowed[5];
	} keys[] = {
	    {"pod", f->pod, sizeof(f->pod), {NULL}},
	    {"namespace", f->ns, sizeof(f->ns), {NULL}},
	    {"identity", f->identity, sizeof(f->identity), {NULL}},
	    {"type", f->type, sizeof(f->type), {"flow", "drop", "alert", "http", NULL}},
	    {"verdict", f->verdict, sizeof(f->verdict), {"allow", "deny", NULL}},
	};

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = key_fn(ctx, keys[i].key);
		if (v == NULL)
			continue;
		bool ok = v[0] != '\0' && strlen(v) < keys[i].len;
		if (ok && keys[i].allowed[0] != NULL) {
			ok = false;
			for (int k = 0; keys[i].allowed[k] != NULL; k++)
				ok |= strcmp(v, keys[i].allowed[k]) == 0;
		}
		if (!ok) {
			snprintf(err, errlen, "'%s' %.64s: %s", keys[i].key, v,
				 keys[i].allowed[0] != NULL ? "not one of the values help lists"
							    : "empty or too long");
			return -EINVAL;
		}
		memcpy(keys[i].dst, v, strlen(v) + 1);
	}
	return 0;
}

static bool
str_is(const json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL && strcmp(v, want) == 0;
}

/* Does endpoint e (an object, or NULL) match the pod, namespace and identity asked for? */
static bool
endpoint_matches(const json_t *e, const struct nm_observe_filter *f)
{
	if (!json_is_object(e))
		return false;
	if (f->pod[0] && !str_is(e, "pod", f->pod))
		return false;
	if (f->ns[0] && !str_is(e, "namespace", f->ns))
		return false;
	if (f->identity[0]) {
		const char *ns = json_string_value(json_object_get(e, "namespace"));
		const char *sa = json_string_value(json_object_get(e, "serviceaccount"));
		char id[160];
		if (ns == NULL)
			return false;
		snprintf(id, sizeof(id), "%s/%s", ns, sa != NULL ? sa : "");
		if (strcmp(f->identity, "unknown") == 0 ? sa != NULL : strcmp(id, f->identity) != 0)
			return false;
	}
	return true;
}

static bool
matches(const json_t *ev, const struct nm_observe_filter *f)
{
	if (f->type[0] && !str_is(ev, "type", f->type))
		return false;
	if (f->verdict[0] && !str_is(ev, "verdict", f->verdict))
		return false;
	if (!f->pod[0] && !f->ns[0] && !f->identity[0])
		return true;
	return endpoint_matches(json_object_get(ev, "src"), f) ||
	       endpoint_matches(json_object_get(ev, "dst"), f);
}

json_t *
nm_observe_query(struct nm_observe *o, const struct nm_observe_filter *f, uint64_t since,
		 unsigned int limit, uint64_t now_ms)
{
	json_t *list = json_array();
	uint64_t oldest = o->next_seq > NM_OBSERVE_KEEP ? o->next_seq - NM_OBSERVE_KEEP : 1;
	uint64_t from = since + 1, lost = 0, seq;

	o->lease_ms = now_ms + NM_OBSERVE_LEASE_MS;
	o->requests++;
	if (since == 0 || since >= o->next_seq)
		from = o->next_seq; /* start now (or a number from before a restart) */
	if (from < oldest) {
		lost = oldest - from;
		from = oldest;
	}
	for (seq = from; seq < o->next_seq && json_array_size(list) < limit; seq++) {
		json_t *ev = o->ev[seq % NM_OBSERVE_KEEP];
		if (ev != NULL && matches(ev, f))
			json_array_append(list, ev);
	}
	return json_pack("{s:o, s:I, s:I}", "events", list, "next", (json_int_t)(seq - 1), "lost",
			 (json_int_t)lost);
}
