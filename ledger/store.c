/* The ledger store on LMDB; layout in docs/ledger.md. */
#include "store.h"
#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "block.h"
#include "contain.h"
#include "hex.h"
#include "record.h"

#define DEFAULT_MAP_SIZE (1ull << 30)
#define MIN_MAP_SIZE (64ull << 10)
#define MAX_GROW_STEPS 40
#define STALE_CHECK_EVERY 1024u /* commits between stale-reader checks */
#define LOW_SPACE (64ull << 20) /* an EIO with less free than this is reported as a full disk */
#define LOCK_FILE "txgate.lock"

/* meta keys */
#define K_FORMAT "format"
#define K_CHAIN "chain_id"
#define K_TTL "max_ttl_ms"
#define K_HEAD "head"
#define K_INDEXED "indexed" /* format 2: u64 LE, the index watermark */
#define HEAD_VAL_LEN 48u /* height LE8 | hash 32 | timestamp_ms LE8 */
#define TXIDX_VAL_LEN 12u /* height LE8 | index LE4 */
#define RKEY_LEN 40u	  /* txrun0/txrun1 key: run id BE8 | tx_id */
#define DESC_LEN 25u	  /* txruns value: lo LE8 | hi LE8 | count LE8 | table */

/* The tx_id index (docs/ledger.md, "The tx_id index"). */
/* Runs live in the tables txrun0..txrun6: level L (0..2) has two, 2L and
 * 2L+1, one of which takes new runs while the other's are merged into a
 * run of level L+1; when that merge commits, the merged table is emptied
 * whole (mdb_drop, no per-entry deletes). Level 3 (txrun6) is not merged. */
#define NTBL 7u
#define NLEV 3u	     /* merged levels */
#define TBL_TOP 6u
#define TBL_BASE 7u  /* txidx, key tx_id alone: run id 0 */
#define RUN_TXS 131072u	   /* the indexer writes a run when this many txs wait (or when idle) */
/* a fresh run takes at most 4 * RUN_TXS txs (whole blocks) */
#define BASE_MAX 8192u	   /* a new ledger's first index entries go to txidx itself, up to this many */
#define FANOUT 16u	   /* a level's table is merged when it holds this many runs */
#define CHUNK 65536u	   /* entries per indexer write transaction while merging or collecting */
#define DEF_LAG_MAX (1u << 20) /* committed txs the index may lag behind; then commits wait */
#define IDLE_MS 200u	   /* index what waits after this long without a commit */
#define MAX_AGE_MS 1000u   /* or once it has waited this long */
#define BLOOM_BITS 24u	   /* bits of filter per entry (rounded up to a power of two of words) */

/* An index entry waiting above the watermark (writer only). */
struct pent {
	uint8_t id[32];
	uint64_t height;
	uint32_t index;
};

/* A run of the index (writer's in-memory copy of a txruns descriptor). */
struct run {
	uint64_t id; /* 0: the base (txidx) */
	uint64_t lo, hi, count;
	unsigned tbl;
};

/* A merge in progress (indexer thread only). */
struct minput {
	uint64_t id; /* input run (consecutive in height order) */
	uint8_t last[32]; /* last tx_id taken from it */
	int started, done;
};
struct merge {
	int active;
	size_t k; /* inputs: every run of table in_tbl */
	struct minput *in;
	unsigned in_tbl, out_tbl;
	uint64_t out_id, lo, hi, count, expect;
	uint8_t last_out[32];
};

/* The writer's indexer: runs in its own thread, writes the index in its own
 * write transactions. Lock order: LMDB's write lock, then mu; never begin a
 * write transaction while holding mu. */
struct indexer {
	pthread_t thr;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* to the indexer */
	pthread_cond_t done; /* from the indexer: the watermark moved, or it failed */
	int stop, paused;
	int failed;		/* for good: the index does not match the blocks */
	int erring;		/* the last index write failed (I/O); retried */
	int fatal;		/* (indexer thread) the last error is of the failed kind */
	char why[1024];		/* the last error */
	uint64_t flush_to;	/* index at least to this height now */
	uint64_t committed;	/* head height of the last commit */
	uint64_t last_commit_ms;
	uint64_t last_fresh_ms; /* when the indexer last wrote a fresh run (or started) */
	uint64_t indexed;	/* the durable watermark (as last committed by the indexer) */
	uint64_t lag_max, max_lag, wait_us;
	uint64_t run_txs, run_max, base_max; /* RUN_TXS, RUN_MAX, BASE_MAX unless set */
	unsigned cur[NLEV]; /* the table (0 or 1) of each level that takes new runs */
	/* pending: ring of entries in commit order [head_seq, tail_seq) plus a
	 * linear-probing hash of their positions (seq + 1; 0 empty) */
	struct pent *ring;
	uint64_t cap, head_seq, tail_seq;
	uint64_t *slots, smask;
	/* the runs, in height order (base first) */
	struct run *runs;
	size_t nruns, runs_cap;
	uint64_t next_id;
	uint64_t *gc;	  /* run ids whose entries are to be deleted */
	unsigned *gc_tbl;
	size_t ngc, gc_cap;
	struct merge mg;
	struct pent *mbuf; /* merge chunk buffer */
	/* One filter over every id in the runs (ids never leave the index, so
	 * it only grows): segments of doubling capacity; gf_ready 0 until the
	 * ids of the runs found at open are in it (lookups then go to LMDB). */
	struct gseg {
		uint64_t *w, mask, cap, n;
	} *gf;
	size_t ngf;
	int gf_ready, gf_failed;
	uint64_t runs_written, merges_done;
	uint64_t us[3]; /* time in write transactions: fresh runs, merges, deletions */
	uint64_t guard_gets; /* B-tree lookups by the duplicate guard (a filter said maybe, or none yet) */
};
struct txg_store {
	MDB_env *env;
	MDB_dbi meta, headers, txs, txidx;
	MDB_dbi txruns, txrun[NTBL]; /* format 2 (a reader of a format 1 ledger: has_runs 0) */
	int has_runs;
	unsigned format;   /* as of open */
	struct indexer ix; /* writer only */
	uint32_t chain_id;
	uint64_t max_ttl;
	int readonly;
	int nosync;
	int lockfd;	  /* writer: DIR/txgate.lock, flock'ed exclusive until close; -1 for readers */
	unsigned psize;	  /* LMDB page size */
	uint64_t need;	  /* estimated disk bytes of the write in progress (for error messages) */
	unsigned commits; /* since the last stale-reader check */
	uint8_t (*seal_ids)[32]; /* seal scratch: kept ids, then Merkle work area */
	size_t seal_cap;	 /* ids each half of seal_ids holds */
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

/* fsync a directory, so that entries made in it survive a crash. 0 or -1 (errno). */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* Make directory path and its missing parents (mode 0755), fsyncing the
 * parent of each one made so that it survives a crash. 0, or -1 with err
 * prefixed by who ("ledger at DIR"). */
static int mkdir_p(const char *path, const char *who, char *err, size_t errlen)
{
	char buf[4096], parent[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf) {
		txg_errf(err, errlen, "%s: cannot create directory: %s", who, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if ((buf[i] != '/' && buf[i] != '\0') || buf[i - 1] == '/')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) == 0) {
			const char *sl = strrchr(buf, '/');
			if (!sl)
				strcpy(parent, ".");
			else if (sl == buf)
				strcpy(parent, "/");
			else {
				memcpy(parent, buf, (size_t)(sl - buf));
				parent[sl - buf] = '\0';
			}
			if (fsync_dir(parent) != 0) {
				txg_errf(err, errlen, "%s: cannot fsync directory %s after creating %s in it: %s", who,
					 parent, buf, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			txg_errf(err, errlen, "%s: cannot create directory %s: %s", who, buf, strerror(errno));
			return -1;
		}
		buf[i] = c;
	}
	struct stat st;
	if (stat(path, &st) != 0) {
		txg_errf(err, errlen, "%s: %s", who, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		txg_errf(err, errlen, "%s: not a directory", who);
		return -1;
	}
	return 0;
}

/* Bytes an unprivileged writer may still use on dir's filesystem. 0 or -1. */
static int fs_free(const char *dir, uint64_t *free_bytes)
{
	struct statvfs v;
	if (statvfs(dir, &v) != 0)
		return -1;
	*free_bytes = (uint64_t)v.f_bavail * v.f_frsize;
	return 0;
}

/* The reason for LMDB or errno code rc of a write, sync or remap on the
 * filesystem of dir (`whose`: "the ledger's"). LMDB turns a short write
 * into EIO, so an EIO with less free than max(LOW_SPACE, need), and any
 * ENOSPC, are reported as a full disk; another EIO says how much is free. */
static void io_reason(char *out, size_t n, int rc, const char *dir, const char *whose, uint64_t need)
{
	uint64_t fb = 0;
	int known = (rc == EIO || rc == ENOSPC) && fs_free(dir, &fb) == 0;
	uint64_t low = need > LOW_SPACE ? need : LOW_SPACE;
	if (rc == ENOSPC && !known)
		snprintf(out, n, "no space left on %s filesystem (%s): %s", whose, dir, mdb_strerror(rc));
	else if (known && (rc == ENOSPC || fb < low))
		snprintf(out, n, "no space left on %s filesystem (%s: %" PRIu64 " bytes free): %s", whose, dir, fb,
			 mdb_strerror(rc));
	else if (known)
		snprintf(out, n, "%s (%s filesystem has %" PRIu64 " bytes free)", mdb_strerror(rc), whose, fb);
	else
		snprintf(out, n, "%s", mdb_strerror(rc));
}

/* err = "ledger at DIR: WHAT: reason of rc" (see io_reason). */
__attribute__((format(printf, 5, 6))) static void store_fail(const struct txg_store *s, int rc, char *err,
							     size_t errlen, const char *fmt, ...)
{
	char what[256], why[4608];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	io_reason(why, sizeof why, rc, s->path, "the ledger's", __atomic_load_n(&s->need, __ATOMIC_RELAXED));
	txg_errf(err, errlen, "ledger at %s: %s: %s", s->path, what, why);
}

/* What the lock file says about its holder: pid, start time, command line. */
static size_t holder_info(char *out, size_t n)
{
	char cmd[256] = "";
	size_t len = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, cmd, sizeof cmd - 1);
		len = r > 0 ? (size_t)r : 0;
		close(fd);
	}
	while (len > 0 && cmd[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)cmd[i] < 0x20 || cmd[i] == 0x7f)
			cmd[i] = cmd[i] == '\0' ? ' ' : '?';
	cmd[len] = '\0';
	char ts[40] = "?";
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	int k = snprintf(out, n, "pid=%ld\nsince=%s\ncmd=%s\n", (long)getpid(), ts, len ? cmd : "?");
	return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}

/* Describe the holder of lock file fd from its content, for a refusal. */
static void describe_holder(int fd, char *out, size_t n)
{
	char buf[1024];
	ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
	buf[r > 0 ? r : 0] = '\0';
	long pid = 0;
	char since[64] = "?", cmd[300] = "?";
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "pid=", 4))
			pid = strtol(line + 4, NULL, 10);
		else if (!strncmp(line, "since=", 6))
			snprintf(since, sizeof since, "%s", line + 6);
		else if (!strncmp(line, "cmd=", 4))
			snprintf(cmd, sizeof cmd, "%s", line + 4);
	}
	if (pid <= 0)
		snprintf(out, n, "another process (it has not yet written who it is)");
	else if (pid == (long)getpid())
		snprintf(out, n, "pid %ld (this process: another handle, since %s)", pid, since);
	else
		snprintf(out, n, "pid %ld (%s, since %s)", pid, cmd, since);
}

/* A writer's lock: flock(LOCK_EX|LOCK_NB) on DIR/txgate.lock, which then
 * names the holder. A second writer, in any process, is refused at once.
 * 0, or -1 with err. */
static int take_lock(struct txg_store *s, char *err, size_t errlen)
{
	char f[4200];
	snprintf(f, sizeof f, "%s/" LOCK_FILE, s->path);
	int fd = open(f, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		txg_errf(err, errlen, "ledger at %s: cannot open lock file %s: %s", s->path, f, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			char who[512];
			describe_holder(fd, who, sizeof who);
			txg_errf(err, errlen, "ledger at %s: in use by %s; only one writer at a time", s->path, who);
		} else {
			txg_errf(err, errlen, "ledger at %s: cannot lock %s: %s", s->path, f, strerror(errno));
		}
		close(fd);
		return -1;
	}
	/* Best effort (a full disk must not stop a restart): who holds it. */
	char info[512];
	size_t len = holder_info(info, sizeof info);
	if (pwrite(fd, info, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) != 0) {
		/* the lock itself holds; only the refusal message loses the name */
	}
	s->lockfd = fd;
	return 0;
}

