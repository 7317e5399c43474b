/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry for nodemesh: see telemetry.h. The snapshot is replaced
 * and read under one mutex; a callback converts the part it answers with
 * while holding it, so no reference crosses threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "telemetry.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *snapshot; /* the last stats published, or NULL */

void
nm_telemetry_publish(json_t *stats)
{
	json_t *old;

	pthread_mutex_lock(&lock);
	old = snapshot;
	snapshot = stats;
	pthread_mutex_unlock(&lock);
	json_decref(old);
}

void
nm_telemetry_fini(void)
{
	nm_telemetry_publish(NULL);
}

/* Telemetry names: letters, digits, '_' and '/' only. */
static void
tel_name(char *out, size_t len, const char *prefix, const char *key)
{
	size_t n = (size_t)snprintf(out, len, "%s%s", prefix, key);

	for (size_t i = 0; i < n && i < len; i++)
		if (!(out[i] == '_' || out[i] == '/' || (out[i] >= 'a' && out[i] <= 'z') ||
		      (out[i] >= 'A' && out[i] <= 'Z') || (out[i] >= '0' && out[i] <= '9')))
			out[i] = '_';
}

/* Every integer member of o (one level, and one nested object) into the dict. */
static void
add_numbers(struct rte_tel_data *d, const json_t *o, const char *prefix)
{
	const char *key;
	json_t *v;
	char name[128];

	json_object_foreach((json_t *)o, key, v)
	{
		if (json_is_integer(v) && json_integer_value(v) >= 0) {
			tel_name(name, sizeof(name), prefix, key);
			rte_tel_data_add_dict_u64(d, name, (uint64_t)json_integer_value(v));
		} else if (json_is_object(v) && prefix[0] == '\0') {
			char sub[64];
			snprintf(sub, sizeof(sub), "%s_", key);
			add_numbers(d, v, sub);
		}
	}
}

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const keys[] = {"rx_packets", "tx_packets", "dropped", "pod_count",
					   "pod_table_generation"};

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; snapshot != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(snapshot, keys[i]);
		if (json_is_integer(v))
			rte_tel_data_add_dict_u64(d, keys[i], (uint64_t)json_integer_value(v));
	}
	if (snapshot != NULL) {
		add_numbers(d, json_object_get(snapshot, "flows"), "flows_");
		add_numbers(d, json_object_get(snapshot, "drops"), "drop_");
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

/* The names (pods) or numbers (workers) of the snapshot's array arr. */
static int
list(struct rte_tel_data *d, const char *arr, const char *key, bool numbers)
{
	size_t i;
	json_t *o;

	rte_tel_data_start_array(d, numbers ? RTE_TEL_INT_VAL : RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&lock);
	json_array_foreach(json_object_get(snapshot, arr), i, o)
	{
		if (i == RTE_TEL_MAX_ARRAY_ENTRIES)
			break;
		if (numbers)
			rte_tel_data_add_array_int(
			    d, (int)json_integer_value(json_object_get(o, key)));
		else
			rte_tel_data_add_array_string(d,
						      json_string_value(json_object_get(o, key)));
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

/* The entry of arr whose key equals params (as a string or a number). */
static int
one(struct rte_tel_data *d, const char *arr, const char *key, const char *params)
{
	size_t i;
	json_t *o;
	int found = -ENOENT;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&lock);
	json_array_foreach(json_object_get(snapshot, arr), i, o)
	{
		const json_t *k = json_object_get(o, key);
		char num[24];
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(k));
		if (json_is_string(k) ? strcmp(json_string_value(k), params) != 0
				      : strcmp(num, params) != 0)
			continue;
		const char *ns = json_string_value(json_object_get(o, "namespace"));
		const char *sa = json_string_value(json_object_get(o, "serviceaccount"));
		if (ns != NULL) {
			char id[160];
			snprintf(id, sizeof(id), "%s/%s", ns, sa != NULL ? sa : "(unknown)");
			rte_tel_data_add_dict_string(d, "identity", id);
		}
		add_numbers(d, o, "");
		found = 0;
		break;
	}
	pthread_mutex_unlock(&lock);
	return found;
}

static int
cmd_pods(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	return list(d, "pods", "name", false);
}

static int
cmd_pod(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return one(d, "pods", "name", params);
}

static int
cmd_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	return list(d, "workers", "worker", true);
}

static int
cmd_worker(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return one(d, "workers", "worker", params);
}

int
nm_telemetry_init(void)
{
	int rc = rte_telemetry_register_cmd("/nodemesh/stats", cmd_stats,
					    "nodemesh node totals, flows and drops by reason");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/nodemesh/pods", cmd_pods,
						"nodemesh pod names. No parameters");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/nodemesh/pod", cmd_pod,
						"one nodemesh pod's counters. Parameter: pod name");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/nodemesh/workers", cmd_workers,
						"nodemesh worker numbers. No parameters");
	if (rc == 0)
		rc =
		    rte_telemetry_register_cmd("/nodemesh/worker", cmd_worker,
					       "one nodemesh worker's counters. Parameter: number");
	return rc;
}
