/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An IPv4 prefix, such as the pod CIDR a node owns: a peer may announce
 * pods only inside its own (DESIGN.md, "Identity and policy").
 */
#ifndef NM_CIDR_T_H
#define NM_CIDR_T_H

#include <stdint.h>

struct nm_cidr {
	uint32_t net;	    /* network address, network byte order, host bits zero */
	uint8_t prefix_len; /* 0..32 */
};

#endif
