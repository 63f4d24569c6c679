/* Receipt datagrams (dataplane/receipt.h, spec section 4): the batching
 * numbers, round trips with and without a cookie, full datagrams, the
 * packer's refusals and every parse error. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "receipt.h"

static const uint8_t ck[TXG_COOKIE_LEN] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
					   0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};

/* Entry number i: every status in turn, with a location where one is allowed. */
static void entry(unsigned i, struct txg_receipt_entry *e)
{
	memset(e, 0, sizeof *e);
	for (unsigned b = 0; b < TXG_ID_LEN; b++)
		e->tx_id[b] = (uint8_t)(i * 7 + b);
	e->status = (uint8_t)(i % TXG_ST_COUNT);
	if (e->status == TXG_ST_COMMITTED || (e->status == TXG_ST_DUPLICATE && i % 2)) {
		e->height = 0x0102030405060708ull + i;
		e->index = 0xa0b0c0d0u + i;
	}
}

static int same_entry(const struct txg_receipt_entry *a, const struct txg_receipt_entry *b)
{
	return memcmp(a->tx_id, b->tx_id, TXG_ID_LEN) == 0 && a->status == b->status && a->index == b->index &&
	       a->height == b->height;
}

/* Parse a copy in an exact-size heap buffer (ASan sees any over-read). */
static enum txg_receipt_err parse(const uint8_t *p, size_t len, struct txg_receipt_view *v, uint8_t **copy)
{
	uint8_t *c = malloc(len ? len : 1);
	CU_ASSERT_FATAL(c != NULL);
	if (len)
		memcpy(c, p, len);
	enum txg_receipt_err e = txg_receipt_parse(c, len, v);
	if (copy)
		*copy = c;
	else
		free(c);
	return e;
}

static enum txg_receipt_err perr(const uint8_t *p, size_t len)
{
	struct txg_receipt_view v;
	return parse(p, len, &v, NULL);
}

static void test_numbers(void)
{
	CU_ASSERT_EQUAL(txg_receipt_payload_max(1500, 4), 1472);
	CU_ASSERT_EQUAL(txg_receipt_payload_max(1500, 6), 1452);
	CU_ASSERT_EQUAL(txg_receipt_payload_max(1500, 5), 0);
	CU_ASSERT_EQUAL(txg_receipt_payload_max(27, 4), 0);
	CU_ASSERT_EQUAL(txg_receipt_payload_max(29, 4), 1);
	CU_ASSERT_EQUAL(txg_receipt_payload_max(47, 6), 0);
	/* MTU 1500: IPv4 30 entries with or without a cookie; IPv6 30, 29 with a cookie. */
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1500, 4), 0), 30);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1500, 4), 1), 30);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1500, 6), 0), 30);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1500, 6), 1), 29);
	/* A link that counts the 802.1Q tag inside 1500 (IP MTU 1496): the same. */
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1496, 4), 0), 30);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1496, 4), 1), 30);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1496, 6), 0), 30);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1496, 6), 1), 29);
	/* The IPv6 minimum MTU, and 9000-byte jumbo frames. */
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(1280, 6), 1), 25);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(txg_receipt_payload_max(9000, 4), 1), 186);
	/* Edges: one entry needs 56 bytes, 72 with a cookie; the count field caps it. */
	CU_ASSERT_EQUAL(txg_receipt_max_entries(0, 0), 0);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(55, 0), 0);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(56, 0), 1);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(71, 1), 0);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(72, 1), 1);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(8 + 48 * 65535, 0), 65535);
	CU_ASSERT_EQUAL(txg_receipt_max_entries(8 + 48 * 65536 + 100, 0), 65535);
}

