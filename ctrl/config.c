/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader (libconfig). The file is small and read once at start, so
 * clarity wins over speed: each group is checked against its list of known
 * settings, each value against its range, and the first problem is
 * reported as "FILE:LINE: reason".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <libconfig.h>

#include "nodemesh/cidr.h"
#include "nodemesh/http-t.h"
#include "nodemesh/ipcache-t.h"
#include "config.h"
#include "names.h"

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int
line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

void
nm_config_defaults(struct nm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->node_name, sizeof(cfg->node_name), "node-a");
	snprintf(cfg->lcores, sizeof(cfg->lcores), "0-1");
	snprintf(cfg->file_prefix, sizeof(cfg->file_prefix), "nodemesh");
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "/run/nodemesh/nodemesh.sock");
	snprintf(cfg->admin_group, sizeof(cfg->admin_group), "root");
	cfg->mbufs = 16384;
	cfg->idle_pause_after = 16;
	cfg->idle_sleep_after = 256;
	cfg->idle_sleep_us = 50;
	cfg->idle_mode = NM_CONFIG_IDLE_WAKE;
	cfg->idle_wait_max_us = 1000;
	cfg->idle_linger_us = 0;
	cfg->frag_max_flows = 4096;
	cfg->frag_timeout_ms = 2000;
	cfg->pod_mtu = 1500;
	cfg->max_pods = NM_DEFAULT_PODS;
	/* 256 KiB of RX and 256 KiB of TX ring per af_packet pod. */
	cfg->podio.version = 2; /* TPACKET_V2: no per-pod timer (README "Pod I/O") */
	cfg->podio.rx_block_size = 16384;
	cfg->podio.rx_blocks = 16;
	cfg->podio.rx_block_ms = 1;
	cfg->podio.frame_size = 2048;
	cfg->podio.tx_frames = 128;
	cfg->flow_capacity = 65536;
	/* syn, established, closing, closed, udp, icmp, other */
	static const uint32_t timeouts[7] = {30, 3600, 30, 5, 60, 30, 60};
	memcpy(cfg->flow_timeout_s, timeouts, sizeof(timeouts));
	cfg->default_allow = 0;
	snprintf(cfg->flow_log, sizeof(cfg->flow_log), "/var/log/nodemesh/flows.jsonl");
	cfg->sig_max_streams = 65536;
	cfg->sig_stream_state_max = 8192;
	cfg->sig_http_body_decoded_max = NM_HTTP_DECODED_DEFAULT;
	nm_sig_vars_defaults(&cfg->sig_vars);
	cfg->tunnel.fabric_mtu = 1500;
	cfg->tunnel.udp_port = 4790;
	cfg->tunnel.listen_port = 7400;
	snprintf(cfg->tunnel.listen_host, sizeof(cfg->tunnel.listen_host), "0.0.0.0");
	snprintf(cfg->tunnel.trust_domain, sizeof(cfg->tunnel.trust_domain), "cluster.local");
	cfg->tunnel.cipher = 0; /* NM_TNL_AES_128_GCM */
	cfg->tunnel.rekey_s = 300;
	cfg->tunnel.handshake_s = 3600;
	cfg->tunnel.grace_s = 10;
	cfg->tunnel.max_peers = NM_PEERS_DEFAULT;
	cfg->tunnel.max_remote_pods = NM_IPCACHE_DEFAULT;
	cfg->tunnel.handshake_rate = 100;
	cfg->tunnel.handshake_burst = 20;
	snprintf(cfg->alert_log, sizeof(cfg->alert_log), "/var/log/nodemesh/alerts.jsonl");
	snprintf(cfg->store.dir, sizeof(cfg->store.dir), "%s", NM_STORE_DEFAULT_DIR);
	cfg->store.max_bytes = NM_STORE_DEFAULT_MAX_BYTES;
	cfg->store.max_days = NM_STORE_DEFAULT_MAX_DAYS;
	cfg->store.flow_interval_s = NM_STORE_DEFAULT_INTERVAL_S;
}

/* Every member of group s must be named in known[]. */
static int
check_members(struct ctx *c, const config_setting_t *s, const char *const *known)
{
	/* A scalar has no members: without this, `dataplane = 5;` would pass. */
	if (!config_setting_is_group(s)) {
		snprintf(c->err, c->errlen, "%s:%d: '%s' must be a group { ... }", c->file,
			 line_of(s), config_setting_name(s) ? config_setting_name(s) : "?");
		return -EINVAL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned int)i);
		const char *name = config_setting_name(m);
		const char *const *k;

		for (k = known; *k != NULL; k++)
			if (name != NULL && strcmp(name, *k) == 0)
				break;
		if (*k == NULL) {
			snprintf(c->err, c->errlen, "%s:%d: unknown setting '%s'", c->file,
				 line_of(m), name ? name : "?");
			return -EINVAL;
		}
	}
	return 0;
}

