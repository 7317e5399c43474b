/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control request parser. A request is one line: command words, then
 * key=value arguments ("pod add name=web ip=198.18.0.2"). Words and
 * arguments may not interleave, keys are [a-z0-9_-], values are any
 * non-blank printable ASCII. The parser copies into the request, so the
 * caller's buffer may go away.
 */
#ifndef NM_REQUEST_H
#define NM_REQUEST_H

#include <stddef.h>

#define NM_REQ_MAX_LINE	 4096 /* bytes, newline excluded */
#define NM_REQ_MAX_WORDS 8
#define NM_REQ_MAX_ARGS	 24
#define NM_REQ_MAX_TOKEN 256 /* bytes of one word, key or value, NUL excluded */

struct nm_req_arg {
	char key[NM_REQ_MAX_TOKEN + 1];
	char val[NM_REQ_MAX_TOKEN + 1];
};

struct nm_req {
	unsigned int nwords;
	unsigned int nargs;
	/*
	 * Free text after the command words, for commands whose argument is a
	 * sentence of its own ("policy add allow from app=web to ..." has '='
	 * in its words). Only the commands in request.c's free-text list get it.
	 */
	char rest[NM_REQ_MAX_LINE + 1];
	char words[NM_REQ_MAX_WORDS][NM_REQ_MAX_TOKEN + 1];
	struct nm_req_arg args[NM_REQ_MAX_ARGS];
};

/*
 * Parse line[0..len) (no newline; a trailing CR is ignored). Returns 0, or
 * -EINVAL with err naming what was wrong and where (column, 1-based).
 */
int nm_req_parse(const char *line, size_t len, struct nm_req *req, char *err, size_t errlen);

/* Value of argument key, or NULL. */
const char *nm_req_arg(const struct nm_req *req, const char *key);

/*
 * Every argument must be one of the NULL-terminated allowed keys, none may
 * repeat. Returns 0 or -EINVAL with err naming the bad key.
 */
int nm_req_check_keys(const struct nm_req *req, const char *const *allowed, char *err,
		      size_t errlen);

#endif
