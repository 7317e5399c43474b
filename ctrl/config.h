/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemeshd configuration, read from a libconfig file. Unknown settings are
 * errors (a typo must not silently fall back to a default), and every error
 * names the file, the line and what was wrong.
 */
#ifndef NM_CONFIG_H
#define NM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "nodemesh/cidr-t.h"
#include "nodemesh/pod-t.h"
#include "nodemesh/tunnel-t.h" /* NM_PEERS_MAX */
#include "sig.h"	       /* struct nm_sig_vars */
#include "store_params.h"

#define NM_CFG_MAX_EAL_ARGS    32
#define NM_CFG_ARG_LEN	       256
#define NM_CFG_MAX_STATIC_PODS 64

#define NM_CFG_PATH_LEN	    256
#define NM_TRUST_DOMAIN_LEN NM_NAME_LEN

/* Another node: where its control thread listens and what it owns. */
struct nm_peer_spec {
	char name[NM_NAME_LEN];
	char host[NM_CFG_ARG_LEN]; /* management address (IPv4) */
	uint16_t port;		   /* its tunnel.listen port */
	uint32_t fabric_ip;	   /* network order */
	struct nm_cidr pod_cidr;   /* the only addresses it may announce */
};

/* This node's end of the node-to-node tunnels; fabric_iface "" = none. */
struct nm_tunnel_config {
	char fabric_iface[IF_NAMESIZE]; /* veth or NIC attached as the fabric port (af_packet) */
	uint32_t fabric_ip;		/* network order */
	uint32_t fabric_mtu;		/* bytes of outer IP packet the fabric carries */
	struct nm_cidr pod_cidr;	/* this node's pods */
	uint16_t udp_port;		/* tunnel datagrams, both ends */
	char listen_host[NM_CFG_ARG_LEN];
	uint16_t listen_port; /* control connections from peers */
	char trust_domain[NM_TRUST_DOMAIN_LEN];
	char cert[NM_CFG_PATH_LEN];
	char key[NM_CFG_PATH_LEN];
	char ca[NM_CFG_PATH_LEN];
	char crl[NM_CFG_PATH_LEN]; /* "" = none */
	uint8_t cipher;		   /* enum nm_tnl_cipher */
	uint32_t rekey_s;	   /* key epoch lifetime */
	uint32_t handshake_s;	   /* TLS session lifetime (forward secrecy) */
	uint32_t grace_s;	   /* the previous epoch is still accepted this long */
	uint32_t max_peers;	   /* peer slots, sized at start (<= NM_PEERS_MAX) */
	uint32_t max_remote_pods;  /* ipcache entries, sized at start (nodemesh/ipcache-t.h) */
	uint32_t handshake_rate;   /* TLS handshakes started per second, dialled or accepted */
	uint32_t handshake_burst;  /* ... and at most this many at once */
};

/* dataplane.idle.mode, the same numbers as enum nm_idle_mode (nodemesh/dataplane-t.h). */
enum nm_config_idle_mode {
	NM_CONFIG_IDLE_POLL = 0,
	NM_CONFIG_IDLE_SLEEP,
	NM_CONFIG_IDLE_WAKE,
};

struct nm_config {
	char node_name[NM_NAME_LEN];
	char lcores[NM_CFG_ARG_LEN];   /* EAL -l list: first is the control lcore */
	char file_prefix[NM_NAME_LEN]; /* EAL --file-prefix */
	unsigned int n_eal_args;
	char eal_args[NM_CFG_MAX_EAL_ARGS][NM_CFG_ARG_LEN]; /* extra EAL arguments */

	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char admin_group[NM_NAME_LEN]; /* group allowed on the socket besides root */

	uint32_t mbufs;		   /* mbufs in the packet pool */
	uint32_t idle_pause_after; /* empty polls before rte_pause() between polls */
	uint32_t idle_sleep_after; /* empty polls before sleeping between polls */
	uint32_t idle_sleep_us;	   /* microseconds of one idle sleep */
	uint32_t idle_mode;	   /* NM_CONFIG_IDLE_*: poll, sleep or wake (dataplane.idle.mode) */
	uint32_t idle_wait_max_us; /* wake mode: longest block without traffic, microseconds */
	uint32_t idle_linger_us;   /* wake mode: first idle microseconds with short waits */
	uint32_t frag_max_flows;   /* IPv4 reassembly slots per worker */
	uint32_t frag_timeout_ms;  /* reassembly timeout, milliseconds */
	uint32_t pod_mtu;	   /* bytes of IP packet a pod port carries */
	uint32_t max_pods;	   /* local pods at most (dataplane.max_pods <= NM_MAX_PODS) */
	struct nm_podio_params podio; /* af_packet pods' ring sizes (dataplane.af_packet) */

