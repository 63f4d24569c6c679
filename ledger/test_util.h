/* Helpers for the ledger layer's tests: signed synthetic blocks and a
 * temporary directory tree. */
#ifndef TXG_TEST_UTIL_H
#define TXG_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "record.h"
#include "store.h"

#define TU_MAXN 16
#define TU_RECCAP 512

/* A block and the storage its records point into. */
struct tblock {
	uint8_t recs[TU_MAXN][TU_RECCAP];
	uint8_t ids[TU_MAXN][32];
	struct txg_store_tx txs[TU_MAXN];
	struct txg_store_block b;
	uint8_t hash[32];
	uint64_t height, ts;
};

/* The test key pair (seed 7...) and the next nonce; set by tu_init. */
extern uint8_t tu_pk[32], tu_sk[64];
extern uint64_t tu_nonce;
/* Set up libsodium, the key pair and a temporary root directory named after
 * prog under /tmp. 0 or -1. */
int tu_init(const char *prog);
/* Remove the temporary root and everything in it. */
void tu_cleanup(void);
/* A fresh directory path under the temporary root (not created). */
void tu_newdir(char *out, size_t n);

/* Build block `height` on prev with n <= TU_MAXN records signed by the test
 * key, payloads of plen bytes; record i expires at exp_base + its nonce. */
void tu_block(struct tblock *tb, uint32_t chain, uint64_t height, const uint8_t prev[32], uint64_t ts, uint32_t n,
	      size_t plen, uint64_t exp_base);

#endif
