/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Messages between nodes on their mutual-TLS control connection: the frame
 * reassembly state and the pod announcements (the ipcache feed) that a
 * peer sends.
 *
 * Frame: a 4-byte big-endian length N, then N bytes of one JSON object
 * (UTF-8, no NUL), 1 <= N <= NM_MSG_MAX.
 */
#ifndef NM_PEER_MSG_T_H
#define NM_PEER_MSG_T_H

#include <stddef.h>
#include <stdint.h>

#include "nodemesh/pod-t.h"

#define NM_MSG_HDR_LEN 4     /* bytes of the length prefix */
#define NM_MSG_MAX     65536 /* bytes of JSON in one frame, at most */

#define NM_MSG_RX_KEEP 4096 /* bytes of frame buffer a stream keeps between frames */

/*
 * Reassembly of one direction's byte stream into frames. Holds at most one
 * frame: the reader asks how many bytes complete the current header or body
 * and never reads past them, so nothing is left over between frames. The
 * buffer grows to the frame in hand (at most NM_MSG_HDR_LEN + NM_MSG_MAX)
 * and goes back to NM_MSG_RX_KEEP after a larger one: a node holds a
 * stream per peer, a thousand of them mostly idle, and announcements are
 * a few hundred bytes.
 */
struct nm_msg_rx {
	size_t len;   /* bytes of the current frame held, header included */
	int error;    /* 0, or the -errno of the first bad frame: the stream is lost */
	size_t cap;   /* bytes at buf */
	uint8_t *buf; /* malloc'd; NULL until the first byte is wanted */
};

enum nm_announce_type {
	NM_ANNOUNCE_POD_ADD = 1, /* {"type":"pod_add","ip":..,"identity":"ns/sa",..} */
	NM_ANNOUNCE_POD_DEL = 2, /* {"type":"pod_del","ip":..} */
};

/*
 * One announcement, validated: the address is a unicast address inside the
 * sending peer's pod CIDR, names and labels obey the same rules as a local
 * pod's (nm_pod_spec_fill), so a remote pod can be matched by the same
 * selectors. Fields other than type and ip are "" for NM_ANNOUNCE_POD_DEL.
 */
struct nm_announce {
	uint8_t type; /* enum nm_announce_type */
	uint32_t ip;  /* IPv4, network byte order */
	char ns[NM_NAME_LEN];
	char sa[NM_NAME_LEN];
	char labels[NM_LABELS_LEN]; /* "k=v,k=v" in the message's key order; "" = none */
	char image[NM_IMAGE_LEN];   /* "" = not given */
};

#endif
