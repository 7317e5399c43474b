/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pod ports. The default driver, af_packet, is nodemesh's own PF_PACKET
 * rings on the host end of the pod's veth (podio_setup.c): no DPDK ethdev,
 * so the number of pods is not bounded by RTE_MAX_ETHPORTS. af_xdp and
 * memif pods, and the fabric port, are hot-plugged DPDK virtual devices
 * (net_af_xdp, net_memif, net_af_packet), a pod's with one RX and one TX
 * queue because only the owner worker ever touches it, the fabric's with
 * a queue pair per worker (every worker seals and opens); a process has at
 * most RTE_MAX_ETHPORTS of them (32 in Debian's DPDK), the fabric
 * included. Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "podio_setup.h"
#include "port.h"
#include "nodemesh/dataplane-t.h"

const char *
nm_port_driver_name(uint8_t driver)
{
	switch (driver) {
	case NM_DRV_AF_XDP:
		return "af_xdp";
	case NM_DRV_MEMIF:
		return "memif";
	default:
		return "af_packet";
	}
}

static void
devname(char *buf, size_t len, uint8_t driver, uint32_t pod_id)
{
	snprintf(buf, len, "net_%s_nm%u", nm_port_driver_name(driver), pod_id);
}

int
nm_port_attach(const struct nm_pod_spec *spec, uint32_t pod_id, uint16_t nq,
	       struct rte_mempool *pool, uint16_t *port_id, struct rte_ether_addr *mac, char *err,
	       size_t errlen)
{
	struct rte_eth_conf conf;
	char name[64], args[256];
	uint16_t pid;
	int rc;

	devname(name, sizeof(name), spec->driver, pod_id);
	switch (spec->driver) {
	case NM_DRV_AF_XDP:
		snprintf(args, sizeof(args), "%s,iface=%s,start_queue=0,queue_count=1", name,
			 spec->iface);
		break;
	case NM_DRV_MEMIF:
		/* We are the server; the pod's DPDK process connects as client. */
		snprintf(args, sizeof(args), "%s,role=server,id=0,socket=%s,socket-abstract=no",
			 name, spec->memif_socket);
		break;
	default:
		/* Pod id 0 is the fabric: rings deeper than the PMD's 512 frames (dataplane-t.h).
		 */
		if (pod_id == 0)
			snprintf(args, sizeof(args), "%s,iface=%s,qpairs=%u,framecnt=%d", name,
				 spec->iface, nq, NM_FABRIC_RING_FRAMES);
		else
			snprintf(args, sizeof(args), "%s,iface=%s,qpairs=%u", name, spec->iface,
				 nq);
		break;
	}

	/* Probing past the limit fails with a generic error: name the limit instead. */
	if (rte_eth_dev_count_total() >= RTE_MAX_ETHPORTS) {
		snprintf(err, errlen,
			 "attaching %s refused: this DPDK build holds at most %d ethdevs "
			 "(RTE_MAX_ETHPORTS, the fabric port included) and all are in use; "
			 "af_xdp and memif pods take one each, af_packet pods none",
			 name, RTE_MAX_ETHPORTS);
		return -ENOSPC;
	}
	rc = rte_dev_probe(args);
	if (rc < 0) {
		snprintf(err, errlen, "attaching %s failed: %s (%s)", args, rte_strerror(-rc),
			 spec->driver == NM_DRV_MEMIF
			     ? "is the socket's directory there?"
			     : "does the interface exist in the daemon's network namespace?");
		return rc;
	}
	rc = rte_eth_dev_get_port_by_name(name, &pid);
	if (rc < 0) {
		snprintf(err, errlen, "no ethdev named %s after probe", name);
		return rc;
	}

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(pid, nq, nq, &conf);
	for (uint16_t q = 0; q < nq && rc == 0; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, NM_PORT_DESC, rte_eth_dev_socket_id(pid), NULL,
					    pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(pid, q, NM_PORT_DESC,
						    rte_eth_dev_socket_id(pid), NULL);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(pid);
	if (rc == 0)
		rc = rte_eth_macaddr_get(pid, mac);
	if (rc < 0) {
		snprintf(err, errlen, "setting up port %s (%s) failed: %s", name, spec->iface,
			 rte_strerror(-rc));
		nm_port_detach(pid);
		return rc;
	}
	/* The link is point-to-point to the pod: take every frame it sends. */
	rte_eth_promiscuous_enable(pid);
	*port_id = pid;
	return 0;
}

void
nm_port_detach(uint16_t port_id)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(port_id, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	if (dev != NULL && rte_dev_remove(dev) < 0)
		RTE_LOG(WARNING, USER1, "rte_dev_remove(port %u) failed\n", port_id);
}

int
nm_port_pod_attach(const struct nm_pod_spec *spec, struct rte_mempool *pool,
		   const struct nm_podio_params *io_params, struct nm_pod *pod, char *err,
		   size_t errlen)
{
	if (spec->driver != NM_DRV_AF_PACKET)
		return nm_port_attach(spec, pod->id, 1, pool, &pod->port_id, &pod->port_mac, err,
				      errlen);
	pod->io = nm_podio_open(spec->iface, io_params, &pod->port_mac, err, errlen);
	return pod->io != NULL ? 0 : -errno;
}

void
nm_port_pod_detach(struct nm_pod *pod)
{
	if (pod->io != NULL) {
		nm_podio_close(pod->io);
		pod->io = NULL;
		return;
	}
	nm_port_detach(pod->port_id);
}
