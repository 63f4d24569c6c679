/* ARP, Neighbour Discovery and echo answers: see neigh.h and docs/neighbours.md. */
#include "neigh.h"

#include <string.h>

#define ETH_P_IPV4 0x0800u
#define ETH_P_ARP 0x0806u
#define ETH_P_IPV6 0x86ddu
#define ETH_P_8021Q 0x8100u

#define IPPROTO_ICMP_ 1u
#define IPPROTO_ICMPV6_ 58u

#define ICMP_ECHO_REPLY 0u
#define ICMP_ECHO_REQUEST 8u
#define ICMP6_ECHO_REQUEST 128u
#define ICMP6_ECHO_REPLY 129u
#define ND_NS 135u
#define ND_NA 136u
#define ND_OPT_SLLA 1u
#define ND_OPT_TLLA 2u

#define NA_FLAG_SOLICITED 0x40u
#define NA_FLAG_OVERRIDE 0x20u

static const uint8_t BCAST_MAC[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ALL_NODES_MAC[6] = {0x33, 0x33, 0, 0, 0, 1};
static const uint8_t ALL_NODES_IP[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
/* ff02::1:ff00:0/104: the first 13 bytes of a solicited-node address. */
static const uint8_t SN_PREFIX[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};

static const char *const kind_names[TXG_NEIGH_KIND_NUM] = {"none", "arp", "ns", "echo4", "echo6", "bad"};
static const char *const why_names[TXG_NW_NUM] = {"ok",	  "short", "ip_hdr", "ip_csum", "l4_csum", "code",
						 "hop_limit", "src", "option", "target",  "dad_dst"};
static const char *const ctr_names[TXG_NC_NUM] = {
	"arp_replies",	 "na_replies",	  "echo_replies", "echo6_replies", "garp_sent",
	"unsol_na_sent", "neigh_limited", "echo_limited", "neigh_bad",	   "neigh_tx_fail",
};

const char *txg_neigh_kind_name(unsigned k) { return k < TXG_NEIGH_KIND_NUM ? kind_names[k] : "?"; }
const char *txg_neigh_why_name(unsigned w) { return w < TXG_NW_NUM ? why_names[w] : "?"; }
const char *txg_neigh_ctr_name(unsigned c) { return c < TXG_NC_NUM ? ctr_names[c] : "?"; }

enum txg_neigh_ctr txg_neigh_reply_ctr(enum txg_neigh_kind k)
{
	switch (k) {
	case TXG_NEIGH_ARP:
		return TXG_NC_ARP_REPLIES;
	case TXG_NEIGH_NS:
		return TXG_NC_NA_REPLIES;
	case TXG_NEIGH_ECHO4:
		return TXG_NC_ECHO_REPLIES;
	case TXG_NEIGH_ECHO6:
		return TXG_NC_ECHO6_REPLIES;
	default:
		return TXG_NC_NUM;
	}
}

void txg_neigh_cfg_init(struct txg_neigh_cfg *c, const struct txg_pkt_filter *f, const uint8_t mac[6])
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, mac, 6);
	c->n_ipv4 = f->n_ipv4 <= TXG_MAX_ADDRS ? f->n_ipv4 : TXG_MAX_ADDRS;
	memcpy(c->ipv4, f->ipv4, sizeof(c->ipv4));
	c->n_ipv6 = f->n_ipv6 <= TXG_MAX_ADDRS ? f->n_ipv6 : TXG_MAX_ADDRS;
	memcpy(c->ipv6, f->ipv6, sizeof(c->ipv6));
}

/* ---- bytes and checksums ---- */

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Sum of p[0..n) as big-endian 16-bit words (an odd last byte is the high
 * byte of a zero-padded word), unfolded: at most 2^31 words of 2^16, so no
 * overflow. These packets are rare and rate-limited: plain and obvious. */