/* n entries from first, packed into cap with or without a cookie, then parsed back. */
static void round_trip(unsigned first, unsigned n, size_t cap, const uint8_t *cookie)
{
	uint8_t *buf = malloc(cap);
	CU_ASSERT_FATAL(buf != NULL);
	struct txg_receipt_packer pk;
	txg_receipt_begin(&pk, buf, cap, cookie != NULL);
	unsigned max = txg_receipt_max_entries(cap, cookie != NULL);
	CU_ASSERT_FATAL(n >= 1 && n <= max);
	for (unsigned i = 0; i < n; i++) {
		struct txg_receipt_entry e;
		entry(first + i, &e);
		CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), (int)(max - i - 1));
	}
	size_t len = txg_receipt_finish(&pk, cookie);
	CU_ASSERT_EQUAL_FATAL(len, TXG_RCPT_HDR_LEN + 48u * n + (cookie ? TXG_COOKIE_LEN : 0));
	CU_ASSERT_FATAL(len <= cap);
	CU_ASSERT(memcmp(buf, "TXR1\x01", 5) == 0 && buf[5] == (cookie ? 1 : 0) && txg_ld16(buf + 6) == n);
	struct txg_receipt_view v;
	uint8_t *c = NULL;
	CU_ASSERT_EQUAL_FATAL(parse(buf, len, &v, &c), TXG_RE_OK);
	CU_ASSERT_EQUAL(v.count, n);
	CU_ASSERT_EQUAL(v.flags, cookie ? TXG_RCPT_F_COOKIE : 0);
	CU_ASSERT_PTR_EQUAL(v.entries, c + TXG_RCPT_HDR_LEN);
	if (cookie) {
		CU_ASSERT_PTR_EQUAL(v.cookie, c + len - TXG_COOKIE_LEN);
		CU_ASSERT(memcmp(v.cookie, cookie, TXG_COOKIE_LEN) == 0);
	} else {
		CU_ASSERT_PTR_NULL(v.cookie);
	}
	for (unsigned i = 0; i < n; i++) {
		struct txg_receipt_entry want, got;
		entry(first + i, &want);
		txg_receipt_entry_get(&v, i, &got);
		CU_ASSERT(same_entry(&want, &got));
		const uint8_t *raw = v.entries + 48 * i;
		CU_ASSERT(raw[33] == 0 && raw[34] == 0 && raw[35] == 0);
	}
	free(c);
	free(buf);
}

static void test_round_trip(void)
{
	round_trip(0, 1, 1472, NULL);
	round_trip(0, 1, 1472, ck);
	round_trip(3, TXG_ST_COUNT * 2, 1472, NULL); /* every status, twice */
	round_trip(5, TXG_ST_COUNT * 2, 1452, ck);
	/* the exact little-endian layout of one entry */
	uint8_t buf[128];
	struct txg_receipt_packer pk;
	struct txg_receipt_entry e = {.status = TXG_ST_COMMITTED, .index = 0x04030201u, .height = 0x0c0b0a0908070605ull};
	memset(e.tx_id, 0xee, TXG_ID_LEN);
	txg_receipt_begin(&pk, buf, 56, 0);
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), 0);
	CU_ASSERT_EQUAL_FATAL(txg_receipt_finish(&pk, NULL), 56);
	static const uint8_t tail[16] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	CU_ASSERT(buf[8] == 0xee && buf[8 + 31] == 0xee && memcmp(buf + 8 + 32, tail, 16) == 0);
}

