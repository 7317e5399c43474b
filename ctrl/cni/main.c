/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodemesh-cni: the CNI 1.0.0 plugin that attaches a container's network
 * namespace to the node's nodemeshd. ADD gets an address from the IPAM
 * plugin, makes a veth pair (host end named after the container ID, the
 * other end CNI_IFNAME in the pod's netns with the address as a /32 and
 * a default route via 169.254.1.1), and asks nodemeshd to serve the host
 * end as the pod's port. DEL undoes that and is idempotent; CHECK verifies
 * it; VERSION lists the spec versions. The result or the spec's error
 * object goes to stdout, diagnostics to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cni_conf.h"
#include "cni_daemon.h"
#include "cni_ipam.h"
#include "cni_link.h"
#include "cni_result.h"

#define MAX_CONFIG (1u << 20) /* bytes of network configuration read from stdin */

/* What one invocation works with. */
struct cni {
	struct nm_cni_env env;
	struct nm_cni_conf conf;
	const char *stdin_buf; /* the configuration as given, for the IPAM plugin */
	size_t stdin_len;
	char host_if[NM_CNI_IFNAME_LEN];
	char ipam_bin[4096];
};

static const char *
env_get(const char *name)
{
	return getenv(name);
}

static int
link_err(struct nm_cni_err *err, int rc, const char *msg, const char *why)
{
	nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, msg, "%s", why);
	return rc;
}

/*
 * Leaving the pod's netns failed: nothing more may run, or it would act in
 * the pod's namespace (the undo would look for the host end there). The
 * runtime still gets the error object.
 */
static void __attribute__((noreturn)) stuck_in_netns(const struct cni *c, const char *why)
{
	struct nm_cni_err err;

	nm_cni_err_set(&err, NM_CNI_ERR_INTERNAL, "cannot leave the pod's netns", "%s", why);
	json_t *j = nm_cni_error_json(c->conf.cni_version[0] ? c->conf.cni_version : "1.0.0", &err);
	json_dumpf(j, stdout, JSON_INDENT(2));
	json_decref(j);
	fprintf(stderr, "nodemesh-cni: %s\n", why);
	exit(1);
}

/*
 * In the pod's netns: the address, no TX checksum offload, the link up,
 * the two routes of the Calico model, and lo up (a pod talks to itself
 * through it; harmless if the runtime did it). The container end's MAC.
 */
static int
configure_pod_if(const struct cni *c, struct in_addr ip, uint8_t mac[6], char *why, size_t whylen)
{
	struct in_addr gw, any = {0};
	uint8_t lo_mac[6];
	int ifindex, lo, rc;

	inet_pton(AF_INET, NM_CNI_GATEWAY, &gw);
	if ((rc = nm_cni_link_get(c->env.ifname, &ifindex, mac, why, whylen)) < 0 ||
	    (rc = nm_cni_addr_add(ifindex, ip, 32, why, whylen)) < 0 ||
	    (rc = nm_cni_tx_csum_off(c->env.ifname, why, whylen)) < 0 ||
	    (rc = nm_cni_link_up(ifindex, why, whylen)) < 0 ||
	    (rc = nm_cni_route_add(ifindex, gw, 32, any, why, whylen)) < 0 ||
	    (rc = nm_cni_route_add(ifindex, any, 0, gw, why, whylen)) < 0 ||
	    (rc = nm_cni_link_get("lo", &lo, lo_mac, why, whylen)) < 0)
		return rc;
	return nm_cni_link_up(lo, why, whylen);
}

static int
setup_container_side(const struct cni *c, struct in_addr ip, uint8_t mac[6], struct nm_cni_err *err)
{
	char why[512];
	int saved, rc;

	rc = nm_cni_netns_enter(c->env.netns, &saved, why, sizeof(why));
	if (rc < 0)
		return link_err(err, rc, "cannot enter the pod's netns", why);
	rc = configure_pod_if(c, ip, mac, why, sizeof(why));
	char back[512];
	if (nm_cni_netns_leave(&saved, back, sizeof(back)) < 0)
		stuck_in_netns(c, back);
	if (rc < 0)
		return link_err(err, rc, "configuring the pod's interface failed", why);
	return 0;
}