static int
get_string(struct ctx *c, const config_setting_t *grp, const char *name, char *dst, size_t dstlen)
{
	const config_setting_t *s = config_setting_get_member(grp, name);

	if (s == NULL)
		return 0;
	const char *v = config_setting_get_string(s);
	if (v == NULL) {
		snprintf(c->err, c->errlen, "%s:%d: '%s' must be a string", c->file, line_of(s),
			 name);
		return -EINVAL;
	}
	if (strlen(v) >= dstlen || v[0] == '\0') {
		snprintf(c->err, c->errlen, "%s:%d: '%s' must be 1 to %zu characters", c->file,
			 line_of(s), name, dstlen - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/*
 * signatures.NAME, one of two words: *dst 0 for first, 1 for second;
 * unchanged when absent. Anything else is refused, naming both.
 */
static int
get_choice(struct ctx *c, const config_setting_t *grp, const char *name, const char *first,
	   const char *second, uint8_t *dst)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	char v[32] = "";

	if (s == NULL)
		return 0;
	if (get_string(c, grp, name, v, sizeof(v)) < 0)
		return -EINVAL;
	if (strcmp(v, first) != 0 && strcmp(v, second) != 0) {
		snprintf(c->err, c->errlen,
			 "%s:%d: signatures.%s must be \"%s\" or \"%s\", not \"%s\"", c->file,
			 line_of(s), name, first, second, v);
		return -EINVAL;
	}
	*dst = strcmp(v, second) == 0;
	return 0;
}

static int
get_uint(struct ctx *c, const config_setting_t *grp, const char *name, uint32_t *dst, uint32_t min,
	 uint32_t max)
{
	const config_setting_t *s = config_setting_get_member(grp, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT) {
		snprintf(c->err, c->errlen, "%s:%d: '%s' must be an integer", c->file, line_of(s),
			 name);
		return -EINVAL;
	}
	int v = config_setting_get_int(s);
	if (v < 0 || (uint32_t)v < min || (uint32_t)v > max) {
		snprintf(c->err, c->errlen, "%s:%d: '%s' = %d is outside %u..%u", c->file,
			 line_of(s), name, v, min, max);
		return -EINVAL;
	}
	*dst = (uint32_t)v;
	return 0;
}

static const char *
pod_key(const void *ctx, const char *key)
{
	const config_setting_t *s = config_setting_get_member(ctx, key);

	return s ? config_setting_get_string(s) : NULL;
}

static int
load_pods(struct ctx *c, const config_setting_t *pods, struct nm_config *cfg)
{
	static const char *const known[] = {
	    "name",  "namespace", "serviceaccount", "ip",  "iface", "labels",
	    "image", "driver",	  "socket",	    "mac", NULL};

	if (!config_setting_is_list(pods) && !config_setting_is_array(pods)) {
		snprintf(c->err, c->errlen, "%s:%d: 'pods' must be a list ( {...}, ... )", c->file,
			 line_of(pods));
		return -EINVAL;
	}
	for (int i = 0; i < config_setting_length(pods); i++) {
		const config_setting_t *p = config_setting_get_elem(pods, (unsigned int)i);
		char why[192];

		if (!config_setting_is_group(p)) {
			snprintf(c->err, c->errlen, "%s:%d: pods[%d] must be a group { ... }",
				 c->file, line_of(p), i);
			return -EINVAL;
		}
		if (check_members(c, p, known) < 0)
			return -EINVAL;
		for (int k = 0; known[k] != NULL; k++) {
			const config_setting_t *m = config_setting_get_member(p, known[k]);
			if (m != NULL && config_setting_type(m) != CONFIG_TYPE_STRING) {
				snprintf(c->err, c->errlen, "%s:%d: pods[%d].%s must be a string",
					 c->file, line_of(m), i, known[k]);
				return -EINVAL;
			}
		}
		if (cfg->n_pods == NM_CFG_MAX_STATIC_PODS) {
			snprintf(c->err, c->errlen, "%s:%d: more than %d static pods", c->file,
				 line_of(p), NM_CFG_MAX_STATIC_PODS);
			return -EINVAL;
		}
		struct nm_pod_spec *spec = &cfg->pods[cfg->n_pods];
		if (nm_pod_spec_fill(spec, pod_key, p, why, sizeof(why)) < 0) {
			snprintf(c->err, c->errlen, "%s:%d: pods[%d]: %s", c->file, line_of(p), i,
				 why);
			return -EINVAL;
		}
		for (unsigned int j = 0; j < cfg->n_pods; j++) {
			if ((strcmp(cfg->pods[j].name, spec->name) == 0 &&
			     strcmp(cfg->pods[j].ns, spec->ns) == 0) ||
			    cfg->pods[j].ip == spec->ip ||
			    (spec->iface[0] != '\0' &&
			     strcmp(cfg->pods[j].iface, spec->iface) == 0) ||
			    (spec->memif_socket[0] != '\0' &&
			     strcmp(cfg->pods[j].memif_socket, spec->memif_socket) == 0)) {
				snprintf(c->err, c->errlen,
					 "%s:%d: pods[%d] repeats the name, ip, iface or socket of "
					 "pods[%u]",
					 c->file, line_of(p), i, j);
				return -EINVAL;
			}
		}
		cfg->n_pods++;
	}
	return 0;
}

static int
load_eal(struct ctx *c, const config_setting_t *eal, struct nm_config *cfg)
{
	static const char *const known[] = {"lcores", "file_prefix", "args", NULL};

	if (check_members(c, eal, known) < 0 ||
	    get_string(c, eal, "lcores", cfg->lcores, sizeof(cfg->lcores)) < 0 ||
	    get_string(c, eal, "file_prefix", cfg->file_prefix, sizeof(cfg->file_prefix)) < 0)
		return -EINVAL;

	const config_setting_t *args = config_setting_get_member(eal, "args");
	if (args == NULL)
		return 0;
	if (!config_setting_is_array(args) && !config_setting_is_list(args)) {
		snprintf(c->err, c->errlen, "%s:%d: 'eal.args' must be an array of strings",
			 c->file, line_of(args));
		return -EINVAL;
	}
	int n = config_setting_length(args);
	if (n > NM_CFG_MAX_EAL_ARGS) {
		snprintf(c->err, c->errlen, "%s:%d: more than %d EAL arguments", c->file,
			 line_of(args), NM_CFG_MAX_EAL_ARGS);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		const char *v = config_setting_get_string_elem(args, i);
		if (v == NULL || strlen(v) >= NM_CFG_ARG_LEN) {
			snprintf(c->err, c->errlen,
				 "%s:%d: eal.args[%d] must be a string shorter than %d", c->file,
				 line_of(args), i, NM_CFG_ARG_LEN);
			return -EINVAL;
		}
		/* These are owned by their own settings; two sources would disagree. */
		if (strncmp(v, "-l", 2) == 0 || strncmp(v, "--lcores", 8) == 0 ||
		    strncmp(v, "--file-prefix", 13) == 0) {
			snprintf(
			    c->err, c->errlen,
			    "%s:%d: eal.args[%d] '%s': use eal.lcores / eal.file_prefix instead",
			    c->file, line_of(args), i, v);
			return -EINVAL;
		}
		snprintf(cfg->eal_args[i], NM_CFG_ARG_LEN, "%s", v);
	}
	cfg->n_eal_args = (unsigned int)n;
	return 0;
}

/* dataplane.af_packet: the rings of each af_packet pod (nodemesh/podio-t.h). */
static int
load_af_packet(struct ctx *c, const config_setting_t *afp, struct nm_config *cfg)
{
	static const char *const known[] = {"version",	   "rx_block_size", "rx_blocks",
					    "rx_block_ms", "frame_size",    "tx_frames",
					    NULL};
	struct nm_podio_params *p = &cfg->podio;

	if (check_members(c, afp, known) < 0 ||
	    get_uint(c, afp, "version", &p->version, 2, 3) < 0 ||
	    get_uint(c, afp, "rx_block_size", &p->rx_block_size, 4096, 1u << 22) < 0 ||
	    get_uint(c, afp, "rx_blocks", &p->rx_blocks, 2, 4096) < 0 ||
	    get_uint(c, afp, "rx_block_ms", &p->rx_block_ms, 1, 1000) < 0 ||
	    get_uint(c, afp, "frame_size", &p->frame_size, 2048, 65536) < 0 ||
	    get_uint(c, afp, "tx_frames", &p->tx_frames, 2, 65536) < 0)
		return -EINVAL;
	if (p->rx_block_size % 4096 != 0 || (p->frame_size & (p->frame_size - 1)) != 0) {
		snprintf(c->err, c->errlen,
			 "%s:%d: af_packet.rx_block_size must be a multiple of 4096 and "
			 "frame_size a power of two",
			 c->file, line_of(afp));
		return -EINVAL;
	}
	return 0;
}

/* dataplane.idle.mode: one of the names below, in enum nm_config_idle_mode's order. */
static int
get_idle_mode(struct ctx *c, const config_setting_t *idle, uint32_t *dst)
{
	static const char *const modes[] = {"poll", "sleep", "wake"};
	const config_setting_t *s = config_setting_get_member(idle, "mode");
	char v[32] = "";

	if (s == NULL)
		return 0;
	if (get_string(c, idle, "mode", v, sizeof(v)) < 0)
		return -EINVAL;
	for (uint32_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(v, modes[i]) == 0) {
			*dst = i;
			return 0;
		}
	}
	snprintf(c->err, c->errlen,
		 "%s:%d: dataplane.idle.mode must be \"poll\", \"sleep\" or \"wake\", not \"%s\"",
		 c->file, line_of(s), v);
	return -EINVAL;
}

static int
load_dataplane(struct ctx *c, const config_setting_t *dp, struct nm_config *cfg)
{
	static const char *const known[] = {"mbufs", "pod_mtu",	  "max_pods", "af_packet",
					    "idle",  "fragments", NULL};
	static const char *const idle_known[] = {"pause_after", "sleep_after", "sleep_us", "mode",
						 "wait_max_us", "linger_us",   NULL};
	static const char *const frag_known[] = {"max_flows", "timeout_ms", NULL};

	if (check_members(c, dp, known) < 0 ||
	    get_uint(c, dp, "mbufs", &cfg->mbufs, 2048, 1u << 22) < 0 ||
	    get_uint(c, dp, "pod_mtu", &cfg->pod_mtu, 576, 9000) < 0 ||
	    get_uint(c, dp, "max_pods", &cfg->max_pods, 1, NM_MAX_PODS) < 0)
		return -EINVAL;

	const config_setting_t *afp = config_setting_get_member(dp, "af_packet");
	if (afp != NULL && load_af_packet(c, afp, cfg) < 0)
		return -EINVAL;

	const config_setting_t *idle = config_setting_get_member(dp, "idle");
	if (idle != NULL &&
	    (check_members(c, idle, idle_known) < 0 ||
	     get_uint(c, idle, "pause_after", &cfg->idle_pause_after, 0, UINT32_MAX >> 1) < 0 ||
	     get_uint(c, idle, "sleep_after", &cfg->idle_sleep_after, 0, UINT32_MAX >> 1) < 0 ||
	     get_uint(c, idle, "sleep_us", &cfg->idle_sleep_us, 0, 100000) < 0 ||
	     get_uint(c, idle, "wait_max_us", &cfg->idle_wait_max_us, 1, 100000) < 0 ||
	     get_uint(c, idle, "linger_us", &cfg->idle_linger_us, 0, 1000000) < 0 ||
	     get_idle_mode(c, idle, &cfg->idle_mode) < 0))
		return -EINVAL;
	if (idle != NULL && cfg->idle_sleep_after != 0 &&
	    cfg->idle_sleep_after < cfg->idle_pause_after) {
		snprintf(c->err, c->errlen, "%s:%d: idle.sleep_after must be 0 or >= pause_after",
			 c->file, line_of(idle));
		return -EINVAL;
	}

	const config_setting_t *frag = config_setting_get_member(dp, "fragments");
	if (frag != NULL &&
	    (check_members(c, frag, frag_known) < 0 ||
	     get_uint(c, frag, "max_flows", &cfg->frag_max_flows, 16, 1u << 20) < 0 ||
	     get_uint(c, frag, "timeout_ms", &cfg->frag_timeout_ms, 10, 60000) < 0))
		return -EINVAL;
	return 0;
}

static int
load_policy(struct ctx *c, const config_setting_t *pol, struct nm_config *cfg)
{
	static const char *const known[] = {"rules", "default", NULL};
	char def[16] = "deny";

	if (check_members(c, pol, known) < 0 ||
	    get_string(c, pol, "rules", cfg->rules_file, sizeof(cfg->rules_file)) < 0 ||
	    get_string(c, pol, "default", def, sizeof(def)) < 0)
		return -EINVAL;
	if (strcmp(def, "allow") == 0) {
		cfg->default_allow = 1;
	} else if (strcmp(def, "deny") == 0) {
		cfg->default_allow = 0;
	} else {
		snprintf(c->err, c->errlen, "%s:%d: policy.default must be \"allow\" or \"deny\"",
			 c->file, line_of(config_setting_get_member(pol, "default")));
		return -EINVAL;
	}
	return 0;
}

static int
load_conntrack(struct ctx *c, const config_setting_t *ct, struct nm_config *cfg)
{
	static const char *const known[] = {"capacity", "timeouts", NULL};
	static const char *const names[] = {
	    "tcp_syn", "tcp_established", "tcp_closing", "tcp_closed", "udp",
	    "icmp",    "other",		  NULL};

	if (check_members(c, ct, known) < 0 ||
	    get_uint(c, ct, "capacity", &cfg->flow_capacity, 64, 1u << 24) < 0)
		return -EINVAL;
	const config_setting_t *to = config_setting_get_member(ct, "timeouts");
	if (to == NULL)
		return 0;
	if (check_members(c, to, names) < 0)
		return -EINVAL;
	for (int i = 0; names[i] != NULL; i++)
		if (get_uint(c, to, names[i], &cfg->flow_timeout_s[i], 1, 7 * 86400) < 0)
			return -EINVAL;
	return 0;
}

/*
 * A byte count: an integer (libconfig's 64-bit "L" suffix for large ones),
 * 0 or 1 MiB up (one batch of the store can put a few hundred KiB in its WAL).
 */
static int
get_bytes(struct ctx *c, const config_setting_t *grp, const char *name, uint64_t *dst)
{
	const config_setting_t *s = config_setting_get_member(grp, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		snprintf(c->err, c->errlen, "%s:%d: '%s' must be an integer (bytes)", c->file,
			 line_of(s), name);
		return -EINVAL;
	}
	long long v = config_setting_get_int64(s);
	if (v != 0 && v < 1048576) {
		snprintf(c->err, c->errlen,
			 "%s:%d: '%s' = %lld must be 0 (no bound) or at least 1048576", c->file,
			 line_of(s), name, v);
		return -EINVAL;
	}
	*dst = (uint64_t)v;
	return 0;
}

/* A path that may be "" (that log or file is off). */
static int
get_optional_path(struct ctx *c, const config_setting_t *s, const char *name, char *out, size_t len)
{
	const config_setting_t *f = config_setting_get_member(s, name);

	if (f != NULL && config_setting_get_string(f) != NULL &&
	    config_setting_get_string(f)[0] == '\0') {
		out[0] = '\0';
		return 0;
	}
	return get_string(c, s, name, out, len);
}

int
nm_cidr_parse(const char *s, struct nm_cidr *out)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(ip) || slash[1] == '\0')
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	long len = strtol(slash + 1, &end, 10);
	if (*end != '\0' || len < 0 || len > 32 || inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	uint32_t mask = len == 0 ? 0 : UINT32_MAX << (32 - len);
	if ((ntohl(a.s_addr) & ~mask) != 0)
		return -EINVAL;
	out->net = a.s_addr;
	out->prefix_len = (uint8_t)len;
	return 0;
}