/* The largest datagrams at MTU 1500, and the entry after the last refused. */
static void test_full_datagram(void)
{
	struct {
		unsigned af;
		int cookie;
		unsigned n;
	} cases[] = {{4, 0, 30}, {4, 1, 30}, {6, 0, 30}, {6, 1, 29}};
	for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		size_t cap = txg_receipt_payload_max(1500, cases[c].af);
		round_trip(c, cases[c].n, cap, cases[c].cookie ? ck : NULL);
		uint8_t buf[1472];
		struct txg_receipt_packer pk;
		struct txg_receipt_entry e;
		txg_receipt_begin(&pk, buf, cap, cases[c].cookie);
		int left = -1;
		for (unsigned i = 0; i < cases[c].n; i++) {
			entry(i, &e);
			left = txg_receipt_add(&pk, &e);
		}
		CU_ASSERT_EQUAL(left, 0);
		CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
		size_t len = txg_receipt_finish(&pk, cases[c].cookie ? ck : NULL);
		CU_ASSERT(len <= cap && cap - len < TXG_RCPT_ENTRY_LEN); /* no room was wasted */
		CU_ASSERT_EQUAL(perr(buf, len), TXG_RE_OK);
	}
	/* An exact fit: cap = 8 + 48 n + 16. */
	round_trip(1, 7, 8 + 48 * 7 + 16, ck);
	/* The most a count can say: 65535 entries (3 MB; more than UDP carries, a packer never makes more). */
	size_t cap = 8 + 48u * 65535 + 16;
	uint8_t *big = malloc(cap);
	CU_ASSERT_FATAL(big != NULL);
	struct txg_receipt_packer pk;
	struct txg_receipt_entry e;
	txg_receipt_begin(&pk, big, cap + 4096, 1);
	entry(2, &e);
	for (unsigned i = 0; i < 65535; i++)
		txg_receipt_add(&pk, &e);
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
	CU_ASSERT_EQUAL(txg_receipt_finish(&pk, ck), cap);
	struct txg_receipt_view v;
	CU_ASSERT_EQUAL(txg_receipt_parse(big, cap, &v), TXG_RE_OK);
	CU_ASSERT_EQUAL(v.count, 65535);
	free(big);
}

/* A caller batching 100 entries for one client at MTU 1500 over IPv6 with
 * cookies: 4 datagrams of 29, 29, 29, 13, in order. */
static void test_batching(void)
{
	size_t cap = txg_receipt_payload_max(1500, 6);
	static uint8_t dg[8][1452];
	size_t lens[8];
	unsigned ndg = 0;
	struct txg_receipt_packer pk;
	txg_receipt_begin(&pk, dg[0], cap, 1);
	for (unsigned i = 0; i < 100; i++) {
		struct txg_receipt_entry e;
		entry(i, &e);
		int left = txg_receipt_add(&pk, &e);
		CU_ASSERT_FATAL(left >= 0);
		if (left == 0) {
			lens[ndg] = txg_receipt_finish(&pk, ck);
			txg_receipt_begin(&pk, dg[++ndg], cap, 1);
		}
	}
	lens[ndg] = txg_receipt_finish(&pk, ck);
	if (lens[ndg])
		ndg++;
	CU_ASSERT_EQUAL_FATAL(ndg, 4);
	unsigned next = 0;
	static const unsigned want[4] = {29, 29, 29, 13};
	for (unsigned d = 0; d < ndg; d++) {
		struct txg_receipt_view v;
		CU_ASSERT_EQUAL_FATAL(txg_receipt_parse(dg[d], lens[d], &v), TXG_RE_OK);
		CU_ASSERT_EQUAL(v.count, want[d]);
		CU_ASSERT(lens[d] <= cap);
		for (unsigned i = 0; i < v.count; i++, next++) {
			struct txg_receipt_entry a, b;
			entry(next, &a);
			txg_receipt_entry_get(&v, i, &b);
			CU_ASSERT(same_entry(&a, &b));
		}
	}
	CU_ASSERT_EQUAL(next, 100);
}

