/* The ledger store on LMDB; layout in docs/ledger.md. */
#include "store.h"
#include "errbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "block.h"
#include "hex.h"
#include "record.h"

#define DEFAULT_MAP_SIZE (1ull << 30)
#define MIN_MAP_SIZE (64ull << 10)
#define MAX_GROW_STEPS 40
#define STALE_CHECK_EVERY 1024u /* commits between stale-reader checks */

/* meta keys */
#define K_FORMAT "format"
#define K_CHAIN "chain_id"
#define K_TTL "max_ttl_ms"
#define K_HEAD "head"
#define HEAD_VAL_LEN 48u /* height LE8 | hash 32 | timestamp_ms LE8 */
#define TXIDX_VAL_LEN 12u /* height LE8 | index LE4 */

struct txg_store {
	MDB_env *env;
	MDB_dbi meta, headers, txs, txidx;
	uint32_t chain_id;
	uint64_t max_ttl;
	int readonly;
	unsigned commits; /* since the last stale-reader check */
	/* Held shared around every transaction of this handle; held exclusive
	 * to remap (mdb_env_set_mapsize), which needs no txn active in the
	 * process. */
	pthread_rwlock_t lk;
	char path[];
};

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}
void txg_store_height_key(uint8_t key[TXG_STORE_HKEY_LEN], uint64_t height) { be64(key, height); }

void txg_store_tx_key(uint8_t key[TXG_STORE_TKEY_LEN], uint64_t height, uint32_t index)
{
	be64(key, height);
	be32(key + 8, index);
}

static uint32_t ldbe32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		buf[i] = c;
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* Begin a read txn under the shared lock; picks up a map grown by another
 * process. 0 or an LMDB/errno code (lock not held then). */
static int rbegin(struct txg_store *s, MDB_txn **t)
{
	pthread_rwlock_rdlock(&s->lk);
	for (int tries = 0;; tries++) {
		int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, t);
		/* Only another process can grow the map under a reader. */
		if (rc == MDB_MAP_RESIZED && s->readonly && tries < 8) {
			pthread_rwlock_unlock(&s->lk);
			pthread_rwlock_wrlock(&s->lk);
			rc = mdb_env_set_mapsize(s->env, 0);
			pthread_rwlock_unlock(&s->lk);
			pthread_rwlock_rdlock(&s->lk);
			if (rc == 0)
				continue;
		}
		if (rc != 0)
			pthread_rwlock_unlock(&s->lk);
		return rc;
	}
}

static void rend(struct txg_store *s, MDB_txn *t)
{
	mdb_txn_abort(t);
	pthread_rwlock_unlock(&s->lk);
}

