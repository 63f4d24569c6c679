/* Unit tests of the data-path clock (clock.c) on injected readings: wall
 * time and TSC rate are simulated, so steps, a wrong hz and drift are
 * reproducible. No EAL; no assertion depends on how long anything takes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "clock.h"

#define NS 1000000000ull
#define MS 1000000ull
/* 2023-11-14T22:13:20Z, in ns */
#define W0 (1700000000000ull * MS)

/* A simulated machine: a TSC running at hz, a wall clock that advances with
 * it and has been stepped by `step` ns; the observations made so far. */
struct sim {
	uint64_t hz;	 /* the TSC's true rate */
	uint64_t t0, w0; /* a reading of both at the start */
	int64_t step;	 /* sum of the wall clock's steps */
	uint64_t tsc;	 /* the TSC now */
	uint64_t last;	 /* the last value observed */
	uint64_t reads, backwards;
	int64_t max_err; /* largest |observed - wall| in ms since reset */
};

static uint64_t sim_wall(const struct sim *s, uint64_t tsc)
{
	uint64_t ns = s->w0 + (uint64_t)(((unsigned __int128)(tsc - s->t0) * NS) / s->hz);
	return s->step >= 0 ? ns + (uint64_t)s->step : ns - (uint64_t)-s->step;
}

static void sim_start(struct sim *s, uint64_t true_hz, uint64_t nominal_hz)
{
	memset(s, 0, sizeof(*s));
	s->hz = true_hz;
	s->t0 = s->tsc = 123456789;
	s->w0 = W0;
	txg_clock_init_at(W0, s->t0, nominal_hz);
}

/* Read the clock at the TSC now; check it never went back. */
static uint64_t sim_read(struct sim *s)
{
	uint64_t v = txg_clock_ms_at(s->tsc);
	if (v < s->last)
		s->backwards++;
	s->last = v;
	s->reads++;
	int64_t err = (int64_t)v - (int64_t)(sim_wall(s, s->tsc) / MS);
	if (err < 0)
		err = -err;
	if (err > s->max_err)
		s->max_err = err;
	return v;
}

static void sim_advance(struct sim *s, uint64_t ns)
{
	s->tsc += (uint64_t)(((unsigned __int128)ns * s->hz) / NS);
}

static int64_t sim_tick(struct sim *s)
{
	return txg_clock_update(sim_wall(s, s->tsc), s->tsc);
}

/* Run for dur ns of true time with a tick every tick_ns and `reads`
 * observations spread over each interval. */
static void sim_run(struct sim *s, uint64_t dur, uint64_t tick_ns, unsigned reads)
{
	for (uint64_t t = 0; t < dur; t += tick_ns) {
		for (unsigned r = 0; r < reads; r++) {
			sim_read(s);
			sim_advance(s, tick_ns / (reads + 1));
		}
		sim_advance(s, tick_ns - reads * (tick_ns / (reads + 1)));
		sim_tick(s);
		sim_read(s);
	}
}

static uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

static void test_mapping(void)
{
	txg_clock_init_at(W0, 5 * NS, 1000000000);
	CU_ASSERT_EQUAL(txg_clock_hz(), 1000000000);
	/* A reading just before the anchor counts as the anchor's. */
	CU_ASSERT_EQUAL(txg_clock_ms_at(5 * NS - 1000), W0 / MS);
	CU_ASSERT_EQUAL(txg_clock_ms_at(5 * NS), W0 / MS);
	CU_ASSERT_EQUAL(txg_clock_ms_at(5 * NS + 1500 * MS), W0 / MS + 1500);
	/* Never back, even for an older reading. */
	CU_ASSERT_EQUAL(txg_clock_ms_at(5 * NS), W0 / MS + 1500);

	txg_clock_init_at(W0, 1000, 2500000000ull);
	CU_ASSERT(absdiff(txg_clock_hz(), 2500000000ull) <= 1);
	CU_ASSERT_EQUAL(txg_clock_ms_at(1000 + 2500000000ull), W0 / MS + 1000);
	CU_ASSERT_EQUAL(txg_clock_ms_at(1000 + 2500000000ull * 3600), W0 / MS + 3600000);

	txg_clock_init_at(W0, 0, 0); /* hz below 1000 is taken as 1000 */
	CU_ASSERT_EQUAL(txg_clock_hz(), 1000);
	CU_ASSERT_EQUAL(txg_clock_ms_at(1000), W0 / MS + 1000);

	/* Re-anchoring on the same time line changes nothing. */
	txg_clock_init_at(W0, 0, 1000000000);
	CU_ASSERT_EQUAL(txg_clock_update(W0 + 10 * MS, 10 * MS), 0);
	CU_ASSERT_EQUAL(txg_clock_ms_at(25 * MS), W0 / MS + 25);
	/* A TSC reading older than the anchor is ignored. */
	CU_ASSERT_EQUAL(txg_clock_update(W0, 5 * MS), 0);
	CU_ASSERT_EQUAL(txg_clock_ms_at(30 * MS), W0 / MS + 30);
}

