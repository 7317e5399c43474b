/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of nodemesh-cni's pure parts (ctrl/cni/): the network
 * configuration, CNI_ARGS and CNI_* environment parsers with the spec's
 * error code for each rejection, the host end's name, the result / error /
 * VERSION documents to the byte, reading an address back from a result,
 * the IPAM delegation against small shell-script plugins, and the requests
 * to nodemeshd against a fake control socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "cni_conf.h"
#include "cni_daemon.h"
#include "cni_ipam.h"
#include "cni_result.h"

static struct nm_cni_err err;
static struct nm_cni_conf conf;

#define GOOD_CONF                                                                                  \
	"{\"cniVersion\": \"1.0.0\", \"name\": \"nodemesh\", \"type\": \"nodemesh-cni\", "         \
	"\"socket\": \"/run/nodemesh/nodemesh.sock\", \"mtu\": 1400, \"driver\": \"af_xdp\", "     \
	"\"ipam\": {\"type\": \"host-local\", \"subnet\": \"198.18.64.0/20\"}}"

static int
parse(const char *text)
{
	memset(&err, 0, sizeof(err));
	return nm_cni_conf_parse(text, strlen(text), &conf, &err);
}

/* --- network configuration: invalid inputs first ----------------------------- */

/* One bad configuration, the code it must get and a word of its details. */
struct bad_conf {
	const char *text;
	unsigned int code;
	const char *details;
};

#define BASE "\"name\": \"n\", \"type\": \"nodemesh-cni\", \"ipam\": {\"type\": \"host-local\"}"
#define V1   "\"cniVersion\": \"1.0.0\", "
#define SOCK "\"socket\": \"/run/nm.sock\", "

static const struct bad_conf bad_confs[] = {
    {"", NM_CNI_ERR_DECODE, "line 1"},
    {"{\"cniVersion\": ", NM_CNI_ERR_DECODE, "line 1"},
    {"[1, 2]", NM_CNI_ERR_DECODE, "not a JSON object"},
    {"{" V1 SOCK BASE ", \"mtu\": 1, \"mtu\": 2}", NM_CNI_ERR_DECODE, "duplicate"},
    {"{" SOCK BASE "}", NM_CNI_ERR_CONFIG, "\"cniVersion\" is missing"},
    {"{\"cniVersion\": 1, " SOCK BASE "}", NM_CNI_ERR_CONFIG, "\"cniVersion\" must be a string"},
    {"{\"cniVersion\": \"0.3.1\", " SOCK BASE "}", NM_CNI_ERR_VERSION, "0.3.1"},
    {"{\"cniVersion\": \"1.1.0\", " SOCK BASE "}", NM_CNI_ERR_VERSION, "1.1.0"},
    {"{" V1 SOCK "\"type\": \"nodemesh-cni\", \"ipam\": {\"type\": \"x\"}}", NM_CNI_ERR_CONFIG,
     "\"name\" is missing"},
    {"{" V1 SOCK "\"name\": \"-bad\", \"type\": \"nodemesh-cni\", \"ipam\": {\"type\": \"x\"}}",
     NM_CNI_ERR_CONFIG, "\"name\""},
    {"{" V1 SOCK "\"name\": \"n\", \"type\": \"bridge\", \"ipam\": {\"type\": \"x\"}}",
     NM_CNI_ERR_CONFIG, "not \"nodemesh-cni\""},
    {"{" V1 SOCK "\"name\": \"n\", \"ipam\": {\"type\": \"x\"}}", NM_CNI_ERR_CONFIG,
     "\"type\" is missing"},
    {"{" V1 BASE "}", NM_CNI_ERR_CONFIG, "\"socket\" is missing"},
    {"{" V1 "\"socket\": 7, " BASE "}", NM_CNI_ERR_CONFIG, "\"socket\" must be a string"},
    {"{" V1 "\"socket\": \"run/nm.sock\", " BASE "}", NM_CNI_ERR_CONFIG, "absolute path"},
    {"{" V1 "\"socket\": \"/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaa\", " BASE "}",
     NM_CNI_ERR_CONFIG, "at most 107 bytes"},
    {"{" V1 SOCK BASE ", \"mtu\": \"1500\"}", NM_CNI_ERR_CONFIG, "\"mtu\""},
    {"{" V1 SOCK BASE ", \"mtu\": 67}", NM_CNI_ERR_CONFIG, "68 to 65535"},
    {"{" V1 SOCK BASE ", \"mtu\": 65536}", NM_CNI_ERR_CONFIG, "68 to 65535"},
    {"{" V1 SOCK BASE ", \"mtu\": 1500.5}", NM_CNI_ERR_CONFIG, "\"mtu\""},
    {"{" V1 SOCK BASE ", \"driver\": \"memif\"}", NM_CNI_ERR_CONFIG, "\"driver\" \"memif\""},
    {"{" V1 SOCK BASE ", \"driver\": 1}", NM_CNI_ERR_CONFIG, "\"driver\" must be a string"},
    {"{" V1 SOCK "\"name\": \"n\", \"type\": \"nodemesh-cni\"}", NM_CNI_ERR_CONFIG,
     "\"ipam\" is missing"},
    {"{" V1 SOCK "\"name\": \"n\", \"type\": \"nodemesh-cni\", \"ipam\": \"host-local\"}",
     NM_CNI_ERR_CONFIG, "\"ipam\" must be an object"},
    {"{" V1 SOCK "\"name\": \"n\", \"type\": \"nodemesh-cni\", \"ipam\": {}}", NM_CNI_ERR_CONFIG,
     "\"ipam.type\" must be a string"},
    {"{" V1 SOCK "\"name\": \"n\", \"type\": \"nodemesh-cni\", \"ipam\": {\"type\": \"\"}}",
     NM_CNI_ERR_CONFIG, "file name"},
    {"{" V1 SOCK "\"name\": \"n\", \"type\": \"nodemesh-cni\", \"ipam\": {\"type\": "
     "\"/bin/sh\"}}",
     NM_CNI_ERR_CONFIG, "file name"},
    {"{" V1 SOCK "\"name\": \"n\", \"type\": \"nodemesh-cni\", \"ipam\": {\"type\": "
     "\"../host-local\"}}",
     NM_CNI_ERR_CONFIG, "file name"},
    {"{" V1 SOCK BASE ", \"sokcet\": \"/x\"}", NM_CNI_ERR_UNSUPPORTED_FIELD,
     "\"sokcet\" (value \"/x\")"},
    {"{" V1 SOCK BASE ", \"dns\": []}", NM_CNI_ERR_CONFIG, "\"dns\" must be an object"},
    {"{" V1 SOCK BASE ", \"prevResult\": 1}", NM_CNI_ERR_CONFIG, "\"prevResult\""},
};

