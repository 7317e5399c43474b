/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsed packet metadata. The parser fills it from a flat buffer so that it
 * can be tested and fuzzed without mbufs; the worker passes the first
 * segment of an mbuf.
 */
#ifndef NM_PKT_T_H
#define NM_PKT_T_H

#include <stdint.h>

enum nm_pkt_class {
	NM_PKT_ARP = 1,
	NM_PKT_IPV4,
	NM_PKT_IPV6,
};

enum nm_pkt_flags {
	NM_PKT_F_FRAG = 1u << 0,       /* IPv4/IPv6 fragment (MF set or offset > 0) */
	NM_PKT_F_FIRST_FRAG = 1u << 1, /* fragment with offset 0 */
	NM_PKT_F_DF = 1u << 2,	       /* IPv4 don't-fragment bit */
	NM_PKT_F_L4 = 1u << 3,	       /* l4 fields below are valid */
};

/* Addresses in network byte order, ports in host byte order. */
struct nm_pkt_meta {
	uint8_t cls;	   /* enum nm_pkt_class */
	uint8_t flags;	   /* enum nm_pkt_flags */
	uint8_t ip_proto;  /* IPPROTO_* of the transport (after IPv6 ext headers) */
	uint8_t ttl;	   /* IPv4 TTL or IPv6 hop limit */
	uint16_t l2_len;   /* bytes of Ethernet (+VLAN) header */
	uint16_t l3_len;   /* bytes of IP header incl. IPv6 extension headers */
	uint16_t l4_len;   /* bytes of TCP/UDP/ICMP header */
	uint32_t ip_len;   /* IP total length as the header says, bytes */
	uint16_t sport;	   /* TCP/UDP source port; ICMP: type << 8 | code */
	uint16_t dport;	   /* TCP/UDP destination port; ICMP echo: identifier */
	uint8_t tcp_flags; /* TCP flags byte */
	uint32_t tcp_seq;  /* TCP sequence number, host order */
	uint32_t tcp_ack;  /* TCP acknowledgement number, host order */
	uint16_t arp_op;   /* ARP opcode, host order */
	union {
		uint32_t v4;
		uint8_t v6[16];
	} src, dst; /* IP (or ARP sender/target protocol) addresses */
};

#endif