/* Release the writer's lock (the file stays; its content is cleared). */
static void drop_lock(struct txg_store *s)
{
	if (s->lockfd < 0)
		return;
	if (ftruncate(s->lockfd, 0) != 0) {
		/* stale content is harmless: only the flock counts */
	}
	close(s->lockfd);
	s->lockfd = -1;
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

static void desc_encode(uint8_t v[DESC_LEN], uint64_t lo, uint64_t hi, uint64_t count, unsigned tbl)
{
	txg_st64(v, lo);
	txg_st64(v + 8, hi);
	txg_st64(v + 16, count);
	v[24] = (uint8_t)tbl;
}

static int put_desc(struct txg_store *s, MDB_txn *t, uint64_t id, uint64_t lo, uint64_t hi, uint64_t count,
		    unsigned tbl)
{
	uint8_t k[8], v[DESC_LEN];
	be64(k, id);
	desc_encode(v, lo, hi, count, tbl);
	MDB_val key = {8, k}, val = {DESC_LEN, v};
	return mdb_put(t, s->txruns, &key, &val, 0);
}

/* Open the databases and check or stamp meta, in one txn. A writer
 * upgrades a format 1 ledger in place: its txidx becomes the index's base
 * run (heights 1..head) and the watermark is the head. */
static int init_meta(struct txg_store *s, const struct txg_store_opts *o, char *err, size_t errlen)
{
	MDB_txn *t;
	int rc;
	if (s->readonly)
		rc = rbegin(s, &t);
	else
		rc = mdb_txn_begin(s->env, NULL, 0, &t);
	if (rc != 0) {
		store_fail(s, rc, err, errlen, "cannot begin transaction");
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
	int upgrade = 0;
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
		    (rc = put_u64(t, s->meta, K_TTL, ttl)) != 0 || (rc = write_head(t, s->meta, &h0)) != 0 ||
		    (rc = put_u64(t, s->meta, K_INDEXED, 0)) != 0) {
			store_fail(s, rc, err, errlen, "cannot initialise meta");
			goto fail;
		}
	} else {
		if (fmt != TXG_STORE_FORMAT && fmt != 1) {
			txg_errf(err, errlen, "ledger at %s: format version %" PRIu64 ", this program reads 1 and %u",
				 s->path, fmt, TXG_STORE_FORMAT);
			goto fail;
		}
		upgrade = fmt == 1 && !s->readonly;
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
				store_fail(s, rc, err, errlen, "cannot update max_ttl_ms");
				goto fail;
			}
		}
	}
	s->format = (unsigned)fmt;
	if (fmt >= 2 || upgrade) {
		for (unsigned i = 0; i <= NTBL; i++) {
			char rn[16];
			if (i == 0)
				snprintf(rn, sizeof rn, "txruns");
			else
				snprintf(rn, sizeof rn, "txrun%u", i - 1);
			rc = mdb_dbi_open(t, rn, fl, i == 0 ? &s->txruns : &s->txrun[i - 1]);
			if (rc != 0) {
				txg_errf(err, errlen, "ledger at %s: cannot open database '%s': %s", s->path, rn,
					 rc == MDB_NOTFOUND ? "missing (damaged ledger)" : mdb_strerror(rc));
				goto fail;
			}
		}
		s->has_runs = 1;
	}
	if (upgrade) {
		struct txg_store_head h;
		MDB_stat ms;
		if ((rc = read_head(t, s->meta, &h)) != 0 || (rc = mdb_stat(t, s->txidx, &ms)) != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot upgrade from format 1: %s", s->path, mdb_strerror(rc));
			goto fail;
		}
		if ((h.height > 0 && (rc = put_desc(s, t, 0, 1, h.height, ms.ms_entries, TBL_BASE)) != 0) ||
		    (rc = put_u64(t, s->meta, K_INDEXED, h.height)) != 0 ||
		    (rc = put_u64(t, s->meta, K_FORMAT, TXG_STORE_FORMAT)) != 0) {
			store_fail(s, rc, err, errlen, "cannot upgrade from format 1");
			goto fail;
		}
		s->format = TXG_STORE_FORMAT;
	}
	s->chain_id = (uint32_t)chain;
	s->max_ttl = ttl;
	/* Commit (even read-only) so that the dbi handles stay open. */
	rc = mdb_txn_commit(t);
	if (s->readonly)
		pthread_rwlock_unlock(&s->lk);
	if (rc != 0) {
		store_fail(s, rc, err, errlen, "cannot commit meta");
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

/* Memory read at random by every commit (filters, the pending hash): in
 * huge pages when large, so that a probe costs a cache miss and no TLB miss.
 * zeroed if zero. Freed with free(). */
static void *big_alloc(size_t bytes, int zero)
{
	const size_t huge = 2u << 20;
	if (bytes < huge)
		return zero ? calloc(1, bytes) : malloc(bytes);
	size_t sz = (bytes + huge - 1) / huge * huge;
	void *p = NULL;
	if (posix_memalign(&p, huge, sz) != 0)
		return NULL;
	madvise(p, sz, MADV_HUGEPAGE); /* a hint: without it, small pages */
	if (zero)
		memset(p, 0, sz);
	return p;
}

/* --- the pending entries (ids above the watermark) and run filters --- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The hash: linear probing over slots holding the entry's ring position + 1
 * (low 32 bits) and a tag from its id (high 32 bits), so that a probe
 * rarely touches the ring. */
static uint64_t pend_home(const struct indexer *x, const uint8_t *id) { return txg_ld64(id + 16) & x->smask; }
static uint64_t pend_tag(const uint8_t *id) { return (uint64_t)txg_ld32(id + 24) << 32; }

static struct pent *pend_at(const struct indexer *x, uint64_t seq) { return &x->ring[seq & (x->cap - 1)]; }

static uint64_t pend_n(const struct indexer *x) { return x->tail_seq - x->head_seq; }

static int id_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[4], y[4];
	memcpy(x, a, 32);
	memcpy(y, b, 32);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

/* The pending entry for id, or NULL. Under mu. */
static const struct pent *pend_find(const struct indexer *x, const uint8_t *id)
{
	if (!x->slots)
		return NULL;
	uint64_t tag = pend_tag(id);
	for (uint64_t i = pend_home(x, id);; i = (i + 1) & x->smask) {
		uint64_t v = x->slots[i];
		if (!v)
			return NULL;
		if ((v & 0xffffffff00000000ull) != tag)
			continue;
		const struct pent *e = &x->ring[(v & 0xffffffffu) - 1];
		if (id_eq(e->id, id))
			return e;
	}
}

static void pend_slot_put(struct indexer *x, uint64_t seq)
{
	const uint8_t *id = pend_at(x, seq)->id;
	uint64_t i = pend_home(x, id);
	while (x->slots[i])
		i = (i + 1) & x->smask;
	x->slots[i] = pend_tag(id) | ((seq & (x->cap - 1)) + 1);
}

/* Room for n more entries (grows ring and hash). 0 or -1. Under mu. */
static int pend_room(struct indexer *x, uint64_t n)
{
	uint64_t need = pend_n(x) + n;
	if (x->ring && need <= x->cap)
		return 0;
	uint64_t cap = x->cap ? x->cap : 65536;
	while (cap < need)
		cap *= 2;
	if (cap > (1ull << 31))
		return -1;
	struct pent *ring = big_alloc(cap * sizeof *ring, 0);
	uint64_t *slots = big_alloc(2 * cap * sizeof *slots, 1);
	if (!ring || !slots) {
		free(ring);
		free(slots);
		return -1;
	}
	for (uint64_t q = x->head_seq; q < x->tail_seq; q++)
		ring[q & (cap - 1)] = *pend_at(x, q);
	free(x->ring);
	free(x->slots);
	x->ring = ring;
	x->slots = slots;
	x->cap = cap;
	x->smask = 2 * cap - 1;
	for (uint64_t q = x->head_seq; q < x->tail_seq; q++)
		pend_slot_put(x, q);
	return 0;
}

/* Append an entry (pend_room first). Under mu. */
static void pend_add(struct indexer *x, const uint8_t *id, uint64_t height, uint32_t index)
{
	uint64_t seq = x->tail_seq++;
	struct pent *e = pend_at(x, seq);
	memcpy(e->id, id, 32);
	e->height = height;
	e->index = index;
	pend_slot_put(x, seq);
}

/* Remove entry seq from the hash (backward-shift deletion). Under mu. */
static void pend_unhash(struct indexer *x, uint64_t seq)
{
	uint64_t pos = (seq & (x->cap - 1)) + 1;
	uint64_t i = pend_home(x, pend_at(x, seq)->id);
	while ((x->slots[i] & 0xffffffffu) != pos)
		i = (i + 1) & x->smask;
	for (uint64_t j = i;;) {
		j = (j + 1) & x->smask;
		uint64_t v = x->slots[j];
		if (!v)
			break;
		uint64_t k = pend_home(x, x->ring[(v & 0xffffffffu) - 1].id);
		/* move v back to i unless its home lies cyclically in (i, j] */
		int stay = i <= j ? (k > i && k <= j) : (k > i || k <= j);
		if (!stay) {
			x->slots[i] = v;
			i = j;
		}
	}
	x->slots[i] = 0;
}

/* Drop the entries from seq `from` on (a commit that did not happen). */
static void pend_truncate(struct indexer *x, uint64_t from)
{
	while (x->tail_seq > from) {
		pend_unhash(x, x->tail_seq - 1);
		x->tail_seq--;
	}
}

/* Drop the n oldest entries (indexed now). */
static void pend_pop(struct indexer *x, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++)
		pend_unhash(x, x->head_seq++);
}

/* A filter over a run's ids: one 64-bit word per id, 5 bits set in it. The
 * ids are hashes, so their bytes serve as hash values. */
static uint64_t *bloom_new(uint64_t n, uint64_t *mask)
{
	uint64_t words = 1;
	while (words * 64 < n * BLOOM_BITS)
		words *= 2;
	*mask = words - 1;
	return big_alloc(words * sizeof(uint64_t), 1);
}

static uint64_t bloom_bits(const uint8_t *id)
{
	uint64_t h = txg_ld64(id + 8), b = 0;
	for (int k = 0; k < 5; k++, h >>= 6)
		b |= 1ull << (h & 63);
	return b;
}

static void bloom_add(uint64_t *bl, uint64_t mask, const uint8_t *id) { bl[txg_ld64(id) & mask] |= bloom_bits(id); }

static int bloom_maybe(const uint64_t *bl, uint64_t mask, const uint8_t *id)
{
	uint64_t b = bloom_bits(id);
	return (bl[txg_ld64(id) & mask] & b) == b;
}

#define GF_FIRST (1u << 22) /* ids in the filter's first segment; each next one holds twice as many */

/* Add id to the filter (under mu). On no memory the filter is switched off
 * (gf_ready 0: every lookup goes to the runs), never left missing an id. */
static void gf_add(struct indexer *x, const uint8_t *id)
{
	struct gseg *g = x->ngf ? &x->gf[x->ngf - 1] : NULL;
	if (!g || g->n >= g->cap) {
		struct gseg *v = realloc(x->gf, (x->ngf + 1) * sizeof *v);
		if (!v) {
			x->gf_ready = 0;
			return;
		}
		x->gf = v;
		g = &x->gf[x->ngf];
		g->cap = x->ngf ? 2 * x->gf[x->ngf - 1].cap : GF_FIRST;
		g->n = 0;
		g->w = bloom_new(g->cap, &g->mask);
		if (!g->w) {
			x->gf_ready = 0;
			return;
		}
		x->ngf++;
	}
	bloom_add(g->w, g->mask, id);
	g->n++;
}

/* 0 if id is in no run for sure, 1 maybe (under mu). */
static int gf_maybe(const struct indexer *x, const uint8_t *id)
{
	for (size_t k = 0; k < x->ngf; k++)
		if (bloom_maybe(x->gf[k].w, x->gf[k].mask, id))
			return 1;
	return 0;
}

/* Look id up in one run, in txn t. 0 found (*h, *i), 1 not, -1 error. */
static int run_get(struct txg_store *s, MDB_txn *t, uint64_t run_id, unsigned tbl, const uint8_t *id, uint64_t *h,
		   uint32_t *i)
{
	uint8_t k[RKEY_LEN];
	MDB_val key, val;
	MDB_dbi d;
	if (tbl == TBL_BASE) {
		key = (MDB_val){32, (void *)id};
		d = s->txidx;
	} else if (tbl < NTBL) {
		be64(k, run_id);
		memcpy(k + 8, id, 32);
		key = (MDB_val){RKEY_LEN, k};
		d = s->txrun[tbl];
	} else {
		return -1;
	}
	int rc = mdb_get(t, d, &key, &val);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0 || val.mv_size != TXIDX_VAL_LEN)
		return -1;
	*h = txg_ld64(val.mv_data);
	*i = txg_ld32((const uint8_t *)val.mv_data + 8);
	return 0;
}

/* Start loading what known_id(id) will read (under mu): its hash slot and
 * its word of each run's filter. */
static void known_prefetch(const struct txg_store *s, const uint8_t *id)
{
	const struct indexer *x = &s->ix;
	if (x->slots)
		__builtin_prefetch(&x->slots[pend_home(x, id)]);
	for (size_t k = 0; k < x->ngf; k++)
		__builtin_prefetch(&x->gf[k].w[txg_ld64(id) & x->gf[k].mask]);
}

#define PREFETCH_AHEAD 16u

/* The writer's duplicate guard, inside its write txn t and under mu: is id
 * in the ledger (pending above the watermark, or in a run)? 0 yes (*h, *i),
 * 1 no, -1 read error. */
static int known_id(struct txg_store *s, MDB_txn *t, const uint8_t *id, uint64_t *h, uint32_t *i)
{
	struct indexer *x = &s->ix;
	const struct pent *e = pend_find(x, id);
	if (e) {
		*h = e->height;
		*i = e->index;
		return 0;
	}
	if (x->gf_ready && !gf_maybe(x, id))
		return 1;
	for (size_t r = x->nruns; r-- > 0;) {
		const struct run *rn = &x->runs[r];
		x->guard_gets++;
		int rc = run_get(s, t, rn->id, rn->tbl, id, h, i);
		if (rc != 1)
			return rc;
	}
	return 1;
}

static int ix_start(struct txg_store *s, const struct txg_store_opts *o, char *err, size_t errlen);
static void ix_free(struct indexer *x);
static void ix_stop(struct txg_store *s);

