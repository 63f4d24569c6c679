/* Unit tests of the ARP / NDP / echo answers (neigh.c). Requests are
 * written byte by byte here (checksums by pkt_build's txg_inet_csum),
 * classified from a copy that ends at a guard page, answered into a buffer
 * that ends at another, and every field of every reply is checked against
 * the request, with checksums recomputed by a third, byte-wise sum. No EAL. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "neigh.h"
#include "pkt_build.h"

static const uint8_t OUR_MAC[6] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0xaa};
static const uint8_t PEER_MAC[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0xbb};
static const uint8_t OTHER_MAC[6] = {0x02, 0x99, 0x99, 0x99, 0x99, 0x99};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ALLN_MAC[6] = {0x33, 0x33, 0, 0, 0, 1};

static const uint8_t V4_A[4] = {192, 0, 2, 1}, V4_B[4] = {198, 51, 100, 7};
static const uint8_t V4_PEER[4] = {192, 0, 2, 99}, V4_OTHER[4] = {192, 0, 2, 50};
/* A and C share their low 24 bits, so one solicited-node group. */
static const uint8_t V6_A[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56};
static const uint8_t V6_B[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0xef};
static const uint8_t V6_C[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77, 0x12, 0x34, 0x56};
static const uint8_t V6_PEER[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99};
/* Another node in A's (and C's) solicited-node group. */
static const uint8_t V6_OTHER[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x99, 0x12, 0x34, 0x56};
static const uint8_t V6_UNSPEC[16];
static const uint8_t V6_ALLN[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static struct txg_neigh_cfg CFG;

static void cfg_setup(void)
{
	memset(&CFG, 0, sizeof(CFG));
	memcpy(CFG.mac, OUR_MAC, 6);
	CFG.n_ipv4 = 2;
	memcpy(CFG.ipv4[0], V4_A, 4);
	memcpy(CFG.ipv4[1], V4_B, 4);
	CFG.n_ipv6 = 3;
	memcpy(CFG.ipv6[0], V6_A, 16);
	memcpy(CFG.ipv6[1], V6_B, 16);
	memcpy(CFG.ipv6[2], V6_C, 16);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* ---- reference checksum: byte by byte, folded at the end ---- */

static uint16_t ref_sum(const uint8_t *p, size_t n, uint64_t s)
{
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static int ref_ok4(const uint8_t *p, size_t n) { return ref_sum(p, n, 0) == 0xffff; }

static uint64_t ref_pseudo6(const uint8_t *src, const uint8_t *dst, size_t len)
{
	uint8_t ph[40];
	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	ph[32] = (uint8_t)(len >> 24);
	ph[33] = (uint8_t)(len >> 16);
	ph[34] = (uint8_t)(len >> 8);
	ph[35] = (uint8_t)len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 58;
	return ref_sum(ph, 40, 0);
}

static int ref_ok6(const uint8_t *src, const uint8_t *dst, const uint8_t *m, size_t n)
{
	return ref_sum(m, n, ref_pseudo6(src, dst, n)) == 0xffff;
}

/* ---- guard pages ---- */

/* GUARD_DATA bytes followed by an inaccessible page, twice (requests and
 * replies): an object that ends at the boundary faults on any access past
 * its end, with or without ASan. */
#define GUARD_DATA (80u * 1024u)
static uint8_t *guard_base[2];

static void *guard_end(int slot, size_t n)
{
	if (!guard_base[slot]) {
		long pg = sysconf(_SC_PAGESIZE);
		CU_ASSERT_FATAL(pg > 0 && GUARD_DATA % (size_t)pg == 0);
		size_t len = GUARD_DATA + (size_t)pg;
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CU_ASSERT_FATAL(m != MAP_FAILED);
		CU_ASSERT_FATAL(mprotect((uint8_t *)m + GUARD_DATA, (size_t)pg, PROT_NONE) == 0);
		guard_base[slot] = m;
	}
	CU_ASSERT_FATAL(n <= GUARD_DATA);
	return guard_base[slot] + GUARD_DATA - n;
}

/* Classify an exactly-sized copy of p[0..len) that ends at a guard page. */
static enum txg_neigh_kind classify(const uint8_t *p, size_t len, struct txg_neigh_req *r)
{
	uint8_t *c = guard_end(0, len);
	if (len)
		memcpy(c, p, len);
	enum txg_neigh_kind k = txg_neigh_classify(c, (uint32_t)len, &CFG, r);
	CU_ASSERT_EQUAL(k, r->kind);
	CU_ASSERT(k < TXG_NEIGH_KIND_NUM);
	CU_ASSERT((k == TXG_NEIGH_BAD) == (r->why != TXG_NW_OK));
	return k;
}

/* Classify as above and build the reply into a buffer of exactly
 * r->reply_len bytes ending at the other guard page; out gets a copy. */
static uint32_t answer(const uint8_t *p, size_t len, struct txg_neigh_req *r, uint8_t *out)
{
	enum txg_neigh_kind k = classify(p, len, r);
	if (k == TXG_NEIGH_NONE || k == TXG_NEIGH_BAD)
		return 0;
	const uint8_t *in = guard_end(0, len); /* still holds the request */
	CU_ASSERT_FATAL(r->reply_len >= TXG_NEIGH_MIN_FRAME && r->reply_len <= TXG_NEIGH_REPLY_MAX);
	/* One byte short: refused, nothing written. */
	uint8_t *o = guard_end(1, r->reply_len);
	memset(o, 0xa5, r->reply_len);
	CU_ASSERT_EQUAL(txg_neigh_build_reply(o + 1, r->reply_len - 1, in, (uint32_t)len, r, &CFG), 0);
	for (uint32_t i = 0; i < r->reply_len; i++)
		CU_ASSERT_EQUAL_FATAL(o[i], 0xa5);
	uint32_t n = txg_neigh_build_reply(o, r->reply_len, in, (uint32_t)len, r, &CFG);
	CU_ASSERT_EQUAL_FATAL(n, r->reply_len);
	memcpy(out, o, n);
	return n;
}

/* ---- requests, byte by byte ---- */

struct rq {
	uint8_t dmac[6], smac[6];
	int tagged;
	uint16_t tci;
	int qinq; /* a second 802.1Q tag inside the first */
	/* ARP */
	uint16_t htype, ptype, oper;
	uint8_t hlen, plen;
	uint8_t sha[6], spa[4], tha[6], tpa[4];
	/* IP */
	uint8_t src[16], dst[16];
	uint8_t ttl, tos;
	uint16_t frag; /* IPv4 flags + fragment offset */
	uint8_t nopt;  /* IPv4 option bytes (multiple of 4) */
	uint8_t nh;    /* IPv6 next header (58 unless changed) */
	uint8_t type, code;
	uint16_t id, seq;
	uint32_t dlen; /* echo data bytes */
	/* NS */
	uint8_t target[16];
	int slla;
	uint8_t slla_mac[6];
	uint8_t opts[64]; /* raw options after the SLLA */
	size_t nopts;
	int csum_delta; /* added to the ICMP checksum */
	int ipcsum_delta;
	uint32_t pad; /* zero bytes after the IP datagram */
};

static uint32_t l2_len(const struct rq *q) { return q->tagged ? (q->qinq ? 22u : 18u) : 14u; }

static size_t put_eth(uint8_t *b, const struct rq *q, uint16_t et)
{
	memcpy(b, q->dmac, 6);
	memcpy(b + 6, q->smac, 6);
	size_t o = 12;
	if (q->tagged) {
		put16(b + o, 0x8100);
		put16(b + o + 2, q->tci);
		o += 4;
		if (q->qinq) {
			put16(b + o, 0x8100);
			put16(b + o + 2, 7);
			o += 4;
		}
	}
	put16(b + o, et);
	return o + 2;
}

static struct rq arp_rq(const uint8_t *tpa)
{
	struct rq q;
	memset(&q, 0, sizeof(q));
	memcpy(q.dmac, BCAST, 6);
	memcpy(q.smac, PEER_MAC, 6);
	q.htype = 1;
	q.ptype = 0x0800;
	q.hlen = 6;
	q.plen = 4;
	q.oper = 1;
	memcpy(q.sha, PEER_MAC, 6);
	memcpy(q.spa, V4_PEER, 4);
	memcpy(q.tpa, tpa, 4);
	return q;
}

static size_t mk_arp(uint8_t *b, const struct rq *q)
{
	size_t o = put_eth(b, q, 0x0806);
	uint8_t *a = b + o;
	put16(a, q->htype);
	put16(a + 2, q->ptype);
	a[4] = q->hlen;
	a[5] = q->plen;
	put16(a + 6, q->oper);
	memcpy(a + 8, q->sha, 6);
	memcpy(a + 14, q->spa, 4);
	memcpy(a + 18, q->tha, 6);
	memcpy(a + 24, q->tpa, 4);
	memset(a + 28, 0, q->pad);
	return o + 28 + q->pad;
}

static uint8_t data_byte(uint32_t i) { return (uint8_t)(i * 13 + 5); }

static struct rq echo4_rq(const uint8_t *dst, uint32_t dlen)
{
	struct rq q;
	memset(&q, 0, sizeof(q));
	memcpy(q.dmac, OUR_MAC, 6);
	memcpy(q.smac, PEER_MAC, 6);
	memcpy(q.src, V4_PEER, 4);
	memcpy(q.dst, dst, 4);
	q.ttl = 57;
	q.tos = 0xb9; /* DSCP 46, ECN 1 */
	q.frag = 0x4000;
	q.type = 8;
	q.id = 0x1234;
	q.seq = 0xfedc;
	q.dlen = dlen;
	return q;
}

static size_t mk_echo4(uint8_t *b, const struct rq *q)
{
	size_t o = put_eth(b, q, 0x0800);
	uint8_t *ip = b + o;
	uint32_t hl = 20u + q->nopt, ml = 8u + q->dlen;
	ip[0] = (uint8_t)(0x40 | hl / 4);
	ip[1] = q->tos;
	put16(ip + 2, hl + ml);
	put16(ip + 4, 0x4321);
	put16(ip + 6, q->frag);
	ip[8] = q->ttl;
	ip[9] = 1;
	put16(ip + 10, 0);
	memcpy(ip + 12, q->src, 4);
	memcpy(ip + 16, q->dst, 4);
	memset(ip + 20, 1, q->nopt); /* NOPs */
	put16(ip + 10, (uint16_t)(txg_inet_csum(ip, hl, 0) + q->ipcsum_delta));
	uint8_t *m = ip + hl;
	m[0] = q->type;
	m[1] = q->code;
	put16(m + 2, 0);
	put16(m + 4, q->id);
	put16(m + 6, q->seq);
	for (uint32_t i = 0; i < q->dlen; i++)
		m[8 + i] = data_byte(i);
	put16(m + 2, (uint16_t)(txg_inet_csum(m, ml, 0) + q->csum_delta));
	memset(m + ml, 0, q->pad);
	return o + hl + ml + q->pad;
}

/* Folded, not inverted, sum of the ICMPv6 pseudo header (via pkt_build). */
static uint32_t pseudo_partial(const uint8_t *src, const uint8_t *dst, uint32_t len)
{
	uint8_t ph[40];
	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	put16(ph + 32, len >> 16);
	put16(ph + 34, len & 0xffff);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 58;
	return (uint16_t)~txg_inet_csum(ph, 40, 0);
}

static size_t mk_icmp6(uint8_t *b, const struct rq *q)
{
	size_t o = put_eth(b, q, 0x86dd);
	uint8_t *ip = b + o, *m = ip + 40;
	uint32_t ml;
	m[0] = q->type;
	m[1] = q->code;
	put16(m + 2, 0);
	if (q->type == 135) {
		memset(m + 4, 0, 4);
		memcpy(m + 8, q->target, 16);
		ml = 24;
		if (q->slla) {
			m[ml] = 1;
			m[ml + 1] = 1;
			memcpy(m + ml + 2, q->slla_mac, 6);
			ml += 8;
		}
		memcpy(m + ml, q->opts, q->nopts);
		ml += (uint32_t)q->nopts;
	} else {
		put16(m + 4, q->id);
		put16(m + 6, q->seq);
		for (uint32_t i = 0; i < q->dlen; i++)
			m[8 + i] = data_byte(i);
		ml = 8 + q->dlen;
	}
	ip[0] = (uint8_t)(0x60 | q->tos >> 4);
	ip[1] = (uint8_t)(q->tos << 4 | 0x0a); /* flow label 0xabcde */
	ip[2] = 0xbc;
	ip[3] = 0xde;
	put16(ip + 4, ml);
	ip[6] = q->nh;
	ip[7] = q->ttl;
	memcpy(ip + 8, q->src, 16);
	memcpy(ip + 24, q->dst, 16);
	put16(m + 2, (uint16_t)(txg_inet_csum(m, ml, pseudo_partial(q->src, q->dst, ml)) + q->csum_delta));
	memset(m + ml, 0, q->pad);
	return o + 40 + ml + q->pad;
}

static void sn_group(uint8_t *ip, uint8_t *mac, const uint8_t *addr)
{
	static const uint8_t pre[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
	memcpy(ip, pre, 13);
	memcpy(ip + 13, addr + 13, 3);
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, ip + 12, 4);
}

/* NS for target from the peer: multicast to the target's group with SLLA. */
static struct rq ns_rq(const uint8_t *target)
{
	struct rq q;
	memset(&q, 0, sizeof(q));
	memcpy(q.smac, PEER_MAC, 6);
	memcpy(q.src, V6_PEER, 16);
	sn_group(q.dst, q.dmac, target);
	memcpy(q.target, target, 16);
	q.ttl = 255;
	q.nh = 58;
	q.type = 135;
	q.slla = 1;
	memcpy(q.slla_mac, PEER_MAC, 6);
	return q;
}

static struct rq echo6_rq(const uint8_t *dst, uint32_t dlen)
{
	struct rq q;
	memset(&q, 0, sizeof(q));
	memcpy(q.dmac, OUR_MAC, 6);
	memcpy(q.smac, PEER_MAC, 6);
	memcpy(q.src, V6_PEER, 16);
	memcpy(q.dst, dst, 16);
	q.ttl = 3;
	q.tos = 0x2b; /* DSCP 10, ECN 3 */
	q.nh = 58;
	q.type = 128;
	q.id = 0xbeef;
	q.seq = 7;
	q.dlen = dlen;
	return q;
}

/* ---- reply checks: every field, against the request's own bytes ---- */

/* The request's L2 header length and tag. */
static uint32_t req_l2(const uint8_t *p, int *tagged, uint16_t *tci)
{
	*tagged = get16(p + 12) == 0x8100;
	*tci = *tagged ? get16(p + 14) : 0;
	return *tagged ? 18u : 14u;
}

static void check_l2(const uint8_t *p, const uint8_t *out, const uint8_t *dst, uint16_t et)
{
	int tagged;
	uint16_t tci;
	uint32_t l2 = req_l2(p, &tagged, &tci);
	CU_ASSERT(memcmp(out, dst, 6) == 0);
	CU_ASSERT(memcmp(out + 6, OUR_MAC, 6) == 0);
	if (tagged) {
		CU_ASSERT_EQUAL(get16(out + 12), 0x8100);
		CU_ASSERT_EQUAL(get16(out + 14), tci); /* PCP, DEI and VID as received */
	}
	CU_ASSERT_EQUAL(get16(out + l2 - 2), et);
}

static void check_zero(const uint8_t *p, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		CU_ASSERT_EQUAL(p[i], 0);
}

static void check_arp_reply(const uint8_t *p, const uint8_t *out, uint32_t n)
{
	int tagged;
	uint16_t tci;
	uint32_t l2 = req_l2(p, &tagged, &tci);
	const uint8_t *q = p + l2, *a = out + l2;
	CU_ASSERT_EQUAL(n, 60);
	check_l2(p, out, q + 8, 0x0806); /* to the sender's hardware address */
	CU_ASSERT_EQUAL(get16(a), 1);
	CU_ASSERT_EQUAL(get16(a + 2), 0x0800);
	CU_ASSERT_EQUAL(a[4], 6);
	CU_ASSERT_EQUAL(a[5], 4);
	CU_ASSERT_EQUAL(get16(a + 6), 2);
	CU_ASSERT(memcmp(a + 8, OUR_MAC, 6) == 0);
	CU_ASSERT(memcmp(a + 14, q + 24, 4) == 0); /* the address asked for */
	CU_ASSERT(memcmp(a + 18, q + 8, 6) == 0);
	CU_ASSERT(memcmp(a + 24, q + 14, 4) == 0);
	check_zero(out, l2 + 28, n);
}

/* The request's source link-layer option, if any (walked independently). */
static const uint8_t *req_slla(const uint8_t *m, uint32_t ml)
{
	for (uint32_t o = 24; o + 8 <= ml && m[o + 1]; o += m[o + 1] * 8u)
		if (m[o] == 1)
			return m + o + 2;
	return NULL;
}

static void check_na(const uint8_t *out, uint32_t n, int tagged, uint16_t tci, const uint8_t *eth_dst,
		     const uint8_t *target, const uint8_t *ip_dst, uint8_t flags)
{
	uint32_t l2 = tagged ? 18 : 14;
	CU_ASSERT_EQUAL(n, l2 + 72);
	CU_ASSERT_EQUAL(n, tagged ? TXG_NEIGH_NA_LEN_TAGGED : TXG_NEIGH_NA_LEN);
	CU_ASSERT(memcmp(out, eth_dst, 6) == 0);
	CU_ASSERT(memcmp(out + 6, OUR_MAC, 6) == 0);
	if (tagged) {
		CU_ASSERT_EQUAL(get16(out + 12), 0x8100);
		CU_ASSERT_EQUAL(get16(out + 14), tci);
	}
	CU_ASSERT_EQUAL(get16(out + l2 - 2), 0x86dd);
	const uint8_t *ip = out + l2, *m = ip + 40;
	CU_ASSERT_EQUAL(ip[0], 0x60);
	CU_ASSERT_EQUAL(ip[1] | ip[2] | ip[3], 0);
	CU_ASSERT_EQUAL(get16(ip + 4), 32);
	CU_ASSERT_EQUAL(ip[6], 58);
	CU_ASSERT_EQUAL(ip[7], 255);
	CU_ASSERT(memcmp(ip + 8, target, 16) == 0);
	CU_ASSERT(memcmp(ip + 24, ip_dst, 16) == 0);
	CU_ASSERT_EQUAL(m[0], 136);
	CU_ASSERT_EQUAL(m[1], 0);
	CU_ASSERT(ref_ok6(ip + 8, ip + 24, m, 32));
	CU_ASSERT_EQUAL(m[4], flags);
	CU_ASSERT_EQUAL(m[5] | m[6] | m[7], 0);
	CU_ASSERT(memcmp(m + 8, target, 16) == 0);
	CU_ASSERT_EQUAL(m[24], 2);
	CU_ASSERT_EQUAL(m[25], 1);
	CU_ASSERT(memcmp(m + 26, OUR_MAC, 6) == 0);
}

static void check_na_reply(const uint8_t *p, const uint8_t *out, uint32_t n)
{
	int tagged;
	uint16_t tci;
	uint32_t l2 = req_l2(p, &tagged, &tci);
	const uint8_t *ip = p + l2, *m = ip + 40;
	int dad = memcmp(ip + 8, V6_UNSPEC, 16) == 0;
	const uint8_t *slla = req_slla(m, get16(ip + 4));
	const uint8_t *eth_dst = dad ? ALLN_MAC : slla ? slla : p + 6;
	check_na(out, n, tagged, tci, eth_dst, m + 8, dad ? V6_ALLN : ip + 8, dad ? 0x20 : 0x60);
}

static void check_echo4_reply(const uint8_t *p, uint32_t len, const uint8_t *out, uint32_t n)
{
	int tagged;
	uint16_t tci;
	uint32_t l2 = req_l2(p, &tagged, &tci);
	const uint8_t *ip = p + l2;
	uint32_t hl = (ip[0] & 15u) * 4u, ml = get16(ip + 2) - hl;
	const uint8_t *m = ip + hl;
	uint32_t want = l2 + 20 + ml < 60 ? 60 : l2 + 20 + ml;
	CU_ASSERT_EQUAL(n, want);
	CU_ASSERT(n <= (len < 60 ? 60 : len)); /* never longer than the request */
	check_l2(p, out, p + 6, 0x0800);
	const uint8_t *h = out + l2, *r = h + 20;
	CU_ASSERT_EQUAL(h[0], 0x45);
	CU_ASSERT_EQUAL(h[1], ip[1] & 0xfc);
	CU_ASSERT_EQUAL(get16(h + 2), 20 + ml);
	CU_ASSERT_EQUAL(get16(h + 4), 0);
	CU_ASSERT_EQUAL(get16(h + 6), 0x4000);
	CU_ASSERT_EQUAL(h[8], 64);
	CU_ASSERT_EQUAL(h[9], 1);
	CU_ASSERT(ref_ok4(h, 20));
	CU_ASSERT(memcmp(h + 12, ip + 16, 4) == 0);
	CU_ASSERT(memcmp(h + 16, ip + 12, 4) == 0);
	CU_ASSERT_EQUAL(r[0], 0);
	CU_ASSERT_EQUAL(r[1], 0);
	CU_ASSERT(ref_ok4(r, ml));
	CU_ASSERT(memcmp(r + 4, m + 4, ml - 4) == 0); /* id, sequence, data */
	check_zero(out, l2 + 20 + ml, n);
}

static void check_echo6_reply(const uint8_t *p, uint32_t len, const uint8_t *out, uint32_t n)
{
	int tagged;
	uint16_t tci;
	uint32_t l2 = req_l2(p, &tagged, &tci);
	const uint8_t *ip = p + l2, *m = ip + 40;
	uint32_t ml = get16(ip + 4);
	CU_ASSERT_EQUAL(n, l2 + 40 + ml);
	CU_ASSERT(n <= len);
	check_l2(p, out, p + 6, 0x86dd);
	const uint8_t *h = out + l2, *r = h + 40;
	uint8_t tc = (uint8_t)(((ip[0] & 15) << 4 | ip[1] >> 4) & 0xfc);
	CU_ASSERT_EQUAL(h[0], 0x60 | tc >> 4);
	CU_ASSERT_EQUAL(h[1], (uint8_t)(tc << 4));
	CU_ASSERT_EQUAL(h[2] | h[3], 0);
	CU_ASSERT_EQUAL(get16(h + 4), ml);
	CU_ASSERT_EQUAL(h[6], 58);
	CU_ASSERT_EQUAL(h[7], 64);
	CU_ASSERT(memcmp(h + 8, ip + 24, 16) == 0);
	CU_ASSERT(memcmp(h + 24, ip + 8, 16) == 0);
	CU_ASSERT_EQUAL(r[0], 129);
	CU_ASSERT_EQUAL(r[1], 0);
	CU_ASSERT(ref_ok6(h + 8, h + 24, r, ml));
	CU_ASSERT(memcmp(r + 4, m + 4, ml - 4) == 0);
}

static void check_reply(const uint8_t *p, uint32_t len, const struct txg_neigh_req *r, const uint8_t *out,
			uint32_t n)
{
	switch (r->kind) {
	case TXG_NEIGH_ARP:
		check_arp_reply(p, out, n);
		break;
	case TXG_NEIGH_NS:
		check_na_reply(p, out, n);
		break;
	case TXG_NEIGH_ECHO4:
		check_echo4_reply(p, len, out, n);
		break;
	case TXG_NEIGH_ECHO6:
		check_echo6_reply(p, len, out, n);
		break;
	default:
		CU_FAIL("not a request kind");
	}
}

/* Expect kind k (and, for BAD, reason w) for q built by mk. */
#define EXPECT(mk, q, k, w)                                                                                      \
	do {                                                                                                     \
		uint8_t b_[2048];                                                                                \
		struct txg_neigh_req r_;                                                                         \
		size_t n_ = mk(b_, &(q));                                                                        \
		CU_ASSERT_EQUAL(classify(b_, n_, &r_), (k));                                                     \
		CU_ASSERT_EQUAL(r_.why, (w));                                                                    \
	} while (0)

/* ---- tests ---- */

static void test_names(void)
{
	static const char *kinds[] = {"none", "arp", "ns", "echo4", "echo6", "bad"};
	static const char *whys[] = {"ok",	  "short", "ip_hdr", "ip_csum", "l4_csum", "code",
				     "hop_limit", "src",   "option", "target",  "dad_dst"};
	static const char *ctrs[] = {"arp_replies",   "na_replies",    "echo_replies", "echo6_replies",
				     "garp_sent",     "unsol_na_sent", "neigh_limited", "echo_limited",
				     "neigh_bad",     "neigh_tx_fail"};
	CU_ASSERT_EQUAL(sizeof(kinds) / sizeof(kinds[0]), TXG_NEIGH_KIND_NUM);
	CU_ASSERT_EQUAL(sizeof(whys) / sizeof(whys[0]), TXG_NW_NUM);
	CU_ASSERT_EQUAL(sizeof(ctrs) / sizeof(ctrs[0]), TXG_NC_NUM);
	for (unsigned i = 0; i < TXG_NEIGH_KIND_NUM; i++)
		CU_ASSERT_STRING_EQUAL(txg_neigh_kind_name(i), kinds[i]);
	for (unsigned i = 0; i < TXG_NW_NUM; i++)
		CU_ASSERT_STRING_EQUAL(txg_neigh_why_name(i), whys[i]);
	for (unsigned i = 0; i < TXG_NC_NUM; i++)
		CU_ASSERT_STRING_EQUAL(txg_neigh_ctr_name(i), ctrs[i]);
	CU_ASSERT_STRING_EQUAL(txg_neigh_kind_name(TXG_NEIGH_KIND_NUM), "?");
	CU_ASSERT_STRING_EQUAL(txg_neigh_why_name(TXG_NW_NUM), "?");
	CU_ASSERT_STRING_EQUAL(txg_neigh_ctr_name(TXG_NC_NUM), "?");
	CU_ASSERT_EQUAL(txg_neigh_reply_ctr(TXG_NEIGH_ARP), TXG_NC_ARP_REPLIES);
	CU_ASSERT_EQUAL(txg_neigh_reply_ctr(TXG_NEIGH_NS), TXG_NC_NA_REPLIES);
	CU_ASSERT_EQUAL(txg_neigh_reply_ctr(TXG_NEIGH_ECHO4), TXG_NC_ECHO_REPLIES);
	CU_ASSERT_EQUAL(txg_neigh_reply_ctr(TXG_NEIGH_ECHO6), TXG_NC_ECHO6_REPLIES);
	CU_ASSERT_EQUAL(txg_neigh_reply_ctr(TXG_NEIGH_NONE), TXG_NC_NUM);
	CU_ASSERT_EQUAL(txg_neigh_reply_ctr(TXG_NEIGH_BAD), TXG_NC_NUM);
}

static void test_ref_csum(void)
{
	/* The reference sum agrees with pkt_build's on random data. */
	uint8_t b[300];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)rand();
	for (size_t n = 0; n <= sizeof(b); n++)
		CU_ASSERT_EQUAL_FATAL((uint16_t)~ref_sum(b, n, 0), txg_inet_csum(b, n, 0));
}

static const uint16_t TCIS[] = {0x0064, 0xa00c, 0x1fff, 0x0000};

static void test_arp(void)
{
	uint8_t b[256], out[256];
	struct txg_neigh_req r;
	for (int t = -1; t < 4; t++) {
		for (int which = 0; which < 2; which++) {
			struct rq q = arp_rq(which ? V4_B : V4_A);
			q.tagged = t >= 0;
			q.tci = t >= 0 ? TCIS[t] : 0;
			size_t n = mk_arp(b, &q);
			CU_ASSERT_EQUAL(n, q.tagged ? 46u : 42u);
			uint32_t m = answer(b, n, &r, out);
			CU_ASSERT_EQUAL_FATAL(r.kind, TXG_NEIGH_ARP);
			CU_ASSERT_EQUAL(r.addr, which);
			CU_ASSERT_EQUAL(r.tagged, q.tagged);
			CU_ASSERT_EQUAL(r.tci, q.tci);
			CU_ASSERT_EQUAL(r.reply_len, TXG_NEIGH_ARP_LEN);
			check_arp_reply(b, out, m);
			CU_ASSERT(memcmp(out, PEER_MAC, 6) == 0);
			CU_ASSERT(memcmp(out + l2_len(&q) + 14, which ? V4_B : V4_A, 4) == 0);
			CU_ASSERT(memcmp(out + l2_len(&q) + 24, V4_PEER, 4) == 0);
			/* Unicast to our MAC (a cache refresh), padded frames. */
			memcpy(q.dmac, OUR_MAC, 6);
			q.pad = 18;
			n = mk_arp(b, &q);
			m = answer(b, n, &r, out);
			CU_ASSERT_EQUAL(r.kind, TXG_NEIGH_ARP);
			check_arp_reply(b, out, m);
		}
	}
	/* RFC 5227 probe (sender 0.0.0.0): answered, to the prober's MAC. */
	struct rq q = arp_rq(V4_A);
	memset(q.spa, 0, 4);
	size_t n = mk_arp(b, &q);
	uint32_t m = answer(b, n, &r, out);
	CU_ASSERT_EQUAL(r.kind, TXG_NEIGH_ARP);
	check_arp_reply(b, out, m);
	CU_ASSERT_EQUAL(out[14 + 24] | out[14 + 25] | out[14 + 26] | out[14 + 27], 0);
	/* The frame's source differs from the sender hardware address: the
	 * reply goes to the sender hardware address. */
	q = arp_rq(V4_A);
	memcpy(q.smac, OTHER_MAC, 6);
	n = mk_arp(b, &q);
	m = answer(b, n, &r, out);
	CU_ASSERT(memcmp(out, PEER_MAC, 6) == 0);
	check_arp_reply(b, out, m);
}

static void test_arp_ignored(void)
{
	struct rq q;
#define ARP_CASE(field_stmt, k, w)                                                                               \
	do {                                                                                                     \
		q = arp_rq(V4_A);                                                                                \
		field_stmt;                                                                                      \
		EXPECT(mk_arp, q, k, w);                                                                         \
	} while (0)
	ARP_CASE((void)0, TXG_NEIGH_ARP, TXG_NW_OK);
	ARP_CASE(memcpy(q.tpa, V4_OTHER, 4), TXG_NEIGH_NONE, TXG_NW_OK);	/* not ours */
	ARP_CASE(q.oper = 2, TXG_NEIGH_NONE, TXG_NW_OK);			/* a reply */
	ARP_CASE(q.oper = 3, TXG_NEIGH_NONE, TXG_NW_OK);
	ARP_CASE(q.htype = 6, TXG_NEIGH_NONE, TXG_NW_OK);
	ARP_CASE(q.ptype = 0x86dd, TXG_NEIGH_NONE, TXG_NW_OK);
	ARP_CASE(q.hlen = 8, TXG_NEIGH_NONE, TXG_NW_OK);
	ARP_CASE(q.plen = 16, TXG_NEIGH_NONE, TXG_NW_OK);
	ARP_CASE(memcpy(q.dmac, OTHER_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);	/* someone else's (promiscuous) */
	ARP_CASE(memcpy(q.dmac, ALLN_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	ARP_CASE(memcpy(q.smac, OUR_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);	/* our own, looped */
	ARP_CASE((q.tagged = 1, q.qinq = 1), TXG_NEIGH_NONE, TXG_NW_OK);	/* QinQ */
	ARP_CASE(q.sha[0] = 0x01, TXG_NEIGH_BAD, TXG_NW_SRC);
	ARP_CASE(memset(q.sha, 0, 6), TXG_NEIGH_BAD, TXG_NW_SRC);
	ARP_CASE(memcpy(q.sha, OUR_MAC, 6), TXG_NEIGH_BAD, TXG_NW_SRC);
	ARP_CASE(q.smac[0] = 0x01, TXG_NEIGH_BAD, TXG_NW_SRC);
	ARP_CASE(memcpy(q.spa, (uint8_t[]){224, 0, 0, 1}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
	ARP_CASE(memcpy(q.spa, (uint8_t[]){255, 255, 255, 255}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
	ARP_CASE(memcpy(q.spa, (uint8_t[]){127, 0, 0, 1}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
	ARP_CASE(memcpy(q.spa, (uint8_t[]){0, 0, 0, 9}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
#undef ARP_CASE
	/* 802.1ad outer tag: not ours. */
	uint8_t b[128];
	struct txg_neigh_req r;
	q = arp_rq(V4_A);
	q.tagged = 1;
	size_t n = mk_arp(b, &q);
	put16(b + 12, 0x88a8);
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_NONE);
}

static void test_ns(void)
{
	uint8_t b[512], out[256];
	struct txg_neigh_req r;
	static const uint8_t *const targets[3] = {V6_A, V6_B, V6_C};
	for (int t = -1; t < 4; t++) {
		for (int which = 0; which < 3; which++) {
			for (int mode = 0; mode < 5; mode++) {
				struct rq q = ns_rq(targets[which]);
				q.tagged = t >= 0;
				q.tci = t >= 0 ? TCIS[t] : 0;
				const uint8_t *want_mac = PEER_MAC, *want_dst = V6_PEER;
				uint8_t flags = 0x60;
				switch (mode) {
				case 0: /* multicast, SLLA */
					break;
				case 1: /* unicast to the target (NUD), no SLLA: to the frame's source */
					memcpy(q.dst, targets[which], 16);
					memcpy(q.dmac, OUR_MAC, 6);
					q.slla = 0;
					memcpy(q.smac, OTHER_MAC, 6);
					want_mac = OTHER_MAC;
					break;
				case 2: /* SLLA differs from the frame source; plus a nonce option before it */
					memcpy(q.smac, OTHER_MAC, 6);
					q.slla = 0;
					q.opts[0] = 14; /* nonce (RFC 3971) */
					q.opts[1] = 1;
					memset(q.opts + 2, 0x5a, 6);
					q.opts[8] = 1;
					q.opts[9] = 1;
					memcpy(q.opts + 10, PEER_MAC, 6);
					q.nopts = 16;
					break;
				case 3: /* DAD */
					memset(q.src, 0, 16);
					q.slla = 0;
					want_mac = ALLN_MAC;
					want_dst = V6_ALLN;
					flags = 0x20;
					break;
				case 4: /* link-local solicitor, unknown option kept out of the way */
					q.src[0] = 0xfe;
					q.src[1] = 0x80;
					q.opts[0] = 200;
					q.opts[1] = 2;
					q.nopts = 16;
					want_dst = q.src;
					break;
				}
				size_t n = mk_icmp6(b, &q);
				uint32_t m = answer(b, n, &r, out);
				CU_ASSERT_EQUAL_FATAL(r.kind, TXG_NEIGH_NS);
				CU_ASSERT_EQUAL(r.addr, which);
				CU_ASSERT_EQUAL(r.dad, mode == 3);
				check_na_reply(b, out, m);
				check_na(out, m, q.tagged, q.tci, want_mac, targets[which], want_dst, flags);
			}
		}
	}
}

static void test_ns_invalid(void)
{
	struct rq q;
#define NS_CASE(tgt, field_stmt, k, w)                                                                           \
	do {                                                                                                     \
		q = ns_rq(tgt);                                                                                  \
		field_stmt;                                                                                      \
		EXPECT(mk_icmp6, q, k, w);                                                                       \
	} while (0)
	NS_CASE(V6_A, (void)0, TXG_NEIGH_NS, TXG_NW_OK);
	/* Not ours. */
	NS_CASE(V6_OTHER, (void)0, TXG_NEIGH_NONE, TXG_NW_OK); /* our group, another node's target */
	NS_CASE(V6_A, memcpy(q.target, V6_OTHER, 16), TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_PEER, (void)0, TXG_NEIGH_NONE, TXG_NW_OK); /* not our group */
	NS_CASE(V6_A, q.dmac[5] ^= 1, TXG_NEIGH_NONE, TXG_NW_OK); /* group MAC does not match */
	NS_CASE(V6_A, q.dmac[2] = 0x00, TXG_NEIGH_NONE, TXG_NW_OK); /* 33:33:00:12:34:56 */
	NS_CASE(V6_A, q.dmac[1] = 0x34, TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, q.dst[12] = 0xfe, TXG_NEIGH_NONE, TXG_NW_OK); /* not a solicited-node address */
	NS_CASE(V6_A, q.dst[11] = 0x00, TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, q.dst[1] = 0x05, TXG_NEIGH_NONE, TXG_NW_OK); /* site scope */
	NS_CASE(V6_A, memcpy(q.dmac, OUR_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, memcpy(q.dmac, BCAST, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, (memcpy(q.dst, V6_A, 16), memcpy(q.dmac, OTHER_MAC, 6)), TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, memcpy(q.dst, V6_ALLN, 16), TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, q.nh = 0, TXG_NEIGH_NONE, TXG_NW_OK); /* extension header first */
	NS_CASE(V6_A, memcpy(q.smac, OUR_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, (q.tagged = 1, q.qinq = 1), TXG_NEIGH_NONE, TXG_NW_OK);
	NS_CASE(V6_A, q.type = 136, TXG_NEIGH_NONE, TXG_NW_OK); /* an NA */
	NS_CASE(V6_A, q.type = 133, TXG_NEIGH_NONE, TXG_NW_OK); /* RS */
	/* Ours, invalid. */
	NS_CASE(V6_A, q.ttl = 254, TXG_NEIGH_BAD, TXG_NW_HOP_LIMIT);
	NS_CASE(V6_A, q.ttl = 1, TXG_NEIGH_BAD, TXG_NW_HOP_LIMIT);
	NS_CASE(V6_A, q.ttl = 64, TXG_NEIGH_BAD, TXG_NW_HOP_LIMIT);
	NS_CASE(V6_A, q.csum_delta = 1, TXG_NEIGH_BAD, TXG_NW_L4_CSUM);
	NS_CASE(V6_A, q.csum_delta = 0x100, TXG_NEIGH_BAD, TXG_NW_L4_CSUM);
	NS_CASE(V6_A, q.code = 1, TXG_NEIGH_BAD, TXG_NW_CODE);
	NS_CASE(V6_A, q.src[0] = 0xff, TXG_NEIGH_BAD, TXG_NW_SRC);
	NS_CASE(V6_A, (memset(q.src, 0, 16), q.src[15] = 1), TXG_NEIGH_BAD, TXG_NW_SRC);
	NS_CASE(V6_A, q.smac[0] = 0x33, TXG_NEIGH_BAD, TXG_NW_SRC);
	NS_CASE(V6_A, q.slla_mac[0] = 0x01, TXG_NEIGH_BAD, TXG_NW_OPTION);
	NS_CASE(V6_A, memset(q.slla_mac, 0, 6), TXG_NEIGH_BAD, TXG_NW_OPTION);
	NS_CASE(V6_A, memset(q.src, 0, 16), TXG_NEIGH_BAD, TXG_NW_OPTION); /* DAD with an SLLA */
	NS_CASE(V6_A, (memset(q.src, 0, 16), q.slla = 0, memcpy(q.dst, V6_A, 16), memcpy(q.dmac, OUR_MAC, 6)),
		TXG_NEIGH_BAD, TXG_NW_DAD_DST);
	NS_CASE(V6_A, (q.opts[0] = 3, q.opts[1] = 0, q.nopts = 8), TXG_NEIGH_BAD, TXG_NW_OPTION); /* zero length */
	NS_CASE(V6_A, (q.opts[0] = 3, q.opts[1] = 2, q.nopts = 8), TXG_NEIGH_BAD, TXG_NW_OPTION); /* overrun */
	NS_CASE(V6_A, (q.opts[0] = 3, q.nopts = 1), TXG_NEIGH_BAD, TXG_NW_OPTION);		     /* 1 byte left */
	NS_CASE(V6_A, (q.opts[0] = 1, q.opts[1] = 1, memcpy(q.opts + 2, PEER_MAC, 6), q.nopts = 8), TXG_NEIGH_BAD,
		TXG_NW_OPTION); /* two SLLAs, both valid */
	NS_CASE(V6_A, (q.opts[0] = 1, q.opts[1] = 1, memcpy(q.opts + 2, OTHER_MAC, 6), q.nopts = 8), TXG_NEIGH_BAD,
		TXG_NW_OPTION);
	NS_CASE(V6_A, (q.slla = 0, q.opts[0] = 1, q.opts[1] = 2, q.nopts = 16), TXG_NEIGH_BAD, TXG_NW_OPTION);
	/* Target ours but the destination is another of ours / another group. */
	NS_CASE(V6_A, (memcpy(q.dst, V6_B, 16), memcpy(q.dmac, OUR_MAC, 6)), TXG_NEIGH_BAD, TXG_NW_TARGET);
	NS_CASE(V6_B, (memcpy(q.target, V6_A, 16)), TXG_NEIGH_BAD, TXG_NW_TARGET);
	/* C shares A's group: an NS for C on that group is C's. */
	uint8_t b[256];
	struct txg_neigh_req r;
	q = ns_rq(V6_A);
	memcpy(q.target, V6_C, 16);
	CU_ASSERT_EQUAL(classify(b, mk_icmp6(b, &q), &r), TXG_NEIGH_NS);
	CU_ASSERT_EQUAL(r.addr, 2);
	/* Payload too short for a target; payload past the frame. */
	q = ns_rq(V6_A);
	size_t n = mk_icmp6(b, &q);
	put16(b + 14 + 4, 16);
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_BAD);
	CU_ASSERT_EQUAL(r.why, TXG_NW_SHORT);
	put16(b + 14 + 4, 4);
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_BAD);
	CU_ASSERT_EQUAL(r.why, TXG_NW_SHORT);
	put16(b + 14 + 4, (uint32_t)(n - 14 - 40 + 1));
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_BAD);
	CU_ASSERT_EQUAL(r.why, TXG_NW_SHORT);
	/* Ethernet padding after the payload is ignored. */
	q = ns_rq(V6_A);
	q.pad = 30;
	n = mk_icmp6(b, &q);
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_NS);
#undef NS_CASE
}

static void test_echo4(void)
{
	uint8_t b[2048], out[2048];
	struct txg_neigh_req r;
	for (int t = -1; t < 4; t++) {
		for (uint32_t dlen = 0; dlen < 120; dlen++) {
			for (uint8_t nopt = 0; nopt <= 40; nopt = (uint8_t)(nopt + (dlen % 7 == 0 ? 4 : 40))) {
				struct rq q = echo4_rq((dlen & 1) ? V4_B : V4_A, dlen);
				q.tagged = t >= 0;
				q.tci = t >= 0 ? TCIS[t] : 0;
				q.nopt = nopt;
				q.pad = dlen < 20 ? 10 : 0;
				size_t n = mk_echo4(b, &q);
				uint32_t m = answer(b, n, &r, out);
				CU_ASSERT_EQUAL_FATAL(r.kind, TXG_NEIGH_ECHO4);
				CU_ASSERT_EQUAL(r.addr, dlen & 1);
				CU_ASSERT_EQUAL(r.l4_len, 8 + dlen);
				check_echo4_reply(b, (uint32_t)n, out, m);
				uint32_t l2 = l2_len(&q);
				CU_ASSERT(memcmp(out, PEER_MAC, 6) == 0);
				CU_ASSERT(memcmp(out + l2 + 16, V4_PEER, 4) == 0);
				CU_ASSERT_EQUAL(out[l2 + 1], 0xb8);
				CU_ASSERT_EQUAL(get16(out + l2 + 24), 0x1234);
				CU_ASSERT_EQUAL(get16(out + l2 + 26), 0xfedc);
				/* Real frames are at least 60 bytes: the reply is never longer. */
				if (n >= 60)
					CU_ASSERT(m <= n);
			}
		}
	}
	/* DF clear, id/seq zero, an all-zero message: checksum 0xffff case. */
	struct rq q = echo4_rq(V4_A, 4);
	q.frag = 0;
	q.id = q.seq = 0;
	size_t n = mk_echo4(b, &q);
	memset(b + 14 + 20 + 8, 0, 4);
	put16(b + 14 + 20 + 2, 0);
	put16(b + 14 + 20 + 2, txg_inet_csum(b + 14 + 20, 12, 0));
	uint32_t m = answer(b, n, &r, out);
	CU_ASSERT_EQUAL(r.kind, TXG_NEIGH_ECHO4);
	check_echo4_reply(b, (uint32_t)n, out, m);
	/* A large request: the reply is as long, not longer. */
	q = echo4_rq(V4_A, 1472);
	n = mk_echo4(b, &q);
	m = answer(b, n, &r, out);
	CU_ASSERT_EQUAL(m, n);
	check_echo4_reply(b, (uint32_t)n, out, m);
}

static void test_echo4_ignored(void)
{
	struct rq q;
#define E4_CASE(field_stmt, k, w)                                                                                \
	do {                                                                                                     \
		q = echo4_rq(V4_A, 24);                                                                          \
		field_stmt;                                                                                      \
		EXPECT(mk_echo4, q, k, w);                                                                       \
	} while (0)
	E4_CASE((void)0, TXG_NEIGH_ECHO4, TXG_NW_OK);
	E4_CASE(memcpy(q.dst, V4_OTHER, 4), TXG_NEIGH_NONE, TXG_NW_OK);
	E4_CASE(memcpy(q.dmac, OTHER_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	E4_CASE(memcpy(q.dmac, BCAST, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	E4_CASE(memcpy(q.smac, OUR_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	E4_CASE(q.type = 0, TXG_NEIGH_NONE, TXG_NW_OK);	/* a reply */
	E4_CASE(q.type = 13, TXG_NEIGH_NONE, TXG_NW_OK); /* timestamp */
	E4_CASE(q.frag = 0x2000, TXG_NEIGH_NONE, TXG_NW_OK); /* MF */
	E4_CASE(q.frag = 0x0001, TXG_NEIGH_NONE, TXG_NW_OK); /* offset */
	E4_CASE(q.frag = 0x1fff, TXG_NEIGH_NONE, TXG_NW_OK);
	E4_CASE((q.tagged = 1, q.qinq = 1), TXG_NEIGH_NONE, TXG_NW_OK);
	E4_CASE(q.ipcsum_delta = 1, TXG_NEIGH_BAD, TXG_NW_IP_CSUM);
	E4_CASE(q.csum_delta = 1, TXG_NEIGH_BAD, TXG_NW_L4_CSUM);
	E4_CASE(q.csum_delta = 0x8000, TXG_NEIGH_BAD, TXG_NW_L4_CSUM);
	E4_CASE(q.code = 1, TXG_NEIGH_BAD, TXG_NW_CODE);
	E4_CASE(memcpy(q.src, (uint8_t[]){0, 0, 0, 0}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
	E4_CASE(memcpy(q.src, (uint8_t[]){127, 0, 0, 1}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
	E4_CASE(memcpy(q.src, (uint8_t[]){224, 0, 0, 5}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
	E4_CASE(memcpy(q.src, (uint8_t[]){255, 255, 255, 255}, 4), TXG_NEIGH_BAD, TXG_NW_SRC);
	E4_CASE(q.smac[0] |= 1, TXG_NEIGH_BAD, TXG_NW_SRC);
#undef E4_CASE
	/* Header lengths: IHL < 5, total < IHL*4 + 8, total past the frame,
	 * IHL past the frame. Checksums are fixed so the length rule decides. */
	uint8_t b[256];
	struct txg_neigh_req r;
	q = echo4_rq(V4_A, 24);
	size_t n = mk_echo4(b, &q);
	struct {
		uint8_t vihl;
		uint16_t tot;
		enum txg_neigh_why w;
	} cases[] = {
	    {0x44, 52, TXG_NW_IP_HDR}, {0x40, 52, TXG_NW_IP_HDR}, {0x45, 27, TXG_NW_IP_HDR},
	    {0x45, 0, TXG_NW_IP_HDR},  {0x45, 53, TXG_NW_SHORT},  {0x46, 31, TXG_NW_IP_HDR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t c[256];
		memcpy(c, b, n);
		c[14] = cases[i].vihl;
		put16(c + 14 + 2, cases[i].tot);
		put16(c + 14 + 10, 0);
		unsigned hl = (c[14] & 15u) * 4u;
		put16(c + 14 + 10, txg_inet_csum(c + 14, hl < 20 ? 20 : hl, 0));
		CU_ASSERT_EQUAL(classify(c, n, &r), TXG_NEIGH_BAD);
		CU_ASSERT_EQUAL(r.why, cases[i].w);
	}
	/* IHL past the frame's end. */
	q = echo4_rq(V4_A, 0);
	n = mk_echo4(b, &q); /* 42 bytes: 28 after L2, IHL 15 = 60 */
	b[14] = 0x4f;
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_BAD);
	CU_ASSERT_EQUAL(r.why, TXG_NW_SHORT);
	/* Not version 4, not ICMP. */
	q = echo4_rq(V4_A, 8);
	n = mk_echo4(b, &q);
	b[14] = 0x65;
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_NONE);
	n = mk_echo4(b, &q);
	b[14 + 9] = 17;
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_NONE);
}

static void test_echo6(void)
{
	uint8_t b[2048], out[2048];
	struct txg_neigh_req r;
	static const uint8_t *const dsts[3] = {V6_A, V6_B, V6_C};
	for (int t = -1; t < 4; t++) {
		for (uint32_t dlen = 0; dlen < 140; dlen++) {
			struct rq q = echo6_rq(dsts[dlen % 3], dlen);
			q.tagged = t >= 0;
			q.tci = t >= 0 ? TCIS[t] : 0;
			q.pad = dlen % 5 == 0 ? 7 : 0;
			size_t n = mk_icmp6(b, &q);
			uint32_t m = answer(b, n, &r, out);
			CU_ASSERT_EQUAL_FATAL(r.kind, TXG_NEIGH_ECHO6);
			CU_ASSERT_EQUAL(r.addr, dlen % 3);
			check_echo6_reply(b, (uint32_t)n, out, m);
			uint32_t l2 = l2_len(&q);
			CU_ASSERT(memcmp(out, PEER_MAC, 6) == 0);
			CU_ASSERT(memcmp(out + l2 + 8, dsts[dlen % 3], 16) == 0);
			CU_ASSERT(memcmp(out + l2 + 24, V6_PEER, 16) == 0);
			CU_ASSERT_EQUAL(out[l2], 0x62); /* traffic class 0x28: DSCP 10, ECN 0 */
			CU_ASSERT_EQUAL(out[l2 + 1], 0x80);
			CU_ASSERT_EQUAL(get16(out + l2 + 44), 0xbeef);
			CU_ASSERT_EQUAL(get16(out + l2 + 46), 7);
			CU_ASSERT(m <= n);
		}
	}
	struct rq q = echo6_rq(V6_A, 1452);
	size_t n = mk_icmp6(b, &q);
	uint32_t m = answer(b, n, &r, out);
	CU_ASSERT_EQUAL(m, n);
	check_echo6_reply(b, (uint32_t)n, out, m);
}

static void test_echo6_ignored(void)
{
	struct rq q;
	uint8_t grp[16], gmac[6];
	sn_group(grp, gmac, V6_A);
#define E6_CASE(field_stmt, k, w)                                                                                \
	do {                                                                                                     \
		q = echo6_rq(V6_A, 24);                                                                          \
		field_stmt;                                                                                      \
		EXPECT(mk_icmp6, q, k, w);                                                                       \
	} while (0)
	E6_CASE((void)0, TXG_NEIGH_ECHO6, TXG_NW_OK);
	E6_CASE(memcpy(q.dst, V6_OTHER, 16), TXG_NEIGH_NONE, TXG_NW_OK);
	E6_CASE(memcpy(q.dmac, OTHER_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	E6_CASE((memcpy(q.dst, grp, 16), memcpy(q.dmac, gmac, 6)), TXG_NEIGH_NONE, TXG_NW_OK); /* to our group */
	E6_CASE((memcpy(q.dst, V6_ALLN, 16), memcpy(q.dmac, ALLN_MAC, 6)), TXG_NEIGH_NONE, TXG_NW_OK);
	E6_CASE(q.type = 129, TXG_NEIGH_NONE, TXG_NW_OK);
	E6_CASE(q.nh = 60, TXG_NEIGH_NONE, TXG_NW_OK);
	E6_CASE(memcpy(q.smac, OUR_MAC, 6), TXG_NEIGH_NONE, TXG_NW_OK);
	E6_CASE(q.csum_delta = 1, TXG_NEIGH_BAD, TXG_NW_L4_CSUM);
	E6_CASE(q.code = 3, TXG_NEIGH_BAD, TXG_NW_CODE);
	E6_CASE(q.src[0] = 0xff, TXG_NEIGH_BAD, TXG_NW_SRC);
	E6_CASE(memset(q.src, 0, 16), TXG_NEIGH_BAD, TXG_NW_SRC);
	E6_CASE((memset(q.src, 0, 16), q.src[15] = 1), TXG_NEIGH_BAD, TXG_NW_SRC);
	E6_CASE(q.smac[0] = 0x01, TXG_NEIGH_BAD, TXG_NW_SRC);
#undef E6_CASE
	uint8_t b[256];
	struct txg_neigh_req r;
	q = echo6_rq(V6_A, 24);
	size_t n = mk_icmp6(b, &q);
	b[14] = 0x40;
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_NONE);
	n = mk_icmp6(b, &q);
	put16(b + 14 + 4, 7);
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_BAD);
	CU_ASSERT_EQUAL(r.why, TXG_NW_SHORT);
	put16(b + 14 + 4, (uint32_t)(n - 54 + 1));
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_BAD);
	CU_ASSERT_EQUAL(r.why, TXG_NW_SHORT);
}

static void test_other_frames(void)
{
	uint8_t b[128];
	struct txg_neigh_req r;
	memset(b, 0, sizeof(b));
	memcpy(b, OUR_MAC, 6);
	memcpy(b + 6, PEER_MAC, 6);
	static const uint16_t ets[] = {0x0000, 0x88cc, 0x8847, 0x8035, 0x88a8, 0x9100, 0xffff};
	for (size_t i = 0; i < sizeof(ets) / sizeof(ets[0]); i++) {
		put16(b + 12, ets[i]);
		CU_ASSERT_EQUAL(classify(b, 60, &r), TXG_NEIGH_NONE);
	}
	/* A UDP packet to our address (the appliance's own traffic). */
	struct txg_pkt_spec s = {.af = 4, .sport = 1, .dport = 7400};
	memcpy(s.dst_mac, OUR_MAC, 6);
	memcpy(s.src_mac, PEER_MAC, 6);
	memcpy(s.src, V4_PEER, 4);
	memcpy(s.dst, V4_A, 4);
	size_t n = txg_pkt_build(b, sizeof(b), &s, (const uint8_t *)"hello", 5);
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_NONE);
	s.af = 6;
	memcpy(s.src, V6_PEER, 16);
	memcpy(s.dst, V6_A, 16);
	n = txg_pkt_build(b, sizeof(b), &s, (const uint8_t *)"hello", 5);
	CU_ASSERT_EQUAL(classify(b, n, &r), TXG_NEIGH_NONE);
}

/* Every prefix of a valid request is NONE or BAD, read from a buffer that
 * ends where the prefix does; the whole request is its kind. */
static void truncations(const uint8_t *b, size_t n, enum txg_neigh_kind k)
{
	struct txg_neigh_req r;
	for (size_t l = 0; l < n; l++) {
		enum txg_neigh_kind got = classify(b, l, &r);
		CU_ASSERT_FATAL(got == TXG_NEIGH_NONE || got == TXG_NEIGH_BAD);
	}
	CU_ASSERT_EQUAL(classify(b, n, &r), k);
}

static void test_truncation(void)
{
	uint8_t b[2048];
	for (int tagged = 0; tagged < 2; tagged++) {
		struct rq q = arp_rq(V4_A);
		q.tagged = tagged;
		q.tci = 0x2005;
		truncations(b, mk_arp(b, &q), TXG_NEIGH_ARP);
		q = echo4_rq(V4_B, 33);
		q.tagged = tagged;
		truncations(b, mk_echo4(b, &q), TXG_NEIGH_ECHO4);
		q.nopt = 12;
		truncations(b, mk_echo4(b, &q), TXG_NEIGH_ECHO4);
		q = echo4_rq(V4_A, 0);
		q.tagged = tagged;
		truncations(b, mk_echo4(b, &q), TXG_NEIGH_ECHO4);
		q = ns_rq(V6_B);
		q.tagged = tagged;
		truncations(b, mk_icmp6(b, &q), TXG_NEIGH_NS);
		q.slla = 0;
		memset(q.src, 0, 16);
		truncations(b, mk_icmp6(b, &q), TXG_NEIGH_NS);
		q = ns_rq(V6_A);
		q.tagged = tagged;
		memcpy(q.dst, V6_A, 16);
		memcpy(q.dmac, OUR_MAC, 6);
		q.opts[0] = 14;
		q.opts[1] = 1;
		q.nopts = 8;
		truncations(b, mk_icmp6(b, &q), TXG_NEIGH_NS);
		q = echo6_rq(V6_C, 41);
		q.tagged = tagged;
		truncations(b, mk_icmp6(b, &q), TXG_NEIGH_ECHO6);
		q = echo6_rq(V6_C, 0);
		q.tagged = tagged;
		truncations(b, mk_icmp6(b, &q), TXG_NEIGH_ECHO6);
	}
}

/* A reply built from r for a cap one byte short, an r that does not
 * match the bytes, or a non-request kind: 0, nothing written. */
static void test_build_refuses(void)
{
	uint8_t b[256], out[256];
	struct txg_neigh_req r;
	struct rq q = echo4_rq(V4_A, 40);
	size_t n = mk_echo4(b, &q);
	CU_ASSERT_EQUAL_FATAL(classify(b, n, &r), TXG_NEIGH_ECHO4);
	struct txg_neigh_req w = r;
	w.l4_len += 1; /* past the frame */
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &w, &CFG), 0);
	w = r;
	w.l4 = (uint32_t)n + 10;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &w, &CFG), 0);
	w = r;
	w.reply_len -= 1;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &w, &CFG), 0);
	w = r;
	w.tagged = 1;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &w, &CFG), 0);
	w = r;
	w.kind = TXG_NEIGH_BAD;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &w, &CFG), 0);
	w.kind = TXG_NEIGH_NONE;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &w, &CFG), 0);
	w.kind = (enum txg_neigh_kind)77;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &w, &CFG), 0);
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, 20, &r, &CFG), 0); /* len cut */
	/* An address index past the list. */
	q = arp_rq(V4_B);
	n = mk_arp(b, &q);
	CU_ASSERT_EQUAL_FATAL(classify(b, n, &r), TXG_NEIGH_ARP);
	struct txg_neigh_cfg c = CFG;
	c.n_ipv4 = 1;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &r, &c), 0);
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &r, &CFG), 60);
	q = ns_rq(V6_C);
	n = mk_icmp6(b, &q);
	CU_ASSERT_EQUAL_FATAL(classify(b, n, &r), TXG_NEIGH_NS);
	c = CFG;
	c.n_ipv6 = 2;
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &r, &c), 0);
	CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &r, &CFG), 86);
}

