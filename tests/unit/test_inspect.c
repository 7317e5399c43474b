/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of signature matching in the pipeline (dataplane/inspect.c)
 * on the in-memory ports of unit_pipeline.h. Pod A (client, port 40000)
 * talks to pod B (server, port 80) through one worker; every packet is
 * written byte by byte, so each evasion class of issue 5 is a crafted
 * sequence of segments: split signatures, out of order, overlapping with
 * other bytes, retransmissions, data before the handshake, RST with data,
 * urgent data, mid-stream pickup. Each case asserts what reached pod B,
 * the drop counters and what the alert ring got.
 */
#include <unistd.h>

#include <rte_tcp.h>

#include "unit_pipeline.h"
#include "unit_tcp.h"
#include "unit_tmp.h"

static const char rules_text[] =
    "reject tcp any any -> any 80 (msg:\"union select\"; flow:to_server,established; "
    "content:\"UNION SELECT\"; nocase; classtype:web-application-attack; sid:1001; rev:3; "
    "priority:1;)\n"
    "drop tcp any 80 -> any any (msg:\"secret leaves\"; flow:to_client; content:\"TOPSECRET\"; "
    "sid:1002;)\n"
    "pass tcp any any -> any 80 (msg:\"trusted client\"; content:\"X-Trusted: yes\"; "
    "sid:1003;)\n"
    "alert tcp any any -> any 80 (msg:\"two parts\"; content:\"alpha\"; content:\"omega\"; "
    "sid:1004;)\n"
    "drop udp any any -> any 53 (msg:\"evil datagram\"; content:\"EVIL\"; sid:2001;)\n"
    "reject udp any any -> any 54 (msg:\"rejected datagram\"; content:\"EVIL\"; sid:2002;)\n";

static struct nm_worker *w0;

static bool http_all; /* signatures.http_events "all" for the next worker_with_rules() */

/* One worker, both pods' MACs known, the n rules of text loaded. */
static void
worker_with_rules(const char *text, int n)
{
	char path[] = "/tmp/nm-test-sigs-XXXXXX";
	char err[512] = "";

	one_worker_up();
	node->cfg.sig_http_events = http_all; /* what the config's setting sets before a load */
	learn_mac(POD_A, MAC_A);
	learn_mac(POD_B, MAC_B);
	nm_test_write_tmp(path, text);
	cr_assert_eq(nm_node_sig_load(node, path, err, sizeof(err)), n, "%s", err);
	unlink(path);
	w0 = node->dp.workers[0];
	w0->sigs = node->dp.sigs; /* what the top of a worker turn does */
}

static void
inspect_up(void)
{
	worker_with_rules(rules_text, 6);
}

TestSuite(inspect, .init = inspect_up, .fini = node_down);

/* Count the alert records waiting in worker 0's ring with this sid; free them all. */
static unsigned int
alerts_for(uint32_t sid, struct nm_alert_record *copy)
{
	struct nm_alert_record *a;
	unsigned int n = 0;

	while (rte_ring_dequeue(w0->alert_ring, (void **)&a) == 0) {
		if (a->sid == sid) {
			n++;
			if (copy != NULL)
				*copy = *a;
		}
		rte_mempool_put(node->dp.alert_pool, a);
	}
	return n;
}

static void
assert_no_drops(void)
{
	for (unsigned int r = 1; r < NM_DROP_MAX; r++)
		cr_assert_eq(w0->c.drops[r], 0, "drops[%s] = %lu", nm_drop_name(r),
			     (unsigned long)w0->c.drops[r]);
}

Test(inspect, clean_request_passes_and_is_scanned)
{
	char got[256];
	unsigned int rst;

	handshake();
	client_data(0, "GET /index.html HTTP/1.1\r\n\r\n");
	cr_assert_str_eq(received(POD_B, got, sizeof(got), &rst) > 0 ? got + 0 : "",
			 "GET /index.html HTTP/1.1\r\n\r\n");
	assert_no_drops();
	cr_assert_eq(w0->sc.packets, 1);
	cr_assert_eq(w0->sc.bytes, 28);
	/* One stream per side: the server's (to_server) and the client's (to_client). */
	cr_assert_eq(w0->sc.streams_open, 2);
	cr_assert_eq(alerts_for(1001, NULL), 0);
}

Test(inspect, signature_in_one_segment_is_rejected_with_resets_both_ways)
{
	struct nm_alert_record a;
	char got[256];
	unsigned int rst_b, rst_a;

	handshake();
	received(POD_B, got, sizeof(got), &rst_b);
	received(POD_A, got, sizeof(got), &rst_a);
	client_data(0, "GET /?id=1 union select pw HTTP/1.1\r\n\r\n");
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst_b), 0, "the server got: %s", got);
	cr_assert_eq(rst_b, 1, "the server gets a RST in place of the segment");
	received(POD_A, got, sizeof(got), &rst_a);
	cr_assert_eq(rst_a, 1, "the client gets a RST");
	assert_drops(0, NM_DROP_SIG_DROP, 1);
	cr_assert_eq(w0->sc.resets_sent, 2);
	cr_assert_eq(w0->sc.flows_blocked, 1);
	cr_assert_eq(alerts_for(1001, &a), 1);
	cr_assert_eq(a.rev, 3);
	cr_assert_eq(a.priority, 1);
	cr_assert_eq(a.action, NM_SIG_REJECT);
	cr_assert(a.blocked);
	cr_assert(a.to_server);
	cr_assert_eq(a.sport, CPORT);
	cr_assert_eq(a.dport, SPORT);
	cr_assert_eq(rte_be_to_cpu_32(a.src_ip), IP_A);
	cr_assert_str_eq(a.msg, "union select");
	cr_assert_str_eq(a.classtype, "web-application-attack");

	/* Both sides' entries closed: the server's at once, the client's by the RST it got. */
	unsigned int closed = 0;
	for (uint32_t i = 0; i < w0->flows.cap; i++)
		if (w0->flows.e[i].in_use && w0->flows.e[i].state == NM_FLOW_TCP_CLOSED)
			closed++;
	cr_assert_eq(closed, 2, "both entries closed, so they expire after tcp_closed");
	cr_assert_eq(w0->sc.streams_open, 1, "the client side's stream closes when it expires");

	/* Every later packet of the flow, either way, is dropped. */
	client_data(39, "more");
	server_ack(39);
	assert_drops(0, NM_DROP_SIG_DROP, 3);
	received(POD_B, got, sizeof(got), &rst_b);
	received(POD_A, got, sizeof(got), &rst_a);
	cr_assert_eq(rst_a + rst_b, 0);
}

