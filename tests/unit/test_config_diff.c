/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a config reload may change (ctrl/config_diff.c): every setting of
 * the config file, changed alone, is found by its name and in its class
 * (live, seed or restart); the same file twice differs in nothing; the
 * command line's overrides apply to a reload as to the start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"

static struct nm_config a, b; /* 40 KiB each: not on the stack */

struct seen {
	unsigned int n;
	char name[64];
	enum nm_config_class cls;
};

static void
record(void *ctx, const char *name, enum nm_config_class cls)
{
	struct seen *s = ctx;

	s->n++;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->cls = cls;
}

/* A tunnel group with its required settings; extra adds or changes one. */
#define TUN_WITH(iface, ip, cidr, cert, extra)                                                     \
	"tunnel: { fabric_iface = \"" iface "\"; fabric_ip = \"" ip "\"; pod_cidr = \"" cidr       \
	"\"; cert = \"" cert "\"; key = \"/k\"; ca = \"/ca\"; " extra " };\n"
#define TUN(extra) TUN_WITH("fab0", "10.9.0.1", "10.1.0.0/24", "/c", extra)
#define PEER(name)                                                                                 \
	"peers = ( { name = \"" name "\"; address = \"10.8.0.3:7400\"; fabric_ip = \"10.9.0.3\"; " \
	"pod_cidr = \"10.3.0.0/16\"; } );\n"
#define POD(ip)                                                                                    \
	"pods = ( { name = \"p1\"; namespace = \"ns\"; ip = \"" ip "\"; iface = \"veth1\"; } );\n"