static void test_packer_refusals(void)
{
	uint8_t buf[1024];
	struct txg_receipt_packer pk;
	struct txg_receipt_entry e;
	txg_receipt_begin(&pk, buf, sizeof buf, 1);
	CU_ASSERT_EQUAL(txg_receipt_finish(&pk, ck), 0); /* no entry */
	CU_ASSERT_EQUAL(txg_receipt_finish(&pk, NULL), 0);
	entry(0, &e);
	e.status = TXG_ST_COUNT;
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
	e.status = 255;
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
	/* committed without a height */
	entry(0, &e);
	e.height = 0;
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
	/* a location on a status that has none */
	for (unsigned st = 2; st < TXG_ST_COUNT; st++) {
		entry(st, &e);
		e.height = 1;
		CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
		e.height = 0;
		e.index = 1;
		CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
		e.index = 0;
		CU_ASSERT(txg_receipt_add(&pk, &e) >= 0);
	}
	/* duplicate: located, or all zero (the original not committed yet); not an index alone */
	entry(1, &e);
	e.height = 0;
	e.index = 3;
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
	e.index = 0;
	CU_ASSERT(txg_receipt_add(&pk, &e) >= 0);
	CU_ASSERT_EQUAL(pk.count, TXG_ST_COUNT - 2 + 1);
	/* A cookie that no room was kept for. */
	txg_receipt_begin(&pk, buf, 56, 0);
	entry(0, &e);
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), 0);
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
	CU_ASSERT_EQUAL(txg_receipt_finish(&pk, ck), 0);
	CU_ASSERT_EQUAL(txg_receipt_finish(&pk, NULL), 56);
	/* ... but the room that is left over may take it. */
	txg_receipt_begin(&pk, buf, 100, 0);
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), 0);
	CU_ASSERT_EQUAL(txg_receipt_finish(&pk, ck), 72);
	CU_ASSERT_EQUAL(perr(buf, 72), TXG_RE_OK);
	/* A cap too small for one entry. */
	txg_receipt_begin(&pk, buf, 71, 1);
	CU_ASSERT_EQUAL(txg_receipt_add(&pk, &e), -1);
	CU_ASSERT_EQUAL(txg_receipt_finish(&pk, ck), 0);
}

static size_t good(uint8_t *buf, size_t cap, unsigned n, const uint8_t *cookie)
{
	struct txg_receipt_packer pk;
	txg_receipt_begin(&pk, buf, cap, cookie != NULL);
	for (unsigned i = 0; i < n; i++) {
		struct txg_receipt_entry e;
		entry(i, &e);
		CU_ASSERT_FATAL(txg_receipt_add(&pk, &e) >= 0);
	}
	return txg_receipt_finish(&pk, cookie);
}

