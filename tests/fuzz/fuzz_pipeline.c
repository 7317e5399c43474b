/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the worker pipeline, in process (issue 17 item 5):
 * the parsers' targets stop at the first header, this one drives whole
 * sequences of frames through egress, conntrack and policy, reassembly,
 * stream inspection with a small rule set, delivery, and the tunnel's
 * record layer in both directions.
 *
 * LLVMFuzzerInitialize brings up an EAL without hugepages or PCI, a node
 * with two workers that are never launched (this thread plays both, as
 * the unit tests' harness does), two local pods A and B on net_ring ports,
 * A on worker 0 and B on worker 1 (each seals what it routes; a fabric
 * burst goes to either, as the fanout would), so that
 * traffic between them and to and from B crosses the handoff rings; a
 * policy (default allow, a deny and a metered allow), six signatures (TCP
 * and UDP content, a two-content rule, a pcre, ICMP) and a fabric port with
 * one peer, node-b, whose keys the target knows and which announced one
 * remote pod.
 *
 * An input is a sequence of frames, each
 *
 *   selector (1 byte) | length (2 bytes, big endian) | length bytes
 *
 * selector bits 0-1: who sends the bytes
 *     0  pod A, 1  pod B: an Ethernet frame on the pod's port;
 *     2  node-b, sealed: the bytes are an inner IPv4 packet, which the
 *        target seals under node-b's current key (next sequence number)
 *        in an outer Ethernet/IPv4/UDP frame, so it opens and reaches
 *        ingress;
 *     3  the fabric, raw: the bytes are the whole frame as it arrives.
 *   bit 2: fix the IPv4 header checksum of the frame (of the inner packet
 *     when sealed), so that mutated headers get past the parser;
 *   bit 3: end the worker turn after this frame;
 *   bits 4-6: when the turn ends, advance the housekeeping clock
 *     (0: no; else by 1 ms up to a day, see advance_ms) and run a full expiry
 *     pass over flows and fragments at that time.
 *
 * A turn runs like the loops': the pods' bursts, the fabric's, flush,
 * the handoff rings (until empty), housekeeping. After the input every
 * flow is flushed, every fragment expired, the ports drained and the
 * record and alert rings written out (to /dev/null), so no state carries
 * into the next input; and every mbuf, flow record and alert must then
 * be back in its pool: an mbuf the pipeline lost is a crash here, not a
 * slow leak that ASan cannot see.
 * Every frame the node sends on the fabric must open under node-b's key,
 * in sequence, and carry a packet for node-b's pod.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/lsan_interface.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "config.h"
#include "frag.h"
#include "node.h"
#include "node_priv.h"
#include "nodemesh/tnl_state.h"
#include "nodemesh/tunnel.h"
#include "nodemesh/worker.h"
#include "peer_msg.h"
#include "pod_table.h"
#include "track.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_pipeline: %s:%d: check failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define IP_A	   IP4(198, 18, 0, 1)
#define IP_B	   IP4(198, 18, 0, 2)
#define FAB_IP	   IP4(198, 19, 0, 1)
#define PEER_IP	   IP4(198, 19, 0, 2)
#define REMOTE_POD IP4(198, 18, 2, 5)
#define UDP_PORT   4790
#define TX_EPOCH   7 /* the node seals for node-b with this */
#define RX_EPOCH   9 /* node-b seals with this: the target, for sealed frames */

#define RING_SIZE     1024
#define MAX_INPUT_LEN 65536
#define MAX_FRAMES    512
#define OUTER_LEN     (14 + 20 + 8) /* Ethernet, IPv4, UDP in front of a record */

enum { SRC_A, SRC_B, SRC_SEALED, SRC_RAW };

#define SEL_SRC	      0x03
#define SEL_FIX_CSUM  0x04
#define SEL_END_TURN  0x08
#define SEL_ADVANCE_S 4 /* shift of the 3-bit clock advance */

/* Clock advance by selector bits 4-6, in ms: past each flow timeout and the fragment timeout. */
static const uint64_t advance_ms[8] = {0, 1, 2500, 6000, 31000, 61000, 3601000, 86400000};

static const uint8_t MAC_A[6] = {0x02, 0xaa, 0, 0, 0, 0x01};
static const uint8_t MAC_B[6] = {0x02, 0xbb, 0, 0, 0, 0x02};
static const uint8_t PORT_MAC_A[6] = {0x02, 0x0a, 0, 0, 0, 0x01};
static const uint8_t PORT_MAC_B[6] = {0x02, 0x0b, 0, 0, 0, 0x02};
static const uint8_t FAB_MAC[6] = {0x02, 0x0f, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0xfb, 0, 0, 0, 0x02};

static const char rules_text[] =
    "reject tcp any any -> any 80 (msg:\"union select\"; flow:to_server,established; "
    "content:\"UNION SELECT\"; nocase; sid:1001; rev:1;)\n"
    "drop tcp any 80 -> any any (msg:\"secret leaves\"; flow:to_client; content:\"TOPSECRET\"; "
    "sid:1002;)\n"
    "alert tcp any any -> any any (msg:\"two parts\"; content:\"alpha\"; content:\"omega\"; "
    "sid:1003;)\n"
    "drop udp any any -> any 53 (msg:\"evil datagram\"; content:\"EVIL\"; sid:2001;)\n"
    "reject udp any any -> any 54 (msg:\"pcre datagram\"; pcre:\"/ev[0-9]+il/i\"; sid:2002;)\n"
    "alert icmp any any -> any any (msg:\"ping text\"; pcre:\"/ping/i\"; sid:3001;)\n";

/* One in-memory port: the pipeline transmits into tx; nothing is ever received from rx. */
struct fport {
	uint16_t id;
	struct rte_ring *rx;
	struct rte_ring *tx;
};

static struct nm_node *node;
#define N_WORKERS 2
static struct nm_worker *wk[N_WORKERS]; /* 0: pod A and the fabric; 1: pod B */
static struct fport port_a, port_b, port_fab;
static uint16_t slot_a, slot_b;
static struct nm_tnl_key *peer_seal; /* node-b's sealing key, as node-b holds it */
static uint16_t peer_epoch = RX_EPOCH;
static struct nm_tnl_key *peer_open; /* node-b's key for opening what this node seals */
static struct nm_tnl_replay peer_replay;
static uint16_t node_epoch = TX_EPOCH;
static unsigned int pkts_baseline;
static bool trace;	     /* NM_FUZZ_TRACE=1: what each input did, on stderr */
static unsigned int sent[3]; /* frames the pipeline sent to A, B, the fabric in this input */

static struct fport
port_create(const char *name)
{
	struct rte_eth_conf conf;
	struct fport p;
	char rn[RTE_RING_NAMESIZE];

	snprintf(rn, sizeof(rn), "%s_rx", name);
	p.rx = rte_ring_create(rn, RING_SIZE, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rn, sizeof(rn), "%s_tx", name);
	p.tx = rte_ring_create(rn, RING_SIZE, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	CHECK(p.rx != NULL && p.tx != NULL);
	int id = rte_eth_from_rings(name, &p.rx, 1, &p.tx, 1, rte_socket_id());
	CHECK(id >= 0);
	p.id = (uint16_t)id;

	memset(&conf, 0, sizeof(conf));
	CHECK(rte_eth_dev_configure(p.id, 1, 1, &conf) == 0);
	CHECK(rte_eth_rx_queue_setup(p.id, 0, RING_SIZE, rte_socket_id(), NULL, node->dp.pool) ==
	      0);
	CHECK(rte_eth_tx_queue_setup(p.id, 0, RING_SIZE, rte_socket_id(), NULL) == 0);
	CHECK(rte_eth_dev_start(p.id) == 0);
	return p;
}

/* A local pod on port, owned by worker, published the way node.c's pod add does. */
static uint16_t
pod_add(const char *name, uint32_t ip, const struct fport *port, const uint8_t *port_mac,
	const uint8_t *pod_mac, uint16_t worker)
{
	char err[256] = "";
	struct nm_pod_table *t =
	    nm_pod_table_clone(node->dp.pods, node->dp.hash_seed, node->dp.n_workers);
	int slot = -1;

	CHECK(t != NULL);
	for (int s = 0; s < NM_MAX_PODS && slot < 0; s++)
		if (!nm_pod_present(&t->pods[s]))
			slot = s;
	CHECK(slot >= 0);

	struct nm_pod *p = &t->pods[slot];
	memset(p, 0, sizeof(*p));
	snprintf(p->spec.name, sizeof(p->spec.name), "%s", name);
	snprintf(p->spec.ns, sizeof(p->spec.ns), "default");
	snprintf(p->spec.sa, sizeof(p->spec.sa), "%s", name);
	snprintf(p->spec.labels, sizeof(p->spec.labels), "app=%s", name);
	p->spec.ip = rte_cpu_to_be_32(ip);
	p->port_id = port->id;
	memcpy(p->port_mac.addr_bytes, port_mac, 6);
	p->worker = worker;
	p->id = node->next_pod_id++;
	p->live = rte_zmalloc("fuzz_pod_live", sizeof(*p->live), RTE_CACHE_LINE_SIZE);
	CHECK(p->live != NULL);
	memcpy(p->live->pod_mac.addr_bytes, pod_mac, 6);
	p->live->mac_known = true;
	CHECK(nm_node_publish_rebuilt(node, t, err, sizeof(err)) == 0);
	return (uint16_t)slot;
}

static void
policy_up(void)
{
	static const char *const rules[] = {
	    "deny from default/b to default/a proto tcp port 23",
	    "allow from app=a to app=b proto udp port 5000-5100 rate 2000pps burst 8",
	};
	char err[256] = "";
	uint32_t id;

	CHECK(nm_node_policy_default(node, true, err, sizeof(err)) == 0);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (nm_node_policy_add(node, rules[i], &id, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_pipeline: policy '%s': %s\n", rules[i], err);
			abort();
		}
}

static void
sigs_up(void)
{
	char path[] = "/tmp/nm-fuzz-sigs-XXXXXX";
	char err[512] = "";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, rules_text, sizeof(rules_text) - 1) == (ssize_t)(sizeof(rules_text) - 1));
	close(fd);
	int n = nm_node_sig_load(node, path, err, sizeof(err));
	unlink(path);
	if (n != 6) {
		fprintf(stderr, "fuzz_pipeline: nm_node_sig_load gave %d: %s\n", n, err);
		abort();
	}
}

static void
key_params(struct nm_tnl_key_params *kp, uint16_t epoch, uint8_t dir, uint8_t salt)
{
	memset(kp, 0, sizeof(*kp));
	kp->cipher = NM_TNL_AES_128_GCM;
	kp->dir = dir;
	kp->epoch = epoch;
	for (int i = 0; i < 16; i++)
		kp->key[i] = (uint8_t)(salt + i);
	for (int i = 0; i < 12; i++)
		kp->iv[i] = (uint8_t)(salt * 3 + i);
}

/* node-b's current receive key on this node, and the same key for sealing here. */
static void
peer_rx_key(uint16_t epoch)
{
	struct nm_tnl_key_params kp;
	char err[256] = "";

	key_params(&kp, epoch, NM_TNL_OPEN, 0x40);
	CHECK(nm_node_tnl_set_rx(node, 0, &kp, err, sizeof(err)) == 0);
	key_params(&kp, epoch, NM_TNL_SEAL, 0x40);
	nm_tnl_key_free(peer_seal);
	peer_seal = nm_tnl_key_create(&kp);
	CHECK(peer_seal != NULL);
}

/* This node's sealing key for node-b, and the same key for opening here as node-b. */
static void
node_tx_key(uint16_t epoch)
{
	struct nm_tnl_key_params kp;
	char err[256] = "";

	key_params(&kp, epoch, NM_TNL_SEAL, 0x10);
	CHECK(nm_node_tnl_set_tx(node, 0, &kp, err, sizeof(err)) == 0);
	key_params(&kp, epoch, NM_TNL_OPEN, 0x10);
	nm_tnl_key_free(peer_open);
	peer_open = nm_tnl_key_create(&kp);
	CHECK(peer_open != NULL);
	nm_tnl_replay_init(&peer_replay);
}

/* node-b's MAC, as if it had answered ARP: what an opened frame teaches is forgotten per input. */
static void
peer_mac_reset(void)
{
	struct rte_ether_addr mac = {0};

	memcpy(mac.addr_bytes, PEER_MAC, 6);
	nm_peer_mac_set(&node->dp.tnl->peers[0], &mac);
}

/* The fabric port, node-b with its keys and its one pod (as test_fabric.c sets them up). */
static void
fabric_up(void)
{
	struct nm_peer_spec spec = {.name = "node-b", .port = 7400};
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD};
	char err[256] = "";

	port_fab = port_create("net_ring_fab");
	node->dp.has_fabric = true;
	node->dp.fabric_port = port_fab.id;
	memcpy(node->dp.fabric_mac.addr_bytes, FAB_MAC, 6);
	node->cfg.tunnel.fabric_ip = rte_cpu_to_be_32(FAB_IP);
	node->dp.params.fabric_ip = node->cfg.tunnel.fabric_ip;
	node->cfg.tunnel.udp_port = UDP_PORT;
	node->dp.params.udp_port = UDP_PORT;
	node->dp.tnl_mtu = 1500 - NM_TNL_IP_OVERHEAD;
	/* What nm_node_tunnel_init makes for a fabric, small (as test_fabric.c does). */
	CHECK(nm_ipcache_create(&node->ipc, 64, node->dp.qsbr, 7, err, sizeof(err)) == 0);
	node->dp.ipcache = node->ipc.h;
	node->remote_session = calloc(node->dp.tnl->max_peers, sizeof(*node->remote_session));
	node->remote_count = calloc(node->dp.tnl->max_peers, sizeof(*node->remote_count));
	CHECK(node->remote_session != NULL && node->remote_count != NULL);

	spec.fabric_ip = rte_cpu_to_be_32(PEER_IP);
	spec.pod_cidr.net = rte_cpu_to_be_32(IP4(198, 18, 2, 0));
	spec.pod_cidr.prefix_len = 24;
	CHECK(nm_node_tnl_peer_set(node, 0, &spec, err, sizeof(err)) == 0);
	node_tx_key(node_epoch);
	peer_rx_key(peer_epoch);

	a.ip = rte_cpu_to_be_32(REMOTE_POD);
	snprintf(a.ns, sizeof(a.ns), "remote");
	snprintf(a.sa, sizeof(a.sa), "r");
	CHECK(nm_node_remote_pod_add(node, 0, &a, err, sizeof(err)) == 0);
	peer_mac_reset();
}

