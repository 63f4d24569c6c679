/* Dedupe rebuild from the ids the start-up probe collected. */
#include "restore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

int txg_restore_apply(struct txg_dedupe *d, const struct txg_probe *p, uint64_t *restored, char *err,
		      size_t errlen)
{
	uint64_t n = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct txg_recent_id *r = &p->ids[i];
		int32_t pos = txg_dedupe_insert(d, r->id, r->expires_ms);
		if (pos == -EEXIST)
			continue; /* the ledger holds it twice: verify will say so */
		if (pos == -ENOSPC) {
			snprintf(err, errlen,
				 "dedupe_capacity is too small to hold the unexpired transactions of the ledger "
				 "(%zu of them; full at block %" PRIu64 ")",
				 p->n, r->height);
			return -1;
		}
		if (pos < 0) {
			snprintf(err, errlen, "cannot insert a restored id into the dedupe window (error %d)",
				 (int)pos);
			return -1;
		}
		txg_dedupe_locate(d, pos, r->height, r->index);
		n++;
	}
	*restored = n;
	return 0;
}
