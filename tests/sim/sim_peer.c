/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One simulated node's control connection, stepped without blocking as
 * nodemeshd steps its own (ctrl/peers.c): TCP from the peer's own address,
 * mutual TLS 1.3 with the peer's own certificate, hello, pod announcements,
 * and key offers both ways. The simulated peers always dial: their names
 * sort before the daemon's, so the daemon expects their calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "nodemesh/tunnel.h"
#include "loop_wait.h"
#include "peer_msg.h"
#include "peer_tls.h"
#include "sim_peer.h"

void
sim_peer_close(struct sim_peer *p)
{
	if (p->tls != NULL)
		nm_tls_conn_free(p->tls);
	p->tls = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->offered = 0;
	if (p->state != SIM_FAILED)
		p->state = SIM_IDLE;
}

static void
fail(struct sim_peer *p, const char *what, const char *why)
{
	/* what is NULL when why names the step already. */
	snprintf(p->err, sizeof(p->err), "%s%s%s", what ? what : "", what ? ": " : "", why);
	sim_peer_close(p);
	p->state = SIM_FAILED;
}

static int
send_msg(struct sim_peer *p, json_t *msg)
{
	char err[256];
	int rc;

	if (msg == NULL) {
		fail(p, "building a message", "out of memory");
		return -ENOMEM;
	}
	rc = nm_tls_send_json(p->tls, msg, err, sizeof(err));
	json_decref(msg);
	if (rc < 0) {
		fail(p, "send", err);
		return rc;
	}
	return 0;
}

int
sim_peer_dial(struct sim_peer *p, const struct sim_target *t)
{
	struct sockaddr_in self = {.sin_family = AF_INET, .sin_addr.s_addr = p->mgmt_ip};
	struct sockaddr_in dst = {
	    .sin_family = AF_INET, .sin_addr.s_addr = t->ip, .sin_port = htons(t->port)};
	int one = 1;
	char why[128];

	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		fail(p, "socket()", strerror(errno));
		return -1;
	}
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The daemon's listener accepts a peer only from the address it has for it. */
	if (bind(p->fd, (struct sockaddr *)&self, sizeof(self)) < 0) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &p->mgmt_ip, a, sizeof(a));
		snprintf(why, sizeof(why), "bind(%s): %s", a, strerror(errno));
		fail(p, "dial", why);
		return -1;
	}
	if (connect(p->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS) {
		fail(p, "connect()", strerror(errno));
		return -1;
	}
	p->state = SIM_CONNECTING;
	p->sessions++;
	return 0;
}

int
sim_peer_announce(struct sim_peer *p, const struct sim_pods *pods, unsigned int j, bool add)
{
	struct nm_announce a = {.type = add ? NM_ANNOUNCE_POD_ADD : NM_ANNOUNCE_POD_DEL,
				.ip = sim_pod_ip(p, j)};

	if (p->state != SIM_UP)
		return -1;
	if (add) {
		snprintf(a.ns, sizeof(a.ns), "%s", pods->ns);
		snprintf(a.sa, sizeof(a.sa), "%s", p->name);
		snprintf(a.labels, sizeof(a.labels), "app=peersim,node=%s", p->name);
	}
	if (send_msg(p, nm_announce_to_json(&a)) < 0)
		return -1;
	p->announced++;
	return 0;
}

int
sim_peer_announce_all(struct sim_peer *p, const struct sim_pods *pods, bool add)
{
	for (unsigned int j = 1; j <= pods->per_peer; j++)
		if (sim_peer_announce(p, pods, j, add) < 0)
			return -1;
	/* As a node does after its announcements: that was all of them (a full resync). */
	if (add && send_msg(p, json_pack("{s:s}", "type", "pods_synced")) < 0)
		return -1;
	return 0;
}

static void
offer_key(struct sim_peer *p)
{
	p->epoch_seq = (uint16_t)(p->epoch_seq + 1 == 0 ? 1 : p->epoch_seq + 1);
	p->offered = p->epoch_seq;
	send_msg(p, json_pack("{s:s, s:i}", "type", "key", "epoch", p->offered));
}

