/* An accepted transaction on its way from a worker through the orderer to
 * the ledger. Slots come from one preallocated rte_mempool: a worker takes
 * them in bulk, the committer returns them in bulk after the block holding
 * them is durable. The record is copied out of the mbuf so that RX buffers
 * are never held by the slower stages. */
#ifndef TXG_TXN_H
#define TXG_TXN_H

#include <stdint.h>

#include <rte_common.h>

#include "outbox.h"
#include "wire.h"

/* Largest record a slot holds: a single-segment mbuf's UDP payload. */
#define TXG_TXN_REC_MAX 2048u

struct txg_txn {
	uint8_t tx_id[TXG_ID_LEN];
	uint64_t expires_ms;
	uint64_t admit_tsc; /* TSC when a worker admitted it (latency histograms) */
	uint64_t height;    /* set by the committer once the ledger sealed its block */
	uint32_t index;	    /* likewise */
	uint16_t rec_len;   /* bytes in rec: body_len field, body, signature */
	uint8_t frame_flags; /* the frame's RECEIPT/ADMIT flags */
	struct txg_reply_addr to; /* where its receipts go */
	uint8_t rec[TXG_TXN_REC_MAX];
} __rte_cache_aligned;

#endif