static void test_cfg(void)
{
	uint8_t b[256];
	struct txg_neigh_req r;
	/* No addresses: nothing is answered. */
	struct txg_neigh_cfg save = CFG;
	CFG.n_ipv4 = CFG.n_ipv6 = 0;
	struct rq q = arp_rq(V4_A);
	CU_ASSERT_EQUAL(classify(b, mk_arp(b, &q), &r), TXG_NEIGH_NONE);
	q = echo4_rq(V4_A, 8);
	CU_ASSERT_EQUAL(classify(b, mk_echo4(b, &q), &r), TXG_NEIGH_NONE);
	q = ns_rq(V6_A);
	CU_ASSERT_EQUAL(classify(b, mk_icmp6(b, &q), &r), TXG_NEIGH_NONE);
	q = echo6_rq(V6_A, 8);
	CU_ASSERT_EQUAL(classify(b, mk_icmp6(b, &q), &r), TXG_NEIGH_NONE);
	CU_ASSERT_EQUAL(txg_neigh_build_garp(b, sizeof(b), &CFG, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_build_unsol_na(b, sizeof(b), &CFG, 0, 0, 0), 0);
	/* Counts past the lists: the whole list, never past it (the cfg ends
	 * at a guard page; requests are classified from the stack). */
	struct txg_neigh_cfg *g = guard_end(1, sizeof(*g));
	const unsigned counts[] = {TXG_MAX_ADDRS + 1, 1000, 0xffffffffu};
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		memset(g, 0xee, sizeof(*g));
		memcpy(g->mac, OUR_MAC, 6);
		g->n_ipv4 = g->n_ipv6 = counts[i];
		memcpy(g->ipv4[TXG_MAX_ADDRS - 1], V4_A, 4);
		memcpy(g->ipv6[TXG_MAX_ADDRS - 1], V6_A, 16);
		uint8_t out[128];
		q = arp_rq(V4_A);
		size_t n = mk_arp(b, &q);
		CU_ASSERT_EQUAL(txg_neigh_classify(b, (uint32_t)n, g, &r), TXG_NEIGH_ARP);
		CU_ASSERT_EQUAL(r.addr, TXG_MAX_ADDRS - 1);
		CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &r, g), 60);
		q = arp_rq(V4_OTHER);
		CU_ASSERT_EQUAL(txg_neigh_classify(b, (uint32_t)mk_arp(b, &q), g, &r), TXG_NEIGH_NONE);
		q = ns_rq(V6_OTHER); /* same group as V6_A: the whole list is searched */
		CU_ASSERT_EQUAL(txg_neigh_classify(b, (uint32_t)mk_icmp6(b, &q), g, &r), TXG_NEIGH_NONE);
		q = ns_rq(V6_A);
		n = mk_icmp6(b, &q);
		CU_ASSERT_EQUAL(txg_neigh_classify(b, (uint32_t)n, g, &r), TXG_NEIGH_NS);
		CU_ASSERT_EQUAL(txg_neigh_build_reply(out, sizeof(out), b, (uint32_t)n, &r, g), 86);
		CU_ASSERT_EQUAL(txg_neigh_build_garp(out, sizeof(out), g, TXG_MAX_ADDRS - 1, 0, 0), 60);
		CU_ASSERT_EQUAL(txg_neigh_build_garp(out, sizeof(out), g, TXG_MAX_ADDRS, 0, 0), 0);
		CU_ASSERT_EQUAL(txg_neigh_build_unsol_na(out, sizeof(out), g, TXG_MAX_ADDRS - 1, 0, 0), 86);
		CU_ASSERT_EQUAL(txg_neigh_build_unsol_na(out, sizeof(out), g, TXG_MAX_ADDRS, 0, 0), 0);
	}
	CFG = save;
	/* From the [net] filter. */
	struct txg_pkt_filter f;
	memset(&f, 0, sizeof(f));
	f.n_ipv4 = 1;
	memcpy(f.ipv4[0], V4_B, 4);
	f.n_ipv6 = 99;
	memcpy(f.ipv6[7], V6_C, 16);
	struct txg_neigh_cfg c;
	memset(&c, 0x77, sizeof(c));
	txg_neigh_cfg_init(&c, &f, OUR_MAC);
	CU_ASSERT(memcmp(c.mac, OUR_MAC, 6) == 0);
	CU_ASSERT_EQUAL(c.n_ipv4, 1);
	CU_ASSERT(memcmp(c.ipv4[0], V4_B, 4) == 0);
	CU_ASSERT_EQUAL(c.n_ipv6, TXG_MAX_ADDRS);
	CU_ASSERT(memcmp(c.ipv6[7], V6_C, 16) == 0);
}