int txg_store_open(struct txg_store **out, const struct txg_store_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	if (!o || !o->path || !*o->path) {
		txg_errf(err, errlen, "ledger: no path given");
		return -1;
	}
	const char *path = o->path;
	size_t plen = strlen(path);
	if (plen > 4000) {
		txg_errf(err, errlen, "ledger at %.64s...: path too long", path);
		return -1;
	}
	if (!o->readonly) {
		char who[4100];
		snprintf(who, sizeof who, "ledger at %s", path);
		if (mkdir_p(path, who, err, errlen) != 0)
			return -1;
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
	struct txg_store *s = calloc(1, sizeof *s + plen + 1);
	if (!s) {
		txg_errf(err, errlen, "ledger at %s: out of memory", path);
		return -1;
	}
	memcpy(s->path, path, plen + 1);
	s->readonly = o->readonly != 0;
	s->lockfd = -1;
	if (!s->readonly && take_lock(s, err, errlen) != 0) {
		free(s);
		return -1;
	}
	if (pthread_rwlock_init(&s->lk, NULL) != 0) {
		drop_lock(s);
		free(s);
		txg_errf(err, errlen, "ledger at %s: cannot create lock", path);
		return -1;
	}
	pthread_mutex_init(&s->ix.mu, NULL);
	pthread_cond_init(&s->ix.wake, NULL);
	pthread_cond_init(&s->ix.done, NULL);
	int rc = mdb_env_create(&s->env);
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: mdb_env_create: %s", path, mdb_strerror(rc));
		goto fail_nolmdb;
	}
	if ((rc = mdb_env_set_maxdbs(s->env, 16)) != 0 || (rc = mdb_env_set_mapsize(s->env, 0)) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot configure environment: %s", path, mdb_strerror(rc));
		goto fail;
	}
	uint64_t want = o->map_size ? o->map_size : DEFAULT_MAP_SIZE;
	if (want < MIN_MAP_SIZE)
		want = MIN_MAP_SIZE;
	if (want > SIZE_MAX)
		want = SIZE_MAX;
	int created = 0;
	if (!s->readonly) {
		/* A new ledger starts at the configured size; an existing one
		 * keeps its own size at open and grows to the configured one. */
		char f[4200];
		struct stat st;
		snprintf(f, sizeof f, "%s/data.mdb", path);
		if (stat(f, &st) != 0) {
			created = 1;
			if ((rc = mdb_env_set_mapsize(s->env, (size_t)want)) != 0) {
				txg_errf(err, errlen, "ledger at %s: cannot set map size: %s", path, mdb_strerror(rc));
				goto fail;
			}
		}
	}
	unsigned flags = MDB_NOTLS;
	if (s->readonly)
		flags |= MDB_RDONLY;
	if (o->nosync)
		flags |= MDB_NOSYNC;
	s->nosync = o->nosync != 0;
	/* Readers (and writers of an existing ledger) map the size recorded in the file. */
	rc = mdb_env_open(s->env, path, flags, 0644);
	if (rc != 0) {
		if (s->readonly && rc == ENOENT)
			txg_errf(err, errlen, "ledger at %s: no ledger there (no data.mdb)", path);
		else
			store_fail(s, rc, err, errlen, "cannot open");
		goto fail;
	}
	MDB_stat ms;
	s->psize = mdb_env_stat(s->env, &ms) == 0 ? ms.ms_psize : 4096;
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
		/* A new ledger is on disk before anything is committed to it, even
		 * with nosync; and data.mdb's directory entry is made durable (on
		 * every writer start: a crash may have come between the two). */
		if (created && (rc = mdb_env_sync(s->env, 1)) != 0) {
			store_fail(s, rc, err, errlen, "cannot flush the new ledger");
			goto fail;
		}
		if (fsync_dir(path) != 0) {
			int e = errno;
			store_fail(s, e, err, errlen, "cannot fsync directory %s", path);
			goto fail;
		}
		int dead;
		mdb_reader_check(s->env, &dead); /* slots of killed readers */
		if (ix_start(s, o, err, errlen) != 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	mdb_env_close(s->env);
fail_nolmdb:
	ix_free(&s->ix);
	pthread_mutex_destroy(&s->ix.mu);
	pthread_cond_destroy(&s->ix.wake);
	pthread_cond_destroy(&s->ix.done);
	pthread_rwlock_destroy(&s->lk);
	drop_lock(s);
	free(s);
	return -1;
}

void txg_store_close(struct txg_store *s)
{
	if (!s)
		return;
	ix_stop(s);
	/* A clean close of a writer flushes what it committed (a sync writer:
	 * the indexer's last transaction). */
	if (!s->readonly)
		mdb_env_sync(s->env, 1);
	mdb_env_close(s->env);
	ix_free(&s->ix);
	pthread_mutex_destroy(&s->ix.mu);
	pthread_cond_destroy(&s->ix.wake);
	pthread_cond_destroy(&s->ix.done);
	pthread_rwlock_destroy(&s->lk);
	drop_lock(s);
	free(s->seal_ids);
	free(s);
}

uint32_t txg_store_chain_id(const struct txg_store *s) { return s->chain_id; }
int txg_store_nosync(const struct txg_store *s) { return s->nosync; }
uint64_t txg_store_max_ttl(const struct txg_store *s) { return s->max_ttl; }

/* Disk bytes a write of nb blocks with recs records of `bytes` bytes may
 * need: the records (appended: about bytes/page fill), a page per header
 * and a few for meta and branches; the index comes later, in the indexer's
 * own transactions. */
static uint64_t write_need(const struct txg_store *s, size_t nb, uint64_t recs, uint64_t bytes)
{
	return bytes + bytes / 4 + (recs / 16 + nb + 8) * s->psize;
}

/* Begin a write transaction and read the head in it: 0, MDB_MAP_FULL,
 * or -1 with err (nothing left open). */
static int begin_write(struct txg_store *s, MDB_txn **t, struct txg_store_head *head, char *err, size_t errlen)
{
	int rc = mdb_txn_begin(s->env, NULL, 0, t);
	if (rc != 0) {
		if (rc == MDB_MAP_FULL)
			return rc;
		store_fail(s, rc, err, errlen, "cannot begin write transaction");
		return -1;
	}
	if ((rc = read_head(*t, s->meta, head)) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot read head: %s", s->path, mdb_strerror(rc));
		mdb_txn_abort(*t);
		return -1;
	}
	return 0;
}

/* Write head and commit t (which is gone afterwards, whatever happens):
 * 0, MDB_MAP_FULL, or -1 with err. */
static int finish_write(struct txg_store *s, MDB_txn *t, const struct txg_store_head *head, char *err, size_t errlen)
{
	int rc = write_head(t, s->meta, head);
	if (rc != 0) {
		mdb_txn_abort(t);
		if (rc == MDB_MAP_FULL)
			return rc;
		store_fail(s, rc, err, errlen, "put head");
		return -1;
	}
	rc = mdb_txn_commit(t);
	if (rc == MDB_MAP_FULL)
		return rc;
	if (rc != 0) {
		store_fail(s, rc, err, errlen, "commit failed");
		return -1;
	}
	return 0;
}

static int runs_insert(struct indexer *x, size_t pos, const struct run *r);

/* The duplicate guard around a commit attempt: take mu inside the write
 * txn t and make room for recs pending entries; *mark: where this attempt's
 * entries start. 0, or -1 with err (t aborted). */
static int guard_begin(struct txg_store *s, MDB_txn *t, uint64_t recs, uint64_t *mark, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->ix.mu);
	if (pend_room(&s->ix, recs) != 0) {
		pthread_mutex_unlock(&s->ix.mu);
		mdb_txn_abort(t);
		txg_errf(err, errlen, "ledger at %s: out of memory for %" PRIu64 " index entries", s->path, recs);
		return -1;
	}
	*mark = s->ix.tail_seq;
	return 0;
}

/* The attempt failed: forget its entries, abort t. */
static void guard_abort(struct txg_store *s, MDB_txn *t, uint64_t mark)
{
	pend_truncate(&s->ix, mark);
	pthread_mutex_unlock(&s->ix.mu);
	mdb_txn_abort(t);
}

/* While the ledger is small (its index only the base run, with room for
 * this group, and nothing pending), a commit writes its ids into txidx
 * itself and moves the watermark with the head, as format 1 did: small
 * ledgers then look the same, and their last transaction is a commit.
 * Under mu, inside t. 1 done (*bl: the new base filter if the base is
 * new), 0 not for this commit, MDB_MAP_FULL, or -1 (err). */
static int inline_index(struct txg_store *s, MDB_txn *t, const struct txg_store_head *head, uint64_t mark,
			int *newbase, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	uint64_t n = x->tail_seq - mark;
	struct run *base = x->nruns && x->runs[0].id == 0 ? &x->runs[0] : NULL;
	*newbase = 0;
	if (!x->started || x->head_seq != mark || x->indexed != x->committed || n == 0 ||
	    !(x->nruns == 0 || (x->nruns == 1 && base)) || (base ? base->count : 0) + n > x->base_max)
		return 0;
	if (!base && x->runs_cap == 0) { /* so that runs_insert cannot fail */
		struct run *r = malloc(16 * sizeof *r);
		if (!r)
			return 0;
		free(x->runs);
		x->runs = r;
		x->runs_cap = 16;
	}
	int rc = 0;
	*newbase = !base;
	for (uint64_t q = mark; rc == 0 && q < x->tail_seq; q++) {
		const struct pent *e = pend_at(x, q);
		uint8_t loc[TXIDX_VAL_LEN];
		txg_st64(loc, e->height);
		txg_st32(loc + 8, e->index);
		MDB_val key = {32, (void *)e->id}, val = {sizeof loc, loc};
		rc = mdb_put(t, s->txidx, &key, &val, MDB_NOOVERWRITE);
	}
	if (rc == 0)
		rc = put_desc(s, t, 0, 1, head->height, (base ? base->count : 0) + n, TBL_BASE);
	if (rc == 0)
		rc = put_u64(t, s->meta, K_INDEXED, head->height);
	if (rc == 0)
		return 1;
	*newbase = 0;
	if (rc == MDB_MAP_FULL)
		return rc;
	store_fail(s, rc, err, errlen, "put txidx");
	return -1;
}

/* Commit t (with the head): the new entries stay pending for the indexer
 * (or are in txidx already: inline_index), or go if the commit fails.
 * Called under mu, which it releases. 0, MDB_MAP_FULL or -1 (err). */
static int guard_end(struct txg_store *s, MDB_txn *t, const struct txg_store_head *head, uint64_t mark, char *err,
		     size_t errlen)
{
	struct indexer *x = &s->ix;
	int newbase;
	int inl = inline_index(s, t, head, mark, &newbase, err, errlen);
	if (inl < 0 || inl == MDB_MAP_FULL) {
		pend_truncate(x, mark);
		pthread_mutex_unlock(&x->mu);
		mdb_txn_abort(t);
		return inl;
	}
	/* Readers match pending entries against their snapshot's head, so the
	 * entries may be seen before the commit lands. */
	pthread_mutex_unlock(&x->mu);
	int rc = finish_write(s, t, head, err, errlen);
	pthread_mutex_lock(&x->mu);
	if (rc != 0) {
		pend_truncate(x, mark);
	} else {
		x->committed = head->height;
		x->last_commit_ms = now_ms();
		if (inl == 1) {
			uint64_t n = x->tail_seq - mark;
			if (newbase) { /* the list is empty with room (inline_index) */
				struct run nr = {.id = 0, .lo = 1, .tbl = TBL_BASE};
				runs_insert(x, 0, &nr);
			}
			if (x->nruns && x->runs[0].id == 0) {
				struct run *b = &x->runs[0];
				for (uint64_t q = mark; q < x->tail_seq; q++)
					gf_add(x, pend_at(x, q)->id);
				b->count += n;
				b->hi = head->height;
			}
			pend_pop(x, n);
			x->indexed = head->height;
			pthread_cond_broadcast(&x->done);
		}
		uint64_t lag = pend_n(x);
		if (lag > x->max_lag)
			x->max_lag = lag;
		if (lag >= x->run_txs)
			pthread_cond_signal(&x->wake);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* One attempt at a group commit. 0, -1 (err set), or MDB_MAP_FULL. */
static int commit_once(struct txg_store *s, const struct txg_store_block *b, size_t nb, char *err, size_t errlen)
{
	MDB_txn *t;
	struct txg_store_head head;
	int rc = begin_write(s, &t, &head, err, errlen);
	if (rc != 0)
		return rc;
	uint64_t recs = 0;
	for (size_t i = 0; i < nb; i++)
		recs += b[i].n;
	uint64_t mark;
	if (guard_begin(s, t, recs, &mark, err, errlen) != 0)
		return -1;
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
			store_fail(s, rc, err, errlen, "put header %" PRIu64, h.height);
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
				store_fail(s, rc, err, errlen, "put record %" PRIu64 "/%" PRIu32, h.height, j);
				goto fail;
			}
			uint64_t oh = 0;
			uint32_t oi = 0;
			rc = known_id(s, t, tx->tx_id, &oh, &oi);
			if (rc == 0) {
				char hex[65];
				txg_hex(tx->tx_id, 32, hex);
				txg_errf(err, errlen, "commit refused: block %zu of %zu (height %" PRIu64 "): record %" PRIu32
						    ": tx %s already committed at %" PRIu64 "/%" PRIu32,
				       i, nb, h.height, j, hex, oh, oi);
				goto fail;
			}
			if (rc != 1) {
				txg_errf(err, errlen, "ledger at %s: cannot read the tx index (LMDB read error)", s->path);
				goto fail;
			}
			pend_add(&s->ix, tx->tx_id, h.height, j);
		}
		head.height = h.height;
		head.timestamp_ms = h.timestamp_ms;
		txg_block_hash(bk->hdr, head.hash);
	}
	return guard_end(s, t, &head, mark, err, errlen);
