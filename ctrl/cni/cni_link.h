/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The links nodemesh-cni creates and configures, over rtnetlink (libmnl)
 * and the SIOCETHTOOL ioctl. Every call acts in the network namespace the
 * process is in when it is made (a netlink socket belongs to the namespace
 * it was opened in, so each call opens its own); nm_cni_netns_enter() and
 * _leave() move the single-threaded plugin into the pod's namespace and
 * back. All return 0 or -errno and fill err with the failed step.
 */
#ifndef NM_CNI_LINK_H
#define NM_CNI_LINK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A veth pair: host_if here, peer_if created directly inside the namespace
 * of netns_fd (so CNI_IFNAME never clashes with a link of the host's), both
 * with mtu when it is not 0. -EEXIST when host_if exists.
 */
int nm_cni_veth_add(const char *host_if, const char *peer_if, int netns_fd, unsigned int mtu,
		    char *err, size_t errlen);

/* Index and MAC of link name; -ENODEV when there is none. */
int nm_cni_link_get(const char *name, int *ifindex, uint8_t mac[6], char *err, size_t errlen);

int nm_cni_link_up(int ifindex, char *err, size_t errlen);

/* Delete link name (a veth takes its peer with it); -ENODEV when absent. */
int nm_cni_link_del(const char *name, char *err, size_t errlen);

/* ip/prefix_len on ifindex; an address already there is no error. */
int nm_cni_addr_add(int ifindex, struct in_addr ip, unsigned int prefix_len, char *err,
		    size_t errlen);

/* 1 if ifindex has ip (any prefix), 0 if not, or -errno. */
int nm_cni_addr_has(int ifindex, struct in_addr ip, char *err, size_t errlen);

/*
 * A route to dst/dst_len out of ifindex: through gw (onlink, the gateway
 * is not on any subnet of the link) when gw.s_addr is not 0, else scope
 * link. Replaces a route already there.
 */
int nm_cni_route_add(int ifindex, struct in_addr dst, unsigned int dst_len, struct in_addr gw,
		     char *err, size_t errlen);

/*
 * TX checksum offload off on link name, which takes TSO with it: the
 * af_packet port delivers frames with partial checksums as they are, and a
 * receiver drops them (ENVIRONMENT.md, "iperf3 TCP needs checksum offload
 * off").
 */
int nm_cni_tx_csum_off(const char *name, char *err, size_t errlen);

/*
 * Enter the namespace at path; *saved gets a descriptor of the one we were
 * in, for nm_cni_netns_leave(). -ENOENT when path does not exist.
 */
int nm_cni_netns_enter(const char *path, int *saved, char *err, size_t errlen);
int nm_cni_netns_leave(int *saved, char *err, size_t errlen);

#endif
