/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule variables ($HOME_NET, $HTTP_PORTS, ...): the table a rule's header
 * reads its groups from (ctrl/sigaddr.c). Defaults are Suricata's, from
 * the vars section of suricata.yaml (7.0); the signatures.vars setting
 * replaces or adds entries by name. Values are kept as written and parsed
 * where a rule uses them, as an address or a port group by position.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sigrule_priv.h"

static const char *const defaults[][2] = {
    /* address-groups */
    {"HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"},
    {"EXTERNAL_NET", "!$HOME_NET"},
    {"HTTP_SERVERS", "$HOME_NET"},
    {"SMTP_SERVERS", "$HOME_NET"},
    {"SQL_SERVERS", "$HOME_NET"},
    {"DNS_SERVERS", "$HOME_NET"},
    {"TELNET_SERVERS", "$HOME_NET"},
    {"AIM_SERVERS", "$EXTERNAL_NET"},
    {"DC_SERVERS", "$HOME_NET"},
    {"DNP3_SERVER", "$HOME_NET"},
    {"DNP3_CLIENT", "$HOME_NET"},
    {"MODBUS_CLIENT", "$HOME_NET"},
    {"MODBUS_SERVER", "$HOME_NET"},
    {"ENIP_CLIENT", "$HOME_NET"},
    {"ENIP_SERVER", "$HOME_NET"},
    /* port-groups */
    {"HTTP_PORTS", "80"},
    {"SHELLCODE_PORTS", "!80"},
    {"ORACLE_PORTS", "1521"},
    {"SSH_PORTS", "22"},
    {"DNP3_PORTS", "20000"},
    {"MODBUS_PORTS", "502"},
    {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},
    {"FTP_PORTS", "21"},
    {"GENEVE_PORTS", "6081"},
    {"VXLAN_PORTS", "4789"},
    {"TEREDO_PORTS", "3544"},
};

void
nm_sig_vars_defaults(struct nm_sig_vars *v)
{
	memset(v, 0, sizeof(*v));
	for (unsigned int i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		snprintf(v->v[i].name, sizeof(v->v[i].name), "%s", defaults[i][0]);
		snprintf(v->v[i].value, sizeof(v->v[i].value), "%s", defaults[i][1]);
	}
	v->n = sizeof(defaults) / sizeof(defaults[0]);
}

const char *
nm_sig_vars_get(const struct nm_sig_vars *v, const char *name)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (strcmp(v->v[i].name, name) == 0)
			return v->v[i].value;
	return NULL;
}

int
nm_sig_vars_set(struct nm_sig_vars *v, const char *name, const char *value, char *err,
		size_t errlen)
{
	size_t nlen = strlen(name);
	unsigned int i;

	if (nlen == 0 || nlen >= NM_SIG_VAR_NAME ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
		nlen) {
		snprintf(err, errlen,
			 "variable name '%.64s': must be 1..%d characters of [A-Za-z0-9_]", name,
			 NM_SIG_VAR_NAME - 1);
		return -EINVAL;
	}
	if (strlen(value) >= NM_SIG_VAR_VALUE || value[0] == '\0') {
		snprintf(err, errlen, "variable %s: value must be 1..%d characters", name,
			 NM_SIG_VAR_VALUE - 1);
		return -EINVAL;
	}
	for (i = 0; i < v->n && strcmp(v->v[i].name, name) != 0; i++)
		;
	if (i == NM_SIG_MAX_VARS) {
		snprintf(err, errlen, "variable %s: more than %d variables", name, NM_SIG_MAX_VARS);
		return -E2BIG;
	}
	/* Zeroed first: config reload compares the table's bytes. */
	memset(&v->v[i], 0, sizeof(v->v[i]));
	memcpy(v->v[i].name, name, nlen);
	memcpy(v->v[i].value, value, strlen(value));
	if (i == v->n)
		v->n++;
	return 0;
}

int
nm_sig_vars_check(const struct nm_sig_vars *v, char *err, size_t errlen)
{
	char why_addr[256], why_port[256];

	for (unsigned int i = 0; i < v->n; i++) {
		struct sig_ctx ca = {why_addr, sizeof(why_addr), 0, v, NM_SIG_BUF_STREAM, false};
		struct sig_ctx cp = {why_port, sizeof(why_port), 0, v, NM_SIG_BUF_STREAM, false};
		struct nm_sig_addrs a;
		struct nm_sig_ports p;
		char word[NM_SIG_VAR_NAME + 1];

		snprintf(word, sizeof(word), "$%s", v->v[i].name);
		if (sig_parse_addrs(word, "address group", &a, &ca) == 0 ||
		    sig_parse_ports(word, "port group", &p, &cp) == 0)
			continue;
		snprintf(err, errlen,
			 "variable %s = \"%s\" is neither an address nor a port group: %s; %s",
			 v->v[i].name, v->v[i].value, why_addr, why_port);
		return -EINVAL;
	}
	return 0;
}
