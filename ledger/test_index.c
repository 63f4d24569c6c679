/* The tx_id index written off the commit path (docs/ledger.md, "The tx_id
 * index"): lookups and the duplicate guard are right while the indexer
 * lags, after runs are written and merged, after a crash between a block's
 * commit and its indexing (fork + _exit, kill -9), in read-only handles of
 * this process and of others; verify checks the index against the blocks
 * both ways; a format 1 ledger is upgraded in place. */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "test_util.h"

#define CHAIN 0x1d3u
#define MAXB 400
#define PER 16

/* Every block committed in the current ledger, by height (1-based). */
static struct tblock g_tb[MAXB + 1];
static uint64_t g_height;
static uint64_t g_ts = 1000; /* block timestamps, increasing */

/* A writer with small index runs (2 blocks) and a base (txidx) of at most
 * base_max entries: the first blocks' ids go there with the commit itself
 * (1: none do, every id waits for the indexer). */
static struct txg_store *open_w(const char *dir, uint32_t base_max)
{
	struct txg_store_opts o = {.path = dir, .chain_id = CHAIN, .map_size = 1 << 20};
	o.index_run_txs = 32;
	o.index_base_max = base_max;
	struct txg_store *s = NULL;
	char err[512] = "";
	if (txg_store_open(&s, &o, err, sizeof err) != 0)
		fprintf(stderr, "open %s: %s\n", dir, err);
	return s;
}

static struct txg_store *open_r(const char *dir)
{
	struct txg_store_opts o = {.path = dir, .readonly = 1};
	struct txg_store *s = NULL;
	char err[512] = "";
	if (txg_store_open(&s, &o, err, sizeof err) != 0)
		fprintf(stderr, "open %s read-only: %s\n", dir, err);
	return s;
}

/* Commit n more blocks of PER records. 0 or -1. */
static int grow(struct txg_store *s, int n)
{
	char err[512];
	for (int k = 0; k < n; k++) {
		if (g_height >= MAXB)
			return -1;
		uint64_t h = g_height + 1;
		uint8_t zero[32] = {0};
		tu_block(&g_tb[h], CHAIN, h, h > 1 ? g_tb[h - 1].hash : zero, ++g_ts, PER, 24, 1u << 30);
		if (txg_store_commit(s, &g_tb[h].b, 1, err, sizeof err) != 0) {
			fprintf(stderr, "commit %" PRIu64 ": %s\n", h, err);
			return -1;
		}
		g_height = h;
	}
	return 0;
}

/* Every committed id is found at its place, one-shot and in a snapshot;
 * an unknown id is not. Returns the number of wrong answers. */
static int lookups(struct txg_store *s)
{
	int bad = 0;
	struct txg_store_snap *sn = NULL;
	if (txg_store_snap_begin(s, &sn) != 0)
		return 1000000;
	for (uint64_t h = 1; h <= g_height; h++)
		for (uint32_t i = 0; i < PER; i++) {
			uint64_t fh = 0;
			uint32_t fi = 0;
			if (txg_store_find_tx(s, g_tb[h].ids[i], &fh, &fi) != 0 || fh != h || fi != i)
				bad++;
			fh = 0;
			if (txg_store_snap_find_tx(sn, g_tb[h].ids[i], &fh, &fi) != 0 || fh != h || fi != i)
				bad++;
		}
	uint8_t id[32];
	memset(id, 0x77, sizeof id);
	uint64_t fh;
	uint32_t fi;
	bad += txg_store_find_tx(s, id, &fh, &fi) != 1;
	bad += txg_store_snap_find_tx(sn, id, &fh, &fi) != 1;
	txg_store_snap_end(sn);
	return bad;
}

static int verify(struct txg_store *s, struct txg_check_report *r)
{
	int rc = txg_ledger_check(s, r);
	if (rc != 0)
		fprintf(stderr, "verify: height %" PRIu64 " index %" PRId64 ": %s\n", r->height, r->index, r->what);
	return rc;
}

static void new_ledger(char *dir, size_t n)
{
	tu_newdir(dir, n);
	g_height = 0;
}

