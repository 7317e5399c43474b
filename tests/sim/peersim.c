/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nm-peersim: play N nodes against one real nodemeshd (issue 19, part 4).
 *
 *   nm-peersim --certs DIR --daemon NAME --server IP:PORT --ctl SOCKET
 *              --mgmt-base IP --fabric-base IP --pod-base IP
 *              [-n PEERS] [-p PODS_PER_PEER] [--rate HANDSHAKES_PER_S]
 *              [--withdraw] [--restart] [--send IP:PORT ...] [--hold S]
 *
 * Peer i (1..N) is node PREFIX-iii with certificate DIR/PREFIX-iii.pem, its
 * control connection from mgmt-base + i - 1, its fabric address
 * fabric-base + i - 1 and its pod CIDR the i-th /24 (--pod-prefix) from
 * pod-base. The
 * simulator registers the peers with the daemon (`peer add`; a refusal,
 * such as the 17th peer today, is reported and that peer sits out), then
 * runs its phases, each timed by what the daemon reports:
 *
 *   handshakes  dial at --rate, mutual TLS 1.3, hello, keys both ways;
 *               done when the daemon's `tunnel list` says every peer is up
 *   announce    P pod_add per peer (identity NS/PEERNAME); done when the
 *               daemon's `tunnel list` counts them all in its peers'
 *               remote_pods (pods/s); with --batch B, B at a time, each
 *               batch timed, and the rate in each quarter of the run:
 *               whether the cost per pod grows as the ipcache fills
 *   send        --send: sealed UDP records on the fabric from pod 1 of the
 *               --send-from peers to a real local pod
 *   withdraw    --withdraw: the last peer withdraws its pods, then
 *               announces them again
 *   restart     --restart: the last peer's session is closed and dialled
 *               again; it re-announces all but its last pod
 *   hold        --hold S: the sessions stay up S seconds; with --redial a
 *               peer whose session ends dials again and re-announces (a
 *               daemon restart: how fast and how evenly they come back)
 *
 * The last line is machine-readable: "RESULT key=value ...". Exit status:
 * 0 when every phase completed, 1 when one did not (the line says where),
 * 2 on bad arguments.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "nodemesh/tunnel.h"
#include "loop_wait.h"
#include "peer_tls.h"
#include "sim_ctl.h"
#include "sim_peer.h"
#include "sim_run.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
ms_since(uint64_t t0)
{
	return (double)(nm_mono_ns() - t0) / 1e6;
}

static void result_add(struct sim *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
result_add(struct sim *s, const char *key, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(s->result) - s->result_len;
	int n = snprintf(s->result + s->result_len, room, " %s=", key);

	if (n < 0 || (size_t)n >= room)
		return;
	s->result_len += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(s->result + s->result_len, sizeof(s->result) - s->result_len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(s->result) - s->result_len)
		s->result_len += (size_t)n;
}

/* One turn: dial who is due, poll every connection for up to timeout_ms, step them. */
static void
sim_poll(struct sim *s, int timeout_ms)
{
	uint64_t now = nm_mono_ns();
	nfds_t n = 0;
	unsigned int who[MAX_SIM_PEERS];

	for (unsigned int i = 0; i < s->n_active; i++) {
		struct sim_peer *p = &s->peers[i];
		if (p->state == SIM_IDLE && p->start_ns != 0 && now >= p->start_ns) {
			p->start_ns = 0;
			sim_peer_dial(p, &s->target);
		}
		if (p->fd < 0)
			continue;
		s->pfd[n] = (struct pollfd){.fd = p->fd, .events = sim_peer_events(p)};
		who[n++] = i;
	}
	if (poll(s->pfd, n, timeout_ms) <= 0)
		return;
	for (nfds_t k = 0; k < n; k++)
		if (s->pfd[k].revents != 0)
			sim_peer_step(&s->peers[who[k]], s->pfd[k].revents, &s->target, &s->pods);
}

/* Keep the sessions turning for ms milliseconds. */
static void
sim_run_for(struct sim *s, double ms)
{
	uint64_t t0 = nm_mono_ns();

	while (!stop && ms_since(t0) < ms)
		sim_poll(s, POLL_MS);
}

static unsigned int
count_state(const struct sim *s, enum sim_state st, bool keyed)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->n_active; i++)
		n += s->peers[i].state == st && (!keyed || s->peers[i].tx_epoch != 0);
	return n;
}

