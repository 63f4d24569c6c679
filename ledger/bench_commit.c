/* Commit-stage benchmark (issue 12): durable tx/s of txg_store_seal_commit
 * with blocks of 1024 synthetic records of 170 bytes, against raw LMDB
 * appends of the same bytes with the same sync mode, and the same rate with
 * N transactions already in the ledger against an empty one.
 *
 *   bench_commit [--dir DIR] [--nosync] [--measure M] [--rounds R] [--keep] [N]
 *
 * N: transactions already in the ledger for commit_at_scale (default 10M);
 * M: transactions committed in each measured window (default 2M: the
 * period of the index's first-level merges, so that each window carries its
 * share of the background work); R rounds (default 3) of one window each on
 * raw LMDB, an empty ledger and the ledger of N, interleaved so that a noisy
 * moment of a shared machine hits all three. The rates reported are over all
 * the windows of each (total transactions / total time in the timed
 * calls); the best single windows are printed as a comment. DIR
 * (default a new /tmp/bench-commit.XXXXXX) is removed at the end unless
 * --keep. Prints `NAME value ceiling ratio` lines and `#` comments. The
 * records are well formed but not signed (the commit stage does not verify
 * signatures). Only time spent inside the timed calls counts. */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "block.h"
#include "record.h"
#include "store.h"

#define BLOCK_TXS 1024u
#define PLEN 48u /* body 56 + 48 = 104, record 2 + 104 + 64 = 170 bytes */
#define REC_LEN (2u + TXG_BODY_MIN + PLEN + TXG_SIG_LEN)

static uint8_t recs[BLOCK_TXS][REC_LEN];
static uint8_t ids[BLOCK_TXS][32];
static struct txg_store_tx stx[BLOCK_TXS];
static struct txg_seal_tx sout[BLOCK_TXS];
static uint8_t sender[32];
static uint64_t nonce_ctr;
static uint32_t chain = 7;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fill one block's worth of fresh records (unique nonces). */
static void gen_block(void)
{
	uint8_t payload[PLEN];
	for (uint32_t i = 0; i < BLOCK_TXS; i++) {
		struct txg_body_fields f = {.version = 1, .kind = 1, .chain_id = chain};
		memcpy(f.sender, sender, 32);
		f.nonce = ++nonce_ctr;
		f.expires_ms = 1800000000000ull + f.nonce;
		for (unsigned k = 0; k < PLEN; k += 8)
			txg_st64(payload + k, f.nonce * 0x9e3779b97f4a7c15ull + k);
		txg_st16(recs[i], (uint16_t)(TXG_BODY_MIN + PLEN));
		size_t bl = txg_body_encode(recs[i] + 2, &f, payload, PLEN);
		memset(recs[i] + 2 + bl, 0xa5, TXG_SIG_LEN);
		txg_tx_id(recs[i] + 2, bl, ids[i]);
		stx[i] = (struct txg_store_tx){recs[i], REC_LEN, ids[i]};
	}
}

static struct txg_store *open_store(const char *dir, int nosync)
{
	struct txg_store_opts o = {.path = dir, .chain_id = chain, .nosync = nosync, .map_size = 1ull << 32};
	struct txg_store *s;
	char err[512];
	if (txg_store_open(&s, &o, err, sizeof err) != 0) {
		fprintf(stderr, "bench_commit: %s\n", err);
		exit(1);
	}
	return s;
}

static uint64_t ts_ms = 1700000000000ull;

/* Commit n transactions in blocks of BLOCK_TXS through the store; returns
 * the seconds spent inside txg_store_seal_commit. */
static double commit_txs(struct txg_store *s, uint64_t n)
{
	double in = 0;
	char err[512];
	for (uint64_t done = 0; done < n; done += BLOCK_TXS) {
		gen_block();
		struct txg_seal_block b = {.timestamp_ms = ++ts_ms, .n = BLOCK_TXS, .txs = stx, .out = sout};
		double t0 = now_s();
		if (txg_store_seal_commit(s, &b, 1, err, sizeof err) != 0) {
			fprintf(stderr, "bench_commit: %s\n", err);
			exit(1);
		}
		in += now_s() - t0;
		if (b.kept != BLOCK_TXS) {
			fprintf(stderr, "bench_commit: %" PRIu32 " records kept of %u\n", b.kept, BLOCK_TXS);
			exit(1);
		}
	}
	return in;
}

/* Raw LMDB: the same bytes (records by height|index, a header by height,
 * the head in meta) appended with MDB_APPEND, one write txn per block. */
struct raw {
	MDB_env *env;
	MDB_dbi txs, hdrs, meta;
	uint64_t height;
};

