/* The restart walk over recent blocks. */
#include "recent.h"

#include <inttypes.h>

#include "block.h"
#include "errbuf.h"
#include "record.h"

struct recent_ctx {
	uint64_t now_ms;
	txg_recent_cb cb;
	void *arg;
	int cb_rc;   /* the callback's non-zero return */
	int damaged; /* a stored record does not parse */
};

static int recent_tx(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct recent_ctx *rc = arg;
	struct txg_rec_view rv;
	if (txg_record_view(rec, len, &rv) != 0) {
		rc->damaged = 1;
		return 1;
	}
	uint64_t exp = txg_body_expires(rv.body);
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
		if (txg_store_get_header(s, h, raw) != 0 || txg_hdr_decode(raw, &hdr) != 0) {
			txg_errf(err, errlen, "ledger: cannot read header of block %" PRIu64, h);
			return -1;
		}
		if (hdr.timestamp_ms + max_ttl_ms < now_ms)
			break;
		int r = txg_store_block_txs(s, h, recent_tx, &rc);
		if (rc.cb_rc)
			return rc.cb_rc;
		if (r != 0) {
			txg_errf(err, errlen, "ledger: cannot read the records of block %" PRIu64 "%s", h,
				 rc.damaged ? " (a stored record is not well formed)" : "");
			return -1;
		}
	}
	return 0;
}