static unsigned int
report_failures(const struct sim *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->n_active; i++)
		if (s->peers[i].state == SIM_FAILED) {
			if (n++ < 5)
				printf("  %s failed: %s\n", s->peers[i].name, s->peers[i].err);
		}
	return n;
}

static bool
all_flushed(const struct sim *s)
{
	for (unsigned int i = 0; i < s->n_active; i++)
		if (s->peers[i].tls != NULL && nm_tls_pending(s->peers[i].tls) > 0)
			return false;
	return true;
}

/* ---- phases --------------------------------------------------------------------- */

static int
phase_register(struct sim *s)
{
	uint64_t t0 = nm_mono_ns();
	unsigned int refused = 0;
	char err[512];

	for (unsigned int i = 0; i < s->n_peers; i++) {
		struct sim_peer *p = &s->peers[i];
		char line[512], mgmt[INET_ADDRSTRLEN], fab[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &p->mgmt_ip, mgmt, sizeof(mgmt));
		inet_ntop(AF_INET, &p->fabric_ip, fab, sizeof(fab));
		inet_ntop(AF_INET, &p->pod_cidr.net, net, sizeof(net));
		snprintf(line, sizeof(line),
			 "peer add name=%s address=%s:%u fabric_ip=%s pod_cidr=%s/%u", p->name,
			 mgmt, s->peer_port, fab, net, p->pod_cidr.prefix_len);
		json_t *j =
		    s->register_peers ? sim_ctl(s->ctl, line, err, sizeof(err)) : json_true();
		if (j == NULL) {
			printf("register: %s refused: %s\n", p->name, err);
			if (refused++ == 0)
				result_add(s, "first_refusal", "\"%s: %s\"", p->name, err);
			continue;
		}
		json_decref(j);
		/* Registered peers come first in the array: swap p into place. */
		if (s->n_active != i) {
			struct sim_peer tmp = s->peers[s->n_active];
			s->peers[s->n_active] = *p;
			*p = tmp;
		}
		s->n_active++;
	}
	double ms = ms_since(t0);
	printf("register: %u of %u peers added in %.1f ms, %u refused\n", s->n_active, s->n_peers,
	       ms, refused);
	result_add(s, "peers_added", "%u", s->n_active);
	result_add(s, "peers_refused", "%u", refused);
	return s->n_active > 0 ? 0 : -1;
}

