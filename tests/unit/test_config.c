/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the config loader (ctrl/config.c): the example config in
 * conf/ loads to the documented values, and every refusal names the file,
 * the line and the reason. nm_pod_spec_fill, which `pod add` shares with
 * the static pods list, is tested directly at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>

#include "config.h"
#include "identity.h"
#include "unit_tmp.h"

#ifndef NM_SRC_ROOT
#error "NM_SRC_ROOT must name the source tree (set by tests/unit/meson.build)"
#endif
#define EXAMPLE_CONF NM_SRC_ROOT "/conf/nodemesh.conf"

static struct nm_config cfg; /* 40 KiB: not on the stack of every test */
static char err[512];

static int
load_str(const char *text)
{
	memset(err, 0, sizeof(err));
	return nm_config_load_string(text, "t.conf", &cfg, err, sizeof(err));
}

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return a.s_addr;
}

/* ---- invalid input ----------------------------------------------------- */

Test(config_invalid, nonexistent_file_is_eio)
{
	const char *path = NM_SRC_ROOT "/conf/does-not-exist.conf";

	cr_assert_eq(nm_config_load(path, &cfg, err, sizeof(err)), -EIO);
	cr_assert_not_null(strstr(err, path), "%s", err);
	cr_assert_not_null(strstr(err, "cannot read: No such file or directory"), "%s", err);
}

