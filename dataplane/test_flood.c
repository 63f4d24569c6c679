/* Unit tests of flood protection's pieces (flood.h): source prefixes, the
 * fair scheduler, the penalty box, the answer buckets, the signature tag
 * cache and the load detector. */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "flood.h"

static void test_prefix(void)
{
	uint8_t a[16] = {10, 1, 2, 3}, b[16] = {10, 1, 2, 200}, c[16] = {10, 1, 3, 3};
	CU_ASSERT_EQUAL(txg_flood_prefix(4, a, 24, 56, 7), txg_flood_prefix(4, b, 24, 56, 7));
	CU_ASSERT_NOT_EQUAL(txg_flood_prefix(4, a, 24, 56, 7), txg_flood_prefix(4, c, 24, 56, 7));
	CU_ASSERT_EQUAL(txg_flood_prefix(4, a, 16, 56, 7), txg_flood_prefix(4, c, 16, 56, 7));
	CU_ASSERT_NOT_EQUAL(txg_flood_prefix(4, a, 32, 56, 7), txg_flood_prefix(4, b, 32, 56, 7));
	/* IPv6 /56: byte 6 counts, byte 7 does not; the family counts too. */
	uint8_t x[16] = {0x20, 1, 0xd, 0xb8, 0, 0, 1, 1}, y[16] = {0x20, 1, 0xd, 0xb8, 0, 0, 1, 9},
		z[16] = {0x20, 1, 0xd, 0xb8, 0, 0, 2, 1};
	CU_ASSERT_EQUAL(txg_flood_prefix(6, x, 24, 56, 7), txg_flood_prefix(6, y, 24, 56, 7));
	CU_ASSERT_NOT_EQUAL(txg_flood_prefix(6, x, 24, 56, 7), txg_flood_prefix(6, z, 24, 56, 7));
	CU_ASSERT_NOT_EQUAL(txg_flood_prefix(4, x, 24, 56, 7), txg_flood_prefix(6, x, 24, 56, 7));
	/* Bits beyond the address are clamped, 0 bits: one prefix for all. */
	CU_ASSERT_EQUAL(txg_flood_prefix(4, a, 0, 0, 7), txg_flood_prefix(4, c, 0, 0, 7));
	CU_ASSERT_NOT_EQUAL(txg_flood_prefix(4, a, 99, 56, 7), txg_flood_prefix(4, b, 99, 56, 7));
}

/* Keys whose buckets differ (the scheduler hashes on the high 32 bits). */
static uint64_t bkey(uint32_t b) { return (uint64_t)b << 32; }

static void test_fair_shares(void)
{
	static struct txg_fair f;
	txg_fair_init(&f, 30);
	uint32_t out[256], rest[256], nr;
	/* A flooder (bucket 1) queues 60, two clients 5 each: the clients get
	 * all of theirs, the flooder the rest of the budget. */
	for (uint32_t i = 0; i < 60; i++)
		CU_ASSERT_EQUAL(txg_fair_push(&f, bkey(1), 1000 + i), 0);
	for (uint32_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(txg_fair_push(&f, bkey(2), 2000 + i), 0);
		CU_ASSERT_EQUAL(txg_fair_push(&f, bkey(3), 3000 + i), 0);
	}
	uint32_t n = txg_fair_pick(&f, NULL, 0, out, rest, &nr);
	CU_ASSERT_EQUAL(n, 30);
	CU_ASSERT_EQUAL(nr, 40);
	unsigned per[4] = {0};
	for (uint32_t i = 0; i < n; i++)
		per[out[i] / 1000]++;
	CU_ASSERT_EQUAL(per[2], 5);
	CU_ASSERT_EQUAL(per[3], 5);
	CU_ASSERT_EQUAL(per[1], 20);
	for (uint32_t i = 0; i < nr; i++)
		CU_ASSERT_EQUAL(rest[i] / 1000, 1);
	/* Within a bucket, arrival order is kept. */
	uint32_t last = 0;
	for (uint32_t i = 0; i < n; i++)
		if (out[i] / 1000 == 1) {
			CU_ASSERT(out[i] > last);
			last = out[i];
		}
	/* Empty after a pick. */
	n = txg_fair_pick(&f, NULL, 0, out, rest, &nr);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(nr, 0);
}

