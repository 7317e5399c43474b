/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the per-worker flow table (dataplane/flow.c): admission
 * control when the table is full (refuse and count, never evict), lookup
 * by (5-tuple, pod), deletion, the TCP state machine, the initial state a
 * first packet gives a flow, and expiry by state timeout against a fake
 * TSC. The table lives in DPDK memory (rte_hash, rte_zmalloc), so each
 * test runs with a small in-memory EAL (Criterion forks one process per
 * test).
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_memory.h>
#include <rte_tcp.h>

#include "nodemesh/flow.h"
#include "unit_eal.h"

#define CAP 64

TestSuite(flow_table, .init = nm_test_eal_up);
TestSuite(flow_tcp);
TestSuite(flow_expiry, .init = nm_test_eal_up);

/* Timeouts in seconds, by enum nm_flow_state; all different so a mix-up shows. */
static const uint32_t timeout_s[NM_FLOW_STATES] = {
    [NM_FLOW_TCP_SYN] = 5,	[NM_FLOW_TCP_ESTABLISHED] = 300,
    [NM_FLOW_TCP_CLOSING] = 30, [NM_FLOW_TCP_CLOSED] = 2,
    [NM_FLOW_UDP] = 60,		[NM_FLOW_ICMP] = 10,
    [NM_FLOW_OTHER] = 120,
};
#define TSC_HZ UINT64_C(1000) /* a fake clock: one tick per millisecond */

/* Key n: 10.0.0.1:(1000 + n) -> 10.0.0.2:80, TCP, on the side of pod pod_id. */
static struct nm_flow_hkey
key(uint16_t n, uint32_t pod_id)
{
	struct nm_flow_hkey hk;

	memset(&hk, 0, sizeof(hk));
	hk.k.addr_lo[10] = 0xff;
	hk.k.addr_lo[11] = 0xff;
	hk.k.addr_lo[12] = 10;
	hk.k.addr_lo[15] = 1;
	hk.k.addr_hi[10] = 0xff;
	hk.k.addr_hi[11] = 0xff;
	hk.k.addr_hi[12] = 10;
	hk.k.addr_hi[15] = 2;
	hk.k.port_lo = (uint16_t)(1000 + n);
	hk.k.port_hi = 80;
	hk.k.proto = IPPROTO_TCP;
	hk.pod_id = pod_id;
	return hk;
}

static void
table_up(struct nm_flow_table *t, uint32_t cap)
{
	cr_assert_eq(nm_flow_table_init(t, cap, timeout_s, TSC_HZ, 0x1234u, SOCKET_ID_ANY, 0), 0);
}

/* ---- table: admission, lookup, delete ----------------------------------- */

/*
 * A worker hashes a packet's 5-tuple once and each side's key from that
 * (nm_flow_side_hash); the table hashes whole keys (nm_flow_hkey_hash).
 * Both must agree, for IPv4 keys (the short path) and IPv6 ones, or an
 * entry created one way is not found the other.
 */
Test(flow_table, side_hash_and_table_hash_agree)
{
	struct nm_flow_table t;
	struct nm_flow_hkey keys[2] = {key(7, 3), key(7, 3)};

	keys[1].k.addr_lo[10] = 0; /* no longer IPv4-mapped: the IPv6 path */
	keys[1].k.addr_lo[11] = 0;
	table_up(&t, CAP);
	for (int i = 0; i < 2; i++) {
		uint32_t tuple = nm_flow_key_hash(&keys[i].k, t.seed);
		uint32_t side = nm_flow_side_hash(tuple, keys[i].pod_id);

		cr_assert_eq(side, nm_flow_hkey_hash(&keys[i], sizeof(keys[i]), t.seed), "key %d",
			     i);
		struct nm_flow *f = nm_flow_create_with_hash(&t, &keys[i], side, 1);
		cr_assert_not_null(f, "key %d", i);
		cr_assert_eq(nm_flow_lookup(&t, &keys[i]), f, "key %d", i);
	}
	cr_assert_neq(nm_flow_key_hash(&keys[0].k, t.seed), nm_flow_key_hash(&keys[1].k, t.seed));
	nm_flow_table_fini(&t);
}

