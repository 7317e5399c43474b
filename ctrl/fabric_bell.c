/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening the fabric port's doorbell (fabric_bell.h). The socket takes
 * every frame of the interface, cut by its filter to one byte (no frame
 * is copied whole a second time), into a ring of BELL_FRAMES slots: that
 * is enough to be readable, and a full ring only drops the extra bytes
 * (the kernel counts them in tp_drops, which nothing needs). Frames this
 * node sends are ignored (PACKET_IGNORE_OUTGOING), so its own TX never
 * rings it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "fabric_bell.h"

#define BELL_BLOCK  4096 /* one page */
#define BELL_FRAME  128	 /* a TPACKET_V2 header, the address and a byte, aligned */
#define BELL_FRAMES (BELL_BLOCK / BELL_FRAME)

static int
sockopt(int fd, int level, int opt, const void *val, socklen_t len, const char *name,
	const char *iface, char *err, size_t errlen)
{
	if (setsockopt(fd, level, opt, val, len) == 0)
		return 0;
	snprintf(err, errlen, "fabric doorbell on %s: setsockopt(%s) failed: %s", iface, name,
		 strerror(errno));
	return -errno;
}

static int
configure(struct nm_fabric_bell *b, const char *iface, char *err, size_t errlen)
{
	int version = TPACKET_V2, one = 1;
	struct sock_filter one_byte[] = {BPF_STMT(BPF_RET | BPF_K, 1)};
	struct sock_fprog prog = {.len = 1, .filter = one_byte};
	struct tpacket_req req = {.tp_block_size = BELL_BLOCK,
				  .tp_block_nr = 1,
				  .tp_frame_size = BELL_FRAME,
				  .tp_frame_nr = BELL_FRAMES};

	if (sockopt(b->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version), "PACKET_VERSION",
		    iface, err, errlen) < 0 ||
	    sockopt(b->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog), "SO_ATTACH_FILTER",
		    iface, err, errlen) < 0 ||
	    sockopt(b->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one),
		    "PACKET_IGNORE_OUTGOING", iface, err, errlen) < 0 ||
	    sockopt(b->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req), "PACKET_RX_RING", iface,
		    err, errlen) < 0)
		return -EINVAL;
	return 0;
}

struct nm_fabric_bell *
nm_fabric_bell_open(const char *iface, struct nm_worker *w, char *err, size_t errlen)
{
	struct nm_fabric_bell *b = calloc(1, sizeof(*b));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = NM_FABRIC_BELL_EPOLL_TAG};

	if (b == NULL) {
		snprintf(err, errlen, "out of memory for the fabric doorbell");
		return NULL;
	}
	b->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (b->fd < 0) {
		snprintf(err, errlen, "fabric doorbell on %s: socket(AF_PACKET) failed: %s", iface,
			 strerror(errno));
		goto fail_socket;
	}
	if (configure(b, iface, err, errlen) < 0)
		goto fail_fd;
	b->ring = mmap(NULL, BELL_BLOCK, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->ring == MAP_FAILED) {
		snprintf(err, errlen, "fabric doorbell on %s: mmap(%d bytes) failed: %s", iface,
			 BELL_BLOCK, strerror(errno));
		goto fail_fd;
	}
	b->frames = BELL_FRAMES;
	b->frame_size = BELL_FRAME;
	b->armed_at = UINT32_MAX; /* never: the first wait re-arms first */
	sll.sll_ifindex = (int)if_nametoindex(iface);
	if (sll.sll_ifindex == 0 || bind(b->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		snprintf(err, errlen, "fabric doorbell: bind(%s) failed: %s", iface,
			 strerror(errno));
		goto fail_map;
	}
	if (epoll_ctl(w->idle_epfd, EPOLL_CTL_ADD, b->fd, &ev) < 0) {
		snprintf(err, errlen, "fabric doorbell on %s: epoll_ctl(ADD, worker %u) failed: %s",
			 iface, w->idx, strerror(errno));
		goto fail_map;
	}
	w->fabric_bell = b;
	return b;

fail_map:
	munmap(b->ring, BELL_BLOCK);
fail_fd:
	close(b->fd);
fail_socket:
	free(b);
	return NULL;
}

void
nm_fabric_bell_close(struct nm_fabric_bell *b)
{
	if (b == NULL)
		return;
	munmap(b->ring, BELL_BLOCK);
	b->ring = NULL;
	close(b->fd); /* leaves the worker's epoll set with it */
	b->fd = -1;
	free(b);
}
