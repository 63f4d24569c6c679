/* Unit tests of the packet parser (pkt.c) on packets made by pkt_build. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_mbuf_core.h>

#include "pkt.h"
#include "pkt_build.h"

#define PORT 7400

static uint8_t payload[1500];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static const uint8_t V4_SRC[4] = {10, 0, 0, 1}, V4_DST[4] = {10, 0, 0, 2};
static const uint8_t V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static struct txg_pkt_spec spec(uint8_t af, uint16_t vlan)
{
	struct txg_pkt_spec s;
	memset(&s, 0, sizeof(s));
	memset(s.src_mac, 0x02, 6);
	memset(s.dst_mac, 0x04, 6);
	s.vlan = vlan;
	s.af = af;
	if (af == 4) {
		memcpy(s.src, V4_SRC, 4);
		memcpy(s.dst, V4_DST, 4);
	} else {
		memcpy(s.src, V6_SRC, 16);
		memcpy(s.dst, V6_DST, 16);
	}
	s.sport = 5555;
	s.dport = PORT;
	return s;
}

static size_t build(uint8_t *buf, uint8_t af, uint16_t vlan, size_t plen)
{
	struct txg_pkt_spec s = spec(af, vlan);
	size_t n = txg_pkt_build(buf, 2048, &s, payload, plen);
	CU_ASSERT_FATAL(n > 0);
	return n;
}

static struct txg_pkt_filter any_filter(void)
{
	struct txg_pkt_filter f;
	memset(&f, 0, sizeof(f));
	f.udp_port = PORT;
	return f;
}

/* GUARD_DATA bytes followed by an inaccessible page: an object placed so
 * that it ends at the page boundary faults on any read past its end, with
 * or without ASan. */
#define GUARD_DATA 8192u
static uint8_t *guard_base;

static void *guard_end(size_t n)
{
	if (!guard_base) {
		long pg = sysconf(_SC_PAGESIZE);
		CU_ASSERT_FATAL(pg > 0 && GUARD_DATA % (size_t)pg == 0);
		size_t len = GUARD_DATA + (size_t)pg;
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CU_ASSERT_FATAL(m != MAP_FAILED);
		CU_ASSERT_FATAL(mprotect((uint8_t *)m + GUARD_DATA, (size_t)pg, PROT_NONE) == 0);
		guard_base = m;
	}
	CU_ASSERT_FATAL(n <= GUARD_DATA);
	return guard_base + GUARD_DATA - n;
}

/* Parse from an exactly-sized copy that ends at a guard page, so any
 * over-read faults (and ASan names it). */
static enum txg_pkt_err parse_exact(const uint8_t *p, uint32_t len, uint64_t ol, const struct txg_pkt_filter *f,
				    struct txg_pkt_info *out)
{
	uint8_t *c = guard_end(len);
	if (len)
		memcpy(c, p, len);
	enum txg_pkt_err e = txg_pkt_parse(c, len, ol, f, out);
	if (e == TXG_PKT_OK) {
		CU_ASSERT(out->payload >= c + 8 && out->payload + out->payload_len <= c + len);
		/* Make the pointer refer to the caller's bytes. */
		out->payload = p + (out->payload - c);
	}
	return e;
}

static enum txg_pkt_err parse(const uint8_t *p, size_t len, uint64_t ol)
{
	struct txg_pkt_filter f = any_filter();
	struct txg_pkt_info info;
	return parse_exact(p, (uint32_t)len, ol, &f, &info);
}

static void fix_ip4_csum(uint8_t *ip)
{
	unsigned hl = (ip[0] & 0xfu) * 4u;
	put16(ip + 10, 0);
	put16(ip + 10, txg_inet_csum(ip, hl, 0));
}

/* Insert nopt bytes of IPv4 options (NOPs + EOL) into a built packet. */
static size_t add_ip_options(uint8_t *buf, size_t len, size_t l3, size_t nopt)
{
	uint8_t *ip = buf + l3;
	memmove(ip + 20 + nopt, ip + 20, len - l3 - 20);
	memset(ip + 20, 1, nopt); /* NOP */
	ip[20 + nopt - 1] = 0;	  /* EOL */
	ip[0] = (uint8_t)(0x40 | ((20 + nopt) / 4));
	put16(ip + 2, (uint16_t)(get16(ip + 2) + nopt));
	fix_ip4_csum(ip);
	return len + nopt;
}