static void test_lag(void)
{
	char dir[128], err[512];
	new_ledger(dir, sizeof dir);
	struct txg_store *s = open_w(dir, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	txg_store_index_pause(s, 1);
	CU_ASSERT_EQUAL_FATAL(grow(s, 30), 0);
	struct txg_store_index_info ii;
	CU_ASSERT_EQUAL(txg_store_index_info(s, &ii), 0);
	CU_ASSERT_EQUAL(ii.head, 30);
	CU_ASSERT_EQUAL(ii.indexed, 0);
	CU_ASSERT_EQUAL(ii.lag_txs, 30 * PER);
	/* nothing indexed: every answer comes from above the watermark */
	CU_ASSERT_EQUAL(lookups(s), 0);
	struct txg_store_stats st;
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT_EQUAL(st.txidx, 30 * PER);
	CU_ASSERT_EQUAL(st.indexed, 0);
	CU_ASSERT_EQUAL(st.index_entries, 0);
	struct txg_store *r = open_r(dir); /* reads the blocks above the watermark */
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(lookups(r), 0);
	struct txg_check_report rep;
	CU_ASSERT_EQUAL(verify(r, &rep), 0);
	CU_ASSERT_EQUAL(rep.txs, 30 * PER);

	/* the duplicate guard sees pending ids: a commit is refused, a seal
	 * leaves the record out with the original's place */
	struct tblock dup;
	tu_block(&dup, CHAIN, 31, g_tb[30].hash, ++g_ts, 2, 24, 1u << 30);
	dup.txs[1] = g_tb[7].txs[3];
	uint8_t scratch[TU_MAXN][32], ids[2][32];
	memcpy(ids[0], dup.ids[0], 32);
	memcpy(ids[1], g_tb[7].ids[3], 32);
	struct txg_block_hdr hh;
	CU_ASSERT_EQUAL(txg_hdr_decode(dup.b.hdr, &hh), 0);
	txg_merkle_root((const uint8_t(*)[32])ids, 2, scratch, hh.tx_root);
	txg_hdr_encode(&hh, dup.b.hdr);
	CU_ASSERT_EQUAL(txg_store_commit(s, &dup.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "already committed at 7/3") != NULL);
	struct txg_seal_tx out[2];
	struct txg_seal_block sb = {.timestamp_ms = ++g_ts, .n = 2, .txs = dup.txs, .out = out};
	CU_ASSERT_EQUAL(txg_store_seal_commit(s, &sb, 1, err, sizeof err), 0);
	CU_ASSERT_EQUAL(sb.kept, 1);
	CU_ASSERT(out[1].known && out[1].height == 7 && out[1].index == 3);
	CU_ASSERT(!out[0].known && out[0].height == 31 && out[0].index == 0);
	/* block 31 holds one record: keep g_tb in step for the lookups */
	g_tb[31] = dup;
	g_tb[31].b.n = 1;
	memcpy(g_tb[31].hash, sb.hash, 32);
	uint64_t fh;
	uint32_t fi;
	CU_ASSERT_EQUAL(txg_store_find_tx(s, dup.ids[0], &fh, &fi), 0);
	CU_ASSERT(fh == 31 && fi == 0);
	txg_store_close(r);

	/* resume: runs are written and merged, and lookups stay right meanwhile */
	txg_store_index_pause(s, 0);
	g_height = 31;
	for (int round = 0; round < 20; round++) {
		uint64_t h = g_height + 1;
		tu_block(&g_tb[h], CHAIN, h, g_tb[h - 1].hash, ++g_ts, PER, 24, 1u << 30);
		CU_ASSERT_EQUAL_FATAL(txg_store_commit(s, &g_tb[h].b, 1, err, sizeof err), 0);
		g_height = h;
		CU_ASSERT_EQUAL(txg_store_find_tx(s, g_tb[h].ids[5], &fh, &fi), 0);
		CU_ASSERT(fh == h && fi == 5);
	}
	/* the guard keeps refusing old ids while runs are written, merged and
	 * their tables dropped in the background */
	int missed = 0;
	for (int k = 0; k < 200; k++) {
		CU_ASSERT_EQUAL_FATAL(grow(s, 1), 0);
		struct txg_seal_tx o1[1];
		const struct tblock *old = &g_tb[1 + (uint64_t)k % 30];
		struct txg_seal_block b1 = {.timestamp_ms = 1, .n = 1, .txs = &old->txs[k % PER], .out = o1};
		CU_ASSERT_EQUAL_FATAL(txg_store_seal_commit(s, &b1, 1, err, sizeof err), 0);
		missed += !o1[0].known || b1.kept != 0 || o1[0].height != old->height || o1[0].index != (uint32_t)(k % PER);
	}
	CU_ASSERT_EQUAL(missed, 0);
	CU_ASSERT_EQUAL(txg_store_index_flush(s, err, sizeof err), 0);
	CU_ASSERT_EQUAL(txg_store_index_info(s, &ii), 0);
	CU_ASSERT_EQUAL(ii.indexed, g_height);
	CU_ASSERT_EQUAL(ii.lag_txs, 0);
	CU_ASSERT(ii.runs_written > 8);
	/* merges run in the background: wait a little for some */
	for (int k = 0; k < 100 && ii.merges == 0; k++) {
		usleep(20000);
		txg_store_index_info(s, &ii);
	}
	CU_ASSERT(ii.merges > 0);
	CU_ASSERT(ii.runs < ii.runs_written);
	/* block 31 has 1 record: lookups() checks PER per block, so skip it */
	int bad = 0;
	for (uint64_t h = 1; h <= g_height; h++)
		for (uint32_t i = 0; i < (h == 31 ? 1u : PER); i++)
			if (txg_store_find_tx(s, g_tb[h].ids[i], &fh, &fi) != 0 || fh != h || fi != i)
				bad++;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(verify(s, &rep), 0);
	CU_ASSERT_EQUAL(rep.txs, (g_height - 1) * PER + 1);
	txg_store_close(s);
	r = open_r(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(verify(r, &rep), 0);
	CU_ASSERT_EQUAL(txg_store_stats(r, &st), 0);
	CU_ASSERT_EQUAL(st.indexed, g_height); /* a clean close indexes everything */
	CU_ASSERT_EQUAL(st.index_entries, (g_height - 1) * PER + 1);
	txg_store_close(r);
}

/* A child commits, with the indexer paused for the last `lagging` blocks,
 * and ends without closing (_exit): a crash between commit and indexing. */
static void crash_child(const char *dir, int indexed, int lagging)
{
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct txg_store *s = open_w(dir, 64);
		char err[512];
		if (!s || grow(s, indexed) != 0 || txg_store_index_flush(s, err, sizeof err) != 0)
			_exit(1);
		txg_store_index_pause(s, 1);
		if (grow(s, lagging) != 0)
			_exit(1);
		_exit(0);
	}
	int st;
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	tu_nonce += 1000000; /* the child used the nonces from here on */
}

/* The ids of blocks a child committed, read back from the ledger. */
static int read_ids_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	(void)arg;
	struct txg_rec_view rv;
	if (height > MAXB || index >= PER || txg_record_view(rec, len, &rv) != 0)
		return -1;
	txg_tx_id(rv.body, rv.body_len, g_tb[height].ids[index]);
	return 0;
}

