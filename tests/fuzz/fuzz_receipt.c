/* libFuzzer target: receipt datagrams (dataplane/receipt.h) on arbitrary
 * bytes. Checks besides ASan/UBSan:
 * - txg_receipt_parse: an accepted datagram has the exact length for its
 *   count and flags, and packing its entries again (cap = its length) gives
 *   the same bytes, the datagram full at the last entry;
 * - the packer: the input read as 48-byte entries, added to a datagram of
 *   cap from the first two bytes; whatever it takes, finish makes a datagram
 *   the parser accepts with exactly those entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receipt.h"

static uint8_t out[TXG_RCPT_HDR_LEN + 64u * 1024 + TXG_COOKIE_LEN];

static void same_again(const uint8_t *data, size_t size, const struct txg_receipt_view *v)
{
	int ck = v->flags == TXG_RCPT_F_COOKIE;
	if (v->count == 0 || (v->flags & ~TXG_RCPT_F_COOKIE) || v->entries != data + TXG_RCPT_HDR_LEN ||
	    size != TXG_RCPT_HDR_LEN + (size_t)v->count * TXG_RCPT_ENTRY_LEN + (ck ? TXG_COOKIE_LEN : 0) ||
	    v->cookie != (ck ? data + size - TXG_COOKIE_LEN : NULL))
		__builtin_trap();
	uint8_t *buf = malloc(size);
	if (!buf)
		return;
	struct txg_receipt_packer pk;
	txg_receipt_begin(&pk, buf, size, ck);
	for (unsigned i = 0; i < v->count; i++) {
		struct txg_receipt_entry e;
		txg_receipt_entry_get(v, i, &e);
		int left = txg_receipt_add(&pk, &e);
		if (left != (int)(v->count - i - 1))
			__builtin_trap();
	}
	if (txg_receipt_finish(&pk, v->cookie) != size || memcmp(buf, data, size) != 0)
		__builtin_trap();
	free(buf);
}

static void pack_entries(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	size_t cap = txg_ld16(data) % sizeof out;
	int ck = data[0] & 1;
	struct txg_receipt_view raw = {.entries = data + 2};
	struct txg_receipt_entry e, got;
	struct txg_receipt_packer pk;
	static const uint8_t cookie[TXG_COOKIE_LEN] = {1, 2, 3};
	static unsigned taken[4096];
	unsigned n = 0, nraw = (unsigned)((size - 2) / TXG_RCPT_ENTRY_LEN);
	txg_receipt_begin(&pk, out, cap, ck);
	for (unsigned i = 0; i < nraw && n < 4096; i++) {
		txg_receipt_entry_get(&raw, i, &e);
		int left = txg_receipt_add(&pk, &e);
		if (left >= 0)
			taken[n++] = i;
		if (left == 0)
			break;
	}
	size_t len = txg_receipt_finish(&pk, ck ? cookie : NULL);
	if (n == 0) {
		if (len != 0)
			__builtin_trap();
		return;
	}
	struct txg_receipt_view v;
	if (len == 0 || len > cap || txg_receipt_parse(out, len, &v) != TXG_RE_OK || v.count != n ||
	    (ck && memcmp(v.cookie, cookie, TXG_COOKIE_LEN) != 0))
		__builtin_trap();
	for (unsigned i = 0; i < n; i++) {
		txg_receipt_entry_get(&raw, taken[i], &e);
		txg_receipt_entry_get(&v, i, &got);
		if (memcmp(e.tx_id, got.tx_id, TXG_ID_LEN) != 0 || e.status != got.status || e.index != got.index ||
		    e.height != got.height)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txg_receipt_view v;
	enum txg_receipt_err e = txg_receipt_parse(data, size, &v);
	if ((unsigned)e >= TXG_RE_NUM)
		__builtin_trap();
	if (e == TXG_RE_OK)
		same_again(data, size, &v);
	pack_entries(data, size);
	return 0;
}