Test(cni_conf, rejects_each_bad_key_with_its_code)
{
	for (size_t i = 0; i < sizeof(bad_confs) / sizeof(bad_confs[0]); i++) {
		const struct bad_conf *b = &bad_confs[i];
		cr_assert_eq(parse(b->text), -EINVAL, "accepted: %s", b->text);
		cr_expect_eq(err.code, b->code, "%s: code %u, want %u (%s)", b->text, err.code,
			     b->code, err.details);
		cr_expect_neq(err.msg[0], '\0', "%s: no msg", b->text);
		cr_expect_not_null(strstr(err.details, b->details), "%s: details '%s' lack '%s'",
				   b->text, err.details, b->details);
		cr_expect_null(conf.root, "%s: document kept after a rejection", b->text);
	}
}

Test(cni_conf, parses_every_key)
{
	cr_assert_eq(parse(GOOD_CONF), 0, "%s", err.details);
	cr_expect_str_eq(conf.cni_version, "1.0.0");
	cr_expect_str_eq(conf.socket, "/run/nodemesh/nodemesh.sock");
	cr_expect_eq(conf.mtu, 1400);
	cr_expect_eq(conf.driver, NM_CNI_DRIVER_AF_XDP);
	cr_expect_str_eq(conf.ipam_type, "host-local");
	cr_expect_null(conf.prev_result);
	nm_cni_conf_free(&conf);
	cr_expect_null(conf.root);
}

Test(cni_conf, defaults_and_well_known_keys)
{
	const char *text = "{\"cniVersion\": \"0.4.0\", " SOCK BASE
			   ", \"args\": {\"labels\": {}}, \"dns\": {\"nameservers\": []}, "
			   "\"runtimeConfig\": {}, \"capabilities\": {}, \"ipMasq\": false}";

	/* ipMasq is well-known but not ours: unsupported, the spec's code 2. */
	cr_assert_eq(parse(text), -EINVAL);
	cr_expect_eq(err.code, NM_CNI_ERR_UNSUPPORTED_FIELD);

	text = "{\"cniVersion\": \"0.4.0\", " SOCK BASE
	       ", \"args\": {\"labels\": {}}, \"dns\": {\"nameservers\": []}, "
	       "\"runtimeConfig\": {}, \"capabilities\": {}, \"prevResult\": {\"ips\": []}}";
	cr_assert_eq(parse(text), 0, "%s", err.details);
	cr_expect_str_eq(conf.cni_version, "0.4.0");
	cr_expect_eq(conf.mtu, 0);
	cr_expect_eq(conf.driver, NM_CNI_DRIVER_AF_PACKET);
	cr_expect_not_null(conf.prev_result);
	cr_expect_eq(conf.prev_result, json_object_get(conf.root, "prevResult"));
	nm_cni_conf_free(&conf);
}