static int
setup_host_side(const struct cni *c, uint8_t mac[6], struct nm_cni_err *err)
{
	char why[512];
	int ifindex, rc;

	if ((rc = nm_cni_link_get(c->host_if, &ifindex, mac, why, sizeof(why))) < 0 ||
	    (rc = nm_cni_tx_csum_off(c->host_if, why, sizeof(why))) < 0 ||
	    (rc = nm_cni_link_up(ifindex, why, sizeof(why))) < 0)
		return link_err(err, rc, "configuring the host end failed", why);
	return 0;
}

/* What ADD found or made of the veth pair, so that a failure undoes only its own. */
enum veth_state {
	VETH_NONE,    /* not made (yet) */
	VETH_CREATED, /* made by this ADD */
	VETH_REUSED,  /* made by an earlier ADD of this container: a retry */
};

static int
make_veth(const struct cni *c, int netns_fd, enum veth_state *state, struct nm_cni_err *err)
{
	char why[512];
	uint8_t mac[6];
	int ifindex, rc;

	if (nm_cni_link_get(c->host_if, &ifindex, mac, why, sizeof(why)) == 0) {
		*state = VETH_REUSED;
		return 0;
	}
	rc = nm_cni_veth_add(c->host_if, c->env.ifname, netns_fd, c->conf.mtu, why, sizeof(why));
	if (rc < 0)
		return link_err(err, rc, "creating the veth pair failed", why);
	*state = VETH_CREATED;
	return 0;
}

/*
 * Undo a failed ADD: our veth, then the address IPAM gave us. A retry's
 * veth and address belong to the attachment that is already there.
 */
static void
undo_add(const struct cni *c, enum veth_state state)
{
	struct nm_cni_err e = {0};
	char why[512];

	if (state == VETH_REUSED)
		return;
	if (state == VETH_CREATED && nm_cni_link_del(c->host_if, why, sizeof(why)) < 0)
		fprintf(stderr, "nodemesh-cni: undo: %s\n", why);
	if (nm_cni_ipam_exec(c->ipam_bin, "DEL", c->stdin_buf, c->stdin_len, NULL, &e) < 0)
		fprintf(stderr, "nodemesh-cni: undo: IPAM DEL: %s: %s\n", e.msg, e.details);
}

static int
ipam_add(struct cni *c, json_t **ipam, struct in_addr *ip, struct nm_cni_err *err)
{
	unsigned int prefix_len;

	if (nm_cni_ipam_find(c->conf.ipam_type, c->env.path, c->ipam_bin, sizeof(c->ipam_bin),
			     err) < 0)
		return -ENOENT;
	if (nm_cni_ipam_exec(c->ipam_bin, "ADD", c->stdin_buf, c->stdin_len, ipam, err) < 0)
		return -EIO;
	if (nm_cni_result_ipv4(*ipam, c->conf.ipam_type, ip, &prefix_len, err) < 0) {
		json_decref(*ipam);
		*ipam = NULL;
		struct nm_cni_err e = {0};
		nm_cni_ipam_exec(c->ipam_bin, "DEL", c->stdin_buf, c->stdin_len, NULL, &e);
		return -EINVAL;
	}
	return 0;
}

