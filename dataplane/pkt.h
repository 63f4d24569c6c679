/* Received-packet parser (spec section 1): Ethernet II, at most one
 * 802.1Q tag, IPv4 (any IHL, no fragments) or IPv6 (UDP right after the
 * fixed header), UDP to the configured address and port. Hot path: no
 * allocation, no system calls, never reads outside the given bytes. */
#ifndef TXG_PKT_H
#define TXG_PKT_H

#include <stdint.h>

#include "config.h"

/* Why a packet was not taken; each has a counter named txg_pkt_err_name(). */
enum txg_pkt_err {
	TXG_PKT_OK = 0,
	TXG_PKT_SHORT,	      /* too few bytes for a header or for the IP length it states */
	TXG_PKT_NOT_IP,	      /* EtherType is neither IPv4 nor IPv6 */
	TXG_PKT_VLAN_STACKED, /* QinQ: a second tag, or an 802.1ad (0x88a8/0x9100) outer tag */
	TXG_PKT_IP_BAD_HDR,   /* wrong IP version, IHL < 5, total length < IHL*4 + 8 */
	TXG_PKT_IP_CSUM,      /* IPv4 header checksum wrong (or the NIC said BAD) */
	TXG_PKT_IP_FRAG,      /* IPv4 MF flag set or fragment offset != 0 */
	TXG_PKT_NOT_UDP,      /* IPv4 protocol / IPv6 next header is not 17 */
	TXG_PKT_DST_ADDR,     /* destination address not in the filter */
	TXG_PKT_DST_PORT,     /* UDP destination port is not the filter's */
	TXG_PKT_UDP_LEN,      /* UDP length < 8 or != the IP payload length */
	TXG_PKT_UDP_CSUM,     /* UDP checksum present and wrong (or the NIC said BAD), or 0 over IPv6 */
	TXG_PKT_NUM
};

/* Counter name of e ("pkt_ok", "pkt_short", ...); "?" if out of range. */
const char *txg_pkt_err_name(unsigned e);

/* Which packets are ours. n_ipvX == 0: any destination of that family;
 * n_ipvX > TXG_MAX_ADDRS counts as TXG_MAX_ADDRS. */
struct txg_pkt_filter {
	uint16_t udp_port; /* host order */
	unsigned n_ipv4;
	uint8_t ipv4[TXG_MAX_ADDRS][4];
	unsigned n_ipv6;
	uint8_t ipv6[TXG_MAX_ADDRS][16];
};

/* A parsed packet; pointers alias the packet's bytes. */
struct txg_pkt_info {
	const uint8_t *payload; /* the UDP payload */
	uint16_t payload_len;
	uint8_t af;		  /* 4 or 6 */
	uint16_t vlan;		  /* VID, 0 = untagged */
	uint8_t src[16], dst[16]; /* IPv4: first 4 bytes, rest zero; network order */
	uint16_t sport, dport;	  /* host order */
};

/* RX checksum offload flags (ol_flags), as DPDK 22.11's rte_mbuf_core.h
 * defines them; IP = the IPv4 header checksum, L4 = the UDP checksum:
 *   UNKNOWN  no information: checked in software
 *   BAD      wrong: dropped (pkt_ip_csum / pkt_udp_csum)
 *   GOOD     right: not checked
 *   NONE     field not right, but integrity verified (virtio/vhost): not checked
 * IPv6 has no header checksum: the IP flag is ignored for IPv6, whatever it is.
 * A UDP checksum field of 0 is judged before any flag (spec section 1): over
 * IPv4 "no checksum", accepted even with L4 BAD; over IPv6 invalid (RFC 8200:
 * a computed 0 is sent as 0xffff), dropped as pkt_udp_csum even with L4 GOOD
 * or NONE. */

/* Parse p[0..len) with the mbuf's ol_flags (above): TXG_PKT_OK with out
 * filled, or the first rule broken (out is then unspecified). */
enum txg_pkt_err txg_pkt_parse(const uint8_t *p, uint32_t len, uint64_t ol_flags, const struct txg_pkt_filter *f,
			       struct txg_pkt_info *out);

/* Fill f from the config's [net] section (udp_port, ipv4, ipv6). */
void txg_pkt_filter_from_config(struct txg_pkt_filter *f, const struct txg_config *c);

/* One's-complement sum of p[0..n) folded to 16 bits, as the big-endian
 * Internet checksum sum (not inverted), added to sum (a 16-bit value). */
uint16_t txg_pkt_csum_sum(const uint8_t *p, uint32_t n, uint16_t sum);

#endif
