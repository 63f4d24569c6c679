/* Ledger verification. */
#include "check.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "record.h"

struct vctx {
	uint32_t chain;
	uint32_t next;	    /* expected next index */
	uint8_t (*ids)[32]; /* ids[0..next) */
	size_t cap;
	char what[200]; /* first problem */
	uint32_t bad_index;
};

static int verify_tx_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	(void)height;
	struct vctx *v = arg;
	v->bad_index = index;
	if (index != v->next) {
		snprintf(v->what, sizeof v->what, "record stored at index %" PRIu32 ", expected index %" PRIu32, index,
			 v->next);
		v->bad_index = v->next;
		return 1;
	}
	if (v->next == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->ids, nc * 32);
		if (!p) {
			snprintf(v->what, sizeof v->what, "out of memory");
			return 1;
		}
		v->ids = p;
		v->cap = nc;
	}
	struct txg_rec_view rv;
	if (txg_record_view(rec, len, &rv) != 0) {
		snprintf(v->what, sizeof v->what, "record is not well formed (%zu bytes)", len);
		return 1;
	}
	txg_tx_id(rv.body, rv.body_len, v->ids[v->next]);
	const uint8_t *b = rv.body;
	if (txg_body_version(b) != TXG_BODY_VERSION || txg_body_flags(b) != 0) {
		snprintf(v->what, sizeof v->what, "body version %u flags %u", txg_body_version(b),
			 txg_body_flags(b));
		return 1;
	}
	if (txg_body_chain(b) != v->chain) {
		snprintf(v->what, sizeof v->what, "record chain id %" PRIu32 ", ledger's is %" PRIu32,
			 txg_body_chain(b), v->chain);
		return 1;
	}
	if (crypto_sign_verify_detached(rv.sig, rv.body, rv.body_len, txg_body_sender(b)) != 0) {
		snprintf(v->what, sizeof v->what, "bad signature");
		return 1;
	}
	v->next++;
	return 0;
}

/* Record the first problem in r; returns 1. */
static int fail(struct txg_check_report *r, uint64_t height, int64_t index, const char *what)
{
	r->height = height;
	r->index = index;
	snprintf(r->what, sizeof r->what, "%s", what);
	return 1;
}

int txg_ledger_check(struct txg_store *s, struct txg_check_report *r)
{
	memset(r, 0, sizeof(*r));
	r->index = -1;
	struct txg_store_stats st;
	struct txg_store_snap *sn;
	if (txg_store_snap_begin(s, &sn) != 0) {
		snprintf(r->what, sizeof r->what, "cannot begin a read transaction");
		return -1;
	}
	if (txg_store_snap_stats(sn, &st) != 0) {
		txg_store_snap_end(sn);
		snprintf(r->what, sizeof r->what, "cannot read ledger statistics");
		return -1;
	}
	struct vctx v = {.chain = txg_store_chain_id(s)};
	uint8_t prev[32] = {0}, (*scratch)[32] = NULL;
	uint64_t prev_ts = 0, total = 0;
	char msg[256];
	int ret = 1;
	for (uint64_t hgt = 1; hgt <= st.head.height; hgt++) {
		uint8_t raw[TXG_HDR_LEN];
		struct txg_block_hdr h;
		int rc = txg_store_snap_get_header(sn, hgt, raw);
		if (rc != 0) {
			fail(r, hgt, -1, rc == 1 ? "header missing" : "cannot read header");
			goto out;
		}
		if (txg_hdr_decode(raw, &h) != 0) {
			fail(r, hgt, -1, "header does not decode");
			goto out;
		}
		if (h.chain_id != v.chain) {
			snprintf(msg, sizeof msg, "header chain id %" PRIu32 ", ledger's is %" PRIu32, h.chain_id,
				 v.chain);
			fail(r, hgt, -1, msg);
			goto out;
		}
		if (h.height != hgt) {
			snprintf(msg, sizeof msg, "header says height %" PRIu64, h.height);
			fail(r, hgt, -1, msg);
			goto out;
		}
		if (memcmp(h.prev_hash, prev, 32) != 0) {
			fail(r, hgt, -1, "prev_hash is not the hash of the previous block");
			goto out;
		}
		if (h.timestamp_ms < prev_ts) {
			snprintf(msg, sizeof msg, "timestamp %" PRIu64 " before parent's %" PRIu64, h.timestamp_ms,
				 prev_ts);
			fail(r, hgt, -1, msg);
			goto out;
		}
		if (h.tx_count == 0) {
			fail(r, hgt, -1, "tx_count is 0");
			goto out;
		}
		v.next = 0;
		v.what[0] = 0;
		rc = txg_store_snap_block_txs(sn, hgt, verify_tx_cb, &v);
		if (rc != 0) {
			if (v.what[0])
				fail(r, hgt, v.bad_index, v.what);
			else
				fail(r, hgt, -1, "cannot read records");
			goto out;
		}
		if (v.next != h.tx_count) {
			snprintf(msg, sizeof msg, "tx_count %" PRIu32 " but %" PRIu32 " records stored", h.tx_count,
				 v.next);
			fail(r, hgt, -1, msg);
			goto out;
		}
		for (uint32_t i = 0; i < v.next; i++) {
			uint64_t ih;
			uint32_t ii;
			rc = txg_store_snap_find_tx(sn, v.ids[i], &ih, &ii);
			if (rc == 1) {
				fail(r, hgt, i, "tx_id missing from txidx");
				goto out;
			}
			if (rc != 0) {
				fail(r, hgt, i, "cannot read txidx");
				goto out;
			}
			if (ih != hgt || ii != i) {
				snprintf(msg, sizeof msg,
					 "txidx points to %" PRIu64 "/%" PRIu32 " (tx_id stored twice or index wrong)",
					 ih, ii);
				fail(r, hgt, i, msg);
				goto out;
			}
		}
		void *p = realloc(scratch, v.cap * 32);
		if (!p) {
			fail(r, hgt, -1, "out of memory");
			goto out;
		}
		scratch = p;
		uint8_t root[32];
		txg_merkle_root((const uint8_t(*)[32])v.ids, v.next, scratch, root);
		if (memcmp(root, h.tx_root, 32) != 0) {
			fail(r, hgt, -1, "tx_root does not match the records");
			goto out;
		}
		txg_block_hash(raw, prev);
		prev_ts = h.timestamp_ms;
		total += v.next;
		r->txs = total;
	}
	if (memcmp(prev, st.head.hash, 32) != 0 || prev_ts != st.head.timestamp_ms) {
		fail(r, st.head.height, -1, "head in meta is not the last block");
		goto out;
	}
	if (st.headers != st.head.height) {
		snprintf(msg, sizeof msg, "%" PRIu64 " headers stored for %" PRIu64 " blocks", st.headers,
			 st.head.height);
		fail(r, st.head.height, -1, msg);
		goto out;
	}
	if (st.txs != total || st.txidx != total) {
		snprintf(msg, sizeof msg,
			 "%" PRIu64 " records and %" PRIu64 " txidx entries stored for %" PRIu64 " transactions",
			 st.txs, st.txidx, total);
		fail(r, st.head.height, -1, msg);
		goto out;
	}
	r->height = st.head.height;
	r->txs = total;
	ret = 0;
out:
	txg_store_snap_end(sn);
	free(v.ids);
	free(scratch);
	return ret;
}
