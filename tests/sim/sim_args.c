/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nm-peersim's command line: the options, each checked, and the usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "nodemesh/tunnel.h"
#include "sim_run.h"

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: nm-peersim --certs DIR --daemon NAME --server IP:PORT --ctl SOCKET\n"
	    "                  --mgmt-base IP --fabric-base IP --pod-base IP [options]\n"
	    "\n"
	    "  -n, --peers N          simulated nodes (default 15)\n"
	    "  -p, --pods N           pods each announces, 1 to the CIDR's hosts (default 10)\n"
	    "  --pod-prefix LEN       each peer's pod CIDR is a /LEN, 16..30 (default 24)\n"
	    "  --rate R               handshakes started per second (default 0: all at once)\n"
	    "  --batch B              announce B pods at a time, each batch timed until the\n"
	    "                         daemon holds it (default 0: all at once)\n"
	    "  --withdraw             the last peer withdraws its pods and announces them again\n"
	    "  --restart              the last peer's session restarts and re-announces\n"
	    "  --send IP:PORT         sealed UDP records to a local pod, from pod 1 of each\n"
	    "                         --send-from peer (needs --fabric-iface, --fabric-mac,\n"
	    "                         --fabric-dst)\n"
	    "  --send-from I[,I...]   peer numbers that send (default 1)\n"
	    "  --send-count N         records each (default 20)\n"
	    "  --fabric-iface IF      the veth whose other end is the daemon's fabric port\n"
	    "  --fabric-mac MAC       the daemon's fabric port MAC\n"
	    "  --fabric-dst IP        the daemon's tunnel.fabric_ip\n"
	    "  --udp-port N           the daemon's tunnel.udp_port (default 4790)\n"
	    "  --cipher NAME          the daemon's tunnel.cipher (default aes-128-gcm)\n"
	    "  --trust-domain TD      (default nodemesh.test)\n"
	    "  --prefix P             peer names P-001, P-002, ... (default sim); certificates\n"
	    "                         DIR/P-001.pem and .key; names must sort before --daemon\n"
	    "  --pod-ns NS            namespace of the announced pods (default sim)\n"
	    "  --no-register          the peers are in the daemon's config already\n"
	    "  --timeout S            per phase (default 60)\n"
	    "  --hold S               keep the sessions up S seconds at the end\n"
	    "  --redial               while holding, a peer whose session ends (the daemon\n"
	    "                         restarted, say) dials again after 200-700 ms and\n"
	    "                         announces its pods on the new session\n");
}

static int
parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = a.s_addr;
	return 0;
}