static void test_backward_step_holds(void)
{
	struct sim s;
	sim_start(&s, 1000000000, 1000000000);
	sim_run(&s, 2 * NS, 10 * MS, 3);
	uint64_t held = sim_read(&s);
	CU_ASSERT_EQUAL(held, W0 / MS + 2000);
	/* The wall clock goes back 5 s. */
	s.step -= 5 * (int64_t)NS;
	sim_advance(&s, 1 * MS);
	int64_t off = sim_tick(&s);
	CU_ASSERT(off <= -4998 * (int64_t)MS && off >= -5000 * (int64_t)MS);
	/* txgate time holds while the wall clock is behind it... */
	for (int i = 0; i < 498; i++) {
		sim_run(&s, 10 * MS, 10 * MS, 2);
		CU_ASSERT_EQUAL_FATAL(sim_read(&s), held);
	}
	/* ...then follows it exactly again. */
	sim_run(&s, 20 * MS, 10 * MS, 2);
	CU_ASSERT(s.last > held);
	s.max_err = 0;
	sim_run(&s, 3 * NS, 10 * MS, 5);
	CU_ASSERT_EQUAL(s.last, sim_wall(&s, s.tsc) / MS);
	CU_ASSERT(s.max_err <= 1);
	CU_ASSERT_EQUAL(s.backwards, 0);
	CU_ASSERT_EQUAL(txg_clock_hz(), 1000000000);
}

static void test_forward_step_jumps(void)
{
	struct sim s;
	sim_start(&s, 1000000000, 1000000000);
	sim_run(&s, 1500 * MS, 10 * MS, 3);
	/* Small and large steps forward are followed at the next tick. */
	const int64_t steps_ms[] = {3, 40, 10000, 2 * 86400000};
	for (unsigned i = 0; i < sizeof(steps_ms) / sizeof(steps_ms[0]); i++) {
		s.step += steps_ms[i] * (int64_t)MS;
		sim_advance(&s, 10 * MS);
		int64_t off = sim_tick(&s);
		CU_ASSERT(absdiff((uint64_t)off, (uint64_t)steps_ms[i] * MS) <= MS);
		CU_ASSERT_EQUAL(sim_read(&s), sim_wall(&s, s.tsc) / MS);
		s.max_err = 0;
		sim_run(&s, 1500 * MS, 10 * MS, 3);
		CU_ASSERT(s.max_err <= 1);
	}
	CU_ASSERT_EQUAL(s.backwards, 0);
	CU_ASSERT_EQUAL(txg_clock_hz(), 1000000000); /* no step skewed the rate */
}

/* A TSC rate off by `pct` percent is corrected after about 2 s. */
static void wrong_hz(double pct)
{
	struct sim s;
	uint64_t nominal = (uint64_t)(1e9 * (1.0 + pct / 100.0));
	sim_start(&s, 1000000000, nominal);
	/* Before the correction re-anchoring bounds the error to
	 * |rate error| x 10 ms, under 1 ms. */
	sim_run(&s, 900 * MS, 10 * MS, 7);
	CU_ASSERT(absdiff(txg_clock_hz(), nominal) <= 1);
	CU_ASSERT(s.max_err <= 1);
	sim_run(&s, 2100 * MS, 10 * MS, 7);
	CU_ASSERT(absdiff(txg_clock_hz(), 1000000000) <= 1000); /* 1 ppm */
	CU_ASSERT(s.max_err <= 1);
	/* With the rate right, even rare ticks keep it within a ms. */
	s.max_err = 0;
	sim_run(&s, 10 * NS, 500 * MS, 9);
	CU_ASSERT(s.max_err <= 1);
	CU_ASSERT_EQUAL(s.backwards, 0);
}