static void test_fair_bounds_and_rotation(void)
{
	static struct txg_fair f;
	txg_fair_init(&f, 3);
	uint32_t out[256], rest[256], nr;
	/* A bucket's queue is bounded; alone, all of it is chosen, in order. */
	for (uint32_t i = 0; i < TXG_FAIR_QLEN; i++)
		CU_ASSERT_EQUAL(txg_fair_push(&f, bkey(5), i), 0);
	CU_ASSERT_EQUAL(txg_fair_push(&f, bkey(5), 999), -1);
	uint32_t n = txg_fair_pick(&f, NULL, 0, out, rest, &nr);
	CU_ASSERT_EQUAL(n, TXG_FAIR_QLEN);
	CU_ASSERT_EQUAL(nr, 0);
	for (uint32_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(out[i], i);
	/* Items past a full queue: chosen after the queue when alone, left
	 * over when buckets share. */
	uint32_t over[2] = {500, 501};
	txg_fair_push(&f, bkey(5), 7);
	n = txg_fair_pick(&f, over, 2, out, rest, &nr);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(nr, 0);
	CU_ASSERT(out[0] == 7 && out[1] == 500 && out[2] == 501);
	txg_fair_push(&f, bkey(5), 7);
	txg_fair_push(&f, bkey(6), 8);
	n = txg_fair_pick(&f, over, 2, out, rest, &nr);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(nr, 2);
	CU_ASSERT(rest[0] == 500 && rest[1] == 501);
	/* Six buckets of one item, budget 3: over two picks, every bucket is
	 * served (the first bucket rotates). */
	unsigned served[8] = {0};
	for (int round = 0; round < 2; round++) {
		for (uint32_t b = 0; b < 6; b++)
			txg_fair_push(&f, bkey(10 + b), b);
		n = txg_fair_pick(&f, NULL, 0, out, rest, &nr);
		CU_ASSERT_EQUAL(n, 3);
		CU_ASSERT_EQUAL(nr, 3);
		for (uint32_t i = 0; i < n; i++)
			served[out[i]]++;
	}
	for (uint32_t b = 0; b < 6; b++)
		CU_ASSERT_EQUAL(served[b], 1);
}

static void test_penalty(void)
{
	struct txg_penalty p;
	void *mem = calloc(1, txg_penalty_mem(16));
	txg_penalty_init(&p, mem, 16, 8, 1000);
	int m1, m2; /* two members */
	uint64_t k11 = txg_penalty_key(&m1, 111), k12 = txg_penalty_key(&m1, 222), k21 = txg_penalty_key(&m2, 111);
	uint64_t t = 1000000;
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(txg_penalty_fail(&p, k11, t), 0);
	CU_ASSERT_FALSE(txg_penalty_boxed(&p, k11, t));
	CU_ASSERT_EQUAL(txg_penalty_fail(&p, k11, t), 1); /* the 8th */
	CU_ASSERT_TRUE(txg_penalty_boxed(&p, k11, t));
	CU_ASSERT_EQUAL(p.boxed_total, 1);
	/* Never the member alone, never the prefix alone. */
	CU_ASSERT_FALSE(txg_penalty_boxed(&p, k12, t));
	CU_ASSERT_FALSE(txg_penalty_boxed(&p, k21, t));
	/* Decay: after one half-life the score is 4 (= half the threshold):
	 * still boxed just before, out after. */
	CU_ASSERT_TRUE(txg_penalty_boxed(&p, k11, t + 900));
	CU_ASSERT_FALSE(txg_penalty_boxed(&p, k11, t + 1100));
	/* Failing again boxes it again sooner (the score is not zero). */
	int boxed = 0, n = 0;
	while (!boxed && n < 20) {
		boxed = txg_penalty_fail(&p, k11, t + 1100);
		n++;
	}
	CU_ASSERT_TRUE(boxed);
	CU_ASSERT(n < 8);
	/* Long after, gone entirely. */
	CU_ASSERT_FALSE(txg_penalty_boxed(&p, k11, t + 60000));
	/* Many pairs: a boxed pair is not evicted by pairs with fewer failures. */
	for (uint64_t i = 0; i < 1000; i++)
		txg_penalty_fail(&p, txg_penalty_key(&m2, 5000 + i), t + 60000);
	for (int i = 0; i < 8; i++)
		txg_penalty_fail(&p, k12, t + 60000);
	CU_ASSERT_TRUE(txg_penalty_boxed(&p, k12, t + 60000));
	for (uint64_t i = 0; i < 1000; i++)
		txg_penalty_fail(&p, txg_penalty_key(&m2, 9000 + i), t + 60000);
	CU_ASSERT_TRUE(txg_penalty_boxed(&p, k12, t + 60000));
	/* No table: never boxed. */
	struct txg_penalty none;
	txg_penalty_init(&none, NULL, 16, 8, 1000);
	CU_ASSERT_EQUAL(txg_penalty_fail(&none, k11, t), 0);
	CU_ASSERT_FALSE(txg_penalty_boxed(&none, k11, t));
	free(mem);
}

static void test_answers(void)
{
	struct txg_answers a;
	const uint64_t hz = 1000000; /* a 1 MHz clock: 1 cycle = 1 us */
	void *mem = calloc(1, txg_answers_mem(64));
	txg_answers_init(&a, mem, 64, 100, 10, hz, 42);
	uint8_t v1[16] = {192, 0, 2, 1}, v2[16] = {192, 0, 2, 2};
	uint64_t t = 5000000;
	int ok = 0;
	for (int i = 0; i < 50; i++)
		ok += txg_answers_take(&a, 4, v1, t);
	CU_ASSERT_EQUAL(ok, 10); /* the burst, then nothing */
	/* Another destination has its own bucket (unless it collides: then it
	 * shares; 64 slots, so pick one that does not). */
	ok = 0;
	for (int i = 0; i < 5; i++)
		ok += txg_answers_take(&a, 4, v2, t);
	CU_ASSERT(ok == 5 || ok == 0);
	/* 100 a second: 10 ms later, one more. */
	CU_ASSERT_EQUAL(txg_answers_take(&a, 4, v1, t + 10000), 1);
	CU_ASSERT_EQUAL(txg_answers_take(&a, 4, v1, t + 10000), 0);
	/* A long pause refills to the burst, no more. */
	ok = 0;
	for (int i = 0; i < 50; i++)
		ok += txg_answers_take(&a, 4, v1, t + 100000000);
	CU_ASSERT_EQUAL(ok, 10);
	/* Rate 0: unbounded. */
	txg_answers_init(&a, mem, 64, 0, 10, hz, 42);
	ok = 0;
	for (int i = 0; i < 50; i++)
		ok += txg_answers_take(&a, 4, v1, t);
	CU_ASSERT_EQUAL(ok, 50);
	free(mem);
}

static void test_sigcache(void)
{
	struct txg_sigcache c;
	void *mem = calloc(1, txg_sigcache_mem(64));
	txg_sigcache_init(&c, mem, 64, 9);
	uint8_t sig[64] = {1}, body[100] = {2}, id[32], got[32];
	uint32_t g = 0;
	memset(id, 0xab, 32);
	uint64_t tag = txg_sigcache_tag(&c, sig, body, sizeof(body));
	CU_ASSERT_NOT_EQUAL(tag, 0);
	CU_ASSERT_EQUAL(txg_sigcache_get(&c, tag, got, &g), 0);
	txg_sigcache_put(&c, tag, id, 7);
	CU_ASSERT_EQUAL(txg_sigcache_get(&c, tag, got, &g), 1);
	CU_ASSERT_EQUAL(memcmp(got, id, 32), 0);
	CU_ASSERT_EQUAL(g, 7);
	/* Another body or signature: another tag. */
	body[99] ^= 1;
	CU_ASSERT_NOT_EQUAL(txg_sigcache_tag(&c, sig, body, sizeof(body)), tag);
	sig[63] ^= 1;
	body[99] ^= 1;
	CU_ASSERT_NOT_EQUAL(txg_sigcache_tag(&c, sig, body, sizeof(body)), tag);
	/* Four ways per set: four tags of one set all stay. */
	uint64_t t[4];
	for (unsigned i = 0; i < 4; i++) {
		t[i] = ((uint64_t)(i + 1) << 40) | (3u << 8) | 1u; /* same set (bits 8..), distinct */
		id[0] = (uint8_t)i;
		txg_sigcache_put(&c, t[i], id, i);
	}
	for (unsigned i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(txg_sigcache_get(&c, t[i], got, &g), 1);
		CU_ASSERT_EQUAL(got[0], i);
		CU_ASSERT_EQUAL(g, i);
	}
	/* Off: never a hit. */
	struct txg_sigcache off;
	txg_sigcache_init(&off, NULL, 0, 9);
	txg_sigcache_put(&off, tag, id, 0);
	CU_ASSERT_EQUAL(txg_sigcache_get(&off, tag, got, &g), 0);
	free(mem);
}

static void test_load(void)
{
	const uint64_t hz = 1000000; /* 1 cycle = 1 us */
	struct txg_load_params p = {.high_pct = 90, .low_pct = 70, .window_ms = 10, .high_windows = 2, .hold_ms = 30,
				    .full_polls = 4, .share_pct = 75, .mode = TXG_LOAD_AUTO};
	struct txg_load l;
	uint64_t t = 1000000;
	txg_load_init(&l, &p, hz, t);
	CU_ASSERT_EQUAL(l.loaded, 0);
	/* Half busy: not loaded. */
	txg_load_work(&l, 5000, 0);
	t += 10000;
	CU_ASSERT_EQUAL(txg_load_poll(&l, 0, t), 0);
	CU_ASSERT_EQUAL(l.last_pct, 50);
	/* Busy 60%, plus 40 skipped checks priced at 100 us each: 100%, two
	 * windows in a row: loaded after the second. */
	txg_load_sig_cost(&l, 0, 0); /* no-op */
	l.sig_cycles = 100;
	txg_load_work(&l, 6000, 40);
	t += 10000;
	CU_ASSERT_EQUAL(txg_load_poll(&l, 0, t), 0);
	txg_load_work(&l, 9500, 0);
	t += 10000;
	CU_ASSERT_EQUAL(txg_load_poll(&l, 0, t), 1);
	CU_ASSERT_EQUAL(l.enters, 1);
	CU_ASSERT_EQUAL(l.share, 0); /* no checks in the window: nothing to share */
	/* Checks fill 80% of a window: shared fairly from then on. */
	txg_load_work(&l, 9500, 0);
	txg_load_sig_cost(&l, 8000, 80);
	t += 10000;
	CU_ASSERT_EQUAL(txg_load_poll(&l, 0, t), 1);
	CU_ASSERT_EQUAL(l.last_vpct, 80);
	CU_ASSERT_EQUAL(l.share, 1);
	/* Calm windows: leaves only after hold (3 windows). */
	for (int i = 0; i < 2; i++) {
		txg_load_work(&l, 1000, 0);
		t += 10000;
		CU_ASSERT_EQUAL(txg_load_poll(&l, 0, t), 1);
	}
	/* A busy window in between restarts the count. */
	txg_load_work(&l, 9500, 0);
	t += 10000;
	CU_ASSERT_EQUAL(txg_load_poll(&l, 0, t), 1);
	for (int i = 0; i < 3; i++) {
		txg_load_work(&l, 1000, 0);
		t += 10000;
		txg_load_poll(&l, 0, t);
	}
	CU_ASSERT_EQUAL(l.loaded, 0);
	CU_ASSERT_EQUAL(l.share, 0);
	CU_ASSERT_EQUAL(l.exits, 1);
	/* Full bursts in a row: loaded at once, whatever the window. */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(txg_load_poll(&l, 1, t + 1), 0);
	CU_ASSERT_EQUAL(txg_load_poll(&l, 1, t + 1), 1);
	/* The running cost per check follows what batches take. */
	for (int i = 0; i < 100; i++)
		txg_load_sig_cost(&l, 64 * 20000, 64);
	CU_ASSERT(l.sig_cycles >= 19900 && l.sig_cycles <= 20100);
	/* Forced modes. */
	p.mode = TXG_LOAD_ON;
	txg_load_init(&l, &p, hz, t);
	CU_ASSERT_EQUAL(txg_load_poll(&l, 0, t + 100000), 1);
	p.mode = TXG_LOAD_OFF;
	txg_load_init(&l, &p, hz, t);
	txg_load_work(&l, 100000000, 1000);
	CU_ASSERT_EQUAL(txg_load_poll(&l, 1, t + 100000), 0);
	CU_ASSERT_STRING_EQUAL(txg_flood_ctr_name(TXG_FC_PENALTY_DROPPED), "penalty_dropped");
	CU_ASSERT_STRING_EQUAL(txg_flood_ctr_name(TXG_FC_NUM), "?");
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("flood", NULL, NULL);
	CU_add_test(s, "source prefixes", test_prefix);
	CU_add_test(s, "fair shares", test_fair_shares);
	CU_add_test(s, "fair bounds and rotation", test_fair_bounds_and_rotation);
	CU_add_test(s, "penalty box", test_penalty);
	CU_add_test(s, "answers per destination", test_answers);
	CU_add_test(s, "signature tag cache", test_sigcache);
	CU_add_test(s, "load detector", test_load);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned f = CU_get_number_of_failures();
	CU_cleanup_registry();
	return f ? 1 : 0;
}
