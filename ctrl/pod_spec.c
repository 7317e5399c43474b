/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod specifications and identities from key/value strings: what `pod
 * add`, `identity set`, the config's pods, the state file and the CNI
 * plugin's request all go through (declared in config.h). Each key is
 * checked against its charset and length, and the first problem is named.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "nodemesh/cidr.h"
#include "config.h"
#include "identity.h"
#include "names.h"

/* "k=v,k=v": keys and values of [A-Za-z0-9._/-], at least one char each. */
static int
valid_labels(const char *s)
{
	int in_key = 1;
	size_t tok = 0;

	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s++) {
		char ch = *s;
		if (ch == '=' && in_key && tok > 0) {
			in_key = 0;
			tok = 0;
		} else if (ch == ',' && !in_key && tok > 0) {
			in_key = 1;
			tok = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
			   ch == '/') {
			tok++;
		} else {
			return 0;
		}
	}
	return !in_key && tok > 0;
}

/*
 * The identity keys a pod and an `identity set` share: namespace and name
 * (required), serviceaccount (required when need_sa, else optional: absent
 * means the identity is not known yet), labels and image (only with a
 * serviceaccount: they are part of the identity). Fields are NM_NAME_LEN,
 * NM_LABELS_LEN and NM_IMAGE_LEN long.
 */
static int
fill_identity(char *ns, char *name, char *sa, char *labels, char *image, bool need_sa,
	      const char *(*key_fn)(const void *, const char *), const void *ctx, char *err,
	      size_t errlen)
{
	const struct {
		const char *key;
		char *dst;
	} names[] = {{"name", name}, {"namespace", ns}, {"serviceaccount", sa}};
	const char *v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = key_fn(ctx, names[i].key);
		if (v == NULL && names[i].dst == sa && !need_sa)
			continue;
		if (v == NULL) {
			snprintf(err, errlen, "missing '%s'", names[i].key);
			return -EINVAL;
		}
		if (!nm_name_valid(v, strlen(v))) {
			snprintf(err, errlen,
				 "'%s' must be 1 to %d characters of a-z, 0-9, '-', '.', '_'",
				 names[i].key, NM_NAME_LEN - 1);
			return -EINVAL;
		}
		memcpy(names[i].dst, v, strlen(v) + 1);
	}

	v = key_fn(ctx, "labels");
	if (v != NULL) {
		if (strlen(v) >= NM_LABELS_LEN || !valid_labels(v)) {
			snprintf(err, errlen, "'labels' must be k=v[,k=v...] of [A-Za-z0-9._/-]");
			return -EINVAL;
		}
		memcpy(labels, v, strlen(v) + 1);
	}
	v = key_fn(ctx, "image");
	if (v != NULL) {
		if (v[0] == '\0' || strlen(v) >= NM_IMAGE_LEN) {
			snprintf(err, errlen, "'image' must be 1 to %d characters",
				 NM_IMAGE_LEN - 1);
			return -EINVAL;
		}
		memcpy(image, v, strlen(v) + 1);
	}
	if (sa[0] == '\0' && (labels[0] != '\0' || image[0] != '\0')) {
		snprintf(err, errlen,
			 "'labels' and 'image' need 'serviceaccount': together they are the "
			 "pod's identity");
		return -EINVAL;
	}
	return 0;
}

int
nm_identity_fill(struct nm_identity *id, const char *(*key_fn)(const void *, const char *),
		 const void *ctx, char *err, size_t errlen)
{
	memset(id, 0, sizeof(*id));
	return fill_identity(id->ns, id->name, id->sa, id->labels, id->image, true, key_fn, ctx,
			     err, errlen);
}

