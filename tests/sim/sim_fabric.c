/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's fabric side: inner UDP datagrams from a simulated pod,
 * sealed with the peer's sending key by the daemon's own record layer
 * (nm_tnl_seal_burst) and sent as whole Ethernet frames on the fabric veth,
 * as a real node's worker would send them (wire format in
 * include/nodemesh/tunnel-t.h and README "Wire format").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "nodemesh/tunnel.h"
#include "sim.h"

#define OUTER_LEN   (14 + 20 + 8) /* Ethernet, IPv4, UDP */
#define INNER_HDRS  (20 + 8)	  /* inner IPv4 and UDP */
#define PAYLOAD_MAX 1024

int
sim_fabric_open(struct sim_fabric *f, const char *iface, char *err, size_t errlen)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};

	f->ifindex = (int)if_nametoindex(iface);
	if (f->ifindex == 0) {
		snprintf(err, errlen, "if_nametoindex(%s): %s", iface, strerror(errno));
		return -ENODEV;
	}
	/* Protocol 0: this socket only sends, it never queues what arrives. */
	f->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		snprintf(err, errlen, "socket(AF_PACKET): %s", strerror(errno));
		return -errno;
	}
	sll.sll_ifindex = f->ifindex;
	sll.sll_protocol = 0;
	if (bind(f->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "bind(AF_PACKET, %s): %s", iface, strerror(errno));
		close(f->fd);
		f->fd = -1;
		return rc;
	}
	return 0;
}

void
sim_fabric_close(struct sim_fabric *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static uint16_t
ip_checksum(const void *hdr, size_t len)
{
	const uint8_t *b = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void
put_ipv4(uint8_t *at, uint32_t src, uint32_t dst, uint16_t total_len, uint16_t id)
{
	struct iphdr ip = {
	    .version = 4,
	    .ihl = 5,
	    .tot_len = htons(total_len),
	    .id = htons(id),
	    .ttl = 64,
	    .protocol = IPPROTO_UDP,
	    .saddr = src,
	    .daddr = dst,
	};

	ip.check = ip_checksum(&ip, sizeof(ip));
	memcpy(at, &ip, sizeof(ip));
}

static void
put_udp(uint8_t *at, uint16_t sport, uint16_t dport, uint16_t len)
{
	/* Checksum 0: none, which IPv4 allows (RFC 768). */
	struct udphdr u = {.source = htons(sport), .dest = htons(dport), .len = htons(len)};

	memcpy(at, &u, sizeof(u));
}

int
sim_fabric_send_udp(struct sim_fabric *f, struct sim_peer *p, uint32_t src_ip, uint32_t dst_ip,
		    uint16_t dport, unsigned int count, char *err, size_t errlen)
{
	uint8_t frame[OUTER_LEN + NM_TNL_OVERHEAD + INNER_HDRS + PAYLOAD_MAX];
	const uint16_t payload_len = 64;
	const uint32_t inner_len = INNER_HDRS + payload_len;
	unsigned int sent = 0;

	if (p->seal == NULL) {
		snprintf(err, errlen, "%s has no sending key (no key_ack from the daemon)",
			 p->name);
		return -ENOKEY;
	}
	for (unsigned int i = 0; i < count; i++) {
		uint8_t *rec = frame + OUTER_LEN;
		uint8_t *inner = rec + NM_TNL_HDRS_LEN;
		struct nm_tnl_buf b = {
		    .data = rec,
		    .len = NM_TNL_HDRS_LEN + inner_len,
		    .room = (uint32_t)(sizeof(frame) - OUTER_LEN),
		};

		/* The inner datagram, as the simulated pod sent it. */
		memset(inner + INNER_HDRS, 0, payload_len);
		put_ipv4(inner, src_ip, dst_ip, (uint16_t)inner_len, (uint16_t)i);
		put_udp(inner + 20, (uint16_t)(40000 + i % 1000), dport,
			(uint16_t)(8 + payload_len));
		snprintf((char *)inner + INNER_HDRS, payload_len, "nm-peersim peer %u record %u",
			 p->idx, i);
		if (nm_tnl_seal_burst(p->seal, &b, 1) != 1) {
			snprintf(err, errlen, "sealing for %s failed: %s", p->name,
				 nm_tnl_reason_name(b.reason));
			return -EIO;
		}

		/* The outer headers around the record (b.len is the whole record now). */
		uint8_t src_mac[6] = {0x02,	      0x4e, 0x4d, 0x53, (uint8_t)(p->idx >> 8),
				      (uint8_t)p->idx};
		memcpy(frame, f->dst_mac, 6);
		memcpy(frame + 6, src_mac, 6);
		frame[12] = 0x08;
		frame[13] = 0x00;
		put_ipv4(frame + 14, p->fabric_ip, f->dst_ip, (uint16_t)(20 + 8 + b.len),
			 (uint16_t)i);
		put_udp(frame + 34, f->udp_port, f->udp_port, (uint16_t)(8 + b.len));
		if (send(f->fd, frame, OUTER_LEN + b.len, 0) < 0) {
			snprintf(err, errlen, "send on the fabric for %s: %s", p->name,
				 strerror(errno));
			return sent > 0 ? (int)sent : -errno;
		}
		sent++;
	}
	return (int)sent;
}
