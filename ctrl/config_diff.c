/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a config reload may change (README "Configuration", "Reloading the
 * configuration"). Every setting of struct nm_config is listed here once
 * with its class:
 *
 *   live     the running node takes the new value (idle back-off, flow
 *            timeouts, log paths);
 *   seed     what a first start begins with; at run time the control
 *            commands and the state file own it (pods, peers, rules, the
 *            default action, the signature file), so a reload leaves it;
 *   restart  sized or bound at start (lcores, pools, tables, ports, the
 *            socket, the tunnel): a reload that changes one is refused.
 *
 * A setting added to struct nm_config without a line here would be
 * ignored by reloads; tests/unit/test_config.c changes each one in turn.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

enum kind {
	BYTES,	  /* compare the field's bytes */
	STRING,	  /* compare up to the NUL (the bytes after it are not the value) */
	EAL_ARGS, /* n_eal_args and that many eal_args */
	PODS,	  /* n_pods and that many pods */
	PEERS,	  /* n_peers and that many peers */
};

struct setting {
	const char *name;
	size_t off, len;
	enum kind kind;
	enum nm_config_class cls;
};

#define FIELD(f) offsetof(struct nm_config, f), sizeof(((struct nm_config *)0)->f)
#define S(name, f, kind, cls)                                                                      \
	{                                                                                          \
		name, FIELD(f), kind, cls                                                          \
	}
#define TIMEOUT(name, i)      S("conntrack.timeouts." name, flow_timeout_s[i], BYTES, NM_CONFIG_LIVE)
#define TUNNEL(name, f, kind) S("tunnel." name, tunnel.f, kind, NM_CONFIG_RESTART)

static const struct setting settings[] = {
    S("node.name", node_name, STRING, NM_CONFIG_RESTART),
    S("eal.lcores", lcores, STRING, NM_CONFIG_RESTART),
    S("eal.file_prefix", file_prefix, STRING, NM_CONFIG_RESTART),
    S("eal.args", eal_args, EAL_ARGS, NM_CONFIG_RESTART),
    S("control.socket", socket_path, STRING, NM_CONFIG_RESTART),
    S("control.group", admin_group, STRING, NM_CONFIG_RESTART),
    S("dataplane.mbufs", mbufs, BYTES, NM_CONFIG_RESTART),
    S("dataplane.pod_mtu", pod_mtu, BYTES, NM_CONFIG_RESTART),
    S("dataplane.max_pods", max_pods, BYTES, NM_CONFIG_RESTART),
    S("dataplane.af_packet.version", podio.version, BYTES, NM_CONFIG_RESTART),
    S("dataplane.af_packet.rx_block_size", podio.rx_block_size, BYTES, NM_CONFIG_RESTART),
    S("dataplane.af_packet.rx_blocks", podio.rx_blocks, BYTES, NM_CONFIG_RESTART),
    S("dataplane.af_packet.rx_block_ms", podio.rx_block_ms, BYTES, NM_CONFIG_RESTART),
    S("dataplane.af_packet.frame_size", podio.frame_size, BYTES, NM_CONFIG_RESTART),
    S("dataplane.af_packet.tx_frames", podio.tx_frames, BYTES, NM_CONFIG_RESTART),
    S("dataplane.idle.pause_after", idle_pause_after, BYTES, NM_CONFIG_LIVE),
    S("dataplane.idle.sleep_after", idle_sleep_after, BYTES, NM_CONFIG_LIVE),
    S("dataplane.idle.sleep_us", idle_sleep_us, BYTES, NM_CONFIG_LIVE),
    S("dataplane.idle.mode", idle_mode, BYTES, NM_CONFIG_LIVE),
    S("dataplane.idle.wait_max_us", idle_wait_max_us, BYTES, NM_CONFIG_LIVE),
    S("dataplane.idle.linger_us", idle_linger_us, BYTES, NM_CONFIG_LIVE),
    S("dataplane.fragments.max_flows", frag_max_flows, BYTES, NM_CONFIG_RESTART),
    S("dataplane.fragments.timeout_ms", frag_timeout_ms, BYTES, NM_CONFIG_RESTART),
    S("conntrack.capacity", flow_capacity, BYTES, NM_CONFIG_RESTART),
    TIMEOUT("tcp_syn", 0),
    TIMEOUT("tcp_established", 1),
    TIMEOUT("tcp_closing", 2),
    TIMEOUT("tcp_closed", 3),
    TIMEOUT("udp", 4),
    TIMEOUT("icmp", 5),
    TIMEOUT("other", 6),
    S("policy.rules", rules_file, STRING, NM_CONFIG_SEED),
    S("policy.default", default_allow, BYTES, NM_CONFIG_SEED),
    S("logs.flows", flow_log, STRING, NM_CONFIG_LIVE),
    S("logs.alerts", alert_log, STRING, NM_CONFIG_LIVE),
    S("logs.store_dir", store.dir, STRING, NM_CONFIG_RESTART),
    S("logs.max_bytes", store.max_bytes, BYTES, NM_CONFIG_RESTART),
    S("logs.max_days", store.max_days, BYTES, NM_CONFIG_RESTART),
    S("logs.flow_interval_s", store.flow_interval_s, BYTES, NM_CONFIG_RESTART),
    S("signatures.file", sig_file, STRING, NM_CONFIG_SEED),
    S("signatures.max_streams", sig_max_streams, BYTES, NM_CONFIG_RESTART),
    S("signatures.stream_state_max", sig_stream_state_max, BYTES, NM_CONFIG_RESTART),
    S("signatures.http_body_decoded_max", sig_http_body_decoded_max, BYTES, NM_CONFIG_RESTART),
    S("signatures.midstream", sig_midstream_pickup, BYTES, NM_CONFIG_RESTART),
    S("signatures.http_events", sig_http_events, BYTES, NM_CONFIG_RESTART),
    S("signatures.vars", sig_vars, BYTES, NM_CONFIG_RESTART),
    S("state.file", state_file, STRING, NM_CONFIG_RESTART),
    S("metrics.listen", metrics_listen, STRING, NM_CONFIG_RESTART),
    S("pods", pods, PODS, NM_CONFIG_SEED),
    S("peers", peers, PEERS, NM_CONFIG_SEED),
    TUNNEL("fabric_iface", fabric_iface, STRING),
    TUNNEL("fabric_ip", fabric_ip, BYTES),
    TUNNEL("fabric_mtu", fabric_mtu, BYTES),
    TUNNEL("pod_cidr", pod_cidr, BYTES),
    TUNNEL("udp_port", udp_port, BYTES),
    TUNNEL("listen", listen_host, STRING),
    TUNNEL("listen", listen_port, BYTES),
    TUNNEL("trust_domain", trust_domain, STRING),
    TUNNEL("cert", cert, STRING),
    TUNNEL("key", key, STRING),
    TUNNEL("ca", ca, STRING),
    TUNNEL("crl", crl, STRING),
    TUNNEL("cipher", cipher, BYTES),
    TUNNEL("rekey_s", rekey_s, BYTES),
    TUNNEL("handshake_s", handshake_s, BYTES),
    TUNNEL("grace_s", grace_s, BYTES),
    TUNNEL("max_peers", max_peers, BYTES),
    TUNNEL("max_remote_pods", max_remote_pods, BYTES),
    TUNNEL("handshake_rate", handshake_rate, BYTES),
    TUNNEL("handshake_burst", handshake_burst, BYTES),
};

static bool
differs(const struct setting *s, const struct nm_config *a, const struct nm_config *b)
{
	const char *pa = (const char *)a + s->off, *pb = (const char *)b + s->off;

	switch (s->kind) {
	case STRING:
		return strncmp(pa, pb, s->len) != 0;
	case EAL_ARGS:
		if (a->n_eal_args != b->n_eal_args)
			return true;
		for (unsigned int i = 0; i < a->n_eal_args; i++)
			if (strcmp(a->eal_args[i], b->eal_args[i]) != 0)
				return true;
		return false;
	case PODS:
		/* Specs are memset before they are filled: their bytes are their value. */
		return a->n_pods != b->n_pods ||
		       memcmp(a->pods, b->pods, a->n_pods * sizeof(a->pods[0])) != 0;
	case PEERS:
		return a->n_peers != b->n_peers ||
		       memcmp(a->peers, b->peers, a->n_peers * sizeof(a->peers[0])) != 0;
	case BYTES:
	default:
		return memcmp(pa, pb, s->len) != 0;
	}
}

unsigned int
nm_config_diff(const struct nm_config *a, const struct nm_config *b, nm_config_diff_fn fn,
	       void *ctx)
{
	unsigned int n = 0;
	const char *last = NULL;

	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];

		if (!differs(s, a, b))
			continue;
		/* tunnel.listen is two fields: name it once. */
		if (last != NULL && strcmp(last, s->name) == 0)
			continue;
		last = s->name;
		n++;
		if (fn != NULL)
			fn(ctx, s->name, s->cls);
	}
	return n;
}

void
nm_config_copy_live(struct nm_config *dst, const struct nm_config *src)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];

		if (s->cls == NM_CONFIG_LIVE)
			memcpy((char *)dst + s->off, (const char *)src + s->off, s->len);
	}
}

const char *
nm_config_class_name(enum nm_config_class cls)
{
	static const char *const names[] = {"live", "seed", "restart"};

	return (unsigned int)cls < 3 ? names[cls] : "?";
}