/* The reset the server got: from the client's address, at the dropped segment's first byte. */
Test(inspect, reset_to_server_sits_at_the_dropped_segment)
{
	struct rte_mbuf *m[MAX_OUT];

	handshake();
	drain_all();
	client_data(5, "UNION SELECT"); /* out of order: held, not scanned yet */
	drain_all();
	client_data(0, "abcdeUNION SELECT");
	cr_assert_eq(sent_to(POD_B, m), 1);
	const uint8_t *e = rte_pktmbuf_mtod(m[0], const uint8_t *);
	const uint8_t *ip = e + ETH_LEN, *tcp = ip + 20;
	cr_assert_arr_eq(e, MAC_B, 6);
	cr_assert_arr_eq(e + 6, PORT_MAC_B, 6);
	cr_assert_eq(rd32(ip + 12), IP_A);
	cr_assert_eq(rd32(ip + 16), IP_B);
	cr_assert_eq(ones_sum(ip, 20), 0xffff);
	cr_assert_eq(rd16(tcp), CPORT);
	cr_assert_eq(rd16(tcp + 2), SPORT);
	cr_assert_eq(rd32(tcp + 4), C_ISN + 1);
	cr_assert_eq(tcp[13], F_RST | F_ACK);
	rte_pktmbuf_free(m[0]);
	cr_assert_eq(sent_to(POD_A, m), 1);
	tcp = rte_pktmbuf_mtod_offset(m[0], const uint8_t *, ETH_LEN + 20);
	cr_assert_eq(rd32(tcp + 4), S_ISN + 1, "the client's RST sits at the byte it expects");
	rte_pktmbuf_free(m[0]);
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1);
}

Test(inspect, signature_one_byte_per_segment_is_caught_at_its_last_byte)
{
	static const char req[] = "GET /?q=UNION SELECT";
	char got[256], one[2] = {0};
	unsigned int rst;

	handshake();
	drain_all();
	for (size_t i = 0; i < strlen(req); i++) {
		one[0] = req[i];
		client_data((uint32_t)i, one);
	}
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "GET /?q=UNION SELEC", "every byte but the last reached the server");
	cr_assert_eq(rst, 1);
	assert_drops(0, NM_DROP_SIG_DROP, 1);
	cr_assert_eq(w0->sc.packets, strlen(req));
	cr_assert_eq(alerts_for(1001, NULL), 1);
}

Test(inspect, multi_pattern_rule_across_segments_alerts_once)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "xx alp");
	client_data(6, "ha yy ome");
	client_data(15, "ga zz");
	client_data(20, "alpha omega again");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "xx alpha yy omega zzalpha omega again", "alert passes everything");
	assert_no_drops();
	cr_assert_eq(alerts_for(1004, NULL), 1, "reported once per stream");
}

Test(inspect, segment_after_a_gap_is_held_and_scanned_when_the_gap_fills)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	/* Forwarded (the server queues it and asks for the gap) and held. */
	client_data(6, "SELECT");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "SELECT");
	assert_no_drops();
	cr_assert_eq(w0->sc.held_now, 1);
	cr_assert_eq(w0->sc.bytes, 0, "nothing scanned out of order");
	/* The gap: scanned with what is held after it; the server never gets it. */
	client_data(0, "UNION ");
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0);
	cr_assert_eq(rst, 1);
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1);
	cr_assert_eq(alerts_for(1001, NULL), 1);
	cr_assert_eq(w0->sc.held_now, 0);
}

Test(inspect, held_segments_pass_in_order_once_the_gap_fills)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(12, "again ");
	client_data(6, "world ");
	client_data(0, "hello ");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "again world hello ", "forwarded as they came");
	cr_assert_eq(w0->sc.held, 2);
	cr_assert_eq(w0->sc.held_now, 0);
	cr_assert_eq(w0->sc.bytes, 18, "every byte scanned once");
	client_data(18, "more");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "more", "the stream continues after the held bytes");
	assert_no_drops();
}

Test(inspect, held_segments_follow_linux_overlap_rules)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	/* Held: bytes 10..16. The gap's segment brings 0..13 itself: Linux keeps its
	 * bytes and takes only 14..16 from the held one: "id=1 UNION SEL" + "ECT". */
	client_data(10, "XXXXECT");
	client_data(16, "ZZ"); /* overlaps the held one: dropped, not held */
	cr_assert_eq(w0->c.drops[NM_DROP_TCP_OUT_OF_ORDER], 1);
	drain_all();
	client_data(0, "id=1 UNION SEL");
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0);
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1, "the stream as the server reads it matched");
}

Test(inspect, overlap_with_different_bytes_is_dropped)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "q=UNION XELECT"); /* scanned, harmless */
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "q=UNION XELECT");
	/* Same bytes of the stream, other contents, not yet acknowledged by the server. */
	client_data(0, "q=UNION SELECT");
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0);
	assert_drops(0, NM_DROP_TCP_OVERLAP_DIFFERENT, 1);
	/* A partial overlap in another shape cannot be checked: dropped too. */
	client_data(8, "SELECT");
	cr_assert_eq(w0->c.drops[NM_DROP_TCP_OVERLAP_DIFFERENT], 1);
	cr_assert_eq(w0->c.drops[NM_DROP_TCP_RETRANS_UNVERIFIED], 1);
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0);
	cr_assert_eq(alerts_for(1001, NULL), 0);
}

Test(inspect, exact_retransmission_and_acknowledged_bytes_pass)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "hello ");
	client_data(0, "hello "); /* lost after us? the same bytes again */
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "hello hello ");
	cr_assert_eq(w0->sc.retransmits, 1);
	server_ack(6);
	client_data(0, "HELLO "); /* acknowledged bytes: the server discards whatever they say */
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "HELLO ");
	cr_assert_eq(w0->sc.retransmits, 2);
	assert_no_drops();
	cr_assert_eq(w0->sc.packets, 1, "retransmissions are not scanned again");
}

