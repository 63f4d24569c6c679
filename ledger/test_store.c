/* Unit tests of the LMDB ledger store (ledger/store.h). */
#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block.h"
#include "store.h"
#include "test_util.h"
#include "record.h"

#define CHAIN 0x7e57u
#define MAXN TU_MAXN
#define RECCAP TU_RECCAP

/* Build block `height` on prev with n signed records of plen-byte payloads. */
static void mk_block(struct tblock *tb, uint32_t chain, uint64_t height, const uint8_t prev[32], uint64_t ts,
		     uint32_t n, size_t plen)
{
	tu_block(tb, chain, height, prev, ts, n, plen, 1700000000000ull);
}

static void newdir(char *out, size_t n) { tu_newdir(out, n); }

static struct txg_store *open_w(const char *path, uint32_t chain, uint64_t map_size, uint64_t ttl)
{
	struct txg_store_opts o = {.path = path, .chain_id = chain, .map_size = map_size, .max_ttl_ms = ttl};
	struct txg_store *s = NULL;
	char err[256] = "";
	if (txg_store_open(&s, &o, err, sizeof err) != 0)
		fprintf(stderr, "open %s: %s\n", path, err);
	return s;
}

static struct txg_store *open_r(const char *path, uint32_t chain, char *err, size_t errlen)
{
	struct txg_store_opts o = {.path = path, .chain_id = chain, .readonly = 1};
	struct txg_store *s = NULL;
	if (txg_store_open(&s, &o, err, errlen) != 0)
		return NULL;
	return s;
}

static int commit1(struct txg_store *s, struct tblock *tb)
{
	char err[256] = "";
	int rc = txg_store_commit(s, &tb->b, 1, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "commit: %s\n", err);
	return rc;
}

struct collect {
	int count;
	int mismatch;
	const struct tblock *tb;
	int stop_at;
};

static int collect_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct collect *c = arg;
	if (c->stop_at >= 0 && c->count == c->stop_at)
		return 42;
	if (height != c->tb->height || index != (uint32_t)c->count || index >= c->tb->b.n ||
	    len != c->tb->txs[index].len || memcmp(rec, c->tb->txs[index].rec, len) != 0)
		c->mismatch++;
	c->count++;
	return 0;
}