/* "HOST:PORT" with an IPv4 host. */
static int
parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	struct in_addr a;
	char *end;

	if (colon == NULL || (size_t)(colon - s) >= hostlen || colon[1] == '\0')
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	long p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535 || inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int
parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || !nm_ipv4_pod_unicast(a.s_addr))
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

int
nm_peer_spec_fill(struct nm_peer_spec *spec, const char *(*key_fn)(const void *, const char *),
		  const void *ctx, char *err, size_t errlen)
{
	static const char *const need[] = {"name", "address", "fabric_ip", "pod_cidr"};
	const char *v[4];

	memset(spec, 0, sizeof(*spec));
	for (int i = 0; i < 4; i++) {
		v[i] = key_fn(ctx, need[i]);
		if (v[i] == NULL) {
			snprintf(err, errlen, "missing '%s'", need[i]);
			return -EINVAL;
		}
	}
	if (!nm_name_valid(v[0], strlen(v[0]))) {
		snprintf(err, errlen,
			 "'name' must be 1 to %d characters of a-z, 0-9, '-', '.', '_'",
			 NM_NAME_LEN - 1);
		return -EINVAL;
	}
	snprintf(spec->name, sizeof(spec->name), "%s", v[0]);
	if (parse_hostport(v[1], spec->host, sizeof(spec->host), &spec->port) < 0) {
		snprintf(err, errlen, "'address' %.64s is not IPV4:PORT", v[1]);
		return -EINVAL;
	}
	if (parse_ipv4(v[2], &spec->fabric_ip) < 0) {
		snprintf(err, errlen, "'fabric_ip' %.64s is not a unicast IPv4 address", v[2]);
		return -EINVAL;
	}
	if (nm_cidr_parse(v[3], &spec->pod_cidr) < 0) {
		snprintf(err, errlen, "'pod_cidr' %.64s is not a.b.c.d/len without host bits",
			 v[3]);
		return -EINVAL;
	}
	return 0;
}

