/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delegation to an IPAM plugin, as SPEC.md "Delegated plugin protocol"
 * describes it: find the plugin named by ipam.type in CNI_PATH, run it with
 * our environment (CNI_COMMAND set to the delegated command) and our network
 * configuration on stdin, and read its result or error from stdout.
 */
#ifndef NM_CNI_IPAM_H
#define NM_CNI_IPAM_H

#include <stddef.h>

#include <jansson.h>

#include "cni_conf.h"

/*
 * The first executable file named type in the ':'-separated cni_path.
 * Returns 0 with out filled, or -ENOENT with err (code 7) naming the
 * directories searched.
 */
int nm_cni_ipam_find(const char *type, const char *cni_path, char *out, size_t outlen,
		     struct nm_cni_err *err);

/*
 * Run the plugin at bin with CNI_COMMAND=command (ADD or DEL) and conf on
 * stdin. ADD: returns 0 with *result (the parsed stdout, caller's ref).
 * DEL: returns 0, *result stays NULL. A plugin that fails passes its own
 * error object on (its code, its msg, in details); one that dies or prints
 * no JSON is code 999.
 */
int nm_cni_ipam_exec(const char *bin, const char *command, const char *conf, size_t conf_len,
		     json_t **result, struct nm_cni_err *err);

#endif
