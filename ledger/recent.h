/* The restart walk: every committed transaction that may still be
 * unexpired, found by walking back from the head, so that the layer above
 * can rebuild its duplicate window after a restart. On a damaged file the
 * walk can crash inside LMDB: txgate runs it contained (txg_ledger_probe,
 * probe.h). */
#ifndef TXG_RECENT_H
#define TXG_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Called once per unexpired committed transaction (expires_ms > now_ms);
 * a non-zero return stops the walk and is returned by txg_ledger_recent. */
typedef int (*txg_recent_cb)(void *arg, const uint8_t id[32], uint64_t expires_ms, uint64_t height, uint32_t index);

/* Walk back from head->height, calling cb for each unexpired transaction,
 * until a block sealed before now_ms - max_ttl_ms (all of whose
 * transactions have expired). 0, cb's non-zero return, or -1 with err. */
int txg_ledger_recent(struct txg_store *s, const struct txg_store_head *head, uint64_t max_ttl_ms, uint64_t now_ms,
		      txg_recent_cb cb, void *arg, char *err, size_t errlen);

#endif