static int
phase_handshakes(struct sim *s)
{
	uint64_t t0 = nm_mono_ns();
	char err[512];

	for (unsigned int i = 0; i < s->n_active; i++)
		s->peers[i].start_ns =
		    t0 + 1 + (s->rate > 0 ? (uint64_t)((double)i * 1e9 / s->rate) : 0);
	/* Ours: TLS done, the daemon's hello came, our sending key acknowledged. */
	while (!stop &&
	       count_state(s, SIM_UP, true) + count_state(s, SIM_FAILED, false) < s->n_active) {
		if (ms_since(t0) > s->timeout_s * 1000)
			break;
		sim_poll(s, POLL_MS);
	}
	double sim_ms = ms_since(t0);
	unsigned int up = count_state(s, SIM_UP, true);
	uint64_t first = UINT64_MAX, last = 0;
	for (unsigned int i = 0; i < s->n_active; i++)
		if (s->peers[i].state == SIM_UP) {
			first = s->peers[i].up_ns < first ? s->peers[i].up_ns : first;
			last = s->peers[i].up_ns > last ? s->peers[i].up_ns : last;
		}
	/* The daemon's: `tunnel list` state "up" (its keys both ways). */
	long daemon_up = -1;
	uint64_t next = 0;
	while (!stop && ms_since(t0) <= s->timeout_s * 1000) {
		sim_poll(s, POLL_MS);
		if (nm_mono_ns() < next)
			continue;
		next = nm_mono_ns() + CTL_EVERY_NS;
		daemon_up = sim_ctl_tunnels(s->ctl, s->prefix, NULL, "up", NULL, err, sizeof(err));
		if (daemon_up < 0 || daemon_up >= up)
			break;
	}
	double daemon_ms = ms_since(t0);
	unsigned int failed = report_failures(s);
	double span_s = last > first && first != UINT64_MAX ? (double)(last - first) / 1e9 : 0;
	printf("handshakes: %u of %u up (hello + keys) in %.1f ms (%.0f/s), %u failed; daemon says "
	       "%ld up after %.1f ms; the first and the last came %.1f ms apart\n",
	       up, s->n_active, sim_ms, sim_ms > 0 ? up * 1000 / sim_ms : 0.0, failed, daemon_up,
	       daemon_ms, span_s * 1000);
	result_add(s, "handshakes_up", "%u", up);
	result_add(s, "handshakes_ms", "%.1f", sim_ms);
	result_add(s, "handshakes_per_s", "%.1f", sim_ms > 0 ? up * 1000 / sim_ms : 0.0);
	result_add(s, "daemon_up", "%ld", daemon_up);
	result_add(s, "daemon_up_ms", "%.1f", daemon_ms);
	if (daemon_up < 0)
		printf("handshakes: asking the daemon failed: %s\n", err);
	return up == s->n_active && daemon_up == (long)up ? 0 : -1;
}

#define MAX_SAMPLES 8192 /* batches timed in one run */

/*
 * Ask the daemon until it holds `want` remote pods of ours (of peer `only`
 * when given), the count stops moving for stall_ms after everything was
 * written, or the phase times out. Asks at most every every_ns; *settled_ms
 * (when given) is when the count last changed, so a stall is not timed.
 */
static long
wait_remote(struct sim *s, const char *only, long want, uint64_t t0, double stall_ms,
	    uint64_t every_ns, double *settled_ms, unsigned int *asks)
{
	long have = -1, last = -2;
	uint64_t moved = nm_mono_ns(), next = 0;
	char err[512];

	while (!stop && ms_since(t0) <= s->timeout_s * 1000) {
		sim_poll(s, 1);
		if (nm_mono_ns() < next)
			continue;
		next = nm_mono_ns() + every_ns;
		have = sim_ctl_remote_pods(s->ctl, s->prefix, only, err, sizeof(err));
		if (asks != NULL)
			(*asks)++;
		if (have < 0) {
			printf("tunnel list failed: %s\n", err);
			return -1;
		}
		if (settled_ms != NULL && have != last)
			*settled_ms = ms_since(t0);
		if (have == want)
			return have;
		if (have != last || !all_flushed(s)) {
			last = have;
			moved = nm_mono_ns();
		} else if (ms_since(moved) > stall_ms) {
			break;
		}
	}
	return have;
}

/*
 * Mean round trip of `tunnel list` on a quiet daemon, the baseline of a
 * batch's time, and (*busy_ms) the control thread's busy time per answer:
 * a batch's busy time includes one or more of them.
 */
static double
ctl_rtt_ms(struct sim *s, double *busy_ms)
{
	char err[512];
	double busy0 = sim_ctl_busy_ms(s->ctl, err, sizeof(err));
	uint64_t t0 = nm_mono_ns();

	for (int i = 0; i < 10; i++)
		if (sim_ctl_remote_pods(s->ctl, s->prefix, NULL, err, sizeof(err)) < 0)
			return -1;
	double ms = ms_since(t0) / 10;
	*busy_ms = (sim_ctl_busy_ms(s->ctl, err, sizeof(err)) - busy0) / 11;
	return ms;
}