full:
	guard_abort(s, t, mark);
	return MDB_MAP_FULL;
fail:
	guard_abort(s, t, mark);
	return -1;
}

typedef int (*write_fn)(struct txg_store *s, void *arg, char *err, size_t errlen);
static int ix_fn(struct txg_store *s, void *arg, char *err, size_t errlen);

/* Back-pressure: wait while the index lags by more than its bound (and
 * something is pending, so that a group larger than the bound still goes).
 * 0, or -1 with err if the indexer has failed. */
static int backpressure(struct txg_store *s, uint64_t recs, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	if (s->readonly || !x->started)
		return 0;
	pthread_mutex_lock(&x->mu);
	uint64_t t0 = 0;
	int failed = 0;
	while (pend_n(x) > 0 && pend_n(x) + recs > x->lag_max) {
		if (x->failed || x->erring) {
			failed = 1;
			break;
		}
		if (!t0)
			t0 = now_ms();
		pthread_cond_signal(&x->wake);
		pthread_cond_wait(&x->done, &x->mu);
	}
	if (t0)
		x->wait_us += (now_ms() - t0) * 1000u;
	if (failed)
		txg_errf(err, errlen, "ledger at %s: the tx index lags %" PRIu64 " transactions behind and cannot be written: %s",
			 s->path, pend_n(x), x->why);
	pthread_mutex_unlock(&x->mu);
	return failed ? -1 : 0;
}

/* Run fn (one write transaction: 0, -1 with err, or MDB_MAP_FULL) under the
 * handle's lock, doubling the map and retrying while it reports MDB_MAP_FULL. */
static int with_growth(struct txg_store *s, write_fn fn, void *arg, char *err, size_t errlen)
{
	if (s->readonly) {
		txg_errf(err, errlen, "ledger at %s: opened read-only", s->path);
		return -1;
	}
	pthread_rwlock_rdlock(&s->lk);
	int rc, dead;
	/* A reader killed inside a read txn leaves its slot behind, pinning old
	 * pages so that they are never reused; clear such slots now and then. */
	if (fn != ix_fn && ++s->commits >= STALE_CHECK_EVERY) {
		s->commits = 0;
		mdb_reader_check(s->env, &dead);
	}
	for (int steps = 0;; steps++) {
		rc = fn(s, arg, err, errlen);
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
			store_fail(s, r2, err, errlen, "cannot grow map to %" PRIu64 " bytes", nsz);
			rc = -1;
			break;
		}
	}
	pthread_rwlock_unlock(&s->lk);
	return rc == 0 ? 0 : -1;
}

struct commit_args {
	const struct txg_store_block *b;
	size_t nb;
};

static int commit_fn(struct txg_store *s, void *arg, char *err, size_t errlen)
{
	struct commit_args *a = arg;
	return commit_once(s, a->b, a->nb, err, errlen);
}

int txg_store_commit(struct txg_store *s, const struct txg_store_block *b, size_t nb, char *err, size_t errlen)
{
	if (nb == 0 && !s->readonly)
		return 0;
	uint64_t bytes = 0, recs = 0;
	for (size_t i = 0; i < nb; i++) {
		recs += b[i].n;
		for (uint32_t j = 0; b[i].txs && j < b[i].n; j++)
			bytes += b[i].txs[j].len;
	}
	struct commit_args a = {b, nb};
	if (backpressure(s, recs, err, errlen) != 0)
		return -1;
	__atomic_store_n(&s->need, write_need(s, nb, recs, bytes), __ATOMIC_RELAXED);
	int rc = with_growth(s, commit_fn, &a, err, errlen);
	__atomic_store_n(&s->need, 0, __ATOMIC_RELAXED);
	return rc;
}

/* Put one record at (height, index) and its id among the pending entries,
 * unless the ledger already holds it (inside the guard). 0 put, 1 known
 * (oh, oi: where; nothing put), MDB_MAP_FULL, or -1 with err. */
static int put_tx(struct txg_store *s, MDB_txn *t, const struct txg_store_tx *tx, uint64_t height, uint32_t index,
		  uint64_t *oh, uint32_t *oi, char *err, size_t errlen)
{
	int rc = known_id(s, t, tx->tx_id, oh, oi);
	if (rc == 0)
		return 1;
	if (rc != 1) {
		txg_errf(err, errlen, "ledger at %s: cannot read the tx index (LMDB read error)", s->path);
		return -1;
	}
	uint8_t tk[12];
	be64(tk, height);
	be32(tk + 8, index);
	MDB_val k = {12, tk}, v = {tx->len, (void *)tx->rec};
	rc = mdb_put(t, s->txs, &k, &v, MDB_APPEND);
	if (rc == MDB_MAP_FULL)
		return rc;
	if (rc != 0) {
		store_fail(s, rc, err, errlen, "put record %" PRIu64 "/%" PRIu32, height, index);
		return -1;
	}
	pend_add(&s->ix, tx->tx_id, height, index);
	return 0;
}

/* Room for n ids (and as many Merkle scratch entries). 0 or -1. */
static int seal_room(struct txg_store *s, size_t n)
{
	if (n <= s->seal_cap)
		return 0;
	void *p = realloc(s->seal_ids, 2 * n * 32);
	if (!p)
		return -1;
	s->seal_ids = p;
	s->seal_cap = n;
	return 0;
}

struct seal_args {
	struct txg_seal_block *b;
	size_t nb;
};

/* One attempt at sealing and committing a group. 0, -1 (err), or MDB_MAP_FULL. */
static int seal_once(struct txg_store *s, void *arg, char *err, size_t errlen)
{
	struct seal_args *a = arg;
	MDB_txn *t;
	struct txg_store_head head;
	int rc = begin_write(s, &t, &head, err, errlen);
	if (rc != 0)
		return rc;
	uint64_t recs = 0, mark;
	for (size_t i = 0; i < a->nb; i++)
		recs += a->b[i].n;
	if (guard_begin(s, t, recs, &mark, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < a->nb; i++) {
		struct txg_seal_block *bk = &a->b[i];
		uint64_t height = head.height + 1;
		bk->height = 0;
		bk->kept = 0;
		if (seal_room(s, bk->n) != 0) {
			txg_errf(err, errlen, "ledger at %s: out of memory sealing %" PRIu32 " records", s->path, bk->n);
			goto fail;
		}
		for (uint32_t j = 0; j < bk->n && j < PREFETCH_AHEAD; j++)
			if (bk->txs[j].tx_id)
				known_prefetch(s, bk->txs[j].tx_id);
		for (uint32_t j = 0; j < bk->n; j++) {
			const struct txg_store_tx *tx = &bk->txs[j];
			struct txg_seal_tx *o = &bk->out[j];
			if (j + PREFETCH_AHEAD < bk->n && bk->txs[j + PREFETCH_AHEAD].tx_id)
				known_prefetch(s, bk->txs[j + PREFETCH_AHEAD].tx_id);
			struct txg_rec_view rv;
			if (!tx->rec || !tx->tx_id || txg_record_view(tx->rec, tx->len, &rv) != 0) {
				txg_errf(err, errlen, "commit refused: record %" PRIu32 " of block %zu is not well formed", j,
					 i);
				goto fail;
			}
			rc = put_tx(s, t, tx, height, bk->kept, &o->height, &o->index, err, errlen);
			if (rc == MDB_MAP_FULL)
				goto full;
			if (rc < 0)
				goto fail;
			o->known = rc == 1;
			if (o->known)
				continue;
			o->height = height;
			o->index = bk->kept;
			memcpy(s->seal_ids[bk->kept++], tx->tx_id, 32);
		}
		if (bk->kept == 0)
			continue; /* every record was known: no block */
		struct txg_block_hdr h = {
			.version = TXG_BLOCK_VERSION,
			.chain_id = s->chain_id,
			.height = height,
			.timestamp_ms = bk->timestamp_ms > head.timestamp_ms ? bk->timestamp_ms : head.timestamp_ms,
			.tx_count = bk->kept,
		};
		memcpy(h.prev_hash, head.hash, 32);
		txg_merkle_root((const uint8_t(*)[32])s->seal_ids, bk->kept, s->seal_ids + s->seal_cap, h.tx_root);
		txg_hdr_encode(&h, bk->hdr);
		uint8_t hk[8];
		be64(hk, height);
		MDB_val key = {8, hk}, val = {TXG_HDR_LEN, bk->hdr};
		if ((rc = mdb_put(t, s->headers, &key, &val, MDB_APPEND)) != 0) {
			if (rc == MDB_MAP_FULL)
				goto full;
			store_fail(s, rc, err, errlen, "put header %" PRIu64, height);
			goto fail;
		}
		head.height = height;
		head.timestamp_ms = h.timestamp_ms;
		txg_block_hash(bk->hdr, head.hash);
		memcpy(bk->hash, head.hash, 32);
		bk->height = height;
	}
	return guard_end(s, t, &head, mark, err, errlen);
full:
	guard_abort(s, t, mark);
	return MDB_MAP_FULL;
fail:
	guard_abort(s, t, mark);
	return -1;
}

int txg_store_seal_commit(struct txg_store *s, struct txg_seal_block *b, size_t nb, char *err, size_t errlen)
{
	uint64_t bytes = 0, recs = 0;
	for (size_t i = 0; i < nb; i++) {
		recs += b[i].n;
		for (uint32_t j = 0; b[i].txs && j < b[i].n; j++)
			bytes += b[i].txs[j].len;
	}
	struct seal_args a = {b, nb};
	if (!s->readonly && backpressure(s, recs, err, errlen) != 0)
		return -1;
	__atomic_store_n(&s->need, write_need(s, nb, recs, bytes), __ATOMIC_RELAXED);
	int rc = with_growth(s, seal_once, &a, err, errlen);
	__atomic_store_n(&s->need, 0, __ATOMIC_RELAXED);
	return rc;
}

/* --- the indexer thread --- */

static int ent_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }

enum { OP_FRESH, OP_MERGE, OP_GC };

/* One indexer write transaction (run through with_growth as ix_fn). */
struct ixop {
	int kind;
	/* OP_FRESH */
	struct pent *e;
	uint64_t n, lo, hi;
	int to_base;
	unsigned tbl;
	uint64_t run_id, base_count;
	/* OP_MERGE: s->ix.mg, the chunk in s->ix.mbuf (n entries); finished:
	 * the last chunk; swapped: it committed and the list names the output */
	int finished, swapped;
	/* OP_GC */
	uint64_t gc_id;
	unsigned gc_tbl;
	uint64_t deleted;
	int gc_done;
	int fatal; /* the error is the ledger's content, not I/O: retrying will not help */
};

static int ix_begin(struct txg_store *s, MDB_txn **t, char *err, size_t errlen)
{
	/* A sync writer's index transactions flush their data but not the meta
	 * page: the next commit's sync makes them durable, and a crash before
	 * that only takes the index back to the previous watermark. */
	int rc = mdb_txn_begin(s->env, NULL, s->nosync ? 0 : MDB_NOMETASYNC, t);
	if (rc != 0 && rc != MDB_MAP_FULL)
		store_fail(s, rc, err, errlen, "indexer: cannot begin write transaction");
	return rc == 0 || rc == MDB_MAP_FULL ? rc : -1;
}

/* 0, MDB_MAP_FULL, or -1 (err); t is gone. */
static int ix_commit(struct txg_store *s, MDB_txn *t, int rc, const char *what, char *err, size_t errlen)
{
	if (rc == 0)
		rc = mdb_txn_commit(t);
	else
		mdb_txn_abort(t);
	if (rc == 0 || rc == MDB_MAP_FULL)
		return rc;
	if (rc > 0 || rc == MDB_KEYEXIST || rc == MDB_NOTFOUND || rc == MDB_CORRUPTED || rc == MDB_BAD_VALSIZE)
		store_fail(s, rc, err, errlen, "indexer: %s", what);
	return -1;
}

static int op_fresh(struct txg_store *s, struct ixop *op, char *err, size_t errlen)
{
	MDB_txn *t;
	int rc = ix_begin(s, &t, err, errlen);
	if (rc != 0)
		return rc;
	uint8_t loc[TXIDX_VAL_LEN], k[RKEY_LEN];
	MDB_cursor *c = NULL;
	if (!op->to_base) {
		be64(k, op->run_id);
		rc = mdb_cursor_open(t, s->txrun[op->tbl], &c);
	}
	for (uint64_t j = 0; rc == 0 && j < op->n; j++) {
		txg_st64(loc, op->e[j].height);
		txg_st32(loc + 8, op->e[j].index);
		MDB_val val = {sizeof loc, loc};
		if (op->to_base) {
			MDB_val key = {32, op->e[j].id};
			rc = mdb_put(t, s->txidx, &key, &val, MDB_NOOVERWRITE);
		} else {
			memcpy(k + 8, op->e[j].id, 32);
			MDB_val key = {RKEY_LEN, k};
			rc = mdb_cursor_put(c, &key, &val, MDB_APPEND);
		}
		if (rc == MDB_KEYEXIST) {
			char hex[65];
			txg_hex(op->e[j].id, 32, hex);
			txg_errf(err, errlen, "ledger at %s: indexer: tx %s of block %" PRIu64 " is indexed twice",
				 s->path, hex, op->e[j].height);
			op->fatal = 1;
			if (c)
				mdb_cursor_close(c);
			mdb_txn_abort(t);
			return -1;
		}
	}
	if (c)
		mdb_cursor_close(c);
	if (rc == 0)
		rc = op->to_base ? put_desc(s, t, 0, 1, op->hi, op->base_count + op->n, TBL_BASE)
				 : put_desc(s, t, op->run_id, op->lo, op->hi, op->n, op->tbl);
	if (rc == 0)
		rc = put_u64(t, s->meta, K_INDEXED, op->hi);
	return ix_commit(s, t, rc, "cannot write a run", err, errlen);
}

