/* Dedupe rebuild from recent blocks, through the ledger's restart walk. */
#include "restore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "recent.h"

struct restore_ctx {
	struct txg_dedupe *d;
	uint64_t restored;
	uint64_t height; /* block being walked when the window filled */
};

static int restore_tx(void *arg, const uint8_t id[32], uint64_t expires_ms, uint64_t height, uint32_t index)
{
	struct restore_ctx *rc = arg;
	int32_t pos = txg_dedupe_insert(rc->d, id, expires_ms);
	if (pos == -ENOSPC) {
		rc->height = height;
		return 1;
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
	struct restore_ctx rc = {.d = d};
	int r = txg_ledger_recent(s, head, max_ttl_ms, now_ms, restore_tx, &rc, err, errlen);
	if (r == 1)
		snprintf(err, errlen, "dedupe_capacity is too small to hold the unexpired transactions of the ledger "
				      "(block %" PRIu64 ")", rc.height);
	if (r != 0)
		return -1;
	*restored = rc.restored;
	return 0;
}
