/* The ledger store: committed blocks and their records in LMDB (layout and
 * durability in docs/ledger.md). One writer per ledger (a lock refuses a
 * second, see txg_store_open); any number of read-only handles, in this
 * process or others, may read while it writes. Every function is safe to
 * call from several threads on one handle, except that txg_store_commit
 * and txg_store_seal_commit must be called by one thread at a time. */
#ifndef TXG_STORE_H
#define TXG_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Format 2: the tx_id index is written off the commit path (docs/ledger.md,
 * "The tx_id index"). A writer upgrades a format 1 ledger in place at open;
 * readers read both. */
#define TXG_STORE_FORMAT 2u

struct txg_store;

struct txg_store_opts {
	const char *path;    /* directory holding data.mdb/lock.mdb; created (mkdir -p style) if missing unless readonly */
	uint32_t chain_id;   /* new ledger: stamped with it; existing: must match. readonly with chain_id 0 accepts any */
	int readonly;        /* MDB_RDONLY; works while another process writes */
	int nosync;          /* MDB_NOSYNC: an OS crash or power loss may lose the last commits; a process crash loses nothing */
	uint64_t map_size;   /* initial map size in bytes (0 = 1 GiB); the writer doubles it on MDB_MAP_FULL and retries */
	uint64_t max_ttl_ms; /* writer records max(stored, this) in meta; 0 = leave */
	uint64_t index_lag_max; /* writer: committed txs the index may lag behind before commits wait (0 = 1048576) */
	uint32_t index_run_txs;	 /* writer: txs that make the indexer write a run (0 = 131072; small values for tests) */
	uint32_t index_base_max; /* writer: a new ledger's first index entries go to txidx, up to this many (0 = 8192) */
};

/* Keys of the LMDB layout (docs/ledger.md): `headers` by height (8 bytes,
 * big-endian) and `txs` by height and index (8 + 4 bytes, big-endian), so
 * that LMDB's byte order is height order. Shared with tools that open the
 * databases directly. */
#define TXG_STORE_HKEY_LEN 8u
#define TXG_STORE_TKEY_LEN 12u
void txg_store_height_key(uint8_t key[TXG_STORE_HKEY_LEN], uint64_t height);
void txg_store_tx_key(uint8_t key[TXG_STORE_TKEY_LEN], uint64_t height, uint32_t index);

/* Open (and for a writer, create) the ledger at o->path. Returns 0 and sets
 * *out, or -1 with a message naming the path and the reason in err. A
 * writer holds an exclusive lock on the ledger (flock on DIR/txgate.lock,
 * which names the holder) until txg_store_close: a second writer, in this
 * process or another, is refused at once ("ledger at DIR: in use by pid N
 * (...); only one writer at a time"). Readers take no lock. A writer makes
 * new directories and a new data.mdb durable (fsync of file and parents). */
int txg_store_open(struct txg_store **out, const struct txg_store_opts *o, char *err, size_t errlen);
/* Close the handle (NULL is fine); a nosync writer flushes first, and a
 * writer releases its lock. No call on it may be in progress. */
void txg_store_close(struct txg_store *s);
/* The ledger's chain id (as stamped in meta). */
uint32_t txg_store_chain_id(const struct txg_store *s);
/* Largest max_ttl_ms any writer recorded (as of open, or this writer's). */
uint64_t txg_store_max_ttl(const struct txg_store *s);

/* The last committed block; empty ledger: height 0, hash zero, ts 0. */
struct txg_store_head {
	uint64_t height;
	uint8_t hash[32];
	uint64_t timestamp_ms;
};
/* Read the head as of now. 0 or -1. */
int txg_store_head(struct txg_store *s, struct txg_store_head *h);

/* One record to commit: the whole record (body_len|body|sig) and its id. */
struct txg_store_tx {
	const uint8_t *rec;
	uint32_t len;
	const uint8_t *tx_id;
};
/* One block to commit: its 96-byte header and its n records in order. */
struct txg_store_block {
	uint8_t hdr[96];
	uint32_t n;
	const struct txg_store_tx *txs;
};

/* Commit nb blocks in ONE write transaction (group commit); durable on
 * return 0 unless nosync. Each header must decode, carry the ledger's chain
 * id, height head+1, prev_hash == head hash, timestamp >= the head's,
 * tx_count == n >= 1; each record must be well formed (txg_record_view) and
 * its tx_id not already in the ledger. On any failure nothing is written
 * and -1 is returned with a message. nb == 0 is a no-op. */
int txg_store_commit(struct txg_store *s, const struct txg_store_block *b, size_t nb, char *err, size_t errlen);