static uint64_t sum16(const uint8_t *p, uint32_t n)
{
	uint64_t s = 0;
	uint32_t i = 0;
	for (; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		s += (uint32_t)p[i] << 8;
	return s;
}

static inline uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Raw sum of the ICMPv6 pseudo header (RFC 8200 8.1) without the message. */
static inline uint64_t pseudo6(const uint8_t *src, const uint8_t *dst, uint32_t l4_len)
{
	return sum16(src, 16) + sum16(dst, 16) + (l4_len >> 16) + (l4_len & 0xffff) + IPPROTO_ICMPV6_;
}

/* ---- addresses ---- */

static inline int mac_eq(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, 6) == 0; }
static inline int mac_is_group(const uint8_t *m) { return m[0] & 1; }
static inline int mac_is_zero(const uint8_t *m) { return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0; }
/* A MAC a frame may come from and a reply may go to. */
static inline int mac_unicast(const uint8_t *m) { return !mac_is_group(m) && !mac_is_zero(m); }

/* IPv4 an echo may come from: not 0/8, 127/8, or 224/4 and above
 * (multicast, reserved, limited broadcast). */
static inline int ip4_unicast(const uint8_t *a) { return a[0] != 0 && a[0] != 127 && a[0] < 224; }

static inline int ip6_is_unspec(const uint8_t *a)
{
	static const uint8_t z[16];
	return memcmp(a, z, 16) == 0;
}

static inline int ip6_is_loopback(const uint8_t *a)
{
	static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	return memcmp(a, lo, 16) == 0;
}

static inline unsigned clamp(unsigned n) { return n <= TXG_MAX_ADDRS ? n : TXG_MAX_ADDRS; }

static int ip4_index(const struct txg_neigh_cfg *c, const uint8_t *a)
{
	unsigned n = clamp(c->n_ipv4);
	for (unsigned i = 0; i < n; i++)
		if (memcmp(a, c->ipv4[i], 4) == 0)
			return (int)i;
	return -1;
}

static int ip6_index(const struct txg_neigh_cfg *c, const uint8_t *a)
{
	unsigned n = clamp(c->n_ipv6);
	for (unsigned i = 0; i < n; i++)
		if (memcmp(a, c->ipv6[i], 16) == 0)
			return (int)i;
	return -1;
}

/* Is dst the solicited-node group of one of our IPv6 addresses? */
static int sn_ours(const struct txg_neigh_cfg *c, const uint8_t *dst)
{
	if (memcmp(dst, SN_PREFIX, sizeof(SN_PREFIX)) != 0)
		return 0;
	unsigned n = clamp(c->n_ipv6);
	for (unsigned i = 0; i < n; i++)
		if (memcmp(dst + 13, c->ipv6[i] + 13, 3) == 0)
			return 1;
	return 0;
}

/* ---- classification ---- */

static enum txg_neigh_kind bad(struct txg_neigh_req *r, enum txg_neigh_why w)
{
	r->why = w;
	r->kind = TXG_NEIGH_BAD;
	return TXG_NEIGH_BAD;
}

static enum txg_neigh_kind found(struct txg_neigh_req *r, enum txg_neigh_kind k, int addr, const uint8_t *peer,
				 uint32_t reply_len)
{
	r->kind = k;
	r->addr = (uint8_t)addr;
	memcpy(r->peer_mac, peer, 6);
	r->reply_len = reply_len < TXG_NEIGH_MIN_FRAME ? TXG_NEIGH_MIN_FRAME : reply_len;
	return k;
}

/* An ARP request is ours when it asks for one of our addresses and is
 * broadcast or sent to our MAC (ports run promiscuous). */