/*
 * LeakSanitizer scans the heap, stacks and globals, not DPDK's memory (an
 * mmap): what the node keeps only in rte_malloc'd structures (Hyperscan
 * scratch, keys, stream pools) would look leaked. Make DPDK's memory a
 * root, so that only memory nothing points to is reported.
 */
static int
lsan_root(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	__lsan_register_root_region(msl->base_va, msl->len);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	/* lcore 0: the control thread; lcores 1 and 2 (same CPU): the workers, never launched. */
	char *eal_argv[] = {"fuzz_pipeline",
			    "--no-huge",
			    "-m",
			    "256",
			    "--no-pci",
			    "--no-shconf",
			    prefix,
			    "--log-level=*:error",
			    "--lcores=0@0,1@0,2@0",
			    NULL};
	struct nm_config cfg;
	char err[256] = "";

	(void)argc;
	(void)argv;
	/* Unique per process: libFuzzer's -jobs and -fork run several at once. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=nm-fuzz-%d", (int)getpid());
	CHECK(rte_eal_init(9, eal_argv) >= 0);
	CHECK(rte_memseg_list_walk(lsan_root, NULL) == 0);

	nm_config_defaults(&cfg);
	cfg.mbufs = 4096;
	/* The smallest tables the configuration allows, so that one input can fill them. */
	cfg.flow_capacity = 64;
	cfg.frag_max_flows = 16;
	cfg.sig_max_streams = 32; /* fewer than flows: running out of streams is reachable */
	snprintf(cfg.flow_log, sizeof(cfg.flow_log), "/dev/null");
	snprintf(cfg.alert_log, sizeof(cfg.alert_log), "/dev/null");
	cfg.store.dir[0] = '\0'; /* the store has its own tests; not on every input */
	node = nm_node_create(&cfg, err, sizeof(err));
	if (node == NULL) {
		fprintf(stderr, "fuzz_pipeline: nm_node_create: %s\n", err);
		abort();
	}
	CHECK(node->dp.n_workers == N_WORKERS);
	for (unsigned int i = 0; i < N_WORKERS; i++)
		wk[i] = node->dp.workers[i];

	port_a = port_create("net_ring_a");
	port_b = port_create("net_ring_b");
	slot_a = pod_add("a", IP_A, &port_a, PORT_MAC_A, MAC_A, 0);
	slot_b = pod_add("b", IP_B, &port_b, PORT_MAC_B, MAC_B, 1);
	policy_up();
	sigs_up();
	fabric_up();

	for (unsigned int i = 0; i < N_WORKERS; i++)
		wk[i]->icmp_last_tsc = rte_rdtsc();
	trace = getenv("NM_FUZZ_TRACE") != NULL;
	pkts_baseline = rte_mempool_in_use_count(node->dp.pool);
	return 0;
}

