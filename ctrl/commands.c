/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control commands. Each entry names its words, the arguments it accepts
 * and a one-line usage; `help` prints this same table, so it cannot drift
 * from what the daemon really accepts. Every handler validates fully before
 * it changes anything: a refused request leaves the node as it was.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include <rte_version.h>

#include "commands.h"
#include "config.h"
#include "identity.h"
#include "observe.h"
#include "nodemesh/flowkey.h"
#include "nodemesh/ipcache-t.h"
#include "node.h"
#include "peers.h"
#include "server.h"

struct command {
	const char *words[2];
	unsigned int extra_words; /* words after the command words the handler reads itself */
	const char *const *keys;  /* allowed argument keys, NULL-terminated */
	json_t *(*fn)(struct nm_node *node, const struct nm_req *req);
	const char *usage;
	const char *help;
	bool saves; /* a success changes the run-time state: write the state file */
};

static const char *const no_keys[] = {NULL};
static const char *const pod_add_keys[] = {"name",   "namespace", "serviceaccount", "ip",
					   "iface",  "labels",	  "image",	    "driver",
					   "socket", "mac",	  "container",	    NULL};
static const char *const pod_del_keys[] = {"name", "namespace", "container", NULL};
static const char *const peer_del_keys[] = {"name", NULL};
static const char *const identity_set_keys[] = {"namespace", "name",  "serviceaccount",
						"labels",    "image", NULL};
static const char *const identity_del_keys[] = {"namespace", "name", NULL};
static const char *const id_keys[] = {"id", NULL};
static const char *const file_keys[] = {"file", NULL};
static const char *const pod_keys[] = {"pod", NULL};
static const char *const peer_add_keys[] = {"name", "address", "fabric_ip", "pod_cidr", NULL};
static const char *const peer_keys[] = {"peer", NULL};
static const char *const tunnel_list_keys[] = {"peer", "limit", "after", NULL};
static const char *const pod_list_keys[] = {"peer", "limit", NULL};
static const char *const flow_list_keys[] = {"pod", "limit", NULL};
static const char *const flow_show_keys[] = {"proto", "src", "dst", NULL};
static const char *const observe_keys[] = {"since",    "limit", "pod",	   "namespace",
					   "identity", "type",	"verdict", NULL};

static json_t *cmd_help(struct nm_node *node, const struct nm_req *req);
static int parse_uint(const char *s, unsigned long max, unsigned long *out);

static json_t *
cmd_config_reload(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();
	char err[1024];

	(void)req;
	if (nm_node_config_reload(node, r, err, sizeof(err)) < 0) {
		json_decref(r);
		return nm_reply_error("%s", err);
	}
	return r;
}

static json_t *
cmd_version(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_set_new(r, "version", json_string(NM_VERSION));
	json_object_set_new(r, "dpdk", json_string(rte_version()));
	json_object_set_new(r, "tunnel_engine", json_string(nm_node_tnl_engine(node)));
	json_object_set_new(r, "node", json_string(nm_node_config(node)->node_name));
	return r;
}

static const char *
req_key(const void *req, const char *key)
{
	return nm_req_arg(req, key);
}

static json_t *
cmd_pod_add(struct nm_node *node, const struct nm_req *req)
{
	struct nm_pod_spec spec;
	char err[256];

	if (nm_pod_spec_fill(&spec, req_key, req, err, sizeof(err)) < 0)
		return nm_reply_error("pod add: %s", err);
	int rc = nm_node_pod_add_queued(node, &spec, err, sizeof(err));
	if (rc < 0)
		return nm_reply_error("pod add: %s", err);
	if (rc == NM_POD_QUEUED)
		return NULL; /* answered when its port is open and it is in the table */
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "pod", json_string(spec.name));
	json_object_set_new(r, "existing", json_boolean(rc == 1));
	return r;
}

