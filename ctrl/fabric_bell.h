/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fabric port's doorbell (struct nm_fabric_bell, nodemesh/worker-t.h):
 * opened with the fabric port, watched by the fabric worker in idle wake
 * mode, closed after the workers stopped.
 */
#ifndef NM_FABRIC_BELL_H
#define NM_FABRIC_BELL_H

#include <stddef.h>

#include "nodemesh/worker-t.h"

/* A doorbell on iface, added to w's idle epoll set. NULL with err filled. */
struct nm_fabric_bell *nm_fabric_bell_open(const char *iface, struct nm_worker *w, char *err,
					   size_t errlen);
/* After the workers stopped. NULL is fine. */
void nm_fabric_bell_close(struct nm_fabric_bell *b);

#endif
