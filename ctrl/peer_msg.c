/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames and pod announcements on the node-to-node control connection.
 * Everything here reads what another node sent, so every input is hostile
 * until checked: the length prefix is bounded before the body is buffered,
 * JSON is parsed by jansson with duplicate keys refused, and an
 * announcement is held to the rules of a local pod plus the peer's pod
 * CIDR (DESIGN.md, "Identity and policy").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodemesh/cidr.h"
#include "names.h"
#include "peer_msg.h"

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
nm_msg_rx_reset(struct nm_msg_rx *rx)
{
	rx->len = 0;
	rx->error = 0;
}

void
nm_msg_rx_free(struct nm_msg_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->cap = 0;
}

size_t
nm_msg_rx_want(struct nm_msg_rx *rx, uint8_t **dst)
{
	/* The prefix was bounded when it completed (nm_msg_rx_commit). */
	size_t need =
	    rx->len < NM_MSG_HDR_LEN ? NM_MSG_HDR_LEN : NM_MSG_HDR_LEN + get_be32(rx->buf);

	if (rx->error == 0 && need > rx->cap) {
		size_t cap = need > NM_MSG_RX_KEEP ? need : NM_MSG_RX_KEEP;
		uint8_t *buf = realloc(rx->buf, cap);
		if (buf == NULL) {
			rx->error = -ENOMEM;
		} else {
			rx->buf = buf;
			rx->cap = cap;
		}
	}
	*dst = rx->buf != NULL ? rx->buf + rx->len : NULL;
	return rx->error != 0 ? 0 : need - rx->len;
}

static int
fail(struct nm_msg_rx *rx, int rc)
{
	rx->error = rc;
	return rc;
}

int
nm_msg_rx_commit(struct nm_msg_rx *rx, size_t n, json_t **msg, char *err, size_t errlen)
{
	uint8_t *dst;
	uint32_t body_len;
	json_error_t jerr;
	json_t *value;

	*msg = NULL;
	if (rx->error != 0) {
		snprintf(err, errlen, "message stream already failed: %s", strerror(-rx->error));
		return rx->error;
	}
	if (n > nm_msg_rx_want(rx, &dst)) {
		snprintf(err, errlen, "%zu bytes committed, only %zu wanted", n,
			 nm_msg_rx_want(rx, &dst));
		return fail(rx, -EINVAL);
	}
	rx->len += n;
	if (rx->len < NM_MSG_HDR_LEN)
		return NM_MSG_NEED_MORE;

	body_len = get_be32(rx->buf);
	if (rx->len == NM_MSG_HDR_LEN) {
		if (body_len == 0) {
			snprintf(err, errlen, "frame of 0 bytes: a frame holds one JSON object");
			return fail(rx, -EMSGSIZE);
		}
		if (body_len > NM_MSG_MAX) {
			snprintf(err, errlen, "frame of %u bytes is over the limit of %d bytes",
				 body_len, NM_MSG_MAX);
			return fail(rx, -EMSGSIZE);
		}
		return NM_MSG_NEED_MORE;
	}
	if (rx->len < NM_MSG_HDR_LEN + body_len)
		return NM_MSG_NEED_MORE;

	/* A whole frame: the next one starts from an empty buffer. */
	rx->len = 0;
	value = json_loadb((const char *)rx->buf + NM_MSG_HDR_LEN, body_len, JSON_REJECT_DUPLICATES,
			   &jerr);
	if (rx->cap > NM_MSG_RX_KEEP)
		nm_msg_rx_free(rx); /* a large frame's buffer is not kept for small ones */
	if (value == NULL) {
		snprintf(err, errlen, "frame is not JSON: %s at byte %d", jerr.text, jerr.position);
		return fail(rx, -EBADMSG);
	}
	if (!json_is_object(value)) {
		json_decref(value);
		snprintf(err, errlen, "frame is JSON but not an object");
		return fail(rx, -EBADMSG);
	}
	*msg = value;
	return 0;
}

