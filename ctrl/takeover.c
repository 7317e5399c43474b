/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hitless restart and upgrade, both sides (the frames: takeover_msg.c).
 *
 * The old daemon's control thread gets the connection from the server
 * after the line "takeover" and holds the conversation to its end, blocked:
 * nothing else needs it meanwhile, as its workers are stopped.
 *
 *   1. The caller must be root (SO_PEERCRED uid 0), not merely in the admin
 *      group: it gets the node's secrets (the tunnel keys among them) and
 *      its socket.
 *   2. The workers stop at a quiescent point (nm_node_stop: each finishes
 *      its burst and leaves its loop), so the state is the last word.
 *   3. The pods' rings, the flows and the inspection streams
 *      (ctrl/takeover_streams.c), with a fabric port the tunnels' keys
 *      (ctrl/takeover_tunnel.c), then STATE: the state file's encoding (so
 *      the upgrade case is the state file's versioning), with the
 *      listening control socket attached.
 *   4. The new daemon attaches the pods and starts its workers, then says
 *      STARTED: the old one exits (its pod sockets close with it). ABORT,
 *      a closed connection or no word within START_TIMEOUT_MS: the old
 *      one starts its workers again and says so.
 *
 * Packets that reach the pods' interfaces between 2 and the new daemon's
 * sockets opening in 4 are lost (README "Restarts" has the measured gap).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/un.h>

#include <openssl/crypto.h>

#include <rte_launch.h>
#include <rte_log.h>

#include "loop_wait.h"
#include "node.h"
#include "node_priv.h"
#include "takeover.h"
#include "takeover_msg.h"

#define STATE_TIMEOUT_MS 10000 /* new: the old daemon stops its workers and sends its state */
#define START_TIMEOUT_MS 60000 /* old: the new daemon attaches every pod (1024 take ~10 s) */

/* ---- the old daemon ---------------------------------------------------------- */

static void
refuse(int conn, const char *why)
{
	RTE_LOG(ERR, USER1, "takeover refused: %s\n", why);
	(void)nm_takeover_send(conn, NM_TAKEOVER_REFUSE, why, (uint32_t)strlen(why), NULL, 0);
}

/* The workers run again after a takeover that did not happen. */
static void
resume(struct nm_node *node, pid_t pid, const char *why)
{
	RTE_LOG(ERR, USER1, "takeover by pid %d failed: %s; resuming the workers\n", (int)pid, why);
	if (node->dp.has_fabric)
		nm_takeover_tunnel_resume(node);
	/* No worker runs: the next launch reads it after rte_eal_remote_launch's barrier. */
	__atomic_store_n(&node->dp.stop, false, __ATOMIC_RELAXED);
	nm_node_start(node);
}

/* What the new daemon answered (STARTED: 1); else resumed (0). */
static int
await_start(struct nm_node *node, int conn, pid_t pid, uint64_t stopped_ns)
{
	struct nm_takeover_hdr h;
	char err[256], why[512], *text = NULL;
	int fds[NM_TAKEOVER_MAX_FDS];

	if (nm_takeover_recv(conn, START_TIMEOUT_MS, &h, &text, fds, err, sizeof(err)) < 0) {
		resume(node, pid, err);
		return 0;
	}
	for (unsigned int i = 0; i < h.n_fds; i++)
		close(fds[i]); /* none are expected from the new daemon */
	if (h.type == NM_TAKEOVER_STARTED) {
		RTE_LOG(INFO, USER1,
			"takeover: pid %d forwards now (workers here stopped %.1f ms ago); "
			"exiting\n",
			(int)pid, (double)(nm_mono_ns() - stopped_ns) / 1e6);
		free(text);
		return 1;
	}
	snprintf(why, sizeof(why), "%s%s%.400s",
		 h.type == NM_TAKEOVER_ABORT ? "it gave up" : nm_takeover_type_name(h.type),
		 text[0] ? ": " : "", text);
	free(text);
	resume(node, pid, why);
	return 0;
}

/*
 * Everything the new daemon needs, workers stopped: the pods' rings, the
 * flows, then the state with the listening socket. 0, or -1 with why.
 */