static int
load_tunnel(struct ctx *c, const config_setting_t *t, struct nm_config *cfg)
{
	static const char *const known[] = {"fabric_iface",
					    "fabric_ip",
					    "fabric_mtu",
					    "pod_cidr",
					    "udp_port",
					    "listen",
					    "trust_domain",
					    "cert",
					    "key",
					    "ca",
					    "crl",
					    "cipher",
					    "rekey_s",
					    "handshake_s",
					    "grace_s",
					    "max_peers",
					    "max_remote_pods",
					    "handshake_rate",
					    "handshake_burst",
					    NULL};
	static const char *const ciphers[] = {"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"};
	struct nm_tunnel_config *tc = &cfg->tunnel;
	char ip[NM_CFG_ARG_LEN] = "", cidr[NM_CFG_ARG_LEN] = "", listen[NM_CFG_ARG_LEN] = "";
	char cipher[32] = "aes-128-gcm";
	uint32_t port = tc->udp_port;

	if (check_members(c, t, known) < 0 ||
	    get_string(c, t, "fabric_iface", tc->fabric_iface, sizeof(tc->fabric_iface)) < 0 ||
	    get_string(c, t, "fabric_ip", ip, sizeof(ip)) < 0 ||
	    get_uint(c, t, "fabric_mtu", &tc->fabric_mtu, 576, 9216) < 0 ||
	    get_string(c, t, "pod_cidr", cidr, sizeof(cidr)) < 0 ||
	    get_uint(c, t, "udp_port", &port, 1, 65535) < 0 ||
	    get_string(c, t, "listen", listen, sizeof(listen)) < 0 ||
	    get_string(c, t, "trust_domain", tc->trust_domain, sizeof(tc->trust_domain)) < 0 ||
	    get_string(c, t, "cert", tc->cert, sizeof(tc->cert)) < 0 ||
	    get_string(c, t, "key", tc->key, sizeof(tc->key)) < 0 ||
	    get_string(c, t, "ca", tc->ca, sizeof(tc->ca)) < 0 ||
	    get_optional_path(c, t, "crl", tc->crl, sizeof(tc->crl)) < 0 ||
	    get_string(c, t, "cipher", cipher, sizeof(cipher)) < 0 ||
	    get_uint(c, t, "rekey_s", &tc->rekey_s, 1, 86400) < 0 ||
	    get_uint(c, t, "handshake_s", &tc->handshake_s, 10, 7 * 86400) < 0 ||
	    get_uint(c, t, "grace_s", &tc->grace_s, 1, 3600) < 0 ||
	    get_uint(c, t, "max_peers", &tc->max_peers, 1, NM_PEERS_MAX) < 0 ||
	    get_uint(c, t, "max_remote_pods", &tc->max_remote_pods, NM_IPCACHE_MIN,
		     NM_IPCACHE_MAX) < 0 ||
	    get_uint(c, t, "handshake_rate", &tc->handshake_rate, 1, 100000) < 0 ||
	    get_uint(c, t, "handshake_burst", &tc->handshake_burst, 1, 100000) < 0)
		return -EINVAL;
	tc->udp_port = (uint16_t)port;
	const char *bad = NULL;
	if (tc->fabric_iface[0] == '\0')
		bad = "tunnel.fabric_iface is required";
	else if (parse_ipv4(ip, &tc->fabric_ip) < 0)
		bad = "tunnel.fabric_ip must be a unicast IPv4 address";
	else if (nm_cidr_parse(cidr, &tc->pod_cidr) < 0)
		bad = "tunnel.pod_cidr must be a.b.c.d/len without host bits";
	else if (listen[0] != '\0' && parse_hostport(listen, tc->listen_host,
						     sizeof(tc->listen_host), &tc->listen_port) < 0)
		bad = "tunnel.listen must be IPV4:PORT";
	else if (tc->cert[0] == '\0' || tc->key[0] == '\0' || tc->ca[0] == '\0')
		bad = "tunnel.cert, tunnel.key and tunnel.ca are required";
	if (bad == NULL) {
		bad = "tunnel.cipher must be aes-128-gcm, aes-256-gcm or chacha20-poly1305";
		for (uint8_t i = 0; i < 3; i++)
			if (strcmp(cipher, ciphers[i]) == 0) {
				tc->cipher = i;
				bad = NULL;
			}
	}
	if (bad != NULL) {
		snprintf(c->err, c->errlen, "%s:%d: %s", c->file, line_of(t), bad);
		return -EINVAL;
	}
	return 0;
}

