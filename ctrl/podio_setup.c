/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pod's PF_PACKET rings, control side: the socket, its two rings and
 * their mapping, made at `pod add` and undone at `pod del` (the worker
 * side is dataplane/podio.c). Control thread only.
 *
 * The socket options, and why:
 *   PACKET_VERSION V2 or V3    V2 (the default): frame-based RX, each
 *                              packet handed over at once, no timer. V3:
 *                              block-based, fewer status writes under load,
 *                              but a block waits for its retire timer, and
 *                              that timer fires every rx_block_ms on every
 *                              pod, idle or not (README "Pod I/O"). Either
 *                              way the worker's check of an idle pod is one
 *                              load of a status word.
 *   PACKET_QDISC_BYPASS        the veth has no queue worth keeping; TX goes
 *                              straight to the driver.
 *   PACKET_IGNORE_OUTGOING     the host end's own frames (IPv6 RS, MLD,
 *                              DAD) are not the pod's and must not be read.
 *   PACKET_LOSS                a slot the kernel finds malformed is skipped
 *                              rather than stopping the TX ring.
 *   PACKET_MR_PROMISC          the link is point-to-point to the pod: take
 *                              every frame it sends, whatever its MAC.
 * The socket is created with protocol 0 and bound to ETH_P_ALL only once
 * both rings exist, so no packet is queued outside the rings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "podio_setup.h"

/* The kernel's enum tpacket_versions for the configured 2 or 3 (TPACKET_V2 is 1). */
static int
tpacket_version(const struct nm_podio_params *p)
{
	return p->version == 2 ? TPACKET_V2 : TPACKET_V3;
}

/* Offset of the frame in a TX slot: the kernel's tp_hdrlen less the sockaddr_ll. */
static uint32_t
tx_data_off(int version)
{
	return version == TPACKET_V2 ? TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
				     : TPACKET_ALIGN(sizeof(struct tpacket3_hdr));
}

/*
 * Room a slot needs before the frame: the kernel puts an RX frame's
 * network header at TPACKET_ALIGN(tp_hdrlen + 16) (af_packet.c,
 * tpacket_rcv), 80 bytes for V2 and 96 for V3; TX needs less.
 */
#define SLOT_HEADROOM 96u

int
nm_podio_params_check(const struct nm_podio_params *p, uint32_t pod_mtu, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	uint32_t frame = pod_mtu + RTE_ETHER_HDR_LEN;

	if (p->version != 2 && p->version != 3) {
		snprintf(err, errlen, "af_packet.version %u: 2 (TPACKET_V2) or 3 (TPACKET_V3)",
			 p->version);
		return -EINVAL;
	}
	if (p->rx_block_size == 0 || p->rx_block_size % (uint32_t)page != 0) {
		snprintf(err, errlen,
			 "af_packet.rx_block_size %u is not a multiple of the page (%ld)",
			 p->rx_block_size, page);
		return -EINVAL;
	}
	/* A block must hold at least one whole frame with its headers. */
	if (p->rx_block_size < frame + TPACKET_ALIGN(sizeof(struct tpacket_block_desc)) +
				   TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + 64) {
		snprintf(err, errlen,
			 "af_packet.rx_block_size %u cannot hold one frame of pod_mtu %u",
			 p->rx_block_size, pod_mtu);
		return -EINVAL;
	}
	if (!rte_is_power_of_2(p->frame_size) || p->frame_size < SLOT_HEADROOM + frame) {
		snprintf(err, errlen,
			 "af_packet.frame_size %u must be a power of two holding %u bytes of "
			 "header and a frame of pod_mtu %u",
			 p->frame_size, SLOT_HEADROOM, pod_mtu);
		return -EINVAL;
	}
	/* V2 RX slots must not straddle blocks: the worker addresses them as one array. */
	if (p->version == 2 && p->rx_block_size % p->frame_size != 0) {
		snprintf(
		    err, errlen,
		    "af_packet.rx_block_size %u is not a multiple of frame_size %u (version 2)",
		    p->rx_block_size, p->frame_size);
		return -EINVAL;
	}
	if (p->rx_blocks < 2 || p->tx_frames < 2) {
		snprintf(err, errlen, "af_packet.rx_blocks and tx_frames must be at least 2");
		return -EINVAL;
	}
	return 0;
}

