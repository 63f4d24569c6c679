/* The committer: a plain thread (never a polling lcore, so an fsync never
 * stalls RX) that takes sealed blocks from the orderer and commits them to
 * LMDB, as many as are waiting (up to a group maximum) in one durable write
 * transaction. Only after a commit returns are the transaction slots and
 * block buffers handed back. A failed commit stops the appliance: nothing
 * that was not committed is ever reported as committed. */
#ifndef TXG_COMMITTER_H
#define TXG_COMMITTER_H

#include <pthread.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "orderer.h"
#include "stats.h"
#include "store.h"

/* The committer's settings ([ledger]). */
struct txg_committer_params {
	uint32_t group_max; /* blocks per LMDB write transaction */
};

struct txg_committer {
	struct txg_committer_stats stats;
	struct rte_ring *in;	      /* sealed blocks (the orderer's to_commit) */
	struct rte_ring *free_blocks; /* where emptied buffers go back */
	struct rte_mempool *txn_pool;
	struct txg_store *store;
	uint32_t group_max;
	uint32_t max_blocks;	     /* size of the scratch below */
	struct txg_store_block *sb; /* [max_blocks] */
	struct txg_block **blocks;   /* [max_blocks] */
	volatile int stop;	     /* set after the orderer returned: finish the ring, then exit */
	volatile int failed;	     /* set on a commit error; err says why */
	char err[512];
	pthread_t thread;
	int started;
};

/* Start the committer thread on store, taking o's sealed blocks and
 * returning txns to txn_pool. 0, or -1 with err. */
int txg_committer_start(struct txg_committer *c, const struct txg_committer_params *p, struct txg_store *store,
			const struct txg_orderer *o, struct rte_mempool *txn_pool, char *err, size_t errlen);
/* Ask it to commit what is queued and exit; waits for it. 0, or -1 if a commit failed. */
int txg_committer_stop(struct txg_committer *c);

#endif
