/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's control socket as the simulator uses it (sim_ctl.c). Every
 * call returns -1 / NULL with err naming the request and why it failed.
 */
#ifndef NM_SIM_CTL_H
#define NM_SIM_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* One request; its answer when "ok" is true (json_decref it), else NULL with the error. */
json_t *sim_ctl(const char *sock, const char *line, char *err, size_t errlen);

/* Remote pods the daemon holds from peer only, or (only NULL) from any "PREFIX-" peer. */
long sim_ctl_remote_pods(const char *sock, const char *prefix, const char *only, char *err,
			 size_t errlen);

/*
 * Over the peers of `tunnel list` named only, or (only NULL) every "PREFIX-"
 * one: how many are in state (when state is not NULL), else the sum of
 * their integer field. -1 when only names no peer.
 */
long sim_ctl_tunnels(const char *sock, const char *prefix, const char *only, const char *state,
		     const char *field, char *err, size_t errlen);

/*
 * The daemon's control thread busy time so far (`stats` control_loop
 * sum_busy_ms): what its turns took, without the sleeps between them.
 */
double sim_ctl_busy_ms(const char *sock, char *err, size_t errlen);

#endif
