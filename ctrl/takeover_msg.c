/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The takeover conversation's frames: header codec and the sendmsg/recvmsg
 * that carry a frame and its file descriptors (format in takeover_msg.h).
 * The two daemons speak it on a blocking control socket connection, one
 * frame at a time, so a simple deadline per frame is all the flow control
 * it needs.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "takeover_msg.h"
#include "takeover_wire.h"

#define MAGIC	    "NMTO"
#define REFUSAL_MAX 512 /* a control server's one-line JSON refusal, read whole */

static const char *const type_names[] = {
    [NM_TAKEOVER_STATE] = "STATE",     [NM_TAKEOVER_REFUSE] = "REFUSE",
    [NM_TAKEOVER_STARTED] = "STARTED", [NM_TAKEOVER_ABORT] = "ABORT",
    [NM_TAKEOVER_RINGS] = "RINGS",     [NM_TAKEOVER_PODIDS] = "PODIDS",
    [NM_TAKEOVER_FLOWS] = "FLOWS",     [NM_TAKEOVER_TUNNEL] = "TUNNEL",
    [NM_TAKEOVER_STREAMS] = "STREAMS",
};

const char *
nm_takeover_type_name(uint8_t type)
{
	if (type >= sizeof(type_names) / sizeof(type_names[0]) || type_names[type] == NULL)
		return "unknown";
	return type_names[type];
}

void
nm_takeover_hdr_encode(const struct nm_takeover_hdr *h, uint8_t out[NM_TAKEOVER_HDR_LEN])
{
	static const uint8_t magic[4] = {'N', 'M', 'T', 'O'}; /* MAGIC, without its NUL */

	memcpy(out, magic, sizeof(magic));
	out[4] = h->version;
	out[5] = h->type;
	out[6] = (uint8_t)(h->n_fds >> 8);
	out[7] = (uint8_t)h->n_fds;
	out[8] = (uint8_t)(h->len >> 24);
	out[9] = (uint8_t)(h->len >> 16);
	out[10] = (uint8_t)(h->len >> 8);
	out[11] = (uint8_t)h->len;
}

int
nm_takeover_hdr_decode(const uint8_t in[NM_TAKEOVER_HDR_LEN], struct nm_takeover_hdr *h, char *err,
		       size_t errlen)
{
	if (memcmp(in, MAGIC, 4) != 0) {
		snprintf(err, errlen, "not a takeover frame (no \"" MAGIC "\" magic)");
		return -EPROTO;
	}
	h->version = in[4];
	h->type = in[5];
	h->n_fds = (uint16_t)(in[6] << 8 | in[7]);
	h->len = (uint32_t)in[8] << 24 | (uint32_t)in[9] << 16 | (uint32_t)in[10] << 8 | in[11];
	if (h->version < NM_TAKEOVER_VERSION_MIN || h->version > NM_TAKEOVER_VERSION) {
		snprintf(err, errlen,
			 "takeover protocol version %u, this nodemeshd speaks %d (and reads %d)",
			 h->version, NM_TAKEOVER_VERSION, NM_TAKEOVER_VERSION_MIN);
		return -EPROTO;
	}
	if (strcmp(nm_takeover_type_name(h->type), "unknown") == 0) {
		snprintf(err, errlen, "unknown takeover frame type %u", h->type);
		return -EPROTO;
	}
	if (h->n_fds > NM_TAKEOVER_MAX_FDS || h->len > NM_TAKEOVER_MAX_LEN) {
		snprintf(err, errlen, "%s frame of %u fds and %u bytes: at most %d and %u",
			 nm_takeover_type_name(h->type), h->n_fds, h->len, NM_TAKEOVER_MAX_FDS,
			 NM_TAKEOVER_MAX_LEN);
		return -EPROTO;
	}
	return 0;
}

/* ---- sending -------------------------------------------------------------- */

static int
send_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
nm_takeover_send(int fd, uint8_t type, const void *payload, uint32_t len, const int *fds,
		 unsigned int n_fds)
{
	return nm_takeover_send_version(fd, NM_TAKEOVER_VERSION, type, payload, len, fds, n_fds);
}

