/* Cookies (dataplane/cookie.h, spec section 6): the derivation, the
 * validity window across rotations, binding to both endpoints and the
 * family, and lock-free readers racing a thread that rotates flat out: every
 * cookie they make is compared with one computed from the secret the
 * rotating thread logged for that epoch, so a torn secret shows. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "cookie.h"

static const uint64_t T0 = 1893456000000ull;

static struct txg_cookie_state st;

static struct txg_cookie_flow flow4(void)
{
	struct txg_cookie_flow f = {.af = 4, .client = {10, 0, 0, 2}, .appl = {10, 0, 0, 1},
				    .client_port = 40000, .appl_port = 7400};
	return f;
}

static struct txg_cookie_flow flow6(void)
{
	struct txg_cookie_flow f = {.af = 6, .client_port = 40001, .appl_port = 7400};
	f.client[0] = f.appl[0] = 0xfd;
	f.client[15] = 2;
	f.appl[15] = 1;
	return f;
}

static int valid(const struct txg_cookie_flow *f, const uint8_t *c) { return txg_cookie_check(&st, f, c); }

/* The spec'd derivation, written out here: BLAKE2b-256 keyed with the
 * secret over client 16 | client port LE | appliance 16 | appliance port LE
 * | family, first 16 bytes; IPv4 addresses padded with zeros. */
static void ref_cookie(const uint8_t key[32], const struct txg_cookie_flow *f, uint8_t out[TXG_COOKIE_LEN])
{
	uint8_t m[37] = {0}, h[32];
	unsigned alen = f->af == 4 ? 4 : 16;
	memcpy(m, f->client, alen);
	m[16] = (uint8_t)f->client_port, m[17] = (uint8_t)(f->client_port >> 8);
	memcpy(m + 18, f->appl, alen);
	m[34] = (uint8_t)f->appl_port, m[35] = (uint8_t)(f->appl_port >> 8);
	m[36] = f->af;
	crypto_generichash(h, 32, m, 37, key, 32);
	memcpy(out, h, TXG_COOKIE_LEN);
}

/* The secret of the current epoch, read by the (only) rotating thread. */
static void current_key(uint8_t key[32])
{
	uint64_t e = txg_cookie_epoch(&st);
	for (int i = 0; i < 4; i++) {
		uint64_t w = atomic_load_explicit(&st.slot[e & 1].key[i], memory_order_relaxed);
		memcpy(key + 8 * i, &w, 8);
	}
}

/* The spec'd derivation, computed here from the slot's secret. */
static void test_derivation(void)
{
	CU_ASSERT_EQUAL_FATAL(txg_cookie_init(&st, T0), 0);
	CU_ASSERT_EQUAL(txg_cookie_epoch(&st), 1);
	uint8_t c[TXG_COOKIE_LEN], want[TXG_COOKIE_LEN], key[32];
	current_key(key);
	struct txg_cookie_flow f = flow6();
	CU_ASSERT_EQUAL(txg_cookie_make(&st, &f, c), 1);
	ref_cookie(key, &f, want);
	CU_ASSERT(memcmp(c, want, TXG_COOKIE_LEN) == 0);
	/* IPv4: 4 address bytes, the other 12 hashed as zeros whatever they hold. */
	f = flow4();
	txg_cookie_make(&st, &f, c);
	ref_cookie(key, &f, want);
	CU_ASSERT(memcmp(c, want, TXG_COOKIE_LEN) == 0);
	memset(f.client + 4, 0x55, 12);
	memset(f.appl + 4, 0xaa, 12);
	CU_ASSERT(valid(&f, c));
	/* Another state, another secret. */
	static struct txg_cookie_state other;
	uint8_t c2[TXG_COOKIE_LEN];
	CU_ASSERT_EQUAL_FATAL(txg_cookie_init(&other, T0), 0);
	txg_cookie_make(&other, &f, c2);
	CU_ASSERT(memcmp(c, c2, TXG_COOKIE_LEN) != 0);
	CU_ASSERT(!txg_cookie_check(&other, &f, c));
}