static int get_u64(MDB_txn *t, MDB_dbi d, const char *k, uint64_t *v, int *found)
{
	MDB_val key = {strlen(k), (void *)k}, val;
	int rc = mdb_get(t, d, &key, &val);
	if (rc == MDB_NOTFOUND) {
		*found = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (val.mv_size != 8)
		return MDB_CORRUPTED;
	*v = txg_ld64(val.mv_data);
	*found = 1;
	return 0;
}

static int put_u64(MDB_txn *t, MDB_dbi d, const char *k, uint64_t v)
{
	uint8_t b[8];
	txg_st64(b, v);
	MDB_val key = {strlen(k), (void *)k}, val = {8, b};
	return mdb_put(t, d, &key, &val, 0);
}

static int read_head(MDB_txn *t, MDB_dbi meta, struct txg_store_head *h)
{
	MDB_val key = {strlen(K_HEAD), (void *)K_HEAD}, val;
	int rc = mdb_get(t, meta, &key, &val);
	if (rc != 0)
		return rc;
	if (val.mv_size != HEAD_VAL_LEN)
		return MDB_CORRUPTED;
	const uint8_t *p = val.mv_data;
	h->height = txg_ld64(p);
	memcpy(h->hash, p + 8, 32);
	h->timestamp_ms = txg_ld64(p + 40);
	return 0;
}

static int write_head(MDB_txn *t, MDB_dbi meta, const struct txg_store_head *h)
{
	uint8_t b[HEAD_VAL_LEN];
	txg_st64(b, h->height);
	memcpy(b + 8, h->hash, 32);
	txg_st64(b + 40, h->timestamp_ms);
	MDB_val key = {strlen(K_HEAD), (void *)K_HEAD}, val = {sizeof b, b};
	return mdb_put(t, meta, &key, &val, 0);
}

/* Open the four databases and check or stamp meta, in one txn. */
static int init_meta(struct txg_store *s, const struct txg_store_opts *o, char *err, size_t errlen)
{
	MDB_txn *t;
	int rc;
	if (s->readonly)
		rc = rbegin(s, &t);
	else
		rc = mdb_txn_begin(s->env, NULL, 0, &t);
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot begin transaction: %s", s->path, mdb_strerror(rc));
		return -1;
	}
	unsigned fl = s->readonly ? 0 : MDB_CREATE;
	static const char *names[4] = {"meta", "headers", "txs", "txidx"};
	MDB_dbi *dbis[4] = {&s->meta, &s->headers, &s->txs, &s->txidx};
	for (int i = 0; i < 4; i++) {
		rc = mdb_dbi_open(t, names[i], fl, dbis[i]);
		if (rc == MDB_NOTFOUND) {
			txg_errf(err, errlen, "ledger at %s: not a txgate ledger (no '%s' database)", s->path, names[i]);
			goto fail;
		}
		if (rc != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot open database '%s': %s", s->path, names[i],
			       mdb_strerror(rc));
			goto fail;
		}
	}
	uint64_t fmt = 0, chain = 0, ttl = 0;
	int has_fmt, has_chain, has_ttl;
	if ((rc = get_u64(t, s->meta, K_FORMAT, &fmt, &has_fmt)) != 0 ||
	    (rc = get_u64(t, s->meta, K_CHAIN, &chain, &has_chain)) != 0 ||
	    (rc = get_u64(t, s->meta, K_TTL, &ttl, &has_ttl)) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot read meta: %s", s->path, mdb_strerror(rc));
		goto fail;
	}
	if (!has_fmt) {
		if (s->readonly) {
			txg_errf(err, errlen, "ledger at %s: not a txgate ledger (meta has no format)", s->path);
			goto fail;
		}
		struct txg_store_head h0;
		memset(&h0, 0, sizeof h0);
		fmt = TXG_STORE_FORMAT;
		chain = o->chain_id;
		ttl = o->max_ttl_ms;
		if ((rc = put_u64(t, s->meta, K_FORMAT, fmt)) != 0 || (rc = put_u64(t, s->meta, K_CHAIN, chain)) != 0 ||
		    (rc = put_u64(t, s->meta, K_TTL, ttl)) != 0 || (rc = write_head(t, s->meta, &h0)) != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot initialise meta: %s", s->path, mdb_strerror(rc));
			goto fail;
		}
	} else {
		if (fmt != TXG_STORE_FORMAT) {
			txg_errf(err, errlen, "ledger at %s: format version %" PRIu64 ", this program reads %u", s->path,
			       fmt, TXG_STORE_FORMAT);
			goto fail;
		}
		if (!has_chain || chain > UINT32_MAX) {
			txg_errf(err, errlen, "ledger at %s: meta has no valid chain_id", s->path);
			goto fail;
		}
		if ((!s->readonly || o->chain_id != 0) && chain != o->chain_id) {
			txg_errf(err, errlen, "ledger at %s belongs to chain %" PRIu64 ", config says %" PRIu32, s->path,
			       chain, o->chain_id);
			goto fail;
		}
		if (!has_ttl)
			ttl = 0;
		if (!s->readonly && o->max_ttl_ms > ttl) {
			ttl = o->max_ttl_ms;
			if ((rc = put_u64(t, s->meta, K_TTL, ttl)) != 0) {
				txg_errf(err, errlen, "ledger at %s: cannot update max_ttl_ms: %s", s->path,
				       mdb_strerror(rc));
				goto fail;
			}
		}
	}
	s->chain_id = (uint32_t)chain;
	s->max_ttl = ttl;
	/* Commit (even read-only) so that the dbi handles stay open. */
	rc = mdb_txn_commit(t);
	if (s->readonly)
		pthread_rwlock_unlock(&s->lk);
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot commit meta: %s", s->path, mdb_strerror(rc));
		return -1;
	}
	return 0;