/* The quarters of a batched run: does a fuller pod table cost more per pod? */
static void
report_quarters(struct sim *s, const double *batch_ms, const double *batch_busy,
		const long *batch_end, unsigned int nb)
{
	long total = nb > 0 ? batch_end[nb - 1] : 0;
	unsigned int k = 0;

	for (int q = 0; q < 4 && total >= 4; q++) {
		long hi = total * (q + 1) / 4, first = -1, last = 0;
		double ms = 0, busy = 0;
		char key[32];

		/* Whole batches whose end falls in (lo, hi]. */
		for (; k < nb && batch_end[k] <= hi; k++) {
			if (first < 0)
				first = k == 0 ? 0 : batch_end[k - 1];
			last = batch_end[k];
			ms += batch_ms[k];
			busy += batch_busy[k];
		}
		if (first < 0 || ms <= 0)
			continue;
		printf(
		    "announce: pods %ld..%ld (table filling) applied at %.0f pods/s; the daemon's "
		    "control thread busy %.3f ms per pod (its answers to us taken out)\n",
		    first + 1, last, (double)(last - first) * 1000 / ms,
		    busy / (double)(last - first));
		snprintf(key, sizeof(key), "q%d_pods_per_s", q + 1);
		result_add(s, key, "%.0f", (double)(last - first) * 1000 / ms);
		snprintf(key, sizeof(key), "q%d_busy_ms_per_pod", q + 1);
		result_add(s, key, "%.3f", busy / (double)(last - first));
	}
}

/*
 * Announce every pod of every up peer. Without --batch all at once, timed
 * until the daemon holds them all. With --batch B, B pods at a time taken
 * round-robin over the peers, each batch timed until the daemon holds it:
 * the time per pod as the ipcache fills (it must not grow: no copy per pod).
 */
static int
phase_announce(struct sim *s)
{
	unsigned int n_up = count_state(s, SIM_UP, false);
	long want = (long)(n_up * s->pods.per_peer), have = 0, sent = 0;
	static double batch_ms[MAX_SAMPLES], batch_busy[MAX_SAMPLES];
	static unsigned int batch_asks[MAX_SAMPLES];
	static long batch_end[MAX_SAMPLES];
	unsigned int nb = 0;
	double write_ms = 0;
	double list_busy0, list_busy1;
	double rtt0 = ctl_rtt_ms(s, &list_busy0);
	char err[512];

	double busy0 = sim_ctl_busy_ms(s->ctl, err, sizeof(err));

	for (unsigned int i = 0; i < s->n_active; i++)
		s->peers[i].announce_on_up = true;
	while (!stop && sent < want) {
		long batch = s->batch > 0 ? (long)s->batch : want;
		uint64_t tb = nm_mono_ns();

		for (long k = 0; k < batch && sent < want; k++, sent++) {
			/* Pod j of each up peer before pod j + 1 of any. */
			struct sim_peer *p = &s->peers[sent % n_up];
			sim_peer_announce(p, &s->pods, (unsigned int)(sent / n_up) + 1, true);
		}
		if (s->batch == 0) {
			/* The baseline: how fast the simulator frames, seals and writes them. */
			while (!stop && !all_flushed(s) && ms_since(tb) < s->timeout_s * 1000)
				sim_poll(s, 1);
			write_ms = ms_since(tb);
		}
		double settled_ms = 0;
		unsigned int asks = 0;
		have = wait_remote(s, NULL, sent, tb, s->batch > 0 ? 500 : 2000,
				   s->batch > 0 ? 0 : CTL_FAST_NS, &settled_ms, &asks);
		if (nb < MAX_SAMPLES) {
			/* Asked after the batch, so it includes the last `tunnel list`. */
			double busy = s->batch > 0 ? sim_ctl_busy_ms(s->ctl, err, sizeof(err)) : 0;
			batch_ms[nb] = settled_ms;
			batch_busy[nb] = busy - busy0;
			batch_asks[nb] = asks + 1; /* and the stats request */
			busy0 = busy;
			batch_end[nb++] = have;
		}
		if (have != sent) {
			/* Refused (the table is full) or lost: the daemon says which. Its
			 * wait was a stall, not work: the quarters leave it out. */
			if (s->batch > 0 && nb > 0 && nb < MAX_SAMPLES)
				nb--;
			break;
		}
	}
	double rtt1 = ctl_rtt_ms(s, &list_busy1);
	long refused = sim_ctl_tunnels(s->ctl, s->prefix, NULL, NULL, "announcements_refused", err,
				       sizeof(err));
	double applied_ms = 0;
	for (unsigned int k = 0; k < nb; k++)
		applied_ms += batch_end[k] > (k == 0 ? 0 : batch_end[k - 1]) ? batch_ms[k] : 0;
	if (s->batch > 0 && have != want)
		printf("announce: the batch the daemon stopped in (pods %ld..%ld) is left out of "
		       "the times below\n",
		       nb > 0 ? batch_end[nb - 1] + 1 : 1, have);
	printf("announce: %ld of %ld pods applied by the daemon in %.1f ms (%.0f pods/s, %s); "
	       "refused by the daemon: %ld\n",
	       have, want, applied_ms, applied_ms > 0 ? (double)have * 1000 / applied_ms : 0.0,
	       s->batch > 0 ? "in batches" : "all at once", refused);
	/*
	 * Less the control requests the simulator made per batch, each costing
	 * what a `tunnel list` costs at that fill (between the two measured).
	 */
	for (unsigned int k = 0; k < nb && have > 0; k++)
		batch_busy[k] -=
		    batch_asks[k] *
		    (list_busy0 + (list_busy1 - list_busy0) * (double)batch_end[k] / (double)have);
	if (s->batch > 0)
		report_quarters(s, batch_ms, batch_busy, batch_end, nb);
	if (write_ms > 0) {
		printf("announce: baseline: the simulator wrote them in %.1f ms (%.0f pods/s)\n",
		       write_ms, (double)want * 1000 / write_ms);
		result_add(s, "sim_write_pods_per_s", "%.0f", (double)want * 1000 / write_ms);
	}
	printf("announce: baseline: `tunnel list` answers in %.2f ms with none of our pods "
	       "(busy %.3f ms), %.2f ms with %ld (busy %.3f ms)\n",
	       rtt0, list_busy0, rtt1, have, list_busy1);
	result_add(s, "list_busy_full_ms", "%.3f", list_busy1);
	result_add(s, "pods_expected", "%ld", want);
	result_add(s, "pods_applied", "%ld", have);
	result_add(s, "announce_ms", "%.1f", applied_ms);
	result_add(s, "pods_per_s", "%.0f",
		   applied_ms > 0 ? (double)have * 1000 / applied_ms : 0.0);
	result_add(s, "ctl_rtt_ms", "%.2f", rtt0);
	result_add(s, "ctl_rtt_full_ms", "%.2f", rtt1);
	result_add(s, "announcements_refused", "%ld", refused);
	return have == want ? 0 : -1;
}