static enum txg_neigh_kind classify_arp(const uint8_t *p, const uint8_t *a, uint32_t avail,
					const struct txg_neigh_cfg *c, struct txg_neigh_req *r)
{
	if (avail < 28)
		return TXG_NEIGH_NONE;
	/* Ethernet / IPv4 ARP request; other layouts have no target we know. */
	if (rd16(a) != 1 || rd16(a + 2) != ETH_P_IPV4 || a[4] != 6 || a[5] != 4 || rd16(a + 6) != 1)
		return TXG_NEIGH_NONE;
	int i = ip4_index(c, a + 24);
	if (i < 0)
		return TXG_NEIGH_NONE;
	if (!mac_eq(p, BCAST_MAC) && !mac_eq(p, c->mac))
		return TXG_NEIGH_NONE;
	/* The reply goes to the sender's hardware address (RFC 826). Sender
	 * IP 0.0.0.0 is an RFC 5227 probe: answered (defending the address). */
	const uint8_t *sha = a + 8, *spa = a + 14;
	if (!mac_unicast(p + 6) || !mac_unicast(sha) || mac_eq(sha, c->mac))
		return bad(r, TXG_NW_SRC);
	if (spa[0] == 127 || spa[0] >= 224 || (spa[0] == 0 && (spa[1] | spa[2] | spa[3]) != 0))
		return bad(r, TXG_NW_SRC);
	return found(r, TXG_NEIGH_ARP, i, sha, r->l3 + 28);
}

static enum txg_neigh_kind classify_ip4(const uint8_t *p, const uint8_t *ip, uint32_t avail,
					const struct txg_neigh_cfg *c, struct txg_neigh_req *r)
{
	if (avail < 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_ICMP_)
		return TXG_NEIGH_NONE;
	int i = ip4_index(c, ip + 16);
	if (i < 0 || !mac_eq(p, c->mac))
		return TXG_NEIGH_NONE;
	/* ICMP to one of our addresses from here on. */
	uint32_t hl = (ip[0] & 0x0fu) * 4u;
	uint32_t tot = rd16(ip + 2);
	if (hl < 20)
		return bad(r, TXG_NW_IP_HDR);
	if (hl > avail || tot > avail) /* bytes past tot are Ethernet padding */
		return bad(r, TXG_NW_SHORT);
	if (tot < hl + 8)
		return bad(r, TXG_NW_IP_HDR);
	if (fold(sum16(ip, hl)) != 0xffff)
		return bad(r, TXG_NW_IP_CSUM);
	if (rd16(ip + 6) & 0x3fff)
		return TXG_NEIGH_NONE; /* a fragment: not reassembled, not answered */
	const uint8_t *ic = ip + hl;
	if (ic[0] != ICMP_ECHO_REQUEST)
		return TXG_NEIGH_NONE;
	if (ic[1] != 0)
		return bad(r, TXG_NW_CODE);
	if (fold(sum16(ic, tot - hl)) != 0xffff)
		return bad(r, TXG_NW_L4_CSUM);
	if (!mac_unicast(p + 6) || !ip4_unicast(ip + 12))
		return bad(r, TXG_NW_SRC);
	r->l4 = r->l3 + hl;
	r->l4_len = tot - hl;
	/* Options are not echoed: the reply's header is 20 bytes. */
	return found(r, TXG_NEIGH_ECHO4, i, p + 6, r->l3 + 20 + r->l4_len);
}

/* RFC 4861 7.1.1, with ip = the IPv6 header, ic = the NS, plen its length
 * (>= 8, within the frame), mc = sent to a solicited-node group of ours. */
