/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classic pcap (see pcap_read.h), after the format libpcap writes:
 * a 24-byte global header (magic, version 2.4, zone, sigfigs, snaplen,
 * link type) and per packet a 16-byte header (seconds, micro- or
 * nanoseconds, captured length, original length) before the bytes.
 */
#include <stdio.h>
#include <string.h>

#include "pcap_read.h"

#define GLOBAL_HDR 24
#define RECORD_HDR 16

#define MAGIC_US     0xa1b2c3d4u
#define MAGIC_NS     0xa1b23c4du
#define MAGIC_PCAPNG 0x0a0d0d0au

static uint32_t
rd32(const struct nm_pcap *p, const uint8_t *b)
{
	uint32_t v =
	    (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;

	return p->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t
rd16(const struct nm_pcap *p, const uint8_t *b)
{
	uint16_t v = (uint16_t)(b[0] | b[1] << 8);

	return p->swapped ? __builtin_bswap16(v) : v;
}

static uint16_t
rd16be(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

int
nm_pcap_open(struct nm_pcap *p, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->len = len;
	if (len < GLOBAL_HDR) {
		snprintf(err, errlen, "%zu bytes: shorter than a pcap header (24 bytes)", len);
		return -1;
	}
	uint32_t magic = rd32(p, buf);
	if (magic == MAGIC_PCAPNG) {
		snprintf(err, errlen,
			 "a pcapng file: not read (tcpdump -w writes pcap; editcap -F pcap "
			 "converts)");
		return -1;
	}
	if (magic == __builtin_bswap32(MAGIC_US) || magic == __builtin_bswap32(MAGIC_NS)) {
		p->swapped = true;
		magic = __builtin_bswap32(magic);
	}
	if (magic != MAGIC_US && magic != MAGIC_NS) {
		snprintf(err, errlen, "magic %08x: not a pcap file", magic);
		return -1;
	}
	p->nanos = magic == MAGIC_NS;
	uint16_t major = rd16(p, buf + 4), minor = rd16(p, buf + 6);
	if (major != 2 || minor != 4) {
		snprintf(err, errlen, "pcap version %u.%u: only 2.4 is read", major, minor);
		return -1;
	}
	p->snaplen = rd32(p, buf + 16);
	p->linktype = rd32(p, buf + 20) & 0x0fffffff; /* the top bits are FCS flags */
	if (p->linktype != NM_PCAP_ETHERNET && p->linktype != NM_PCAP_RAW &&
	    p->linktype != NM_PCAP_LINUX_SLL && p->linktype != NM_PCAP_LINUX_SLL2) {
		snprintf(err, errlen,
			 "link type %u: not read (Ethernet 1, raw IP 101, Linux cooked 113 and "
			 "276 are)",
			 p->linktype);
		return -1;
	}
	p->off = GLOBAL_HDR;
	return 0;
}

int
nm_pcap_next(struct nm_pcap *p, struct nm_pcap_pkt *pkt, char *err, size_t errlen)
{
	size_t left = p->len - p->off;
	uint64_t rec = p->records + 1;

	if (left == 0)
		return 0;
	if (left < RECORD_HDR) {
		snprintf(err, errlen,
			 "truncated: record %llu at byte %zu has %zu of its 16 header bytes",
			 (unsigned long long)rec, p->off, left);
		return -1;
	}
	const uint8_t *h = p->buf + p->off;
	uint32_t sec = rd32(p, h), frac = rd32(p, h + 4);
	uint32_t caplen = rd32(p, h + 8), origlen = rd32(p, h + 12);
	if (frac >= (p->nanos ? 1000000000u : 1000000u)) {
		snprintf(err, errlen, "record %llu at byte %zu: %s field %u out of range",
			 (unsigned long long)rec, p->off, p->nanos ? "nanosecond" : "microsecond",
			 frac);
		return -1;
	}
	if (caplen > NM_PCAP_CAPLEN_MAX || caplen > origlen) {
		snprintf(err, errlen,
			 "record %llu at byte %zu: captured length %u (original %u) cannot be "
			 "true",
			 (unsigned long long)rec, p->off, caplen, origlen);
		return -1;
	}
	if (left - RECORD_HDR < caplen) {
		snprintf(err, errlen,
			 "truncated: record %llu at byte %zu says %u bytes, the file has %zu left",
			 (unsigned long long)rec, p->off, caplen, left - RECORD_HDR);
		return -1;
	}
	pkt->ts_ns = (uint64_t)sec * 1000000000u + (p->nanos ? frac : (uint64_t)frac * 1000u);
	pkt->data = h + RECORD_HDR;
	pkt->caplen = caplen;
	pkt->origlen = origlen;
	p->off += RECORD_HDR + caplen;
	p->records = rec;
	return 1;
}

int
nm_pcap_ipv4(uint32_t linktype, const uint8_t *frame, uint32_t caplen, const uint8_t **ip,
	     uint32_t *len)
{
	uint32_t off;

	switch (linktype) {
	case NM_PCAP_ETHERNET:
		off = 14;
		if (caplen >= 18 && rd16be(frame + 12) == 0x8100)
			off = 18; /* one 802.1Q tag */
		if (caplen < off || rd16be(frame + off - 2) != 0x0800)
			return -1;
		break;
	case NM_PCAP_LINUX_SLL:
		off = 16;
		if (caplen < off || rd16be(frame + 14) != 0x0800)
			return -1;
		break;
	case NM_PCAP_LINUX_SLL2:
		off = 20;
		if (caplen < off || rd16be(frame) != 0x0800)
			return -1;
		break;
	case NM_PCAP_RAW:
		off = 0;
		break;
	default:
		return -1;
	}
	if (caplen - off < 20 || frame[off] >> 4 != 4)
		return -1;
	*ip = frame + off;
	*len = caplen - off;
	return 0;
}