	uint32_t flow_capacity;		 /* tracked flows per worker */
	uint32_t flow_timeout_s[7];	 /* seconds, by enum nm_flow_state (nodemesh/flow-t.h) */
	char rules_file[NM_CFG_ARG_LEN]; /* policy rules loaded at start; "" = none */
	uint8_t default_allow;		 /* 1: traffic no rule matches is allowed */
	char flow_log[NM_CFG_ARG_LEN];	 /* JSON-lines flow records; "" = off */
	char sig_file[NM_CFG_ARG_LEN];	 /* signature rules loaded at start; "" = none */
	char state_file[NM_CFG_ARG_LEN]; /* run-time state kept across restarts; "" = none */
	char metrics_listen[NM_CFG_ARG_LEN]; /* Prometheus /metrics on IPV4:PORT; "" = off */
	uint16_t metrics_port;		     /* its port, parsed */
	uint32_t sig_max_streams;	     /* open TCP inspection streams per worker */
	uint8_t sig_midstream_pickup;	     /* signatures.midstream "pickup" (1) or "drop" (0) */
	uint8_t
	    sig_http_events; /* signatures.http_events "all" (1): parse HTTP without http rules */
	uint32_t sig_stream_state_max; /* bytes per inspection stream (Hyperscan state and more) */
	uint32_t sig_http_body_decoded_max; /* bytes a gzip/deflate body inflates to, at most */
	struct nm_sig_vars sig_vars;	    /* signatures.vars over Suricata's defaults */
	char alert_log[NM_CFG_ARG_LEN];	    /* JSON-lines alerts (EVE-like); "" = off */
	struct nm_store_params store;	    /* logs.store_dir, max_bytes, max_days */

	unsigned int n_pods;
	struct nm_pod_spec pods[NM_CFG_MAX_STATIC_PODS];

	struct nm_tunnel_config tunnel;
	unsigned int n_peers;
	struct nm_peer_spec peers[NM_PEERS_MAX]; /* at most tunnel.max_peers */
};

/* Fill cfg with the built-in defaults (the ones README.md documents). */
void nm_config_defaults(struct nm_config *cfg);

/*
 * Load path over the defaults. Returns 0, or -errno with err holding
 * "FILE:LINE: reason".
 */
int nm_config_load(const char *path, struct nm_config *cfg, char *err, size_t errlen);

/* Same for a config held in a string; name is used in messages. */
int nm_config_load_string(const char *text, const char *name, struct nm_config *cfg, char *err,
			  size_t errlen);

/*
 * Validate and fill a pod spec from key/value strings. key_fn(ctx, key)
 * returns the value or NULL. Returns 0 or -EINVAL with err naming the key.
 */
int nm_pod_spec_fill(struct nm_pod_spec *spec, const char *(*key_fn)(const void *, const char *),
		     const void *ctx, char *err, size_t errlen);

/*
 * Validate and fill an identity (namespace, name, serviceaccount required;
 * labels, image optional) from key/value strings, as for pods.
 */
struct nm_identity;
int nm_identity_fill(struct nm_identity *id, const char *(*key_fn)(const void *, const char *),
		     const void *ctx, char *err, size_t errlen);

/*
 * Validate and fill a peer spec from key/value strings (name, address
 * HOST:PORT, fabric_ip, pod_cidr), as nm_pod_spec_fill does for pods.
 */
int nm_peer_spec_fill(struct nm_peer_spec *spec, const char *(*key_fn)(const void *, const char *),
		      const void *ctx, char *err, size_t errlen);

/*
 * Where the running configuration came from: the file nodemeshd -c named
 * and the command-line options that override its settings. A config
 * reload loads the same file with the same overrides.
 */
struct nm_config_source {
	char path[1024];
	bool has_socket, has_file_prefix, has_state;
	char socket[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* -s */
	char file_prefix[NM_NAME_LEN];				  /* --file-prefix */
	char state[NM_CFG_ARG_LEN];				  /* --state */
};

/* nm_config_load(src->path), then src's overrides. */
int nm_config_load_source(const struct nm_config_source *src, struct nm_config *cfg, char *err,
			  size_t errlen);

/*
 * Reload classes (ctrl/config_diff.c): live settings change in the
 * running node, seed settings only begin a first start, restart settings
 * need a restart.
 */
enum nm_config_class {
	NM_CONFIG_LIVE,
	NM_CONFIG_SEED,
	NM_CONFIG_RESTART,
};

typedef void (*nm_config_diff_fn)(void *ctx, const char *name, enum nm_config_class cls);

/*
 * Call fn(ctx, name, class) for each setting whose value differs between
 * a and b, by its config name ("conntrack.timeouts.udp"). Returns how many.
 */
unsigned int nm_config_diff(const struct nm_config *a, const struct nm_config *b,
			    nm_config_diff_fn fn, void *ctx);

/* Copy src's live settings into dst; the others stay. */
void nm_config_copy_live(struct nm_config *dst, const struct nm_config *src);

/* "live", "seed", "restart". */
const char *nm_config_class_name(enum nm_config_class cls);

/* "a.b.c.d/len" with no host bits set. 0 or -EINVAL. */
int nm_cidr_parse(const char *s, struct nm_cidr *out);

#endif
