/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal packet generator for scripts/bench: IPv4/UDP from one source
 * address to one destination address over many flows (the UDP ports vary,
 * the addresses do not, so a dataplane with anti-spoofing forwards every
 * frame; testpmd 22.11's txonly can only vary the source address).
 *
 * It sends on port 0 (the first --vdev), queue 0: waits for link up, then
 * sends bursts of 32 prebuilt frames (one mbuf per flow, reused through
 * its reference count: nothing is copied or written per packet) as fast as
 * the port takes them, for the given duration or until SIGINT/SIGTERM.
 * A partial burst is retried (counted as tx_retries) until it is sent or
 * the time is up: never blocks for longer than the duration. Anything
 * arriving on the port is read and freed now and then.
 *
 * Usage: nm_pktgen EAL_ARGS -- [-s SRC_IP] [-d DST_IP] [-l FRAME_LEN]
 *                                [-f N_FLOWS] [-t SECONDS] [-m DST_MAC]
 *   e.g. nm_pktgen --no-huge -m 512 --no-pci --file-prefix g -l 0 \
 *          --vdev net_memif0,role=client,socket=/tmp/m1.sock,socket-abstract=no,id=0 \
 *          -- -s 198.18.0.1 -d 198.18.0.2 -l 64 -f 4096 -t 10
 * FRAME_LEN is the Ethernet frame without FCS (64..1500; 64 as testpmd's
 * --txpkts=64). Flow k (0 <= k < N_FLOWS) is UDP sport 1024 + k / 16,
 * dport 5000 + k % 16. Source MAC: the port's (memif: its mac= devarg);
 * DST_MAC defaults to broadcast (nodemeshd ignores the destination MAC of
 * frames from a pod: the pod link is point-to-point).
 * IPv4 header checksum valid, UDP checksum 0, TTL 64, no DF.
 *
 * The last line is machine-readable:
 *   "PKTGEN sent=N seconds=S mpps=X tx_retries=R flows=F len=L"
 * Exit status 0 on success, 1 on errors (including link never up).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#define BURST	       32
#define MAX_FLOWS      65536
#define RX_RING	       1024
#define TX_RING	       1024
#define RX_POOL	       8192
#define LINK_WAIT_S    20
#define RX_DRAIN_EVERY 64 /* bursts */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	uint32_t src_ip; /* network order */
	uint32_t dst_ip;
	unsigned int frame_len;
	unsigned int flows;
	double seconds;
	struct rte_ether_addr dst_mac;
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	struct in_addr a;
	char *end;
	long v;
	int c;

	inet_pton(AF_INET, "198.18.0.1", &o->src_ip);
	inet_pton(AF_INET, "198.18.0.2", &o->dst_ip);
	o->frame_len = 64;
	o->flows = 1;
	o->seconds = 10;
	memset(&o->dst_mac, 0xff, sizeof(o->dst_mac));

	optind = 1;
	while ((c = getopt(argc, argv, "s:d:l:f:t:m:h")) != -1) {
		switch (c) {
		case 's':
		case 'd':
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				fprintf(stderr, "nm_pktgen: bad IPv4 address %s\n", optarg);
				return -1;
			}
			if (c == 's')
				o->src_ip = a.s_addr;
			else
				o->dst_ip = a.s_addr;
			break;
		case 'l':
		case 'f':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || (c == 'l' && (v < 64 || v > 1500)) ||
			    (c == 'f' && (v < 1 || v > MAX_FLOWS))) {
				fprintf(stderr,
					"nm_pktgen: -%c %s out of range (-l 64..1500, -f 1..%d)\n",
					c, optarg, MAX_FLOWS);
				return -1;
			}
			if (c == 'l')
				o->frame_len = (unsigned int)v;
			else
				o->flows = (unsigned int)v;
			break;
		case 't':
			o->seconds = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' ||
			    !(o->seconds > 0 && o->seconds <= 3600)) {
				fprintf(stderr, "nm_pktgen: -t must be in (0, 3600]\n");
				return -1;
			}
			break;
		case 'm':
			if (rte_ether_unformat_addr(optarg, &o->dst_mac) != 0) {
				fprintf(stderr, "nm_pktgen: bad MAC %s\n", optarg);
				return -1;
			}
			break;
		default:
			fprintf(stderr,
				"usage: %s EAL_ARGS -- [-s SRC_IP] [-d DST_IP] [-l FRAME_LEN] "
				"[-f N_FLOWS] [-t SECONDS] [-m DST_MAC]\n",
				argv[0]);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nm_pktgen: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* One frame of flow K into M (M is fresh from the pool). */
static int
build_frame(struct rte_mbuf *m, const struct opts *o, const struct rte_ether_addr *src_mac,
	    unsigned int k)
{
	uint16_t ip_len = (uint16_t)(o->frame_len - sizeof(struct rte_ether_hdr));
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)o->frame_len);

	if (p == NULL)
		return -1;
	memset(p, 0, o->frame_len);

	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	rte_ether_addr_copy(&o->dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(src_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)k);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = o->src_ip;
	ip->dst_addr = o->dst_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(1024 + k / 16));
	udp->dst_port = rte_cpu_to_be_16((uint16_t)(5000 + k % 16));
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
	udp->dgram_cksum = 0;
	return 0;
}