static int
phase_send(struct sim *s)
{
	char err[512];

	for (unsigned int k = 0; k < s->n_send_from; k++) {
		unsigned int i = s->send_from[k];
		struct sim_peer *p = NULL;
		for (unsigned int m = 0; m < s->n_active; m++)
			if (s->peers[m].idx == i)
				p = &s->peers[m];
		if (p == NULL || p->state != SIM_UP) {
			printf("send: peer %u is not up\n", i);
			return -1;
		}
		int rc = sim_fabric_send_udp(&s->fabric, p, sim_pod_ip(p, 1), s->send_dst,
					     s->send_port, s->send_count, err, sizeof(err));
		if (rc < 0) {
			printf("send: %s\n", err);
			return -1;
		}
		char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
		uint32_t src_ip = sim_pod_ip(p, 1);
		inet_ntop(AF_INET, &src_ip, src, sizeof(src));
		inet_ntop(AF_INET, &s->send_dst, dst, sizeof(dst));
		printf("send: %d records sealed with epoch %u from %s (%s/%s) to %s:%u\n", rc,
		       p->tx_epoch, src, s->pods.ns, p->name, dst, s->send_port);
		char key[96];
		snprintf(key, sizeof(key), "sent_%s", p->name);
		result_add(s, key, "%d", rc);
		sim_run_for(s, 50);
	}
	return 0;
}

static struct sim_peer *
churn_peer(struct sim *s)
{
	for (unsigned int i = s->n_active; i-- > 0;)
		if (s->peers[i].state == SIM_UP)
			return &s->peers[i];
	return NULL;
}

