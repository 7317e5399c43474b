/* SPDX-License-Identifier: BSD-3-Clause */
/* Control commands: the table of what the socket understands. */
#ifndef NM_COMMANDS_H
#define NM_COMMANDS_H

#include <stdio.h>

#include <jansson.h>

#include "request.h"

struct nm_node;

/* Run one request against node (an nm_server_handler_fn). */
json_t *nm_commands_dispatch(void *node, const struct nm_req *req);

/*
 * Print the table `help` answers with, one "USAGE<TAB>HELP" line per
 * command, without a daemon (nodemeshd --commands: man page checks).
 */
void nm_commands_print(FILE *out);

#endif