Test(config_invalid, syntax_error_in_file_names_path_and_line)
{
	char path[] = "/tmp/nm-test-config-XXXXXX";
	char want[128];

	nm_test_write_tmp(path, "# comment\nnode: {\n  name = ;\n};\n");

	cr_assert_eq(nm_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: syntax error", path);
	cr_assert_str_eq(err, want);
	unlink(path);
}

static const struct {
	const char *what;
	const char *text;
	int line;
	const char *reason; /* must appear after "t.conf:LINE: " */
} bad_configs[] = {
    /* libconfig's own parse errors */
    {"syntax error", "node: {\n  name = \"a\";\n  = 5;\n};\n", 3, "syntax error"},
    {"unterminated group", "node: {\n  name = \"a\";\n", 3, "syntax error"},
    {"duplicate setting", "node: { name = \"a\"; };\n\nnode: { name = \"b\"; };\n", 3,
     "duplicate setting name"},

    /* unknown settings */
    {"unknown top-level setting", "# comment\n\nnodes: { name = \"a\"; };\n", 3,
     "unknown setting 'nodes'"},
    {"unknown setting in node", "node: {\n  name = \"a\";\n  id = 1;\n};\n", 3,
     "unknown setting 'id'"},
    {"unknown setting in eal", "eal: {\n  lcore = \"0-3\";\n};\n", 2, "unknown setting 'lcore'"},
    {"unknown setting in control", "control: { socket = \"/tmp/s\"; mode = 432; };\n", 1,
     "unknown setting 'mode'"},
    {"unknown setting in dataplane", "dataplane: {\n  mbufs = 4096;\n  mbuf = 4096;\n};\n", 3,
     "unknown setting 'mbuf'"},
    {"unknown setting in idle", "dataplane: {\n  idle: {\n    sleep = 1;\n  };\n};\n", 3,
     "unknown setting 'sleep'"},
    {"unknown setting in fragments", "dataplane: {\n  fragments: { flows = 16; };\n};\n", 2,
     "unknown setting 'flows'"},

    /* wrong types */
    {"integer as string", "dataplane: {\n  mbufs = \"4096\";\n};\n", 2,
     "'mbufs' must be an integer"},
    {"integer as float", "dataplane: { pod_mtu = 1500.0; };\n", 1, "'pod_mtu' must be an integer"},
    {"integer as 64-bit", "dataplane: { mbufs = 4096L; };\n", 1, "'mbufs' must be an integer"},
    {"string as integer", "node: { name = 5; };\n", 1, "'name' must be a string"},
    {"string as boolean", "control: {\n  group = true;\n};\n", 2, "'group' must be a string"},
    {"group as scalar", "\ndataplane = 5;\n", 2, "'dataplane' must be a group"},
    {"nested group as list", "dataplane: {\n  idle = ( 1 );\n};\n", 2, "'idle' must be a group"},

    /* strings out of range */
    {"empty node name", "node: { name = \"\"; };\n", 1, "'name' must be 1 to 63 characters"},
    {"empty group", "control: { group = \"\"; };\n", 1, "'group' must be 1 to 63 characters"},
    {"socket path too long",
     "control: { socket = \"/run/nodemesh/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaa\"; };\n",
     1, "'socket' must be 1 to 107 characters"},

    /* integers out of range */
    {"mbufs below minimum", "dataplane: {\n  mbufs = 2047;\n};\n", 2,
     "'mbufs' = 2047 is outside 2048..4194304"},
    {"mbufs above maximum", "dataplane: { mbufs = 4194305; };\n", 1,
     "'mbufs' = 4194305 is outside 2048..4194304"},
    {"mbufs negative", "dataplane: { mbufs = -1; };\n", 1, "'mbufs' = -1 is outside"},
    {"pod_mtu above maximum", "dataplane: { pod_mtu = 9001; };\n", 1,
     "'pod_mtu' = 9001 is outside 576..9000"},
    {"pod_mtu below minimum", "dataplane: { pod_mtu = 575; };\n", 1,
     "'pod_mtu' = 575 is outside 576..9000"},
    {"max_pods beyond the build", "dataplane: { max_pods = 1025; };\n", 1,
     "'max_pods' = 1025 is outside 1..1024"},
    {"max_pods zero", "dataplane: { max_pods = 0; };\n", 1, "'max_pods' = 0 is outside 1..1024"},
    {"af_packet unknown setting", "dataplane: {\n af_packet: { rx_ring = 4; };\n};\n", 2,
     "rx_ring"},
    {"af_packet block not page multiple",
     "dataplane: {\n af_packet: { rx_block_size = 5000; };\n};\n", 2,
     "af_packet.rx_block_size must be a multiple of 4096"},
    {"af_packet slot not power of two", "dataplane: {\n af_packet: { frame_size = 3000; };\n};\n",
     2, "frame_size a power of two"},
    {"af_packet version 1", "dataplane: { af_packet: { version = 1; }; };\n", 1,
     "'version' = 1 is outside 2..3"},
    {"af_packet one block", "dataplane: { af_packet: { rx_blocks = 1; }; };\n", 1,
     "'rx_blocks' = 1 is outside 2..4096"},
    {"sleep_us above maximum", "dataplane: { idle: { sleep_us = 100001; }; };\n", 1,
     "'sleep_us' = 100001 is outside 0..100000"},
    {"idle mode unknown", "dataplane: {\n  idle: {\n    mode = \"spin\";\n  };\n};\n", 3,
     "dataplane.idle.mode must be \"poll\", \"sleep\" or \"wake\", not \"spin\""},
    {"idle mode not a string", "dataplane: { idle: { mode = 2; }; };\n", 1, "'mode'"},
    {"wait_max_us zero", "dataplane: { idle: { wait_max_us = 0; }; };\n", 1,
     "'wait_max_us' = 0 is outside 1..100000"},
    {"linger_us above maximum", "dataplane: { idle: { linger_us = 1000001; }; };\n", 1,
     "'linger_us' = 1000001 is outside 0..1000000"},
    {"pause_after negative", "dataplane: { idle: { pause_after = -5; }; };\n", 1,
     "'pause_after' = -5 is outside 0..2147483647"},
    {"max_flows below minimum", "dataplane: { fragments: { max_flows = 15; }; };\n", 1,
     "'max_flows' = 15 is outside 16..1048576"},
    {"timeout_ms above maximum", "dataplane: {\n fragments: {\n  timeout_ms = 60001;\n };\n};\n", 3,
     "'timeout_ms' = 60001 is outside 10..60000"},
    {"sleep_after below pause_after",
     "dataplane: {\n  idle: {\n    pause_after = 100;\n    sleep_after = 10;\n  };\n};\n", 2,
     "idle.sleep_after must be 0 or >= pause_after"},

    /* tunnel and peers */
    {"fabric is gone", "fabric = ( );\n", 1, "unknown setting 'fabric'"},
    {"tunnel without iface", "tunnel: { fabric_ip = \"10.9.0.1\"; };\n", 1,
     "tunnel.fabric_iface is required"},
    {"tunnel bad fabric_ip", "tunnel: { fabric_iface = \"f\"; fabric_ip = \"10.9.0\"; };\n", 1,
     "tunnel.fabric_ip must be a unicast IPv4 address"},
    {"tunnel cidr host bits",
     "tunnel: { fabric_iface = \"f\"; fabric_ip = \"10.9.0.1\"; "
     "pod_cidr = \"10.1.0.1/24\"; };\n",
     1, "tunnel.pod_cidr must be a.b.c.d/len"},
    {"tunnel without cert",
     "tunnel: { fabric_iface = \"f\"; fabric_ip = \"10.9.0.1\"; "
     "pod_cidr = \"10.1.0.0/24\"; };\n",
     1, "tunnel.cert, tunnel.key and tunnel.ca are required"},
    {"tunnel bad cipher",
     "tunnel: { fabric_iface = \"fab0\"; fabric_ip = \"10.9.0.1\"; pod_cidr = \"10.1.0.0/24\"; "
     "cert = \"c\"; key = \"k\"; ca = \"ca\"; cipher = \"des\"; };\n",
     1, "tunnel.cipher must be aes-128-gcm, aes-256-gcm or chacha20-poly1305"},
    {"tunnel bad listen",
     "tunnel: { fabric_iface = \"fab0\"; fabric_ip = \"10.9.0.1\"; pod_cidr = \"10.1.0.0/24\"; "
     "cert = \"c\"; key = \"k\"; ca = \"ca\"; listen = \"10.9.0.1\"; };\n",
     1, "tunnel.listen must be IPV4:PORT"},
    {"tunnel rekey 0",
     "tunnel: { fabric_iface = \"fab0\"; fabric_ip = \"10.9.0.1\"; pod_cidr = \"10.1.0.0/24\"; "
     "cert = \"c\"; key = \"k\"; ca = \"ca\"; rekey_s = 0; };\n",
     1, "'rekey_s' = 0 is outside 1..86400"},
    {"peers without tunnel",
     "peers = ( { name = \"b\"; address = \"10.0.0.2:7400\"; "
     "fabric_ip = \"10.9.0.2\"; pod_cidr = \"10.2.0.0/24\"; } );\n",
     1, "peers need tunnel.fabric_iface"},
    {"peer missing pod_cidr",
     "peers = (\n { name = \"b\"; address = \"10.0.0.2:7400\"; "
     "fabric_ip = \"10.9.0.2\"; } );\n",
     2, "peer: missing 'pod_cidr'"},
    {"peer bad address",
     "peers = (\n { name = \"b\"; address = \"10.0.0.2\"; "
     "fabric_ip = \"10.9.0.2\"; pod_cidr = \"10.2.0.0/24\"; } );\n",
     2, "'address' 10.0.0.2 is not IPV4:PORT"},
    {"peer unknown key", "peers = (\n { name = \"b\"; color = \"red\"; } );\n", 2,
     "unknown setting 'color'"},

    /* EAL arguments */
    {"eal.args with -l", "eal: {\n  args = [\"--no-huge\", \"-l\", \"0-3\"];\n};\n", 2,
     "eal.args[1] '-l': use eal.lcores / eal.file_prefix instead"},
    {"eal.args with -l attached", "eal: { args = [\"-l0-3\"]; };\n", 1,
     "eal.args[0] '-l0-3': use eal.lcores / eal.file_prefix instead"},
    {"eal.args with --lcores", "eal: { args = [\"--lcores=0@0,1@1\"]; };\n", 1,
     "eal.args[0] '--lcores=0@0,1@1': use eal.lcores / eal.file_prefix instead"},
    {"eal.args with --file-prefix", "eal: { args = [\"--file-prefix\", \"x\"]; };\n", 1,
     "eal.args[0] '--file-prefix': use eal.lcores / eal.file_prefix instead"},
    {"eal.args not a list", "eal: { args = \"--no-huge\"; };\n", 1,
     "'eal.args' must be an array of strings"},
    {"eal.args element not a string", "eal: { args = ( \"--no-huge\", 5 ); };\n", 1,
     "eal.args[1] must be a string shorter than 256"},
    {"eal.lcores empty", "eal: { lcores = \"\"; };\n", 1, "'lcores' must be 1 to 255 characters"},

    /* static pods */
    {"pods not a list", "pods = { name = \"web\"; };\n", 1, "'pods' must be a list ( {...}, ... )"},
    {"pod not a group", "pods = ( \"web\" );\n", 1, "pods[0] must be a group { ... }"},
    {"pod unknown setting",
     "pods = (\n  { name = \"web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    ip = \"198.18.0.2\"; iface = \"nm-web\"; port = \"x\"; }\n);\n",
     3, "unknown setting 'port'"},
    {"pod setting not a string",
     "pods = (\n  { name = \"web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    ip = 5; iface = \"nm-web\"; }\n);\n",
     3, "pods[0].ip must be a string"},
    {"pod missing ip",
     "pods = (\n  { name = \"web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    iface = \"nm-web\"; }\n);\n",
     2, "pods[0]: missing 'ip'"},
    {"pod bad ip",
     "pods = (\n  { name = \"web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    ip = \"198.18.0\"; iface = \"nm-web\"; }\n);\n",
     2, "pods[0]: 'ip' 198.18.0 is not an IPv4 address"},
    {"pod multicast ip",
     "pods = (\n  { name = \"web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    ip = \"224.0.0.5\"; iface = \"nm-web\"; }\n);\n",
     2, "pods[0]: 'ip' 224.0.0.5 is not a unicast pod address"},
    {"pod bad labels",
     "pods = (\n  { name = \"web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    ip = \"198.18.0.2\"; iface = \"nm-web\"; labels = \"app\"; }\n);\n",
     2, "pods[0]: 'labels' must be k=v[,k=v...] of [A-Za-z0-9._/-]"},
    {"pod bad driver",
     "pods = (\n  { name = \"web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    ip = \"198.18.0.2\"; iface = \"nm-web\"; driver = \"dpdk\"; }\n);\n",
     2, "pods[0]: 'driver' must be af_packet, af_xdp"},
    {"pod bad name",
     "pods = (\n  { name = \"Web\"; namespace = \"default\"; serviceaccount = \"web\";\n"
     "    ip = \"198.18.0.2\"; iface = \"nm-web\"; }\n);\n",
     2, "pods[0]: 'name' must be 1 to 63 characters of a-z, 0-9, '-', '.', '_'"},
    {"pod duplicate name",
     "pods = (\n"
     "  { name = \"web\"; namespace = \"a\"; serviceaccount = \"a\"; ip = \"198.18.0.2\";"
     " iface = \"nm-a\"; },\n"
     "  { name = \"web\"; namespace = \"a\"; serviceaccount = \"b\"; ip = \"198.18.0.3\";"
     " iface = \"nm-b\"; }\n);\n",
     3, "pods[1] repeats the name"},
    {"pod duplicate ip",
     "pods = (\n"
     "  { name = \"a\"; namespace = \"a\"; serviceaccount = \"a\"; ip = \"198.18.0.2\";"
     " iface = \"nm-a\"; },\n"
     "  { name = \"b\"; namespace = \"b\"; serviceaccount = \"b\"; ip = \"198.18.0.2\";"
     " iface = \"nm-b\"; }\n);\n",
     3, "pods[1] repeats the name"},
    {"pod duplicate iface",
     "pods = (\n"
     "  { name = \"a\"; namespace = \"a\"; serviceaccount = \"a\"; ip = \"198.18.0.2\";"
     " iface = \"nm-a\"; },\n"
     "  { name = \"b\"; namespace = \"b\"; serviceaccount = \"b\"; ip = \"198.18.0.3\";"
     " iface = \"nm-a\"; }\n);\n",
     3, "pods[1] repeats the name"},
    {"pod duplicate memif socket",
     "pods = (\n"
     "  { name = \"a\"; namespace = \"a\"; serviceaccount = \"a\"; ip = \"198.18.0.2\";"
     " driver = \"memif\"; socket = \"/run/nm/a.sock\"; },\n"
     "  { name = \"b\"; namespace = \"b\"; serviceaccount = \"b\"; ip = \"198.18.0.3\";"
     " driver = \"memif\"; socket = \"/run/nm/a.sock\"; }\n);\n",
     3, "pods[1] repeats the name"},
};

Test(config_invalid, each_bad_config_names_line_and_reason)
{
	for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		char prefix[32];
		int rc = load_str(bad_configs[i].text);

		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", bad_configs[i].line);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", bad_configs[i].what, rc);
		cr_expect_eq(strncmp(err, prefix, strlen(prefix)), 0, "%s: \"%s\" lacks \"%s\"",
			     bad_configs[i].what, err, prefix);
		cr_expect_not_null(strstr(err, bad_configs[i].reason), "%s: \"%s\" lacks \"%s\"",
				   bad_configs[i].what, err, bad_configs[i].reason);
	}
}