/* Position input k of the merge at its next entry in t: 0 (e filled), 1
 * exhausted, -1 error. */
static int mg_next(MDB_cursor *c, struct minput *in, struct pent *e)
{
	uint8_t kb[RKEY_LEN];
	be64(kb, in->id);
	if (in->started)
		memcpy(kb + 8, in->last, 32);
	else
		memset(kb + 8, 0, 32);
	MDB_val key = {RKEY_LEN, kb}, val;
	int rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	if (rc == 0 && in->started && key.mv_size == RKEY_LEN && !memcmp(key.mv_data, kb, RKEY_LEN))
		rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return -1;
	if (key.mv_size != RKEY_LEN || memcmp(key.mv_data, kb, 8) != 0)
		return 1;
	if (val.mv_size != TXIDX_VAL_LEN)
		return -1;
	memcpy(e->id, (const uint8_t *)key.mv_data + 8, 32);
	e->height = txg_ld64(val.mv_data);
	e->index = txg_ld32((const uint8_t *)val.mv_data + 8);
	return 0;
}

/* Read the merge's next chunk (up to CHUNK entries from the inputs in tx_id
 * order) into x->mbuf, in a read txn: no write lock is held meanwhile (the
 * inputs change only by this thread). Advances the inputs' positions.
 * Returns the entries read, *finished when the inputs are exhausted, or -1. */
