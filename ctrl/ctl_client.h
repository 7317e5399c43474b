/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client side of the control socket: one request line out, one JSON answer
 * line back. nodemeshctl and the CNI plugin (ctrl/cni/) both talk to
 * nodemeshd through this, so they agree on framing and on how a refusal
 * that arrives before the request was sent is still read.
 */
#ifndef NM_CTL_CLIENT_H
#define NM_CTL_CLIENT_H

#include <stddef.h>

#define NM_CTL_MAX_ANSWER (16u << 20) /* bytes */

/*
 * What nodemeshd says to a connection it gives to a newcomer (a full
 * socket): it has read nothing of it, so the request was not run and
 * nm_ctl_transact sends it again on a new connection (a few times).
 */
#define NM_CTL_EVICTED "closed: the control socket is full and this connection sent nothing"

/*
 * Send line (no newline; one is added) to the Unix stream socket at path
 * and wait up to timeout_s seconds for the answer. Returns the answer line
 * without its newline (malloc'ed, the caller frees it), or NULL with err
 * naming the failed step and *sys_errno set to the errno of a failed
 * connect() (0 for any other failure), so that a caller can tell a daemon
 * that is not running from one that does not answer. A connection the
 * daemon evicted before it read the request (NM_CTL_EVICTED) is retried.
 */
char *nm_ctl_transact(const char *path, const char *line, int timeout_s, int *sys_errno, char *err,
		      size_t errlen);

#endif
