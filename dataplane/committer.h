/* The committer: a plain thread (never a polling lcore, so an fsync never
 * stalls RX) that takes cut blocks from the orderer and has the ledger seal
 * and commit them, as many as are waiting (up to a group maximum) in one
 * durable write transaction. A record whose tx_id the ledger already holds
 * (the window did not know it: a damaged ledger record) is left out of its
 * block, counted and logged, never fatal. Only after a commit returns are
 * the transaction slots and block buffers handed back. A failed commit
 * stops committing (nothing not committed is ever reported committed) but
 * keeps handing buffers back, so that no stage waits for ever. */
#ifndef TXG_COMMITTER_H
#define TXG_COMMITTER_H

#include <pthread.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dedupe.h"
#include "hist.h"
#include "outbox.h"
#include "orderer.h"
#include "stats.h"
#include "store.h"

/* The committer's settings ([ledger]). */
struct txg_committer_params {
	uint32_t group_max;	   /* blocks per LMDB write transaction */
	uint32_t sync_interval_ms; /* nosync ledgers: flush to disk this often (0 = only at stop) */
	uint64_t warn_free_bytes;  /* warn every 10 s while the ledger's filesystem has less free (0 = never) */
};

/* A test-only fault: hold the next commit this long (0 = none). */
extern volatile uint32_t txg_committer_test_stall_ms;

struct txg_committer {
	struct txg_committer_stats stats;
	struct rte_ring *in;	      /* cut blocks (the orderer's to_commit) */
	struct rte_ring *free_blocks; /* where emptied buffers go back */
	struct rte_mempool *txn_pool;
	struct txg_store *store;
	struct txg_dedupe *dedupe; /* committed locations are written into it */
	struct rte_rcu_qsbr *qsbr; /* ... as RCU reader rcu_id */
	unsigned rcu_id;
	int nosync;
	uint32_t group_max;
	uint32_t sync_interval_ms;
	uint64_t warn_free_bytes;
	struct txg_outbox outbox;  /* committed (and known-duplicate) receipts */
	struct txg_hist hist_durable; /* block cut -> durable, per transaction (us) */
	struct txg_hist hist_commit;  /* one LMDB write transaction (us) */
	uint8_t (*port_mac)[6];	   /* [RTE_MAX_ETHPORTS] */
	uint16_t *port_txq;	   /* [RTE_MAX_ETHPORTS]: its TX queue, UINT16_MAX none */
	struct txg_seal_block *sb; /* [group_max] */
	struct txg_block **blocks; /* [group_max] */
	volatile int stop;	   /* set after the orderer returned: finish the ring, then exit */
	volatile int failed;	   /* set on a commit error; err says why */
	char err[512];
	pthread_t thread;
	int started;
};

/* Start the committer thread on store, taking o's cut blocks, returning
 * txns to txn_pool and locating committed ids in d (an RCU reader of q with
 * id rcu_id; q may be NULL when there are no other readers). 0, or -1. */
int txg_committer_start(struct txg_committer *c, const struct txg_committer_params *p, struct txg_store *store,
			const struct txg_orderer *o, struct rte_mempool *txn_pool, struct txg_dedupe *d,
			struct rte_rcu_qsbr *q, unsigned rcu_id, char *err, size_t errlen);
/* Before start: send receipts with mbufs from pool, cookies from cookies
 * (may be NULL), on TX queue txq of each port set with txg_committer_port. */
void txg_committer_set_replies(struct txg_committer *c, struct rte_mempool *pool, const struct txg_cookie_state *cookies);
/* Before start: port `port` has MAC mac and this committer's TX queue txq. */
void txg_committer_port(struct txg_committer *c, uint16_t port, const uint8_t mac[6], uint16_t txq);

/* Ask it to commit what is queued and exit; waits for it. 0, or -1 if a commit failed. */
int txg_committer_stop(struct txg_committer *c);

#endif
