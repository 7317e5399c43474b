/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control connections to other nodes: mutual TLS 1.3, the ipcache
 * announcements and the key epochs (protocol in include/nodemesh/peers.h).
 * Control thread only; sockets are non-blocking and polled between control
 * requests, so a slow or hostile peer never stalls the node.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <rte_log.h>
#include <rte_random.h>

#include "node_priv.h"
#include "nodemesh/tunnel.h"
#include "nodemesh/cidr.h"
#include "loop_wait.h"
#include "node.h"
#include "peer_msg.h"
#include "peer_tls.h"
#include "peers.h"
#include "peers_priv.h"

void
nm_peer_close(struct peer *p)
{
	if (p->state == PEER_UP && p->hello_rx)
		p->down_ms = now_ms();
	if (p->tls != NULL)
		nm_tls_conn_free(p->tls);
	p->tls = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->hello_rx = false;
	p->offered = 0;
	p->state = PEER_IDLE;
	p->state_ms = now_ms();
}

/* A uniform random number of milliseconds in [0, span]. */
static uint64_t
jitter_ms(uint64_t span)
{
	return span > 0 ? rte_rand_max(span + 1) : 0;
}

/* A failure: log why, close, retry later. Installed keys stay until replaced. */
static void
peer_fail(struct peer *p, const char *why)
{
	/* Between half and all of the back-off: peers that failed together retry apart. */
	uint64_t wait = p->backoff_ms / 2 + jitter_ms(p->backoff_ms / 2);

	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	p->failures++;
	PLOG(p, "%s (retry in %llu ms)", why, (unsigned long long)wait);
	nm_peer_close(p);
	p->next_try_ms = now_ms() + wait;
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static int
peer_send(struct peer *p, json_t *msg)
{
	char err[256];
	int rc = nm_tls_send_json(p->tls, msg, err, sizeof(err));

	json_decref(msg);
	if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why), "send failed: %s", err);
		peer_fail(p, why);
		return rc;
	}
	return 0;
}

static void
announce_one(void *arg, const struct nm_pod_spec *spec)
{
	struct peer *p = arg;
	struct nm_announce a = {.type = NM_ANNOUNCE_POD_ADD, .ip = spec->ip};

	if (p->tls == NULL)
		return;
	snprintf(a.ns, sizeof(a.ns), "%s", spec->ns);
	snprintf(a.sa, sizeof(a.sa), "%s", spec->sa);
	snprintf(a.labels, sizeof(a.labels), "%s", spec->labels);
	snprintf(a.image, sizeof(a.image), "%s", spec->image);
	peer_send(p, nm_announce_to_json(&a));
}

static void
offer_key(struct peer *p)
{
	p->epoch_seq = (uint16_t)(p->epoch_seq + 1 == 0 ? 1 : p->epoch_seq + 1);
	p->offered = p->epoch_seq;
	p->offered_ms = now_ms();
	p->rekey_now = false;
	peer_send(p, json_pack("{s:s, s:i}", "type", "key", "epoch", p->offered));
}

/* Authenticated: say hello, announce our pods, offer a sending key. */
void
nm_peer_up(struct nm_peers *ps, struct peer *p, int tx_dir)
{
	p->state = PEER_UP;
	p->state_ms = now_ms();
	p->session_ms = p->state_ms;
	/* Up to a tenth early, so sessions that began together are not renewed together. */
	uint64_t life_ms = (uint64_t)ps->cfg->tunnel.handshake_s * 1000;
	p->session_end_ms = p->session_ms + life_ms - jitter_ms(life_ms / 10);
	p->tx_dir = tx_dir;
	p->sessions++;
	p->down_ms = 0;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->last_error[0] = '\0';
	PLOG(p, "TLS 1.3 session up (%s, %s)", p->dialer ? "dialled" : "accepted",
	     SSL_get_cipher_name(nm_tls_conn_ssl(p->tls)));
	if (peer_send(p, json_pack("{s:s, s:s}", "type", "hello", "node", ps->cfg->node_name)) < 0)
		return;
	nm_node_local_pods_each(ps->node, announce_one, p);
	/* Those were all: the peer drops what an earlier session announced and this one did not. */
	if (p->tls != NULL)
		peer_send(p, json_pack("{s:s}", "type", "pods_synced"));
	if (p->tls != NULL)
		offer_key(p);
}

