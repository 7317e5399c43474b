/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One TCP connection written segment by segment through the in-memory
 * pipeline (unit_tcp.h): pod A the client, pod B the server.
 */
#include <stdbool.h>
#include <string.h>

#include "unit_pipeline.h"
#include "unit_tcp.h"

uint16_t unit_cport = CPORT;

/* One TCP segment; checksum over the pseudo header. Returns the frame length. */
size_t
tcp_frame(uint8_t *f, bool from_a, uint32_t seq, uint32_t ack, uint8_t flags, const char *data,
	  size_t len, uint8_t ttl, uint16_t urp)
{
	uint32_t src = from_a ? IP_A : IP_B, dst = from_a ? IP_B : IP_A;
	const struct tcp_spec t = {.sport = from_a ? unit_cport : SPORT,
				   .dport = from_a ? SPORT : unit_cport,
				   .seq = seq,
				   .ack = ack,
				   .flags = flags,
				   .urp = urp,
				   .data = data,
				   .len = len};
	uint8_t *p = put_eth(f, from_a ? PORT_MAC_A : PORT_MAC_B, from_a ? MAC_A : MAC_B, 0x0800);
	uint8_t *tcp = put_ip4(p, src, dst, 6, ttl, 1, IP4_DF, (uint16_t)(20 + 20 + len));

	p = put_tcp(tcp, &t);
	tcp_csum_fill(tcp, src, dst, 20 + len);
	return (size_t)(p - f);
}

void
send_tcp(bool from_a, uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
	uint8_t f[2048];
	size_t len = tcp_frame(f, from_a, seq, ack, flags, data, data ? strlen(data) : 0, 64, 0);

	feed(from_a ? POD_A : POD_B, f, len);
}

/* Client data at seq (relative to the first byte after the SYN). */
void
client_data(uint32_t off, const char *data)
{
	send_tcp(true, C_ISN + 1 + off, S_ISN + 1, F_ACK | F_PSH, data);
}

/* The server acknowledges the client's bytes up to off. */
void
server_ack(uint32_t off)
{
	send_tcp(false, S_ISN + 1, C_ISN + 1 + off, F_ACK, NULL);
}

void
handshake(void)
{
	send_tcp(true, C_ISN, 0, F_SYN, NULL);
	send_tcp(false, S_ISN, C_ISN + 1, F_SYN | F_ACK, NULL);
	send_tcp(true, C_ISN + 1, S_ISN + 1, F_ACK, NULL);
}

/* Payload bytes of the TCP segments pod i received since the last call, concatenated. */
size_t
received(unsigned int i, char *buf, size_t cap, unsigned int *n_rst)
{
	struct rte_mbuf *m[MAX_OUT];
	unsigned int n = sent_to(i, m);
	size_t len = 0;

	*n_rst = 0;
	for (unsigned int k = 0; k < n; k++) {
		const uint8_t *ip = rte_pktmbuf_mtod_offset(m[k], const uint8_t *, ETH_LEN);
		const uint8_t *tcp = ip + 20;
		size_t plen = rd16(ip + 2) - 20 - (size_t)(tcp[12] >> 4) * 4;

		if (ip[9] == 6 && (tcp[13] & F_RST))
			(*n_rst)++;
		if (ip[9] == 6 && len + plen < cap) {
			memcpy(buf + len, tcp + (tcp[12] >> 4) * 4, plen);
			len += plen;
		}
		rte_pktmbuf_free(m[k]);
	}
	buf[len] = '\0';
	return len;
}
