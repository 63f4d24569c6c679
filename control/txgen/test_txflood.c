/* Unit tests of txflood's pure parts (flood.c): putting a cookie into a
 * frame (with and without one already there), taking the cookie and the
 * statuses out of receipts (and ignoring odd datagrams), and reading the
 * frames of a pcap. */
#include <CUnit/Basic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "flood.h"
#include "pkt_build.h"
#include "receipt.h"
#include "wire.h"

static uint8_t sk[64], pk[32];

/* A valid frame of n records (flags without COOKIE), with a cookie if
 * cookie is not NULL; its length. */
static size_t make_frame(uint8_t *out, size_t cap, uint8_t flags, unsigned n, const uint8_t *cookie)
{
	size_t off = cookie ? txg_frame_header_cookie(out, flags, (uint16_t)n, cookie) : TXG_FRAME_HDR_LEN;
	if (!cookie)
		txg_frame_header(out, flags, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		struct txg_body_fields f = {.version = TXG_BODY_VERSION, .kind = 1, .chain_id = 7, .nonce = i,
					    .expires_ms = 1000};
		memcpy(f.sender, pk, 32);
		uint8_t payload[40];
		memset(payload, (int)i, sizeof payload);
		size_t r = txg_record_encode(out + off, cap - off, &f, payload, 10 + i, sk);
		CU_ASSERT_FATAL(r > 0);
		off += r;
	}
	return off;
}

static void check_cookie_frame(const uint8_t *orig, size_t olen, size_t orig_rec_off, const uint8_t *nf, size_t nlen,
			       const uint8_t *cookie, unsigned count)
{
	CU_ASSERT_EQUAL(nlen, TXG_FRAME_HDR_COOKIE_LEN + olen - orig_rec_off);
	CU_ASSERT(memcmp(nf, orig, 5) == 0);
	CU_ASSERT_EQUAL(nf[5], orig[5] | TXG_FRAME_F_COOKIE);
	CU_ASSERT(memcmp(nf + 6, orig + 6, 2) == 0);
	CU_ASSERT(memcmp(nf + 8, cookie, 16) == 0);
	CU_ASSERT(memcmp(nf + 24, orig + orig_rec_off, olen - orig_rec_off) == 0);
	static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
	struct txg_frame_view fv;
	CU_ASSERT_FATAL(txg_frame_parse(nf, nlen, &fv, rv) == TXG_FE_OK);
	CU_ASSERT_EQUAL(fv.count, count);
	CU_ASSERT(fv.cookie != NULL && memcmp(fv.cookie, cookie, 16) == 0);
}

static void test_rewrite_no_cookie(void)
{
	static uint8_t fr[4096], out[4096];
	uint8_t cookie[16], hdr[24];
	for (int i = 0; i < 16; i++)
		cookie[i] = (uint8_t)(0xa0 + i);
	size_t len = make_frame(fr, sizeof fr, TXG_FRAME_F_RECEIPT | TXG_FRAME_F_ADMIT, 3, NULL);
	size_t n = tf_frame_with_cookie(out, sizeof out, fr, len, cookie);
	check_cookie_frame(fr, len, 8, out, n, cookie, 3);
	CU_ASSERT_EQUAL(out[5], 0x07);
	size_t rest = 0;
	CU_ASSERT_EQUAL(tf_cookie_header(hdr, fr, len, cookie, &rest), len + 16);
	CU_ASSERT_EQUAL(rest, 8);
	CU_ASSERT(memcmp(hdr, out, 24) == 0);
	/* The output must fit. */
	CU_ASSERT_EQUAL(tf_frame_with_cookie(out, len + 15, fr, len, cookie), 0);
	CU_ASSERT_EQUAL(tf_frame_with_cookie(out, len + 16, fr, len, cookie), len + 16);
	/* Flags 0: only COOKIE set. */
	len = make_frame(fr, sizeof fr, 0, 1, NULL);
	n = tf_frame_with_cookie(out, sizeof out, fr, len, cookie);
	check_cookie_frame(fr, len, 8, out, n, cookie, 1);
	CU_ASSERT_EQUAL(out[5], TXG_FRAME_F_COOKIE);
}