/* ---- frames ------------------------------------------------------------ */

static void
ip4_csum_fix(uint8_t *ip, size_t avail)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

	if (avail < 20 || (ip[0] >> 4) != 4 || ihl < 20 || ihl > avail)
		return;
	ip[10] = 0;
	ip[11] = 0;
	uint16_t sum = (uint16_t)~rte_raw_cksum(ip, ihl);
	memcpy(ip + 10, &sum, 2); /* the raw sum is in memory order already */
}

/* The IPv4 header of an Ethernet frame (untagged or one 802.1Q tag), if any. */
static void
frame_csum_fix(uint8_t *f, size_t len)
{
	size_t off = 12;

	if (len >= off + 2 && f[off] == 0x81 && f[off + 1] == 0x00)
		off += 4;
	if (len >= off + 2 && f[off] == 0x08 && f[off + 1] == 0x00)
		ip4_csum_fix(f + off + 2, len - off - 2);
}

static struct rte_mbuf *
mbuf_alloc(uint16_t port, size_t len, uint8_t **data)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(node->dp.pool);

	CHECK(m != NULL); /* the pool is back at its baseline after every input */
	*data = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	CHECK(*data != NULL);
	m->port = port;
	return m;
}

static struct rte_mbuf *
pod_frame(uint16_t port, const uint8_t *bytes, size_t len, bool fix)
{
	uint8_t *d;
	struct rte_mbuf *m = mbuf_alloc(port, len, &d);

	memcpy(d, bytes, len);
	if (fix)
		frame_csum_fix(d, len);
	return m;
}