fail:
	if (s->readonly)
		rend(s, t);
	else
		mdb_txn_abort(t);
	return -1;
}

int txg_store_open(struct txg_store **out, const struct txg_store_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	if (!o || !o->path || !*o->path) {
		txg_errf(err, errlen, "ledger: no path given");
		return -1;
	}
	const char *path = o->path;
	if (!o->readonly) {
		if (mkdir_p(path) != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot create directory: %s", path, strerror(errno));
			return -1;
		}
	} else {
		struct stat st;
		if (stat(path, &st) != 0) {
			txg_errf(err, errlen, "ledger at %s: %s", path, strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			txg_errf(err, errlen, "ledger at %s: not a directory", path);
			return -1;
		}
	}
	size_t plen = strlen(path);
	struct txg_store *s = calloc(1, sizeof *s + plen + 1);
	if (!s) {
		txg_errf(err, errlen, "ledger at %s: out of memory", path);
		return -1;
	}
	memcpy(s->path, path, plen + 1);
	s->readonly = o->readonly != 0;
	if (pthread_rwlock_init(&s->lk, NULL) != 0) {
		free(s);
		txg_errf(err, errlen, "ledger at %s: cannot create lock", path);
		return -1;
	}
	int rc = mdb_env_create(&s->env);
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: mdb_env_create: %s", path, mdb_strerror(rc));
		goto fail_nolmdb;
	}
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 || (rc = mdb_env_set_mapsize(s->env, 0)) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot configure environment: %s", path, mdb_strerror(rc));
		goto fail;
	}
	uint64_t want = o->map_size ? o->map_size : DEFAULT_MAP_SIZE;
	if (want < MIN_MAP_SIZE)
		want = MIN_MAP_SIZE;
	if (want > SIZE_MAX)
		want = SIZE_MAX;
	if (!s->readonly) {
		/* A new ledger starts at the configured size; an existing one
		 * keeps its own size at open and grows to the configured one. */
		char f[4200];
		struct stat st;
		snprintf(f, sizeof f, "%s/data.mdb", path);
		if (stat(f, &st) != 0 && (rc = mdb_env_set_mapsize(s->env, (size_t)want)) != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot set map size: %s", path, mdb_strerror(rc));
			goto fail;
		}
	}
	unsigned flags = MDB_NOTLS;
	if (s->readonly)
		flags |= MDB_RDONLY;
	if (o->nosync)
		flags |= MDB_NOSYNC;
	/* Readers (and writers of an existing ledger) map the size recorded in the file. */
	rc = mdb_env_open(s->env, path, flags, 0644);
	if (rc != 0) {
		if (s->readonly && rc == ENOENT)
			txg_errf(err, errlen, "ledger at %s: no ledger there (no data.mdb)", path);
		else
			txg_errf(err, errlen, "ledger at %s: cannot open: %s", path, mdb_strerror(rc));
		goto fail;
	}
	if (!s->readonly) {
		MDB_envinfo ei;
		mdb_env_info(s->env, &ei);
		if (ei.me_mapsize < want && (rc = mdb_env_set_mapsize(s->env, (size_t)want)) != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot set map size %" PRIu64 ": %s", path, want,
			       mdb_strerror(rc));
			goto fail;
		}
	}
	if (init_meta(s, o, err, errlen) != 0)
		goto fail;
	if (!s->readonly) {
		int dead;
		mdb_reader_check(s->env, &dead); /* slots of killed readers */
	}
	*out = s;
	return 0;
