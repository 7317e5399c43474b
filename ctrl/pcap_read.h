/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A reader of classic pcap captures (tcpdump -w), for nm-replay. The file
 * is untrusted input: every length is checked against what is left, and a
 * capture that ends inside a record, or holds a record no tool writes, is
 * refused with a message naming the record and its byte offset. No
 * allocation: the caller holds the whole file in memory. pcapng is
 * recognised and refused (tcpdump writes pcap; `editcap -F pcap` converts).
 */
#ifndef NM_PCAP_READ_H
#define NM_PCAP_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NM_PCAP_CAPLEN_MAX 262144 /* tcpdump's largest snapshot length */

/* Link types read (www.tcpdump.org/linktypes.html). */
enum nm_pcap_link {
	NM_PCAP_ETHERNET = 1,
	NM_PCAP_RAW = 101,	  /* an IP packet, no link header */
	NM_PCAP_LINUX_SLL = 113,  /* tcpdump -i any before libpcap 1.10 */
	NM_PCAP_LINUX_SLL2 = 276, /* tcpdump -i any */
};

struct nm_pcap {
	const uint8_t *buf;
	size_t len;
	size_t off;	   /* the next record's header */
	bool swapped;	   /* written on a host of the other byte order */
	bool nanos;	   /* timestamps in ns (magic a1b23c4d), else us */
	uint32_t linktype; /* enum nm_pcap_link */
	uint32_t snaplen;
	uint64_t records; /* records read so far */
};

/* One record: its time, and the bytes captured of the frame. */
struct nm_pcap_pkt {
	uint64_t ts_ns; /* ns since the epoch */
	const uint8_t *data;
	uint32_t caplen;  /* bytes in data */
	uint32_t origlen; /* bytes the frame had on the wire */
};

/* Check the global header of buf (len bytes). 0, or -1 with err naming what is wrong. */
int nm_pcap_open(struct nm_pcap *p, const uint8_t *buf, size_t len, char *err, size_t errlen);

/*
 * The next record: 1 with *pkt filled, 0 at the end of the capture, -1
 * with err naming the record (1-based) and its offset when it is cut short
 * or its header cannot be true.
 */
int nm_pcap_next(struct nm_pcap *p, struct nm_pcap_pkt *pkt, char *err, size_t errlen);

/*
 * The IPv4 packet in a captured frame of link type linktype: 0 with *ip
 * and *len (the captured bytes from the IP header on), -1 if the frame
 * does not carry IPv4 (ARP, IPv6, another link type) or is too short to
 * say.
 */
int nm_pcap_ipv4(uint32_t linktype, const uint8_t *frame, uint32_t caplen, const uint8_t **ip,
		 uint32_t *len);

#endif
