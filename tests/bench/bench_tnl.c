/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel record layer throughput on one core: nm_tnl_seal_burst then
 * nm_tnl_open_burst over bursts of 32 buffers, in place, for the three
 * ciphers at 64, 512 and 1400 bytes and IMIX (7:4:1 of 64, 576 and 1500
 * bytes), with the pre-keyed contexts the data path uses. No DPDK: the
 * buffers are plain memory, as the library takes them.
 *
 * Sizes are inner IP packet bytes; Gbit/s counts those bytes (not the 34
 * bytes of overhead). A round is 3 bursts (96 packets, eight IMIX cycles
 * exactly) sealed and then opened; the figures come from the median round,
 * so that another process preempting this one on a shared machine moves
 * them little. "seal+open" is the rate at which one core both seals and
 * opens every packet (as a node that sends and receives the same traffic);
 * each direction alone is also printed.
 *
 * "wall" figures count every round over the whole timed loop's wall-clock
 * time instead: what the core delivered, preemption by other work included.
 *
 * Usage: bench_tnl [-t SECONDS] [-c CIPHER] [-e ENGINE] [-a START_AT]
 *   -t timed seconds per cipher and size (default 0.5), -c one cipher
 *   (aes-128-gcm, aes-256-gcm, chacha20-poly1305; default all three),
 *   -e the AEAD engine: auto (default: what the daemon picks),
 *   intel-ipsec-mb, or openssl (the EVP fallback, the record layer before
 *   intel-ipsec-mb), -a wait for this wall-clock instant (seconds since
 *   the epoch) before the first timed loop: several copies, one per core,
 *   then run together (scripts/bench scale).
 * One machine-readable line per cipher and size:
 *   "RESULT engine=... cipher=... size=... seal_mpps=... open_mpps=...
 *    seal_open_mpps=... seal_open_gbps=... wall_gbps=... wall_start=...
 *    wall_end=..."
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_start.h"
#include "nodemesh/tunnel.h"
#include "tnl_priv.h" /* nm_tnl_key_create_engine: to measure either engine */

#define BURST	      32
#define ROUND_BURSTS  3 /* 96 packets: eight IMIX cycles of 12 */
#define ROUND_PKTS    (BURST * ROUND_BURSTS)
#define MAX_INNER     1500
#define BUF_ROOM      (NM_TNL_OVERHEAD + MAX_INNER)
#define WARMUP_ROUNDS 200
#define MAX_ROUNDS    (1u << 20)

/* IMIX: 7 x 64, 4 x 576, 1 x 1500, interleaved. */
static const uint32_t imix[12] = {64, 576, 64, 64, 576, 64, 1500, 64, 576, 64, 576, 64};

struct profile {
	const char *name;
	uint32_t size; /* 0: IMIX */
};

static const struct profile profiles[] = {{"64", 64}, {"512", 512}, {"1400", 1400}, {"imix", 0}};

static uint8_t mem[ROUND_PKTS][BUF_ROOM];
static struct nm_tnl_buf bufs[ROUND_PKTS];
static uint64_t seal_ns[MAX_ROUNDS], open_ns[MAX_ROUNDS], both_ns[MAX_ROUNDS];

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return v[n / 2];
}

static enum nm_tnl_engine engine = NM_TNL_ENGINE_AUTO;

static struct nm_tnl_key *
key_make(unsigned int cipher, unsigned int dir)
{
	struct nm_tnl_key_params p = {.cipher = (uint8_t)cipher, .dir = (uint8_t)dir, .epoch = 1};

	for (unsigned int i = 0; i < sizeof(p.key); i++)
		p.key[i] = (uint8_t)(0x5a ^ i);
	for (unsigned int i = 0; i < sizeof(p.iv); i++)
		p.iv[i] = (uint8_t)(0xa5 ^ i);
	struct nm_tnl_key *k = nm_tnl_key_create_engine(&p, engine);
	if (k == NULL) {
		fprintf(stderr, "bench_tnl: nm_tnl_key_create_engine(%s, engine %d): %s\n",
			nm_tnl_cipher_name(cipher), engine, strerror(errno));
		exit(1);
	}
	return k;
}

