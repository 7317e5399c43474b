/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for nm-replay's capture reader (ctrl/pcap_read.c): a
 * capture is untrusted input. The reader must end with success or an
 * error message, never read outside the file: every record it returns
 * lies inside the input and in order, records never overlap, the count
 * matches, and a frame's IPv4 packet lies inside the record.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "pcap_read.h"

#define CHECK(cond) NM_FUZZ_CHECK("fuzz_pcap", cond)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_pcap p;
	struct nm_pcap_pkt pkt;
	char err[256];
	const uint8_t *prev_end = data + 24;
	uint64_t n = 0;
	int rc;

	err[0] = '\0';
	if (nm_pcap_open(&p, data, size, err, sizeof(err)) < 0) {
		CHECK(err[0] != '\0');
		return 0;
	}
	while ((rc = nm_pcap_next(&p, &pkt, err, sizeof(err))) == 1) {
		const uint8_t *ip;
		uint32_t len;

		n++;
		CHECK(pkt.data >= prev_end + 16);
		CHECK(pkt.data + pkt.caplen <= data + size);
		CHECK(pkt.caplen <= pkt.origlen && pkt.caplen <= NM_PCAP_CAPLEN_MAX);
		prev_end = pkt.data + pkt.caplen;
		if (nm_pcap_ipv4(p.linktype, pkt.data, pkt.caplen, &ip, &len) == 0) {
			CHECK(ip >= pkt.data && ip + len == pkt.data + pkt.caplen);
			CHECK(len >= 20 && ip[0] >> 4 == 4);
		}
	}
	CHECK(rc == 0 || (rc == -1 && err[0] != '\0'));
	CHECK(p.records == n);
	CHECK(rc != 0 || p.off == size);
	return 0;
}
