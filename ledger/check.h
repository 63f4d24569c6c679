/* Ledger verification: every block's header, hash chain, Merkle root and
 * records (well formed, chain id, signature) and the tx_id index, against
 * each other and the head. What it can and cannot detect: docs/ledger.md. */
#ifndef TXG_CHECK_H
#define TXG_CHECK_H

#include <stdint.h>

#include "store.h"

/* Where the first problem is, or what was checked. */
struct txg_check_report {
	uint64_t height; /* block of the first problem; the head height when it verifies */
	int64_t index;	 /* record of the first problem, -1 for a block-level one */
	uint64_t txs;	 /* transactions checked (all of them when it verifies) */
	char what[256];	 /* the first problem */
};

/* Check the whole ledger in s, in one read snapshot. 0 if it verifies, 1
 * with the first problem in r, or -1 if it could not be read (r->what). */
int txg_ledger_check(struct txg_store *s, struct txg_check_report *r);

#endif