static void test_rewrite_replace_cookie(void)
{
	static uint8_t fr[4096], out[4096];
	uint8_t old[16], cookie[16], hdr[24];
	memset(old, 0x11, 16);
	memset(cookie, 0x22, 16);
	size_t len = make_frame(fr, sizeof fr, TXG_FRAME_F_RECEIPT, 2, old);
	CU_ASSERT_EQUAL(fr[5], TXG_FRAME_F_RECEIPT | TXG_FRAME_F_COOKIE);
	size_t n = tf_frame_with_cookie(out, sizeof out, fr, len, cookie);
	check_cookie_frame(fr, len, 24, out, n, cookie, 2);
	CU_ASSERT_EQUAL(n, len);
	CU_ASSERT(memcmp(out, fr, 8) == 0);
	size_t rest = 0;
	CU_ASSERT_EQUAL(tf_cookie_header(hdr, fr, len, cookie, &rest), len);
	CU_ASSERT_EQUAL(rest, 24);
	/* The same cookie again: the same bytes. */
	n = tf_frame_with_cookie(out, sizeof out, fr, len, old);
	CU_ASSERT(n == len && memcmp(out, fr, len) == 0);
}

static void test_rewrite_odd(void)
{
	uint8_t cookie[16] = {1}, hdr[24], out[64];
	size_t rest = 99;
	static uint8_t big[TF_UDP_MAX + 16];
	/* Shorter than a header: no cookie. */
	uint8_t tiny[8] = {'T', 'X', 'I', '1', 1, 1, 1, 0};
	for (size_t l = 0; l < 8; l++)
		CU_ASSERT_EQUAL(tf_cookie_header(hdr, tiny, l, cookie, &rest), 0);
	/* A header alone takes one (the frame is as broken as before). */
	CU_ASSERT_EQUAL(tf_cookie_header(hdr, tiny, 8, cookie, &rest), 24);
	CU_ASSERT_EQUAL(rest, 8);
	/* COOKIE set but the cookie cut: left alone. */
	uint8_t cut[23];
	memcpy(cut, tiny, 8);
	cut[5] = TXG_FRAME_F_COOKIE;
	memset(cut + 8, 0, 15);
	CU_ASSERT_EQUAL(tf_cookie_header(hdr, cut, sizeof cut, cookie, &rest), 0);
	CU_ASSERT_EQUAL(tf_frame_with_cookie(out, sizeof out, cut, sizeof cut, cookie), 0);
	/* Size limit: 65507 - 16 bytes take a cookie, one more does not. */
	memcpy(big, tiny, 8);
	CU_ASSERT_EQUAL(tf_cookie_header(hdr, big, TF_UDP_MAX - 16, cookie, &rest), TF_UDP_MAX);
	CU_ASSERT_EQUAL(tf_cookie_header(hdr, big, TF_UDP_MAX - 15, cookie, &rest), 0);
	/* With a cookie already there the size stays. */
	big[5] = TXG_FRAME_F_COOKIE;
	CU_ASSERT_EQUAL(tf_cookie_header(hdr, big, TF_UDP_MAX, cookie, &rest), TF_UDP_MAX);
	CU_ASSERT_EQUAL(rest, 24);
}

/* A receipt of n entries (statuses st[i]) with cookie if not NULL. */
static size_t make_receipt(uint8_t *buf, size_t cap, const uint8_t *st, unsigned n, const uint8_t *cookie)
{
	struct txg_receipt_packer pk;
	txg_receipt_begin(&pk, buf, cap, cookie != NULL);
	for (unsigned i = 0; i < n; i++) {
		struct txg_receipt_entry e;
		memset(&e, 0, sizeof e);
		memset(e.tx_id, (int)i, sizeof e.tx_id);
		e.status = st[i];
		if (st[i] == TXG_ST_COMMITTED) {
			e.height = 5;
			e.index = i;
		}
		CU_ASSERT_FATAL(txg_receipt_add(&pk, &e) >= 0);
	}
	return txg_receipt_finish(&pk, cookie);
}

