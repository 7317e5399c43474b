/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod ports opened and closed off the event loop.
 *
 * Opening a pod's af_packet socket costs tens of milliseconds in the
 * kernel: setsockopt(PACKET_RX_RING), setsockopt(PACKET_TX_RING), bind and
 * close each wait for an RCU grace period (synchronize_net). On the
 * control thread that stalled every other duty for as long (issue 16).
 * So a `pod add` from the control socket is checked at once
 * (nm_node_pod_prepare), queued, its port opened by one job thread
 * (nm_pod_attach_io: it touches nothing the workers or the loop read), and
 * published back on the control thread (nm_node_pod_commit), which then
 * sends the answer the server deferred. A `pod del` takes the pod out of
 * the table at once and queues its port's close.
 *
 * Only nodemesh's own af_packet ports: DPDK's ethdev hotplug (af_xdp,
 * memif pods) is not thread-safe beside the loop's ethdev calls, so those
 * attach and detach on the loop as before.
 *
 * One queue, one job at a time, first in first out, so a del queued after
 * an add of the same interface closes after it opened. Attachments in
 * flight count against dataplane.max_pods and clash with new requests
 * like attached pods do. At most NM_POD_JOBS_MAX attachments wait.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_malloc.h>

#include "node.h"
#include "node_priv.h"
#include "port.h"
#include "server.h"

static bool
same_pod(const struct nm_pod_spec *a, const struct nm_pod_spec *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->ns, b->ns) == 0;
}

int
nm_node_pod_pending_check(const struct nm_node *node, const struct nm_pod_spec *spec, char *err,
			  size_t errlen)
{
	for (const struct nm_pod_attach *a = node->podjob.head; a != NULL; a = a->next) {
		const struct nm_pod_spec *q = &a->spec;

		if (a->detach)
			continue;
		if (same_pod(q, spec) || q->ip == spec->ip ||
		    (spec->iface[0] != '\0' && strcmp(q->iface, spec->iface) == 0) ||
		    (spec->container[0] != '\0' && strcmp(q->container, spec->container) == 0) ||
		    (spec->memif_socket[0] != '\0' &&
		     strcmp(q->memif_socket, spec->memif_socket) == 0)) {
			snprintf(err, errlen,
				 "pod '%s/%s' is being attached with the same name, address, "
				 "interface or container; retry when it is done",
				 q->ns, q->name);
			return -EBUSY;
		}
	}
	return 0;
}

unsigned int
nm_node_pods_pending(const struct nm_node *node)
{
	return node->podjob.attaches;
}

/* The job thread: open or close the head's port. */
static void
port_step(struct nm_job *job, void *arg)
{
	struct nm_pod_attach *a = arg;
	uint64_t t0 = nm_wall_ns();

	(void)job; /* one step, nothing to cancel between */
	if (a->detach) {
		nm_port_pod_detach(&a->pod);
		rte_free(a->pod.live);
		a->pod.live = NULL;
	} else {
		nm_pod_attach_io(a);
	}
	a->step_ns = nm_wall_ns() - t0;
	a->stepped = true;
}

static void
start_next(struct nm_node *node)
{
	struct nm_pod_attach *a = node->podjob.head;

	if (a == NULL || nm_job_busy(&node->podjob.job))
		return;
	int rc = nm_job_start(&node->podjob.job, port_step, a);
	if (rc < 0) {
		/* No thread: do the step here rather than leave the queue stuck. */
		RTE_LOG(WARNING, USER1, "pod job thread: %s; opening the port on the loop\n",
			strerror(-rc));
		port_step(NULL, a);
		node->podjob.job.done = 1;
	}
}

static void
push(struct nm_node *node, struct nm_pod_attach *a)
{
	a->next = NULL;
	if (node->podjob.tail != NULL)
		node->podjob.tail->next = a;
	else
		node->podjob.head = a;
	node->podjob.tail = a;
	if (!a->detach)
		node->podjob.attaches++;
	start_next(node);
}

static struct nm_pod_attach *
pop(struct nm_node *node)
{
	struct nm_pod_attach *a = node->podjob.head;

	node->podjob.head = a->next;
	if (node->podjob.head == NULL)
		node->podjob.tail = NULL;
	if (!a->detach)
		node->podjob.attaches--;
	return a;
}

static void
answer(struct nm_node *node, uint64_t ticket, json_t *reply)
{
	if (ticket != 0 && node->server != NULL)
		nm_server_answer(node->server, ticket, reply);
	else
		json_decref(reply);
}

