/* Unit tests of the LMDB ledger store (ledger/store.h). */
#include <CUnit/Basic.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block.h"
#include "store.h"
#include "test_util.h"
#include "record.h"

#define CHAIN 0x7e57u
#define MAXN TU_MAXN
#define RECCAP TU_RECCAP

/* fsync and fdatasync, seen by store.c and liblmdb alike: directories
 * fsynced are logged, file syncs counted, and errors can be injected. */
static int inj_dir_errno, inj_file_errno; /* fail directory / file syncs with this errno */
static unsigned file_syncs;
static struct {
	dev_t dev;
	ino_t ino;
} synced_dirs[256];
static unsigned n_synced_dirs;

static int sync_hook(int fd, const char *name)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (inj_dir_errno) {
			errno = inj_dir_errno;
			return -1;
		}
		if (n_synced_dirs < sizeof synced_dirs / sizeof synced_dirs[0]) {
			synced_dirs[n_synced_dirs].dev = st.st_dev;
			synced_dirs[n_synced_dirs++].ino = st.st_ino;
		}
	} else {
		__atomic_add_fetch(&file_syncs, 1, __ATOMIC_RELAXED);
		if (inj_file_errno) {
			errno = inj_file_errno;
			return -1;
		}
	}
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
	return real ? real(fd) : 0;
}
int fsync(int fd) { return sync_hook(fd, "fsync"); }
int fdatasync(int fd) { return sync_hook(fd, "fdatasync"); }

/* 1 if directory path was fsynced since n_synced_dirs was last reset. */
static int dir_synced(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	for (unsigned i = 0; i < n_synced_dirs; i++)
		if (synced_dirs[i].dev == st.st_dev && synced_dirs[i].ino == st.st_ino)
			return 1;
	return 0;
}

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

/* Child side of the lock test: hold the ledger for writing until told. */
static int child_writer(const char *p, int rfd, int wfd)
{
	struct txg_store_opts o = {.path = p, .chain_id = CHAIN};
	struct txg_store *s = NULL;
	char err[512];
	if (txg_store_open(&s, &o, err, sizeof err) != 0)
		return 10;
	if (write(wfd, "r", 1) != 1)
		return 11;
	char go;
	if (read(rfd, &go, 1) != 1) /* EOF or 'q'; killed with SIGKILL in the crash case */
		return 12;
	txg_store_close(s);
	return 0;
}

/* Try to open p for writing; returns the handle or NULL with err set. */
static struct txg_store *try_w(const char *p, char *err, size_t errlen)
{
	struct txg_store_opts o = {.path = p, .chain_id = CHAIN};
	struct txg_store *s = NULL;
	err[0] = 0;
	if (txg_store_open(&s, &o, err, errlen) != 0)
		return NULL;
	return s;
}

/* Fork a child that holds p for writing; *wr is the pipe telling it to stop. */
static pid_t spawn_writer(const char *p, int *wr)
{
	int to_child[2], to_parent[2];
	if (pipe(to_child) != 0 || pipe(to_parent) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		_exit(child_writer(p, to_child[0], to_parent[1]));
	}
	close(to_child[0]);
	close(to_parent[1]);
	char c = 0;
	if (pid < 0 || read(to_parent[0], &c, 1) != 1 || c != 'r') {
		close(to_parent[0]);
		close(to_child[1]);
		return -1;
	}
	close(to_parent[0]);
	*wr = to_child[1];
	return pid;
}

/* Two writers on one ledger: the second, in another process or this one,
 * is refused at once with a message naming the holder; readers are not. */
/* Sealing in the ledger: heights, indexes, Merkle roots and the chain come
 * out as the verbatim-header path would make them; a record the ledger
 * already holds is left out alone (with the original's location), never
 * the group; a block left empty is not written. */