/* What became of one record of a block given to txg_store_seal_commit. */
struct txg_seal_tx {
	uint64_t height; /* where it is now (known: where the ledger already had it) */
	uint32_t index;
	int known; /* 1: its tx_id was already in the ledger, so it was left out */
};
/* One block to seal: its records in order and the time it was cut. */
struct txg_seal_block {
	uint64_t timestamp_ms; /* in: raised to the parent's if earlier */
	uint32_t n;	       /* in: records, >= 1 */
	const struct txg_store_tx *txs; /* in: [n] */
	struct txg_seal_tx *out;	/* out: [n] */
	uint64_t height;		/* out: its height; 0 if every record was known (no block written) */
	uint32_t kept;			/* out: records written */
	uint8_t hdr[96];		/* out: the header written */
	uint8_t hash[32];		/* out: its block hash */
};

/* Seal and commit nb blocks in ONE write transaction on top of the head:
 * a record whose tx_id the ledger already holds is left out (out[].known,
 * with the original's location); the others get their height and index,
 * and each non-empty block its Merkle root, header and place in the hash
 * chain. Durable on return 0 unless nosync; on -1 (err) nothing is written. */
int txg_store_seal_commit(struct txg_store *s, struct txg_seal_block *b, size_t nb, char *err, size_t errlen);

/* 1 if the handle was opened with nosync. */
int txg_store_nosync(const struct txg_store *s);

/* Flush commits made with nosync to disk (mdb_env_sync, forced); call it
 * periodically to bound what an OS crash can lose. 0 or -1. */
int txg_store_sync(struct txg_store *s);
/* txg_store_sync with the reason of a failure in err (a full disk named
 * as such). 0 or -1. */
int txg_store_sync_err(struct txg_store *s, char *err, size_t errlen);

/* Disk space of the ledger. A commit, sync or map growth that fails for
 * lack of space (ENOSPC, or LMDB's EIO for a short write with little free)
 * says "no space left on the ledger's filesystem (DIR: N bytes free)". */
struct txg_store_space {
	uint64_t free_bytes; /* free for unprivileged use on the ledger's filesystem (f_bavail * f_frsize) */
	uint64_t file_bytes; /* data.mdb's blocks on disk */
	uint64_t map_bytes;  /* the map size: data.mdb grows into it, then the map doubles */
	uint64_t used_bytes; /* pages in use by the last commit */
	uint64_t grow_bytes; /* map_bytes - file_bytes (0 if less): what data.mdb may grow by before the map next doubles */
};
/* Fill sp (works on any handle, no transaction). 0, or -1 (errno). */
int txg_store_space(struct txg_store *s, struct txg_store_space *sp);
/* 0 if at least min_free bytes are free on the ledger's filesystem, 1 if
 * fewer ("ledger at DIR: only N MiB free on its filesystem, need at least
 * M MiB: free space or move the ledger (...)"), -1 if unknown; msg always says why. */
int txg_store_space_check(struct txg_store *s, uint64_t min_free, char *msg, size_t msglen);

/* Copy the header of block `height` to hdr. 0 found, 1 not found, -1 error. */
int txg_store_get_header(struct txg_store *s, uint64_t height, uint8_t hdr[96]);
/* Locate a committed tx by id. 0 found, 1 not found, -1 error. */
int txg_store_find_tx(struct txg_store *s, const uint8_t id[32], uint64_t *height, uint32_t *index);

typedef int (*txg_store_tx_cb)(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len);
/* Call cb for every record stored under block `height`, in index order,
 * within one read txn (rec is valid only during the call; cb must not call
 * txg_store_commit). Returns 0, 1 if no such block, -1 on error, or cb's
 * first non-zero return (which stops the walk). */
int txg_store_block_txs(struct txg_store *s, uint64_t height, txg_store_tx_cb cb, void *arg);

/* Entry counts and the head, all read in one snapshot (for verification). */
struct txg_store_stats {
	struct txg_store_head head;
	uint64_t headers; /* entries in `headers` */
	uint64_t txs;     /* entries in `txs` */
	uint64_t txidx;   /* transactions the tx_id index answers for: index_entries + those above the watermark */
	uint64_t map_size;   /* current map size of this handle, bytes */
	uint64_t used_bytes; /* pages in use times page size */
	uint64_t indexed;    /* the index watermark: blocks 1..indexed are in the index's runs */
	uint64_t index_entries; /* entries in `txidx` plus those the run descriptors count */
	uint64_t index_runs;	/* runs (the base `txidx` counts as one) */
};
/* Fill st. 0 or -1. */
int txg_store_stats(struct txg_store *s, struct txg_store_stats *st);

/* Write a compacted, consistent copy of the ledger to directory dir
 * (created if missing; must not already hold a data.mdb) while writers
 * keep going (mdb_env_copy2 with MDB_CP_COMPACT). 0 or -1 with message. */
int txg_store_backup(struct txg_store *s, const char *dir, char *err, size_t errlen);