/* Check every part of block tb in store s. */
static void check_block(struct txg_store *s, const struct tblock *tb)
{
	uint8_t hdr[96];
	CU_ASSERT_EQUAL_FATAL(txg_store_get_header(s, tb->height, hdr), 0);
	CU_ASSERT(memcmp(hdr, tb->b.hdr, 96) == 0);
	struct collect c = {.tb = tb, .stop_at = -1};
	CU_ASSERT_EQUAL(txg_store_block_txs(s, tb->height, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.count, (int)tb->b.n);
	CU_ASSERT_EQUAL(c.mismatch, 0);
	for (uint32_t i = 0; i < tb->b.n; i++) {
		uint64_t h = 0;
		uint32_t idx = 99;
		CU_ASSERT_EQUAL(txg_store_find_tx(s, tb->ids[i], &h, &idx), 0);
		CU_ASSERT_EQUAL(h, tb->height);
		CU_ASSERT_EQUAL(idx, i);
	}
}

static void test_create_reopen(void)
{
	char p[128];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 0, 120000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(txg_store_chain_id(s), CHAIN);
	CU_ASSERT_EQUAL(txg_store_max_ttl(s), 120000);
	struct txg_store_head hd;
	CU_ASSERT_EQUAL(txg_store_head(s, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 0);
	CU_ASSERT_EQUAL(hd.timestamp_ms, 0);
	static const uint8_t zero[32];
	CU_ASSERT(memcmp(hd.hash, zero, 32) == 0);

	static struct tblock tb[3];
	const uint8_t *prev = zero;
	for (int i = 0; i < 3; i++) {
		mk_block(&tb[i], CHAIN, (uint64_t)i + 1, prev, 1000 + (uint64_t)i * 10, (uint32_t)(1 + i * 3), 20);
		CU_ASSERT_EQUAL_FATAL(commit1(s, &tb[i]), 0);
		prev = tb[i].hash;
	}
	CU_ASSERT_EQUAL(txg_store_head(s, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 3);
	txg_store_close(s);

	s = open_w(p, CHAIN, 0, 5000); /* smaller ttl: stored one stays */
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(txg_store_max_ttl(s), 120000);
	CU_ASSERT_EQUAL(txg_store_head(s, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 3);
	CU_ASSERT(memcmp(hd.hash, tb[2].hash, 32) == 0);
	CU_ASSERT_EQUAL(hd.timestamp_ms, 1020);
	for (int i = 0; i < 3; i++)
		check_block(s, &tb[i]);
	uint8_t hdr[96], id[32];
	CU_ASSERT_EQUAL(txg_store_get_header(s, 4, hdr), 1);
	CU_ASSERT_EQUAL(txg_store_get_header(s, 0, hdr), 1);
	struct collect c = {.tb = &tb[0], .stop_at = -1};
	CU_ASSERT_EQUAL(txg_store_block_txs(s, 4, collect_cb, &c), 1);
	CU_ASSERT_EQUAL(c.count, 0);
	struct collect c2 = {.tb = &tb[2], .stop_at = 2};
	CU_ASSERT_EQUAL(txg_store_block_txs(s, 3, collect_cb, &c2), 42);
	CU_ASSERT_EQUAL(c2.count, 2);
	memset(id, 0x5a, sizeof id);
	uint64_t h;
	uint32_t ix;
	CU_ASSERT_EQUAL(txg_store_find_tx(s, id, &h, &ix), 1);
	struct txg_store_stats st;
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT_EQUAL(st.headers, 3);
	CU_ASSERT_EQUAL(st.txs, 1 + 4 + 7);
	CU_ASSERT_EQUAL(st.txidx, 12);
	CU_ASSERT_EQUAL(st.head.height, 3);

	/* the same through one snapshot */
	struct txg_store_snap *sn;
	CU_ASSERT_EQUAL_FATAL(txg_store_snap_begin(s, &sn), 0);
	struct txg_store_stats st2;
	CU_ASSERT_EQUAL(txg_store_snap_stats(sn, &st2), 0);
	CU_ASSERT(memcmp(&st2.head, &st.head, sizeof st.head) == 0);
	CU_ASSERT_EQUAL(st2.txs, 12);
	CU_ASSERT_EQUAL(txg_store_snap_head(sn, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 3);
	CU_ASSERT_EQUAL(txg_store_snap_get_header(sn, 2, hdr), 0);
	CU_ASSERT(memcmp(hdr, tb[1].b.hdr, 96) == 0);
	CU_ASSERT_EQUAL(txg_store_snap_get_header(sn, 4, hdr), 1);
	CU_ASSERT_EQUAL(txg_store_snap_find_tx(sn, tb[2].ids[5], &h, &ix), 0);
	CU_ASSERT(h == 3 && ix == 5);
	CU_ASSERT_EQUAL(txg_store_snap_find_tx(sn, id, &h, &ix), 1);
	struct collect c3 = {.tb = &tb[1], .stop_at = -1};
	CU_ASSERT_EQUAL(txg_store_snap_block_txs(sn, 2, collect_cb, &c3), 0);
	CU_ASSERT_EQUAL(c3.count, 4);
	CU_ASSERT_EQUAL(c3.mismatch, 0);
	CU_ASSERT_EQUAL(txg_store_snap_block_txs(sn, 9, collect_cb, &c3), 1);
	txg_store_snap_end(sn);
	txg_store_close(s);

	s = open_w(p, CHAIN, 0, 300000); /* larger ttl is recorded */
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(txg_store_max_ttl(s), 300000);
	txg_store_close(s);
	char err[256];
	s = open_r(p, 0, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(txg_store_max_ttl(s), 300000);
	CU_ASSERT_EQUAL(txg_store_chain_id(s), CHAIN);
	check_block(s, &tb[1]);
	CU_ASSERT_EQUAL(txg_store_commit(s, &tb[0].b, 1, err, sizeof err), -1);
	txg_store_close(s);
}

static void test_open_errors(void)
{
	char p[128], err[256];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	txg_store_close(s);

	struct txg_store_opts o = {.path = p, .chain_id = CHAIN + 1};
	err[0] = 0;
	CU_ASSERT_EQUAL(txg_store_open(&s, &o, err, sizeof err), -1);
	CU_ASSERT_PTR_NULL(s);
	char want[256];
	snprintf(want, sizeof want, "ledger at %s belongs to chain %u, config says %u", p, CHAIN, CHAIN + 1);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* read-only with a wrong chain id is refused too, with 0 accepted */
	CU_ASSERT_PTR_NULL(open_r(p, CHAIN + 1, err, sizeof err));
	CU_ASSERT(strstr(err, "belongs to chain") != NULL);
	s = open_r(p, 0, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL(s);
	txg_store_close(s);
	s = open_r(p, CHAIN, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL(s);
	txg_store_close(s);

	/* read-only never creates */
	char q[160];
	snprintf(q, sizeof q, "%s/nope", p);
	err[0] = 0;
	CU_ASSERT_PTR_NULL(open_r(q, 0, err, sizeof err));
	CU_ASSERT(strstr(err, q) != NULL);
	CU_ASSERT_EQUAL(access(q, F_OK), -1);
	/* an empty directory is not a ledger */
	newdir(q, sizeof q);
	CU_ASSERT_EQUAL_FATAL(mkdir(q, 0755), 0);
	err[0] = 0;
	CU_ASSERT_PTR_NULL(open_r(q, 0, err, sizeof err));
	CU_ASSERT(strstr(err, q) != NULL);
	/* a writer creates nested directories */
	snprintf(q, sizeof q, "%s/a/b", p);
	s = open_w(q, 1, 0, 0);
	CU_ASSERT_PTR_NOT_NULL(s);
	txg_store_close(s);
	struct txg_store_opts none = {.path = ""};
	CU_ASSERT_EQUAL(txg_store_open(&s, &none, err, sizeof err), -1);
}

static void test_refusals(void)
{
	char p[128], err[256];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static const uint8_t zero[32];
	static struct tblock b1, bad, b2, b3;
	mk_block(&b1, CHAIN, 1, zero, 500, 2, 0);
	CU_ASSERT_EQUAL_FATAL(commit1(s, &b1), 0);

	mk_block(&bad, CHAIN, 3, b1.hash, 600, 1, 0); /* wrong height */
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "height 3, expected 2") != NULL);
	mk_block(&bad, CHAIN, 1, zero, 600, 1, 0); /* height already there */
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	mk_block(&bad, CHAIN, 2, zero, 600, 1, 0); /* wrong prev_hash */
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "prev_hash") != NULL);
	mk_block(&bad, CHAIN + 1, 2, b1.hash, 600, 1, 0); /* wrong chain */
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "chain id") != NULL);
	mk_block(&bad, CHAIN, 2, b1.hash, 499, 1, 0); /* time goes back */
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "timestamp") != NULL);
	mk_block(&bad, CHAIN, 2, b1.hash, 600, 3, 0); /* tx_count != n */
	bad.b.n = 2;
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "tx_count") != NULL);
	mk_block(&bad, CHAIN, 2, b1.hash, 600, 2, 0); /* header does not decode */
	bad.b.hdr[0] = 2;
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "decode") != NULL);
	mk_block(&bad, CHAIN, 2, b1.hash, 600, 2, 0); /* truncated record */
	bad.txs[1].len -= 1;
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "record 1") != NULL);
	mk_block(&bad, CHAIN, 2, b1.hash, 600, 2, 0); /* a tx already committed */
	bad.txs[1] = b1.txs[0];
	CU_ASSERT_EQUAL(txg_store_commit(s, &bad.b, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "already committed at 1/0") != NULL);

	/* a group whose second block is bad writes nothing at all */
	mk_block(&b2, CHAIN, 2, b1.hash, 600, 2, 0);
	mk_block(&b3, CHAIN, 3, zero, 700, 2, 0);
	struct txg_store_block grp[2] = {b2.b, b3.b};
	CU_ASSERT_EQUAL(txg_store_commit(s, grp, 2, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "block 1 of 2") != NULL);

	struct txg_store_stats st;
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT_EQUAL(st.head.height, 1);
	CU_ASSERT(memcmp(st.head.hash, b1.hash, 32) == 0);
	CU_ASSERT_EQUAL(st.headers, 1);
	CU_ASSERT_EQUAL(st.txs, 2);
	CU_ASSERT_EQUAL(st.txidx, 2);
	uint8_t hdr[96];
	uint64_t h;
	uint32_t ix;
	CU_ASSERT_EQUAL(txg_store_get_header(s, 2, hdr), 1);
	CU_ASSERT_EQUAL(txg_store_find_tx(s, b2.ids[0], &h, &ix), 1);
	CU_ASSERT_EQUAL(txg_store_find_tx(s, bad.ids[0], &h, &ix), 1);

	/* after all that, the right block still goes in */
	CU_ASSERT_EQUAL(commit1(s, &b2), 0);
	check_block(s, &b1);
	check_block(s, &b2);
	CU_ASSERT_EQUAL(txg_store_commit(s, NULL, 0, err, sizeof err), 0);
	txg_store_close(s);
}

