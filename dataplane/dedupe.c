/* Dedupe window: rte_hash + RCU reclamation + a per-second expiry wheel. */
#include "dedupe.h"
#include "keyhash.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_random.h>

/* Workers read the first line on every lookup; the orderer writes size and
 * swept_sec on every insert: they must not share it. */
_Static_assert(offsetof(struct txg_dedupe, size) >= RTE_CACHE_LINE_SIZE, "dedupe: readers' line shared with the writer");

struct txg_dedupe *txg_dedupe_new(const char *name, uint32_t capacity, uint64_t max_ttl_ms, struct rte_rcu_qsbr *v,
				  uint64_t now_ms)
{
	struct txg_dedupe *d = rte_zmalloc(name, sizeof(*d), RTE_CACHE_LINE_SIZE);
	if (!d)
		return NULL;
	/* Headroom so cuckoo displacement rarely fails before capacity. */
	uint32_t entries = capacity + capacity / 4 + 64;
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries,
		.key_len = TXG_ID_LEN,
		.hash_func = txg_key_hash,
		.hash_func_init_val = (uint32_t)rte_rand(),
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	d->h = rte_hash_create(&p);
	if (!d->h) {
		RTE_LOG(ERR, USER1, "dedupe: rte_hash_create(%u entries): %s\n", entries, rte_strerror(rte_errno));
		goto fail;
	}
	if (v) {
		struct rte_hash_rcu_config rc = {.v = v, .mode = RTE_HASH_QSBR_MODE_DQ};
		if (rte_hash_rcu_qsbr_add(d->h, &rc) != 0) {
			RTE_LOG(ERR, USER1, "dedupe: rte_hash_rcu_qsbr_add: %s\n", rte_strerror(rte_errno));
			goto fail;
		}
	}
	/* rte_hash positions run from 0 to its (rounded-up) size. */
	d->slots = rte_zmalloc("dedupe_slots", sizeof(*d->slots) * ((size_t)entries * 2 + 64), 0);
	d->n_buckets = (uint32_t)(max_ttl_ms / 1000u) + 3;
	d->bucket_head = rte_malloc("dedupe_wheel", sizeof(uint32_t) * d->n_buckets, 0);
	if (!d->slots || !d->bucket_head)
		goto fail;
	for (uint32_t i = 0; i < d->n_buckets; i++)
		d->bucket_head[i] = TXG_DEDUPE_NONE;
	d->capacity = capacity;
	d->swept_sec = now_ms / 1000u;
	return d;
fail:
	txg_dedupe_delete(d);
	return NULL;
}

void txg_dedupe_delete(struct txg_dedupe *d)
{
	if (!d)
		return;
	rte_hash_free(d->h);
	rte_free(d->slots);
	rte_free(d->bucket_head);
	rte_free(d);
}

int32_t txg_dedupe_insert(struct txg_dedupe *d, const uint8_t id[TXG_ID_LEN], uint64_t expires_ms)
{
	if (rte_hash_lookup(d->h, id) >= 0)
		return -EEXIST;
	if (d->size >= d->capacity)
		return -ENOSPC;
	uint64_t sec = expires_ms / 1000u;
	if (sec < d->swept_sec)
		sec = d->swept_sec; /* already past: goes in the next sweep */
	int32_t pos = rte_hash_add_key(d->h, id);
	if (pos < 0)
		return pos == -EINVAL ? -EINVAL : -ENOSPC;
	struct txg_dedupe_slot *s = &d->slots[pos];
	uint32_t b = (uint32_t)(sec % d->n_buckets);
	s->expires_ms = expires_ms;
	s->index = 0;
	__atomic_store_n(&s->height, 0, __ATOMIC_RELAXED);
	s->next = d->bucket_head[b];
	d->bucket_head[b] = (uint32_t)pos;
	d->size++;
	return pos;
}

/* Empty bucket b of every id with expires_ms < limit_ms; the others (ids
 * of a later turn of the wheel, filed here because the wheel is shorter
 * than the gap since the last sweep) stay. */
static uint32_t sweep_bucket(struct txg_dedupe *d, uint32_t b, uint64_t limit_ms)
{
	uint32_t removed = 0;
	uint32_t pos = d->bucket_head[b], keep = TXG_DEDUPE_NONE;
	while (pos != TXG_DEDUPE_NONE) {
		struct txg_dedupe_slot *s = &d->slots[pos];
		uint32_t next = s->next;
		void *key;
		if (s->expires_ms >= limit_ms) {
			s->next = keep;
			keep = pos;
		} else if (rte_hash_get_key_with_position(d->h, (int32_t)pos, &key) == 0 &&
			   rte_hash_del_key(d->h, key) >= 0) {
			/* The key is read back from the table by position. */
			d->size--;
			removed++;
		}
		pos = next;
	}
	d->bucket_head[b] = keep;
	return removed;
}

uint32_t txg_dedupe_expire(struct txg_dedupe *d, uint64_t now_ms)
{
	uint64_t now_sec = now_ms / 1000u;
	uint32_t removed = 0;
	if (now_sec <= d->swept_sec)
		return 0;
	/* Every id is filed under its expiry second s in bucket s % n_buckets.
	 * Sweeping seconds [swept_sec, now_sec) visits each bucket at most once
	 * and removes exactly the ids that expired before now_sec: a bucket may
	 * also hold ids of a later turn (after a late sweep), which stay. */
	uint64_t from = d->swept_sec;
	if (now_sec - from > d->n_buckets)
		from = now_sec - d->n_buckets;
	for (uint64_t s = from; s < now_sec; s++)
		removed += sweep_bucket(d, (uint32_t)(s % d->n_buckets), now_sec * 1000u);
	d->swept_sec = now_sec;
	return removed;
}