static void test_garp_unsol_na(void)
{
	for (int t = -1; t < 4; t++) {
		int tagged = t >= 0;
		uint16_t tci = tagged ? TCIS[t] : 0;
		uint32_t l2 = tagged ? 18 : 14;
		for (unsigned i = 0; i < 2; i++) {
			uint8_t *o = guard_end(1, 60);
			CU_ASSERT_EQUAL(txg_neigh_build_garp(o, 59, &CFG, i, tagged, tci), 0);
			CU_ASSERT_EQUAL_FATAL(txg_neigh_build_garp(o, 60, &CFG, i, tagged, tci), 60);
			CU_ASSERT(memcmp(o, BCAST, 6) == 0);
			CU_ASSERT(memcmp(o + 6, OUR_MAC, 6) == 0);
			if (tagged) {
				CU_ASSERT_EQUAL(get16(o + 12), 0x8100);
				CU_ASSERT_EQUAL(get16(o + 14), tci);
			}
			const uint8_t *a = o + l2;
			CU_ASSERT_EQUAL(get16(a - 2), 0x0806);
			CU_ASSERT_EQUAL(get16(a), 1);
			CU_ASSERT_EQUAL(get16(a + 2), 0x0800);
			CU_ASSERT_EQUAL(a[4], 6);
			CU_ASSERT_EQUAL(a[5], 4);
			CU_ASSERT_EQUAL(get16(a + 6), 1); /* request (RFC 5227 announcement) */
			CU_ASSERT(memcmp(a + 8, OUR_MAC, 6) == 0);
			CU_ASSERT(memcmp(a + 14, CFG.ipv4[i], 4) == 0);
			check_zero(a, 18, 24);
			CU_ASSERT(memcmp(a + 24, CFG.ipv4[i], 4) == 0);
			check_zero(o, l2 + 28, 60);
			/* Not answered by ourselves when looped back. */
			struct txg_neigh_req r;
			CU_ASSERT_EQUAL(classify(o, 60, &r), TXG_NEIGH_NONE);
		}
		CU_ASSERT_EQUAL(txg_neigh_build_garp(guard_end(1, 60), 60, &CFG, 2, tagged, tci), 0);
		for (unsigned i = 0; i < 3; i++) {
			uint32_t want = tagged ? TXG_NEIGH_NA_LEN_TAGGED : TXG_NEIGH_NA_LEN;
			uint8_t *o = guard_end(1, want);
			CU_ASSERT_EQUAL(txg_neigh_build_unsol_na(o, want - 1, &CFG, i, tagged, tci), 0);
			CU_ASSERT_EQUAL_FATAL(txg_neigh_build_unsol_na(o, want, &CFG, i, tagged, tci), want);
			check_na(o, want, tagged, tci, ALLN_MAC, CFG.ipv6[i], V6_ALLN, 0x20);
		}
		CU_ASSERT_EQUAL(txg_neigh_build_unsol_na(guard_end(1, 90), 90, &CFG, 3, tagged, tci), 0);
	}
}

