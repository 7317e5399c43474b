/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nm-peersim: N simulated nodes against one real nodemeshd (issue 19,
 * part 4). Each simulated peer has its own certificate, its own control
 * address and fabric address, and speaks the real protocol through the
 * daemon's own code: mutual TLS 1.3 and framed JSON (ctrl/peer_tls.c,
 * ctrl/peer_msg.c), tunnel keys from the TLS exporter, records sealed by
 * the record layer (dataplane/tnl_record.c). This header is the simulator's
 * own: the peers (peersim.c) and the fabric sender (sim_fabric.c).
 */
#ifndef NM_SIM_H
#define NM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "nodemesh/cidr-t.h"
#include "nodemesh/tunnel-t.h"

#define SIM_NAME_LEN 64

enum sim_state {
	SIM_IDLE = 0,	/* not connected; dials at start_ns */
	SIM_CONNECTING, /* TCP connect in progress */
	SIM_HANDSHAKE,	/* TLS handshake in progress */
	SIM_HELLO_WAIT, /* our hello sent; the daemon's hello says it accepted us */
	SIM_UP,		/* hello received */
	SIM_FAILED,	/* gave up: err says why */
};

struct sim_peer {
	unsigned int idx;
	char name[SIM_NAME_LEN];
	uint32_t mgmt_ip;   /* control connection source, network order */
	uint32_t fabric_ip; /* outer source of sealed records, network order */
	struct nm_cidr pod_cidr;
	struct nm_tls_ctx *ctx; /* this peer's own certificate */
	int fd;
	struct nm_tls_conn *tls;
	enum sim_state state;
	uint64_t start_ns; /* when to dial (the --rate schedule) */
	uint64_t up_ns;	   /* when the daemon's hello came */
	unsigned int sessions;
	bool announce_on_up; /* send every pod once the session is up (resync) */
	/* Keys: the daemon's offers we acknowledge, and our own sending epoch. */
	uint16_t epoch_seq;
	uint16_t offered;
	uint16_t tx_epoch; /* acknowledged by the daemon: seal with it */
	struct nm_tnl_key *seal;
	uint64_t keys_acked; /* the daemon's key offers we answered */
	uint64_t announced;  /* pod_add / pod_del messages sent */
	char err[256];
};

/* Where the sealed records go: the daemon's fabric port. */
struct sim_fabric {
	int fd; /* AF_PACKET raw socket on the fabric veth */
	int ifindex;
	uint8_t dst_mac[6]; /* the daemon's fabric port */
	uint32_t dst_ip;    /* the daemon's fabric address, network order */
	uint16_t udp_port;  /* tunnel.udp_port */
};

/*
 * Open an AF_PACKET socket on iface. Returns 0, or -errno with err naming
 * the call that failed.
 */
int sim_fabric_open(struct sim_fabric *f, const char *iface, char *err, size_t errlen);
void sim_fabric_close(struct sim_fabric *f);

/*
 * Seal count UDP datagrams of payload_len bytes from (src_ip, sport) to
 * (dst_ip, dport) with p's sending key and send them on the fabric as p's
 * fabric address. Returns how many were sent, or -errno with err set.
 */
int sim_fabric_send_udp(struct sim_fabric *f, struct sim_peer *p, uint32_t src_ip, uint32_t dst_ip,
			uint16_t dport, unsigned int count, char *err, size_t errlen);

#endif