static const struct {
	const char *name;
	enum nm_config_class cls;
	const char *base, *changed;
} cases[] = {
    {"node.name", NM_CONFIG_RESTART, "", "node: { name = \"node-b\"; };"},
    {"eal.lcores", NM_CONFIG_RESTART, "", "eal: { lcores = \"0-2\"; };"},
    {"eal.file_prefix", NM_CONFIG_RESTART, "", "eal: { file_prefix = \"x\"; };"},
    {"eal.args", NM_CONFIG_RESTART, "eal: { args = [\"--no-pci\"]; };",
     "eal: { args = [\"--no-pci\", \"--no-huge\"]; };"},
    {"control.socket", NM_CONFIG_RESTART, "", "control: { socket = \"/tmp/x.sock\"; };"},
    {"control.group", NM_CONFIG_RESTART, "", "control: { group = \"adm\"; };"},
    {"dataplane.mbufs", NM_CONFIG_RESTART, "", "dataplane: { mbufs = 4096; };"},
    {"dataplane.pod_mtu", NM_CONFIG_RESTART, "", "dataplane: { pod_mtu = 9000; };"},
    {"dataplane.idle.pause_after", NM_CONFIG_LIVE, "",
     "dataplane: { idle: { pause_after = 1; }; };"},
    {"dataplane.idle.sleep_after", NM_CONFIG_LIVE, "",
     "dataplane: { idle: { sleep_after = 0; }; };"},
    {"dataplane.idle.sleep_us", NM_CONFIG_LIVE, "", "dataplane: { idle: { sleep_us = 7; }; };"},
    {"dataplane.idle.mode", NM_CONFIG_LIVE, "", "dataplane: { idle: { mode = \"poll\"; }; };"},
    {"dataplane.idle.wait_max_us", NM_CONFIG_LIVE, "",
     "dataplane: { idle: { wait_max_us = 5; }; };"},
    {"dataplane.idle.linger_us", NM_CONFIG_LIVE, "", "dataplane: { idle: { linger_us = 5; }; };"},
    {"dataplane.fragments.max_flows", NM_CONFIG_RESTART, "",
     "dataplane: { fragments: { max_flows = 16; }; };"},
    {"dataplane.fragments.timeout_ms", NM_CONFIG_RESTART, "",
     "dataplane: { fragments: { timeout_ms = 10; }; };"},
    {"conntrack.capacity", NM_CONFIG_RESTART, "", "conntrack: { capacity = 64; };"},
    {"conntrack.timeouts.tcp_syn", NM_CONFIG_LIVE, "",
     "conntrack: { timeouts: { tcp_syn = 1; }; };"},
    {"conntrack.timeouts.tcp_established", NM_CONFIG_LIVE, "",
     "conntrack: { timeouts: { tcp_established = 1; }; };"},
    {"conntrack.timeouts.tcp_closing", NM_CONFIG_LIVE, "",
     "conntrack: { timeouts: { tcp_closing = 1; }; };"},
    {"conntrack.timeouts.tcp_closed", NM_CONFIG_LIVE, "",
     "conntrack: { timeouts: { tcp_closed = 1; }; };"},
    {"conntrack.timeouts.udp", NM_CONFIG_LIVE, "", "conntrack: { timeouts: { udp = 1; }; };"},
    {"conntrack.timeouts.icmp", NM_CONFIG_LIVE, "", "conntrack: { timeouts: { icmp = 1; }; };"},
    {"conntrack.timeouts.other", NM_CONFIG_LIVE, "", "conntrack: { timeouts: { other = 1; }; };"},
    {"policy.rules", NM_CONFIG_SEED, "", "policy: { rules = \"/r\"; };"},
    {"policy.default", NM_CONFIG_SEED, "", "policy: { default = \"allow\"; };"},
    {"logs.flows", NM_CONFIG_LIVE, "", "logs: { flows = \"/tmp/f.jsonl\"; };"},
    {"logs.alerts", NM_CONFIG_LIVE, "", "logs: { alerts = \"\"; };"},
    {"signatures.file", NM_CONFIG_SEED, "", "signatures: { file = \"/s.rules\"; };"},
    {"signatures.max_streams", NM_CONFIG_RESTART, "", "signatures: { max_streams = 5; };"},
    {"signatures.stream_state_max", NM_CONFIG_RESTART, "",
     "signatures: { stream_state_max = 1024; };"},
    {"signatures.vars", NM_CONFIG_RESTART, "",
     "signatures: { vars: { HOME_NET = \"198.18.0.0/15\"; }; };"},
    {"state.file", NM_CONFIG_RESTART, "", "state: { file = \"/tmp/st\"; };"},
    {"pods", NM_CONFIG_SEED, POD("10.1.0.5"), POD("10.1.0.6")},
    {"peers", NM_CONFIG_SEED, TUN("") PEER("node-c"), TUN("") PEER("node-d")},
    {"tunnel.fabric_iface", NM_CONFIG_RESTART, TUN(""),
     TUN_WITH("fab1", "10.9.0.1", "10.1.0.0/24", "/c", "")},
    {"tunnel.fabric_ip", NM_CONFIG_RESTART, TUN(""),
     TUN_WITH("fab0", "10.9.0.2", "10.1.0.0/24", "/c", "")},
    {"tunnel.pod_cidr", NM_CONFIG_RESTART, TUN(""),
     TUN_WITH("fab0", "10.9.0.1", "10.2.0.0/24", "/c", "")},
    {"tunnel.cert", NM_CONFIG_RESTART, TUN(""),
     TUN_WITH("fab0", "10.9.0.1", "10.1.0.0/24", "/c2", "")},
    {"tunnel.fabric_mtu", NM_CONFIG_RESTART, TUN(""), TUN("fabric_mtu = 1600;")},
    {"tunnel.udp_port", NM_CONFIG_RESTART, TUN(""), TUN("udp_port = 5000;")},
    {"tunnel.listen", NM_CONFIG_RESTART, TUN(""), TUN("listen = \"10.8.0.1:7500\";")},
    {"tunnel.trust_domain", NM_CONFIG_RESTART, TUN(""), TUN("trust_domain = \"x.y\";")},
    {"tunnel.crl", NM_CONFIG_RESTART, TUN(""), TUN("crl = \"/crl\";")},
    {"tunnel.cipher", NM_CONFIG_RESTART, TUN(""), TUN("cipher = \"aes-256-gcm\";")},
    {"tunnel.rekey_s", NM_CONFIG_RESTART, TUN(""), TUN("rekey_s = 60;")},
    {"tunnel.handshake_s", NM_CONFIG_RESTART, TUN(""), TUN("handshake_s = 600;")},
    {"tunnel.grace_s", NM_CONFIG_RESTART, TUN(""), TUN("grace_s = 5;")},
};