static void read_back(struct txg_store *s)
{
	struct txg_store_head h;
	CU_ASSERT_EQUAL_FATAL(txg_store_head(s, &h), 0);
	g_ts = h.timestamp_ms;
	for (uint64_t k = 1; k <= h.height; k++) {
		CU_ASSERT_EQUAL_FATAL(txg_store_block_txs(s, k, read_ids_cb, NULL), 0);
		uint8_t hdr[96];
		CU_ASSERT_EQUAL_FATAL(txg_store_get_header(s, k, hdr), 0);
		txg_block_hash(hdr, g_tb[k].hash);
	}
	g_height = h.height;
}

struct copy {
	uint64_t h;
	uint32_t i;
	uint8_t rec[TU_RECCAP];
	size_t len;
};

static int copy_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct copy *c = arg;
	if (height == c->h && index == c->i && len <= sizeof c->rec) {
		memcpy(c->rec, rec, len);
		c->len = len;
	}
	return 0;
}

static void test_crash(void)
{
	char dir[128], err[512];
	new_ledger(dir, sizeof dir);
	crash_child(dir, 12, 9);
	/* read-only: the watermark is below the head, the blocks above it are read */
	struct txg_store *r = open_r(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	read_back(r);
	CU_ASSERT_EQUAL(g_height, 21);
	struct txg_store_stats st;
	CU_ASSERT_EQUAL(txg_store_stats(r, &st), 0);
	CU_ASSERT_EQUAL(st.indexed, 12);
	CU_ASSERT_EQUAL(st.txidx, 21 * PER);
	CU_ASSERT_EQUAL(lookups(r), 0);
	struct txg_check_report rep;
	CU_ASSERT_EQUAL(verify(r, &rep), 0);
	txg_store_close(r);
	/* the writer reopens: the blocks above the watermark are pending again */
	struct txg_store *s = open_w(dir, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	txg_store_index_pause(s, 1);
	struct txg_store_index_info ii;
	CU_ASSERT_EQUAL(txg_store_index_info(s, &ii), 0);
	CU_ASSERT_EQUAL(ii.indexed, 12);
	CU_ASSERT_EQUAL(ii.lag_txs, 9 * PER);
	CU_ASSERT_EQUAL(lookups(s), 0);
	/* the guard knows them: a record of block 18, sealed again, is left out */
	struct copy cp = {.h = 18, .i = 2};
	CU_ASSERT_EQUAL_FATAL(txg_store_block_txs(s, 18, copy_cb, &cp), 0);
	CU_ASSERT_FATAL(cp.len > 0);
	struct txg_store_tx tx = {cp.rec, (uint32_t)cp.len, g_tb[18].ids[2]};
	struct txg_seal_tx out[1];
	struct txg_seal_block sb = {.timestamp_ms = 1, .n = 1, .txs = &tx, .out = out};
	CU_ASSERT_EQUAL(txg_store_seal_commit(s, &sb, 1, err, sizeof err), 0);
	CU_ASSERT(out[0].known && out[0].height == 18 && out[0].index == 2);
	CU_ASSERT_EQUAL(sb.height, 0);
	txg_store_index_pause(s, 0);
	CU_ASSERT_EQUAL(txg_store_index_flush(s, err, sizeof err), 0);
	CU_ASSERT_EQUAL(txg_store_index_info(s, &ii), 0);
	CU_ASSERT_EQUAL(ii.indexed, 21);
	CU_ASSERT_EQUAL(lookups(s), 0);
	CU_ASSERT_EQUAL(verify(s, &rep), 0);
	CU_ASSERT_EQUAL(grow(s, 3), 0);
	CU_ASSERT_EQUAL(lookups(s), 0);
	txg_store_close(s);
}

/* A child commits without end; kill -9 it at some point, reopen, check. */
static void test_kill9(void)
{
	char dir[128], err[512];
	new_ledger(dir, sizeof dir);
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct txg_store *s = open_w(dir, 64);
		if (!s)
			_exit(1);
		for (;;) {
			if (grow(s, 1) != 0)
				_exit(1);
			uint64_t h = g_height;
			if (write(p[1], &h, sizeof h) != (ssize_t)sizeof h)
				_exit(1);
			if (h == MAXB)
				pause();
		}
	}
	close(p[1]);
	uint64_t last = 0, h;
	while (last < 150 && read(p[0], &h, sizeof h) == (ssize_t)sizeof h)
		last = h;
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	tu_nonce += 1000000;
	close(p[0]);
	CU_ASSERT(last >= 150);
	struct txg_store *s = open_w(dir, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	read_back(s);
	CU_ASSERT(g_height >= last); /* every block reported committed is there */
	CU_ASSERT_EQUAL(lookups(s), 0);
	struct txg_check_report rep;
	CU_ASSERT_EQUAL(verify(s, &rep), 0);
	CU_ASSERT_EQUAL(txg_store_index_flush(s, err, sizeof err), 0);
	CU_ASSERT_EQUAL(lookups(s), 0);
	CU_ASSERT_EQUAL(verify(s, &rep), 0);
	txg_store_close(s);
}

/* A read-only handle in another process while the writer lags. */
static void test_reader_process(void)
{
	char dir[128];
	new_ledger(dir, sizeof dir);
	struct txg_store *s = open_w(dir, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(grow(s, 10), 0);
	char err[512];
	CU_ASSERT_EQUAL(txg_store_index_flush(s, err, sizeof err), 0);
	txg_store_index_pause(s, 1);
	CU_ASSERT_EQUAL_FATAL(grow(s, 10), 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct txg_store *r = open_r(dir);
		struct txg_check_report rep;
		_exit(!r || lookups(r) != 0 || verify(r, &rep) != 0 ? 1 : 0);
	}
	int st;
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	txg_store_close(s);
}

/* --- damage to the index, written straight into LMDB --- */

static void raw_open(const char *dir, MDB_env **env, MDB_txn **t)
{
	CU_ASSERT_EQUAL_FATAL(mdb_env_create(env), 0);
	mdb_env_set_maxdbs(*env, 16);
	CU_ASSERT_EQUAL_FATAL(mdb_env_open(*env, dir, 0, 0644), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_begin(*env, NULL, 0, t), 0);
}

static void raw_close(MDB_env *env, MDB_txn *t)
{
	CU_ASSERT_EQUAL(mdb_txn_commit(t), 0);
	mdb_env_close(env);
}

/* Find the run key of id in txrun0/txrun1: 0 and the table's name, or -1. */
static int run_key_of(MDB_txn *t, const uint8_t id[32], uint8_t key[40], const char **tbl)
{
	static const char *names[7] = {"txrun0", "txrun1", "txrun2", "txrun3", "txrun4", "txrun5", "txrun6"};
	for (int k = 0; k < 7; k++) {
		MDB_dbi d;
		MDB_cursor *c;
		if (mdb_dbi_open(t, names[k], 0, &d) != 0 || mdb_cursor_open(t, d, &c) != 0)
			return -1;
		MDB_val kk, v;
		int rc = mdb_cursor_get(c, &kk, &v, MDB_FIRST);
		while (rc == 0) {
			if (kk.mv_size == 40 && !memcmp((const uint8_t *)kk.mv_data + 8, id, 32)) {
				memcpy(key, kk.mv_data, 40);
				*tbl = names[k];
				mdb_cursor_close(c);
				return 0;
			}
			rc = mdb_cursor_get(c, &kk, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
	}
	return -1;
}

/* A closed ledger of 30 blocks whose index has a base and runs. */
static void build_runs(char *dir, size_t n)
{
	new_ledger(dir, n);
	struct txg_store *s = open_w(dir, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(grow(s, 30), 0);
	txg_store_close(s);
}

static int verify_dir(const char *dir, struct txg_check_report *rep)
{
	struct txg_store *r = open_r(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	int rc = txg_ledger_check(r, rep);
	txg_store_close(r);
	return rc;
}

static void test_verify_damage(void)
{
	char dir[128];
	struct txg_check_report rep;
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi d;
	uint8_t key[40];
	const char *tbl;

	/* an entry deleted from a run: block -> index fails */
	build_runs(dir, sizeof dir);
	CU_ASSERT_EQUAL(verify_dir(dir, &rep), 0);
	raw_open(dir, &env, &t);
	CU_ASSERT_EQUAL_FATAL(run_key_of(t, g_tb[25].ids[6], key, &tbl), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, tbl, 0, &d), 0);
	MDB_val k = {40, key}, v;
	CU_ASSERT_EQUAL_FATAL(mdb_del(t, d, &k, NULL), 0);
	raw_close(env, t);
	CU_ASSERT_EQUAL(verify_dir(dir, &rep), 1);
	CU_ASSERT_EQUAL(rep.height, 25);
	CU_ASSERT_EQUAL(rep.index, 6);
	CU_ASSERT_STRING_EQUAL(rep.what, "tx_id missing from txidx");

	/* an extra entry in a run pointing at a record of another id: index -> block fails */
	build_runs(dir, sizeof dir);
	raw_open(dir, &env, &t);
	CU_ASSERT_EQUAL_FATAL(run_key_of(t, g_tb[25].ids[6], key, &tbl), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, tbl, 0, &d), 0);
	key[39] ^= 0x01; /* another id in the same run */
	uint8_t loc[12];
	txg_st64(loc, 25);
	txg_st32(loc + 8, 7);
	k = (MDB_val){40, key};
	v = (MDB_val){12, loc};
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &k, &v, 0), 0);
	raw_close(env, t);
	CU_ASSERT_EQUAL(verify_dir(dir, &rep), 1);
	CU_ASSERT_EQUAL(rep.height, 25);
	CU_ASSERT_EQUAL(rep.index, 7);
	CU_ASSERT(strstr(rep.what, "points here, but this record is another tx") != NULL);

	/* an entry of the base (txidx) pointing elsewhere */
	build_runs(dir, sizeof dir);
	raw_open(dir, &env, &t);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, "txidx", 0, &d), 0);
	k = (MDB_val){32, g_tb[1].ids[0]};
	txg_st64(loc, 1);
	txg_st32(loc + 8, 1);
	v = (MDB_val){12, loc};
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &k, &v, 0), 0);
	raw_close(env, t);
	CU_ASSERT_EQUAL(verify_dir(dir, &rep), 1);
	CU_ASSERT_EQUAL(rep.height, 1);
	CU_ASSERT_EQUAL(rep.index, 0);
	CU_ASSERT(strstr(rep.what, "txidx points to 1/1") != NULL);

	/* a watermark above the head: verify fails, a writer refuses to open */
	build_runs(dir, sizeof dir);
	raw_open(dir, &env, &t);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, "meta", 0, &d), 0);
	uint8_t w[8];
	txg_st64(w, 99);
	k = (MDB_val){7, "indexed"};
	v = (MDB_val){8, w};
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &k, &v, 0), 0);
	raw_close(env, t);
	CU_ASSERT_NOT_EQUAL(verify_dir(dir, &rep), 0);
	struct txg_store_opts o = {.path = dir, .chain_id = CHAIN};
	struct txg_store *s = NULL;
	char err[512];
	CU_ASSERT_EQUAL(txg_store_open(&s, &o, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "tx index is inconsistent") != NULL);

	/* a descriptor whose count is wrong */
	build_runs(dir, sizeof dir);
	raw_open(dir, &env, &t);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, "txruns", 0, &d), 0);
	MDB_cursor *c;
	CU_ASSERT_EQUAL_FATAL(mdb_cursor_open(t, d, &c), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_cursor_get(c, &k, &v, MDB_LAST), 0);
	uint8_t dv[25], dk[8];
	CU_ASSERT_EQUAL_FATAL(v.mv_size, 25);
	memcpy(dv, v.mv_data, 25);
	memcpy(dk, k.mv_data, 8);
	mdb_cursor_close(c);
	txg_st64(dv + 16, txg_ld64(dv + 16) + 1);
	k = (MDB_val){8, dk};
	v = (MDB_val){25, dv};
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &k, &v, 0), 0);
	raw_close(env, t);
	CU_ASSERT_EQUAL(verify_dir(dir, &rep), 1);
	CU_ASSERT(strstr(rep.what, "its descriptor says") != NULL || strstr(rep.what, "txidx entries stored") != NULL);
}