/* inner sealed by node-b under its current key, in the frame node-b's fabric would send. */
static struct rte_mbuf *
sealed_frame(const uint8_t *inner, size_t inner_len, bool fix)
{
	uint32_t rec_len = NM_TNL_OVERHEAD + (uint32_t)inner_len;
	uint8_t *f;
	struct rte_mbuf *m = mbuf_alloc(port_fab.id, OUTER_LEN + rec_len, &f);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	uint8_t *udp = f + 14 + 20, *rec = udp + 8;

	memcpy(f, FAB_MAC, 6);
	memcpy(f + 6, PEER_MAC, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + rec_len));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(FAB_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp[0] = 0xc1;
	udp[1] = 0x23;
	udp[2] = UDP_PORT >> 8;
	udp[3] = UDP_PORT & 0xff;
	udp[4] = (uint8_t)((8 + rec_len) >> 8);
	udp[5] = (uint8_t)(8 + rec_len);
	udp[6] = 0;
	udp[7] = 0;

	memcpy(rec + NM_TNL_HDRS_LEN, inner, inner_len);
	if (fix)
		ip4_csum_fix(rec + NM_TNL_HDRS_LEN, inner_len);
	struct nm_tnl_buf b = {
	    .data = rec, .len = NM_TNL_HDRS_LEN + (uint32_t)inner_len, .room = rec_len};
	CHECK(nm_tnl_seal_burst(peer_seal, &b, 1) == 1);
	CHECK(b.len == rec_len);
	return m;
}

