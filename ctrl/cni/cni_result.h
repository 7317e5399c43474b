/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What nodemesh-cni prints: the ADD result (SPEC.md "Success"), the error
 * object ("Error") and the VERSION answer; and the one thing it reads back
 * from a result (an IPAM plugin's, or the prevResult of CHECK): the pod's
 * IPv4 address. Pure: JSON in, JSON out.
 */
#ifndef NM_CNI_RESULT_H
#define NM_CNI_RESULT_H

#include <netinet/in.h>
#include <stdint.h>

#include <jansson.h>

#include "cni_conf.h"

/* The pod's gateway: the host end answers ARP for it (Calico's model). */
#define NM_CNI_GATEWAY "169.254.1.1"

struct nm_cni_result_in {
	const char *cni_version; /* of the configuration: the result must match it */
	const char *host_ifname;
	uint8_t host_mac[6];
	const char *cont_ifname;
	uint8_t cont_mac[6];
	const char *sandbox; /* CNI_NETNS */
	struct in_addr ip;   /* the pod's address, a /32 */
	const json_t *dns;   /* the IPAM result's "dns", or NULL */
};

/*
 * The ADD result: interfaces [host end, container end in its sandbox], ips
 * [address/32 via 169.254.1.1 on interface 1], routes [default via
 * 169.254.1.1], and dns when given and not empty. A 0.4.0 result also says
 * "version": "4" on each ip, as that spec requires. NULL only when out of
 * memory.
 */
json_t *nm_cni_result_build(const struct nm_cni_result_in *in);

/* {"cniVersion", "code", "msg", "details"}. */
json_t *nm_cni_error_json(const char *cni_version, const struct nm_cni_err *err);

/* {"cniVersion": "1.0.0", "supportedVersions": nm_cni_versions}. */
json_t *nm_cni_version_json(void);

/*
 * The first IPv4 address of a result's "ips" ("A.B.C.D/N"). Returns 0 with
 * *ip and *prefix_len, or -EINVAL with err (code 7 when a result has no
 * IPv4 address, 6 when it does not have a result's shape); what names the
 * result in the message ("IPAM plugin host-local", "prevResult").
 */
int nm_cni_result_ipv4(const json_t *result, const char *what, struct in_addr *ip,
		       unsigned int *prefix_len, struct nm_cni_err *err);

#endif