static int
cmd_add(struct cni *c, json_t **out, struct nm_cni_err *err)
{
	struct nm_cni_args args;
	struct nm_cni_result_in res = {0};
	enum veth_state veth = VETH_NONE;
	json_t *ipam = NULL;
	int netns_fd, rc;

	if (nm_cni_args_parse(c->env.args, &args, err) < 0)
		return -EINVAL;
	if (args.pod_name[0] == '\0')
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_ARGS has no K8S_POD_NAME (the pod's name in nodemesh)");
	/* nodemesh-cni makes the pod's interface, so it comes first in a list. */
	if (c->conf.prev_result != NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "ADD got a prevResult: nodemesh-cni creates the interface "
				      "and must be the first plugin of its list");
	/* Before IPAM: a netns that is not there is the runtime's error, not ours to undo. */
	netns_fd = open(c->env.netns, O_RDONLY | O_CLOEXEC);
	if (netns_fd < 0)
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_NETNS %s: %s", c->env.netns, strerror(errno));
	if (ipam_add(c, &ipam, &res.ip, err) < 0) {
		close(netns_fd);
		return -EINVAL;
	}

	struct nm_cni_pod pod = {.name = args.pod_name,
				 .ns = args.pod_ns,
				 .ip = res.ip,
				 .host_ifname = c->host_if,
				 .container_id = c->env.container_id,
				 .driver = c->conf.driver};
	rc = make_veth(c, netns_fd, &veth, err);
	close(netns_fd);
	if (rc < 0 || (rc = setup_container_side(c, res.ip, res.cont_mac, err)) < 0 ||
	    (rc = setup_host_side(c, res.host_mac, err)) < 0 ||
	    (rc = nm_cni_daemon_pod_add(c->conf.socket, &pod, err)) < 0) {
		json_decref(ipam);
		undo_add(c, veth);
		return rc;
	}

	res.cni_version = c->conf.cni_version;
	res.host_ifname = c->host_if;
	res.cont_ifname = c->env.ifname;
	res.sandbox = c->env.netns;
	res.dns = json_object_get(ipam, "dns");
	*out = nm_cni_result_build(&res);
	json_decref(ipam);
	return *out != NULL ? 0
			    : nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "out of memory",
					     "building the result");
}

/*
 * DEL: every step tolerates what is already gone (SPEC.md: "Plugins
 * should generally complete a DEL action without error even if some
 * resources are missing").
 */
static int
cmd_del(struct cni *c, struct nm_cni_err *err)
{
	char why[512];
	int deleted, rc;

	if (nm_cni_daemon_pod_del(c->conf.socket, c->env.container_id, &deleted, err) < 0)
		return -EIO;
	rc = nm_cni_link_del(c->host_if, why, sizeof(why));
	if (rc < 0 && rc != -ENODEV)
		return link_err(err, rc, "deleting the host end failed", why);
	if (nm_cni_ipam_find(c->conf.ipam_type, c->env.path, c->ipam_bin, sizeof(c->ipam_bin),
			     err) < 0)
		return -ENOENT;
	return nm_cni_ipam_exec(c->ipam_bin, "DEL", c->stdin_buf, c->stdin_len, NULL, err);
}

/* CHECK inside the pod's netns: CNI_IFNAME exists and has the address. */
static int
check_container_side(const struct cni *c, struct in_addr ip, struct nm_cni_err *err)
{
	char why[512];
	uint8_t mac[6];
	int saved, ifindex, rc;

	rc = nm_cni_netns_enter(c->env.netns, &saved, why, sizeof(why));
	if (rc < 0)
		return nm_cni_err_set(err, NM_CNI_ERR_UNKNOWN_CONTAINER, "no such netns", "%s",
				      why);
	rc = nm_cni_link_get(c->env.ifname, &ifindex, mac, why, sizeof(why));
	if (rc == 0)
		rc = nm_cni_addr_has(ifindex, ip, why, sizeof(why));
	char back[512];
	if (nm_cni_netns_leave(&saved, back, sizeof(back)) < 0)
		stuck_in_netns(c, back);
	if (rc < 0)
		return link_err(err, rc, "the pod's interface is missing", why);
	if (rc == 0)
		return nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "the pod's address is missing",
				      "%s in %s has no address %s", c->env.ifname, c->env.netns,
				      inet_ntoa(ip));
	return 0;
}

