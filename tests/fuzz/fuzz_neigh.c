/* libFuzzer target: txg_neigh_classify and txg_neigh_build_reply on
 * arbitrary bytes, and on valid requests (ARP, NS, DAD NS, ICMP and ICMPv6
 * echo) built here then corrupted, with checksums optionally fixed up so
 * the deep rules run without a seed corpus. Checks: no out-of-bounds
 * access (exactly-sized heap buffers, ASan), no UB (UBSan), and every
 * reply, built into a buffer of exactly reply_len bytes, re-parses as a
 * valid frame of the right kind (checksums recomputed here) from our MAC
 * and address, keeps the request's tag; an echo reply
 * is never longer than max(request, 60). The gratuitous ARP and unsolicited NA builders are
 * checked the same way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "neigh.h"
#include "pkt_build.h"

#define CHECK(c)                                                                                                 \
	do {                                                                                                     \
		if (!(c))                                                                                        \
			__builtin_trap();                                                                        \
	} while (0)

static const uint8_t OUR_MAC[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0xaa};
static const uint8_t PEER_MAC[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0xbb};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Byte-wise Internet sum, folded, not inverted. */
static uint16_t sum(const uint8_t *p, size_t n, uint64_t s)
{
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t pseudo6(const uint8_t *src, const uint8_t *dst, uint32_t len)
{
	uint8_t ph[40] = {0};
	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	put16(ph + 32, len >> 16);
	put16(ph + 34, len);
	ph[39] = 58;
	return sum(ph, 40, 0);
}

static void setup_cfg(struct txg_neigh_cfg *c, uint8_t sel)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, OUR_MAC, 6);
	c->n_ipv4 = 2;
	memcpy(c->ipv4[0], (uint8_t[4]){192, 0, 2, 1}, 4);
	memcpy(c->ipv4[1], (uint8_t[4]){10, 0, 0, 2}, 4);
	c->n_ipv6 = 2;
	memcpy(c->ipv6[0], (uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, [13] = 0x12, 0x34, 0x56}, 16);
	memcpy(c->ipv6[1], (uint8_t[16]){0xfe, 0x80, [12] = 0x77, 0x12, 0x34, 0x56}, 16); /* same group */
	if (sel & 1) /* counts past the lists mean the whole list */
		c->n_ipv4 = c->n_ipv6 = 0xffffffffu;
	if (sel & 2)
		c->n_ipv4 = 0;
	if (sel & 4)
		c->n_ipv6 = 0;
}