/* pod del name=N, or container=ID for a runtime: a missing pod is then no error. */
static json_t *
cmd_pod_del(struct nm_node *node, const struct nm_req *req)
{
	const char *name = nm_req_arg(req, "name");
	const char *container = nm_req_arg(req, "container");
	char err[256];

	if ((name == NULL) == (container == NULL))
		return nm_reply_error("pod del: say name=N or container=ID");
	if (container != NULL) {
		int rc = nm_node_pod_del_container(node, container, err, sizeof(err));
		if (rc < 0)
			return nm_reply_error("pod del: %s", err);
		json_t *r = nm_reply_ok();
		json_object_set_new(r, "deleted", json_integer(rc));
		return nm_node_podjob_answer_after(node, r); /* once its rings are closed */
	}
	const char *ns = nm_req_arg(req, "namespace");
	char full[2 * NM_REQ_MAX_TOKEN + 2];
	snprintf(full, sizeof(full), "%s%s%s", ns != NULL ? ns : "", ns != NULL ? "/" : "", name);
	if (strchr(name, '/') != NULL || nm_node_pod_del(node, full, err, sizeof(err)) < 0)
		return nm_reply_error("pod del: %s", strchr(name, '/') != NULL
							 ? "say namespace=NS, not NS/ in name"
							 : err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "pod", json_string(name));
	return nm_node_podjob_answer_after(node, r); /* once its rings are closed */
}

static json_t *
cmd_identity_set(struct nm_node *node, const struct nm_req *req)
{
	struct nm_identity id;
	char err[256];

	if (nm_identity_fill(&id, req_key, req, err, sizeof(err)) < 0 ||
	    nm_node_identity_set(node, &id, err, sizeof(err)) < 0)
		return nm_reply_error("identity set: %s", err);
	return nm_reply_ok();
}

static json_t *
cmd_identity_del(struct nm_node *node, const struct nm_req *req)
{
	const char *ns = nm_req_arg(req, "namespace"), *name = nm_req_arg(req, "name");
	char err[256];

	if (ns == NULL || name == NULL)
		return nm_reply_error("identity del: say namespace=NS name=POD");
	if (nm_node_identity_del(node, ns, name, err, sizeof(err)) < 0)
		return nm_reply_error("identity del: %s", err);
	return nm_reply_ok();
}

/* observe since=N: the events after N (the answer's "next" is the N to ask with next). */
static json_t *
cmd_observe(struct nm_node *node, const struct nm_req *req)
{
	struct nm_observe_filter f;
	const char *since = nm_req_arg(req, "since"), *limit = nm_req_arg(req, "limit");
	unsigned long long s = 0, l = NM_OBSERVE_LIMIT;
	char err[256], *end;

	if (nm_observe_filter_fill(&f, req_key, req, err, sizeof(err)) < 0)
		return nm_reply_error("observe: %s", err);
	if (since != NULL && (s = strtoull(since, &end, 10), *end != '\0' || since[0] == '-'))
		return nm_reply_error("observe: 'since' must be an event number");
	if (limit != NULL &&
	    (l = strtoull(limit, &end, 10), *end != '\0' || l == 0 || l > NM_OBSERVE_LIMIT))
		return nm_reply_error("observe: 'limit' must be 1 to %d", NM_OBSERVE_LIMIT);
	json_t *r = nm_reply_ok();
	json_object_update_new(r, nm_node_observe_query(node, &f, s, (unsigned int)l));
	return r;
}

static json_t *
cmd_metrics(struct nm_node *node, const struct nm_req *req)
{
	size_t len;
	char *text = nm_node_metrics_text(node, &len);

	(void)req;
	if (text == NULL)
		return nm_reply_error("metrics: out of memory");
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "text", json_stringn(text, len));
	free(text);
	return r;
}

static json_t *
cmd_identity_list(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_set_new(r, "identities", nm_node_identities_json(node));
	return r;
}

#define REMOTE_LIST_DEFAULT 1000 /* remote pods `pod list remote` shows without limit= */

/*
 * pod list: the local pods. pod list remote [peer=NAME] [limit=N]: the
 * ipcache's pods, at most N (a cluster holds 100 k of them); "total" says
 * how many there are.
 */