static int
cmd_check(struct cni *c, struct nm_cni_err *err)
{
	struct nm_cni_args args;
	struct in_addr ip;
	unsigned int prefix_len;
	char why[512];
	uint8_t mac[6];
	int ifindex;

	if (nm_cni_args_parse(c->env.args, &args, err) < 0)
		return -EINVAL;
	if (c->conf.prev_result == NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "CHECK needs the prevResult of the ADD");
	if (nm_cni_result_ipv4(c->conf.prev_result, "prevResult", &ip, &prefix_len, err) < 0)
		return -EINVAL;
	struct nm_cni_pod pod = {
	    .ip = ip, .host_ifname = c->host_if, .container_id = c->env.container_id};
	if (nm_cni_daemon_pod_check(c->conf.socket, &pod, err) < 0)
		return -EINVAL;
	if (nm_cni_link_get(c->host_if, &ifindex, mac, why, sizeof(why)) < 0)
		return link_err(err, -ENODEV, "the host end is missing", why);
	if (check_container_side(c, ip, err) < 0)
		return -EINVAL;
	if (nm_cni_ipam_find(c->conf.ipam_type, c->env.path, c->ipam_bin, sizeof(c->ipam_bin),
			     err) < 0)
		return -ENOENT;
	return nm_cni_ipam_exec(c->ipam_bin, "CHECK", c->stdin_buf, c->stdin_len, NULL, err);
}

static char *
read_stdin(size_t *len, struct nm_cni_err *err)
{
	size_t cap = 65536;
	char *buf = malloc(cap);

	*len = 0;
	while (buf != NULL && *len < MAX_CONFIG) {
		if (*len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(STDIN_FILENO, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return buf;
		if (n < 0) {
			nm_cni_err_set(err, NM_CNI_ERR_IO, "reading the network config failed",
				       "read(stdin): %s", strerror(errno));
			free(buf);
			return NULL;
		}
		*len += (size_t)n;
	}
	nm_cni_err_set(err, NM_CNI_ERR_IO, "reading the network config failed",
		       "no memory, or %u bytes or more on stdin", MAX_CONFIG);
	free(buf);
	return NULL;
}

static int
print_json(json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF ||
		 fflush(stdout) != 0;
	json_decref(j);
	return rc ? -EIO : 0;
}

static int
run(struct cni *c, struct nm_cni_err *err)
{
	json_t *out = NULL;
	size_t len;
	int rc;

	if (nm_cni_env_read(&c->env, env_get, err) < 0)
		return -EINVAL;
	/* Read stdin whole even for VERSION, so a runtime's write never hits a closed pipe. */
	char *buf = read_stdin(&len, err);
	if (buf == NULL)
		return -EIO;
	if (c->env.cmd == NM_CNI_CMD_VERSION) {
		free(buf);
		return print_json(nm_cni_version_json());
	}
	c->stdin_buf = buf;
	c->stdin_len = len;
	rc = nm_cni_conf_parse(buf, len, &c->conf, err);
	if (rc == 0) {
		nm_cni_host_ifname(c->env.container_id, c->host_if);
		if (c->env.cmd == NM_CNI_CMD_ADD)
			rc = cmd_add(c, &out, err);
		else if (c->env.cmd == NM_CNI_CMD_DEL)
			rc = cmd_del(c, err);
		else
			rc = cmd_check(c, err);
	}
	if (rc == 0 && out != NULL)
		rc = print_json(out);
	free(buf);
	c->stdin_buf = NULL;
	return rc;
}

int
main(void)
{
	struct cni c;
	struct nm_cni_err err = {0};

	memset(&c, 0, sizeof(c));
	if (run(&c, &err) == 0) {
		nm_cni_conf_free(&c.conf);
		return 0;
	}
	if (err.code == 0)
		nm_cni_err_set(&err, NM_CNI_ERR_INTERNAL, "failed", "(no details)");
	print_json(nm_cni_error_json(c.conf.cni_version[0] ? c.conf.cni_version : "1.0.0", &err));
	fprintf(stderr, "nodemesh-cni: %s: %s\n", err.msg, err.details);
	nm_cni_conf_free(&c.conf);
	return 1;
}