static long mg_read(struct txg_store *s, int *finished)
{
	struct indexer *x = &s->ix;
	struct merge *m = &x->mg;
	if (!x->mbuf && !(x->mbuf = malloc(CHUNK * sizeof *x->mbuf)))
		return -1;
	struct pent *buf = x->mbuf, *head = malloc(m->k * sizeof *head);
	int *have = calloc(m->k, sizeof *have);
	MDB_txn *t = NULL;
	MDB_cursor *cur = NULL;
	long nb = -1;
	if (!head || !have || rbegin(s, &t) != 0) {
		t = NULL;
		goto out;
	}
	int rc = mdb_cursor_open(t, s->txrun[m->in_tbl], &cur);
	for (size_t k = 0; k < m->k && rc == 0; k++) {
		if (m->in[k].done)
			continue;
		int r = mg_next(cur, &m->in[k], &head[k]);
		if (r < 0)
			rc = MDB_CORRUPTED;
		else if (r == 1)
			m->in[k].done = 1;
		else
			have[k] = 1;
	}
	size_t n = 0;
	while (rc == 0 && n < CHUNK) {
		size_t best = m->k;
		for (size_t k = 0; k < m->k; k++)
			if (have[k] && (best == m->k || memcmp(head[k].id, head[best].id, 32) < 0))
				best = k;
		if (best == m->k)
			break;
		const uint8_t *prev = n ? buf[n - 1].id : m->count ? m->last_out : NULL;
		if (!prev || memcmp(prev, head[best].id, 32) != 0)
			buf[n++] = head[best]; /* (an id in two inputs is kept once) */
		memcpy(m->in[best].last, head[best].id, 32);
		m->in[best].started = 1;
		int r = mg_next(cur, &m->in[best], &head[best]);
		if (r < 0)
			rc = MDB_CORRUPTED;
		else if (r == 1) {
			have[best] = 0;
			m->in[best].done = 1;
		}
	}
	if (rc == 0) {
		*finished = 1;
		for (size_t k = 0; k < m->k; k++)
			*finished &= m->in[k].done;
		nb = (long)n;
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	if (t)
		rend(s, t);
	free(head);
	free(have);
	return nb;
}

/* Swap the finished merge's inputs for its output in the list (under mu). */
static void mg_swap(struct indexer *x)
{
	struct merge *m = &x->mg;
	size_t pos = 0;
	while (pos < x->nruns && x->runs[pos].id != m->in[0].id)
		pos++;
	struct run nr = {.id = m->out_id, .lo = m->lo, .hi = m->hi, .count = m->count, .tbl = m->out_tbl};
	x->runs[pos] = nr;
	memmove(&x->runs[pos + 1], &x->runs[pos + m->k], (x->nruns - pos - m->k) * sizeof *x->runs);
	x->nruns -= m->k - 1;
	x->merges_done++;
	/* stale runs of the dropped table are gone with it */
	for (size_t g = 0; g < x->ngc;)
		if (x->gc_tbl[g] == m->in_tbl) {
			x->gc[g] = x->gc[x->ngc - 1];
			x->gc_tbl[g] = x->gc_tbl[x->ngc - 1];
			x->ngc--;
		} else {
			g++;
		}
}

/* Append the chunk in x->mbuf (op->n entries) to the merge's output run;
 * the last chunk (op->finished) also swaps the descriptors and empties the
 * inputs' table whole. */
static int op_merge(struct txg_store *s, struct ixop *op, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	struct merge *m = &x->mg;
	const struct pent *buf = x->mbuf;
	MDB_txn *t;
	int rc = ix_begin(s, &t, err, errlen);
	if (rc != 0)
		return rc;
	MDB_cursor *oc = NULL;
	rc = mdb_cursor_open(t, s->txrun[m->out_tbl], &oc);
	uint8_t kb[RKEY_LEN], loc[TXIDX_VAL_LEN];
	be64(kb, m->out_id);
	for (uint64_t j = 0; rc == 0 && j < op->n; j++) {
		memcpy(kb + 8, buf[j].id, 32);
		txg_st64(loc, buf[j].height);
		txg_st32(loc + 8, buf[j].index);
		MDB_val key = {RKEY_LEN, kb}, val = {sizeof loc, loc};
		rc = mdb_cursor_put(oc, &key, &val, MDB_APPEND);
	}
	if (oc)
		mdb_cursor_close(oc);
	if (rc == 0 && op->finished) {
		for (size_t k = 0; rc == 0 && k < m->k; k++) {
			uint8_t dk[8];
			be64(dk, m->in[k].id);
			MDB_val key = {8, dk};
			rc = mdb_del(t, s->txruns, &key, NULL);
		}
		if (rc == 0)
			rc = put_desc(s, t, m->out_id, m->lo, m->hi, m->count + op->n, m->out_tbl);
		if (rc == 0) /* the inputs were all that table held (and any stale run) */
			rc = mdb_drop(t, s->txrun[m->in_tbl], 0);
	}
	if (!op->finished || rc != 0)
		return ix_commit(s, t, rc, "cannot merge runs", err, errlen);
	/* The inputs' table is gone once this commits: the list the duplicate
	 * guard reads must name the output instead before any commit can
	 * begin, so the swap is made under mu taken before the commit (lock
	 * order: the write lock, then mu). */
	pthread_mutex_lock(&x->mu);
	rc = ix_commit(s, t, rc, "cannot merge runs", err, errlen);
	if (rc == 0) {
		m->count += op->n;
		mg_swap(x);
		op->swapped = 1;
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* Delete up to CHUNK entries of a run no descriptor names any more. */
static int op_gc(struct txg_store *s, struct ixop *op, char *err, size_t errlen)
{
	MDB_txn *t;
	int rc = ix_begin(s, &t, err, errlen);
	if (rc != 0)
		return rc;
	MDB_cursor *c;
	uint64_t n = 0;
	op->gc_done = 0;
	if ((rc = mdb_cursor_open(t, s->txrun[op->gc_tbl], &c)) == 0) {
		uint8_t kb[8];
		be64(kb, op->gc_id);
		for (; n < CHUNK; n++) {
			MDB_val key = {8, kb}, val;
			rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
			if (rc == MDB_NOTFOUND || (rc == 0 && (key.mv_size < 8 || memcmp(key.mv_data, kb, 8) != 0))) {
				rc = 0;
				op->gc_done = 1;
				break;
			}
			if (rc == 0)
				rc = mdb_cursor_del(c, 0);
			if (rc != 0)
				break;
		}
		mdb_cursor_close(c);
	}
	op->deleted = n;
	return ix_commit(s, t, rc, "cannot delete an old run", err, errlen);
}

static int ix_fn(struct txg_store *s, void *arg, char *err, size_t errlen)
{
	struct ixop *op = arg;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc;
	switch (op->kind) {
	case OP_FRESH:
		rc = op_fresh(s, op, err, errlen);
		break;
	case OP_MERGE:
		rc = op_merge(s, op, err, errlen);
		break;
	default:
		rc = op_gc(s, op, err, errlen);
		break;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	s->ix.us[op->kind] += (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
	return rc;
}

static int gc_push(struct indexer *x, uint64_t id, unsigned tbl)
{
	if (x->ngc == x->gc_cap) {
		size_t nc = x->gc_cap ? 2 * x->gc_cap : 16;
		uint64_t *g = realloc(x->gc, nc * sizeof *g);
		if (!g)
			return -1;
		x->gc = g;
		unsigned *gt = realloc(x->gc_tbl, nc * sizeof *gt);
		if (!gt)
			return -1;
		x->gc_tbl = gt;
		x->gc_cap = nc;
	}
	x->gc[x->ngc] = id;
	x->gc_tbl[x->ngc++] = tbl;
	return 0;
}

/* Insert run r at position pos of the list (under mu). 0 or -1. */
static int runs_insert(struct indexer *x, size_t pos, const struct run *r)
{
	if (x->nruns == x->runs_cap) {
		size_t nc = x->runs_cap ? 2 * x->runs_cap : 16;
		struct run *p = realloc(x->runs, nc * sizeof *p);
		if (!p)
			return -1;
		x->runs = p;
		x->runs_cap = nc;
	}
	memmove(&x->runs[pos + 1], &x->runs[pos], (x->nruns - pos) * sizeof *x->runs);
	x->runs[pos] = *r;
	x->nruns++;
	return 0;
}

/* Index the committed pending entries (whole blocks, at most 4 x run_txs).
 * 0, 1 nothing to index, -1 (err). */
static int ix_fresh(struct txg_store *s, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	pthread_mutex_lock(&x->mu);
	uint64_t n = 0, lo = x->indexed + 1, hi = x->indexed, avail = pend_n(x);
	while (n < avail) {
		const struct pent *e = pend_at(x, x->head_seq + n);
		if (e->height > x->committed || (n >= x->run_max && e->height != hi))
			break;
		hi = e->height;
		n++;
	}
	struct pent *buf = n ? malloc(n * sizeof *buf) : NULL;
	for (uint64_t j = 0; buf && j < n; j++)
		buf[j] = *pend_at(x, x->head_seq + j);
	pthread_mutex_unlock(&x->mu);
	if (n == 0)
		return 1; /* (blocks without records: a damaged ledger; verify says so) */
	if (!buf) {
		txg_errf(err, errlen, "ledger at %s: indexer: out of memory", s->path);
		return -1;
	}
	qsort(buf, n, sizeof *buf, ent_cmp);
	struct run *base = x->nruns && x->runs[0].id == 0 ? &x->runs[0] : NULL;
	struct ixop op = {.kind = OP_FRESH, .e = buf, .n = n, .lo = lo, .hi = hi};
	op.to_base = (x->nruns == 0 || (x->nruns == 1 && base)) &&
		     (base ? base->count : 0) + n <= x->base_max;
	op.base_count = base ? base->count : 0;
	op.tbl = x->cur[0];
	struct run nr = {.id = op.to_base ? 0 : x->next_id, .lo = lo, .hi = hi, .count = n, .tbl = op.tbl};
	if (op.to_base && !base) {
		nr.lo = 1;
		nr.tbl = TBL_BASE;
	}
	op.run_id = nr.id;
	int rc = with_growth(s, ix_fn, &op, err, errlen);
	if (rc != 0) {
		free(buf);
		x->fatal = op.fatal;
		return -1;
	}
	pthread_mutex_lock(&x->mu);
	if (op.to_base) {
		if (!base) {
			nr.count = 0;
			if (runs_insert(x, 0, &nr) != 0)
				x->fatal = 1; /* lookups would miss the run: stop */
		}
		if (!x->fatal) {
			base = &x->runs[0];
			base->count += n;
			base->hi = hi;
		}
	} else {
		x->next_id++;
		if (runs_insert(x, x->nruns, &nr) != 0)
			x->fatal = 1; /* lookups would miss the run: stop */
		x->runs_written++;
	}
	for (uint64_t j = 0; j < n; j++)
		gf_add(x, buf[j].id);
	pend_pop(x, n);
	x->indexed = hi;
	pthread_cond_broadcast(&x->done);
	pthread_mutex_unlock(&x->mu);
	free(buf);
	if (x->fatal) {
		txg_errf(err, errlen, "ledger at %s: indexer: out of memory", s->path);
		return -1;
	}
	return 0;
}

/* Runs of table tb in the list: how many, the first's position. */
static size_t runs_in(const struct indexer *x, unsigned tb, size_t *first)
{
	size_t n = 0;
	for (size_t i = 0; i < x->nruns; i++)
		if (x->runs[i].id != 0 && x->runs[i].tbl == tb) {
			if (!n)
				*first = i;
			n++;
		}
	return n;
}

/* Start a merge: a level's table that is not taking new runs and still
 * holds some (a merge cut short), or the one that is, once it holds
 * FANOUT runs (new runs then go to the other). 1 started, 0 none. */
static int mg_pick(struct txg_store *s)
{
	struct indexer *x = &s->ix;
	struct merge *m = &x->mg;
	for (unsigned L = 0; L < NLEV; L++) {
		unsigned tcur = 2 * L + x->cur[L], toth = 2 * L + 1 - x->cur[L];
		size_t first = 0, n = runs_in(x, toth, &first);
		unsigned tb = toth;
		if (n == 0) {
			n = runs_in(x, tcur, &first);
			if (n < FANOUT)
				continue;
			tb = tcur;
		}
		/* they must be consecutive, in the list and in height */
		size_t j;
		for (j = 1; j < n; j++)
			if (first + j >= x->nruns || x->runs[first + j].tbl != tb ||
			    x->runs[first + j].lo != x->runs[first + j - 1].hi + 1)
				break;
		if (j < n)
			continue;
		memset(m, 0, sizeof *m);
		m->in = calloc(n, sizeof *m->in);
		uint64_t total = 0;
		for (j = 0; j < n; j++)
			total += x->runs[first + j].count;
		if (!m->in) {
			memset(m, 0, sizeof *m);
			return 0;
		}
		m->k = n;
		for (j = 0; j < n; j++)
			m->in[j].id = x->runs[first + j].id;
		m->in_tbl = tb;
		if (tb == tcur)
			x->cur[L] = 1 - x->cur[L];
		m->out_tbl = L + 1 < NLEV ? 2 * (L + 1) + x->cur[L + 1] : TBL_TOP;
		m->lo = x->runs[first].lo;
		m->hi = x->runs[first + n - 1].hi;
		m->expect = total;
		m->out_id = x->next_id++;
		m->active = 1;
		return 1;
	}
	return 0;
}

static int ix_merge_step(struct txg_store *s, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	struct merge *m = &x->mg;
	struct minput *save = malloc(m->k * sizeof *save);
	if (!save) {
		txg_errf(err, errlen, "ledger at %s: indexer: out of memory", s->path);
		return -1;
	}
	memcpy(save, m->in, m->k * sizeof *save);
	struct ixop op = {.kind = OP_MERGE};
	long nb = mg_read(s, &op.finished);
	if (nb < 0) {
		memcpy(m->in, save, m->k * sizeof *save);
		free(save);
		txg_errf(err, errlen, "ledger at %s: indexer: cannot read the runs to merge", s->path);
		return -1;
	}
	op.n = (uint64_t)nb;
	if (with_growth(s, ix_fn, &op, err, errlen) != 0) {
		memcpy(m->in, save, m->k * sizeof *save); /* retried from the same place */
		free(save);
		x->fatal = op.fatal;
		return -1;
	}
	free(save);
	if (op.swapped) {
		free(m->in);
		m->in = NULL;
		m->active = 0;
		return 0;
	}
	if (op.n)
		memcpy(m->last_out, x->mbuf[op.n - 1].id, 32);
	m->count += op.n;
	return 0;
}

static int ix_gc_step(struct txg_store *s, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	struct ixop op = {.kind = OP_GC, .gc_id = x->gc[x->ngc - 1], .gc_tbl = x->gc_tbl[x->ngc - 1]};
	if (with_growth(s, ix_fn, &op, err, errlen) != 0)
		return -1;
	if (op.gc_done)
		x->ngc--;
	return 0;
}

/* Put the ids of every run into the filter (the runs found at open), in
 * one read txn; then lookups trust it. Ids added meanwhile by new runs are
 * in it already (adding one twice does no harm). */
static int gf_build(struct txg_store *s, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	MDB_txn *t;
	if (rbegin(s, &t) != 0) {
		txg_errf(err, errlen, "ledger at %s: indexer: cannot begin read transaction", s->path);
		return -1;
	}
	/* the list changes only in this thread (and the base by commits, which
	 * add their ids themselves) */
	size_t nr = x->nruns;
	int rc = 0;
	for (size_t r = 0; r < nr && rc == 0; r++) {
		struct run rn = x->runs[r];
		MDB_cursor *c;
		rc = mdb_cursor_open(t, rn.tbl == TBL_BASE ? s->txidx : s->txrun[rn.tbl], &c);
		if (rc != 0)
			break;
		uint8_t kb[RKEY_LEN];
		memset(kb, 0, sizeof kb);
		be64(kb, rn.id);
		MDB_val key = {rn.tbl == TBL_BASE ? 32u : RKEY_LEN, kb}, val;
		rc = mdb_cursor_get(c, &key, &val, rn.tbl == TBL_BASE ? MDB_FIRST : MDB_SET_RANGE);
		unsigned batch = 0;
		pthread_mutex_lock(&x->mu);
		while (rc == 0) {
			if (rn.tbl == TBL_BASE) {
				if (key.mv_size == 32)
					gf_add(x, key.mv_data);
			} else {
				if (key.mv_size != RKEY_LEN || memcmp(key.mv_data, kb, 8) != 0)
					break;
				gf_add(x, (const uint8_t *)key.mv_data + 8);
			}
			if (++batch == 65536) { /* let commits in now and then */
				batch = 0;
				pthread_mutex_unlock(&x->mu);
				pthread_mutex_lock(&x->mu);
			}
			rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
		}
		pthread_mutex_unlock(&x->mu);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		mdb_cursor_close(c);
	}
	rend(s, t);
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: indexer: cannot read the runs: %s", s->path, mdb_strerror(rc));
		return -1;
	}
	pthread_mutex_lock(&x->mu);
	x->gf_ready = x->ngf > 0 || nr == 0; /* (gf_add switched it off if out of memory) */
	pthread_mutex_unlock(&x->mu);
	return 0;
}

static void *ix_main(void *arg)
{
	struct txg_store *s = arg;
	struct indexer *x = &s->ix;
	char err[1024];
	unsigned backoff = 0;
	pthread_mutex_lock(&x->mu);
	for (;;) {
		if (x->failed)
			break;
		uint64_t now = now_ms();
		int fresh = x->committed > x->indexed &&
			    (x->stop || x->flush_to > x->indexed ||
			     (!x->paused && (pend_n(x) >= x->run_txs || now - x->last_commit_ms >= IDLE_MS ||
					     now - x->last_fresh_ms >= MAX_AGE_MS)));
		if (!fresh && x->stop)
			break;
		/* the filter is needed (and built, by reading every run) only once
		 * the index has left a small base: until then the guard looks
		 * the base up, as format 1's commits did */
		int build = !x->gf_ready && !x->gf_failed &&
			    (x->nruns > 1 || (x->nruns == 1 && (x->runs[0].id != 0 || x->runs[0].count > x->base_max)));
		int other = !x->paused && !x->stop && (build || x->mg.active || x->ngc > 0);
		if (!fresh && !other && !x->paused && !x->stop) {
			other = mg_pick(s);
		}
		if (!fresh && !other) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(IDLE_MS / 2) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&x->wake, &x->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&x->mu);
		int rc;
		err[0] = 0;
		if (fresh) {
			rc = ix_fresh(s, err, sizeof err);
			x->last_fresh_ms = now_ms();
		}
		else if (build) {
			rc = gf_build(s, err, sizeof err);
			pthread_mutex_lock(&x->mu);
			if (rc == 0 && !x->gf_ready)
				x->gf_failed = 1; /* out of memory: lookups go to the runs for good */
			pthread_mutex_unlock(&x->mu);
		}
		else if (x->mg.active)
			rc = ix_merge_step(s, err, sizeof err);
		else
			rc = ix_gc_step(s, err, sizeof err);
		pthread_mutex_lock(&x->mu);
		if (rc == 1) { /* nothing could be done: wait, do not spin */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&x->wake, &x->mu, &ts);
			if (x->stop)
				break;
			continue;
		}
		if (rc == 0) {
			backoff = 0;
			x->erring = 0;
			continue;
		}
		/* An I/O error (a full disk...) is retried; commits go on until
		 * the lag reaches its bound, then fail with this reason. */
		snprintf(x->why, sizeof x->why, "%s", err[0] ? err : "unknown error");
		x->erring = 1;
		if (x->fatal || (x->stop && fresh)) {
			x->failed = x->fatal;
			pthread_cond_broadcast(&x->done);
			if (x->fatal)
				break;
			if (x->stop)
				break;
		}
		pthread_cond_broadcast(&x->done);
		backoff = backoff ? (backoff < 1000 ? backoff * 2 : 1000) : 50;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += backoff / 1000;
		ts.tv_nsec += (long)(backoff % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&x->wake, &x->mu, &ts);
	}
	pthread_cond_broadcast(&x->done);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}


/* --- the index at open, and the indexer's life --- */

static int desc_decode(const MDB_val *k, const MDB_val *v, struct run *r)
{
	if (k->mv_size != 8 || v->mv_size != DESC_LEN)
		return -1;
	const uint8_t *p = k->mv_data, *q = v->mv_data;
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 8; i++)
		r->id = r->id << 8 | p[i];
	r->lo = txg_ld64(q);
	r->hi = txg_ld64(q + 8);
	r->count = txg_ld64(q + 16);
	r->tbl = q[24];
	if (r->tbl > TBL_BASE || (r->tbl == TBL_BASE) != (r->id == 0) || r->lo > r->hi)
		return -1;
	return 0;
}

static int run_lo_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Read the descriptors and the watermark in t; check that the runs tile
 * heights 1..W and W <= head. 0; 1 inconsistent (why); -1 read error. */
static int load_runs(struct txg_store *s, MDB_txn *t, struct run **out, size_t *nout, uint64_t *w, uint64_t head,
		     char *why, size_t whylen)
{
	*out = NULL;
	*nout = 0;
	if (!s->has_runs) { /* a format 1 ledger read as it is: txidx covers it all */
		*w = head;
		if (head == 0)
			return 0;
		struct run *r = calloc(1, sizeof *r);
		MDB_stat ms;
		if (!r || mdb_stat(t, s->txidx, &ms) != 0) {
			free(r);
			return -1;
		}
		*r = (struct run){.id = 0, .lo = 1, .hi = head, .count = ms.ms_entries, .tbl = TBL_BASE};
		*out = r;
		*nout = 1;
		return 0;
	}
	int found;
	if (get_u64(t, s->meta, K_INDEXED, w, &found) != 0)
		return -1;
	if (!found) {
		snprintf(why, whylen, "meta has no '%s'", K_INDEXED);
		return 1;
	}
	MDB_cursor *c;
	if (mdb_cursor_open(t, s->txruns, &c) != 0)
		return -1;
	struct run *v = NULL;
	size_t n = 0, cap = 0;
	MDB_val k, val;
	int rc = mdb_cursor_get(c, &k, &val, MDB_FIRST), ret = 0;
	while (rc == 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct run *p = realloc(v, cap * sizeof *p);
			if (!p) {
				ret = -1;
				break;
			}
			v = p;
		}
		if (desc_decode(&k, &val, &v[n]) != 0) {
			snprintf(why, whylen, "a run descriptor does not decode");
			ret = 1;
			break;
		}
		n++;
		rc = mdb_cursor_get(c, &k, &val, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = -1;
	if (ret == 0) {
		if (n)
			qsort(v, n, sizeof *v, run_lo_cmp);
		uint64_t next = 1;
		for (size_t i = 0; i < n && ret == 0; i++) {
			if (v[i].lo != next || (v[i].id == 0 && i != 0)) {
				snprintf(why, whylen, "run %" PRIu64 " covers heights %" PRIu64 "-%" PRIu64 ", expected from %" PRIu64,
					 v[i].id, v[i].lo, v[i].hi, next);
				ret = 1;
			}
			next = v[i].hi + 1;
		}
		if (ret == 0 && next - 1 != *w) {
			snprintf(why, whylen, "the runs cover heights up to %" PRIu64 ", the watermark is %" PRIu64, next - 1, *w);
			ret = 1;
		}
		if (ret == 0 && *w > head) {
			snprintf(why, whylen, "the watermark %" PRIu64 " is above the head %" PRIu64, *w, head);
			ret = 1;
		}
	}
	if (ret != 0) {
		free(v);
		return ret;
	}
	*out = v;
	*nout = n;
	return 0;
}

struct pend_fill {
	struct indexer *x;
	int bad;
	uint32_t bad_index;
};

static int pend_fill_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct pend_fill *f = arg;
	struct txg_rec_view rv;
	if (txg_record_view(rec, len, &rv) != 0) {
		f->bad = 1;
		f->bad_index = index;
		return 1;
	}
	uint8_t id[32];
	txg_tx_id(rv.body, rv.body_len, id);
	if (pend_room(f->x, 1) != 0) {
		f->bad = 2;
		return 1;
	}
	pend_add(f->x, id, height, index);
	return 0;
}

static int block_txs_t(struct txg_store *s, MDB_txn *t, uint64_t height, txg_store_tx_cb cb, void *arg);

/* The writer's index state at open: runs, stale runs to delete, and the
 * blocks above the watermark (a crash may have come before they were
 * indexed) read back into the pending entries. 0, or -1 with err. */
static int ix_load(struct txg_store *s, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	MDB_txn *t;
	if (rbegin(s, &t) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot begin read transaction", s->path);
		return -1;
	}
	struct txg_store_head h;
	char why[512] = "";
	int ret = -1;
	uint64_t w = 0;
	if (read_head(t, s->meta, &h) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot read head", s->path);
		goto out;
	}
	int rc = load_runs(s, t, &x->runs, &x->nruns, &w, h.height, why, sizeof why);
	if (rc != 0) {
		if (rc == 1)
			txg_errf(err, errlen,
				 "ledger at %s: its tx index is inconsistent (%s): run `txgatectl ledger --ledger %s verify` "
				 "and restore the ledger from a backup",
				 s->path, why, s->path);
		else
			txg_errf(err, errlen, "ledger at %s: cannot read the tx index's runs", s->path);
		goto out;
	}
	x->runs_cap = x->nruns;
	x->next_id = 1;
	uint64_t newest[NTBL] = {0};
	for (size_t i = 0; i < x->nruns; i++) {
		if (x->runs[i].id >= x->next_id)
			x->next_id = x->runs[i].id + 1;
		if (x->runs[i].tbl < NTBL && x->runs[i].id > newest[x->runs[i].tbl])
			newest[x->runs[i].tbl] = x->runs[i].id;
	}
	/* Each level takes new runs in the table that holds its newest run. */
	for (unsigned L = 0; L < NLEV; L++)
		x->cur[L] = newest[2 * L + 1] > newest[2 * L];
	/* Entries of runs no descriptor names (a merge cut short by a crash, or
	 * inputs not yet deleted): to be deleted. */
	for (unsigned tb = 0; tb < NTBL; tb++) {
		MDB_cursor *c;
		if (mdb_cursor_open(t, s->txrun[tb], &c) != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot read the tx index", s->path);
			goto out;
		}
		uint8_t kb[8];
		memset(kb, 0, 8);
		for (;;) {
			MDB_val k = {8, kb}, v;
			if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) != 0 || k.mv_size < 8)
				break;
			uint64_t id = 0;
			for (int i = 0; i < 8; i++)
				id = id << 8 | ((const uint8_t *)k.mv_data)[i];
			int named = 0;
			for (size_t i = 0; i < x->nruns; i++)
				named |= x->runs[i].id == id && x->runs[i].tbl == tb;
			if (!named && gc_push(x, id, tb) != 0)
				break;
			if (id >= x->next_id)
				x->next_id = id + 1;
			if (id == UINT64_MAX)
				break;
			be64(kb, id + 1);
		}
		mdb_cursor_close(c);
	}
	struct pend_fill f = {.x = x};
	for (uint64_t hh = w + 1; hh <= h.height; hh++) {
		int r = block_txs_t(s, t, hh, pend_fill_cb, &f);
		if (r != 0) {
			if (f.bad == 1)
				txg_errf(err, errlen,
					 "ledger at %s: block %" PRIu64 " index %" PRIu32
					 " is not a well-formed record: run `txgatectl ledger --ledger %s verify`",
					 s->path, hh, f.bad_index, s->path);
			else if (f.bad == 2)
				txg_errf(err, errlen, "ledger at %s: out of memory", s->path);
			else
				txg_errf(err, errlen, "ledger at %s: cannot read block %" PRIu64 " to index it", s->path, hh);
			goto out;
		}
	}
	x->gf_ready = x->nruns == 0;
	x->indexed = w;
	x->committed = h.height;
	x->last_commit_ms = now_ms();
	x->last_fresh_ms = x->last_commit_ms;
	ret = 0;