/* Each of the words the IPv4 short path hashes changes the hash; the protocol too. */
Test(flow_table, ipv4_hash_covers_addresses_ports_and_protocol)
{
	struct nm_flow_hkey base = key(1, 1), other[4];

	for (int i = 0; i < 4; i++)
		other[i] = base;
	other[0].k.addr_lo[15] = 9;
	other[1].k.addr_hi[14] = 9;
	other[2].k.port_hi = 81;
	other[3].k.proto = IPPROTO_UDP;
	for (int i = 0; i < 4; i++) {
		cr_assert_neq(nm_flow_key_hash(&other[i].k, 0x1234u),
			      nm_flow_key_hash(&base.k, 0x1234u), "change %d", i);
		cr_assert_not(nm_flow_hkey_eq(&other[i], &base), "change %d", i);
	}
	cr_assert(nm_flow_hkey_eq(&base, &base));
}

Test(flow_table, init_converts_timeouts_to_tsc)
{
	struct nm_flow_table t;

	table_up(&t, CAP);
	cr_assert_eq(t.cap, CAP);
	cr_assert_eq(t.n, 0);
	for (int s = 0; s < NM_FLOW_STATES; s++)
		cr_assert_eq(t.timeout_tsc[s], timeout_s[s] * TSC_HZ, "state %d", s);
	nm_flow_table_fini(&t);
}

Test(flow_table, empty_table_finds_nothing)
{
	struct nm_flow_table t;
	struct nm_flow_hkey hk = key(0, 1);

	table_up(&t, CAP);
	cr_assert_null(nm_flow_lookup(&t, &hk));
	nm_flow_table_fini(&t);
}

Test(flow_table, full_table_refuses_and_keeps_what_it_holds)
{
	struct nm_flow_table t;
	struct nm_flow *held[CAP];
	struct nm_flow_hkey hk;

	table_up(&t, CAP);
	for (uint16_t i = 0; i < CAP; i++) {
		hk = key(i, 7);
		held[i] = nm_flow_create(&t, &hk, 100 + i);
		cr_assert_not_null(held[i], "flow %u of %u refused", i, CAP);
		held[i]->pkts[NM_DIR_ORIG] = 1000u + i; /* a mark to find again */
	}
	cr_assert_eq(t.n, CAP);
	cr_assert_eq(t.c.created, CAP);
	cr_assert_eq(t.c.refused, 0);

	/* The 65th distinct key is refused and counted. */
	hk = key(CAP, 7);
	cr_assert_null(nm_flow_create(&t, &hk, 500));
	cr_assert_eq(t.c.refused, 1);
	cr_assert_eq(t.c.created, CAP);
	cr_assert_eq(t.n, CAP);
	cr_assert_null(nm_flow_lookup(&t, &hk), "a refused flow must not be findable");

	/* Nothing was evicted or touched to make room. */
	for (uint16_t i = 0; i < CAP; i++) {
		hk = key(i, 7);
		struct nm_flow *f = nm_flow_lookup(&t, &hk);
		cr_assert_eq(f, held[i], "flow %u moved or vanished", i);
		cr_assert_eq(f->pkts[NM_DIR_ORIG], 1000u + i);
		cr_assert_eq(f->first_tsc, 100u + i);
		cr_assert(f->in_use);
	}

	/* Refused again: each attempt counts. */
	hk = key(CAP + 1, 7);
	cr_assert_null(nm_flow_create(&t, &hk, 501));
	cr_assert_eq(t.c.refused, 2);

	/* After one delete a new flow fits, and the table is full again. */
	nm_flow_delete(&t, held[10]);
	cr_assert_eq(t.n, CAP - 1);
	hk = key(CAP, 7);
	struct nm_flow *f = nm_flow_create(&t, &hk, 600);
	cr_assert_not_null(f);
	cr_assert_eq(f->first_tsc, 600);
	cr_assert_eq(f->pkts[NM_DIR_ORIG], 0, "a reused entry must start from zero");
	cr_assert_eq(nm_flow_lookup(&t, &hk), f);
	cr_assert_eq(t.n, CAP);
	cr_assert_eq(t.c.created, CAP + 1);
	hk = key(CAP + 1, 7);
	cr_assert_null(nm_flow_create(&t, &hk, 601));
	cr_assert_eq(t.c.refused, 3);
	nm_flow_table_fini(&t);
}