int
nm_msg_rx_push(struct nm_msg_rx *rx, const void *data, size_t n, size_t *used, json_t **msg,
	       char *err, size_t errlen)
{
	const uint8_t *src = data;
	int rc = NM_MSG_NEED_MORE;

	*msg = NULL;
	*used = 0;
	while (*used < n || rx->error != 0) {
		uint8_t *dst;
		size_t want = nm_msg_rx_want(rx, &dst);
		size_t take = n - *used < want ? n - *used : want;

		if (take > 0)
			memcpy(dst, src + *used, take);
		*used += take;
		rc = nm_msg_rx_commit(rx, take, msg, err, errlen);
		if (rc != NM_MSG_NEED_MORE)
			break;
	}
	return rc;
}

size_t
nm_msg_frame_len(const json_t *msg)
{
	return NM_MSG_HDR_LEN + json_dumpb(msg, NULL, 0, JSON_COMPACT);
}

long
nm_msg_frame_write(const json_t *msg, uint8_t *buf, size_t buflen, char *err, size_t errlen)
{
	size_t body_len = json_dumpb(msg, NULL, 0, JSON_COMPACT);

	if (body_len == 0 || body_len > NM_MSG_MAX) {
		snprintf(err, errlen, "message of %zu bytes of JSON does not fit a frame (1 to %d)",
			 body_len, NM_MSG_MAX);
		return -EMSGSIZE;
	}
	if (buflen < NM_MSG_HDR_LEN + body_len) {
		snprintf(err, errlen, "frame of %zu bytes does not fit a buffer of %zu",
			 NM_MSG_HDR_LEN + body_len, buflen);
		return -ENOBUFS;
	}
	buf[0] = (uint8_t)(body_len >> 24);
	buf[1] = (uint8_t)(body_len >> 16);
	buf[2] = (uint8_t)(body_len >> 8);
	buf[3] = (uint8_t)body_len;
	json_dumpb(msg, (char *)buf + NM_MSG_HDR_LEN, body_len, JSON_COMPACT);
	return (long)(NM_MSG_HDR_LEN + body_len);
}

/* The string member key of msg, or NULL with err set when it is not a string. */
static const char *
get_string(const json_t *msg, const char *type, const char *key, char *err, size_t errlen)
{
	const json_t *v = json_object_get(msg, key);

	if (v == NULL) {
		snprintf(err, errlen, "%s: missing '%s'", type, key);
		return NULL;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: '%s' must be a string", type, key);
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s: '%s' holds a NUL character", type, key);
		return NULL;
	}
	return json_string_value(v);
}

/* Refuse keys of msg other than those in allowed (NULL-terminated). */
static int
check_keys(const json_t *msg, const char *type, const char *const *allowed, char *err,
	   size_t errlen)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)msg, key, v)
	{
		const char *const *a = allowed;

		while (*a != NULL && strcmp(*a, key) != 0)
			a++;
		if (*a == NULL) {
			snprintf(err, errlen, "%s: unknown key '%.64s'", type, key);
			return -EINVAL;
		}
	}
	return 0;
}

static int
parse_ip(const json_t *msg, const char *type, const struct nm_cidr *cidr, uint32_t *ip, char *err,
	 size_t errlen)
{
	const char *s = get_string(msg, type, "ip", err, errlen);
	struct in_addr a;
	char net[INET_ADDRSTRLEN];

	if (s == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a) != 1) {
		snprintf(err, errlen, "%s: 'ip' \"%.64s\" is not an IPv4 address", type, s);
		return -EINVAL;
	}
	if (!nm_ipv4_pod_unicast(a.s_addr)) {
		snprintf(err, errlen,
			 "%s: 'ip' %s is not a unicast pod address (0, broadcast, multicast, "
			 "loopback and 169.254/16 are not)",
			 type, s);
		return -EINVAL;
	}
	if (!nm_cidr_contains(cidr, a.s_addr)) {
		inet_ntop(AF_INET, &cidr->net, net, sizeof(net));
		snprintf(err, errlen, "%s: 'ip' %s is outside the peer's pod CIDR %s/%u", type, s,
			 net, cidr->prefix_len);
		return -EINVAL;
	}
	*ip = a.s_addr;
	return 0;
}

