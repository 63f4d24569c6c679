/* Rebuilding the dedupe window from the ledger at start, so that a
 * transaction committed before a restart is still a duplicate after it. */
#ifndef TXG_RESTORE_H
#define TXG_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "dedupe.h"
#include "store.h"

/* Insert into d every committed id still unexpired at now_ms, walking back
 * from head until a block older than now_ms - max_ttl_ms (whose
 * transactions have all expired). *restored gets the count. 0, or -1 with err. */
int txg_restore_dedupe(struct txg_store *s, const struct txg_store_head *head, struct txg_dedupe *d,
		       uint64_t max_ttl_ms, uint64_t now_ms, uint64_t *restored, char *err, size_t errlen);

#endif
