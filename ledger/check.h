/* Ledger verification: every block's header, hash chain, Merkle root and
 * records (well formed, chain id, signature) and the tx_id index, against
 * each other and the head. What it can and cannot detect: docs/ledger.md.
 * The walk may crash inside LMDB on a damaged file: run it in a contained
 * child (contain.h) when the file is not known to be good. */
#ifndef TXG_CHECK_H
#define TXG_CHECK_H

#include <stdint.h>

#include "store.h"

/* Where the first problem is, or what was checked. */
struct txg_check_report {
	uint64_t height;      /* block of the first problem; the head height when it verifies */
	int64_t index;	      /* record of the first problem, -1 for a block-level one */
	uint64_t txs;	      /* transactions checked (all of them when it verifies) */
	uint8_t head_hash[32]; /* when it verifies: the hash of the last block (zero for an empty ledger) */
	char what[512];	      /* the first problem */
};

/* How to walk; all zero = the defaults. Committed blocks never change, so
 * the walk renews its read snapshot now and then (a long-held one pins pages
 * and makes a live ledger's file grow); the head and entry counts are
 * checked in a snapshot whose head is the walked height (the walk follows a
 * ledger that grew meanwhile). */
struct txg_check_opts {
	uint32_t snap_blocks; /* blocks read in one read snapshot before it is renewed (0: 256) */
	uint32_t snap_ms;     /* or milliseconds, whichever comes first (0: 1000) */
	uint32_t max_rounds;  /* times the walk goes on to a head that moved on before giving up (0: 16) */
	int expect;	      /* check that block expect_height exists and has hash expect_hash */
	uint64_t expect_height;
	uint8_t expect_hash[32];
};

/* Check the whole ledger in s with the default options. 0 if it verifies,
 * 1 with the first problem in r, or -1 if it could not be read (r->what). */
int txg_ledger_check(struct txg_store *s, struct txg_check_report *r);

/* txg_ledger_check with o (NULL: defaults): renews its snapshot as o says and, with o->expect, fails
 * (1) if block o->expect_height is missing or has another hash (a rolled-back ledger). */
int txg_ledger_check_opts(struct txg_store *s, const struct txg_check_opts *o, struct txg_check_report *r);

#endif