Test(cni_conf, mtu_edges)
{
	static const struct {
		const char *mtu;
		int rc;
	} cases[] = {{"67", -EINVAL}, {"68", 0}, {"65535", 0}, {"65536", -EINVAL}, {"-1", -EINVAL}};
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "{" V1 SOCK BASE ", \"mtu\": %s}", cases[i].mtu);
		cr_expect_eq(parse(text), cases[i].rc, "mtu %s", cases[i].mtu);
		nm_cni_conf_free(&conf);
	}
}

/* --- CNI_ARGS ------------------------------------------------------------------ */

static struct nm_cni_args args;

static int
parse_args(const char *s)
{
	memset(&err, 0, sizeof(err));
	return nm_cni_args_parse(s, &args, &err);
}

Test(cni_args, rejects_bad_pairs_and_unknown_keys)
{
	static const struct {
		const char *s;
		const char *details;
	} bad[] = {
	    {"K8S_POD_NAME", "not a KEY=VALUE pair"},
	    {"=web", "not a KEY=VALUE pair"},
	    {"K8S_POD_NAME=web;;", "not a KEY=VALUE pair"},
	    {"FOO=bar", "unknown 'FOO=bar'"},
	    {"FOO=bar;IgnoreUnknown=0", "unknown 'FOO=bar'"},
	    {"IgnoreUnknown=false;FOO=bar", "unknown 'FOO=bar'"},
	    {"IgnoreUnknown=yes", "IgnoreUnknown must be"},
	    {"K8S_POD_NAME=Web", "K8S_POD_NAME must be"},
	    {"K8S_POD_NAME=", "K8S_POD_NAME must be"},
	    {"K8S_POD_NAME=a b", "K8S_POD_NAME must be"},
	    {"K8S_POD_NAMESPACE=x/y", "K8S_POD_NAMESPACE must be"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse_args(bad[i].s), -EINVAL, "accepted '%s'", bad[i].s);
		cr_expect_eq(err.code, NM_CNI_ERR_ENV, "'%s': code %u", bad[i].s, err.code);
		cr_expect_not_null(strstr(err.details, bad[i].details), "'%s': '%s'", bad[i].s,
				   err.details);
	}
}

Test(cni_args, kubelet_form)
{
	cr_assert_eq(parse_args("IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-7d9f;"
				"K8S_POD_INFRA_CONTAINER_ID=0123abcd;K8S_POD_UID=9f8e-7d6c"),
		     0, "%s", err.details);
	cr_expect_str_eq(args.pod_name, "web-7d9f");
	cr_expect_str_eq(args.pod_ns, "shop");
	cr_expect(args.ignore_unknown);
}

Test(cni_args, podman_form_defaults_the_namespace)
{
	cr_assert_eq(parse_args("IgnoreUnknown=1;K8S_POD_NAME=web"), 0, "%s", err.details);
	cr_expect_str_eq(args.pod_name, "web");
	cr_expect_str_eq(args.pod_ns, "default");
}

Test(cni_args, ignore_unknown_anywhere_and_in_any_case)
{
	cr_expect_eq(parse_args("FOO=bar;K8S_POD_NAME=web;IgnoreUnknown=true"), 0, "%s",
		     err.details);
	cr_expect_str_eq(args.pod_name, "web");
	cr_expect_eq(parse_args("IgnoreUnknown=TRUE;X=1;Y="), 0, "%s", err.details);
	cr_expect_eq(parse_args(""), 0);
	cr_expect_str_eq(args.pod_name, "");
	cr_expect_str_eq(args.pod_ns, "default");
	cr_expect_eq(parse_args("K8S_POD_NAME=web;"), 0, "a trailing ';' is no pair");
}

/* --- CNI_* environment ----------------------------------------------------------- */

static const char *const *env_table; /* NAME, VALUE, ..., NULL */

static const char *
table_getenv(const char *name)
{
	for (size_t i = 0; env_table[i] != NULL; i += 2)
		if (strcmp(env_table[i], name) == 0)
			return env_table[i + 1];
	return NULL;
}

static struct nm_cni_env env;

static int
read_env(const char *const *table)
{
	env_table = table;
	memset(&err, 0, sizeof(err));
	return nm_cni_env_read(&env, table_getenv, &err);
}

#define ENV_ADD(id, netns, ifname, path)                                                           \
	(const char *const[])                                                                      \
	{                                                                                          \
		"CNI_COMMAND", "ADD", "CNI_CONTAINERID", id, "CNI_NETNS", netns, "CNI_IFNAME",     \
		    ifname, "CNI_PATH", path, NULL                                                 \
	}