static int
load_peers(struct ctx *c, const config_setting_t *peers, struct nm_config *cfg)
{
	static const char *const known[] = {"name", "address", "fabric_ip", "pod_cidr", NULL};

	if (!config_setting_is_list(peers) && !config_setting_is_array(peers)) {
		snprintf(c->err, c->errlen, "%s:%d: 'peers' must be a list ( {...}, ... )", c->file,
			 line_of(peers));
		return -EINVAL;
	}
	for (int i = 0; i < config_setting_length(peers); i++) {
		const config_setting_t *p = config_setting_get_elem(peers, (unsigned int)i);
		char err[256];

		if (cfg->n_peers >= NM_PEERS_MAX) {
			snprintf(c->err, c->errlen, "%s:%d: more than %d peers", c->file,
				 line_of(p), NM_PEERS_MAX);
			return -EINVAL;
		}
		if (check_members(c, p, known) < 0)
			return -EINVAL;
		if (nm_peer_spec_fill(&cfg->peers[cfg->n_peers], pod_key, p, err, sizeof(err)) <
		    0) {
			snprintf(c->err, c->errlen, "%s:%d: peer: %s", c->file, line_of(p), err);
			return -EINVAL;
		}
		cfg->n_peers++;
	}
	return 0;
}

/*
 * signatures.vars: a group of NAME = "value" over Suricata's defaults
 * (ctrl/sigvars.c); each value must read as an address or a port group.
 */