static int
set_int_opt(int fd, int opt, int val, const char *name, char *err, size_t errlen)
{
	if (setsockopt(fd, SOL_PACKET, opt, &val, sizeof(val)) < 0) {
		snprintf(err, errlen, "setsockopt(%s=%d) failed: %s", name, val, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The interface up (as net_af_packet does at start) and its MAC. */
static int
iface_prepare(int fd, const char *iface, struct rte_ether_addr *mac, char *err, size_t errlen)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(err, errlen,
			 "SIOCGIFFLAGS(%s) failed: %s (does the interface exist in the daemon's "
			 "network namespace?)",
			 iface, strerror(errno));
		return -errno;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
			snprintf(err, errlen, "SIOCSIFFLAGS(%s, up) failed: %s", iface,
				 strerror(errno));
			return -errno;
		}
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		snprintf(err, errlen, "SIOCGIFHWADDR(%s) failed: %s", iface, strerror(errno));
		return -errno;
	}
	memcpy(mac->addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
	return 0;
}

/* Both rings; fills the geometry in io. */
static int
rings_setup(struct nm_podio *io, const struct nm_podio_params *p, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	/* For V2 the kernel reads only the leading struct tpacket_req of a tpacket_req3. */
	struct tpacket_req3 rx = {
	    .tp_block_size = p->rx_block_size,
	    .tp_block_nr = p->rx_blocks,
	    /* V3 packs packets of any size: the frame size is only a bound the kernel checks. */
	    .tp_frame_size = p->version == 2 ? p->frame_size : TPACKET_ALIGNMENT << 7,
	    .tp_retire_blk_tov = p->version == 3 ? p->rx_block_ms : 0,
	};
	rx.tp_frame_nr = rx.tp_block_size / rx.tp_frame_size * rx.tp_block_nr;

	/* TX blocks of a page or one slot, whichever is larger: slots stay contiguous. */
	uint32_t tx_block = RTE_MAX((uint32_t)page, p->frame_size);
	uint32_t per_block = tx_block / p->frame_size;
	struct tpacket_req3 tx = {
	    .tp_block_size = tx_block,
	    .tp_block_nr = (p->tx_frames + per_block - 1) / per_block,
	    .tp_frame_size = p->frame_size,
	};
	tx.tp_frame_nr = tx.tp_block_nr * per_block;

	if (setsockopt(io->fd, SOL_PACKET, PACKET_RX_RING, &rx, sizeof(rx)) < 0) {
		snprintf(err, errlen, "setsockopt(PACKET_RX_RING, %u blocks of %u) failed: %s",
			 rx.tp_block_nr, rx.tp_block_size, strerror(errno));
		return -errno;
	}
	if (setsockopt(io->fd, SOL_PACKET, PACKET_TX_RING, &tx, sizeof(tx)) < 0) {
		snprintf(err, errlen, "setsockopt(PACKET_TX_RING, %u slots of %u) failed: %s",
			 tx.tp_frame_nr, tx.tp_frame_size, strerror(errno));
		return -errno;
	}

	size_t rx_len = (size_t)rx.tp_block_size * rx.tp_block_nr;
	size_t tx_len = (size_t)tx.tp_block_size * tx.tp_block_nr;
	/* MAP_POPULATE: the pod's ring memory is taken now, at `pod add`, not on first traffic. */
	io->map = mmap(NULL, rx_len + tx_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       io->fd, 0);
	if (io->map == MAP_FAILED) {
		io->map = NULL;
		snprintf(err, errlen, "mmap(%zu bytes of rings) failed: %s", rx_len + tx_len,
			 strerror(errno));
		return -errno;
	}
	io->map_len = rx_len + tx_len;
	io->rx_ring = io->map;
	io->rx_block_size = rx.tp_block_size;
	io->rx_blocks = rx.tp_block_nr;
	io->rx_frame_size = rx.tp_frame_size;
	io->rx_frames = rx.tp_frame_nr;
	io->tx_ring = (uint8_t *)io->map + rx_len;
	io->tx_frame_size = tx.tp_frame_size;
	io->tx_frames = tx.tp_frame_nr;
	io->version = (uint32_t)tpacket_version(p);
	io->tx_data = tx_data_off(tpacket_version(p));
	return 0;
}

static int
socket_bind(struct nm_podio *io, const char *iface, char *err, size_t errlen)
{
	unsigned int ifindex = if_nametoindex(iface);
	struct packet_mreq mr = {.mr_type = PACKET_MR_PROMISC};
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ALL),
	};

	if (ifindex == 0) {
		snprintf(err, errlen, "if_nametoindex(%s) failed: %s", iface, strerror(errno));
		return -ENODEV;
	}
	mr.mr_ifindex = (int)ifindex;
	sll.sll_ifindex = (int)ifindex;
	if (setsockopt(io->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		snprintf(err, errlen, "setsockopt(PACKET_ADD_MEMBERSHIP promisc, %s) failed: %s",
			 iface, strerror(errno));
		return -errno;
	}
	if (bind(io->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		snprintf(err, errlen, "bind(AF_PACKET, %s) failed: %s", iface, strerror(errno));
		return -errno;
	}
	return 0;
}

struct nm_podio *
nm_podio_open(const char *iface, const struct nm_podio_params *p, struct rte_ether_addr *mac,
	      char *err, size_t errlen)
{
	struct nm_podio *io = rte_zmalloc("nm_podio", sizeof(*io), RTE_CACHE_LINE_SIZE);
	int rc = -ENOMEM;

	if (io == NULL) {
		snprintf(err, errlen, "out of memory for the rings of %s", iface);
		goto fail;
	}
	io->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (io->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket(AF_PACKET) for %s failed: %s", iface,
			 strerror(errno));
		goto fail;
	}
	if ((rc = iface_prepare(io->fd, iface, mac, err, errlen)) < 0 ||
	    (rc = set_int_opt(io->fd, PACKET_VERSION, tpacket_version(p), "PACKET_VERSION", err,
			      errlen)) < 0 ||
	    (rc = set_int_opt(io->fd, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS", err, errlen)) <
		0 ||
	    (rc = set_int_opt(io->fd, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING", err,
			      errlen)) < 0 ||
	    (rc = set_int_opt(io->fd, PACKET_LOSS, 1, "PACKET_LOSS", err, errlen)) < 0 ||
	    (rc = rings_setup(io, p, err, errlen)) < 0 ||
	    (rc = socket_bind(io, iface, err, errlen)) < 0)
		goto fail;
	return io;

fail:
	nm_podio_close(io);
	errno = -rc;
	return NULL;
}

void
nm_podio_handover_get(const struct nm_podio *io, struct nm_podio_handover *h)
{
	memset(h, 0, sizeof(*h));
	h->version = io->version;
	h->rx_block_size = io->rx_block_size;
	h->rx_blocks = io->rx_blocks;
	h->rx_frame_size = io->rx_frame_size;
	h->rx_frames = io->rx_frames;
	h->tx_frame_size = io->tx_frame_size;
	h->tx_frames = io->tx_frames;
	h->tx_data = io->tx_data;
	h->map_len = io->map_len;
	h->rx_next = io->rx_next;
	h->rx_block = io->rx_block;
	h->rx_left = io->rx_left;
	h->rx_pkt_off = io->rx_pkt != NULL ? (uint64_t)(io->rx_pkt - io->rx_ring) : 0;
	h->tx_next = io->tx_next;
}

/* The cursors inside the geometry and the rings inside the mapping: 0 or -EINVAL. */
static int
handover_check(const struct nm_podio_handover *h, const char *iface, char *err, size_t errlen)
{
	uint64_t rx_len = (uint64_t)h->rx_block_size * h->rx_blocks;
	uint64_t tx_len = (uint64_t)h->tx_frame_size * h->tx_frames;

	if ((h->version != TPACKET_V2 && h->version != TPACKET_V3) || h->rx_frames == 0 ||
	    h->rx_blocks == 0 || h->tx_frames == 0 || rx_len + tx_len > h->map_len ||
	    h->rx_next >= h->rx_frames || h->rx_block >= h->rx_blocks ||
	    h->tx_next >= h->tx_frames || h->rx_pkt_off >= rx_len ||
	    (uint64_t)h->rx_frame_size * h->rx_frames > rx_len) {
		snprintf(err, errlen,
			 "rings handed over for %s do not add up (version %u, %u RX slots, "
			 "%u TX slots, %" PRIu64 " bytes mapped)",
			 iface, h->version, h->rx_frames, h->tx_frames, h->map_len);
		return -EINVAL;
	}
	return 0;
}

struct nm_podio *
nm_podio_adopt(int fd, const char *iface, const struct nm_podio_handover *h,
	       struct rte_ether_addr *mac, char *err, size_t errlen)
{
	struct nm_podio *io;
	int rc = handover_check(h, iface, err, errlen);

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	io = rte_zmalloc("nm_podio", sizeof(*io), RTE_CACHE_LINE_SIZE);
	if (io == NULL) {
		snprintf(err, errlen, "out of memory for the rings of %s", iface);
		errno = ENOMEM;
		return NULL;
	}
	rc = iface_prepare(fd, iface, mac, err, errlen);
	if (rc == 0) {
		/* The same pages the other daemon mapped: what the kernel queued meanwhile is
		 * there. */
		io->map = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			       fd, 0);
		if (io->map == MAP_FAILED) {
			io->map = NULL;
			rc = -errno;
			snprintf(err, errlen, "mmap(%" PRIu64 " bytes of %s's rings) failed: %s",
				 h->map_len, iface, strerror(errno));
		}
	}
	if (rc < 0) {
		rte_free(io); /* fd stays the caller's */
		errno = -rc;
		return NULL;
	}
	io->fd = fd;
	io->map_len = h->map_len;
	io->version = h->version;
	io->rx_ring = io->map;
	io->rx_block_size = h->rx_block_size;
	io->rx_blocks = h->rx_blocks;
	io->rx_frame_size = h->rx_frame_size;
	io->rx_frames = h->rx_frames;
	io->tx_ring = (uint8_t *)io->map + (size_t)h->rx_block_size * h->rx_blocks;
	io->tx_frame_size = h->tx_frame_size;
	io->tx_frames = h->tx_frames;
	io->tx_data = h->tx_data;
	io->rx_next = h->rx_next;
	io->rx_block = h->rx_block;
	io->rx_left = h->rx_left;
	io->rx_pkt = h->rx_left > 0 ? io->rx_ring + h->rx_pkt_off : NULL;
	io->tx_next = h->tx_next;
	return io;
}

int
nm_podio_kernel_stats(struct nm_podio *io)
{
	/* V2 sockets fill the leading struct tpacket_stats and shorten len. */
	struct tpacket_stats_v3 st = {0};
	socklen_t len = sizeof(st);

	if (getsockopt(io->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return -errno;
	/* tp_packets counts the dropped frames too (af_packet.c, packet_getsockopt). */
	io->kernel_rx += st.tp_packets - st.tp_drops;
	io->kernel_rx_drops += st.tp_drops;
	return 0;
}

void
nm_podio_close(struct nm_podio *io)
{
	if (io == NULL)
		return;
	if (io->map != NULL)
		munmap(io->map, io->map_len);
	io->map = NULL;
	/* fd 0 is never ours: rte_zmalloc'd io has fd 0 until socket() succeeded. */
	if (io->fd > 0)
		close(io->fd);
	io->fd = -1;
	rte_free(io);
}
