/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tunnel listener, against connections that never authenticate: only
 * the addresses of peers that dial this node are accepted, a connection
 * must send its first bytes and finish its handshake within a deadline,
 * and an address has a bounded number of handshakes in progress, the
 * newest replacing its oldest silent one (peers_priv.h says why). A
 * connection that authenticates as a configured peer becomes that peer's
 * session (ctrl/peers.c). Control thread only; every refusal is counted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <rte_log.h>

#include "node_priv.h"
#include "peer_tls.h"
#include "peers.h"
#include "peers_priv.h"

static const char *const refusal_names[] = {
#define REFUSAL_NAME(e, s) s,
    LISTEN_REFUSALS(REFUSAL_NAME)
#undef REFUSAL_NAME
};

void
nm_peers_pending_drop(struct pending *q)
{
	if (q->tls != NULL)
		nm_tls_conn_free(q->tls);
	if (q->fd >= 0)
		close(q->fd);
	q->tls = NULL;
	q->fd = -1;
}

/* An accepted connection finished its handshake: give it to its peer. */
void
nm_peers_pending_step(struct nm_peers *ps, struct pending *q)
{
	char err[256];

	if (!q->got_bytes) {
		uint8_t b;
		ssize_t r = recv(q->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			nm_peers_pending_drop(q); /* closed before it said anything */
			return;
		}
		if (r < 0)
			return;
		q->got_bytes = true;
	}
	int rc = nm_tls_handshake_step(q->tls, err, sizeof(err));
	if (rc == NM_TLS_WANT_READ || rc == NM_TLS_WANT_WRITE)
		return;
	if (rc < 0) {
		ps->refused[REFUSED_HANDSHAKE_FAILED]++;
		RTE_LOG(INFO, USER1, "peer connection from %s refused: %s\n", q->addr, err);
		nm_peers_pending_drop(q);
		return;
	}
	const char *name = nm_tls_conn_peer(q->tls);
	struct peer *p = name ? nm_peer_named(ps, name, NULL) : NULL;
	if (p == NULL || p->dialer) {
		ps->refused[REFUSED_NOT_CONFIGURED_NODE]++;
		RTE_LOG(INFO, USER1, "peer connection from %s (node %s) refused: %s\n", q->addr,
			name ? name : "?", p ? "we dial that peer" : "not a configured peer");
		nm_peers_pending_drop(q);
		return;
	}
	/* A peer that reconnects (restarted, or a new session) replaces its old one. */
	if (p->tls != NULL)
		PLOG(p, "new session replaces the old one");
	nm_peer_close(p);
	p->fd = q->fd;
	p->tls = q->tls;
	q->fd = -1;
	q->tls = NULL;
	nm_peer_up(ps, p, NM_TLS_DIR_SERVER_TO_CLIENT);
}

/* Is addr (network order) the address of a peer that dials us? */
static bool
from_peer(const struct nm_peers *ps, uint32_t addr)
{
	for (unsigned int i = 0; i < ps->max_peers; i++) {
		const struct peer *p = &ps->peers[i];
		struct in_addr host;

		if (p->in_use && !p->dialer && inet_pton(AF_INET, p->spec.host, &host) == 1 &&
		    host.s_addr == addr)
			return true;
	}
	return false;
}

/*
 * A slot for a new connection from src: a free one, unless src has
 * PENDING_PER_SRC already; then src's oldest that sent nothing, else its
 * oldest. With every slot taken (peers changed meanwhile), the oldest.
 */
static struct pending *
pending_slot(struct nm_peers *ps, uint32_t src)
{
	struct pending *free_q = NULL, *idle = NULL, *old = NULL, *any = NULL;
	unsigned int from_src = 0;

	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending *q = &ps->pend[i];
		if (q->fd < 0) {
			if (free_q == NULL)
				free_q = q;
			continue;
		}
		if (any == NULL || q->seq < any->seq)
			any = q;
		if (q->src != src)
			continue;
		from_src++;
		if (old == NULL || q->seq < old->seq)
			old = q;
		if (!q->got_bytes && (idle == NULL || q->seq < idle->seq))
			idle = q;
	}
	struct pending *victim = from_src >= PENDING_PER_SRC ? (idle ? idle : old) : NULL;
	if (victim == NULL && free_q == NULL)
		victim = any;
	if (victim == NULL)
		return free_q;
	ps->refused[REFUSED_REPLACED]++;
	nm_peers_pending_drop(victim);
	return victim;
}