Test(config_invalid, more_than_32_eal_args)
{
	char text[1024] = "eal: { args = [";

	for (int i = 0; i <= NM_CFG_MAX_EAL_ARGS; i++)
		strcat(text, i ? ", \"--no-pci\"" : "\"--no-pci\"");
	strcat(text, "]; };\n");
	cr_assert_eq(load_str(text), -EINVAL);
	cr_assert_str_eq(err, "t.conf:1: more than 32 EAL arguments");
}

Test(config_invalid, more_than_64_static_pods)
{
	size_t cap = 64 * 1024;
	char *text = malloc(cap);
	size_t off;

	cr_assert_not_null(text);
	off = (size_t)snprintf(text, cap, "pods = (\n");
	for (int i = 0; i <= NM_CFG_MAX_STATIC_PODS; i++)
		off += (size_t)snprintf(
		    text + off, cap - off,
		    "  { name = \"p%d\"; namespace = \"n\"; serviceaccount = \"s\";"
		    " ip = \"10.0.%d.%d\"; iface = \"nm%d\"; }%s\n",
		    i, i / 200, i % 200 + 1, i, i < NM_CFG_MAX_STATIC_PODS ? "," : "");
	snprintf(text + off, cap - off, ");\n");

	cr_assert_eq(load_str(text), -EINVAL);
	cr_assert_str_eq(err, "t.conf:66: more than 64 static pods");
	free(text);
}

/* ---- valid input ------------------------------------------------------- */

static void
assert_defaults(const struct nm_config *c)
{
	cr_assert_str_eq(c->node_name, "node-a");
	cr_assert_str_eq(c->lcores, "0-1");
	cr_assert_str_eq(c->file_prefix, "nodemesh");
	cr_assert_str_eq(c->socket_path, "/run/nodemesh/nodemesh.sock");
	cr_assert_str_eq(c->admin_group, "root");
	cr_assert_eq(c->mbufs, 16384);
	cr_assert_eq(c->pod_mtu, 1500);
	cr_assert_eq(c->idle_pause_after, 16);
	cr_assert_eq(c->idle_sleep_after, 256);
	cr_assert_eq(c->idle_sleep_us, 50);
	cr_assert_eq(c->idle_mode, NM_CONFIG_IDLE_WAKE);
	cr_assert_eq(c->idle_wait_max_us, 1000);
	cr_assert_eq(c->idle_linger_us, 0);
	cr_assert_eq(c->frag_max_flows, 4096);
	cr_assert_eq(c->frag_timeout_ms, 2000);
	cr_assert_eq(c->max_pods, 256);
	cr_assert_eq(c->podio.version, 2);
	cr_assert_eq(c->podio.rx_block_size, 16384);
	cr_assert_eq(c->podio.rx_blocks, 16);
	cr_assert_eq(c->podio.rx_block_ms, 1);
	cr_assert_eq(c->podio.frame_size, 2048);
	cr_assert_eq(c->podio.tx_frames, 128);
	cr_assert_str_eq(c->store.dir, "/var/lib/nodemesh/store");
	cr_assert_eq(c->store.max_bytes, 1073741824ull);
	cr_assert_eq(c->store.max_days, 30);
	cr_assert_eq(c->store.flow_interval_s, 300);
}