static json_t *
cmd_pod_list(struct nm_node *node, const struct nm_req *req)
{
	const char *limit = nm_req_arg(req, "limit");
	unsigned long l = REMOTE_LIST_DEFAULT;
	uint32_t total;

	if (req->nwords == 3 && strcmp(req->words[2], "remote") != 0)
		return nm_reply_error("pod list: say 'pod list' or 'pod list remote'");
	if (limit != NULL && (parse_uint(limit, NM_IPCACHE_MAX, &l) < 0 || l == 0))
		return nm_reply_error("pod list remote: 'limit' must be 1 to %u", NM_IPCACHE_MAX);
	json_t *r = nm_reply_ok();
	if (req->nwords == 3) {
		json_object_set_new(
		    r, "remote_pods",
		    nm_node_remote_pods_json(node, nm_req_arg(req, "peer"), (uint32_t)l, &total));
		json_object_set_new(r, "total", json_integer(total));
	} else {
		json_object_set_new(r, "pods", nm_node_pods_json(node));
	}
	return r;
}

static json_t *
cmd_peer_add(struct nm_node *node, const struct nm_req *req)
{
	struct nm_peer_spec spec;
	char err[256];

	if (nm_peer_spec_fill(&spec, req_key, req, err, sizeof(err)) < 0 ||
	    nm_peers_add(nm_node_peers(node), &spec, err, sizeof(err)) < 0)
		return nm_reply_error("peer add: %s", err);
	return nm_reply_ok();
}

static json_t *
cmd_peer_del(struct nm_node *node, const struct nm_req *req)
{
	const char *name = nm_req_arg(req, "name");
	char err[256];

	if (name == NULL)
		return nm_reply_error("peer del: need name=NAME");
	if (nm_peers_del(nm_node_peers(node), name, err, sizeof(err)) < 0)
		return nm_reply_error("peer del: %s", err);
	return nm_reply_ok();
}

static json_t *
cmd_peer_list(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_set_new(r, "peers",
			    nm_peers_json(nm_node_peers(node), false, NULL, NULL, NULL, 0));
	json_object_set_new(r, "listener", nm_peers_listener_json(nm_node_peers(node)));
	json_object_set_new(r, "summary", nm_peers_summary_json(nm_node_peers(node)));
	json_object_set_new(r, "ipcache", nm_node_ipcache_json(node));
	return r;
}

/* tunnel list [peer=NAME] [limit=N] [after=NAME]: "next" is the after= of the next page. */
static json_t *
cmd_tunnel_list(struct nm_node *node, const struct nm_req *req)
{
	struct nm_peers_page page = {.peer = nm_req_arg(req, "peer"),
				     .after = nm_req_arg(req, "after")};
	const char *limit = nm_req_arg(req, "limit"), *next = NULL;
	unsigned long l = 0;
	char err[256];

	if (limit != NULL && (parse_uint(limit, NM_PEERS_MAX, &l) < 0 || l == 0))
		return nm_reply_error("tunnel list: 'limit' must be 1 to %d", NM_PEERS_MAX);
	if (page.peer != NULL && (limit != NULL || page.after != NULL))
		return nm_reply_error("tunnel list: peer= shows one peer; it takes no limit= or "
				      "after=");
	page.limit = (uint32_t)l;
	json_t *list = nm_peers_json(nm_node_peers(node), true, &page, &next, err, sizeof(err));
	if (list == NULL)
		return nm_reply_error("tunnel list: %s", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "tunnels", list);
	json_object_set_new(r, "next", next != NULL ? json_string(next) : json_null());
	json_object_set_new(r, "listener", nm_peers_listener_json(nm_node_peers(node)));
	json_object_set_new(r, "summary", nm_peers_summary_json(nm_node_peers(node)));
	return r;
}

static json_t *
cmd_tunnel_rekey(struct nm_node *node, const struct nm_req *req)
{
	const char *name = nm_req_arg(req, "peer");
	char err[256];

	if (name == NULL)
		return nm_reply_error("tunnel rekey: need peer=NAME");
	if (nm_peers_rekey(nm_node_peers(node), name, err, sizeof(err)) < 0)
		return nm_reply_error("tunnel rekey: %s", err);
	return nm_reply_ok();
}

