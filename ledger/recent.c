/* The restart walk over recent blocks. */
#include "recent.h"

#include <inttypes.h>

#include "block.h"
#include "contain.h"
#include "errbuf.h"
#include "record.h"

struct recent_ctx {
	uint64_t now_ms;
	txg_recent_cb cb;
	void *arg;
	int cb_rc;   /* the callback's non-zero return */
	int damaged; /* a stored record does not parse */
	uint32_t bad_index;
};

static int recent_tx(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct recent_ctx *rc = arg;
	struct txg_rec_view rv;
	txg_progress_index(index);
	if (txg_record_view(rec, len, &rv) != 0) {
		rc->damaged = 1;
		rc->bad_index = index;
		return 1;
	}
	uint64_t exp = txg_body_expires(rv.body);
	txg_progress_index((int64_t)index + 1); /* the next cursor step reads the record after this one */
	if (exp <= rc->now_ms)
		return 0;
	uint8_t id[TXG_ID_LEN];
	txg_tx_id(rv.body, rv.body_len, id);
	rc->cb_rc = rc->cb(rc->arg, id, exp, height, index);
	return rc->cb_rc;
}

int txg_ledger_recent(struct txg_store *s, const struct txg_store_head *head, uint64_t max_ttl_ms, uint64_t now_ms,
		      txg_recent_cb cb, void *arg, char *err, size_t errlen)
{
	struct recent_ctx rc = {.now_ms = now_ms, .cb = cb, .arg = arg};
	for (uint64_t h = head->height; h >= 1; h--) {
		uint8_t raw[TXG_HDR_LEN];
		struct txg_block_hdr hdr;
		txg_progress_at(TXG_AT_HEADER, h, -1);
		int r = txg_store_get_header(s, h, raw);
		if (r != 0 || txg_hdr_decode(raw, &hdr) != 0) {
			txg_errf(err, errlen, "ledger: cannot read the header of block %" PRIu64 " (%s)", h,
				 r == 1 ? "missing" : r == 0 ? "does not decode" : "read error");
			return -1;
		}
		if (hdr.timestamp_ms + max_ttl_ms < now_ms)
			break;
		txg_progress_at(TXG_AT_RECORDS, h, 0);
		r = txg_store_block_txs(s, h, recent_tx, &rc);
		if (rc.cb_rc)
			return rc.cb_rc;
		if (r != 0) {
			if (rc.damaged)
				txg_errf(err, errlen,
					 "ledger: cannot read the records of block %" PRIu64 " (index %" PRIu32
					 " is not a well-formed record)",
					 h, rc.bad_index);
			else
				txg_errf(err, errlen, "ledger: cannot read the records of block %" PRIu64 " (%s)", h,
					 r == 1 ? "header missing" : "LMDB read error");
			return -1;
		}
	}
	return 0;
}