static enum txg_neigh_kind classify_ns(const uint8_t *p, const uint8_t *ip, const uint8_t *ic, uint32_t plen, int mc,
				       const struct txg_neigh_cfg *c, struct txg_neigh_req *r)
{
	if (plen < 24)
		return bad(r, TXG_NW_SHORT);
	const uint8_t *src = ip + 8, *dst = ip + 24, *tgt = ic + 8;
	int i = ip6_index(c, tgt);
	if (i < 0)
		return TXG_NEIGH_NONE; /* another node's address (our group is shared by low bits) */
	if (tgt[0] == 0xff || (mc ? memcmp(dst + 13, tgt + 13, 3) != 0 : memcmp(dst, tgt, 16) != 0))
		return bad(r, TXG_NW_TARGET);
	if (ip[7] != 255)
		return bad(r, TXG_NW_HOP_LIMIT);
	if (ic[1] != 0)
		return bad(r, TXG_NW_CODE);
	if (fold(pseudo6(src, dst, plen) + sum16(ic, plen)) != 0xffff)
		return bad(r, TXG_NW_L4_CSUM);
	if (src[0] == 0xff || ip6_is_loopback(src) || !mac_unicast(p + 6))
		return bad(r, TXG_NW_SRC);
	int dad = ip6_is_unspec(src);
	if (dad && !mc)
		return bad(r, TXG_NW_DAD_DST);
	const uint8_t *slla = NULL;
	for (uint32_t o = 24; o < plen;) {
		if (plen - o < 2)
			return bad(r, TXG_NW_OPTION);
		uint32_t ol = (uint32_t)ic[o + 1] * 8u;
		if (ol == 0 || ol > plen - o)
			return bad(r, TXG_NW_OPTION);
		if (ic[o] == ND_OPT_SLLA) {
			if (ol != 8 || slla)
				return bad(r, TXG_NW_OPTION);
			slla = ic + o + 2;
		}
		o += ol;
	}
	if (slla && (dad || !mac_unicast(slla)))
		return bad(r, TXG_NW_OPTION);
	r->dad = (uint8_t)dad;
	r->l4 = (uint32_t)(ic - p);
	r->l4_len = plen;
	/* DAD: to all nodes (RFC 4861 7.2.4); else to the solicitor's
	 * link-layer option, or the frame's source without one. */
	const uint8_t *peer = dad ? ALL_NODES_MAC : slla ? slla : p + 6;
	return found(r, TXG_NEIGH_NS, i, peer, r->l3 + 40 + 32);
}

static enum txg_neigh_kind classify_ip6(const uint8_t *p, const uint8_t *ip, uint32_t avail,
					const struct txg_neigh_cfg *c, struct txg_neigh_req *r)
{
	if (avail < 40 || (ip[0] >> 4) != 6 || ip[6] != IPPROTO_ICMPV6_)
		return TXG_NEIGH_NONE; /* extension headers are not walked */
	const uint8_t *dst = ip + 24;
	int mc = dst[0] == 0xff, i = -1;
	if (mc) {
		/* Our solicited-node group, on its own MAC 33:33:ff:XX:XX:XX (RFC 2464). */
		if (!sn_ours(c, dst) || p[0] != 0x33 || p[1] != 0x33 || memcmp(p + 2, dst + 12, 4) != 0)
			return TXG_NEIGH_NONE;
	} else {
		i = ip6_index(c, dst);
		if (i < 0 || !mac_eq(p, c->mac))
			return TXG_NEIGH_NONE;
	}
	/* ICMPv6 to us from here on. */
	uint32_t plen = rd16(ip + 4);
	if (plen > avail - 40 || plen < 8)
		return bad(r, TXG_NW_SHORT);
	const uint8_t *ic = ip + 40;
	if (ic[0] == ND_NS)
		return classify_ns(p, ip, ic, plen, mc, c, r);
	if (ic[0] != ICMP6_ECHO_REQUEST || mc)
		return TXG_NEIGH_NONE;
	if (ic[1] != 0)
		return bad(r, TXG_NW_CODE);
	const uint8_t *src = ip + 8;
	if (fold(pseudo6(src, dst, plen) + sum16(ic, plen)) != 0xffff)
		return bad(r, TXG_NW_L4_CSUM);
	if (src[0] == 0xff || ip6_is_unspec(src) || ip6_is_loopback(src) || !mac_unicast(p + 6))
		return bad(r, TXG_NW_SRC);
	r->l4 = r->l3 + 40;
	r->l4_len = plen;
	return found(r, TXG_NEIGH_ECHO6, i, p + 6, r->l3 + 40 + plen);
}