static int
phase_withdraw(struct sim *s)
{
	struct sim_peer *p = churn_peer(s);
	long want = (long)s->pods.per_peer;

	if (p == NULL)
		return -1;
	uint64_t t0 = nm_mono_ns();
	sim_peer_announce_all(p, &s->pods, false);
	long have = wait_remote(s, p->name, 0, t0, 2000, CTL_EVERY_NS, NULL, NULL);
	double del_ms = ms_since(t0);
	uint64_t t1 = nm_mono_ns();
	sim_peer_announce_all(p, &s->pods, true);
	long again = wait_remote(s, p->name, want, t1, 2000, CTL_EVERY_NS, NULL, NULL);
	double add_ms = ms_since(t1);
	printf("withdraw: %s withdrew %ld pods (daemon holds %ld) in %.1f ms, announced them again "
	       "(daemon holds %ld) in %.1f ms\n",
	       p->name, want, have, del_ms, again, add_ms);
	result_add(s, "withdraw_left", "%ld", have);
	result_add(s, "withdraw_ms", "%.1f", del_ms);
	result_add(s, "reannounced", "%ld", again);
	result_add(s, "reannounce_ms", "%.1f", add_ms);
	return have == 0 && again == want ? 0 : -1;
}

/*
 * The last peer's session ends and starts again; on the new session it
 * announces all its pods but the last, as a node whose pod went away while
 * the session was down. A full resync would leave P - 1 pods of it on the
 * daemon; today's daemon keeps a session's pods across sessions, so it
 * shows whether the stale one is still held (reported, not judged here).
 */
static int
phase_restart(struct sim *s)
{
	struct sim_peer *p = churn_peer(s);
	char err[512];

	if (p == NULL)
		return -1;
	long sessions0 =
	    sim_ctl_tunnels(s->ctl, s->prefix, p->name, NULL, "sessions", err, sizeof(err));
	long epoch0 = sim_ctl_tunnels(s->ctl, s->prefix, p->name, NULL, "epoch", err, sizeof(err));
	uint64_t t0 = nm_mono_ns();
	unsigned int full = s->pods.per_peer;

	sim_peer_close(p);
	p->tx_epoch = 0;
	nm_tnl_key_free(p->seal);
	p->seal = NULL;
	p->announce_on_up = false;
	p->start_ns = nm_mono_ns();
	while (!stop && !(p->state == SIM_UP && p->tx_epoch != 0) && p->state != SIM_FAILED &&
	       ms_since(t0) < s->timeout_s * 1000)
		sim_poll(s, POLL_MS);
	s->pods.per_peer = full - 1;
	sim_peer_announce_all(p, &s->pods, true);
	s->pods.per_peer = full;
	long sessions = -1, up = 0, epoch = -1;
	uint64_t next = 0;
	while (!stop && ms_since(t0) < s->timeout_s * 1000) {
		sim_poll(s, POLL_MS);
		if (nm_mono_ns() < next)
			continue;
		next = nm_mono_ns() + CTL_EVERY_NS;
		sessions =
		    sim_ctl_tunnels(s->ctl, s->prefix, p->name, NULL, "sessions", err, sizeof(err));
		up = sim_ctl_tunnels(s->ctl, s->prefix, p->name, "up", NULL, err, sizeof(err));
		epoch =
		    sim_ctl_tunnels(s->ctl, s->prefix, p->name, NULL, "epoch", err, sizeof(err));
		if (sessions > sessions0 && up == 1 && epoch != epoch0 && all_flushed(s))
			break;
	}
	double ms = ms_since(t0);
	sim_run_for(s, 200); /* the re-announced pods are applied */
	long held = sim_ctl_remote_pods(s->ctl, s->prefix, p->name, err, sizeof(err));
	printf(
	    "restart: %s session %ld -> %ld, daemon up %s with epoch %ld (was %ld) after %.1f ms; "
	    "re-announced %u pods and pods_synced, daemon holds %ld (%ld stale from the old "
	    "session)\n",
	    p->name, sessions0, sessions, up == 1 ? "yes" : "no", epoch, epoch0, ms, full - 1, held,
	    held - (long)(full - 1));
	result_add(s, "restart_sessions", "%ld", sessions - sessions0);
	result_add(s, "restart_ms", "%.1f", ms);
	result_add(s, "restart_held", "%ld", held);
	result_add(s, "stale_after_resync", "%ld", held - (long)(full - 1));
	return sessions > sessions0 && up == 1 && epoch != epoch0 && held == (long)full - 1 ? 0
											    : -1;
}