Test(cni_env, rejects_missing_and_bad_variables)
{
	const struct {
		const char *const *table;
		const char *details;
	} bad[] = {
	    {(const char *const[]){NULL}, "CNI_COMMAND is not set"},
	    {(const char *const[]){"CNI_COMMAND", "STATUS", NULL}, "CNI_COMMAND 'STATUS'"},
	    {(const char *const[]){"CNI_COMMAND", "ADD", NULL}, "CNI_CONTAINERID is not set"},
	    {ENV_ADD("-abc", "/var/run/netns/p", "eth0", "/usr/lib/cni"), "CNI_CONTAINERID is"},
	    {ENV_ADD("a b", "/var/run/netns/p", "eth0", "/usr/lib/cni"), "CNI_CONTAINERID is"},
	    {ENV_ADD("abc", "", "eth0", "/usr/lib/cni"), "CNI_NETNS is not set"},
	    {ENV_ADD("abc", "netns/p", "eth0", "/usr/lib/cni"), "absolute path"},
	    {ENV_ADD("abc", "/var/run/netns/p", "eth0123456789012", "/usr/lib/cni"), "CNI_IFNAME"},
	    {ENV_ADD("abc", "/var/run/netns/p", "eth/0", "/usr/lib/cni"), "CNI_IFNAME"},
	    {ENV_ADD("abc", "/var/run/netns/p", "", "/usr/lib/cni"), "CNI_IFNAME"},
	    {ENV_ADD("abc", "/var/run/netns/p", "eth0", ""), "CNI_PATH is not set"},
	    {(const char *const[]){"CNI_COMMAND", "CHECK", "CNI_CONTAINERID", "abc", "CNI_IFNAME",
				   "eth0", "CNI_PATH", "/usr/lib/cni", NULL},
	     "CNI_NETNS is not set"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(read_env(bad[i].table), -EINVAL, "case %zu accepted", i);
		cr_expect_eq(err.code, NM_CNI_ERR_ENV, "case %zu: code %u", i, err.code);
		cr_expect_not_null(strstr(err.details, bad[i].details), "case %zu: '%s'", i,
				   err.details);
	}
}

Test(cni_env, reads_add)
{
	cr_assert_eq(read_env(ENV_ADD("a1b2_c3.d-4", "/var/run/netns/p", "eth0", "/opt/cni/bin")),
		     0, "%s", err.details);
	cr_expect_eq(env.cmd, NM_CNI_CMD_ADD);
	cr_expect_str_eq(env.container_id, "a1b2_c3.d-4");
	cr_expect_str_eq(env.netns, "/var/run/netns/p");
	cr_expect_str_eq(env.ifname, "eth0");
	cr_expect_str_eq(env.args, "", "an unset CNI_ARGS reads as empty");
	cr_expect_str_eq(env.path, "/opt/cni/bin");
}

Test(cni_env, version_needs_only_the_command_and_del_no_netns)
{
	cr_expect_eq(read_env((const char *const[]){"CNI_COMMAND", "VERSION", NULL}), 0);
	cr_expect_eq(env.cmd, NM_CNI_CMD_VERSION);
	cr_assert_eq(read_env((const char *const[]){"CNI_COMMAND", "DEL", "CNI_CONTAINERID", "abc",
						    "CNI_IFNAME", "eth0", "CNI_PATH", "/x", NULL}),
		     0, "%s", err.details);
	cr_expect_eq(env.cmd, NM_CNI_CMD_DEL);
	cr_expect_null(env.netns);
}

/* --- the host end's name ----------------------------------------------------------- */

Test(cni_name, host_end_is_nm_and_11_hex_of_fnv1a)
{
	char name[NM_CNI_IFNAME_LEN], again[NM_CNI_IFNAME_LEN], other[NM_CNI_IFNAME_LEN];

	/* FNV-1a 64 of "abc" is 0xe71fa2190541574b; its top 44 bits in hex. */
	nm_cni_host_ifname("abc", name);
	cr_expect_str_eq(name, "nme71fa219054");
	nm_cni_host_ifname("abc", again);
	cr_expect_str_eq(name, again);
	nm_cni_host_ifname("abd", other);
	cr_expect_str_neq(name, other);
	nm_cni_host_ifname("", other);
	cr_expect_eq(strlen(other), 13);
}

/* --- result, error and VERSION documents ---------------------------------------- */

static char *
dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

static struct nm_cni_result_in
sample_result(const char *version, const json_t *dns)
{
	struct nm_cni_result_in in = {
	    .cni_version = version,
	    .host_ifname = "nme71fa219054",
	    .host_mac = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01},
	    .cont_ifname = "eth0",
	    .cont_mac = {0x0a, 0x58, 0xc6, 0x12, 0x40, 0x02},
	    .sandbox = "/var/run/netns/pod1",
	    .dns = dns,
	};
	in.ip.s_addr = htonl(0xc6124002); /* 198.18.64.2 */
	return in;
}

