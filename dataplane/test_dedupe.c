/* Unit tests of the dedupe window and the member table (real rte_hash and
 * RCU QSBR under EAL without hugepages). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <sodium.h>

#include "dedupe.h"
#include "ed25519/ed25519.h"
#include "members.h"
#include "verify.h"

static struct rte_rcu_qsbr *qsbr;

static void make_id(uint32_t i, uint8_t id[32])
{
	uint8_t seed[4];
	memcpy(seed, &i, 4);
	crypto_generichash(id, 32, seed, 4, NULL, 0);
}

static int lookup1(struct txg_dedupe *d, const uint8_t *id)
{
	const void *k = id;
	int32_t pos;
	txg_dedupe_lookup(d, &k, 1, &pos);
	return pos;
}

static void test_insert_lookup_duplicate(void)
{
	uint64_t now = 1000000;
	struct txg_dedupe *d = txg_dedupe_new("t_dd1", 1000, 120000, qsbr, now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	uint8_t id[32], other[32];
	make_id(1, id);
	make_id(2, other);
	CU_ASSERT(lookup1(d, id) < 0);
	int32_t pos = txg_dedupe_insert(d, id, now + 5000);
	CU_ASSERT(pos >= 0);
	CU_ASSERT_EQUAL(lookup1(d, id), pos);
	CU_ASSERT(lookup1(d, other) < 0);
	CU_ASSERT_EQUAL(txg_dedupe_insert(d, id, now + 5000), -EEXIST);
	txg_dedupe_locate(d, pos, 7, 3);
	CU_ASSERT_EQUAL(d->slots[pos].height, 7);
	CU_ASSERT_EQUAL(d->slots[pos].index, 3);
	CU_ASSERT_EQUAL(d->size, 1);
	txg_dedupe_delete(d);
}

static void test_bulk_lookup(void)
{
	uint64_t now = 5000000;
	struct txg_dedupe *d = txg_dedupe_new("t_dd2", 4096, 60000, qsbr, now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	static uint8_t ids[64][32];
	for (uint32_t i = 0; i < 64; i++) {
		make_id(100 + i, ids[i]);
		if (i % 3 == 0)
			CU_ASSERT(txg_dedupe_insert(d, ids[i], now + 1000 + i) >= 0);
	}
	const void *keys[64];
	int32_t pos[64];
	for (int i = 0; i < 64; i++)
		keys[i] = ids[i];
	txg_dedupe_lookup(d, keys, 64, pos);
	for (int i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(pos[i] >= 0, i % 3 == 0);
	txg_dedupe_delete(d);
}

static void test_full_refuses(void)
{
	uint64_t now = 1000000;
	struct txg_dedupe *d = txg_dedupe_new("t_dd3", 1024, 120000, qsbr, now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	uint8_t id[32];
	for (uint32_t i = 0; i < 1024; i++) {
		make_id(1000 + i, id);
		CU_ASSERT(txg_dedupe_insert(d, id, now + 60000) >= 0);
	}
	make_id(99999, id);
	CU_ASSERT_EQUAL(txg_dedupe_insert(d, id, now + 60000), -ENOSPC);
	/* Nothing held was forgotten to make room. */
	for (uint32_t i = 0; i < 1024; i++) {
		make_id(1000 + i, id);
		CU_ASSERT(lookup1(d, id) >= 0);
	}
	txg_dedupe_delete(d);
}

