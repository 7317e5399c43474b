/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Day-two operations on the control thread: reopening the logs for
 * logrotate (SIGHUP) and `config reload`.
 *
 * A reload is all or nothing. The file is loaded whole into a fresh
 * struct, with the same command-line overrides as at start; a setting that
 * needs a restart refuses the reload by name; new log files are opened
 * before anything switches. Only then are the live settings stored, each
 * with a relaxed atomic store the workers read with a relaxed load
 * (nodemesh/dataplane-t.h, flow-t.h): they are independent scalars, and a
 * worker that uses the old value for one more turn (one more idle sleep,
 * one more sweep with the old timeout) does no harm, so there is nothing
 * for an RCU-published params struct to make consistent, and it would add
 * a pointer chase to the flow sweep and a grace period to every reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodemesh/flow-t.h"
#include "nodemesh/worker-t.h"
#include "node.h"
#include "node_priv.h"
#include "sd_notify.h"

void
nm_node_set_config_source(struct nm_node *node, const struct nm_config_source *src)
{
	node->reload.src = *src;
}

int
nm_node_logs_reopen(struct nm_node *node, char *err, size_t errlen)
{
	struct nm_jsonlog flows, alerts;

	/* Both or neither: the alert log may fail to open after the flow log did. */
	int rc =
	    nm_jsonlog_reopen_prepare(&node->flow_log, node->flow_log.path, &flows, err, errlen);
	if (rc < 0)
		return rc;
	rc =
	    nm_jsonlog_reopen_prepare(&node->alert_log, node->alert_log.path, &alerts, err, errlen);
	if (rc < 0) {
		nm_jsonlog_close(&flows);
		return rc;
	}
	nm_jsonlog_reopen_commit(&node->flow_log, &flows);
	nm_jsonlog_reopen_commit(&node->alert_log, &alerts);
	return 0;
}

/* What the diff found, sorted by what a reload does with it. */
struct changes {
	json_t *live, *seed;
	char restart[512]; /* "a, b, c" */
	unsigned int n_restart;
};

static void
sort_change(void *ctx, const char *name, enum nm_config_class cls)
{
	struct changes *ch = ctx;
	size_t used = strlen(ch->restart);

	switch (cls) {
	case NM_CONFIG_LIVE:
		json_array_append_new(ch->live, json_string(name));
		break;
	case NM_CONFIG_SEED:
		json_array_append_new(ch->seed, json_string(name));
		break;
	case NM_CONFIG_RESTART:
	default:
		snprintf(ch->restart + used, sizeof(ch->restart) - used, "%s%s",
			 ch->n_restart > 0 ? ", " : "", name);
		ch->n_restart++;
		break;
	}
}

/* The live settings the workers read: flow timeouts and idle back-off. */
static void
store_dataplane(struct nm_node *node, const struct nm_config *next)
{
	struct nm_dp_params *p = &node->dp.params;

	/* Relaxed: independent values, each read whole (see the top of this file). */
	for (unsigned int i = 0; i < node->dp.n_workers; i++) {
		struct nm_flow_table *t = &node->dp.workers[i]->flows;

		for (int s = 0; s < NM_FLOW_STATES; s++)
			__atomic_store_n(&t->timeout_tsc[s],
					 node->dp.tsc_hz * next->flow_timeout_s[s],
					 __ATOMIC_RELAXED);
	}
	memcpy(p->flow_timeout_s, next->flow_timeout_s, sizeof(p->flow_timeout_s));
	__atomic_store_n(&p->idle_pause_after, next->idle_pause_after, __ATOMIC_RELAXED);
	__atomic_store_n(&p->idle_sleep_after, next->idle_sleep_after, __ATOMIC_RELAXED);
	__atomic_store_n(&p->idle_sleep_us, next->idle_sleep_us, __ATOMIC_RELAXED);
	__atomic_store_n(&p->idle_wait_max_us, next->idle_wait_max_us, __ATOMIC_RELAXED);
	__atomic_store_n(&p->idle_linger_us, next->idle_linger_us, __ATOMIC_RELAXED);
	__atomic_store_n(&p->idle_mode, next->idle_mode, __ATOMIC_RELAXED);
	/* A worker blocked in wake mode takes the new values now, not at its time limit. */
	nm_node_wake_workers(node);
}

