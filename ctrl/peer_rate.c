/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The handshake token bucket (ctrl/peer_rate.h): RFC 2697's single-rate
 * bucket with thousandths of a token as the unit, so that rates under one
 * per millisecond refill without rounding away.
 */
#include "peer_rate.h"

void
nm_peer_rate_init(struct nm_peer_rate *r, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	*r = (struct nm_peer_rate){
	    .rate = rate > 0 ? rate : 1,
	    .burst = burst > 0 ? burst : 1,
	    .last_ms = now_ms,
	};
	r->milli = (uint64_t)r->burst * 1000;
}

static void
refill(struct nm_peer_rate *r, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)r->burst * 1000;

	if (now_ms <= r->last_ms)
		return;
	/* rate tokens a second = rate thousandths a millisecond. */
	uint64_t add = (now_ms - r->last_ms) * r->rate;
	r->milli = cap - r->milli <= add ? cap : r->milli + add;
	r->last_ms = now_ms;
}

bool
nm_peer_rate_take(struct nm_peer_rate *r, uint64_t now_ms)
{
	refill(r, now_ms);
	if (r->milli < 1000)
		return false;
	r->milli -= 1000;
	r->taken++;
	return true;
}

uint32_t
nm_peer_rate_wait_ms(struct nm_peer_rate *r, uint64_t now_ms)
{
	refill(r, now_ms);
	if (r->milli >= 1000)
		return 0;
	return (uint32_t)((1000 - r->milli + r->rate - 1) / r->rate);
}