/* "ns/sa", each a valid name; "ns/" is a pod whose identity its node does not know. */
static int
parse_identity(const json_t *msg, struct nm_announce *out, char *err, size_t errlen)
{
	const char *s = get_string(msg, "pod_add", "identity", err, errlen);
	const char *slash;

	if (s == NULL)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash == NULL || !nm_name_valid(s, (size_t)(slash - s)) ||
	    (slash[1] != '\0' && !nm_name_valid(slash + 1, strlen(slash + 1)))) {
		snprintf(err, errlen,
			 "pod_add: 'identity' \"%.140s\" must be namespace/serviceaccount, each 1 "
			 "to %d characters of a-z, 0-9, '-', '.', '_'",
			 s, NM_NAME_LEN - 1);
		return -EINVAL;
	}
	memcpy(out->ns, s, (size_t)(slash - s));
	out->ns[slash - s] = '\0';
	memcpy(out->sa, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

/* {"k":"v",...} into "k=v,k=v", as a local pod's labels= reads. */
static int
parse_labels(const json_t *msg, struct nm_announce *out, char *err, size_t errlen)
{
	const json_t *labels = json_object_get(msg, "labels");
	const char *key;
	const json_t *v;
	size_t len = 0;

	out->labels[0] = '\0';
	if (labels == NULL)
		return 0;
	if (!json_is_object(labels)) {
		snprintf(err, errlen, "pod_add: 'labels' must be an object of strings");
		return -EINVAL;
	}
	json_object_foreach((json_t *)labels, key, v)
	{
		const char *val = json_string_value(v);
		int n;

		if (!nm_label_part_valid(key, strlen(key))) {
			snprintf(err, errlen,
				 "pod_add: label key \"%.64s\" must be 1 to %d characters of "
				 "[A-Za-z0-9._/-]",
				 key, NM_NAME_LEN - 1);
			return -EINVAL;
		}
		if (val == NULL) {
			snprintf(err, errlen, "pod_add: label '%s' must have a string value", key);
			return -EINVAL;
		}
		if (!nm_label_part_valid(val, json_string_length(v))) {
			snprintf(err, errlen,
				 "pod_add: label '%s' value \"%.64s\" must be 1 to %d characters "
				 "of [A-Za-z0-9._/-]",
				 key, val, NM_NAME_LEN - 1);
			return -EINVAL;
		}
		n = snprintf(out->labels + len, sizeof(out->labels) - len, "%s%s=%s",
			     len == 0 ? "" : ",", key, val);
		if (n < 0 || (size_t)n >= sizeof(out->labels) - len) {
			snprintf(err, errlen, "pod_add: 'labels' are over %d characters as k=v,k=v",
				 NM_LABELS_LEN - 1);
			return -EINVAL;
		}
		len += (size_t)n;
	}
	return 0;
}

/* Printable ASCII without spaces: image references end up in flow logs. */
static int
parse_image(const json_t *msg, struct nm_announce *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(msg, "image");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	out->image[0] = '\0';
	if (v == NULL)
		return 0;
	if (s == NULL) {
		snprintf(err, errlen, "pod_add: 'image' must be a string");
		return -EINVAL;
	}
	if (n == 0 || n >= NM_IMAGE_LEN) {
		snprintf(err, errlen, "pod_add: 'image' must be 1 to %d characters",
			 NM_IMAGE_LEN - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] > '~') {
			snprintf(err, errlen,
				 "pod_add: 'image' may hold printable ASCII only, without spaces "
				 "(byte 0x%02x at %zu)",
				 (unsigned char)s[i], i);
			return -EINVAL;
		}
	}
	memcpy(out->image, s, n + 1);
	return 0;
}