/* Fresh keys and window: a key rotation, outside the timed part. */
struct tunnel {
	unsigned int cipher;
	struct nm_tnl_key *seal, *open;
	struct nm_tnl_replay replay;
};

static void
tunnel_rekey(struct tunnel *t)
{
	nm_tnl_key_free(t->seal);
	nm_tnl_key_free(t->open);
	t->seal = key_make(t->cipher, NM_TNL_SEAL);
	t->open = key_make(t->cipher, NM_TNL_OPEN);
	nm_tnl_replay_init(&t->replay);
}

/* Inner packets of a round; returns their bytes. */
static uint64_t
round_fill(const struct profile *prof)
{
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < ROUND_PKTS; i++) {
		uint32_t size = prof->size != 0 ? prof->size : imix[i % 12];

		memset(mem[i] + NM_TNL_HDRS_LEN, (int)i, size);
		bufs[i] = (struct nm_tnl_buf){
		    .data = mem[i], .len = NM_TNL_HDRS_LEN + size, .room = BUF_ROOM};
		bytes += size;
	}
	return bytes;
}

/* Seal and open one round; the buffers end as they began (plaintext, same len). */
static void
round_run(struct tunnel *t, uint64_t *seal_time, uint64_t *open_time)
{
	uint64_t t0 = now_ns();
	unsigned int ok = 0;

	for (unsigned int b = 0; b < ROUND_BURSTS; b++)
		ok += nm_tnl_seal_burst(t->seal, &bufs[b * BURST], BURST);
	uint64_t t1 = now_ns();
	for (unsigned int b = 0; b < ROUND_BURSTS; b++)
		ok += nm_tnl_open_burst(t->open, &t->replay, &bufs[b * BURST], BURST);
	uint64_t t2 = now_ns();

	if (ok != 2 * ROUND_PKTS) {
		for (unsigned int i = 0; i < ROUND_PKTS; i++)
			if (bufs[i].reason != NM_TNL_OK)
				fprintf(stderr, "bench_tnl: %s packet %u: %s\n",
					nm_tnl_cipher_name(t->cipher), i,
					nm_tnl_reason_name(bufs[i].reason));
		exit(1);
	}
	*seal_time = t1 - t0;
	*open_time = t2 - t1;
}

static void
bench(unsigned int cipher, const struct profile *prof, double seconds)
{
	struct tunnel t = {.cipher = cipher};
	uint64_t bytes = round_fill(prof), s, o;
	size_t rounds = 0;

	tunnel_rekey(&t);
	for (unsigned int i = 0; i < WARMUP_ROUNDS; i++)
		round_run(&t, &s, &o);

	double wall_start = bench_wall_now();
	uint64_t loop_start = now_ns();
	uint64_t deadline = loop_start + (uint64_t)(seconds * 1e9);

	while (rounds < MAX_ROUNDS && (rounds < 100 || now_ns() < deadline)) {
		/* Rekey before the AES-GCM usage limit, untimed, as the daemon will. */
		if (nm_tnl_key_should_rotate(t.seal))
			tunnel_rekey(&t);
		round_run(&t, &seal_ns[rounds], &open_ns[rounds]);
		both_ns[rounds] = seal_ns[rounds] + open_ns[rounds];
		rounds++;
	}
	uint64_t loop_ns = now_ns() - loop_start;
	double wall_end = bench_wall_now();

	double seal_med = (double)median(seal_ns, rounds);
	double open_med = (double)median(open_ns, rounds);
	double both_med = (double)median(both_ns, rounds);
	double seal_mpps = ROUND_PKTS / seal_med * 1e3, open_mpps = ROUND_PKTS / open_med * 1e3;
	double both_mpps = ROUND_PKTS / both_med * 1e3;
	double seal_gbps = (double)bytes * 8 / seal_med, open_gbps = (double)bytes * 8 / open_med;
	double both_gbps = (double)bytes * 8 / both_med;
	double wall_gbps = (double)bytes * (double)rounds * 8 / (double)loop_ns;

	printf("%-18s %5s %8.2f %8.2f %8.2f %8.2f %10.2f %10.2f %8zu\n", nm_tnl_cipher_name(cipher),
	       prof->name, seal_mpps, seal_gbps, open_mpps, open_gbps, both_mpps, both_gbps,
	       rounds);
	printf("RESULT engine=%s cipher=%s size=%s seal_mpps=%.3f seal_gbps=%.3f open_mpps=%.3f "
	       "open_gbps=%.3f seal_open_mpps=%.3f seal_open_gbps=%.3f wall_gbps=%.3f "
	       "wall_start=%.3f wall_end=%.3f\n",
	       nm_tnl_key_engine(t.seal), nm_tnl_cipher_name(cipher), prof->name, seal_mpps,
	       seal_gbps, open_mpps, open_gbps, both_mpps, both_gbps, wall_gbps, wall_start,
	       wall_end);
	fflush(stdout);
	nm_tnl_key_free(t.seal);
	nm_tnl_key_free(t.open);
}