static json_t *
cmd_cert_reload(struct nm_node *node, const struct nm_req *req)
{
	char err[512];
	uint64_t id = 0;

	(void)req;
	/* Answered at once; the files are read on a job thread (cert status shows it). */
	if (nm_peers_cert_reload_start(nm_node_peers(node), &id, err, sizeof(err)) < 0)
		return nm_reply_error("cert reload: %s; the certificate in use is unchanged", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "loading", json_true());
	json_object_set_new(r, "reload_id", json_integer((json_int_t)id));
	return r;
}

static json_t *
cmd_cert_status(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_update_new(r, nm_peers_cert_json(nm_node_peers(node)));
	return r;
}

static json_t *
cmd_stats(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_node_stats_json(node);

	(void)req;
	json_object_set_new(r, "ok", json_true());
	json_object_set_new(r, "tunnel_engine", json_string(nm_node_tnl_engine(node)));
	return r;
}

static json_t *
cmd_policy_add(struct nm_node *node, const struct nm_req *req)
{
	char err[256];
	uint32_t id;

	if (req->rest[0] == '\0')
		return nm_reply_error("policy add: missing the rule, e.g. 'policy add allow from "
				      "default/web to default/db proto tcp port 5432'");
	if (nm_node_policy_add(node, req->rest, &id, err, sizeof(err)) < 0)
		return nm_reply_error("policy add: %s", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "id", json_integer(id));
	return r;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (*end != '\0' || errno != 0 || *out > max) ? -EINVAL : 0;
}

static json_t *
cmd_policy_del(struct nm_node *node, const struct nm_req *req)
{
	unsigned long id;
	char err[256];

	if (parse_uint(nm_req_arg(req, "id"), UINT32_MAX, &id) < 0 || id == 0)
		return nm_reply_error("policy del: need id=N (a rule id from policy list)");
	if (nm_node_policy_del(node, (uint32_t)id, err, sizeof(err)) < 0)
		return nm_reply_error("policy del: %s", err);
	return nm_reply_ok();
}

static json_t *
cmd_policy_list(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_update_new(r, nm_node_policy_json(node));
	return r;
}

static json_t *
cmd_policy_load(struct nm_node *node, const struct nm_req *req)
{
	const char *file = nm_req_arg(req, "file");
	char err[512];
	int n;

	if (file == NULL)
		return nm_reply_error("policy load: need file=PATH");
	n = nm_node_policy_load(node, file, err, sizeof(err));
	if (n < 0)
		return nm_reply_error("policy load: %s; the rules in force are unchanged", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "rules", json_integer(n));
	return r;
}

static json_t *
cmd_policy_default(struct nm_node *node, const struct nm_req *req)
{
	char err[256];
	bool allow;

	if (req->nwords != 3 ||
	    (strcmp(req->words[2], "allow") != 0 && strcmp(req->words[2], "deny") != 0))
		return nm_reply_error("policy default: say 'policy default allow' or 'policy "
				      "default deny'");
	allow = strcmp(req->words[2], "allow") == 0;
	if (nm_node_policy_default(node, allow, err, sizeof(err)) < 0)
		return nm_reply_error("policy default: %s", err);
	return nm_reply_ok();
}

static json_t *
cmd_sig_load(struct nm_node *node, const struct nm_req *req)
{
	const char *file = nm_req_arg(req, "file");
	char err[1400];
	uint64_t id = 0;

	if (file == NULL)
		return nm_reply_error("sig load: need file=PATH");
	/* Answered at once; the compile runs on a job thread (sig list shows it). */
	if (nm_node_sig_load_start(node, file, &id, err, sizeof(err)) < 0)
		return nm_reply_error("sig load: %s; the signatures in force are unchanged", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "loading", json_true());
	json_object_set_new(r, "load_id", json_integer((json_int_t)id));
	json_object_set_new(r, "file", json_string(file));
	return r;
}

static json_t *
cmd_sig_list(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_update_new(r, nm_node_sig_json(node));
	return r;
}

static json_t *
cmd_sig_stats(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok();

	(void)req;
	json_object_set_new(r, "signatures", nm_node_sig_stats_json(node));
	return r;
}

