/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature rule types: the subset of the Suricata/Snort rule language
 * nodemesh accepts (parsed by ctrl/sigrule.c), and what the Hyperscan
 * compiler (ctrl/sigdb.c) takes from it. A rule the engine cannot honour
 * exactly is refused, never weakened.
 */
#ifndef NM_SIG_T_H
#define NM_SIG_T_H

#include <stdbool.h>
#include <stdint.h>

#define NM_SIG_MAX_PATTERNS  16	  /* content + pcre items in one rule */
#define NM_SIG_MAX_PATTERN   8192 /* bytes of one content (decoded) or pcre body */
#define NM_SIG_MAX_ADDRS     16	  /* items in one address list */
#define NM_SIG_MAX_PORTS     16	  /* items in one port list */
#define NM_SIG_MSG_LEN	     256
#define NM_SIG_CLASSTYPE_LEN 64

enum nm_sig_action {
	NM_SIG_ALERT = 0, /* log, pass */
	NM_SIG_DROP,	  /* drop this packet and every later one of the flow */
	NM_SIG_REJECT,	  /* drop, and reset the connection (ICMP unreachable for UDP) */
	NM_SIG_PASS,	  /* stop inspecting the flow */
};

enum nm_sig_proto {
	NM_SIG_PROTO_IP = 0, /* any */
	NM_SIG_PROTO_TCP,
	NM_SIG_PROTO_UDP,
	NM_SIG_PROTO_ICMP,
	NM_SIG_PROTO_HTTP, /* TCP flows that parse as HTTP/1.x; patterns in HTTP buffers */
};

/*
 * Where a pattern looks (Suricata's sticky buffers). STREAM is the packet
 * payload or the TCP stream, as for every rule before HTTP. The HTTP
 * buffers are built per message when its head completes (dataplane/http.c
 * parses, dataplane/inspect_http.c builds them) and scanned as blocks; a
 * rule with a body buffer is scanned once, when its message ends, with
 * the head's buffers rebuilt beside the body (file.data is the response
 * body).
 */
#define NM_SIG_BUFFERS(_)                                                                          \
	_(STREAM, NULL, NULL)                                                                      \
	_(HTTP_METHOD, "http.method", "http_method")                                               \
	_(HTTP_URI, "http.uri", "http_uri")                                                        \
	_(HTTP_URI_RAW, "http.uri.raw", "http_raw_uri")                                            \
	_(HTTP_HOST, "http.host", "http_host")                                                     \
	_(HTTP_HEADER, "http.header", "http_header")                                               \
	_(HTTP_USER_AGENT, "http.user_agent", "http_user_agent")                                   \
	_(HTTP_COOKIE, "http.cookie", "http_cookie")                                               \
	_(HTTP_STAT_CODE, "http.stat_code", "http_stat_code")                                      \
	_(HTTP_REQUEST_BODY, "http.request_body", "http_client_body")                              \
	_(HTTP_RESPONSE_BODY, "http.response_body", "http_server_body")                            \
	_(HTTP_HEADER_NAMES, "http.header_names", NULL)                                            \
	_(HTTP_REQUEST_LINE, "http.request_line", NULL)                                            \
	_(HTTP_RESPONSE_LINE, "http.response_line", NULL)                                          \
	_(HTTP_PROTOCOL, "http.protocol", NULL)                                                    \
	_(HTTP_STAT_MSG, "http.stat_msg", "http_stat_msg")                                         \
	_(HTTP_CONTENT_TYPE, "http.content_type", NULL)                                            \
	_(HTTP_CONTENT_LEN, "http.content_len", NULL)                                              \
	_(HTTP_REFERER, "http.referer", NULL)                                                      \
	_(HTTP_ACCEPT, "http.accept", NULL)                                                        \
	_(HTTP_ACCEPT_ENC, "http.accept_enc", NULL)                                                \
	_(HTTP_ACCEPT_LANG, "http.accept_lang", NULL)                                              \
	_(HTTP_LOCATION, "http.location", NULL)                                                    \
	_(HTTP_SERVER, "http.server", NULL)                                                        \
	_(HTTP_START, "http.start", NULL)

enum nm_sig_buffer {
#define NM_SIG_BUFFER_ENUM(sym, sticky, legacy) NM_SIG_BUF_##sym,
	NM_SIG_BUFFERS(NM_SIG_BUFFER_ENUM)
#undef NM_SIG_BUFFER_ENUM
	    NM_SIG_BUF_MAX
};

/* One address item: a.b.c.d/len; `any` is an empty list. */
struct nm_sig_cidr {
	uint32_t addr; /* IPv4, host order, already masked */
	uint8_t len;   /* prefix length 0..32 */
};

struct nm_sig_addrs {
	bool negated; /* "!" before the item or the list */
	uint8_t n;    /* 0: any */
	struct nm_sig_cidr items[NM_SIG_MAX_ADDRS];
};