static void test_names(void)
{
	static const char *names[] = {"pkt_ok",	     "pkt_short",    "pkt_not_ip",   "pkt_vlan_stacked",
				      "pkt_ip_bad_hdr", "pkt_ip_csum",	"pkt_ip_frag",	"pkt_not_udp",
				      "pkt_dst_addr",	"pkt_dst_port", "pkt_udp_len",	"pkt_udp_csum"};
	CU_ASSERT_EQUAL(sizeof(names) / sizeof(names[0]), TXG_PKT_NUM);
	for (unsigned i = 0; i < TXG_PKT_NUM; i++)
		CU_ASSERT_STRING_EQUAL(txg_pkt_err_name(i), names[i]);
	CU_ASSERT_STRING_EQUAL(txg_pkt_err_name(TXG_PKT_NUM), "?");
}

static void test_csum_sum(void)
{
	uint8_t buf[300];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(rand() & 0xff);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= 260; n++) {
			uint16_t ref = (uint16_t)~txg_inet_csum(buf + off, n, 0);
			CU_ASSERT_EQUAL_FATAL(txg_pkt_csum_sum(buf + off, (uint32_t)n, 0), ref);
		}
	uint8_t ones[64];
	memset(ones, 0xff, sizeof(ones));
	CU_ASSERT_EQUAL(txg_pkt_csum_sum(ones, 64, 0), 0xffff);
	CU_ASSERT_EQUAL(txg_pkt_csum_sum(ones, 1, 0), 0xff00);
}

static void test_valid_v4(void)
{
	uint8_t buf[2048];
	for (size_t plen = 0; plen < 80; plen++) {
		for (size_t i = 0; i < plen; i++)
			payload[i] = (uint8_t)(i * 7 + plen);
		size_t n = build(buf, 4, 0, plen);
		struct txg_pkt_filter f = any_filter();
		struct txg_pkt_info in;
		CU_ASSERT_EQUAL_FATAL(parse_exact(buf, (uint32_t)n, 0, &f, &in), TXG_PKT_OK);
		CU_ASSERT_EQUAL(in.af, 4);
		CU_ASSERT_EQUAL(in.vlan, 0);
		CU_ASSERT_EQUAL(in.payload_len, plen);
		CU_ASSERT_PTR_EQUAL(in.payload, buf + 14 + 20 + 8);
		CU_ASSERT(memcmp(in.payload, payload, plen) == 0);
		CU_ASSERT(memcmp(in.src, V4_SRC, 4) == 0);
		CU_ASSERT(memcmp(in.dst, V4_DST, 4) == 0);
		CU_ASSERT_EQUAL(in.sport, 5555);
		CU_ASSERT_EQUAL(in.dport, PORT);
	}
}

static void test_v4_options(void)
{
	uint8_t buf[2048];
	for (size_t nopt = 4; nopt <= 40; nopt += 4) {
		size_t n = build(buf, 4, 0, 33);
		n = add_ip_options(buf, n, 14, nopt);
		struct txg_pkt_filter f = any_filter();
		struct txg_pkt_info in;
		CU_ASSERT_EQUAL(parse_exact(buf, (uint32_t)n, 0, &f, &in), TXG_PKT_OK);
		CU_ASSERT_EQUAL(in.payload_len, 33);
		CU_ASSERT_PTR_EQUAL(in.payload, buf + 14 + 20 + nopt + 8);
	}
}

static void test_v4_padding(void)
{
	uint8_t buf[2048];
	memset(buf, 0, sizeof(buf));
	payload[0] = 0xab;
	payload[1] = 0xcd;
	size_t n = build(buf, 4, 0, 2); /* 44 bytes */
	CU_ASSERT_EQUAL(n, 44);
	struct txg_pkt_filter f = any_filter();
	struct txg_pkt_info in;
	CU_ASSERT_EQUAL(parse_exact(buf, 60, 0, &f, &in), TXG_PKT_OK);
	CU_ASSERT_EQUAL(in.payload_len, 2);
	CU_ASSERT_EQUAL(in.payload[0], 0xab);
	/* Padding bytes that are not zero are ignored too. */
	memset(buf + 44, 0x5a, 16);
	CU_ASSERT_EQUAL(parse_exact(buf, 60, 0, &f, &in), TXG_PKT_OK);
	CU_ASSERT_EQUAL(in.payload_len, 2);
	/* IPv6 with padding. */
	n = build(buf, 6, 0, 2);
	memset(buf + n, 0x77, 10);
	CU_ASSERT_EQUAL(parse_exact(buf, (uint32_t)n + 10, 0, &f, &in), TXG_PKT_OK);
	CU_ASSERT_EQUAL(in.payload_len, 2);
}