Test(flow_table, create_fills_the_entry)
{
	struct nm_flow_table t;
	struct nm_flow_hkey hk = key(3, 42);

	table_up(&t, CAP);
	struct nm_flow *f = nm_flow_create(&t, &hk, 12345);
	cr_assert_not_null(f);
	cr_assert_eq(memcmp(&f->hk, &hk, sizeof(hk)), 0);
	cr_assert_eq(f->first_tsc, 12345);
	cr_assert_eq(f->last_tsc, 12345);
	cr_assert_eq(f->in_use, 1);
	cr_assert_eq(f->fin_seen, 0);
	cr_assert_eq(f->pkts[0] + f->pkts[1] + f->bytes[0] + f->bytes[1], 0);
	nm_flow_table_fini(&t);
}

Test(flow_table, same_five_tuple_on_another_pod_is_another_flow)
{
	struct nm_flow_table t;
	struct nm_flow_hkey a = key(1, 100), b = key(1, 101);

	table_up(&t, CAP);
	struct nm_flow *fa = nm_flow_create(&t, &a, 1);
	cr_assert_not_null(fa);
	cr_assert_null(nm_flow_lookup(&t, &b), "pod 101 must not see pod 100's flow");
	struct nm_flow *fb = nm_flow_create(&t, &b, 2);
	cr_assert_not_null(fb);
	cr_assert_neq(fa, fb);
	cr_assert_eq(t.n, 2);
	cr_assert_eq(nm_flow_lookup(&t, &a), fa);
	cr_assert_eq(nm_flow_lookup(&t, &b), fb);

	/* A different port with the same pod is a different flow too. */
	struct nm_flow_hkey c = key(2, 100);
	cr_assert_null(nm_flow_lookup(&t, &c));

	/* Deleting one side leaves the other. */
	nm_flow_delete(&t, fa);
	cr_assert_null(nm_flow_lookup(&t, &a));
	cr_assert_eq(nm_flow_lookup(&t, &b), fb);
	nm_flow_table_fini(&t);
}

Test(flow_table, delete_then_lookup_misses)
{
	struct nm_flow_table t;
	struct nm_flow_hkey hk = key(5, 9);

	table_up(&t, CAP);
	struct nm_flow *f = nm_flow_create(&t, &hk, 1);
	cr_assert_not_null(f);
	cr_assert_eq(nm_flow_lookup(&t, &hk), f);
	nm_flow_delete(&t, f);
	cr_assert_null(nm_flow_lookup(&t, &hk));
	cr_assert_eq(f->in_use, 0);
	cr_assert_eq(t.n, 0);

	/* A second delete of the same entry must not drive n below zero. */
	nm_flow_delete(&t, f);
	cr_assert_eq(t.n, 0);

	/* And the key can come back. */
	cr_assert_not_null(nm_flow_create(&t, &hk, 2));
	cr_assert_eq(t.n, 1);
	nm_flow_table_fini(&t);
}

/* ---- TCP state machine -------------------------------------------------- */

#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define ECE RTE_TCP_ECE_FLAG
#define CWR RTE_TCP_CWR_FLAG
#define PSH RTE_TCP_PSH_FLAG

