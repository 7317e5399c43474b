/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CNI environment, network configuration and CNI_ARGS parsing (see
 * cni_conf.h). Every rejection names the variable, key or pair that was
 * wrong and carries the spec's error code for it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cni_conf.h"
#include "names.h"

const char *const nm_cni_versions[] = {"0.4.0", "1.0.0", NULL};

int
nm_cni_err_set(struct nm_cni_err *err, unsigned int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* --- environment ------------------------------------------------------------ */

/* SPEC.md "Parameters": the container ID is [A-Za-z0-9][A-Za-z0-9_.-]*. */
static bool
container_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NM_CNI_CONTAINER_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}

/* What the kernel takes as a link name (dev_valid_name()). */
static bool
ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NM_CNI_IFNAME_LEN || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

static int
read_cmd(struct nm_cni_env *env, const char *v, struct nm_cni_err *err)
{
	static const struct {
		const char *name;
		enum nm_cni_cmd cmd;
	} cmds[] = {
	    {"ADD", NM_CNI_CMD_ADD},
	    {"DEL", NM_CNI_CMD_DEL},
	    {"CHECK", NM_CNI_CMD_CHECK},
	    {"VERSION", NM_CNI_CMD_VERSION},
	};

	if (v == NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_COMMAND is not set");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(v, cmds[i].name) == 0) {
			env->cmd = cmds[i].cmd;
			return 0;
		}
	}
	return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
			      "CNI_COMMAND '%.32s' is not ADD, DEL, CHECK or VERSION", v);
}

int
nm_cni_env_read(struct nm_cni_env *env, const char *(*getenv_fn)(const char *name),
		struct nm_cni_err *err)
{
	const char *v;

	memset(env, 0, sizeof(*env));
	if (read_cmd(env, getenv_fn("CNI_COMMAND"), err) < 0)
		return -EINVAL;
	if (env->cmd == NM_CNI_CMD_VERSION)
		return 0;

	v = getenv_fn("CNI_CONTAINERID");
	if (v == NULL || !container_id_valid(v))
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_CONTAINERID %s: must be 1 to %d characters of "
				      "[A-Za-z0-9_.-], starting with a letter or digit",
				      v == NULL ? "is not set" : "is invalid",
				      NM_CNI_CONTAINER_LEN - 1);
	memcpy(env->container_id, v, strlen(v) + 1);

	env->netns = getenv_fn("CNI_NETNS");
	if (env->netns != NULL && env->netns[0] == '\0')
		env->netns = NULL;
	if (env->netns == NULL && env->cmd != NM_CNI_CMD_DEL)
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_NETNS is not set (ADD and CHECK need it)");
	if (env->netns != NULL && env->netns[0] != '/')
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_NETNS '%.200s' is not an absolute path", env->netns);

	v = getenv_fn("CNI_IFNAME");
	if (v == NULL || !ifname_valid(v))
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_IFNAME %s: must be a link name of 1 to %d characters",
				      v == NULL ? "is not set" : "is invalid",
				      NM_CNI_IFNAME_LEN - 1);
	memcpy(env->ifname, v, strlen(v) + 1);

	v = getenv_fn("CNI_ARGS");
	env->args = v != NULL ? v : "";

	env->path = getenv_fn("CNI_PATH");
	if (env->path == NULL || env->path[0] == '\0')
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_PATH is not set (the IPAM plugin is looked up there)");
	return 0;
}

/* --- network configuration ------------------------------------------------- */

/* The keys we read, plus the spec's well-known ones we accept and ignore. */
static const char *const known_keys[] = {
    "cniVersion", "name", "type",	"socket",	 "mtu",		 "driver", "ipam",
    "dns",	  "args", "prevResult", "runtimeConfig", "capabilities", NULL};

static bool
key_known(const char *key)
{
	for (size_t i = 0; known_keys[i] != NULL; i++)
		if (strcmp(key, known_keys[i]) == 0)
			return true;
	return false;
}

/* SPEC.md: the network name is [A-Za-z0-9][A-Za-z0-9_.-]*. */
static bool
net_name_valid(const char *s)
{
	if (s[0] == '\0' || strlen(s) > 255)
		return false;
	return container_id_valid(s);
}

/* The value of key if it is a string, else an error naming it. */
static const char *
string_of(const json_t *root, const char *key, bool required, struct nm_cni_err *err)
{
	const json_t *v = json_object_get(root, key);

	if (v == NULL) {
		if (required)
			nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				       "\"%s\" is missing", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
			       "\"%s\" must be a string", key);
		return NULL;
	}
	return json_string_value(v);
}