static void test_binding(void)
{
	CU_ASSERT_EQUAL_FATAL(txg_cookie_init(&st, T0), 0);
	struct txg_cookie_flow base[2] = {flow4(), flow6()};
	for (int b = 0; b < 2; b++) {
		uint8_t c[TXG_COOKIE_LEN], x[TXG_COOKIE_LEN];
		txg_cookie_make(&st, &base[b], c);
		CU_ASSERT(valid(&base[b], c));
		txg_cookie_make(&st, &base[b], x);
		CU_ASSERT(memcmp(c, x, TXG_COOKIE_LEN) == 0); /* the same flow, the same cookie */
		unsigned alen = base[b].af == 4 ? 4 : 16;
		for (unsigned i = 0; i < alen; i++) {
			struct txg_cookie_flow f = base[b];
			f.client[i] ^= 1;
			CU_ASSERT(!valid(&f, c));
			f = base[b];
			f.appl[i] ^= 0x80;
			CU_ASSERT(!valid(&f, c));
		}
		struct txg_cookie_flow f = base[b];
		f.client_port++;
		CU_ASSERT(!valid(&f, c));
		f = base[b];
		f.appl_port ^= 0x100;
		CU_ASSERT(!valid(&f, c));
		f = base[b];
		f.af = base[b].af == 4 ? 6 : 4;
		CU_ASSERT(!valid(&f, c));
		f.af = 5;
		CU_ASSERT(!valid(&f, c));
		f.af = 0;
		CU_ASSERT(!valid(&f, c));
		/* client and appliance swapped (a cookie sent the other way) */
		f = base[b];
		memcpy(f.client, base[b].appl, 16);
		memcpy(f.appl, base[b].client, 16);
		f.client_port = base[b].appl_port;
		f.appl_port = base[b].client_port;
		CU_ASSERT(!valid(&f, c));
		/* every bit of the cookie */
		for (unsigned bit = 0; bit < 8 * TXG_COOKIE_LEN; bit++) {
			memcpy(x, c, TXG_COOKIE_LEN);
			x[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			CU_ASSERT(!valid(&base[b], x));
		}
		memset(x, 0, TXG_COOKIE_LEN);
		CU_ASSERT(!valid(&base[b], x));
	}
}

/* Valid now, after one rotation, not after two; rotations need 60 s. */
static void test_rotation(void)
{
	CU_ASSERT_EQUAL_FATAL(txg_cookie_init(&st, T0), 0);
	struct txg_cookie_flow f = flow4();
	uint8_t first[TXG_COOKIE_LEN], late[TXG_COOKIE_LEN], next[TXG_COOKIE_LEN];
	CU_ASSERT_EQUAL(txg_cookie_make(&st, &f, first), 1); /* made at T0, epoch 1 began at T0 */
	CU_ASSERT(valid(&f, first));
	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0), 0);
	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0 + 59999), 0);
	CU_ASSERT_EQUAL(txg_cookie_epoch(&st), 1);
	CU_ASSERT_EQUAL(txg_cookie_make(&st, &f, late), 1); /* made at T0 + 59.999 s: the same secret */
	CU_ASSERT(memcmp(first, late, TXG_COOKIE_LEN) == 0);

	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0 + 60000), 1); /* epoch 2 from T0 + 60 s */
	CU_ASSERT_EQUAL(txg_cookie_epoch(&st), 2);
	CU_ASSERT(valid(&f, first));
	CU_ASSERT_EQUAL(txg_cookie_make(&st, &f, next), 2);
	CU_ASSERT(memcmp(first, next, TXG_COOKIE_LEN) != 0);
	CU_ASSERT(valid(&f, next));
	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0 + 60000 + 59999), 0);
	CU_ASSERT(valid(&f, late)); /* at T0 + 119.999 s: 60.000 s after it was made */

	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0 + 120000), 1); /* epoch 3 */
	CU_ASSERT(!valid(&f, first));				 /* 120 s after it was made */
	CU_ASSERT(valid(&f, next));
	/* A late rotation starts its epoch when it happens: the next one waits 60 s from there. */
	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0 + 200000), 1); /* epoch 4, 20 s late */
	CU_ASSERT(!valid(&f, next));
	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0 + 259999), 0);
	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0 + 260000), 1);
	/* A clock that goes back never rotates. */
	CU_ASSERT_EQUAL(txg_cookie_rotate(&st, T0), 0);
	CU_ASSERT_EQUAL(txg_cookie_epoch(&st), 5);
}

/* ---- readers racing a rotating thread ---- */

static atomic_int stop;
static atomic_ulong rotations;

/* The rotating thread logs each epoch's secret (a seqlock per entry, tag =
 * epoch), so readers can recompute what a cookie of that epoch must be. */
#define LOG_N 4096u
static struct {
	_Atomic uint64_t tag;
	_Atomic uint64_t key[4];
} elog[LOG_N];

static void log_current(void)
{
	uint8_t key[32];
	uint64_t e = txg_cookie_epoch(&st), w;
	current_key(key);
	atomic_store_explicit(&elog[e % LOG_N].tag, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (int i = 0; i < 4; i++) {
		memcpy(&w, key + 8 * i, 8);
		atomic_store_explicit(&elog[e % LOG_N].key[i], w, memory_order_relaxed);
	}
	atomic_store_explicit(&elog[e % LOG_N].tag, e, memory_order_release);
}

/* Epoch e's secret from the log: 1, or 0 if it is gone (overwritten). */
static int logged_key(uint64_t e, uint8_t key[32])
{
	for (;;) {
		uint64_t t = atomic_load_explicit(&elog[e % LOG_N].tag, memory_order_acquire);
		if (t == e)
			break;
		if (t > e || txg_cookie_epoch(&st) >= e + LOG_N / 2)
			return 0;
		sched_yield(); /* logged right after the rotation: wait for it */
	}
	for (int i = 0; i < 4; i++) {
		uint64_t w = atomic_load_explicit(&elog[e % LOG_N].key[i], memory_order_relaxed);
		memcpy(key + 8 * i, &w, 8);
	}
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&elog[e % LOG_N].tag, memory_order_relaxed) == e;
}

