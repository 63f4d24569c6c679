/* Cookies: keyed BLAKE2b over the flow, two rotating secrets (spec section 6).
 *
 * Readers never lock. A reader loads the epoch e (acquire), then the secret
 * of e from slot[e & 1] as a seqlock read: seq (acquire) must be 2e before
 * and after the key words are read (relaxed atomics, then an acquire fence).
 * The writer marks the slot odd, fences (release), writes the key words and
 * publishes seq = 2(e+1) and then the epoch (release). A reader that raced
 * a rotation sees seq change and starts over with the new epoch, so it never
 * uses a torn or retired secret. Rotations are a minute apart, so a retry is
 * rare and short. */
#include "cookie.h"

#include <sodium.h>

#define FLOW_MSG_LEN 37u

static void flow_msg(const struct txg_cookie_flow *f, uint8_t m[FLOW_MSG_LEN])
{
	size_t alen = f->af == 4 ? 4 : 16;
	memset(m, 0, FLOW_MSG_LEN);
	memcpy(m, f->client, alen);
	txg_st16(m + 16, f->client_port);
	memcpy(m + 18, f->appl, alen);
	txg_st16(m + 34, f->appl_port);
	m[36] = f->af;
}

static void cookie_of(const uint8_t key[TXG_COOKIE_KEY_LEN], const uint8_t m[FLOW_MSG_LEN], uint8_t out[TXG_COOKIE_LEN])
{
	uint8_t h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, m, FLOW_MSG_LEN, key, TXG_COOKIE_KEY_LEN);
	memcpy(out, h, TXG_COOKIE_LEN);
	sodium_memzero(h, sizeof h);
}

/* The secret of epoch e into key: 0, or -1 if its slot holds another epoch
 * or is being rewritten (the caller reloads the epoch and tries again). */
static int key_of(const struct txg_cookie_state *st, uint64_t e, uint8_t key[TXG_COOKIE_KEY_LEN])
{
	const struct txg_cookie_slot *s = &st->slot[e & 1];
	uint64_t w[TXG_COOKIE_KEY_LEN / 8];
	if (atomic_load_explicit(&s->seq, memory_order_acquire) != 2 * e)
		return -1;
	for (unsigned i = 0; i < TXG_COOKIE_KEY_LEN / 8; i++)
		w[i] = atomic_load_explicit(&s->key[i], memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != 2 * e)
		return -1;
	memcpy(key, w, sizeof w);
	return 0;
}

/* Put a fresh secret for epoch e into its slot (the rotating thread only). */
static void slot_fill(struct txg_cookie_state *st, uint64_t e)
{
	struct txg_cookie_slot *s = &st->slot[e & 1];
	uint64_t w[TXG_COOKIE_KEY_LEN / 8];
	randombytes_buf(w, sizeof w);
	atomic_store_explicit(&s->seq, 2 * e - 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (unsigned i = 0; i < TXG_COOKIE_KEY_LEN / 8; i++)
		atomic_store_explicit(&s->key[i], w[i], memory_order_relaxed);
	atomic_store_explicit(&s->seq, 2 * e, memory_order_release);
	sodium_memzero(w, sizeof w);
}

int txg_cookie_init(struct txg_cookie_state *st, uint64_t now_ms)
{
	if (sodium_init() < 0)
		return -1;
	/* Epoch 0's slot is written plainly: nobody reads st yet. */
	uint64_t w[TXG_COOKIE_KEY_LEN / 8];
	randombytes_buf(w, sizeof w);
	atomic_init(&st->slot[0].seq, 0);
	for (unsigned i = 0; i < TXG_COOKIE_KEY_LEN / 8; i++)
		atomic_init(&st->slot[0].key[i], w[i]);
	sodium_memzero(w, sizeof w);
	atomic_init(&st->slot[1].seq, 1);
	for (unsigned i = 0; i < TXG_COOKIE_KEY_LEN / 8; i++)
		atomic_init(&st->slot[1].key[i], 0);
	slot_fill(st, 1);
	st->epoch_start_ms = now_ms;
	atomic_store_explicit(&st->epoch, 1, memory_order_release);
	return 0;
}

int txg_cookie_rotate(struct txg_cookie_state *st, uint64_t now_ms)
{
	if (now_ms < st->epoch_start_ms || now_ms - st->epoch_start_ms < TXG_COOKIE_PERIOD_MS)
		return 0;
	uint64_t e = atomic_load_explicit(&st->epoch, memory_order_relaxed) + 1;
	slot_fill(st, e);
	st->epoch_start_ms = now_ms;
	atomic_store_explicit(&st->epoch, e, memory_order_release);
	return 1;
}

uint64_t txg_cookie_epoch(const struct txg_cookie_state *st)
{
	return atomic_load_explicit(&st->epoch, memory_order_acquire);
}

uint64_t txg_cookie_make(const struct txg_cookie_state *st, const struct txg_cookie_flow *f, uint8_t *out)
{
	uint8_t key[TXG_COOKIE_KEY_LEN], m[FLOW_MSG_LEN];
	uint64_t e;
	do
		e = atomic_load_explicit(&st->epoch, memory_order_acquire);
	while (key_of(st, e, key) != 0);
	flow_msg(f, m);
	cookie_of(key, m, out);
	sodium_memzero(key, sizeof key);
	return e;
}

int txg_cookie_check(const struct txg_cookie_state *st, const struct txg_cookie_flow *f, const uint8_t *cookie)
{
	if (f->af != 4 && f->af != 6)
		return 0;
	uint8_t cur[TXG_COOKIE_KEY_LEN], prev[TXG_COOKIE_KEY_LEN], m[FLOW_MSG_LEN], want[TXG_COOKIE_LEN];
	/* Both secrets of one epoch: the pair the check is judged against. */
	for (;;) {
		uint64_t e = atomic_load_explicit(&st->epoch, memory_order_acquire);
		if (key_of(st, e, cur) == 0 && key_of(st, e - 1, prev) == 0)
			break;
	}
	flow_msg(f, m);
	cookie_of(cur, m, want);
	int ok = sodium_memcmp(want, cookie, TXG_COOKIE_LEN) == 0;
	if (!ok) { /* most valid cookies are current: one hash */
		cookie_of(prev, m, want);
		ok = sodium_memcmp(want, cookie, TXG_COOKIE_LEN) == 0;
	}
	sodium_memzero(cur, sizeof cur);
	sodium_memzero(prev, sizeof prev);
	return ok;
}
