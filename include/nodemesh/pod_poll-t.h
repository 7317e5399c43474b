/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which of its pods a worker polls each loop turn (dataplane/pod_poll.c).
 *
 * A worker may own 125 pods of which a handful carry traffic. Probing
 * every pod's ring each turn costs a few cache lines per pod (the pod's
 * table entry, its ring cursor, a slot's or block's status word) and grows
 * with the pod count; asking the kernel which sockets have frames is one
 * epoll_wait() whatever the count. So: pods that had traffic in the last
 * NM_POLL_COLD_AFTER turns are "hot" and polled directly every turn, with
 * no syscall; the others are "cold" and found through the worker's epoll
 * set, every NM_POLL_EPOLL_EVERY turns, or every turn in which the hot pods
 * brought nothing. A pod epoll reports becomes hot at once. Ethdev pods
 * (af_xdp, memif) have no fd and stay hot. A worker owning at most
 * NM_POLL_ALL_HOT pods keeps them all hot and never calls epoll_wait():
 * probing a few idle rings costs less than the syscall (the figures are in
 * README "Performance", from scripts/bench podpoll).
 *
 * The control thread adds an af_packet pod's socket to its owner's epfd
 * (epoll_ctl is safe against a concurrent epoll_wait) before publishing the
 * pod, and removes it after the grace period that follows `pod del`. The
 * rest is the owner worker's. A new table generation makes every owned pod
 * hot again, so a new pod is polled right away.
 */
#ifndef NM_POD_POLL_T_H
#define NM_POD_POLL_T_H

#include <stdint.h>

#include "nodemesh/pod-t.h"

#define NM_POLL_ALL_HOT	    32	 /* owned pods up to which every pod is polled directly */
#define NM_POLL_COLD_AFTER  1024 /* turns without a packet before a pod is left to epoll */
#define NM_POLL_EPOLL_EVERY 8	 /* turns between epoll checks while hot pods are busy */
#define NM_POLL_EVENTS	    32	 /* epoll events taken per check */

struct nm_pod_poll {
	int epfd;	     /* the owned af_packet pods' sockets; data = slot | pod id << 32 */
	uint64_t generation; /* of the pod table hot[] was built from */
	uint32_t turn;
	uint16_t n_hot;
	uint16_t hot[NM_MAX_PODS];   /* slots polled every turn */
	uint16_t quiet[NM_MAX_PODS]; /* by slot: turns since the pod's last packet */
	uint8_t is_hot[NM_MAX_PODS]; /* by slot */
	uint64_t epoll_calls;	     /* epoll_wait() calls: the RX side's only syscalls */
	uint64_t epoll_errors;	     /* of which failed (EINTR) */
	uint64_t woken;		     /* cold pods epoll found with traffic */
	uint64_t cooled; /* hot pods left to epoll after NM_POLL_COLD_AFTER quiet turns */
};

#endif