/* Random corruption of valid requests, with checksums fixed up half the
 * time so the deeper rules run: never an access out of bounds, and every
 * reply checks out against its (corrupted) request. */
static void fix_csums(uint8_t *b, size_t n)
{
	int tagged;
	uint16_t tci;
	uint32_t l2 = req_l2(b, &tagged, &tci);
	if (n < l2 + 40)
		return;
	uint16_t et = get16(b + l2 - 2);
	uint8_t *ip = b + l2;
	if (et == 0x0800 && (ip[0] >> 4) == 4) {
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
		put16(ip + 42, txg_inet_csum(ip + 40, pl, pseudo_partial(ip + 8, ip + 24, pl)));
	}
}

static void test_random_mutation(void)
{
	uint8_t b[2048], out[2048];
	unsigned got[TXG_NEIGH_KIND_NUM] = {0};
	srand(4242);
	for (int round = 0; round < 200000; round++) {
		struct rq q;
		size_t n;
		int kind = rand() % 5;
		switch (kind) {
		case 0:
			q = arp_rq((rand() & 1) ? V4_A : V4_B);
			break;
		case 1:
			q = echo4_rq(V4_A, (uint32_t)(rand() % 80));
			q.nopt = (uint8_t)(4 * (rand() % 3));
			break;
		case 2:
			q = ns_rq((rand() & 1) ? V6_A : V6_C);
			if (rand() & 1) {
				q.slla = 0;
				memset(q.src, 0, 16);
			}
			break;
		default:
			q = echo6_rq(V6_B, (uint32_t)(rand() % 80));
			break;
		}
		q.tagged = rand() & 1;
		q.tci = (uint16_t)rand();
		q.pad = (rand() & 3) == 0 ? (uint32_t)(rand() % 20) : 0;
		n = kind == 0 ? mk_arp(b, &q) : kind == 1 ? mk_echo4(b, &q) : mk_icmp6(b, &q);
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			b[rand() % (int)n] ^= (uint8_t)(1 + rand() % 255);
		if (rand() & 1)
			fix_csums(b, n);
		size_t l = (rand() % 4 == 0) ? (size_t)(rand() % (int)(n + 1)) : n;
		struct txg_neigh_req r;
		uint32_t m = answer(b, l, &r, out);
		got[r.kind]++;
		if (m)
			check_reply(b, (uint32_t)l, &r, out, m);
	}
	/* Each outcome was reached. */
	for (unsigned k = 0; k < TXG_NEIGH_KIND_NUM; k++)
		CU_ASSERT(got[k] > 100);
}

