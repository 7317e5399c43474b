/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for nodemesh-cni's network configuration parser (and,
 * on the same bytes, its CNI_ARGS parser): whatever a runtime or a
 * configuration file hands the plugin must give either a configuration
 * whose fields hold what nm_cni_conf_parse promises, or an error with one
 * of the spec's codes and a message, never a crash or a leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni_conf.h"
#include "fuzz_check.h"

#define CHECK(cond) NM_FUZZ_CHECK("fuzz_cni_conf", cond)

static int
code_known(unsigned int code)
{
	return code == NM_CNI_ERR_VERSION || code == NM_CNI_ERR_UNSUPPORTED_FIELD ||
	       code == NM_CNI_ERR_DECODE || code == NM_CNI_ERR_CONFIG || code == NM_CNI_ERR_ENV;
}

static void
check_conf(const uint8_t *data, size_t size)
{
	struct nm_cni_conf conf;
	struct nm_cni_err err = {0};

	if (nm_cni_conf_parse((const char *)data, size, &conf, &err) < 0) {
		CHECK(code_known(err.code) && err.code != NM_CNI_ERR_ENV);
		CHECK(err.msg[0] != '\0' && err.details[0] != '\0');
		CHECK(conf.root == NULL);
		return;
	}
	CHECK(strcmp(conf.cni_version, "1.0.0") == 0 || strcmp(conf.cni_version, "0.4.0") == 0);
	CHECK(conf.socket[0] == '/' && strlen(conf.socket) < sizeof(conf.socket));
	CHECK(conf.mtu == 0 || (conf.mtu >= 68 && conf.mtu <= 65535));
	CHECK(conf.ipam_type[0] != '\0' && conf.ipam_type[0] != '.' &&
	      strchr(conf.ipam_type, '/') == NULL);
	CHECK(conf.prev_result == NULL || json_is_object(conf.prev_result));
	nm_cni_conf_free(&conf);
}

static void
check_args(const uint8_t *data, size_t size)
{
	struct nm_cni_args args;
	struct nm_cni_err err = {0};
	char *s = malloc(size + 1);

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (nm_cni_args_parse(s, &args, &err) < 0) {
		CHECK(err.code == NM_CNI_ERR_ENV && err.details[0] != '\0');
	} else {
		CHECK(strlen(args.pod_name) < sizeof(args.pod_name));
		CHECK(args.pod_ns[0] != '\0' && strlen(args.pod_ns) < sizeof(args.pod_ns));
		CHECK(strpbrk(args.pod_name, " ;=") == NULL && strpbrk(args.pod_ns, " ;=") == NULL);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_conf(data, size);
	check_args(data, size);
	return 0;
}