Test(inspect, new_bytes_after_acknowledged_ones_are_scanned)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "a UNION ");
	server_ack(8);
	/* Repeats the acknowledged "a UNION " and adds "SELECT": only the new part is scanned. */
	client_data(0, "a UNION SELECT");
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 8);
	cr_assert_eq(rst, 1);
	assert_drops(0, NM_DROP_SIG_DROP, 1);
	cr_assert_eq(w0->sc.bytes, 8 + 6);
}

Test(inspect, data_before_the_handshake_is_dropped)
{
	uint8_t f[256];
	char got[256];
	unsigned int rst;

	/* Data on the SYN. */
	size_t len = tcp_frame(f, true, C_ISN, 0, F_SYN, "UNION SELECT", 12, 64, 0);
	feed(POD_A, f, len);
	assert_drops(0, NM_DROP_TCP_DATA_BEFORE_HANDSHAKE, 1);
	/* A plain SYN, then data before the server answered. */
	send_tcp(true, C_ISN, 0, F_SYN, NULL);
	client_data(0, "UNION SELECT");
	assert_drops(0, NM_DROP_TCP_DATA_BEFORE_HANDSHAKE, 2);
	/* Data on the SYN-ACK. */
	len = tcp_frame(f, false, S_ISN, C_ISN + 1, F_SYN | F_ACK, "hi", 2, 64, 0);
	feed(POD_B, f, len);
	assert_drops(0, NM_DROP_TCP_DATA_BEFORE_HANDSHAKE, 3);
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0);
}

Test(inspect, rst_with_data_is_dropped_and_midstream_data_too)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	send_tcp(true, C_ISN + 1, S_ISN + 1, F_RST | F_ACK, "UNION SELECT");
	assert_drops(0, NM_DROP_TCP_RST_WITH_DATA, 1);
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0);
	cr_assert_eq(rst, 0);

	/* A flow whose handshake nodemesh never saw (other ports): its payload is refused. */
	uint8_t f[256];
	size_t len = tcp_frame(f, true, 7, 9, F_ACK | F_PSH, "UNION SELECT", 12, 64, 0);
	f[ETH_LEN + 20 + 1] = 0x41; /* source port 40001 (checksum unchecked by nodemesh) */
	feed(POD_A, f, len);
	cr_assert_eq(w0->c.drops[NM_DROP_TCP_MIDSTREAM], 1);
}

/*
 * signatures.midstream pickup (Suricata's stream.midstream): a flow whose
 * handshake this node never saw (as after a restart) is inspected from the
 * first segment it sees, so an attack after that point is caught.
 */
Test(inspect, midstream_pickup_inspects_from_the_next_byte)
{
	char got[256];
	unsigned int rst;
	uint8_t f[256];

	node->dp.params.sig_midstream = NM_MIDSTREAM_PICKUP;
	/* Other ports: no handshake of this flow went through nodemesh. */
	size_t len = tcp_frame(f, true, 7, 9, F_ACK | F_PSH, "hello ", 6, 64, 0);
	f[ETH_LEN + 20 + 1] = 0x41; /* source port 40001 */
	feed(POD_A, f, len);
	cr_assert_eq(w0->c.drops[NM_DROP_TCP_MIDSTREAM], 0);
	cr_assert_eq(w0->sc.midstream, 1);
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 6);
	cr_expect_str_eq(got, "hello ");

	/* The next segment, in order, carries the attack: caught and reset. */
	len = tcp_frame(f, true, 13, 9, F_ACK | F_PSH, "UNION SELECT", 12, 64, 0);
	f[ETH_LEN + 20 + 1] = 0x41;
	feed(POD_A, f, len);
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0, "the attack reached the server");
	cr_assert_eq(alerts_for(1001, NULL), 1);
	cr_expect_eq(w0->sc.midstream, 1); /* one stream for the flow, not one per segment */
}

Test(inspect, urgent_pointer_is_cleared_so_the_server_reads_what_was_scanned)
{
	struct rte_mbuf *m[MAX_OUT];
	uint8_t f[256];

	handshake();
	drain_all();
	/* With URG the server would take 'X' out of band and read "UNION SELECT". */
	size_t len =
	    tcp_frame(f, true, C_ISN + 1, S_ISN + 1, F_ACK | F_PSH | F_URG, "UNIONX", 6, 64, 6);
	feed(POD_A, f, len);
	cr_assert_eq(sent_to(POD_B, m), 1);
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m[0], const uint8_t *, ETH_LEN);
	const uint8_t *tcp = ip + 20;
	cr_assert_eq(tcp[13], F_ACK | F_PSH, "URG cleared");
	cr_assert_eq(rd16(tcp + 18), 0, "urgent pointer cleared");
	uint8_t pseudo[12];
	put32(pseudo, IP_A);
	put32(pseudo + 4, IP_B);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 26);
	uint32_t sum = (uint32_t)ones_sum(pseudo, 12) + ones_sum(tcp, 26);
	sum = (sum & 0xffff) + (sum >> 16);
	cr_assert_eq(sum, 0xffff, "TCP checksum still right");
	rte_pktmbuf_free(m[0]);
	cr_assert_eq(w0->sc.urgent_cleared, 1);
	assert_no_drops();
}

Test(inspect, low_ttl_segment_never_reaches_the_stream)
{
	uint8_t f[256];
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	/* TTL 1 dies here; the decoy must not advance the scanned stream. */
	size_t len = tcp_frame(f, true, C_ISN + 1, S_ISN + 1, F_ACK, "xxxxxxxxxxxx", 12, 1, 0);
	feed(POD_A, f, len);
	cr_assert_eq(w0->c.drops[NM_DROP_TTL_EXCEEDED], 1);
	client_data(0, "UNION SELECT");
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst), 0);
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1);
}

Test(inspect, reply_direction_is_scanned_at_the_client_side)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "GET /secret\r\n");
	send_tcp(false, S_ISN + 1, C_ISN + 1 + 13, F_ACK | F_PSH, "200 OK TOPSECRET");
	cr_assert_eq(received(POD_A, got, sizeof(got), &rst), 0, "the client got: %s", got);
	cr_assert_eq(rst, 0, "drop sends no reset");
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1);
	cr_assert_eq(alerts_for(1002, NULL), 1);
}