static void test_receipt_cookie(void)
{
	uint8_t buf[1500], cookie[16], got[16];
	const uint8_t st[4] = {TXG_ST_COMMITTED, TXG_ST_OVERLOADED, TXG_ST_OVERLOADED, TXG_ST_BAD_SIGNATURE};
	uint64_t per[TXG_ST_COUNT] = {0};
	int has = -1;
	for (int i = 0; i < 16; i++)
		cookie[i] = (uint8_t)(0x30 + 7 * i);
	size_t len = make_receipt(buf, sizeof buf, st, 4, cookie);
	CU_ASSERT_FATAL(len == 8 + 4 * 48 + 16);
	CU_ASSERT_EQUAL(tf_receipt_take(buf, len, per, got, &has), 4);
	CU_ASSERT_EQUAL(has, 1);
	CU_ASSERT(memcmp(got, cookie, 16) == 0);
	CU_ASSERT_EQUAL(per[TXG_ST_COMMITTED], 1);
	CU_ASSERT_EQUAL(per[TXG_ST_OVERLOADED], 2);
	CU_ASSERT_EQUAL(per[TXG_ST_BAD_SIGNATURE], 1);
	CU_ASSERT_EQUAL(per[TXG_ST_DUPLICATE], 0);

	/* Without a cookie: counted, the last cookie untouched. */
	len = make_receipt(buf, sizeof buf, st + 3, 1, NULL);
	CU_ASSERT_FATAL(len == 8 + 48);
	memset(got, 0x5a, 16);
	CU_ASSERT_EQUAL(tf_receipt_take(buf, len, NULL, got, &has), 1);
	CU_ASSERT_EQUAL(has, 0);
	for (int i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(got[i], 0x5a);
}

static void test_receipt_odd(void)
{
	uint8_t buf[1500], bad[1500], cookie[16] = {9}, got[16];
	const uint8_t st[2] = {TXG_ST_DUPLICATE, TXG_ST_EXPIRED};
	uint64_t per[TXG_ST_COUNT] = {0};
	int has;
	size_t len = make_receipt(buf, sizeof buf, st, 2, cookie);
	CU_ASSERT_FATAL(len > 0);
	/* Every cut is refused, and counts nothing. */
	for (size_t l = 0; l < len; l++) {
		has = -1;
		CU_ASSERT_EQUAL(tf_receipt_take(buf, l, per, got, &has), -1);
		CU_ASSERT_EQUAL(has, 0);
	}
	/* Wrong magic, version, unknown flag, a byte too many. */
	memcpy(bad, buf, len);
	bad[3] = '2';
	CU_ASSERT_EQUAL(tf_receipt_take(bad, len, per, got, &has), -1);
	memcpy(bad, buf, len);
	bad[4] = 2;
	CU_ASSERT_EQUAL(tf_receipt_take(bad, len, per, got, &has), -1);
	memcpy(bad, buf, len);
	bad[5] |= 0x80;
	CU_ASSERT_EQUAL(tf_receipt_take(bad, len, per, got, &has), -1);
	memcpy(bad, buf, len);
	bad[len] = 0;
	CU_ASSERT_EQUAL(tf_receipt_take(bad, len + 1, per, got, &has), -1);
	/* A frame is not a receipt. */
	static uint8_t fr[4096];
	size_t flen = make_frame(fr, sizeof fr, 1, 1, NULL);
	CU_ASSERT_EQUAL(tf_receipt_take(fr, flen, per, got, &has), -1);
	for (unsigned s = 0; s < TXG_ST_COUNT; s++)
		CU_ASSERT_EQUAL(per[s], 0);
	/* Random bytes with a right-looking header: never a crash. */
	for (int i = 0; i < 2000; i++) {
		size_t l = 8 + (size_t)randombytes_uniform(200);
		randombytes_buf(bad, l);
		memcpy(bad, "TXR1\x01", 5);
		(void)tf_receipt_take(bad, l, per, got, &has);
	}
	CU_ASSERT_EQUAL(tf_receipt_take(buf, len, per, got, &has), 2);
	CU_ASSERT(has == 1 && memcmp(got, cookie, 16) == 0);
}

/* pcap writing, in memory. */
static uint8_t pc[1 << 16];
static size_t pclen;

static void pc_start(uint32_t magic, uint32_t link)
{
	txg_st32(pc, magic);
	txg_st16(pc + 4, 2);
	txg_st16(pc + 6, 4);
	memset(pc + 8, 0, 8);
	txg_st32(pc + 16, 65535);
	txg_st32(pc + 20, link);
	pclen = 24;
}

static void pc_add(const uint8_t *p, size_t n)
{
	CU_ASSERT_FATAL(pclen + 16 + n <= sizeof pc);
	memset(pc + pclen, 0, 8);
	txg_st32(pc + pclen + 8, (uint32_t)n);
	txg_st32(pc + pclen + 12, (uint32_t)n);
	memcpy(pc + pclen + 16, p, n);
	pclen += 16 + n;
}

static void test_pcap_frames(void)
{
	static uint8_t f1[4096], f2[4096], pkt[8192];
	uint8_t ck[16] = {3};
	size_t l1 = make_frame(f1, sizeof f1, 1, 2, NULL), l2 = make_frame(f2, sizeof f2, 1, 1, ck);
	struct txg_pkt_spec s4 = {.af = 4, .sport = 40000, .dport = 7400}, s6 = s4, sv = s4;
	s4.src[0] = 10, s4.src[3] = 2, s4.dst[0] = 10, s4.dst[3] = 1;
	sv = s4;
	sv.vlan = 12;
	s6.af = 6;
	s6.src[15] = 2;
	s6.dst[15] = 1;
	pc_start(0xa1b2c3d4u, 1);
	size_t n = txg_pkt_build(pkt, sizeof pkt, &s4, f1, l1);
	pc_add(pkt, n);
	n = txg_pkt_build(pkt, sizeof pkt, &s6, f1, l1); /* skipped */
	pc_add(pkt, n);
	n = txg_pkt_build(pkt, sizeof pkt, &sv, f2, l2);
	pc_add(pkt, n);
	pc_add(pkt, 30); /* cut inside the IP header: skipped */
	n = txg_pkt_build(pkt, sizeof pkt, &s4, f1, 5); /* a broken frame is still sent */
	pc_add(pkt, n);
	n = txg_pkt_build(pkt, sizeof pkt, &s4, f1, l1);
	pkt[12] = 0x08, pkt[13] = 0x06; /* not IP */
	pc_add(pkt, n);

	struct tf_frames fr;
	const char *why = "x";
	CU_ASSERT_FATAL(tf_frames_from_pcap(pc, pclen, &fr, &why) == 0);
	CU_ASSERT(why == NULL);
	CU_ASSERT_FATAL(fr.n == 3);
	CU_ASSERT_EQUAL(fr.skipped, 3);
	CU_ASSERT(fr.len[0] == l1 && memcmp(fr.data + fr.off[0], f1, l1) == 0);
	CU_ASSERT(fr.len[1] == l2 && memcmp(fr.data + fr.off[1], f2, l2) == 0);
	CU_ASSERT(fr.len[2] == 5 && memcmp(fr.data + fr.off[2], f1, 5) == 0);
	CU_ASSERT_EQUAL(fr.records[0], 2);
	CU_ASSERT_EQUAL(fr.records[1], 1);
	CU_ASSERT_EQUAL(fr.records[2], 0);
	tf_frames_free(&fr);

	/* Refused files. */
	CU_ASSERT_EQUAL(tf_frames_from_pcap(pc, pclen - 1, &fr, &why), -1); /* cut */
	CU_ASSERT(why != NULL);
	CU_ASSERT_EQUAL(tf_frames_from_pcap(pc, 23, &fr, &why), -1);
	uint8_t keep = pc[0];
	pc[0] ^= 1;
	CU_ASSERT_EQUAL(tf_frames_from_pcap(pc, pclen, &fr, &why), -1); /* magic */
	pc[0] = keep;
	txg_st32(pc + 20, 101);
	CU_ASSERT_EQUAL(tf_frames_from_pcap(pc, pclen, &fr, &why), -1); /* link type */
	txg_st32(pc + 20, 1);
	/* Every cut of a good file: refused or fewer frames, never a crash. */
	for (size_t l = 0; l < pclen; l += 7)
		if (tf_frames_from_pcap(pc, l, &fr, &why) == 0) {
			CU_ASSERT(fr.n <= 3);
			tf_frames_free(&fr);
		}
	/* Big-endian files. */
	uint8_t be[24] = {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1};
	memcpy(pc, be, 24);
	pclen = 24;
	n = txg_pkt_build(pkt, sizeof pkt, &s4, f1, l1);
	uint8_t rh[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)(n >> 8), (uint8_t)n, 0, 0, (uint8_t)(n >> 8), (uint8_t)n};
	memcpy(pc + pclen, rh, 16);
	memcpy(pc + pclen + 16, pkt, n);
	pclen += 16 + n;
	CU_ASSERT_FATAL(tf_frames_from_pcap(pc, pclen, &fr, &why) == 0);
	CU_ASSERT(fr.n == 1 && fr.len[0] == l1 && memcmp(fr.data, f1, l1) == 0);
	tf_frames_free(&fr);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("txflood", NULL, NULL);
	if (!s || !CU_add_test(s, "cookie into a frame without one", test_rewrite_no_cookie) ||
	    !CU_add_test(s, "cookie replaces a frame's cookie", test_rewrite_replace_cookie) ||
	    !CU_add_test(s, "odd frames and the size limit", test_rewrite_odd) ||
	    !CU_add_test(s, "receipt cookie and statuses", test_receipt_cookie) ||
	    !CU_add_test(s, "odd receipts ignored", test_receipt_odd) ||
	    !CU_add_test(s, "frames from a pcap", test_pcap_frames)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