/* ---- driving the worker ------------------------------------------------ */

/* A turn's input, sorted by where it comes from, as the loop polls it. */
struct turn {
	struct rte_mbuf *from_a[NM_BURST];
	struct rte_mbuf *from_b[NM_BURST];
	struct rte_mbuf *from_fabric[NM_BURST];
	uint16_t n_a, n_b, n_fabric;
};

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * What leaves on the fabric is a record node-b opens with its key, in
 * sequence, carrying an IPv4 packet for its pod: never plaintext, never
 * a record the peer must refuse.
 */
static void
check_to_peer(const struct rte_mbuf *m)
{
	static uint8_t buf[4 * RTE_MBUF_DEFAULT_DATAROOM];
	uint32_t len = rte_pktmbuf_pkt_len(m);

	CHECK(len >= OUTER_LEN && len <= sizeof(buf));
	const uint8_t *f = rte_pktmbuf_read(m, 0, len, buf);
	CHECK(f != NULL);
	if (f != buf)
		memcpy(buf, f, len);
	if (buf[12] == 0x08 && buf[13] == 0x06)
		return; /* ARP for node-b's MAC */

	const uint8_t *ip = buf + 14, *udp = ip + 20;
	CHECK(buf[12] == 0x08 && buf[13] == 0x00);
	CHECK(ip[0] == 0x45 && ip[9] == IPPROTO_UDP);
	CHECK(rd32(ip + 16) == PEER_IP);
	CHECK((udp[2] << 8 | udp[3]) == UDP_PORT);
	uint32_t rec_len = (uint32_t)(udp[4] << 8 | udp[5]) - 8;
	CHECK(OUTER_LEN + rec_len == len);

	struct nm_tnl_buf b = {.data = buf + OUTER_LEN, .len = rec_len, .room = rec_len};
	nm_tnl_open_burst(peer_open, &peer_replay, &b, 1);
	CHECK(b.reason == NM_TNL_OK);
	const uint8_t *inner = b.data + NM_TNL_HDRS_LEN;
	CHECK(b.len >= NM_TNL_HDRS_LEN + 20 && (inner[0] >> 4) == 4);
	CHECK(rd32(inner + 16) == REMOTE_POD);
}