/* ---- rate limits ---- */

static void test_bucket_basic(void)
{
	struct txg_neigh_bucket b;
	CU_ASSERT_EQUAL_FATAL(txg_neigh_bucket_init(&b, 10, 5, 1000, 0), 0);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(txg_neigh_take(&b, 0), 1);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 99), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 100), 1); /* 10/s: one per 100 ms */
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 150), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 199), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 200), 1);
	/* Idle for long: full again, no more than burst. */
	int n = 0;
	while (txg_neigh_take(&b, 100000))
		n++;
	CU_ASSERT_EQUAL(n, 5);
	/* Time going back refills nothing and does not move the bucket back. */
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 50), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 100099), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 100100), 1);
	/* The largest possible gap: full, no overflow. */
	n = 0;
	while (txg_neigh_take(&b, UINT64_MAX))
		n++;
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, UINT64_MAX), 0);
}

static void test_bucket_no_drift(void)
{
	/* TSC-like units; take everything whenever it is there, so the bucket
	 * never overflows: after T units exactly burst + floor(T * rate / hz)
	 * tokens were given, whatever the steps. */
	const uint64_t hz = 2999999929ull; /* a prime: no step divides a token */
	const uint32_t rates[] = {1, 7, 1000, 123457};
	srand(99);
	for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++) {
		struct txg_neigh_bucket b;
		uint64_t t0 = 1234567ull, t = t0, taken = 0;
		CU_ASSERT_FATAL(txg_neigh_bucket_init(&b, rates[ri], 64, hz, t0) == 0);
		uint64_t per_token = hz / rates[ri];
		while (txg_neigh_take(&b, t)) /* the initial burst */
			taken++;
		CU_ASSERT_EQUAL(taken, 64);
		for (int i = 0; i < 200000; i++) {
			t += 1 + (uint64_t)rand() % (per_token / 2 + 1);
			while (txg_neigh_take(&b, t))
				taken++;
			if (i % 1000 == 0) {
				unsigned __int128 want = (unsigned __int128)(t - t0) * rates[ri] / hz + 64;
				CU_ASSERT_EQUAL_FATAL(taken, (uint64_t)want);
			}
		}
		unsigned __int128 want = (unsigned __int128)(t - t0) * rates[ri] / hz + 64;
		CU_ASSERT_EQUAL(taken, (uint64_t)want);
	}
	/* Milliseconds: 1000/s over an hour in 1 ms steps is exactly 3.6 M + burst. */
	struct txg_neigh_bucket b;
	CU_ASSERT_FATAL(txg_neigh_bucket_init(&b, 1000, 10, 1000, 0) == 0);
	uint64_t taken = 0;
	for (uint64_t ms = 0; ms <= 3600000; ms++)
		while (txg_neigh_take(&b, ms))
			taken++;
	CU_ASSERT_EQUAL(taken, 3600000 + 10);
	/* 3 per second offered 1 per ms for 10 s: 10 burst + 30. */
	CU_ASSERT_FATAL(txg_neigh_bucket_init(&b, 3, 10, 1000, 0) == 0);
	taken = 0;
	for (uint64_t ms = 0; ms <= 10000; ms++)
		taken += (uint64_t)txg_neigh_take(&b, ms);
	CU_ASSERT_EQUAL(taken, 40);
}