struct nm_sig_port_range {
	uint16_t lo; /* inclusive, host order */
	uint16_t hi;
};

struct nm_sig_ports {
	bool negated;
	uint8_t n; /* 0: any */
	struct nm_sig_port_range items[NM_SIG_MAX_PORTS];
};

enum nm_sig_pattern_kind {
	NM_SIG_CONTENT = 0, /* literal bytes */
	NM_SIG_PCRE,	    /* regular expression (Hyperscan-compatible PCRE subset) */
	NM_SIG_ISDATAAT,    /* isdataat: a byte at offset (relative: after the previous content) */
};

struct nm_sig_pattern {
	uint8_t kind;	/* enum nm_sig_pattern_kind */
	uint8_t buffer; /* enum nm_sig_buffer */
	bool nocase;	/* content: nocase; pcre: flag i */
	bool negated;	/* content:!"..." (must not match) */
	bool dotall;	/* pcre flag s */
	bool multiline; /* pcre flag m */
	bool extended;	/* pcre flag x */
	int32_t offset; /* content offset; isdataat: N; -1 when not given */
	int32_t depth;	/* content depth; -1 when not given */
	/*
	 * Relative content (Suricata's distance/within): it starts at least
	 * distance bytes after the end of the previous content's match and
	 * ends at most distance + within bytes after it. Each counts only
	 * with its has_ flag (a zeroed pattern is not relative).
	 */
	bool has_distance;
	bool has_within;
	int32_t distance;
	int32_t within;
	bool startswith; /* content at the start of the data (offset 0, depth len) */
	bool endswith;	 /* content at the end of the data */
	bool relative;	 /* isdataat: counted from the previous content's end */
	uint16_t len;	 /* bytes in data */
	uint8_t *data;	 /* heap; content: decoded bytes; pcre: the body without slashes,
			  * NUL-terminated (len excludes the NUL). Freed by nm_sig_rule_clear(). */
};

enum nm_sig_flow_flags {
	NM_SIG_FLOW_TO_SERVER = 1u << 0, /* from the flow's initiator */
	NM_SIG_FLOW_TO_CLIENT = 1u << 1, /* from the responder */
	NM_SIG_FLOW_ESTABLISHED = 1u << 2,
};

/*
 * Suricata's threshold and detection_filter (its "Thresholding Keywords"
 * page): per rule, how matches are counted over a window of seconds, and
 * whether a match acts and alerts. The worker that scans counts them
 * (dataplane/sig_thresh.c); README "Signatures" gives the table.
 */
enum nm_sig_thresh_type {
	NM_SIG_THRESH_NONE = 0,	 /* neither keyword: every match acts and alerts */
	NM_SIG_THRESH_LIMIT,	 /* threshold type limit: alert on the first count per window */
	NM_SIG_THRESH_THRESHOLD, /* threshold type threshold: act and alert on every count-th */
	NM_SIG_THRESH_BOTH,	 /* threshold type both: on the count-th, once per window */
	NM_SIG_THRESH_DETECTION, /* detection_filter: every match after the count-th */
};

enum nm_sig_thresh_track {
	NM_SIG_TRACK_SRC = 0, /* by_src: the packet's source address */
	NM_SIG_TRACK_DST,     /* by_dst: its destination address */
	NM_SIG_TRACK_RULE,    /* by_rule: one count for the rule */
	NM_SIG_TRACK_BOTH,    /* by_both: the address pair, either way round */
};

struct nm_sig_thresh {
	uint8_t type;	  /* enum nm_sig_thresh_type */
	uint8_t track;	  /* enum nm_sig_thresh_track */
	uint32_t count;	  /* matches, 1.. */
	uint32_t seconds; /* window length, 1.. */
};

struct nm_sig_rule {
	uint8_t action;	    /* enum nm_sig_action */
	uint8_t proto;	    /* enum nm_sig_proto */
	bool bidirectional; /* "<>" */
	struct nm_sig_addrs src, dst;
	struct nm_sig_ports sport, dport;
	uint32_t sid;
	uint32_t rev;	   /* 0 when not given */
	uint32_t priority; /* 0 when not given */
	uint8_t flow;	   /* enum nm_sig_flow_flags */
	char msg[NM_SIG_MSG_LEN];
	char classtype[NM_SIG_CLASSTYPE_LEN];
	int32_t dsize_min; /* dsize: payload bytes, inclusive; -1 when not given */
	int32_t dsize_max;
	/* bsize (urilen on http.uri): a buffer's bytes, inclusive; min 0 when not given. */
	int32_t bsize_min[NM_SIG_BUF_MAX];
	int32_t bsize_max[NM_SIG_BUF_MAX];
	struct nm_sig_thresh thresh; /* type NONE when neither keyword is given */
	uint8_t n_patterns;	     /* at least one: a rule with nothing to match is refused */
	struct nm_sig_pattern patterns[NM_SIG_MAX_PATTERNS];
	uint32_t line; /* line in its file, for messages */
};

#endif