static int
parse_hostport(const char *s, uint32_t *ip, uint16_t *port)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long p;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	p = strtol(colon + 1, NULL, 10);
	if (p < 1 || p > 65535 || parse_ip(host, ip) < 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int
parse_cipher(const char *s, unsigned int *cipher)
{
	for (unsigned int c = 0; c < NM_TNL_CIPHERS; c++)
		if (strcmp(nm_tnl_cipher_name(c), s) == 0) {
			*cipher = c;
			return 0;
		}
	return -1;
}

static int
parse_list(const char *s, unsigned int *out, unsigned int *n)
{
	char *end;

	*n = 0;
	while (*s != '\0' && *n < MAX_SEND_FROM) {
		long v = strtol(s, &end, 10);
		if (end == s || v < 1)
			return -1;
		out[(*n)++] = (unsigned int)v;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return -1;
	}
	return *n > 0 ? 0 : -1;
}

int
sim_args_parse(struct sim *s, int argc, char **argv)
{
	enum {
		O_RATE = 256,
		O_WITHDRAW,
		O_RESTART,
		O_SEND,
		O_SEND_FROM,
		O_SEND_COUNT,
		O_IFACE,
		O_MAC,
		O_FDST,
		O_UDP,
		O_CIPHER,
		O_TD,
		O_PREFIX,
		O_PODNS,
		O_NOREG,
		O_TIMEOUT,
		O_HOLD,
		O_CERTS,
		O_DAEMON,
		O_SERVER,
		O_CTL,
		O_MGMT,
		O_FAB,
		O_POD,
		O_BATCH,
		O_UNREG,
		O_PODPFX,
		O_REDIAL
	};
	static const struct option opts[] = {
	    {"peers", required_argument, NULL, 'n'},
	    {"pods", required_argument, NULL, 'p'},
	    {"rate", required_argument, NULL, O_RATE},
	    {"batch", required_argument, NULL, O_BATCH},
	    {"withdraw", no_argument, NULL, O_WITHDRAW},
	    {"restart", no_argument, NULL, O_RESTART},
	    {"send", required_argument, NULL, O_SEND},
	    {"send-from", required_argument, NULL, O_SEND_FROM},
	    {"send-count", required_argument, NULL, O_SEND_COUNT},
	    {"fabric-iface", required_argument, NULL, O_IFACE},
	    {"fabric-mac", required_argument, NULL, O_MAC},
	    {"fabric-dst", required_argument, NULL, O_FDST},
	    {"udp-port", required_argument, NULL, O_UDP},
	    {"cipher", required_argument, NULL, O_CIPHER},
	    {"trust-domain", required_argument, NULL, O_TD},
	    {"prefix", required_argument, NULL, O_PREFIX},
	    {"pod-ns", required_argument, NULL, O_PODNS},
	    {"no-register", no_argument, NULL, O_NOREG},
	    {"unregister", no_argument, NULL, O_UNREG},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"hold", required_argument, NULL, O_HOLD},
	    {"certs", required_argument, NULL, O_CERTS},
	    {"daemon", required_argument, NULL, O_DAEMON},
	    {"server", required_argument, NULL, O_SERVER},
	    {"ctl", required_argument, NULL, O_CTL},
	    {"mgmt-base", required_argument, NULL, O_MGMT},
	    {"fabric-base", required_argument, NULL, O_FAB},
	    {"pod-base", required_argument, NULL, O_POD},
	    {"pod-prefix", required_argument, NULL, O_PODPFX},
	    {"redial", no_argument, NULL, O_REDIAL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool have_mac = false;
	int c;

	while ((c = getopt_long(argc, argv, "n:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			s->n_peers = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			s->pods.per_peer = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case O_RATE:
			s->rate = strtod(optarg, NULL);
			break;
		case O_BATCH:
			s->batch = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case O_WITHDRAW:
			s->withdraw = true;
			break;
		case O_RESTART:
			s->restart = true;
			break;
		case O_SEND:
			if (parse_hostport(optarg, &s->send_dst, &s->send_port) < 0)
				BAD("--send '%s': want IP:PORT", optarg);
			s->send = true;
			break;
		case O_SEND_FROM:
			if (parse_list(optarg, s->send_from, &s->n_send_from) < 0)
				BAD("--send-from '%s': want peer numbers 1.. separated by commas",
				    optarg);
			break;
		case O_SEND_COUNT:
			s->send_count = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case O_IFACE:
			s->fabric_iface = optarg;
			break;
		case O_MAC:
			if (parse_mac(optarg, s->fabric.dst_mac) < 0)
				BAD("--fabric-mac '%s': want aa:bb:cc:dd:ee:ff", optarg);
			have_mac = true;
			break;
		case O_FDST:
			if (parse_ip(optarg, &s->fabric.dst_ip) < 0)
				BAD("--fabric-dst '%s': not an IPv4 address", optarg);
			break;
		case O_UDP:
			s->fabric.udp_port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case O_CIPHER:
			if (parse_cipher(optarg, &s->target.cipher) < 0)
				BAD("--cipher '%s': aes-128-gcm, aes-256-gcm or chacha20-poly1305",
				    optarg);
			break;
		case O_TD:
			s->td = optarg;
			break;
		case O_PREFIX:
			s->prefix = optarg;
			break;
		case O_PODNS:
			snprintf(s->pods.ns, sizeof(s->pods.ns), "%s", optarg);
			break;
		case O_NOREG:
			s->register_peers = false;
			break;
		case O_UNREG:
			s->unregister = true;
			break;
		case O_TIMEOUT:
			s->timeout_s = strtod(optarg, NULL);
			break;
		case O_HOLD:
			s->hold_s = strtod(optarg, NULL);
			break;
		case O_CERTS:
			s->certs = optarg;
			break;
		case O_DAEMON:
			snprintf(s->target.name, sizeof(s->target.name), "%s", optarg);
			break;
		case O_SERVER:
			if (parse_hostport(optarg, &s->target.ip, &s->target.port) < 0)
				BAD("--server '%s': want IP:PORT", optarg);
			break;
		case O_CTL:
			s->ctl = optarg;
			break;
		case O_MGMT:
			if (parse_ip(optarg, &s->mgmt_base) < 0)
				BAD("--mgmt-base '%s': not an IPv4 address", optarg);
			break;
		case O_FAB:
			if (parse_ip(optarg, &s->fabric_base) < 0)
				BAD("--fabric-base '%s': not an IPv4 address", optarg);
			break;
		case O_POD:
			if (parse_ip(optarg, &s->pod_base) < 0)
				BAD("--pod-base '%s': not an IPv4 address", optarg);
			break;
		case O_PODPFX:
			s->pod_prefix = (unsigned int)strtoul(optarg, NULL, 10);
			if (s->pod_prefix < 16 || s->pod_prefix > 30)
				BAD("--pod-prefix '%s': 16 to 30", optarg);
			break;
		case O_REDIAL:
			s->redial = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc)
		BAD("unexpected argument '%s' (see --help)", argv[optind]);
	if (s->certs == NULL || s->target.name[0] == '\0' || s->target.ip == 0 || s->ctl == NULL ||
	    s->mgmt_base == 0 || s->fabric_base == 0 || s->pod_base == 0)
		BAD("--certs, --daemon, --server, --ctl, --mgmt-base, --fabric-base and --pod-base "
		    "are required (see --help)");
	if (s->n_peers < 1 || s->n_peers > MAX_SIM_PEERS)
		BAD("-n %u: 1 to %d peers", s->n_peers, MAX_SIM_PEERS);
	unsigned int hosts = (1u << (32 - s->pod_prefix)) - 2;
	if (s->pods.per_peer < 1 || s->pods.per_peer > hosts)
		BAD("-p %u: 1 to %u pods per peer (one /%u each)", s->pods.per_peer, hosts,
		    s->pod_prefix);
	if (s->rate < 0)
		BAD("--rate %g: handshakes per second, 0 for all at once", s->rate);
	if (s->send && (s->fabric_iface == NULL || !have_mac || s->fabric.dst_ip == 0))
		BAD("--send needs --fabric-iface, --fabric-mac and --fabric-dst");
	if (s->restart && s->pods.per_peer < 2)
		BAD("--restart re-announces all pods but one: give -p 2 or more");
	return 0;
}