/* A CNI container id: the spec allows letters, digits, '_', '.' and '-'. */
static bool
valid_container(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NM_CONTAINER_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

int
nm_pod_spec_fill(struct nm_pod_spec *spec, const char *(*key_fn)(const void *, const char *),
		 const void *ctx, char *err, size_t errlen)
{
	const char *v;

	memset(spec, 0, sizeof(*spec));
	if (fill_identity(spec->ns, spec->name, spec->sa, spec->labels, spec->image, false, key_fn,
			  ctx, err, errlen) < 0)
		return -EINVAL;

	v = key_fn(ctx, "ip");
	if (v == NULL) {
		snprintf(err, errlen, "missing 'ip'");
		return -EINVAL;
	}
	struct in_addr a;
	if (inet_pton(AF_INET, v, &a) != 1) {
		snprintf(err, errlen, "'ip' %.64s is not an IPv4 address", v);
		return -EINVAL;
	}
	if (!nm_ipv4_pod_unicast(a.s_addr)) {
		snprintf(err, errlen,
			 "'ip' %s is not a unicast pod address (0, broadcast, multicast, loopback "
			 "and 169.254/16 are not)",
			 v);
		return -EINVAL;
	}
	spec->ip = a.s_addr;

	v = key_fn(ctx, "container");
	if (v != NULL) {
		if (!valid_container(v)) {
			snprintf(err, errlen,
				 "'container' must be 1 to %d characters of A-Z, a-z, 0-9, '_', "
				 "'.', '-'",
				 NM_CONTAINER_LEN - 1);
			return -EINVAL;
		}
		memcpy(spec->container, v, strlen(v) + 1);
	}

	v = key_fn(ctx, "mac");
	if (v != NULL) {
		unsigned int b[6];
		char tail;
		if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
			   &tail) != 6 ||
		    strlen(v) != 17 || (b[0] & 1) != 0) {
			snprintf(err, errlen, "'mac' must be a unicast MAC like 02:00:00:00:00:01");
			return -EINVAL;
		}
		for (int i = 0; i < 6; i++)
			spec->mac[i] = (uint8_t)b[i];
		spec->has_mac = 1;
	}

	v = key_fn(ctx, "driver");
	if (v == NULL || strcmp(v, "af_packet") == 0) {
		spec->driver = NM_DRV_AF_PACKET;
	} else if (strcmp(v, "af_xdp") == 0) {
		spec->driver = NM_DRV_AF_XDP;
	} else if (strcmp(v, "memif") == 0) {
		spec->driver = NM_DRV_MEMIF;
	} else {
		snprintf(err, errlen, "'driver' must be af_packet, af_xdp or memif");
		return -EINVAL;
	}

	/* A memif pod has a socket instead of an interface. */
	v = key_fn(ctx, "socket");
	if (spec->driver == NM_DRV_MEMIF) {
		if (v == NULL || v[0] != '/' || strlen(v) >= NM_SOCKET_PATH_LEN ||
		    strpbrk(v, " ,=") != NULL) {
			snprintf(err, errlen,
				 "driver memif needs 'socket', an absolute path of at most %d "
				 "characters without ' ', ',' or '='",
				 NM_SOCKET_PATH_LEN - 1);
			return -EINVAL;
		}
		memcpy(spec->memif_socket, v, strlen(v) + 1);
		if (key_fn(ctx, "iface") != NULL) {
			snprintf(err, errlen, "driver memif takes 'socket', not 'iface'");
			return -EINVAL;
		}
		return 0;
	}
	if (v != NULL) {
		snprintf(err, errlen, "'socket' is only for driver memif");
		return -EINVAL;
	}
	v = key_fn(ctx, "iface");
	if (v == NULL) {
		snprintf(err, errlen, "missing 'iface'");
		return -EINVAL;
	}
	if (v[0] == '\0' || strlen(v) >= IF_NAMESIZE || strpbrk(v, " ,=/") != NULL) {
		snprintf(err, errlen, "'iface' must be an interface name of 1 to %d characters",
			 IF_NAMESIZE - 1);
		return -EINVAL;
	}
	memcpy(spec->iface, v, strlen(v) + 1);
	return 0;
}
