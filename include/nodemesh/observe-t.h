/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live observation events from the workers to the control thread
 * (`nodemeshctl observe`): every drop, and every flow that begins. A
 * worker writes them only while someone observes (nm_dataplane.observing),
 * into its own event ring; a full ring loses the event (counted), never
 * waits. The control thread adds identities and fans them out.
 */
#ifndef NM_OBSERVE_T_H
#define NM_OBSERVE_T_H

#include <stdint.h>

#define NM_EVENT_RING_SIZE 4096 /* events per worker ring */

enum nm_event_type {
	NM_EV_DROP = 1,	 /* a packet dropped: reason */
	NM_EV_FLOW_START /* a flow judged for the first time: verdict, rule */
};

struct nm_event {
	uint64_t tsc;
	uint8_t type;	 /* enum nm_event_type */
	uint8_t reason;	 /* drop: enum nm_drop_reason */
	uint8_t proto;	 /* IPPROTO_*, 0 if the packet had no IP header */
	uint8_t verdict; /* flow start: NM_VERDICT_* */
	uint16_t sport;	 /* host order; ICMP: 0 */
	uint16_t dport;
	uint32_t rule_id; /* flow start: 0 = the default action */
	uint8_t is_v4;	  /* addresses are IPv4-mapped IPv6 when 1 */
	uint8_t pad[3];
	uint8_t src[16];
	uint8_t dst[16];
};

#endif