static void test_wrong_hz_high(void) { wrong_hz(5.0); }
static void test_wrong_hz_low(void) { wrong_hz(-7.5); }

/* Steps are kept out of the rate: a window in which a tick saw a step is
 * discarded (steps of more than 1 ms + 1/8 of the tick interval)... */
static void test_rate_ignores_steps(void)
{
	struct sim s;
	sim_start(&s, 1000000000, 1000000000);
	const int64_t steps_ms[] = {5, -5, 30, -30, 3, -400, 250, -3, 30, 30, 30, 30, 30, 30};
	unsigned bad = 0;
	for (unsigned i = 0; i < sizeof(steps_ms) / sizeof(steps_ms[0]); i++) {
		/* one step every 1.3 s: most 1 s windows hold one */
		for (int j = 0; j < 13; j++) {
			sim_run(&s, 100 * MS, 10 * MS, 2);
			bad += txg_clock_hz() != 1000000000;
		}
		s.step += steps_ms[i] * (int64_t)MS;
	}
	sim_run(&s, 3 * NS, 10 * MS, 2);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(txg_clock_hz(), 1000000000);
	CU_ASSERT_EQUAL(s.backwards, 0);
}

/* ...and a smaller one, which biases its window, is outvoted: a rate is
 * taken only when two consecutive windows agree. */