/* A peer whose session ended: dial again in 200-700 ms, with a new key, and resync. */
static void
redial_later(struct sim_peer *p, uint64_t now)
{
	sim_peer_close(p);
	p->state = SIM_IDLE;
	p->tx_epoch = 0;
	nm_tnl_key_free(p->seal);
	p->seal = NULL;
	p->announce_on_up = true;
	p->start_ns = now + (200 + (uint64_t)(rand() % 500)) * 1000000ull;
}

/*
 * Keep the sessions turning for --hold seconds. With --redial, peers whose
 * session ended dial again; reported: how many sessions ended, and from
 * the first loss, when the last peer was up again (with keys).
 */
static void
phase_hold(struct sim *s)
{
	uint64_t t0 = nm_mono_ns(), first_loss = 0, last_up = 0;
	unsigned int lost = 0;

	while (!stop && ms_since(t0) < s->hold_s * 1000) {
		sim_poll(s, POLL_MS);
		if (!s->redial)
			continue;
		uint64_t now = nm_mono_ns();
		for (unsigned int i = 0; i < s->n_active; i++) {
			struct sim_peer *p = &s->peers[i];
			if (p->state == SIM_FAILED) {
				if (first_loss == 0)
					first_loss = now;
				lost++;
				redial_later(p, now);
			} else if (p->state == SIM_UP && p->tx_epoch != 0 &&
				   p->up_ns > first_loss && first_loss != 0 && p->up_ns > last_up) {
				last_up = p->up_ns;
			}
		}
	}
	unsigned int up = count_state(s, SIM_UP, true);
	double back_ms =
	    first_loss != 0 && last_up > first_loss ? (double)(last_up - first_loss) / 1e6 : 0;
	printf("hold: %.1f s, %u sessions ended or dials failed%s, %u of %u up with keys at the "
	       "end; the last came "
	       "back %.1f ms after the first loss\n",
	       ms_since(t0) / 1000, lost, s->redial ? " (each dialled again)" : "", up, s->n_active,
	       back_ms);
	result_add(s, "hold_lost", "%u", lost);
	result_add(s, "hold_up", "%u", up);
	result_add(s, "hold_back_ms", "%.1f", back_ms);
}

/* `peer del` each peer this run added: the daemon forgets it and its pods. */
static void
phase_unregister(struct sim *s)
{
	unsigned int done = 0;
	char line[128], err[512];

	for (unsigned int i = 0; i < s->n_active; i++) {
		sim_peer_close(&s->peers[i]);
		snprintf(line, sizeof(line), "peer del name=%s", s->peers[i].name);
		json_t *j = sim_ctl(s->ctl, line, err, sizeof(err));
		if (j == NULL) {
			printf("unregister: %s: %s\n", s->peers[i].name, err);
			continue;
		}
		json_decref(j);
		done++;
	}
	printf("unregister: %u of %u peers deleted\n", done, s->n_active);
}

/* ---- set-up --------------------------------------------------------------------- */