Test(cni_result, exact_json_for_1_0_0)
{
	struct nm_cni_result_in in = sample_result("1.0.0", NULL);
	char *s = dump(nm_cni_result_build(&in));

	cr_assert_str_eq(
	    s, "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"mac\":\"02:aa:bb:cc:dd:01\",\"name\":"
	       "\"nme71fa219054\"},{\"mac\":\"0a:58:c6:12:40:02\",\"name\":\"eth0\",\"sandbox\":"
	       "\"/var/run/netns/pod1\"}],\"ips\":[{\"address\":\"198.18.64.2/32\",\"gateway\":"
	       "\"169.254.1.1\",\"interface\":1}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":"
	       "\"169.254.1.1\"}]}");
	free(s);
}

Test(cni_result, version_0_4_0_ips_carry_version_and_dns_passes_through)
{
	json_t *dns = json_pack("{s:[s], s:s}", "nameservers", "198.18.0.53", "domain", "cluster");
	struct nm_cni_result_in in = sample_result("0.4.0", dns);
	json_t *r = nm_cni_result_build(&in);

	cr_assert_not_null(r);
	cr_expect_str_eq(json_string_value(json_object_get(r, "cniVersion")), "0.4.0");
	cr_expect_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(r, "ips"), 0), "version")),
			 "4");
	char *d = dump(json_incref(json_object_get(r, "dns")));
	cr_expect_str_eq(d, "{\"domain\":\"cluster\",\"nameservers\":[\"198.18.0.53\"]}");
	free(d);
	json_decref(r);
	json_decref(dns);
}

Test(cni_result, empty_dns_is_left_out)
{
	json_t *dns = json_pack("{s:[]}", "nameservers");
	struct nm_cni_result_in in = sample_result("1.0.0", dns);
	json_t *r = nm_cni_result_build(&in);

	cr_expect_null(json_object_get(r, "dns"));
	json_decref(r);
	json_decref(dns);
}

/* What ADD prints is what CHECK and DEL get back as prevResult. */
Test(cni_result, result_reads_back_as_prev_result)
{
	struct nm_cni_result_in in = sample_result("1.0.0", NULL);
	json_t *r = nm_cni_result_build(&in);
	char *text = json_dumps(r, JSON_COMPACT), conf_text[2048];
	struct in_addr ip;
	unsigned int plen;

	snprintf(conf_text, sizeof(conf_text), "{" V1 SOCK BASE ", \"prevResult\": %s}", text);
	cr_assert_eq(parse(conf_text), 0, "%s", err.details);
	cr_assert_eq(nm_cni_result_ipv4(conf.prev_result, "prevResult", &ip, &plen, &err), 0);
	cr_expect_eq(ip.s_addr, in.ip.s_addr);
	cr_expect_eq(plen, 32);
	nm_cni_conf_free(&conf);
	free(text);
	json_decref(r);
}

Test(cni_result, reading_an_address_rejects_what_has_none)
{
	static const struct {
		const char *json;
		unsigned int code;
	} bad[] = {
	    {"[]", NM_CNI_ERR_DECODE},
	    {"{\"ips\": {}}", NM_CNI_ERR_DECODE},
	    {"{}", NM_CNI_ERR_CONFIG},
	    {"{\"ips\": [{\"address\": \"2001:db8::1/64\"}]}", NM_CNI_ERR_CONFIG},
	    {"{\"ips\": [{\"address\": \"198.18.0.1\"}]}", NM_CNI_ERR_CONFIG},
	    {"{\"ips\": [{\"address\": \"198.18.0.1/33\"}]}", NM_CNI_ERR_CONFIG},
	    {"{\"ips\": [{\"address\": \"198.18.0.1/\"}]}", NM_CNI_ERR_CONFIG},
	    {"{\"ips\": [{\"address\": 5}]}", NM_CNI_ERR_CONFIG},
	};
	struct in_addr ip;
	unsigned int plen;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
		cr_assert_not_null(j);
		cr_expect_eq(nm_cni_result_ipv4(j, "IPAM plugin x", &ip, &plen, &err), -EINVAL,
			     "%s", bad[i].json);
		cr_expect_eq(err.code, bad[i].code, "%s: code %u", bad[i].json, err.code);
		cr_expect_not_null(strstr(err.details, "IPAM plugin x"));
		json_decref(j);
	}
}