static void
drain(struct fport *p, unsigned int *count)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	while ((n = rte_ring_dequeue_burst(p->tx, (void **)m, 64, NULL)) > 0) {
		*count += n;
		for (unsigned int i = 0; i < n && p == &port_fab; i++)
			check_to_peer(m[i]);
		rte_pktmbuf_free_bulk(m, n);
	}
}

static void
drain_ports(void)
{
	drain(&port_a, &sent[0]);
	drain(&port_b, &sent[1]);
	drain(&port_fab, &sent[2]);
}

/* With NM_FUZZ_TRACE=1 (to check what a seed reaches): what the input made the worker do. */
static void
counters_sum(struct nm_worker_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < N_WORKERS; i++) {
		const struct nm_worker_counters *c = &wk[i]->c;

		sum->reassembled += c->reassembled;
		sum->fragmented += c->fragmented;
		sum->icmp_sent += c->icmp_sent;
		sum->arp_replies += c->arp_replies;
		sum->handoff_out += c->handoff_out;
		for (unsigned int r = 0; r < NM_DROP_MAX; r++)
			sum->drops[r] += c->drops[r];
	}
}

static void
trace_input(const struct nm_worker_counters *before, unsigned int alerts)
{
	struct nm_worker_counters now;
	const struct nm_worker_counters *c = &now;

	counters_sum(&now);

	fprintf(stderr,
		"fuzz_pipeline: sent a=%u b=%u fabric=%u, alerts %u, reassembled %lu, "
		"fragmented %lu, icmp %lu, arp %lu, handoffs %lu;",
		sent[0], sent[1], sent[2], alerts,
		(unsigned long)(c->reassembled - before->reassembled),
		(unsigned long)(c->fragmented - before->fragmented),
		(unsigned long)(c->icmp_sent - before->icmp_sent),
		(unsigned long)(c->arp_replies - before->arp_replies),
		(unsigned long)(c->handoff_out - before->handoff_out));
	for (unsigned int r = 1; r < NM_DROP_MAX; r++)
		if (c->drops[r] != before->drops[r])
			fprintf(stderr, " %s %lu", nm_drop_name(r),
				(unsigned long)(c->drops[r] - before->drops[r]));
	fprintf(stderr, "\n");
}

