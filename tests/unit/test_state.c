/* SPDX-License-Identifier: BSD-3-Clause */
/* The run-time state file (ctrl/state.c): round trip, and every damage refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>

#include "rule.h"
#include "state.h"

static const char *
kv(const void *ctx, const char *key)
{
	const char *const *p = ctx;

	for (; p[0] != NULL; p += 2)
		if (strcmp(p[0], key) == 0)
			return p[1];
	return NULL;
}

/* A state with one of everything, the optional keys both ways. */
static void
sample(struct nm_state *st)
{
	static const char *const pod_a[] = {"name",	 "web-0",      "namespace", "shop",
					    "ip",	 "198.18.0.2", "iface",	    "nmweb0",
					    "container", "3f2a9c0b",   NULL};
	static const char *const pod_b[] = {
	    "name",   "db",    "namespace", "data",	   "ip",  "198.18.0.3",
	    "driver", "memif", "socket",    "/run/x.sock", "mac", "02:00:00:00:00:07",
	    NULL};
	static const char *const id_a[] = {
	    "namespace",	  "shop",  "name",	 "web-0", "serviceaccount", "web", "labels",
	    "app=web,tier=front", "image", "nginx:1.25", NULL};
	static const char *const peer[] = {"name",	    "node-b",	     "address",
					   "10.0.0.2:4791", "fabric_ip",     "198.19.0.2",
					   "pod_cidr",	    "198.18.2.0/24", NULL};
	char err[256];

	memset(st, 0, sizeof(*st));
	st->pods = calloc(2, sizeof(*st->pods));
	st->identities = calloc(1, sizeof(*st->identities));
	st->rules = calloc(2, sizeof(*st->rules));
	st->peers = calloc(1, sizeof(*st->peers));
	cr_assert(st->pods && st->identities && st->rules && st->peers);
	cr_assert_eq(nm_pod_spec_fill(&st->pods[0], kv, pod_a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nm_pod_spec_fill(&st->pods[1], kv, pod_b, err, sizeof(err)), 0, "%s", err);
	st->n_pods = 2;
	cr_assert_eq(nm_identity_fill(&st->identities[0], kv, id_a, err, sizeof(err)), 0, "%s",
		     err);
	st->n_identities = 1;
	cr_assert_eq(nm_rule_parse("allow from shop/web to data/* proto tcp port 5432",
				   &st->rules[0], err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(nm_rule_parse("deny from * to app=db", &st->rules[1], err, sizeof(err)), 0,
		     "%s", err);
	st->rules[0].id = 3;
	st->rules[1].id = 7;
	st->n_rules = 2;
	st->next_rule_id = 9;
	st->default_allow = 1;
	cr_assert_eq(nm_peer_spec_fill(&st->peers[0], kv, peer, err, sizeof(err)), 0, "%s", err);
	st->n_peers = 1;
	snprintf(st->sig_file, sizeof(st->sig_file), "/etc/nodemesh/et.rules");
}

/* The encoded file of sample(). */
static char *
sample_file(size_t *len)
{
	struct nm_state st;

	sample(&st);
	json_t *body = nm_state_body(&st, "node-a");
	cr_assert_not_null(body);
	char *buf = nm_state_encode(body, len);
	cr_assert_not_null(buf);
	json_decref(body);
	nm_state_clear(&st);
	return buf;
}

Test(state, round_trip)
{
	struct nm_state want, got;
	char err[256];
	size_t len;

	sample(&want);
	char *buf = sample_file(&len);
	cr_assert_eq(strncmp(buf, "nodemesh-state 1 ", 17), 0, "%.40s", buf);
	json_t *body = nm_state_decode(buf, len, err, sizeof(err));
	cr_assert_not_null(body, "%s", err);
	cr_assert_eq(nm_state_parse(body, &got, err, sizeof(err)), 0, "%s", err);

	cr_assert_eq(got.n_pods, 2);
	cr_expect_eq(memcmp(&got.pods[0], &want.pods[0], sizeof(got.pods[0])), 0);
	cr_expect_eq(memcmp(&got.pods[1], &want.pods[1], sizeof(got.pods[1])), 0);
	cr_expect_str_eq(got.pods[0].container, "3f2a9c0b");
	cr_expect_eq(got.pods[1].has_mac, 1);
	cr_assert_eq(got.n_identities, 1);
	cr_expect_eq(memcmp(&got.identities[0], &want.identities[0], sizeof(want.identities[0])),
		     0);
	cr_assert_eq(got.n_rules, 2);
	cr_expect_eq(got.rules[0].id, 3);
	cr_expect_eq(got.rules[1].id, 7);
	cr_expect_str_eq(got.rules[0].text, want.rules[0].text);
	cr_expect_str_eq(got.rules[1].text, want.rules[1].text);
	cr_expect_eq(got.next_rule_id, 9);
	cr_expect_eq(got.default_allow, 1);
	cr_assert_eq(got.n_peers, 1);
	cr_expect_eq(memcmp(&got.peers[0], &want.peers[0], sizeof(want.peers[0])), 0);
	cr_expect_str_eq(got.sig_file, "/etc/nodemesh/et.rules");

	/* Encoding what was read gives the same bytes: nothing is lost or reordered. */
	json_t *again = nm_state_body(&got, "node-a");
	size_t len2;
	char *buf2 = nm_state_encode(again, &len2);
	cr_expect_eq(len2, len);
	cr_expect_eq(memcmp(buf, buf2, len), 0);
	free(buf2);
	json_decref(again);
	json_decref(body);
	nm_state_clear(&got);
	nm_state_clear(&want);
	free(buf);
}

Test(state, empty_state_round_trips)
{
	struct nm_state st = {.next_rule_id = 1}, got;
	char err[256];
	size_t len;

	json_t *body = nm_state_body(&st, "n");
	char *buf = nm_state_encode(body, &len);
	json_decref(body);
	body = nm_state_decode(buf, len, err, sizeof(err));
	cr_assert_not_null(body, "%s", err);
	cr_assert_eq(nm_state_parse(body, &got, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(got.n_pods + got.n_identities + got.n_rules + got.n_peers, 0);
	cr_expect_str_eq(got.sig_file, "");
	cr_expect_eq(got.default_allow, 0);
	nm_state_clear(&got);
	json_decref(body);
	free(buf);
}

/* Cut anywhere, the file is refused. */
Test(state, every_truncation_refused)
{
	char err[256];
	size_t len;
	char *buf = sample_file(&len);

	for (size_t n = 0; n < len; n++) {
		json_t *j = nm_state_decode(buf, n, err, sizeof(err));
		cr_expect_null(j, "accepted cut at %zu of %zu", n, len);
		json_decref(j);
	}
	free(buf);
}

/* One bit flipped anywhere, the file is refused. */
Test(state, every_bit_flip_refused)
{
	char err[256];
	size_t len;
	char *buf = sample_file(&len);

	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			json_t *j = nm_state_decode(buf, len, err, sizeof(err));
			/* A flip inside the header's length or hash is caught as well. */
			cr_expect_null(j, "accepted with byte %zu bit %d flipped", i, bit);
			json_decref(j);
			buf[i] ^= (char)(1 << bit);
		}
	}
	free(buf);
}

Test(state, says_why)
{
	static const struct {
		const char *file;
		const char *want;
	} cases[] = {
	    {"", "no header line"},
	    {"hello\n{}", "not a state file"},
	    {"nodemesh-state 2 2 "
	     "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n{}",
	     "version 2, this nodemeshd reads version 1"},
	    {"nodemesh-state 1 3 "
	     "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n{}",
	     "truncated: the header says 3 bytes of body, the file has 2"},
	    {"nodemesh-state 1 2 "
	     "0000000000000000000000000000000000000000000000000000000000000000\n{}",
	     "checksum mismatch"},
	    /* sha256("[]") */
	    {"nodemesh-state 1 2 "
	     "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945\n[]",
	     "body is not a JSON object"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		json_t *j = nm_state_decode(cases[i].file, strlen(cases[i].file), err, sizeof(err));
		cr_expect_null(j, "%s", cases[i].file);
		cr_expect_not_null(strstr(err, cases[i].want), "%zu: \"%s\", wanted \"%s\"", i, err,
				   cases[i].want);
		json_decref(j);
	}
}

/* A well-formed file whose entries the commands would refuse is refused whole. */
Test(state, entries_checked_like_commands)
{
	static const struct {
		const char *body;
		const char *want;
	} cases[] = {
	    {"{\"pods\":[],\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":1,"
	     "\"rules\":[]},\"peers\":[],\"signatures\":{\"file\":null},\"extra\":1}",
	     "unknown key 'extra'"},
	    {"{\"pods\":[{\"name\":\"Web\",\"namespace\":\"a\",\"ip\":\"198.18.0.2\",\"iface\":"
	     "\"x\"}],\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":1,"
	     "\"rules\":[]},\"peers\":[],\"signatures\":{\"file\":null}}",
	     "pod 0: 'name' must be"},
	    {"{\"pods\":[{\"name\":\"w\",\"namespace\":\"a\",\"ip\":5,\"iface\":\"x\"}],"
	     "\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":1,\"rules\":[]},"
	     "\"peers\":[],\"signatures\":{\"file\":null}}",
	     "pod 0: key 'ip' is unknown or not a string"},
	    {"{\"pods\":[],\"identities\":[{\"namespace\":\"a\",\"name\":\"b\"}],\"policy\":{"
	     "\"default\":\"deny\",\"next_rule_id\":1,\"rules\":[]},\"peers\":[],\"signatures\":{"
	     "\"file\":null}}",
	     "identity 0: missing 'serviceaccount'"},
	    {"{\"pods\":[],\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":5,"
	     "\"rules\":[{\"id\":2,\"rule\":\"allow from * to *\"},{\"id\":2,\"rule\":\"allow "
	     "from * to *\"}]},\"peers\":[],\"signatures\":{\"file\":null}}",
	     "rule 1: id 2 twice"},
	    {"{\"pods\":[],\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":2,"
	     "\"rules\":[{\"id\":2,\"rule\":\"allow from * to *\"}]},\"peers\":[],\"signatures\":"
	     "{\"file\":null}}",
	     "rule 0 needs id (1 to next_rule_id - 1)"},
	    {"{\"pods\":[],\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":2,"
	     "\"rules\":[{\"id\":1,\"rule\":\"allow frm * to *\"}]},\"peers\":[],\"signatures\":"
	     "{\"file\":null}}",
	     "rule 0:"},
	    {"{\"pods\":[],\"identities\":[],\"policy\":{\"default\":\"maybe\",\"next_rule_id\":1,"
	     "\"rules\":[]},\"peers\":[],\"signatures\":{\"file\":null}}",
	     "default allow|deny"},
	    {"{\"pods\":[],\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":1,"
	     "\"rules\":[]},\"peers\":[{\"name\":\"b\",\"address\":\"x\",\"fabric_ip\":\"1.2.3.4\","
	     "\"pod_cidr\":\"10.0.0.0/8\"}],\"signatures\":{\"file\":null}}",
	     "peer 0: 'address'"},
	    {"{\"pods\":[],\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":1,"
	     "\"rules\":[]},\"peers\":[],\"signatures\":{\"file\":\"\"}}",
	     "'signatures' must be"},
	    {"{\"identities\":[],\"policy\":{\"default\":\"deny\",\"next_rule_id\":1,"
	     "\"rules\":[]},\"peers\":[],\"signatures\":{\"file\":null}}",
	     "'pods' is not an array"},
	};
	struct nm_state st;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *body = json_loads(cases[i].body, 0, NULL);
		cr_assert_not_null(body, "case %zu is not JSON", i);
		err[0] = '\0';
		cr_expect_eq(nm_state_parse(body, &st, err, sizeof(err)), -EINVAL, "case %zu", i);
		cr_expect_not_null(strstr(err, cases[i].want), "%zu: \"%s\", wanted \"%s\"", i, err,
				   cases[i].want);
		cr_expect_eq(st.n_pods + st.n_rules, 0); /* nothing half-parsed is left */
		cr_expect_null(st.pods);
		json_decref(body);
	}
}

Test(state, file_write_and_read)
{
	char dir[] = "/tmp/nm-state-XXXXXX", path[64], err[256], *got;
	size_t len, got_len;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	cr_expect_eq(nm_state_read(path, &got, &got_len, err, sizeof(err)), -ENOENT);

	char *buf = sample_file(&len);
	cr_assert_eq(nm_state_write(path, buf, len, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nm_state_read(path, &got, &got_len, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(got_len, len);
	cr_expect_eq(memcmp(got, buf, len), 0);
	free(got);
	char tmp[80];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_expect_neq(access(tmp, F_OK), 0, "the temp file is left behind");

	/* A shorter state replaces a longer one whole. */
	struct nm_state empty = {.next_rule_id = 1};
	json_t *body = nm_state_body(&empty, "n");
	size_t len2;
	char *buf2 = nm_state_encode(body, &len2);
	cr_assert_eq(nm_state_write(path, buf2, len2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nm_state_read(path, &got, &got_len, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(got_len, len2);
	free(got);
	json_decref(body);
	free(buf2);
	free(buf);

	snprintf(path, sizeof(path), "%s/no/such/dir/state", dir);
	cr_expect_lt(nm_state_write(path, "x", 1, err, sizeof(err)), 0);
	cr_expect_not_null(strstr(err, "creating"), "%s", err);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	cr_expect_eq(system(path), 0);
}
