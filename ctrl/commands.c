/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control commands. Each entry names its words, the arguments it accepts
 * and a one-line usage; `help` prints this same table, so it cannot drift
 * from what the daemon really accepts. Every handler validates fully before
 * it changes anything: a refused request leaves the node as it was.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_version.h>

#include "nodemesh/commands.h"
#include "nodemesh/config.h"
#include "nodemesh/node.h"
#include "nodemesh/server.h"

struct command {
	const char *words[2];
	const char *const *keys; /* allowed argument keys, NULL-terminated */
	json_t *(*fn)(struct nm_node *node, const struct nm_req *req);
	const char *usage;
	const char *help;
};

static const char *const no_keys[] = {NULL};
static const char *const pod_add_keys[] = {"name",  "namespace", "serviceaccount", "ip", "iface",
					   "labels", "image",     "driver",         "socket", "mac", NULL};
static const char *const pod_del_keys[] = {"name", NULL};

static json_t *cmd_help(struct nm_node *node, const struct nm_req *req);

static json_t *
cmd_version(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_set_new(r, "version", json_string(NM_VERSION));
	json_object_set_new(r, "dpdk", json_string(rte_version()));
	json_object_set_new(r, "node", json_string(nm_node_config(node)->node_name));
	return r;
}

static const char *
req_key(const void *req, const char *key)
{
	return nm_req_arg(req, key);
}

static json_t *
cmd_pod_add(struct nm_node *node, const struct nm_req *req)
{
	struct nm_pod_spec spec;
	char err[256];

	if (nm_pod_spec_fill(&spec, req_key, req, err, sizeof(err)) < 0)
		return nm_reply_error("pod add: %s", err);
	if (nm_node_pod_add(node, &spec, err, sizeof(err)) < 0)
		return nm_reply_error("pod add: %s", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "pod", json_string(spec.name));
	return r;
}

static json_t *
cmd_pod_del(struct nm_node *node, const struct nm_req *req)
{
	const char *name = nm_req_arg(req, "name");
	char err[256];

	if (name == NULL)
		return nm_reply_error("pod del: missing 'name'");
	if (nm_node_pod_del(node, name, err, sizeof(err)) < 0)
		return nm_reply_error("pod del: %s", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "pod", json_string(name));
	return r;
}

static json_t *
cmd_pod_list(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_set_new(r, "pods", nm_node_pods_json(node));
	return r;
}

static json_t *
cmd_stats(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_node_stats_json(node);

	(void)req;
	json_object_set_new(r, "ok", json_true());
	return r;
}

static const struct command commands[] = {
	{{"help", NULL}, no_keys, cmd_help, "help", "list the commands"},
	{{"version", NULL}, no_keys, cmd_version, "version", "daemon and DPDK versions"},
	{{"pod", "add"},
	 pod_add_keys,
	 cmd_pod_add,
	 "pod add name=N namespace=NS serviceaccount=SA ip=A.B.C.D iface=IF [labels=k=v,...] "
	 "[image=REF] [mac=STATIC_MAC] [driver=af_packet|af_xdp]  |  ... driver=memif "
	 "socket=PATH (instead of iface)",
	 "attach a pod's veth and start forwarding for it"},
	{{"pod", "del"}, pod_del_keys, cmd_pod_del, "pod del name=N",
	 "detach a pod; other pods' traffic is not disturbed"},
	{{"pod", "list"}, no_keys, cmd_pod_list, "pod list", "pods with their counters"},
	{{"stats", NULL}, no_keys, cmd_stats, "stats",
	 "counters per worker, pod and port; drops by reason"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static json_t *
cmd_help(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok(), *list = json_array();

	(void)node;
	(void)req;
	for (size_t i = 0; i < N_COMMANDS; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "usage", commands[i].usage,
						      "help", commands[i].help));
	json_object_set_new(r, "commands", list);
	return r;
}

static unsigned int
n_words(const struct command *c)
{
	return c->words[1] == NULL ? 1 : 2;
}

json_t *
nm_commands_dispatch(void *ctx, const struct nm_req *req)
{
	struct nm_node *node = ctx;
	bool known_first = false;
	char err[256];

	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];

		if (strcmp(req->words[0], c->words[0]) != 0)
			continue;
		known_first = true;
		if (n_words(c) != req->nwords ||
		    (c->words[1] != NULL && strcmp(req->words[1], c->words[1]) != 0))
			continue;
		if (nm_req_check_keys(req, c->keys, err, sizeof(err)) < 0)
			return nm_reply_error("%s; usage: %s", err, c->usage);
		return c->fn(node, req);
	}
	if (known_first) {
		/* Say which sub-commands exist instead of a bare "unknown". */
		char alts[256] = "";
		for (size_t i = 0; i < N_COMMANDS; i++) {
			if (strcmp(req->words[0], commands[i].words[0]) != 0 ||
			    commands[i].words[1] == NULL)
				continue;
			strncat(alts, alts[0] ? "|" : "", sizeof(alts) - strlen(alts) - 1);
			strncat(alts, commands[i].words[1], sizeof(alts) - strlen(alts) - 1);
		}
		return nm_reply_error("'%.64s' needs one of: %s", req->words[0],
				      alts[0] ? alts : "no further words");
	}
	return nm_reply_error("unknown command '%.64s'; try 'help'", req->words[0]);
}