static int
peers_create(struct sim *s)
{
	s->peers = calloc(s->n_peers, sizeof(*s->peers));
	s->pfd = calloc(s->n_peers, sizeof(*s->pfd));
	if (s->peers == NULL || s->pfd == NULL)
		BAD("out of memory for %u peers", s->n_peers);
	for (unsigned int i = 0; i < s->n_peers; i++) {
		struct sim_peer *p = &s->peers[i];
		struct nm_tls_identity id = {0};
		char err[512];

		p->idx = i + 1;
		p->fd = -1;
		snprintf(p->name, sizeof(p->name), "%s-%03u", s->prefix, i + 1);
		if (strcmp(p->name, s->target.name) >= 0)
			BAD("peer name %s does not sort before the daemon's name %s: the daemon "
			    "would dial it, and the simulator only dials",
			    p->name, s->target.name);
		p->mgmt_ip = htonl(ntohl(s->mgmt_base) + i);
		p->fabric_ip = htonl(ntohl(s->fabric_base) + i);
		p->pod_cidr.net = htonl(ntohl(s->pod_base) + (i << (32 - s->pod_prefix)));
		p->pod_cidr.prefix_len = (uint8_t)s->pod_prefix;
		snprintf(id.node, sizeof(id.node), "%s", p->name);
		snprintf(id.trust_domain, sizeof(id.trust_domain), "%s", s->td);
		snprintf(id.cert_file, sizeof(id.cert_file), "%s/%s.pem", s->certs, p->name);
		snprintf(id.key_file, sizeof(id.key_file), "%s/%s.key", s->certs, p->name);
		snprintf(id.ca_file, sizeof(id.ca_file), "%s/ca.pem", s->certs);
		snprintf(id.crl_file, sizeof(id.crl_file), "%s/crl.pem", s->certs);
		p->ctx = nm_tls_ctx_new(&id, err, sizeof(err));
		if (p->ctx == NULL)
			BAD("%s: %s (make certificates with scripts/mkcerts %s %s %s-001 ...)",
			    p->name, err, s->certs, s->td, s->prefix);
	}
	return 0;
}

static void
peers_destroy(struct sim *s)
{
	for (unsigned int i = 0; s->peers != NULL && i < s->n_peers; i++) {
		struct sim_peer *p = &s->peers[i];
		sim_peer_close(p);
		nm_tnl_key_free(p->seal);
		nm_tls_ctx_free(p->ctx);
	}
	free(s->peers);
	free(s->pfd);
}

int
main(int argc, char **argv)
{
	struct sim s = {
	    .n_peers = 15,
	    .pods = {.per_peer = 10, .ns = "sim"},
	    .register_peers = true,
	    .td = "nodemesh.test",
	    .prefix = "sim",
	    .peer_port = 7400,
	    .timeout_s = 60,
	    .target = {.cipher = NM_TNL_AES_128_GCM},
	    .fabric = {.fd = -1, .udp_port = 4790},
	    .send_count = 20,
	    .send_from = {1},
	    .n_send_from = 1,
	    .pod_prefix = 24,
	};
	const char *failed = NULL;
	char err[512];

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN); /* OpenSSL writes with write(2) (peer_tls.h) */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (sim_args_parse(&s, argc, argv) < 0)
		return 2;
	if (s.send && sim_fabric_open(&s.fabric, s.fabric_iface, err, sizeof(err)) < 0) {
		fprintf(stderr, "nm-peersim: %s\n", err);
		return 2;
	}
	if (peers_create(&s) < 0) {
		peers_destroy(&s);
		return 2;
	}
	s.result_len =
	    (size_t)snprintf(s.result, sizeof(s.result), "RESULT peers=%u pods_per_peer=%u",
			     s.n_peers, s.pods.per_peer);

	if (phase_register(&s) < 0)
		failed = "register";
	else if (phase_handshakes(&s) < 0)
		failed = "handshakes";
	else if (phase_announce(&s) < 0)
		failed = "announce";
	else if (s.send && phase_send(&s) < 0)
		failed = "send";
	else if (s.withdraw && phase_withdraw(&s) < 0)
		failed = "withdraw";
	else if (s.restart && phase_restart(&s) < 0)
		failed = "restart";
	if (failed == NULL && s.hold_s > 0)
		phase_hold(&s);
	if (stop && failed == NULL)
		failed = "interrupted";
	if (s.unregister && s.register_peers)
		phase_unregister(&s);
	result_add(&s, "failed_phase", "%s", failed != NULL ? failed : "none");
	printf("%s\n", s.result);
	peers_destroy(&s);
	sim_fabric_close(&s.fabric);
	return failed != NULL ? 1 : 0;
}