static void test_expiry(void)
{
	uint64_t now = 10000000; /* a whole second */
	struct txg_dedupe *d = txg_dedupe_new("t_dd4", 1024, 120000, qsbr, now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	uint8_t a[32], b[32], c[32];
	make_id(1, a);
	make_id(2, b);
	make_id(3, c);
	CU_ASSERT(txg_dedupe_insert(d, a, now + 1500) >= 0);  /* second now+1 */
	CU_ASSERT(txg_dedupe_insert(d, b, now + 3999) >= 0);  /* second now+3 */
	CU_ASSERT(txg_dedupe_insert(d, c, now + 120000) >= 0);
	/* Before a's expiry nothing goes. */
	CU_ASSERT_EQUAL(txg_dedupe_expire(d, now + 1500), 0);
	CU_ASSERT(lookup1(d, a) >= 0);
	/* Once its second has passed, a goes; b and c stay. */
	CU_ASSERT_EQUAL(txg_dedupe_expire(d, now + 2000), 1);
	CU_ASSERT(lookup1(d, a) < 0);
	CU_ASSERT(lookup1(d, b) >= 0);
	CU_ASSERT_EQUAL(txg_dedupe_expire(d, now + 4000), 1);
	CU_ASSERT(lookup1(d, b) < 0);
	CU_ASSERT(lookup1(d, c) >= 0);
	/* A forgotten id can be inserted again; a jump far ahead clears all. */
	CU_ASSERT(txg_dedupe_insert(d, a, now + 10000) >= 0);
	CU_ASSERT_EQUAL(txg_dedupe_expire(d, now + 10000000), 2);
	CU_ASSERT_EQUAL(d->size, 0);
	CU_ASSERT(lookup1(d, c) < 0);
	txg_dedupe_delete(d);
}

static void test_reclaim_reuses_slots(void)
{
	/* Fill, expire and refill many times: RCU reclamation must free slots. */
	uint64_t now = 1000000;
	struct txg_dedupe *d = txg_dedupe_new("t_dd5", 2048, 10000, qsbr, now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	uint8_t id[32];
	uint32_t n = 0;
	for (int round = 0; round < 20; round++) {
		for (uint32_t i = 0; i < 2000; i++) {
			make_id(n++, id);
			int32_t pos = txg_dedupe_insert(d, id, now + 500);
			CU_ASSERT(pos >= 0);
			if (pos < 0)
				break;
		}
		now += 2000;
		CU_ASSERT_EQUAL(txg_dedupe_expire(d, now), 2000);
		rte_rcu_qsbr_quiescent(qsbr, 0);
	}
	txg_dedupe_delete(d);
}

static void test_members(void)
{
	uint8_t pk[3][32], sk[3][64];
	for (int i = 0; i < 3; i++)
		crypto_sign_keypair(pk[i], sk[i]);
	struct txg_ed_ctx *ed = txg_ed_ctx_new(16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ed);
	struct txg_members *t = txg_members_new(8, qsbr, ed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	char err[256];
	CU_ASSERT_EQUAL(txg_members_add(t, "alice", pk[0], err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(txg_members_add(t, "bob", pk[1], err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(txg_members_add(t, "bob2", pk[1], err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "already"));
	uint8_t bad[32] = {0};
	CU_ASSERT_EQUAL(txg_members_add(t, "zero", bad, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(txg_members_count(t), 2);

	const void *keys[3] = {pk[0], pk[1], pk[2]};
	struct txg_member *m[3];
	txg_members_lookup(t, keys, 3, m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[1]);
	CU_ASSERT_PTR_NULL(m[2]);
	CU_ASSERT_STRING_EQUAL(m[0]->name, "alice");

	/* Both verifiers agree through the dispatch. */
	uint8_t msg[100], sig[64], badsig[64];
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk[1]);
	memcpy(badsig, sig, 64);
	badsig[5] ^= 1;
	struct txg_member plain = *m[1];
	plain.ek = NULL;
	struct txg_verify_item it[4] = {
		{m[1], msg, sizeof(msg), sig}, {m[1], msg, sizeof(msg), badsig},
		{&plain, msg, sizeof(msg), sig}, {m[0], msg, sizeof(msg), sig}};
	uint8_t ok[4];
	txg_verify_burst(it, 4, ok);
	CU_ASSERT_EQUAL(ok[0], 1);
	CU_ASSERT_EQUAL(ok[1], 0);
	CU_ASSERT_EQUAL(ok[2], 1);
	CU_ASSERT_EQUAL(ok[3], 0);

	/* Revoke: gone for readers; the same key can be added again. The
	 * writer waits for readers, so this thread reads no more meanwhile. */
	rte_rcu_qsbr_thread_offline(qsbr, 0);
	CU_ASSERT_EQUAL(txg_members_revoke(t, pk[0]), 0);
	CU_ASSERT_EQUAL(txg_members_revoke(t, pk[0]), -1);
	txg_members_lookup(t, keys, 3, m);
	CU_ASSERT_PTR_NULL(m[0]);
	CU_ASSERT_PTR_NOT_NULL(m[1]);
	CU_ASSERT_EQUAL(txg_members_add(t, "alice", pk[0], err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(txg_members_count(t), 2);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	txg_members_delete(t);
	txg_ed_ctx_delete(ed);
}

/* The orderer held up far longer than the wheel is wide (it sweeps late):
 * ids inserted meanwhile are kept until they expire, and not an instant
 * longer than a sweep's second. */
static void test_late_sweeps(void)
{
	uint64_t now = 100000; /* ttl 10 s: a wheel of 13 one-second buckets */
	struct txg_dedupe *d = txg_dedupe_new("t_dd6", 4096, 10000, qsbr, now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* Stalled 6 s without a sweep, the orderer takes ids accepted meanwhile
	 * with every expiry a worker allows (up to its now + ttl). */
	enum { N = 200 };
	uint8_t ids[N][32];
	uint64_t exp[N];
	for (uint32_t i = 0; i < N; i++) {
		make_id(1000 + i, ids[i]);
		exp[i] = 101000 + (uint64_t)i * 75; /* 101.0 .. 115.9 s */
		CU_ASSERT_FATAL(txg_dedupe_insert(d, ids[i], exp[i]) >= 0);
	}
	for (uint64_t t = 106000; t <= 118000; t += 500) {
		txg_dedupe_expire(d, t);
		for (uint32_t i = 0; i < N; i++) {
			int held = lookup1(d, ids[i]) >= 0;
			/* Never forgotten before it expired; gone a second after. */
			if (exp[i] > t)
				CU_ASSERT_FATAL(held);
			if (exp[i] + 1000 <= t)
				CU_ASSERT_FATAL(!held);
		}
	}
	/* A sweep after more than a whole turn of the wheel. */
	make_id(5000, ids[0]);
	CU_ASSERT_FATAL(txg_dedupe_insert(d, ids[0], 160000) >= 0);
	txg_dedupe_expire(d, 150000);
	CU_ASSERT(lookup1(d, ids[0]) >= 0);
	txg_dedupe_expire(d, 161000);
	CU_ASSERT(lookup1(d, ids[0]) < 0);
	CU_ASSERT_EQUAL(d->size, 0);
	txg_dedupe_delete(d);
}

int main(int argc, char **argv)
{
	(void)argc;
	char *eal[] = {argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", "-l", "0",
		       "--log-level=*:error", NULL};
	if (rte_eal_init(10, eal) < 0 || sodium_init() < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(qsbr, 1);
	rte_rcu_qsbr_thread_register(qsbr, 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	CU_initialize_registry();
	CU_pSuite s = CU_add_suite("dedupe_members", NULL, NULL);
	CU_add_test(s, "insert, lookup, duplicate", test_insert_lookup_duplicate);
	CU_add_test(s, "bulk lookup", test_bulk_lookup);
	CU_add_test(s, "full window refuses new ids", test_full_refuses);
	CU_add_test(s, "expiry wheel", test_expiry);
	CU_add_test(s, "late sweeps forget nothing early", test_late_sweeps);
	CU_add_test(s, "slots reclaimed through RCU", test_reclaim_reuses_slots);
	CU_add_test(s, "member table and verifier dispatch", test_members);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	rte_eal_cleanup();
	return fails ? 1 : 0;
}