static int
key_params(struct peer *p, uint16_t epoch, int dir, int use, const struct nm_config *cfg,
	   struct nm_tnl_key_params *kp)
{
	size_t len = nm_tnl_cipher_key_len(cfg->tunnel.cipher);

	memset(kp, 0, sizeof(*kp));
	kp->cipher = cfg->tunnel.cipher;
	kp->dir = (uint8_t)use;
	kp->epoch = epoch;
	return nm_tls_export_key(nm_tls_conn_ssl(p->tls), epoch, dir, len, kp->key, kp->iv);
}

static void
on_message(struct nm_peers *ps, struct peer *p, unsigned int idx, json_t *msg)
{
	const char *type = json_string_value(json_object_get(msg, "type"));
	const struct nm_config *cfg = ps->cfg;
	char err[256];

	if (type == NULL) {
		peer_fail(p, "message without a type");
		return;
	}
	if (strcmp(type, "hello") == 0) {
		const char *name = json_string_value(json_object_get(msg, "node"));
		if (name == NULL || strcmp(name, p->spec.name) != 0) {
			peer_fail(p, "hello from another name than the certificate's");
			return;
		}
		p->hello_rx = true;
		/* A new session: what it announces is marked, for its pods_synced. */
		nm_node_remote_session_begin(ps->node, idx);
		return;
	}
	if (!p->hello_rx) {
		peer_fail(p, "message before hello");
		return;
	}
	if (strcmp(type, "pod_add") == 0 || strcmp(type, "pod_del") == 0) {
		struct nm_announce a;
		int rc = nm_announce_parse(msg, &p->spec.pod_cidr, &a, err, sizeof(err));
		if (rc == 0)
			rc = a.type == NM_ANNOUNCE_POD_ADD
				 ? nm_node_remote_pod_add(ps->node, idx, &a, err, sizeof(err))
				 : nm_node_remote_pod_del(ps->node, idx, a.ip, err, sizeof(err));
		if (rc < 0) {
			/* The first ten, then one in a thousand: a full ipcache refuses in bulk. */
			if (++p->announce_refused <= 10 || p->announce_refused % 1000 == 0)
				PLOG(p, "announcement refused (%" PRIu64 " so far): %s",
				     p->announce_refused, err);
		}
		return;
	}
	if (strcmp(type, "pods_synced") == 0) {
		long gone = nm_node_remote_pods_keep(ps->node, idx);
		p->resyncs++;
		if (gone < 0) {
			PLOG(p, "resync failed: %s", strerror((int)-gone));
			return;
		}
		p->resync_removed += (uint64_t)gone;
		if (gone > 0)
			PLOG(p,
			     "resync: %ld pods of an earlier session not announced again, removed",
			     gone);
		return;
	}
	if (strcmp(type, "key") != 0 && strcmp(type, "key_ack") != 0) {
		/* A later release's message: ignored, so that nodes of two releases still talk. */
		PLOG(p, "ignoring a message of type '%.32s'", type);
		return;
	}
	json_int_t epoch = json_integer_value(json_object_get(msg, "epoch"));
	if (!json_is_integer(json_object_get(msg, "epoch")) || epoch < 1 || epoch > 65535) {
		peer_fail(p, "key message without a valid epoch");
		return;
	}
	struct nm_tnl_key_params kp;
	if (strcmp(type, "key") == 0) {
		/* The peer will seal with epoch E in its direction: open with it. */
		if (key_params(p, (uint16_t)epoch, 1 - p->tx_dir, NM_TNL_OPEN, cfg, &kp) < 0 ||
		    nm_node_tnl_set_rx(ps->node, idx, &kp, err, sizeof(err)) < 0) {
			peer_fail(p, "installing a receive key failed");
			return;
		}
		memset(&kp, 0, sizeof(kp));
		p->rx_prev_until_ms = now_ms() + (uint64_t)cfg->tunnel.grace_s * 1000;
		peer_send(p, json_pack("{s:s, s:I}", "type", "key_ack", "epoch", epoch));
		return;
	}
	if (strcmp(type, "key_ack") == 0) {
		if (epoch != p->offered)
			return; /* an ack for an offer this session replaced */
		if (key_params(p, (uint16_t)epoch, p->tx_dir, NM_TNL_SEAL, cfg, &kp) < 0 ||
		    nm_node_tnl_set_tx(ps->node, idx, &kp, err, sizeof(err)) < 0) {
			peer_fail(p, "installing the sending key failed");
			return;
		}
		memset(&kp, 0, sizeof(kp));
		if (p->tx_epoch != 0)
			p->rekeys++;
		PLOG(p, "sending with epoch %u", (unsigned int)epoch);
		p->tx_epoch = (uint16_t)epoch;
		p->tx_epoch_ms = now_ms();
		p->offered = 0;
	}
}