/* Expire what is due at now: a full pass over each flow table, then the fragments. */
static void
expire_all(uint64_t now)
{
	for (unsigned int i = 0; i < N_WORKERS; i++) {
		for (uint32_t k = 0; k < wk[i]->flows.cap; k += NM_FLOW_SWEEP)
			nm_track_sweep(wk[i], now);
		nm_frag_expire(wk[i], now);
	}
}

/*
 * Flush every worker, then serve the handoff rings until they are empty
 * (what a worker delivers for another can make replies that go back).
 */
static void
flush_all(const struct nm_pod_table *tbl)
{
	struct rte_mbuf *pkts[NM_BURST];
	unsigned int moved;

	do {
		for (unsigned int i = 0; i < N_WORKERS; i++)
			nm_worker_flush(wk[i], tbl);
		moved = 0;
		for (unsigned int d = 0; d < N_WORKERS; d++)
			for (unsigned int s = 0; s < N_WORKERS; s++) {
				unsigned int n;

				if (wk[d]->in[s] == NULL)
					continue;
				while ((n = rte_ring_sc_dequeue_burst(wk[d]->in[s], (void **)pkts,
								      NM_BURST, NULL)) > 0) {
					nm_worker_rx_handoff(wk[d], tbl, pkts, (uint16_t)n);
					moved += n;
				}
			}
	} while (moved > 0);
}

/* Steps 2-6 of a loop turn over what the input gave; advance: extra clock for housekeeping. */
static void
turn_run(struct turn *t, uint64_t advance)
{
	const struct nm_pod_table *tbl = node->dp.pods;

	if (t->n_a > 0)
		nm_worker_rx_pod(wk[0], tbl, slot_a, t->from_a, t->n_a);
	if (t->n_b > 0)
		nm_worker_rx_pod(wk[1], tbl, slot_b, t->from_b, t->n_b);
	/* Any worker's fabric queue may get a record: which one follows the input. */
	if (t->n_fabric > 0)
		nm_worker_rx_fabric(wk[(t->n_a + t->n_fabric) % N_WORKERS], tbl, t->from_fabric,
				    t->n_fabric);
	flush_all(tbl);

	uint64_t now = rte_rdtsc();
	if (advance == 0) {
		for (unsigned int i = 0; i < N_WORKERS; i++) {
			nm_track_sweep(wk[i], now);
			nm_frag_expire(wk[i], now);
		}
	} else {
		expire_all(now + advance);
		flush_all(tbl); /* what ending flows released */
	}
	drain_ports();
	t->n_a = t->n_b = t->n_fabric = 0;
}

/* End every flow and fragment set, drain ports and rings: the next input starts afresh. */
static void
reset(unsigned int *alerts)
{
	const struct nm_pod_table *tbl = node->dp.pods;

	__atomic_store_n(&node->dp.flush_pod_id, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&node->dp.flush_end, NM_FLOW_END_FLUSH, __ATOMIC_RELAXED);
	uint64_t seq = __atomic_add_fetch(&node->dp.flush_seq, 1, __ATOMIC_RELEASE);
	*alerts = 0;
	for (unsigned int i = 0; i < N_WORKERS; i++) {
		nm_track_flush(wk[i], seq);
		CHECK(wk[i]->flows.n == 0);
		nm_frag_expire(wk[i], rte_rdtsc() + 1000 * node->dp.tsc_hz);
	}
	flush_all(tbl);
	drain_ports();
	for (unsigned int i = 0; i < N_WORKERS; i++)
		*alerts += rte_ring_count(wk[i]->alert_ring);
	nm_node_drain_records(node);
	nm_node_drain_alerts(node);

	/* What the pipeline learnt from frames goes back to what Initialize set. */
	struct nm_pod_live *la = tbl->pods[slot_a].live, *lb = tbl->pods[slot_b].live;
	memcpy(la->pod_mac.addr_bytes, MAC_A, 6);
	la->mac_known = true;
	memcpy(lb->pod_mac.addr_bytes, MAC_B, 6);
	lb->mac_known = true;
	peer_mac_reset();

	CHECK(rte_mempool_in_use_count(node->dp.pool) == pkts_baseline);
	CHECK(rte_mempool_in_use_count(node->dp.rec_pool) == 0);
	CHECK(rte_mempool_in_use_count(node->dp.alert_pool) == 0);
}