Test(inspect, pass_rule_ends_inspection_of_the_flow)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "X-Trusted: yes\r\n");
	client_data(16, "UNION SELECT");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "X-Trusted: yes\r\nUNION SELECT");
	assert_no_drops();
	cr_assert_eq(w0->sc.flows_passed, 1);
	cr_assert_eq(w0->sc.streams_open, 1, "the server side's stream closed");
	cr_assert_eq(alerts_for(1001, NULL), 0);
	cr_assert_eq(alerts_for(1003, NULL), 0, "pass rules log nothing");
}

static size_t
udp_payload_frame(uint8_t *f, uint16_t sport, uint16_t dport, const char *data)
{
	size_t n = strlen(data);
	uint8_t *p = put_eth(f, PORT_MAC_A, MAC_A, 0x0800);

	p = put_ip4(p, IP_A, IP_B, 17, 64, 1, 0, (uint16_t)(20 + 8 + n));
	p = put16(p, sport);
	p = put16(p, dport);
	p = put16(p, (uint16_t)(8 + n));
	p = put16(p, 0);
	p = put(p, data, n);
	return (size_t)(p - f);
}

Test(inspect, udp_drop_blocks_only_the_matching_flow)
{
	struct rte_mbuf *m[MAX_OUT];
	uint8_t f[256];

	size_t len = udp_payload_frame(f, 1111, 53, "clean");
	feed(POD_A, f, len);
	len = udp_payload_frame(f, 2222, 53, "an EVIL one");
	feed(POD_A, f, len);
	len = udp_payload_frame(f, 2222, 53, "clean again, same flow");
	feed(POD_A, f, len);
	len = udp_payload_frame(f, 1111, 53, "clean, first flow");
	feed(POD_A, f, len);
	unsigned int n = sent_to(POD_B, m);
	cr_assert_eq(n, 2);
	rte_pktmbuf_free_bulk(m, n);
	assert_drops(0, NM_DROP_SIG_DROP, 2);
	cr_assert_eq(alerts_for(2001, NULL), 1);
}

Test(inspect, udp_reject_answers_administratively_prohibited)
{
	struct rte_mbuf *m[MAX_OUT];
	uint8_t f[256];

	size_t len = udp_payload_frame(f, 3333, 54, "EVIL");
	feed(POD_A, f, len);
	cr_assert_eq(sent_to(POD_B, m), 0);
	cr_assert_eq(sent_to(POD_A, m), 1);
	const uint8_t *e = rte_pktmbuf_mtod(m[0], const uint8_t *);
	const uint8_t *ip = e + ETH_LEN, *icmp = ip + 20;
	cr_assert_arr_eq(e, MAC_A, 6);
	cr_assert_eq(rd32(ip + 12), IP_GW);
	cr_assert_eq(rd32(ip + 16), IP_A);
	cr_assert_eq(icmp[0], 3);
	cr_assert_eq(icmp[1], 13, "code 13: communication administratively prohibited");
	cr_assert_arr_eq(icmp + 8 + 20, f + ETH_LEN + 20, 8, "quotes the datagram's UDP header");
	rte_pktmbuf_free(m[0]);
	cr_assert_eq(w0->sc.unreach_sent, 1);
}

Test(inspect, reload_keeps_open_streams_on_their_rules)
{
	char path[] = "/tmp/nm-test-sigs2-XXXXXX";
	char err[512] = "", got[256];
	unsigned int rst;

	handshake(); /* this flow's streams use set 1 */
	drain_all();
	nm_test_write_tmp(path, "reject tcp any any -> any 80 (msg:\"b\"; content:\"BBBB\"; "
				"sid:9;)\n");
	cr_assert_eq(nm_node_sig_load(node, path, err, sizeof(err)), 1, "%s", err);
	unlink(path);
	w0->sigs = node->dp.sigs;
	cr_assert_eq(node->dp.sigs->generation, 2);
	cr_assert_not_null(node->sigs_retired, "set 1 is held by the open streams");

	client_data(0, "BBBB "); /* not a set-1 signature */
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "BBBB ");
	client_data(5, "UNION SELECT"); /* set 1 still applies to this flow */
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1);
	cr_assert_eq(alerts_for(1001, NULL), 1);

	/* Once the last stream on set 1 closed, it is freed. */
	struct nm_flow_table *t = &w0->flows;
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->e[i].in_use)
			nm_inspect_release(w0, &t->e[i], true);
	nm_node_drain_alerts(node);
	cr_assert_null(node->sigs_retired);
	cr_assert_eq(w0->sc.streams_open, 0);

	/* A new connection gets set 2. */
	unit_cport = CPORT + 1;
	handshake();
	drain_all();
	client_data(0, "UNION SELECT");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "UNION SELECT");
	client_data(12, "BBBB");
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 2);
	cr_assert_eq(alerts_for(9, NULL), 1);
}

Test(inspect, bad_rules_file_leaves_the_set_in_force)
{
	char path[] = "/tmp/nm-test-sigs3-XXXXXX";
	char err[512] = "";

	nm_test_write_tmp(path, "alert tcp any any -> any any (msg:\"ok\"; content:\"a\"; sid:1;)\n"
				"alert tcp any any -> any any (msg:\"bad\"; content:\"b\"; "
				"distance:-3; sid:2;)\n");
	cr_assert_lt(nm_node_sig_load(node, path, err, sizeof(err)), 0);
	unlink(path);
	cr_assert(strstr(err, ":2:") != NULL && strstr(err, "sid 2") != NULL, "%s", err);
	cr_assert_eq(node->dp.sigs->generation, 1);
	cr_assert_eq(node->dp.sigs->db->n_rules, 6);
}

Test(inspect, stream_limit_fails_closed)
{
	node->cfg.sig_max_streams = 1;
	node->dp.params.sig_max_streams = 1;
	send_tcp(true, C_ISN, 0, F_SYN, NULL); /* opens the server side's stream */
	send_tcp(false, S_ISN, C_ISN + 1, F_SYN | F_ACK, NULL);
	assert_drops(0, NM_DROP_SIG_NO_STREAM, 1);
	cr_assert_eq(w0->sc.streams_open, 1);
}