fail:
	mdb_env_close(s->env);
fail_nolmdb:
	pthread_rwlock_destroy(&s->lk);
	free(s);
	return -1;
}

void txg_store_close(struct txg_store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->lk);
	free(s);
}

uint32_t txg_store_chain_id(const struct txg_store *s) { return s->chain_id; }
uint64_t txg_store_max_ttl(const struct txg_store *s) { return s->max_ttl; }

/* One attempt at a group commit. 0, -1 (err set), or MDB_MAP_FULL. */
static int commit_once(struct txg_store *s, const struct txg_store_block *b, size_t nb, char *err, size_t errlen)
{
	MDB_txn *t;
	int rc = mdb_txn_begin(s->env, NULL, 0, &t);
	if (rc != 0) {
		if (rc == MDB_MAP_FULL)
			return rc;
		txg_errf(err, errlen, "ledger at %s: cannot begin write transaction: %s", s->path, mdb_strerror(rc));
		return -1;
	}
	struct txg_store_head head;
	if ((rc = read_head(t, s->meta, &head)) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot read head: %s", s->path, mdb_strerror(rc));
		goto fail;
	}
	for (size_t i = 0; i < nb; i++) {
		const struct txg_store_block *bk = &b[i];
		struct txg_block_hdr h;
		if (txg_hdr_decode(bk->hdr, &h) != 0) {
			txg_errf(err, errlen, "commit refused: block %zu of %zu: header does not decode", i, nb);
			goto fail;
		}
		if (h.chain_id != s->chain_id) {
			txg_errf(err, errlen, "commit refused: block %zu of %zu: chain id %" PRIu32 ", ledger has %" PRIu32,
			       i, nb, h.chain_id, s->chain_id);
			goto fail;
		}
		if (h.height != head.height + 1) {
			txg_errf(err, errlen, "commit refused: block %zu of %zu: height %" PRIu64 ", expected %" PRIu64, i,
			       nb, h.height, head.height + 1);
			goto fail;
		}
		if (memcmp(h.prev_hash, head.hash, 32) != 0) {
			txg_errf(err, errlen, "commit refused: block %zu of %zu (height %" PRIu64
					    "): prev_hash is not the hash of block %" PRIu64,
			       i, nb, h.height, head.height);
			goto fail;
		}
		if (h.timestamp_ms < head.timestamp_ms) {
			txg_errf(err, errlen, "commit refused: block %zu of %zu (height %" PRIu64 "): timestamp %" PRIu64
					    " before parent's %" PRIu64,
			       i, nb, h.height, h.timestamp_ms, head.timestamp_ms);
			goto fail;
		}
		if (h.tx_count != bk->n || bk->n == 0) {
			txg_errf(err, errlen, "commit refused: block %zu of %zu (height %" PRIu64 "): tx_count %" PRIu32
					    " with %" PRIu32 " records",
			       i, nb, h.height, h.tx_count, bk->n);
			goto fail;
		}
		uint8_t hk[8];
		be64(hk, h.height);
		MDB_val key = {8, hk}, val = {TXG_HDR_LEN, (void *)bk->hdr};
		if ((rc = mdb_put(t, s->headers, &key, &val, MDB_APPEND)) != 0) {
			if (rc == MDB_MAP_FULL)
				goto full;
			txg_errf(err, errlen, "ledger at %s: put header %" PRIu64 ": %s", s->path, h.height,
			       mdb_strerror(rc));
			goto fail;
		}
		for (uint32_t j = 0; j < bk->n; j++) {
			const struct txg_store_tx *tx = &bk->txs[j];
			struct txg_rec_view rv;
			if (!tx->rec || !tx->tx_id || txg_record_view(tx->rec, tx->len, &rv) != 0) {
				txg_errf(err, errlen, "commit refused: block %zu of %zu (height %" PRIu64
						    "): record %" PRIu32 " is not well formed",
				       i, nb, h.height, j);
				goto fail;
			}
			uint8_t tk[12];
			be64(tk, h.height);
			be32(tk + 8, j);
			MDB_val k = {12, tk}, v = {tx->len, (void *)tx->rec};
			if ((rc = mdb_put(t, s->txs, &k, &v, MDB_APPEND)) != 0) {
				if (rc == MDB_MAP_FULL)
					goto full;
				txg_errf(err, errlen, "ledger at %s: put record %" PRIu64 "/%" PRIu32 ": %s", s->path,
				       h.height, j, mdb_strerror(rc));
				goto fail;
			}
			uint8_t loc[TXIDX_VAL_LEN];
			txg_st64(loc, h.height);
			txg_st32(loc + 8, j);
			MDB_val ik = {32, (void *)tx->tx_id}, iv = {sizeof loc, loc};
			rc = mdb_put(t, s->txidx, &ik, &iv, MDB_NOOVERWRITE);
			if (rc == MDB_KEYEXIST) {
				char hex[65];
				txg_hex(tx->tx_id, 32, hex);
				uint64_t oh = 0;
				uint32_t oi = 0;
				if (iv.mv_size == TXIDX_VAL_LEN) {
					oh = txg_ld64(iv.mv_data);
					oi = txg_ld32((const uint8_t *)iv.mv_data + 8);
				}
				txg_errf(err, errlen, "commit refused: block %zu of %zu (height %" PRIu64 "): record %" PRIu32
						    ": tx %s already committed at %" PRIu64 "/%" PRIu32,
				       i, nb, h.height, j, hex, oh, oi);
				goto fail;
			}
			if (rc != 0) {
				if (rc == MDB_MAP_FULL)
					goto full;
				txg_errf(err, errlen, "ledger at %s: put txidx %" PRIu64 "/%" PRIu32 ": %s", s->path,
				       h.height, j, mdb_strerror(rc));
				goto fail;
			}
		}
		head.height = h.height;
		head.timestamp_ms = h.timestamp_ms;
		txg_block_hash(bk->hdr, head.hash);
	}
	if ((rc = write_head(t, s->meta, &head)) != 0) {
		if (rc == MDB_MAP_FULL)
			goto full;
		txg_errf(err, errlen, "ledger at %s: put head: %s", s->path, mdb_strerror(rc));
		goto fail;
	}
	rc = mdb_txn_commit(t); /* frees t whatever happens */
	if (rc == MDB_MAP_FULL)
		return rc;
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: commit failed: %s", s->path, mdb_strerror(rc));
		return -1;
	}
	return 0;
