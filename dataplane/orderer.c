/* Orderer: merge worker rings, dedupe, cut blocks. */
#include "orderer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "clock.h"

#define TAKE_BURST 64u

int txg_orderer_init(struct txg_orderer *o, const struct txg_orderer_params *p, const struct txg_store_head *head,
		     char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	unsigned n_blocks = p->n_blocks;
	o->max_txs = p->max_txs;
	o->max_ttl_ms = p->max_ttl_ms;
	o->max_bytes = p->max_bytes;
	o->max_wait_tsc = (uint64_t)p->max_wait_us * rte_get_tsc_hz() / 1000000u;
	o->idle_spins = p->idle_spins;
	o->idle_sleep_us = p->idle_sleep_us;
	o->last_ts = head->timestamp_ms;
	unsigned ring_sz = rte_align32pow2(n_blocks + 1);
	o->to_commit = rte_ring_create("txg_to_commit", ring_sz, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	o->free_blocks = rte_ring_create("txg_free_blocks", ring_sz, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	o->pool = rte_zmalloc("txg_blocks", sizeof(*o->pool) * n_blocks, RTE_CACHE_LINE_SIZE);
	if (!o->to_commit || !o->free_blocks || !o->pool) {
		snprintf(err, errlen, "orderer: cannot allocate block rings");
		txg_orderer_fini(o);
		return -1;
	}
	o->n_blocks = n_blocks;
	for (unsigned i = 0; i < n_blocks; i++) {
		struct txg_block *b = &o->pool[i];
		size_t m = o->max_txs;
		b->txns = rte_malloc("blk_txns", sizeof(*b->txns) * m, 0);
		b->stx = rte_malloc("blk_stx", sizeof(*b->stx) * m, 0);
		b->sealed = rte_malloc("blk_sealed", sizeof(*b->sealed) * m, 0);
		if (!b->txns || !b->stx || !b->sealed) {
			snprintf(err, errlen, "orderer: out of memory for %u blocks of %u transactions (lower [ledger] "
					      "commit_group_max or [block] max_txs, or raise -m)",
				 n_blocks, o->max_txs);
			txg_orderer_fini(o);
			return -1;
		}
		rte_ring_sp_enqueue(o->free_blocks, b);
	}
	return 0;
}

void txg_orderer_fini(struct txg_orderer *o)
{
	if (o->pool)
		for (unsigned i = 0; i < o->n_blocks; i++) {
			rte_free(o->pool[i].txns);
			rte_free(o->pool[i].stx);
			rte_free(o->pool[i].sealed);
		}
	rte_free(o->pool);
	rte_ring_free(o->to_commit);
	rte_ring_free(o->free_blocks);
	o->pool = NULL;
	o->to_commit = o->free_blocks = NULL;
}

static void backoff(const struct txg_orderer *o, uint32_t *idle)
{
	if (++*idle < o->idle_spins || o->idle_sleep_us == 0)
		rte_pause();
	else
		rte_delay_us_sleep(o->idle_sleep_us);
}

/* A free block buffer; waits while the ledger is behind, and then moves
 * *now_ms on to the time it got one. */
static struct txg_block *get_block(struct txg_orderer *o, uint64_t *now_ms)
{
	void *b;
	uint32_t idle = 0;
	if (rte_ring_sc_dequeue(o->free_blocks, &b) != 0) {
		do {
			TXG_STAT_INC(o->stats.stall_polls, 1);
			backoff(o, &idle);
		} while (rte_ring_sc_dequeue(o->free_blocks, &b) != 0);
		uint64_t t = txg_now_ms();
		if (t > *now_ms)
			*now_ms = t;
	}
	struct txg_block *blk = b;
	blk->n = 0;
	blk->bytes = 0;
	blk->max_expires_ms = 0;
	return blk;
}

/* Hand the open block to the committer. Its time never goes back, and is
 * never earlier than its latest expiry - max_ttl (no earlier than any of
 * its transactions' acceptance), so that the restart walk, which stops at
 * the first block older than now - max_ttl, misses no unexpired one. */
static void cut(struct txg_orderer *o, uint64_t now_ms)
{
	struct txg_block *b = o->cur;
	o->cur = NULL;
	uint64_t ts = now_ms > o->last_ts ? now_ms : o->last_ts;
	if (b->max_expires_ms > o->max_ttl_ms && b->max_expires_ms - o->max_ttl_ms > ts)
		ts = b->max_expires_ms - o->max_ttl_ms;
	b->timestamp_ms = ts;
	o->last_ts = ts;
	b->cut_tsc = rte_get_tsc_cycles();
	for (uint32_t j = 0; j < b->n; j++)
		txg_hist_observe(&o->hist_sealed, txg_us_between(b->txns[j]->admit_tsc, b->cut_tsc));
	/* The commit ring holds every block buffer: this never fails. */
	rte_ring_sp_enqueue(o->to_commit, b);
	TXG_STAT_INC(o->stats.blocks, 1);
	TXG_STAT_INC(o->stats.ordered, b->n);
}

/* A transaction refused at ordering; its receipt (if the frame asked for
 * one) says why, and a duplicate of a committed one where the original is. */
static void refuse(struct txg_orderer *o, struct txg_txn *t, unsigned st)
{
	TXG_STAT_INC(o->stats.status[st], 1);
	if (o->outbox && (t->frame_flags & TXG_FRAME_F_RECEIPT)) {
		struct txg_receipt_entry e = {.status = (uint8_t)st};
		memcpy(e.tx_id, t->tx_id, TXG_ID_LEN);
		int32_t pos = st == TXG_ST_DUPLICATE ? rte_hash_lookup(o->dedupe->h, t->tx_id) : -1;
		if (pos >= 0) {
			e.height = __atomic_load_n(&o->dedupe->slots[pos].height, __ATOMIC_ACQUIRE);
			e.index = e.height ? o->dedupe->slots[pos].index : 0;
		}
		txg_outbox_add(o->outbox, &t->to, &e);
	}
	rte_mempool_put(o->txn_pool, t);
}

static void take(struct txg_orderer *o, struct txg_txn *t, uint64_t *now)
{
	uint64_t now_ms = *now;
	/* Ids are forgotten once expired; re-checking here means a copy that
	 * passed a worker just before its id was forgotten is never ordered twice. */
	if (t->expires_ms <= now_ms) {
		refuse(o, t, TXG_ST_EXPIRED);
		return;
	}
	int32_t pos = txg_dedupe_insert(o->dedupe, t->tx_id, t->expires_ms);
	if (pos == -EEXIST) {
		refuse(o, t, TXG_ST_DUPLICATE);
		return;
	}
	if (pos < 0) {
		refuse(o, t, TXG_ST_OVERLOADED);
		return;
	}
	if (o->cur && o->cur->n && o->cur->bytes + t->rec_len > o->max_bytes)
		cut(o, now_ms);
	if (!o->cur) {
		o->cur = get_block(o, now);
		now_ms = *now;
		o->cur_first_tsc = rte_get_tsc_cycles();
	}
	struct txg_block *b = o->cur;
	t->height = 0; /* the ledger places it when it seals the block */
	t->index = 0;
	b->txns[b->n++] = t;
	b->bytes += t->rec_len;
	if (t->expires_ms > b->max_expires_ms)
		b->max_expires_ms = t->expires_ms;
	if (b->n >= o->max_txs)
		cut(o, now_ms);
}

unsigned txg_orderer_poll(struct txg_orderer *o, uint64_t now_ms, int final)
{
	void *buf[TAKE_BURST];
	unsigned got = 0;
	uint32_t expired = txg_dedupe_expire(o->dedupe, now_ms);
	if (expired)
		TXG_STAT_INC(o->stats.dedupe_expired, expired);
	for (unsigned r = 0; r < o->n_in; r++) {
		unsigned n = rte_ring_sc_dequeue_burst(o->in[r], buf, TAKE_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			take(o, buf[i], &now_ms);
		got += n;
	}
	if (got)
		TXG_STAT_INC(o->stats.received, got);
	if (o->outbox && (o->outbox->n_open || o->outbox->n_tx)) {
		txg_outbox_flush(o->outbox);
		TXG_STAT_SET(o->stats.receipts[0], o->outbox->stats.datagrams);
		TXG_STAT_SET(o->stats.receipts[1], o->outbox->stats.entries);
		TXG_STAT_SET(o->stats.receipts[2], o->outbox->stats.dropped);
	}
	TXG_STAT_SET(o->stats.dedupe_size, o->dedupe->size);
	if (o->cur && o->cur->n && (final || rte_get_tsc_cycles() - o->cur_first_tsc >= o->max_wait_tsc))
		cut(o, now_ms);
	return got;
}

int txg_orderer_main(void *arg)
{
	struct txg_orderer *o = arg;
	uint32_t idle = 0;
	for (;;) {
		int stopping = __atomic_load_n(o->stop, __ATOMIC_ACQUIRE);
		unsigned got = txg_orderer_poll(o, txg_now_ms(), stopping);
		if (got) {
			idle = 0;
			continue;
		}
		if (stopping) {
			/* Workers are gone: one empty pass means every ring is drained. */
			txg_orderer_poll(o, txg_now_ms(), 1);
			break;
		}
		backoff(o, &idle);
	}
	return 0;
}