Test(cni_result, first_ipv4_after_an_ipv6)
{
	json_t *j = json_loads("{\"cniVersion\": \"1.0.0\", \"ips\": [{\"address\": "
			       "\"fd00::2/64\"}, {\"address\": \"198.18.64.7/20\", \"gateway\": "
			       "\"198.18.64.1\"}]}",
			       0, NULL);
	struct in_addr ip;
	unsigned int plen;

	cr_assert_eq(nm_cni_result_ipv4(j, "host-local", &ip, &plen, &err), 0);
	cr_expect_eq(ntohl(ip.s_addr), 0xc6124007);
	cr_expect_eq(plen, 20);
	json_decref(j);
}

Test(cni_error, exact_json_and_codes)
{
	struct nm_cni_err e;
	char *s;

	cr_expect_eq(nm_cni_err_set(&e, NM_CNI_ERR_CONFIG, "invalid network config",
				    "\"%s\" is missing", "socket"),
		     -EINVAL);
	s = dump(nm_cni_error_json("1.0.0", &e));
	cr_expect_str_eq(s, "{\"cniVersion\":\"1.0.0\",\"code\":7,\"details\":\"\\\"socket\\\" is "
			    "missing\",\"msg\":\"invalid network config\"}");
	free(s);
	/* The spec's well-known codes (SPEC.md "Well-known Error Codes"). */
	cr_expect_eq(NM_CNI_ERR_VERSION, 1);
	cr_expect_eq(NM_CNI_ERR_UNSUPPORTED_FIELD, 2);
	cr_expect_eq(NM_CNI_ERR_UNKNOWN_CONTAINER, 3);
	cr_expect_eq(NM_CNI_ERR_ENV, 4);
	cr_expect_eq(NM_CNI_ERR_IO, 5);
	cr_expect_eq(NM_CNI_ERR_DECODE, 6);
	cr_expect_eq(NM_CNI_ERR_CONFIG, 7);
	cr_expect_eq(NM_CNI_ERR_TRY_AGAIN, 11);
}

Test(cni_version, exact_json)
{
	char *s = dump(nm_cni_version_json());

	cr_expect_str_eq(s,
			 "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}");
	free(s);
}

/* --- IPAM delegation against script plugins ---------------------------------------- */

static char plugin_dir[] = "/tmp/nm-test-cni-XXXXXX";