Test(config_load, defaults)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	nm_config_defaults(&cfg);
	assert_defaults(&cfg);
	cr_assert_eq(cfg.n_eal_args, 0);
	cr_assert_eq(cfg.n_pods, 0);
}

Test(config_load, example_config_gives_documented_values)
{
	static const char *const args[] = {"--no-huge", "-m", "512", "--no-pci",
					   "--log-level=lib.eal:warning"};

	memset(&cfg, 0xa5, sizeof(cfg));
	cr_assert_eq(nm_config_load(EXAMPLE_CONF, &cfg, err, sizeof(err)), 0, "%s", err);
	assert_defaults(&cfg);
	cr_assert_eq(cfg.n_eal_args, 5);
	for (unsigned int i = 0; i < 5; i++)
		cr_assert_str_eq(cfg.eal_args[i], args[i], "eal_args[%u]", i);
	cr_assert_eq(cfg.n_pods, 0);
}

Test(config_load, empty_config_gives_defaults)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	cr_assert_eq(load_str(""), 0, "%s", err);
	assert_defaults(&cfg);
	cr_assert_eq(cfg.n_eal_args, 0);
	cr_assert_eq(cfg.n_pods, 0);
}

Test(config_load, every_setting_is_read)
{
	static const char text[] =
	    "node: { name = \"node-b\"; };\n"
	    "eal: { lcores = \"2-5\"; file_prefix = \"nm2\"; args = (\"--no-pci\"); };\n"
	    "control: { socket = \"/tmp/nm.sock\"; group = \"nodemesh\"; };\n"
	    "dataplane: {\n"
	    "  mbufs = 2048; pod_mtu = 9000; max_pods = 250;\n"
	    "  af_packet: { version = 3; rx_block_size = 65536; rx_blocks = 8; rx_block_ms = 4;\n"
	    "               frame_size = 16384; tx_frames = 64; };\n"
	    "  idle: { pause_after = 0; sleep_after = 0; sleep_us = 100000; mode = \"sleep\";\n"
	    "          wait_max_us = 100000; linger_us = 1000000; };\n"
	    "  fragments: { max_flows = 16; timeout_ms = 60000; };\n"
	    "};\n"
	    "tunnel: { fabric_iface = \"fab0\"; fabric_ip = \"10.9.0.1\"; fabric_mtu = 1600;\n"
	    "  pod_cidr = \"10.1.0.0/24\"; udp_port = 5000; listen = \"10.8.0.1:7500\";\n"
	    "  trust_domain = \"td.example\"; cert = \"/c.pem\"; key = \"/k.pem\";\n"
	    "  ca = \"/ca.pem\"; crl = \"/crl.pem\"; cipher = \"chacha20-poly1305\";\n"
	    "  rekey_s = 60; handshake_s = 600;\n"
	    "  grace_s = 5; max_peers = 2000; handshake_rate = 40; handshake_burst = 8; };\n"
	    "peers = ( { name = \"node-c\"; address = \"10.8.0.3:7400\";\n"
	    "  fabric_ip = \"10.9.0.3\";\n"
	    "  pod_cidr = \"10.3.0.0/16\"; } );\n";

	cr_assert_eq(load_str(text), 0, "%s", err);
	cr_assert_str_eq(cfg.node_name, "node-b");
	cr_assert_str_eq(cfg.lcores, "2-5");
	cr_assert_str_eq(cfg.file_prefix, "nm2");
	cr_assert_eq(cfg.n_eal_args, 1);
	cr_assert_str_eq(cfg.eal_args[0], "--no-pci");
	cr_assert_str_eq(cfg.socket_path, "/tmp/nm.sock");
	cr_assert_str_eq(cfg.admin_group, "nodemesh");
	cr_assert_eq(cfg.mbufs, 2048);
	cr_assert_eq(cfg.pod_mtu, 9000);
	cr_assert_eq(cfg.max_pods, 250);
	cr_assert_eq(cfg.podio.version, 3);
	cr_assert_eq(cfg.podio.rx_block_size, 65536);
	cr_assert_eq(cfg.podio.rx_blocks, 8);
	cr_assert_eq(cfg.podio.rx_block_ms, 4);
	cr_assert_eq(cfg.podio.frame_size, 16384);
	cr_assert_eq(cfg.podio.tx_frames, 64);
	cr_assert_eq(cfg.idle_pause_after, 0);
	cr_assert_eq(cfg.idle_sleep_after, 0);
	cr_assert_eq(cfg.idle_sleep_us, 100000);
	cr_assert_eq(cfg.idle_mode, NM_CONFIG_IDLE_SLEEP);
	cr_assert_eq(cfg.idle_wait_max_us, 100000);
	cr_assert_eq(cfg.idle_linger_us, 1000000);
	cr_assert_eq(cfg.frag_max_flows, 16);
	cr_assert_eq(cfg.frag_timeout_ms, 60000);
	cr_assert_str_eq(cfg.tunnel.fabric_iface, "fab0");
	cr_assert_eq(cfg.tunnel.fabric_ip, htonl(0x0a090001));
	cr_assert_eq(cfg.tunnel.fabric_mtu, 1600);
	cr_assert_eq(cfg.tunnel.pod_cidr.net, htonl(0x0a010000));
	cr_assert_eq(cfg.tunnel.pod_cidr.prefix_len, 24);
	cr_assert_eq(cfg.tunnel.udp_port, 5000);
	cr_assert_str_eq(cfg.tunnel.listen_host, "10.8.0.1");
	cr_assert_eq(cfg.tunnel.listen_port, 7500);
	cr_assert_str_eq(cfg.tunnel.trust_domain, "td.example");
	cr_assert_str_eq(cfg.tunnel.cert, "/c.pem");
	cr_assert_str_eq(cfg.tunnel.key, "/k.pem");
	cr_assert_str_eq(cfg.tunnel.ca, "/ca.pem");
	cr_assert_str_eq(cfg.tunnel.crl, "/crl.pem");
	cr_assert_eq(cfg.tunnel.cipher, 2);
	cr_assert_eq(cfg.tunnel.rekey_s, 60);
	cr_assert_eq(cfg.tunnel.handshake_s, 600);
	cr_assert_eq(cfg.tunnel.grace_s, 5);
	cr_assert_eq(cfg.tunnel.max_peers, 2000);
	cr_assert_eq(cfg.tunnel.handshake_rate, 40);
	cr_assert_eq(cfg.tunnel.handshake_burst, 8);
	cr_assert_eq(cfg.n_peers, 1);
	cr_assert_str_eq(cfg.peers[0].name, "node-c");
	cr_assert_str_eq(cfg.peers[0].host, "10.8.0.3");
	cr_assert_eq(cfg.peers[0].port, 7400);
	cr_assert_eq(cfg.peers[0].fabric_ip, htonl(0x0a090003));
	cr_assert_eq(cfg.peers[0].pod_cidr.prefix_len, 16);
}

