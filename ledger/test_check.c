/* Ledger verification (check.c), the restart walk (recent.c), contained
 * walks (contain.c) and the start-up probe (probe.c) on real LMDB files: a
 * good ledger verifies; each kind of damage written straight into LMDB is
 * found and located; a crashing child is reported with where it was; the
 * probe collects the same ids as the restart walk, or says what is wrong. */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "contain.h"
#include "probe.h"
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

/* --- expect-head and snapshot renewal --- */

static int check_opts(const char *dir, const struct txg_check_opts *o, struct txg_check_report *r)
{
	struct txg_store_opts so = {.path = dir, .readonly = 1};
	struct txg_store *s = NULL;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &so, err, sizeof err), 0);
	int rc = txg_ledger_check_opts(s, o, r);
	txg_store_close(s);
	return rc;
}

static void test_expect_head(void)
{
	char dir[128];
	build(dir, sizeof dir);
	struct txg_check_report r;
	/* the printed head is the last block's hash */
	CU_ASSERT_EQUAL(check(dir, &r), 0);
	CU_ASSERT(memcmp(r.head_hash, g_tb[NBLK - 1].hash, 32) == 0);
	/* one block per snapshot: the same result */
	struct txg_check_opts o = {.snap_blocks = 1};
	CU_ASSERT_EQUAL(check_opts(dir, &o, &r), 0);
	CU_ASSERT_EQUAL(r.height, NBLK);
	CU_ASSERT_EQUAL(r.txs, NBLK * PER);
	/* the right hash of the head, and of an earlier block */
	o.expect = 1;
	o.expect_height = NBLK;
	memcpy(o.expect_hash, g_tb[NBLK - 1].hash, 32);
	CU_ASSERT_EQUAL(check_opts(dir, &o, &r), 0);
	o.expect_height = 2;
	memcpy(o.expect_hash, g_tb[1].hash, 32);
	CU_ASSERT_EQUAL(check_opts(dir, &o, &r), 0);
	/* block 0: the zero hash */
	o.expect_height = 0;
	memset(o.expect_hash, 0, 32);
	CU_ASSERT_EQUAL(check_opts(dir, &o, &r), 0);
	/* another hash at 2 */
	o.expect_height = 2;
	memcpy(o.expect_hash, g_tb[2].hash, 32);
	CU_ASSERT_EQUAL(check_opts(dir, &o, &r), 1);
	CU_ASSERT_EQUAL(r.height, 2);
	CU_ASSERT_EQUAL(r.index, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.what, "rolled back"));
	/* a block the ledger does not have (a rolled-back ledger) */
	o.expect_height = NBLK + 1;
	CU_ASSERT_EQUAL(check_opts(dir, &o, &r), 1);
	CU_ASSERT_EQUAL(r.height, NBLK + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.what, "no such block: the ledger ends at height 4"));
	/* damage is still reported first */
	edit(dir, "txs", flip_record);
	o.expect_height = NBLK;
	memcpy(o.expect_hash, g_tb[NBLK - 1].hash, 32);
	CU_ASSERT_EQUAL(check_opts(dir, &o, &r), 1);
	CU_ASSERT_EQUAL(r.height, 3);
	CU_ASSERT_STRING_EQUAL(r.what, "bad signature");
}

/* --- the contained runner --- */

struct sink_buf {
	size_t n;
	int bad; /* a byte that is not what the child wrote */
};

static int count_sink(void *arg, const void *buf, size_t n)
{
	struct sink_buf *b = arg;
	const uint8_t *p = buf;
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)((b->n + i) * 7))
			b->bad = 1;
	b->n += n;
	return 0;
}

#define BIG (3u << 20) /* far more than a pipe holds */

/* Writes BIG patterned bytes, sets a message, moves on to block 7 index 3
 * and crashes there if arg says so, else exits 3. */
