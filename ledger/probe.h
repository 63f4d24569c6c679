/* The start-up probe: before txgate opens its ledger for writing, a
 * contained child (contain.h) opens it read-only and collects what the
 * data path needs to resume: chain id, stored max_ttl_ms, head and the
 * unexpired committed tx ids (the restart walk, recent.h). A damaged ledger
 * that crashes the LMDB reader becomes an error saying where, not a crash
 * of txgate. */
#ifndef TXG_PROBE_H
#define TXG_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One unexpired committed transaction. */
struct txg_recent_id {
	uint8_t id[32];
	uint64_t expires_ms;
	uint64_t height;
	uint32_t index;
};

/* What the probe found. */
struct txg_probe {
	struct txg_store_head head;
	uint64_t max_ttl_ms; /* as stored in meta (0 if never stored) */
	uint32_t chain_id;   /* as stamped in meta */
	int exists;	     /* 0: no ledger at the path yet (everything else zero) */
	struct txg_recent_id *ids; /* n ids, newest block first (NULL when n == 0) */
	size_t n;
};

/* In a child: read path's chain id, stored max ttl, head and the ids unexpired at now_ms (txg_ledger_recent,
 * ttl = max(stored, max_ttl_ms)), at most cap. 0 (no data.mdb: exists = 0), or -1 with err saying what and
 * where (the child crashed, a record does not parse, more than cap ids). Free with txg_probe_free. */
int txg_ledger_probe(const char *path, uint64_t max_ttl_ms, uint64_t now_ms, size_t cap, struct txg_probe *out,
		     char *err, size_t errlen);

/* Free p->ids and zero p (p itself is the caller's). */
void txg_probe_free(struct txg_probe *p);

#endif