int
main(int argc, char **argv)
{
	double seconds = 0.5, start_at = 0;
	int only = -1;
	int c;

	while ((c = getopt(argc, argv, "t:c:e:a:h")) != -1) {
		switch (c) {
		case 't':
			seconds = atof(optarg);
			break;
		case 'c':
			for (unsigned int i = 0; i < NM_TNL_CIPHERS; i++)
				if (strcmp(optarg, nm_tnl_cipher_name(i)) == 0)
					only = (int)i;
			if (only < 0) {
				fprintf(stderr, "bench_tnl: unknown cipher '%s'\n", optarg);
				return 2;
			}
			break;
		case 'e':
			if (strcmp(optarg, "auto") == 0)
				engine = NM_TNL_ENGINE_AUTO;
			else if (strcmp(optarg, "openssl") == 0)
				engine = NM_TNL_ENGINE_EVP;
			else if (strcmp(optarg, "intel-ipsec-mb") == 0)
				engine = NM_TNL_ENGINE_MB;
			else {
				fprintf(stderr,
					"bench_tnl: unknown engine '%s' (auto, openssl, "
					"intel-ipsec-mb)\n",
					optarg);
				return 2;
			}
			break;
		case 'a':
			if (bench_start_parse("bench_tnl", optarg, &start_at) != 0)
				return 2;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-t SECONDS] [-c CIPHER] [-e ENGINE] [-a START_AT]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!(seconds > 0 && seconds <= 600)) {
		fprintf(stderr, "bench_tnl: -t must be in (0, 600]\n");
		return 2;
	}

	char desc[160];

	nm_tnl_engine_describe(desc, sizeof(desc));
	printf("bench_tnl: seal then open in place, bursts of %d, median of rounds of %d packets, "
	       "inner packet bytes; engine %s (auto here: %s)\n",
	       BURST, ROUND_PKTS,
	       engine == NM_TNL_ENGINE_AUTO  ? "auto"
	       : engine == NM_TNL_ENGINE_EVP ? "openssl"
					     : "intel-ipsec-mb",
	       desc);
	if (bench_start_wait("bench_tnl", start_at) != 0)
		return 1;
	printf("%-18s %5s %8s %8s %8s %8s %10s %10s %8s\n", "cipher", "size", "seal", "seal",
	       "open", "open", "seal+open", "seal+open", "rounds");
	printf("%-18s %5s %8s %8s %8s %8s %10s %10s %8s\n", "", "bytes", "Mpps", "Gbit/s", "Mpps",
	       "Gbit/s", "Mpps", "Gbit/s", "");
	for (unsigned int ci = 0; ci < NM_TNL_CIPHERS; ci++) {
		if (only >= 0 && ci != (unsigned int)only)
			continue;
		for (size_t p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++)
			bench(ci, &profiles[p], seconds);
	}
	return 0;
}
