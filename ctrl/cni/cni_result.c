/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CNI result, error and VERSION documents (see cni_result.h). Field names
 * and shapes follow SPEC.md "Success" and "Error" of CNI 1.0.0; a 0.4.0
 * configuration gets the 0.4.0 shape (ips carry "version").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni_result.h"

static json_t *
mac_json(const uint8_t m[6])
{
	char s[18];

	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return json_string(s);
}

/* A dns object worth passing on: one with at least one non-empty member. */
static bool
dns_present(const json_t *dns)
{
	const char *k;
	const json_t *v;

	if (!json_is_object(dns))
		return false;
	json_object_foreach((json_t *)dns, k, v)
	{
		if ((json_is_array(v) && json_array_size(v) > 0) ||
		    (json_is_string(v) && json_string_length(v) > 0))
			return true;
	}
	return false;
}

json_t *
nm_cni_result_build(const struct nm_cni_result_in *in)
{
	char addr[INET_ADDRSTRLEN + 3];
	json_t *r, *ip;

	inet_ntop(AF_INET, &in->ip, addr, INET_ADDRSTRLEN);
	strcat(addr, "/32");
	/* interface 1: the index into "interfaces" of the container's end. */
	ip = json_pack("{s:s, s:s, s:i}", "address", addr, "gateway", NM_CNI_GATEWAY, "interface",
		       1);
	if (ip != NULL && strcmp(in->cni_version, "0.4.0") == 0)
		json_object_set_new(ip, "version", json_string("4"));
	r = json_pack("{s:s, s:[{s:s, s:o}, {s:s, s:o, s:s}], s:[o], s:[{s:s, s:s}]}", "cniVersion",
		      in->cni_version, "interfaces", "name", in->host_ifname, "mac",
		      mac_json(in->host_mac), "name", in->cont_ifname, "mac",
		      mac_json(in->cont_mac), "sandbox", in->sandbox, "ips", ip, "routes", "dst",
		      "0.0.0.0/0", "gw", NM_CNI_GATEWAY);
	if (r != NULL && dns_present(in->dns))
		json_object_set_new(r, "dns", json_deep_copy(in->dns));
	return r;
}

json_t *
nm_cni_error_json(const char *cni_version, const struct nm_cni_err *err)
{
	return json_pack("{s:s, s:i, s:s, s:s}", "cniVersion", cni_version, "code", (int)err->code,
			 "msg", err->msg, "details", err->details);
}

json_t *
nm_cni_version_json(void)
{
	json_t *list = json_array();

	for (size_t i = 0; nm_cni_versions[i] != NULL; i++)
		json_array_append_new(list, json_string(nm_cni_versions[i]));
	return json_pack("{s:s, s:o}", "cniVersion", "1.0.0", "supportedVersions", list);
}

/* "A.B.C.D/N" with N <= 32; 1 on success. */
static int
parse_cidr4(const char *s, struct in_addr *ip, unsigned int *prefix_len)
{
	char host[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long n;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(host))
		return 0;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (inet_pton(AF_INET, host, ip) != 1)
		return 0;
	n = strtoul(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || n > 32)
		return 0;
	*prefix_len = (unsigned int)n;
	return 1;
}

int
nm_cni_result_ipv4(const json_t *result, const char *what, struct in_addr *ip,
		   unsigned int *prefix_len, struct nm_cni_err *err)
{
	const json_t *ips = json_object_get(result, "ips");
	const json_t *e;
	size_t i;

	if (!json_is_object(result) || (ips != NULL && !json_is_array(ips)))
		return nm_cni_err_set(err, NM_CNI_ERR_DECODE, "failed to decode result",
				      "%s: not a CNI result (\"ips\" must be a list)", what);
	json_array_foreach(ips, i, e)
	{
		const char *a = json_string_value(json_object_get(e, "address"));
		if (a != NULL && parse_cidr4(a, ip, prefix_len))
			return 0;
	}
	return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "no IPv4 address",
			      "%s: the result has no IPv4 address in \"ips\" (nodemesh pods "
			      "need one)",
			      what);
}