/* A format 1 ledger (txidx holds every id, no runs, no watermark) is read
 * as it is and upgraded in place by a writer. */
static void test_upgrade(void)
{
	char dir[128], err[512];
	new_ledger(dir, sizeof dir);
	struct txg_store_opts o = {.path = dir, .chain_id = CHAIN};
	struct txg_store *s = NULL;
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(grow(s, 6), 0);
	txg_store_close(s);
	/* make it format 1 */
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi d;
	raw_open(dir, &env, &t);
	static const char *drop[8] = {"txruns", "txrun0", "txrun1", "txrun2", "txrun3", "txrun4", "txrun5", "txrun6"};
	for (int i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, drop[i], 0, &d), 0);
		CU_ASSERT_EQUAL_FATAL(mdb_drop(t, d, 1), 0);
	}
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, "meta", 0, &d), 0);
	MDB_val k = {7, "indexed"}, v;
	CU_ASSERT_EQUAL_FATAL(mdb_del(t, d, &k, NULL), 0);
	uint8_t one[8];
	txg_st64(one, 1);
	k = (MDB_val){6, "format"};
	v = (MDB_val){8, one};
	CU_ASSERT_EQUAL_FATAL(mdb_put(t, d, &k, &v, 0), 0);
	raw_close(env, t);

	struct txg_store *r = open_r(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(lookups(r), 0);
	struct txg_check_report rep;
	CU_ASSERT_EQUAL(verify(r, &rep), 0);
	/* a writer upgrades it */
	o.index_base_max = 100; /* new entries go to runs */
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	CU_ASSERT_EQUAL(lookups(s), 0);
	CU_ASSERT_EQUAL(grow(s, 10), 0);
	CU_ASSERT_EQUAL(txg_store_index_flush(s, err, sizeof err), 0);
	CU_ASSERT_EQUAL(lookups(s), 0);
	/* the read-only handle opened as format 1 now refuses to answer rather than miss */
	uint64_t fh;
	uint32_t fi;
	CU_ASSERT_EQUAL(txg_store_find_tx(r, g_tb[16].ids[0], &fh, &fi), -1);
	txg_store_close(r);
	CU_ASSERT_EQUAL(verify(s, &rep), 0);
	txg_store_close(s);
	raw_open(dir, &env, &t);
	CU_ASSERT_EQUAL_FATAL(mdb_dbi_open(t, "meta", 0, &d), 0);
	k = (MDB_val){6, "format"};
	CU_ASSERT_EQUAL(mdb_get(t, d, &k, &v), 0);
	CU_ASSERT(v.mv_size == 8 && txg_ld64(v.mv_data) == TXG_STORE_FORMAT);
	mdb_txn_abort(t);
	mdb_env_close(env);
	r = open_r(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(lookups(r), 0);
	CU_ASSERT_EQUAL(verify(r, &rep), 0);
	txg_store_close(r);
}

/* Back-pressure: with a bound of 3 blocks and the indexer paused, a commit
 * waits until the indexer is resumed (here by another thread). */
#include <pthread.h>
static void *resume_later(void *arg)
{
	usleep(200000);
	txg_store_index_pause(arg, 0);
	return NULL;
}

static void test_backpressure(void)
{
	char dir[128], err[512];
	new_ledger(dir, sizeof dir);
	struct txg_store_opts o = {.path = dir, .chain_id = CHAIN, .index_lag_max = 3 * PER, .index_base_max = 1};
	struct txg_store *s = NULL;
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	txg_store_index_pause(s, 1);
	CU_ASSERT_EQUAL_FATAL(grow(s, 3), 0);
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, resume_later, s), 0);
	CU_ASSERT_EQUAL(grow(s, 1), 0); /* waits for the resume */
	pthread_join(th, NULL);
	struct txg_store_index_info ii;
	CU_ASSERT_EQUAL(txg_store_index_info(s, &ii), 0);
	CU_ASSERT(ii.backpressure_us >= 100000);
	CU_ASSERT(ii.max_lag_txs <= 3 * PER + PER);
	CU_ASSERT_EQUAL(lookups(s), 0);
	txg_store_close(s);
}

