/* Member table. */
#include "members.h"
#include "keyhash.h"
#include "members_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <sodium.h>

#include "ed25519/ed25519.h"

struct txg_members *txg_members_new(uint32_t capacity, struct rte_rcu_qsbr *v, struct txg_ed_ctx *ed)
{
	struct txg_members *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	struct rte_hash_parameters p = {
		.name = "txg_members",
		.entries = capacity < 64 ? 64 : capacity,
		.key_len = TXG_KEY_LEN,
		.hash_func = txg_key_hash,
		.hash_func_init_val = (uint32_t)rte_rand(),
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	t->h = rte_hash_create(&p);
	if (!t->h) {
		RTE_LOG(ERR, USER1, "members: rte_hash_create: %s\n", rte_strerror(rte_errno));
		free(t);
		return NULL;
	}
	t->v = v;
	t->ed = ed;
	t->capacity = capacity;
	t->n_workers = 1;
	t->hz = rte_get_tsc_hz();
	return t;
}

void txg_members_set_workers(struct txg_members *t, uint32_t n_workers)
{
	t->n_workers = n_workers ? n_workers : 1;
}

void txg_members_set_quota(struct txg_members *t, struct txg_member *m, int own, uint32_t rate, uint32_t burst)
{
	m->quota_own = (uint8_t)(own != 0);
	uint64_t q = own ? txg_quota_word(rate, burst) : txg_quota_word(t->def_rate, t->def_burst);
	__atomic_store_n(&m->quota, q, __ATOMIC_RELAXED);
}

void txg_members_set_default_quota(struct txg_members *t, uint32_t rate, uint32_t burst)
{
	t->def_rate = rate;
	t->def_burst = rate ? burst : 0;
	const void *key;
	void *data;
	uint32_t it = 0;
	while (rte_hash_iterate(t->h, &key, &data, &it) >= 0) {
		struct txg_member *m = data;
		if (!m->quota_own)
			txg_members_set_quota(t, m, 0, 0, 0);
	}
}

static void member_free(struct txg_members *t, struct txg_member *m)
{
	if (m->ek)
		txg_ed_forget(t->ed, m->ek);
	free(m->qb);
	free(m);
}

void txg_members_delete(struct txg_members *t)
{
	if (!t)
		return;
	const void *key;
	void *data;
	uint32_t it = 0;
	while (rte_hash_iterate(t->h, &key, &data, &it) >= 0)
		member_free(t, data);
	rte_hash_free(t->h);
	free(t);
}

int txg_members_add(struct txg_members *t, const char *name, const uint8_t pk[TXG_KEY_LEN], char *err, size_t errlen)
{
	return txg_members_add_q(t, name, pk, 0, 0, 0, err, errlen);
}

int txg_members_add_q(struct txg_members *t, const char *name, const uint8_t pk[TXG_KEY_LEN], int has_quota,
		      uint32_t rate, uint32_t burst, char *err, size_t errlen)
{
	if (has_quota && txg_quota_check(rate, burst, err, errlen) != 0)
		return -1;
	if (crypto_core_ed25519_is_valid_point(pk) != 1) {
		snprintf(err, errlen, "member %s: key is not a valid Ed25519 point", name);
		return -1;
	}
	if (rte_hash_lookup(t->h, pk) >= 0) {
		snprintf(err, errlen, "member %s: key already present", name);
		return -1;
	}
	if (txg_members_count(t) >= t->capacity) {
		snprintf(err, errlen, "member %s: table full (%u members)", name, t->capacity);
		return -1;
	}
	struct txg_member *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "member %s: out of memory", name);
		return -1;
	}
	memcpy(m->pk, pk, TXG_KEY_LEN);
	snprintf(m->name, sizeof(m->name), "%s", name);
	/* One bucket per worker, each on its own cache line; cfg 0 until a
	 * worker first sees a quota. */
	m->qb = aligned_alloc(64, sizeof(*m->qb) * t->n_workers);
	if (!m->qb) {
		snprintf(err, errlen, "member %s: out of memory", name);
		free(m);
		return -1;
	}
	memset(m->qb, 0, sizeof(*m->qb) * t->n_workers);
	txg_members_set_quota(t, m, has_quota, rate, burst);
	if (t->ed) {
		m->ek = txg_ed_enrol(t->ed, pk);
		if (!m->ek) {
			snprintf(err, errlen, "member %s: verifier refused to enrol the key", name);
			free(m->qb);
			free(m);
			return -1;
		}
	}
	/* The member is complete before the key is published. */
	int rc = rte_hash_add_key_data(t->h, pk, m);
	if (rc < 0) {
		snprintf(err, errlen, "member %s: rte_hash_add_key_data: %s", name, strerror(-rc));
		member_free(t, m);
		return -1;
	}
	return 0;
}

int txg_members_revoke(struct txg_members *t, const uint8_t pk[TXG_KEY_LEN])
{
	void *data;
	if (rte_hash_lookup_data(t->h, pk, &data) < 0)
		return -1;
	/* Before the key goes: a worker that remembers a record of this
	 * member under the old count looks the member up again. */
	__atomic_fetch_add(&t->revocations, 1, __ATOMIC_ACQ_REL);
	int32_t pos = rte_hash_del_key(t->h, pk);
	if (pos < 0)
		return -1;
	/* Wait until no worker can still hold the member, then free it. */
	if (t->v)
		rte_rcu_qsbr_synchronize(t->v, RTE_QSBR_THRID_INVALID);
	rte_hash_free_key_with_position(t->h, pos);
	member_free(t, data);
	return 0;
}

uint32_t txg_members_count(const struct txg_members *t) { return (uint32_t)rte_hash_count(t->h); }