static void
peer_read_messages(struct nm_peers *ps, struct peer *p, unsigned int idx)
{
	char err[256];

	for (;;) {
		json_t *msg = NULL;
		int rc = nm_tls_recv_json(p->tls, &msg, err, sizeof(err));
		if (rc < 0) {
			char why[300];
			snprintf(why, sizeof(why), "connection lost: %s", err);
			peer_fail(p, why);
			return;
		}
		if (rc != NM_TLS_DONE || msg == NULL)
			return;
		on_message(ps, p, idx, msg);
		json_decref(msg);
		if (p->tls == NULL)
			return;
	}
}

/* Every whole message the connection holds; the announcements among them are one batch. */
static void
peer_read(struct nm_peers *ps, struct peer *p, unsigned int idx)
{
	char err[256];

	nm_node_remote_begin(ps->node);
	peer_read_messages(ps, p, idx);
	if (nm_node_remote_end(ps->node, err, sizeof(err)) < 0)
		PLOG(p, "publishing announced pods failed: %s", err);
}

static void
peer_dial(const struct nm_peers *ps, struct peer *p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->spec.port)};
	struct sockaddr_in self = {.sin_family = AF_INET};
	int one = 1;

	inet_pton(AF_INET, p->spec.host, &sa.sin_addr);
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		peer_fail(p, "socket() failed");
		return;
	}
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/*
	 * The peer accepts only from the address it has for us, our listen
	 * address: dial from it (any port) when it is a specific one.
	 */
	inet_pton(AF_INET, ps->cfg->tunnel.listen_host, &self.sin_addr);
	if (self.sin_addr.s_addr != htonl(INADDR_ANY) &&
	    bind(p->fd, (struct sockaddr *)&self, sizeof(self)) < 0) {
		char why[512];
		snprintf(why, sizeof(why), "bind(%s) for dialling: %s", ps->cfg->tunnel.listen_host,
			 strerror(errno));
		peer_fail(p, why);
		return;
	}
	if (connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		char why[512];
		snprintf(why, sizeof(why), "connect to %s:%u: %s", p->spec.host, p->spec.port,
			 strerror(errno));
		peer_fail(p, why);
		return;
	}
	p->state = PEER_CONNECTING;
	p->state_ms = now_ms();
}

static void
peer_handshake(struct nm_peers *ps, struct peer *p)
{
	char err[256];
	int rc = nm_tls_handshake_step(p->tls, err, sizeof(err));

	if (rc == NM_TLS_DONE) {
		nm_peer_up(ps, p, NM_TLS_DIR_CLIENT_TO_SERVER);
	} else if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why), "TLS handshake failed: %s", err);
		peer_fail(p, why);
	}
}

static void
peer_connected(struct nm_peers *ps, struct peer *p)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (soerr != 0) {
		char why[512];
		snprintf(why, sizeof(why), "connect to %s:%u: %s", p->spec.host, p->spec.port,
			 strerror(soerr));
		peer_fail(p, why);
		return;
	}
	p->tls = nm_tls_client_new(ps->ctx, p->fd, p->spec.name);
	if (p->tls == NULL) {
		peer_fail(p, "creating the TLS connection failed");
		return;
	}
	p->state = PEER_HANDSHAKE;
	p->state_ms = now_ms();
	peer_handshake(ps, p);
}

