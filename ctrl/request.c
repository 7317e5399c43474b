/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control request tokenizer. Requests come from a local socket, but the
 * socket is a trust boundary all the same: every token is length-checked,
 * only printable ASCII is accepted, and errors name the column.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "request.h"

static int
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Commands whose words after the command are one free-text argument. */
static bool
takes_free_text(const struct nm_req *req)
{
	return req->nwords == 2 && strcmp(req->words[0], "policy") == 0 &&
	       strcmp(req->words[1], "add") == 0;
}

int
nm_req_parse(const char *line, size_t len, struct nm_req *req, char *err, size_t errlen)
{
	memset(req, 0, offsetof(struct nm_req, rest));
	req->rest[0] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > NM_REQ_MAX_LINE) {
		snprintf(err, errlen, "request longer than %d bytes", NM_REQ_MAX_LINE);
		return -EINVAL;
	}

	size_t i = 0;
	while (i < len) {
		if (is_blank(line[i])) {
			i++;
			continue;
		}
		size_t start = i;
		size_t eq = 0;	/* index of the first '=', valid if has_eq */
		int has_eq = 0; /* eq == 0 alone cannot tell "=v" at column 1 from no '=' */
		for (; i < len && !is_blank(line[i]); i++) {
			unsigned char c = (unsigned char)line[i];
			if (c < 0x21 || c > 0x7e) {
				snprintf(err, errlen,
					 "column %zu: byte 0x%02x is not printable ASCII", i + 1,
					 c);
				return -EINVAL;
			}
			if (c == '=' && !has_eq) {
				eq = i;
				has_eq = 1;
			}
		}
		size_t tlen = i - start;

		if (!has_eq) {
			if (req->nargs > 0) {
				snprintf(err, errlen, "column %zu: word after key=value arguments",
					 start + 1);
				return -EINVAL;
			}
			if (req->nwords == NM_REQ_MAX_WORDS) {
				snprintf(err, errlen, "more than %d command words",
					 NM_REQ_MAX_WORDS);
				return -EINVAL;
			}
			if (tlen > NM_REQ_MAX_TOKEN) {
				snprintf(err, errlen, "column %zu: word longer than %d bytes",
					 start + 1, NM_REQ_MAX_TOKEN);
				return -EINVAL;
			}
			memcpy(req->words[req->nwords], line + start, tlen);
			req->words[req->nwords][tlen] = '\0';
			req->nwords++;
			if (takes_free_text(req)) {
				while (i < len && is_blank(line[i]))
					i++;
				for (size_t k = i; k < len; k++) {
					unsigned char c = (unsigned char)line[k];
					if ((c < 0x20 || c > 0x7e) && c != '\t') {
						snprintf(err, errlen,
							 "column %zu: byte 0x%02x is not printable "
							 "ASCII",
							 k + 1, c);
						return -EINVAL;
					}
				}
				memcpy(req->rest, line + i, len - i);
				req->rest[len - i] = '\0';
				return 0;
			}
			continue;
		}

		size_t klen = eq - start;
		size_t vlen = i - eq - 1;
		if (klen == 0) {
			snprintf(err, errlen, "column %zu: empty key before '='", start + 1);
			return -EINVAL;
		}
		if (req->nargs == NM_REQ_MAX_ARGS) {
			snprintf(err, errlen, "more than %d arguments", NM_REQ_MAX_ARGS);
			return -EINVAL;
		}
		if (klen > NM_REQ_MAX_TOKEN || vlen > NM_REQ_MAX_TOKEN) {
			snprintf(err, errlen, "column %zu: key or value longer than %d bytes",
				 start + 1, NM_REQ_MAX_TOKEN);
			return -EINVAL;
		}
		for (size_t k = start; k < eq; k++) {
			if (!is_key_char(line[k])) {
				snprintf(err, errlen,
					 "column %zu: key may hold only a-z, 0-9, '_' and '-'",
					 k + 1);
				return -EINVAL;
			}
		}
		struct nm_req_arg *a = &req->args[req->nargs++];
		memcpy(a->key, line + start, klen);
		a->key[klen] = '\0';
		memcpy(a->val, line + eq + 1, vlen);
		a->val[vlen] = '\0';
	}

	if (req->nwords == 0) {
		snprintf(err, errlen, "empty request: expected a command, try 'help'");
		return -EINVAL;
	}
	return 0;
}

const char *
nm_req_arg(const struct nm_req *req, const char *key)
{
	for (unsigned int i = 0; i < req->nargs; i++)
		if (strcmp(req->args[i].key, key) == 0)
			return req->args[i].val;
	return NULL;
}

int
nm_req_check_keys(const struct nm_req *req, const char *const *allowed, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < req->nargs; i++) {
		const char *key = req->args[i].key;
		const char *const *a;

		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL) {
			snprintf(err, errlen, "unknown argument '%s'", key);
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(req->args[j].key, key) == 0) {
				snprintf(err, errlen, "argument '%s' given twice", key);
				return -EINVAL;
			}
		}
	}
	return 0;
}
