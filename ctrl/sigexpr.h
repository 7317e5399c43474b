/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rule's patterns as Hyperscan expressions (ctrl/sigexpr.c), before
 * ctrl/sigdb.c gives them ids and combines them. Control thread only.
 */
#ifndef NM_SIGEXPR_H
#define NM_SIGEXPR_H

#include <stdbool.h>
#include <stddef.h>

#include <hs/hs.h>

#include "sig.h"

/* A rule's expressions: at most one per pattern, plus dsize. */
#define NM_SIG_MAX_EXPRS (NM_SIG_MAX_PATTERNS + 1)

struct nm_sig_expr {
	char *re;	    /* malloc'd */
	unsigned int flags; /* HS_FLAG_CASELESS, _DOTALL, _MULTILINE; sigdb adds the rest */
	hs_expr_ext_t ext;  /* ext.flags == 0: none */
	bool negated;	    /* must not match anywhere in the data */
	bool at_end;	    /* decided at the end of the data (\z): never on a TCP stream */
};

/*
 * Build rule r's expressions into out[0..*n). Relative contents
 * (distance/within) join the content before them into one expression,
 * relative isdataat ends it; each other content, pcre, absolute isdataat
 * and dsize is its own. Returns 0, or -EINVAL/-ENOMEM with err saying
 * "sid N line L: why"; out then holds nothing to free.
 */
int nm_sig_exprs_build(const struct nm_sig_rule *r, struct nm_sig_expr *out, unsigned int *n,
		       char *err, size_t errlen);
void nm_sig_exprs_free(struct nm_sig_expr *e, unsigned int n);

#endif