static void test_seal_commit(void)
{
	char p[128], err[256];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static struct tblock a, b;
	uint8_t zero[32] = {0};
	mk_block(&a, CHAIN, 1, zero, 100, 4, 30);
	mk_block(&b, CHAIN, 2, a.hash, 90, 3, 30);
	struct txg_seal_tx out_a[4], out_b[3];
	struct txg_seal_block sb[2] = {
		{.timestamp_ms = 100, .n = 4, .txs = a.txs, .out = out_a},
		{.timestamp_ms = 90, .n = 3, .txs = b.txs, .out = out_b}, /* raised to 100 */
	};
	CU_ASSERT_EQUAL_FATAL(txg_store_seal_commit(s, sb, 2, err, sizeof err), 0);
	CU_ASSERT_EQUAL(sb[0].height, 1);
	CU_ASSERT_EQUAL(sb[1].height, 2);
	CU_ASSERT(memcmp(sb[0].hdr, a.b.hdr, 96) == 0); /* same header as built by hand */
	CU_ASSERT(memcmp(sb[0].hash, a.hash, 32) == 0);
	struct txg_block_hdr h;
	CU_ASSERT_EQUAL(txg_hdr_decode(sb[1].hdr, &h), 0);
	CU_ASSERT_EQUAL(h.timestamp_ms, 100);
	CU_ASSERT(memcmp(h.prev_hash, a.hash, 32) == 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT(!out_b[i].known && out_b[i].height == 2 && out_b[i].index == (uint32_t)i);

	/* A group holding two known records and two new ones. */
	static struct tblock c;
	mk_block(&c, CHAIN, 3, sb[1].hash, 200, 2, 30);
	struct txg_store_tx mix[4] = {c.txs[0], a.txs[2], c.txs[1], b.txs[0]};
	struct txg_seal_tx out_c[4];
	struct txg_seal_block sc = {.timestamp_ms = 200, .n = 4, .txs = mix, .out = out_c};
	CU_ASSERT_EQUAL_FATAL(txg_store_seal_commit(s, &sc, 1, err, sizeof err), 0);
	CU_ASSERT_EQUAL(sc.height, 3);
	CU_ASSERT_EQUAL(sc.kept, 2);
	CU_ASSERT(!out_c[0].known && out_c[0].height == 3 && out_c[0].index == 0);
	CU_ASSERT(out_c[1].known && out_c[1].height == 1 && out_c[1].index == 2);
	CU_ASSERT(!out_c[2].known && out_c[2].height == 3 && out_c[2].index == 1);
	CU_ASSERT(out_c[3].known && out_c[3].height == 2 && out_c[3].index == 0);
	CU_ASSERT(memcmp(sc.hdr, c.b.hdr, 96) == 0); /* the two new ones alone */

	/* Every record known: nothing written, the head stays. */
	struct txg_seal_tx out_d[2];
	struct txg_seal_block sd = {.timestamp_ms = 300, .n = 2, .txs = a.txs, .out = out_d};
	CU_ASSERT_EQUAL(txg_store_seal_commit(s, &sd, 1, err, sizeof err), 0);
	CU_ASSERT_EQUAL(sd.height, 0);
	CU_ASSERT(out_d[0].known && out_d[1].known);
	struct txg_store_head hd;
	CU_ASSERT_EQUAL(txg_store_head(s, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 3);
	CU_ASSERT(memcmp(hd.hash, sc.hash, 32) == 0);
	check_block(s, &a);
	txg_store_close(s);
}

static void test_writer_lock(void)
{
	char p[128], err[512], want[256];
	mode_t old_mask = umask(022);
	newdir(p, sizeof p);

	/* two handles in one process */
	struct txg_store *s1 = try_w(p, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
	struct txg_store *s2 = try_w(p, err, sizeof err);
	CU_ASSERT_PTR_NULL(s2);
	txg_store_close(s2);
	snprintf(want, sizeof want, "ledger at %s: in use by pid %ld (this process", p, (long)getpid());
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT(strstr(err, "; only one writer at a time") != NULL);
	struct txg_store *r = open_r(p, CHAIN, err, sizeof err); /* readers take no lock */
	CU_ASSERT_PTR_NOT_NULL(r);
	txg_store_close(r);
	/* the lock file: DIR/txgate.lock, 0644, naming its holder */
	char lf[160];
	snprintf(lf, sizeof lf, "%s/txgate.lock", p);
	struct stat st;
	CU_ASSERT_EQUAL(stat(lf, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	char content[512] = "";
	FILE *f = fopen(lf, "r");
	CU_ASSERT_PTR_NOT_NULL(f);
	if (f) {
		size_t got = fread(content, 1, sizeof content - 1, f);
		content[got] = 0;
		fclose(f);
	}
	snprintf(want, sizeof want, "pid=%ld\n", (long)getpid());
	CU_ASSERT(strncmp(content, want, strlen(want)) == 0);
	CU_ASSERT(strstr(content, "\nsince=") != NULL);
	CU_ASSERT(strstr(content, "\ncmd=") != NULL && strstr(content, "test_store") != NULL);

	txg_store_close(s1);
	CU_ASSERT(stat(lf, &st) == 0 && st.st_size == 0); /* a clean close clears the name */
	s1 = try_w(p, err, sizeof err); /* free again after close */
	CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
	txg_store_close(s1);

	/* another process holds it */
	int wr = -1;
	pid_t pid = spawn_writer(p, &wr);
	CU_ASSERT_FATAL(pid > 0);
	s2 = try_w(p, err, sizeof err);
	CU_ASSERT_PTR_NULL(s2);
	txg_store_close(s2);
	snprintf(want, sizeof want, "ledger at %s: in use by pid %ld (", p, (long)pid);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT(strstr(err, "test_store") != NULL); /* its command line */
	CU_ASSERT(strstr(err, ", since ") != NULL);
	CU_ASSERT(strstr(err, "; only one writer at a time") != NULL);
	r = open_r(p, CHAIN, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL(r);
	txg_store_close(r);
	CU_ASSERT(write(wr, "q", 1) == 1);
	int status = -1;
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(wr);
	s1 = try_w(p, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL(s1);
	txg_store_close(s1);

	/* a writer killed with SIGKILL leaves no stale lock behind */
	pid = spawn_writer(p, &wr);
	CU_ASSERT_FATAL(pid > 0);
	s2 = try_w(p, err, sizeof err);
	CU_ASSERT_PTR_NULL(s2);
	txg_store_close(s2);
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	close(wr);
	s1 = try_w(p, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL(s1);
	txg_store_close(s1);
	umask(old_mask);
}

/* A new ledger's directory entries are fsynced: every directory made and
 * the ledger directory after data.mdb is created; a failed fsync fails. */
static void test_dir_fsync(void)
{
	char p[128], q[400], a[160], root[128], err[512];
	newdir(p, sizeof p);
	snprintf(root, sizeof root, "%s", p);
	*strrchr(root, '/') = '\0';
	snprintf(a, sizeof a, "%s/a", p);
	snprintf(q, sizeof q, "%s/a/b", p);
	n_synced_dirs = 0;
	struct txg_store *s = try_w(q, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(dir_synced(root)); /* holds p's entry */
	CU_ASSERT(dir_synced(p));    /* holds a */
	CU_ASSERT(dir_synced(a));    /* holds b */
	CU_ASSERT(dir_synced(q));    /* holds data.mdb */

	/* a backup's directory is fsynced once the copy is written */
	char bk[160];
	newdir(bk, sizeof bk);
	n_synced_dirs = 0;
	CU_ASSERT_EQUAL(txg_store_backup(s, bk, err, sizeof err), 0);
	CU_ASSERT(dir_synced(bk));
	CU_ASSERT(dir_synced(root));
	txg_store_close(s);

	/* an fsync that fails stops the open, naming the directory */
	newdir(p, sizeof p);
	inj_dir_errno = EIO;
	s = try_w(p, err, sizeof err);
	inj_dir_errno = 0;
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT(strstr(err, "cannot fsync directory") != NULL);
	CU_ASSERT(strstr(err, root) != NULL);
	CU_ASSERT(strstr(err, "Input/output error") != NULL);
	/* also when only data.mdb is new (the directory was made above) */
	CU_ASSERT_EQUAL_FATAL(access(p, F_OK), 0);
	inj_dir_errno = EIO;
	s = try_w(p, err, sizeof err);
	inj_dir_errno = 0;
	CU_ASSERT_PTR_NULL(s);
	snprintf(q, sizeof q, "ledger at %s: cannot fsync directory %s: Input/output error", p, p);
	CU_ASSERT(strncmp(err, q, strlen(q)) == 0);
	s = try_w(p, err, sizeof err); /* and works once the disk does */
	CU_ASSERT_PTR_NOT_NULL(s);
	txg_store_close(s);
}

static void test_space(void)
{
	char p[128], msg[512], want[256];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static struct tblock tb;
	uint64_t height = 0;
	uint8_t prev[32] = {0};
	CU_ASSERT_EQUAL(commit_many(s, &tb, &height, prev, 3), 0);
	struct txg_store_space sp;
	struct txg_store_stats st;
	CU_ASSERT_EQUAL_FATAL(txg_store_space(s, &sp), 0);
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT(sp.free_bytes > 0);
	CU_ASSERT_EQUAL(sp.map_bytes, st.map_size);
	CU_ASSERT_EQUAL(sp.map_bytes, 1ull << 30);
	CU_ASSERT_EQUAL(sp.used_bytes, st.used_bytes);
	CU_ASSERT(sp.file_bytes >= sp.used_bytes / 2 && sp.file_bytes < sp.map_bytes); /* not preallocated */
	CU_ASSERT_EQUAL(sp.grow_bytes, sp.map_bytes - sp.file_bytes);

	CU_ASSERT_EQUAL(txg_store_space_check(s, 0, msg, sizeof msg), 0);
	snprintf(want, sizeof want, "ledger at %s: ", p);
	CU_ASSERT(strncmp(msg, want, strlen(want)) == 0 && strstr(msg, " free on its filesystem") != NULL);
	/* a threshold above what any disk has forces the refusal message */
	CU_ASSERT_EQUAL(txg_store_space_check(s, UINT64_MAX, msg, sizeof msg), 1);
	snprintf(want, sizeof want, "ledger at %s: only ", p);
	CU_ASSERT(strncmp(msg, want, strlen(want)) == 0);
	CU_ASSERT(strstr(msg, " MiB free on its filesystem, need at least 17592186044416 MiB: "
			      "free space or move the ledger (data.mdb can grow by ") != NULL);
	CU_ASSERT_EQUAL(txg_store_space_check(s, sp.free_bytes + (64ull << 20), msg, sizeof msg), 1);
	txg_store_close(s);
	char err[256];
	s = open_r(p, CHAIN, err, sizeof err); /* readers can ask too */
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(txg_store_space(s, &sp), 0);
	CU_ASSERT_EQUAL(sp.used_bytes, st.used_bytes);
	txg_store_close(s);
}

/* I/O errors of a commit or sync: EIO with plenty free keeps LMDB's message
 * (and says how much is free), ENOSPC says the disk is full; nothing is
 * written and the next commit works. */
static void test_io_errors(void)
{
	char p[128], err[1024], want[512];
	newdir(p, sizeof p);
	struct txg_store *s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static struct tblock b1, b2;
	static const uint8_t zero[32];
	mk_block(&b1, CHAIN, 1, zero, 10, 3, 50);
	mk_block(&b2, CHAIN, 2, b1.hash, 20, 3, 50);
	CU_ASSERT_EQUAL_FATAL(commit1(s, &b1), 0);
	struct txg_store_space sp;
	CU_ASSERT_EQUAL_FATAL(txg_store_space(s, &sp), 0);

	inj_file_errno = EIO;
	int rc = txg_store_commit(s, &b2.b, 1, err, sizeof err);
	inj_file_errno = 0;
	CU_ASSERT_EQUAL(rc, -1);
	snprintf(want, sizeof want, "ledger at %s: commit failed: Input/output error", p);
	if (sp.free_bytes >= (1ull << 30)) { /* else this disk really is nearly full */
		CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
		CU_ASSERT(strstr(err, "(the ledger's filesystem has ") != NULL && strstr(err, " bytes free)") != NULL);
		CU_ASSERT(strstr(err, "no space left") == NULL);
	}
	inj_file_errno = ENOSPC;
	rc = txg_store_commit(s, &b2.b, 1, err, sizeof err);
	inj_file_errno = 0;
	CU_ASSERT_EQUAL(rc, -1);
	snprintf(want, sizeof want, "ledger at %s: commit failed: no space left on the ledger's filesystem (%s: ", p, p);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT(strstr(err, " bytes free): No space left on device") != NULL);

	/* the lead's seal path reports the same way */
	struct txg_seal_tx out[3];
	struct txg_seal_block sb = {.timestamp_ms = 20, .n = 3, .txs = b2.txs, .out = out};
	inj_file_errno = ENOSPC;
	rc = txg_store_seal_commit(s, &sb, 1, err, sizeof err);
	inj_file_errno = 0;
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);

	struct txg_store_head hd; /* nothing written */
	CU_ASSERT_EQUAL(txg_store_head(s, &hd), 0);
	CU_ASSERT_EQUAL(hd.height, 1);
	uint64_t h;
	uint32_t ix;
	CU_ASSERT_EQUAL(txg_store_find_tx(s, b2.ids[0], &h, &ix), 1);
	CU_ASSERT_EQUAL(commit1(s, &b2), 0);
	check_block(s, &b2);
	txg_store_close(s);

	/* nosync: a failed flush says why; a clean close flushes */
	newdir(p, sizeof p);
	struct txg_store_opts o = {.path = p, .chain_id = CHAIN, .nosync = 1};
	CU_ASSERT_EQUAL_FATAL(txg_store_open(&s, &o, err, sizeof err), 0);
	CU_ASSERT_EQUAL(commit1(s, &b1), 0);
	inj_file_errno = ENOSPC;
	rc = txg_store_sync_err(s, err, sizeof err);
	CU_ASSERT_EQUAL(txg_store_sync(s), -1);
	inj_file_errno = 0;
	CU_ASSERT_EQUAL(rc, -1);
	snprintf(want, sizeof want, "ledger at %s: sync failed: no space left on the ledger's filesystem (%s: ", p, p);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT_EQUAL(txg_store_sync_err(s, err, sizeof err), 0);
	CU_ASSERT_EQUAL(commit1(s, &b2), 0);
	unsigned before = __atomic_load_n(&file_syncs, __ATOMIC_RELAXED);
	txg_store_close(s);
	CU_ASSERT(__atomic_load_n(&file_syncs, __ATOMIC_RELAXED) > before);
}

static char full_mnt[128]; /* unmounted by main if a test stopped early */

/* A real full disk: a 2 MiB tmpfs (root only; skipped otherwise). */
static void test_full_disk(void)
{
	char m[128], p[160], err[1024], want[512];
	newdir(m, sizeof m);
	CU_ASSERT_EQUAL_FATAL(mkdir(m, 0755), 0);
	if (mount("tmpfs", m, "tmpfs", 0, "size=2m") != 0) {
		fprintf(stderr, "\n  full_disk skipped: cannot mount a tmpfs at %s: %s (needs root)\n", m,
			strerror(errno));
		return;
	}
	snprintf(full_mnt, sizeof full_mnt, "%s", m);
	snprintf(p, sizeof p, "%s/led", m);
	struct txg_store *s = open_w(p, CHAIN, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	static struct tblock tb, last;
	uint8_t prev[32] = {0};
	uint64_t height = 0;
	int rc = 0;
	for (int i = 0; i < 4000 && rc == 0; i++) {
		mk_block(&tb, CHAIN, height + 1, prev, 1000 + height, MAXN, 250);
		rc = txg_store_commit(s, &tb.b, 1, err, sizeof err);
		if (rc == 0) {
			height++;
			memcpy(prev, tb.hash, 32);
			last = tb;
			last.b.txs = last.txs;
			for (uint32_t j = 0; j < last.b.n; j++) {
				last.txs[j].rec = last.recs[j];
				last.txs[j].tx_id = last.ids[j];
			}
		}
	}
	CU_ASSERT_EQUAL_FATAL(rc, -1);
	CU_ASSERT(height > 10);
	snprintf(want, sizeof want, "ledger at %s: commit failed: no space left on the ledger's filesystem (%s: ", p, p);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	if (strncmp(err, want, strlen(want)) != 0)
		fprintf(stderr, "\n  got: %s\n", err);
	CU_ASSERT(strstr(err, " bytes free): ") != NULL);
	struct txg_seal_tx out[MAXN];
	struct txg_seal_block sb = {.timestamp_ms = 5000, .n = tb.b.n, .txs = tb.txs, .out = out};
	CU_ASSERT_EQUAL(txg_store_seal_commit(s, &sb, 1, err, sizeof err), -1);
	CU_ASSERT(strstr(err, "no space left on the ledger's filesystem") != NULL);
	struct txg_store_space sp;
	char msg[512];
	CU_ASSERT_EQUAL(txg_store_space(s, &sp), 0);
	CU_ASSERT(sp.free_bytes < (256u << 10));
	CU_ASSERT_EQUAL(txg_store_space_check(s, 1u << 20, msg, sizeof msg), 1);
	snprintf(want, sizeof want, "ledger at %s: only ", p);
	CU_ASSERT(strncmp(msg, want, strlen(want)) == 0 && strstr(msg, "need at least 1 MiB") != NULL);

	/* nothing of the failed commits was written; the ledger opens and reads */
	struct txg_store_stats st;
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT_EQUAL(st.head.height, height);
	CU_ASSERT_EQUAL(st.headers, height);
	CU_ASSERT_EQUAL(st.txs, height * MAXN);
	CU_ASSERT_EQUAL(st.txidx, height * MAXN);
	txg_store_close(s);
	s = open_r(p, CHAIN, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(txg_store_stats(s, &st), 0);
	CU_ASSERT_EQUAL(st.head.height, height);
	CU_ASSERT(memcmp(st.head.hash, prev, 32) == 0);
	check_block(s, &last);
	txg_store_close(s);
	s = open_w(p, CHAIN, 0, 0); /* a writer can restart on the full disk */
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	/* with room again (but under 64 MiB), an EIO is still reported as the
	 * disk being nearly full; then the refused block goes in */
	CU_ASSERT_EQUAL(mount("tmpfs", m, NULL, MS_REMOUNT, "size=16m"), 0);
	inj_file_errno = EIO;
	rc = txg_store_commit(s, &tb.b, 1, err, sizeof err);
	inj_file_errno = 0;
	CU_ASSERT_EQUAL(rc, -1);
	snprintf(want, sizeof want, "ledger at %s: commit failed: no space left on the ledger's filesystem (%s: ", p, p);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0 && strstr(err, "bytes free): Input/output error") != NULL);
	CU_ASSERT_EQUAL(commit1(s, &tb), 0);
	check_block(s, &tb);
	txg_store_close(s);
	CU_ASSERT_EQUAL(umount2(m, MNT_DETACH), 0);
	full_mnt[0] = 0;
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
	CU_add_test(su, "seal_commit", test_seal_commit);
	CU_add_test(su, "writer_lock", test_writer_lock);
	CU_add_test(su, "dir_fsync", test_dir_fsync);
	CU_add_test(su, "space", test_space);
	CU_add_test(su, "io_errors", test_io_errors);
	CU_add_test(su, "full_disk", test_full_disk);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	if (full_mnt[0])
		umount2(full_mnt, MNT_DETACH);
	tu_cleanup();
	return fails ? 1 : 0;
}