/* Calls waiting in the listen socket's accept queue (Linux: tcpi_unacked of a listener). */
static uint32_t
accept_queue_len(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return ti.tcpi_unacked;
}

/*
 * accept_queued is how many of the calls in the queue were counted; each
 * accept takes one off. A queue shorter than that (callers gave up) is
 * taken as it is.
 */
void
nm_peers_accept_deferred(struct nm_peers *ps)
{
	uint32_t queued = accept_queue_len(ps->listen_fd);

	if (queued > ps->accept_queued)
		ps->hs.deferred += queued - ps->accept_queued;
	ps->accept_queued = queued;
}

void
nm_peers_accept(struct nm_peers *ps)
{
	for (int n = 0; n < ACCEPT_BURST; n++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		/* One handshake token a call; without one the rest wait in the accept queue. */
		if (nm_peer_rate_wait_ms(&ps->hs, now_ms()) > 0) {
			nm_peers_accept_deferred(ps);
			return;
		}
		int fd = accept4(ps->listen_fd, (struct sockaddr *)&sa, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		nm_peer_rate_take(&ps->hs, now_ms());
		if (ps->accept_queued > 0)
			ps->accept_queued--; /* one of those counted as deferred */
		if (!from_peer(ps, sa.sin_addr.s_addr)) {
			ps->refused[REFUSED_NOT_PEER_ADDRESS]++;
			close(fd);
			continue;
		}
		struct pending *q = pending_slot(ps, sa.sin_addr.s_addr);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		q->fd = fd;
		q->tls = nm_tls_server_new(ps->ctx, fd, NULL);
		q->accepted_ms = now_ms();
		q->seq = ++ps->accept_seq;
		q->got_bytes = false;
		q->src = sa.sin_addr.s_addr;
		inet_ntop(AF_INET, &sa.sin_addr, q->addr, sizeof(q->addr));
		if (q->tls == NULL) {
			nm_peers_pending_drop(q);
			continue;
		}
		/* With TCP_DEFER_ACCEPT a real dial's ClientHello is here already. */
		nm_peers_pending_step(ps, q);
	}
}

/* Close accepted connections that missed their deadline for first bytes or handshake. */
void
nm_peers_pending_expire(struct nm_peers *ps, uint64_t now)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending *q = &ps->pend[i];
		if (q->fd < 0)
			continue;
		if (!q->got_bytes && now - q->accepted_ms > FIRST_BYTES_MS) {
			ps->refused[REFUSED_FIRST_BYTES_TIMEOUT]++;
			nm_peers_pending_drop(q);
		} else if (now - q->accepted_ms > PENDING_MS) {
			ps->refused[REFUSED_HANDSHAKE_TIMEOUT]++;
			nm_peers_pending_drop(q);
		}
	}
}

int
nm_peers_listen(struct nm_peers *ps, char *err, size_t errlen)
{
	const struct nm_tunnel_config *tc = &ps->cfg->tunnel;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(tc->listen_port)};
	int one = 1;

	inet_pton(AF_INET, tc->listen_host, &sa.sin_addr);
	ps->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ps->listen_fd < 0 ||
	    setsockopt(ps->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ps->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ps->listen_fd,
		   (int)(ps->max_peers > LISTEN_BACKLOG ? ps->max_peers : LISTEN_BACKLOG)) < 0) {
		snprintf(err, errlen, "tunnel.listen %s:%u: %s", tc->listen_host, tc->listen_port,
			 strerror(errno));
		return -errno;
	}
	/* Hand over connections once their first bytes came: idle ones wait in the kernel. */
	int defer_s = DEFER_ACCEPT_S;
	if (setsockopt(ps->listen_fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s)) < 0)
		RTE_LOG(WARNING, USER1, "setsockopt(TCP_DEFER_ACCEPT, %d) failed: %s\n", defer_s,
			strerror(errno));
	return 0;
}

json_t *
nm_peers_listener_json(struct nm_peers *ps)
{
	json_t *refused = json_object();
	json_int_t total = 0, pending = 0;

	for (int r = 0; r < REFUSED_MAX; r++) {
		json_int_t v = ps != NULL ? (json_int_t)ps->refused[r] : 0;
		json_object_set_new(refused, refusal_names[r], json_integer(v));
		total += v;
	}
	for (int i = 0; ps != NULL && i < MAX_PENDING; i++)
		pending += ps->pend[i].fd >= 0;
	return json_pack("{s:I, s:I, s:I, s:o}", "accepted",
			 (json_int_t)(ps != NULL ? ps->accept_seq : 0), "pending", pending,
			 "refused_total", total, "refused", refused);
}
