/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod specification: what an operator gives for one pod, at `pod add` or in
 * the config file. Validated once by nm_pod_spec_check() and then trusted.
 */
#ifndef NM_POD_T_H
#define NM_POD_T_H

#include <stdint.h>
#include <net/if.h>

#define NM_MAX_PODS	 1024 /* pod table slots: dataplane.max_pods can be at most this */
#define NM_DEFAULT_PODS	 256  /* dataplane.max_pods when the config does not say */
#define NM_NAME_LEN	 64   /* names incl. NUL: pod, namespace, service account */
#define NM_IMAGE_LEN	 160  /* container image reference incl. NUL */
#define NM_LABELS_LEN	 256  /* "k=v,k=v" incl. NUL */
#define NM_CONTAINER_LEN 128  /* CNI container id incl. NUL */

enum nm_port_driver {
	NM_DRV_AF_PACKET = 0, /* nodemesh's own PF_PACKET rings on the host end of the veth */
	NM_DRV_AF_XDP,	      /* net_af_xdp ethdev on the same (at most 31 per node) */
	NM_DRV_MEMIF,	      /* net_memif ethdev server on a Unix socket, for DPDK-aware pods */
};

/* Ring geometry, from the configuration (dataplane.af_packet): see nodemesh/podio-t.h. */
struct nm_podio_params {
	uint32_t version;	/* 2: TPACKET_V2 (frame-based RX), 3: TPACKET_V3 (block-based RX) */
	uint32_t rx_block_size; /* bytes of one RX block: a multiple of the page size */
	uint32_t rx_blocks;	/* RX blocks in the ring */
	uint32_t rx_block_ms; /* V3: a block with packets is handed over after this, full or not */
	uint32_t frame_size;  /* bytes of one ring slot, header included: a power of two */
	uint32_t tx_frames;   /* TX slots in the ring */
};

#define NM_SOCKET_PATH_LEN 108 /* sizeof(sockaddr_un.sun_path) */

/*
 * The identity fields (sa, labels, image) come from `identity set` (a node
 * agent that reads them from the API server) or from the operator's own
 * `pod add`. sa == "" means the identity is not known: the pod matches no
 * policy selector but '*' (fail closed).
 */
struct nm_pod_spec {
	char name[NM_NAME_LEN];
	char ns[NM_NAME_LEN];
	char sa[NM_NAME_LEN];		  /* "": identity unknown */
	char container[NM_CONTAINER_LEN]; /* the CNI container id that attached it, or "" */
	char iface[IF_NAMESIZE];
	char image[NM_IMAGE_LEN];
	char labels[NM_LABELS_LEN];
	char memif_socket[NM_SOCKET_PATH_LEN]; /* driver memif: socket path; else "" */
	uint8_t mac[6];	 /* static pod MAC (mac=), for pods without ARP; see has_mac */
	uint8_t has_mac; /* 1: mac is static and never re-learnt */
	uint32_t ip;	 /* IPv4, network byte order */
	uint8_t driver;	 /* enum nm_port_driver */
};

#endif