static json_t *
cmd_flow_list(struct nm_node *node, const struct nm_req *req)
{
	unsigned long limit = 100;
	char err[256];

	if (nm_req_arg(req, "limit") != NULL &&
	    parse_uint(nm_req_arg(req, "limit"), 100000, &limit) < 0)
		return nm_reply_error("flow list: limit must be 0-100000");
	json_t *flows = nm_node_flows_json(node, nm_req_arg(req, "pod"), NULL, (unsigned int)limit,
					   err, sizeof(err));
	if (flows == NULL)
		return nm_reply_error("flow list: %s", err);
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "flows", flows);
	return r;
}

/* "198.18.0.1:80" or "198.18.0.1" (port 0) into a meta's address and port. */
static int
parse_endpoint(const char *s, uint32_t *ip, uint16_t *port)
{
	char buf[64];
	unsigned long p = 0;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	char *colon = strchr(buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (parse_uint(colon + 1, 65535, &p) < 0)
			return -EINVAL;
	}
	*port = (uint16_t)p;
	return inet_pton(AF_INET, buf, ip) == 1 ? 0 : -EINVAL;
}

static json_t *
cmd_flow_show(struct nm_node *node, const struct nm_req *req)
{
	const char *proto = nm_req_arg(req, "proto");
	struct nm_pkt_meta m;
	struct nm_flow_key key;
	char err[256];

	memset(&m, 0, sizeof(m));
	m.cls = NM_PKT_IPV4;
	m.flags = NM_PKT_F_L4;
	if (proto == NULL || strcmp(proto, "tcp") == 0)
		m.ip_proto = IPPROTO_TCP;
	else if (strcmp(proto, "udp") == 0)
		m.ip_proto = IPPROTO_UDP;
	else if (strcmp(proto, "icmp") == 0)
		m.ip_proto = IPPROTO_ICMP;
	else
		return nm_reply_error("flow show: proto must be tcp, udp or icmp");
	if (parse_endpoint(nm_req_arg(req, "src"), &m.src.v4, &m.sport) < 0 ||
	    parse_endpoint(nm_req_arg(req, "dst"), &m.dst.v4, &m.dport) < 0)
		return nm_reply_error("flow show: need src=IP[:PORT] dst=IP[:PORT] [proto=tcp|udp|"
				      "icmp] (icmp: PORT is the echo identifier)");
	if (m.ip_proto == IPPROTO_ICMP)
		m.sport = m.dport; /* the flow key uses the identifier for both */
	nm_flow_key_make(&key, &m);
	json_t *flows = nm_node_flows_json(node, NULL, &key, 16, err, sizeof(err));
	if (flows == NULL)
		return nm_reply_error("flow show: %s", err);
	if (json_array_size(flows) == 0) {
		json_decref(flows);
		return nm_reply_error("flow show: no such flow");
	}
	json_t *r = nm_reply_ok();
	json_object_set_new(r, "flows", flows);
	return r;
}

static json_t *
cmd_flow_flush(struct nm_node *node, const struct nm_req *req)
{
	char err[256];

	if (nm_node_flow_flush(node, nm_req_arg(req, "pod"), err, sizeof(err)) < 0)
		return nm_reply_error("flow flush: %s", err);
	return nm_reply_ok();
}

