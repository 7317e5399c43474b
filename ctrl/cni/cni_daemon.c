/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pod add / del / list for the CNI plugin over the control socket (see
 * cni_daemon.h), through the client nodemeshctl uses (ctrl/ctl_client.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cni_daemon.h"
#include "ctl_client.h"
#include "request.h"

#define ANSWER_TIMEOUT_S 10

/*
 * One request; returns the answer when it says ok, else NULL with err.
 * *absent (when not NULL) is set when no daemon listens on the socket.
 */
static json_t *
request(const char *socket, const char *line, int *absent, struct nm_cni_err *err)
{
	char why[512];
	int sys_errno;
	char *answer =
	    nm_ctl_transact(socket, line, ANSWER_TIMEOUT_S, &sys_errno, why, sizeof(why));
	json_t *r;

	if (absent != NULL)
		*absent = sys_errno == ENOENT || sys_errno == ECONNREFUSED;
	if (answer == NULL) {
		/* Not (yet) running, or not answering: the runtime may retry. */
		nm_cni_err_set(err, NM_CNI_ERR_TRY_AGAIN, "nodemeshd not reachable", "%s: %s", line,
			       why);
		return NULL;
	}
	r = json_loads(answer, 0, NULL);
	if (!json_is_object(r)) {
		nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "bad answer from nodemeshd",
			       "%s: answer is not a JSON object: %.200s", line, answer);
	} else if (!json_is_true(json_object_get(r, "ok"))) {
		const char *e = json_string_value(json_object_get(r, "error"));
		nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "nodemeshd refused the request", "%s: %s",
			       line, e != NULL ? e : "(no reason given)");
	} else {
		free(answer);
		return r;
	}
	json_decref(r);
	free(answer);
	return NULL;
}

int
nm_cni_daemon_pod_add(const char *socket, const struct nm_cni_pod *pod, struct nm_cni_err *err)
{
	char line[NM_REQ_MAX_LINE + 1], ip[INET_ADDRSTRLEN];
	json_t *r;
	int n;

	inet_ntop(AF_INET, &pod->ip, ip, sizeof(ip));
	/*
	 * No serviceaccount: a pod must not choose its own identity. nodemeshd
	 * gives it the one `identity set` put on record for namespace/name, or
	 * none (fail closed) until a trusted agent sets it.
	 */
	n = snprintf(line, sizeof(line),
		     "pod add name=%s namespace=%s ip=%s iface=%s container=%s%s", pod->name,
		     pod->ns, ip, pod->host_ifname, pod->container_id,
		     pod->driver == NM_CNI_DRIVER_AF_XDP ? " driver=af_xdp" : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "request too long",
				      "pod add for container %.64s is longer than %d bytes",
				      pod->container_id, NM_REQ_MAX_LINE);
	r = request(socket, line, NULL, err);
	if (r == NULL)
		return -EIO;
	json_decref(r);
	return 0;
}

int
nm_cni_daemon_pod_del(const char *socket, const char *container_id, int *deleted,
		      struct nm_cni_err *err)
{
	char line[NM_REQ_MAX_LINE + 1];
	int absent = 0;
	json_t *r;

	*deleted = 0;
	snprintf(line, sizeof(line), "pod del container=%s", container_id);
	r = request(socket, line, &absent, err);
	if (r == NULL && absent)
		return 0;
	if (r == NULL)
		return -EIO;
	*deleted = (int)json_integer_value(json_object_get(r, "deleted"));
	json_decref(r);
	return 0;
}

/* The entry of pod list whose "container" is id, or NULL. */
static const json_t *
find_container(const json_t *pods, const char *id)
{
	const json_t *p;
	size_t i;

	json_array_foreach(pods, i, p)
	{
		const char *c = json_string_value(json_object_get(p, "container"));
		if (c != NULL && strcmp(c, id) == 0)
			return p;
	}
	return NULL;
}

int
nm_cni_daemon_pod_check(const char *socket, const struct nm_cni_pod *pod, struct nm_cni_err *err)
{
	char ip[INET_ADDRSTRLEN];
	json_t *r = request(socket, "pod list", NULL, err);
	const json_t *p;
	int rc = 0;

	if (r == NULL)
		return -EIO;
	inet_ntop(AF_INET, &pod->ip, ip, sizeof(ip));
	p = find_container(json_object_get(r, "pods"), pod->container_id);
	const char *got_ip = json_string_value(json_object_get(p, "ip"));
	const char *got_if = json_string_value(json_object_get(p, "iface"));
	if (p == NULL)
		rc = nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "pod not attached",
				    "nodemeshd has no pod for container %s", pod->container_id);
	else if (got_ip == NULL || strcmp(got_ip, ip) != 0)
		rc = nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "pod attached with another address",
				    "container %s: nodemeshd has ip %s, the result says %s",
				    pod->container_id, got_ip ? got_ip : "(none)", ip);
	else if (got_if == NULL || strcmp(got_if, pod->host_ifname) != 0)
		rc =
		    nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "pod attached on another interface",
				   "container %s: nodemeshd has iface %s, expected %s",
				   pod->container_id, got_if ? got_if : "(none)", pod->host_ifname);
	json_decref(r);
	return rc;
}