static void test_rate_ignores_small_steps(void)
{
	struct sim s;
	sim_start(&s, 1000000000, 1000000000);
	unsigned bad = 0;
	for (int i = 0; i < 60; i++) {
		sim_run(&s, 100 * MS, 10 * MS, 2);
		bad += txg_clock_hz() != 1000000000;
		if (i == 15)
			s.step += 2 * (int64_t)MS;
		if (i == 40)
			s.step -= 2 * (int64_t)MS;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(s.backwards, 0);
}

static void test_rate_out_of_range(void)
{
	/* The TSC really runs 50% faster than said: beyond the accepted range,
	 * the rate is kept, and re-anchoring alone bounds the error to
	 * 50% x 10 ms; the clock runs fast and holds at each tick. */
	struct sim s;
	sim_start(&s, 1500000000, 1000000000);
	sim_run(&s, 5 * NS, 10 * MS, 9);
	CU_ASSERT_EQUAL(txg_clock_hz(), 1000000000);
	CU_ASSERT(s.max_err <= 6);
	CU_ASSERT_EQUAL(s.backwards, 0);
	/* 20% slow: the clock lags and jumps forward at each tick. */
	sim_start(&s, 800000000, 1000000000);
	sim_run(&s, 5 * NS, 10 * MS, 9);
	CU_ASSERT_EQUAL(txg_clock_hz(), 1000000000);
	CU_ASSERT(s.max_err <= 3);
	CU_ASSERT_EQUAL(s.backwards, 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_random_steps(void)
{
	for (int round = 0; round < 20; round++) {
		struct sim s;
		uint64_t true_hz = 1000000000 + rng() % 3000000000ull;
		double err_pct = (double)(rng() % 1601) / 100.0 - 8.0;
		sim_start(&s, true_hz, (uint64_t)((double)true_hz * (1.0 + err_pct / 100.0)));
		for (int i = 0; i < 300; i++) {
			uint64_t interval = (1 + rng() % 100) * MS;
			unsigned reads = (unsigned)(rng() % 6);
			for (unsigned r = 0; r < reads; r++) {
				sim_advance(&s, interval / (reads + 1));
				sim_read(&s);
			}
			sim_advance(&s, interval / (reads + 1));
			if (rng() % 100 < 3)
				s.step += ((int64_t)(rng() % 4001) - 2000) * (int64_t)MS;
			sim_tick(&s);
			sim_read(&s);
		}
		CU_ASSERT_EQUAL(s.backwards, 0);
		/* Without further steps, it is back on the wall clock once the
		 * wall clock has passed the highest time handed out. */
		uint64_t wall_ms = sim_wall(&s, s.tsc) / MS;
		uint64_t ahead = s.last > wall_ms ? s.last - wall_ms : 0;
		sim_run(&s, ahead * MS + 3 * NS, 10 * MS, 3);
		s.max_err = 0;
		sim_run(&s, 2 * NS, 10 * MS, 3);
		CU_ASSERT(s.max_err <= 1);
		CU_ASSERT(absdiff(txg_clock_hz(), true_hz) <= true_hz / 1000000); /* 1 ppm */
		CU_ASSERT_EQUAL(s.backwards, 0);
	}
}

static void test_us_since(void)
{
	txg_clock_init_at(W0, rte_get_tsc_cycles(), 1000000000);
	uint64_t t0 = rte_get_tsc_cycles() - 5000000; /* 5 ms ago at 1 GHz */
	CU_ASSERT(txg_us_since(t0) >= 5000);
	CU_ASSERT_EQUAL(txg_us_since(rte_get_tsc_cycles() + 1000000000000ull), 0);
}

/* The real time source: CLOCK_REALTIME and the TSC (hz measured here,
 * since rte_get_tsc_hz() needs EAL). */
static void test_real_tick(void)
{
	struct timespec a, b, r;
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	uint64_t c0 = rte_get_tsc_cycles();
	struct timespec pause = {0, 20000000};
	nanosleep(&pause, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	uint64_t c1 = rte_get_tsc_cycles();
	uint64_t dn = (uint64_t)(b.tv_sec - a.tv_sec) * NS + (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
	uint64_t hz = (uint64_t)(((unsigned __int128)(c1 - c0) * NS) / dn);
	clock_gettime(CLOCK_REALTIME, &r);
	txg_clock_init_at((uint64_t)r.tv_sec * NS + (uint64_t)r.tv_nsec, rte_get_tsc_cycles(), hz);
	uint64_t last = txg_now_ms(), backwards = 0;
	for (int i = 0; i < 50; i++) {
		int64_t step = txg_clock_tick();
		if (step)
			printf("\n  tick %d: reported a step of %lld ms", i, (long long)step);
		uint64_t v = txg_now_ms();
		backwards += v < last;
		last = v;
	}
	CU_ASSERT_EQUAL(backwards, 0);
	clock_gettime(CLOCK_REALTIME, &r);
	uint64_t real_ms = (uint64_t)r.tv_sec * 1000u + (uint64_t)r.tv_nsec / MS;
	CU_ASSERT(absdiff(txg_now_ms(), real_ms) < 60000); /* a gross-error check only */
}

/* One thread re-anchors on a simulated wall clock (real TSC, injected rate,
 * steps both ways) while two readers check that txg_now_ms() never goes
 * back, for each of them and across them. */
#define MT_UPDATES 20000
static struct sim mt_sim;
static int mt_done;
static uint64_t mt_pub[2], mt_back[2], mt_cross[2], mt_reads[2];

static void *mt_writer(void *arg)
{
	(void)arg;
	static const int64_t steps_ms[] = {-30, 20, -200, 5, -3, 150, -100, 1, -1, 60};
	for (unsigned i = 0; i < MT_UPDATES; i++) {
		if (i % 1000 == 999)
			mt_sim.step += steps_ms[(i / 1000) % 10] * (int64_t)MS;
		uint64_t tsc = rte_get_tsc_cycles();
		txg_clock_update(sim_wall(&mt_sim, tsc), tsc);
		if (i % 8 == 0) {
			struct timespec ts = {0, 50000};
			nanosleep(&ts, NULL);
		}
	}
	__atomic_store_n(&mt_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *mt_reader(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg, other = 1 - me;
	uint64_t last = 0, back = 0, cross = 0, n = 0;
	do {
		uint64_t v = txg_now_ms();
		back += v < last;
		last = v;
		__atomic_store_n(&mt_pub[me], v, __ATOMIC_RELEASE);
		/* A value the other reader returned before publishing it is a
		 * floor for this call. */
		uint64_t seen = __atomic_load_n(&mt_pub[other], __ATOMIC_ACQUIRE);
		uint64_t v2 = txg_now_ms();
		cross += v2 < seen;
		back += v2 < last;
		last = v2;
		n += 2;
	} while (!__atomic_load_n(&mt_done, __ATOMIC_ACQUIRE));
	mt_back[me] = back;
	mt_cross[me] = cross;
	mt_reads[me] = n;
	return NULL;
}

/* The latch: a writer re-anchoring as fast as it can on a wall clock that
 * is exactly W0 + tsc ns; readers must never see a mix of two anchors. */
#define LATCH_UPDATES 300000
static void *latch_writer(void *arg)
{
	(void)arg;
	uint64_t tsc = 1000;
	for (unsigned i = 0; i < LATCH_UPDATES; i++) {
		tsc += 1 + i % 977;
		txg_clock_update(W0 + tsc, tsc);
	}
	__atomic_store_n(&mt_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *latch_reader(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	uint64_t bad = 0, n = 0, last_tsc = 0;
	do {
		struct txg_clock_anchor a;
		txg_clock_anchor_get(&a);
		bad += a.ns - a.tsc != W0 || a.mult != (1ull << TXG_CLOCK_SHIFT) || a.tsc < last_tsc;
		last_tsc = a.tsc;
		n++;
	} while (!__atomic_load_n(&mt_done, __ATOMIC_ACQUIRE));
	mt_back[me] = bad;
	mt_reads[me] = n;
	return NULL;
}

static void test_latch(void)
{
	txg_clock_init_at(W0 + 1000, 1000, 1000000000);
	mt_done = 0;
	pthread_t w, r[2];
	CU_ASSERT_EQUAL_FATAL(pthread_create(&r[0], NULL, latch_reader, (void *)0), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&r[1], NULL, latch_reader, (void *)1), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w, NULL, latch_writer, NULL), 0);
	pthread_join(w, NULL);
	pthread_join(r[0], NULL);
	pthread_join(r[1], NULL);
	printf("\n  copies %llu + %llu, inconsistent %llu + %llu ", (unsigned long long)mt_reads[0],
	       (unsigned long long)mt_reads[1], (unsigned long long)mt_back[0], (unsigned long long)mt_back[1]);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(mt_reads[i] > 0);
		CU_ASSERT_EQUAL(mt_back[i], 0);
	}
}

static void test_threads(void)
{
	memset(&mt_sim, 0, sizeof(mt_sim));
	mt_sim.hz = 2000000000;
	mt_sim.w0 = W0;
	mt_sim.t0 = rte_get_tsc_cycles();
	/* The stated rate is 5% off, so the writer also corrects it. */
	txg_clock_init_at(W0, mt_sim.t0, 2100000000);
	mt_done = 0;
	pthread_t w, r[2];
	CU_ASSERT_EQUAL_FATAL(pthread_create(&r[0], NULL, mt_reader, (void *)0), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&r[1], NULL, mt_reader, (void *)1), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w, NULL, mt_writer, NULL), 0);
	pthread_join(w, NULL);
	pthread_join(r[0], NULL);
	pthread_join(r[1], NULL);
	printf("\n  reads %llu + %llu, back %llu + %llu, cross %llu + %llu ", (unsigned long long)mt_reads[0],
	       (unsigned long long)mt_reads[1], (unsigned long long)mt_back[0], (unsigned long long)mt_back[1],
	       (unsigned long long)mt_cross[0], (unsigned long long)mt_cross[1]);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(mt_reads[i] > 0);
		CU_ASSERT_EQUAL(mt_back[i], 0);
		CU_ASSERT_EQUAL(mt_cross[i], 0);
	}
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("clock", NULL, NULL);
	CU_add_test(s, "mapping", test_mapping);
	CU_add_test(s, "backward_step_holds", test_backward_step_holds);
	CU_add_test(s, "forward_step_jumps", test_forward_step_jumps);
	CU_add_test(s, "wrong_hz_high", test_wrong_hz_high);
	CU_add_test(s, "wrong_hz_low", test_wrong_hz_low);
	CU_add_test(s, "rate_ignores_steps", test_rate_ignores_steps);
	CU_add_test(s, "rate_ignores_small_steps", test_rate_ignores_small_steps);
	CU_add_test(s, "rate_out_of_range", test_rate_out_of_range);
	CU_add_test(s, "random_steps", test_random_steps);
	CU_add_test(s, "us_since", test_us_since);
	CU_add_test(s, "real_tick", test_real_tick);
	CU_add_test(s, "latch", test_latch);
	CU_add_test(s, "threads", test_threads);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