/* A key nears its record limit after some 12 M sealed records: rekey, as peers do. */
static void
rekey_if_due(void)
{
	if (nm_tnl_key_should_rotate(peer_seal)) {
		peer_epoch = peer_epoch == UINT16_MAX ? RX_EPOCH : (uint16_t)(peer_epoch + 1);
		peer_rx_key(peer_epoch);
	}
	if (nm_node_tnl_tx_should_rotate(node, 0)) {
		node_epoch = node_epoch == UINT16_MAX ? TX_EPOCH : (uint16_t)(node_epoch + 1);
		node_tx_key(node_epoch);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct turn t;
	struct nm_worker_counters before;
	size_t off = 0;
	unsigned int frames = 0, alerts;

	if (size > MAX_INPUT_LEN)
		return 0;
	rekey_if_due();
	/* What the top of a loop turn does: the published rule set and tunnel state. */
	for (unsigned int i = 0; i < N_WORKERS; i++) {
		wk[i]->sigs = node->dp.sigs;
		wk[i]->tnl = node->dp.tnl;
	}
	if (trace)
		counters_sum(&before);

	while (off + 3 <= size && frames < MAX_FRAMES) {
		uint8_t sel = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		const uint8_t *bytes = data + off + 3;
		bool fix = (sel & SEL_FIX_CSUM) != 0;
		struct rte_mbuf *m;

		off += 3;
		if (len > size - off)
			len = size - off;
		off += len;
		frames++;

		switch (sel & SEL_SRC) {
		case SRC_A:
		case SRC_B:
			if (len > RTE_MBUF_DEFAULT_DATAROOM)
				len = RTE_MBUF_DEFAULT_DATAROOM;
			if ((sel & SEL_SRC) == SRC_A)
				t.from_a[t.n_a++] = pod_frame(port_a.id, bytes, len, fix);
			else
				t.from_b[t.n_b++] = pod_frame(port_b.id, bytes, len, fix);
			break;
		case SRC_SEALED:
			if (len > RTE_MBUF_DEFAULT_DATAROOM - OUTER_LEN - NM_TNL_OVERHEAD)
				len = RTE_MBUF_DEFAULT_DATAROOM - OUTER_LEN - NM_TNL_OVERHEAD;
			m = sealed_frame(bytes, len, fix);
			t.from_fabric[t.n_fabric++] = m;
			break;
		default:
			if (len > RTE_MBUF_DEFAULT_DATAROOM)
				len = RTE_MBUF_DEFAULT_DATAROOM;
			t.from_fabric[t.n_fabric++] = pod_frame(port_fab.id, bytes, len, fix);
			break;
		}

		/* A full burst ends the turn as well: the loop takes NM_BURST per port. */
		if ((sel & SEL_END_TURN) || t.n_a == NM_BURST || t.n_b == NM_BURST ||
		    t.n_fabric == NM_BURST) {
			uint64_t ms = advance_ms[(sel >> SEL_ADVANCE_S) & 7];
			turn_run(&t, ms * (node->dp.tsc_hz / 1000));
		}
	}
	turn_run(&t, 0);
	reset(&alerts);
	if (trace)
		trace_input(&before, alerts);
	memset(sent, 0, sizeof(sent));
	return 0;
}