/* Load, check and apply; the caller tells the service manager around it. */
static int
reload(struct nm_node *node, struct nm_config *next, json_t *report, char *err, size_t errlen)
{
	struct changes ch = {.live = json_array(), .seed = json_array()};
	struct nm_jsonlog flows, alerts;
	char why[400];
	int rc;

	nm_jsonlog_init(&flows, "logs.flows");
	nm_jsonlog_init(&alerts, "logs.alerts");
	rc = nm_config_load_source(&node->reload.src, next, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "config reload refused, nothing changed: %s", why);
		goto out;
	}
	nm_config_diff(&node->cfg, next, sort_change, &ch);
	if (ch.n_restart > 0) {
		snprintf(err, errlen,
			 "config reload refused, nothing changed: %s changes %s, which need%s a "
			 "restart",
			 node->reload.src.path, ch.restart, ch.n_restart == 1 ? "s" : "");
		rc = -EINVAL;
		goto out;
	}
	/* Open what the new paths name before switching anything. */
	if (strcmp(next->flow_log, node->cfg.flow_log) != 0 &&
	    (rc = nm_jsonlog_reopen_prepare(&node->flow_log, next->flow_log, &flows, why,
					    sizeof(why))) < 0) {
		snprintf(err, errlen, "config reload refused, nothing changed: %s", why);
		goto out;
	}
	if (strcmp(next->alert_log, node->cfg.alert_log) != 0 &&
	    (rc = nm_jsonlog_reopen_prepare(&node->alert_log, next->alert_log, &alerts, why,
					    sizeof(why))) < 0) {
		snprintf(err, errlen, "config reload refused, nothing changed: %s", why);
		goto out;
	}

	/* Nothing can fail from here on. */
	if (strcmp(next->flow_log, node->cfg.flow_log) != 0)
		nm_jsonlog_reopen_commit(&node->flow_log, &flows);
	if (strcmp(next->alert_log, node->cfg.alert_log) != 0)
		nm_jsonlog_reopen_commit(&node->alert_log, &alerts);
	store_dataplane(node, next);
	nm_config_copy_live(&node->cfg, next);
	json_object_set_new(report, "file", json_string(node->reload.src.path));
	json_object_set(report, "applied", ch.live);
	json_object_set(report, "seed_only", ch.seed);
	rc = 0;
out:
	nm_jsonlog_close(&flows);
	nm_jsonlog_close(&alerts);
	json_decref(ch.live);
	json_decref(ch.seed);
	return rc;
}

int
nm_node_config_reload(struct nm_node *node, json_t *report, char *err, size_t errlen)
{
	char msg[64];

	/* systemd >= 253 wants the time with RELOADING=1; older ones ignore it. */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)nm_sd_monotonic_usec());
	nm_sd_notify(msg);

	struct nm_config *next = calloc(1, sizeof(*next));
	int rc = -ENOMEM;
	if (next == NULL)
		snprintf(err, errlen, "config reload refused, nothing changed: out of memory");
	else
		rc = reload(node, next, report, err, errlen);
	free(next);

	if (rc < 0) {
		node->reload.refused++;
		snprintf(node->reload.last_error, sizeof(node->reload.last_error), "%s", err);
		fprintf(stderr, "nodemeshd: %s\n", err);
	} else {
		node->reload.reloads++;
		char *applied = json_dumps(json_object_get(report, "applied"), JSON_COMPACT);
		fprintf(stderr, "nodemeshd: config reload from %s: applied %s\n",
			node->reload.src.path, applied ? applied : "?");
		free(applied);
	}
	/* Running either way: on the new settings, or on the old ones. */
	nm_sd_notify("READY=1");
	return rc;
}

json_t *
nm_node_reload_json(const struct nm_node *node)
{
	return json_pack("{s:s, s:I, s:I, s:s}", "file", node->reload.src.path, "reloads",
			 (json_int_t)node->reload.reloads, "refused",
			 (json_int_t)node->reload.refused, "last_error", node->reload.last_error);
}