struct reader {
	struct txg_cookie_flow f;
	unsigned long checks, same_epoch, across_one, window_fail, old_checked, old_fail, compared, torn;
};

static void *rotator(void *arg)
{
	(void)arg;
	uint64_t now = T0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		now += TXG_COOKIE_PERIOD_MS;
		if (txg_cookie_rotate(&st, now)) {
			log_current();
			atomic_fetch_add_explicit(&rotations, 1, memory_order_relaxed);
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct reader *r = arg;
	uint8_t c[TXG_COOKIE_LEN], old[TXG_COOKIE_LEN];
	uint64_t old_e = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t em = txg_cookie_make(&st, &r->f, c);
		int ok = txg_cookie_check(&st, &r->f, c);
		uint64_t ea = txg_cookie_epoch(&st);
		__atomic_store_n(&r->checks, r->checks + 1, __ATOMIC_RELAXED); /* main reads it while running */
		/* Made with exactly epoch em's secret, never a torn or other one. */
		uint8_t key[32], want[TXG_COOKIE_LEN];
		if (logged_key(em, key)) {
			ref_cookie(key, &r->f, want);
			r->compared++;
			r->torn += memcmp(c, want, TXG_COOKIE_LEN) != 0;
		}
		/* The check ran at an epoch in [em, ea]: within one rotation it must pass. */
		if (ea <= em + 1) {
			r->same_epoch += ea == em;
			__atomic_store_n(&r->across_one, r->across_one + (ea == em + 1), __ATOMIC_RELAXED);
			r->window_fail += !ok;
		}
		/* A cookie two rotations old must fail (the check's epoch is >= eb). */
		if (old_e) {
			uint64_t eb = txg_cookie_epoch(&st);
			if (eb >= old_e + 2) {
				__atomic_store_n(&r->old_checked, r->old_checked + 1, __ATOMIC_RELAXED);
				r->old_fail += txg_cookie_check(&st, &r->f, old) != 0;
				old_e = 0;
			}
		}
		if (!old_e) {
			memcpy(old, c, TXG_COOKIE_LEN);
			old_e = em;
		}
		r->f.client_port++; /* a new flow each time */
	}
	return NULL;
}

static void test_concurrent(void)
{
	CU_ASSERT_EQUAL_FATAL(txg_cookie_init(&st, T0), 0);
	log_current();
	struct reader rd[2] = {{.f = flow4()}, {.f = flow6()}};
	pthread_t rt, th[2];
	atomic_store(&stop, 0);
	CU_ASSERT_FATAL(pthread_create(&rt, NULL, rotator, NULL) == 0);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, reader, &rd[i]) == 0);
	/* At least 2 s, and until both readers have met every case (a check
	 * across one rotation, one two rotations old): a loaded machine may
	 * schedule the threads so that takes longer; 30 s at most. */
	for (int t = 0; t < 300; t++) {
		struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		int seen = 1;
		for (int i = 0; i < 2; i++)
			seen &= __atomic_load_n(&rd[i].across_one, __ATOMIC_RELAXED) > 0 &&
				__atomic_load_n(&rd[i].old_checked, __ATOMIC_RELAXED) > 0 &&
				__atomic_load_n(&rd[i].checks, __ATOMIC_RELAXED) > 1000;
		if (t >= 19 && seen)
			break;
	}
	atomic_store(&stop, 1);
	pthread_join(rt, NULL);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		fprintf(stderr, "\n  reader %d: %lu checks, %lu in one epoch, %lu across one rotation, %lu failed; "
				"%lu two rotations old, %lu of them accepted; %lu compared with the logged secret, %lu differ",
			i, rd[i].checks, rd[i].same_epoch, rd[i].across_one, rd[i].window_fail, rd[i].old_checked,
			rd[i].old_fail, rd[i].compared, rd[i].torn);
		CU_ASSERT(rd[i].compared > rd[i].checks / 2);
		CU_ASSERT_EQUAL(rd[i].torn, 0);
		CU_ASSERT(rd[i].checks > 1000);
		CU_ASSERT(rd[i].across_one > 0);
		CU_ASSERT(rd[i].old_checked > 0);
		CU_ASSERT_EQUAL(rd[i].window_fail, 0);
		CU_ASSERT_EQUAL(rd[i].old_fail, 0);
	}
	fprintf(stderr, "\n  %lu rotations\n", atomic_load(&rotations));
	CU_ASSERT(atomic_load(&rotations) > 1000);
}

int main(void)
{
	if (sodium_init() < 0 || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("cookie", NULL, NULL);
	if (!s || !CU_add_test(s, "derivation", test_derivation) || !CU_add_test(s, "binding", test_binding) ||
	    !CU_add_test(s, "rotation window", test_rotation) ||
	    !CU_add_test(s, "readers racing rotations", test_concurrent)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