enum txg_neigh_kind txg_neigh_classify(const uint8_t *p, uint32_t len, const struct txg_neigh_cfg *cfg,
				       struct txg_neigh_req *r)
{
	memset(r, 0, sizeof(*r));
	if (len < 14 || mac_eq(p + 6, cfg->mac)) /* our own frames, looped back */
		return TXG_NEIGH_NONE;
	uint32_t off = 14;
	uint16_t et = rd16(p + 12);
	if (et == ETH_P_8021Q) {
		if (len < 18)
			return TXG_NEIGH_NONE;
		r->tagged = 1;
		r->tci = rd16(p + 14);
		et = rd16(p + 16); /* a second tag is none of ours: QinQ is not answered */
		off = 18;
	}
	r->l3 = off;
	switch (et) {
	case ETH_P_ARP:
		return classify_arp(p, p + off, len - off, cfg, r);
	case ETH_P_IPV4:
		return classify_ip4(p, p + off, len - off, cfg, r);
	case ETH_P_IPV6:
		return classify_ip6(p, p + off, len - off, cfg, r);
	default:
		return TXG_NEIGH_NONE;
	}
}

/* ---- building ---- */

/* Ethernet header (with the tag if any) at out; returns its length. */
static uint32_t put_l2(uint8_t *out, const uint8_t *dst, const uint8_t *src, int tagged, uint16_t tci, uint16_t et)
{
	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	if (tagged) {
		wr16(out + 12, ETH_P_8021Q);
		wr16(out + 14, tci);
		wr16(out + 16, et);
		return 18;
	}
	wr16(out + 12, et);
	return 14;
}

/* Zero-pad out[0..n) to the Ethernet minimum; returns the frame length. */
static uint32_t pad(uint8_t *out, uint32_t n)
{
	if (n >= TXG_NEIGH_MIN_FRAME)
		return n;
	memset(out + n, 0, TXG_NEIGH_MIN_FRAME - n);
	return TXG_NEIGH_MIN_FRAME;
}

static uint32_t put_arp(uint8_t *out, const uint8_t *eth_dst, int tagged, uint16_t tci, uint16_t oper,
			const uint8_t *sha, const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
	uint32_t o = put_l2(out, eth_dst, sha, tagged, tci, ETH_P_ARP);
	uint8_t *a = out + o;
	wr16(a, 1);
	wr16(a + 2, ETH_P_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, oper);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return pad(out, o + 28);
}

/* A Neighbour Advertisement of target (ours, also the source) to dst_ip. */
static uint32_t put_na(uint8_t *out, const uint8_t *eth_dst, int tagged, uint16_t tci, const uint8_t *mac,
		       const uint8_t *target, const uint8_t *dst_ip, uint8_t flags)
{
	uint32_t o = put_l2(out, eth_dst, mac, tagged, tci, ETH_P_IPV6);
	uint8_t *ip = out + o, *m = ip + 40;
	ip[0] = 0x60;
	ip[1] = ip[2] = ip[3] = 0;
	wr16(ip + 4, 32);
	ip[6] = IPPROTO_ICMPV6_;
	ip[7] = 255;
	memcpy(ip + 8, target, 16);
	memcpy(ip + 24, dst_ip, 16);
	m[0] = ND_NA;
	m[1] = 0;
	wr16(m + 2, 0);
	m[4] = flags;
	m[5] = m[6] = m[7] = 0;
	memcpy(m + 8, target, 16);
	m[24] = ND_OPT_TLLA;
	m[25] = 1;
	memcpy(m + 26, mac, 6);
	wr16(m + 2, (uint16_t)~fold(pseudo6(target, dst_ip, 32) + sum16(m, 32)));
	return o + 72;
}

static uint32_t build_arp(uint8_t *out, const uint8_t *p, const struct txg_neigh_req *r,
			  const struct txg_neigh_cfg *c)
{
	const uint8_t *a = p + r->l3;
	/* Sender: us and the address asked for; target: the requester. */
	return put_arp(out, r->peer_mac, r->tagged, r->tci, 2, c->mac, c->ipv4[r->addr], a + 8, a + 14);
}

static uint32_t build_na(uint8_t *out, const uint8_t *p, const struct txg_neigh_req *r,
			 const struct txg_neigh_cfg *c)
{
	const uint8_t *ip = p + r->l3;
	const uint8_t *dst_ip = r->dad ? ALL_NODES_IP : ip + 8;
	uint8_t flags = (uint8_t)(r->dad ? NA_FLAG_OVERRIDE : NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE);
	return put_na(out, r->peer_mac, r->tagged, r->tci, c->mac, c->ipv6[r->addr], dst_ip, flags);
}

