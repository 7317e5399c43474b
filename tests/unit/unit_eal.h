/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * In-process DPDK for unit tests that need DPDK memory (hashes, pools, flow
 * tables): no hugepages, no PCI, no shared config, one lcore. Criterion
 * forks one process per test and runs the suite's .init in each, so every
 * test gets a fresh EAL.
 */
#ifndef NM_TEST_UNIT_EAL_H
#define NM_TEST_UNIT_EAL_H

#include <criterion/criterion.h>
#include <rte_eal.h>

static inline void
nm_test_eal_up(void)
{
	char *argv[] = {"nodemesh-unit", "--no-huge",		"-m", "64", "--no-pci",
			"--no-shconf",	 "--log-level=*:error", "-l", "0",  NULL};

	cr_assert_geq(rte_eal_init(9, argv), 0, "rte_eal_init failed");
}

#endif
