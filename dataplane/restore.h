/* Rebuilding the dedupe window from the ledger at start, so that a
 * transaction committed before a restart is still a duplicate after it. */
#ifndef TXG_RESTORE_H
#define TXG_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "dedupe.h"
#include "probe.h"

/* Insert into d every id the start-up probe collected (txg_ledger_probe,
 * run before the ledger is opened for writing), each located at its height
 * and index; an id d already holds is skipped. *restored gets the number
 * inserted. 0, or -1 with err (window full: dedupe_capacity too small). */
int txg_restore_apply(struct txg_dedupe *d, const struct txg_probe *p, uint64_t *restored, char *err,
		      size_t errlen);

#endif
