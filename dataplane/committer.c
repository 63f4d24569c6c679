/* Committer thread. */
#include "committer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "clock.h"

static void nap_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static int commit_group(struct txg_committer *c, unsigned n)
{
	uint64_t txs = 0;
	for (unsigned i = 0; i < n; i++) {
		struct txg_block *b = c->blocks[i];
		for (uint32_t j = 0; j < b->n; j++) {
			struct txg_txn *t = b->txns[j];
			b->stx[j] = (struct txg_store_tx){.rec = t->rec, .len = t->rec_len, .tx_id = t->tx_id};
		}
		memcpy(c->sb[i].hdr, b->hdr_bytes, TXG_HDR_LEN);
		c->sb[i].n = b->n;
		c->sb[i].txs = b->stx;
		txs += b->n;
	}
	uint64_t t0 = rte_get_tsc_cycles();
	if (txg_store_commit(c->store, c->sb, n, c->err, sizeof(c->err)) != 0) {
		RTE_LOG(ERR, USER1, "ledger commit failed: %s\n", c->err);
		__atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
		return -1;
	}
	uint64_t us = txg_us_since(t0);
	struct txg_block *last = c->blocks[n - 1];
	TXG_STAT_INC(c->stats.commit_us_total, us);
	if (us > c->stats.commit_us_max)
		TXG_STAT_SET(c->stats.commit_us_max, us);
	TXG_STAT_INC(c->stats.commits, 1);
	TXG_STAT_INC(c->stats.blocks, n);
	TXG_STAT_INC(c->stats.txs, txs);
	TXG_STAT_SET(c->stats.height, last->hdr.height);
	for (unsigned i = 0; i < n; i++) {
		struct txg_block *b = c->blocks[i];
		rte_mempool_put_bulk(c->txn_pool, (void **)b->txns, b->n);
		b->n = 0;
		rte_ring_sp_enqueue(c->free_blocks, b);
	}
	return 0;
}

static void *committer_main(void *arg)
{
	struct txg_committer *c = arg;
	for (;;) {
		int stopping = __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
		unsigned n = rte_ring_sc_dequeue_burst(c->in, (void **)c->blocks, c->group_max, NULL);
		if (n) {
			if (commit_group(c, n) != 0)
				break;
			continue;
		}
		if (stopping)
			break;
		nap_us(100);
	}
	return NULL;
}

int txg_committer_start(struct txg_committer *c, const struct txg_committer_params *p, struct txg_store *store,
			const struct txg_orderer *o, struct rte_mempool *txn_pool, char *err, size_t errlen)
{
	uint32_t group_max = p->group_max;
	memset(c, 0, sizeof(*c));
	c->in = o->to_commit;
	c->free_blocks = o->free_blocks;
	c->txn_pool = txn_pool;
	c->store = store;
	c->group_max = group_max;
	c->max_blocks = group_max;
	c->sb = calloc(group_max, sizeof(*c->sb));
	c->blocks = calloc(group_max, sizeof(*c->blocks));
	if (!c->sb || !c->blocks) {
		snprintf(err, errlen, "committer: out of memory");
		free(c->sb);
		free(c->blocks);
		return -1;
	}
	int rc = pthread_create(&c->thread, NULL, committer_main, c);
	if (rc != 0) {
		snprintf(err, errlen, "committer: pthread_create: %s", strerror(rc));
		free(c->sb);
		free(c->blocks);
		return -1;
	}
	pthread_setname_np(c->thread, "txg-commit");
	c->started = 1;
	return 0;
}

int txg_committer_stop(struct txg_committer *c)
{
	if (!c->started)
		return 0;
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	pthread_join(c->thread, NULL);
	c->started = 0;
	free(c->sb);
	free(c->blocks);
	c->sb = NULL;
	c->blocks = NULL;
	return c->failed ? -1 : 0;
}