/* The peer slots and the handshake budget: the documented defaults and ranges. */
Test(config_load, tunnel_scale_settings)
{
	static const char *const tunnel = "tunnel: { fabric_iface = \"fab0\"; fabric_ip = "
					  "\"10.9.0.1\"; pod_cidr = \"10.1.0.0/24\";"
					  " cert = \"/c\"; key = \"/k\"; ca = \"/ca\"; %s };\n%s";
	static const struct {
		const char *settings, *peers;
		int rc;
		const char *err;
	} cases[] = {
	    {"", "", 0, ""},
	    {"max_peers = 0;", "", -EINVAL, "t.conf:1: 'max_peers' = 0 is outside 1..4096"},
	    {"max_peers = 4097;", "", -EINVAL, "t.conf:1: 'max_peers' = 4097 is outside 1..4096"},
	    {"max_peers = 4096;", "", 0, ""},
	    {"handshake_rate = 0;", "", -EINVAL, "handshake_rate"},
	    {"handshake_burst = 0;", "", -EINVAL, "handshake_burst"},
	    {"max_peers = 1;",
	     "peers = ( { name = \"b\"; address = \"10.8.0.2:7400\"; fabric_ip = \"10.9.0.2\";"
	     " pod_cidr = \"10.2.0.0/24\"; }, { name = \"c\"; address = \"10.8.0.3:7400\";"
	     " fabric_ip = \"10.9.0.3\"; pod_cidr = \"10.3.0.0/24\"; } );",
	     -EINVAL, "2 peers, over tunnel.max_peers 1"},
	};
	char text[1024];

	cr_assert_eq(load_str(""), 0, "%s", err);
	cr_expect_eq(cfg.tunnel.max_peers, NM_PEERS_DEFAULT);
	cr_expect_eq(cfg.tunnel.handshake_rate, 100);
	cr_expect_eq(cfg.tunnel.handshake_burst, 20);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), tunnel, cases[i].settings, cases[i].peers);
		cr_expect_eq(load_str(text), cases[i].rc, "%s: %s", cases[i].settings, err);
		cr_expect_not_null(strstr(err, cases[i].err), "%s: '%s' lacks '%s'",
				   cases[i].settings, err, cases[i].err);
	}
}

Test(config_load, signatures_and_logs)
{
	static const char text[] =
	    "signatures: { file = \"/etc/nm/sigs.rules\"; max_streams = 100; };\n"
	    "logs: { flows = \"\"; alerts = \"/tmp/a.jsonl\"; };\n";

	cr_assert_eq(load_str(text), 0, "%s", err);
	cr_assert_str_eq(cfg.sig_file, "/etc/nm/sigs.rules");
	cr_assert_eq(cfg.sig_max_streams, 100);
	cr_assert_str_eq(cfg.flow_log, "");
	cr_assert_str_eq(cfg.alert_log, "/tmp/a.jsonl");

	cr_assert_eq(load_str("signatures: { max_streams = 0; };\n"), -EINVAL);
	cr_assert(strstr(err, "max_streams") != NULL, "%s", err);
	cr_assert_eq(load_str("signatures: { rules = \"x\"; };\n"), -EINVAL);
	cr_assert(strstr(err, "rules") != NULL, "%s", err);
	cr_assert_eq(load_str("logs: { alert = \"x\"; };\n"), -EINVAL);
	cr_assert(strstr(err, "alert") != NULL, "%s", err);

	cr_assert_eq(load_str("logs: { store_dir = \"\"; max_bytes = 17179869184L; max_days = 3650;"
			      " flow_interval_s = 0; };\n"),
		     0, "%s", err);
	cr_assert_str_eq(cfg.store.dir, "");
	cr_assert_eq(cfg.store.max_bytes, 17179869184ull);
	cr_assert_eq(cfg.store.max_days, 3650);
	cr_assert_eq(cfg.store.flow_interval_s, 0);
	cr_assert_eq(load_str("logs: { max_bytes = 0; };\n"), 0, "%s", err);
	cr_assert_eq(load_str("logs: { max_bytes = 65536; };\n"), -EINVAL);
	cr_assert(strstr(err, "max_bytes") != NULL && strstr(err, "1048576") != NULL, "%s", err);
	cr_assert_eq(load_str("logs: { max_bytes = \"1G\"; };\n"), -EINVAL);
	cr_assert(strstr(err, "max_bytes") != NULL, "%s", err);
	cr_assert_eq(load_str("logs: { max_days = 0; };\n"), -EINVAL);
	cr_assert(strstr(err, "max_days") != NULL, "%s", err);
}

Test(config_load, upper_limits_are_accepted)
{
	cr_assert_eq(load_str("dataplane: { mbufs = 4194304; pod_mtu = 576;"
			      " idle: { pause_after = 2147483647; sleep_after = 0; };"
			      " fragments: { max_flows = 1048576; timeout_ms = 10; }; };"),
		     0, "%s", err);
	cr_assert_eq(cfg.mbufs, 1u << 22);
	cr_assert_eq(cfg.pod_mtu, 576);
	cr_assert_eq(cfg.idle_pause_after, 2147483647u);
	cr_assert_eq(cfg.frag_max_flows, 1u << 20);
	cr_assert_eq(cfg.frag_timeout_ms, 10);
}

Test(config_load, sleep_after_equal_to_pause_after_is_accepted)
{
	cr_assert_eq(load_str("dataplane: { idle: { pause_after = 64; sleep_after = 64; }; };"), 0,
		     "%s", err);
	cr_assert_eq(cfg.idle_sleep_after, 64);
}

