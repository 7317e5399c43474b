/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser. Works on a flat buffer (the first mbuf segment in the
 * dataplane, arbitrary bytes under the fuzzer). The rule is simple: before
 * any field is read, the bytes holding it are known to lie inside both the
 * buffer and the enclosing protocol's own length.
 */
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_arp.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_icmp.h>

#include "nodemesh/pkt.h"

#define DROP(r) (-(int)NM_DROP_##r)

static const struct {
	const char *name;
	const char *help;
} drop_names[NM_DROP_MAX] = {
#define NM_DROP_STR(sym, n, h) [NM_DROP_##sym] = {n, h},
    NM_DROP_REASONS(NM_DROP_STR)
#undef NM_DROP_STR
};

const char *
nm_drop_name(unsigned int reason)
{
	if (reason == NM_DROP_NONE || reason >= NM_DROP_MAX)
		return "unknown";
	return drop_names[reason].name;
}

const char *
nm_drop_help(unsigned int reason)
{
	if (reason == NM_DROP_NONE || reason >= NM_DROP_MAX)
		return "unknown";
	return drop_names[reason].help;
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Transport header at l4[0..avail). Fills ports and flags; the IP layer
 * already checked that avail does not pass the IP payload end.
 */
static int
parse_l4(const uint8_t *l4, uint32_t avail, uint32_t cap, struct nm_pkt_meta *meta)
{
	switch (meta->ip_proto) {
	case IPPROTO_TCP: {
		if (avail < sizeof(struct rte_tcp_hdr))
			return DROP(TRUNC_L4);
		if (cap < sizeof(struct rte_tcp_hdr))
			return DROP(NOT_CONTIGUOUS);
		uint16_t doff = (uint16_t)((l4[12] >> 4) * 4);
		if (doff < sizeof(struct rte_tcp_hdr))
			return DROP(BAD_L4_HDR);
		if (doff > avail)
			return DROP(TRUNC_L4);
		if (doff > cap)
			return DROP(NOT_CONTIGUOUS);
		meta->sport = rd16(l4);
		meta->dport = rd16(l4 + 2);
		meta->tcp_flags = l4[13];
		meta->tcp_seq = rd32(l4 + 4);
		meta->tcp_ack = rd32(l4 + 8);
		meta->l4_len = doff;
		break;
	}
	case IPPROTO_UDP:
		if (avail < sizeof(struct rte_udp_hdr))
			return DROP(TRUNC_L4);
		if (cap < sizeof(struct rte_udp_hdr))
			return DROP(NOT_CONTIGUOUS);
		/* UDP length covers header and data and must fit the IP payload. */
		if (rd16(l4 + 4) < sizeof(struct rte_udp_hdr) || rd16(l4 + 4) > avail)
			return DROP(BAD_L4_HDR);
		meta->sport = rd16(l4);
		meta->dport = rd16(l4 + 2);
		meta->l4_len = sizeof(struct rte_udp_hdr);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* type, code, checksum, then identifier/sequence (or unused) */
		if (avail < 8)
			return DROP(TRUNC_L4);
		if (cap < 8)
			return DROP(NOT_CONTIGUOUS);
		meta->sport = rd16(l4);	    /* type << 8 | code */
		meta->dport = rd16(l4 + 4); /* echo identifier */
		meta->l4_len = 8;
		break;
	default:
		/* Other transports are carried; nothing to read. */
		return 0;
	}
	meta->flags |= NM_PKT_F_L4;
	return 0;
}

static int
parse_arp(const uint8_t *p, uint32_t avail, uint32_t cap, struct nm_pkt_meta *meta)
{
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)p;

	if (avail < sizeof(*arp))
		return DROP(TRUNC_ARP);
	if (cap < sizeof(*arp))
		return DROP(NOT_CONTIGUOUS);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		return DROP(BAD_ARP);
	meta->arp_op = rte_be_to_cpu_16(arp->arp_opcode);
	if (meta->arp_op != RTE_ARP_OP_REQUEST && meta->arp_op != RTE_ARP_OP_REPLY)
		return DROP(BAD_ARP);
	memcpy(&meta->src.v4, &arp->arp_data.arp_sip, 4);
	memcpy(&meta->dst.v4, &arp->arp_data.arp_tip, 4);
	meta->l3_len = sizeof(*arp);
	return NM_PKT_ARP;
}

/*
 * Is the IPv4 header's one's-complement sum, checksum included, 0xffff
 * (RFC 1071)? Summed in 32-bit words and folded, which gives the 16-bit
 * sum in either byte order; a header is a whole number of words.
 * rte_raw_cksum's general loop cost three times as much per packet.
 */
