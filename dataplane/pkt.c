/* Received-packet parser: see pkt.h and spec section 1. */
#include "pkt.h"

#include <string.h>

#include <rte_mbuf_core.h>

#define ETH_P_IPV4 0x0800u
#define ETH_P_IPV6 0x86ddu
#define ETH_P_8021Q 0x8100u
#define ETH_P_8021AD 0x88a8u
#define ETH_P_QINQ_OLD 0x9100u
#define IPPROTO_UDP_ 17u

static const char *const pkt_err_names[TXG_PKT_NUM] = {
	"pkt_ok",      "pkt_short",    "pkt_not_ip",   "pkt_vlan_stacked", "pkt_ip_bad_hdr", "pkt_ip_csum",
	"pkt_ip_frag", "pkt_not_udp",  "pkt_dst_addr", "pkt_dst_port",	   "pkt_udp_len",    "pkt_udp_csum",
};

const char *txg_pkt_err_name(unsigned e) { return e < TXG_PKT_NUM ? pkt_err_names[e] : "?"; }

void txg_pkt_filter_from_config(struct txg_pkt_filter *f, const struct txg_config *c)
{
	memset(f, 0, sizeof(*f));
	f->udp_port = c->udp_port;
	f->n_ipv4 = c->n_ipv4 <= TXG_MAX_ADDRS ? c->n_ipv4 : TXG_MAX_ADDRS;
	memcpy(f->ipv4, c->ipv4, sizeof(f->ipv4));
	f->n_ipv6 = c->n_ipv6 <= TXG_MAX_ADDRS ? c->n_ipv6 : TXG_MAX_ADDRS;
	memcpy(f->ipv6, c->ipv6, sizeof(f->ipv6));
}

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Sum of p[0..n) as native-order 16-bit words, unfolded. One's-complement
 * sums do not depend on byte order (RFC 1071), so the caller folds and
 * swaps once at the end. 32-bit loads into 64-bit accumulators cannot
 * overflow for n < 2^32. */
static inline uint64_t sum_raw(const uint8_t *p, uint32_t n)
{
	uint64_t a = 0, b = 0;
	while (n >= 16) {
		uint32_t w[4];
		memcpy(w, p, 16);
		a += w[0];
		b += w[1];
		a += w[2];
		b += w[3];
		p += 16;
		n -= 16;
	}
	a += b;
	while (n >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		a += w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		a += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint16_t h = 0; /* the odd byte is the high byte of a zero-padded word */
		memcpy(&h, p, 1);
		a += h;
	}
	return a;
}

/* Fold a raw native sum to 16 bits and return it as the big-endian sum. */
static inline uint32_t fold_be(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = ((s & 0xff) << 8) | (s >> 8);
#endif
	return (uint32_t)s;
}

static inline uint16_t fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint16_t txg_pkt_csum_sum(const uint8_t *p, uint32_t n, uint16_t sum) { return fold16(fold_be(sum_raw(p, n)) + sum); }

/* n is the filter's count; more than the TXG_MAX_ADDRS entries the list
 * holds counts as all of them (never read past the filter). */
static inline int addr_ok(const uint8_t *dst, unsigned alen, unsigned n, const uint8_t *list, unsigned stride)
{
	if (n == 0)
		return 1;
	if (n > TXG_MAX_ADDRS)
		n = TXG_MAX_ADDRS;
	for (unsigned i = 0; i < n; i++)
		if (memcmp(dst, list + (size_t)i * stride, alen) == 0)
			return 1;
	return 0;
}

enum txg_pkt_err txg_pkt_parse(const uint8_t *p, uint32_t len, uint64_t ol_flags, const struct txg_pkt_filter *f,
			       struct txg_pkt_info *out)
{
	if (len < 14)
		return TXG_PKT_SHORT;
	uint32_t off = 14;
	uint16_t et = be16(p + 12), vlan = 0;
	if (et == ETH_P_8021Q) {
		if (len < 18)
			return TXG_PKT_SHORT;
		vlan = be16(p + 14) & 0x0fff;
		et = be16(p + 16);
		off = 18;
		if (et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ_OLD)
			return TXG_PKT_VLAN_STACKED;
	} else if (et == ETH_P_8021AD || et == ETH_P_QINQ_OLD) {
		return TXG_PKT_VLAN_STACKED;
	}