struct peer *
nm_peer_named(struct nm_peers *ps, const char *name, unsigned int *idx)
{
	for (unsigned int i = 0; i < ps->max_peers; i++)
		if (ps->peers[i].in_use && strcmp(ps->peers[i].spec.name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return &ps->peers[i];
		}
	return NULL;
}

/* Timers of an up peer: rotation, forward secrecy, end of the grace period. */
static void
peer_timers(struct nm_peers *ps, struct peer *p, unsigned int idx, uint64_t now)
{
	const struct nm_tunnel_config *tc = &ps->cfg->tunnel;

	if (p->rx_prev_until_ms != 0 && now >= p->rx_prev_until_ms) {
		nm_node_tnl_drop_prev_rx(ps->node, idx);
		p->rx_prev_until_ms = 0;
	}
	/*
	 * Fail closed: keys outlive a lost session for grace_s only, enough
	 * for a new session to replace them without a gap; then nothing is
	 * sealed for or accepted from the peer until it authenticates again.
	 */
	if (p->state != PEER_UP && p->down_ms != 0 && now - p->down_ms >= tc->grace_s * 1000ull) {
		nm_node_tnl_withdraw(ps->node, idx);
		p->down_ms = 0;
		p->tx_epoch = 0;
		PLOG(p, "session lost for %u s: keys withdrawn", tc->grace_s);
	}
	if (p->state != PEER_UP)
		return;
	if (!p->hello_rx) {
		if (now - p->state_ms > HANDSHAKE_MS)
			peer_fail(p, "no hello from the peer (did it refuse our certificate?)");
		return;
	}
	if (p->offered != 0) {
		if (now - p->offered_ms > KEY_RETRY_MS)
			peer_fail(p, "key offer not acknowledged");
		return;
	}
	bool due = p->rekey_now ||
		   (p->tx_epoch != 0 && now - p->tx_epoch_ms >= tc->rekey_s * 1000ull) ||
		   nm_node_tnl_tx_should_rotate(ps->node, idx);
	if (due) {
		offer_key(p);
		return;
	}
	/* Forward secrecy: the dialler starts a new session; keys stay until replaced. */
	if (p->dialer && now >= p->session_end_ms) {
		PLOG(p, "new TLS session (tunnel.handshake_s)");
		nm_peer_close(p);
		p->next_try_ms = now;
	}
}

/*
 * Dial the peers that are due, one handshake token each. A peer left
 * waiting for a token is counted deferred once; it dials at a later turn.
 */
static void
dial_due(struct nm_peers *ps, uint64_t now)
{
	for (unsigned int i = 0; i < ps->max_peers; i++) {
		struct peer *p = &ps->peers[i];
		if (!p->in_use || !p->dialer || p->state != PEER_IDLE || now < p->next_try_ms)
			continue;
		if (!nm_peer_rate_take(&ps->hs, now)) {
			if (!p->deferred)
				ps->hs.deferred++;
			p->deferred = true;
			continue;
		}
		p->deferred = false;
		peer_dial(ps, p);
	}
}

/*
 * Poll the listener only with a token to accept with; without one, count
 * the calls that came to wait in the accept queue since the last look.
 */
static bool
listen_ready(struct nm_peers *ps, uint64_t now)
{
	if (ps->listen_fd < 0)
		return false;
	if (nm_peer_rate_wait_ms(&ps->hs, now) == 0)
		return true;
	nm_peers_accept_deferred(ps);
	return false;
}

/* Shorten timeout_ms to when a token comes, if a dial or a call waits for one. */
static int
token_timeout(struct nm_peers *ps, uint64_t now, bool waiting, int timeout_ms)
{
	if (!waiting)
		return timeout_ms;
	int wait = (int)nm_peer_rate_wait_ms(&ps->hs, now);
	return timeout_ms < 0 || wait < timeout_ms ? wait : timeout_ms;
}

void
nm_peers_poll(struct nm_peers *ps, int timeout_ms)
{
	struct pollfd *pfd = ps != NULL ? ps->pfd : NULL;
	void **who = ps != NULL ? ps->who : NULL;
	nfds_t n = 0;
	uint64_t now = now_ms();

	if (ps == NULL || ps->ctx == NULL) {
		if (timeout_ms > 0)
			nm_loop_poll(NULL, 0, timeout_ms);
		return;
	}
	dial_due(ps, now);
	bool waiting = false;
	for (unsigned int i = 0; i < ps->max_peers && !waiting; i++)
		waiting = ps->peers[i].deferred;
	if (listen_ready(ps, now)) {
		pfd[n] = (struct pollfd){.fd = ps->listen_fd, .events = POLLIN};
		who[n++] = NULL;
	} else if (ps->listen_fd >= 0) {
		waiting |= ps->accept_queued > 0;
	}
	timeout_ms = token_timeout(ps, now, waiting, timeout_ms);
	for (int i = 0; i < MAX_PENDING; i++)
		if (ps->pend[i].fd >= 0) {
			pfd[n] = (struct pollfd){.fd = ps->pend[i].fd, .events = POLLIN | POLLOUT};
			who[n++] = &ps->pend[i];
		}
	for (unsigned int i = 0; i < ps->max_peers; i++) {
		struct peer *p = &ps->peers[i];
		if (!p->in_use || p->fd < 0)
			continue;
		short ev = POLLIN;
		if (p->state == PEER_CONNECTING || p->state == PEER_HANDSHAKE ||
		    (p->tls != NULL && nm_tls_pending(p->tls) > 0))
			ev |= POLLOUT;
		pfd[n] = (struct pollfd){.fd = p->fd, .events = ev};
		who[n++] = p;
	}
	if (nm_loop_poll(pfd, n, timeout_ms) < 0)
		return;
	now = now_ms();
	bool accepting = false;
	for (nfds_t k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (who[k] == NULL) {
			accepting = true; /* after the handshakes in progress have read what came */
			continue;
		}
		if ((struct pending *)who[k] >= ps->pend &&
		    (struct pending *)who[k] < ps->pend + MAX_PENDING) {
			nm_peers_pending_step(ps, who[k]);
			continue;
		}
		struct peer *p = who[k];
		unsigned int idx = (unsigned int)(p - ps->peers);
		if (p->state == PEER_CONNECTING)
			peer_connected(ps, p);
		else if (p->state == PEER_HANDSHAKE)
			peer_handshake(ps, p);
		else if (p->state == PEER_UP) {
			char err[256];
			if ((pfd[k].revents & POLLOUT) &&
			    nm_tls_flush(p->tls, err, sizeof(err)) < 0) {
				peer_fail(p, "send failed");
				continue;
			}
			peer_read(ps, p, idx);
		}
	}
	if (accepting)
		nm_peers_accept(ps);
	now = now_ms(); /* after the handlers, which stamp state changes */
	nm_peers_pending_expire(ps, now);
	for (unsigned int i = 0; i < ps->max_peers; i++) {
		struct peer *p = &ps->peers[i];
		if (!p->in_use)
			continue;
		if ((p->state == PEER_CONNECTING || p->state == PEER_HANDSHAKE) &&
		    now - p->state_ms > HANDSHAKE_MS)
			peer_fail(p, "connection or handshake timed out");
		peer_timers(ps, p, i, now);
	}
}

/*
 * A socket per peer and per pending handshake, beside the pods' and the
 * control socket's: raise the soft RLIMIT_NOFILE (1024 on many systems)
 * toward the hard one for tunnel.max_peers, and say so when it cannot.
 */
static void
fd_limit_raise(uint32_t max_peers)
{
	rlim_t want = (rlim_t)max_peers + MAX_PENDING + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		RTE_LOG(WARNING, USER1,
			"RLIMIT_NOFILE %llu is under the %llu descriptors tunnel.max_peers %u may "
			"need: raise LimitNOFILE\n",
			(unsigned long long)rl.rlim_cur, (unsigned long long)want, max_peers);
}

struct nm_peers *
nm_peers_create(struct nm_node *node, const struct nm_config *cfg, int listen_fd, char *err,
		size_t errlen)
{
	struct nm_peers *ps = calloc(1, sizeof(*ps));

	if (ps == NULL) {
		if (listen_fd >= 0)
			close(listen_fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ps->node = node;
	ps->cfg = cfg;
	ps->listen_fd = listen_fd; /* a takeover's: calls waiting in its backlog are ours */
	for (int i = 0; i < MAX_PENDING; i++)
		ps->pend[i].fd = -1;
	ps->max_peers = cfg->tunnel.max_peers;
	ps->peers = calloc(ps->max_peers, sizeof(*ps->peers));
	ps->pfd = calloc(1 + MAX_PENDING + ps->max_peers, sizeof(*ps->pfd));
	ps->who = calloc(1 + MAX_PENDING + ps->max_peers, sizeof(*ps->who));
	if (ps->peers == NULL || ps->pfd == NULL || ps->who == NULL) {
		snprintf(err, errlen, "out of memory for %u peers (tunnel.max_peers)",
			 ps->max_peers);
		nm_peers_destroy(ps);
		return NULL;
	}
	for (unsigned int i = 0; i < ps->max_peers; i++)
		ps->peers[i].fd = -1;
	fd_limit_raise(ps->max_peers);
	nm_peer_rate_init(&ps->hs, cfg->tunnel.handshake_rate, cfg->tunnel.handshake_burst,
			  now_ms());
	if (cfg->tunnel.fabric_iface[0] == '\0')
		return ps;

	const struct nm_tunnel_config *tc = &cfg->tunnel;
	snprintf(ps->id.node, sizeof(ps->id.node), "%s", cfg->node_name);
	snprintf(ps->id.trust_domain, sizeof(ps->id.trust_domain), "%s", tc->trust_domain);
	snprintf(ps->id.cert_file, sizeof(ps->id.cert_file), "%s", tc->cert);
	snprintf(ps->id.key_file, sizeof(ps->id.key_file), "%s", tc->key);
	snprintf(ps->id.ca_file, sizeof(ps->id.ca_file), "%s", tc->ca);
	snprintf(ps->id.crl_file, sizeof(ps->id.crl_file), "%s", tc->crl);
	ps->ctx = nm_tls_ctx_new(&ps->id, err, errlen);
	if (ps->ctx == NULL || (ps->listen_fd < 0 && nm_peers_listen(ps, err, errlen) < 0)) {
		nm_peers_destroy(ps);
		return NULL;
	}
	for (unsigned int i = 0; i < cfg->n_peers; i++) {
		char e[256];
		if (nm_peers_add(ps, &cfg->peers[i], e, sizeof(e)) < 0) {
			snprintf(err, errlen, "peer %s: %s", cfg->peers[i].name, e);
			nm_peers_destroy(ps);
			return NULL;
		}
	}
	return ps;
}

void
nm_peers_destroy(struct nm_peers *ps)
{
	if (ps == NULL)
		return;
	/* A reload in progress is waited out (it reads a few files) and thrown away. */
	nm_job_cancel(&ps->cert_job);
	if (ps->cert_loading != NULL)
		nm_tls_ctx_free(ps->cert_loading->ctx);
	free(ps->cert_loading);
	json_decref(ps->cert_last);
	for (unsigned int i = 0; ps->peers != NULL && i < ps->max_peers; i++) {
		if (ps->peers[i].in_use)
			nm_peer_close(&ps->peers[i]);
	}
	for (int i = 0; i < MAX_PENDING; i++)
		nm_peers_pending_drop(&ps->pend[i]);
	if (ps->listen_fd >= 0)
		close(ps->listen_fd);
	nm_tls_ctx_free(ps->ctx);
	free(ps->peers);
	free(ps->pfd);
	free(ps->who);
	free(ps);
}

static bool
cidrs_overlap(const struct nm_cidr *a, const struct nm_cidr *b)
{
	uint8_t len = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;
	struct nm_cidr shorter = {.net = a->net, .prefix_len = len};

	return nm_cidr_contains(&shorter, b->net);
}

int
nm_peers_add(struct nm_peers *ps, const struct nm_peer_spec *spec, char *err, size_t errlen)
{
	const struct nm_config *cfg = ps->cfg;
	int free_idx = -1;

	if (ps->ctx == NULL) {
		snprintf(err, errlen, "this node has no tunnel (config group 'tunnel')");
		return -ENODEV;
	}
	if (strcmp(spec->name, cfg->node_name) == 0) {
		snprintf(err, errlen, "'%s' is this node", spec->name);
		return -EINVAL;
	}
	if (spec->fabric_ip == cfg->tunnel.fabric_ip ||
	    cidrs_overlap(&spec->pod_cidr, &cfg->tunnel.pod_cidr)) {
		snprintf(err, errlen, "fabric_ip or pod_cidr collides with this node's");
		return -EINVAL;
	}
	for (int i = 0; i < (int)ps->max_peers; i++) {
		const struct peer *q = &ps->peers[i];
		if (!q->in_use) {
			if (free_idx < 0)
				free_idx = i;
			continue;
		}
		if (strcmp(q->spec.name, spec->name) == 0) {
			snprintf(err, errlen, "peer '%s' exists already", spec->name);
			return -EEXIST;
		}
		if (q->spec.fabric_ip == spec->fabric_ip ||
		    cidrs_overlap(&q->spec.pod_cidr, &spec->pod_cidr)) {
			snprintf(err, errlen, "fabric_ip or pod_cidr collides with peer '%s'",
				 q->spec.name);
			return -EEXIST;
		}
	}
	if (free_idx < 0) {
		snprintf(err, errlen, "%u peers already (tunnel.max_peers)", ps->max_peers);
		return -ENOSPC;
	}
	int rc = nm_node_tnl_peer_set(ps->node, (unsigned int)free_idx, spec, err, errlen);
	if (rc < 0)
		return rc;
	struct peer *p = &ps->peers[free_idx];
	memset(p, 0, sizeof(*p));
	p->in_use = true;
	p->spec = *spec;
	p->fd = -1;
	p->dialer = strcmp(cfg->node_name, spec->name) < 0;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->state_ms = now_ms();
	p->next_try_ms = p->state_ms + jitter_ms(DIAL_JITTER_MS);
	PLOG(p, "added (%s %s:%u)", p->dialer ? "dialling" : "expecting a call from", spec->host,
	     spec->port);
	return 0;
}

int
nm_peers_del(struct nm_peers *ps, const char *name, char *err, size_t errlen)
{
	unsigned int idx;
	struct peer *p = nm_peer_named(ps, name, &idx);

	if (p == NULL) {
		snprintf(err, errlen, "no peer named '%s'", name);
		return -ENOENT;
	}
	nm_peer_close(p);
	nm_node_tnl_peer_clear(ps->node, idx);
	PLOG(p, "deleted");
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	return 0;
}

unsigned int
nm_peers_specs(const struct nm_peers *ps, struct nm_peer_spec *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; ps != NULL && i < ps->max_peers && n < max; i++)
		if (ps->peers[i].in_use)
			out[n++] = ps->peers[i].spec;
	return n;
}

int
nm_peers_rekey(struct nm_peers *ps, const char *name, char *err, size_t errlen)
{
	struct peer *p = nm_peer_named(ps, name, NULL);

	if (p == NULL) {
		snprintf(err, errlen, "no peer named '%s'", name);
		return -ENOENT;
	}
	if (p->state != PEER_UP || !p->hello_rx) {
		snprintf(err, errlen, "peer '%s' is not up (%s)", name,
			 nm_peer_state_names[p->state]);
		return -ENOTCONN;
	}
	p->rekey_now = true;
	return 0;
}

int
nm_peers_listen_fd(const struct nm_peers *ps)
{
	return ps != NULL ? ps->listen_fd : -1;
}

int
nm_peers_index(struct nm_peers *ps, const char *name, unsigned int *idx)
{
	return ps != NULL && nm_peer_named(ps, name, idx) != NULL ? 0 : -ENOENT;
}

int
nm_peers_keying_get(const struct nm_peers *ps, unsigned int idx, const char **name,
		    struct nm_peer_keying *k)
{
	const struct peer *p = ps != NULL && idx < ps->max_peers ? &ps->peers[idx] : NULL;
	uint64_t now = now_ms();

	if (p == NULL || !p->in_use)
		return -ENOENT;
	*name = p->spec.name;
	k->epoch_seq = p->epoch_seq;
	k->tx_epoch = p->tx_epoch;
	k->tx_epoch_age_ms = p->tx_epoch != 0 ? (uint32_t)(now - p->tx_epoch_ms) : 0;
	k->rx_prev_left_ms = p->rx_prev_until_ms > now	? (uint32_t)(p->rx_prev_until_ms - now)
			     : p->rx_prev_until_ms != 0 ? 1
							: 0;
	return 0;
}

int
nm_peers_keying_set(struct nm_peers *ps, const char *name, const struct nm_peer_keying *k,
		    unsigned int *idx)
{
	struct peer *p = ps != NULL ? nm_peer_named(ps, name, idx) : NULL;
	uint64_t now = now_ms();

	if (p == NULL)
		return -ENOENT;
	p->epoch_seq = k->epoch_seq;
	p->tx_epoch = k->tx_epoch;
	p->tx_epoch_ms = now - k->tx_epoch_age_ms;
	p->rx_prev_until_ms = k->rx_prev_left_ms != 0 ? now + k->rx_prev_left_ms : 0;
	p->down_ms = now; /* the old daemon's session ends with it */
	return 0;
}

void
nm_peers_rekey_all(struct nm_peers *ps)
{
	for (unsigned int i = 0; ps != NULL && i < ps->max_peers; i++)
		if (ps->peers[i].in_use)
			ps->peers[i].rekey_now = true;
}

/* Control thread: use ctx from now on and handshake anew with every peer. */
static void
cert_swap(struct nm_peers *ps, struct nm_tls_ctx *ctx)
{
	uint64_t now = now_ms();

	for (unsigned int i = 0; i < ps->max_peers; i++) {
		struct peer *p = &ps->peers[i];
		if (!p->in_use)
			continue;
		nm_peer_close(p); /* keys stay installed until the new session replaces them */
		p->next_try_ms = now + jitter_ms(DIAL_JITTER_MS); /* and the handshake budget */
	}
	for (int i = 0; i < MAX_PENDING; i++)
		nm_peers_pending_drop(&ps->pend[i]);
	nm_tls_ctx_free(ps->ctx);
	ps->ctx = ctx;
}

/* Job thread: read and check the files, build the context. Nothing else. */
static void
cert_build(struct nm_job *job, void *arg)
{
	struct cert_load *l = arg;

	(void)job;
	l->ctx = nm_tls_ctx_new(&l->ident, l->err, sizeof(l->err));
}

int
nm_peers_cert_reload_start(struct nm_peers *ps, uint64_t *id, char *err, size_t errlen)
{
	if (ps == NULL || ps->ctx == NULL) {
		snprintf(err, errlen, "this node has no tunnel (config group 'tunnel')");
		return -ENODEV;
	}
	if (ps->cert_loading != NULL) {
		char since[32];

		nm_wall_iso(ps->cert_loading->started_ns, since, sizeof(since));
		snprintf(err, errlen,
			 "refused: reload %" PRIu64 " is still loading (since %s); one at a time, "
			 "see cert status",
			 ps->cert_loading->id, since);
		return -EBUSY;
	}
	struct cert_load *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->ident = ps->id;
	l->id = ps->cert_load_id + 1;
	l->started_ns = nm_wall_ns();
	int rc = nm_job_start(&ps->cert_job, cert_build, l);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start the loading thread: %s", strerror(-rc));
		free(l);
		return rc;
	}
	ps->cert_load_id = l->id;
	ps->cert_loading = l;
	*id = l->id;
	return 0;
}

void
nm_peers_jobs_poll(struct nm_peers *ps)
{
	struct cert_load *l = ps != NULL ? ps->cert_loading : NULL;
	char started[32], finished[32];

	if (l == NULL || !nm_job_reap(&ps->cert_job))
		return;
	ps->cert_loading = NULL;
	uint64_t now = nm_wall_ns();
	nm_wall_iso(l->started_ns, started, sizeof(started));
	nm_wall_iso(now, finished, sizeof(finished));
	json_decref(ps->cert_last);
	ps->cert_last = json_pack("{s:I, s:b, s:s, s:s, s:I}", "id", (json_int_t)l->id, "ok",
				  l->ctx != NULL, "started", started, "finished", finished,
				  "took_ms", (json_int_t)((now - l->started_ns) / 1000000u));
	if (l->ctx != NULL) {
		cert_swap(ps, l->ctx);
	} else {
		char msg[700];

		snprintf(msg, sizeof(msg), "cert reload: %s; the certificate in use is unchanged",
			 l->err);
		fprintf(stderr, "nodemeshd: %s\n", msg);
		json_object_set_new(ps->cert_last, "error", json_string(msg));
	}
	free(l);
}

bool
nm_peers_jobs_busy(const struct nm_peers *ps)
{
	return ps != NULL && nm_job_busy(&ps->cert_job);
}

json_t *
nm_peers_cert_json(const struct nm_peers *ps)
{
	const struct cert_load *l = ps != NULL ? ps->cert_loading : NULL;
	json_t *loading = json_null();

	if (l != NULL) {
		char since[32];

		nm_wall_iso(l->started_ns, since, sizeof(since));
		loading = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)l->id, "since", since,
				    "elapsed_ms",
				    (json_int_t)((nm_wall_ns() - l->started_ns) / 1000000u));
	}
	return json_pack("{s:o, s:o}", "loading", loading, "last_reload",
			 ps != NULL && ps->cert_last ? json_incref(ps->cert_last) : json_null());
}

void
nm_peers_pod_changed(struct nm_peers *ps, const struct nm_pod_spec *spec, bool added)
{
	if (ps == NULL)
		return;
	for (unsigned int i = 0; i < ps->max_peers; i++) {
		struct peer *p = &ps->peers[i];
		if (!p->in_use || p->state != PEER_UP || p->tls == NULL)
			continue;
		if (added) {
			announce_one(p, spec);
		} else {
			struct nm_announce a = {.type = NM_ANNOUNCE_POD_DEL, .ip = spec->ip};
			peer_send(p, nm_announce_to_json(&a));
		}
	}
}