static inline bool
ipv4_sum_ok(const uint8_t *ip, uint32_t ihl)
{
	uint64_t sum = 0;

	if (likely(ihl == sizeof(struct rte_ipv4_hdr))) {
		/* No options, nearly every packet: five words, no loop. */
		uint32_t w[5];
		memcpy(w, ip, sizeof(w));
		sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	} else {
		for (uint32_t off = 0; off < ihl; off += 4) {
			uint32_t word;
			memcpy(&word, ip + off, sizeof(word));
			sum += word;
		}
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static int
parse_ipv4(const uint8_t *p, uint32_t avail, uint32_t cap, struct nm_pkt_meta *meta)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

	if (avail < sizeof(*ip))
		return DROP(TRUNC_IP4);
	if (cap < sizeof(*ip))
		return DROP(NOT_CONTIGUOUS);
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	uint32_t total = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || total < ihl)
		return DROP(BAD_IP4_HDR);
	if (ihl > avail || total > avail)
		return DROP(TRUNC_IP4);
	if (ihl > cap)
		return DROP(NOT_CONTIGUOUS);
	/* The one's-complement sum over a correct header, checksum included, is 0xffff. */
	if (!ipv4_sum_ok(p, ihl))
		return DROP(BAD_IP4_CSUM);

	memcpy(&meta->src.v4, &ip->src_addr, 4);
	memcpy(&meta->dst.v4, &ip->dst_addr, 4);
	meta->ip_proto = ip->next_proto_id;
	meta->ttl = ip->time_to_live;
	meta->l3_len = (uint16_t)ihl;
	meta->ip_len = (uint16_t)total;

	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & RTE_IPV4_HDR_DF_FLAG)
		meta->flags |= NM_PKT_F_DF;
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		meta->flags |= NM_PKT_F_FRAG;
		/* Ports live only in the first fragment; reassembly comes first. */
		if ((frag & RTE_IPV4_HDR_OFFSET_MASK) != 0)
			return NM_PKT_IPV4;
		meta->flags |= NM_PKT_F_FIRST_FRAG;
		return NM_PKT_IPV4;
	}

	int rc = parse_l4(p + ihl, total - ihl, RTE_MIN(cap, total) - ihl, meta);
	return rc < 0 ? rc : NM_PKT_IPV4;
}

/* IPv6 extension headers we walk; anything else ends the chain. */
static inline int
ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT;
}

#define NM_IPV6_MAX_EXT 8 /* longer chains are an attack, not traffic */

static int
parse_ipv6(const uint8_t *p, uint32_t avail, uint32_t cap, struct nm_pkt_meta *meta)
{
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)p;

	if (avail < sizeof(*ip6))
		return DROP(TRUNC_IP6);
	if (cap < sizeof(*ip6))
		return DROP(NOT_CONTIGUOUS);
	if ((rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6)
		return DROP(BAD_IP6_HDR);
	uint32_t total = sizeof(*ip6) + rte_be_to_cpu_16(ip6->payload_len);
	if (total > avail)
		return DROP(TRUNC_IP6);

	memcpy(meta->src.v6, ip6->src_addr, 16);
	memcpy(meta->dst.v6, ip6->dst_addr, 16);
	meta->ttl = ip6->hop_limits;
	meta->ip_len = total; /* up to 40 + 65535: does not fit 16 bits */

	uint32_t off = sizeof(*ip6);
	uint8_t nh = ip6->proto;
	for (int i = 0; ipv6_is_ext(nh); i++) {
		if (i == NM_IPV6_MAX_EXT || off + 8 > total)
			return DROP(BAD_IP6_HDR);
		if (off + 8 > cap)
			return DROP(NOT_CONTIGUOUS);
		const uint8_t *ext = p + off;
		if (nh == IPPROTO_FRAGMENT) {
			uint16_t fo = rd16(ext + 2);
			meta->flags |= NM_PKT_F_FRAG;
			if ((fo & 0xfff8) != 0) {
				meta->ip_proto = ext[0];
				meta->l3_len = (uint16_t)(off + 8);
				return NM_PKT_IPV6;
			}
			meta->flags |= NM_PKT_F_FIRST_FRAG;
			off += 8;
		} else {
			off += (uint32_t)(ext[1] + 1) * 8;
		}
		nh = ext[0];
	}
	if (off > total)
		return DROP(BAD_IP6_HDR);
	meta->ip_proto = nh;
	meta->l3_len = (uint16_t)off;

	uint32_t l4cap = RTE_MIN(cap, total);
	int rc = parse_l4(p + off, total - off, l4cap > off ? l4cap - off : 0, meta);
	return rc < 0 ? rc : NM_PKT_IPV6;
}

int
nm_pkt_parse(const uint8_t *buf, uint32_t len, struct nm_pkt_meta *meta)
{
	return nm_pkt_parse_partial(buf, len, len, meta);
}

int
nm_pkt_parse_partial(const uint8_t *buf, uint32_t cap, uint32_t len, struct nm_pkt_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	if (cap > len)
		cap = len;
	if (len < sizeof(struct rte_ether_hdr))
		return DROP(TRUNC_ETH);
	if (cap < sizeof(struct rte_ether_hdr) + sizeof(struct rte_vlan_hdr) && cap < len)
		return DROP(NOT_CONTIGUOUS);

	uint32_t l2 = sizeof(struct rte_ether_hdr);
	uint16_t type = rd16(buf + 12);
	if (type == RTE_ETHER_TYPE_VLAN) {
		if (len < l2 + sizeof(struct rte_vlan_hdr))
			return DROP(TRUNC_ETH);
		type = rd16(buf + l2 + 2);
		l2 += sizeof(struct rte_vlan_hdr);
	}
	meta->l2_len = (uint16_t)l2;

	const uint8_t *l3 = buf + l2;
	uint32_t avail = len - l2;
	uint32_t l3cap = cap - l2;
	int rc;
	switch (type) {
	case RTE_ETHER_TYPE_ARP:
		rc = parse_arp(l3, avail, l3cap, meta);
		break;
	case RTE_ETHER_TYPE_IPV4:
		rc = parse_ipv4(l3, avail, l3cap, meta);
		break;
	case RTE_ETHER_TYPE_IPV6:
		rc = parse_ipv6(l3, avail, l3cap, meta);
		break;
	default:
		return DROP(ETHERTYPE);
	}
	if (rc > 0)
		meta->cls = (uint8_t)rc; /* pkt-t.h promises meta->cls */
	return rc;
}
