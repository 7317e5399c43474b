/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Drop reasons, declared once. The X-macro gives the enum and the strings
 * that `stats` prints, so a new reason cannot be counted without a name.
 */
#ifndef NM_DROP_T_H
#define NM_DROP_T_H

#define NM_DROP_REASONS(_)                                                                         \
	_(TRUNC_ETH, "truncated_eth", "frame shorter than an Ethernet header")                     \
	_(ETHERTYPE, "unsupported_ethertype", "neither ARP, IPv4 nor IPv6")                        \
	_(TRUNC_ARP, "truncated_arp", "ARP shorter than 28 bytes")                                 \
	_(BAD_ARP, "bad_arp", "ARP not Ethernet/IPv4 or unknown opcode")                           \
	_(TRUNC_IP4, "truncated_ipv4", "IPv4 header or total length past the frame end")           \
	_(BAD_IP4_HDR, "bad_ipv4_header", "IPv4 version, IHL or total length invalid")             \
	_(BAD_IP4_CSUM, "bad_ipv4_checksum", "IPv4 header checksum wrong")                         \
	_(TRUNC_IP6, "truncated_ipv6", "IPv6 header or payload length past the frame end")         \
	_(BAD_IP6_HDR, "bad_ipv6_header", "IPv6 version or extension header chain invalid")        \
	_(TRUNC_L4, "truncated_l4", "TCP/UDP/ICMP header past the IP payload end")                 \
	_(BAD_L4_HDR, "bad_l4_header", "TCP data offset or UDP length invalid")                    \
	_(IPV6_NOT_FORWARDED, "ipv6_not_forwarded", "IPv6 is parsed but not forwarded yet")        \
	_(NOT_CONTIGUOUS, "headers_not_contiguous", "headers span mbuf segments")                  \
	_(SPOOFED_SRC, "spoofed_source", "source address is not the pod's own")                    \
	_(NO_POD, "no_pod", "destination address is no pod (ICMP unreachable sent)")               \
	_(TO_GATEWAY, "to_gateway", "addressed to the gateway address itself")                     \
	_(TTL_EXCEEDED, "ttl_exceeded", "TTL reached zero (ICMP time exceeded sent)")              \
	_(FRAG_INVALID, "fragment_invalid", "overlapping, oversize or timed-out fragment set")     \
	_(FRAG_NEEDED, "fragmentation_needed", "DF set and larger than the port MTU")              \
	_(NO_MAC, "neighbour_unresolved", "destination pod MAC not learnt yet (ARP sent)")         \
	_(POD_GONE, "pod_gone", "destination pod removed while the packet was in flight")          \
	_(RING_FULL, "handoff_ring_full", "handoff ring to the owner worker full")                 \
	_(TX_FULL, "tx_full", "port TX queue full")                                                \
	_(POD_TX_RING_FULL, "pod_tx_ring_full",                                                    \
	  "af_packet pod: no free slot in the pod's TX ring (the kernel has not sent them yet)")   \
	_(POD_TX_TOO_BIG, "pod_tx_too_big", "af_packet pod: frame larger than a TX ring slot")     \
	_(POD_TX_KICK, "pod_tx_kick_failed",                                                       \
	  "af_packet pod: sendto() that starts the TX ring failed; the burst's frames count here") \
	_(POD_RX_NO_MBUF, "pod_rx_no_mbuf", "af_packet pod: mbuf pool empty when copying a frame") \
	_(POD_RX_TRUNCATED, "pod_rx_truncated",                                                    \
	  "af_packet pod: frame longer than what the RX ring captured of it")                      \
	_(NO_MBUF, "no_mbuf", "mbuf pool empty when building a reply or fragment")                 \
	_(VLAN_ON_POD, "vlan_on_pod_port", "802.1Q-tagged frame on a pod port")                    \
	_(HOST_FRAME, "host_frame",                                                                \
	  "sent by the host out of the pod port's own end (IPv6 RS, MLD, DAD), not by the pod")    \
	_(ARP_OWN_ADDRESS, "arp_own_address",                                                      \
	  "ARP request for the pod's own address (not answered)")                                  \
	_(ARP_UNEXPECTED, "arp_unexpected", "ARP reply not from the pod's own address")            \
	_(POLICY_DENIED, "policy_denied", "no rule allows the flow (or a deny rule matched)")      \
	_(RATE_LIMITED, "rate_limited", "over the flow's rate in the matching rule")               \
	_(FLOW_TABLE_FULL, "flow_table_full", "new flow refused: the worker's flow table is full") \
	_(SIG_DROP, "signature_drop",                                                              \
	  "a drop/reject signature matched the packet, or earlier in its flow")                    \
	_(HTTP_REFUSED, "http_refused",                                                            \
	  "an HTTP request stream with a smuggling shape or past a bound: the flow is reset")      \
	_(HTTP_POLICY_REFUSED, "http_policy_refused",                                              \
	  "a request an HTTP policy rule (or the default) refused, or later bytes of its "         \
	  "connection")                                                                            \
	_(HTTP_POLICY_NOT_HTTP, "http_policy_not_http",                                            \
	  "bytes that are not HTTP/1.x (or follow an Upgrade/CONNECT) on a connection whose "      \
	  "requests are judged: the connection is reset")                                          \
	_(HTTP_POLICY_NO_STATE, "http_policy_no_state",                                            \
	  "a connection whose requests are judged but whose start was not seen, or no parser "     \
	  "state free for it (fail closed)")                                                       \
	_(HTTP_POLICY_UNORDERED, "http_policy_unordered",                                          \
	  "a segment out of order, or retransmitted bytes that cannot be checked, on a "           \
	  "connection whose requests are judged")                                                  \
	_(SIG_NO_STREAM, "signature_no_stream",                                                    \
	  "inspected TCP flow without a stream (limit reached or no memory): fail closed")         \
	_(SIG_SCAN_ERROR, "signature_scan_error", "Hyperscan returned an error: fail closed")      \
	_(SIG_SCAN_BUFFER, "signature_scan_buffer",                                                \
	  "inspected payload not in its mbuf chain as its headers say, or in too many segments")   \
	_(TCP_OUT_OF_ORDER, "tcp_out_of_order",                                                    \
	  "inspected segment ahead of the next byte to scan (the sender retransmits in order)")    \
	_(TCP_OVERLAP_DIFFERENT, "tcp_overlap_different",                                          \
	  "retransmitted unacknowledged bytes differ from the bytes scanned")                      \
	_(TCP_RETRANS_UNVERIFIED, "tcp_retransmit_unverified",                                     \
	  "retransmitted unacknowledged bytes in a shape not recorded: cannot be checked")         \
	_(TCP_DATA_BEFORE_HANDSHAKE, "tcp_data_before_handshake",                                  \
	  "payload on a SYN or before the handshake completed")                                    \
	_(TCP_RST_WITH_DATA, "tcp_rst_with_data", "RST segment carrying payload")                  \
	_(TCP_MIDSTREAM, "tcp_midstream",                                                          \
	  "inspected TCP payload in a flow whose handshake was not seen")                          \
	_(TNL_NO_KEY, "tunnel_no_key",                                                             \
	  "to a remote pod whose node has no established keys (fail closed)")                      \
	_(TNL_UNRESOLVED, "tunnel_peer_unresolved",                                                \
	  "the peer's fabric MAC is not known yet (ARP sent)")                                     \
	_(TNL_SEAL_FAILED, "tunnel_seal_failed", "sealing refused (key exhausted or no room)")     \
	_(FABRIC_NOT_TUNNEL, "fabric_not_tunnel",                                                  \
	  "a frame on the fabric port that is no tunnel datagram for this node")                   \
	_(TNL_UNKNOWN_PEER, "tunnel_unknown_peer",                                                 \
	  "tunnel datagram from an address that is no peer")                                       \
	_(TNL_REJECTED, "tunnel_record_rejected",                                                  \
	  "record refused (bad tag, replay, unknown epoch...: see tunnel list)")                   \
	_(TNL_INNER_SPOOFED, "tunnel_inner_spoofed",                                               \
	  "inner source is not a pod of the sending peer")                                         \
	_(TNL_INNER_NO_POD, "tunnel_inner_no_pod", "inner destination is not a pod of this node")  \
	_(FABRIC_NOT_IPV4, "fabric_not_ipv4",                                                      \
	  "a frame on the fabric port that is not IPv4 or ARP (the link's IPv6 neighbour "         \
	  "discovery and MLD, LLDP...)")

enum nm_drop_reason {
	NM_DROP_NONE = 0, /* not a drop; keeps every reason non-zero */
#define NM_DROP_ENUM(sym, name, help) NM_DROP_##sym,
	NM_DROP_REASONS(NM_DROP_ENUM)
#undef NM_DROP_ENUM
	    NM_DROP_MAX
};

/* Short name of a drop reason ("spoofed_source"), or "unknown". */
const char *nm_drop_name(unsigned int reason);
/* One-line explanation of a drop reason. */
const char *nm_drop_help(unsigned int reason);

#endif
