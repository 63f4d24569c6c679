/* The small lock-free latency histogram the stages record into, rendered
 * by the metrics endpoint (dataplane/metrics.h). */
#ifndef TXG_HIST_H
#define TXG_HIST_H

#include <stdint.h>

/* Upper bounds of the buckets in microseconds, log-spaced 1-2-5 from 1 us
 * to 10 s; one more bucket (+Inf) takes the rest. */
#define TXG_HIST_NB 22
extern const uint64_t txg_hist_bounds_us[TXG_HIST_NB];

/* One writer's histogram: exactly one thread records into an instance (a
 * worker, the orderer or the committer each own theirs), any thread reads.
 * b[i] counts the observations in bucket i alone (not cumulative); the
 * count is their sum, so +Inf always equals _count. */
struct txg_hist {
	uint64_t b[TXG_HIST_NB + 1];
	uint64_t sum_us;
} __attribute__((aligned(64)));

/* Record n observations of us microseconds each (one writer; a plain add
 * published with a release store, like TXG_STAT_INC: no lock prefix). */
static inline void txg_hist_observe_n(struct txg_hist *h, uint64_t us, uint64_t n)
{
	unsigned i = 0;
	while (i < TXG_HIST_NB && us > txg_hist_bounds_us[i])
		i++;
	__atomic_store_n(&h->sum_us, h->sum_us + us * n, __ATOMIC_RELAXED);
	__atomic_store_n(&h->b[i], h->b[i] + n, __ATOMIC_RELEASE);
}

static inline void txg_hist_observe(struct txg_hist *h, uint64_t us) { txg_hist_observe_n(h, us, 1); }

/* Add src's buckets and sum into dst with relaxed loads (any thread). */
void txg_hist_add(struct txg_hist *dst, const struct txg_hist *src);

/* The five latency histograms. */
enum txg_hist_id {
	TXG_H_DECIDE = 0, /* packet received -> admission decision (worker, per record) */
	TXG_H_SEAL,	  /* admission -> its block sealed (orderer, per transaction) */
	TXG_H_DURABLE,	  /* block sealed -> durable in the ledger (committer, per transaction) */
	TXG_H_COMMIT,	  /* one LMDB write transaction, fsync included (committer) */
	TXG_H_VERIFY,	  /* one signature verification batch (worker) */
	TXG_H_NUM
};

/* Metric name of a histogram ("txgate_receive_to_decision_seconds", ...). */
const char *txg_hist_name(unsigned id);

#endif
