/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod specification: what an operator gives for one pod, at `pod add` or in
 * the config file. Validated once by nm_pod_spec_check() and then trusted.
 */
#ifndef NM_POD_T_H
#define NM_POD_T_H

#include <stdint.h>
#include <net/if.h>

#define NM_MAX_PODS	 256 /* pods per node */
#define NM_NAME_LEN	 64  /* names incl. NUL: pod, namespace, service account */
#define NM_IMAGE_LEN	 160 /* container image reference incl. NUL */
#define NM_LABELS_LEN	 256 /* "k=v,k=v" incl. NUL */
#define NM_CONTAINER_LEN 128 /* CNI container id incl. NUL */

enum nm_port_driver {
	NM_DRV_AF_PACKET = 0, /* net_af_packet on the host end of the pod's veth */
	NM_DRV_AF_XDP,	      /* net_af_xdp on the same */
	NM_DRV_MEMIF,	      /* net_memif server on a Unix socket, for DPDK-aware pods */
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