Test(inspect, a_forged_rst_does_not_switch_established_rules_off)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "id=11 ");
	/* A RST far outside the window: the server ignores it, conntrack closes the flow. */
	send_tcp(true, C_ISN + 3000000, S_ISN + 1, F_RST | F_ACK, NULL);
	client_data(6, "UNION SEL");
	client_data(15, "ECT pw");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "id=11 UNION SEL", "the server never gets the whole signature");
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1);
	cr_assert_eq(alerts_for(1001, NULL), 1, "flow:established still holds");
}

Test(inspect, ports_reused_after_close_get_a_new_stream)
{
	char got[256];
	unsigned int rst;

	handshake();
	drain_all();
	client_data(0, "first connection ");
	send_tcp(true, C_ISN + 1 + 17, S_ISN + 1, F_FIN | F_ACK, NULL);
	send_tcp(false, S_ISN + 1, C_ISN + 1 + 18, F_FIN | F_ACK, NULL);
	drain_all();
	/* Same ports, new initial sequence numbers, before the closed entries expired. */
	send_tcp(true, 90000, 0, F_SYN, NULL);
	send_tcp(false, 70000, 90001, F_SYN | F_ACK, NULL);
	send_tcp(true, 90001, 70001, F_ACK, NULL);
	send_tcp(true, 90001, 70001, F_ACK | F_PSH, "second connection");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_str_eq(got, "second connection");
	assert_no_drops();
	send_tcp(true, 90018, 70001, F_ACK | F_PSH, " UNION SELECT");
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1, "the new stream is scanned");
}

Test(inspect, rules_whose_streams_exceed_the_pool_chunk_are_refused)
{
	char path[] = "/tmp/nm-test-sigs4-XXXXXX";
	char err[512] = "";

	node->dp.params.sig_stream_state_max = 64; /* smaller than any stream database's */
	nm_test_write_tmp(path,
			  "alert tcp any any -> any any (msg:\"x\"; content:\"x\"; sid:7;)\n");
	cr_assert_eq(nm_node_sig_load(node, path, err, sizeof(err)), -EINVAL);
	unlink(path);
	cr_assert(strstr(err, "signatures.stream_state_max (64)") != NULL, "%s", err);
	cr_assert_eq(node->dp.sigs->generation, 1, "the set in force stays");
	cr_assert_eq(node->dp.sigs->db->n_rules, 6);
}

/* ==== reassembled datagrams: mbuf chains scanned as they lie ============ */

#define CHAIN_UDP_LEN 3000 /* UDP header + data of the datagram A sends in three fragments */

/* A fragment of dgram[off..off+len) (an IP payload of protocol proto) from A to B. */
static struct rte_mbuf *
chain_fragment(const uint8_t *dgram, uint8_t proto, uint16_t off, uint16_t len, bool more)
{
	static uint8_t f[2048];
	uint8_t *p = put_eth(f, PORT_MAC_A, MAC_A, 0x0800);

	p = put_ip4(p, IP_A, IP_B, proto, 64, 0x77, (uint16_t)((more ? IP4_MF : 0) | off / 8),
		    (uint16_t)(20 + len));
	memcpy(p, dgram + off, len);
	return mbuf_of(node->dp.pool, f, ETH_LEN + 20u + len);
}

/*
 * Pod A sends a 3000-byte UDP datagram to port 53 in fragments of 1480,
 * 1480 and 40 bytes, which reassemble into a chain of three mbufs; word,
 * if not NULL, is written at IP payload offset at. Returns the frames B got.
 */
static unsigned int
send_chained(const char *word, size_t at)
{
	static uint8_t dgram[CHAIN_UDP_LEN];
	static const uint16_t offs[3] = {0, 1480, 2960}, lens[3] = {1480, 1480, 40};
	struct rte_mbuf *in[3], *out[MAX_OUT];

	put16(dgram, 40000);
	put16(dgram + 2, 53);
	put16(dgram + 4, CHAIN_UDP_LEN);
	put16(dgram + 6, 0);
	memset(dgram + 8, '.', CHAIN_UDP_LEN - 8);
	if (word != NULL)
		memcpy(dgram + at, word, strlen(word));
	for (int k = 0; k < 3; k++)
		in[k] = chain_fragment(dgram, 17, offs[k], lens[k], k < 2);
	feed_mbufs(0, POD_A, in, 3);
	cr_assert_eq(w0->c.reassembled, 1);
	unsigned int n = sent_to(POD_B, out);
	rte_pktmbuf_free_bulk(out, n);
	return n;
}

Test(inspect, chained_datagram_with_a_signature_across_mbufs_is_dropped)
{
	reset_counters();
	/* "EV" ends the first fragment's bytes, "IL" starts the second's. */
	cr_assert_eq(send_chained("EVIL", 1478), 0, "the datagram must not reach B");
	assert_drops(0, NM_DROP_SIG_DROP, 1);
	cr_assert_eq(alerts_for(2001, NULL), 1);
	cr_assert_eq(w0->sc.bytes, CHAIN_UDP_LEN - 8, "the whole payload scanned once");
}

Test(inspect, clean_chained_datagram_is_scanned_and_delivered)
{
	reset_counters();
	uint64_t packets = w0->sc.packets;
	cr_assert_eq(send_chained(NULL, 0), 3, "B gets the datagram, fragmented for its MTU");
	assert_drops(0, NM_DROP_NONE, 0);
	cr_assert_eq(w0->sc.packets, packets + 1);
	cr_assert_eq(w0->sc.bytes, CHAIN_UDP_LEN - 8);
	cr_assert_eq(alerts_for(2001, NULL), 0);
}

/*
 * A TCP segment of 2000 bytes that A sent in two IP fragments reassembles
 * into a chain; its payload goes into the flow's stream piece by piece, so
 * "union select" across the two mbufs is caught, and a clean segment
 * after it in a second connection passes.
 */
