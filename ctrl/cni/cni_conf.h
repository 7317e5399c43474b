/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What nodemesh-cni is given: the CNI_* environment variables, the network
 * configuration on stdin and the CNI_ARGS pairs, parsed and checked against
 * the CNI 1.0.0 specification (SPEC.md "Parameters", "Network
 * configuration", "Well-known Error Codes"). Pure: no I/O, so the unit tests
 * and the fuzzer drive it directly.
 */
#ifndef NM_CNI_CONF_H
#define NM_CNI_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "nodemesh/pod-t.h"

/* SPEC.md "Well-known Error Codes"; 999 is ours (100+ is plugin-specific). */
enum nm_cni_code {
	NM_CNI_ERR_VERSION = 1,		  /* incompatible CNI version */
	NM_CNI_ERR_UNSUPPORTED_FIELD = 2, /* unsupported field in network configuration */
	NM_CNI_ERR_UNKNOWN_CONTAINER = 3, /* container unknown or does not exist */
	NM_CNI_ERR_ENV = 4,		  /* invalid necessary environment variables */
	NM_CNI_ERR_IO = 5,		  /* I/O failure */
	NM_CNI_ERR_DECODE = 6,		  /* failed to decode content */
	NM_CNI_ERR_CONFIG = 7,		  /* invalid network config */
	NM_CNI_ERR_TRY_AGAIN = 11,	  /* try again later */
	NM_CNI_ERR_INTERNAL = 999,	  /* nodemesh-cni's own failures */
};

/* A failure as the spec's error object carries it: code, msg, details. */
struct nm_cni_err {
	unsigned int code;
	char msg[128];
	char details[768];
};

/* Fill err (code, a short msg, details from fmt) and return -EINVAL. */
int nm_cni_err_set(struct nm_cni_err *err, unsigned int code, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

enum nm_cni_cmd {
	NM_CNI_CMD_ADD,
	NM_CNI_CMD_DEL,
	NM_CNI_CMD_CHECK,
	NM_CNI_CMD_VERSION,
};

#define NM_CNI_IFNAME_LEN      16  /* IFNAMSIZ, NUL included */
#define NM_CNI_CONTAINER_LEN   257 /* a request token (request.h), NUL included */
#define NM_CNI_SOCKET_LEN      108 /* sun_path, NUL included */
#define NM_CNI_PLUGIN_NAME_LEN 256

/* The CNI_* environment, read through a getenv-like lookup. */
struct nm_cni_env {
	enum nm_cni_cmd cmd;
	char container_id[NM_CNI_CONTAINER_LEN];
	const char *netns; /* CNI_NETNS; may be NULL for DEL */
	char ifname[NM_CNI_IFNAME_LEN];
	const char *args; /* CNI_ARGS, "" when unset */
	const char *path; /* CNI_PATH */
};

/*
 * Read and check the CNI_* variables that cmd needs (SPEC.md
 * "Parameters": VERSION needs only CNI_COMMAND; DEL tolerates a missing
 * CNI_NETNS). getenv_fn is getenv in the plugin. Returns 0, or -EINVAL
 * with err code 4 naming the variable.
 */
int nm_cni_env_read(struct nm_cni_env *env, const char *(*getenv_fn)(const char *name),
		    struct nm_cni_err *err);

enum nm_cni_driver {
	NM_CNI_DRIVER_AF_PACKET,
	NM_CNI_DRIVER_AF_XDP,
};

/* The network configuration (stdin). */
struct nm_cni_conf {
	char cni_version[16];
	char socket[NM_CNI_SOCKET_LEN];		/* the node's nodemeshd control socket */
	unsigned int mtu;			/* bytes; 0: the kernel's default */
	enum nm_cni_driver driver;		/* how nodemeshd attaches the host end */
	char ipam_type[NM_CNI_PLUGIN_NAME_LEN]; /* file name of the IPAM plugin in CNI_PATH */
	json_t *root;				/* the whole document (owned) */
	const json_t *prev_result;		/* borrowed from root; NULL when absent */
};

/* The CNI versions nodemesh-cni accepts for every command, oldest first. */
extern const char *const nm_cni_versions[];

/*
 * Parse the network configuration in buf[0..len). Returns 0, or -EINVAL
 * with err: 6 when buf is not a JSON object, 1 for a cniVersion we do not
 * accept, 2 for a key we do not know, 7 for a known key with a bad value
 * or a missing required key. On success free it with nm_cni_conf_free().
 */
int nm_cni_conf_parse(const char *buf, size_t len, struct nm_cni_conf *conf,
		      struct nm_cni_err *err);

void nm_cni_conf_free(struct nm_cni_conf *conf);

/* CNI_ARGS ("K=V;K=V"): the pod the container belongs to. */
struct nm_cni_args {
	char pod_name[NM_NAME_LEN]; /* K8S_POD_NAME; "" when absent */
	char pod_ns[NM_NAME_LEN];   /* K8S_POD_NAMESPACE; "default" when absent */
	bool ignore_unknown;	    /* IgnoreUnknown=1|true */
};

/*
 * Parse s (CNI_ARGS). Keys other than IgnoreUnknown and kubelet's K8S_POD_*
 * are an error unless IgnoreUnknown is true (anywhere in s). Returns 0 or
 * -EINVAL with err code 4 naming the pair.
 */
int nm_cni_args_parse(const char *s, struct nm_cni_args *args, struct nm_cni_err *err);

/*
 * The host end's name for container_id: "nm" and 11 hex digits of its
 * FNV-1a 64-bit hash, so that DEL finds what ADD created from the id alone.
 * out must hold NM_CNI_IFNAME_LEN bytes.
 */
void nm_cni_host_ifname(const char *container_id, char *out);

#endif