static const struct {
	const char *what;
	uint8_t proto;
	uint8_t flags;
	uint8_t want;
} initial[] = {
    {"tcp bare SYN", IPPROTO_TCP, SYN, NM_FLOW_TCP_SYN},
    {"tcp SYN with ECN setup", IPPROTO_TCP, SYN | ECE | CWR, NM_FLOW_TCP_SYN},
    {"tcp SYN+ACK: picked up at the answer", IPPROTO_TCP, SYN | ACK, NM_FLOW_TCP_ESTABLISHED},
    {"tcp ACK mid-stream", IPPROTO_TCP, ACK, NM_FLOW_TCP_ESTABLISHED},
    {"tcp PSH+ACK mid-stream", IPPROTO_TCP, PSH | ACK, NM_FLOW_TCP_ESTABLISHED},
    {"tcp FIN+ACK mid-stream", IPPROTO_TCP, FIN | ACK, NM_FLOW_TCP_ESTABLISHED},
    {"tcp no flags", IPPROTO_TCP, 0, NM_FLOW_TCP_ESTABLISHED},
    {"udp", IPPROTO_UDP, 0, NM_FLOW_UDP},
    {"udp ignores flag bits", IPPROTO_UDP, SYN, NM_FLOW_UDP},
    {"icmp", IPPROTO_ICMP, 0, NM_FLOW_ICMP},
    {"icmpv6", IPPROTO_ICMPV6, 0, NM_FLOW_ICMP},
    {"gre", IPPROTO_GRE, 0, NM_FLOW_OTHER},
    {"sctp", IPPROTO_SCTP, SYN, NM_FLOW_OTHER},
    {"proto 0", 0, 0, NM_FLOW_OTHER},
    {"proto 255", 255, 0, NM_FLOW_OTHER},
};

Test(flow_tcp, initial_state_by_first_packet)
{
	for (size_t i = 0; i < sizeof(initial) / sizeof(initial[0]); i++)
		cr_expect_eq(
		    nm_flow_initial_state(initial[i].proto, initial[i].flags), initial[i].want,
		    "%s: got %s, want %s", initial[i].what,
		    nm_flow_state_name(nm_flow_initial_state(initial[i].proto, initial[i].flags)),
		    nm_flow_state_name(initial[i].want));
}

#define O	  NM_DIR_ORIG
#define R	  NM_DIR_REPLY
#define MAX_STEPS 4

static const struct {
	const char *what;
	uint8_t from; /* state before the first step */
	uint8_t n;
	struct {
		uint8_t dir;
		uint8_t flags;
	} step[MAX_STEPS];
	uint8_t want;
	uint8_t want_fin_seen;
} transitions[] = {
    {"SYN then SYN+ACK reply", NM_FLOW_TCP_SYN, 1, {{R, SYN | ACK}}, NM_FLOW_TCP_ESTABLISHED, 0},
    {"SYN then bare ACK reply", NM_FLOW_TCP_SYN, 1, {{R, ACK}}, NM_FLOW_TCP_ESTABLISHED, 0},
    {"SYN retransmitted by the initiator",
     NM_FLOW_TCP_SYN,
     2,
     {{O, SYN}, {O, SYN}},
     NM_FLOW_TCP_SYN,
     0},
    {"initiator's ACK alone does not establish",
     NM_FLOW_TCP_SYN,
     1,
     {{O, ACK}},
     NM_FLOW_TCP_SYN,
     0},
    {"three-way handshake",
     NM_FLOW_TCP_SYN,
     2,
     {{R, SYN | ACK}, {O, ACK}},
     NM_FLOW_TCP_ESTABLISHED,
     0},
    {"data both ways",
     NM_FLOW_TCP_ESTABLISHED,
     2,
     {{O, PSH | ACK}, {R, ACK}},
     NM_FLOW_TCP_ESTABLISHED,
     0},
    {"FIN from initiator",
     NM_FLOW_TCP_ESTABLISHED,
     1,
     {{O, FIN | ACK}},
     NM_FLOW_TCP_CLOSING,
     1 << O},
    {"FIN from responder",
     NM_FLOW_TCP_ESTABLISHED,
     1,
     {{R, FIN | ACK}},
     NM_FLOW_TCP_CLOSING,
     1 << R},
    {"FIN twice from one side",
     NM_FLOW_TCP_ESTABLISHED,
     2,
     {{O, FIN}, {O, FIN}},
     NM_FLOW_TCP_CLOSING,
     1 << O},
    {"FIN, ACK of it: still closing",
     NM_FLOW_TCP_ESTABLISHED,
     2,
     {{O, FIN}, {R, ACK}},
     NM_FLOW_TCP_CLOSING,
     1 << O},
    {"FIN both ways",
     NM_FLOW_TCP_ESTABLISHED,
     2,
     {{O, FIN | ACK}, {R, FIN | ACK}},
     NM_FLOW_TCP_CLOSED,
     3},
    {"FIN both ways, responder first",
     NM_FLOW_TCP_ESTABLISHED,
     2,
     {{R, FIN}, {O, FIN}},
     NM_FLOW_TCP_CLOSED,
     3},
    {"full close with ACKs",
     NM_FLOW_TCP_ESTABLISHED,
     4,
     {{O, FIN | ACK}, {R, ACK}, {R, FIN | ACK}, {O, ACK}},
     NM_FLOW_TCP_CLOSED,
     3},
    {"RST in SYN from initiator", NM_FLOW_TCP_SYN, 1, {{O, RST}}, NM_FLOW_TCP_CLOSED, 0},
    {"RST in SYN from responder", NM_FLOW_TCP_SYN, 1, {{R, RST | ACK}}, NM_FLOW_TCP_CLOSED, 0},
    {"RST established, initiator", NM_FLOW_TCP_ESTABLISHED, 1, {{O, RST}}, NM_FLOW_TCP_CLOSED, 0},
    {"RST established, responder", NM_FLOW_TCP_ESTABLISHED, 1, {{R, RST}}, NM_FLOW_TCP_CLOSED, 0},
    {"RST closing", NM_FLOW_TCP_ESTABLISHED, 2, {{O, FIN}, {R, RST}}, NM_FLOW_TCP_CLOSED, 1 << O},
    {"RST closed", NM_FLOW_TCP_CLOSED, 1, {{O, RST}}, NM_FLOW_TCP_CLOSED, 0},
    {"RST with FIN set: RST wins",
     NM_FLOW_TCP_ESTABLISHED,
     1,
     {{O, RST | FIN}},
     NM_FLOW_TCP_CLOSED,
     0},
    {"ACK after close stays closed",
     NM_FLOW_TCP_ESTABLISHED,
     3,
     {{O, FIN}, {R, FIN}, {O, ACK}},
     NM_FLOW_TCP_CLOSED,
     3},
};

