/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder until the shared window lands: the window is RFC 6479's own form. */
#include <string.h>

#include "nodemesh/tunnel.h"

void
nm_tnl_replay_export(const struct nm_tnl_replay *r, uint64_t *top,
		     uint64_t bits[NM_TNL_REPLAY_WORDS])
{
	*top = r->top;
	memcpy(bits, r->bits, sizeof(r->bits));
}

void
nm_tnl_replay_import(struct nm_tnl_replay *r, uint64_t top,
		     const uint64_t bits[NM_TNL_REPLAY_WORDS])
{
	r->top = top;
	memcpy(r->bits, bits, sizeof(r->bits));
}