static void raw_open(struct raw *r, const char *dir, int nosync)
{
	MDB_txn *t;
	mkdir(dir, 0755);
	int rc = mdb_env_create(&r->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(r->env, 8);
	if (rc == 0)
		rc = mdb_env_set_mapsize(r->env, (size_t)1 << 36);
	if (rc == 0)
		rc = mdb_env_open(r->env, dir, MDB_NOTLS | (nosync ? MDB_NOSYNC : 0), 0644);
	if (rc == 0)
		rc = mdb_txn_begin(r->env, NULL, 0, &t);
	if (rc == 0)
		rc = mdb_dbi_open(t, "txs", MDB_CREATE, &r->txs);
	if (rc == 0)
		rc = mdb_dbi_open(t, "headers", MDB_CREATE, &r->hdrs);
	if (rc == 0)
		rc = mdb_dbi_open(t, "meta", MDB_CREATE, &r->meta);
	if (rc == 0)
		rc = mdb_txn_commit(t);
	if (rc != 0) {
		fprintf(stderr, "bench_commit: raw LMDB at %s: %s\n", dir, mdb_strerror(rc));
		exit(1);
	}
	r->height = 0;
}

/* Append n transactions; returns the seconds spent in the write txns. */
static double raw_appends(struct raw *r, uint64_t n)
{
	double in = 0;
	uint8_t hdr[TXG_HDR_LEN], head[48];
	memset(hdr, 0x11, sizeof hdr);
	memset(head, 0x22, sizeof head);
	for (uint64_t done = 0; done < n; done += BLOCK_TXS) {
		gen_block();
		uint64_t height = ++r->height;
		MDB_txn *t;
		double t0 = now_s();
		int rc = mdb_txn_begin(r->env, NULL, 0, &t);
		for (uint32_t i = 0; rc == 0 && i < BLOCK_TXS; i++) {
			uint8_t k[TXG_STORE_TKEY_LEN];
			txg_store_tx_key(k, height, i);
			MDB_val key = {sizeof k, k}, val = {REC_LEN, recs[i]};
			rc = mdb_put(t, r->txs, &key, &val, MDB_APPEND);
		}
		uint8_t hk[TXG_STORE_HKEY_LEN];
		txg_store_height_key(hk, height);
		MDB_val key = {sizeof hk, hk}, val = {sizeof hdr, hdr};
		if (rc == 0)
			rc = mdb_put(t, r->hdrs, &key, &val, MDB_APPEND);
		MDB_val mk = {4, "head"}, mv = {sizeof head, head};
		if (rc == 0)
			rc = mdb_put(t, r->meta, &mk, &mv, 0);
		if (rc == 0)
			rc = mdb_txn_commit(t);
		else
			mdb_txn_abort(t);
		in += now_s() - t0;
		if (rc != 0) {
			fprintf(stderr, "bench_commit: raw LMDB: %s\n", mdb_strerror(rc));
			exit(1);
		}
	}
	return in;
}

#if TXG_STORE_FORMAT >= 2
static void index_line(struct txg_store *s, const char *what)
{
	struct txg_store_index_info ii;
	if (txg_store_index_info(s, &ii) != 0)
		return;
	printf("# %s: head %" PRIu64 " indexed %" PRIu64 ", index lag %" PRIu64 " txs (largest %" PRIu64 ", bound %" PRIu64
	       "), %" PRIu64 " runs (%" PRIu64 " written, %" PRIu64 " merges), %" PRIu64
	       " entries; commits waited %.3f s for the indexer; indexer write txns: new runs %.2f s, merges %.2f s, "
	       "deletions %.2f s; %" PRIu64 " run lookups by the duplicate guard\n",
	       what, ii.head, ii.indexed, ii.lag_txs, ii.max_lag_txs, ii.lag_bound, ii.runs, ii.runs_written, ii.merges,
	       ii.entries, (double)ii.backpressure_us / 1e6, (double)ii.write_us[0] / 1e6, (double)ii.write_us[1] / 1e6,
	       (double)ii.write_us[2] / 1e6, ii.guard_gets);
}
static uint64_t index_lag(struct txg_store *s)
{
	struct txg_store_index_info ii;
	return txg_store_index_info(s, &ii) == 0 ? ii.lag_txs : 0;
}
/* Wait until the index holds every committed block (and the run filters
 * are built); returns the seconds it took. */
static double index_catch_up(struct txg_store *s)
{
	double t0 = now_s();
	char err[512];
	if (txg_store_index_flush(s, err, sizeof err) != 0) {
		fprintf(stderr, "bench_commit: %s\n", err);
		exit(1);
	}
	for (int k = 0; k < 6000; k++) {
		struct txg_store_index_info ii;
		if (txg_store_index_info(s, &ii) != 0 || ii.filters_ready == ii.runs)
			break;
		usleep(10000);
	}
	return now_s() - t0;
}
static void index_pause(struct txg_store *s, int on) { txg_store_index_pause(s, on); }
#else
static void index_line(struct txg_store *s, const char *what)
{
	(void)s;
	printf("# %s: no indexer (format %u: txidx written by each commit)\n", what, TXG_STORE_FORMAT);
}
static uint64_t index_lag(struct txg_store *s)
{
	(void)s;
	return 0;
}
static double index_catch_up(struct txg_store *s)
{
	(void)s;
	return 0;
}
static void index_pause(struct txg_store *s, int on)
{
	(void)s;
	(void)on;
}
#endif

static void rm_rf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_commit: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	uint64_t n = 10000000, m = 2000000;
	int nosync = 0, keep = 0, rounds = 3;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--measure") && i + 1 < argc)
			m = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--nosync"))
			nosync = 1;
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else if (argv[i][0] >= '0' && argv[i][0] <= '9')
			n = strtoull(argv[i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_commit [--dir DIR] [--nosync] [--measure M] [--rounds R] [--keep] [N]\n");
			return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	if (rounds < 1)
		rounds = 1;
	m = (m + BLOCK_TXS - 1) / BLOCK_TXS * BLOCK_TXS;
	n = n / BLOCK_TXS * BLOCK_TXS;
	char tmpl[] = "/tmp/bench-commit.XXXXXX";
	if (!dir) {
		dir = mkdtemp(tmpl);
		if (!dir) {
			perror("bench_commit: mkdtemp");
			return 1;
		}
	} else if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror("bench_commit: mkdir");
		return 1;
	}
	randombytes_buf(sender, sizeof sender);
	char raw[4200], empty[4200], scale[4200];
	snprintf(raw, sizeof raw, "%s/raw", dir);
	snprintf(empty, sizeof empty, "%s/empty", dir);
	snprintf(scale, sizeof scale, "%s/scale", dir);
	const char *mode = nosync ? "nosync" : "sync";
	printf("# blocks of %u records of %u bytes, one block per commit, %s; %d rounds of windows of %" PRIu64
	       " transactions on each of: raw LMDB appends, an empty ledger, a ledger of %" PRIu64
	       " transactions\n",
	       BLOCK_TXS, REC_LEN, mode, rounds, m, n);
	fflush(stdout);

	/* The ledger at scale: n transactions written through the store. */
	double t0 = now_s();
	struct txg_store *sc = open_store(scale, 1);
	commit_txs(sc, n);
	double cu = index_catch_up(sc);
	txg_store_close(sc);
	printf("# prefilled %" PRIu64 " transactions (nosync, through the store) in %.1f s (index caught up in %.1f s)\n", n,
	       now_s() - t0, cu);
	fflush(stdout);

	struct raw rw;
	raw_open(&rw, raw, nosync);
	struct txg_store *em = open_store(empty, nosync);
	t0 = now_s();
	sc = open_store(scale, nosync);
	cu = index_catch_up(sc);
	printf("# reopened the ledger at scale in %.1f s (filters built)\n", now_s() - t0);
	index_pause(sc, 1);
	index_pause(em, 1);
	double t_raw = 0, t_empty = 0, t_scale = 0, best_raw = 0, best_empty = 0, best_scale = 0;
	for (int r = 1; r <= rounds; r++) {
		double tr = raw_appends(&rw, m);
		/* each ledger's indexer runs during its own window only; the
		 * lag it ends with is caught up (untimed) before the next */
		index_pause(em, 0);
		double te = commit_txs(em, m);
		uint64_t lag_e = index_lag(em);
		double ce = index_catch_up(em);
		index_pause(em, 1);
		index_pause(sc, 0);
		double ts = commit_txs(sc, m);
		uint64_t lag_s = index_lag(sc);
		double cs = index_catch_up(sc);
		index_pause(sc, 1);
		printf("# round %d: raw %.0f tx/s; empty ledger %.0f tx/s (index lag at the end %" PRIu64
		       " txs, caught up in %.2f s); at scale %.0f tx/s (lag %" PRIu64 " txs, caught up in %.2f s)\n",
		       r, (double)m / tr, (double)m / te, lag_e, ce, (double)m / ts, lag_s, cs);
		fflush(stdout);
		t_raw += tr;
		t_empty += te;
		t_scale += ts;
		if ((double)m / tr > best_raw)
			best_raw = (double)m / tr;
		if ((double)m / te > best_empty)
			best_empty = (double)m / te;
		if ((double)m / ts > best_scale)
			best_scale = (double)m / ts;
	}
	double total = (double)m * rounds;
	double r_raw = total / t_raw, r_empty = total / t_empty, r_scale = total / t_scale;
	index_line(em, "empty ledger");
	index_line(sc, "ledger at scale");
	mdb_env_close(rw.env);
	index_pause(em, 0);
	index_pause(sc, 0);
	txg_store_close(em);
	txg_store_close(sc);
	if (!keep) {
		rm_rf(raw);
		rm_rf(empty);
		rm_rf(scale);
		rm_rf(dir);
	}
	printf("# best windows: raw LMDB appends %.0f tx/s; commit stage %.0f tx/s on an empty ledger, %.0f tx/s with %" PRIu64
	       " transactions in the ledger\n",
	       best_raw, best_empty, best_scale, n);
	printf("# all windows: raw LMDB appends %.0f tx/s; commit stage %.0f tx/s on an empty ledger, %.0f tx/s with %" PRIu64
	       " transactions in the ledger\n",
	       r_raw, r_empty, r_scale, n);
	printf("commit %.0f %.0f %.3f\n", r_empty, r_raw, r_empty / r_raw);
	printf("commit_at_scale %.0f %.0f %.3f\n", r_scale, r_empty, r_scale / r_empty);
	return 0;
}
