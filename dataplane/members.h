/* The consortium member table: public key -> member, read by every worker
 * without locks (rte_hash RW_CONCURRENCY_LF). The control plane is the only
 * writer: adding publishes a fully built member; revoking unpublishes it and
 * frees it only after every worker has passed an RCU quiescent state, so
 * workers never stop and never see a freed member. */
#ifndef TXG_MEMBERS_H
#define TXG_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include "wire.h"

struct txg_ed_ctx;
struct txg_ed_key;

struct txg_member {
	uint8_t pk[TXG_KEY_LEN];
	struct txg_ed_key *ek; /* enrolled key of the fast verifier, or NULL */
	char name[64];
};

struct txg_members {
	struct rte_hash *h;
	struct rte_rcu_qsbr *v;
	struct txg_ed_ctx *ed; /* NULL when the verifier is libsodium */
	uint32_t capacity;
};

/* Create an empty table for up to capacity members. ed may be NULL. */
struct txg_members *txg_members_new(uint32_t capacity, struct rte_rcu_qsbr *v, struct txg_ed_ctx *ed);
/* Free the table and every member (no worker may be running). */
void txg_members_delete(struct txg_members *t);

/* Writer: add a member (key must be a valid point). 0, or -1 with err. */
int txg_members_add(struct txg_members *t, const char *name, const uint8_t pk[TXG_KEY_LEN], char *err, size_t errlen);
/* Writer: revoke by key; waits for a grace period, then frees. 0, or -1 if absent. */
int txg_members_revoke(struct txg_members *t, const uint8_t pk[TXG_KEY_LEN]);
/* Number of active members. */
uint32_t txg_members_count(const struct txg_members *t);

/* Reader: out[i] = the member whose key is keys[i], or NULL. n <= 64. */
static inline void txg_members_lookup(const struct txg_members *t, const void **keys, uint32_t n,
				      struct txg_member **out)
{
	uint64_t hits;
	rte_hash_lookup_bulk_data(t->h, keys, n, &hits, (void **)out);
	for (uint32_t i = 0; i < n; i++)
		if (!(hits & (1ull << i)))
			out[i] = NULL;
}

#endif