static void test_bucket_limits(void)
{
	struct txg_neigh_bucket b;
	CU_ASSERT_EQUAL(txg_neigh_bucket_init(&b, 10, 5, 0, 0), -1);
	CU_ASSERT_EQUAL(txg_neigh_bucket_init(&b, 10, 0xffffffffu, 1ull << 32, 0), -1);
	CU_ASSERT_EQUAL(txg_neigh_bucket_init(&b, 10, 0x7fffffffu, 1ull << 32, 0), 0);
	/* Rate or burst 0: never. */
	CU_ASSERT_EQUAL(txg_neigh_bucket_init(&b, 0, 5, 1000, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 1000000), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, UINT64_MAX), 0);
	CU_ASSERT_EQUAL(txg_neigh_bucket_init(&b, 5, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 1000000), 0);
	/* Largest values: a rate above hz and the biggest burst that fits. */
	CU_ASSERT_EQUAL(txg_neigh_bucket_init(&b, 0xffffffffu, 0xffffffffu, 1, 0), 0);
	uint64_t n = 0;
	for (int i = 0; i < 1000; i++)
		n += (uint64_t)txg_neigh_take(&b, 0);
	CU_ASSERT_EQUAL(n, 1000);
	CU_ASSERT_EQUAL(txg_neigh_bucket_init(&b, 0xffffffffu, 1, 3000000000ull, 5), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 5), 1);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 5), 0);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, 6), 1); /* 4.29e9/s in 3e9 units/s: one per unit */
	CU_ASSERT_EQUAL(txg_neigh_take(&b, UINT64_MAX), 1);
	CU_ASSERT_EQUAL(txg_neigh_take(&b, UINT64_MAX), 0);
}