Test(inspect, chained_tcp_segment_is_streamed_piece_by_piece)
{
	static const uint16_t offs[2] = {0, 1480}, lens[2] = {1480, 540};
	static char data[2000];
	static uint8_t f[4096];
	struct rte_mbuf *in[2];
	char got[2048];
	unsigned int rst_b, rst_a;

	for (int round = 0; round < 2; round++) {
		bool evil = round == 0;
		unit_cport = (uint16_t)(CPORT + round);
		reset_counters();
		uint64_t bytes0 = w0->sc.bytes; /* the scan counters run on */
		handshake();
		received(POD_B, got, sizeof(got), &rst_b);
		received(POD_A, got, sizeof(got), &rst_a);
		memset(data, 'x', sizeof(data));
		/* TCP payload starts at IP payload byte 20: "union " ends fragment one. */
		if (evil)
			memcpy(data + 1480 - 20 - 6, "union select", 12);
		size_t len = tcp_frame(f, true, C_ISN + 1, S_ISN + 1, F_ACK | F_PSH, data,
				       sizeof(data), 64, 0);
		cr_assert_eq(len, ETH_LEN + 20 + 20 + sizeof(data));
		for (int k = 0; k < 2; k++)
			in[k] = chain_fragment(f + ETH_LEN + 20, 6, offs[k], lens[k], k == 0);
		feed_mbufs(0, POD_A, in, 2);
		cr_assert_eq(w0->c.reassembled, 1);
		cr_assert_eq(w0->sc.bytes - bytes0, sizeof(data), "the whole payload scanned once");
		if (evil) {
			received(POD_B, got, sizeof(got), &rst_b);
			received(POD_A, got, sizeof(got), &rst_a);
			cr_assert_eq(rst_b + rst_a, 2, "resets both ways");
			assert_drops(0, NM_DROP_SIG_DROP, 1);
			cr_assert_eq(alerts_for(1001, NULL), 1);
			continue;
		}
		/* B gets the segment fragmented again for its MTU: count IP payload bytes. */
		struct rte_mbuf *out[MAX_OUT];
		unsigned int n = sent_to(POD_B, out);
		size_t bytes = 0;
		for (unsigned int k = 0; k < n; k++) {
			const uint8_t *ip =
			    rte_pktmbuf_mtod_offset(out[k], const uint8_t *, ETH_LEN);
			bytes += rd16(ip + 2) - 20u;
		}
		rte_pktmbuf_free_bulk(out, n);
		cr_assert_eq(bytes, 20 + sizeof(data), "the server got %zu bytes in %u frames",
			     bytes, n);
		assert_drops(0, NM_DROP_NONE, 0);
	}
	unit_cport = CPORT;
}

/*
 * HTTP on the stream (dataplane/inspect_http.c through scan_timed): the
 * same pipeline with an http rule set.
 */
static const char http_rules_text[] =
    "reject http any any -> any any (msg:\"traversal\"; flow:to_server; http.uri; "
    "content:\"/etc/passwd\"; classtype:web-application-attack; sid:3001;)\n";

static void
inspect_http_up(void)
{
	worker_with_rules(http_rules_text, 1);
	cr_assert(w0->sigs->db->has_http);
	cr_assert_null(w0->sigs->db->stream, "http rules only: no stream database");
}

TestSuite(inspect_http, .init = inspect_http_up, .fini = node_down);

/* Client data at off that must not reach the server: both ends get a RST instead. */
static void
assert_blocked_with_resets(uint32_t off, const char *data)
{
	char got[256];
	unsigned int rst_b, rst_a;

	received(POD_B, got, sizeof(got), &rst_b);
	received(POD_A, got, sizeof(got), &rst_a);
	client_data(off, data);
	cr_assert_eq(received(POD_B, got, sizeof(got), &rst_b), 0, "the server got: %s", got);
	cr_assert_eq(rst_b, 1);
	received(POD_A, got, sizeof(got), &rst_a);
	cr_assert_eq(rst_a, 1);
}

/* The head completes in the second segment: that one is rejected, the first went through. */
Test(inspect_http, encoded_traversal_split_over_segments_is_rejected)
{
	char got[256];
	unsigned int rst;

	handshake();
	received(POD_B, got, sizeof(got), &rst);
	client_data(0, "GET /a/%2e%2e/%65tc/pa");
	cr_assert_str_eq(received(POD_B, got, sizeof(got), &rst) > 0 ? got : "",
			 "GET /a/%2e%2e/%65tc/pa");
	assert_blocked_with_resets(22, "sswd HTTP/1.1\r\nHost: b\r\n\r\n");
	assert_drops(0, NM_DROP_SIG_DROP, 1);
	cr_assert_eq(w0->sc.http_heads, 1);
	cr_assert_eq(alerts_for(3001, NULL), 1);
}

Test(inspect_http, clean_requests_pass_with_their_heads_scanned)
{
	char got[256];
	unsigned int rst;

	handshake();
	client_data(0, "GET /etc/ HTTP/1.1\r\n\r\nGET /passwd HTTP/1.1\r\n\r\n");
	cr_assert(received(POD_B, got, sizeof(got), &rst) > 0);
	assert_no_drops();
	cr_assert_eq(w0->sc.http_heads, 2);
	cr_assert_eq(alerts_for(3001, NULL), 0);
}