int
nm_takeover_send_version(int fd, uint8_t version, uint8_t type, const void *payload, uint32_t len,
			 const int *fds, unsigned int n_fds)
{
	struct nm_takeover_hdr h = {
	    .version = version, .type = type, .n_fds = (uint16_t)n_fds, .len = len};
	uint8_t hdr[NM_TAKEOVER_HDR_LEN];
	union {
		char buf[CMSG_SPACE(sizeof(int) * NM_TAKEOVER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (n_fds > NM_TAKEOVER_MAX_FDS || len > NM_TAKEOVER_MAX_LEN)
		return -EMSGSIZE;
	nm_takeover_hdr_encode(&h, hdr);
	if (n_fds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	/* The fds ride on the first byte of the header: send it whole in one call. */
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	int rc = send_all(fd, hdr + n, sizeof(hdr) - (size_t)n);
	if (rc == 0 && len > 0)
		rc = send_all(fd, payload, len);
	return rc;
}

int
nm_takeover_send_body(int fd, uint8_t type, struct nm_twire_writer *w, size_t *bytes)
{
	if (w->err)
		return -ENOMEM;
	*bytes += w->len;
	int rc = nm_takeover_send(fd, type, w->buf, (uint32_t)w->len, NULL, 0);
	nm_twire_writer_reset(w);
	return rc;
}

/* ---- receiving ------------------------------------------------------------ */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait until fd is readable or the deadline passes. 0, -ETIMEDOUT or -errno. */
static int
wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rc = poll(&p, 1, (int)(deadline - now));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/* Keep the fds of every SCM_RIGHTS message in msg; close those past the room. */
static void
take_fds(struct msghdr *msg, int *fds, unsigned int *n_fds)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int got;
			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*n_fds < NM_TAKEOVER_MAX_FDS)
				fds[(*n_fds)++] = got;
			else
				close(got);
		}
	}
}

/* Read exactly len bytes (fds that come with them into fds) by the deadline. */
static int
recv_all(int fd, uint8_t *buf, size_t len, int *fds, unsigned int *n_fds, uint64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * NM_TAKEOVER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;

	while (len > 0) {
		int rc = wait_readable(fd, deadline);
		if (rc < 0)
			return rc;
		struct iovec iov = {.iov_base = buf, .iov_len = len};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		take_fds(&msg, fds, n_fds);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The control server refused the connection with a JSON line: read it for err. */
static void
read_refusal(int fd, const uint8_t *start, uint64_t deadline, char *err, size_t errlen)
{
	char line[REFUSAL_MAX];
	size_t len = NM_TAKEOVER_HDR_LEN;
	int spare[NM_TAKEOVER_MAX_FDS];
	unsigned int n_spare = 0;

	memcpy(line, start, len);
	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL &&
	       recv_all(fd, (uint8_t *)line + len, 1, spare, &n_spare, deadline) == 0)
		len++;
	for (unsigned int i = 0; i < n_spare; i++)
		close(spare[i]); /* a refusal carries none; a confused peer's are not kept */
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	snprintf(err, errlen, "the running daemon refused: %s", line);
}

static void
close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
}

int
nm_takeover_recv(int fd, int timeout_ms, struct nm_takeover_hdr *h, char **payload, int *fds,
		 char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	uint8_t hdr[NM_TAKEOVER_HDR_LEN];
	unsigned int n_fds = 0;
	int rc;

	*payload = NULL;
	rc = recv_all(fd, hdr, sizeof(hdr), fds, &n_fds, deadline);
	if (rc < 0) {
		snprintf(err, errlen, "%s",
			 rc == -ETIMEDOUT    ? "no answer within the timeout"
			 : rc == -ECONNRESET ? "the other daemon closed the connection"
					     : strerror(-rc));
		goto fail;
	}
	if (hdr[0] == '{') {
		read_refusal(fd, hdr, deadline, err, errlen);
		rc = -ECONNREFUSED;
		goto fail;
	}
	rc = nm_takeover_hdr_decode(hdr, h, err, errlen);
	if (rc == 0 && n_fds != h->n_fds) {
		snprintf(err, errlen, "%s frame announced %u fds, %u came with it",
			 nm_takeover_type_name(h->type), h->n_fds, n_fds);
		rc = -EPROTO;
	}
	if (rc < 0)
		goto fail;
	*payload = malloc((size_t)h->len + 1);
	if (*payload == NULL) {
		snprintf(err, errlen, "out of memory for a %u-byte %s frame", h->len,
			 nm_takeover_type_name(h->type));
		rc = -ENOMEM;
		goto fail;
	}
	rc = recv_all(fd, (uint8_t *)*payload, h->len, fds, &n_fds, deadline);
	if (rc < 0) {
		snprintf(err, errlen, "%s frame cut short after the header: %s",
			 nm_takeover_type_name(h->type), strerror(-rc));
		goto fail;
	}
	(*payload)[h->len] = '\0';
	return 0;
fail:
	/* A TUNNEL frame cut short may hold part of a key: wipe what came. */
	if (*payload != NULL)
		explicit_bzero(*payload, (size_t)h->len + 1);
	free(*payload);
	*payload = NULL;
	close_fds(fds, n_fds);
	return rc;
}