static int child_fn(void *arg, const struct txg_contain_child *c)
{
	static uint8_t buf[65536];
	for (size_t off = 0; off < BIG; off += sizeof buf) {
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (uint8_t)((off + i) * 7);
		if (write(c->out, buf, sizeof buf) != (ssize_t)sizeof buf)
			return 9;
	}
	snprintf(c->msg, TXG_CONTAIN_MSG, "hello from the child");
	txg_progress_at(TXG_AT_RECORDS, 7, 0);
	txg_progress_index(3);
	if (*(const int *)arg)
		raise(SIGSEGV);
	return 3;
}

static void test_contain(void)
{
	char err[256], msg[2048];
	struct txg_contain_result res;
	for (int crash = 0; crash <= 1; crash++) {
		struct sink_buf b = {0};
		CU_ASSERT_EQUAL_FATAL(txg_contain_run(child_fn, &crash, count_sink, &b, &res, err, sizeof err), 0);
		CU_ASSERT_EQUAL(b.n, BIG); /* read while the child wrote */
		CU_ASSERT_EQUAL(b.bad, 0);
		CU_ASSERT_STRING_EQUAL(res.msg, "hello from the child");
		CU_ASSERT_EQUAL(res.at.stage, TXG_AT_RECORDS);
		CU_ASSERT_EQUAL(res.at.height, 7);
		CU_ASSERT_EQUAL(res.at.index, 3);
		CU_ASSERT_EQUAL(res.sink_failed, 0);
		if (!crash) {
			CU_ASSERT_EQUAL(res.exited, 1);
			CU_ASSERT_EQUAL(res.status, 3);
			continue;
		}
		CU_ASSERT_EQUAL(res.exited, 0);
		CU_ASSERT_EQUAL(res.signo, SIGSEGV);
		txg_contain_crash_msg("/some/ledger", &res, TXG_CONTAIN_ADVICE, msg, sizeof msg);
		CU_ASSERT_STRING_EQUAL(msg, "ledger /some/ledger is damaged: reading block 7 (index 3) crashed the "
					    "LMDB reader (signal 11, Segmentation fault); run `txgatectl ledger "
					    "verify`, restore from a backup");
	}
	/* the parent is no contained child */
	CU_ASSERT_PTR_NULL(txg_progress_rec);
}

static int refuse_sink(void *arg, const void *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
	return -1;
}

static void test_contain_sink_refuses(void)
{
	char err[256];
	struct txg_contain_result res;
	int crash = 0;
	CU_ASSERT_EQUAL_FATAL(txg_contain_run(child_fn, &crash, refuse_sink, NULL, &res, err, sizeof err), 0);
	CU_ASSERT_EQUAL(res.sink_failed, 1);
	CU_ASSERT_EQUAL(res.exited, 0); /* killed */
}

/* --- the start-up probe --- */

