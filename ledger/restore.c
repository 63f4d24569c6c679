/* Dedupe rebuild from recent blocks. */
#include "restore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "block.h"
#include "wire.h"

struct restore_ctx {
	struct txg_dedupe *d;
	uint64_t now_ms;
	uint64_t restored;
	int full;
};

static int restore_tx(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct restore_ctx *rc = arg;
	struct txg_rec_view rv;
	if (txg_record_view(rec, len, &rv) != 0)
		return -2;
	uint64_t exp = txg_body_expires(rv.body);
	if (exp <= rc->now_ms)
		return 0;
	uint8_t id[TXG_ID_LEN];
	txg_tx_id(rv.body, rv.body_len, id);
	int32_t pos = txg_dedupe_insert(rc->d, id, exp);
	if (pos == -ENOSPC) {
		rc->full = 1;
		return -3;
	}
	if (pos >= 0) {
		txg_dedupe_locate(rc->d, pos, height, index);
		rc->restored++;
	}
	return 0;
}

int txg_restore_dedupe(struct txg_store *s, const struct txg_store_head *head, struct txg_dedupe *d,
		       uint64_t max_ttl_ms, uint64_t now_ms, uint64_t *restored, char *err, size_t errlen)
{
	struct restore_ctx rc = {.d = d, .now_ms = now_ms};
	for (uint64_t h = head->height; h >= 1; h--) {
		uint8_t raw[TXG_HDR_LEN];
		struct txg_block_hdr hdr;
		if (txg_store_get_header(s, h, raw) != 0 || txg_hdr_decode(raw, &hdr) != 0) {
			snprintf(err, errlen, "ledger: cannot read header of block %" PRIu64, h);
			return -1;
		}
		if (hdr.timestamp_ms + max_ttl_ms < now_ms)
			break;
		int r = txg_store_block_txs(s, h, restore_tx, &rc);
		if (r != 0) {
			if (rc.full)
				snprintf(err, errlen, "dedupe_capacity is too small to hold the unexpired transactions "
						      "of the ledger (block %" PRIu64 ")", h);
			else
				snprintf(err, errlen, "ledger: cannot read the records of block %" PRIu64 " (%d)", h, r);
			return -1;
		}
	}
	*restored = rc.restored;
	return 0;
}
