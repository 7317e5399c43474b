/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the operator sets for the forensic store (logs.store_dir,
 * logs.max_bytes, logs.max_days); the config reads it, store.c uses it.
 */
#ifndef NM_STORE_PARAMS_H
#define NM_STORE_PARAMS_H

#include <stdint.h>

#define NM_STORE_DEFAULT_DIR	    "/var/lib/nodemesh/store"
#define NM_STORE_DEFAULT_MAX_BYTES  (1ull << 30)
#define NM_STORE_DEFAULT_MAX_DAYS   30
#define NM_STORE_DEFAULT_INTERVAL_S 300

struct nm_store_params {
	char dir[256];	    /* logs.store_dir; "" = no store */
	uint64_t max_bytes; /* logs.max_bytes: all files of the store together; 0 = no bound */
	uint32_t max_days;  /* logs.max_days: day files kept, today included */
	uint32_t
	    flow_interval_s; /* logs.flow_interval_s: interim records of live flows; 0 = none */
};

#endif