full:
	mdb_txn_abort(t);
	return MDB_MAP_FULL;
fail:
	mdb_txn_abort(t);
	return -1;
}

int txg_store_commit(struct txg_store *s, const struct txg_store_block *b, size_t nb, char *err, size_t errlen)
{
	if (s->readonly) {
		txg_errf(err, errlen, "ledger at %s: opened read-only", s->path);
		return -1;
	}
	if (nb == 0)
		return 0;
	pthread_rwlock_rdlock(&s->lk);
	int rc, dead;
	/* A reader killed inside a read txn leaves its slot behind, pinning old
	 * pages so that they are never reused; clear such slots now and then. */
	if (++s->commits >= STALE_CHECK_EVERY) {
		s->commits = 0;
		mdb_reader_check(s->env, &dead);
	}
	for (int steps = 0;; steps++) {
		rc = commit_once(s, b, nb, err, errlen);
		if (rc != MDB_MAP_FULL)
			break;
		mdb_reader_check(s->env, &dead);
		MDB_envinfo ei;
		mdb_env_info(s->env, &ei);
		uint64_t nsz = (uint64_t)ei.me_mapsize * 2;
		if (steps >= MAX_GROW_STEPS || nsz > SIZE_MAX) {
			txg_errf(err, errlen, "ledger at %s: map full at %zu bytes", s->path, ei.me_mapsize);
			rc = -1;
			break;
		}
		pthread_rwlock_unlock(&s->lk);
		pthread_rwlock_wrlock(&s->lk);
		int r2 = mdb_env_set_mapsize(s->env, (size_t)nsz);
		pthread_rwlock_unlock(&s->lk);
		pthread_rwlock_rdlock(&s->lk);
		if (r2 != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot grow map to %" PRIu64 " bytes: %s", s->path, nsz,
			       mdb_strerror(r2));
			rc = -1;
			break;
		}
	}
	pthread_rwlock_unlock(&s->lk);
	return rc == 0 ? 0 : -1;
}

