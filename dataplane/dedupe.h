/* The dedupe window: tx ids accepted (committed or on their way), shared by
 * every worker for lookups and written only by the orderer, which makes the
 * one authoritative insert after verification. Lock-free rte_hash with
 * RW_CONCURRENCY_LF; deleted slots are reclaimed through RCU QSBR after
 * every worker has passed a quiescent state. An id is forgotten once its
 * expires_ms has passed (a later copy is then judged expired), and never
 * before, however late the sweeps run; memory is bounded by capacity; when
 * full, new transactions are refused as overloaded and nothing already held
 * is forgotten early. */
#ifndef TXG_DEDUPE_H
#define TXG_DEDUPE_H

#include <stdint.h>

#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include "wire.h"

#define TXG_DEDUPE_NONE UINT32_MAX

struct txg_dedupe_slot {
	uint64_t expires_ms;
	uint64_t height; /* 0 until committed (set by the committer); read with acquire loads */
	uint32_t index;
	uint32_t next; /* next slot in the same expiry bucket */
};

/* Laid out by writer: the first line is read by every worker lookup and
 * never written after creation; the orderer's bookkeeping, written on
 * every insert, has a cache line of its own. */
struct txg_dedupe {
	struct rte_hash *h;
	struct txg_dedupe_slot *slots; /* by rte_hash key position */
	uint32_t *bucket_head;
	uint32_t capacity;
	uint32_t n_buckets; /* the wheel: one bucket per second, s % n_buckets */
	/* Orderer only. */
	uint32_t size __rte_cache_aligned;
	uint64_t swept_sec; /* ids with expires_ms < swept_sec * 1000 are gone */
} __rte_cache_aligned;

/* Create a window for capacity ids that live at most max_ttl_ms; readers
 * report quiescent states on v. Returns NULL (with a log line) on failure. */
struct txg_dedupe *txg_dedupe_new(const char *name, uint32_t capacity, uint64_t max_ttl_ms, struct rte_rcu_qsbr *v,
				  uint64_t now_ms);
void txg_dedupe_delete(struct txg_dedupe *d);

/* Reader side (any worker): positions[i] >= 0 if ids[i] is held. n <= 64. */
static inline void txg_dedupe_lookup(const struct txg_dedupe *d, const void **ids, uint32_t n, int32_t *positions)
{
	rte_hash_lookup_bulk(d->h, ids, n, positions);
}

/* Writer side (the orderer only). Insert id: returns its position, or
 * -EEXIST (already held: a duplicate), or -ENOSPC (window full). */
int32_t txg_dedupe_insert(struct txg_dedupe *d, const uint8_t id[TXG_ID_LEN], uint64_t expires_ms);

/* Writer side: record where the id at pos was placed. */
static inline void txg_dedupe_locate(struct txg_dedupe *d, int32_t pos, uint64_t height, uint32_t index)
{
	d->slots[pos].index = index;
	__atomic_store_n(&d->slots[pos].height, height, __ATOMIC_RELEASE);
}

/* Writer side: forget every id with expires_ms < (now_ms / 1000) * 1000
 * (all expired), and no other. Returns how many were removed. */
uint32_t txg_dedupe_expire(struct txg_dedupe *d, uint64_t now_ms);

#endif