out:
	rend(s, t);
	return ret;
}

static void ix_free(struct indexer *x)
{
	free(x->runs);
	for (size_t k = 0; k < x->ngf; k++)
		free(x->gf[k].w);
	free(x->gf);
	free(x->mg.in);
	free(x->mbuf);
	free(x->ring);
	free(x->slots);
	free(x->gc);
	free(x->gc_tbl);
}

/* Load the index state and start the indexer thread (writer). 0 or -1. */
static int ix_start(struct txg_store *s, const struct txg_store_opts *o, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	x->lag_max = o->index_lag_max ? o->index_lag_max : DEF_LAG_MAX;
	x->run_txs = o->index_run_txs ? o->index_run_txs : RUN_TXS;
	x->run_max = 4 * x->run_txs;
	x->base_max = o->index_base_max ? o->index_base_max : BASE_MAX;
	if (ix_load(s, err, errlen) != 0)
		return -1;
	int rc = pthread_create(&x->thr, NULL, ix_main, s);
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot start the indexer: %s", s->path, strerror(rc));
		return -1;
	}
	pthread_setname_np(x->thr, "txg-index");
	x->started = 1;
	return 0;
}

/* Stop the indexer: it first indexes every committed block (a clean close
 * leaves the watermark at the head), unless it cannot write. */
static void ix_stop(struct txg_store *s)
{
	struct indexer *x = &s->ix;
	if (x->started) {
		pthread_mutex_lock(&x->mu);
		x->stop = 1;
		pthread_cond_signal(&x->wake);
		pthread_mutex_unlock(&x->mu);
		pthread_join(x->thr, NULL);
		x->started = 0;
	}
}

