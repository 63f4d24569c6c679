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

#include "members_file.h"
#include "wire.h"

struct txg_ed_ctx;
struct txg_ed_key;

/* Per-member quota (spec rule 7): a token bucket of `rate` transactions per
 * second and `burst`, split evenly over the N workers: each worker's bucket
 * refills at rate/N per second (exactly, in integer arithmetic) and holds
 * max(1, burst/N) tokens. rate 0 = unlimited. */

/* The quota word: rate << 32 | burst (0: unlimited). Written by the control
 * thread with one atomic store, read by workers with one atomic load. */
static inline uint64_t txg_quota_word(uint32_t rate, uint32_t burst)
{
	return rate ? (uint64_t)rate << 32 | burst : 0;
}

/* One worker's bucket of one member: written only by that worker, on a
 * cache line of its own. Units: token * hz * n_workers, so a refill of
 * `elapsed` TSC cycles adds elapsed * rate exactly (rate/N per second). */
struct txg_quota_bucket {
	uint64_t cfg;	     /* the quota word it was set up for (0: unlimited) */
	uint64_t credit;     /* current tokens, in units */
	uint64_t cap;	     /* max(1, burst/N) tokens, in units */
	uint64_t cost;	     /* one token: hz * N units */
	uint64_t rate;	     /* units per TSC cycle: the member's rate */
	uint64_t last;	     /* TSC of the last refill */
	uint64_t full_after; /* a gap this long refills the bucket whatever it held */
} __attribute__((aligned(64)));

struct txg_member {
	uint8_t pk[TXG_KEY_LEN];
	struct txg_ed_key *ek; /* enrolled key of the fast verifier, or NULL */
	uint64_t quota;	       /* txg_quota_word in effect (own or the default) */
	uint8_t quota_own;     /* quota set for this member (file or quota.set) */
	char name[64];
	struct txg_quota_bucket *qb; /* [n_workers], one per worker */
};

struct txg_members {
	struct rte_hash *h;
	struct rte_rcu_qsbr *v;
	struct txg_ed_ctx *ed; /* NULL when the verifier is libsodium */
	uint32_t capacity;
	uint32_t n_workers;	/* buckets per member (1 until txg_members_set_workers) */
	uint64_t hz;		/* TSC cycles per second */
	uint32_t def_rate, def_burst; /* default quota of members without their own */
	uint32_t revocations;	/* bumped (release) before each revoke takes effect */
};

/* Reader: the revocation count (acquire). A member looked up while it was
 * c is still a member while it is c. */
static inline uint32_t txg_members_revocations(const struct txg_members *t)
{
	return __atomic_load_n(&t->revocations, __ATOMIC_ACQUIRE);
}

/* Create an empty table for up to capacity members. ed may be NULL. */
struct txg_members *txg_members_new(uint32_t capacity, struct rte_rcu_qsbr *v, struct txg_ed_ctx *ed);
/* Free the table and every member (no worker may be running). */
void txg_members_delete(struct txg_members *t);

/* Before any member is added: the number of workers (bucket count). */
void txg_members_set_workers(struct txg_members *t, uint32_t n_workers);

/* Writer: add a member (key must be a valid point). 0, or -1 with err. */
int txg_members_add(struct txg_members *t, const char *name, const uint8_t pk[TXG_KEY_LEN], char *err, size_t errlen);
/* Writer: revoke by key; waits for a grace period, then frees. 0, or -1 if absent. */
int txg_members_revoke(struct txg_members *t, const uint8_t pk[TXG_KEY_LEN]);
/* Writer: add a member with its own quota (has_quota) or the default. */
int txg_members_add_q(struct txg_members *t, const char *name, const uint8_t pk[TXG_KEY_LEN], int has_quota,
		      uint32_t rate, uint32_t burst, char *err, size_t errlen);
/* Writer: set member m's own quota (own=1) or make it follow the default
 * (own=0). Takes effect at each worker's next record of that member (its
 * bucket is then set up again, full). */
void txg_members_set_quota(struct txg_members *t, struct txg_member *m, int own, uint32_t rate, uint32_t burst);
/* Writer: the default quota; every member without its own follows it. */
void txg_members_set_default_quota(struct txg_members *t, uint32_t rate, uint32_t burst);

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

/* Set bucket b of one of n workers up full for quota word q at TSC now. */
static inline void txg_quota_bucket_init(struct txg_quota_bucket *b, uint64_t q, uint32_t n, uint64_t hz, uint64_t now)
{
	uint64_t rate = q >> 32, burst = (uint32_t)q;
	uint64_t per = burst / n;
	if (per == 0)
		per = 1;
	b->cfg = q;
	b->cost = hz * n;
	b->cap = per * b->cost;
	b->credit = b->cap;
	b->rate = rate;
	b->last = now;
	b->full_after = rate ? b->cap / rate + 1 : UINT64_MAX;
}

/* Refill b to TSC now. elapsed < full_after keeps elapsed * rate <= cap + rate. */
static inline void txg_quota_refill(struct txg_quota_bucket *b, uint64_t now)
{
	if (now <= b->last)
		return;
	uint64_t el = now - b->last;
	b->last = now;
	if (el >= b->full_after) {
		b->credit = b->cap;
		return;
	}
	uint64_t c = b->credit + el * b->rate;
	b->credit = c > b->cap ? b->cap : c;
}

/* Worker `wid`: member m's bucket for this worker, refilled to now and set
 * up again if the quota changed; NULL when m is unlimited. */
static inline struct txg_quota_bucket *txg_quota_bucket(const struct txg_members *t, struct txg_member *m,
							 unsigned wid, uint64_t now)
{
	uint64_t q = __atomic_load_n(&m->quota, __ATOMIC_RELAXED);
	if (q == 0 || wid >= t->n_workers)
		return NULL;
	struct txg_quota_bucket *b = &m->qb[wid];
	if (b->cfg != q)
		txg_quota_bucket_init(b, q, t->n_workers, t->hz, now);
	else
		txg_quota_refill(b, now);
	return b;
}

#endif