/* Back on the control thread: publish the head's pod (or report why not). */
static void
finish_attach(struct nm_node *node, struct nm_pod_attach *a)
{
	char err[256];
	int rc = a->rc;

	if (rc < 0)
		snprintf(err, sizeof(err), "%s", a->err);
	else
		rc = nm_node_pod_commit(node, a, err, sizeof(err));
	if (rc < 0) {
		node->podjob.failed++;
		nm_pod_attach_abandon(a);
		RTE_LOG(WARNING, USER1, "pod add %s/%s: %s\n", a->spec.ns, a->spec.name, err);
		answer(node, a->ticket, nm_reply_error("pod add: %s", err));
		return;
	}
	node->podjob.attached++;
	nm_node_state_changed(node);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "pod", json_string(a->spec.name));
	json_object_set_new(r, "existing", json_false());
	answer(node, a->ticket, r);
}

void
nm_node_podjob_poll(struct nm_node *node)
{
	/* A step done inline (no thread) left done set without a running job. */
	while (node->podjob.head != NULL &&
	       (nm_job_reap(&node->podjob.job) ||
		(!nm_job_busy(&node->podjob.job) && node->podjob.job.done))) {
		struct nm_pod_attach *a = pop(node);

		node->podjob.job.done = 0;
		if (a->step_ns / 1000 > node->podjob.max_us)
			node->podjob.max_us = a->step_ns / 1000;
		if (a->detach)
			node->podjob.detached++;
		else
			finish_attach(node, a);
		if (a->after != NULL)
			answer(node, a->after_ticket, a->after);
		free(a);
		start_next(node);
	}
}

bool
nm_node_podjob_busy(const struct nm_node *node)
{
	return node->podjob.head != NULL;
}

int
nm_node_pod_add_queued(struct nm_node *node, const struct nm_pod_spec *spec, char *err,
		       size_t errlen)
{
	/*
	 * DPDK's ethdev hotplug (af_xdp, memif) is not safe beside the control
	 * thread's own ethdev calls: those drivers attach on the loop, as before.
	 */
	if (node->server == NULL || spec->driver != NM_DRV_AF_PACKET)
		return nm_node_pod_add(node, spec, err, errlen);
	if (node->podjob.attaches >= NM_POD_JOBS_MAX) {
		snprintf(err, errlen, "%d pod attachments are waiting already; retry",
			 NM_POD_JOBS_MAX);
		return -EBUSY;
	}
	struct nm_pod_attach *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = nm_node_pod_prepare(node, spec, a, err, errlen);
	if (rc != 0) {
		free(a);
		return rc;
	}
	a->ticket = nm_server_defer(node->server);
	if (a->ticket == 0) {
		/* Not inside a request (a caller other than the socket): attach now. */
		nm_pod_attach_io(a);
		rc = a->rc < 0 ? a->rc : nm_node_pod_commit(node, a, err, errlen);
		if (a->rc < 0)
			snprintf(err, errlen, "%s", a->err);
		if (rc < 0)
			nm_pod_attach_abandon(a);
		free(a);
		return rc;
	}
	push(node, a);
	return NM_POD_QUEUED;
}

void
nm_node_pod_release(struct nm_node *node, struct nm_pod *gone)
{
	struct nm_pod_attach *a =
	    node->server != NULL && gone->io != NULL ? calloc(1, sizeof(*a)) : NULL;

	if (a == NULL) {
		nm_port_pod_detach(gone);
		rte_free(gone->live);
		gone->live = NULL;
		return;
	}
	a->detach = true;
	a->pod = *gone;
	gone->live = NULL;
	push(node, a);
}

void
nm_node_podjob_fini(struct nm_node *node)
{
	nm_job_cancel(&node->podjob.job); /* joins: the head's step is complete */
	while (node->podjob.head != NULL) {
		struct nm_pod_attach *a = pop(node);
		if (a->detach && !a->stepped) {
			nm_port_pod_detach(&a->pod);
			rte_free(a->pod.live);
		} else if (!a->detach) {
			nm_pod_attach_abandon(a); /* no answer: the socket is closed by now */
		}
		json_decref(a->after);
		free(a);
	}
}

json_t *
nm_node_podjob_answer_after(struct nm_node *node, json_t *reply)
{
	struct nm_pod_attach *last = node->podjob.tail;

	if (last == NULL || last->after != NULL || node->server == NULL)
		return reply;
	last->after_ticket = nm_server_defer(node->server);
	if (last->after_ticket == 0)
		return reply;
	last->after = reply;
	return NULL;
}

void
nm_node_set_server(struct nm_node *node, struct nm_server *srv)
{
	node->server = srv;
}

json_t *
nm_node_podjob_json(const struct nm_node *node)
{
	return json_pack("{s:i, s:I, s:I, s:I, s:f}", "attaching", (int)node->podjob.attaches,
			 "attached", (json_int_t)node->podjob.attached, "failed",
			 (json_int_t)node->podjob.failed, "detached",
			 (json_int_t)node->podjob.detached, "max_step_ms",
			 (double)node->podjob.max_us / 1e3);
}