static int
hand_over(struct nm_node *node, int conn, int listen_fd, char *why, size_t whylen)
{
	unsigned int n_rings = 0, n_flows = 0, n_streams = 0, n_peers = 0;
	size_t len = 0, flow_bytes = 0, stream_bytes = 0;
	char *state = NULL;
	const char *step = "the pods' rings";
	int rc = nm_takeover_rings_send(node, conn, &n_rings);

	if (rc == 0) {
		step = "the flows";
		rc = nm_takeover_flows_send(node, conn, &n_flows, &flow_bytes);
	}
	if (rc == 0) {
		step = "the inspection streams";
		rc = nm_takeover_streams_send(node, conn, &n_streams, &stream_bytes);
	}
	if (rc == 0 && node->dp.has_fabric) {
		step = "the tunnels' keys";
		rc = nm_takeover_tunnel_send(node, conn, &n_peers);
	}
	if (rc == 0) {
		step = "the state";
		state = nm_node_state_encode(node, &len);
		rc = state != NULL ? nm_takeover_send(conn, NM_TAKEOVER_STATE, state, (uint32_t)len,
						      &listen_fd, 1)
				   : -ENOMEM;
		free(state);
	}
	if (rc < 0) {
		snprintf(why, whylen, "sending %s: %s", step, strerror(-rc));
		return -1;
	}
	RTE_LOG(INFO, USER1,
		"takeover: sent %u pods' rings, %u flows (%zu bytes), %u inspection streams (%zu "
		"bytes), %u peers' keys, the state (%zu bytes) and the control socket\n",
		n_rings, n_flows, flow_bytes, n_streams, stream_bytes, n_peers, len);
	return 0;
}

int
nm_takeover_serve(void *ctx, int conn, const struct ucred *cred, int listen_fd)
{
	struct nm_node *node = ctx;
	char why[256];
	int rc = 0;

	if (cred->uid != 0) {
		snprintf(why, sizeof(why),
			 "permission denied: only root (uid 0) may take over, this is uid %u "
			 "(pid %d)",
			 (unsigned int)cred->uid, (int)cred->pid);
		refuse(conn, why);
		goto out;
	}
	RTE_LOG(INFO, USER1, "takeover: pid %d asks; stopping the workers\n", (int)cred->pid);
	nm_node_stop(node);
	uint64_t stopped_ns = nm_mono_ns();

	if (hand_over(node, conn, listen_fd, why, sizeof(why)) < 0) {
		resume(node, cred->pid, why);
		goto out;
	}
	rc = await_start(node, conn, cred->pid, stopped_ns);
	if (rc > 0)
		return rc; /* conn open until this process exits: the new one waits for that */
out:
	close(conn);
	return rc;
}

/* ---- the new daemon ---------------------------------------------------------- */