int txg_store_sync(struct txg_store *s)
{
	if (s->readonly)
		return 0;
	pthread_rwlock_rdlock(&s->lk);
	int rc = mdb_env_sync(s->env, 1);
	pthread_rwlock_unlock(&s->lk);
	return rc == 0 ? 0 : -1;
}

/* --- reads: each has a body taking an open read txn, a one-shot wrapper
 * with its own txn, and a snapshot wrapper. --- */

static int head_t(struct txg_store *s, MDB_txn *t, struct txg_store_head *h)
{
	return read_head(t, s->meta, h) == 0 ? 0 : -1;
}

static int get_header_t(struct txg_store *s, MDB_txn *t, uint64_t height, uint8_t hdr[96])
{
	uint8_t hk[8];
	be64(hk, height);
	MDB_val key = {8, hk}, val;
	int rc = mdb_get(t, s->headers, &key, &val);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0 || val.mv_size != TXG_HDR_LEN)
		return -1;
	memcpy(hdr, val.mv_data, TXG_HDR_LEN);
	return 0;
}

static int find_tx_t(struct txg_store *s, MDB_txn *t, const uint8_t id[32], uint64_t *height, uint32_t *index)
{
	MDB_val key = {32, (void *)id}, val;
	int rc = mdb_get(t, s->txidx, &key, &val);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0 || val.mv_size != TXIDX_VAL_LEN)
		return -1;
	*height = txg_ld64(val.mv_data);
	*index = txg_ld32((const uint8_t *)val.mv_data + 8);
	return 0;
}

static int block_txs_t(struct txg_store *s, MDB_txn *t, uint64_t height, txg_store_tx_cb cb, void *arg)
{
	uint8_t hk[12];
	be64(hk, height);
	be32(hk + 8, 0);
	MDB_val key = {8, hk}, val;
	int rc = mdb_get(t, s->headers, &key, &val);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 1 : -1;
	MDB_cursor *c;
	if (mdb_cursor_open(t, s->txs, &c) != 0)
		return -1;
	key.mv_size = 12;
	key.mv_data = hk;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	int ret = 0;
	while (rc == 0) {
		if (key.mv_size != 12 || memcmp(key.mv_data, hk, 8) != 0)
			break;
		uint32_t idx = ldbe32((const uint8_t *)key.mv_data + 8);
		ret = cb(arg, height, idx, val.mv_data, val.mv_size);
		if (ret != 0)
			break;
		rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
	}
	if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND)
		ret = -1;
	mdb_cursor_close(c);
	return ret;
}

static int stats_t(struct txg_store *s, MDB_txn *t, struct txg_store_stats *st)
{
	memset(st, 0, sizeof *st);
	MDB_stat a, b, c;
	int rc = read_head(t, s->meta, &st->head);
	if (rc == 0)
		rc = mdb_stat(t, s->headers, &a);
	if (rc == 0)
		rc = mdb_stat(t, s->txs, &b);
	if (rc == 0)
		rc = mdb_stat(t, s->txidx, &c);
	if (rc != 0)
		return -1;
	st->headers = a.ms_entries;
	st->txs = b.ms_entries;
	st->txidx = c.ms_entries;
	MDB_envinfo ei;
	mdb_env_info(s->env, &ei);
	st->map_size = ei.me_mapsize;
	st->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * a.ms_psize;
	return 0;
}