Test(config_diff, each_setting_changed_alone_is_named_in_its_class)
{
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = {0};

		cr_assert_eq(
		    nm_config_load_string(cases[i].base, "base.conf", &a, err, sizeof(err)), 0,
		    "%s: base: %s", cases[i].name, err);
		cr_assert_eq(
		    nm_config_load_string(cases[i].changed, "new.conf", &b, err, sizeof(err)), 0,
		    "%s: changed: %s", cases[i].name, err);
		cr_assert_eq(nm_config_diff(&a, &b, record, &s), 1, "%s: %u changes, last %s",
			     cases[i].name, s.n, s.name);
		cr_assert_str_eq(s.name, cases[i].name);
		cr_assert_eq(s.cls, cases[i].cls, "%s is %s, expected %s", cases[i].name,
			     nm_config_class_name(s.cls), nm_config_class_name(cases[i].cls));
	}
}

Test(config_diff, the_example_config_twice_differs_in_nothing)
{
	char err[512];

	cr_assert_eq(nm_config_load(NM_SRC_ROOT "/conf/nodemesh.conf", &a, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(nm_config_load(NM_SRC_ROOT "/conf/nodemesh.conf", &b, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(nm_config_diff(&a, &b, NULL, NULL), 0);
}

Test(config_diff, copy_live_takes_only_live_settings)
{
	char err[512];

	cr_assert_eq(nm_config_load_string("", "a.conf", &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(
	    nm_config_load_string("dataplane: { mbufs = 4096; idle: { sleep_us = 7; }; };\n"
				  "conntrack: { timeouts: { udp = 2; }; };\n"
				  "logs: { flows = \"/tmp/f.jsonl\"; };\n"
				  "policy: { default = \"allow\"; };",
				  "b.conf", &b, err, sizeof(err)),
	    0, "%s", err);
	nm_config_copy_live(&a, &b);
	cr_assert_eq(a.idle_sleep_us, 7);
	cr_assert_eq(a.flow_timeout_s[4], 2);
	cr_assert_str_eq(a.flow_log, "/tmp/f.jsonl");
	cr_assert_eq(a.mbufs, 16384, "a restart setting stays");
	cr_assert_eq(a.default_allow, 0, "a seed setting stays");
}

/* nodemeshd -s/--state/--file-prefix win over the file, at a reload as at the start. */
Test(config_diff, overrides_apply_to_what_is_loaded)
{
	char path[] = "/tmp/nm-config-diff-XXXXXX", err[512];
	int fd = mkstemp(path);
	struct nm_config_source src = {.has_socket = true, .has_state = true};

	cr_assert_geq(fd, 0);
	static const char text[] =
	    "control: { socket = \"/tmp/file.sock\"; };\nstate: { file = \"/tmp/file.state\"; };\n";
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	snprintf(src.path, sizeof(src.path), "%s", path);
	snprintf(src.socket, sizeof(src.socket), "/tmp/cmdline.sock");
	snprintf(src.state, sizeof(src.state), "/tmp/cmdline.state");
	int rc = nm_config_load_source(&src, &a, err, sizeof(err));
	unlink(path);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(a.socket_path, "/tmp/cmdline.sock");
	cr_assert_str_eq(a.state_file, "/tmp/cmdline.state");
	cr_assert_str_eq(a.file_prefix, "nodemesh", "no --file-prefix: the file's (default)");
}