static int
parse_version(struct nm_cni_conf *conf, const json_t *root, struct nm_cni_err *err)
{
	const char *v = string_of(root, "cniVersion", true, err);

	if (v == NULL)
		return -EINVAL;
	for (size_t i = 0; nm_cni_versions[i] != NULL; i++) {
		if (strcmp(v, nm_cni_versions[i]) == 0) {
			memcpy(conf->cni_version, v, strlen(v) + 1);
			return 0;
		}
	}
	return nm_cni_err_set(err, NM_CNI_ERR_VERSION, "incompatible CNI version",
			      "cniVersion \"%.32s\" is not supported (nodemesh-cni supports "
			      "0.4.0 and 1.0.0)",
			      v);
}

static int
parse_identity(const json_t *root, struct nm_cni_err *err)
{
	const char *v;

	v = string_of(root, "name", true, err);
	if (v == NULL)
		return -EINVAL;
	if (!net_name_valid(v))
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"name\" \"%.64s\" must be [A-Za-z0-9][A-Za-z0-9_.-]*", v);
	v = string_of(root, "type", true, err);
	if (v == NULL)
		return -EINVAL;
	if (strcmp(v, "nodemesh-cni") != 0)
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"type\" is \"%.64s\", not \"nodemesh-cni\"", v);
	return 0;
}

static int
parse_socket(struct nm_cni_conf *conf, const json_t *root, struct nm_cni_err *err)
{
	const char *v = string_of(root, "socket", true, err);

	if (v == NULL)
		return -EINVAL;
	if (v[0] != '/' || strlen(v) >= sizeof(conf->socket))
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"socket\" must be an absolute path of at most %zu bytes "
				      "(nodemeshd's control socket)",
				      sizeof(conf->socket) - 1);
	memcpy(conf->socket, v, strlen(v) + 1);
	return 0;
}

static int
parse_link(struct nm_cni_conf *conf, const json_t *root, struct nm_cni_err *err)
{
	const json_t *mtu = json_object_get(root, "mtu");
	const char *drv;

	/* 68: the IPv4 minimum (RFC 791); 65535: what IFLA_MTU checks take. */
	if (mtu != NULL) {
		if (!json_is_integer(mtu) || json_integer_value(mtu) < 68 ||
		    json_integer_value(mtu) > 65535)
			return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
					      "\"mtu\" must be an integer from 68 to 65535");
		conf->mtu = (unsigned int)json_integer_value(mtu);
	}

	conf->driver = NM_CNI_DRIVER_AF_PACKET;
	drv = string_of(root, "driver", false, err);
	if (drv == NULL && json_object_get(root, "driver") != NULL)
		return -EINVAL;
	if (drv != NULL && strcmp(drv, "af_xdp") == 0)
		conf->driver = NM_CNI_DRIVER_AF_XDP;
	else if (drv != NULL && strcmp(drv, "af_packet") != 0)
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"driver\" \"%.32s\" must be \"af_packet\" or \"af_xdp\"",
				      drv);
	return 0;
}

/*
 * The IPAM plugin is run as CNI_PATH/<type>: a file name, never a path,
 * so that a configuration cannot name a binary outside the plugin dirs.
 */
static int
parse_ipam(struct nm_cni_conf *conf, const json_t *root, struct nm_cni_err *err)
{
	const json_t *ipam = json_object_get(root, "ipam");
	const char *type;

	if (ipam == NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"ipam\" is missing (nodemesh-cni needs an IPAM plugin "
				      "for the pod's address)");
	if (!json_is_object(ipam))
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"ipam\" must be an object");
	type = string_of(ipam, "type", false, err);
	if (type == NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"ipam.type\" must be a string naming the IPAM plugin");
	if (type[0] == '\0' || type[0] == '.' || strchr(type, '/') != NULL ||
	    strlen(type) >= sizeof(conf->ipam_type))
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"ipam.type\" \"%.64s\" must be a plugin's file name", type);
	memcpy(conf->ipam_type, type, strlen(type) + 1);
	return 0;
}

/*
 * Before the required keys: a misspelt "socket" is better reported as the
 * unknown key it is than as a missing one (the spec's code 2, with the key
 * and its value).
 */
static int
check_keys(const json_t *root, struct nm_cni_err *err)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)root, key, v)
	{
		if (key_known(key))
			continue;
		char *val = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		nm_cni_err_set(err, NM_CNI_ERR_UNSUPPORTED_FIELD, "unsupported field",
			       "unknown key \"%.64s\" (value %.128s)", key, val ? val : "?");
		free(val);
		return -EINVAL;
	}
	return 0;
}

static int
parse_rest(struct nm_cni_conf *conf, const json_t *root, struct nm_cni_err *err)
{
	const json_t *v = json_object_get(root, "dns");

	if (v != NULL && !json_is_object(v))
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"dns\" must be an object");
	v = json_object_get(root, "prevResult");
	if (v != NULL && !json_is_object(v))
		return nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "invalid network config",
				      "\"prevResult\" must be an object");
	conf->prev_result = v;
	return 0;
}