static int
load_sig_vars(struct ctx *c, const config_setting_t *vars, struct nm_config *cfg)
{
	char why[512];

	if (!config_setting_is_group(vars)) {
		snprintf(c->err, c->errlen,
			 "%s:%d: signatures.vars must be a group { NAME = \"value\"; }", c->file,
			 line_of(vars));
		return -EINVAL;
	}
	for (int i = 0; i < config_setting_length(vars); i++) {
		const config_setting_t *v = config_setting_get_elem(vars, (unsigned int)i);
		const char *value = config_setting_get_string(v);

		if (value == NULL) {
			snprintf(c->err, c->errlen, "%s:%d: signatures.vars.%s must be a string",
				 c->file, line_of(v), config_setting_name(v));
			return -EINVAL;
		}
		if (nm_sig_vars_set(&cfg->sig_vars, config_setting_name(v), value, why,
				    sizeof(why)) < 0) {
			snprintf(c->err, c->errlen, "%s:%d: signatures.vars: %s", c->file,
				 line_of(v), why);
			return -EINVAL;
		}
	}
	if (nm_sig_vars_check(&cfg->sig_vars, why, sizeof(why)) < 0) {
		snprintf(c->err, c->errlen, "%s:%d: signatures.vars: %s", c->file, line_of(vars),
			 why);
		return -EINVAL;
	}
	return 0;
}

