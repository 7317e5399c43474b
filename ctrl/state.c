/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The run-time state file: codec, parser and atomic file I/O (format in
 * state.h). Pure: no DPDK, no node; ctrl/node_state.c builds a struct
 * nm_state from the node and applies one back.
 *
 * Every entry of the body is checked by the parser of the command that
 * made it (nm_pod_spec_fill, nm_identity_fill, nm_rule_parse,
 * nm_peer_spec_fill), so a state file can hold nothing the control socket
 * would refuse. The checksum only catches damage (a torn or edited file):
 * the file is as trusted as the directory it lives in (root's, 0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "rule.h"
#include "state.h"

#define MAGIC	   "nodemesh-state"
#define HEADER_MAX 128 /* "nodemesh-state V LEN HEX64\n" fits with room */

static void
sha256_hex(const char *buf, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * (size_t)i, 3, "%02x", md[i]);
}

/* ---- building a body ---------------------------------------------------- */

/* Set key to v unless v is "" (optional keys are left out). */
static void
set_str(json_t *o, const char *key, const char *v)
{
	if (v[0] != '\0')
		json_object_set_new(o, key, json_string(v));
}

static json_t *
pod_json(const struct nm_pod_spec *p)
{
	static const char *const drivers[] = {"af_packet", "af_xdp", "memif"};
	char ip[INET_ADDRSTRLEN], mac[18];
	json_t *o = json_object();

	inet_ntop(AF_INET, &p->ip, ip, sizeof(ip));
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "namespace", json_string(p->ns));
	json_object_set_new(o, "ip", json_string(ip));
	json_object_set_new(o, "driver", json_string(drivers[p->driver % 3]));
	set_str(o, "iface", p->iface);
	set_str(o, "socket", p->memif_socket);
	set_str(o, "container", p->container);
	if (p->has_mac) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1],
			 p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
		json_object_set_new(o, "mac", json_string(mac));
	}
	return o;
}

static json_t *
identity_json(const struct nm_identity *id)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "namespace", id->ns, "name", id->name,
			      "serviceaccount", id->sa);

	set_str(o, "labels", id->labels);
	set_str(o, "image", id->image);
	return o;
}

static json_t *
peer_json(const struct nm_peer_spec *p)
{
	char addr[NM_CFG_ARG_LEN + 8], fabric[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
	char cidr[INET_ADDRSTRLEN + 4];

	snprintf(addr, sizeof(addr), "%s:%u", p->host, p->port);
	inet_ntop(AF_INET, &p->fabric_ip, fabric, sizeof(fabric));
	inet_ntop(AF_INET, &p->pod_cidr.net, net, sizeof(net));
	snprintf(cidr, sizeof(cidr), "%s/%u", net, p->pod_cidr.prefix_len);
	return json_pack("{s:s, s:s, s:s, s:s}", "name", p->name, "address", addr, "fabric_ip",
			 fabric, "pod_cidr", cidr);
}

json_t *
nm_state_body(const struct nm_state *st, const char *node_name)
{
	json_t *pods = json_array(), *ids = json_array(), *rules = json_array();
	json_t *peers = json_array();

	for (unsigned int i = 0; i < st->n_pods; i++)
		json_array_append_new(pods, pod_json(&st->pods[i]));
	for (unsigned int i = 0; i < st->n_identities; i++)
		json_array_append_new(ids, identity_json(&st->identities[i]));
	for (unsigned int i = 0; i < st->n_rules; i++)
		json_array_append_new(rules,
				      json_pack("{s:I, s:s}", "id", (json_int_t)st->rules[i].id,
						"rule", st->rules[i].text));
	for (unsigned int i = 0; i < st->n_peers; i++)
		json_array_append_new(peers, peer_json(&st->peers[i]));
	return json_pack("{s:s, s:o, s:o, s:{s:s, s:I, s:o}, s:o, s:{s:s?}}", "node", node_name,
			 "pods", pods, "identities", ids, "policy", "default",
			 st->default_allow ? "allow" : "deny", "next_rule_id",
			 (json_int_t)st->next_rule_id, "rules", rules, "peers", peers, "signatures",
			 "file", st->sig_file[0] ? st->sig_file : NULL);
}

char *
nm_state_encode(const json_t *body, size_t *len)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	char hex[65], header[HEADER_MAX], *out;
	size_t n, h;

	if (text == NULL)
		return NULL;
	n = strlen(text);
	sha256_hex(text, n, hex);
	h = (size_t)snprintf(header, sizeof(header), MAGIC " %d %zu %s\n", NM_STATE_VERSION, n,
			     hex);
	out = malloc(h + n + 1);
	if (out != NULL) {
		memcpy(out, header, h);
		memcpy(out + h, text, n + 1);
		*len = h + n;
	}
	free(text);
	return out;
}

