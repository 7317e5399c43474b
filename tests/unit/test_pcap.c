/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of nm-replay's capture reader (ctrl/pcap_read.c): what it
 * refuses, with which message, then both byte orders, both time
 * resolutions and the IPv4 packet of each link type.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "pcap_read.h"

/* A capture built in memory: a global header, then records. */
struct cap {
	uint8_t b[1024];
	size_t len;
	bool be;
};

static void
put32(struct cap *c, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		c->b[c->len++] = (uint8_t)(c->be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void
put16(struct cap *c, uint16_t v)
{
	c->b[c->len++] = (uint8_t)(c->be ? v >> 8 : v);
	c->b[c->len++] = (uint8_t)(c->be ? v : v >> 8);
}

static void
header(struct cap *c, bool be, uint32_t magic, uint16_t major, uint16_t minor, uint32_t link)
{
	memset(c, 0, sizeof(*c));
	c->be = be;
	put32(c, magic);
	put16(c, major);
	put16(c, minor);
	put32(c, 0);	 /* zone */
	put32(c, 0);	 /* sigfigs */
	put32(c, 65535); /* snaplen */
	put32(c, link);
}

static void
record(struct cap *c, uint32_t sec, uint32_t frac, const uint8_t *data, uint32_t caplen,
       uint32_t origlen)
{
	put32(c, sec);
	put32(c, frac);
	put32(c, caplen);
	put32(c, origlen);
	memcpy(c->b + c->len, data, caplen);
	c->len += caplen;
}

/* An IPv4 header (20 bytes) behind a link header of hdr bytes. */
static const uint8_t ip4[20] = {0x45, 0, 0,   20, 0, 0, 0x40, 0,  64, 17,
				0,    0, 198, 18, 0, 1, 198,  18, 0,  2};

static void
expect_refused(const struct cap *c, bool at_open, const char *says)
{
	struct nm_pcap p;
	struct nm_pcap_pkt pkt;
	char err[256] = "";
	int rc = nm_pcap_open(&p, c->b, c->len, err, sizeof(err));

	if (!at_open) {
		cr_assert_eq(rc, 0, "%s", err);
		while ((rc = nm_pcap_next(&p, &pkt, err, sizeof(err))) == 1)
			;
	}
	cr_assert_eq(rc, -1);
	cr_assert(strstr(err, says) != NULL, "'%s' does not say '%s'", err, says);
}

Test(pcap, refuses_what_is_not_a_capture_it_reads)
{
	struct cap c;

	memset(&c, 0, sizeof(c));
	c.len = 10;
	expect_refused(&c, true, "shorter than a pcap header");
	header(&c, false, 0x0a0d0d0a, 2, 4, 1);
	expect_refused(&c, true, "pcapng");
	header(&c, false, 0x12345678, 2, 4, 1);
	expect_refused(&c, true, "not a pcap file");
	header(&c, false, 0xa1b2c3d4, 2, 3, 1);
	expect_refused(&c, true, "version 2.3");
	header(&c, false, 0xa1b2c3d4, 2, 4, 105);
	expect_refused(&c, true, "link type 105");
}

Test(pcap, refuses_records_cut_short_or_impossible_naming_them)
{
	static const struct {
		uint32_t frac, caplen, origlen;
		size_t cut; /* bytes removed from the end */
		const char *says;
	} cases[] = {
	    {0, 20, 20, 5, "record 2 at byte 60 says 20 bytes, the file has 15 left"},
	    {0, 20, 20, 30, "record 2 at byte 60 has 6 of its 16 header bytes"},
	    {0, 20, 19, 0, "record 2 at byte 60: captured length 20 (original 19)"},
	    {1000000, 20, 20, 0, "record 2 at byte 60: microsecond field 1000000"},
	    {0, NM_PCAP_CAPLEN_MAX + 1, NM_PCAP_CAPLEN_MAX + 1, 0, "cannot be true"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cap c;

		header(&c, false, 0xa1b2c3d4, 2, 4, NM_PCAP_RAW);
		record(&c, 1, 0, ip4, 20, 20);
		put32(&c, 2);
		put32(&c, cases[i].frac);
		put32(&c, cases[i].caplen);
		put32(&c, cases[i].origlen);
		if (cases[i].caplen <= 20) {
			memcpy(c.b + c.len, ip4, cases[i].caplen);
			c.len += cases[i].caplen;
		}
		c.len -= cases[i].cut;
		expect_refused(&c, false, cases[i].says);
	}
}

Test(pcap, reads_both_byte_orders_and_nanoseconds)
{
	for (int be = 0; be < 2; be++) {
		for (int ns = 0; ns < 2; ns++) {
			struct cap c;
			struct nm_pcap p;
			struct nm_pcap_pkt pkt;
			char err[256];

			header(&c, be, ns ? 0xa1b23c4d : 0xa1b2c3d4, 2, 4, NM_PCAP_RAW);
			record(&c, 1700000000, ns ? 123456789 : 123456, ip4, 20, 60);
			cr_assert_eq(nm_pcap_open(&p, c.b, c.len, err, sizeof(err)), 0, "%s", err);
			cr_assert_eq(p.swapped, be != 0);
			cr_assert_eq(nm_pcap_next(&p, &pkt, err, sizeof(err)), 1, "%s", err);
			cr_assert_eq(pkt.ts_ns,
				     1700000000ull * 1000000000u + (ns ? 123456789u : 123456000u));
			cr_assert_eq(pkt.caplen, 20);
			cr_assert_eq(pkt.origlen, 60);
			cr_assert_eq(memcmp(pkt.data, ip4, 20), 0);
			cr_assert_eq(nm_pcap_next(&p, &pkt, err, sizeof(err)), 0, "the end");
			cr_assert_eq(p.records, 1);
		}
	}
}

Test(pcap, finds_the_ipv4_packet_of_each_link_type)
{
	static const struct {
		uint32_t link;
		uint8_t head[20];
		uint32_t head_len;
		int rc;
	} cases[] = {
	    {NM_PCAP_ETHERNET, {[12] = 0x08, [13] = 0x00}, 14, 0},
	    {NM_PCAP_ETHERNET, {[12] = 0x81, [13] = 0x00, [16] = 0x08, [17] = 0x00}, 18, 0},
	    {NM_PCAP_ETHERNET, {[12] = 0x08, [13] = 0x06}, 14, -1}, /* ARP */
	    {NM_PCAP_ETHERNET, {[12] = 0x86, [13] = 0xdd}, 14, -1}, /* IPv6 */
	    {NM_PCAP_LINUX_SLL, {[14] = 0x08, [15] = 0x00}, 16, 0},
	    {NM_PCAP_LINUX_SLL2, {[0] = 0x08, [1] = 0x00}, 20, 0},
	    {NM_PCAP_RAW, {0}, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t frame[64];
		const uint8_t *ip;
		uint32_t len;

		memcpy(frame, cases[i].head, cases[i].head_len);
		memcpy(frame + cases[i].head_len, ip4, 20);
		cr_assert_eq(nm_pcap_ipv4(cases[i].link, frame, cases[i].head_len + 20, &ip, &len),
			     cases[i].rc, "case %zu", i);
		if (cases[i].rc == 0) {
			cr_assert_eq(ip, frame + cases[i].head_len, "case %zu", i);
			cr_assert_eq(len, 20);
		}
		/* One byte short of an IP header: not IPv4. */
		cr_assert_eq(nm_pcap_ipv4(cases[i].link, frame, cases[i].head_len + 19, &ip, &len),
			     -1, "case %zu", i);
	}
}