/* Independent re-parse of a reply out[0..n) to request p[0..len). */
static void check_reply(const uint8_t *p, uint32_t len, const struct txg_neigh_req *r, const struct txg_neigh_cfg *c,
			const uint8_t *out, uint32_t n)
{
	unsigned n4 = c->n_ipv4 < TXG_MAX_ADDRS ? c->n_ipv4 : TXG_MAX_ADDRS;
	unsigned n6 = c->n_ipv6 < TXG_MAX_ADDRS ? c->n_ipv6 : TXG_MAX_ADDRS;
	CHECK(n == r->reply_len && n >= 60);
	/* Echo replies are never longer than their request; ARP replies are 60
	 * bytes, NAs 86 (90 tagged), up to 8 more than an NS without options. */
	if (r->kind == TXG_NEIGH_ECHO4 || r->kind == TXG_NEIGH_ECHO6)
		CHECK(n <= (len > 60 ? len : 60));
	CHECK(memcmp(out + 6, OUR_MAC, 6) == 0 && memcmp(out, r->peer_mac, 6) == 0);
	CHECK(!(out[0] & 1) || r->kind == TXG_NEIGH_NS); /* only a DAD answer is multicast */
	int tagged = get16(p + 12) == 0x8100;
	uint32_t l2 = tagged ? 18 : 14;
	CHECK(r->tagged == tagged && r->l3 == l2);
	CHECK((get16(out + 12) == 0x8100) == tagged);
	if (tagged)
		CHECK(get16(out + 14) == get16(p + 14));
	const uint8_t *h = out + l2;
	uint16_t et = get16(out + l2 - 2);
	switch (r->kind) {
	case TXG_NEIGH_ARP:
		CHECK(n == 60 && et == 0x0806);
		CHECK(get16(h) == 1 && get16(h + 2) == 0x0800 && h[4] == 6 && h[5] == 4 && get16(h + 6) == 2);
		CHECK(memcmp(h + 8, OUR_MAC, 6) == 0 && r->addr < n4 && memcmp(h + 14, c->ipv4[r->addr], 4) == 0);
		CHECK(memcmp(h + 18, out, 6) == 0);
		CHECK(memcmp(h + 14, p + l2 + 24, 4) == 0 && memcmp(h + 24, p + l2 + 14, 4) == 0);
		for (uint32_t i = l2 + 28; i < n; i++)
			CHECK(out[i] == 0);
		break;
	case TXG_NEIGH_NS: {
		CHECK(n == l2 + 72 && et == 0x86dd);
		CHECK(h[0] == 0x60 && get16(h + 4) == 32 && h[6] == 58 && h[7] == 255);
		CHECK(r->addr < n6 && memcmp(h + 8, c->ipv6[r->addr], 16) == 0);
		const uint8_t *m = h + 40;
		CHECK(m[0] == 136 && m[1] == 0 && sum(m, 32, pseudo6(h + 8, h + 24, 32)) == 0xffff);
		CHECK(m[4] == (r->dad ? 0x20 : 0x60) && memcmp(m + 8, h + 8, 16) == 0);
		CHECK(m[24] == 2 && m[25] == 1 && memcmp(m + 26, OUR_MAC, 6) == 0);
		CHECK(memcmp(p + l2 + 48, h + 8, 16) == 0); /* the target asked for */
		if (r->dad)
			CHECK(h[24] == 0xff && h[25] == 2 && h[39] == 1 && out[0] == 0x33);
		else
			CHECK(memcmp(h + 24, p + l2 + 8, 16) == 0);
		break;
	}
	case TXG_NEIGH_ECHO4: {
		CHECK(et == 0x0800 && h[0] == 0x45 && h[8] == 64 && h[9] == 1 && sum(h, 20, 0) == 0xffff);
		uint32_t tot = get16(h + 2);
		CHECK(tot >= 28 && l2 + tot <= n && (l2 + tot == n || n == 60));
		CHECK(r->addr < n4 && memcmp(h + 12, c->ipv4[r->addr], 4) == 0);
		const uint8_t *rq = p + r->l3;
		CHECK(memcmp(h + 12, rq + 16, 4) == 0 && memcmp(h + 16, rq + 12, 4) == 0);
		CHECK(h[20] == 0 && h[21] == 0 && sum(h + 20, tot - 20, 0) == 0xffff);
		CHECK(memcmp(h + 24, p + r->l4 + 4, tot - 24) == 0);
		break;
	}
	case TXG_NEIGH_ECHO6: {
		uint32_t pl = get16(h + 4);
		CHECK(et == 0x86dd && (h[0] >> 4) == 6 && h[6] == 58 && h[7] == 64 && n == l2 + 40 + pl);
		CHECK(r->addr < n6 && memcmp(h + 8, c->ipv6[r->addr], 16) == 0);
		CHECK(memcmp(h + 24, p + l2 + 8, 16) == 0);
		CHECK(h[40] == 129 && h[41] == 0 && sum(h + 40, pl, pseudo6(h + 8, h + 24, pl)) == 0xffff);
		CHECK(memcmp(h + 44, p + r->l4 + 4, pl - 4) == 0);
		break;
	}
	default:
		CHECK(0);
	}
}

static void run(const uint8_t *data, uint32_t len, const struct txg_neigh_cfg *c)
{
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		return;
	memcpy(p, data, len);
	struct txg_neigh_req r, r2;
	enum txg_neigh_kind k = txg_neigh_classify(p, len, c, &r);
	CHECK((unsigned)k < TXG_NEIGH_KIND_NUM && k == r.kind);
	CHECK((k == TXG_NEIGH_BAD) == (r.why != TXG_NW_OK) && (unsigned)r.why < TXG_NW_NUM);
	CHECK(txg_neigh_classify(p, len, c, &r2) == k && memcmp(&r, &r2, sizeof(r)) == 0);
	if (k != TXG_NEIGH_NONE && k != TXG_NEIGH_BAD) {
		CHECK(r.reply_len >= 60 && r.reply_len <= TXG_NEIGH_REPLY_MAX);
		uint8_t *o = malloc(r.reply_len);
		if (o) {
			CHECK(txg_neigh_build_reply(o, r.reply_len - 1, p, len, &r, c) == 0);
			uint32_t n = txg_neigh_build_reply(o, r.reply_len, p, len, &r, c);
			check_reply(p, len, &r, c, o, n);
			free(o);
		}
	} else {
		uint8_t o[128];
		CHECK(txg_neigh_build_reply(o, sizeof(o), p, len, &r, c) == 0);
	}
	free(p);
}