static void test_group_commit(void)
{
	char p[128], err[256];
	newdir(p, sizeof p);
	struct txg_store_opts o = {.path = p, .chain_id = CHAIN, .nosync = 1};
	struct txg_store *s = NULL;
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	static struct tblock tb[5];
	static const uint8_t zero[32];
	struct txg_store_block grp[5];
	const uint8_t *prev = zero;
	for (int i = 0; i < 5; i++) {
		mk_block(&tb[i], CHAIN, (uint64_t)i + 1, prev, 7, (uint32_t)(MAXN - i), 40);
		prev = tb[i].hash;
		grp[i] = tb[i].b;
	}
	CU_ASSERT_EQUAL_FATAL(txg_store_commit(s, grp, 5, err, sizeof err), 0);
	CU_ASSERT_EQUAL(txg_store_sync(s), 0);
	txg_store_close(s);
	s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct txg_store_head hd;
	CU_ASSERT_EQUAL(txg_store_head(s, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 5);
	CU_ASSERT(memcmp(hd.hash, tb[4].hash, 32) == 0);
	for (int i = 0; i < 5; i++)
		check_block(s, &tb[i]);
	txg_store_close(s);
}

/* Commit `count` blocks of 12 records with 200-byte payloads after head. */
static int commit_many(struct txg_store *s, struct tblock *tb, uint64_t *height, uint8_t prev[32], int count)
{
	for (int i = 0; i < count; i++) {
		mk_block(tb, CHAIN, *height + 1, prev, 1000 + *height, 12, 200);
		if (commit1(s, tb) != 0)
			return -1;
		*height += 1;
		memcpy(prev, tb->hash, 32);
	}
	return 0;
}

static void test_map_growth(void)
{
	char p[128];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 64 << 10, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct txg_store_stats st;
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT_EQUAL(st.map_size, 64 << 10);
	static struct tblock tb, first;
	uint64_t height = 0;
	uint8_t prev[32] = {0};
	mk_block(&first, CHAIN, 1, prev, 1, 3, 10);
	CU_ASSERT_EQUAL_FATAL(commit1(s, &first), 0);
	height = 1;
	memcpy(prev, first.hash, 32);
	CU_ASSERT_EQUAL_FATAL(commit_many(s, &tb, &height, prev, 300), 0); /* ~1 MB of records */
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT(st.map_size >= 1024 * 1024);
	CU_ASSERT(st.used_bytes <= st.map_size);
	CU_ASSERT_EQUAL(st.head.height, 301);
	CU_ASSERT_EQUAL(st.txs, 3 + 300 * 12);
	txg_store_close(s);
	char err[256];
	s = open_r(p, CHAIN, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	check_block(s, &first);
	check_block(s, &tb);
	txg_store_close(s);

	/* one group commit bigger than several doublings of the map */
	newdir(p, sizeof p);
	s = open_w(p, CHAIN, 64 << 10, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static struct tblock grp[24];
	struct txg_store_block bl[24];
	memset(prev, 0, sizeof prev);
	for (int i = 0; i < 24; i++) {
		mk_block(&grp[i], CHAIN, (uint64_t)i + 1, prev, 5, MAXN, 250);
		memcpy(prev, grp[i].hash, 32);
		bl[i] = grp[i].b;
	}
	CU_ASSERT_EQUAL_FATAL(txg_store_commit(s, bl, 24, err, sizeof err), 0);
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT(st.map_size >= 4 * (64 << 10));
	CU_ASSERT_EQUAL(st.head.height, 24);
	for (int i = 0; i < 24; i++)
		check_block(s, &grp[i]);
	txg_store_close(s);
}

struct rthread {
	struct txg_store *s;
	volatile int stop;
	int errors;
	uint64_t reads, last;
};

/* Reads through the writer's handle: each snapshot must be consistent (its
 * head block present and hashing to the head); one-shot reads must work. */
static void *reader_thread(void *arg)
{
	struct rthread *r = arg;
	while (!r->stop) {
		struct txg_store_head hd, hd1;
		struct txg_store_snap *sn;
		uint8_t hdr[96], bh[32];
		if (txg_store_head(r->s, &hd1) != 0 || txg_store_snap_begin(r->s, &sn) != 0) {
			r->errors++;
			continue;
		}
		if (txg_store_snap_head(sn, &hd) != 0)
			r->errors++;
		else if (hd.height > 0) {
			if (txg_store_snap_get_header(sn, hd.height, hdr) != 0 ||
			    txg_store_snap_get_header(sn, hd.height + 1, hdr + 0) != 1)
				r->errors++;
			else if (txg_store_snap_get_header(sn, hd.height, hdr) == 0) {
				txg_block_hash(hdr, bh);
				if (memcmp(bh, hd.hash, 32) != 0)
					r->errors++;
			}
		}
		txg_store_snap_end(sn);
		r->last = hd.height;
		r->reads++;
	}
	return NULL;
}

/* A thread reading through the writer's own handle while commits remap. */
static void test_reader_thread(void)
{
	char p[128];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 64 << 10, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct rthread r = {.s = s};
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, reader_thread, &r), 0);
	static struct tblock tb;
	uint64_t height = 0;
	uint8_t prev[32] = {0};
	struct txg_store_stats st0, st1;
	CU_ASSERT_EQUAL(txg_store_stats(s, &st0), 0);
	CU_ASSERT_EQUAL(commit_many(s, &tb, &height, prev, 300), 0);
	CU_ASSERT_EQUAL(txg_store_stats(s, &st1), 0);
	r.stop = 1;
	pthread_join(th, NULL);
	CU_ASSERT(st1.map_size > st0.map_size);
	CU_ASSERT_EQUAL(r.errors, 0);
	CU_ASSERT(r.reads > 0);
	txg_store_close(s);
}

/* Child side of the reader test: report head heights through wfd as the
 * parent writes more, reading after each byte from rfd. */
static int child_reader(const char *p, int rfd, int wfd)
{
	char err[256];
	struct txg_store *r = open_r(p, CHAIN, err, sizeof err);
	if (!r)
		return 10;
	for (int round = 0; round < 3; round++) {
		char go;
		if (read(rfd, &go, 1) != 1)
			return 11;
		struct txg_store_head hd;
		uint8_t hdr[96];
		uint64_t out[2] = {0, 0};
		if (txg_store_head(r, &hd) != 0)
			return 12;
		out[0] = hd.height;
		/* the newest header must be readable and hash to the head */
		if (hd.height > 0) {
			uint8_t bh[32];
			if (txg_store_get_header(r, hd.height, hdr) != 0)
				return 13;
			txg_block_hash(hdr, bh);
			out[1] = memcmp(bh, hd.hash, 32) == 0;
		}
		if (write(wfd, out, sizeof out) != (ssize_t)sizeof out)
			return 14;
	}
	txg_store_close(r);
	return 0;
}

static void test_reader_process(void)
{
	char p[128];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 64 << 10, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static struct tblock tb;
	uint64_t height = 0;
	uint8_t prev[32] = {0};
	CU_ASSERT_EQUAL_FATAL(commit_many(s, &tb, &height, prev, 2), 0);
	int to_child[2], to_parent[2];
	CU_ASSERT_FATAL(pipe(to_child) == 0 && pipe(to_parent) == 0);
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		_exit(child_reader(p, to_child[0], to_parent[1]));
	}
	close(to_child[0]);
	close(to_parent[1]);
	uint64_t got[2];
	/* round 1: what is there before the reader opened */
	CU_ASSERT(write(to_child[1], "g", 1) == 1);
	CU_ASSERT(read(to_parent[0], got, sizeof got) == (ssize_t)sizeof got);
	CU_ASSERT_EQUAL(got[0], 2);
	CU_ASSERT_EQUAL(got[1], 1);
	/* round 2: a few more blocks */
	CU_ASSERT_EQUAL(commit_many(s, &tb, &height, prev, 3), 0);
	CU_ASSERT(write(to_child[1], "g", 1) == 1);
	CU_ASSERT(read(to_parent[0], got, sizeof got) == (ssize_t)sizeof got);
	CU_ASSERT_EQUAL(got[0], 5);
	CU_ASSERT_EQUAL(got[1], 1);
	/* round 3: enough to grow the map several times past the reader's */
	struct txg_store_stats st0, st1;
	CU_ASSERT_EQUAL(txg_store_stats(s, &st0), 0);
	CU_ASSERT_EQUAL(commit_many(s, &tb, &height, prev, 400), 0);
	CU_ASSERT_EQUAL(txg_store_stats(s, &st1), 0);
	CU_ASSERT(st1.map_size > st0.map_size);
	CU_ASSERT(write(to_child[1], "g", 1) == 1);
	CU_ASSERT(read(to_parent[0], got, sizeof got) == (ssize_t)sizeof got);
	CU_ASSERT_EQUAL(got[0], 405);
	CU_ASSERT_EQUAL(got[1], 1);
	int status = -1;
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(to_child[1]);
	close(to_parent[0]);
	txg_store_close(s);
}