static void test_vlan(void)
{
	uint8_t buf[2048];
	size_t n = build(buf, 4, 100, 20);
	struct txg_pkt_filter f = any_filter();
	struct txg_pkt_info in;
	CU_ASSERT_EQUAL(parse_exact(buf, (uint32_t)n, 0, &f, &in), TXG_PKT_OK);
	CU_ASSERT_EQUAL(in.vlan, 100);
	CU_ASSERT_PTR_EQUAL(in.payload, buf + 18 + 20 + 8);
	/* PCP/DEI bits are not part of the VID. */
	buf[14] |= 0xe0;
	CU_ASSERT_EQUAL(parse_exact(buf, (uint32_t)n, 0, &f, &in), TXG_PKT_OK);
	CU_ASSERT_EQUAL(in.vlan, 100);
	n = build(buf, 6, 4095, 20);
	CU_ASSERT_EQUAL(parse_exact(buf, (uint32_t)n, 0, &f, &in), TXG_PKT_OK);
	CU_ASSERT_EQUAL(in.vlan, 4095);
	CU_ASSERT_EQUAL(in.af, 6);
}

static void test_valid_v6(void)
{
	uint8_t buf[2048];
	for (size_t plen = 0; plen < 80; plen++) {
		for (size_t i = 0; i < plen; i++)
			payload[i] = (uint8_t)(i * 13 + plen);
		size_t n = build(buf, 6, 0, plen);
		struct txg_pkt_filter f = any_filter();
		struct txg_pkt_info in;
		CU_ASSERT_EQUAL_FATAL(parse_exact(buf, (uint32_t)n, 0, &f, &in), TXG_PKT_OK);
		CU_ASSERT_EQUAL(in.af, 6);
		CU_ASSERT_EQUAL(in.payload_len, plen);
		CU_ASSERT_PTR_EQUAL(in.payload, buf + 14 + 40 + 8);
		CU_ASSERT(memcmp(in.src, V6_SRC, 16) == 0);
		CU_ASSERT(memcmp(in.dst, V6_DST, 16) == 0);
		CU_ASSERT_EQUAL(in.sport, 5555);
	}
}

/* DPDK 22.11 RX checksum flags (rte_mbuf_core.h) and what each means for
 * the parser: drop = the packet is dropped; check = checked in software
 * (the packet's checksum decides); otherwise accepted without a check. */
struct csum_flag {
	uint64_t f;
	const char *name;
	int drop, check;
};
static const struct csum_flag ip_flag[4] = {
	{RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, "IP_UNKNOWN", 0, 1},
	{RTE_MBUF_F_RX_IP_CKSUM_BAD, "IP_BAD", 1, 0},
	{RTE_MBUF_F_RX_IP_CKSUM_GOOD, "IP_GOOD", 0, 0},
	{RTE_MBUF_F_RX_IP_CKSUM_NONE, "IP_NONE", 0, 0},
};
static const struct csum_flag l4_flag[4] = {
	{RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, "L4_UNKNOWN", 0, 1},
	{RTE_MBUF_F_RX_L4_CKSUM_BAD, "L4_BAD", 1, 0},
	{RTE_MBUF_F_RX_L4_CKSUM_GOOD, "L4_GOOD", 0, 0},
	{RTE_MBUF_F_RX_L4_CKSUM_NONE, "L4_NONE", 0, 0},
};

static void test_udp_csum_zero(void)
{
	uint8_t buf[2048];
	struct txg_pkt_spec s = spec(4, 0);
	s.no_udp_csum = 1;
	size_t n = txg_pkt_build(buf, sizeof(buf), &s, payload, 50);
	CU_ASSERT_EQUAL(get16(buf + 14 + 20 + 6), 0);
	CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_OK);
	/* Absent means absent even if the payload is changed. */
	buf[n - 1] ^= 0xff;
	CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_OK);
	/* Whatever the NIC says: BAD cannot be about an absent checksum. */
	for (unsigned ip = 0; ip < 4; ip++)
		for (unsigned l4 = 0; l4 < 4; l4++) {
			uint64_t ol = ip_flag[ip].f | l4_flag[l4].f;
			CU_ASSERT_EQUAL(parse(buf, n, ol), ip_flag[ip].f == RTE_MBUF_F_RX_IP_CKSUM_BAD ? TXG_PKT_IP_CSUM
												  : TXG_PKT_OK);
		}
	/* The same over a VLAN and with IPv4 options. */
	s.vlan = 9;
	n = txg_pkt_build(buf, sizeof(buf), &s, payload, 50);
	CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_OK);
	s.vlan = 0;
	n = add_ip_options(buf, txg_pkt_build(buf, sizeof(buf), &s, payload, 50), 14, 8);
	CU_ASSERT_EQUAL(get16(buf + 14 + 28 + 6), 0);
	CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_OK);

	/* IPv6: a zero checksum field is invalid (spec section 1, RFC 8200) and
	 * counted as pkt_udp_csum, whatever the NIC's flags say: no correct
	 * IPv6 UDP checksum is ever sent as 0. */
	for (uint16_t vlan = 0; vlan <= 7; vlan += 7) {
		n = build(buf, 6, vlan, 50);
		size_t l4 = vlan ? 18 + 40 : 14 + 40;
		CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_OK);
		put16(buf + l4 + 6, 0);
		for (unsigned ip = 0; ip < 4; ip++)
			for (unsigned l4f = 0; l4f < 4; l4f++)
				CU_ASSERT_EQUAL(parse(buf, n, ip_flag[ip].f | l4_flag[l4f].f), TXG_PKT_UDP_CSUM);
	}
	/* Also with an empty payload; a wrong UDP length is judged first. */
	n = build(buf, 6, 0, 0);
	put16(buf + 14 + 40 + 6, 0);
	CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_UDP_CSUM);
	put16(buf + 14 + 40 + 4, 9);
	CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_UDP_LEN);
}