static int
port_setup(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, RX_RING, rte_eth_dev_socket_id(port), NULL,
					    pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, TX_RING, rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0)
		fprintf(stderr, "nm_pktgen: port %u setup: %s\n", port, rte_strerror(-rc));
	return rc;
}

static int
wait_link(uint16_t port)
{
	struct rte_eth_link link;
	uint64_t deadline = rte_get_timer_cycles() + LINK_WAIT_S * rte_get_timer_hz();

	while (!stop && rte_get_timer_cycles() < deadline) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return 0;
		rte_delay_ms(10);
	}
	fprintf(stderr, "nm_pktgen: port %u link %s\n", port,
		stop ? "wait interrupted" : "not up after " RTE_STR(LINK_WAIT_S) " s");
	return -1;
}

static void
drain_rx(uint16_t port)
{
	struct rte_mbuf *rx[BURST];
	uint16_t n = rte_eth_rx_burst(port, 0, rx, BURST);

	if (n > 0)
		rte_pktmbuf_free_bulk(rx, n);
}

int
main(int argc, char **argv)
{
	struct rte_mempool *pool = NULL;
	struct rte_mbuf **frames = NULL;
	struct rte_ether_addr src_mac;
	struct opts o;
	const uint16_t port = 0;
	int ret = 1, rc;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "nm_pktgen: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	if (parse_opts(argc, argv, &o) < 0)
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "nm_pktgen: no port (give one --vdev)\n");
		goto out;
	}
	pool = rte_pktmbuf_pool_create("nm_pktgen", o.flows + RX_POOL, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "nm_pktgen: pool: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (port_setup(port, pool) != 0)
		goto out;
	if (rte_eth_macaddr_get(port, &src_mac) != 0) {
		fprintf(stderr, "nm_pktgen: cannot read the port's MAC\n");
		goto out_port;
	}

	frames = calloc(o.flows, sizeof(*frames));
	if (frames == NULL || rte_pktmbuf_alloc_bulk(pool, frames, o.flows) != 0) {
		fprintf(stderr, "nm_pktgen: cannot allocate %u frames\n", o.flows);
		free(frames);
		frames = NULL;
		goto out_port;
	}
	for (unsigned int k = 0; k < o.flows; k++) {
		if (build_frame(frames[k], &o, &src_mac, k) != 0) {
			fprintf(stderr, "nm_pktgen: frame of %u bytes does not fit an mbuf\n",
				o.frame_len);
			goto out_frames;
		}
	}

	if (wait_link(port) != 0)
		goto out_frames;

	char src_s[INET_ADDRSTRLEN], dst_s[INET_ADDRSTRLEN], mac_s[RTE_ETHER_ADDR_FMT_SIZE];
	inet_ntop(AF_INET, &o.src_ip, src_s, sizeof(src_s));
	inet_ntop(AF_INET, &o.dst_ip, dst_s, sizeof(dst_s));
	rte_ether_format_addr(mac_s, sizeof(mac_s), &src_mac);
	fprintf(stderr, "nm_pktgen: link up; %s (%s) -> %s UDP, %u B frames, %u flows, %.1f s\n",
		src_s, mac_s, dst_s, o.frame_len, o.flows, o.seconds);

	uint64_t hz = rte_get_tsc_hz();
	uint64_t start = rte_rdtsc();
	uint64_t deadline = start + (uint64_t)(o.seconds * (double)hz);
	uint64_t sent = 0, retries = 0, bursts = 0, now = start;
	unsigned int next = 0;
	struct rte_mbuf *burst[BURST];

	while (!stop && now < deadline) {
		for (unsigned int i = 0; i < BURST; i++) {
			burst[i] = frames[next];
			if (++next == o.flows)
				next = 0;
		}
		/* One reference each for the driver, which frees after sending. */
		for (unsigned int i = 0; i < BURST; i++)
			rte_mbuf_refcnt_update(burst[i], 1);

		uint16_t done = 0;
		for (;;) {
			done += rte_eth_tx_burst(port, 0, burst + done, (uint16_t)(BURST - done));
			now = rte_rdtsc();
			if (done == BURST || stop || now >= deadline)
				break;
			retries++;
		}
		sent += done;
		/* Not sent: take our extra references back. */
		for (unsigned int i = done; i < BURST; i++)
			rte_mbuf_refcnt_update(burst[i], -1);

		if (++bursts % RX_DRAIN_EVERY == 0)
			drain_rx(port);
	}
	double secs = (double)(now - start) / (double)hz;

	printf("PKTGEN sent=%" PRIu64 " seconds=%.3f mpps=%.3f tx_retries=%" PRIu64
	       " flows=%u len=%u\n",
	       sent, secs, secs > 0 ? (double)sent / secs / 1e6 : 0.0, retries, o.flows,
	       o.frame_len);
	fflush(stdout);
	ret = 0;

out_frames:
	if (frames != NULL)
		rte_pktmbuf_free_bulk(frames, o.flows);
	free(frames);
out_port:
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
out:
	if (pool != NULL)
		rte_mempool_free(pool);
	rte_eal_cleanup();
	return ret;
}
