/* The orderer: the one consumer of every worker ring. It makes the
 * authoritative dedupe insert (a copy that raced through two workers is a
 * duplicate here), puts transactions in order and cuts blocks by max
 * transactions, max bytes and max wait. Cut blocks go to the committer,
 * which seals them in the ledger (height, Merkle root, hash chain); when the
 * ledger falls behind and no block buffer is free, the orderer waits, the
 * worker rings fill, and workers answer overloaded. */
#ifndef TXG_ORDERER_H
#define TXG_ORDERER_H

#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "dedupe.h"
#include "hist.h"
#include "outbox.h"
#include "stats.h"
#include "store.h"
#include "bounds.h"
#include "txn.h"

/* A block being filled or committed; buffers from a fixed pool. */
struct txg_block {
	uint64_t timestamp_ms; /* when it was cut (see txg_orderer_poll) */
	uint64_t cut_tsc;      /* TSC when it was cut */
	uint32_t n;
	uint32_t bytes;
	struct txg_txn **txns;	     /* [max_txs] */
	uint64_t max_expires_ms;     /* latest expiry of its transactions */
	struct txg_store_tx *stx;    /* [max_txs], filled by the committer */
	struct txg_seal_tx *sealed; /* [max_txs], filled by the ledger */
};

/* The orderer's settings ([chain], [block], [dataplane] idle keys). */
struct txg_orderer_params {
	uint32_t max_txs, max_bytes; /* per block */
	uint64_t max_ttl_ms;	     /* the window's: a block's time >= its latest expiry - max_ttl */
	uint32_t max_wait_us;	     /* seal a non-empty block this long after its first txn */
	uint32_t idle_spins, idle_sleep_us;
	unsigned n_blocks; /* block buffers: those being committed plus one being filled */
};

struct txg_orderer {
	struct txg_orderer_stats stats;
	struct rte_ring *in[TXG_MAX_WORKERS];
	unsigned n_in;
	struct rte_ring *to_commit;   /* sealed blocks, to the committer */
	struct rte_ring *free_blocks; /* empty block buffers, back from the committer */
	struct rte_mempool *txn_pool;
	struct txg_dedupe *dedupe;
	struct txg_outbox *outbox; /* receipts of refusals at ordering; NULL: none */
	struct txg_hist hist_sealed; /* admission -> block cut, per transaction (us) */
	uint32_t max_txs, max_bytes;
	uint64_t max_ttl_ms;
	uint64_t max_wait_tsc;
	uint32_t idle_spins, idle_sleep_us;
	uint64_t last_ts; /* the last cut block's timestamp: never goes back */
	struct txg_block *cur;
	uint64_t cur_first_tsc;
	const volatile int *stop; /* set once the workers have stopped: drain, seal, return */
	struct txg_block *pool;	  /* all block buffers */
	unsigned n_blocks;
};

/* Set up o from p, allocate p->n_blocks block buffers into free_blocks and
 * the two block rings; head is the ledger's head (its timestamp is the
 * floor of the next block's). The caller sets in[], n_in, txn_pool, dedupe
 * and stop. 0, or -1 with err. */
int txg_orderer_init(struct txg_orderer *o, const struct txg_orderer_params *p, const struct txg_store_head *head,
		     char *err, size_t errlen);
void txg_orderer_fini(struct txg_orderer *o);

/* Lcore entry point (arg: struct txg_orderer). Returns after *stop once
 * every ring is empty and the last block is sealed. */
int txg_orderer_main(void *arg);

/* One pass over the rings (exposed for tests): returns txns taken. now_ms
 * is re-read after any wait for a block buffer. */
unsigned txg_orderer_poll(struct txg_orderer *o, uint64_t now_ms, int final);

#endif
