/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's run-time state file (ctrl/state.c): everything given over the
 * control socket that a restart must not lose (pods, identities, rules and
 * the default action, peers, the signature file), so that nodemeshd comes
 * back after a crash as it was.
 *
 * On disk: one header line, then the body, a JSON object:
 *
 *   nodemesh-state 1 <body bytes> <SHA-256 of the body, hex>\n
 *   {"node":..., "pods":[...], "identities":[...], "policy":{...},
 *    "peers":[...], "signatures":{"file":...}}
 *
 * The version is the header's second word: a reader refuses any other.
 * Written to PATH.tmp, fsync'd, renamed over PATH and the directory
 * fsync'd, so PATH is always a whole old or a whole new state.
 */
#ifndef NM_STATE_H
#define NM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "identity.h"
#include "nodemesh/policy-t.h"

#define NM_STATE_VERSION   1
#define NM_STATE_MAX_BYTES (64u << 20) /* a body larger than this is refused */

/* What a state file holds, validated field by field with the command parsers. */
struct nm_state {
	unsigned int n_pods;
	struct nm_pod_spec *pods; /* as attached: identity fields empty (see identities) */
	unsigned int n_identities;
	struct nm_identity *identities;
	unsigned int n_rules;
	struct nm_rule *rules; /* parsed, each with its id; slot unset */
	uint32_t next_rule_id;
	uint8_t default_allow;
	unsigned int n_peers;
	struct nm_peer_spec *peers;    /* at most NM_PEERS_MAX */
	char sig_file[NM_CFG_ARG_LEN]; /* "" = none */
};

/* The body for st: what nm_state_parse reads back into an equal st. NULL on ENOMEM. */
json_t *nm_state_body(const struct nm_state *st, const char *node_name);

/* Header and body for body (a JSON object), malloc'd; NULL on ENOMEM. */
char *nm_state_encode(const json_t *body, size_t *len);

/*
 * Check buf[0..len): header, version, length, checksum, JSON. Returns the
 * body, or NULL with err saying what is wrong ("truncated: ...", "checksum
 * mismatch", "version 2, this nodemeshd reads version 1", ...).
 */
json_t *nm_state_decode(const char *buf, size_t len, char *err, size_t errlen);

/*
 * Parse a decoded body into st (every entry through the same checks as the
 * command that made it). 0, or -EINVAL with err naming the entry; st is
 * then empty. Free with nm_state_clear.
 */
int nm_state_parse(const json_t *body, struct nm_state *st, char *err, size_t errlen);
void nm_state_clear(struct nm_state *st);

/* PATH.tmp, fsync, rename, fsync of the directory. 0 or -errno with err. */
int nm_state_write(const char *path, const char *buf, size_t len, char *err, size_t errlen);

/* The whole file, malloc'd. 0, -ENOENT (none: a first start), or -errno with err. */
int nm_state_read(const char *path, char **buf, size_t *len, char *err, size_t errlen);

#endif