static uint32_t build_echo4(uint8_t *out, const uint8_t *p, const struct txg_neigh_req *r,
			    const struct txg_neigh_cfg *c)
{
	const uint8_t *ip = p + r->l3, *ic = p + r->l4;
	uint32_t o = put_l2(out, r->peer_mac, c->mac, r->tagged, r->tci, ETH_P_IPV4);
	uint8_t *h = out + o, *m = h + 20;
	h[0] = 0x45;
	h[1] = ip[1] & 0xfc; /* DSCP kept, ECN not */
	wr16(h + 2, 20 + r->l4_len);
	wr16(h + 4, 0);	     /* an atomic datagram (RFC 6864): id 0, DF */
	wr16(h + 6, 0x4000);
	h[8] = 64;
	h[9] = IPPROTO_ICMP_;
	wr16(h + 10, 0);
	memcpy(h + 12, ip + 16, 4);
	memcpy(h + 16, ip + 12, 4);
	wr16(h + 10, (uint16_t)~fold(sum16(h, 20)));
	memcpy(m, ic, r->l4_len); /* id, sequence and data kept */
	m[0] = ICMP_ECHO_REPLY;
	m[1] = 0;
	wr16(m + 2, 0);
	wr16(m + 2, (uint16_t)~fold(sum16(m, r->l4_len)));
	return pad(out, o + 20 + r->l4_len);
}

static uint32_t build_echo6(uint8_t *out, const uint8_t *p, const struct txg_neigh_req *r,
			    const struct txg_neigh_cfg *c)
{
	const uint8_t *ip = p + r->l3, *ic = p + r->l4;
	uint32_t o = put_l2(out, r->peer_mac, c->mac, r->tagged, r->tci, ETH_P_IPV6);
	uint8_t *h = out + o, *m = h + 40;
	uint8_t tc = (uint8_t)(((ip[0] & 0x0f) << 4 | ip[1] >> 4) & 0xfc); /* DSCP kept, ECN not */
	h[0] = (uint8_t)(0x60 | tc >> 4);
	h[1] = (uint8_t)(tc << 4); /* flow label 0 */
	h[2] = h[3] = 0;
	wr16(h + 4, r->l4_len);
	h[6] = IPPROTO_ICMPV6_;
	h[7] = 64;
	memcpy(h + 8, ip + 24, 16);
	memcpy(h + 24, ip + 8, 16);
	memcpy(m, ic, r->l4_len);
	m[0] = ICMP6_ECHO_REPLY;
	m[1] = 0;
	wr16(m + 2, 0);
	wr16(m + 2, (uint16_t)~fold(pseudo6(h + 8, h + 24, r->l4_len) + sum16(m, r->l4_len)));
	return pad(out, o + 40 + r->l4_len);
}

uint32_t txg_neigh_build_reply(uint8_t *out, uint32_t cap, const uint8_t *p, uint32_t len,
			       const struct txg_neigh_req *r, const struct txg_neigh_cfg *cfg)
{
	/* r is trusted to come from txg_neigh_classify on p and cfg; what is
	 * read and written is still checked against len and cap, so a wrong r
	 * gives 0, never an access out of bounds. */
	uint32_t l2 = r->tagged ? 18u : 14u, need, reads;
	switch (r->kind) {
	case TXG_NEIGH_ARP:
		need = TXG_NEIGH_ARP_LEN;
		reads = l2 + 28;
		if (r->addr >= clamp(cfg->n_ipv4))
			return 0;
		break;
	case TXG_NEIGH_NS:
		need = l2 + 72;
		reads = l2 + 40;
		if (r->addr >= clamp(cfg->n_ipv6))
			return 0;
		break;
	case TXG_NEIGH_ECHO4:
		if (r->l4 < l2 + 20 || r->l4 > len || r->l4_len < 8 || r->l4_len > len - r->l4 ||
		    r->l4_len > 0xffff - 20)
			return 0;
		need = l2 + 20 + r->l4_len;
		reads = l2 + 20;
		break;
	case TXG_NEIGH_ECHO6:
		if (r->l4 != l2 + 40 || r->l4 > len || r->l4_len < 8 || r->l4_len > len - r->l4 || r->l4_len > 0xffff)
			return 0;
		need = l2 + 40 + r->l4_len;
		reads = l2 + 40;
		break;
	default:
		return 0;
	}
	if (need < TXG_NEIGH_MIN_FRAME)
		need = TXG_NEIGH_MIN_FRAME;
	if (r->l3 != l2 || reads > len || need != r->reply_len || cap < need)
		return 0;
	switch (r->kind) {
	case TXG_NEIGH_ARP:
		return build_arp(out, p, r, cfg);
	case TXG_NEIGH_NS:
		return build_na(out, p, r, cfg);
	case TXG_NEIGH_ECHO4:
		return build_echo4(out, p, r, cfg);
	default:
		return build_echo6(out, p, r, cfg);
	}
}