	const uint8_t *ip = p + off;
	uint32_t avail = len - off;
	const uint8_t *udp;
	uint32_t ip_plen; /* bytes after the IP header(s), per the IP header */
	uint8_t af;
	uint64_t praw; /* raw sum of the pseudo header's addresses */

	if (et == ETH_P_IPV4) {
		if (avail < 20)
			return TXG_PKT_SHORT;
		if ((ip[0] >> 4) != 4)
			return TXG_PKT_IP_BAD_HDR;
		uint32_t hl = (ip[0] & 0x0fu) * 4u;
		if (hl < 20)
			return TXG_PKT_IP_BAD_HDR;
		if (hl > avail)
			return TXG_PKT_SHORT;
		uint32_t tot = be16(ip + 2);
		if (tot < hl + 8)
			return TXG_PKT_IP_BAD_HDR;
		if (tot > avail)
			return TXG_PKT_SHORT; /* bytes past tot are Ethernet padding */
		/* Only UNKNOWN leaves the check to us: GOOD and NONE say the
		 * header's integrity was verified (see pkt.h). */
		uint64_t ipc = ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
		if (ipc == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return TXG_PKT_IP_CSUM;
		if (ipc == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && fold_be(sum_raw(ip, hl)) != 0xffff)
			return TXG_PKT_IP_CSUM;
		if (be16(ip + 6) & 0x3fff)
			return TXG_PKT_IP_FRAG;
		if (ip[9] != IPPROTO_UDP_)
			return TXG_PKT_NOT_UDP;
		if (!addr_ok(ip + 16, 4, f->n_ipv4, &f->ipv4[0][0], 4))
			return TXG_PKT_DST_ADDR;
		udp = ip + hl;
		ip_plen = tot - hl;
		af = 4;
		praw = sum_raw(ip + 12, 8);
	} else if (et == ETH_P_IPV6) {
		if (avail < 40)
			return TXG_PKT_SHORT;
		if ((ip[0] >> 4) != 6)
			return TXG_PKT_IP_BAD_HDR;
		uint32_t plen = be16(ip + 4);
		if (plen > avail - 40)
			return TXG_PKT_SHORT;
		if (ip[6] != IPPROTO_UDP_)
			return TXG_PKT_NOT_UDP;
		if (plen < 8)
			return TXG_PKT_UDP_LEN;
		if (!addr_ok(ip + 24, 16, f->n_ipv6, &f->ipv6[0][0], 16))
			return TXG_PKT_DST_ADDR;
		udp = ip + 40;
		ip_plen = plen;
		af = 6;
		praw = sum_raw(ip + 8, 32);
	} else {
		return TXG_PKT_NOT_IP;
	}

	/* ip_plen >= 8 and udp + ip_plen is within p[0..len). */
	uint16_t dport = be16(udp + 2);
	if (dport != f->udp_port)
		return TXG_PKT_DST_PORT;
	uint32_t ulen = be16(udp + 4);
	if (ulen < 8 || ulen != ip_plen)
		return TXG_PKT_UDP_LEN;
	/* A zero field is judged before the NIC's flag: over IPv4 it means no
	 * checksum; over IPv6 it can never be right (RFC 8200). */
	if (be16(udp + 6) == 0) {
		if (af == 6)
			return TXG_PKT_UDP_CSUM;
	} else {
		uint64_t l4c = ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		if (l4c == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			return TXG_PKT_UDP_CSUM;
		if (l4c == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN &&
		    fold16(fold_be(praw + sum_raw(udp, ulen)) + IPPROTO_UDP_ + ulen) != 0xffff)
			return TXG_PKT_UDP_CSUM;
	}

	out->payload = udp + 8;
	out->payload_len = (uint16_t)(ulen - 8);
	out->af = af;
	out->vlan = vlan;
	if (af == 4) {
		memcpy(out->src, ip + 12, 4);
		memset(out->src + 4, 0, 12);
		memcpy(out->dst, ip + 16, 4);
		memset(out->dst + 4, 0, 12);
	} else {
		memcpy(out->src, ip + 8, 16);
		memcpy(out->dst, ip + 24, 16);
	}
	out->sport = be16(udp);
	out->dport = dport;
	return TXG_PKT_OK;
}
