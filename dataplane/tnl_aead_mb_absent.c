/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built instead of tnl_aead_mb.c when meson found no intel-ipsec-mb
 * (libipsec-mb-dev): the engine is absent and every key uses OpenSSL EVP.
 */
#include <stdio.h>

#include "tnl_priv.h"

const struct nm_tnl_aead_ops *
nm_tnl_aead_mb_probe(void)
{
	return NULL;
}

void
nm_tnl_aead_mb_describe(char *buf, size_t len)
{
	snprintf(buf, len, "intel-ipsec-mb not built in");
}
