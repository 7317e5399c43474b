/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemeshd configuration, read from a libconfig file. Unknown settings are
 * errors (a typo must not silently fall back to a default), and every error
 * names the file, the line and what was wrong.
 */
#ifndef NM_CONFIG_H
#define NM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "nodemesh/pod-t.h"

#define NM_CFG_MAX_EAL_ARGS    32
#define NM_CFG_ARG_LEN	       256
#define NM_CFG_MAX_STATIC_PODS 64

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
	uint32_t frag_max_flows;   /* IPv4 reassembly slots per worker */
	uint32_t frag_timeout_ms;  /* reassembly timeout, milliseconds */
	uint32_t pod_mtu;	   /* bytes of IP packet a pod port carries */

	uint32_t flow_capacity;		 /* tracked flows per worker */
	uint32_t flow_timeout_s[7];	 /* seconds, by enum nm_flow_state (dataplane/flow.h) */
	char rules_file[NM_CFG_ARG_LEN]; /* policy rules loaded at start; "" = none */
	uint8_t default_allow;		 /* 1: traffic no rule matches is allowed */
	char flow_log[NM_CFG_ARG_LEN];	 /* JSON-lines flow records; "" = off */
	char sig_file[NM_CFG_ARG_LEN];	 /* signature rules loaded at start; "" = none */
	uint32_t sig_max_streams;	 /* open TCP inspection streams per worker */
	char alert_log[NM_CFG_ARG_LEN];	 /* JSON-lines alerts (EVE-like); "" = off */

	unsigned int n_pods;
	struct nm_pod_spec pods[NM_CFG_MAX_STATIC_PODS];
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

#endif