Test(flow_tcp, transitions)
{
	for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++) {
		struct nm_flow f;

		memset(&f, 0, sizeof(f));
		f.state = transitions[i].from;
		for (unsigned int s = 0; s < transitions[i].n; s++)
			nm_flow_tcp_update(&f, transitions[i].step[s].dir,
					   transitions[i].step[s].flags);
		cr_expect_eq(f.state, transitions[i].want, "%s: got %s, want %s",
			     transitions[i].what, nm_flow_state_name(f.state),
			     nm_flow_state_name(transitions[i].want));
		cr_expect_eq(f.fin_seen, transitions[i].want_fin_seen, "%s: fin_seen %#x, want %#x",
			     transitions[i].what, f.fin_seen, transitions[i].want_fin_seen);
	}
}

Test(flow_tcp, state_names)
{
	static const char *const want[NM_FLOW_STATES] = {
	    "syn", "established", "closing", "closed", "udp", "icmp", "other",
	};

	for (uint8_t s = 0; s < NM_FLOW_STATES; s++)
		cr_expect_str_eq(nm_flow_state_name(s), want[s]);
	cr_expect_str_eq(nm_flow_state_name(NM_FLOW_STATES), "?");
	cr_expect_str_eq(nm_flow_state_name(255), "?");
}

/* ---- expiry -------------------------------------------------------------- */