Test(config_load, static_pods)
{
	static const char text[] =
	    "pods = (\n"
	    "  { name = \"web-0\"; namespace = \"default\"; serviceaccount = \"web\";\n"
	    "    ip = \"198.18.0.10\"; iface = \"nm-web0\"; labels = \"app=web,tier=front\";\n"
	    "    image = \"nginx:1.25\"; driver = \"af_xdp\"; },\n"
	    "  { name = \"db-0\"; namespace = \"data\"; serviceaccount = \"db\";\n"
	    "    ip = \"198.18.0.11\"; iface = \"nm-db0\"; },\n"
	    /* two memif pods: no iface, so their empty ifaces are no duplicate */
	    "  { name = \"vnf-0\"; namespace = \"nfv\"; serviceaccount = \"vnf\";\n"
	    "    ip = \"198.18.0.12\"; driver = \"memif\"; socket = \"/run/nm/vnf0.sock\"; },\n"
	    "  { name = \"vnf-1\"; namespace = \"nfv\"; serviceaccount = \"vnf\";\n"
	    "    ip = \"198.18.0.13\"; driver = \"memif\"; socket = \"/run/nm/vnf1.sock\"; }\n"
	    ");\n";

	cr_assert_eq(load_str(text), 0, "%s", err);
	cr_assert_eq(cfg.n_pods, 4);
	cr_assert_str_eq(cfg.pods[0].name, "web-0");
	cr_assert_str_eq(cfg.pods[0].ns, "default");
	cr_assert_str_eq(cfg.pods[0].sa, "web");
	cr_assert_eq(cfg.pods[0].ip, ip4("198.18.0.10"));
	cr_assert_str_eq(cfg.pods[0].iface, "nm-web0");
	cr_assert_str_eq(cfg.pods[0].labels, "app=web,tier=front");
	cr_assert_str_eq(cfg.pods[0].image, "nginx:1.25");
	cr_assert_eq(cfg.pods[0].driver, NM_DRV_AF_XDP);
	cr_assert_str_eq(cfg.pods[1].name, "db-0");
	cr_assert_eq(cfg.pods[1].ip, ip4("198.18.0.11"));
	cr_assert_str_eq(cfg.pods[1].labels, "");
	cr_assert_str_eq(cfg.pods[1].image, "");
	cr_assert_eq(cfg.pods[1].driver, NM_DRV_AF_PACKET);
	cr_assert_eq(cfg.pods[2].driver, NM_DRV_MEMIF);
	cr_assert_str_eq(cfg.pods[2].memif_socket, "/run/nm/vnf0.sock");
	cr_assert_str_eq(cfg.pods[2].iface, "");
	cr_assert_str_eq(cfg.pods[3].memif_socket, "/run/nm/vnf1.sock");
}

Test(config_load, error_message_is_truncated_to_errlen)
{
	char small[12];

	memset(small, 'Z', sizeof(small));
	cr_assert_eq(nm_config_load_string("nodes = 1;", "t.conf", &cfg, small, 10), -EINVAL);
	cr_assert_str_eq(small, "t.conf:1:");
	cr_assert_eq(small[10], 'Z');
}

/* ---- nm_pod_spec_fill -------------------------------------------------- */

struct kv {
	const char *key;
	const char *val;
};

/* key_fn over a NULL-key-terminated kv array. */
static const char *
kv_get(const void *ctx, const char *key)
{
	for (const struct kv *kv = ctx; kv->key != NULL; kv++)
		if (strcmp(kv->key, key) == 0)
			return kv->val;
	return NULL;
}

/*
 * A minimal valid spec with the keys in over[] (NULL-key-terminated)
 * replaced; a NULL value removes the key. Returns nm_pod_spec_fill's result.
 */
static int
fill_over(struct nm_pod_spec *spec, const struct kv *over)
{
	struct kv kvs[] = {
	    {"name", "web"},
	    {"namespace", "default"},
	    {"serviceaccount", "web"},
	    {"ip", "198.18.0.2"},
	    {"iface", "nm-web"},
	    {"labels", NULL},
	    {"image", NULL},
	    {"driver", NULL},
	    {"socket", NULL},
	    {"container", NULL},
	    {NULL, NULL},
	};
	struct kv *out = kvs;

	for (struct kv *kv = kvs; kv->key != NULL; kv++) {
		for (const struct kv *o = over; o->key != NULL; o++)
			if (strcmp(kv->key, o->key) == 0)
				kv->val = o->val;
		if (kv->val != NULL)
			*out++ = *kv;
	}
	out->key = NULL;
	memset(err, 0, sizeof(err));
	return nm_pod_spec_fill(spec, kv_get, kvs, err, sizeof(err));
}

/* The minimal valid spec with one key replaced (key NULL: none). */
static int
fill_with(struct nm_pod_spec *spec, const char *key, const char *val)
{
	const struct kv over[] = {{key, val}, {NULL, NULL}};

	return fill_over(spec, over);
}

/* printf-safe form of a value that may be NULL (key missing) */
static const char *
shown(const char *val)
{
	return val != NULL ? val : "(missing)";
}

static const struct {
	const char *key;
	const char *val;  /* NULL: key missing */
	const char *want; /* error substring, or NULL: accepted */
} spec_cases[] = {
    {"name", NULL, "missing 'name'"},
    {"namespace", NULL, "missing 'namespace'"},
    {"serviceaccount", NULL, NULL}, /* identity unknown until `identity set` */
    {"ip", NULL, "missing 'ip'"},
    {"iface", NULL, "missing 'iface'"},
    {"name", "", "'name' must be 1 to 63 characters"},
    {"name", "Web", "'name' must be 1 to 63 characters"},
    {"name", "web 0", "'name' must be 1 to 63 characters"},
    {"name", "web-0.a_b", NULL},
    {"name", "123456789012345678901234567890123456789012345678901234567890123", NULL},
    {"name", "1234567890123456789012345678901234567890123456789012345678901234",
     "'name' must be 1 to 63 characters"},
    {"namespace", "kube/system", "'namespace' must be 1 to 63 characters"},
    {"serviceaccount", "SA", "'serviceaccount' must be 1 to 63 characters"},
    {"ip", "", "is not an IPv4 address"},
    {"ip", "198.18.0", "is not an IPv4 address"},
    {"ip", "198.18.0.256", "is not an IPv4 address"},
    {"ip", "fd00::2", "is not an IPv4 address"},
    {"ip", " 198.18.0.2", "is not an IPv4 address"},
    {"ip", "0.0.0.0", "is not a unicast pod address"},
    {"ip", "255.255.255.255", "is not a unicast pod address"},
    {"ip", "224.0.0.1", "is not a unicast pod address"},
    {"ip", "239.255.255.255", "is not a unicast pod address"},
    {"ip", "127.0.0.1", "is not a unicast pod address"},
    {"ip", "169.254.1.1", "is not a unicast pod address"},
    {"ip", "10.0.0.1", NULL},
    {"ip", "223.255.255.254", NULL},
    {"ip", "169.253.255.255", NULL},
    {"iface", "", "'iface' must be an interface name of 1 to 15 characters"},
    {"iface", "nm-0123456789ab", NULL},
    {"iface", "nm-0123456789abc", "'iface' must be an interface name"},
    {"iface", "nm web", "'iface' must be an interface name"},
    {"iface", "nm/web", "'iface' must be an interface name"},
    {"labels", "", NULL},
    {"labels", "app=web", NULL},
    {"labels", "app=web,tier=front", NULL},
    {"labels", "app.kubernetes.io/name=Web-1_x", NULL},
    {"labels", "app", "'labels' must be"},
    {"labels", "=web", "'labels' must be"},
    {"labels", "app=", "'labels' must be"},
    {"labels", "app=web,", "'labels' must be"},
    {"labels", "app==web", "'labels' must be"},
    {"labels", "a=b,,c=d", "'labels' must be"},
    {"labels", "a=b c", "'labels' must be"},
    {"image", "", "'image' must be 1 to 159 characters"},
    {"image", "registry.example/nginx:1.25", NULL},
    {"container", "", "'container' must be 1 to 127 characters"},
    {"container", "3f2a9c0b1d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd", NULL},
    {"container", "nodemesh_Test.1-a", NULL},
    {"container", "a/b", "'container' must be 1 to 127 characters"},
    {"container", "a b", "'container' must be 1 to 127 characters"},
    {"driver", "af_packet", NULL},
    {"driver", "af_xdp", NULL},
    {"driver", "AF_XDP", "'driver' must be af_packet, af_xdp"},
    {"driver", "", "'driver' must be af_packet, af_xdp"},
};