/* The daemon acknowledged our offer: seal with that epoch from now on. */
static void
install_seal(struct sim_peer *p, uint16_t epoch, unsigned int cipher)
{
	struct nm_tnl_key_params kp = {
	    .cipher = (uint8_t)cipher, .dir = NM_TNL_SEAL, .epoch = epoch};
	size_t len = nm_tnl_cipher_key_len(cipher);

	/* We are the TLS client: we seal in the client-to-server direction. */
	if (nm_tls_export_key(nm_tls_conn_ssl(p->tls), epoch, NM_TLS_DIR_CLIENT_TO_SERVER, len,
			      kp.key, kp.iv) < 0) {
		fail(p, "key", "TLS exporter failed");
		return;
	}
	struct nm_tnl_key *k = nm_tnl_key_create(&kp);
	memset(&kp, 0, sizeof(kp));
	if (k == NULL) {
		fail(p, "key", "nm_tnl_key_create failed");
		return;
	}
	nm_tnl_key_free(p->seal);
	p->seal = k;
	p->tx_epoch = epoch;
	p->offered = 0;
}

static void
on_message(struct sim_peer *p, const struct sim_pods *pods, json_t *msg, unsigned int cipher)
{
	const char *type = json_string_value(json_object_get(msg, "type"));
	json_t *ep = json_object_get(msg, "epoch");

	if (type == NULL) {
		fail(p, "protocol", "message without a type from the daemon");
		return;
	}
	if (strcmp(type, "hello") == 0) {
		if (p->state != SIM_HELLO_WAIT)
			return;
		p->state = SIM_UP;
		p->up_ns = nm_mono_ns();
		offer_key(p);
		if (p->announce_on_up)
			sim_peer_announce_all(p, pods, true);
		return;
	}
	if (strcmp(type, "pod_add") == 0 || strcmp(type, "pod_del") == 0 ||
	    strcmp(type, "pods_synced") == 0)
		return; /* the daemon's local pods: a simulated node keeps no ipcache */
	if (!json_is_integer(ep) || json_integer_value(ep) < 1 || json_integer_value(ep) > 65535) {
		fail(p, "protocol", "key message without a valid epoch");
		return;
	}
	if (strcmp(type, "key") == 0) {
		/* Nothing comes back to a simulated node, so nothing is opened: acknowledge. */
		send_msg(
		    p, json_pack("{s:s, s:I}", "type", "key_ack", "epoch", json_integer_value(ep)));
		p->keys_acked++;
		return;
	}
	if (strcmp(type, "key_ack") == 0 && json_integer_value(ep) == p->offered)
		install_seal(p, p->offered, cipher);
}

static void
read_all(struct sim_peer *p, const struct sim_pods *pods, unsigned int cipher)
{
	char err[256];

	while (p->tls != NULL) {
		json_t *msg = NULL;
		int rc = nm_tls_recv_json(p->tls, &msg, err, sizeof(err));

		if (rc < 0) {
			fail(p,
			     p->state == SIM_HELLO_WAIT ? "refused by the daemon"
							: "connection lost",
			     err);
			return;
		}
		if (rc != NM_TLS_DONE || msg == NULL)
			return;
		on_message(p, pods, msg, cipher);
		json_decref(msg);
	}
}

static void
handshake(struct sim_peer *p, char *err, size_t errlen)
{
	int rc = nm_tls_handshake_step(p->tls, err, errlen);

	if (rc < 0) {
		fail(p, NULL, err);
		return;
	}
	if (rc != NM_TLS_DONE)
		return;
	p->state = SIM_HELLO_WAIT;
	send_msg(p, json_pack("{s:s, s:s}", "type", "hello", "node", p->name));
}

void
sim_peer_step(struct sim_peer *p, short revents, const struct sim_target *t,
	      const struct sim_pods *pods)
{
	char err[256];

	if (p->state == SIM_CONNECTING) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		if (soerr != 0) {
			fail(p, "connect()", strerror(soerr));
			return;
		}
		p->tls = nm_tls_client_new(p->ctx, p->fd, t->name);
		if (p->tls == NULL) {
			fail(p, "nm_tls_client_new", strerror(errno));
			return;
		}
		p->state = SIM_HANDSHAKE;
	}
	if (p->state == SIM_HANDSHAKE) {
		handshake(p, err, sizeof(err));
		if (p->state == SIM_HANDSHAKE)
			return;
	}
	if (p->tls == NULL)
		return;
	if ((revents & POLLOUT) && nm_tls_pending(p->tls) > 0 &&
	    nm_tls_flush(p->tls, err, sizeof(err)) < 0) {
		fail(p, "send", err);
		return;
	}
	read_all(p, pods, t->cipher);
}

short
sim_peer_events(const struct sim_peer *p)
{
	short ev = POLLIN;

	if (p->state == SIM_CONNECTING || p->state == SIM_HANDSHAKE ||
	    (p->tls != NULL && nm_tls_pending(p->tls) > 0))
		ev |= POLLOUT;
	return ev;
}

uint32_t
sim_pod_ip(const struct sim_peer *p, unsigned int j)
{
	return htonl(ntohl(p->pod_cidr.net) + j);
}