int
nm_announce_parse(const json_t *msg, const struct nm_cidr *peer_pod_cidr, struct nm_announce *out,
		  char *err, size_t errlen)
{
	static const char *const add_keys[] = {"type", "ip", "identity", "labels", "image", NULL};
	static const char *const del_keys[] = {"type", "ip", NULL};
	const char *type;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(msg)) {
		snprintf(err, errlen, "announcement must be a JSON object");
		return -EINVAL;
	}
	type = get_string(msg, "announcement", "type", err, errlen);
	if (type == NULL)
		return -EINVAL;

	if (strcmp(type, "pod_add") == 0) {
		out->type = NM_ANNOUNCE_POD_ADD;
		if (check_keys(msg, type, add_keys, err, errlen) != 0 ||
		    parse_ip(msg, type, peer_pod_cidr, &out->ip, err, errlen) != 0 ||
		    parse_identity(msg, out, err, errlen) != 0 ||
		    parse_labels(msg, out, err, errlen) != 0 ||
		    parse_image(msg, out, err, errlen) != 0)
			goto bad;
		if (out->sa[0] == '\0' && (out->labels[0] != '\0' || out->image[0] != '\0')) {
			snprintf(err, errlen,
				 "pod_add: a pod of unknown identity (\"ns/\") has no labels or "
				 "image");
			goto bad;
		}
		return 0;
	}
	if (strcmp(type, "pod_del") == 0) {
		out->type = NM_ANNOUNCE_POD_DEL;
		if (check_keys(msg, type, del_keys, err, errlen) != 0 ||
		    parse_ip(msg, type, peer_pod_cidr, &out->ip, err, errlen) != 0)
			goto bad;
		return 0;
	}
	snprintf(err, errlen, "announcement 'type' \"%.64s\" is not pod_add or pod_del", type);
bad:
	/* A half-filled announcement must not be mistaken for a good one. */
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

/* "k=v,k=v" back into an object; the parser made sure it is well formed. */
static int
labels_to_json(const char *labels, json_t *obj)
{
	char key[NM_NAME_LEN], val[NM_NAME_LEN];
	const char *p = labels;

	while (*p != '\0') {
		const char *eq = strchr(p, '=');
		const char *end = eq == NULL ? NULL : strchr(eq, ',');
		size_t klen, vlen;

		if (eq == NULL)
			return -EINVAL;
		if (end == NULL)
			end = eq + strlen(eq);
		klen = (size_t)(eq - p);
		vlen = (size_t)(end - eq - 1);
		if (!nm_label_part_valid(p, klen) || !nm_label_part_valid(eq + 1, vlen))
			return -EINVAL;
		memcpy(key, p, klen);
		key[klen] = '\0';
		memcpy(val, eq + 1, vlen);
		val[vlen] = '\0';
		if (json_object_set_new(obj, key, json_string(val)) != 0)
			return -ENOMEM;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

json_t *
nm_announce_to_json(const struct nm_announce *a)
{
	char ip[INET_ADDRSTRLEN], identity[2 * NM_NAME_LEN];
	json_t *msg = NULL, *labels = NULL;
	int rc = -EINVAL;

	if (a->type != NM_ANNOUNCE_POD_ADD && a->type != NM_ANNOUNCE_POD_DEL)
		goto out;
	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	rc = -ENOMEM;
	msg = json_pack("{s:s, s:s}", "type",
			a->type == NM_ANNOUNCE_POD_ADD ? "pod_add" : "pod_del", "ip", ip);
	if (msg == NULL)
		goto out;
	if (a->type == NM_ANNOUNCE_POD_DEL) {
		rc = 0;
		goto out;
	}

	snprintf(identity, sizeof(identity), "%s/%s", a->ns, a->sa);
	if (json_object_set_new(msg, "identity", json_string(identity)) != 0)
		goto out;
	if (a->labels[0] != '\0') {
		labels = json_object();
		if (labels == NULL)
			goto out;
		/* set_new takes the reference whether or not it succeeds. */
		if (json_object_set_new(msg, "labels", labels) != 0)
			goto out;
		rc = labels_to_json(a->labels, labels);
		if (rc != 0)
			goto out;
		rc = -ENOMEM;
	}
	if (a->image[0] != '\0' && json_object_set_new(msg, "image", json_string(a->image)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		json_decref(msg);
		msg = NULL;
		errno = -rc;
	}
	return msg;
}
