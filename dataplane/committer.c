/* Committer thread. */
#include "committer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_log.h>

#include "clock.h"
#include "hex.h"

volatile uint32_t txg_committer_test_stall_ms;

static void nap_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* Hand the blocks' slots and buffers back. */
static void release(struct txg_committer *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct txg_block *b = c->blocks[i];
		rte_mempool_put_bulk(c->txn_pool, (void **)b->txns, b->n);
		b->n = 0;
		rte_ring_sp_enqueue(c->free_blocks, b);
	}
}

/* A record the ledger already held: refused as a duplicate, loudly. */
static void known(struct txg_committer *c, const struct txg_txn *t, const struct txg_seal_tx *o)
{
	char hex[2 * TXG_ID_LEN + 1];
	txg_hex(t->tx_id, TXG_ID_LEN, hex);
	RTE_LOG(ERR, USER1,
		"ledger: tx %s is already committed at height %" PRIu64 " index %" PRIu32
		" but the dedupe window did not hold it: refused as duplicate. The ledger's record at %" PRIu64
		"/%" PRIu32 " is probably damaged (its body no longer hashes to this id): run `txgatectl ledger "
		"verify`\n",
		hex, o->height, o->index, o->height, o->index);
	TXG_STAT_INC(c->stats.known, 1);
}

/* Write the committed location of each id into the dedupe window (for
 * duplicate answers). The lookup and the write happen while this thread
 * is an online RCU reader, so the slot cannot be reclaimed in between. */
static void locate(struct txg_committer *c, unsigned n)
{
	if (!c->dedupe)
		return;
	if (c->qsbr)
		rte_rcu_qsbr_thread_online(c->qsbr, c->rcu_id);
	for (unsigned i = 0; i < n; i++) {
		struct txg_block *b = c->blocks[i];
		for (uint32_t j = 0; j < b->n; j++) {
			int32_t pos = rte_hash_lookup(c->dedupe->h, b->txns[j]->tx_id);
			if (pos >= 0)
				txg_dedupe_locate(c->dedupe, pos, b->sealed[j].height, b->sealed[j].index);
		}
	}
	if (c->qsbr)
		rte_rcu_qsbr_thread_offline(c->qsbr, c->rcu_id);
}

static int commit_group(struct txg_committer *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct txg_block *b = c->blocks[i];
		for (uint32_t j = 0; j < b->n; j++) {
			struct txg_txn *t = b->txns[j];
			b->stx[j] = (struct txg_store_tx){.rec = t->rec, .len = t->rec_len, .tx_id = t->tx_id};
		}
		c->sb[i] = (struct txg_seal_block){
			.timestamp_ms = b->timestamp_ms, .n = b->n, .txs = b->stx, .out = b->sealed};
	}
	if (txg_committer_test_stall_ms) { /* the test hook holds one commit */
		nap_us((long)txg_committer_test_stall_ms * 1000);
		txg_committer_test_stall_ms = 0;
	}
	uint64_t t0 = rte_get_tsc_cycles();
	if (txg_store_seal_commit(c->store, c->sb, n, c->err, sizeof(c->err)) != 0) {
		RTE_LOG(ERR, USER1, "ledger commit failed: %s\n", c->err);
		__atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
		return -1;
	}
	uint64_t us = txg_us_since(t0);
	uint64_t txs = 0, blocks = 0, height = 0;
	for (unsigned i = 0; i < n; i++) {
		struct txg_block *b = c->blocks[i];
		for (uint32_t j = 0; j < b->n; j++) {
			struct txg_txn *t = b->txns[j];
			t->height = b->sealed[j].height;
			t->index = b->sealed[j].index;
			if (b->sealed[j].known)
				known(c, t, &b->sealed[j]);
			if (t->frame_flags & TXG_FRAME_F_RECEIPT) {
				struct txg_receipt_entry e = {
					.status = b->sealed[j].known ? TXG_ST_DUPLICATE : TXG_ST_COMMITTED,
					.height = t->height,
					.index = t->index,
				};
				memcpy(e.tx_id, t->tx_id, TXG_ID_LEN);
				txg_outbox_add(&c->outbox, &t->to, &e);
			}
		}
		txs += c->sb[i].kept;
		if (c->sb[i].height) {
			blocks++;
			height = c->sb[i].height;
		}
	}
	locate(c, n);
	txg_outbox_flush(&c->outbox);
	TXG_STAT_SET(c->stats.receipts[0], c->outbox.stats.datagrams);
	TXG_STAT_SET(c->stats.receipts[1], c->outbox.stats.entries);
	TXG_STAT_SET(c->stats.receipts[2], c->outbox.stats.dropped);
	TXG_STAT_INC(c->stats.commit_us_total, us);
	txg_hist_observe(&c->hist_commit, us);
	uint64_t done = rte_get_tsc_cycles();
	for (unsigned i = 0; i < n; i++)
		txg_hist_observe_n(&c->hist_durable, txg_us_between(c->blocks[i]->cut_tsc, done), c->blocks[i]->n);
	if (us > c->stats.commit_us_max)
		TXG_STAT_SET(c->stats.commit_us_max, us);
	TXG_STAT_INC(c->stats.commits, 1);
	TXG_STAT_INC(c->stats.blocks, blocks);
	TXG_STAT_INC(c->stats.txs, txs);
	if (height)
		TXG_STAT_SET(c->stats.height, height);
	release(c, n);
	return 0;
}