Test(config_pod_spec, fill_table)
{
	for (size_t i = 0; i < sizeof(spec_cases) / sizeof(spec_cases[0]); i++) {
		struct nm_pod_spec spec;
		int rc = fill_with(&spec, spec_cases[i].key, spec_cases[i].val);

		if (spec_cases[i].want == NULL) {
			cr_expect_eq(rc, 0, "%s=%s: %s", spec_cases[i].key,
				     shown(spec_cases[i].val), err);
		} else {
			cr_expect_eq(rc, -EINVAL, "%s=%s accepted", spec_cases[i].key,
				     shown(spec_cases[i].val));
			cr_expect_not_null(strstr(err, spec_cases[i].want), "%s=%s: \"%s\"",
					   spec_cases[i].key, shown(spec_cases[i].val), err);
		}
	}
}

/* Labels and image are part of an identity: not without a service account. */
Test(config_pod_spec, labels_and_image_need_serviceaccount)
{
	const struct kv no_sa_labels[] = {
	    {"serviceaccount", NULL}, {"labels", "app=web"}, {NULL, NULL}};
	const struct kv no_sa_image[] = {
	    {"serviceaccount", NULL}, {"image", "nginx"}, {NULL, NULL}};
	struct nm_pod_spec spec;

	cr_expect_eq(fill_over(&spec, no_sa_labels), -EINVAL);
	cr_expect_not_null(strstr(err, "'labels' and 'image' need 'serviceaccount'"), "%s", err);
	cr_expect_eq(fill_over(&spec, no_sa_image), -EINVAL);
	cr_expect_eq(fill_with(&spec, "serviceaccount", NULL), 0, "%s", err);
	cr_expect_str_eq(spec.sa, "");
	cr_expect_eq(fill_with(&spec, "container", "abc123"), 0, "%s", err);
	cr_expect_str_eq(spec.container, "abc123");
}

