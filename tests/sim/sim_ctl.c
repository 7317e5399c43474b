/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the daemon says, through its control socket (the same client code
 * as nodemeshctl, ctrl/ctl_client.c): registering the simulated peers
 * (`peer add`), and counting what it applied (`tunnel list`: each peer's
 * pods in the ipcache, its sessions and refusals; `peer list`). The simulator measures against
 * these answers, not against what it sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_client.h"
#include "sim_ctl.h"

json_t *
sim_ctl(const char *sock, const char *line, char *err, size_t errlen)
{
	int sys_errno = 0;
	char *answer = nm_ctl_transact(sock, line, 10, &sys_errno, err, errlen);
	json_error_t jerr;
	json_t *j;

	if (answer == NULL)
		return NULL;
	j = json_loads(answer, 0, &jerr);
	free(answer);
	if (j == NULL) {
		snprintf(err, errlen, "'%s': answer is not JSON: %s", line, jerr.text);
		return NULL;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		snprintf(err, errlen, "%s",
			 json_string_value(json_object_get(j, "error"))
			     ? json_string_value(json_object_get(j, "error"))
			     : "refused without a reason");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Does name belong to the simulator (prefix "P-")? */
static bool
ours(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return name != NULL && strncmp(name, prefix, n) == 0 && name[n] == '-';
}

long
sim_ctl_remote_pods(const char *sock, const char *prefix, const char *only, char *err,
		    size_t errlen)
{
	/* Each peer's count in the ipcache: `pod list remote` pages 100 k pods. */
	return sim_ctl_tunnels(sock, prefix, only, NULL, "remote_pods", err, errlen);
}

long
sim_ctl_tunnels(const char *sock, const char *prefix, const char *only, const char *state,
		const char *field, char *err, size_t errlen)
{
	json_t *j = sim_ctl(sock, "tunnel list", err, errlen);
	json_t *t;
	size_t i;
	long n = 0, matched = 0;

	if (j == NULL)
		return -1;
	json_array_foreach(json_object_get(j, "tunnels"), i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));

		if (only != NULL ? name == NULL || strcmp(name, only) != 0 : !ours(name, prefix))
			continue;
		matched++;
		if (state != NULL) {
			const char *st = json_string_value(json_object_get(t, "state"));
			n += st != NULL && strcmp(st, state) == 0;
		} else {
			n += (long)json_integer_value(json_object_get(t, field));
		}
	}
	json_decref(j);
	if (only != NULL && matched == 0) {
		snprintf(err, errlen, "tunnel list has no peer '%s'", only);
		return -1;
	}
	return n;
}

double
sim_ctl_busy_ms(const char *sock, char *err, size_t errlen)
{
	json_t *j = sim_ctl(sock, "stats", err, errlen);
	double ms;

	if (j == NULL)
		return -1;
	ms = json_number_value(json_object_get(json_object_get(j, "control_loop"), "sum_busy_ms"));
	json_decref(j);
	return ms;
}