/* A valid request of kind sel % 5 into b (at least 2048 bytes). */
static size_t build_req(uint8_t *b, unsigned sel, int tagged, uint8_t dlen, const struct txg_neigh_cfg *c)
{
	static const uint8_t peer4[4] = {192, 0, 2, 99};
	static const uint8_t peer6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x99};
	unsigned kind = sel % 5, ai = (sel / 5) & 1;
	size_t o = 12;
	memcpy(b + 6, PEER_MAC, 6);
	if (tagged) {
		put16(b + 12, 0x8100);
		put16(b + 14, 0x6123);
		o = 16;
	}
	if (kind == 0) { /* ARP */
		memset(b, 0xff, 6);
		put16(b + o, 0x0806);
		uint8_t *a = b + o + 2;
		put16(a, 1);
		put16(a + 2, 0x0800);
		a[4] = 6;
		a[5] = 4;
		put16(a + 6, 1);
		memcpy(a + 8, PEER_MAC, 6);
		memcpy(a + 14, peer4, 4);
		memset(a + 18, 0, 6);
		memcpy(a + 24, c->ipv4[ai], 4);
		return o + 2 + 28;
	}
	if (kind == 1) { /* ICMP echo */
		memcpy(b, OUR_MAC, 6);
		put16(b + o, 0x0800);
		uint8_t *ip = b + o + 2, *m = ip + 20;
		uint32_t ml = 8u + dlen;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, 20 + ml);
		ip[8] = 64;
		ip[9] = 1;
		memcpy(ip + 12, peer4, 4);
		memcpy(ip + 16, c->ipv4[ai], 4);
		put16(ip + 10, txg_inet_csum(ip, 20, 0));
		m[0] = 8;
		m[1] = 0;
		put16(m + 2, 0);
		put16(m + 4, 0x55);
		put16(m + 6, 0x66);
		for (uint32_t i = 0; i < dlen; i++)
			m[8 + i] = (uint8_t)i;
		put16(m + 2, txg_inet_csum(m, ml, 0));
		return o + 2 + 20 + ml;
	}
	/* IPv6: NS (2), DAD NS (3), echo (4). */
	put16(b + o, 0x86dd);
	uint8_t *ip = b + o + 2, *m = ip + 40;
	uint32_t ml;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[6] = 58;
	const uint8_t *a = c->ipv6[ai];
	if (kind == 4) {
		memcpy(b, OUR_MAC, 6);
		ip[7] = 64;
		memcpy(ip + 8, peer6, 16);
		memcpy(ip + 24, a, 16);
		m[0] = 128;
		m[1] = 0;
		put16(m + 4, 1);
		put16(m + 6, 2);
		for (uint32_t i = 0; i < dlen; i++)
			m[8 + i] = (uint8_t)i;
		ml = 8u + dlen;
	} else {
		static const uint8_t pre[13] = {0xff, 0x02, [11] = 1, 0xff};
		memcpy(ip + 24, pre, 13);
		memcpy(ip + 37, a + 13, 3);
		b[0] = b[1] = 0x33;
		memcpy(b + 2, ip + 36, 4);
		ip[7] = 255;
		if (kind == 2)
			memcpy(ip + 8, peer6, 16);
		m[0] = 135;
		m[1] = 0;
		memset(m + 4, 0, 4);
		memcpy(m + 8, a, 16);
		ml = 24;
		if (kind == 2) {
			m[24] = 1;
			m[25] = 1;
			memcpy(m + 26, PEER_MAC, 6);
			ml = 32;
		}
	}
	put16(ip + 4, ml);
	put16(m + 2, 0);
	put16(m + 2, (uint16_t)~sum(m, ml, pseudo6(ip + 8, ip + 24, ml)));
	return o + 2 + 40 + ml;
}

