/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parts of the packet parser's tests share (test_pkt.c,
 * test_pkt_parse.c; test_pkt_common.c defines them): the constants of the
 * frames, the addresses they carry, and the builders that write them byte
 * by byte, plus parse(), which hands the parser a heap copy of exactly the
 * frame's length.
 */
#ifndef NM_TEST_PKT_COMMON_H
#define NM_TEST_PKT_COMMON_H

#include <stdint.h>

#include "nodemesh/pkt.h"

#define ETH_ARP	 0x0806
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100

#define TCP_SYN 0x02
#define TCP_ACK 0x10

#define IP4_DF 0x4000
#define IP4_MF 0x2000

#define FRAME_MAX 2048

extern const uint8_t pod_a[4];
extern const uint8_t pod_b[4];
extern const uint8_t v6_a[16];
extern const uint8_t v6_b[16];

void wr16(uint8_t *p, uint16_t v);
uint16_t rd16(const uint8_t *p);
/* RFC 1071 Internet checksum over the IPv4 header, written into bytes 10-11. */
void ip4_csum(uint8_t *ip);
/* Ethernet header; returns its length. */
uint32_t put_eth(uint8_t *p, uint16_t type);
/* Ethernet header with one 802.1Q tag; returns its length. */
uint32_t put_eth_vlan(uint8_t *p, uint16_t vid, uint16_t type);
/*
 * IPv4 header of ihl 32-bit words (options NOP-filled), checksum set;
 * returns ihl * 4.
 */
uint32_t put_ip4(uint8_t *p, unsigned int ihl, uint8_t proto, uint16_t total, uint16_t frag);
uint32_t put_ip6(uint8_t *p, uint8_t next, uint16_t payload_len);
/* TCP header of doff 32-bit words (options zero); returns doff * 4. */
uint32_t put_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags, unsigned int doff);
uint32_t put_udp(uint8_t *p, uint16_t sport, uint16_t dport, uint16_t len);
/* ICMP or ICMPv6 header: type, code, checksum, identifier, sequence. */
uint32_t put_icmp(uint8_t *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq);
/* IPv6 extension header of 8 * (hdr_ext_len + 1) bytes, padding zero. */
uint32_t put_ext(uint8_t *p, uint8_t next, uint8_t hdr_ext_len);
/* IPv6 fragment header; offset in 8-byte units. */
uint32_t put_frag6(uint8_t *p, uint8_t next, uint16_t offset, int more);
uint32_t put_arp(uint8_t *p, uint16_t op);
/* Ethernet + IPv4 (20) + TCP (20) + 6 bytes of data: 60 bytes. */
uint32_t build_tcp4(uint8_t *f);
uint32_t build_udp4(uint8_t *f);
uint32_t build_tcp6(uint8_t *f);
/*
 * Parse a copy of f[0..len) held in a heap buffer of exactly len bytes; on
 * success meta.cls must agree with the return value.
 */
int parse(const uint8_t *f, uint32_t len, struct nm_pkt_meta *meta);

#endif
