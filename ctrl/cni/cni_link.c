/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtnetlink requests (libmnl), the ethtool ioctl and setns() for the CNI
 * plugin (see cni_link.h). One request at a time, each acknowledged, so a
 * failure is reported by the call that caused it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>

#include "cni_link.h"

/*
 * Send nlh on a new socket of the current namespace and run cb over every
 * answer until the ack (or the end of a dump). Returns 0 or -errno.
 */
static int
talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned int seq = (unsigned int)time(NULL), portid;
	int rc;

	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			rc = -errno;
			break;
		}
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (rc <= MNL_CB_STOP) {
			rc = rc < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return rc;
}

/*
 * A request of type in buf (MNL_SOCKET_BUFFER_SIZE bytes) with a zeroed
 * family header of hdr_len bytes. The whole buffer is zeroed first: the
 * attributes' alignment padding is sent too, and must not be stack garbage.
 */
static struct nlmsghdr *
request_msg(char *buf, uint16_t type, uint16_t flags, size_t hdr_len)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	mnl_nlmsg_put_extra_header(nlh, hdr_len);
	return nlh;
}

static struct nlmsghdr *
link_msg(char *buf, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = request_msg(buf, type, flags, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

static int
fail(int rc, char *err, size_t errlen, const char *what, const char *name)
{
	snprintf(err, errlen, "%s %s: %s", what, name, strerror(-rc));
	return rc;
}

int
nm_cni_veth_add(const char *host_if, const char *peer_if, int netns_fd, unsigned int mtu, char *err,
		size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data, *peer;
	struct ifinfomsg *pifm;
	int rc;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, host_if);
	if (mtu != 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* VETH_INFO_PEER carries an ifinfomsg, then the peer's own attributes. */
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_if);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	if (mtu != 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	rc = talk(nlh, NULL, NULL);
	if (rc < 0)
		snprintf(err, errlen, "creating veth %s (peer %s in the pod's netns) failed: %s",
			 host_if, peer_if, strerror(-rc));
	return rc;
}

struct link_info {
	int ifindex;
	uint8_t mac[6];
	int have_mac;
};

static int
link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;

	if (mnl_attr_get_type(attr) == IFLA_ADDRESS && mnl_attr_get_payload_len(attr) == 6) {
		memcpy(li->mac, mnl_attr_get_payload(attr), 6);
		li->have_mac = 1;
	}
	return MNL_CB_OK;
}

static int
link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct link_info *li = data;

	li->ifindex = ifm->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, li);
	return MNL_CB_OK;
}

int
nm_cni_link_get(const char *name, int *ifindex, uint8_t mac[6], char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, 0);
	struct link_info li = {0};
	int rc;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	rc = talk(nlh, link_cb, &li);
	if (rc == 0 && (li.ifindex <= 0 || !li.have_mac))
		rc = -ENODEV;
	if (rc < 0)
		return fail(rc, err, errlen, "looking up link", name);
	*ifindex = li.ifindex;
	memcpy(mac, li.mac, 6);
	return 0;
}

int
nm_cni_link_up(int ifindex, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	char name[32];
	int rc;

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	rc = talk(nlh, NULL, NULL);
	if (rc < 0) {
		snprintf(name, sizeof(name), "index %d", ifindex);
		return fail(rc, err, errlen, "setting up link", name);
	}
	return 0;
}

int
nm_cni_link_del(const char *name, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, 0);
	int rc;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	rc = talk(nlh, NULL, NULL);
	if (rc < 0)
		return fail(rc, err, errlen, "deleting link", name);
	return 0;
}

static struct nlmsghdr *
addr_msg(char *buf, uint16_t type, uint16_t flags, int ifindex, unsigned int prefix_len)
{
	struct nlmsghdr *nlh = request_msg(buf, type, flags, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	return nlh;
}

int
nm_cni_addr_add(int ifindex, struct in_addr ip, unsigned int prefix_len, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
	    addr_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, prefix_len);
	char what[64];
	int rc;

	mnl_attr_put(nlh, IFA_LOCAL, sizeof(ip), &ip);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(ip), &ip);
	rc = talk(nlh, NULL, NULL);
	if (rc < 0) {
		snprintf(what, sizeof(what), "%s/%u on index %d", inet_ntoa(ip), prefix_len,
			 ifindex);
		return fail(rc, err, errlen, "adding address", what);
	}
	return 0;
}

struct addr_search {
	int ifindex;
	struct in_addr ip;
	int found;
};

static int
addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_search *s = data;
	const struct nlattr *attr;

	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != s->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
		if (mnl_attr_get_type(attr) == IFA_LOCAL &&
		    mnl_attr_get_payload_len(attr) == sizeof(struct in_addr) &&
		    memcmp(mnl_attr_get_payload(attr), &s->ip, sizeof(s->ip)) == 0)
			s->found = 1;
	}
	return MNL_CB_OK;
}

int
nm_cni_addr_has(int ifindex, struct in_addr ip, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = addr_msg(buf, RTM_GETADDR, NLM_F_DUMP, 0, 0);
	struct addr_search s = {.ifindex = ifindex, .ip = ip};
	int rc;

	rc = talk(nlh, addr_cb, &s);
	if (rc < 0)
		return fail(rc, err, errlen, "listing addresses", "(dump)");
	return s.found;
}

int
nm_cni_route_add(int ifindex, struct in_addr dst, unsigned int dst_len, struct in_addr gw,
		 char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
	    request_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct rtmsg));
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	char what[64];
	int rc;

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (uint8_t)dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = gw.s_addr != 0 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	/* 169.254.1.1 is on no subnet of the pod's /32: the kernel must take it on trust. */
	if (gw.s_addr != 0)
		rtm->rtm_flags = RTNH_F_ONLINK;
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	if (gw.s_addr != 0)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	rc = talk(nlh, NULL, NULL);
	if (rc < 0) {
		snprintf(what, sizeof(what), "%s/%u on index %d", inet_ntoa(dst), dst_len, ifindex);
		return fail(rc, err, errlen, "adding route", what);
	}
	return 0;
}

int
nm_cni_tx_csum_off(const char *name, char *err, size_t errlen)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
	struct ifreq ifr;
	int fd, rc = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ev;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return fail(rc, err, errlen, "SIOCETHTOOL ETHTOOL_STXCSUM off on", name);
	return 0;
}

int
nm_cni_netns_enter(const char *path, int *saved, char *err, size_t errlen)
{
	int fd, rc;

	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return fail(-errno, err, errlen, "open", "/proc/self/ns/net");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = fail(-errno, err, errlen, "open netns", path);
		goto fail_saved;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		rc = fail(-errno, err, errlen, "setns", path);
		close(fd);
		goto fail_saved;
	}
	close(fd);
	return 0;

fail_saved:
	close(*saved);
	*saved = -1;
	return rc;
}

int
nm_cni_netns_leave(int *saved, char *err, size_t errlen)
{
	int rc = 0;

	if (*saved < 0)
		return 0;
	if (setns(*saved, CLONE_NEWNET) < 0)
		rc = fail(-errno, err, errlen, "setns back to", "the host's netns");
	close(*saved);
	*saved = -1;
	return rc;
}