static const struct command commands[] = {
    {{"help", NULL}, 0, no_keys, cmd_help, "help", "list the commands", false},
    {{"version", NULL}, 0, no_keys, cmd_version, "version", "daemon and DPDK versions", false},
    {{"pod", "add"},
     0,
     pod_add_keys,
     cmd_pod_add,
     "pod add name=N namespace=NS ip=A.B.C.D iface=IF [serviceaccount=SA [labels=k=v,...] "
     "[image=REF]] [container=ID] [mac=STATIC_MAC] [driver=af_packet|af_xdp]  |  ... "
     "driver=memif socket=PATH (instead of iface)",
     "attach a pod's veth and start forwarding for it; without serviceaccount the pod has "
     "the identity `identity set` gave its namespace/name, or none (matches only '*')",
     true},
    {{"pod", "del"},
     0,
     pod_del_keys,
     cmd_pod_del,
     "pod del name=N [namespace=NS]  |  pod del container=ID",
     "detach a pod; other pods' traffic is not disturbed (by container: a missing pod is "
     "not an error)",
     true},
    {{"identity", "set"},
     0,
     identity_set_keys,
     cmd_identity_set,
     "identity set namespace=NS name=POD serviceaccount=SA [labels=k=v,...] [image=REF]",
     "the workload identity of pod NS/POD, before or after it is attached; live flows are "
     "judged again",
     true},
    {{"identity", "del"},
     0,
     identity_del_keys,
     cmd_identity_del,
     "identity del namespace=NS name=POD",
     "forget an identity; an attached pod becomes unknown (matches only '*')",
     true},
    {{"identity", "list"},
     0,
     no_keys,
     cmd_identity_list,
     "identity list",
     "identities on record, and whether their pod is attached",
     false},
    {{"pod", "list"},
     1,
     pod_list_keys,
     cmd_pod_list,
     "pod list [remote [peer=NAME] [limit=N]]",
     "this node's pods with their counters, or the pods peers announced",
     false},
    {{"peer", "add"},
     0,
     peer_add_keys,
     cmd_peer_add,
     "peer add name=N address=IP:PORT fabric_ip=IP pod_cidr=A.B.C.D/LEN",
     "another node to tunnel to (mutual TLS on its address)",
     true},
    {{"peer", "del"},
     0,
     peer_del_keys,
     cmd_peer_del,
     "peer del name=N",
     "forget a node: its tunnel, keys and pods",
     true},
    {{"peer", "list"},
     0,
     no_keys,
     cmd_peer_list,
     "peer list",
     "peers with their connection state and last error",
     false},
    {{"tunnel", "list"},
     0,
     tunnel_list_keys,
     cmd_tunnel_list,
     "tunnel list [peer=N] [limit=N] [after=N]",
     "per peer in name order: state, epoch, packets, bytes, failures by reason; "
     "a page of limit=N peers after=N (the last answer's next), or peer=N alone",
     false},
    {{"tunnel", "rekey"},
     0,
     peer_keys,
     cmd_tunnel_rekey,
     "tunnel rekey peer=N",
     "rotate the sending key toward a peer now",
     false},
    {{"cert", "reload"},
     0,
     no_keys,
     cmd_cert_reload,
     "cert reload",
     "read certificate, key, CA and CRL again, then handshake anew with every peer; "
     "loads in the background, one reload at a time (cert status shows it)",
     false},
    {{"cert", "status"},
     0,
     no_keys,
     cmd_cert_status,
     "cert status",
     "the certificate reload in progress, if any, and how the last one ended",
     false},
    {{"observe", NULL},
     0,
     observe_keys,
     cmd_observe,
     "observe [since=N] [limit=N] [pod=P] [namespace=NS] [identity=NS/SA|unknown] "
     "[type=flow|drop|alert|http] [verdict=allow|deny]",
     "the events after event N: drops with their reason, flow starts and ends, alerts, HTTP "
     "transactions, both ends' identities; nodemeshctl observe follows them",
     false},
    {{"metrics", NULL},
     0,
     no_keys,
     cmd_metrics,
     "metrics",
     "the counters in Prometheus' text format (what metrics.listen serves at /metrics)",
     false},
    {{"stats", NULL},
     0,
     no_keys,
     cmd_stats,
     "stats",
     "counters per worker, pod, port and rule; flow table; drops by reason",
     false},
    {{"policy", "add"},
     0,
     no_keys,
     cmd_policy_add,
     "policy add allow|deny from SEL to SEL [proto P] [port N|N-M|N,M] [rate Npps] "
     "[rate Nmbps] [burst N] [inspect on|off] [http method M,.. path /P[*] host H header N=V]",
     "append a rule (deny rules beat allow rules; within each, list order)",
     true},
    {{"policy", "del"}, 0, id_keys, cmd_policy_del, "policy del id=N", "remove a rule", true},
    {{"policy", "list"},
     0,
     no_keys,
     cmd_policy_list,
     "policy list",
     "rules in order with ids and counters, default action",
     false},
    {{"policy", "load"},
     0,
     file_keys,
     cmd_policy_load,
     "policy load file=PATH",
     "replace all rules with a file's, all or nothing",
     true},
    {{"policy", "default"},
     1,
     no_keys,
     cmd_policy_default,
     "policy default allow|deny",
     "action when no rule matches (default deny)",
     true},
    {{"sig", "load"},
     0,
     file_keys,
     cmd_sig_load,
     "sig load file=PATH",
     "replace the signature rules with a file's, all or nothing (open streams keep theirs); "
     "compiles in the background, one load at a time (sig list shows it)",
     false},
    {{"sig", "list"},
     0,
     no_keys,
     cmd_sig_list,
     "sig list",
     "signature rules with hit counts",
     false},
    {{"sig", "stats"},
     0,
     no_keys,
     cmd_sig_stats,
     "sig stats",
     "scanning: bytes, time, streams and their memory, hits per sid, stream drops",
     false},
    {{"flow", "list"},
     0,
     flow_list_keys,
     cmd_flow_list,
     "flow list [pod=NAME|NS/NAME] [limit=N]",
     "tracked flows (both sides of local flows)",
     false},
    {{"flow", "show"},
     0,
     flow_show_keys,
     cmd_flow_show,
     "flow show src=IP[:PORT] dst=IP[:PORT] [proto=tcp|udp|icmp]",
     "one flow in detail",
     false},
    {{"config", "reload"},
     0,
     no_keys,
     cmd_config_reload,
     "config reload",
     "read the config file again and apply its live settings, all or nothing; refused, "
     "naming them, if settings that need a restart changed",
     false},
    {{"flow", "flush"},
     0,
     pod_keys,
     cmd_flow_flush,
     "flow flush [pod=NAME]",
     "end flows now and write their records",
     false},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static json_t *
cmd_help(struct nm_node *node, const struct nm_req *req)
{
	json_t *r = nm_reply_ok(), *list = json_array();

	(void)node;
	(void)req;
	for (size_t i = 0; i < N_COMMANDS; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "usage", commands[i].usage,
						      "help", commands[i].help));
	json_object_set_new(r, "commands", list);
	return r;
}

