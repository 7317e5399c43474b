/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The handshake budget of the peer manager: a token bucket (tunnel.
 * handshake_rate per second, tunnel.handshake_burst deep) that every TLS
 * handshake takes a token from, dialled or accepted, so that a node that
 * starts, or reloads its certificate, with a thousand peers spreads their
 * handshakes over seconds instead of stalling its control thread (and its
 * peers') on all of them at once. Times are CLOCK_MONOTONIC milliseconds,
 * passed in, so the bucket is tested without a clock.
 */
#ifndef NM_PEER_RATE_H
#define NM_PEER_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct nm_peer_rate {
	uint32_t rate;	   /* tokens per second (>= 1) */
	uint32_t burst;	   /* most tokens held (>= 1) */
	uint64_t milli;	   /* tokens held, in thousandths */
	uint64_t last_ms;  /* when milli was brought up to date */
	uint64_t taken;	   /* handshakes started */
	uint64_t deferred; /* handshakes that had to wait for a token */
};

/* A full bucket at now_ms. */
void nm_peer_rate_init(struct nm_peer_rate *r, uint32_t rate, uint32_t burst, uint64_t now_ms);

/* Take a token: true, or false (nothing taken) when the bucket is empty. */
bool nm_peer_rate_take(struct nm_peer_rate *r, uint64_t now_ms);

/* Milliseconds until a token is there (0: one is). */
uint32_t nm_peer_rate_wait_ms(struct nm_peer_rate *r, uint64_t now_ms);

#endif
