/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A TCP conversation between pod A (client, port unit_cport) and pod B
 * (server, port 80) on the in-memory pipeline of unit_pipeline.h, shared
 * by the tests of what reads TCP streams (test_inspect.c,
 * test_http_authz.c). Each segment is written byte by byte with its
 * checksum and fed to worker 0.
 */
#ifndef NM_UNIT_TCP_H
#define NM_UNIT_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_tcp.h>

#define CPORT 40000
#define SPORT 80
#define C_ISN 1000u
#define S_ISN 5000u

#define F_FIN RTE_TCP_FIN_FLAG
#define F_SYN RTE_TCP_SYN_FLAG
#define F_RST RTE_TCP_RST_FLAG
#define F_PSH RTE_TCP_PSH_FLAG
#define F_ACK RTE_TCP_ACK_FLAG
#define F_URG RTE_TCP_URG_FLAG

/* The client's port: a test may start a second connection. */
extern uint16_t unit_cport;

/* One TCP segment; checksum over the pseudo header. Returns the frame length. */
size_t tcp_frame(uint8_t *f, bool from_a, uint32_t seq, uint32_t ack, uint8_t flags,
		 const char *data, size_t len, uint8_t ttl, uint16_t urp);
/* Pod A (from_a) or B sends one segment; worker 0 runs one turn. */
void send_tcp(bool from_a, uint32_t seq, uint32_t ack, uint8_t flags, const char *data);
/* Client data at seq (relative to the first byte after the SYN). */
void client_data(uint32_t off, const char *data);
/* The server acknowledges the client's bytes up to off. */
void server_ack(uint32_t off);
/* SYN, SYN-ACK, ACK. */
void handshake(void);
/* Payload bytes of the TCP segments pod i received since the last call, concatenated. */
size_t received(unsigned int i, char *buf, size_t cap, unsigned int *n_rst);

#endif