static void fix_csums(uint8_t *b, size_t n)
{
	uint32_t l2 = get16(b + 12) == 0x8100 ? 18 : 14;
	if (n < l2 + 40)
		return;
	uint8_t *ip = b + l2;
	uint16_t et = get16(b + l2 - 2);
	if (et == 0x0800) {
		uint32_t hl = (ip[0] & 15u) * 4u, tot = get16(ip + 2);
		if (hl < 20 || hl > n - l2 || tot > n - l2 || tot < hl + 4)
			return;
		put16(ip + 10, 0);
		put16(ip + 10, txg_inet_csum(ip, hl, 0));
		put16(ip + hl + 2, 0);
		put16(ip + hl + 2, txg_inet_csum(ip + hl, tot - hl, 0));
	} else if (et == 0x86dd) {
		uint32_t pl = get16(ip + 4);
		if (pl < 4 || pl > n - l2 - 40)
			return;
		put16(ip + 42, 0);
		put16(ip + 42, (uint16_t)~sum(ip + 40, pl, pseudo6(ip + 8, ip + 24, pl)));
	}
}

static void announcements(uint8_t sel, uint8_t tci_hi, uint8_t tci_lo, const struct txg_neigh_cfg *c)
{
	unsigned i = sel & 15u;
	int tagged = sel & 16;
	uint16_t tci = (uint16_t)(tci_hi << 8 | tci_lo);
	uint32_t l2 = tagged ? 18 : 14;
	unsigned n4 = c->n_ipv4 < TXG_MAX_ADDRS ? c->n_ipv4 : TXG_MAX_ADDRS;
	unsigned n6 = c->n_ipv6 < TXG_MAX_ADDRS ? c->n_ipv6 : TXG_MAX_ADDRS;
	uint8_t *o = malloc(TXG_NEIGH_NA_LEN_TAGGED);
	if (!o)
		return;
	uint32_t n = txg_neigh_build_garp(o, TXG_NEIGH_ARP_LEN, c, i, tagged, tci);
	CHECK(n == (i < n4 ? TXG_NEIGH_ARP_LEN : 0));
	if (n) {
		const uint8_t *a = o + l2;
		CHECK(memcmp(o, "\xff\xff\xff\xff\xff\xff", 6) == 0 && memcmp(o + 6, OUR_MAC, 6) == 0);
		CHECK(!tagged || get16(o + 14) == tci);
		CHECK(get16(a - 2) == 0x0806 && get16(a + 6) == 1 && memcmp(a + 8, OUR_MAC, 6) == 0);
		CHECK(memcmp(a + 14, c->ipv4[i], 4) == 0 && memcmp(a + 24, c->ipv4[i], 4) == 0);
	}
	uint32_t want = tagged ? TXG_NEIGH_NA_LEN_TAGGED : TXG_NEIGH_NA_LEN;
	CHECK(txg_neigh_build_unsol_na(o, want - 1, c, i, tagged, tci) == 0);
	n = txg_neigh_build_unsol_na(o, want, c, i, tagged, tci);
	CHECK(n == (i < n6 ? want : 0));
	if (n) {
		const uint8_t *h = o + l2, *m = h + 40;
		CHECK(o[0] == 0x33 && o[5] == 1 && (!tagged || get16(o + 14) == tci));
		CHECK(h[7] == 255 && memcmp(h + 8, c->ipv6[i], 16) == 0 && h[24] == 0xff && h[39] == 1);
		CHECK(m[0] == 136 && m[4] == 0x20 && sum(m, 32, pseudo6(h + 8, h + 24, 32)) == 0xffff);
	}
	free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t mode = data[0], sel = data[1], aux = data[2];
	data += 3;
	size -= 3;
	struct txg_neigh_cfg c;
	setup_cfg(&c, sel);
	announcements(aux, sel, mode, &c);
	if (!(mode & 1)) {
		run(data, (uint32_t)size, &c); /* raw bytes */
		return 0;
	}
	/* A valid request of kind (aux % 10), corrupted by (pos, xor) pairs,
	 * checksums fixed if mode & 2, cut short by mode's top bits. */
	struct txg_neigh_cfg full;
	setup_cfg(&full, 0);
	uint8_t b[2048];
	size_t n = build_req(b, aux, mode & 4, size ? data[0] : 0, &full);
	for (size_t i = 1; i + 1 < size; i += 2)
		b[data[i] % n] ^= data[i + 1];
	if (mode & 2)
		fix_csums(b, n);
	size_t cut = (size_t)(mode >> 4);
	run(b, (uint32_t)(cut < n ? n - cut : 0), &c);
	return 0;
}