static int
load_root(struct ctx *c, config_t *lc, struct nm_config *cfg)
{
	static const char *const known[] = {"node",	  "eal",   "control", "dataplane", "tunnel",
					    "peers",	  "pods",  "policy",  "conntrack", "logs",
					    "signatures", "state", "metrics", NULL};
	static const char *const node_known[] = {"name", NULL};
	static const char *const ctl_known[] = {"socket", "group", NULL};
	const config_setting_t *root = config_root_setting(lc);
	const config_setting_t *s;

	if (check_members(c, root, known) < 0)
		return -EINVAL;

	s = config_setting_get_member(root, "node");
	if (s != NULL && (check_members(c, s, node_known) < 0 ||
			  get_string(c, s, "name", cfg->node_name, sizeof(cfg->node_name)) < 0))
		return -EINVAL;

	s = config_setting_get_member(root, "eal");
	if (s != NULL && load_eal(c, s, cfg) < 0)
		return -EINVAL;

	s = config_setting_get_member(root, "control");
	if (s != NULL &&
	    (check_members(c, s, ctl_known) < 0 ||
	     get_string(c, s, "socket", cfg->socket_path, sizeof(cfg->socket_path)) < 0 ||
	     get_string(c, s, "group", cfg->admin_group, sizeof(cfg->admin_group)) < 0))
		return -EINVAL;

	s = config_setting_get_member(root, "dataplane");
	if (s != NULL && load_dataplane(c, s, cfg) < 0)
		return -EINVAL;

	s = config_setting_get_member(root, "policy");
	if (s != NULL && load_policy(c, s, cfg) < 0)
		return -EINVAL;

	s = config_setting_get_member(root, "conntrack");
	if (s != NULL && load_conntrack(c, s, cfg) < 0)
		return -EINVAL;

	s = config_setting_get_member(root, "logs");
	if (s != NULL) {
		static const char *const logs_known[] = {"flows",     "alerts",	  "store_dir",
							 "max_bytes", "max_days", "flow_interval_s",
							 NULL};
		if (check_members(c, s, logs_known) < 0 ||
		    get_optional_path(c, s, "flows", cfg->flow_log, sizeof(cfg->flow_log)) < 0 ||
		    get_optional_path(c, s, "alerts", cfg->alert_log, sizeof(cfg->alert_log)) < 0 ||
		    get_optional_path(c, s, "store_dir", cfg->store.dir, sizeof(cfg->store.dir)) <
			0 ||
		    get_bytes(c, s, "max_bytes", &cfg->store.max_bytes) < 0 ||
		    get_uint(c, s, "max_days", &cfg->store.max_days, 1, 3650) < 0 ||
		    get_uint(c, s, "flow_interval_s", &cfg->store.flow_interval_s, 0, 604800) < 0)
			return -EINVAL;
	}

	s = config_setting_get_member(root, "metrics");
	if (s != NULL) {
		static const char *const metrics_known[] = {"listen", NULL};
		char host[NM_CFG_ARG_LEN];
		if (check_members(c, s, metrics_known) < 0 ||
		    get_optional_path(c, s, "listen", cfg->metrics_listen,
				      sizeof(cfg->metrics_listen)) < 0)
			return -EINVAL;
		if (cfg->metrics_listen[0] != '\0' &&
		    parse_hostport(cfg->metrics_listen, host, sizeof(host), &cfg->metrics_port) <
			0) {
			snprintf(c->err, c->errlen,
				 "%s:%d: metrics.listen must be IPV4:PORT, not '%s'", c->file,
				 line_of(s), cfg->metrics_listen);
			return -EINVAL;
		}
	}

	s = config_setting_get_member(root, "state");
	if (s != NULL) {
		static const char *const state_known[] = {"file", NULL};
		if (check_members(c, s, state_known) < 0 ||
		    get_optional_path(c, s, "file", cfg->state_file, sizeof(cfg->state_file)) < 0)
			return -EINVAL;
	}

	s = config_setting_get_member(root, "signatures");
	if (s != NULL) {
		static const char *const sig_known[] = {"file",
							"max_streams",
							"stream_state_max",
							"http_body_decoded_max",
							"midstream",
							"http_events",
							"vars",
							NULL};
		const config_setting_t *vars = config_setting_get_member(s, "vars");
		if (check_members(c, s, sig_known) < 0 ||
		    get_optional_path(c, s, "file", cfg->sig_file, sizeof(cfg->sig_file)) < 0 ||
		    get_uint(c, s, "max_streams", &cfg->sig_max_streams, 1, 1u << 24) < 0 ||
		    get_uint(c, s, "stream_state_max", &cfg->sig_stream_state_max, 1024, 1u << 20) <
			0 ||
		    get_uint(c, s, "http_body_decoded_max", &cfg->sig_http_body_decoded_max,
			     NM_HTTP_DECODED_MIN, NM_HTTP_DECODED_MAX) < 0 ||
		    get_choice(c, s, "midstream", "drop", "pickup", &cfg->sig_midstream_pickup) <
			0 ||
		    get_choice(c, s, "http_events", "with_rules", "all", &cfg->sig_http_events) <
			0 ||
		    (vars != NULL && load_sig_vars(c, vars, cfg) < 0))
			return -EINVAL;
		if (cfg->sig_stream_state_max % 64 != 0) {
			snprintf(
			    c->err, c->errlen,
			    "%s:%d: signatures.stream_state_max must be a multiple of 64, not %u",
			    c->file, line_of(s), cfg->sig_stream_state_max);
			return -EINVAL;
		}
	}

	s = config_setting_get_member(root, "tunnel");
	if (s != NULL && load_tunnel(c, s, cfg) < 0)
		return -EINVAL;
	s = config_setting_get_member(root, "peers");
	if (s != NULL && load_peers(c, s, cfg) < 0)
		return -EINVAL;
	if (cfg->n_peers > cfg->tunnel.max_peers) {
		snprintf(c->err, c->errlen, "%s:%d: %u peers, over tunnel.max_peers %u", c->file,
			 line_of(s), cfg->n_peers, cfg->tunnel.max_peers);
		return -EINVAL;
	}
	if (cfg->n_peers > 0 && cfg->tunnel.fabric_iface[0] == '\0') {
		snprintf(c->err, c->errlen, "%s:%d: peers need tunnel.fabric_iface", c->file,
			 line_of(s));
		return -EINVAL;
	}

	s = config_setting_get_member(root, "pods");
	if (s != NULL && load_pods(c, s, cfg) < 0)
		return -EINVAL;
	return 0;
}

