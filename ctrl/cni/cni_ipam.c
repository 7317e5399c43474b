/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPAM delegation: search CNI_PATH, fork and exec the plugin, feed it the
 * configuration, collect its stdout (see cni_ipam.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni_ipam.h"

#define MAX_OUTPUT (1u << 20) /* bytes of plugin stdout we read */

int
nm_cni_ipam_find(const char *type, const char *cni_path, char *out, size_t outlen,
		 struct nm_cni_err *err)
{
	const char *dir = cni_path;

	while (*dir != '\0') {
		size_t n = strcspn(dir, ":");
		struct stat st;
		int w = snprintf(out, outlen, "%.*s/%s", (int)n, dir, type);

		if (n > 0 && w > 0 && (size_t)w < outlen && stat(out, &st) == 0 &&
		    S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		dir += n;
		if (*dir == ':')
			dir++;
	}
	nm_cni_err_set(err, NM_CNI_ERR_CONFIG, "IPAM plugin not found",
		       "no executable \"%.64s\" (ipam.type) in CNI_PATH %.600s", type, cni_path);
	return -ENOENT;
}

/* Child side: stdin from in_fd, stdout to out_fd, stderr stays ours. */
static void
exec_child(const char *bin, const char *command, int in_fd, int out_fd)
{
	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	setenv("CNI_COMMAND", command, 1);
	execl(bin, bin, (char *)NULL);
	fprintf(stderr, "nodemesh-cni: execl(%s) failed: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Write all of buf to fd (the plugin reads its whole stdin before it answers). */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read fd to EOF into a NUL-terminated buffer (malloc'ed), or NULL. */
static char *
read_all(int fd, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap);

	*len = 0;
	while (buf != NULL) {
		if (*len + 1 == cap) {
			char *nb = cap >= MAX_OUTPUT ? NULL : realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			buf[*len] = '\0';
			return buf;
		}
		*len += (size_t)n;
	}
	free(buf);
	return NULL;
}

/* The plugin failed: pass its error object on, or say how it died. */
static int
plugin_failed(const char *bin, int status, const char *out, struct nm_cni_err *err)
{
	json_t *e = json_loads(out, 0, NULL);
	const json_t *code = json_object_get(e, "code");
	const char *msg = json_string_value(json_object_get(e, "msg"));
	const char *details = json_string_value(json_object_get(e, "details"));
	int rc;

	if (json_is_integer(code) && msg != NULL) {
		rc = nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "IPAM plugin failed", "%s: %s%s%s",
				    bin, msg, details && *details ? ": " : "",
				    details ? details : "");
		/* Its own code: "try again later" from IPAM must reach the runtime. */
		if (json_integer_value(code) > 0 && json_integer_value(code) < 1000)
			err->code = (unsigned int)json_integer_value(code);
	} else if (WIFSIGNALED(status)) {
		rc = nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "IPAM plugin failed",
				    "%s killed by signal %d", bin, WTERMSIG(status));
	} else {
		rc = nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "IPAM plugin failed",
				    "%s exited with status %d and no error object: %.200s", bin,
				    WEXITSTATUS(status), out);
	}
	json_decref(e);
	return rc;
}

/* Wait for the child, then judge its status and output. */
static int
collect(const char *bin, pid_t pid, const char *out, size_t out_len, json_t **result,
	struct nm_cni_err *err)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "IPAM plugin failed",
					      "waitpid(%s) failed: %s", bin, strerror(errno));
	}
	if (out == NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_IO, "IPAM plugin failed",
				      "reading the stdout of %s failed", bin);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return plugin_failed(bin, status, out, err);
	if (result == NULL)
		return 0;
	json_error_t jerr;
	*result = json_loadb(out, out_len, 0, &jerr);
	if (*result == NULL)
		return nm_cni_err_set(err, NM_CNI_ERR_DECODE, "failed to decode IPAM result",
				      "%s printed no JSON result: %s", bin, jerr.text);
	return 0;
}

int
nm_cni_ipam_exec(const char *bin, const char *command, const char *conf, size_t conf_len,
		 json_t **result, struct nm_cni_err *err)
{
	int in[2], out[2];
	bool want = strcmp(command, "ADD") == 0;
	pid_t pid;

	if (result != NULL)
		*result = NULL;
	if (pipe2(in, O_CLOEXEC) < 0)
		return nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "IPAM plugin failed",
				      "pipe2() failed: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "IPAM plugin failed",
				      "pipe2() failed: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0)
		exec_child(bin, command, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return nm_cni_err_set(err, NM_CNI_ERR_INTERNAL, "IPAM plugin failed",
				      "fork() for %s failed: %s", bin, strerror(errno));
	}

	/* A plugin that exits without reading stdin must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	int wrc = write_all(in[1], conf, conf_len);
	close(in[1]);
	size_t out_len;
	char *output = read_all(out[0], &out_len);
	close(out[0]);
	int rc = collect(bin, pid, output, out_len, want ? result : NULL, err);
	if (rc == 0 && wrc < 0) {
		if (result != NULL) {
			json_decref(*result);
			*result = NULL;
		}
		rc = nm_cni_err_set(err, NM_CNI_ERR_IO, "IPAM plugin failed",
				    "writing the config to %s failed: %s", bin, strerror(-wrc));
	}
	free(output);
	return rc;
}