/* One-shot wrappers: body(s, t, args...) in its own read txn; -1 if none. */
#define ONESHOT(body, ...)                                                                                         \
	do {                                                                                                       \
		MDB_txn *t_;                                                                                       \
		if (rbegin(s, &t_) != 0)                                                                           \
			return -1;                                                                                 \
		int r_ = body(s, t_, __VA_ARGS__);                                                                 \
		rend(s, t_);                                                                                       \
		return r_;                                                                                         \
	} while (0)

int txg_store_head(struct txg_store *s, struct txg_store_head *h) { ONESHOT(head_t, h); }
int txg_store_get_header(struct txg_store *s, uint64_t height, uint8_t hdr[96])
{
	ONESHOT(get_header_t, height, hdr);
}
int txg_store_find_tx(struct txg_store *s, const uint8_t id[32], uint64_t *height, uint32_t *index)
{
	ONESHOT(find_tx_t, id, height, index);
}
int txg_store_block_txs(struct txg_store *s, uint64_t height, txg_store_tx_cb cb, void *arg)
{
	ONESHOT(block_txs_t, height, cb, arg);
}
int txg_store_stats(struct txg_store *s, struct txg_store_stats *st) { ONESHOT(stats_t, st); }

struct txg_store_snap {
	struct txg_store *s;
	MDB_txn *t;
};

int txg_store_snap_begin(struct txg_store *s, struct txg_store_snap **out)
{
	*out = NULL;
	struct txg_store_snap *sn = malloc(sizeof *sn);
	if (!sn)
		return -1;
	sn->s = s;
	if (rbegin(s, &sn->t) != 0) {
		free(sn);
		return -1;
	}
	*out = sn;
	return 0;
}

void txg_store_snap_end(struct txg_store_snap *sn)
{
	if (!sn)
		return;
	rend(sn->s, sn->t);
	free(sn);
}

int txg_store_snap_head(struct txg_store_snap *sn, struct txg_store_head *h) { return head_t(sn->s, sn->t, h); }
int txg_store_snap_get_header(struct txg_store_snap *sn, uint64_t height, uint8_t hdr[96])
{
	return get_header_t(sn->s, sn->t, height, hdr);
}
int txg_store_snap_find_tx(struct txg_store_snap *sn, const uint8_t id[32], uint64_t *height, uint32_t *index)
{
	return find_tx_t(sn->s, sn->t, id, height, index);
}
int txg_store_snap_block_txs(struct txg_store_snap *sn, uint64_t height, txg_store_tx_cb cb, void *arg)
{
	return block_txs_t(sn->s, sn->t, height, cb, arg);
}
int txg_store_snap_stats(struct txg_store_snap *sn, struct txg_store_stats *st)
{
	return stats_t(sn->s, sn->t, st);
}

int txg_store_backup(struct txg_store *s, const char *dir, char *err, size_t errlen)
{
	if (!dir || !*dir) {
		txg_errf(err, errlen, "backup: no directory given");
		return -1;
	}
	if (mkdir_p(dir) != 0) {
		txg_errf(err, errlen, "backup to %s: cannot create directory: %s", dir, strerror(errno));
		return -1;
	}
	char f[4200];
	struct stat st;
	snprintf(f, sizeof f, "%s/data.mdb", dir);
	if (stat(f, &st) == 0) {
		txg_errf(err, errlen, "backup to %s: %s already exists", dir, f);
		return -1;
	}
	int rc;
	for (int tries = 0;; tries++) {
		pthread_rwlock_rdlock(&s->lk);
		rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
		pthread_rwlock_unlock(&s->lk);
		if (rc != MDB_MAP_RESIZED || !s->readonly || tries >= 8)
			break;
		pthread_rwlock_wrlock(&s->lk);
		rc = mdb_env_set_mapsize(s->env, 0);
		pthread_rwlock_unlock(&s->lk);
		if (rc != 0)
			break;
		unlink(f); /* a partial copy from the failed attempt */
	}
	if (rc != 0) {
		txg_errf(err, errlen, "backup of %s to %s failed: %s", s->path, dir, mdb_strerror(rc));
		return -1;
	}
	return 0;
}
