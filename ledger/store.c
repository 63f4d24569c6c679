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
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "block.h"
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
#define HEAD_VAL_LEN 48u /* height LE8 | hash 32 | timestamp_ms LE8 */
#define TXIDX_VAL_LEN 12u /* height LE8 | index LE4 */

struct txg_store {
	MDB_env *env;
	MDB_dbi meta, headers, txs, txidx;
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
	io_reason(why, sizeof why, rc, s->path, "the ledger's", s->need);
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
			store_fail(s, rc, err, errlen, "cannot initialise meta");
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
				store_fail(s, rc, err, errlen, "cannot update max_ttl_ms");
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
	}
	*out = s;
	return 0;
fail:
	mdb_env_close(s->env);
fail_nolmdb:
	pthread_rwlock_destroy(&s->lk);
	drop_lock(s);
	free(s);
	return -1;
}

void txg_store_close(struct txg_store *s)
{
	if (!s)
		return;
	/* A clean close of a nosync writer flushes what it committed. */
	if (!s->readonly && s->nosync)
		mdb_env_sync(s->env, 1);
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->lk);
	drop_lock(s);
	free(s->seal_ids);
	free(s);
}

uint32_t txg_store_chain_id(const struct txg_store *s) { return s->chain_id; }
int txg_store_nosync(const struct txg_store *s) { return s->nosync; }
uint64_t txg_store_max_ttl(const struct txg_store *s) { return s->max_ttl; }

/* Disk bytes a write of nb blocks with recs records of `bytes` bytes may
 * need: the records, a page per record (txidx inserts land on random
 * leaves), a page per header and a few for meta and branches. */
static uint64_t write_need(const struct txg_store *s, size_t nb, uint64_t recs, uint64_t bytes)
{
	return bytes + (recs + nb + 4) * s->psize;
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

/* One attempt at a group commit. 0, -1 (err set), or MDB_MAP_FULL. */
static int commit_once(struct txg_store *s, const struct txg_store_block *b, size_t nb, char *err, size_t errlen)
{
	MDB_txn *t;
	struct txg_store_head head;
	int rc = begin_write(s, &t, &head, err, errlen);
	if (rc != 0)
		return rc;
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
				store_fail(s, rc, err, errlen, "put txidx %" PRIu64 "/%" PRIu32, h.height, j);
				goto fail;
			}
		}
		head.height = h.height;
		head.timestamp_ms = h.timestamp_ms;
		txg_block_hash(bk->hdr, head.hash);
	}
	return finish_write(s, t, &head, err, errlen);
full:
	mdb_txn_abort(t);
	return MDB_MAP_FULL;
fail:
	mdb_txn_abort(t);
	return -1;
}

typedef int (*write_fn)(struct txg_store *s, void *arg, char *err, size_t errlen);

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
	if (++s->commits >= STALE_CHECK_EVERY) {
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
	s->need = write_need(s, nb, recs, bytes);
	int rc = with_growth(s, commit_fn, &a, err, errlen);
	s->need = 0;
	return rc;
}

/* Put one record at (height, index), and its id into txidx unless the
 * ledger already holds it. 0 put, 1 known (oh, oi: where; nothing put),
 * MDB_MAP_FULL, or -1 with err. */
static int put_tx(struct txg_store *s, MDB_txn *t, const struct txg_store_tx *tx, uint64_t height, uint32_t index,
		  uint64_t *oh, uint32_t *oi, char *err, size_t errlen)
{
	uint8_t loc[TXIDX_VAL_LEN];
	txg_st64(loc, height);
	txg_st32(loc + 8, index);
	MDB_val ik = {32, (void *)tx->tx_id}, iv = {sizeof loc, loc};
	int rc = mdb_put(t, s->txidx, &ik, &iv, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		*oh = iv.mv_size == TXIDX_VAL_LEN ? txg_ld64(iv.mv_data) : 0;
		*oi = iv.mv_size == TXIDX_VAL_LEN ? txg_ld32((const uint8_t *)iv.mv_data + 8) : 0;
		return 1;
	}
	if (rc == 0) {
		uint8_t tk[12];
		be64(tk, height);
		be32(tk + 8, index);
		MDB_val k = {12, tk}, v = {tx->len, (void *)tx->rec};
		rc = mdb_put(t, s->txs, &k, &v, MDB_APPEND);
	}
	if (rc == MDB_MAP_FULL)
		return rc;
	if (rc != 0) {
		store_fail(s, rc, err, errlen, "put record %" PRIu64 "/%" PRIu32, height, index);
		return -1;
	}
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
	for (size_t i = 0; i < a->nb; i++) {
		struct txg_seal_block *bk = &a->b[i];
		uint64_t height = head.height + 1;
		bk->height = 0;
		bk->kept = 0;
		if (seal_room(s, bk->n) != 0) {
			txg_errf(err, errlen, "ledger at %s: out of memory sealing %" PRIu32 " records", s->path, bk->n);
			goto fail;
		}
		for (uint32_t j = 0; j < bk->n; j++) {
			const struct txg_store_tx *tx = &bk->txs[j];
			struct txg_seal_tx *o = &bk->out[j];
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
	return finish_write(s, t, &head, err, errlen);
full:
	mdb_txn_abort(t);
	return MDB_MAP_FULL;
fail:
	mdb_txn_abort(t);
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
	s->need = write_need(s, nb, recs, bytes);
	int rc = with_growth(s, seal_once, &a, err, errlen);
	s->need = 0;
	return rc;
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
