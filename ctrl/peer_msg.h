/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Framing of JSON messages between nodes and the pod announcement parser
 * (ctrl/peer_msg.c). Pure functions over bytes and jansson values: the TLS
 * connection (peer_tls.h) feeds them, and so can a test or a fuzzer.
 *
 * Announcements, one JSON object per frame:
 *
 *   {"type":"pod_add","ip":"10.1.0.5","identity":"ns/sa",
 *    "labels":{"app":"web"},"image":"nginx:1.25"}      labels, image optional
 *   {"type":"pod_del","ip":"10.1.0.5"}
 *
 * Any other key is refused, so that a typo or a newer peer's field is
 * noticed instead of silently dropped.
 */
#ifndef NM_PEER_MSG_H
#define NM_PEER_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "nodemesh/cidr-t.h"
#include "peer_msg-t.h"

#define NM_MSG_NEED_MORE 1 /* no complete frame yet: feed more bytes */

/* Forget any partial frame and any error: for a new connection. */
void nm_msg_rx_reset(struct nm_msg_rx *rx);

/* Give the frame buffer back (the stream ends); rx can be reset and used again. */
void nm_msg_rx_free(struct nm_msg_rx *rx);

/*
 * How many bytes complete the current length prefix or body, and where to
 * put them (*dst). Reading exactly that many and no more keeps the next
 * frame's bytes in the source (the TLS record buffer). 0 after an error,
 * and 0 with the stream failed (-ENOMEM) when the buffer cannot grow.
 */
size_t nm_msg_rx_want(struct nm_msg_rx *rx, uint8_t **dst);

/*
 * n (<= the last nm_msg_rx_want) bytes were written at *dst. Returns 0 and
 * *msg (a JSON object; the caller json_decref()s it) when they complete a
 * frame, NM_MSG_NEED_MORE when not yet, or a negative errno with err saying
 * why, and the same error on every later call:
 *   -EMSGSIZE  the length prefix is over NM_MSG_MAX (refused at once,
 *              before the body arrives), or 0
 *   -EBADMSG   the body is not one JSON object (jansson's reason and column)
 */
int nm_msg_rx_commit(struct nm_msg_rx *rx, size_t n, json_t **msg, char *err, size_t errlen);

/*
 * nm_msg_rx_want/commit over a buffer: consumes bytes of data up to the end
 * of one frame, and returns as nm_msg_rx_commit does; *used says how many
 * were taken (call again with the rest after a 0).
 */
int nm_msg_rx_push(struct nm_msg_rx *rx, const void *data, size_t n, size_t *used, json_t **msg,
		   char *err, size_t errlen);

/*
 * The frame for msg (compact JSON) in buf: returns its length in bytes, or
 * -EMSGSIZE if the JSON is over NM_MSG_MAX bytes, -ENOBUFS if buflen is
 * too small (nm_msg_frame_len() says how much is needed).
 */
long nm_msg_frame_write(const json_t *msg, uint8_t *buf, size_t buflen, char *err, size_t errlen);

/* Bytes of the frame for msg, prefix included (the JSON may be over NM_MSG_MAX). */
size_t nm_msg_frame_len(const json_t *msg);

/*
 * Validate one announcement from the peer whose pod CIDR is peer_pod_cidr.
 * Returns 0 with *out filled, or -EINVAL with err naming the field and what
 * was wrong with it (an address outside the CIDR, a bad identity, a label
 * too long, an unknown key, ...).
 */
int nm_announce_parse(const json_t *msg, const struct nm_cidr *peer_pod_cidr,
		      struct nm_announce *out, char *err, size_t errlen);

/*
 * The message for an announcement (as nm_announce_parse accepts it), or
 * NULL with errno set (ENOMEM, or EINVAL for an unknown type).
 */
json_t *nm_announce_to_json(const struct nm_announce *a);

#endif