/* ---- reading one back ----------------------------------------------------- */

json_t *
nm_state_decode(const char *buf, size_t len, char *err, size_t errlen)
{
	const char *nl = memchr(buf, '\n', len < HEADER_MAX ? len : HEADER_MAX);
	char header[HEADER_MAX], magic[16], hex[65], want[65];
	unsigned int version;
	size_t body_len;
	int used = 0;

	if (nl == NULL) {
		snprintf(err, errlen, "truncated or not a state file: no header line");
		return NULL;
	}
	memcpy(header, buf, (size_t)(nl - buf));
	header[nl - buf] = '\0';
	if (sscanf(header, "%15s %u %zu %64[0-9a-f]%n", magic, &version, &body_len, hex, &used) !=
		4 ||
	    strcmp(magic, MAGIC) != 0 || header[used] != '\0' || strlen(hex) != 64) {
		snprintf(err, errlen, "not a state file: header \"%.80s\"", header);
		return NULL;
	}
	if (version != NM_STATE_VERSION) {
		snprintf(err, errlen, "version %u, this nodemeshd reads version %d", version,
			 NM_STATE_VERSION);
		return NULL;
	}
	const char *body = nl + 1;
	size_t have = len - (size_t)(body - buf);
	if (body_len > NM_STATE_MAX_BYTES || have != body_len) {
		snprintf(err, errlen,
			 "truncated: the header says %zu bytes of body, the file has %zu", body_len,
			 have);
		return NULL;
	}
	sha256_hex(body, body_len, want);
	if (strcmp(hex, want) != 0) {
		snprintf(err, errlen, "checksum mismatch: the body was changed or torn");
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL || !json_is_object(j)) {
		snprintf(err, errlen, "body is not a JSON object: %s", j ? "" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Each key of o a string and one of allowed; the key_fn of the command parsers. */
static int
check_strings(const json_t *o, const char *const *allowed, const char *what, unsigned int i,
	      char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s %u is not an object", what, i);
		return -EINVAL;
	}
	json_object_foreach((json_t *)o, key, v)
	{
		const char *const *a = allowed;
		while (*a != NULL && strcmp(*a, key) != 0)
			a++;
		if (*a == NULL || !json_is_string(v)) {
			snprintf(err, errlen, "%s %u: key '%.32s' is unknown or not a string", what,
				 i, key);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *
json_key(const void *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* body[key] as an array of at most max entries. */
static const json_t *
array_of(const json_t *body, const char *key, size_t max, char *err, size_t errlen)
{
	const json_t *a = json_object_get(body, key);

	if (!json_is_array(a) || json_array_size(a) > max) {
		snprintf(err, errlen, "'%s' is not an array of at most %zu", key, max);
		return NULL;
	}
	return a;
}

/* The command parser of one kind of entry, filling entry i of the array at dst. */
typedef int (*fill_fn)(void *dst, unsigned int i, const json_t *o, char *err, size_t errlen);

static int
fill_pod(void *dst, unsigned int i, const json_t *o, char *err, size_t errlen)
{
	return nm_pod_spec_fill((struct nm_pod_spec *)dst + i, json_key, o, err, errlen);
}

static int
fill_identity(void *dst, unsigned int i, const json_t *o, char *err, size_t errlen)
{
	return nm_identity_fill((struct nm_identity *)dst + i, json_key, o, err, errlen);
}

static int
fill_peer(void *dst, unsigned int i, const json_t *o, char *err, size_t errlen)
{
	return nm_peer_spec_fill((struct nm_peer_spec *)dst + i, json_key, o, err, errlen);
}

/*
 * body[key]: an array of at most max objects of string values with the
 * given keys, each filled by fill into dst; *n counts the entries filled.
 */
static int
parse_objects(const json_t *body, const char *key, const char *what, const char *const *keys,
	      size_t max, void *dst, fill_fn fill, unsigned int *n, char *err, size_t errlen)
{
	const json_t *a = array_of(body, key, max, err, errlen);
	char why[256];

	if (a == NULL)
		return -EINVAL;
	for (unsigned int i = 0; i < json_array_size(a); i++) {
		const json_t *o = json_array_get(a, i);
		if (check_strings(o, keys, what, i, err, errlen) < 0)
			return -EINVAL;
		if (fill(dst, i, o, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s %u: %s", what, i, why);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

/* Room for the entries of body[key] (one more, so an empty array allocates too). */
static void *
room_for(const json_t *body, const char *key, size_t elem)
{
	return calloc(json_array_size(json_object_get(body, key)) + 1, elem);
}

static int
parse_pods(const json_t *body, struct nm_state *st, char *err, size_t errlen)
{
	static const char *const keys[] = {"name",   "namespace", "ip",	 "driver", "iface",
					   "socket", "container", "mac", NULL};

	st->pods = room_for(body, "pods", sizeof(*st->pods));
	if (st->pods == NULL)
		return -ENOMEM;
	return parse_objects(body, "pods", "pod", keys, NM_MAX_PODS, st->pods, fill_pod,
			     &st->n_pods, err, errlen);
}

static int
parse_identities(const json_t *body, struct nm_state *st, char *err, size_t errlen)
{
	static const char *const keys[] = {"namespace", "name",	 "serviceaccount",
					   "labels",	"image", NULL};

	st->identities = room_for(body, "identities", sizeof(*st->identities));
	if (st->identities == NULL)
		return -ENOMEM;
	return parse_objects(body, "identities", "identity", keys, NM_MAX_IDENTITIES,
			     st->identities, fill_identity, &st->n_identities, err, errlen);
}

static int
parse_policy(const json_t *body, struct nm_state *st, char *err, size_t errlen)
{
	const json_t *p = json_object_get(body, "policy");
	const char *dflt = json_string_value(json_object_get(p, "default"));
	const json_t *next = json_object_get(p, "next_rule_id");
	const json_t *a = array_of(p, "rules", NM_MAX_RULES, err, errlen);
	char why[256];

	if (a == NULL)
		return -EINVAL;
	if (dflt == NULL || (strcmp(dflt, "allow") != 0 && strcmp(dflt, "deny") != 0) ||
	    !json_is_integer(next) || json_integer_value(next) < 1 ||
	    json_integer_value(next) > UINT32_MAX) {
		snprintf(err, errlen, "'policy' needs default allow|deny and next_rule_id >= 1");
		return -EINVAL;
	}
	st->default_allow = strcmp(dflt, "allow") == 0;
	st->next_rule_id = (uint32_t)json_integer_value(next);
	st->rules = calloc(json_array_size(a) + 1, sizeof(*st->rules));
	if (st->rules == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < json_array_size(a); i++) {
		const json_t *r = json_array_get(a, i);
		const json_t *id = json_object_get(r, "id");
		const char *text = json_string_value(json_object_get(r, "rule"));
		if (!json_is_integer(id) || json_integer_value(id) < 1 ||
		    json_integer_value(id) >= st->next_rule_id || text == NULL ||
		    json_object_size(r) != 2) {
			snprintf(err, errlen, "rule %u needs id (1 to next_rule_id - 1) and rule",
				 i);
			return -EINVAL;
		}
		if (nm_rule_parse(text, &st->rules[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "rule %u: %s", i, why);
			return -EINVAL;
		}
		st->rules[i].id = (uint32_t)json_integer_value(id);
		for (unsigned int k = 0; k < i; k++)
			if (st->rules[k].id == st->rules[i].id) {
				snprintf(err, errlen, "rule %u: id %u twice", i, st->rules[i].id);
				return -EINVAL;
			}
		st->n_rules++;
	}
	return 0;
}

static int
parse_peers(const json_t *body, struct nm_state *st, char *err, size_t errlen)
{
	static const char *const keys[] = {"name", "address", "fabric_ip", "pod_cidr", NULL};

	st->peers = room_for(body, "peers", sizeof(*st->peers));
	if (st->peers == NULL)
		return -ENOMEM;
	return parse_objects(body, "peers", "peer", keys, NM_PEERS_MAX, st->peers, fill_peer,
			     &st->n_peers, err, errlen);
}

static int
parse_signatures(const json_t *body, struct nm_state *st, char *err, size_t errlen)
{
	const json_t *s = json_object_get(body, "signatures");
	const json_t *f = json_object_get(s, "file");

	if (!json_is_object(s) || json_object_size(s) != 1 ||
	    !(json_is_null(f) || (json_is_string(f) && json_string_length(f) > 0 &&
				  json_string_length(f) < NM_CFG_ARG_LEN))) {
		snprintf(err, errlen, "'signatures' must be {\"file\": null or a path}");
		return -EINVAL;
	}
	if (json_is_string(f))
		memcpy(st->sig_file, json_string_value(f), json_string_length(f) + 1);
	return 0;
}

int
nm_state_parse(const json_t *body, struct nm_state *st, char *err, size_t errlen)
{
	static const char *const top[] = {"node",  "pods",	 "identities", "policy",
					  "peers", "signatures", NULL};
	const char *key;
	json_t *v;
	int rc;

	memset(st, 0, sizeof(*st));
	json_object_foreach((json_t *)body, key, v)
	{
		const char *const *t = top;
		while (*t != NULL && strcmp(*t, key) != 0)
			t++;
		if (*t == NULL) {
			snprintf(err, errlen, "unknown key '%.32s'", key);
			return -EINVAL;
		}
	}
	rc = parse_pods(body, st, err, errlen);
	if (rc == 0)
		rc = parse_identities(body, st, err, errlen);
	if (rc == 0)
		rc = parse_policy(body, st, err, errlen);
	if (rc == 0)
		rc = parse_peers(body, st, err, errlen);
	if (rc == 0)
		rc = parse_signatures(body, st, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0)
		nm_state_clear(st);
	return rc;
}

void
nm_state_clear(struct nm_state *st)
{
	free(st->pods);
	free(st->identities);
	free(st->rules);
	free(st->peers);
	memset(st, 0, sizeof(*st));
}

/* ---- the file ------------------------------------------------------------- */

static int
fsync_dir_of(const char *path)
{
	char copy[4096];
	int fd, rc;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int
nm_state_write(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	size_t off = 0;
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "state path too long");
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "creating %s: %s", tmp, strerror(-rc));
		return rc;
	}
	while (off < len && rc == 0) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen, "writing %s: %s", path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	rc = fsync_dir_of(path);
	if (rc < 0)
		snprintf(err, errlen, "fsync of %s's directory: %s", path, strerror(-rc));
	return rc;
}

int
nm_state_read(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	*buf = NULL;
	if (fd < 0) {
		rc = -errno;
		if (rc != -ENOENT)
			snprintf(err, errlen, "opening %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &sb) < 0 || sb.st_size > (off_t)NM_STATE_MAX_BYTES + HEADER_MAX) {
		rc = sb.st_size > 0 ? -EFBIG : -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	*buf = malloc((size_t)sb.st_size + 1);
	size_t off = 0;
	while (*buf != NULL && off < (size_t)sb.st_size) {
		ssize_t n = read(fd, *buf + off, (size_t)sb.st_size - off);
		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
		if (n > 0)
			off += (size_t)n;
	}
	close(fd);
	if (*buf == NULL) {
		snprintf(err, errlen, "out of memory reading %s", path);
		return -ENOMEM;
	}
	(*buf)[off] = '\0';
	*len = off;
	return 0;
}