void
nm_commands_print(FILE *out)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "%s\t%s\n", commands[i].usage, commands[i].help);
}

static unsigned int
n_words(const struct command *c)
{
	return c->words[1] == NULL ? 1 : 2;
}

json_t *
nm_commands_dispatch(void *ctx, const struct nm_req *req)
{
	struct nm_node *node = ctx;
	bool known_first = false;
	char err[256];

	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];

		if (strcmp(req->words[0], c->words[0]) != 0)
			continue;
		known_first = true;
		if (req->nwords < n_words(c) || req->nwords > n_words(c) + c->extra_words ||
		    (c->words[1] != NULL && strcmp(req->words[1], c->words[1]) != 0))
			continue;
		if (nm_req_check_keys(req, c->keys, err, sizeof(err)) < 0)
			return nm_reply_error("%s; usage: %s", err, c->usage);
		json_t *r = c->fn(node, req);
		if (c->saves && json_is_true(json_object_get(r, "ok")))
			nm_node_state_changed(node);
		return r;
	}
	if (known_first) {
		/* Say which sub-commands exist instead of a bare "unknown". */
		char alts[256] = "";
		for (size_t i = 0; i < N_COMMANDS; i++) {
			if (strcmp(req->words[0], commands[i].words[0]) != 0 ||
			    commands[i].words[1] == NULL)
				continue;
			strncat(alts, alts[0] ? "|" : "", sizeof(alts) - strlen(alts) - 1);
			strncat(alts, commands[i].words[1], sizeof(alts) - strlen(alts) - 1);
		}
		return nm_reply_error("'%.64s' needs one of: %s", req->words[0],
				      alts[0] ? alts : "no further words");
	}
	return nm_reply_error("unknown command '%.64s'; try 'help'", req->words[0]);
}