/* A datagram whose checksum computes to 0 carries 0xffff (RFC 768/8200):
 * accepted over both families; the same datagram with the field 0 is
 * accepted over IPv4 only. */
static void test_udp_csum_ffff(void)
{
	uint8_t buf[2048];
	for (uint8_t af = 4; af <= 6; af += 2) {
		struct txg_pkt_spec s = spec(af, 0);
		size_t l4 = txg_pkt_l4_off(&s), plen = 30;
		for (size_t i = 0; i < plen; i++)
			payload[i] = (uint8_t)(i * 5 + 1);
		/* Steer the sum: adding the stored checksum c to one payload word
		 * (one's complement) makes the computed checksum 0. */
		CU_ASSERT_FATAL(txg_pkt_build(buf, sizeof(buf), &s, payload, plen) > 0);
		uint32_t c = get16(buf + l4 + 6);
		uint32_t w = (uint32_t)(payload[10] << 8 | payload[11]) + c;
		w = (w & 0xffff) + (w >> 16);
		payload[10] = (uint8_t)(w >> 8);
		payload[11] = (uint8_t)w;
		size_t n = txg_pkt_build(buf, sizeof(buf), &s, payload, plen);
		CU_ASSERT_EQUAL_FATAL(get16(buf + l4 + 6), 0xffff);
		CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_OK);
		put16(buf + l4 + 6, 0);
		CU_ASSERT_EQUAL(parse(buf, n, 0), af == 4 ? TXG_PKT_OK : TXG_PKT_UDP_CSUM);
		CU_ASSERT_EQUAL(parse(buf, n, RTE_MBUF_F_RX_L4_CKSUM_GOOD), af == 4 ? TXG_PKT_OK : TXG_PKT_UDP_CSUM);
	}
}

static void test_errors_l2(void)
{
	uint8_t buf[2048], b2[2048];
	size_t n = build(buf, 4, 0, 20);
	CU_ASSERT_EQUAL(parse(buf, 0, 0), TXG_PKT_SHORT);
	CU_ASSERT_EQUAL(parse(buf, 13, 0), TXG_PKT_SHORT);
	/* Not IP: ARP. */
	memcpy(b2, buf, n);
	put16(b2 + 12, 0x0806);
	CU_ASSERT_EQUAL(parse(b2, n, 0), TXG_PKT_NOT_IP);
	/* 0x88a8 outer tag. */
	n = build(buf, 4, 7, 20);
	memcpy(b2, buf, n);
	put16(b2 + 12, 0x88a8);
	CU_ASSERT_EQUAL(parse(b2, n, 0), TXG_PKT_VLAN_STACKED);
	/* Two 802.1Q tags, and 802.1Q then 802.1ad. */
	memcpy(b2, buf, 16);
	put16(b2 + 16, 0x8100);
	put16(b2 + 18, 9);
	memcpy(b2 + 20, buf + 16, n - 16);
	CU_ASSERT_EQUAL(parse(b2, n + 4, 0), TXG_PKT_VLAN_STACKED);
	put16(b2 + 16, 0x88a8);
	CU_ASSERT_EQUAL(parse(b2, n + 4, 0), TXG_PKT_VLAN_STACKED);
	/* A tag with nothing after it. */
	CU_ASSERT_EQUAL(parse(buf, 17, 0), TXG_PKT_SHORT);
	/* VLAN with a non-IP inner type. */
	memcpy(b2, buf, n);
	put16(b2 + 16, 0x0806);
	CU_ASSERT_EQUAL(parse(b2, n, 0), TXG_PKT_NOT_IP);
}