Test(flow_expiry, each_state_expires_one_tick_after_its_timeout)
{
	static const uint64_t last_tscs[] = {0, 1, UINT64_C(1) << 40, UINT64_MAX - 400 * TSC_HZ};
	struct nm_flow_table t;
	struct nm_flow f;

	table_up(&t, CAP);
	memset(&f, 0, sizeof(f));
	for (uint8_t s = 0; s < NM_FLOW_STATES; s++) {
		uint64_t to = timeout_s[s] * TSC_HZ;

		f.state = s;
		for (size_t i = 0; i < sizeof(last_tscs) / sizeof(last_tscs[0]); i++) {
			uint64_t last = last_tscs[i];

			f.last_tsc = last;
			cr_expect_not(nm_flow_expired(&t, &f, last), "%s: same tick",
				      nm_flow_state_name(s));
			cr_expect_not(nm_flow_expired(&t, &f, last + to - 1), "%s: tick before",
				      nm_flow_state_name(s));
			cr_expect_not(nm_flow_expired(&t, &f, last + to),
				      "%s at %#lx: exactly at the timeout is not expired",
				      nm_flow_state_name(s), (unsigned long)last);
			cr_expect(nm_flow_expired(&t, &f, last + to + 1),
				  "%s at %#lx: one tick past the timeout is expired",
				  nm_flow_state_name(s), (unsigned long)last);
			cr_expect(nm_flow_expired(&t, &f, last + 10 * to), "%s: long past",
				  nm_flow_state_name(s));
		}
	}
	nm_flow_table_fini(&t);
}

Test(flow_expiry, timeouts_are_per_state)
{
	struct nm_flow_table t;
	struct nm_flow f;
	const uint64_t last = 1000000;
	/* 31 s idle: past SYN (5), CLOSED (2), ICMP (10), CLOSING (30); not the others. */
	const uint64_t now = last + 31 * TSC_HZ;
	static const bool want[NM_FLOW_STATES] = {
	    [NM_FLOW_TCP_SYN] = true,	  [NM_FLOW_TCP_ESTABLISHED] = false,
	    [NM_FLOW_TCP_CLOSING] = true, [NM_FLOW_TCP_CLOSED] = true,
	    [NM_FLOW_UDP] = false,	  [NM_FLOW_ICMP] = true,
	    [NM_FLOW_OTHER] = false,
	};

	table_up(&t, CAP);
	memset(&f, 0, sizeof(f));
	f.last_tsc = last;
	for (uint8_t s = 0; s < NM_FLOW_STATES; s++) {
		f.state = s;
		cr_expect_eq(nm_flow_expired(&t, &f, now), want[s], "%s", nm_flow_state_name(s));
	}
	nm_flow_table_fini(&t);
}

Test(flow_expiry, last_tsc_in_the_future_is_not_expired)
{
	/*
	 * A packet later in the same loop turn stamps last_tsc after the
	 * sweep's now; the unsigned difference wraps and must not read as
	 * "idle for ages".
	 */
	static const uint64_t ahead[] = {1, 2, 1000, 5 * TSC_HZ, 1000 * TSC_HZ};
	struct nm_flow_table t;
	struct nm_flow f;
	const uint64_t now = UINT64_C(1) << 32;

	table_up(&t, CAP);
	memset(&f, 0, sizeof(f));
	for (uint8_t s = 0; s < NM_FLOW_STATES; s++) {
		f.state = s;
		for (size_t i = 0; i < sizeof(ahead) / sizeof(ahead[0]); i++) {
			f.last_tsc = now + ahead[i];
			cr_expect_not(nm_flow_expired(&t, &f, now), "%s: last_tsc %lu ticks ahead",
				      nm_flow_state_name(s), (unsigned long)ahead[i]);
		}
		/* Across the zero of the counter too. */
		f.last_tsc = 3;
		cr_expect_not(nm_flow_expired(&t, &f, UINT64_MAX - 2), "%s: across wrap",
			      nm_flow_state_name(s));
	}
	nm_flow_table_fini(&t);
}

Test(flow_expiry, zero_timeout_expires_one_tick_later)
{
	uint32_t zero[NM_FLOW_STATES] = {0};
	struct nm_flow_table t;
	struct nm_flow f;

	cr_assert_eq(nm_flow_table_init(&t, CAP, zero, TSC_HZ, 1, SOCKET_ID_ANY, 1), 0);
	memset(&f, 0, sizeof(f));
	f.state = NM_FLOW_UDP;
	f.last_tsc = 500;
	cr_expect_not(nm_flow_expired(&t, &f, 500));
	cr_expect(nm_flow_expired(&t, &f, 501));
	nm_flow_table_fini(&t);
}