/* Warn (every 10 s at most) while the ledger's disk is getting full. */
static void check_space(struct txg_committer *c, uint64_t now, uint64_t *last)
{
	if (!c->warn_free_bytes || now - *last < 10000)
		return;
	*last = now;
	char msg[512];
	if (txg_store_space_check(c->store, c->warn_free_bytes, msg, sizeof msg) == 1)
		RTE_LOG(WARNING, USER1, "%s\n", msg);
}

static void *committer_main(void *arg)
{
	struct txg_committer *c = arg;
	uint64_t last_sync = txg_now_ms(), last_space = 0;
	int dirty = 0;
	for (;;) {
		int stopping = __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
		unsigned n = rte_ring_sc_dequeue_burst(c->in, (void **)c->blocks, c->group_max, NULL);
		if (n) {
			/* After a failure nothing more is committed, but buffers still
			 * go back so that the orderer never waits for ever. */
			if (__atomic_load_n(&c->failed, __ATOMIC_ACQUIRE) || commit_group(c, n) != 0)
				release(c, n);
			else
				dirty = 1;
			continue;
		}
		uint64_t now = txg_now_ms();
		if (c->nosync && dirty && (stopping || (c->sync_interval_ms && now - last_sync >= c->sync_interval_ms))) {
			char e[512];
			if (txg_store_sync_err(c->store, e, sizeof e) != 0)
				RTE_LOG(ERR, USER1, "ledger: flush of a nosync ledger failed: %s\n", e);
			TXG_STAT_INC(c->stats.syncs, 1);
			last_sync = now;
			dirty = 0;
		}
		check_space(c, now, &last_space);
		if (stopping)
			break;
		nap_us(100);
	}
	return NULL;
}

void txg_committer_set_replies(struct txg_committer *c, struct rte_mempool *pool, const struct txg_cookie_state *cookies)
{
	txg_outbox_init(&c->outbox, pool, cookies, (const uint8_t(*)[6])c->port_mac, c->port_txq);
}

void txg_committer_port(struct txg_committer *c, uint16_t port, const uint8_t mac[6], uint16_t txq)
{
	memcpy(c->port_mac[port], mac, 6);
	c->port_txq[port] = txq;
}

int txg_committer_start(struct txg_committer *c, const struct txg_committer_params *p, struct txg_store *store,
			const struct txg_orderer *o, struct rte_mempool *txn_pool, struct txg_dedupe *d,
			struct rte_rcu_qsbr *q, unsigned rcu_id, char *err, size_t errlen)
{
	uint8_t(*mac)[6] = c->port_mac;
	uint16_t *txq = c->port_txq;
	struct txg_outbox ob = c->outbox;
	memset(c, 0, sizeof(*c));
	c->port_mac = mac;
	c->port_txq = txq;
	c->outbox = ob;
	c->in = o->to_commit;
	c->free_blocks = o->free_blocks;
	c->txn_pool = txn_pool;
	c->store = store;
	c->dedupe = d;
	c->qsbr = q;
	c->rcu_id = rcu_id;
	c->group_max = p->group_max;
	c->sync_interval_ms = p->sync_interval_ms;
	c->warn_free_bytes = p->warn_free_bytes;
	c->nosync = txg_store_nosync(store);
	struct txg_store_head head;
	if (txg_store_head(store, &head) != 0) {
		snprintf(err, errlen, "committer: cannot read the ledger's head");
		return -1;
	}
	c->stats.height = head.height;
	if (q && rte_rcu_qsbr_thread_register(q, rcu_id) != 0) {
		snprintf(err, errlen, "committer: cannot register as RCU reader %u", rcu_id);
		return -1;
	}
	c->sb = calloc(c->group_max, sizeof(*c->sb));
	c->blocks = calloc(c->group_max, sizeof(*c->blocks));
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