/* A small ledger's ids go to txidx with the commit itself: the watermark
 * moves with the head, even with the indexer paused; past the base's
 * bound they wait for the indexer. */
static void test_inline(void)
{
	char dir[128], err[512];
	new_ledger(dir, sizeof dir);
	struct txg_store *s = open_w(dir, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	txg_store_index_pause(s, 1);
	CU_ASSERT_EQUAL_FATAL(grow(s, 4), 0);
	struct txg_store_index_info ii;
	CU_ASSERT_EQUAL(txg_store_index_info(s, &ii), 0);
	CU_ASSERT_EQUAL(ii.indexed, 4);
	CU_ASSERT_EQUAL(ii.lag_txs, 0);
	CU_ASSERT_EQUAL(ii.entries, 4 * PER);
	CU_ASSERT_EQUAL_FATAL(grow(s, 1), 0);
	CU_ASSERT_EQUAL(txg_store_index_info(s, &ii), 0);
	CU_ASSERT_EQUAL(ii.indexed, 4);
	CU_ASSERT_EQUAL(ii.lag_txs, PER);
	CU_ASSERT_EQUAL(lookups(s), 0);
	/* a duplicate of an id in txidx is refused as before */
	struct tblock dup;
	tu_block(&dup, CHAIN, 6, g_tb[5].hash, ++g_ts, 1, 24, 1u << 30);
	dup.txs[0] = g_tb[2].txs[1];
	CU_ASSERT_EQUAL(txg_store_commit(s, &dup.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "already committed at 2/1") != NULL);
	txg_store_index_pause(s, 0);
	txg_store_close(s);
	struct txg_store *r = open_r(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct txg_check_report rep;
	CU_ASSERT_EQUAL(verify(r, &rep), 0);
	txg_store_close(r);
}

int main(void)
{
	if (tu_init("index") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite su = CU_add_suite("index", NULL, NULL);
	CU_add_test(su, "lag", test_lag);
	CU_add_test(su, "crash", test_crash);
	CU_add_test(su, "kill9", test_kill9);
	CU_add_test(su, "reader_process", test_reader_process);
	CU_add_test(su, "verify_damage", test_verify_damage);
	CU_add_test(su, "upgrade", test_upgrade);
	CU_add_test(su, "backpressure", test_backpressure);
	CU_add_test(su, "inline", test_inline);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	tu_cleanup();
	return fails ? 1 : 0;
}
