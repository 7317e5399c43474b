/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the config loader: the input, NUL-terminated, is a
 * config text. It must load to values inside their documented ranges or
 * fail with a "fuzz.conf:LINE: reason" message. libconfig itself is not
 * instrumented; the coverage that guides the fuzzer is config.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_config: %s:%d: check failed: %s\n", __FILE__,        \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5's scanner leaks the string token it was building when the
 * parser gives up on a syntax error (allocated in strbuf_append, or in
 * libconfig_yylex for an empty string). That is libconfig's, a few bytes
 * once per failed start of the daemon. Settings come from the parser, not
 * the scanner, so a config_destroy() missing in config.c is still reported.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nm_config cfg; /* 40 KiB */
	char err[512];

	/*
	 * @include would read whatever file the fuzzer names (/dev/zero, a
	 * FIFO); the loader is meant for a trusted file, so skip those inputs.
	 */
	if (size > 64 * 1024 || memmem(data, size, "@include", 8) != NULL)
		return 0;

	char *text = malloc(size + 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	err[0] = '\0';
	int rc = nm_config_load_string(text, "fuzz.conf", &cfg, err, sizeof(err));
	free(text);

	if (rc != 0) {
		CHECK(rc == -EINVAL);
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		return 0;
	}

	CHECK(TERMINATED(cfg.node_name) && cfg.node_name[0] != '\0');
	CHECK(TERMINATED(cfg.lcores) && TERMINATED(cfg.file_prefix));
	CHECK(TERMINATED(cfg.socket_path) && TERMINATED(cfg.admin_group));
	CHECK(cfg.n_eal_args <= NM_CFG_MAX_EAL_ARGS);
	for (unsigned int i = 0; i < cfg.n_eal_args; i++)
		CHECK(TERMINATED(cfg.eal_args[i]));
	CHECK(cfg.mbufs >= 2048 && cfg.mbufs <= 1u << 22);
	CHECK(cfg.pod_mtu >= 576 && cfg.pod_mtu <= 9000);
	CHECK(cfg.idle_sleep_us <= 100000);
	CHECK(cfg.idle_sleep_after == 0 || cfg.idle_sleep_after >= cfg.idle_pause_after);
	CHECK(cfg.frag_max_flows >= 16 && cfg.frag_max_flows <= 1u << 20);
	CHECK(cfg.frag_timeout_ms >= 10 && cfg.frag_timeout_ms <= 60000);
	CHECK(cfg.n_pods <= NM_CFG_MAX_STATIC_PODS);
	for (unsigned int i = 0; i < cfg.n_pods; i++) {
		const struct nm_pod_spec *p = &cfg.pods[i];

		CHECK(TERMINATED(p->name) && p->name[0] != '\0');
		CHECK(TERMINATED(p->iface) && TERMINATED(p->memif_socket));
		CHECK(TERMINATED(p->labels) && TERMINATED(p->image));
		CHECK(p->ip != 0 && p->driver <= NM_DRV_MEMIF);
		/* a memif pod has a socket and no interface, the others the reverse */
		if (p->driver == NM_DRV_MEMIF)
			CHECK(p->memif_socket[0] == '/' && p->iface[0] == '\0');
		else
			CHECK(p->iface[0] != '\0' && p->memif_socket[0] == '\0');
		/* pods are unique by namespace and name (two namespaces' web-0 may both be) */
		for (unsigned int j = 0; j < i; j++)
			CHECK((strcmp(p->name, cfg.pods[j].name) != 0 ||
			       strcmp(p->ns, cfg.pods[j].ns) != 0) &&
			      p->ip != cfg.pods[j].ip);
	}
	return 0;
}