static void test_limiter(void)
{
	struct txg_neigh_limiter l;
	CU_ASSERT_FATAL(txg_neigh_bucket_init(&l.resolve, 100, 4, 1000, 0) == 0);
	CU_ASSERT_FATAL(txg_neigh_bucket_init(&l.echo, 100, 2, 1000, 0) == 0);
	/* A ping flood empties the echo bucket only. */
	int e = 0;
	for (int i = 0; i < 1000; i++)
		e += txg_neigh_allow(&l, (i & 1) ? TXG_NEIGH_ECHO4 : TXG_NEIGH_ECHO6, 0);
	CU_ASSERT_EQUAL(e, 2);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_ARP, 0), 1);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_NS, 0), 1);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_NONE, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_BAD, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_ARP, 0), 1);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_ARP, 0), 1);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_NS, 0), 0);
	CU_ASSERT_EQUAL(txg_neigh_allow(&l, TXG_NEIGH_NS, 10), 1);
}

int main(void)
{
	cfg_setup();
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("neigh", NULL, NULL);
	CU_add_test(s, "names", test_names);
	CU_add_test(s, "ref_csum", test_ref_csum);
	CU_add_test(s, "arp", test_arp);
	CU_add_test(s, "arp_ignored", test_arp_ignored);
	CU_add_test(s, "ns", test_ns);
	CU_add_test(s, "ns_invalid", test_ns_invalid);
	CU_add_test(s, "echo4", test_echo4);
	CU_add_test(s, "echo4_ignored", test_echo4_ignored);
	CU_add_test(s, "echo6", test_echo6);
	CU_add_test(s, "echo6_ignored", test_echo6_ignored);
	CU_add_test(s, "other_frames", test_other_frames);
	CU_add_test(s, "truncation", test_truncation);
	CU_add_test(s, "build_refuses", test_build_refuses);
	CU_add_test(s, "cfg", test_cfg);
	CU_add_test(s, "garp_unsol_na", test_garp_unsol_na);
	CU_add_test(s, "random_mutation", test_random_mutation);
	CU_add_test(s, "bucket_basic", test_bucket_basic);
	CU_add_test(s, "bucket_no_drift", test_bucket_no_drift);
	CU_add_test(s, "bucket_limits", test_bucket_limits);
	CU_add_test(s, "limiter", test_limiter);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