static void test_probe_good(void)
{
	char dir[128], err[512];
	build(dir, sizeof dir);
	/* as in test_recent: now 2600, ttl 1000 */
	uint64_t first_nonce = tu_nonce - NBLK * PER;
	size_t want = 2 * PER;
	for (uint64_t k = 0; k < PER; k++)
		want += 2500 + first_nonce + PER + k > 2600;
	struct txg_probe p;
	CU_ASSERT_EQUAL_FATAL(txg_ledger_probe(dir, 1000, 2600, 1000, &p, err, sizeof err), 0);
	CU_ASSERT_EQUAL(p.exists, 1);
	CU_ASSERT_EQUAL(p.chain_id, CHAIN);
	CU_ASSERT_EQUAL(p.max_ttl_ms, 0); /* the builder stored none */
	CU_ASSERT_EQUAL(p.head.height, NBLK);
	CU_ASSERT(memcmp(p.head.hash, g_tb[NBLK - 1].hash, 32) == 0);
	CU_ASSERT_EQUAL(p.n, want);
	for (size_t i = 0; i < p.n; i++) {
		const struct txg_recent_id *r = &p.ids[i];
		CU_ASSERT_FATAL(r->height >= 2 && r->height <= NBLK && r->index < PER);
		CU_ASSERT(memcmp(r->id, g_tb[r->height - 1].ids[r->index], 32) == 0);
		CU_ASSERT(r->expires_ms > 2600);
	}
	CU_ASSERT_EQUAL(p.ids[0].height, NBLK); /* newest first */
	txg_probe_free(&p);
	CU_ASSERT_PTR_NULL(p.ids);
	/* now 3500: with ttl 1 only block 4 (ts 4000) is walked; max_ttl_ms
	 * raises the walk's ttl, and block 3's records (expiring 3500 + nonce)
	 * count too */
	CU_ASSERT_EQUAL_FATAL(txg_ledger_probe(dir, 1, 3500, 1000, &p, err, sizeof err), 0);
	CU_ASSERT_EQUAL(p.n, PER);
	txg_probe_free(&p);
	CU_ASSERT_EQUAL_FATAL(txg_ledger_probe(dir, 1000000, 3500, 1000, &p, err, sizeof err), 0);
	size_t all = p.n;
	CU_ASSERT_EQUAL(all, 2 * PER);
	txg_probe_free(&p);
	/* exactly cap ids fit; one fewer is too small */
	CU_ASSERT_EQUAL(txg_ledger_probe(dir, 1000000, 3500, all, &p, err, sizeof err), 0);
	CU_ASSERT_EQUAL(p.n, all);
	txg_probe_free(&p);
	CU_ASSERT_EQUAL(txg_ledger_probe(dir, 1000000, 3500, all - 1, &p, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "dedupe_capacity is too small"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
	CU_ASSERT_EQUAL(p.n, 0);
	CU_ASSERT_PTR_NULL(p.ids);
	/* no ledger yet */
	char none[160];
	snprintf(none, sizeof none, "%s/none", dir);
	CU_ASSERT_EQUAL(txg_ledger_probe(none, 1000, 2600, 1000, &p, err, sizeof err), 0);
	CU_ASSERT_EQUAL(p.exists, 0);
	CU_ASSERT_EQUAL(p.n, 0);
}

static void short_record(MDB_txn *t, MDB_dbi d)
{
	uint8_t k[TXG_STORE_TKEY_LEN], buf[10] = {0};
	txg_store_tx_key(k, 3, 2);
	MDB_val key = {sizeof k, k}, val = {sizeof buf, buf};
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &key, &val, 0), 0);
}

static void test_probe_damaged(void)
{
	char dir[128], err[512];
	build(dir, sizeof dir);
	edit(dir, "txs", short_record);
	struct txg_probe p;
	CU_ASSERT_EQUAL(txg_ledger_probe(dir, 1000000, 2600, 1000, &p, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "block 3 (index 2 is not a well-formed record)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "txgatectl ledger verify"));
	CU_ASSERT_EQUAL(p.n, 0);
	/* not a ledger */
	char junk[160];
	snprintf(junk, sizeof junk, "%s/junk", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(junk, 0755), 0);
	char f[200];
	snprintf(f, sizeof f, "%s/data.mdb", junk);
	FILE *fp = fopen(f, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs("not an LMDB file, not at all, and long enough to be read as one? no.", fp);
	fclose(fp);
	CU_ASSERT_EQUAL(txg_ledger_probe(junk, 1000, 2600, 1000, &p, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, junk));
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
	CU_add_test(su, "expect head, snapshot renewal", test_expect_head);
	CU_add_test(su, "contained child: crash reported with its progress", test_contain);
	CU_add_test(su, "contained child: sink refuses", test_contain_sink_refuses);
	CU_add_test(su, "probe: good ledger", test_probe_good);
	CU_add_test(su, "probe: damaged ledger", test_probe_damaged);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	tu_cleanup();
	return fails ? 1 : 0;
}