int txg_store_index_flush(struct txg_store *s, char *err, size_t errlen)
{
	struct indexer *x = &s->ix;
	if (s->readonly || !x->started)
		return 0;
	pthread_mutex_lock(&x->mu);
	uint64_t target = x->committed;
	if (x->flush_to < target)
		x->flush_to = target;
	pthread_cond_signal(&x->wake);
	int rc = 0;
	while (x->indexed < target) {
		if (x->failed || x->erring) {
			txg_errf(err, errlen, "ledger at %s: the tx index cannot be written: %s", s->path, x->why);
			rc = -1;
			break;
		}
		pthread_cond_wait(&x->done, &x->mu);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void txg_store_index_pause(struct txg_store *s, int paused)
{
	struct indexer *x = &s->ix;
	if (s->readonly)
		return;
	pthread_mutex_lock(&x->mu);
	x->paused = paused != 0;
	pthread_cond_signal(&x->wake);
	pthread_mutex_unlock(&x->mu);
}

int txg_store_index_info(struct txg_store *s, struct txg_store_index_info *ii)
{
	memset(ii, 0, sizeof *ii);
	struct indexer *x = &s->ix;
	if (s->readonly || !x->started) {
		struct txg_store_stats st;
		if (txg_store_stats(s, &st) != 0)
			return -1;
		ii->head = st.head.height;
		ii->indexed = st.indexed;
		ii->runs = st.index_runs;
		ii->entries = st.index_entries;
		return 0;
	}
	pthread_mutex_lock(&x->mu);
	ii->head = x->committed;
	ii->indexed = x->indexed;
	ii->lag_txs = pend_n(x);
	ii->max_lag_txs = x->max_lag;
	ii->lag_bound = x->lag_max;
	ii->runs = x->nruns;
	for (size_t i = 0; i < x->nruns; i++)
		ii->entries += x->runs[i].count;
	ii->filters_ready = x->gf_ready ? x->nruns : 0;
	ii->runs_written = x->runs_written;
	ii->merges = x->merges_done;
	ii->backpressure_us = x->wait_us;
	memcpy(ii->write_us, x->us, sizeof ii->write_us);
	ii->guard_gets = x->guard_gets;
	ii->failed = x->failed || x->erring;
	if (ii->failed)
		snprintf(ii->why, sizeof ii->why, "%.200s", x->why);
	pthread_mutex_unlock(&x->mu);
	return 0;
}

int txg_store_sync_err(struct txg_store *s, char *err, size_t errlen)
{
	if (s->readonly)
		return 0;
	pthread_rwlock_rdlock(&s->lk);
	int rc = mdb_env_sync(s->env, 1);
	pthread_rwlock_unlock(&s->lk);
	if (rc == 0)
		return 0;
	char why[4608];
	io_reason(why, sizeof why, rc, s->path, "the ledger's", 0);
	txg_errf(err, errlen, "ledger at %s: sync failed: %s", s->path, why);
	return -1;
}

int txg_store_sync(struct txg_store *s) { return txg_store_sync_err(s, NULL, 0); }

/* n bytes as "N MiB" (rounded down, or up with up) or, below 1 MiB, "N KiB". */
static void fmt_size(char *out, size_t n, uint64_t bytes, int up)
{
	uint64_t mib = (bytes >> 20) + (up && (bytes & ((1u << 20) - 1)) != 0);
	if (bytes >= (1u << 20) || up)
		snprintf(out, n, "%" PRIu64 " MiB", mib);
	else
		snprintf(out, n, "%" PRIu64 " KiB", bytes >> 10);
}

int txg_store_space(struct txg_store *s, struct txg_store_space *sp)
{
	memset(sp, 0, sizeof *sp);
	if (fs_free(s->path, &sp->free_bytes) != 0)
		return -1;
	char f[4200];
	struct stat st;
	snprintf(f, sizeof f, "%s/data.mdb", s->path);
	if (stat(f, &st) != 0)
		return -1;
	sp->file_bytes = (uint64_t)st.st_blocks * 512;
	MDB_envinfo ei;
	pthread_rwlock_rdlock(&s->lk);
	int rc = mdb_env_info(s->env, &ei);
	pthread_rwlock_unlock(&s->lk);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	sp->map_bytes = ei.me_mapsize;
	sp->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * s->psize;
	sp->grow_bytes = sp->map_bytes > sp->file_bytes ? sp->map_bytes - sp->file_bytes : 0;
	return 0;
}

int txg_store_space_check(struct txg_store *s, uint64_t min_free, char *msg, size_t msglen)
{
	struct txg_store_space sp;
	if (txg_store_space(s, &sp) != 0) {
		txg_errf(msg, msglen, "ledger at %s: cannot read free space: %s", s->path, strerror(errno));
		return -1;
	}
	char fr[32], nd[32], gr[32];
	fmt_size(fr, sizeof fr, sp.free_bytes, 0);
	fmt_size(nd, sizeof nd, min_free, 1);
	fmt_size(gr, sizeof gr, sp.grow_bytes, 0);
	if (sp.free_bytes >= min_free) {
		txg_errf(msg, msglen, "ledger at %s: %s free on its filesystem", s->path, fr);
		return 0;
	}
	txg_errf(msg, msglen,
		 "ledger at %s: only %s free on its filesystem, need at least %s: free space or move the ledger"
		 " (data.mdb can grow by %s more within its current map)",
		 s->path, fr, nd, gr);
	return 1;
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

/* What a reader needs to answer tx_id lookups in one snapshot: the runs and
 * watermark as of it, and (built when first needed) the ids of the blocks
 * above the watermark. */
struct ictx {
	int loaded;
	uint64_t w, h;
	struct run *runs;
	size_t nruns;
	struct pent *above;
	size_t nabove, above_cap;
	int above_built;
};

static void ictx_free(struct ictx *c)
{
	free(c->runs);
	free(c->above);
	memset(c, 0, sizeof *c);
}

/* 0, 1 the index is inconsistent (why), -1 read error. */
static int ictx_load(struct txg_store *s, MDB_txn *t, struct ictx *c, char *why, size_t whylen)
{
	if (c->loaded)
		return 0;
	struct txg_store_head h;
	if (read_head(t, s->meta, &h) != 0)
		return -1;
	if (!s->has_runs) {
		uint64_t w;
		int found;
		if (get_u64(t, s->meta, K_INDEXED, &w, &found) != 0)
			return -1;
		if (found) { /* upgraded by a writer since this handle opened */
			snprintf(why, whylen, "the ledger was upgraded to format %u while open: open it again",
				 TXG_STORE_FORMAT);
			return 1;
		}
	}
	c->h = h.height;
	int rc = load_runs(s, t, &c->runs, &c->nruns, &c->w, h.height, why, whylen);
	if (rc != 0)
		return rc;
	c->loaded = 1;
	return 0;
}

static int above_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct ictx *c = arg;
	struct txg_rec_view rv;
	if (txg_record_view(rec, len, &rv) != 0)
		return 0; /* no id: verify reports the record itself */
	if (c->nabove == c->above_cap) {
		size_t nc = c->above_cap ? 2 * c->above_cap : 1024;
		struct pent *p = realloc(c->above, nc * sizeof *p);
		if (!p)
			return -1;
		c->above = p;
		c->above_cap = nc;
	}
	struct pent *e = &c->above[c->nabove++];
	txg_tx_id(rv.body, rv.body_len, e->id);
	e->height = height;
	e->index = index;
	return 0;
}

/* Stable order: by id, then by location (the first occurrence first). */
static int above_cmp(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;
	int r = memcmp(x->id, y->id, 32);
	if (r)
		return r;
	if (x->height != y->height)
		return x->height < y->height ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Look id up in the snapshot t described by c: the runs, then the blocks
 * above the watermark (the writer's pending entries when they are exactly
 * those, else the blocks read back). 0 found, 1 not, -1 error. */
static int find_in(struct txg_store *s, MDB_txn *t, struct ictx *c, const uint8_t id[32], uint64_t *height,
		   uint32_t *index)
{
	char why[256];
	if (ictx_load(s, t, c, why, sizeof why) != 0)
		return -1;
	for (size_t r = c->nruns; r-- > 0;) {
		int rc = run_get(s, t, c->runs[r].id, c->runs[r].tbl, id, height, index);
		if (rc != 1)
			return rc;
	}
	if (c->h <= c->w)
		return 1;
	struct indexer *x = &s->ix;
	if (!s->readonly && x->started) {
		pthread_mutex_lock(&x->mu);
		if (x->indexed == c->w) {
			const struct pent *e = pend_find(x, id);
			int rc = 1;
			if (e && e->height <= c->h) {
				*height = e->height;
				*index = e->index;
				rc = 0;
			}
			pthread_mutex_unlock(&x->mu);
			return rc;
		}
		pthread_mutex_unlock(&x->mu);
	}
	if (!c->above_built) {
		for (uint64_t h = c->w + 1; h <= c->h; h++)
			if (block_txs_t(s, t, h, above_cb, c) < 0)
				return -1;
		if (c->nabove)
			qsort(c->above, c->nabove, sizeof *c->above, above_cmp);
		c->above_built = 1;
	}
	size_t lo = 0, hi = c->nabove;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(c->above[mid].id, id, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nabove && !memcmp(c->above[lo].id, id, 32)) {
		*height = c->above[lo].height;
		*index = c->above[lo].index;
		return 0;
	}
	return 1;
}

static int find_tx_t(struct txg_store *s, MDB_txn *t, const uint8_t id[32], uint64_t *height, uint32_t *index)
{
	struct ictx c;
	memset(&c, 0, sizeof c);
	int rc = find_in(s, t, &c, id, height, index);
	ictx_free(&c);
	return rc;
}

/* Transactions in blocks from+1..to, from their headers. 0 or -1. */
static int txs_between(struct txg_store *s, MDB_txn *t, uint64_t from, uint64_t to, uint64_t *n)
{
	*n = 0;
	for (uint64_t h = from + 1; h <= to; h++) {
		uint8_t raw[TXG_HDR_LEN];
		struct txg_block_hdr hd;
		if (get_header_t(s, t, h, raw) != 0 || txg_hdr_decode(raw, &hd) != 0)
			return -1;
		*n += hd.tx_count;
	}
	return 0;
}

static int stats_c(struct txg_store *s, MDB_txn *t, struct ictx *ic, struct txg_store_stats *st)
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
	char why[256];
	if (ictx_load(s, t, ic, why, sizeof why) != 0)
		return -1;
	uint64_t above;
	if (txs_between(s, t, ic->w, ic->h, &above) != 0)
		return -1;
	st->index_entries = c.ms_entries;
	for (size_t i = 0; i < ic->nruns; i++)
		if (ic->runs[i].id != 0)
			st->index_entries += ic->runs[i].count;
	st->indexed = ic->w;
	st->index_runs = ic->nruns;
	st->txidx = st->index_entries + above;
	MDB_envinfo ei;
	mdb_env_info(s->env, &ei);
	st->map_size = ei.me_mapsize;
	st->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * a.ms_psize;
	return 0;
}

static int stats_t(struct txg_store *s, MDB_txn *t, struct txg_store_stats *st)
{
	struct ictx c;
	memset(&c, 0, sizeof c);
	int rc = stats_c(s, t, &c, st);
	ictx_free(&c);
	return rc;
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
	struct ictx ic;
};

int txg_store_snap_begin(struct txg_store *s, struct txg_store_snap **out)
{
	*out = NULL;
	struct txg_store_snap *sn = calloc(1, sizeof *sn);
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
	ictx_free(&sn->ic);
	free(sn);
}

int txg_store_snap_head(struct txg_store_snap *sn, struct txg_store_head *h) { return head_t(sn->s, sn->t, h); }
int txg_store_snap_get_header(struct txg_store_snap *sn, uint64_t height, uint8_t hdr[96])
{
	return get_header_t(sn->s, sn->t, height, hdr);
}
int txg_store_snap_find_tx(struct txg_store_snap *sn, const uint8_t id[32], uint64_t *height, uint32_t *index)
{
	return find_in(sn->s, sn->t, &sn->ic, id, height, index);
}
int txg_store_snap_block_txs(struct txg_store_snap *sn, uint64_t height, txg_store_tx_cb cb, void *arg)
{
	return block_txs_t(sn->s, sn->t, height, cb, arg);
}
int txg_store_snap_stats(struct txg_store_snap *sn, struct txg_store_stats *st)
{
	return stats_c(sn->s, sn->t, &sn->ic, st);
}

int txg_store_backup(struct txg_store *s, const char *dir, char *err, size_t errlen)
{
	if (!dir || !*dir) {
		txg_errf(err, errlen, "backup: no directory given");
		return -1;
	}
	if (strlen(dir) > 4000) {
		txg_errf(err, errlen, "backup to %.64s...: path too long", dir);
		return -1;
	}
	char who[4100];
	snprintf(who, sizeof who, "backup to %s", dir);
	if (mkdir_p(dir, who, err, errlen) != 0)
		return -1;
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
		char why[4608];
		struct txg_store_space sp;
		uint64_t need = txg_store_space(s, &sp) == 0 ? sp.used_bytes : 0;
		io_reason(why, sizeof why, rc, dir, "the backup's", need);
		txg_errf(err, errlen, "backup of %s to %s failed: %s", s->path, dir, why);
		if (rc != EEXIST)
			unlink(f); /* never leave a partial copy that looks like a ledger */
		return -1;
	}
	/* The copy and its directory entry on disk before we say it is written. */
	int fd = open(f, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0 || fsync_dir(dir) != 0) {
		int e = errno;
		char why[4608];
		io_reason(why, sizeof why, e, dir, "the backup's", 0);
		txg_errf(err, errlen, "backup of %s to %s: cannot flush the copy: %s", s->path, dir, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* --- verification of the index against the blocks (txg_store_snap_index_check) --- */

static int ick_fail(struct txg_index_problem *p, uint64_t height, int64_t index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int ick_fail(struct txg_index_problem *p, uint64_t height, int64_t index, const char *fmt, ...)
{
	p->height = height;
	p->index = index;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof p->what, fmt, ap);
	va_end(ap);
	return 1;
}

/* Check one entry (id -> h/i) of run r: 0, 1 problem, -1 read error. */
static int ick_entry(struct txg_store *s, MDB_txn *t, const struct run *r, const uint8_t *id, const MDB_val *val,
		     uint64_t w, struct txg_index_problem *p)
{
	char hex[65];
	txg_hex(id, 32, hex);
	if (val->mv_size != TXIDX_VAL_LEN)
		return ick_fail(p, r->hi, -1, "txidx entry for tx %s has a value of %zu bytes", hex, val->mv_size);
	uint64_t h = txg_ld64(val->mv_data);
	uint32_t i = txg_ld32((const uint8_t *)val->mv_data + 8);
	txg_progress_at(TXG_AT_TXIDX, h, i);
	if (h < r->lo || h > r->hi || h > w)
		return ick_fail(p, h, i, "txidx entry for tx %s points here, outside its run (heights %" PRIu64 "-%" PRIu64
			       ", watermark %" PRIu64 ")", hex, r->lo, r->hi, w);
	uint8_t tk[12];
	be64(tk, h);
	be32(tk + 8, i);
	MDB_val key = {12, tk}, rec;
	int rc = mdb_get(t, s->txs, &key, &rec);
	if (rc == MDB_NOTFOUND)
		return ick_fail(p, h, i, "txidx entry for tx %s points to a record that does not exist", hex);
	if (rc != 0)
		return -1;
	struct txg_rec_view rv;
	uint8_t got[32];
	if (txg_record_view(rec.mv_data, rec.mv_size, &rv) != 0)
		return ick_fail(p, h, i, "record is not well formed (%zu bytes)", rec.mv_size);
	txg_tx_id(rv.body, rv.body_len, got);
	if (memcmp(got, id, 32) != 0)
		return ick_fail(p, h, i, "txidx entry for tx %s points here, but this record is another tx", hex);
	return 0;
}

int txg_store_snap_index_check(struct txg_store_snap *sn, uint64_t total_txs, struct txg_index_problem *p)
{
	struct txg_store *s = sn->s;
	MDB_txn *t = sn->t;
	memset(p, 0, sizeof *p);
	p->index = -1;
	char why[256];
	int rc = ictx_load(s, t, &sn->ic, why, sizeof why);
	if (rc != 0) {
		if (rc < 0)
			snprintf(p->what, sizeof p->what, "cannot read the tx index's runs (LMDB read error)");
		else
			snprintf(p->what, sizeof p->what, "tx index: %s", why);
		return rc;
	}
	struct ictx *c = &sn->ic;
	uint64_t above;
	if (txs_between(s, t, c->w, c->h, &above) != 0) {
		snprintf(p->what, sizeof p->what, "cannot read the headers above the index watermark %" PRIu64, c->w);
		return -1;
	}
	uint64_t total = 0;
	for (size_t r = 0; r < c->nruns; r++) {
		const struct run *rn = &c->runs[r];
		MDB_cursor *cur;
		int base = rn->tbl == TBL_BASE;
		if (mdb_cursor_open(t, base ? s->txidx : s->txrun[rn->tbl], &cur) != 0)
			return -1;
		uint8_t kb[RKEY_LEN];
		memset(kb, 0, sizeof kb);
		be64(kb, rn->id);
		MDB_val key = {base ? 32u : RKEY_LEN, kb}, val;
		uint64_t n = 0;
		int ret = 0;
		rc = mdb_cursor_get(cur, &key, &val, base ? MDB_FIRST : MDB_SET_RANGE);
		while (rc == 0) {
			const uint8_t *id;
			if (base) {
				if (key.mv_size != 32) {
					ret = ick_fail(p, rn->hi, -1, "txidx holds a key of %zu bytes", key.mv_size);
					break;
				}
				id = key.mv_data;
			} else {
				if (key.mv_size != RKEY_LEN || memcmp(key.mv_data, kb, 8) != 0)
					break;
				id = (const uint8_t *)key.mv_data + 8;
			}
			n++;
			if ((ret = ick_entry(s, t, rn, id, &val, c->w, p)) != 0)
				break;
			rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
		}
		mdb_cursor_close(cur);
		if (ret != 0)
			return ret;
		if (rc != 0 && rc != MDB_NOTFOUND) {
			snprintf(p->what, sizeof p->what, "cannot read the tx index (LMDB read error)");
			return -1;
		}
		if (n != rn->count && (s->has_runs || !base))
			return ick_fail(p, rn->hi, -1,
					"tx index run %" PRIu64 " (heights %" PRIu64 "-%" PRIu64 ") holds %" PRIu64
					" entries, its descriptor says %" PRIu64,
					rn->id, rn->lo, rn->hi, n, rn->count);
		total += n;
	}
	if (total + above != total_txs)
		return ick_fail(p, c->w, -1,
				"the tx index holds %" PRIu64 " entries for the %" PRIu64
				" transactions up to its watermark (height %" PRIu64 ")",
				total, total_txs >= above ? total_txs - above : 0, c->w);
	return 0;
}

/* --- the start-up probe's look at the index (probe.c, in a contained child) --- */

struct iprobe {
	int bad;
	uint64_t height;
	uint32_t index;
};

static int iprobe_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct iprobe *p = arg;
	struct txg_rec_view rv;
	txg_progress_at(TXG_AT_RECORDS, height, index);
	if (txg_record_view(rec, len, &rv) != 0) {
		p->bad = 1;
		p->height = height;
		p->index = index;
		return 1;
	}
	return 0;
}

int txg_store_index_probe(struct txg_store *s, char *err, size_t errlen)
{
	if (!s->has_runs)
		return 0; /* format 1: the writer only upgrades meta */
	MDB_txn *t;
	if (rbegin(s, &t) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot begin read transaction", s->path);
		return -1;
	}
	int ret = -1;
	struct run *runs = NULL;
	size_t nruns = 0;
	uint64_t w = 0;
	struct txg_store_head h;
	char why[512];
	txg_progress_at(TXG_AT_TXIDX, 0, -1);
	if (read_head(t, s->meta, &h) != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot read head", s->path);
		goto out;
	}
	int rc = load_runs(s, t, &runs, &nruns, &w, h.height, why, sizeof why);
	if (rc == 1) {
		txg_errf(err, errlen,
			 "ledger at %s: its tx index is inconsistent (%s): run `txgatectl ledger --ledger %s verify` and "
			 "restore the ledger from a backup",
			 s->path, why, s->path);
		goto out;
	}
	if (rc != 0) {
		txg_errf(err, errlen, "ledger at %s: cannot read the tx index's runs", s->path);
		goto out;
	}
	/* what the writer's open reads: the run tables' key prefixes... */
	for (unsigned tb = 0; tb < NTBL; tb++) {
		MDB_cursor *c;
		if (mdb_cursor_open(t, s->txrun[tb], &c) != 0) {
			txg_errf(err, errlen, "ledger at %s: cannot read the tx index", s->path);
			goto out;
		}
		uint8_t kb[8];
		memset(kb, 0, 8);
		for (;;) {
			MDB_val k = {8, kb}, v;
			if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) != 0 || k.mv_size < 8)
				break;
			uint64_t id = 0;
			for (int i = 0; i < 8; i++)
				id = id << 8 | ((const uint8_t *)k.mv_data)[i];
			if (id == UINT64_MAX)
				break;
			be64(kb, id + 1);
		}
		mdb_cursor_close(c);
	}
	/* ...and the blocks above the watermark */
	struct iprobe p = {0};
	for (uint64_t hh = w + 1; hh <= h.height; hh++) {
		txg_progress_at(TXG_AT_RECORDS, hh, 0);
		if (block_txs_t(s, t, hh, iprobe_cb, &p) != 0) {
			if (p.bad)
				txg_errf(err, errlen,
					 "ledger at %s: block %" PRIu64 " index %" PRIu32
					 " is not a well-formed record: run `txgatectl ledger --ledger %s verify`",
					 s->path, p.height, p.index, s->path);
			else
				txg_errf(err, errlen, "ledger at %s: cannot read block %" PRIu64, s->path, hh);
			goto out;
		}
	}
	/* a small index (what the writer's duplicate guard will look up, or
	 * its filter read) is walked whole */
	uint64_t entries = 0;
	for (size_t r = 0; r < nruns; r++)
		entries += runs[r].count;
	if (entries <= 65536) {
		for (size_t r = 0; r < nruns; r++) {
			MDB_cursor *c;
			int base = runs[r].tbl == TBL_BASE;
			if (mdb_cursor_open(t, base ? s->txidx : s->txrun[runs[r].tbl], &c) != 0)
				break;
			uint8_t kb[RKEY_LEN];
			memset(kb, 0, sizeof kb);
			be64(kb, runs[r].id);
			MDB_val k = {base ? 32u : RKEY_LEN, kb}, v;
			int g = mdb_cursor_get(c, &k, &v, base ? MDB_FIRST : MDB_SET_RANGE);
			while (g == 0 && (base || (k.mv_size == RKEY_LEN && !memcmp(k.mv_data, kb, 8))))
				g = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			mdb_cursor_close(c);
		}
	}
	ret = 0;
out:
	free(runs);
	rend(s, t);
	return ret;
}
