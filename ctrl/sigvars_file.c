/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule variables from a file (nm-sigcheck --vars, nm-replay --vars): the
 * libconfig syntax of the daemon's signatures.vars, at the top level or in
 * a signatures.vars group, so a node's own config file serves too.
 */
#include <libconfig.h>
#include <stdio.h>

#include "sig.h"

int
nm_sig_vars_load(const char *path, struct nm_sig_vars *vars, char *err, size_t errlen)
{
	config_t lc;
	const config_setting_t *grp;
	char why[512];
	int rc = -1;

	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc),
			 config_error_text(&lc));
		goto out;
	}
	grp = config_lookup(&lc, "signatures.vars");
	if (grp == NULL)
		grp = config_root_setting(&lc);
	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *v = config_setting_get_elem(grp, (unsigned int)i);
		const char *value = config_setting_get_string(v);

		if (value == NULL) {
			if (config_setting_is_group(v))
				continue; /* another section of a daemon config */
			snprintf(err, errlen, "%s:%d: %s must be a string", path,
				 config_setting_source_line(v), config_setting_name(v));
			goto out;
		}
		if (nm_sig_vars_set(vars, config_setting_name(v), value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, config_setting_source_line(v),
				 why);
			goto out;
		}
	}
	if (nm_sig_vars_check(vars, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	rc = 0;
out:
	config_destroy(&lc);
	return rc;
}