/* A plugin named name in plugin_dir running the shell script body. */
static void
write_plugin(const char *name, const char *body, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", plugin_dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

static void
plugins_init(void)
{
	cr_assert_not_null(mkdtemp(plugin_dir));
	/* Echoes the command it got and the config's name back, as a result. */
	write_plugin(
	    "ok-ipam",
	    "cfg=$(cat)\n"
	    "echo \"$cfg\" | grep -q '\"name\": \"n\"' || exit 3\n"
	    "echo \"{\\\"cniVersion\\\": \\\"1.0.0\\\", \\\"cmd\\\": \\\"$CNI_COMMAND\\\", "
	    "\\\"ips\\\": [{\\\"address\\\": \\\"198.18.64.9/20\\\"}]}\"",
	    0755);
	write_plugin("busy-ipam",
		     "cat >/dev/null\n"
		     "echo '{\"cniVersion\": \"1.0.0\", \"code\": 11, \"msg\": \"locked\", "
		     "\"details\": \"lease file busy\"}'\nexit 1",
		     0755);
	write_plugin("garbage-ipam", "cat >/dev/null\necho 'not json'", 0755);
	write_plugin("dying-ipam", "kill -9 $$", 0755);
	write_plugin("noexec-ipam", "exit 0", 0644);
}

static void
plugins_fini(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", plugin_dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(cni_ipam, .init = plugins_init, .fini = plugins_fini);

Test(cni_ipam, find_searches_each_dir_and_skips_what_cannot_run)
{
	char path[600], want[600];

	snprintf(path, sizeof(path), "/nonexistent:%s", plugin_dir);
	cr_assert_eq(nm_cni_ipam_find("ok-ipam", path, want, sizeof(want), &err), 0);
	cr_expect_eq(strncmp(want, plugin_dir, strlen(plugin_dir)), 0, "%s", want);
	cr_expect_eq(nm_cni_ipam_find("noexec-ipam", path, want, sizeof(want), &err), -ENOENT);
	cr_expect_eq(nm_cni_ipam_find("unknown-ipam", path, want, sizeof(want), &err), -ENOENT);
	cr_expect_eq(err.code, NM_CNI_ERR_CONFIG);
	cr_expect_not_null(strstr(err.details, "\"unknown-ipam\""), "%s", err.details);
	cr_expect_not_null(strstr(err.details, plugin_dir), "the dirs searched: %s", err.details);
}

static int
run_plugin(const char *name, const char *command, json_t **result)
{
	char bin[600];
	const char *cfg = "{\"name\": \"n\"}";

	snprintf(bin, sizeof(bin), "%s/%s", plugin_dir, name);
	memset(&err, 0, sizeof(err));
	return nm_cni_ipam_exec(bin, command, cfg, strlen(cfg), result, &err);
}

Test(cni_ipam, exec_passes_config_and_command_and_reads_result)
{
	json_t *r = NULL;

	cr_assert_eq(run_plugin("ok-ipam", "ADD", &r), 0, "%s", err.details);
	cr_expect_str_eq(json_string_value(json_object_get(r, "cmd")), "ADD");
	json_decref(r);
	r = NULL;
	cr_expect_eq(run_plugin("ok-ipam", "DEL", &r), 0, "%s", err.details);
	cr_expect_null(r, "DEL has no result");
}

Test(cni_ipam, exec_failures_keep_the_plugins_code_or_say_how_it_died)
{
	json_t *r = NULL;

	cr_expect_eq(run_plugin("busy-ipam", "ADD", &r), -EINVAL);
	cr_expect_eq(err.code, NM_CNI_ERR_TRY_AGAIN, "the plugin's own code: %u", err.code);
	cr_expect_not_null(strstr(err.details, "locked: lease file busy"), "%s", err.details);
	cr_expect_null(r);

	cr_expect_eq(run_plugin("garbage-ipam", "ADD", &r), -EINVAL);
	cr_expect_eq(err.code, NM_CNI_ERR_DECODE);

	cr_expect_eq(run_plugin("dying-ipam", "ADD", &r), -EINVAL);
	cr_expect_eq(err.code, NM_CNI_ERR_INTERNAL);
	cr_expect_not_null(strstr(err.details, "signal 9"), "%s", err.details);

	cr_expect_eq(run_plugin("missing-ipam", "ADD", &r), -EINVAL);
	cr_expect_eq(err.code, NM_CNI_ERR_INTERNAL);
	cr_expect_not_null(strstr(err.details, "status 127"), "%s", err.details);
}

/* --- requests to nodemeshd, against a fake control socket ---------------------------- */

/*
 * One connection at a time on a Unix socket in a temp dir: the server
 * thread reads the request line into fake_request and answers with
 * fake_answer (one line), as nodemeshd's control socket does.
 */
static char fake_dir[] = "/tmp/nm-test-cni-sock-XXXXXX";
static char fake_path[256];
static char fake_request[4096];
static const char *fake_answer;
static int fake_fd = -1;

static void *
fake_serve_one(void *arg)
{
	size_t len = 0;
	int c = accept(fake_fd, NULL, NULL);

	(void)arg;
	if (c < 0)
		return NULL;
	while (len + 1 < sizeof(fake_request)) {
		ssize_t n = read(c, fake_request + len, sizeof(fake_request) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(fake_request, '\n', len) != NULL)
			break;
	}
	fake_request[len] = '\0';
	dprintf(c, "%s\n", fake_answer);
	close(c);
	return NULL;
}

static void
fake_init(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	cr_assert_not_null(mkdtemp(fake_dir));
	snprintf(fake_path, sizeof(fake_path), "%s/ctl.sock", fake_dir);
	memcpy(sa.sun_path, fake_path, strlen(fake_path) + 1);
	fake_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(fake_fd, 0);
	cr_assert_eq(bind(fake_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fake_fd, 4), 0);
}

static void
fake_fini(void)
{
	close(fake_fd);
	unlink(fake_path);
	rmdir(fake_dir);
}

/* Answer the next request with answer; join with fake_join(). */
static pthread_t
fake_expect(const char *answer)
{
	pthread_t t;

	fake_answer = answer;
	fake_request[0] = '\0';
	cr_assert_eq(pthread_create(&t, NULL, fake_serve_one, NULL), 0);
	return t;
}

static void
fake_join(pthread_t t)
{
	pthread_join(t, NULL);
}

TestSuite(cni_daemon, .init = fake_init, .fini = fake_fini);

static struct nm_cni_pod
sample_pod(void)
{
	struct nm_cni_pod pod = {.name = "web",
				 .ns = "shop",
				 .host_ifname = "nme71fa219054",
				 .container_id = "abc123",
				 .driver = NM_CNI_DRIVER_AF_PACKET};
	pod.ip.s_addr = htonl(0xc6124002); /* 198.18.64.2 */
	return pod;
}

Test(cni_daemon, pod_add_sends_the_line_and_no_serviceaccount)
{
	struct nm_cni_pod pod = sample_pod();
	pthread_t t = fake_expect("{\"ok\":true,\"pod\":\"web\",\"existing\":false}");

	cr_expect_eq(nm_cni_daemon_pod_add(fake_path, &pod, &err), 0, "%s", err.details);
	fake_join(t);
	cr_expect_str_eq(fake_request, "pod add name=web namespace=shop ip=198.18.64.2 "
				       "iface=nme71fa219054 container=abc123\n");

	pod.driver = NM_CNI_DRIVER_AF_XDP;
	t = fake_expect("{\"ok\":true,\"pod\":\"web\",\"existing\":true}");
	cr_expect_eq(nm_cni_daemon_pod_add(fake_path, &pod, &err), 0, "%s", err.details);
	fake_join(t);
	cr_expect_str_eq(fake_request, "pod add name=web namespace=shop ip=198.18.64.2 "
				       "iface=nme71fa219054 container=abc123 driver=af_xdp\n");
}

Test(cni_daemon, refusal_is_999_with_the_daemons_reason)
{
	struct nm_cni_pod pod = sample_pod();
	pthread_t t = fake_expect("{\"ok\":false,\"error\":\"pod add: pod web exists\"}");

	cr_expect_lt(nm_cni_daemon_pod_add(fake_path, &pod, &err), 0);
	fake_join(t);
	cr_expect_eq(err.code, NM_CNI_ERR_INTERNAL);
	cr_expect_not_null(strstr(err.details, "pod add: pod web exists"), "%s", err.details);

	t = fake_expect("not json");
	cr_expect_lt(nm_cni_daemon_pod_add(fake_path, &pod, &err), 0);
	fake_join(t);
	cr_expect_eq(err.code, NM_CNI_ERR_INTERNAL);
	cr_expect_not_null(strstr(err.details, "not a JSON object"), "%s", err.details);
}

Test(cni_daemon, no_daemon_is_try_again_for_add_and_nothing_to_do_for_del)
{
	struct nm_cni_pod pod = sample_pod();
	char gone[300];
	int deleted = -1;

	snprintf(gone, sizeof(gone), "%s/none.sock", fake_dir);
	cr_expect_lt(nm_cni_daemon_pod_add(gone, &pod, &err), 0);
	cr_expect_eq(err.code, NM_CNI_ERR_TRY_AGAIN);
	cr_expect_not_null(strstr(err.details, "No such file"), "%s", err.details);
	cr_expect_eq(nm_cni_daemon_pod_del(gone, "abc123", &deleted, &err), 0);
	cr_expect_eq(deleted, 0);
}

Test(cni_daemon, pod_del_by_container_reports_deleted)
{
	int deleted = -1;
	pthread_t t = fake_expect("{\"ok\":true,\"deleted\":1}");

	cr_expect_eq(nm_cni_daemon_pod_del(fake_path, "abc123", &deleted, &err), 0);
	fake_join(t);
	cr_expect_str_eq(fake_request, "pod del container=abc123\n");
	cr_expect_eq(deleted, 1);

	t = fake_expect("{\"ok\":false,\"error\":\"pod del: busy\"}");
	cr_expect_lt(nm_cni_daemon_pod_del(fake_path, "abc123", &deleted, &err), 0,
		     "a refusing daemon is an error, unlike an absent one");
	fake_join(t);
	cr_expect_eq(err.code, NM_CNI_ERR_INTERNAL);
}

Test(cni_daemon, check_finds_the_container_and_names_what_differs)
{
	static const struct {
		const char *answer;
		int ok;
		const char *details;
	} cases[] = {
	    {"{\"ok\":true,\"pods\":[{\"name\":\"x\",\"container\":\"other\"},{\"name\":\"web\","
	     "\"container\":\"abc123\",\"ip\":\"198.18.64.2\",\"iface\":\"nme71fa219054\"}]}",
	     1, NULL},
	    {"{\"ok\":true,\"pods\":[]}", 0, "no pod for container abc123"},
	    {"{\"ok\":true,\"pods\":[{\"name\":\"web\",\"container\":null}]}", 0,
	     "no pod for container abc123"},
	    {"{\"ok\":true,\"pods\":[{\"container\":\"abc123\",\"ip\":\"198.18.64.9\",\"iface\":"
	     "\"nme71fa219054\"}]}",
	     0, "ip 198.18.64.9, the result says 198.18.64.2"},
	    {"{\"ok\":true,\"pods\":[{\"container\":\"abc123\",\"ip\":\"198.18.64.2\",\"iface\":"
	     "\"eth9\"}]}",
	     0, "iface eth9, expected nme71fa219054"},
	};
	struct nm_cni_pod pod = sample_pod();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pthread_t t = fake_expect(cases[i].answer);
		int rc = nm_cni_daemon_pod_check(fake_path, &pod, &err);
		fake_join(t);
		cr_expect_str_eq(fake_request, "pod list\n");
		if (cases[i].ok) {
			cr_expect_eq(rc, 0, "case %zu: %s", i, err.details);
			continue;
		}
		cr_expect_lt(rc, 0, "case %zu passed", i);
		cr_expect_not_null(strstr(err.details, cases[i].details), "case %zu: %s", i,
				   err.details);
	}
}