static int
connect_to(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket(AF_UNIX) failed: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		snprintf(err, errlen, "connect(%s) failed: %s: is a nodemeshd running there?", path,
			 strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* The RINGS frames and the STATE frame, or REFUSE's reason in err. 0 or -errno. */
static int
receive_state(struct nm_takeover *tk, char *err, size_t errlen)
{
	struct nm_takeover_hdr h;
	int fds[NM_TAKEOVER_MAX_FDS];
	char *payload = NULL;
	bool first = true;
	int rc;

	for (;;) {
		rc = nm_takeover_recv(tk->conn, STATE_TIMEOUT_MS, &h, &payload, fds, err, errlen);
		/* One conversation, one version: the old daemon's first frame's, answered in kind.
		 */
		if (rc == 0 && first)
			tk->version = h.version;
		first = false;
		if (rc == 0 && tk->version != h.version) {
			snprintf(err, errlen, "a %s frame of version %u after frames of version %u",
				 nm_takeover_type_name(h.type), h.version, tk->version);
			for (unsigned int i = 0; i < h.n_fds; i++)
				close(fds[i]);
			free(payload);
			return -EPROTO;
		}
		if (rc == 0 && (h.type == NM_TAKEOVER_PODIDS || h.type == NM_TAKEOVER_FLOWS) &&
		    h.n_fds == 0) {
			rc = nm_takeover_flows_add(&tk->flows, h.version, h.type, payload, h.len,
						   err, errlen);
			free(payload);
			payload = NULL;
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc == 0 && h.type == NM_TAKEOVER_STREAMS && h.n_fds == 0) {
			rc = nm_takeover_streams_add(&tk->streams, payload, h.len, err, errlen);
			payload = NULL; /* taken */
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc == 0 && h.type == NM_TAKEOVER_TUNNEL && h.n_fds <= 1 && tk->tunnel == NULL) {
			tk->tunnel = (uint8_t *)payload; /* wiped in nm_takeover_free */
			tk->tunnel_version = h.version;
			tk->tunnel_len = h.len;
			tk->peer_listen_fd = h.n_fds == 1 ? fds[0] : -1;
			payload = NULL;
			continue;
		}
		if (rc < 0 || h.type != NM_TAKEOVER_RINGS)
			break;
		rc = nm_takeover_rings_add(&tk->rings, payload, fds, h.n_fds, err, errlen);
		free(payload);
		payload = NULL;
		if (rc < 0) {
			for (unsigned int i = 0; i < h.n_fds; i++)
				close(fds[i]);
			return rc;
		}
		tk->n_rings += h.n_fds;
	}
	if (rc < 0)
		return rc;
	if (h.type == NM_TAKEOVER_STATE && h.n_fds == 1) {
		tk->state = payload;
		tk->state_len = h.len;
		tk->listen_fd = fds[0];
		return 0;
	}
	if (h.type == NM_TAKEOVER_REFUSE)
		snprintf(err, errlen, "the running daemon refused: %.400s", payload);
	else
		snprintf(err, errlen, "expected STATE with 1 fd, got %s with %u",
			 nm_takeover_type_name(h.type), h.n_fds);
	for (unsigned int i = 0; i < h.n_fds; i++)
		close(fds[i]);
	free(payload);
	return h.type == NM_TAKEOVER_REFUSE ? -EPERM : -EPROTO;
}

struct nm_takeover *
nm_takeover_connect(const char *path, char *err, size_t errlen)
{
	struct nm_takeover *tk = calloc(1, sizeof(*tk));
	static const char line[] = NM_TAKEOVER_LINE;

	if (tk == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tk->listen_fd = -1;
	tk->peer_listen_fd = -1;
	tk->version = NM_TAKEOVER_VERSION;
	tk->conn = connect_to(path, err, errlen);
	if (tk->conn < 0)
		goto fail;
	tk->asked_ns = nm_mono_ns();
	if (send(tk->conn, line, sizeof(line) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(line) - 1) {
		snprintf(err, errlen, "sending the takeover request to %s failed: %s", path,
			 strerror(errno));
		goto fail;
	}
	if (receive_state(tk, err, errlen) < 0)
		goto fail;
	tk->state_ns = nm_mono_ns();
	return tk;
fail:
	tk->answered = true; /* nothing to answer: the old daemon did not stop */
	nm_takeover_free(tk);
	return NULL;
}

int
nm_takeover_started(struct nm_takeover *tk)
{
	tk->answered = true;
	return nm_takeover_send_version(tk->conn, tk->version, NM_TAKEOVER_STARTED, NULL, 0, NULL,
					0);
}

void
nm_takeover_abort(struct nm_takeover *tk, const char *why)
{
	if (tk == NULL || tk->answered)
		return;
	tk->answered = true;
	(void)nm_takeover_send_version(tk->conn, tk->version, NM_TAKEOVER_ABORT, why,
				       (uint32_t)strlen(why), NULL, 0);
}

int
nm_takeover_wait_gone(struct nm_takeover *tk, int timeout_ms)
{
	uint64_t deadline = nm_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	char byte;

	while (nm_mono_ns() < deadline) {
		struct pollfd p = {.fd = tk->conn, .events = POLLIN};
		int left = (int)((deadline - nm_mono_ns()) / 1000000u) + 1;
		if (poll(&p, 1, left) > 0 && recv(tk->conn, &byte, 1, MSG_DONTWAIT) == 0)
			return 0; /* EOF: the old daemon closed it on its way out */
	}
	return -ETIMEDOUT;
}

void
nm_takeover_free(struct nm_takeover *tk)
{
	if (tk == NULL)
		return;
	nm_takeover_abort(tk, "the new nodemeshd failed before it started (see its log)");
	if (tk->conn >= 0)
		close(tk->conn);
	if (tk->listen_fd >= 0)
		close(tk->listen_fd); /* not adopted by a server */
	if (tk->peer_listen_fd >= 0)
		close(tk->peer_listen_fd); /* not adopted by the peer manager */
	nm_takeover_rings_free(tk->rings);
	tk->rings = NULL;
	nm_takeover_flows_free(tk->flows);
	tk->flows = NULL;
	nm_takeover_streams_free(tk->streams);
	tk->streams = NULL;
	free(tk->state);
	tk->state = NULL;
	if (tk->tunnel != NULL)
		OPENSSL_cleanse(tk->tunnel, tk->tunnel_len);
	free(tk->tunnel);
	tk->tunnel = NULL;
	free(tk);
}