/* identity set takes the identity keys only, serviceaccount required. */
Test(config_pod_spec, identity_fill)
{
	const struct kv good[] = {{"namespace", "shop"},     {"name", "web-0"},
				  {"serviceaccount", "web"}, {"labels", "app=web"},
				  {"image", "nginx:1.25"},   {NULL, NULL}};
	const struct kv no_sa[] = {{"namespace", "shop"}, {"name", "web-0"}, {NULL, NULL}};
	const struct kv bad_ns[] = {
	    {"namespace", "Shop"}, {"name", "web-0"}, {"serviceaccount", "web"}, {NULL, NULL}};
	struct nm_identity id;

	cr_assert_eq(nm_identity_fill(&id, kv_get, good, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(id.ns, "shop");
	cr_expect_str_eq(id.name, "web-0");
	cr_expect_str_eq(id.sa, "web");
	cr_expect_str_eq(id.labels, "app=web");
	cr_expect_str_eq(id.image, "nginx:1.25");
	cr_expect_eq(nm_identity_fill(&id, kv_get, no_sa, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "missing 'serviceaccount'");
	cr_expect_eq(nm_identity_fill(&id, kv_get, bad_ns, err, sizeof(err)), -EINVAL);
	cr_expect_not_null(strstr(err, "'namespace' must be"), "%s", err);
}

/* memif pods name a socket instead of an interface. */
static const struct {
	const char *what;
	struct kv over[4];
	const char *want; /* error substring, or NULL: accepted */
} memif_cases[] = {
    {"memif with socket",
     {{"driver", "memif"}, {"iface", NULL}, {"socket", "/run/nodemesh/web.sock"}, {NULL, NULL}},
     NULL},
    {"memif without socket",
     {{"driver", "memif"}, {"iface", NULL}, {NULL, NULL}},
     "driver memif needs 'socket'"},
    {"memif relative socket",
     {{"driver", "memif"}, {"iface", NULL}, {"socket", "web.sock"}, {NULL, NULL}},
     "driver memif needs 'socket'"},
    {"memif socket with ','",
     {{"driver", "memif"}, {"iface", NULL}, {"socket", "/run/a,b"}, {NULL, NULL}},
     "driver memif needs 'socket'"},
    {"memif with iface too",
     {{"driver", "memif"}, {"socket", "/run/nodemesh/web.sock"}, {NULL, NULL}},
     "driver memif takes 'socket', not 'iface'"},
    {"af_packet with socket",
     {{"driver", "af_packet"}, {"socket", "/run/nodemesh/web.sock"}, {NULL, NULL}},
     "'socket' is only for driver memif"},
    {"default driver with socket",
     {{"socket", "/run/nodemesh/web.sock"}, {NULL, NULL}},
     "'socket' is only for driver memif"},
};

Test(config_pod_spec, memif_table)
{
	for (size_t i = 0; i < sizeof(memif_cases) / sizeof(memif_cases[0]); i++) {
		struct nm_pod_spec spec;
		int rc = fill_over(&spec, memif_cases[i].over);

		if (memif_cases[i].want == NULL) {
			cr_expect_eq(rc, 0, "%s: %s", memif_cases[i].what, err);
		} else {
			cr_expect_eq(rc, -EINVAL, "%s accepted", memif_cases[i].what);
			cr_expect_not_null(strstr(err, memif_cases[i].want), "%s: \"%s\"",
					   memif_cases[i].what, err);
		}
	}
}

Test(config_pod_spec, memif_spec_is_filled)
{
	static const struct kv over[] = {{"driver", "memif"},
					 {"iface", NULL},
					 {"socket", "/run/nodemesh/web.sock"},
					 {NULL, NULL}};
	struct nm_pod_spec spec;

	cr_assert_eq(fill_over(&spec, over), 0, "%s", err);
	cr_assert_eq(spec.driver, NM_DRV_MEMIF);
	cr_assert_str_eq(spec.memif_socket, "/run/nodemesh/web.sock");
	cr_assert_str_eq(spec.iface, "");
}

Test(config_pod_spec, minimal_spec_is_filled)
{
	struct nm_pod_spec spec;

	memset(&spec, 0xa5, sizeof(spec));
	cr_assert_eq(fill_with(&spec, NULL, NULL), 0, "%s", err);
	cr_assert_str_eq(spec.name, "web");
	cr_assert_str_eq(spec.ns, "default");
	cr_assert_str_eq(spec.sa, "web");
	cr_assert_eq(spec.ip, ip4("198.18.0.2"));
	cr_assert_str_eq(spec.iface, "nm-web");
	cr_assert_str_eq(spec.labels, "");
	cr_assert_str_eq(spec.image, "");
	cr_assert_str_eq(spec.memif_socket, "");
	cr_assert_eq(spec.driver, NM_DRV_AF_PACKET);
}

Test(config_pod_spec, labels_too_long)
{
	struct nm_pod_spec spec;
	char labels[NM_LABELS_LEN + 1];

	/* "a=" and 253 'b': 255 characters fit, 256 do not. */
	memset(labels, 'b', sizeof(labels));
	labels[0] = 'a';
	labels[1] = '=';
	labels[NM_LABELS_LEN - 1] = '\0';
	cr_assert_eq(fill_with(&spec, "labels", labels), 0, "%s", err);
	cr_assert_eq(strlen(spec.labels), NM_LABELS_LEN - 1);
	labels[NM_LABELS_LEN - 1] = 'b';
	labels[NM_LABELS_LEN] = '\0';
	cr_assert_eq(fill_with(&spec, "labels", labels), -EINVAL);
	cr_assert_not_null(strstr(err, "'labels' must be"), "%s", err);
}

Test(config_pod_spec, image_too_long)
{
	struct nm_pod_spec spec;
	char image[NM_IMAGE_LEN + 1];

	memset(image, 'i', sizeof(image));
	image[NM_IMAGE_LEN - 1] = '\0';
	cr_assert_eq(fill_with(&spec, "image", image), 0, "%s", err);
	image[NM_IMAGE_LEN - 1] = 'i';
	image[NM_IMAGE_LEN] = '\0';
	cr_assert_eq(fill_with(&spec, "image", image), -EINVAL);
	cr_assert_str_eq(err, "'image' must be 1 to 159 characters");
}

Test(config_load, signatures_vars_over_suricata_defaults)
{
	cr_assert_eq(load_str("signatures: { max_streams = 100; };\n"), 0, "%s", err);
	cr_assert_str_eq(nm_sig_vars_get(&cfg.sig_vars, "HOME_NET"),
			 "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]");
	cr_assert_str_eq(nm_sig_vars_get(&cfg.sig_vars, "HTTP_PORTS"), "80");

	cr_assert_eq(load_str("signatures: { vars: { HOME_NET = \"198.18.0.0/15\"; "
			      "WEB_PORTS = \"[80,8080]\"; }; };\n"),
		     0, "%s", err);
	cr_assert_str_eq(nm_sig_vars_get(&cfg.sig_vars, "HOME_NET"), "198.18.0.0/15");
	cr_assert_str_eq(nm_sig_vars_get(&cfg.sig_vars, "WEB_PORTS"), "[80,8080]");
	cr_assert_str_eq(nm_sig_vars_get(&cfg.sig_vars, "EXTERNAL_NET"), "!$HOME_NET");

	cr_assert_eq(load_str("signatures: { vars: { HOME_NET = 10; }; };\n"), -EINVAL);
	cr_assert(strstr(err, "signatures.vars.HOME_NET must be a string") != NULL, "%s", err);
	cr_assert_eq(load_str("signatures: { vars: { HOME_NET = \"10.0.0.0/33\"; }; };\n"),
		     -EINVAL);
	cr_assert(strstr(err, "variable HOME_NET") != NULL, "%s", err);
	cr_assert_eq(load_str("signatures: { vars = [\"x\"]; };\n"), -EINVAL);
	cr_assert(strstr(err, "must be a group") != NULL, "%s", err);
}

Test(config_load, signatures_stream_state_max)
{
	cr_assert_eq(load_str("signatures: { max_streams = 100; };\n"), 0, "%s", err);
	cr_assert_eq(cfg.sig_stream_state_max, 8192, "default");
	cr_assert_eq(load_str("signatures: { stream_state_max = 16384; };\n"), 0, "%s", err);
	cr_assert_eq(cfg.sig_stream_state_max, 16384);

	cr_assert_eq(load_str("signatures: { stream_state_max = 4100; };\n"), -EINVAL);
	cr_assert(strstr(err, "multiple of 64") != NULL, "%s", err);
	cr_assert_eq(load_str("signatures: { stream_state_max = 512; };\n"), -EINVAL);
	cr_assert(strstr(err, "stream_state_max") != NULL, "%s", err);
}

Test(config_load, signatures_http_events_with_rules_or_all)
{
	cr_assert_eq(load_str("signatures: { max_streams = 100; };\n"), 0, "%s", err);
	cr_assert_eq(cfg.sig_http_events, 0, "by default only with http rules");
	cr_assert_eq(load_str("signatures: { http_events = \"all\"; };\n"), 0, "%s", err);
	cr_assert_eq(cfg.sig_http_events, 1);
	cr_assert_eq(load_str("signatures: { http_events = \"with_rules\"; };\n"), 0, "%s", err);
	cr_assert_eq(cfg.sig_http_events, 0);
	cr_assert_eq(load_str("signatures: { http_events = \"some\"; };\n"), -EINVAL);
	cr_assert(strstr(err, "signatures.http_events must be \"with_rules\" or \"all\", not "
			      "\"some\"") != NULL,
		  "%s", err);
}

Test(config_load, signatures_http_body_decoded_max)
{
	cr_assert_eq(load_str("signatures: { max_streams = 100; };\n"), 0, "%s", err);
	cr_assert_eq(cfg.sig_http_body_decoded_max, 65536, "default");
	cr_assert_eq(load_str("signatures: { http_body_decoded_max = 1048576; };\n"), 0, "%s", err);
	cr_assert_eq(cfg.sig_http_body_decoded_max, 1048576);

	cr_assert_eq(load_str("signatures: { http_body_decoded_max = 1023; };\n"), -EINVAL);
	cr_assert(strstr(err, "http_body_decoded_max") != NULL, "%s", err);
	cr_assert_eq(load_str("signatures: { http_body_decoded_max = 16777217; };\n"), -EINVAL);
	cr_assert(strstr(err, "http_body_decoded_max") != NULL, "%s", err);
}