static void test_backup(void)
{
	char p[128], q[160], err[256];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static struct tblock tb;
	uint64_t height = 0;
	uint8_t prev[32] = {0};
	CU_ASSERT_EQUAL_FATAL(commit_many(s, &tb, &height, prev, 4), 0);
	tu_newdir(q, sizeof q);
	CU_ASSERT_EQUAL(txg_store_backup(s, q, err, sizeof err), 0);
	CU_ASSERT_EQUAL(txg_store_backup(s, q, err, sizeof err), -1); /* never overwrites */
	CU_ASSERT(strstr(err, "exists") != NULL);
	txg_store_close(s);
	s = open_r(q, CHAIN, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct txg_store_head hd;
	CU_ASSERT_EQUAL(txg_store_head(s, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 4);
	CU_ASSERT(memcmp(hd.hash, tb.hash, 32) == 0);
	check_block(s, &tb);
	txg_store_close(s);
}

int main(void)
{
	if (tu_init("store_test") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite su = CU_add_suite("store", NULL, NULL);
	CU_add_test(su, "create_reopen", test_create_reopen);
	CU_add_test(su, "open_errors", test_open_errors);
	CU_add_test(su, "refusals", test_refusals);
	CU_add_test(su, "group_commit", test_group_commit);
	CU_add_test(su, "map_growth", test_map_growth);
	CU_add_test(su, "reader_process", test_reader_process);
	CU_add_test(su, "reader_thread", test_reader_thread);
	CU_add_test(su, "backup", test_backup);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	tu_cleanup();
	return fails ? 1 : 0;
}
