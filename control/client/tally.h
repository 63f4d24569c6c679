/* The summary of a run (txsend, and the tests that check it): final answers
 * per status, and latencies from a transaction's first send to `accepted`
 * and to `committed` with their percentiles. Not part of the library. */
#ifndef TXSEND_TALLY_H
#define TXSEND_TALLY_H

#include <stdint.h>
#include <stdio.h>

#include "txgate_client.h"

struct txs_lat {
	uint64_t *us; /* samples, microseconds; sorted by txs_tally_finish */
	size_t n, cap;
};

struct txs_tally {
	uint64_t final[TXC_NSTATUS]; /* final answers per status, TXC_LOST included */
	uint64_t finals;	     /* their sum */
	uint64_t retried;	     /* final answers (not lost) that needed more than one send */
	uint64_t dup_retried;	     /* `duplicate` answers to a retry (an earlier copy got in) */
	uint64_t dup_located;	     /* `duplicate` answers locating a committed original */
	struct txs_lat acc, com;     /* first send -> accepted, first send -> committed */
	int oom;		     /* a sample was not kept: no memory */
};

/* Start empty. */
void txs_tally_init(struct txs_tally *t);

/* Free the samples. */
void txs_tally_free(struct txs_tally *t);

/* Count one answer (intermediate `accepted` ones give only a latency sample). */
void txs_tally_add(struct txs_tally *t, const struct txc_answer *a);

/* Sort the samples; call before txs_tally_pct and txs_tally_print. */
void txs_tally_finish(struct txs_tally *t);

/* Nearest-rank percentile p (0 < p <= 100) of sorted samples, microseconds; 0 if none. */
uint64_t txs_tally_pct(const struct txs_lat *l, double p);

/* Print the answers per status (committed and lost always) and the latency table. */
void txs_tally_print(FILE *f, const struct txs_tally *t);

#endif
