/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The takeover conversation's frames (ctrl/takeover_msg.c), spoken on a
 * control socket connection after the line "takeover": what `nodemeshd
 * --takeover` (the new daemon) and the running one (the old) say to each
 * other, and the file descriptors that travel with them (SCM_RIGHTS).
 *
 * A frame is a 12-byte header, then len bytes of payload:
 *
 *   "NMTO"  version (1 byte)  type (1 byte)  fds (2 bytes, BE)  len (4 bytes, BE)
 *
 * The fds ride on the sendmsg() that carries the header. The conversation:
 *
 *   new → old   "takeover\n"                       (a control request line)
 *   old → new   RINGS  (0 or more) af_packet pods' rings, JSON + their sockets' fds
 *               PODIDS its pod ids and names; FLOWS (0 or more) its flow tables
 *               STREAMS (1 or more) its inspection streams
 *               TUNNEL (with a fabric port) its peers' keys, sequences, replay windows
 *               STATE  the state file's encoding    + the control socket's listening fd
 *           or  REFUSE the reason (text); the old runs on
 *   new → old   STARTED                             (the new one forwards now: the old exits)
 *           or  ABORT  the reason (text); the old resumes its workers
 *
 * Pure: no DPDK, no node; unit-tested in tests/unit/test_takeover.c.
 */
#ifndef NM_TAKEOVER_MSG_H
#define NM_TAKEOVER_MSG_H

#include <stddef.h>
#include <stdint.h>

/*
 * 2: FLOWS and TUNNEL became takeover_wire.h bodies and STREAMS came. Within one
 * version, what a frame's body holds is versioned by the body itself
 * (takeover_wire.h), so this changes only when the conversation does.
 */
#define NM_TAKEOVER_VERSION 2
/*
 * The oldest conversation a new daemon still holds: 1, the release before
 * the versioned bodies (fixed-size host-order FLOWS and TUNNEL records,
 * read by their legacy readers; no STREAMS). It answers in the old
 * daemon's version. An old daemon of this build sends only 2.
 */
#define NM_TAKEOVER_VERSION_MIN 1
#define NM_TAKEOVER_HDR_LEN	12
#define NM_TAKEOVER_MAX_FDS	253	     /* fds one frame may carry (the kernel's SCM_MAX_FD) */
#define NM_TAKEOVER_MAX_LEN	(80u << 20)  /* a state body (64 MiB) and its header fit */
#define NM_TAKEOVER_LINE	"takeover\n" /* the request that starts the conversation */

enum nm_takeover_type {
	NM_TAKEOVER_STATE = 1,	 /* old → new: state encoding, fds: listening socket */
	NM_TAKEOVER_REFUSE = 2,	 /* old → new: why not (text) */
	NM_TAKEOVER_STARTED = 3, /* new → old: its workers forward */
	NM_TAKEOVER_ABORT = 4,	 /* new → old: why it gives up (text) */
	NM_TAKEOVER_RINGS = 5,	 /* old → new: pods' rings (JSON array), fds: their sockets */
	NM_TAKEOVER_PODIDS = 6,	 /* old → new: its pod ids -> names (JSON), for the flows */
	NM_TAKEOVER_FLOWS = 7,	 /* old → new: tracked flows (binary records) */
	NM_TAKEOVER_TUNNEL = 8,	 /* old → new: peers' keys, sequences, replay windows */
	NM_TAKEOVER_STREAMS = 9, /* old → new: inspection streams (binary records) */
};

struct nm_takeover_hdr {
	uint8_t version;
	uint8_t type; /* enum nm_takeover_type */
	uint16_t n_fds;
	uint32_t len; /* payload bytes */
};

/* The 12 header bytes for h. */
void nm_takeover_hdr_encode(const struct nm_takeover_hdr *h, uint8_t out[NM_TAKEOVER_HDR_LEN]);

/*
 * Check and read a header: magic, version, a known type, at most
 * NM_TAKEOVER_MAX_FDS fds and NM_TAKEOVER_MAX_LEN bytes. 0, or -EPROTO
 * with err saying which ("version 2, this nodemeshd speaks 1", ...).
 */
int nm_takeover_hdr_decode(const uint8_t in[NM_TAKEOVER_HDR_LEN], struct nm_takeover_hdr *h,
			   char *err, size_t errlen);

/* The name of a frame type, for messages ("STATE", ...; "unknown"). */
const char *nm_takeover_type_name(uint8_t type);

/* Send one frame with fds[0..n_fds) attached (blocking fd). 0 or -errno. */
int nm_takeover_send(int fd, uint8_t type, const void *payload, uint32_t len, const int *fds,
		     unsigned int n_fds);
/* The same in the conversation version given (a new daemon answering an older old one). */
int nm_takeover_send_version(int fd, uint8_t version, uint8_t type, const void *payload,
			     uint32_t len, const int *fds, unsigned int n_fds);

/*
 * Send w's body (takeover_wire.h) as one frame of type, add its size to
 * *bytes and reset w for the next. 0, -ENOMEM (the body lost a field), or
 * -errno.
 */
struct nm_twire_writer;
int nm_takeover_send_body(int fd, uint8_t type, struct nm_twire_writer *w, size_t *bytes);

/*
 * Receive one frame within timeout_ms: *payload is malloc'd (NUL-terminated,
 * len bytes before the NUL), fds[0..*n_fds) received (at most
 * NM_TAKEOVER_MAX_FDS; the caller closes them). 0, or -errno with err
 * saying what went wrong (-ETIMEDOUT, -ECONNRESET for the peer gone, -EPROTO
 * for a bad frame, or the failed call). On error nothing is left open.
 */
int nm_takeover_recv(int fd, int timeout_ms, struct nm_takeover_hdr *h, char **payload, int *fds,
		     char *err, size_t errlen);

#endif