static void test_errors_v4(void)
{
	uint8_t buf[2048], b[2048];
	size_t n = build(buf, 4, 0, 20);
	uint8_t *ip = b + 14;

	memcpy(b, buf, n); /* version 5 */
	ip[0] = 0x55;
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_BAD_HDR);
	memcpy(b, buf, n); /* IHL 4 */
	ip[0] = 0x44;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_BAD_HDR);
	memcpy(b, buf, n); /* total length < 20 + 8 */
	put16(ip + 2, 27);
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_BAD_HDR);
	memcpy(b, buf, n); /* total length past the bytes we have */
	put16(ip + 2, (uint16_t)(n - 14 + 1));
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_SHORT);
	memcpy(b, buf, n); /* IHL past the bytes we have */
	ip[0] = 0x4f;
	CU_ASSERT_EQUAL(parse(b, 14 + 40, 0), TXG_PKT_SHORT);
	memcpy(b, buf, n); /* header checksum */
	ip[10] ^= 0x01;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_CSUM);
	memcpy(b, buf, n); /* a changed header byte without a fixed checksum */
	ip[8] = 3;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_CSUM);
	memcpy(b, buf, n); /* MF */
	put16(ip + 6, 0x2000);
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_FRAG);
	memcpy(b, buf, n); /* offset */
	put16(ip + 6, 0x0001);
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_FRAG);
	memcpy(b, buf, n); /* DF alone is fine */
	put16(ip + 6, 0x4000);
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_OK);
	memcpy(b, buf, n); /* TCP */
	ip[9] = 6;
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_NOT_UDP);

	uint8_t *udp = ip + 20;
	memcpy(b, buf, n); /* UDP length shorter than the IP payload */
	put16(udp + 4, (uint16_t)(get16(udp + 4) - 1));
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_LEN);
	memcpy(b, buf, n); /* longer */
	put16(udp + 4, (uint16_t)(get16(udp + 4) + 1));
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_LEN);
	memcpy(b, buf, n); /* under 8 */
	put16(udp + 4, 7);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_LEN);
	memcpy(b, buf, n); /* payload changed: checksum wrong */
	b[n - 1] ^= 0x40;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_CSUM);
	memcpy(b, buf, n); /* source address changed: pseudo header covered */
	ip[12] ^= 1;
	fix_ip4_csum(ip);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_CSUM);
	memcpy(b, buf, n); /* source port changed */
	udp[1] ^= 1;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_CSUM);
}

static void test_errors_v6(void)
{
	uint8_t buf[2048], b[2048];
	size_t n = build(buf, 6, 0, 20);
	uint8_t *ip = b + 14, *udp = ip + 40;
	memcpy(b, buf, n);
	ip[0] = 0x40;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_IP_BAD_HDR);
	memcpy(b, buf, n); /* extension header: hop-by-hop */
	ip[6] = 0;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_NOT_UDP);
	memcpy(b, buf, n);
	ip[6] = 6;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_NOT_UDP);
	memcpy(b, buf, n); /* payload length past the end */
	put16(ip + 4, (uint16_t)(get16(ip + 4) + 1));
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_SHORT);
	memcpy(b, buf, n); /* payload length under a UDP header */
	put16(ip + 4, 7);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_LEN);
	memcpy(b, buf, n); /* payload length shorter than the UDP length */
	put16(ip + 4, (uint16_t)(get16(ip + 4) - 1));
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_LEN);
	memcpy(b, buf, n);
	put16(udp + 4, (uint16_t)(get16(udp + 4) - 2));
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_LEN);
	memcpy(b, buf, n);
	b[n - 3] ^= 0x10;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_CSUM);
	memcpy(b, buf, n); /* destination address is in the pseudo header */
	ip[39] ^= 0x10;
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_UDP_CSUM);
	memcpy(b, buf, n);
	put16(udp + 2, PORT + 1);
	CU_ASSERT_EQUAL(parse(b, n, 0), TXG_PKT_DST_PORT);
}