uint32_t txg_neigh_build_garp(uint8_t *out, uint32_t cap, const struct txg_neigh_cfg *cfg, unsigned i, int tagged,
			      uint16_t tci)
{
	static const uint8_t zero_mac[6];
	if (i >= clamp(cfg->n_ipv4) || cap < TXG_NEIGH_ARP_LEN)
		return 0;
	return put_arp(out, BCAST_MAC, tagged, tci, 1, cfg->mac, cfg->ipv4[i], zero_mac, cfg->ipv4[i]);
}

uint32_t txg_neigh_build_unsol_na(uint8_t *out, uint32_t cap, const struct txg_neigh_cfg *cfg, unsigned i,
				  int tagged, uint16_t tci)
{
	if (i >= clamp(cfg->n_ipv6) || cap < (tagged ? TXG_NEIGH_NA_LEN_TAGGED : TXG_NEIGH_NA_LEN))
		return 0;
	return put_na(out, ALL_NODES_MAC, tagged, tci, cfg->mac, cfg->ipv6[i], ALL_NODES_IP, NA_FLAG_OVERRIDE);
}

/* ---- rate limits ---- */

int txg_neigh_bucket_init(struct txg_neigh_bucket *b, uint32_t rate, uint32_t burst, uint64_t hz, uint64_t now)
{
	memset(b, 0, sizeof(*b));
	if (hz == 0 || (burst && hz > (UINT64_MAX >> 1) / burst))
		return -1;
	b->hz = hz;
	b->last = now;
	if (rate == 0 || burst == 0) {
		b->full_after = UINT64_MAX; /* never refills: cap and credit stay 0 */
		return 0;
	}
	b->rate = rate;
	b->cap = (uint64_t)burst * hz;
	b->credit = b->cap;
	/* A gap of at least cap / rate + 1 fills the bucket; below it,
	 * gap * rate <= cap, so credit + gap * rate <= 2 * cap < 2^64. */
	b->full_after = b->cap / b->rate + 1;
	return 0;
}

int txg_neigh_take(struct txg_neigh_bucket *b, uint64_t now)
{
	if (now > b->last) {
		uint64_t dt = now - b->last;
		if (dt >= b->full_after) {
			b->credit = b->cap;
		} else {
			uint64_t c = b->credit + dt * b->rate;
			b->credit = c < b->cap ? c : b->cap;
		}
		b->last = now;
	}
	if (b->cap && b->credit >= b->hz) {
		b->credit -= b->hz;
		return 1;
	}
	return 0;
}

int txg_neigh_allow(struct txg_neigh_limiter *l, enum txg_neigh_kind k, uint64_t now)
{
	switch (k) {
	case TXG_NEIGH_ARP:
	case TXG_NEIGH_NS:
		return txg_neigh_take(&l->resolve, now);
	case TXG_NEIGH_ECHO4:
	case TXG_NEIGH_ECHO6:
		return txg_neigh_take(&l->echo, now);
	default:
		return 0;
	}
}
