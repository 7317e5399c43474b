/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemesh-cni's requests to the node's nodemeshd over its control socket
 * (request syntax: ctrl/request.h; answers {"ok":true,...} or
 * {"ok":false,"error":"..."}). The pod is keyed by the CNI container ID,
 * which the daemon keeps with it, so DEL and CHECK need nothing else.
 */
#ifndef NM_CNI_DAEMON_H
#define NM_CNI_DAEMON_H

#include <netinet/in.h>

#include "cni_conf.h"

/* What nodemeshd is asked to attach. */
struct nm_cni_pod {
	const char *name;	  /* K8S_POD_NAME */
	const char *ns;		  /* K8S_POD_NAMESPACE */
	struct in_addr ip;	  /* the pod's /32 */
	const char *host_ifname;  /* the veth's host end, which nodemeshd opens */
	const char *container_id; /* CNI_CONTAINERID */
	enum nm_cni_driver driver;
};

/*
 * pod add. A retry with the same container, name, ip and iface is answered
 * ok by the daemon. Returns 0 or -errno with err: 11 when no daemon
 * listens on the socket, 999 when it refuses (its reason in details).
 */
int nm_cni_daemon_pod_add(const char *socket, const struct nm_cni_pod *pod, struct nm_cni_err *err);

/*
 * pod del container=ID, idempotent on the daemon's side. No daemon on the
 * socket is no error either: DEL goes on to delete the host end, and a
 * nodemeshd restarted from its state file skips a pod whose interface is
 * gone. *deleted says whether a pod went away.
 */
int nm_cni_daemon_pod_del(const char *socket, const char *container_id, int *deleted,
			  struct nm_cni_err *err);

/*
 * pod list, and an entry with this container, ip and host end in it.
 * Returns 0 when there is, or -errno with err saying what differs.
 */
int nm_cni_daemon_pod_check(const char *socket, const struct nm_cni_pod *pod,
			    struct nm_cni_err *err);

#endif