static void test_flag_values(void)
{
	/* The tables above and the parser read the same DPDK bits. */
	CU_ASSERT_EQUAL(RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_NONE);
	CU_ASSERT_EQUAL(RTE_MBUF_F_RX_IP_CKSUM_NONE, RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	CU_ASSERT_EQUAL(RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	CU_ASSERT_EQUAL(RTE_MBUF_F_RX_L4_CKSUM_NONE, RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	CU_ASSERT_EQUAL(RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, 0);
	CU_ASSERT_EQUAL(RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, 0);
}

/* What the parser must answer for a packet whose IPv4 header checksum and
 * (non-zero) UDP checksum are right or wrong, given the two flags. IPv6 has
 * no header checksum: the IP flag is ignored. */
static enum txg_pkt_err want_for(uint8_t af, int ip_wrong, int udp_wrong, const struct csum_flag *fi,
				 const struct csum_flag *fu)
{
	if (af == 4 && (fi->drop || (fi->check && ip_wrong)))
		return TXG_PKT_IP_CSUM;
	if (fu->drop || (fu->check && udp_wrong))
		return TXG_PKT_UDP_CSUM;
	return TXG_PKT_OK;
}

/* Every IP flag x L4 flag on one packet; returns the number of wrong answers. */
static unsigned flag_matrix(const uint8_t *b, size_t n, uint8_t af, uint16_t vlan, int ip_wrong, int udp_wrong)
{
	/* Other ol_flags bits change nothing. */
	const uint64_t junk = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_RSS_HASH | RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD;
	unsigned fails = 0;
	for (unsigned ip = 0; ip < 4; ip++)
		for (unsigned u = 0; u < 4; u++)
			for (int j = 0; j <= 1; j++) {
				const struct csum_flag *fi = &ip_flag[ip], *fu = &l4_flag[u];
				enum txg_pkt_err want = want_for(af, ip_wrong, udp_wrong, fi, fu);
				enum txg_pkt_err got = parse(b, n, fi->f | fu->f | (j ? junk : 0));
				if (got == want)
					continue;
				fprintf(stderr, "\nIPv%u vlan %u, IP csum %s, UDP csum %s, %s|%s%s: got %s, want %s",
					af, vlan, ip_wrong ? "wrong" : "right", udp_wrong ? "wrong" : "right",
					fi->name, fu->name, j ? "|junk" : "", txg_pkt_err_name(got),
					txg_pkt_err_name(want));
				fails++;
			}
	return fails;
}

/* Every IP flag x L4 flag on IPv4 and IPv6 packets (untagged and tagged)
 * whose IPv4 header checksum and UDP checksum are each right or wrong. */
static void test_offload_matrix(void)
{
	uint8_t buf[2048], b[2048];
	unsigned fails = 0;
	for (uint8_t af = 4; af <= 6; af += 2)
		for (uint16_t vlan = 0; vlan <= 5; vlan += 5) {
			size_t n = build(buf, af, vlan, 40);
			size_t l3 = vlan ? 18 : 14, l4 = l3 + (af == 4 ? 20u : 40u);
			for (int ip_wrong = 0; ip_wrong <= (af == 4); ip_wrong++)
				for (int udp_wrong = 0; udp_wrong <= 1; udp_wrong++) {
					memcpy(b, buf, n);
					if (ip_wrong)
						b[l3 + 10] ^= 0x22; /* the stored header checksum */
					if (udp_wrong)
						b[l4 + 6] ^= 0x41; /* the stored UDP checksum, still non-zero */
					CU_ASSERT_FATAL(get16(b + l4 + 6) != 0);
					fails += flag_matrix(b, n, af, vlan, ip_wrong, udp_wrong);
				}
		}
	CU_ASSERT_EQUAL(fails, 0);
}

/* NONE: the fields are not filled in but the device verified the data, as
 * for a virtio/vhost peer's UDP checksum (left as the partial pseudo-header
 * sum); here also an IPv4 header checksum left 0. */
static void test_offload_none_virtio(void)
{
	uint8_t buf[2048];
	uint64_t none = RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE;
	for (uint8_t af = 4; af <= 6; af += 2) {
		size_t n = build(buf, af, 0, 64);
		uint8_t *ip = buf + 14, *udp = buf + 14 + (af == 4 ? 20 : 40);
		if (af == 4)
			put16(ip + 10, 0);
		/* Linux CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum. */
		uint32_t ulen = get16(udp + 4);
		uint16_t ps = af == 4 ? txg_pkt_csum_sum(ip + 12, 8, 0) : txg_pkt_csum_sum(ip + 8, 32, 0);
		uint32_t t = (uint32_t)ps + 17u + ulen;
		t = (t & 0xffff) + (t >> 16);
		t = (t & 0xffff) + (t >> 16);
		put16(udp + 6, (uint16_t)t);
		CU_ASSERT_EQUAL(parse(buf, n, none), TXG_PKT_OK);
		CU_ASSERT_EQUAL(parse(buf, n, RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_NONE), TXG_PKT_OK);
		/* Without the flags the same bytes are checked, and fail. */
		CU_ASSERT_EQUAL(parse(buf, n, 0), af == 4 ? TXG_PKT_IP_CSUM : TXG_PKT_UDP_CSUM);
		CU_ASSERT_EQUAL(parse(buf, n, RTE_MBUF_F_RX_IP_CKSUM_NONE), TXG_PKT_UDP_CSUM);
		/* NONE does not switch off the other rules. */
		uint8_t save = udp[3];
		udp[3] ^= 1; /* another port */
		CU_ASSERT_EQUAL(parse(buf, n, none), TXG_PKT_DST_PORT);
		udp[3] = save;
		put16(udp + 4, (uint16_t)(ulen + 1));
		CU_ASSERT_EQUAL(parse(buf, n, none), TXG_PKT_UDP_LEN);
		put16(udp + 4, (uint16_t)ulen);
		if (af == 4) {
			put16(ip + 6, 0x2000);
			CU_ASSERT_EQUAL(parse(buf, n, none), TXG_PKT_IP_FRAG);
		}
	}
}

static void test_filter(void)
{
	uint8_t b4[2048], b6[2048];
	size_t n4 = build(b4, 4, 0, 10), n6 = build(b6, 6, 0, 10);
	struct txg_pkt_filter f = any_filter();
	struct txg_pkt_info in;
	CU_ASSERT_EQUAL(parse_exact(b4, (uint32_t)n4, 0, &f, &in), TXG_PKT_OK);
	CU_ASSERT_EQUAL(parse_exact(b6, (uint32_t)n6, 0, &f, &in), TXG_PKT_OK);

	/* An IPv4 list that does not hold the destination; IPv6 stays "any". */
	f.n_ipv4 = 2;
	memcpy(f.ipv4[0], (uint8_t[4]){10, 0, 0, 3}, 4);
	memcpy(f.ipv4[1], (uint8_t[4]){192, 168, 1, 2}, 4);
	CU_ASSERT_EQUAL(parse_exact(b4, (uint32_t)n4, 0, &f, &in), TXG_PKT_DST_ADDR);
	CU_ASSERT_EQUAL(parse_exact(b6, (uint32_t)n6, 0, &f, &in), TXG_PKT_OK);
	/* Its last entry matches. */
	f.n_ipv4 = 3;
	memcpy(f.ipv4[2], V4_DST, 4);
	CU_ASSERT_EQUAL(parse_exact(b4, (uint32_t)n4, 0, &f, &in), TXG_PKT_OK);
	/* Entries past n_ipv4 do not count. */
	f.n_ipv4 = 2;
	CU_ASSERT_EQUAL(parse_exact(b4, (uint32_t)n4, 0, &f, &in), TXG_PKT_DST_ADDR);

	f = any_filter();
	f.n_ipv6 = 1;
	memcpy(f.ipv6[0], V6_SRC, 16);
	CU_ASSERT_EQUAL(parse_exact(b6, (uint32_t)n6, 0, &f, &in), TXG_PKT_DST_ADDR);
	CU_ASSERT_EQUAL(parse_exact(b4, (uint32_t)n4, 0, &f, &in), TXG_PKT_OK);
	f.n_ipv6 = TXG_MAX_ADDRS;
	for (unsigned i = 1; i < TXG_MAX_ADDRS; i++)
		memcpy(f.ipv6[i], V6_SRC, 16);
	memcpy(f.ipv6[TXG_MAX_ADDRS - 1], V6_DST, 16);
	CU_ASSERT_EQUAL(parse_exact(b6, (uint32_t)n6, 0, &f, &in), TXG_PKT_OK);

	f = any_filter();
	f.udp_port = PORT + 1;
	CU_ASSERT_EQUAL(parse_exact(b4, (uint32_t)n4, 0, &f, &in), TXG_PKT_DST_PORT);
	CU_ASSERT_EQUAL(parse_exact(b6, (uint32_t)n6, 0, &f, &in), TXG_PKT_DST_PORT);
}

/* A count over TXG_MAX_ADDRS means the whole list: the parser never reads
 * past the filter (it ends at a guard page here). */
static void test_filter_count_clamped(void)
{
	uint8_t b4[2048], b6[2048];
	size_t n4 = build(b4, 4, 0, 10), n6 = build(b6, 6, 0, 10);
	/* A page boundary minus the struct's size is aligned for it. */
	struct txg_pkt_filter *f = guard_end(sizeof(*f));
	struct txg_pkt_info in;
	const unsigned counts[] = {TXG_MAX_ADDRS + 1, 1000, 0xffffffffu};
	for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		/* Packets are parsed from the caller's buffer: the guard holds the filter. */
		memset(f, 0, sizeof(*f));
		f->udp_port = PORT;
		f->n_ipv4 = f->n_ipv6 = counts[c];
		memset(f->ipv4, 0xaa, sizeof(f->ipv4));
		memset(f->ipv6, 0xaa, sizeof(f->ipv6));
		CU_ASSERT_EQUAL(txg_pkt_parse(b4, (uint32_t)n4, 0, f, &in), TXG_PKT_DST_ADDR);
		CU_ASSERT_EQUAL(txg_pkt_parse(b6, (uint32_t)n6, 0, f, &in), TXG_PKT_DST_ADDR);
		memcpy(f->ipv4[TXG_MAX_ADDRS - 1], V4_DST, 4);
		memcpy(f->ipv6[TXG_MAX_ADDRS - 1], V6_DST, 16);
		CU_ASSERT_EQUAL(txg_pkt_parse(b4, (uint32_t)n4, 0, f, &in), TXG_PKT_OK);
		CU_ASSERT_EQUAL(txg_pkt_parse(b6, (uint32_t)n6, 0, f, &in), TXG_PKT_OK);
	}
}

static void test_filter_from_config(void)
{
	struct txg_config c;
	memset(&c, 0, sizeof(c));
	c.udp_port = 9000;
	c.n_ipv4 = 1;
	memcpy(c.ipv4[0], V4_DST, 4);
	c.n_ipv6 = 2;
	memcpy(c.ipv6[1], V6_DST, 16);
	struct txg_pkt_filter f;
	memset(&f, 0xee, sizeof(f));
	txg_pkt_filter_from_config(&f, &c);
	CU_ASSERT_EQUAL(f.udp_port, 9000);
	CU_ASSERT_EQUAL(f.n_ipv4, 1);
	CU_ASSERT(memcmp(f.ipv4[0], V4_DST, 4) == 0);
	CU_ASSERT_EQUAL(f.n_ipv6, 2);
	CU_ASSERT(memcmp(f.ipv6[1], V6_DST, 16) == 0);
}

static void truncations(const uint8_t *buf, size_t n)
{
	for (size_t l = 0; l < n; l++) {
		enum txg_pkt_err e = parse(buf, l, 0);
		CU_ASSERT_NOT_EQUAL_FATAL(e, TXG_PKT_OK);
		CU_ASSERT(e < TXG_PKT_NUM);
	}
	CU_ASSERT_EQUAL(parse(buf, n, 0), TXG_PKT_OK);
}

static void test_truncation(void)
{
	uint8_t buf[2048];
	size_t n;
	n = build(buf, 4, 0, 37);
	truncations(buf, n);
	n = build(buf, 4, 0, 0);
	truncations(buf, n);
	n = build(buf, 4, 12, 37);
	truncations(buf, n);
	n = add_ip_options(buf, build(buf, 4, 0, 37), 14, 40);
	truncations(buf, n);
	n = build(buf, 6, 0, 37);
	truncations(buf, n);
	n = build(buf, 6, 3, 1);
	truncations(buf, n);
}

/* Random corruption: whatever the result, no out-of-bounds read (ASan),
 * and an OK result's payload lies inside the packet (parse_exact). */
static void test_random_mutation(void)
{
	uint8_t buf[2048], b[2048];
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		size_t n = build(buf, (round & 1) ? 4 : 6, (round & 2) ? 5 : 0, (size_t)(rand() % 64));
		memcpy(b, buf, n);
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			b[rand() % (int)n] ^= (uint8_t)(1 + rand() % 255);
		size_t l = (rand() % 4 == 0) ? (size_t)(rand() % (int)(n + 1)) : n;
		enum txg_pkt_err e = parse(b, l, (uint64_t)(rand() & 0x198));
		CU_ASSERT_FATAL(e < TXG_PKT_NUM);
	}
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("pkt", NULL, NULL);
	CU_add_test(s, "names", test_names);
	CU_add_test(s, "csum_sum", test_csum_sum);
	CU_add_test(s, "valid_v4", test_valid_v4);
	CU_add_test(s, "v4_options", test_v4_options);
	CU_add_test(s, "v4_padding", test_v4_padding);
	CU_add_test(s, "vlan", test_vlan);
	CU_add_test(s, "valid_v6", test_valid_v6);
	CU_add_test(s, "udp_csum_zero", test_udp_csum_zero);
	CU_add_test(s, "udp_csum_ffff", test_udp_csum_ffff);
	CU_add_test(s, "errors_l2", test_errors_l2);
	CU_add_test(s, "errors_v4", test_errors_v4);
	CU_add_test(s, "errors_v6", test_errors_v6);
	CU_add_test(s, "flag_values", test_flag_values);
	CU_add_test(s, "offload_matrix", test_offload_matrix);
	CU_add_test(s, "offload_none_virtio", test_offload_none_virtio);
	CU_add_test(s, "filter", test_filter);
	CU_add_test(s, "filter_count_clamped", test_filter_count_clamped);
	CU_add_test(s, "filter_from_config", test_filter_from_config);
	CU_add_test(s, "truncation", test_truncation);
	CU_add_test(s, "random_mutation", test_random_mutation);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