/* A read snapshot: every call on it sees the same committed state (the
 * one-shot reads above each take their own snapshot, and LMDB does not
 * promise that two successive ones never see an older state second).
 * Functions behave like their one-shot namesakes. A snapshot keeps the
 * pages it sees from reuse and, in the writer's process, holds off map
 * growth: keep it short there. A thread holding a snapshot must not call
 * txg_store_commit or the one-shot reads on the same handle (deadlock on
 * remap); it uses the txg_store_snap_* functions. */
struct txg_store_snap;
/* Begin a snapshot of s. 0 or -1. */
int txg_store_snap_begin(struct txg_store *s, struct txg_store_snap **out);
/* End it (NULL is fine). */
void txg_store_snap_end(struct txg_store_snap *sn);
int txg_store_snap_head(struct txg_store_snap *sn, struct txg_store_head *h);
int txg_store_snap_get_header(struct txg_store_snap *sn, uint64_t height, uint8_t hdr[96]);
int txg_store_snap_find_tx(struct txg_store_snap *sn, const uint8_t id[32], uint64_t *height, uint32_t *index);
/* cb may call other txg_store_snap_* functions on sn. */
int txg_store_snap_block_txs(struct txg_store_snap *sn, uint64_t height, txg_store_tx_cb cb, void *arg);
int txg_store_snap_stats(struct txg_store_snap *sn, struct txg_store_stats *st);

/* --- The tx_id index (docs/ledger.md). A commit writes only blocks and the
 * head; the writer's indexer thread adds their ids to the index later, in
 * its own write transactions, and moves the durable watermark (`indexed`).
 * Every lookup (find_tx, the duplicate guard of a commit) answers from the
 * index plus the blocks above the watermark, so it is right at every moment.
 * When the index lags by more than index_lag_max transactions, commits wait
 * for it (back-pressure); if it cannot be written, they fail. */

/* Wait until every block committed before the call is indexed. 0, or -1
 * with err if the index cannot be written. No-op for readers. */
int txg_store_index_flush(struct txg_store *s, char *err, size_t errlen);
/* Test hook: stop (1) or resume (0) indexing new blocks; a flush or a close
 * still indexes. Commits wait if the lag exceeds its bound while paused. */
void txg_store_index_pause(struct txg_store *s, int paused);

struct txg_store_index_info {
	uint64_t head;	      /* last committed height */
	uint64_t indexed;     /* the watermark */
	uint64_t lag_txs;     /* committed transactions above the watermark (writer) */
	uint64_t max_lag_txs; /* the largest lag seen since open (writer) */
	uint64_t lag_bound;   /* index_lag_max (writer) */
	uint64_t runs;	      /* runs, the base included */
	uint64_t filters_ready; /* runs whose ids the duplicate guard's filter holds: all of them once built, else 0 (writer) */
	uint64_t entries;     /* entries in the runs */
	uint64_t runs_written, merges; /* since open (writer) */
	uint64_t backpressure_us;      /* time commits waited for the indexer (writer) */
	uint64_t write_us[3];	       /* time in the indexer's write transactions: new runs, merges, deletions */
	uint64_t guard_gets;	       /* run lookups by commits' duplicate guard (a run's filter said maybe) */
	int failed;		       /* the last index write failed (why) */
	char why[256];
};
/* The indexer's state (a reader, or a writer before its indexer runs: the
 * watermark, runs and entries of a snapshot). 0 or -1. */
int txg_store_index_info(struct txg_store *s, struct txg_store_index_info *ii);

/* Read what a writer's open reads of the index (descriptors, watermark,
 * run tables' keys, the blocks above the watermark; a small index whole),
 * so that a damaged file crashes a contained reader (probe.c) rather than
 * the writer. 0, or -1 with a message (an inconsistent index named). */
int txg_store_index_probe(struct txg_store *s, char *err, size_t errlen);

/* A problem found by txg_store_snap_index_check. */
struct txg_index_problem {
	uint64_t height; /* where: the record an entry points to, or a height of the run */
	int64_t index;	 /* -1 if not a record */
	char what[400];
};
/* Check the index in sn against the blocks, entry by entry: each entry of
 * each run points to a record within the run's heights and at or below the
 * watermark whose recomputed tx_id is the entry's key; each run holds as
 * many entries as its descriptor says; the runs tile heights 1..watermark;
 * and the entries number the transactions up to the watermark, given
 * total_txs, the transactions in blocks 1..head of sn. (The other way, each
 * block's id found at its place, is find_tx's.) 0, 1 problem (p), -1 read
 * error (p->what). Holds sn for the whole walk. */
int txg_store_snap_index_check(struct txg_store_snap *sn, uint64_t total_txs, struct txg_index_problem *p);

#endif