Test(inspect_http, smuggling_shape_is_refused_and_reset)
{
	handshake();
	assert_blocked_with_resets(
	    0, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx");
	assert_drops(0, NM_DROP_HTTP_REFUSED, 1);
	cr_assert_eq(w0->sc.http_refused, 1);
	cr_assert_eq(alerts_for(3001, NULL), 0);
}

Test(inspect_http, another_protocol_stays_a_raw_stream)
{
	char got[256];
	unsigned int rst;

	handshake();
	client_data(0, "SSH-2.0-OpenSSH_9.2\r\nGET /etc/passwd HTTP/1.1\r\n\r\n");
	cr_assert(received(POD_B, got, sizeof(got), &rst) > 0);
	assert_no_drops();
	cr_assert_eq(w0->sc.http_not_http, 1);
	cr_assert_eq(alerts_for(3001, NULL), 0);
}

/*
 * Transaction records (EVE http events): the request at the server's
 * side, the final response at the client's, each when its message ends.
 */
static unsigned int
http_records(struct nm_http_record **out, unsigned int cap)
{
	unsigned int n = 0;

	while (n < cap && rte_ring_dequeue(w0->http_ring, (void **)&out[n]) == 0)
		n++;
	return n;
}

static void
http_records_put(struct nm_http_record **r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		rte_mempool_put(node->dp.http_pool, r[i]);
}

static const char *
str_of(const char *s, unsigned int len)
{
	static char buf[2][2048];
	static unsigned int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%.*s", (int)len, s);
	return buf[k];
}

Test(inspect_http, request_and_final_response_make_one_record_each_and_one_event)
{
	struct nm_http_record *r[4];
	char got[512];
	unsigned int rst;
	const char *req = "POST /up?q=%41 HTTP/1.1\r\nHost: Shop.Example:8080\r\n"
			  "User-Agent: curl/7.88.1\r\nContent-Length: 5\r\n\r\nhello";
	const char *resp = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
			   "Content-Length: 3\r\n\r\nabc";

	handshake();
	client_data(0, req);
	cr_assert(received(POD_B, got, sizeof(got), &rst) > 0);
	cr_assert_eq(http_records(r, 4), 1, "the request, once its body ended");
	cr_assert_eq(r[0]->dir, NM_HTTP_REQUEST);
	cr_assert_eq(r[0]->tx, 0);
	cr_assert_eq(r[0]->complete, 1);
	cr_assert_eq(r[0]->peer_parsed, 1, "both pods are on this node");
	cr_assert_eq(r[0]->body_bytes, 5);
	cr_assert_eq(r[0]->client_port, CPORT);
	cr_assert_eq(r[0]->server_port, SPORT);
	cr_assert_str_eq(str_of(r[0]->f.method, r[0]->f.method_len), "POST");
	cr_assert_str_eq(str_of(r[0]->f.uri, r[0]->f.uri_len), "/up?q=%41", "as sent");
	cr_assert_str_eq(str_of(r[0]->f.host, r[0]->f.host_len), "Shop.Example:8080");
	cr_assert_str_eq(str_of(r[0]->f.ua, r[0]->f.ua_len), "curl/7.88.1");
	cr_assert_eq(r[0]->f.truncated, 0);

	send_tcp(false, S_ISN + 1, C_ISN + 1 + (uint32_t)strlen(req), F_ACK | F_PSH, resp);
	cr_assert(received(POD_A, got, sizeof(got), &rst) > 0);
	cr_assert_eq(http_records(r + 1, 3), 1, "the 100 is interim: not a record");
	cr_assert_eq(r[1]->dir, NM_HTTP_RESPONSE);
	cr_assert_eq(r[1]->tx, 0, "answers request 0");
	cr_assert_eq(r[1]->f.status, 201);
	cr_assert_eq(r[1]->body_bytes, 3);
	cr_assert_eq(nm_flow_id(&r[0]->key, r[0]->init_pod_id),
		     nm_flow_id(&r[1]->key, r[1]->init_pod_id), "one flow");

	json_t *ev = nm_http_event_json(node, r[0], r[1]);
	json_t *h = json_object_get(ev, "http");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "event_type")), "http");
	cr_assert_eq(json_integer_value(json_object_get(ev, "src_port")), CPORT);
	cr_assert_str_eq(json_string_value(json_object_get(h, "hostname")), "shop.example");
	cr_assert_eq(json_integer_value(json_object_get(h, "http_port")), 8080);
	cr_assert_str_eq(json_string_value(json_object_get(h, "url")), "/up?q=%41");
	cr_assert_str_eq(json_string_value(json_object_get(h, "http_method")), "POST");
	cr_assert_str_eq(json_string_value(json_object_get(h, "http_user_agent")), "curl/7.88.1");
	cr_assert_eq(json_integer_value(json_object_get(h, "status")), 201);
	cr_assert_eq(json_integer_value(json_object_get(h, "length")), 3);
	json_t *nm = json_object_get(ev, "nodemesh");
	cr_assert_eq(json_integer_value(json_object_get(nm, "request_body_bytes")), 5);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(nm, "dest"), "port")),
		     SPORT);
	json_decref(ev);
	http_records_put(r, 2);
	cr_assert_eq(w0->sc.http_events, 2);
	cr_assert_eq(w0->sc.http_events_lost, 0);
}