static int
load(config_t *lc, int read_ok, const char *name, struct nm_config *cfg, char *err, size_t errlen)
{
	struct ctx c = {.file = name, .err = err, .errlen = errlen};
	int rc;

	if (!read_ok) {
		if (config_error_type(lc) == CONFIG_ERR_FILE_IO) {
			snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
			return -EIO;
		}
		snprintf(err, errlen, "%s:%d: %s",
			 config_error_file(lc) ? config_error_file(lc) : name,
			 config_error_line(lc), config_error_text(lc));
		return -EINVAL;
	}
	nm_config_defaults(cfg);
	rc = load_root(&c, lc, cfg);
	return rc;
}

int
nm_config_load(const char *path, struct nm_config *cfg, char *err, size_t errlen)
{
	config_t lc;
	int rc;

	config_init(&lc);
	errno = 0;
	rc = load(&lc, config_read_file(&lc, path) == CONFIG_TRUE, path, cfg, err, errlen);
	config_destroy(&lc);
	return rc;
}

int
nm_config_load_source(const struct nm_config_source *src, struct nm_config *cfg, char *err,
		      size_t errlen)
{
	int rc = nm_config_load(src->path, cfg, err, errlen);

	if (rc < 0)
		return rc;
	if (src->has_socket)
		memcpy(cfg->socket_path, src->socket, sizeof(cfg->socket_path));
	if (src->has_file_prefix)
		memcpy(cfg->file_prefix, src->file_prefix, sizeof(cfg->file_prefix));
	if (src->has_state)
		memcpy(cfg->state_file, src->state, sizeof(cfg->state_file));
	return 0;
}

int
nm_config_load_string(const char *text, const char *name, struct nm_config *cfg, char *err,
		      size_t errlen)
{
	config_t lc;
	int rc;

	config_init(&lc);
	rc = load(&lc, config_read_string(&lc, text) == CONFIG_TRUE, name, cfg, err, errlen);
	config_destroy(&lc);
	return rc;
}
