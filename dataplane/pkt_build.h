/* Build Ethernet / 802.1Q / IPv4 or IPv6 / UDP packets around a payload,
 * with correct checksums. Pure C: used by txgen and by tests. */
#ifndef TXG_PKT_BUILD_H
#define TXG_PKT_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct txg_pkt_spec {
	uint8_t src_mac[6], dst_mac[6];
	uint16_t vlan;		  /* 0: untagged; else an 802.1Q tag with this VID */
	uint8_t af;		  /* 4 or 6 */
	uint8_t src[16], dst[16]; /* IPv4 uses the first 4 bytes (network order) */
	uint16_t sport, dport;	  /* host order */
	uint8_t no_udp_csum;	  /* IPv4 only: leave the UDP checksum 0 (absent) */
};

/* Offset of the IP header for s (14, or 18 with a VLAN tag). */
size_t txg_pkt_l3_off(const struct txg_pkt_spec *s);
/* Offset of the UDP header for s. */
size_t txg_pkt_l4_off(const struct txg_pkt_spec *s);

/* Write the packet to out; returns its length, or 0 if it does not fit in
 * cap or the payload exceeds what one IP datagram carries. */
size_t txg_pkt_build(uint8_t *out, size_t cap, const struct txg_pkt_spec *s, const uint8_t *payload, size_t plen);

/* Internet checksum of p[0..n) plus a partial sum: the 16-bit value to
 * store big-endian in the header. */
uint16_t txg_inet_csum(const uint8_t *p, size_t n, uint32_t sum);

/* UDP checksum of udp[0..udp_len) (checksum field zeroed) over the IPv4 or
 * IPv6 pseudo header, to store big-endian (0 becomes 0xffff). */
uint16_t txg_udp_csum(uint8_t af, const uint8_t *src, const uint8_t *dst, const uint8_t *udp, size_t udp_len);

#endif