Test(inspect_http, long_fields_are_cut_and_marked)
{
	static const struct {
		unsigned int uri, ua, host;
		uint8_t truncated;
	} cases[] = {
	    {NM_HTTP_LOG_URI_LEN, NM_HTTP_LOG_UA_LEN, NM_HTTP_LOG_HOST_LEN - 8, 0},
	    {NM_HTTP_LOG_URI_LEN + 1, 10, 10, NM_HTTP_TRUNC_URI},
	    {10, NM_HTTP_LOG_UA_LEN + 1, 10, NM_HTTP_TRUNC_UA},
	    {2000, 600, NM_HTTP_LOG_HOST_LEN,
	     NM_HTTP_TRUNC_URI | NM_HTTP_TRUNC_UA | NM_HTTP_TRUNC_HOST},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char head[4096], uri[2100], ua[700], host[300];
		struct nm_http_record *r[2];
		unsigned int rst;

		memset(uri, 'u', cases[i].uri);
		uri[0] = '/';
		uri[cases[i].uri] = '\0';
		memset(ua, 'a', cases[i].ua);
		ua[cases[i].ua] = '\0';
		/* A host of exactly its bound would be cut at a port it does not have: +1 cuts. */
		memset(host, 'h', cases[i].host + 1);
		host[cases[i].host + (cases[i].truncated & NM_HTTP_TRUNC_HOST ? 1 : 0)] = '\0';
		snprintf(head, sizeof(head),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n", uri, host, ua);
		unit_cport = (uint16_t)(CPORT + 10 + i);
		handshake();
		/* In segments of at most 1000 bytes: a frame stays under the pods' MTU. */
		size_t len = strlen(head);
		for (size_t off = 0; off < len; off += 1000) {
			char seg[1001];
			snprintf(seg, sizeof(seg), "%.*s", (int)RTE_MIN(len - off, (size_t)1000),
				 head + off);
			client_data((uint32_t)off, seg);
		}
		received(POD_B, head, sizeof(head), &rst);
		cr_assert_eq(http_records(r, 2), 1, "case %zu", i);
		cr_assert_eq(r[0]->f.truncated, cases[i].truncated, "case %zu: %#x", i,
			     r[0]->f.truncated);
		cr_assert_eq(r[0]->f.uri_len,
			     RTE_MIN(cases[i].uri, (unsigned int)NM_HTTP_LOG_URI_LEN));
		cr_assert_eq(r[0]->f.ua_len,
			     RTE_MIN(cases[i].ua, (unsigned int)NM_HTTP_LOG_UA_LEN));
		json_t *ev = nm_http_event_json(node, r[0], NULL);
		json_t *cut = json_object_get(json_object_get(ev, "nodemesh"), "truncated");
		cr_assert_eq(cut != NULL, cases[i].truncated != 0, "case %zu", i);
		cr_assert_eq(json_object_get(json_object_get(ev, "http"), "status"), NULL,
			     "no response: no status");
		json_decref(ev);
		http_records_put(r, 1);
	}
	unit_cport = CPORT;
}

Test(inspect_http, a_message_cut_short_by_the_stream_end_is_logged_incomplete)
{
	struct nm_http_record *r[2];
	char got[256];
	unsigned int rst;

	handshake();
	client_data(0, "PUT /f HTTP/1.1\r\nHost: b\r\nContent-Length: 100\r\n\r\n0123456789");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_eq(http_records(r, 2), 0, "the body is not over");
	/* The ports reused with another ISN: the old stream ends (inspect_tcp). */
	send_tcp(true, 90000, 0, F_SYN, NULL);
	cr_assert_eq(http_records(r, 2), 1);
	cr_assert_eq(r[0]->complete, 0);
	cr_assert_eq(r[0]->body_bytes, 10);
	http_records_put(r, 1);
}

Test(inspect_http, an_alert_on_an_http_flow_carries_the_request_fields)
{
	struct nm_alert_record a;
	unsigned int rst;
	char got[256];

	handshake();
	client_data(0, "GET /a/%2e%2e/etc/passwd HTTP/1.1\r\nHost: Web\r\nUser-Agent: x/1\r\n\r\n");
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_eq(alerts_for(3001, &a), 1);
	cr_assert_eq(a.has_http, 1);
	json_t *o = nm_http_alert_json(&a.http);
	cr_assert_str_eq(json_string_value(json_object_get(o, "url")), "/a/%2e%2e/etc/passwd");
	cr_assert_str_eq(json_string_value(json_object_get(o, "hostname")), "web");
	cr_assert_str_eq(json_string_value(json_object_get(o, "http_method")), "GET");
	cr_assert_str_eq(json_string_value(json_object_get(o, "http_user_agent")), "x/1");
	cr_assert_null(json_object_get(o, "status"), "not known at the request");
	json_decref(o);
}

/*
 * signatures.http_events "all": a set without http rules still gives the
 * streams an HTTP parser, for the events.
 */
static void
inspect_events_up(void)
{
	http_all = true;
	worker_with_rules(rules_text, 6);
	http_all = false;
	cr_assert(w0->sigs->db->has_http);
}

TestSuite(inspect_events, .init = inspect_events_up, .fini = node_down);

Test(inspect_events, stream_rules_only_still_log_http_transactions)
{
	struct nm_http_record *r[2];
	char got[256];
	unsigned int rst;

	const char *first = "GET /plain HTTP/1.1\r\nHost: b\r\n\r\n";

	handshake();
	client_data(0, first);
	received(POD_B, got, sizeof(got), &rst);
	cr_assert_eq(http_records(r, 2), 1);
	cr_assert_str_eq(str_of(r[0]->f.uri, r[0]->f.uri_len), "/plain");
	http_records_put(r, 1);
	client_data((uint32_t)strlen(first), "GET /x HTTP/1.1\r\nX-Q: UNION SELECT\r\n\r\n");
	cr_assert_eq(w0->c.drops[NM_DROP_SIG_DROP], 1, "the stream rules still act");
	cr_assert_eq(alerts_for(1001, NULL), 1);
}

/* ---- threshold and detection_filter through the pipeline --------------- */

static const char thresh_rules[] =
    "drop udp any any -> any 55 (msg:\"fourth and later\"; content:\"EVIL\"; "
    "detection_filter:track by_src, count 3, seconds 60; sid:2101;)\n"
    "drop udp any any -> any 56 (msg:\"limit\"; content:\"EVIL\"; "
    "threshold:type limit, track by_dst, count 1, seconds 60; sid:2102;)\n";

/* The worker's clock on the capture path nm-replay uses: moved by hand, no sleeps. */
static void
inspect_thresh_up(void)
{
	worker_with_rules(thresh_rules, 2);
	w0->replay_tsc = 1000;
}

TestSuite(inspect_thresh, .init = inspect_thresh_up, .fini = node_down);

/* One "EVIL" datagram on a flow of its own (a blocked flow stays blocked); delivered? */
static bool
evil_delivered(uint16_t sport, uint16_t dport)
{
	struct rte_mbuf *m[MAX_OUT];
	uint8_t f[256];
	size_t len = udp_payload_frame(f, sport, dport, "EVIL");

	feed(POD_A, f, len);
	unsigned int n = sent_to(POD_B, m);
	rte_pktmbuf_free_bulk(m, n);
	return n == 1;
}

Test(inspect_thresh, detection_filter_drop_lets_the_first_three_through)
{
	for (uint16_t i = 0; i < 3; i++)
		cr_expect(evil_delivered(4000 + i, 55), "match %u is under the count", i + 1);
	cr_expect_eq(w0->sc.thresh_held, 3);
	cr_expect_eq(alerts_for(2101, NULL), 0);
	cr_expect_not(evil_delivered(4003, 55), "the fourth match drops");
	cr_expect_not(evil_delivered(4004, 55), "and the fifth");
	assert_drops(0, NM_DROP_SIG_DROP, 2);
	cr_expect_eq(alerts_for(2101, NULL), 2);
	/* 61 s later the window is over: counting starts again. */
	w0->replay_tsc += 61 * node->dp.tsc_hz;
	cr_expect(evil_delivered(4005, 55), "first match of a new window");
	cr_expect_eq(w0->sc.thresh_held, 4);
}

Test(inspect_thresh, limit_drop_acts_on_every_match_but_alerts_once)
{
	for (uint16_t i = 0; i < 3; i++)
		cr_expect_not(evil_delivered(5000 + i, 56), "match %u is dropped", i + 1);
	assert_drops(0, NM_DROP_SIG_DROP, 3);
	cr_expect_eq(alerts_for(2102, NULL), 1);
	cr_expect_eq(w0->sc.thresh_silenced, 2);
	cr_expect_eq(w0->sc.thresh_full, 0);
}