int
nm_cni_conf_parse(const char *buf, size_t len, struct nm_cni_conf *conf, struct nm_cni_err *err)
{
	json_error_t jerr;
	json_t *root;

	memset(conf, 0, sizeof(*conf));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_DECODE, "failed to decode network config",
				      "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return nm_cni_err_set(err, NM_CNI_ERR_DECODE, "failed to decode network config",
				      "the network config is not a JSON object");
	}
	conf->root = root;
	if (parse_version(conf, root, err) < 0 || check_keys(root, err) < 0 ||
	    parse_identity(root, err) < 0 || parse_socket(conf, root, err) < 0 ||
	    parse_link(conf, root, err) < 0 || parse_ipam(conf, root, err) < 0 ||
	    parse_rest(conf, root, err) < 0) {
		nm_cni_conf_free(conf);
		return -EINVAL;
	}
	return 0;
}

void
nm_cni_conf_free(struct nm_cni_conf *conf)
{
	json_decref(conf->root);
	conf->root = NULL;
	conf->prev_result = NULL;
}

/* --- CNI_ARGS -------------------------------------------------------------- */

/* libcni's boolean: 1, 0, true, false in any case. Returns 1, 0, or -1. */
static int
parse_bool(const char *v, size_t n)
{
	if ((n == 1 && v[0] == '1') || (n == 4 && strncasecmp(v, "true", 4) == 0))
		return 1;
	if ((n == 1 && v[0] == '0') || (n == 5 && strncasecmp(v, "false", 5) == 0))
		return 0;
	return -1;
}

/* One "K=V" of n bytes at p; *known says whether we understood K. */
static int
args_pair(const char *p, size_t n, struct nm_cni_args *args, bool *known, struct nm_cni_err *err)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq != NULL ? (size_t)(eq - p) : 0, vlen;
	const char *v;

	*known = true;
	if (eq == NULL || klen == 0)
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_ARGS: '%.*s' is not a KEY=VALUE pair",
				      (int)(n > 64 ? 64 : n), p);
	v = eq + 1;
	vlen = n - klen - 1;
	if (klen == 13 && memcmp(p, "IgnoreUnknown", 13) == 0) {
		int b = parse_bool(v, vlen);
		if (b < 0)
			return nm_cni_err_set(
			    err, NM_CNI_ERR_ENV, "invalid environment variables",
			    "CNI_ARGS: IgnoreUnknown must be 1, 0, true or false");
		args->ignore_unknown = b == 1;
	} else if ((klen == 12 && memcmp(p, "K8S_POD_NAME", 12) == 0) ||
		   (klen == 17 && memcmp(p, "K8S_POD_NAMESPACE", 17) == 0)) {
		char *dst = klen == 12 ? args->pod_name : args->pod_ns;
		if (!nm_name_valid(v, vlen))
			return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
					      "CNI_ARGS: %.*s must be 1 to %d characters of "
					      "[a-z0-9._-]",
					      (int)klen, p, NM_NAME_LEN - 1);
		memcpy(dst, v, vlen);
		dst[vlen] = '\0';
	} else if ((klen == 11 && memcmp(p, "K8S_POD_UID", 11) == 0) ||
		   (klen == 26 && memcmp(p, "K8S_POD_INFRA_CONTAINER_ID", 26) == 0)) {
		/* kubelet's, not needed here: the container ID is CNI_CONTAINERID. */
	} else {
		*known = false;
	}
	return 0;
}

int
nm_cni_args_parse(const char *s, struct nm_cni_args *args, struct nm_cni_err *err)
{
	const char *unknown = NULL;
	size_t unknown_len = 0;

	memset(args, 0, sizeof(*args));
	/* IgnoreUnknown may come after the unknown key it excuses: decide at the end. */
	while (*s != '\0') {
		size_t n = strcspn(s, ";");
		bool known = true;
		if (args_pair(s, n, args, &known, err) < 0)
			return -EINVAL;
		if (!known && unknown == NULL) {
			unknown = s;
			unknown_len = n;
		}
		s += n;
		if (*s == ';')
			s++;
	}
	if (unknown != NULL && !args->ignore_unknown)
		return nm_cni_err_set(err, NM_CNI_ERR_ENV, "invalid environment variables",
				      "CNI_ARGS: unknown '%.*s' (and no IgnoreUnknown=1)",
				      (int)(unknown_len > 64 ? 64 : unknown_len), unknown);
	if (args->pod_ns[0] == '\0')
		memcpy(args->pod_ns, "default", sizeof("default"));
	return 0;
}

/* --- names ----------------------------------------------------------------- */

void
nm_cni_host_ifname(const char *container_id, char *out)
{
	/* FNV-1a 64 (offset basis and prime from the FNV reference). */
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = container_id; *p != '\0'; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ull;
	}
	/* 11 hex digits = the top 44 bits: "nm" + 11 = 13 characters < IFNAMSIZ. */
	snprintf(out, NM_CNI_IFNAME_LEN, "nm%011llx", (unsigned long long)(h >> 20));
}
