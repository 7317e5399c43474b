/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A takeover's af_packet rings (ctrl/takeover.c holds the conversation).
 * The old daemon sends each af_packet pod's socket (SCM_RIGHTS) with its
 * ring geometry and its worker's cursors, in RINGS frames of up to
 * NM_TAKEOVER_MAX_FDS pods; the new daemon keeps them by interface, and
 * nm_node_pod_add maps the same rings instead of opening new ones. The
 * kernel goes on filling them while no daemon reads: packets wait there
 * during the gap instead of being lost, and since one socket serves both
 * daemons in turn, none is seen twice.
 *
 * A frame's payload is a JSON array, entry i for fds[i]:
 *   {"iface":"veth1", "version":1, "rx_block_size":..., "rx_blocks":...,
 *    "rx_frame_size":..., "rx_frames":..., "tx_frame_size":..., "tx_frames":...,
 *    "tx_data":..., "map_len":..., "rx_next":..., "rx_block":..., "rx_left":...,
 *    "rx_pkt_off":..., "tx_next":..., "pod_mac":"02:..." (when learnt),
 *    "counters":[rx_packets, rx_bytes, tx_packets, tx_bytes, drops]}
 *
 * The pod's MAC goes with its rings because the new daemon would
 * otherwise have to learn it again (an ARP request twice a second, or
 * the pod's next frame), and frames for the pod wait until it has: a
 * pod that only receives would see a gap of up to half a second.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <jansson.h>

#include "node_priv.h"
#include "podio_setup.h"
#include "takeover.h"
#include "takeover_msg.h"
#include "nodemesh/pod_table-t.h"
#include "nodemesh/podio-t.h"

/* The fields of struct nm_podio_handover, by name, for the JSON both ways. */
#define HANDOVER_FIELDS(_)                                                                         \
	_(version)                                                                                 \
	_(rx_block_size)                                                                           \
	_(rx_blocks)                                                                               \
	_(rx_frame_size)                                                                           \
	_(rx_frames)                                                                               \
	_(tx_frame_size)                                                                           \
	_(tx_frames)                                                                               \
	_(tx_data)                                                                                 \
	_(map_len)                                                                                 \
	_(rx_next)                                                                                 \
	_(rx_block)                                                                                \
	_(rx_left)                                                                                 \
	_(rx_pkt_off)                                                                              \
	_(tx_next)

struct ring {
	char iface[IF_NAMESIZE];
	int fd; /* -1 once adopted by a pod */
	struct nm_podio_handover h;
	bool mac_known;
	struct rte_ether_addr pod_mac;
	struct nm_pod_counters c;
};

struct nm_takeover_rings {
	unsigned int n, cap;
	struct ring *v;
};

/* ---- the old daemon ---------------------------------------------------------- */

static json_t *
ring_json(const struct nm_pod *p)
{
	const struct nm_pod_counters *c = &p->live->c;
	struct nm_podio_handover h;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	json_t *o =
	    json_pack("{s:s, s:[I,I,I,I,I]}", "iface", p->spec.iface, "counters",
		      (json_int_t)c->rx_packets, (json_int_t)c->rx_bytes, (json_int_t)c->tx_packets,
		      (json_int_t)c->tx_bytes, (json_int_t)c->drops);

	nm_podio_handover_get(p->io, &h);
#define SET(f) json_object_set_new(o, #f, json_integer((json_int_t)h.f));
	HANDOVER_FIELDS(SET)
#undef SET
	if (p->live->mac_known) {
		rte_ether_format_addr(mac, sizeof(mac), &p->live->pod_mac);
		json_object_set_new(o, "pod_mac", json_string(mac));
	}
	return o;
}

/* One RINGS frame of the pods in a[0..n) with their fds. 0 or -errno. */
static int
send_frame(int conn, json_t *a, const int *fds, unsigned int n)
{
	char *text = json_dumps(a, JSON_COMPACT);
	int rc;

	if (text == NULL)
		return -ENOMEM;
	rc = nm_takeover_send(conn, NM_TAKEOVER_RINGS, text, (uint32_t)strlen(text), fds, n);
	free(text);
	return rc;
}

int
nm_takeover_rings_send(struct nm_node *node, int conn, unsigned int *n_rings)
{
	const struct nm_pod_table *t = node->dp.pods;
	int fds[NM_TAKEOVER_MAX_FDS];
	json_t *a = json_array();
	unsigned int n = 0;
	int rc = 0;

	*n_rings = 0;
	for (int slot = 0; slot < NM_MAX_PODS && rc == 0; slot++) {
		const struct nm_pod *p = &t->pods[slot];
		if (p->live == NULL || p->io == NULL)
			continue;
		json_array_append_new(a, ring_json(p));
		fds[n++] = p->io->fd;
		if (n == NM_TAKEOVER_MAX_FDS) {
			rc = send_frame(conn, a, fds, n);
			*n_rings += n;
			n = 0;
			json_array_clear(a);
		}
	}
	if (rc == 0 && n > 0) {
		rc = send_frame(conn, a, fds, n);
		*n_rings += n;
	}
	json_decref(a);
	return rc;
}

/* ---- the new daemon ---------------------------------------------------------- */

/* Entry i of a RINGS payload into r; -EPROTO with err if it is not one. */
static int
ring_parse(const json_t *o, unsigned int i, struct ring *r, char *err, size_t errlen)
{
	const char *iface = json_string_value(json_object_get(o, "iface"));
	const json_t *v;

	if (iface == NULL || strlen(iface) >= sizeof(r->iface)) {
		snprintf(err, errlen, "RINGS entry %u: no iface", i);
		return -EPROTO;
	}
	snprintf(r->iface, sizeof(r->iface), "%s", iface);
#define GET(f)                                                                                     \
	v = json_object_get(o, #f);                                                                \
	if (!json_is_integer(v) || json_integer_value(v) < 0) {                                    \
		snprintf(err, errlen, "RINGS entry %u (%s): no " #f, i, iface);                    \
		return -EPROTO;                                                                    \
	}                                                                                          \
	r->h.f = (__typeof__(r->h.f))json_integer_value(v);
	HANDOVER_FIELDS(GET)
#undef GET
	const char *mac = json_string_value(json_object_get(o, "pod_mac"));
	r->mac_known = mac != NULL && rte_ether_unformat_addr(mac, &r->pod_mac) == 0;
	const json_t *c = json_object_get(o, "counters");
	memset(&r->c, 0, sizeof(r->c));
	if (json_array_size(c) == 5) {
		r->c.rx_packets = (uint64_t)json_integer_value(json_array_get(c, 0));
		r->c.rx_bytes = (uint64_t)json_integer_value(json_array_get(c, 1));
		r->c.tx_packets = (uint64_t)json_integer_value(json_array_get(c, 2));
		r->c.tx_bytes = (uint64_t)json_integer_value(json_array_get(c, 3));
		r->c.drops = (uint64_t)json_integer_value(json_array_get(c, 4));
	}
	return 0;
}

int
nm_takeover_rings_add(struct nm_takeover_rings **rings, const char *payload, const int *fds,
		      unsigned int n_fds, char *err, size_t errlen)
{
	json_t *a = json_loads(payload, 0, NULL);
	struct nm_takeover_rings *r = *rings;
	int rc = 0;

	if (!json_is_array(a) || json_array_size(a) != n_fds) {
		snprintf(err, errlen, "RINGS frame: not an array of %u entries", n_fds);
		rc = -EPROTO;
		goto out;
	}
	if (r == NULL && (r = *rings = calloc(1, sizeof(*r))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (r->n + n_fds > r->cap) {
		unsigned int cap = r->cap * 2 + n_fds;
		struct ring *v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		r->v = v;
		r->cap = cap;
	}
	/* All of the frame or none of it: on error the caller closes every fd. */
	for (unsigned int i = 0; i < n_fds && rc == 0; i++) {
		rc = ring_parse(json_array_get(a, i), i, &r->v[r->n + i], err, errlen);
		r->v[r->n + i].fd = fds[i];
	}
	if (rc == 0)
		r->n += n_fds;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory for %u rings", n_fds);
	json_decref(a);
	return rc;
}

int
nm_takeover_rings_adopt(struct nm_takeover_rings *rings, const struct nm_pod_spec *spec,
			struct nm_pod *pod, char *err, size_t errlen)
{
	if (rings == NULL || spec->driver != NM_DRV_AF_PACKET)
		return 0;
	for (unsigned int i = 0; i < rings->n; i++) {
		struct ring *r = &rings->v[i];
		if (r->fd < 0 || strcmp(r->iface, spec->iface) != 0)
			continue;
		pod->io = nm_podio_adopt(r->fd, r->iface, &r->h, &pod->port_mac, err, errlen);
		if (pod->io == NULL)
			return -errno;
		r->fd = -1; /* the pod's now */
		/* Not published yet: no worker reads live before nm_node_pod_add publishes it. */
		pod->live->c = r->c;
		if (r->mac_known && !pod->live->mac_known) {
			pod->live->pod_mac = r->pod_mac;
			pod->live->mac_known = true;
		}
		return 1;
	}
	return 0;
}

unsigned int
nm_takeover_rings_free(struct nm_takeover_rings *rings)
{
	unsigned int unused = 0;

	if (rings == NULL)
		return 0;
	for (unsigned int i = 0; i < rings->n; i++)
		if (rings->v[i].fd >= 0) {
			close(rings->v[i].fd);
			unused++;
		}
	free(rings->v);
	free(rings);
	return unused;
}
