/* Ledger verification (check.c) and the restart walk (recent.c) on real
 * LMDB files: a good ledger verifies; each kind of damage written straight
 * into LMDB is found and located. */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "recent.h"
#include "test_util.h"

#define CHAIN 0x5eedu
#define NBLK 4
#define PER 5

static struct tblock g_tb[NBLK];

/* A ledger of NBLK blocks of PER records at timestamps 1000, 2000, ... */
static void build(char *dir, size_t n)
{
	tu_newdir(dir, n);
	struct txg_store_opts o = {.path = dir, .chain_id = CHAIN};
	struct txg_store *s = NULL;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	uint8_t prev[32] = {0};
	for (int i = 0; i < NBLK; i++) {
		tu_block(&g_tb[i], CHAIN, (uint64_t)i + 1, prev, 1000u * (uint64_t)(i + 1), PER, 20,
			 1000u * (uint64_t)(i + 1) + 500);
		CU_ASSERT_EQUAL_FATAL(txg_store_commit(s, &g_tb[i].b, 1, err, sizeof err), 0);
		memcpy(prev, g_tb[i].hash, 32);
	}
	txg_store_close(s);
}

static int check(const char *dir, struct txg_check_report *r)
{
	struct txg_store_opts o = {.path = dir, .readonly = 1};
	struct txg_store *s = NULL;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	int rc = txg_ledger_check(s, r);
	txg_store_close(s);
	return rc;
}

/* Apply fn to database `db` of the ledger in dir, in one write txn. */
typedef void (*edit_fn)(MDB_txn *t, MDB_dbi d);
static void edit(const char *dir, const char *db, edit_fn fn)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi d;
	CU_ASSERT_EQUAL_FATAL(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	CU_ASSERT_EQUAL_FATAL(mdb_env_open(env, dir, 0, 0644), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_begin(env, NULL, 0, &t), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, db, 0, &d), 0);
	fn(t, d);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_commit(t), 0);
	mdb_env_close(env);
}

static void flip_record(MDB_txn *t, MDB_dbi d)
{
	uint8_t k[TXG_STORE_TKEY_LEN], buf[TU_RECCAP];
	txg_store_tx_key(k, 3, 2);
	MDB_val key = {sizeof k, k}, val;
	CU_ASSERT_EQUAL_FATAL(mdb_get(t, d, &key, &val), 0);
	CU_ASSERT_FATAL(val.mv_size <= sizeof buf);
	memcpy(buf, val.mv_data, val.mv_size);
	buf[val.mv_size - 70] ^= 0x10; /* a payload byte */
	val.mv_data = buf;
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &key, &val, 0), 0);
}

static void drop_txidx(MDB_txn *t, MDB_dbi d)
{
	MDB_val key = {32, g_tb[1].ids[4]};
	CU_ASSERT_EQUAL_FATAL(mdb_del(t, d, &key, NULL), 0);
}

static void bump_header_ts(MDB_txn *t, MDB_dbi d)
{
	uint8_t k[TXG_STORE_HKEY_LEN], buf[TXG_HDR_LEN];
	txg_store_height_key(k, 2);
	MDB_val key = {sizeof k, k}, val;
	CU_ASSERT_EQUAL_FATAL(mdb_get(t, d, &key, &val), 0);
	memcpy(buf, val.mv_data, TXG_HDR_LEN);
	buf[16] ^= 1;
	val.mv_data = buf;
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &key, &val, 0), 0);
}

static void test_good(void)
{
	char dir[128];
	build(dir, sizeof dir);
	struct txg_check_report r;
	CU_ASSERT_EQUAL(check(dir, &r), 0);
	CU_ASSERT_EQUAL(r.height, NBLK);
	CU_ASSERT_EQUAL(r.txs, NBLK * PER);
}

static void test_damage(void)
{
	static const struct {
		const char *db;
		edit_fn fn;
		uint64_t height;
		int64_t index;
		const char *what;
	} cases[] = {
		{"txs", flip_record, 3, 2, "bad signature"},
		{"txidx", drop_txidx, 2, 4, "tx_id missing from txidx"},
		{"headers", bump_header_ts, 3, -1, "prev_hash is not the hash of the previous block"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char dir[128];
		build(dir, sizeof dir);
		edit(dir, cases[i].db, cases[i].fn);
		struct txg_check_report r;
		CU_ASSERT_EQUAL(check(dir, &r), 1);
		CU_ASSERT_EQUAL(r.height, cases[i].height);
		CU_ASSERT_EQUAL(r.index, cases[i].index);
		CU_ASSERT_STRING_EQUAL(r.what, cases[i].what);
	}
}

struct seen {
	int n;
	uint64_t min_height;
};

static int seen_cb(void *arg, const uint8_t id[32], uint64_t expires_ms, uint64_t height, uint32_t index)
{
	struct seen *s = arg;
	CU_ASSERT(height >= 1 && height <= NBLK && index < PER);
	CU_ASSERT(memcmp(id, g_tb[height - 1].ids[index], 32) == 0);
	CU_ASSERT(expires_ms > 2600);
	s->n++;
	if (height < s->min_height)
		s->min_height = height;
	return 0;
}

static void test_recent(void)
{
	char dir[128], err[256];
	build(dir, sizeof dir);
	struct txg_store_opts o = {.path = dir, .readonly = 1};
	struct txg_store *s = NULL;
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	struct txg_store_head head;
	CU_ASSERT_EQUAL_FATAL(txg_store_head(s, &head), 0);
	/* now 2600, ttl 1000: block 1 (ts 1000) is past the window; block 2's
	 * records expire at 2500 + nonce, so only those with expiry > 2600 count. */
	uint64_t first_nonce = tu_nonce - NBLK * PER;
	struct seen sn = {.min_height = UINT64_MAX};
	CU_ASSERT_EQUAL(txg_ledger_recent(s, &head, 1000, 2600, seen_cb, &sn, err, sizeof err), 0);
	int want = 2 * PER; /* blocks 3 and 4 */
	for (uint64_t k = 0; k < PER; k++)
		want += 2500 + first_nonce + PER + k > 2600;
	CU_ASSERT_EQUAL(sn.n, want);
	CU_ASSERT(sn.min_height >= 2);
	txg_store_close(s);
}

int main(void)
{
	if (tu_init("check_test") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite su = CU_add_suite("check", NULL, NULL);
	CU_add_test(su, "good ledger", test_good);
	CU_add_test(su, "damage located", test_damage);
	CU_add_test(su, "restart walk", test_recent);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	tu_cleanup();
	return fails ? 1 : 0;
}