static void test_parse_errors(void)
{
	uint8_t g[1472], gc[1472], b[1600];
	size_t len = good(g, sizeof g, 12, NULL), lc = good(gc, sizeof gc, 12, ck);
	CU_ASSERT_EQUAL_FATAL(perr(g, len), TXG_RE_OK);
	CU_ASSERT_EQUAL_FATAL(perr(gc, lc), TXG_RE_OK);
	for (size_t l = 0; l < TXG_RCPT_HDR_LEN; l++)
		CU_ASSERT_EQUAL(perr(g, l), TXG_RE_SHORT);
	for (int i = 0; i < 4; i++) {
		memcpy(b, g, len);
		b[i] ^= 0x20;
		CU_ASSERT_EQUAL(perr(b, len), TXG_RE_MAGIC);
	}
	CU_ASSERT_EQUAL(perr((const uint8_t *)"TXI1\x01\x00\x01\x00", 8), TXG_RE_MAGIC); /* a frame is no receipt */
	memcpy(b, g, len);
	b[4] = 0;
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_VERSION);
	b[4] = 2;
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_VERSION);
	for (int bit = 1; bit < 8; bit++) {
		memcpy(b, g, len);
		b[5] = (uint8_t)(1u << bit);
		CU_ASSERT_EQUAL(perr(b, len), TXG_RE_FLAGS);
		memcpy(b, gc, lc);
		b[5] |= (uint8_t)(1u << bit);
		CU_ASSERT_EQUAL(perr(b, lc), TXG_RE_FLAGS);
	}
	memcpy(b, g, len);
	txg_st16(b + 6, 0);
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_COUNT);
	CU_ASSERT_EQUAL(perr(b, 8), TXG_RE_COUNT);
	/* length: every length but the right one, with and without the cookie */
	memset(b, 0, sizeof b);
	memcpy(b, g, len);
	for (size_t l = TXG_RCPT_HDR_LEN; l < sizeof b; l++)
		if (l != len)
			CU_ASSERT_EQUAL(perr(b, l), TXG_RE_LENGTH);
	memset(b, 0, sizeof b);
	memcpy(b, gc, lc);
	for (size_t l = TXG_RCPT_HDR_LEN; l < sizeof b; l++)
		if (l != lc)
			CU_ASSERT_EQUAL(perr(b, l), TXG_RE_LENGTH);
	/* the cookie flag cleared with the cookie there, or set without one */
	memcpy(b, gc, lc);
	b[5] = 0;
	CU_ASSERT_EQUAL(perr(b, lc), TXG_RE_LENGTH);
	CU_ASSERT_EQUAL(perr(b, lc - 16), TXG_RE_OK);
	memcpy(b, g, len);
	b[5] = TXG_RCPT_F_COOKIE;
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LENGTH);
	/* count one more, one less, the largest */
	memcpy(b, g, len);
	txg_st16(b + 6, 13);
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LENGTH);
	txg_st16(b + 6, 11);
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LENGTH);
	txg_st16(b + 6, 0xffff);
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LENGTH);
	/* reserved bytes, in the first and the last entry */
	for (unsigned ent = 0; ent < 12; ent += 11)
		for (unsigned r = 33; r < 36; r++) {
			memcpy(b, gc, lc);
			b[8 + 48 * ent + r] = 0x80;
			CU_ASSERT_EQUAL(perr(b, lc), TXG_RE_RESERVED);
		}
	/* status codes past accepted (10) */
	for (unsigned st = TXG_ST_COUNT; st < 256; st += 61) {
		memcpy(b, g, len);
		b[8 + 48 * 11 + 32] = (uint8_t)st;
		CU_ASSERT_EQUAL(perr(b, len), TXG_RE_STATUS);
	}
	/* locations: committed at height 0; bad_signature located; duplicate with an index alone */
	memcpy(b, g, len);
	memset(b + 8 + 40, 0, 8); /* entry 0 is committed */
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LOCATION);
	memcpy(b, g, len);
	b[8 + 48 * 2 + 40] = 1; /* entry 2: bad_signature, height 1 */
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LOCATION);
	memcpy(b, g, len);
	b[8 + 48 * 2 + 36] = 1; /* index 1 */
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LOCATION);
	memcpy(b, g, len);
	b[8 + 48 * 1 + 36] = 0; /* entry 1 is a located duplicate: any index */
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_OK);
	memset(b + 8 + 48 * 1 + 40, 0, 8); /* not located: an index alone is wrong */
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_LOCATION);
	memset(b + 8 + 48 * 1 + 36, 0, 4); /* all zero: a duplicate of one not committed yet */
	CU_ASSERT_EQUAL(perr(b, len), TXG_RE_OK);
	/* names */
	for (unsigned e = 0; e < TXG_RE_NUM; e++) {
		CU_ASSERT_STRING_NOT_EQUAL(txg_receipt_err_name(e), "?");
		for (unsigned f = 0; f < e; f++)
			CU_ASSERT_STRING_NOT_EQUAL(txg_receipt_err_name(e), txg_receipt_err_name(f));
	}
	CU_ASSERT_STRING_EQUAL(txg_receipt_err_name(TXG_RE_LENGTH), "receipt_bad_length");
	CU_ASSERT_STRING_EQUAL(txg_receipt_err_name(TXG_RE_NUM), "?");
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("receipt", NULL, NULL);
	if (!s || !CU_add_test(s, "batching numbers", test_numbers) || !CU_add_test(s, "round trip", test_round_trip) ||
	    !CU_add_test(s, "full datagrams", test_full_datagram) || !CU_add_test(s, "batching", test_batching) ||
	    !CU_add_test(s, "packer refusals", test_packer_refusals) ||
	    !CU_add_test(s, "parse errors", test_parse_errors)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
